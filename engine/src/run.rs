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
use crate::probe::{GatewayTarget, Prober, PushTarget, SystemUserProbed, Target};
use crate::quote;
use crate::report::Record;

pub struct Run {
    pub prober: Arc<Prober>,
    pub credentials: Arc<Credentials>,
    pub mode: Mode,
    pub lang: Lang,
    pub concurrency: usize,
}

/// What the run asks of each asset.
#[derive(Debug, Clone)]
pub enum Mode {
    /// The admin stages, then the row's system users.
    Check,
    /// Whether pushing this system user would work.
    Prepush(Arc<PushTarget>),
    /// Each system user through the bastion's SSH gateway, by direct login.
    Gateway(Arc<GatewayTarget>),
}

/// Through the gateway an asset has no result of its own: one per system user.
async fn through_gateway(
    prober: &Prober,
    gateway: &GatewayTarget,
    target: &Target,
    lang: Lang,
) -> Vec<Record> {
    let asset = &target.asset;
    if target.system_users.is_empty() {
        let reason = "no system_users to log in as through the gateway";
        return vec![Record::skipped(asset, reason, lang)];
    }
    let mut records = Vec::with_capacity(target.system_users.len());
    for user in &target.system_users {
        let probed = prober
            .via_gateway(gateway, &asset.host, &user.username)
            .await;
        let result = SystemUserProbed {
            credential: user.name.clone(),
            probed,
        };
        records.push(Record::system_user(asset, result, lang));
    }
    records
}

/// One asset's records: its own, then one per system user.
async fn probe(prober: &Prober, mode: &Mode, target: &Target, lang: Lang) -> Vec<Record> {
    let asset = &target.asset;
    let _slot = prober.admit(&asset.host, asset.port).await;
    let (admin, users) = match mode {
        Mode::Check => {
            let probed = prober.probe(target).await;
            (probed.admin, probed.system_users)
        }
        Mode::Prepush(push) => (prober.prepush(target, push).await, Vec::new()),
        Mode::Gateway(gateway) => return through_gateway(prober, gateway, target, lang).await,
    };
    let mut records = vec![Record::probed(asset, admin, lang)];
    records.extend(
        users
            .into_iter()
            .map(|user| Record::system_user(asset, user, lang)),
    );
    records
}

/// What becomes of a row before any network traffic.
enum Plan {
    Report(Box<Record>),
    Probe(Box<Target>),
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
                    Plan::Probe(target) => {
                        let Ok(permit) = permits.clone().acquire_owned().await else {
                            break;
                        };
                        let (prober, records, mode, lang) = (
                            self.prober.clone(),
                            records_tx.clone(),
                            self.mode.clone(),
                            self.lang,
                        );
                        probes.spawn(async move {
                            let done = probe(&prober, &mode, &target, lang).await;
                            for record in done {
                                let _ = records.send(record).await;
                            }
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
        let system_users = match self.system_users(&asset) {
            Ok(users) => users,
            Err(reason) => {
                let record = Record::unusable(path, &asset, "system_users", &reason, self.lang);
                return Plan::Report(Box::new(record));
            }
        };
        let gateway = match &asset.gateway {
            None => None,
            Some(name) => match self.credentials.gateway(name) {
                Some(gateway) => Some(gateway),
                None => {
                    let reason = format!(
                        "unknown gateway `{name}`: no [gateways.{name}] in the credentials file"
                    );
                    let record = Record::unusable(path, &asset, "gateway", &reason, self.lang);
                    return Plan::Report(Box::new(record));
                }
            },
        };
        // Through the gateway, every login is the JumpServer user's.
        let admin = match &self.mode {
            Mode::Gateway(target) => Ok(target.credential.clone()),
            _ => self.credentials.for_row(asset.admin_user.as_deref()),
        };
        match admin {
            Ok(credential) => Plan::Probe(Box::new(Target {
                asset,
                gateway,
                credential,
                system_users,
            })),
            Err(reason) => {
                let record = Record::unusable(path, &asset, "admin_user", &reason, self.lang);
                Plan::Report(Box::new(record))
            }
        }
    }

    /// The row's system users, each a named credential whose user name is safe to hand
    /// to a remote shell; any other is the row's error, found before any connection.
    fn system_users(&self, asset: &Asset) -> Result<Vec<Arc<Credential>>, String> {
        asset
            .system_users
            .iter()
            .map(|name| {
                let credential = self.credentials.named(name).ok_or_else(|| {
                    let shown = quote::shown(name);
                    format!("unknown credential `{shown}`: not defined in the credentials file")
                })?;
                quote::check_user_name(&credential.username)
                    .map_err(|e| format!("credential `{name}`: {e}"))?;
                Ok(credential)
            })
            .collect()
    }
}
