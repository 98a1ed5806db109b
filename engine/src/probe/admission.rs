//! Pacing, so a run stays under sshd's MaxStartups and brute-force blockers:
//! `--per-host` caps the probes in flight to one host and port, `--rate` spaces every new
//! connection of the run. Time spent waiting here is the run's pacing, not the asset's
//! slowness, so it never counts against an asset's timeouts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::address::authority;
use crate::sync;

pub struct Admission {
    pacer: Option<Pacer>,
    /// 0: no limit.
    per_host: usize,
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

/// Hands out connection starts at least `interval` apart, first come first served.
struct Pacer {
    interval: Duration,
    /// When the next start may happen. Waiters queue on this (tokio's mutex is fair)
    /// and each sets it from the moment it actually got its turn, so timer lateness
    /// can only make starts further apart, never closer.
    next: tokio::sync::Mutex<Instant>,
}

/// The right to probe one host; dropping it lets the next probe of that host in.
pub struct HostSlot {
    key: String,
    /// Taken only when the slot is dropped.
    permit: Option<OwnedSemaphorePermit>,
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl Admission {
    /// `rate`: new connections per second, if capped; `per_host`: probes in flight per
    /// host and port, 0 for no limit.
    pub fn new(rate: Option<f64>, per_host: usize) -> Admission {
        Admission {
            pacer: rate.filter(|r| *r > 0.0).map(|rate| Pacer {
                interval: Duration::from_secs_f64(1.0 / rate),
                next: tokio::sync::Mutex::new(Instant::now()),
            }),
            per_host,
            hosts: Arc::default(),
        }
    }

    /// Waits until fewer than `per_host` probes of `host:port` are in flight.
    pub async fn host(&self, host: &str, port: u16) -> Option<HostSlot> {
        if self.per_host == 0 {
            return None;
        }
        let key = authority(&host.to_ascii_lowercase(), port);
        let semaphore = sync::lock(&self.hosts)
            .entry(key.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone();
        let permit = semaphore
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        Some(HostSlot {
            key,
            permit: Some(permit),
            hosts: self.hosts.clone(),
        })
    }

    /// Waits for the next connection start `--rate` allows.
    pub async fn connection(&self) {
        let Some(pacer) = &self.pacer else { return };
        let mut next = pacer.next.lock().await;
        tokio::time::sleep_until(*next).await;
        *next = Instant::now() + pacer.interval;
    }
}

impl Drop for HostSlot {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let mut hosts = sync::lock(&self.hosts);
        let semaphore = permit.semaphore().clone();
        drop(permit);
        // Forget hosts nobody holds or waits for (each holds a clone), so a run over a
        // hundred thousand hosts does not keep a hundred thousand semaphores.
        if Arc::strong_count(&semaphore) == 2 {
            hosts.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn starts_are_spaced_by_the_rate() {
        let admission = Arc::new(Admission::new(Some(10.0), 0));
        let begun = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..5 {
            admission.connection().await;
            starts.push(begun.elapsed());
        }
        for pair in starts.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(100),
                "{starts:?}"
            );
        }
    }

    #[tokio::test]
    async fn one_probe_per_host_and_forgotten_when_idle() {
        let admission = Admission::new(None, 1);
        let first = admission.host("Web", 22).await.expect("limited");
        let second = admission.host("web", 22);
        tokio::pin!(second);
        let waited = tokio::time::timeout(Duration::from_millis(50), second.as_mut()).await;
        assert!(waited.is_err(), "a second probe of the same host must wait");
        let other = admission.host("web", 2222).await;
        assert!(other.is_some(), "another port is another host");
        drop(first);
        let second = second.await;
        drop((second, other));
        assert!(admission.hosts.lock().unwrap().is_empty());
        assert!(Admission::new(None, 0).host("web", 22).await.is_none());
    }
}
