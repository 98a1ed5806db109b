//! `prober prepush`: whether pushing a system user to the asset would work, checked
//! without changing anything there. The admin must be root-equivalent; then one script,
//! run as root, looks at the tools, sudoers, home and uid the push needs.

use std::fmt::Write as _;

use super::deadline::Deadline;
use super::exec;
use super::inspect::{self, Sudo};
use super::outcome::{Failure, Observations, Probed, Probing};
use super::session::Session;
use super::{Prober, Target, goodbye};
use crate::category::{Category, Stage};
use crate::quote;

pub const MARKER: &str = "prober-prepush 1";

/// The system user a push would create.
#[derive(Debug, Clone)]
pub struct PushTarget {
    pub username: String,
    pub uid: Option<u32>,
    /// The checks, the same for every asset.
    script: String,
}

impl PushTarget {
    /// Refuses what no push could ever do, before any connection.
    pub fn new(username: &str, uid: Option<u32>) -> Result<PushTarget, String> {
        quote::check_user_name(username)?;
        if username == "root" {
            return Err("root is never pushed as a system user".into());
        }
        let mut script = String::from(exec::ROOT_PREAMBLE);
        let _ = writeln!(script, "echo '{MARKER}'");
        let _ = writeln!(
            script,
            "u={} want_uid={}",
            quote::sh(username),
            quote::sh(&uid.map(|u| u.to_string()).unwrap_or_default())
        );
        script.push_str(CHECKS);
        Ok(PushTarget {
            username: username.to_string(),
            uid,
            script,
        })
    }
}

const CHECKS: &str = r#"for t in useradd usermod chpasswd visudo; do echo "tool.$t=$(command -v "$t" 2>/dev/null)"; done
if [ -d /etc/sudoers.d ]; then echo sudoers_dir=1; else echo sudoers_dir=0; fi
if grep -Eq '^[[:space:]]*[@#]includedir[[:space:]]+/etc/sudoers\.d/?[[:space:]]*$' /etc/sudoers 2>/dev/null; then echo sudoers_include=1; else echo sudoers_include=0; fi
base=$(useradd -D 2>/dev/null | sed -n 's/^HOME=//p'); [ -n "$base" ] || base=/home
echo "home_base=$base"
t="$base/.prober-push-$$"
if mkdir "$t" 2>/dev/null; then rmdir "$t"; echo home_base_writable=1; else echo home_base_writable=0; fi
entry=$(getent passwd "$u"); echo "entry=$entry"
home=$(printf '%s\n' "$entry" | cut -d: -f6); [ -n "$home" ] || home="$base/$u"
echo "home=$home"
if [ -L "$home" ]; then echo home_kind=symlink
elif [ -d "$home" ]; then
  echo home_kind=directory
  t="$home/.prober-push-$$"
  if mkdir "$t" 2>/dev/null; then rmdir "$t"; echo home_writable=1; else echo home_writable=0; fi
elif [ -e "$home" ]; then echo "home_kind=$(stat -c %F -- "$home")"
else echo home_kind=absent
fi
[ -z "$want_uid" ] || echo "uid_owner=$(getent passwd "$want_uid" | cut -d: -f1)"
echo "selinux=$(getenforce 2>/dev/null || echo absent)"
echo end
"#;

/// What the checks script reported.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PushFindings {
    pub missing_tools: Vec<String>,
    pub sudoers_dir: bool,
    pub sudoers_included: bool,
    pub home_base: String,
    pub home_base_writable: bool,
    pub home: String,
    pub home_kind: String,
    pub home_writable: Option<bool>,
    pub uid_owner: Option<String>,
    pub selinux: String,
    pub complete: bool,
}

pub fn parse(stdout: &str) -> Option<PushFindings> {
    let marked = exec::marked(stdout, MARKER)?;
    let mut f = PushFindings {
        complete: marked.complete,
        ..PushFindings::default()
    };
    for (key, value) in &marked.pairs {
        let value = value.trim();
        match key.as_str() {
            tool if tool.starts_with("tool.") && value.is_empty() => {
                f.missing_tools.push(tool["tool.".len()..].to_string())
            }
            "sudoers_dir" => f.sudoers_dir = value == "1",
            "sudoers_include" => f.sudoers_included = value == "1",
            "home_base" => f.home_base = value.to_string(),
            "home_base_writable" => f.home_base_writable = value == "1",
            "home" => f.home = value.to_string(),
            "home_kind" => f.home_kind = value.to_string(),
            "home_writable" => f.home_writable = Some(value == "1"),
            "uid_owner" if !value.is_empty() => f.uid_owner = Some(value.to_string()),
            "selinux" => f.selinux = value.to_string(),
            _ => {}
        }
    }
    Some(f)
}

/// Every blocker, in the order a push would meet them.
pub fn blockers(target: &PushTarget, f: &PushFindings) -> Vec<Failure> {
    let blocker =
        |category: Category, message: String| Failure::new(category, Stage::Push, message);
    let mut found = Vec::new();
    if !f.missing_tools.is_empty() {
        found.push(blocker(
            Category::PushToolMissing,
            format!("not found: {}", f.missing_tools.join(", ")),
        ));
    }
    if !f.sudoers_dir {
        found.push(blocker(
            Category::PushSudoersNotIncluded,
            "/etc/sudoers.d does not exist".into(),
        ));
    } else if !f.sudoers_included {
        found.push(blocker(
            Category::PushSudoersNotIncluded,
            "/etc/sudoers has no includedir for /etc/sudoers.d: a rule pushed there is ignored"
                .into(),
        ));
    }
    if !f.home_base_writable {
        found.push(blocker(
            Category::PushHomeUnwritable,
            format!("the home base {} is not writable", f.home_base),
        ));
    }
    match f.home_kind.as_str() {
        "absent" => {}
        "directory" if f.home_writable == Some(false) => found.push(blocker(
            Category::PushHomeUnwritable,
            format!(
                "{} exists but cannot be written (read-only or immutable)",
                f.home
            ),
        )),
        "directory" => {}
        kind => found.push(blocker(
            Category::PushHomeUnwritable,
            format!("{} exists and is a {kind}, not a directory", f.home),
        )),
    }
    if let (Some(uid), Some(owner)) = (target.uid, &f.uid_owner)
        && owner != &target.username
    {
        found.push(blocker(
            Category::PushUidTaken,
            format!("uid {uid} belongs to {owner}"),
        ));
    }
    found
}

impl Prober {
    /// Whether pushing `push` to the asset would work; changes nothing there.
    pub(super) async fn prepush(&self, target: &Target, push: &PushTarget) -> Probed {
        let deadline = Deadline::after(self.timeouts.total);
        let mut probing = Probing::start();
        let verdict = match self.login_admin(target, &mut probing.obs, &deadline).await {
            Err(failure) => Err(failure),
            Ok((session, _)) => {
                let checked = deadline
                    .stage(
                        Stage::Push,
                        self.timeouts.exec,
                        ready_to_push(&session, push, &mut probing.obs),
                    )
                    .await;
                goodbye(session).await;
                checked
            }
        };
        probing.done(verdict)
    }
}

/// The prepush verdict of an asset whose admin is logged in.
async fn ready_to_push(
    session: &Session,
    target: &PushTarget,
    obs: &mut Observations,
) -> Result<String, Failure> {
    let report = inspect::gather(session).await?;
    let mut found = Vec::new();
    match inspect::judge(&report, obs) {
        Ok(_) => {}
        Err(failure)
            if matches!(
                failure.category,
                Category::PythonMissing | Category::TmpNotWritable
            ) =>
        {
            found.push(failure);
        }
        Err(failure) => return Err(failure),
    }
    // judge() let only a root-equivalent admin through to here.
    let command = obs
        .sudo
        .and_then(Sudo::root_command)
        .unwrap_or("sudo -n sh -s");
    let output = exec::run_script(session, command, &target.script).await?;
    let findings = parse(&String::from_utf8_lossy(&output.stdout))
        .filter(|f| f.complete)
        .ok_or_else(|| {
            Failure::new(
                Category::ShellUnavailable,
                Stage::Push,
                format!(
                    "the push checks did not run: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            )
        })?;
    found.extend(blockers(target, &findings));
    let selinux = if findings.selinux.is_empty() {
        "absent"
    } else {
        findings.selinux.as_str()
    };
    let user = &target.username;
    match found.split_first() {
        None => Ok(format!(
            "ready to push {user}: admin is root-equivalent, useradd/usermod/chpasswd/visudo present, /etc/sudoers.d included, home base {} writable{}; SELinux: {selinux}",
            findings.home_base,
            target
                .uid
                .map(|u| format!(", uid {u} free"))
                .unwrap_or_default(),
        )),
        Some((first, _)) => {
            let all: Vec<String> = found
                .iter()
                .map(|b| format!("{} ({})", b.category, b.message))
                .collect();
            Err(Failure::new(
                first.category,
                Stage::Push,
                format!(
                    "pushing {user} would fail: {}; SELinux: {selinux}",
                    all.join("; ")
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(extra: &str) -> PushFindings {
        let base = "tool.useradd=/usr/sbin/useradd\ntool.usermod=/usr/sbin/usermod\ntool.chpasswd=/usr/sbin/chpasswd\n\
                    tool.visudo=/usr/sbin/visudo\nsudoers_dir=1\nsudoers_include=1\nhome_base=/home\nhome_base_writable=1\n\
                    entry=\nhome=/home/deploy\nhome_kind=absent\nselinux=absent\n";
        parse(&format!("{MARKER}\n{base}{extra}end\n")).unwrap()
    }

    fn ids(target: &PushTarget, f: &PushFindings) -> Vec<&'static str> {
        blockers(target, f)
            .iter()
            .map(|b| b.category.id())
            .collect()
    }

    #[test]
    fn ready_and_each_blocker() {
        let target = PushTarget::new("deploy", Some(1500)).unwrap();
        assert!(ids(&target, &findings("")).is_empty());
        assert_eq!(
            ids(&target, &findings("tool.visudo=\n")),
            ["push_tool_missing"]
        );
        assert_eq!(
            ids(&target, &findings("sudoers_include=0\n")),
            ["push_sudoers_not_included"]
        );
        assert_eq!(
            ids(&target, &findings("home_kind=regular empty file\n")),
            ["push_home_unwritable"]
        );
        assert_eq!(
            ids(&target, &findings("home_kind=directory\nhome_writable=0\n")),
            ["push_home_unwritable"]
        );
        assert!(ids(&target, &findings("home_kind=directory\nhome_writable=1\n")).is_empty());
        assert_eq!(
            ids(&target, &findings("uid_owner=web\n")),
            ["push_uid_taken"]
        );
        assert!(
            ids(&target, &findings("uid_owner=deploy\n")).is_empty(),
            "already this user"
        );
        assert_eq!(
            ids(
                &target,
                &findings("tool.useradd=\nsudoers_dir=0\nhome_base_writable=0\n")
            ),
            [
                "push_tool_missing",
                "push_sudoers_not_included",
                "push_home_unwritable"
            ]
        );
    }

    #[test]
    fn names_no_push_could_use() {
        assert!(
            PushTarget::new("root", None)
                .unwrap_err()
                .contains("never pushed")
        );
        assert!(PushTarget::new("a;reboot", None).is_err());
    }

    #[test]
    fn the_script_runs_under_sh() {
        let target = PushTarget::new("prober-no-such-user", Some(0)).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&target.script)
            .output()
            .unwrap();
        let f = parse(&String::from_utf8_lossy(&out.stdout)).unwrap();
        assert!(f.complete, "{}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(f.home_kind, "absent");
        assert_eq!(f.uid_owner.as_deref(), Some("root"));
    }
}
