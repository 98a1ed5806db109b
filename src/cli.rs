//! Command-line interface. Secrets never come from arguments: only the names of the
//! environment variables or files holding them.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{ArgGroup, Args, Parser, Subcommand};

use prober_engine::category::{Category, Lang};
use prober_engine::inventory::{Encoding, ReadOptions};
use prober_engine::known_hosts::HostKeyPolicy;
use prober_engine::probe::{Compat, Settings, Timeouts};
use prober_engine::report::Format;
use prober_engine::run::ShardSpec;

#[derive(Debug, Parser)]
#[command(
    name = "prober",
    version,
    about = "Tells, for every asset of a bastion's inventory, whether it can be reached and managed over SSH, and if not, exactly why."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe every asset of an inventory.
    // A later option overrides an earlier one, so wrappers can append their own.
    #[command(args_override_self = true)]
    Check(Box<CheckArgs>),
    /// Check, without changing anything, that pushing a system user to each asset would work.
    #[command(args_override_self = true)]
    Prepush(Box<PrepushArgs>),
    /// Check the bastion's SSH gateway (koko/coco on 2222) and, with an inventory, each
    /// asset and system user through it.
    #[command(args_override_self = true)]
    Gateway(Box<GatewayArgs>),
    /// Compare two runs' results (JSONL or CSV): newly failing, fixed, changed category,
    /// added, removed and not probed (interrupted) assets. Exits 1 when something newly fails.
    Diff(DiffArgs),
    /// Write the inventory as Prometheus service discovery targets (file_sd JSON), one
    /// group per asset with its labels, for a multi-target scrape of `prober serve`. Exits
    /// 1 when a row is invalid (it is reported and left out).
    Sd(SdArgs),
    /// Print what a category means and how to fix it.
    Explain(ExplainArgs),
    /// Start in-process fake servers, one per failure mode, and probe them.
    Demo(DemoArgs),
    /// Serve many virtual assets on loopback, for load tests and benchmarks, and write
    /// their inventory, credentials and expected categories.
    Farm(FarmArgs),
    /// Print the shell completion script for bash, zsh or fish.
    Completions(CompletionsArgs),
    /// Print the manual page prober(1) in roff, or write every page (prober.1,
    /// prober-check.1 and so on) into a directory.
    Man(ManArgs),
}

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["inventory", "from", "jumpserver"])))]
pub struct CheckArgs {
    /// CSV inventory (ours or a JumpServer export), or a list of host[:port] lines; `-`
    /// reads stdin.
    pub inventory: Option<PathBuf>,

    #[command(flatten)]
    pub read: InventoryArgs,

    #[command(flatten)]
    pub jumpserver: crate::jumpserver::JumpServerArgs,

    /// TOML file defining the credentials the inventory's admin_user column names.
    #[arg(long, value_name = "FILE", help_heading = INVENTORY)]
    pub credentials: Option<PathBuf>,

    #[command(flatten)]
    pub simple: SimpleCredential,

    #[command(flatten)]
    pub openssh: OpenSshArgs,

    #[command(flatten)]
    pub results: ResultsArgs,

    #[command(flatten)]
    pub shard: ShardArgs,

    #[command(flatten)]
    pub probe: ProbeArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["inventory", "jumpserver"])))]
pub struct SdArgs {
    /// CSV inventory (ours or a JumpServer export), or a list of host[:port] lines; `-`
    /// reads stdin.
    pub inventory: Option<PathBuf>,

    #[command(flatten)]
    pub read: InventoryArgs,

    #[command(flatten)]
    pub jumpserver: crate::jumpserver::JumpServerArgs,

    /// The SSH port of rows that give none.
    #[arg(long, short = 'p', value_name = "PORT", default_value_t = 22)]
    pub port: u16,

    /// Also list the assets `check` skips: inactive in the inventory, or without SSH.
    #[arg(long)]
    pub include_inactive: bool,

    /// The `prober serve` module to probe the targets with: a `__param_module` label,
    /// which Prometheus sends as the scrape's `module` parameter.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub module: Option<String>,

    /// Write the targets here instead of stdout (`-`: stdout), beside it first and renamed
    /// into place when complete, so Prometheus never reads half a file.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct PrepushArgs {
    /// The system user to push: a credential of --credentials (its username and uid are
    /// used), or a user name.
    #[arg(long, value_name = "NAME")]
    pub system_user: String,

    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("gateway_source").args(["inventory", "from"])))]
pub struct GatewayArgs {
    /// The gateway, HOST[:PORT]; the port defaults to 2222.
    #[arg(long, value_name = "HOST[:PORT]", help_heading = GATEWAY)]
    pub gateway: String,
    /// The JumpServer user to log in as.
    #[arg(long, value_name = "USER", help_heading = GATEWAY)]
    pub jms_user: String,
    /// The JumpServer user's private key: the only key offered (a gateway locks a user
    /// out after a few refused keys), never an agent's, a default identity (~/.ssh/id_*)
    /// or one from ~/.ssh/config, which `gateway` does not read.
    #[arg(long, value_name = "FILE", help_heading = GATEWAY, required_unless_present_any = ["password_env", "password_file"])]
    pub key: Option<PathBuf>,
    /// Environment variable holding the key's passphrase.
    #[arg(long, value_name = "VAR", help_heading = GATEWAY, requires = "key")]
    pub key_passphrase_env: Option<String>,
    /// File holding the key's passphrase.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = GATEWAY,
        requires = "key",
        conflicts_with = "key_passphrase_env"
    )]
    pub key_passphrase_file: Option<PathBuf>,
    /// Environment variable holding the JumpServer user's password (tried only without --key).
    #[arg(long, value_name = "VAR", help_heading = GATEWAY)]
    pub password_env: Option<String>,
    /// File holding the JumpServer user's password.
    #[arg(long, value_name = "FILE", help_heading = GATEWAY, conflicts_with = "password_env")]
    pub password_file: Option<PathBuf>,
    /// Also check the web terminal's websocket port (coco's 5000).
    #[arg(long, value_name = "PORT", help_heading = GATEWAY)]
    pub ws_port: Option<u16>,
    /// Assets to reach through the gateway; each row's system_users name the accounts.
    pub inventory: Option<PathBuf>,
    #[command(flatten)]
    pub read: InventoryArgs,
    /// Credentials file defining the system users the inventory names.
    #[arg(long, value_name = "FILE", help_heading = INVENTORY)]
    pub credentials: Option<PathBuf>,
    #[command(flatten)]
    pub results: ResultsArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
    #[command(flatten)]
    pub probe: ProbeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

const GATEWAY: &str = "Gateway";
const INVENTORY: &str = "Inventory and credentials";

/// How the inventory is read.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = INVENTORY)]
pub struct InventoryArgs {
    /// The inventory's encoding.
    #[arg(long, value_enum, default_value_t = Encoding::Auto)]
    pub encoding: Encoding,
    /// An inventory without rows (or a --from results file without records) is not an
    /// error: the run probes nothing and exits 0.
    #[arg(long)]
    pub allow_empty: bool,
}

impl InventoryArgs {
    pub fn options(&self) -> ReadOptions {
        ReadOptions {
            encoding: self.encoding,
            allow_empty: self.allow_empty,
        }
    }
}

/// The credential for rows that name none (or for every row without --credentials).
/// Without --credentials and without a password, key or --agent, what ssh would try: the
/// ssh-agent at $SSH_AUTH_SOCK, then ~/.ssh/id_* (or the ssh_config's IdentityFile).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = INVENTORY)]
pub struct SimpleCredential {
    /// Admin user name for rows without an admin_user [default without --credentials: the
    /// ssh_config's User, else the local user's name].
    #[arg(long, short = 'l', value_name = "NAME")]
    pub user: Option<String>,
    /// Environment variable holding --user's password.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// File holding --user's password.
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    pub password_file: Option<PathBuf>,
    /// Private key for --user: OpenSSH, PEM (PKCS#1 RSA, SEC1 EC; encrypted PEM only with
    /// AES-128-CBC), PKCS#8 (plain or encrypted) or PuTTY (.ppk).
    #[arg(long, short = 'i', value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Environment variable holding the key's passphrase.
    #[arg(long, value_name = "VAR", requires = "key")]
    pub key_passphrase_env: Option<String>,
    /// File holding the key's passphrase.
    #[arg(
        long,
        value_name = "FILE",
        requires = "key",
        conflicts_with = "key_passphrase_env"
    )]
    pub key_passphrase_file: Option<PathBuf>,
    /// Use the keys of the ssh-agent at $SSH_AUTH_SOCK.
    #[arg(long)]
    pub agent: bool,
}

/// OpenSSH's own options, meaning what they mean to ssh (`check` and `prepush`).
#[derive(Debug, Clone, Default, Args)]
pub struct OpenSshArgs {
    /// The SSH port for rows that give none (before the ssh_config's Port).
    #[arg(long, short = 'p', value_name = "PORT")]
    pub port: Option<u16>,
    /// Reach every asset whose row names no gateway through this jump host, as ssh's
    /// ProxyJump: [user@]host[:port], logged in to as ssh would (ssh-agent, ~/.ssh/id_*,
    /// its ssh_config entry), not with --user's credential.
    #[arg(long, short = 'J', value_name = "[USER@]HOST[:PORT]", value_parser = parse_jump)]
    pub jump: Option<prober_engine::openssh::JumpSpec>,
    /// The ssh_config to read [default: ~/.ssh/config]; `none` reads none. With
    /// --credentials it serves -J's jump host alone. HostName, User, Port, IdentityFile,
    /// IdentitiesOnly, IdentityAgent, ProxyJump, UserKnownHostsFile, StrictHostKeyChecking
    /// and ConnectTimeout are used; the command line wins.
    #[arg(long, short = 'F', value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
}

/// Runs built on an earlier run's results (JSONL or CSV written by prober).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Re-runs")]
pub struct ResultsArgs {
    /// Continue the run whose results are in RESULTS: assets whose results are all there
    /// are not probed again, and the new results are appended to RESULTS (in its format).
    #[arg(long, value_name = "RESULTS")]
    pub resume: Option<PathBuf>,
    /// Probe again the assets of a results file instead of an inventory: name, address,
    /// admin user, jump host and system users come from its records.
    #[arg(long, value_name = "RESULTS")]
    pub from: Option<PathBuf>,
    /// With --from: only the assets with a result in one of these categories.
    #[arg(
        long,
        value_name = "CATEGORY,...",
        value_delimiter = ',',
        requires = "from",
        conflicts_with = "inventory",
        value_parser = CategoryParser,
        hide_possible_values = true
    )]
    pub only: Vec<Category>,
    /// With --from: only the assets with a result that is not ok (every category but ok
    /// and skipped).
    #[arg(long, requires = "from", conflicts_with_all = ["only", "inventory"])]
    pub failed: bool,
}

/// One of several runs that share the inventory out (machines, Kubernetes pods).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Sharding")]
pub struct ShardArgs {
    /// Probe shard I of N (0 <= I < N) alone: the rows whose name, host and port hash
    /// there; the others get no record. N runs, one per shard, probe every row once.
    /// auto/N takes I from $JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<ShardSpec>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier results: JSONL or CSV written by prober.
    pub old: PathBuf,
    /// The later results.
    pub new: PathBuf,
    /// table for a terminal, jsonl for scripts, md (Markdown) for a chat or a ticket.
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// Language of headers and counts (table, md) [default: from LC_ALL, LC_MESSAGES or LANG].
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Aligned columns, one row per changed asset, then the counts.
    Table,
    /// One JSON object per changed asset.
    Jsonl,
    /// The counts, then a Markdown table per kind of change.
    Md,
}

/// How assets are probed. Grouped so that `--help` lists each group under its heading.
#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub timeouts: TimeoutArgs,
    #[command(flatten)]
    pub pacing: PacingArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub host_keys: HostKeyArgs,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Timeouts")]
pub struct TimeoutArgs {
    /// Deadline for the whole probe of one asset.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "45s")]
    pub timeout: Duration,
    /// Wait for a DNS answer.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub dns_timeout: Duration,
    /// Wait for the TCP connection [default: the ssh_config's ConnectTimeout, else 5s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,
    /// Wait for the server's SSH identification line (above 5 s: tcp-wrappers take that long
    /// to refuse).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub banner_timeout: Duration,
    /// Wait for the key exchange and host key.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub kex_timeout: Duration,
    /// Wait for authentication.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "15s")]
    pub auth_timeout: Duration,
    /// Wait for the inspection command on the asset.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "20s")]
    pub exec_timeout: Duration,
    /// On SIGINT or SIGTERM, how long probes in flight may still take; those still running
    /// then are recorded as `interrupted`. A second signal ends the run at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub grace: Duration,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Pacing")]
pub struct PacingArgs {
    /// Assets probed at once.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: u32,
    /// At most this many new connections per second over the whole run (e.g. 50, or 0.5),
    /// to stay under sshd's MaxStartups and brute-force blockers [default: no cap].
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Probes in flight to the same host and port (as the inventory writes them); 0 for
    /// no limit.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub per_host: usize,
    /// Channels in flight on one jump host (gateway) connection.
    #[arg(long, value_name = "N", default_value_t = prober_engine::probe::DEFAULT_JUMP_CHANNELS)]
    pub jump_channels: usize,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// Resolve names with this DNS server instead of the system's.
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_nameserver)]
    pub nameserver: Option<SocketAddr>,
    /// Algorithm set to offer.
    #[arg(long, value_enum, default_value_t = Compat::Modern)]
    pub compat: Compat,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Host keys")]
pub struct HostKeyArgs {
    /// What to do with a host key the known_hosts file does not vouch for [default: the
    /// ssh_config's StrictHostKeyChecking, else accept-new].
    #[arg(long, value_name = "POLICY", value_enum)]
    pub host_key_check: Option<HostKeyPolicy>,
    /// known_hosts file to check host keys against [default: ~/.ssh/known_hosts].
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// How results are written.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write results here instead of stdout (`-`: stdout). json and junit are written
    /// beside it first and renamed into place when complete.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Language of the text for people: headers, hints, summary, progress. Field names and
    /// category ids stay English [default: zh if LC_ALL, else LC_MESSAGES, else LANG starts
    /// with zh; else en].
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// CSV for Excel: start it with a UTF-8 byte order mark, without which Excel reads it in
    /// the system's code page (GBK on a Chinese Windows) [default: when the language is zh].
    #[arg(long, overrides_with = "no_excel")]
    pub excel: bool,
    /// No byte order mark, even in Chinese.
    #[arg(long, overrides_with = "excel")]
    pub no_excel: bool,
    /// No progress bar and no summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

impl OutputArgs {
    pub fn lang(&self) -> Lang {
        self.lang.unwrap_or_else(Lang::from_env)
    }

    /// Whether a new CSV starts with a byte order mark.
    pub fn excel(&self) -> bool {
        match (self.excel, self.no_excel) {
            (true, _) => true,
            (_, true) => false,
            _ => self.lang() == Lang::Zh,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A category id, e.g. auth_failed (any case; `-` for `_`).
    #[arg(
        required_unless_present = "list",
        value_parser = CategoryParser,
        hide_possible_values = true
    )]
    pub category: Option<Category>,
    /// List every category.
    #[arg(long)]
    pub list: bool,
    /// How --list prints.
    #[arg(long, value_enum, default_value_t = ListFormat::Text, requires = "list")]
    pub format: ListFormat,
    /// Language of meanings and fixes [default: from LC_ALL, LC_MESSAGES or LANG, as for check].
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// One aligned line per category: id, stage, meaning.
    Text,
    /// The Markdown table the README shows.
    Md,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct FarmArgs {
    /// Virtual assets to serve, one loopback address each from 127.128.0.1.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=fixtures::farm::MAX_ASSETS as i64))]
    pub assets: u32,
    /// The inventory to write; the credentials (.credentials.toml), the admin's key (.key)
    /// and every asset's expected category (.expected.csv) are written beside it.
    // `--out` was its name before every command said -o/--output: old scripts still work.
    #[arg(long, short, value_name = "INVENTORY", alias = "out")]
    pub output: PathBuf,
    #[arg(
        long,
        value_name = "BEHAVIOUR=WEIGHT,...",
        default_value = "ok=90,auth_failed=3,reset=2,silent=2,not_ssh=1,python_missing=2",
        help = mix_help()
    )]
    pub mix: fixtures::farm::Mix,
    /// Which address gets which behaviour.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The port every asset listens on (0: any free port; the inventory says which).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells completions are written for (clap_complete's own list has no help texts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// Bash, with the bash-completion package.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write prober.1 and one page per subcommand (prober-check.1, ...) into this directory,
    /// instead of printing prober.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `--mix`'s help names the farm's behaviours from their table.
fn mix_help() -> String {
    let ids: Vec<&str> = fixtures::farm::mix::ALL.iter().map(|b| b.id).collect();
    format!("Share of each behaviour: {}", ids.join(", "))
}

impl ProbeArgs {
    pub fn settings(&self) -> Settings {
        let t = &self.timeouts;
        Settings {
            timeouts: Timeouts {
                dns: t.dns_timeout,
                connect: t.connect_timeout.unwrap_or(Timeouts::default().connect),
                banner: t.banner_timeout,
                kex: t.kex_timeout,
                auth: t.auth_timeout,
                exec: t.exec_timeout,
                total: t.timeout,
            },
            compat: self.connection.compat,
            host_key_policy: self.host_keys.host_key_check.unwrap_or_default(),
            known_hosts: self.host_keys.known_hosts.clone().or_else(|| {
                std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".ssh/known_hosts"))
            }),
            nameserver: self.connection.nameserver,
            jump_channels: self.pacing.jump_channels,
            rate: self.pacing.rate,
            per_host: self.pacing.per_host,
        }
    }
}

/// `500ms`, `5s`, `2m`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 500ms, 5s, 2m)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (use ms, s or m)")),
    };
    if seconds <= 0.0 || !seconds.is_finite() {
        return Err(format!("{text:?}: must be positive"));
    }
    // A week is more than any probe stage needs; beyond it the clock arithmetic overflows.
    if seconds > 7.0 * 86400.0 {
        return Err(format!("{text:?}: at most a week"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A category id, leniently: any case, `-` for `_` (`AUTH-FAILED`). An unknown one is
/// refused with the closest id, or the list of them. The one lookup `--only` and `explain`
/// share.
pub fn parse_category(text: &str) -> Result<Category, String> {
    let normal = text.trim().to_lowercase().replace('-', "_");
    if let Ok(category) = normal.parse() {
        return Ok(category);
    }
    let closest = Category::ALL
        .iter()
        .map(|c| (strsim::jaro_winkler(&normal, c.id()), c.id()))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.8);
    let shown = prober_engine::text::shown(text.trim());
    Err(match closest {
        Some((_, id)) => format!("unknown category `{shown}`: did you mean `{id}`?"),
        None => {
            let ids: Vec<&str> = Category::ALL.iter().map(|c| c.id()).collect();
            format!("unknown category `{shown}`; categories: {}", ids.join(", "))
        }
    })
}

/// [`parse_category`] for clap, which also hands the ids and their meanings to shell
/// completions (`--help` does not list all of them).
#[derive(Debug, Clone, Copy)]
pub struct CategoryParser;

impl TypedValueParser for CategoryParser {
    type Value = Category;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Category, clap::Error> {
        parse_category.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(Category::ALL.iter().map(|c| {
            clap::builder::PossibleValue::new(c.id()).help(c.meaning(Lang::En))
        })))
    }
}

pub fn parse_jump(text: &str) -> Result<prober_engine::openssh::JumpSpec, String> {
    text.parse()
}

pub fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 1_000_000.0 => Ok(rate),
        _ => Err(format!(
            "{text:?}: give new connections per second, above 0 (e.g. 50 or 0.5)"
        )),
    }
}

pub fn parse_nameserver(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let ip = text.trim_start_matches('[').trim_end_matches(']');
    ip.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("{text:?} is not IP or IP:PORT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_nameservers() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("0s").is_err() && parse_duration("5h").is_err());
        assert_eq!(parse_nameserver("127.0.0.1:5353").unwrap().port(), 5353);
        assert_eq!(parse_nameserver("::1").unwrap().port(), 53);
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn categories_are_checked_with_a_suggestion() {
        assert_eq!(parse_category("auth_failed"), Ok(Category::AuthFailed));
        let typo = parse_category("auth_faild").unwrap_err();
        assert!(typo.contains("did you mean `auth_failed`?"), "{typo}");
        let unknown = parse_category("zzz").unwrap_err();
        assert!(unknown.contains("tcp_refused"), "{unknown}");
    }

    #[test]
    fn categories_are_looked_up_in_any_case_and_with_dashes() {
        for text in ["AUTH_FAILED", "auth-failed", " Auth-Failed "] {
            assert_eq!(parse_category(text), Ok(Category::AuthFailed), "{text}");
        }
        let near = parse_category("SUDO-REQUIRE-TTY").unwrap_err();
        assert!(near.contains("did you mean `sudo_requiretty`?"), "{near}");
        assert!(
            near.contains("`SUDO-REQUIRE-TTY`"),
            "says what was given: {near}"
        );
        // --only and explain share the lookup.
        let cli = Cli::try_parse_from(["prober", "explain", "Python-Missing"]).unwrap();
        let Command::Explain(explain) = cli.command else {
            panic!("not explain")
        };
        assert_eq!(explain.category, Some(Category::PythonMissing));
        let only = Cli::try_parse_from(["prober", "check", "--from", "r", "--only", "AUTH-FAILED"]);
        assert!(only.is_ok(), "{only:?}");
    }

    /// Every argument and every value of every subcommand says what it is for: `--help`,
    /// the man pages and the completions show these texts.
    #[test]
    fn every_argument_and_value_is_described() {
        use clap::CommandFactory;
        fn undescribed(cmd: &clap::Command, path: &str, found: &mut Vec<String>) {
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    found.push(format!("{path} {}", arg.get_id()));
                }
                for value in arg.get_possible_values() {
                    if !value.is_hide_set() && value.get_help().is_none() {
                        found.push(format!("{path} {}={}", arg.get_id(), value.get_name()));
                    }
                }
            }
            for sub in cmd.get_subcommands() {
                undescribed(sub, &format!("{path} {}", sub.get_name()), found);
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut found = Vec::new();
        undescribed(&cmd, "prober", &mut found);
        assert!(found.is_empty(), "without help: {found:#?}");
    }

    #[test]
    fn options_are_grouped_under_headings() {
        use clap::CommandFactory;
        let cmd = Cli::command();
        let heading = |sub: &str, id: &str| {
            let sub = cmd.find_subcommand(sub).unwrap();
            let arg = sub.get_arguments().find(|a| a.get_id() == id);
            arg.unwrap_or_else(|| panic!("no {id}")).get_help_heading()
        };
        for sub in ["check", "prepush", "gateway"] {
            for (id, wanted) in [
                ("credentials", "Inventory and credentials"),
                ("encoding", "Inventory and credentials"),
                ("timeout", "Timeouts"),
                ("grace", "Timeouts"),
                ("rate", "Pacing"),
                ("concurrency", "Pacing"),
                ("compat", "Connection"),
                ("host_key_check", "Host keys"),
                ("known_hosts", "Host keys"),
                ("resume", "Re-runs"),
                ("only", "Re-runs"),
                ("shard", "Sharding"),
                ("format", "Output"),
                ("quiet", "Output"),
            ] {
                assert_eq!(heading(sub, id), Some(wanted), "{sub} --{id}");
            }
            assert_eq!(heading(sub, "inventory"), None, "{sub}: a positional");
        }
        assert_eq!(heading("check", "user"), Some("Inventory and credentials"));
        assert_eq!(heading("gateway", "gateway"), Some("Gateway"));
        assert_eq!(heading("gateway", "password_env"), Some("Gateway"));
        assert_eq!(heading("prepush", "system_user"), None);
    }

    #[test]
    fn farm_writes_to_output_and_still_takes_out() {
        use clap::CommandFactory;
        for flag in ["--output", "-o", "--out"] {
            let cli = Cli::try_parse_from(["prober", "farm", flag, "f.csv"]).unwrap();
            let Command::Farm(farm) = cli.command else {
                panic!("not farm")
            };
            assert_eq!(farm.output, PathBuf::from("f.csv"), "{flag}");
        }
        let help = Cli::command()
            .find_subcommand_mut("farm")
            .unwrap()
            .render_help()
            .to_string();
        assert!(help.contains("-o, --output <INVENTORY>"), "{help}");
        assert!(
            !help.contains("--out "),
            "the old name is not advertised: {help}"
        );
    }

    #[test]
    fn an_inventory_or_a_results_file_but_not_both() {
        let parse = |args: &[&str]| Cli::try_parse_from(["prober", "check"].iter().chain(args));
        assert!(parse(&["inv.csv"]).is_ok());
        assert!(parse(&["--from", "r.jsonl", "--only", "auth_failed,tcp_refused"]).is_ok());
        assert!(parse(&[]).is_err());
        assert!(parse(&["inv.csv", "--from", "r.jsonl"]).is_err());
        assert!(parse(&["inv.csv", "--only", "auth_failed"]).is_err());
        assert!(parse(&["--from", "r", "--failed", "--only", "ok"]).is_err());
        assert!(parse(&["inv.csv", "--failed"]).is_err());
        let gateway = |args: &[&str]| {
            let start = ["prober", "gateway", "--gateway", "gw", "--jms-user", "u"];
            Cli::try_parse_from(
                start
                    .iter()
                    .chain(["--password-env", "P"].iter())
                    .chain(args),
            )
        };
        assert!(gateway(&[]).is_ok());
        assert!(gateway(&["--from", "r", "--failed"]).is_ok());
        assert!(gateway(&["--failed"]).is_err());
        assert!(gateway(&["--only", "ok"]).is_err());
        assert!(gateway(&["inv.csv", "--from", "r"]).is_err());
    }

    #[test]
    fn cli_defaults_are_the_librarys() {
        let cli = Cli::try_parse_from(["prober", "check", "inv.csv"]).unwrap();
        let Command::Check(check) = cli.command else {
            panic!("not check")
        };
        assert_eq!(check.probe.settings().timeouts, Timeouts::default());
    }
}
