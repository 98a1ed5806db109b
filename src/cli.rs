//! Command-line interface. Secrets never come from arguments: only the names of the
//! environment variables or files holding them.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand};

use prober_engine::category::{Category, Lang};
use prober_engine::inventory::{Encoding, ReadOptions};
use prober_engine::known_hosts::HostKeyPolicy;
use prober_engine::probe::{Compat, Settings, Timeouts};
use prober_engine::report::Format;

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
    /// Print what a category means and how to fix it.
    Explain(ExplainArgs),
    /// Start in-process fake servers, one per failure mode, and probe them.
    Demo(DemoArgs),
    /// Serve many virtual assets on loopback, for load tests and benchmarks, and write
    /// their inventory, credentials and expected categories.
    Farm(FarmArgs),
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
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,

    #[command(flatten)]
    pub simple: SimpleCredential,

    #[command(flatten)]
    pub results: ResultsArgs,

    #[command(flatten)]
    pub probe: ProbeArgs,

    #[command(flatten)]
    pub output: OutputArgs,
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
    #[arg(long, value_name = "HOST[:PORT]")]
    pub gateway: String,
    /// The JumpServer user to log in as.
    #[arg(long, value_name = "USER")]
    pub jms_user: String,
    /// The JumpServer user's private key: the only key offered, never an agent's.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["password_env", "password_file"])]
    pub key: Option<PathBuf>,
    /// Environment variable holding the key's passphrase.
    #[arg(long, value_name = "VAR", requires = "key")]
    pub key_passphrase_env: Option<String>,
    /// Environment variable holding the JumpServer user's password (tried only without --key).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// File holding the JumpServer user's password.
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    pub password_file: Option<PathBuf>,
    /// Also check the web terminal's websocket port (coco's 5000).
    #[arg(long, value_name = "PORT")]
    pub ws_port: Option<u16>,
    /// Assets to reach through the gateway; each row's system_users name the accounts.
    pub inventory: Option<PathBuf>,
    #[command(flatten)]
    pub read: InventoryArgs,
    /// Credentials file defining the system users the inventory names.
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    #[command(flatten)]
    pub results: ResultsArgs,
    #[command(flatten)]
    pub probe: ProbeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How the inventory is read.
#[derive(Debug, Clone, Args)]
pub struct InventoryArgs {
    /// The inventory's encoding. auto: a BOM's (UTF-8, UTF-16), else UTF-8, else (when the
    /// first non-ASCII text is not UTF-8) GB18030, which includes GBK.
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
#[derive(Debug, Clone, Default, Args)]
pub struct SimpleCredential {
    /// Admin user name for rows without an admin_user.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Environment variable holding --user's password.
    #[arg(long, value_name = "VAR", requires = "user")]
    pub password_env: Option<String>,
    /// File holding --user's password.
    #[arg(
        long,
        value_name = "FILE",
        requires = "user",
        conflicts_with = "password_env"
    )]
    pub password_file: Option<PathBuf>,
    /// Private key for --user (OpenSSH or PEM).
    #[arg(long, value_name = "FILE", requires = "user")]
    pub key: Option<PathBuf>,
    /// Environment variable holding the key's passphrase.
    #[arg(long, value_name = "VAR", requires = "key")]
    pub key_passphrase_env: Option<String>,
    /// Use the keys of the ssh-agent at $SSH_AUTH_SOCK.
    #[arg(long, requires = "user")]
    pub agent: bool,
}

/// Runs built on an earlier run's results (JSONL or CSV written by prober).
#[derive(Debug, Clone, Default, Args)]
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
        value_parser = parse_category
    )]
    pub only: Vec<Category>,
    /// With --from: only the assets with a result that is not ok (every category but ok
    /// and skipped).
    #[arg(long, requires = "from", conflicts_with_all = ["only", "inventory"])]
    pub failed: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier results.
    pub old: PathBuf,
    /// The later results.
    pub new: PathBuf,
    /// table for a terminal, jsonl for scripts, md (Markdown) for a chat or a ticket.
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Table,
    Jsonl,
    Md,
}

#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// Assets probed at once.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: u32,
    /// Deadline for the whole probe of one asset.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "45s")]
    pub timeout: Duration,
    /// Wait for a DNS answer.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub dns_timeout: Duration,
    /// Wait for the TCP connection.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub connect_timeout: Duration,
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
    /// Resolve names with this DNS server instead of the system's.
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_nameserver)]
    pub nameserver: Option<SocketAddr>,
    /// Algorithm set: legacy adds SHA-1 kex, CBC ciphers, hmac-sha1 and ssh-rsa for old devices.
    #[arg(long, value_enum, default_value_t = Compat::Modern)]
    pub compat: Compat,
    #[arg(long, value_enum, default_value_t = HostKeyPolicy::AcceptNew)]
    pub host_key_check: HostKeyPolicy,
    /// Channels in flight on one jump host (gateway) connection.
    #[arg(long, value_name = "N", default_value_t = prober_engine::probe::DEFAULT_JUMP_CHANNELS)]
    pub jump_channels: usize,
    /// At most this many new connections per second over the whole run (e.g. 50, or 0.5),
    /// to stay under sshd's MaxStartups and brute-force blockers [default: no cap].
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Probes in flight to the same host and port (as the inventory writes them); 0 for
    /// no limit.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub per_host: usize,
    /// On SIGINT or SIGTERM, how long probes in flight may still take; those still running
    /// then are recorded as `interrupted`. A second signal ends the run at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub grace: Duration,
    /// known_hosts file to check host keys against [default: ~/.ssh/known_hosts].
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write results here instead of stdout (`-`: stdout). json and junit are written
    /// beside it first and renamed into place when complete.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Language of hints.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// No progress bar and no summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A category id, e.g. auth_failed.
    #[arg(required_unless_present = "list")]
    pub category: Option<String>,
    /// List every category.
    #[arg(long)]
    pub list: bool,
    /// How --list prints: aligned text, or the Markdown table the README shows.
    #[arg(long, value_enum, default_value_t = ListFormat::Text, requires = "list")]
    pub format: ListFormat,
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
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
    #[arg(long, value_name = "INVENTORY")]
    pub out: PathBuf,
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

/// `--mix`'s help names the farm's behaviours from their table.
fn mix_help() -> String {
    let ids: Vec<&str> = fixtures::farm::mix::ALL.iter().map(|b| b.id).collect();
    format!("Share of each behaviour: {}", ids.join(", "))
}

impl ProbeArgs {
    pub fn settings(&self) -> Settings {
        Settings {
            timeouts: Timeouts {
                dns: self.dns_timeout,
                connect: self.connect_timeout,
                banner: self.banner_timeout,
                kex: self.kex_timeout,
                auth: self.auth_timeout,
                exec: self.exec_timeout,
                total: self.timeout,
            },
            compat: self.compat,
            host_key_policy: self.host_key_check,
            known_hosts: self.known_hosts.clone().or_else(|| {
                std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".ssh/known_hosts"))
            }),
            nameserver: self.nameserver,
            jump_channels: self.jump_channels,
            rate: self.rate,
            per_host: self.per_host,
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

/// A category id; an unknown one is refused with the closest id, or the list of them.
pub fn parse_category(text: &str) -> Result<Category, String> {
    let text = text.trim();
    if let Ok(category) = text.parse() {
        return Ok(category);
    }
    let closest = Category::ALL
        .iter()
        .map(|c| (strsim::jaro_winkler(text, c.id()), c.id()))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.8);
    let shown = prober_engine::text::shown(text);
    Err(match closest {
        Some((_, id)) => format!("unknown category `{shown}`: did you mean `{id}`?"),
        None => {
            let ids: Vec<&str> = Category::ALL.iter().map(|c| c.id()).collect();
            format!("unknown category `{shown}`; categories: {}", ids.join(", "))
        }
    })
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
