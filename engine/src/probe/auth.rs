//! Stage 6: admin authentication. Asks the server which methods it allows first (the
//! "none" request, as OpenSSH does), so a method the server does not offer is reported
//! as unavailable instead of costing a failed attempt.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::MethodSet;
use russh::client::{AuthResult, KeyboardInteractiveAuthResponse};
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};

use super::outcome::{Failure, Observations};
use super::session::Session;
use crate::category::{Category, Stage};
use crate::credentials::{Credential, Secret};

/// One way in the credential offers the server, in the order they are tried.
enum Offer {
    Key(Arc<PrivateKey>),
    Password(Secret),
    /// The agent at this socket.
    Agent(PathBuf),
}

impl Offer {
    /// The SSH method name this offer uses.
    fn method(&self) -> &'static str {
        match self {
            Offer::Key(_) | Offer::Agent(_) => "publickey",
            Offer::Password(_) => "password",
        }
    }

    fn allowed_by(&self, allowed: &[String]) -> bool {
        let has = |m: &str| allowed.iter().any(|a| a == m);
        match self {
            Offer::Password(_) => has("password") || has("keyboard-interactive"),
            _ => has("publickey"),
        }
    }
}

/// What one attempt gave: the server's answer, and how we authenticated if it worked.
pub(super) struct Tried {
    pub result: AuthResult,
    pub how: String,
}

/// Logs in; on success returns how (e.g. "publickey rsa-sha2-512").
pub async fn authenticate(
    session: &mut Session,
    credential: &Credential,
    obs: &mut Observations,
) -> Result<String, Failure> {
    let offers = offers(credential)?;
    let user = credential.username.as_str();
    let mut allowed = match session.authenticate_none(user).await.map_err(protocol)? {
        AuthResult::Success => return Ok("none (the server asked for no authentication)".into()),
        AuthResult::Failure {
            remaining_methods, ..
        } => names(&remaining_methods),
    };
    obs.auth_methods = Some(allowed.clone());

    let mut tried = Vec::new();
    let mut partial = None;
    for offer in &offers {
        if !offer.allowed_by(&allowed) {
            continue;
        }
        if !tried.contains(&offer.method()) {
            tried.push(offer.method());
        }
        for outcome in run(session, user, offer, &allowed).await? {
            match outcome.result {
                AuthResult::Success => return Ok(outcome.how),
                AuthResult::Failure {
                    remaining_methods,
                    partial_success,
                } => {
                    if partial_success {
                        partial = Some(outcome.how);
                    }
                    if !remaining_methods.is_empty() {
                        allowed = names(&remaining_methods);
                        obs.auth_methods = Some(allowed.clone());
                    }
                }
            }
        }
    }
    let mut offered: Vec<&str> = offers.iter().map(Offer::method).collect();
    offered.dedup();
    let allowed = allowed.join(",");
    if let Some(how) = partial {
        return Err(Failure::at_home(
            Category::AuthPartial,
            format!("{user}: {how} was accepted but the server requires more: {allowed}"),
        ));
    }
    if tried.is_empty() {
        return Err(Failure::at_home(
            Category::AuthMethodUnavailable,
            format!(
                "the server allows {allowed} for {user}; credential `{}` has {}",
                credential.name,
                offered.join(",")
            ),
        ));
    }
    Err(Failure::at_home(
        Category::AuthFailed,
        format!(
            "the server rejected {} for {user}; it allows: {allowed}",
            tried.join(",")
        ),
    ))
}

fn offers(credential: &Credential) -> Result<Vec<Offer>, Failure> {
    if let Some(failure) = unusable(credential) {
        return Err(failure);
    }
    let key = credential
        .key
        .iter()
        .flatten()
        .map(|k| Offer::Key(k.clone()));
    let agent = credential
        .agent
        .iter()
        .flatten()
        .map(|a| Offer::Agent(a.clone()));
    // After the agent, as ssh tries the identity files it found itself.
    let found = credential
        .found
        .identities
        .iter()
        .map(|k| Offer::Key(k.clone()));
    let password = credential
        .password
        .iter()
        .flatten()
        .map(|p| Offer::Password(p.clone()));
    Ok(key.chain(agent).chain(found).chain(password).collect())
}

/// The verdict of any login with a credential that cannot work on this machine, given
/// before resolving or connecting: the run reports the cause once, each asset points at it.
pub(super) fn unusable(credential: &Credential) -> Option<Failure> {
    let (category, cause) = credential.problem()?;
    Some(Failure::at_home(
        category,
        format!(
            "credential `{}` cannot be used, so nothing was connected: {cause}",
            credential.name
        ),
    ))
}

async fn run(
    session: &mut Session,
    user: &str,
    offer: &Offer,
    allowed: &[String],
) -> Result<Vec<Tried>, Failure> {
    match offer {
        Offer::Key(key) => Ok(vec![with_key(session, user, key.clone()).await?]),
        Offer::Password(secret) => Ok(vec![with_password(session, user, secret, allowed).await?]),
        Offer::Agent(socket) => with_agent(session, user, socket).await,
    }
}

pub(super) async fn rsa_hash(session: &Session, key: &PublicKey) -> Option<HashAlg> {
    if !key.algorithm().is_rsa() {
        return None;
    }
    // Servers without the server-sig-algs extension predate SHA-1 deprecation, but
    // SHA-256 signatures are still the better first guess for them.
    session
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .unwrap_or(Some(HashAlg::Sha256))
}

pub(super) fn signature_name(key: &PublicKey, hash: Option<HashAlg>) -> String {
    match (key.algorithm().is_rsa(), hash) {
        (true, Some(HashAlg::Sha512)) => "rsa-sha2-512".into(),
        (true, Some(_)) => "rsa-sha2-256".into(),
        (true, None) => "ssh-rsa".into(),
        _ => key.algorithm().to_string(),
    }
}

pub(super) async fn with_key(
    session: &mut Session,
    user: &str,
    key: Arc<PrivateKey>,
) -> Result<Tried, Failure> {
    let hash = rsa_hash(session, key.public_key()).await;
    let how = format!("publickey {}", signature_name(key.public_key(), hash));
    let result = session
        .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key, hash))
        .await
        .map_err(protocol)?;
    Ok(Tried { result, how })
}

pub(super) async fn with_password(
    session: &mut Session,
    user: &str,
    secret: &Secret,
    allowed: &[String],
) -> Result<Tried, Failure> {
    if !allowed.iter().any(|m| m == "password") {
        return keyboard_interactive(session, user, secret).await;
    }
    let result = session
        .authenticate_password(user, secret.expose())
        .await
        .map_err(protocol)?;
    Ok(Tried {
        result,
        how: "password".into(),
    })
}

/// PAM setups often offer the password only through keyboard-interactive.
async fn keyboard_interactive(
    session: &mut Session,
    user: &str,
    secret: &Secret,
) -> Result<Tried, Failure> {
    let how = "keyboard-interactive".to_string();
    let mut reply = session
        .authenticate_keyboard_interactive_start(user, None)
        .await
        .map_err(protocol)?;
    for _round in 0..4 {
        match reply {
            KeyboardInteractiveAuthResponse::Success => {
                return Ok(Tried {
                    result: AuthResult::Success,
                    how,
                });
            }
            KeyboardInteractiveAuthResponse::Failure {
                remaining_methods,
                partial_success,
            } => {
                return Ok(Tried {
                    result: AuthResult::Failure {
                        remaining_methods,
                        partial_success,
                    },
                    how,
                });
            }
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                if let Some(other) = prompts.iter().find(|p| !is_password_prompt(&p.prompt)) {
                    return Err(Failure::at_home(
                        Category::AuthPartial,
                        format!(
                            "{user}: the server asks {:?} (keyboard-interactive), which a probe cannot answer",
                            other.prompt.trim()
                        ),
                    ));
                }
                let answers = prompts
                    .iter()
                    .map(|_| secret.expose().to_string())
                    .collect();
                reply = session
                    .authenticate_keyboard_interactive_respond(answers)
                    .await
                    .map_err(protocol)?;
            }
        }
    }
    Err(Failure::at_home(
        Category::AuthPartial,
        format!("{user}: keyboard-interactive went on for too many rounds"),
    ))
}

fn is_password_prompt(prompt: &str) -> bool {
    let prompt = prompt.to_lowercase();
    prompt.contains("password") || prompt.contains("passcode") || prompt.contains("密码")
}

async fn with_agent(
    session: &mut Session,
    user: &str,
    socket: &Path,
) -> Result<Vec<Tried>, Failure> {
    let unavailable = |e: &dyn std::fmt::Display| {
        Failure::at_home(Category::CredentialUnavailable, format!("ssh-agent: {e}"))
    };
    let mut agent = AgentClient::connect_uds(socket)
        .await
        .map_err(|e| unavailable(&e))?;
    let identities = agent
        .request_identities()
        .await
        .map_err(|e| unavailable(&e))?;
    if identities.is_empty() {
        return Err(unavailable(&"the agent holds no keys"));
    }
    let mut outcomes = Vec::new();
    for identity in identities {
        let key = identity.public_key().into_owned();
        let hash = rsa_hash(session, &key).await;
        let how = format!(
            "agent key {} ({})",
            signature_name(&key, hash),
            identity_comment(&identity)
        );
        let result = session
            .authenticate_publickey_with(user, key, hash, &mut agent)
            .await
            .map_err(|e| {
                Failure::new(
                    Category::SshProtocolError,
                    Stage::Auth,
                    format!("agent signing failed: {e}"),
                )
            })?;
        let done = matches!(result, AuthResult::Success);
        outcomes.push(Tried { result, how });
        if done {
            break;
        }
    }
    Ok(outcomes)
}

fn identity_comment(identity: &russh::keys::agent::AgentIdentity) -> String {
    match identity {
        russh::keys::agent::AgentIdentity::PublicKey { comment, .. } => comment.clone(),
        russh::keys::agent::AgentIdentity::Certificate { comment, .. } => comment.clone(),
    }
}

pub(super) fn names(methods: &MethodSet) -> Vec<String> {
    methods.iter().map(String::from).collect()
}

pub(super) fn protocol(error: russh::Error) -> Failure {
    Failure::new(
        Category::SshProtocolError,
        Stage::Auth,
        format!("the connection failed during authentication: {error}"),
    )
}
