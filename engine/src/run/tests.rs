use tokio::sync::watch;

use super::*;
use crate::credentials::CredentialSpec;
use crate::probe::{DEFAULT_JUMP_CHANNELS, KokoTarget, PushTarget, Settings, Timeouts};
use crate::report::Interruption;

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
        openssh: None,
        shard: None,
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
        port_given: true,
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
        port_given: true,
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
