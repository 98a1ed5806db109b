//! System users: after the admin stage, a login as each system user with its own
//! credential; where that fails (or cannot prove what the bastion pushed), one diagnosis
//! through the admin session says why.

mod diagnose;
mod keys_files;
mod sshd_policy;

pub use diagnose::{Diagnosis, Login, UserFindings};

use super::deadline::Deadline;
use super::exec;
use super::inspect::Sudo;
use super::outcome::{Failure, Observations, Probed, Probing, SystemUserProbed};
use super::session::Session;
use super::{Prober, Target};
use crate::category::{Category, Stage};
use crate::credentials::Credential;

/// What the system user's own connection gave.
struct OwnLogin {
    /// How the login went, or a failure that is not the credential's (network, timeout,
    /// credential file), which no diagnosis explains.
    login: Result<Login, Failure>,
    probing: Probing,
}

pub(super) async fn check(
    prober: &Prober,
    target: &Target,
    admin: &Probed,
    admin_session: Option<&Session>,
    deadline: &Deadline,
) -> Vec<SystemUserProbed> {
    let users = &target.system_users;
    if users.is_empty() {
        return Vec::new();
    }
    if let Err(failure) = &admin.verdict
        && failure.stage < Stage::Auth
    {
        return users.iter().map(|c| not_tested(c, failure)).collect();
    }
    let mut logins = Vec::with_capacity(users.len());
    for credential in users {
        logins.push(own_login(prober, target, admin, credential, deadline).await);
    }

    // The users whose login needs explaining, in the diagnosis script's order.
    let wanted: Vec<usize> = logins
        .iter()
        .enumerate()
        .filter(|(i, a)| matches!(&a.login, Ok(login) if needs_diagnosis(login, &users[*i])))
        .map(|(i, _)| i)
        .collect();
    let diagnosis = match (wanted.is_empty(), admin_session) {
        (true, _) => None,
        (false, None) => Some(Err(format!(
            "no admin session to diagnose with ({})",
            verdict_id(admin)
        ))),
        (false, Some(session)) => {
            let asked: Vec<&Credential> = wanted.iter().map(|&i| users[i].as_ref()).collect();
            let script = diagnose::script(&asked, admin.observations.local_ip);
            Some(run_diagnosis(prober, session, &admin.observations, &script, deadline).await)
        }
    };

    logins
        .into_iter()
        .enumerate()
        .map(|(i, own)| {
            let credential = &users[i];
            let slot = wanted.iter().position(|&w| w == i);
            let verdict = match (&own.login, slot, &diagnosis) {
                (Err(failure), _, _) => Err(failure.clone()),
                (Ok(login), Some(slot), Some(Ok(diagnosis))) => {
                    let ctx = diagnose::Context {
                        credential,
                        client_addr: admin.observations.local_ip,
                    };
                    match diagnosis.users.get(&slot) {
                        Some(findings) if findings.done => {
                            diagnose::judge(&ctx, login, findings, diagnosis)
                        }
                        _ => undiagnosed(credential, login, "the diagnosis was cut short"),
                    }
                }
                (Ok(login), Some(_), Some(Err(why))) => undiagnosed(credential, login, why),
                (Ok(login), _, _) => judge_without_diagnosis(credential, login),
            };
            SystemUserProbed {
                credential: credential.name.clone(),
                probed: own.probing.done(verdict.map_err(at_system_user_stage)),
            }
        })
        .collect()
}

/// A login alone proves a system user right unless something it cannot see is expected.
fn needs_diagnosis(login: &Login, credential: &Credential) -> bool {
    match login {
        Login::Works { uid, .. } => {
            credential.expect.sudo.is_some() || (credential.expect.uid.is_some() && uid.is_none())
        }
        _ => true,
    }
}

fn judge_without_diagnosis(credential: &Credential, login: &Login) -> Result<String, Failure> {
    let user = &credential.username;
    match login {
        Login::Works {
            uid: Some(have), ..
        } if credential.expect.uid.is_some_and(|want| want != *have) => Err(Failure::at_home(
            Category::SystemUserUidMismatch,
            format!(
                "{user} logged in as uid {have}; the system user's uid is {}",
                credential.expect.uid.unwrap_or_default()
            ),
        )),
        Login::Works { uid, how } => Ok(format!(
            "{user} logged in with {how}{}",
            diagnose::uid_note(*uid)
        )),
        other => undiagnosed(credential, other, "no diagnosis ran"),
    }
}

/// A failed login the asset could not be asked about: say what is known and why no more.
fn undiagnosed(credential: &Credential, login: &Login, why: &str) -> Result<String, Failure> {
    let user = &credential.username;
    let (category, what) = match login {
        Login::Refused(text) => (Category::AuthFailed, text.clone()),
        Login::ShellRefused(text) => (
            Category::SystemUserShellInvalid,
            format!("the shell ran nothing: {text}"),
        ),
        Login::NotTried => (
            Category::AuthFailed,
            "only its public key is known and it could not be checked".to_string(),
        ),
        Login::Works { how, .. } => {
            return Ok(format!(
                "{user} logged in with {how}; the sudo rule could not be checked ({why})"
            ));
        }
    };
    Err(Failure::at_home(
        category,
        format!("{user}: {what}; not diagnosed: {why}"),
    ))
}

fn not_tested(credential: &Credential, admin_failure: &Failure) -> SystemUserProbed {
    SystemUserProbed {
        credential: credential.name.clone(),
        probed: Probing::start().done(Err(Failure::new(
            Category::Skipped,
            Stage::SystemUser,
            format!(
                "not tested: the asset itself failed at the {} stage ({})",
                admin_failure.stage, admin_failure.category
            ),
        ))),
    }
}

fn at_system_user_stage(mut failure: Failure) -> Failure {
    if failure.category.stage() == Some(Stage::SystemUser) || failure.stage >= Stage::Auth {
        failure.stage = Stage::SystemUser;
    }
    failure
}

fn verdict_id(admin: &Probed) -> String {
    match &admin.verdict {
        Ok(_) => "ok".into(),
        Err(f) => f.category.id().into(),
    }
}

/// The system user's own login, then a command to prove its shell runs.
async fn own_login(
    prober: &Prober,
    target: &Target,
    admin: &Probed,
    credential: &Credential,
    deadline: &Deadline,
) -> OwnLogin {
    let mut probing = Probing::start();
    // Also a system user known only by its public key: an unreadable one is no check.
    let login = if let Some(failure) = super::auth::unusable(credential) {
        Err(failure)
    } else if credential.can_log_in() {
        let route = target.route(admin.observations.ip);
        log_in(
            prober,
            target,
            route,
            credential,
            &mut probing.obs,
            deadline,
        )
        .await
    } else {
        Ok(Login::NotTried)
    };
    OwnLogin { login, probing }
}

async fn log_in(
    prober: &Prober,
    target: &Target,
    route: super::Route<'_>,
    credential: &Credential,
    observations: &mut Observations,
    deadline: &Deadline,
) -> Result<Login, Failure> {
    let (session, how) = match prober
        .login(
            &target.host,
            target.asset.port,
            route,
            (credential, &target.settings),
            observations,
            deadline,
        )
        .await
    {
        Ok(logged_in) => logged_in,
        Err(failure)
            if failure.category == Category::AuthFailed
                || (failure.category == Category::SshProtocolError
                    && failure.stage == Stage::Auth) =>
        {
            return Ok(Login::Refused(failure.message));
        }
        Err(failure) => return Err(failure),
    };
    let ran = deadline
        .stage(
            Stage::SystemUser,
            prober.timeouts.exec,
            exec::run_script(&session, "sh -s", LOGIN_SCRIPT),
        )
        .await;
    super::goodbye(session).await;
    Ok(login_result(&ran?, how))
}

const LOGIN_MARKER: &str = "prober-login 1";
const LOGIN_SCRIPT: &str = "echo 'prober-login 1'; echo \"uid=$(id -u)\"; echo end\n";

fn login_result(output: &exec::Output, how: String) -> Login {
    match output.marked(LOGIN_MARKER) {
        None => Login::ShellRefused(output.first_words()),
        Some(marked) => Login::Works {
            uid: marked
                .pairs
                .iter()
                .find(|(k, _)| k == "uid")
                .and_then(|(_, v)| v.trim().parse().ok()),
            how,
        },
    }
}

async fn run_diagnosis(
    prober: &Prober,
    session: &Session,
    admin: &Observations,
    script: &str,
    deadline: &Deadline,
) -> Result<Diagnosis, String> {
    let Some(command) = admin.sudo.and_then(Sudo::root_command) else {
        let sudo = admin.sudo.map_or("unknown", Sudo::id);
        return Err(format!(
            "the admin user is not root-equivalent (sudo: {sudo})"
        ));
    };
    let output = deadline
        .stage(
            Stage::SystemUser,
            prober.timeouts.exec,
            exec::run_script(session, command, script),
        )
        .await
        .map_err(|f| f.message)?;
    diagnose::parse(&String::from_utf8_lossy(&output.stdout)).ok_or_else(|| {
        let said = String::from_utf8_lossy(&output.stderr);
        format!(
            "the diagnosis printed nothing usable: {}",
            crate::text::printable(said.trim().as_bytes())
        )
    })
}
