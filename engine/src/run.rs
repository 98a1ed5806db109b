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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::{self, JoinError, JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::category::{Category, Lang, Stage};
use crate::credentials::{Credential, Credentials};
use crate::inventory::{Asset, Entry, Field, InventoryReader};
use crate::probe::{AssetProbe, KOKO_RESULTS, Mode, Prober, Target, human_duration};
use crate::report::{Interruption, Record};
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
    pub interrupt: Interrupt,
    /// Read by the progress line while the run goes on.
    pub gauges: Arc<Gauges>,
}

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
    async fn requested(&mut self) -> &'static str {
        if let Ok(by) = self.requested.wait_for(Option::is_some).await
            && let Some(by) = *by
        {
            return by;
        }
        std::future::pending().await
    }

    /// Once requested, the grace is over.
    async fn grace_over(&mut self) {
        self.requested().await;
        tokio::time::sleep(self.grace).await;
    }
}

/// What the run is doing now, in inventory rows.
#[derive(Debug, Default)]
pub struct Gauges {
    in_flight: AtomicUsize,
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

    fn row_done(&self) {
        self.rows_done.fetch_add(1, Ordering::Relaxed);
    }

    fn row_resumed(&self) {
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
        let preflight = tokio::select! {
            done = self.prober.preflight(&self.mode) => done
                .into_iter()
                .map(|done| Record::about(done.name, &done.host, done.port, done.probed, self.lang))
                .collect(),
            () = interrupt.grace_over() => self.preflight_cut_short(ended),
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
                    match self.plan(path, entry) {
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
            let mut rows = 0;
            let counting = async {
                while let Some(entry) = entries.recv().await {
                    // A resumed run's rows already done were probed before.
                    rows += usize::from(!matches!(&entry, Entry::Asset(a) if self.already_done(a)));
                }
            };
            let counted = tokio::time::timeout_at(grace_over, counting).await.is_ok();
            (rows, counted)
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
        let ((not_reached, counted), finished) = tokio::join!(not_reached, finishing);
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

    fn plan(&self, path: &Path, entry: Entry) -> Plan {
        let asset = match entry {
            Entry::Invalid(row) => {
                return Plan::Report(Box::new(Record::invalid(path, &row, self.lang)));
            }
            Entry::Asset(asset) => asset,
        };
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
            Ok(credential) => {
                let target = Target {
                    asset,
                    jump_host,
                    credential,
                    system_users,
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
mod tests {
    use super::*;
    use crate::credentials::CredentialSpec;
    use crate::probe::{DEFAULT_JUMP_CHANNELS, KokoTarget, PushTarget, Settings, Timeouts};

    /// A run of `rows` rows, each an asset on `port` with two system users, one probe at
    /// a time, stopped through the returned sender.
    fn run(
        dir: &Path,
        port: u16,
        rows: usize,
    ) -> (
        Run,
        Option<InventoryReader>,
        watch::Sender<Option<&'static str>>,
    ) {
        std::fs::write(dir.join("pw"), "secret\n").unwrap();
        let credentials = dir.join("credentials.toml");
        let users: String = ["admin", "deploy", "app"]
            .iter()
            .map(|name| {
                format!("[credentials.{name}]\nusername = \"{name}\"\npassword_file = \"pw\"\n")
            })
            .collect();
        std::fs::write(&credentials, users).unwrap();
        let mut csv = String::from("name,host,port,admin_user,system_users\n");
        for row in 0..rows {
            csv.push_str(&format!("a{row},127.0.0.1,{port},admin,deploy;app\n"));
        }
        // No rows is no inventory: a reader refuses an empty one.
        let inventory = (rows > 0).then(|| {
            InventoryReader::from_reader(
                Path::new("inv.csv"),
                Box::new(std::io::Cursor::new(csv)),
                &Default::default(),
            )
            .unwrap()
        });
        // Long enough that only the stop ends a probe of the silent server.
        let hour = Duration::from_secs(3600);
        let settings = Settings {
            timeouts: Timeouts {
                banner: hour,
                total: hour,
                ..Timeouts::default()
            },
            host_key_policy: crate::known_hosts::HostKeyPolicy::Off,
            jump_channels: DEFAULT_JUMP_CHANNELS,
            ..Settings::default()
        };
        let (stop, requested) = watch::channel(None);
        let run = Run {
            prober: Arc::new(Prober::new(&settings).unwrap()),
            credentials: Arc::new(Credentials::load(&credentials).unwrap()),
            mode: Mode::Check,
            lang: Lang::En,
            concurrency: 1,
            interrupt: Interrupt {
                requested,
                grace: Duration::from_millis(10),
            },
            gauges: Arc::default(),
            resume: None,
        };
        (run, inventory, stop)
    }

    #[tokio::test]
    async fn a_stop_cuts_the_probe_in_flight_short_and_counts_the_rows_not_reached() {
        let dir = tempfile::tempdir().unwrap();
        // Connections complete in the backlog and are never answered.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let (run, inventory, stop) = run(dir.path(), port, 3);
        let gauges = run.gauges.clone();
        let (mut records, dispatcher) = run.start(inventory.map(Entries::from));
        while gauges.in_flight() == 0 {
            tokio::task::yield_now().await;
        }
        stop.send_replace(Some("SIGINT"));
        let mut got = Vec::new();
        while let Some(record) = records.recv().await {
            got.push(record);
        }
        let ended = dispatcher.await.unwrap();
        assert_eq!(ended.lost, 0);
        assert_eq!(
            ended.interruption,
            Some(Interruption {
                by: "SIGINT",
                cut_short: 1,
                not_probed: 2,
                all_counted: true,
            })
        );
        let subjects: Vec<(&str, Option<&str>, Category)> = got
            .iter()
            .map(|r| (r.name.as_str(), r.system_user.as_deref(), r.category))
            .collect();
        let cut = Category::Interrupted;
        assert_eq!(
            subjects,
            [
                ("a0", None, cut),
                ("a0", Some("deploy"), cut),
                ("a0", Some("app"), cut)
            ],
            "the asset's own record and one per system user"
        );
        assert!(
            got[0].message.contains("interrupted by SIGINT"),
            "{}",
            got[0].message
        );
        assert_eq!((got[0].port, gauges.rows_done()), (Some(port), 1));
        // What `--from … --only interrupted` needs to probe them again.
        for record in &got {
            assert_eq!(record.admin_user.as_deref(), Some("admin"), "{record:?}");
            assert_eq!(
                record.system_users.as_deref(),
                Some(&["deploy".to_string(), "app".to_string()][..])
            );
        }
    }

    /// Rows as an inventory on a pipe gives them: these, then no end. Says on `reading`
    /// when the rows are all handed over and it waits for more.
    struct Endless {
        rows: std::vec::IntoIter<Entry>,
        reading: std::sync::mpsc::Sender<()>,
        never: std::sync::mpsc::Receiver<()>,
    }

    impl Iterator for Endless {
        type Item = Entry;

        fn next(&mut self) -> Option<Entry> {
            self.rows.next().or_else(|| {
                let _ = self.reading.send(());
                let _ = self.never.recv();
                None
            })
        }
    }

    #[tokio::test]
    async fn rows_are_counted_only_while_the_grace_lasts() {
        let dir = tempfile::tempdir().unwrap();
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let (run, inventory, stop) = run(dir.path(), port, 2);
        let gauges = run.gauges.clone();
        let (reading, read) = std::sync::mpsc::channel();
        let (_held, never) = std::sync::mpsc::channel();
        let rows = Endless {
            rows: inventory.unwrap().collect::<Vec<_>>().into_iter(),
            reading,
            never,
        };
        let entries = Entries {
            path: PathBuf::from("-"),
            rows: Box::new(rows),
        };
        let (mut records, dispatcher) = run.start(Some(entries));
        task::spawn_blocking(move || read.recv())
            .await
            .unwrap()
            .unwrap();
        while gauges.in_flight() == 0 {
            tokio::task::yield_now().await;
        }
        stop.send_replace(Some("SIGINT"));
        // Only so a broken run fails instead of waiting for an inventory that never ends.
        let ended = tokio::time::timeout(Duration::from_secs(60), async {
            while records.recv().await.is_some() {}
            dispatcher.await.unwrap()
        })
        .await
        .expect("the run ends with the grace, whether or not the inventory does");
        assert_eq!(
            ended.interruption,
            Some(Interruption {
                by: "SIGINT",
                cut_short: 1,
                not_probed: 1,
                all_counted: false,
            })
        );
    }

    /// A credential name longer than a record keeps: `--resume` names each result as the
    /// record written for it, or the asset would be probed again on every resume.
    #[test]
    fn resume_names_results_as_their_records_do() {
        use crate::probe::SystemUserProbed;
        use crate::probe::outcome::Probing;
        let long = "u".repeat(300);
        let asset = Asset {
            line: 1,
            name: "n".repeat(300),
            host: "10.0.0.5".into(),
            port: 22,
            admin_user: None,
            system_users: vec![long.clone(), "app".into()],
            jump_host: None,
            platform: None,
            id: None,
            nodes: Vec::new(),
            skip: None,
        };
        let ok = || Probing::start().done(Ok("fine".into()));
        let probe = AssetProbe {
            own: Some(ok()),
            system_users: asset
                .system_users
                .iter()
                .map(|user| SystemUserProbed {
                    credential: user.clone(),
                    probed: ok(),
                })
                .collect(),
        };
        let written: Vec<Identity> = records(&Mode::Check, &asset, probe, Lang::En)
            .iter()
            .map(Identity::of)
            .collect();
        let expected: Vec<Identity> = identities(&Mode::Check, &asset).collect();
        assert_eq!(written, expected);
        let cut = written[1].system_user.as_deref().unwrap();
        assert!(cut.len() < long.len(), "the record cut the name: {cut}");
    }

    #[tokio::test]
    async fn without_a_stop_the_run_reaches_every_row() {
        let dir = tempfile::tempdir().unwrap();
        // Nothing listens: every probe ends quickly, refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (run, inventory, _stop) = run(dir.path(), port, 3);
        let (mut records, dispatcher) = run.start(inventory.map(Entries::from));
        let mut own = 0;
        while let Some(record) = records.recv().await {
            assert_ne!(record.category, Category::Interrupted);
            own += usize::from(record.system_user.is_none());
        }
        let ended = dispatcher.await.unwrap();
        assert_eq!((own, ended.lost, ended.interruption), (3, 0, None));
    }

    #[tokio::test]
    async fn a_gateway_check_cut_short_is_recorded_as_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let (mut run, _, stop) = run(dir.path(), port, 0);
        let user = run.credentials.named("admin").unwrap();
        let koko = KokoTarget::new("127.0.0.1".into(), port, user, Some(port));
        run.mode = Mode::Koko(Arc::new(koko));
        let (mut records, dispatcher) = run.start(None);
        stop.send_replace(Some("SIGTERM"));
        let mut names = Vec::new();
        while let Some(record) = records.recv().await {
            assert_eq!(record.category, Category::Interrupted, "{record:?}");
            names.push(record.name);
        }
        assert_eq!(names, KOKO_RESULTS);
        let interruption = dispatcher.await.unwrap().interruption.unwrap();
        assert_eq!((interruption.by, interruption.cut_short), ("SIGTERM", 2));
    }

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
