//! Stage timeouts under an overall per-asset deadline: every network await goes through
//! here, so no asset can stall a run.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::outcome::Failure;
use crate::category::{Category, Stage};

#[derive(Debug)]
pub struct Deadline {
    end: Instant,
    total: Duration,
    /// Nanoseconds spent in `paused` waits, which move the end out.
    paused: AtomicU64,
}

impl Deadline {
    pub fn after(total: Duration) -> Deadline {
        Deadline {
            end: Instant::now() + total,
            total,
            paused: AtomicU64::new(0),
        }
    }

    pub fn remaining(&self) -> Duration {
        let paused = Duration::from_nanos(self.paused.load(Ordering::Relaxed));
        (self.end + paused).saturating_duration_since(Instant::now())
    }

    /// Waits on the run's pacing (`--rate`): the time it takes does not count.
    pub async fn paused<T>(&self, work: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let done = work.await;
        let waited = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.paused.fetch_add(waited, Ordering::Relaxed);
        done
    }

    /// Runs one stage with its own limit. Whichever runs out first decides the verdict:
    /// the stage's limit gives the stage's timeout category, the deadline gives `timeout`.
    pub async fn stage<T>(
        &self,
        stage: Stage,
        limit: Duration,
        work: impl Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        let remaining = self.remaining();
        let deadline_first = remaining < limit;
        match tokio::time::timeout(limit.min(remaining), work).await {
            Ok(result) => result,
            Err(_) if deadline_first => Err(Failure::new(
                Category::Timeout,
                stage,
                format!(
                    "the per-asset deadline ({}) ran out during the {stage} stage",
                    human(self.total)
                ),
            )),
            Err(_) => Err(stage_timeout(stage, limit)),
        }
    }

    /// Waits, for whatever the deadline leaves, on something with no limit of its own
    /// (a connection another asset is making, a free slot).
    pub async fn wait<T>(
        &self,
        stage: Stage,
        what: &str,
        work: impl Future<Output = T>,
    ) -> Result<T, Failure> {
        tokio::time::timeout(self.remaining(), work)
            .await
            .map_err(|_| {
                Failure::new(
                    Category::Timeout,
                    stage,
                    format!(
                        "{what} within the per-asset deadline ({})",
                        human(self.total)
                    ),
                )
            })
    }
}

fn stage_timeout(stage: Stage, limit: Duration) -> Failure {
    let (category, what) = match stage {
        Stage::Resolve => (Category::DnsTimeout, "no DNS answer"),
        Stage::Connect => (Category::TcpTimeout, "no answer to the TCP connection"),
        Stage::Banner => (
            Category::SshBannerTimeout,
            "TCP connected but no SSH banner",
        ),
        Stage::Kex | Stage::HostKey => (Category::Timeout, "key exchange did not finish"),
        Stage::Jump => (
            Category::JumpTargetUnreachable,
            "the jump host did not open a channel to the asset",
        ),
        Stage::Auth => (Category::Timeout, "authentication got no answer"),
        Stage::Inspect | Stage::SystemUser | Stage::Push => {
            (Category::Timeout, "the command on the asset did not finish")
        }
        Stage::Gateway => (
            Category::Timeout,
            "the command through the gateway did not finish",
        ),
        Stage::Inventory | Stage::Done => (Category::Timeout, "the probe did not finish"),
    };
    Failure::new(category, stage, format!("{what} within {}", human(limit)))
}

pub fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> impl Future<Output = Result<(), Failure>> {
        std::future::pending()
    }

    #[tokio::test]
    async fn the_stage_limit_gives_the_stage_category() {
        let d = Deadline::after(Duration::from_secs(60));
        let err = d
            .stage(Stage::Banner, Duration::from_millis(20), never())
            .await
            .unwrap_err();
        assert_eq!(
            (err.category, err.stage),
            (Category::SshBannerTimeout, Stage::Banner)
        );
    }

    /// As JumpServer's own probe holds: running out of time says nothing about the
    /// credential, at any stage; only these categories may come of a stage's own timeout.
    #[test]
    fn a_timeout_never_rejects_a_credential() {
        let timeouts = [
            Category::Timeout,
            Category::DnsTimeout,
            Category::TcpTimeout,
            Category::SshBannerTimeout,
            Category::JumpTargetUnreachable,
        ];
        for stage in Stage::ALL {
            let category = stage_timeout(*stage, Duration::from_secs(1)).category;
            assert!(timeouts.contains(&category), "{stage}: {category}");
        }
    }

    #[tokio::test]
    async fn the_deadline_gives_timeout_at_the_stage_it_hit() {
        let d = Deadline::after(Duration::from_millis(20));
        let err = d
            .stage(Stage::Connect, Duration::from_secs(60), never())
            .await
            .unwrap_err();
        assert_eq!(
            (err.category, err.stage),
            (Category::Timeout, Stage::Connect)
        );
    }
}
