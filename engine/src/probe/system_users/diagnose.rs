//! Root-cause diagnosis of system users, through the admin session: ONE script, run as
//! root, gathers for every user in question its passwd and shadow state (never a hash),
//! the sshd policy that applies to it, the authorized keys files sshd reads for it (and the
//! directories above them), and its sudo rule. The verdict is decided here, from that output.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use russh::keys::PublicKeyBase64;

use super::keys_files::{self, KeyContext, KeysFile, PathStat};
use super::sshd_policy::Filters;
use crate::category::Category;
use crate::credentials::Credential;
use crate::probe::exec;
use crate::probe::outcome::Failure;
use crate::quote;
use crate::text::printable;

pub const MARKER: &str = "prober-diagnose 1";

const FUNCTION: &str = r#"d() {
  i=$1 u=$2 want_key=$3 want_sudo=$4
  p=$(getent passwd "$u") || { echo "$i.exists=0"; echo "$i.done=1"; return 0; }
  echo "$i.exists=1"
  echo "$i.passwd=$p"
  home=$(printf '%s\n' "$p" | cut -d: -f6)
  shell=$(printf '%s\n' "$p" | cut -d: -f7)
  if grep -qxF -- "$shell" /etc/shells 2>/dev/null; then echo "$i.shell_listed=1"; else echo "$i.shell_listed=0"; fi
  echo "$i.groups=$(id -Gn "$u" 2>/dev/null)"
  getent shadow "$u" | awk -F: -v i="$i" '{
    s = ($2 == "") ? "empty" : (substr($2, 1, 1) == "!") ? "locked" : (substr($2, 1, 1) == "*") ? "nopassword" : "set"
    print i ".shadow=" s ":" $3 ":" $4 ":" $5 ":" $6 ":" $7 ":" $8 }'
  uid=$(printf '%s\n' "$p" | cut -d: -f3)
  # Run as root with /usr/sbin on PATH (the preamble): sshd -T reads the host keys.
  policy=$(sshd -T -C "user=$u,host=$chost,addr=$caddr" 2>&1) || {
    printf '%s\n' "$policy" | head -n 1 | sed "s/^/$i.sshd_error=/"
    policy=
  }
  printf '%s\n' "$policy" | grep -Ei '^(allowusers|denyusers|allowgroups|denygroups|usepam|strictmodes|authorizedkeysfile|authorizedkeyscommand) ' | sed "s/^/$i.sshd=/"
  files=$(printf '%s\n' "$policy" | sed -n 's/^authorizedkeysfile //p')
  # Without sshd -T's answer, OpenSSH's compiled-in default.
  [ -n "$files" ] || files='.ssh/authorized_keys .ssh/authorized_keys2'
  set -f
  for t in $files; do
    [ "$t" = none ] && continue
    # sshd's tokens in one pass (so %%u stays %u), the values never read as awk code.
    f=$(t=$t h=$home n=$u U=$uid awk 'BEGIN {
      s = ENVIRON["t"]; out = ""
      while ((k = index(s, "%")) > 0) {
        c = substr(s, k + 1, 1)
        if (c == "%") r = "%"; else if (c == "h") r = ENVIRON["h"]; else if (c == "u") r = ENVIRON["n"]
        else if (c == "U") r = ENVIRON["U"]; else r = "%" c
        out = out substr(s, 1, k - 1) r; s = substr(s, k + 2)
      }
      print out s }')
    case $f in /*) ;; *) f="$home/$f" ;; esac
    if [ -z "$want_key" ]; then state=unchecked
    elif [ ! -e "$f" ]; then state=missing
    elif [ ! -f "$f" ]; then state=notfile
    elif grep -qF -- "$want_key" "$f"; then state=present
    else state=absent
    fi
    echo "$i.keys_file=$state|$f"
    # The file, then each directory above it up to the home or /, as StrictModes walks
    # them: from where links lead (sshd's realpath), a link's own mode being always 777.
    c=$(readlink -f -- "$f" 2>/dev/null) && [ -n "$c" ] || c=$f
    while [ -e "$c" ]; do
      echo "$i.stat=$(stat -c '%U|%G|%a|%F' -- "$c")|$c"
      case $c in "$home" | / | .) break ;; esac
      c=$(dirname -- "$c")
    done
  done
  set +f
  if [ -n "$want_sudo" ]; then
    sudo -n -l -U "$u" 2>&1 | head -n 40 | sed "s/^/$i.sudo_l=/"
  fi
  echo "$i.done=1"
}
"#;

/// The script for these users' credentials. Every value from the inventory or credentials is
/// validated beforehand and single-quoted here.
pub fn script(users: &[&Credential], client_addr: Option<IpAddr>) -> String {
    let addr = client_addr
        .map(|a| a.to_string())
        .unwrap_or_else(|| "0.0.0.0".into());
    let mut script = String::from(exec::ROOT_PREAMBLE);
    let _ = writeln!(script, "echo '{MARKER}'");
    let _ = writeln!(script, "echo \"today=$(( $(date +%s) / 86400 ))\"");
    let _ = writeln!(
        script,
        "caddr={} chost={}",
        quote::sh(&addr),
        quote::sh(&addr)
    );
    if users.iter().any(|c| c.expect.sudo.is_some()) {
        script.push_str("out=$(visudo -c 2>&1); echo \"visudo_rc=$?\"; printf '%s\\n' \"$out\" | head -n 20 | sed 's/^/visudo=/'\n");
    }
    script.push_str(FUNCTION);
    for (i, credential) in users.iter().enumerate() {
        let expect = &credential.expect;
        let key = match &expect.public_key {
            Some(Ok(key)) => key.public_key_base64(),
            _ => String::new(),
        };
        let _ = writeln!(
            script,
            "d {i} {} {} {}",
            quote::sh(&credential.username),
            quote::sh(&key),
            quote::sh(expect.sudo.as_deref().unwrap_or(""))
        );
    }
    script.push_str("echo end\n");
    script
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shadow {
    pub status: String,
    pub last_change: Option<i64>,
    pub max_days: Option<i64>,
    pub expire: Option<i64>,
}

/// What the script found about one user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFindings {
    pub exists: Option<bool>,
    pub uid: Option<u32>,
    pub home: Option<String>,
    pub shell: Option<String>,
    pub shell_listed: Option<bool>,
    pub groups: Vec<String>,
    pub shadow: Option<Shadow>,
    pub sshd: Vec<String>,
    /// Why `sshd -T` gave nothing, when it failed.
    pub sshd_error: Option<String>,
    /// The files of the effective AuthorizedKeysFile, in sshd's order.
    pub keys_files: Vec<KeysFile>,
    pub sudo_rules: Vec<String>,
    /// The user's block ended: output cut short (the output cap, a dropped channel) is
    /// never judged.
    pub done: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnosis {
    pub today: Option<i64>,
    pub visudo_rc: Option<i32>,
    pub visudo: Vec<String>,
    pub users: BTreeMap<usize, UserFindings>,
    pub complete: bool,
}

pub fn parse(stdout: &str) -> Option<Diagnosis> {
    let marked = exec::marked(stdout, MARKER)?;
    let mut d = Diagnosis {
        complete: marked.complete,
        ..Diagnosis::default()
    };
    for (key, value) in &marked.pairs {
        match key.as_str() {
            "today" => d.today = value.trim().parse().ok(),
            "visudo_rc" => d.visudo_rc = value.trim().parse().ok(),
            "visudo" => d.visudo.push(value.clone()),
            _ => {
                let Some((index, field)) = key.split_once('.') else {
                    continue;
                };
                if let Ok(index) = index.parse::<usize>() {
                    user_line(d.users.entry(index).or_default(), field, value);
                }
            }
        }
    }
    Some(d)
}

fn user_line(f: &mut UserFindings, field: &str, value: &str) {
    match field {
        "exists" => f.exists = Some(value == "1"),
        "passwd" => {
            let parts: Vec<&str> = value.split(':').collect();
            if parts.len() >= 7 {
                f.uid = parts[2].parse().ok();
                f.home = Some(parts[5].to_string());
                f.shell = Some(parts[6].to_string());
            }
        }
        "shell_listed" => f.shell_listed = Some(value == "1"),
        "groups" => f.groups = value.split_whitespace().map(String::from).collect(),
        "shadow" => {
            let parts: Vec<&str> = value.split(':').collect();
            let number = |i: usize| parts.get(i).and_then(|v| v.parse::<i64>().ok());
            f.shadow = Some(Shadow {
                status: parts.first().unwrap_or(&"").to_string(),
                last_change: number(1),
                max_days: number(3),
                expire: number(6),
            });
        }
        "sshd" => f.sshd.push(value.to_string()),
        "sshd_error" => f.sshd_error = Some(value.to_string()),
        "keys_file" => f.keys_files.extend(KeysFile::parse(value)),
        // A file's chain follows its keys_file line.
        "stat" => {
            if let (Some(file), Some(stat)) = (f.keys_files.last_mut(), PathStat::parse(value)) {
                file.chain.push(stat);
            }
        }
        "sudo_l" => f.sudo_rules.push(value.to_string()),
        "done" => f.done = true,
        _ => {}
    }
}

/// How the system user's own login went, as the diagnosis needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// Logged in and ran a command, as this uid.
    Works { uid: Option<u32>, how: String },
    /// Logged in, but the account's shell ran nothing.
    ShellRefused(String),
    /// The server refused the credential.
    Refused(String),
    /// Only the public key is known: no login was tried.
    NotTried,
}

pub struct Context<'a> {
    pub credential: &'a Credential,
    /// The address the asset saw the prober connect from, for sshd's Match rules.
    pub client_addr: Option<IpAddr>,
}

/// What keeps a user from working: its category and why.
type Cause = (Category, String);

/// The verdict for one user: the first cause found, in the order a login meets them.
pub fn judge(
    ctx: &Context<'_>,
    login: &Login,
    f: &UserFindings,
    d: &Diagnosis,
) -> Result<String, Failure> {
    let user = ctx.credential.username.as_str();
    let sudo = ctx.credential.expect.sudo.as_deref();
    let logged_in = matches!(login, Login::Works { .. });
    let mut cause = account_cause(ctx, f);
    if cause.is_none() && !logged_in {
        cause = login_cause(ctx, login, f, d);
    }
    let cause = cause
        .or_else(|| sudo_problem(user, sudo, f, d).map(|p| (Category::SystemUserSudoMissing, p)));
    if let Some((category, message)) = cause {
        return Err(Failure::at_home(category, message));
    }
    match login {
        Login::Works { uid, how } => Ok(format!(
            "{user} logged in with {how}{}{}",
            uid_note(*uid),
            sudo_note(sudo)
        )),
        Login::NotTried => Ok(format!(
            "{user}: only its public key is known, so no login was tried; account, shell, sshd policy, key and permissions are right{}{}",
            keys_files::holding(&f.keys_files)
                .map_or(String::new(), |path| format!(" (the key is in {path})")),
            sudo_note(sudo)
        )),
        Login::ShellRefused(text) => Err(Failure::at_home(
            Category::SystemUserShellInvalid,
            format!("{user}: the shell ran nothing: {text}"),
        )),
        Login::Refused(why) => Err(Failure::at_home(
            Category::AuthFailed,
            format!(
                "{user}: {why}; no cause found on the asset (account, shell, sshd policy, key and permissions look right)"
            ),
        )),
    }
}

/// The account itself: missing, not reported on, or pushed with another uid.
fn account_cause(ctx: &Context<'_>, f: &UserFindings) -> Option<Cause> {
    let user = ctx.credential.username.as_str();
    match (f.exists, ctx.credential.expect.uid, f.uid) {
        (Some(false), _, _) => Some((
            Category::SystemUserMissing,
            format!("{user} does not exist on the asset (getent passwd finds nothing)"),
        )),
        (None, _, _) => Some((
            Category::AuthFailed,
            format!("{user}: the diagnosis reported nothing for this user"),
        )),
        (Some(true), Some(want), Some(have)) if want != have => Some((
            Category::SystemUserUidMismatch,
            format!("{user} has uid {have} on the asset; the system user's uid is {want}"),
        )),
        _ => None,
    }
}

/// Why a login that did not work failed, in the order sshd meets the causes: the shell,
/// sshd's filters, expiry, the lock, then the key (the files sshd reads for it, and their
/// permissions) or the password.
fn login_cause(ctx: &Context<'_>, login: &Login, f: &UserFindings, d: &Diagnosis) -> Option<Cause> {
    let user = ctx.credential.username.as_str();
    let by_password = ctx.credential.password_only();
    if let Some(problem) = shell_problem(f) {
        return Some((
            Category::SystemUserShellInvalid,
            format!("{user}: {problem}"),
        ));
    }
    let filters = Filters::from_sshd_t(f.sshd.iter().map(String::as_str));
    let addr = ctx.client_addr.map(|a| a.to_string()).unwrap_or_default();
    if let Some(refusal) = filters.refusal(user, &f.groups, &addr, ctx.client_addr) {
        return Some((
            Category::SystemUserDeniedBySshd,
            format!("sshd refuses {user} from {addr}: {refusal}"),
        ));
    }
    if let Some(problem) = expiry_problem(f, d, by_password) {
        return Some((Category::SystemUserExpired, format!("{user}: {problem}")));
    }
    let use_pam = sshd_setting(f, "usepam").is_none_or(|v| v == "yes");
    let locked = f.shadow.as_ref().is_some_and(|s| s.status == "locked");
    if locked && (by_password || !use_pam) {
        return Some((
            Category::SystemUserLocked,
            format!("{user} is locked (its shadow password starts with '!')"),
        ));
    }
    if by_password {
        return matches!(login, Login::Refused(_)).then(|| {
            (
                Category::SystemUserPasswordWrong,
                format!(
                    "{user} exists and is usable (not locked or expired, allowed by sshd) but its password is not accepted"
                ),
            )
        });
    }
    let keys = KeyContext {
        key_known: matches!(ctx.credential.expect.public_key, Some(Ok(_))),
        strict_modes: sshd_setting(f, "strictmodes").is_none_or(|v| v == "yes"),
        keys_command: sshd_setting(f, "authorizedkeyscommand").filter(|c| *c != "none"),
        error: f.sshd_error.as_deref(),
    };
    keys_files::key_cause(user, &f.groups, &f.keys_files, &keys)
}

pub(super) fn uid_note(uid: Option<u32>) -> String {
    uid.map(|u| format!(" (uid {u})")).unwrap_or_default()
}

fn sudo_note(sudo: Option<&str>) -> &'static str {
    if sudo.is_some() {
        "; its sudo rule is in place"
    } else {
        ""
    }
}

fn sshd_setting<'a>(f: &'a UserFindings, key: &str) -> Option<&'a str> {
    f.sshd.iter().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        k.eq_ignore_ascii_case(key).then(|| v.trim())
    })
}

fn shell_problem(f: &UserFindings) -> Option<String> {
    let shell = f.shell.as_deref()?;
    let name = shell.rsplit('/').next().unwrap_or(shell);
    if matches!(name, "nologin" | "false") || shell.is_empty() {
        return Some(format!("its shell is {shell:?}, which refuses logins"));
    }
    if f.shell_listed == Some(false) {
        return Some(format!("its shell {shell} is not listed in /etc/shells"));
    }
    None
}

fn expiry_problem(f: &UserFindings, d: &Diagnosis, by_password: bool) -> Option<String> {
    let shadow = f.shadow.as_ref()?;
    let today = d.today?;
    if let Some(expire) = shadow.expire
        && expire <= today
    {
        return Some(format!(
            "the account expired on {} (chage -E)",
            date(expire)
        ));
    }
    if by_password {
        if shadow.last_change == Some(0) {
            return Some("its password must be changed before any login (chage -d 0)".into());
        }
        if let (Some(last), Some(max)) = (shadow.last_change, shadow.max_days)
            && max < 99999
            && last + max < today
        {
            return Some(format!(
                "its password expired on {} (chage -M)",
                date(last + max)
            ));
        }
    }
    None
}

/// A day count since 1970-01-01, as shadow keeps dates, in ISO form.
fn date(days: i64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The pushed rule is `USER ALL=(ALL) NOPASSWD: <commands>`; every command must be
/// granted without a password, and the sudoers files must validate.
fn sudo_problem(user: &str, want: Option<&str>, f: &UserFindings, d: &Diagnosis) -> Option<String> {
    let want = want?;
    if d.visudo_rc.is_some_and(|rc| rc != 0) {
        let said = d
            .visudo
            .iter()
            .find(|l| !l.contains("parsed OK"))
            .map(|l| printable(l.as_bytes()));
        return Some(format!(
            "visudo -c rejects the sudoers files: {}",
            said.unwrap_or_default()
        ));
    }
    let rules: Vec<String> = f
        .sudo_rules
        .iter()
        .filter(|l| l.contains("NOPASSWD"))
        .map(|l| squash(l))
        .collect();
    let missing: Vec<&str> = want
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .filter(|c| !rules.iter().any(|r| r.contains(&squash(c))))
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(format!(
        "no NOPASSWD sudo rule for {user} grants {} (sudo -l -U {user})",
        missing.join(", ")
    ))
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
