//! The runner: streams inventory rows into at most `concurrency` probes in flight and
//! yields a record per row as each finishes. Bounded channels everywhere, so memory does
//! not grow with the size of the inventory.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};

use crate::category::Lang;
use crate::credentials::{Credential, Credentials};
use crate::inventory::{Asset, Entry, InventoryReader};
use crate::probe::Prober;
use crate::report::Record;

pub struct Run {
    pub prober: Arc<Prober>,
    pub credentials: Arc<Credentials>,
    pub lang: Lang,
    pub concurrency: usize,
}

/// What becomes of a row before any network traffic.
enum Plan {
    Report(Box<Record>),
    Probe(Asset, Arc<Credential>),
}

impl Run {
    /// Starts the run. Records arrive on the receiver; the handle yields the number of
    /// probes that died without a record (a bug, counted as failures).
    pub fn start(self, inventory: InventoryReader) -> (mpsc::Receiver<Record>, JoinHandle<usize>) {
        let room = self.concurrency.clamp(16, 4096);
        let path = inventory.path().to_path_buf();
        let (entries_tx, mut entries_rx) = mpsc::channel::<Entry>(room);
        // csv reads are blocking: the inventory gets a thread of its own.
        std::thread::spawn(move || {
            for entry in inventory {
                if entries_tx.blocking_send(entry).is_err() {
                    break;
                }
            }
        });
        let (records_tx, records_rx) = mpsc::channel::<Record>(room);
        let dispatcher = tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(self.concurrency));
            let mut probes = JoinSet::new();
            let mut lost = 0;
            while let Some(entry) = entries_rx.recv().await {
                match self.plan(&path, entry) {
                    Plan::Report(record) => {
                        if records_tx.send(*record).await.is_err() {
                            break;
                        }
                    }
                    Plan::Probe(asset, credential) => {
                        let Ok(permit) = permits.clone().acquire_owned().await else {
                            break;
                        };
                        let (prober, records, lang) =
                            (self.prober.clone(), records_tx.clone(), self.lang);
                        probes.spawn(async move {
                            let probed = prober.probe(&asset, &credential).await;
                            let mut record = Record::probed(&asset, probed, lang);
                            if let Some(gateway) = &asset.gateway {
                                record.message.push_str(&format!(
                                    "; note: the inventory names gateway {gateway:?}, which this version does not use: probed directly"
                                ));
                            }
                            let _ = records.send(record).await;
                            drop(permit);
                        });
                    }
                }
                while let Some(done) = probes.try_join_next() {
                    lost += usize::from(done.is_err());
                }
            }
            while let Some(done) = probes.join_next().await {
                lost += usize::from(done.is_err());
            }
            lost
        });
        (records_rx, dispatcher)
    }

    fn plan(&self, path: &Path, entry: Entry) -> Plan {
        let asset = match entry {
            Entry::Invalid(row) => {
                return Plan::Report(Box::new(Record::invalid(path, &row, self.lang)));
            }
            Entry::Asset(asset) => asset,
        };
        if let Some(reason) = &asset.skip {
            return Plan::Report(Box::new(Record::skipped(&asset, reason, self.lang)));
        }
        match self.credentials.for_row(asset.admin_user.as_deref()) {
            Ok(credential) => Plan::Probe(asset, credential),
            Err(reason) => {
                let record = Record::unusable(path, &asset, "admin_user", &reason, self.lang);
                Plan::Report(Box::new(record))
            }
        }
    }
}
