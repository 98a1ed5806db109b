//! The runner: streams inventory rows into at most `concurrency` probes in flight and
//! yields records as each finishes, whatever the mode. Bounded channels everywhere, so
//! memory does not grow with the size of the inventory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};

use crate::category::Lang;
use crate::credentials::{Credential, Credentials};
use crate::inventory::{Asset, Entry, Field, InventoryReader};
use crate::probe::{AssetProbe, Mode, Prober, Target};
use crate::report::Record;
use crate::results::{Done, Identity};
use crate::{quote, text};

pub struct Run {
    pub prober: Arc<Prober>,
    pub credentials: Arc<Credentials>,
    pub mode: Mode,
    pub lang: Lang,
    pub concurrency: usize,
    /// `--resume`: the results already there; an asset that has all of its is not probed.
    pub resume: Option<Arc<Done>>,
}

/// The rows a run probes: an inventory's, or those a results file gave (`--from`).
pub struct Entries {
    /// Names the source in messages.
    pub path: PathBuf,
    pub rows: Box<dyn Iterator<Item = Entry> + Send>,
}

impl From<InventoryReader> for Entries {
    fn from(inventory: InventoryReader) -> Entries {
        Entries {
            path: inventory.path().to_path_buf(),
            rows: Box::new(inventory),
        }
    }
}

/// One asset's records: its own (unless the mode gives none), then one per system user.
fn records(asset: &Asset, probe: AssetProbe, lang: Lang) -> Vec<Record> {
    let own = probe.own.map(|own| Record::probed(asset, own, lang));
    let users = probe
        .system_users
        .into_iter()
        .map(|user| Record::system_user(asset, user, lang));
    own.into_iter().chain(users).collect()
}

/// Every result the mode gives an asset: its own (through the gateway, only when it has no
/// system user to try), then one per system user (none in prepush).
fn identities<'a>(mode: &Mode, asset: &'a Asset) -> impl Iterator<Item = Identity> + 'a {
    // As its records will name it: a record may bound what it copies from the inventory.
    let own = Identity::of(&Record::skipped(asset, "", Lang::En));
    let users = match mode {
        Mode::Prepush(_) => &[],
        _ => asset.system_users.as_slice(),
    };
    let with_own = match mode {
        Mode::Koko(_) => users.is_empty(),
        _ => true,
    };
    let first = with_own.then(|| own.clone());
    let user = move |user: &String| Identity {
        system_user: Some(user.clone()),
        ..own.clone()
    };
    first.into_iter().chain(users.iter().map(user))
}

/// What becomes of a row before any network traffic.
enum Plan {
    Report(Box<Record>),
    Probe(Box<Target>),
    /// Its results are all there already (`--resume`).
    Done,
}

impl Run {
    /// Starts the run: what the mode checks first, then every row of the inventory, if
    /// any. Records arrive on the receiver; the handle yields the number of probes that
    /// died without a record (a bug, counted as failures).
    pub fn start(self, inventory: Option<Entries>) -> (mpsc::Receiver<Record>, JoinHandle<usize>) {
        let room = self.concurrency.clamp(16, 4096);
        let path = inventory
            .as_ref()
            .map(|i| i.path.clone())
            .unwrap_or_default();
        let (entries_tx, mut entries_rx) = mpsc::channel::<Entry>(room);
        // csv reads are blocking: the inventory gets a thread of its own.
        std::thread::spawn(move || {
            for entry in inventory.into_iter().flat_map(|i| i.rows) {
                if entries_tx.blocking_send(entry).is_err() {
                    break;
                }
            }
        });
        let (records_tx, records_rx) = mpsc::channel::<Record>(room);
        let dispatcher = tokio::spawn(async move {
            for done in self.prober.preflight(&self.mode).await {
                let record =
                    Record::about(done.name, &done.host, done.port, done.probed, self.lang);
                if records_tx.send(record).await.is_err() {
                    return 0;
                }
            }
            let permits = Arc::new(Semaphore::new(self.concurrency));
            let mut probes = JoinSet::new();
            let mut lost = 0;
            while let Some(entry) = entries_rx.recv().await {
                match self.plan(&path, entry) {
                    Plan::Done => {}
                    Plan::Report(record) => {
                        if records_tx.send(*record).await.is_err() {
                            break;
                        }
                    }
                    Plan::Probe(target) => {
                        let Ok(permit) = permits.clone().acquire_owned().await else {
                            break;
                        };
                        let (prober, sender, mode, lang) = (
                            self.prober.clone(),
                            records_tx.clone(),
                            self.mode.clone(),
                            self.lang,
                        );
                        probes.spawn(async move {
                            let probe = prober.probe(&mode, &target).await;
                            for record in records(&target.asset, probe, lang) {
                                let _ = sender.send(record).await;
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
        if let Some(done) = &self.resume
            && done.all(identities(&self.mode, &asset))
        {
            return Plan::Done;
        }
        if let Some(reason) = &asset.skip {
            return Plan::Report(Box::new(Record::skipped(&asset, reason, self.lang)));
        }
        let system_users = match self.system_users(&asset) {
            Ok(users) => users,
            Err(reason) => {
                let record = Record::unusable(path, &asset, Field::SystemUsers, &reason, self.lang);
                return Plan::Report(Box::new(record));
            }
        };
        if matches!(self.mode, Mode::Koko(_)) && system_users.is_empty() {
            let reason = "no system_users to log in as through the gateway";
            return Plan::Report(Box::new(Record::skipped(&asset, reason, self.lang)));
        }
        let jump_host = match &asset.jump_host {
            None => None,
            Some(name) => match self.credentials.jump_host(name) {
                Some(jump_host) => Some(jump_host),
                None => {
                    let reason = format!(
                        "unknown gateway `{name}`: no [gateways.{name}] in the credentials file"
                    );
                    let record =
                        Record::unusable(path, &asset, Field::JumpHost, &reason, self.lang);
                    return Plan::Report(Box::new(record));
                }
            },
        };
        // Through the gateway, every login is the JumpServer user's.
        let admin = match &self.mode {
            Mode::Koko(koko) => Ok(koko.credential.clone()),
            _ => self.credentials.for_row(asset.admin_user.as_deref()),
        };
        match admin {
            Ok(credential) => Plan::Probe(Box::new(Target {
                asset,
                jump_host,
                credential,
                system_users,
            })),
            Err(reason) => {
                let record = Record::unusable(path, &asset, Field::AdminUser, &reason, self.lang);
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
                    let shown = text::shown(name);
                    format!("unknown credential `{shown}`: not defined in the credentials file")
                })?;
                quote::check_user_name(&credential.username)
                    .map_err(|e| format!("credential `{name}`: {e}"))?;
                Ok(credential)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::CredentialSpec;
    use crate::probe::{KokoTarget, PushTarget};

    #[test]
    fn resume_expects_every_result_the_mode_gives() {
        let asset = |users: &[&str]| Asset {
            line: 1,
            name: "web".into(),
            host: "10.0.0.5".into(),
            port: 22,
            admin_user: None,
            system_users: users.iter().map(|u| u.to_string()).collect(),
            jump_host: None,
            platform: None,
            id: None,
            nodes: Vec::new(),
            skip: None,
        };
        let users = |mode: &Mode, asset: &Asset| -> Vec<Option<String>> {
            identities(mode, asset).map(|i| i.system_user).collect()
        };
        let both = asset(&["deploy", "app"]);
        let own_and = |names: &[&str]| -> Vec<Option<String>> {
            std::iter::once(None)
                .chain(names.iter().map(|n| Some(n.to_string())))
                .collect()
        };
        assert_eq!(users(&Mode::Check, &both), own_and(&["deploy", "app"]));
        let push = Mode::Prepush(Arc::new(PushTarget::new("deploy", None).unwrap()));
        assert_eq!(users(&push, &both), own_and(&[]));
        let jms = CredentialSpec {
            username: "jms".into(),
            password_env: Some("UNSET".into()),
            ..Default::default()
        }
        .resolve("jms", Path::new("."), &mut Vec::new());
        let koko = Mode::Koko(Arc::new(KokoTarget::new(
            "gw".into(),
            2222,
            Arc::new(jms),
            None,
        )));
        assert_eq!(
            users(&koko, &both),
            [Some("deploy".into()), Some("app".into())]
        );
        assert_eq!(users(&koko, &asset(&[])), [None], "skipped: its own result");
    }
}
