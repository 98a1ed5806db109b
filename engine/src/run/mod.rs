//! The runner: streams inventory rows into at most `concurrency` probes in flight and
//! yields records as each finishes, whatever the mode. Bounded channels everywhere, so
//! memory does not grow with the size of the inventory.
//!
//! A run can be stopped early ([`Interrupt`]): no probe starts after the request, the
//! probes in flight get a grace period to end, and each one still running then is cut
//! short and recorded as `interrupted` (one record for every record it would have given).
//! Rows not reached get no record: they are only counted, while the grace lasts (an
//! inventory on a pipe may never end), so that the summary can tell them apart from the
//! ones that were under way.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{self, JoinError, JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::category::{Category, Lang, Stage};
use crate::credentials::{Credential, Credentials};
use crate::inventory::{Asset, Entry, Field, InventoryReader};
use crate::openssh::{OpenSsh, Route};
use crate::probe::{AssetProbe, KOKO_RESULTS, Mode, Prober, Target, human_duration};
use crate::report::Record;
use crate::results::{Done, Identity};
use crate::{quote, text};

mod interrupt;
mod shard;
pub use interrupt::{Ended, Gauges, Interrupt};
pub use shard::{COMPLETION_INDEX, Shard, ShardError, ShardRows, ShardSpec};

pub struct Run {
    pub prober: Arc<Prober>,
    pub credentials: Arc<Credentials>,
    pub mode: Mode,
    pub lang: Lang,
    pub concurrency: usize,
    /// `--resume`: the results already there; an asset that has all of its is not probed.
    pub resume: Option<Arc<Done>>,
    pub interrupt: Interrupt,
    /// Read by the progress line while the run goes on.
    pub gauges: Arc<Gauges>,
    /// `-l`, `-p`, `-J` and the ssh_config: where and as whom each row is probed.
    pub openssh: Option<Arc<OpenSsh>>,
    /// `--shard`: the rows of other shards are neither probed nor recorded.
    pub shard: Option<Shard>,
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

/// Whose results the mode gives an asset, in order: its own (`None`; through the gateway
/// only when it has no system user to try), then one per system user (none in prepush).
/// The one answer for the records of a probe, one cut short, and `--resume`.
fn subjects<'a>(mode: &Mode, asset: &'a Asset) -> impl Iterator<Item = Option<&'a str>> + use<'a> {
    let users = match mode {
        Mode::Prepush(_) => &[],
        _ => asset.system_users.as_slice(),
    };
    let own = !matches!(mode, Mode::Koko(_)) || users.is_empty();
    own.then_some(None)
        .into_iter()
        .chain(users.iter().map(|user| Some(user.as_str())))
}

/// One asset's records, a subject at a time, from what its probe found.
fn records(mode: &Mode, asset: &Asset, probe: AssetProbe, lang: Lang) -> Vec<Record> {
    let mut own = probe.own;
    let mut users = probe.system_users.into_iter();
    subjects(mode, asset)
        .filter_map(|subject| match subject {
            None => own.take().map(|own| Record::probed(asset, own, lang)),
            Some(_) => users
                .next()
                .map(|user| Record::system_user(asset, user, lang)),
        })
        .collect()
}

/// Every result the mode gives an asset, named as its records name it: a record bounds
/// what it copies from the inventory (a long credential name is cut), and `--resume`
/// must find the record it wrote.
fn identities<'a>(mode: &Mode, asset: &'a Asset) -> impl Iterator<Item = Identity> + use<'a> {
    subjects(mode, asset).map(|subject| {
        Identity::of(&Record::interrupted(
            asset,
            subject,
            "",
            Duration::ZERO,
            Lang::En,
        ))
    })
}

/// What becomes of a row before any network traffic.
enum Plan {
    Report(Box<Record>),
    Probe(Box<Target>),
    /// Its results are all there already (`--resume`).
    Done,
    /// Another shard's (`--shard`): no record.
    Elsewhere,
}

/// A probe under way, kept to record it if it is cut short.
struct InFlight {
    target: Arc<Target>,
    started: Instant,
}

impl Run {
    /// Starts the run: what the mode checks first, then every row of the inventory, if
    /// any. Records arrive on the receiver; the handle says how the run ended.
    pub fn start(self, inventory: Option<Entries>) -> (mpsc::Receiver<Record>, JoinHandle<Ended>) {
        let room = self.concurrency.clamp(16, 4096);
        let path = inventory
            .as_ref()
            .map(|i| i.path.clone())
            .unwrap_or_default();
        let (entries_tx, entries_rx) = mpsc::channel::<Entry>(room);
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
            let mut ended = Ended::default();
            let _ = self
                .dispatch(&path, entries_rx, &records_tx, &mut ended)
                .await;
            ended
        });
        (records_rx, dispatcher)
    }

    /// Feeds rows to probes until the rows run out or the run is asked to stop. `Err`:
    /// nobody reads the records any more.
    async fn dispatch(
        &self,
        path: &Path,
        mut entries: mpsc::Receiver<Entry>,
        out: &mpsc::Sender<Record>,
        ended: &mut Ended,
    ) -> Result<(), Closed> {
        let mut interrupt = self.interrupt.clone();
        // The mode's own checks belong to no row: shard 0 alone does them.
        let checks_first = self.shard.is_none_or(|shard| shard.first());
        let preflight = if checks_first {
            tokio::select! {
                done = self.prober.preflight(&self.mode) => done
                    .into_iter()
                    .map(|done| Record::about(done.name, &done.host, done.port, done.probed, self.lang))
                    .collect(),
                () = interrupt.grace_over() => self.preflight_cut_short(ended),
            }
        } else {
            Vec::new()
        };
        send(out, preflight).await?;

        let mut probes: JoinSet<Vec<Record>> = JoinSet::new();
        let mut in_flight = HashMap::new();
        let mut exhausted = false;
        let by = loop {
            if exhausted && probes.is_empty() {
                return Ok(());
            }
            tokio::select! {
                biased;
                by = interrupt.requested() => break by,
                Some(joined) = probes.join_next_with_id() => {
                    self.settle(joined, &mut in_flight, out, ended, None).await?;
                }
                entry = entries.recv(), if !exhausted && probes.len() < self.concurrency => {
                    let Some(entry) = entry else {
                        exhausted = true;
                        continue;
                    };
                    ended.rows.all += 1;
                    let plan = self.plan(path, entry);
                    ended.rows.here += usize::from(!matches!(plan, Plan::Elsewhere));
                    match plan {
                        Plan::Elsewhere => {}
                        Plan::Done => self.gauges.row_resumed(),
                        Plan::Report(record) => {
                            send(out, vec![*record]).await?;
                            self.gauges.row_done();
                        }
                        Plan::Probe(target) => {
                            let target: Arc<Target> = Arc::from(target);
                            let (prober, mode, lang) =
                                (self.prober.clone(), self.mode.clone(), self.lang);
                            let probed = target.clone();
                            let id = probes
                                .spawn(async move {
                                    let probe = prober.probe(&mode, &probed).await;
                                    records(&mode, &probed.asset, probe, lang)
                                        .into_iter()
                                        .map(|r| r.with_ssh_config(&probed.from_config))
                                        .collect()
                                })
                                .id();
                            let started = Instant::now();
                            in_flight.insert(id, InFlight { target, started });
                        }
                    }
                }
            }
            self.gauges.in_flight.store(probes.len(), Ordering::Relaxed);
        };

        // Stopping: the rows not reached are counted while the probes in flight finish,
        // until the grace is over: an inventory on a pipe may not end for a long time.
        let grace_over = Instant::now() + self.interrupt.grace;
        let not_reached = async {
            let (mut rows, mut read) = (0, ShardRows::default());
            let counting = async {
                while let Some(entry) = entries.recv().await {
                    read.all += 1;
                    if !self.holds(&entry) {
                        continue;
                    }
                    read.here += 1;
                    // A resumed run's rows already done were probed before.
                    rows += usize::from(!matches!(&entry, Entry::Asset(a) if self.already_done(a)));
                }
            };
            let counted = tokio::time::timeout_at(grace_over, counting).await.is_ok();
            (rows, read, counted)
        };
        let finishing = async {
            loop {
                tokio::select! {
                    joined = probes.join_next_with_id() => match joined {
                        Some(joined) => self.settle(joined, &mut in_flight, out, ended, Some(by)).await?,
                        None => break,
                    },
                    () = tokio::time::sleep_until(grace_over) => break,
                }
                self.gauges.in_flight.store(probes.len(), Ordering::Relaxed);
            }
            probes.abort_all();
            while let Some(joined) = probes.join_next_with_id().await {
                self.settle(joined, &mut in_flight, out, ended, Some(by))
                    .await?;
            }
            self.gauges.in_flight.store(0, Ordering::Relaxed);
            Ok(())
        };
        let ((not_reached, read, counted), finished) = tokio::join!(not_reached, finishing);
        ended.rows.add(read);
        let interruption = ended.interruption.get_or_insert_with(Default::default);
        interruption.by = by;
        interruption.not_probed += not_reached;
        interruption.all_counted = counted;
        finished
    }

    /// Forwards a probe's records; one cut short gets `interrupted` records instead.
    async fn settle(
        &self,
        joined: Result<(task::Id, Vec<Record>), JoinError>,
        in_flight: &mut HashMap<task::Id, InFlight>,
        out: &mpsc::Sender<Record>,
        ended: &mut Ended,
        by: Option<&'static str>,
    ) -> Result<(), Closed> {
        let records = match joined {
            Ok((id, records)) => {
                in_flight.remove(&id);
                records
            }
            Err(error) => match (in_flight.remove(&error.id()), by) {
                (Some(probe), Some(by)) if error.is_cancelled() => {
                    let interruption = ended.interruption.get_or_insert_with(Default::default);
                    interruption.cut_short += 1;
                    self.cut_short(&probe, by)
                }
                _ => {
                    ended.lost += 1;
                    Vec::new()
                }
            },
        };
        send(out, records).await?;
        self.gauges.row_done();
        Ok(())
    }

    /// The records a probe would have given, each saying it was cut short.
    fn cut_short(&self, probe: &InFlight, by: &str) -> Vec<Record> {
        let asset = &probe.target.asset;
        let message = self.cut_short_message(by);
        let duration = probe.started.elapsed();
        subjects(&self.mode, asset)
            .map(|user| Record::interrupted(asset, user, &message, duration, self.lang))
            .map(|record| record.with_ssh_config(&probe.target.from_config))
            .collect()
    }

    /// The mode's own checks (the gateway's) did not end within the grace.
    fn preflight_cut_short(&self, ended: &mut Ended) -> Vec<Record> {
        let Mode::Koko(koko) = &self.mode else {
            return Vec::new();
        };
        let by = *self.interrupt.requested.borrow();
        let message = self.cut_short_message(by.unwrap_or("a signal"));
        let ports = std::iter::once(koko.port).chain(koko.ws_port);
        let records: Vec<Record> = KOKO_RESULTS
            .iter()
            .zip(ports)
            .map(|(name, port)| gateway_cut_short(name, &koko.host, port, &message, self.lang))
            .collect();
        ended
            .interruption
            .get_or_insert_with(Default::default)
            .cut_short += records.len();
        records
    }

    fn cut_short_message(&self, by: &str) -> String {
        format!(
            "not finished: the run was interrupted by {by} and this probe did not end within the {} grace",
            human_duration(self.interrupt.grace)
        )
    }

    /// `--resume`: every result the mode gives the asset is in the results file.
    fn already_done(&self, asset: &Asset) -> bool {
        self.resume
            .as_ref()
            .is_some_and(|done| done.all(identities(&self.mode, asset)))
    }

    /// Whether the row is this run's (every row is, without `--shard`).
    fn holds(&self, entry: &Entry) -> bool {
        self.shard
            .is_none_or(|shard| shard.holds(entry, self.openssh.as_deref()))
    }

    fn plan(&self, path: &Path, entry: Entry) -> Plan {
        if !self.holds(&entry) {
            return Plan::Elsewhere;
        }
        let mut asset = match entry {
            Entry::Invalid(row) => {
                return Plan::Report(Box::new(Record::invalid(path, &row, self.lang)));
            }
            Entry::Asset(asset) => asset,
        };
        // Before anything names the asset: its port may come from -p or the ssh_config.
        let route = match self.openssh.as_ref().map(|o| o.route(&asset)).transpose() {
            Ok(route) => route,
            // An inactive row is skipped whatever its ssh_config entry says.
            Err(_) if asset.skip.is_some() => {
                let reason = asset.skip.as_deref().unwrap_or_default();
                return Plan::Report(Box::new(Record::skipped(&asset, reason, self.lang)));
            }
            Err(reason) => {
                let record = Record::unusable(path, &asset, Field::Host, &reason, self.lang);
                return Plan::Report(Box::new(record));
            }
        };
        if let Some(route) = &route {
            asset.port = route.port;
        }
        if self.already_done(&asset) {
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
        let Route {
            host,
            credential: routed,
            jump_host: routed_jump,
            settings,
            from_config,
            ..
        } = route.unwrap_or_else(|| Route::as_written(&asset));
        let jump_host = match &asset.jump_host {
            None => routed_jump,
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
        let admin = match (&self.mode, routed) {
            (Mode::Koko(koko), _) => Ok(koko.credential.clone()),
            (_, Some(credential)) => Ok(credential),
            _ => self.credentials.for_row(asset.admin_user.as_deref()),
        };
        match admin {
            Ok(credential) => {
                let target = Target {
                    asset,
                    host,
                    jump_host,
                    credential,
                    system_users,
                    settings,
                    from_config,
                };
                // A credential that cannot work fails each login before any connection;
                // the count lets the run say so once.
                target.note_credential_uses();
                Plan::Probe(Box::new(target))
            }
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

/// Nobody reads the records any more.
struct Closed;

async fn send(out: &mpsc::Sender<Record>, records: Vec<Record>) -> Result<(), Closed> {
    for record in records {
        out.send(record).await.map_err(|_| Closed)?;
    }
    Ok(())
}

/// A gateway check cut short: no stage of it is known to have failed, and the run, not the
/// gateway, ended it.
fn gateway_cut_short(name: &str, host: &str, port: u16, message: &str, lang: Lang) -> Record {
    Record::bare(
        name.to_string(),
        host.to_string(),
        Some(port),
        Category::Interrupted,
        Stage::Done,
        message.to_string(),
        lang,
    )
}

#[cfg(test)]
mod tests;
