//! The subcommands, wired from the pieces: credentials, inventory, prober, runner, sinks.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use prober_engine::credentials::{CredentialSpec, Credentials};
use prober_engine::inventory;
use prober_engine::inventory::{InventoryReader, ReadOptions};
use prober_engine::known_hosts::HostKeyPolicy;
use prober_engine::limits;
use prober_engine::probe::koko::DEFAULT_PORT as KOKO_PORT;
use prober_engine::probe::{KokoTarget, Mode, Prober, PushTarget, human_duration};
use prober_engine::report::{self, Summary, progress::Progress};
use prober_engine::results::Identity;
use prober_engine::run::{Entries, Gauges, Interrupt, Run};
use prober_engine::text;

use crate::cli::{
    CheckArgs, Command, GatewayArgs, OutputArgs, PrepushArgs, ProbeArgs, ResultsArgs,
    SimpleCredential,
};
use crate::exit::Outcome;
use crate::output::{self, Destination};
use crate::signals::{Signal, Signals};

/// Results could not be written: the run stops. Kept apart from other errors because a
/// closed stdout is how `prober … | head` says it has seen enough.
#[derive(Debug, thiserror::Error)]
#[error("cannot write results to {}: {source}", target.as_deref().map_or("stdout".into(), |p| p.display().to_string()))]
pub struct OutputError {
    /// A file name, or `None` for stdout.
    target: Option<PathBuf>,
    #[source]
    pub source: io::Error,
}

impl OutputError {
    pub fn file(path: &Path, source: io::Error) -> OutputError {
        OutputError {
            target: Some(path.to_path_buf()),
            source,
        }
    }

    pub fn stdout(source: io::Error) -> OutputError {
        OutputError {
            target: None,
            source,
        }
    }

    pub fn to_stdout(&self) -> bool {
        self.target.is_none()
    }
}

/// Runs one subcommand to its end.
pub async fn run(command: Command) -> anyhow::Result<Outcome> {
    Ok(match command {
        Command::Check(args) => check(&args).await?.outcome(),
        Command::Prepush(args) => prepush(&args).await?.outcome(),
        Command::Gateway(args) => gateway(&args).await?.outcome(),
        Command::Diff(args) => crate::diff::run(&args, &mut io::stdout().lock())?,
        Command::Demo(args) => crate::demo::run(args).await?,
        Command::Farm(args) => crate::farm::run(args).await?,
        Command::Explain(args) => {
            crate::explain::run(&args, &mut io::stdout())?;
            Outcome::AllOk
        }
    })
}

/// A run that ended, to its end or early.
pub struct Finished {
    pub summary: Summary,
    /// The first signal, if one stopped the run.
    pub signal: Option<Signal>,
}

impl Finished {
    pub fn outcome(&self) -> Outcome {
        match self.signal {
            Some(signal) => Outcome::Interrupted(signal),
            None => self.summary.all_ok().into(),
        }
    }
}

pub async fn check(args: &CheckArgs) -> anyhow::Result<Finished> {
    let credentials = credentials(args)?;
    execute(Spec::of(args, credentials, Mode::Check, "prober check")).await
}

/// `--system-user` names a credential (its user name and uid), or else a user name.
pub async fn prepush(args: &PrepushArgs) -> anyhow::Result<Finished> {
    let credentials = credentials(&args.check)?;
    let name = args.system_user.as_str();
    let target = match credentials.named(name) {
        Some(credential) => PushTarget::new(&credential.username, credential.expect.uid),
        None => PushTarget::new(name, None),
    }
    .map_err(|e| anyhow!("--system-user {name}: {e}"))?;
    let mode = Mode::Prepush(Arc::new(target));
    execute(Spec::of(&args.check, credentials, mode, "prober prepush")).await
}

/// The gateway itself (and its web terminal port), then the inventory through it.
pub async fn gateway(args: &GatewayArgs) -> anyhow::Result<Finished> {
    let mut credentials = match &args.credentials {
        Some(path) => Credentials::load(path)?,
        None => Credentials::default(),
    };
    let (host, port) = inventory::fields::host_and_port(&args.gateway)
        .map_err(|e| anyhow!("--gateway {}: {e}", args.gateway))?;
    let jms = CredentialSpec {
        username: args.jms_user.clone(),
        key: args.key.clone(),
        key_passphrase_env: args.key_passphrase_env.clone(),
        password_env: args.password_env.clone(),
        password_file: args.password_file.clone(),
        ..Default::default()
    };
    jms.validate()
        .map_err(|e| anyhow!("--jms-user {}: {e}", text::shown(&args.jms_user)))?;
    let jms = jms.resolve("--jms-user", Path::new("."), &mut credentials.warnings);
    let port = port.unwrap_or(KOKO_PORT);
    let koko = KokoTarget::new(host, port, Arc::new(jms), args.ws_port);
    let spec = Spec {
        inventory: args.inventory.as_deref(),
        jumpserver: None,
        read: args.read.options(),
        results: &args.results,
        probe: &args.probe,
        output: &args.output,
        credentials_file: args.credentials.as_deref(),
        credentials,
        mode: Mode::Koko(Arc::new(koko)),
        command: "prober gateway",
    };
    execute(spec).await
}

/// What one run is given.
struct Spec<'a> {
    inventory: Option<&'a Path>,
    /// `--jumpserver`: the assets come from its API.
    jumpserver: Option<&'a crate::jumpserver::JumpServerArgs>,
    read: ReadOptions,
    results: &'a ResultsArgs,
    probe: &'a ProbeArgs,
    output: &'a OutputArgs,
    /// Read by the run: results must not be written over it.
    credentials_file: Option<&'a Path>,
    credentials: Credentials,
    mode: Mode,
    /// Names the run where a format has a title (JUnit's test suite).
    command: &'a str,
}

impl<'a> Spec<'a> {
    fn of(args: &'a CheckArgs, credentials: Credentials, mode: Mode, command: &'a str) -> Spec<'a> {
        Spec {
            inventory: args.inventory.as_deref(),
            jumpserver: Some(&args.jumpserver),
            read: args.read.options(),
            results: &args.results,
            probe: &args.probe,
            output: &args.output,
            credentials_file: args.credentials.as_deref(),
            credentials,
            mode,
            command,
        }
    }
}

async fn execute(spec: Spec<'_>) -> anyhow::Result<Finished> {
    for warning in &spec.credentials.warnings {
        eprintln!("warning: {warning}");
    }
    let settings = spec.probe.settings();
    let output = spec.output;
    let inputs: Vec<(&str, &Path)> = [
        ("inventory", spec.inventory),
        ("results file read by --from", spec.results.from.as_deref()),
        ("credentials file", spec.credentials_file),
        ("known_hosts file", settings.known_hosts.as_deref()),
    ]
    .into_iter()
    .filter_map(|(what, path)| Some((what, path?)))
    .collect();
    output::refuse_inputs(
        spec.results.resume.as_deref(),
        output.output.as_deref(),
        &inputs,
    )?;
    let api = match spec.jumpserver {
        Some(args) => args.open(spec.read.allow_empty).await?,
        None => None,
    };
    let inventory = match crate::rerun::from(spec.results, spec.read.allow_empty, output.quiet)? {
        Some(picked) => Some(picked),
        None if api.is_some() => api,
        None => {
            let inventory = spec
                .inventory
                .map(|path| InventoryReader::open(path, &spec.read))
                .transpose()?;
            if let Some(inventory) = &inventory
                && !inventory.unused_columns().is_empty()
            {
                eprintln!(
                    "warning: inventory {}: columns not read: {}",
                    inventory.path().display(),
                    inventory.unused_columns().join(", ")
                );
            }
            inventory.map(Entries::from)
        }
    };
    // Only once the inputs are open: opening an inventory on a pipe waits for its first
    // rows, and until the run starts nothing would act on a signal taken over earlier.
    // Nothing is written before this point, so a signal may end the process as usual.
    let signals = Signals::listen()?;
    if settings.known_hosts.is_none() && settings.host_key_policy != HostKeyPolicy::Off {
        return Err(anyhow!(
            "no known_hosts file: HOME is not set; give --known-hosts FILE, or --host-key-check off"
        ));
    }
    let prober = Prober::new(&settings).map_err(|e| {
        let file = settings
            .known_hosts
            .as_deref()
            .unwrap_or(Path::new("known_hosts"));
        anyhow!("cannot read known_hosts {}: {e}", file.display())
    })?;
    let (concurrency, warning) = limits::fit_concurrency(spec.probe.concurrency as usize);
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }

    // A resumed run writes to its results file, in its format.
    let (destination, mut sink, done) = match &spec.results.resume {
        Some(path) => {
            let (sink, done) = crate::rerun::resume(path, output, spec.command)?;
            (Destination::appending(path), sink, Some(done))
        }
        None => {
            let (destination, out) = Destination::open(output.output.as_deref(), output.format)?;
            let sink = report::sink(output.format, out, output.lang, spec.command)
                .map_err(|e| destination.error(e))?;
            (destination, sink, None)
        }
    };
    let progress = Progress::new(output.quiet);
    // A second reader counts the rows for the progress line; a pipe can be read once only.
    let regular = spec
        .inventory
        .filter(|p| progress.shown() && p.metadata().is_ok_and(|m| m.is_file()));
    if let Some(Ok(counting)) = regular.map(|path| InventoryReader::open(path, &spec.read)) {
        progress.count(counting);
    }
    let started = Instant::now();
    let mut summary = Summary::default();
    // A resumed run's summary and exit status are the whole run's.
    for category in done.iter().flat_map(|d| d.categories()) {
        if let Ok(category) = category.parse() {
            summary.add(category);
            summary.resumed += 1;
        }
    }
    let prober = Arc::new(prober);
    let credentials = Arc::new(spec.credentials);
    let gauges = Arc::new(Gauges::default());
    let run = Run {
        prober: prober.clone(),
        credentials: credentials.clone(),
        mode: spec.mode,
        lang: output.lang,
        concurrency,
        interrupt: Interrupt {
            requested: signals.stop(),
            grace: spec.probe.grace,
        },
        gauges: gauges.clone(),
        resume: done.clone(),
    };
    let (mut records, dispatcher) = run.start(inventory);
    // Redraws elapsed time and ETA while no record arrives.
    let mut redraw = tokio::time::interval(Duration::from_millis(250));
    redraw.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut announced = false;
    loop {
        tokio::select! {
            biased;
            first = signals.first_came(), if !announced => {
                announced = true;
                if !output.quiet {
                    progress.suspend(|| eprintln!(
                        "prober: {}: no new probes; waiting up to {} for the {} in flight (a second signal stops at once)",
                        first.name(),
                        human_duration(spec.probe.grace),
                        gauges.in_flight(),
                    ));
                }
            }
            second = signals.second() => {
                summary.elapsed = started.elapsed();
                progress.finish();
                return Ok(abandon(summary, signals.first().unwrap_or(second), second, destination, output.quiet));
            }
            record = records.recv() => {
                let Some(record) = record else { break };
                // A partly done asset is probed whole; only its missing results are new.
                if done.as_ref().is_some_and(|done| done.contains(&Identity::of(&record))) {
                    continue;
                }
                // Said as the first asset that names the credential is recorded, not
                // after the run.
                for line in credentials.fresh_problems() {
                    progress.suspend(|| eprintln!("error: {line}"));
                }
                summary.add(record.category);
                progress
                    .suspend(|| sink.record(&record))
                    .map_err(|e| destination.error(e))?;
                progress.update(&summary, &gauges);
            }
            _ = redraw.tick(), if progress.shown() => {
                progress.update(&summary, &gauges);
            }
        }
    }
    // A dispatcher that died lost at least the row it was on.
    match dispatcher.await {
        Ok(ended) => {
            summary.lost = ended.lost;
            summary.interruption = ended.interruption;
        }
        Err(_) => summary.lost = 1,
    }
    summary.elapsed = started.elapsed();
    progress.finish();
    for line in credentials.unusable_report() {
        eprintln!("error: {line}");
    }
    sink.finish(&summary).map_err(|e| destination.error(e))?;
    drop(sink);
    destination.commit()?;
    if !output.quiet {
        report_end(&summary, &prober);
    }
    // A signal that came once every row was done stopped nothing: the verdicts decide.
    let signal = summary.interruption.as_ref().and(signals.first());
    Ok(Finished { signal, summary })
}

/// A second signal: the run ends now. Records written so far are whole lines; results
/// only valid once complete (json, junit) are dropped, the previous file left as it was.
fn abandon(
    summary: Summary,
    first: Signal,
    second: Signal,
    destination: Destination,
    quiet: bool,
) -> Finished {
    let dropped = destination.abandon();
    if !quiet {
        let mut stderr = io::stderr().lock();
        let _ = summary.write(&mut stderr);
        let _ = writeln!(
            stderr,
            "prober: stopped at once by a second signal ({}): probes in flight were not recorded",
            second.name()
        );
        if let Some(path) = dropped {
            let _ = writeln!(
                stderr,
                "prober: {} was not written (it is only valid once complete) and is left as it was",
                path.display()
            );
        }
    }
    Finished {
        summary,
        signal: Some(first),
    }
}

/// The summary, jump hosts and learned host keys, on stderr.
fn report_end(summary: &Summary, prober: &Prober) {
    let mut stderr = io::stderr().lock();
    let _ = summary.write(&mut stderr);
    for line in prober.jump_report() {
        let _ = writeln!(stderr, "{line}");
    }
    if let Some(known_hosts) = prober.known_hosts() {
        let file = known_hosts.path().display();
        match known_hosts.learned() {
            (_, Some(error)) => {
                let _ = writeln!(
                    stderr,
                    "warning: could not record new host keys in {file}: {error}"
                );
            }
            (0, None) => {}
            (n, None) => {
                let _ = writeln!(stderr, "recorded {n} new host key(s) in {file}");
            }
        }
    }
}

fn credentials(args: &CheckArgs) -> anyhow::Result<Credentials> {
    let mut credentials = match &args.credentials {
        Some(path) => Credentials::load(path)?,
        None => Credentials::default(),
    };
    if let Some(spec) = simple_spec(&args.simple)? {
        let credential = spec.resolve("--user", Path::new("."), &mut credentials.warnings);
        credentials.set_fallback(credential);
    }
    if args.credentials.is_none() && !credentials.has_fallback() {
        return Err(anyhow!(
            "no credentials: give --credentials FILE, or --user NAME with --password-env, --password-file, --key or --agent"
        ));
    }
    Ok(credentials)
}

fn simple_spec(simple: &SimpleCredential) -> anyhow::Result<Option<CredentialSpec>> {
    let Some(user) = &simple.user else {
        return Ok(None);
    };
    let spec = CredentialSpec {
        username: user.clone(),
        password_env: simple.password_env.clone(),
        password_file: simple.password_file.clone(),
        key: simple.key.clone(),
        key_passphrase_env: simple.key_passphrase_env.clone(),
        agent: simple.agent,
        ..Default::default()
    };
    if spec.password_env.is_none()
        && spec.password_file.is_none()
        && spec.key.is_none()
        && !spec.agent
    {
        return Err(anyhow!(
            "--user {} needs --password-env, --password-file, --key or --agent",
            text::shown(user)
        ));
    }
    spec.validate()
        .map_err(|e| anyhow!("--user {}: {e}", text::shown(user)))?;
    Ok(Some(spec))
}
