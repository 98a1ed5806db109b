//! Stage 7: one exec on the admin connection that checks everything Ansible-based
//! management needs (uid, non-interactive sudo, python, a writable temp dir) and gathers
//! the hardware facts. The script only reports; the verdict is decided here, where it
//! can be tested.

use super::exec::{self, Output};
use super::outcome::{Facts, Failure, Observations};
use super::session::Session;
use crate::category::Category;
use crate::text::{excerpt_list, printable};

pub const MARKER: &str = "prober-inspect 1";

/// POSIX sh. It reads nothing from the inventory, so nothing needs quoting. Thousands of
/// probes may hit hosts that share hardware, so it starts few processes: `id`, `sudo`
/// (only for a non-root admin) and `uname`; the rest is shell builtins reading files.
pub const SCRIPT: &str = r#"LC_ALL=C; export LC_ALL
echo 'prober-inspect 1'
i=$(id 2>/dev/null)
echo "id=$i"
lines() { n=0; while [ $n -lt 8 ] && IFS= read -r l; do echo "$1=$l"; n=$((n+1)); done; }
case "$i" in
'uid=0('*|'uid=0 '*) ;;
*)
  if command -v sudo >/dev/null 2>&1; then
    out=$(sudo -n id -u 2>&1 </dev/null); rc=$?
    echo "sudo_rc=$rc"
    lines sudo_out <<EOF
$out
EOF
    if [ "$rc" != 0 ]; then
      out=$(sudo -n -v 2>&1 </dev/null)
      lines sudo_v <<EOF
$out
EOF
    fi
  else
    echo 'sudo_rc=absent'
  fi ;;
esac
py=
set -f; saved=$IFS; IFS=:
for p in python3 python; do
  for d in $PATH; do
    [ -n "$d" ] && [ -f "$d/$p" ] && [ -x "$d/$p" ] && { py="$d/$p"; break; }
  done
  [ -n "$py" ] && break
done
IFS=$saved; set +f
[ -n "$py" ] || { [ -x /usr/libexec/platform-python ] && py=/usr/libexec/platform-python; }
[ -n "$py" ] && echo "python=$py"
for d in "$TMPDIR" /tmp /var/tmp "$HOME"; do
  [ -n "$d" ] && [ -d "$d" ] && [ -w "$d" ] && { echo "tmp=$d"; break; }
done
echo "uname=$(uname -nrm 2>/dev/null)"
if { read -r c </sys/devices/system/cpu/online; } 2>/dev/null; then echo "cpus_online=$c"
else echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null)"; fi
{ read -r m </proc/meminfo; } 2>/dev/null && echo "meminfo=$m"
if [ -r /etc/os-release ]; then
  while IFS= read -r l; do
    case "$l" in ID=*|VERSION_ID=*|PRETTY_NAME=*) echo "os_$l" ;; esac
  done </etc/os-release
fi
echo end
"#;

/// What the script reported, before judging.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub uid: Option<u32>,
    pub user: Option<String>,
    pub groups: Vec<String>,
    pub sudo_rc: Option<String>,
    pub sudo_out: Vec<String>,
    /// What `sudo -n -v` said, asked only when sudo failed.
    pub sudo_v: Vec<String>,
    pub python: Option<String>,
    pub tmp: Option<String>,
    pub facts: Facts,
    pub complete: bool,
}

pub async fn inspect(session: &Session, obs: &mut Observations) -> Result<String, Failure> {
    judge(&gather(session).await?, obs)
}

/// Runs the script and reads what it reported, without judging it.
pub async fn gather(session: &Session) -> Result<Report, Failure> {
    parse(&exec::run_script(session, "sh -s", SCRIPT).await?)
}

/// Parses the script's output; output without our marker means the account has no
/// usable shell (nologin prints "This account is currently not available.").
pub fn parse(output: &Output) -> Result<Report, Failure> {
    let Some(marked) = output.marked(MARKER) else {
        let status = output.status.map_or("none".to_string(), |s| s.to_string());
        return Err(Failure::at_home(
            Category::ShellUnavailable,
            format!(
                "the account's shell did not run the command (exit status {status}): {}",
                output.first_words()
            ),
        ));
    };
    let mut report = Report {
        complete: marked.complete,
        ..Report::default()
    };
    for (key, value) in &marked.pairs {
        let value = value.as_str();
        let text = || Some(value.trim().to_string()).filter(|v| !v.is_empty());
        match key.as_str() {
            "id" => read_id(value, &mut report),
            "uname" => {
                let mut parts = value.split_whitespace().map(String::from);
                report.facts.hostname = parts.next();
                report.facts.kernel = parts.next();
                report.facts.arch = parts.next();
            }
            "cpus_online" => report.facts.cpus = cpu_count(value),
            "sudo_rc" => report.sudo_rc = text(),
            "sudo_out" => report.sudo_out.push(value.to_string()),
            "sudo_v" => report.sudo_v.push(value.to_string()),
            "python" => report.python = text(),
            "tmp" => report.tmp = text(),
            "cpus" => report.facts.cpus = value.trim().parse().ok(),
            "meminfo" => report.facts.memory_mb = meminfo_mb(value),
            "os_PRETTY_NAME" => report.facts.os = unquote(value),
            "os_ID" if report.facts.os.is_none() => report.facts.os = unquote(value),
            "os_VERSION_ID" => report.facts.os_version = unquote(value),
            _ => {}
        }
    }
    Ok(report)
}

/// `uid=1000(admin) gid=1000(admin) groups=1000(admin),27(sudo)`, as `id` prints it;
/// ids without a name stay numbers.
fn read_id(value: &str, report: &mut Report) {
    let name = |id: &str| match id.split_once('(') {
        Some((_, rest)) => rest.trim_end_matches(')').to_string(),
        None => id.to_string(),
    };
    for field in value.split_whitespace() {
        match field.split_once('=') {
            Some(("uid", id)) => {
                report.uid = id.split('(').next().and_then(|n| n.parse().ok());
                report.user = id.contains('(').then(|| name(id));
            }
            Some(("groups", ids)) => report.groups = ids.split(',').map(name).collect(),
            _ => {}
        }
    }
}

/// `0-3,8-11`, as /sys/devices/system/cpu/online lists the CPUs.
fn cpu_count(value: &str) -> Option<u32> {
    value.trim().split(',').try_fold(0u32, |count, range| {
        let (first, last) = range.split_once('-').unwrap_or((range, range));
        let (first, last): (u32, u32) = (first.parse().ok()?, last.parse().ok()?);
        Some(count + last.checked_sub(first)? + 1)
    })
}

fn unquote(value: &str) -> Option<String> {
    Some(value.trim().trim_matches(['"', '\'']).to_string()).filter(|v| !v.is_empty())
}

fn meminfo_mb(value: &str) -> Option<u64> {
    // "MemTotal:       16314296 kB"
    let kb: u64 = value.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// How sudo answered, from its exit code and messages (LC_ALL=C, so English).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sudo {
    Root,
    NoPassword,
    PasswordRequired,
    RequireTty,
    Denied,
    Absent,
    NotRoot,
}

impl Sudo {
    /// How to run a script as root with this answer, if at all.
    pub fn root_command(self) -> Option<&'static str> {
        match self {
            Sudo::Root => Some("sh -s"),
            Sudo::NoPassword => Some("sudo -n sh -s"),
            _ => None,
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Sudo::Root => "root",
            Sudo::NoPassword => "nopasswd",
            Sudo::PasswordRequired => "password_required",
            Sudo::RequireTty => "requiretty",
            Sudo::Denied => "denied",
            Sudo::Absent => "absent",
            Sudo::NotRoot => "not_root",
        }
    }
}

pub fn sudo_of(report: &Report) -> Sudo {
    if report.uid == Some(0) {
        return Sudo::Root;
    }
    let meaningful = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty() && !l.contains("unable to resolve host"))
            .collect()
    };
    let lines = meaningful(&report.sudo_out);
    let validate = meaningful(&report.sudo_v);
    let said = |needle: &str| lines.iter().any(|l| l.contains(needle));
    match report.sudo_rc.as_deref() {
        Some("absent") => Sudo::Absent,
        Some("0") if lines.last().is_some_and(|l| l == "0") => Sudo::NoPassword,
        Some("0") => Sudo::NotRoot,
        _ if said("must have a tty") => Sudo::RequireTty,
        _ if said("not in the sudoers file")
            || said("may not run sudo")
            || said("is not allowed to execute") =>
        {
            Sudo::Denied
        }
        // `sudo -n cmd` says "a password is required" to users with no rule at all too;
        // `sudo -n -v` tells them apart ("Sorry, user U may not run sudo on HOST.").
        _ if said("password is required")
            || said("no tty present")
            || said("terminal is required") =>
        {
            if validate.iter().any(|l| l.contains("may not run sudo")) {
                Sudo::Denied
            } else {
                Sudo::PasswordRequired
            }
        }
        _ => Sudo::Denied,
    }
}

pub fn judge(report: &Report, obs: &mut Observations) -> Result<String, Failure> {
    obs.uid = report.uid;
    obs.python = report.python.clone();
    obs.facts = Some(report.facts.clone());
    // Without its last line the output may lack python or tmp for no reason of the asset's.
    if !report.complete {
        return Err(Failure::new(
            Category::SshProtocolError,
            crate::category::Stage::Inspect,
            "the inspection's output stopped before its end (the connection dropped, or the output was cut)",
        ));
    }
    let Some(uid) = report.uid else {
        return Err(Failure::at_home(
            Category::ShellUnavailable,
            "the inspection ran but reported no uid (output cut short?)",
        ));
    };
    let sudo = sudo_of(report);
    obs.sudo = Some(sudo);
    let user = report.user.clone().unwrap_or_else(|| format!("uid {uid}"));
    if let Some((category, message)) = not_root_equivalent(report, sudo, &user, uid) {
        return Err(Failure::at_home(category, message));
    }
    let Some(python) = &report.python else {
        return Err(Failure::at_home(
            Category::PythonMissing,
            "no python3, python or /usr/libexec/platform-python on the asset",
        ));
    };
    let Some(tmp) = &report.tmp else {
        return Err(Failure::at_home(
            Category::TmpNotWritable,
            format!("{user} cannot create a directory in $TMPDIR, /tmp, /var/tmp or its home"),
        ));
    };
    let how = if sudo == Sudo::Root {
        "as root".to_string()
    } else {
        format!("as {user} with sudo NOPASSWD")
    };
    Ok(format!(
        "root-equivalent {how}; python {python}; temp dir {tmp}"
    ))
}

/// Why sudo does not make the admin root, with sudo's own words; `None` when it does.
fn not_root_equivalent(
    report: &Report,
    sudo: Sudo,
    user: &str,
    uid: u32,
) -> Option<(Category, String)> {
    let said = report
        .sudo_out
        .iter()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!(": {}", printable(l.as_bytes())))
        .unwrap_or_default();
    Some(match sudo {
        Sudo::Root | Sudo::NoPassword => return None,
        Sudo::PasswordRequired => (
            Category::SudoPasswordRequired,
            format!("{user} (uid {uid}) needs a password for sudo{said}"),
        ),
        Sudo::RequireTty => (
            Category::SudoRequiretty,
            format!("sudo refuses to run without a terminal for {user}{said}"),
        ),
        Sudo::Absent => (
            Category::AdminNotPrivileged,
            format!("{user} (uid {uid}) is not root and sudo is not installed"),
        ),
        Sudo::NotRoot => (
            Category::AdminNotPrivileged,
            format!("sudo for {user} does not run commands as root{said}"),
        ),
        Sudo::Denied => {
            // An account can be in hundreds of groups; sudo's words must still fit after.
            let groups = if report.groups.is_empty() {
                "none".to_string()
            } else {
                excerpt_list(&report.groups, 16, 32)
            };
            (
                Category::AdminNotPrivileged,
                format!("{user} (uid {uid}, groups {groups}) is not root and may not sudo{said}"),
            )
        }
    })
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
