//! `prober gateway`: the bastion's SSH gateway, koko on 2222 (coco before it), as users
//! meet it. Every refused credential counts toward the JumpServer user's lockout, so
//! exactly one key (or the password) is offered, and after one refusal nothing more is
//! tried for that user.

use std::sync::Arc;
use std::sync::Mutex;

use russh::client::{AuthResult, KeyboardInteractiveAuthResponse};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::auth::{names, protocol, unusable, with_key, with_password};
use super::deadline::Deadline;
use super::outcome::{AssetProbe, Failure, Observations, Probed, Probing, SystemUserProbed};
use super::session::Session;
use super::{HostSettings, Prober, Target, exec};
use crate::address::{authority, known_hosts_name};
use crate::category::{Category, Stage};
use crate::credentials::Credential;
use crate::sync;
use crate::text::printable;

pub const DEFAULT_PORT: u16 = 2222;

/// The gateway, and the JumpServer user the checks log in as.
#[derive(Debug)]
pub struct KokoTarget {
    pub host: String,
    pub port: u16,
    pub credential: Arc<Credential>,
    /// The web terminal's websocket port, checked after koko itself (`--ws-port`).
    pub ws_port: Option<u16>,
    /// Why later checks are not tried: the gateway check failed, or the user was refused.
    stopped: Mutex<Option<String>>,
}

impl KokoTarget {
    pub fn new(
        host: String,
        port: u16,
        credential: Arc<Credential>,
        ws_port: Option<u16>,
    ) -> KokoTarget {
        KokoTarget {
            host,
            port,
            credential,
            ws_port,
            stopped: Mutex::new(None),
        }
    }

    fn stop(&self, why: String) {
        sync::lock(&self.stopped).get_or_insert(why);
    }

    /// Why to stop when `failure` is the gateway refusing the user.
    fn refusal(&self, failure: &Failure) -> Option<String> {
        matches!(
            failure.category,
            Category::GatewayKeyNotRegistered | Category::GatewayAuthFailed | Category::GatewayUserLocked
        )
        .then(|| {
            format!(
                "the gateway refused JumpServer user {}, and every refused attempt counts toward its lockout",
                self.credential.username
            )
        })
    }

    fn stopped(&self) -> Option<String> {
        sync::lock(&self.stopped).clone()
    }

    /// A direct login's user name; `#` separates when a name holds an `@` (e-mail users).
    fn direct_login(&self, account: &str, asset: &str) -> String {
        let user = &self.credential.username;
        let separator = if [user.as_str(), account, asset]
            .iter()
            .any(|s| s.contains('@'))
        {
            '#'
        } else {
            '@'
        };
        format!("{user}{separator}{account}{separator}{asset}")
    }
}

/// A JumpServer (koko) or coco (paramiko) banner is the gateway; OpenSSH is a host's sshd.
fn koko_banner(banner: &str) -> Option<Failure> {
    let software = banner.splitn(3, '-').nth(2).unwrap_or("");
    if software.starts_with("OpenSSH") || software.starts_with("dropbear") {
        return Some(Failure::at_home(
            Category::GatewayWrongPort,
            format!("this port runs a host's own sshd ({banner}), not the JumpServer gateway"),
        ));
    }
    None
}

impl Prober {
    /// The gateway itself: reachable, a gateway banner, and the user's key or password.
    pub(super) async fn koko(&self, target: &KokoTarget) -> Probed {
        let mut probing = Probing::start();
        let user = target.credential.username.clone();
        let deadline = Deadline::after(self.timeouts.total);
        let verdict = match self
            .koko_login(target, &user, &mut probing.obs, &deadline)
            .await
        {
            Ok((session, how)) => {
                super::goodbye(session).await;
                Ok(format!(
                    "the gateway ({}) accepted JumpServer user {user} with {how}",
                    probing.obs.banner.as_deref().unwrap_or("?")
                ))
            }
            Err(failure) => {
                let why = target
                    .refusal(&failure)
                    .unwrap_or_else(|| format!("the gateway check failed ({})", failure.category));
                target.stop(why);
                Err(failure)
            }
        };
        probing.done(verdict)
    }

    /// Through the gateway an asset has no result of its own: one per system user.
    pub(super) async fn through_koko(&self, koko: &KokoTarget, target: &Target) -> AssetProbe {
        let asset = &target.asset;
        let mut system_users = Vec::with_capacity(target.system_users.len());
        for user in &target.system_users {
            let probed = self.koko_as(koko, &asset.host, &user.username).await;
            system_users.push(SystemUserProbed {
                credential: user.name.clone(),
                probed,
            });
        }
        AssetProbe {
            own: None,
            system_users,
        }
    }

    /// `id -u` on `asset` as `account`, through the gateway's direct login.
    async fn koko_as(&self, target: &KokoTarget, asset: &str, account: &str) -> Probed {
        let mut probing = Probing::start();
        let verdict = if let Some(why) = target.stopped() {
            Err(Failure::new(
                Category::Skipped,
                Stage::Gateway,
                format!("not tried: {why}"),
            ))
        } else {
            self.direct_command(target, asset, account, &mut probing.obs)
                .await
        };
        probing.done(verdict)
    }

    async fn direct_command(
        &self,
        target: &KokoTarget,
        asset: &str,
        account: &str,
        obs: &mut Observations,
    ) -> Result<String, Failure> {
        let login = target.direct_login(account, asset);
        let deadline = Deadline::after(self.timeouts.total);
        let (session, _) = self
            .koko_login(target, &login, obs, &deadline)
            .await // Only a refusal counts toward the lockout; a timeout is no reason to stop.
            .inspect_err(|failure| {
                if let Some(why) = target.refusal(failure) {
                    target.stop(why);
                }
            })?;
        let ran = deadline
            .stage(
                Stage::Gateway,
                self.timeouts.exec,
                exec::run_script(&session, "id -u", ""),
            )
            .await;
        super::goodbye(session).await;
        let output = ran?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if output.status == Some(0)
            && let Ok(uid) = stdout.trim().parse::<u32>()
        {
            obs.uid = Some(uid);
            return Ok(format!(
                "ran `id -u` on {asset} as {account} through the gateway: uid {uid}"
            ));
        }
        let said = output.first_words();
        let category = if said.contains("No found asset") {
            Category::GatewayAssetNotFound
        } else if said.contains("Must be unique asset") {
            Category::GatewayAssetAmbiguous
        } else if said.contains("Must be unique account") {
            Category::GatewayPermissionDenied
        } else {
            Category::GatewayTargetFailed
        };
        Err(Failure::at_home(
            category,
            format!("the gateway said: {said}"),
        ))
    }

    /// Up to an authenticated session on the gateway, offering one credential once.
    async fn koko_login(
        &self,
        target: &KokoTarget,
        login: &str,
        obs: &mut Observations,
        deadline: &Deadline,
    ) -> Result<(Session, String), Failure> {
        let t = &self.timeouts;
        if let Some(mut failure) = unusable(&target.credential) {
            failure.stage = Stage::Gateway;
            return Err(failure);
        }
        let (tcp, _) = self
            .tcp(
                &target.host,
                target.port,
                None,
                self.timeouts.connect,
                obs,
                deadline,
            )
            .await?;
        let names = vec![known_hosts_name(&target.host, target.port)];
        let mut session = self
            .ssh(
                tcp,
                names,
                &HostSettings::default(),
                obs,
                deadline,
                Some(koko_banner),
            )
            .await?;
        let how = deadline
            .stage(
                Stage::Auth,
                t.auth,
                authenticate_once(&mut session, &target.credential, login, obs),
            )
            .await
            .map_err(|mut failure| {
                if failure.stage == Stage::Auth {
                    failure.stage = Stage::Gateway;
                }
                failure
            })?;
        Ok((session, how))
    }

    /// Whether the web terminal's websocket port answers an HTTP upgrade.
    pub(super) async fn web_terminal(&self, host: &str, port: u16) -> Probed {
        let mut probing = Probing::start();
        let verdict = self
            .upgrade(host, port, &mut probing.obs)
            .await
            .map_err(|mut failure| {
                failure.message = format!(
                    "web terminal {}: {}",
                    authority(host, port),
                    failure.message
                );
                Failure {
                    category: Category::GatewayWsUnreachable,
                    stage: Stage::Gateway,
                    ..failure
                }
            });
        probing.done(verdict)
    }

    async fn upgrade(
        &self,
        host: &str,
        port: u16,
        obs: &mut Observations,
    ) -> Result<String, Failure> {
        let t = &self.timeouts;
        let deadline = Deadline::after(t.total);
        let (mut tcp, _) = self
            .tcp(host, port, None, self.timeouts.connect, obs, &deadline)
            .await?;
        let request = format!(
            "GET /socket.io/?EIO=3&transport=websocket HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: cHJvYmVyLXdlYnNvY2tldA==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            authority(host, port)
        );
        let status = deadline
            .stage(Stage::Banner, t.banner, async {
                tcp.write_all(request.as_bytes()).await.map_err(|e| {
                    Failure::at_home(
                        Category::GatewayWsUnreachable,
                        format!("cannot send the upgrade: {e}"),
                    )
                })?;
                let mut line = String::new();
                BufReader::new(&mut tcp)
                    .read_line(&mut line)
                    .await
                    .map_err(|e| {
                        Failure::at_home(
                            Category::GatewayWsUnreachable,
                            format!("no answer to the upgrade: {e}"),
                        )
                    })?;
                Ok(line.trim().to_string())
            })
            .await?;
        obs.banner = Some(printable(status.as_bytes()));
        if status.split_whitespace().nth(1) == Some("101") {
            Ok(format!(
                "web terminal {} switched to websocket ({status})",
                authority(host, port)
            ))
        } else {
            Err(Failure::at_home(
                Category::GatewayWsUnreachable,
                format!(
                    "answered {:?} instead of 101 Switching Protocols",
                    printable(status.as_bytes())
                ),
            ))
        }
    }
}

/// One credential, once. A refusal is final: offering anything more would count again.
async fn authenticate_once(
    session: &mut Session,
    credential: &Credential,
    login: &str,
    obs: &mut Observations,
) -> Result<String, Failure> {
    let methods = match session.authenticate_none(login).await.map_err(protocol)? {
        AuthResult::Success => return Ok("no authentication".into()),
        AuthResult::Failure {
            remaining_methods, ..
        } => names(&remaining_methods),
    };
    obs.auth_methods = Some(methods.clone());
    let offers = |m: &str| methods.iter().any(|x| x == m);
    if !offers("publickey") && !offers("password") && offers("keyboard-interactive") {
        return Err(keyboard_notice(session, login).await);
    }
    let user = &credential.username;
    let refused = |category, what: String| {
        Failure::at_home(
            category,
            format!(
                "the gateway refused {what} for JumpServer user {user}; nothing more is tried, as each refusal counts toward its lockout"
            ),
        )
    };
    match (&credential.key, &credential.password) {
        (Some(Ok(key)), _) => {
            let tried = with_key(session, login, key.clone()).await?;
            match tried.result {
                AuthResult::Success => Ok(tried.how),
                AuthResult::Failure { .. } => Err(refused(
                    Category::GatewayKeyNotRegistered,
                    format!(
                        "the key {}",
                        key.public_key().fingerprint(russh::keys::HashAlg::Sha256)
                    ),
                )),
            }
        }
        (None, Some(Ok(password))) => {
            let tried = with_password(session, login, password, &methods).await?;
            match tried.result {
                AuthResult::Success => Ok(tried.how),
                AuthResult::Failure {
                    partial_success: true,
                    ..
                } => Err(refused(
                    Category::GatewayAuthFailed,
                    "the password alone (more is required, MFA?)".into(),
                )),
                AuthResult::Failure { .. } => {
                    Err(refused(Category::GatewayAuthFailed, "the password".into()))
                }
            }
        }
        (Some(Err(_)), _) | (None, Some(Err(_))) | (None, None) => Err(unusable(credential)
            .unwrap_or_else(|| {
                Failure::at_home(
                    Category::CredentialUnavailable,
                    "no key or password for the JumpServer user",
                )
            })),
    }
}

/// A gateway that offers only keyboard-interactive before any credential says why in its
/// instructions (JumpServer's lock notice, or an MFA prompt); read them and answer nothing.
async fn keyboard_notice(session: &mut Session, login: &str) -> Failure {
    let said = match session
        .authenticate_keyboard_interactive_start(login, None)
        .await
    {
        Ok(KeyboardInteractiveAuthResponse::InfoRequest {
            name,
            instructions,
            prompts,
        }) => {
            let prompts: Vec<String> = prompts.into_iter().map(|p| p.prompt).collect();
            format!("{name} {instructions} {}", prompts.join(" "))
                .trim()
                .to_string()
        }
        Ok(_) | Err(_) => String::new(),
    };
    let text = printable(said.as_bytes());
    let lower = said.to_lowercase();
    if lower.contains("lock") || said.contains("锁定") {
        Failure::at_home(
            Category::GatewayUserLocked,
            format!("the gateway says: {text}"),
        )
    } else {
        Failure::at_home(
            Category::GatewayAuthFailed,
            format!(
                "the gateway offers only keyboard-interactive (MFA?), which a probe does not answer: {text}"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners() {
        assert!(koko_banner("SSH-2.0-JumpServer").is_none());
        assert!(koko_banner("SSH-2.0-paramiko_2.4.1").is_none());
        assert_eq!(
            koko_banner("SSH-2.0-OpenSSH_9.2p1 Debian-2")
                .unwrap()
                .category,
            Category::GatewayWrongPort
        );
    }

    #[test]
    fn direct_login_names_switch_separator_for_email_users() {
        let credential = |name: &str| {
            Arc::new(Credential {
                name: "jms".into(),
                username: name.into(),
                password: None,
                key: None,
                agent: None,
                expect: Default::default(),
                found: Default::default(),
                uses: Default::default(),
            })
        };
        let plain = KokoTarget::new("h".into(), 2222, credential("alice"), None);
        assert_eq!(
            plain.direct_login("root", "10.0.0.5"),
            "alice@root@10.0.0.5"
        );
        let email = KokoTarget::new("h".into(), 2222, credential("alice@corp.example"), None);
        assert_eq!(
            email.direct_login("root", "web-1"),
            "alice@corp.example#root#web-1"
        );
    }
}
