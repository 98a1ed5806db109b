//! The subcommands, wired from the pieces: credentials, inventory, prober, runner, sinks.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use prober_engine::category::Lang;
use prober_engine::credentials::{CredentialSpec, Credentials};
use prober_engine::i18n::Text;
use prober_engine::inventory;
use prober_engine::inventory::{InventoryReader, ReadOptions};
use prober_engine::known_hosts::HostKeyPolicy;
use prober_engine::limits;
use prober_engine::local_checks;
use prober_engine::openssh::{CommandLine, ConfigFile, Environment, Login, OpenSsh};
use prober_engine::probe::koko::DEFAULT_PORT as KOKO_PORT;
use prober_engine::probe::{KokoTarget, Mode, Prober, PushTarget, human_duration};
use prober_engine::report::{self, Summary, progress::Progress};
use prober_engine::results::Identity;
use prober_engine::run::{COMPLETION_INDEX, Entries, Gauges, Interrupt, Run, Shard, ShardSpec};
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
        Command::Sd(args) => crate::sd::run(&args).await?,
        Command::Diff(args) => crate::diff::run(&args, &mut io::stdout().lock())?,
        Command::Demo(args) => crate::demo::run(args).await?,
        Command::Farm(args) => crate::farm::run(args).await?,
        Command::Explain(args) => {
            crate::explain::run(&args, &mut io::stdout())?;
            Outcome::AllOk
        }
        Command::Completions(args) => {
            crate::completions::run(args.shell, &mut io::stdout().lock())?;
            Outcome::AllOk
        }
        Command::Man(args) => {
            match &args.dir {
                Some(dir) => crate::manpage::write_all(dir)?,
                None => crate::manpage::print(&mut io::stdout().lock())?,
            }
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
    let (credentials, openssh) = credentials(args)?;
    execute(Spec::of(
        args,
        credentials,
        openssh,
        Mode::Check,
        "prober check",
    ))
    .await
}

/// `prober check` of assets whose file's name means nothing to whoever reads the results
/// (the demo's lab): `source` names them instead.
pub async fn check_as(args: &CheckArgs, source: &str) -> anyhow::Result<Finished> {
    let (credentials, openssh) = credentials(args)?;
    let spec = Spec {
        source: Some(source),
        ..Spec::of(args, credentials, openssh, Mode::Check, "prober check")
    };
    execute(spec).await
}

/// `--system-user` names a credential (its user name and uid), or else a user name.
pub async fn prepush(args: &PrepushArgs) -> anyhow::Result<Finished> {
    let (credentials, openssh) = credentials(&args.check)?;
    let name = args.system_user.as_str();
    let target = match credentials.named(name) {
        Some(credential) => PushTarget::new(&credential.username, credential.expect.uid),
        None => PushTarget::new(name, None),
    }
    .map_err(|e| anyhow!("--system-user {name}: {e}"))?;
    let mode = Mode::Prepush(Arc::new(target));
    let spec = Spec::of(&args.check, credentials, openssh, mode, "prober prepush");
    execute(spec).await
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
        key_passphrase_file: args.key_passphrase_file.clone(),
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
        shard: args.shard.shard,
        probe: &args.probe,
        output: &args.output,
        credentials_file: args.credentials.as_deref(),
        credentials,
        // Through the gateway exactly one key is offered: no ssh_config, agent or default
        // identity may add others and lock the user out.
        openssh: None,
        mode: Mode::Koko(Arc::new(koko)),
        command: "prober gateway",
        source: None,
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
    /// `--shard`, not yet resolved against the environment.
    shard: Option<ShardSpec>,
    probe: &'a ProbeArgs,
    output: &'a OutputArgs,
    /// Read by the run: results must not be written over it.
    credentials_file: Option<&'a Path>,
    credentials: Credentials,
    openssh: Option<Arc<OpenSsh>>,
    mode: Mode,
    /// Names the run where a format has a title (JUnit's test suite).
    command: &'a str,
    /// Names what is probed where no file's name does; see [`Spec::source`].
    source: Option<&'a str>,
}

impl<'a> Spec<'a> {
    fn of(
        args: &'a CheckArgs,
        credentials: Credentials,
        openssh: Option<Arc<OpenSsh>>,
        mode: Mode,
        command: &'a str,
    ) -> Spec<'a> {
        Spec {
            inventory: args.inventory.as_deref(),
            jumpserver: Some(&args.jumpserver),
            read: args.read.options(),
            results: &args.results,
            shard: args.shard.shard,
            probe: &args.probe,
            output: &args.output,
            credentials_file: args.credentials.as_deref(),
            credentials,
            openssh,
            mode,
            command,
            source: None,
        }
    }

    /// What the results call their source (JUnit's class, which CI's test history follows):
    /// the name given, else the `--from` results file's stem, else the inventory's (`stdin`
    /// for `-`); `gateway` for the gateway alone.
    fn source(&self) -> String {
        if let Some(source) = self.source {
            return source.to_string();
        }
        if let Some(url) = self.jumpserver.and_then(|api| api.jumpserver.as_deref()) {
            // The server, not the URL: the class stays put whatever path or scheme is typed.
            return url::Url::parse(url)
                .ok()
                .and_then(|url| url.host_str().map(String::from))
                .unwrap_or_else(|| "jumpserver".into());
        }
        match self.results.from.as_deref().or(self.inventory) {
            Some(path) if path == Path::new("-") => "stdin".to_string(),
            Some(path) => path.file_stem().map_or("inventory".into(), |stem| {
                stem.to_string_lossy().into_owned()
            }),
            None => "gateway".to_string(),
        }
    }
}

async fn execute(spec: Spec<'_>) -> anyhow::Result<Finished> {
    for warning in &spec.credentials.warnings {
        eprintln!("warning: {warning}");
    }
    let settings = spec.probe.settings();
    let output = spec.output;
    let shard = spec.shard.map(resolve_shard).transpose()?;
    let inputs: Vec<(&str, &Path)> = [
        ("inventory", spec.inventory),
        ("results file read by --from", spec.results.from.as_deref()),
        ("credentials file", spec.credentials_file),
        ("known_hosts file", settings.known_hosts.as_deref()),
        (
            "JumpServer credentials file",
            spec.jumpserver
                .and_then(|api| api.jumpserver_auth.as_deref()),
        ),
        (
            "JumpServer CA file",
            spec.jumpserver.and_then(|api| api.jumpserver_ca.as_deref()),
        ),
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
        None => spec
            .inventory
            .map(|path| open_inventory(path, &spec.read))
            .transpose()?,
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
    let (concurrency, warning) = limits::fit_concurrency(spec.probe.pacing.concurrency as usize);
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }

    let source = spec.source();
    let title = report::Title {
        command: spec.command,
        source: &source,
    };
    // A resumed run writes to its results file, in its format.
    let (destination, mut sink, done) = match &spec.results.resume {
        Some(path) => {
            let (sink, done) = crate::rerun::resume(path, output, title)?;
            (Destination::appending(path), sink, Some(done))
        }
        None => {
            let (destination, out) = Destination::open(output.output.as_deref(), output.format)?;
            let sink = report::sink(output.format, out, output.lang(), output.excel(), title)
                .map_err(|e| destination.error(e))?;
            (destination, sink, None)
        }
    };
    let progress = Progress::new(output.quiet, output.lang());
    // A second reader counts the rows for the progress line; a pipe can be read once only.
    let regular = spec
        .inventory
        .filter(|p| progress.shown() && p.metadata().is_ok_and(|m| m.is_file()));
    if let Some(Ok(counting)) = regular.map(|path| InventoryReader::open(path, &spec.read)) {
        let openssh = spec.openssh.clone();
        progress.count(counting, move |entry| {
            shard.is_none_or(|shard| shard.holds(entry, openssh.as_deref()))
        });
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
        lang: output.lang(),
        concurrency,
        interrupt: Interrupt {
            requested: signals.stop(),
            grace: spec.probe.timeouts.grace,
        },
        gauges: gauges.clone(),
        resume: done.clone(),
        openssh: spec.openssh.clone(),
        shard,
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
                        human_duration(spec.probe.timeouts.grace),
                        gauges.in_flight(),
                    ));
                }
            }
            second = signals.second() => {
                summary.elapsed = started.elapsed();
                progress.finish();
                return Ok(abandon(summary, signals.first().unwrap_or(second), second, destination, output));
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
                for line in spec.openssh.iter().flat_map(|o| o.fresh_notes()) {
                    progress.suspend(|| eprintln!("note: {line}"));
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
            summary.shard = shard.map(|shard| (shard, ended.rows));
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
        report_end(&summary, &prober, spec.openssh.as_deref(), output.lang());
    }
    // A signal that came once every row was done stopped nothing: the verdicts decide.
    let signal = summary.interruption.as_ref().and(signals.first());
    Ok(Finished { signal, summary })
}

/// `--shard auto/N` takes its index from the environment Kubernetes' Indexed Jobs set.
fn resolve_shard(spec: ShardSpec) -> anyhow::Result<Shard> {
    let index = std::env::var_os(COMPLETION_INDEX);
    spec.resolve(index.as_deref().map(|i| i.to_string_lossy()).as_deref())
        .map_err(|e| anyhow!(e))
}

/// A second signal: the run ends now. Records written so far are whole lines; results
/// only valid once complete (json, junit) are dropped, the previous file left as it was.
fn abandon(
    summary: Summary,
    first: Signal,
    second: Signal,
    destination: Destination,
    output: &OutputArgs,
) -> Finished {
    let dropped = destination.abandon();
    if !output.quiet {
        let mut stderr = io::stderr().lock();
        let _ = summary.write(&mut stderr, output.lang());
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
fn report_end(summary: &Summary, prober: &Prober, openssh: Option<&OpenSsh>, lang: Lang) {
    let mut stderr = io::stderr().lock();
    let _ = summary.write(&mut stderr, lang);
    for line in prober.jump_report() {
        let _ = writeln!(stderr, "{line}");
    }
    for line in learned_report(prober, openssh, lang) {
        let _ = writeln!(stderr, "{line}");
    }
}

/// Keys learned into, and errors writing, each known_hosts file: the run's and those
/// ssh_config entries name. One file loaded twice is said once.
fn learned_report(prober: &Prober, openssh: Option<&OpenSsh>, lang: Lang) -> Vec<String> {
    let mut files: BTreeMap<PathBuf, (usize, Option<String>)> = BTreeMap::new();
    let from_config = openssh.map(OpenSsh::known_hosts_files).unwrap_or_default();
    let all = prober
        .known_hosts()
        .into_iter()
        .chain(from_config.iter().map(Arc::as_ref));
    for known_hosts in all {
        let (count, error) = known_hosts.learned();
        let file = files.entry(known_hosts.path().to_path_buf()).or_default();
        file.0 += count;
        if file.1.is_none() {
            file.1 = error;
        }
    }
    files
        .into_iter()
        .filter_map(|(path, learned)| {
            let file = path.display();
            match learned {
                (_, Some(error)) => Some(
                    Text::HostKeysNotRecorded.fill(lang, &[("file", &file), ("error", &error)]),
                ),
                (0, None) => None,
                (n, None) => Some(Text::HostKeysRecorded.fill(lang, &[("n", &n), ("file", &file)])),
            }
        })
        .collect()
}

/// The credentials file's, or simple mode's: the command line's credential, else what
/// ssh would try; with OpenSSH's options (`-l`, `-p`, `-J`, the ssh_config) when they
/// apply.
/// The inventory's rows, with a warning for the columns it has that nothing reads.
pub fn open_inventory(path: &Path, options: &ReadOptions) -> anyhow::Result<Entries> {
    let inventory = InventoryReader::open(path, options)?;
    if !inventory.unused_columns().is_empty() {
        eprintln!(
            "warning: inventory {}: columns not read: {}",
            inventory.path().display(),
            inventory.unused_columns().join(", ")
        );
    }
    Ok(Entries::from(inventory))
}

fn credentials(args: &CheckArgs) -> anyhow::Result<(Credentials, Option<Arc<OpenSsh>>)> {
    let simple_mode = args.credentials.is_none();
    let mut credentials = match &args.credentials {
        Some(path) => Credentials::load(path)?,
        None => Credentials::default(),
    };
    let given = simple_spec(&args.simple, simple_mode)?;
    let login = match (simple_mode, given) {
        (false, Some(spec)) => {
            let credential = spec.resolve("--user", Path::new("."), &mut credentials.warnings);
            credentials.set_fallback(Arc::new(credential));
            Login::File
        }
        (false, None) => Login::File,
        (true, Some(spec)) => {
            let credential = spec.resolve("--user", Path::new("."), &mut credentials.warnings);
            let credential = Arc::new(credential);
            credentials.set_fallback(credential.clone());
            Login::Given(credential)
        }
        (true, None) => Login::Defaults,
    };
    let openssh = &args.openssh;
    let given_config = openssh
        .ssh_config
        .as_ref()
        .filter(|path| path.as_os_str() != "none");
    if !simple_mode && let Some(path) = given_config {
        credentials.warnings.push(format!(
            "-F {}: with --credentials the ssh_config applies only to -J's jump host{}",
            path.display(),
            if openssh.jump.is_none() {
                " (none given: it is not read)"
            } else {
                ""
            }
        ));
    }
    if !simple_mode && openssh.port.is_none() && openssh.jump.is_none() {
        return Ok((credentials, None));
    }
    // With --credentials, the rows' own logins are the file's: the config is read for
    // -J's jump host alone.
    let wanted = simple_mode || openssh.jump.is_some();
    let config = match &openssh.ssh_config {
        _ if !wanted => None,
        Some(path) if path.as_os_str() == "none" => None,
        Some(path) => Some(path.clone()),
        None => OpenSsh::default_config_path(),
    }
    .map(|path| ConfigFile::load(&path, local_checks::home().as_deref()))
    .transpose()?;
    let probe = &args.probe;
    let command_line = CommandLine {
        user: args.simple.user.clone(),
        port: openssh.port,
        jump: openssh.jump.clone(),
        host_key_check_given: probe.host_keys.host_key_check.is_some(),
        known_hosts_given: probe.host_keys.known_hosts.is_some(),
        connect_timeout_given: probe.timeouts.connect_timeout.is_some(),
    };
    let defaults = matches!(login, Login::Defaults);
    let openssh = OpenSsh::new(config, command_line, login, Environment::current());
    if defaults {
        let user = args.simple.user.clone().unwrap_or_else(local_user);
        credentials.set_fallback(openssh.defaults_credential(&user));
    }
    Ok((credentials, Some(Arc::new(openssh))))
}

fn local_user() -> String {
    prober_engine::openssh::identities::local_user().unwrap_or_else(|| "root".into())
}

/// The credential the command line gives, if any. Without --credentials, --user alone
/// is a user name for what ssh would try; with it, --user names the fallback credential.
fn simple_spec(
    simple: &SimpleCredential,
    simple_mode: bool,
) -> anyhow::Result<Option<CredentialSpec>> {
    let has_secret = simple.password_env.is_some()
        || simple.password_file.is_some()
        || simple.key.is_some()
        || simple.agent;
    let user = match (&simple.user, has_secret, simple_mode) {
        (None, false, _) | (Some(_), false, true) => return Ok(None),
        (Some(user), false, false) => {
            return Err(anyhow!(
                "--user {} needs --password-env, --password-file, --key or --agent",
                text::shown(user)
            ));
        }
        (None, true, false) => {
            return Err(anyhow!(
                "--password-env, --password-file, --key and --agent need --user with --credentials"
            ));
        }
        (Some(user), true, _) => user.clone(),
        (None, true, true) => local_user(),
    };
    let spec = CredentialSpec {
        username: user.clone(),
        password_env: simple.password_env.clone(),
        password_file: simple.password_file.clone(),
        key: simple.key.clone(),
        key_passphrase_env: simple.key_passphrase_env.clone(),
        key_passphrase_file: simple.key_passphrase_file.clone(),
        agent: simple.agent,
        ..Default::default()
    };
    spec.validate()
        .map_err(|e| anyhow!("--user {}: {e}", text::shown(&user)))?;
    Ok(Some(spec))
}
