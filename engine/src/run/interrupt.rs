//! How a run is asked to stop, and what it reports while it goes and when it ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use super::ShardRows;
use crate::report::Interruption;

/// How a run is asked to stop early, and how long probes in flight may still take then.
#[derive(Debug, Clone)]
pub struct Interrupt {
    /// Set once, to what asked (`SIGINT`); a dropped sender never asks.
    pub requested: watch::Receiver<Option<&'static str>>,
    pub grace: Duration,
}

impl Interrupt {
    /// An interrupt nobody can request.
    pub fn never() -> Interrupt {
        let (_, requested) = watch::channel(None);
        Interrupt {
            requested,
            grace: Duration::ZERO,
        }
    }

    /// What asked the run to stop, once it has.
    pub(super) async fn requested(&mut self) -> &'static str {
        if let Ok(by) = self.requested.wait_for(Option::is_some).await
            && let Some(by) = *by
        {
            return by;
        }
        std::future::pending().await
    }

    /// Once requested, the grace is over.
    pub(super) async fn grace_over(&mut self) {
        self.requested().await;
        tokio::time::sleep(self.grace).await;
    }
}

/// What the run is doing now, in inventory rows.
#[derive(Debug, Default)]
pub struct Gauges {
    pub(super) in_flight: AtomicUsize,
    rows_done: AtomicUsize,
    rows_resumed: AtomicUsize,
}

impl Gauges {
    /// Probes under way.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Rows whose records are all out (probed, reported without a probe, or cut short).
    pub fn rows_done(&self) -> usize {
        self.rows_done.load(Ordering::Relaxed)
    }

    /// Rows passed over at once because `--resume`'s file has their results: they take
    /// no time, so a rate or an ETA counts without them.
    pub fn rows_resumed(&self) -> usize {
        self.rows_resumed.load(Ordering::Relaxed)
    }

    pub(super) fn row_done(&self) {
        self.rows_done.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn row_resumed(&self) {
        self.rows_resumed.fetch_add(1, Ordering::Relaxed);
    }
}

/// How the run ended, beside its records.
#[derive(Debug, Default)]
pub struct Ended {
    /// Probes that died without a record (a bug, counted as failures).
    pub lost: usize,
    /// Set when the run was stopped early.
    pub interruption: Option<Interruption>,
    /// The rows read, and how many of them were this shard's (`--shard`).
    pub rows: ShardRows,
}
