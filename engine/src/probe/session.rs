//! Stages 4 and 5: key exchange and host key verification, through russh. The handler
//! records what was negotiated and the host key verdict, which russh itself reduces to
//! "unknown key".

use std::sync::{Arc, Mutex};

use russh::client::{self, Handle};
use russh::keys::{HashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{AlgorithmKind, Names};
use tokio::io::{AsyncRead, AsyncWrite};

use super::outcome::{Failure, Observations};
use crate::category::{Category, Stage};
use crate::known_hosts::{HostKeyPolicy, HostKeyStatus, KnownHosts};
use crate::sync;
use crate::text::excerpt_list;

/// How to judge the server's host key for one asset.
pub struct HostKeyCheck {
    pub policy: HostKeyPolicy,
    pub known_hosts: Option<Arc<KnownHosts>>,
    /// Names the key may be recorded under: `host[:port]`, then the address.
    pub names: Vec<String>,
}

#[derive(Default)]
struct Log {
    names: Option<(String, String, String)>,
    host_key: Option<(String, String)>,
    verdict: Option<Failure>,
}

pub struct ProbeHandler {
    check: HostKeyCheck,
    log: Arc<Mutex<Log>>,
}

impl client::Handler for ProbeHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key: PublicKey = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => {
                PublicKey::new(cert.public_key().clone(), "")
            }
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let verdict = self.judge(&key, &fingerprint);
        let mut log = sync::lock(&self.log);
        log.host_key = Some((key.algorithm().to_string(), fingerprint));
        let accept = verdict.is_none();
        log.verdict = verdict;
        Ok(accept)
    }

    async fn kex_done(
        &mut self,
        _shared_secret: Option<&[u8]>,
        names: &Names,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        let mut log = sync::lock(&self.log);
        log.names.get_or_insert_with(|| {
            (
                names.kex.as_ref().to_string(),
                names.cipher.as_ref().to_string(),
                names.key.to_string(),
            )
        });
        Ok(())
    }
}

impl ProbeHandler {
    /// The host key's verdict: `None` to go on, or the failure that ends the probe.
    fn judge(&self, key: &PublicKey, fingerprint: &str) -> Option<Failure> {
        let check = &self.check;
        let known_hosts = check
            .known_hosts
            .as_ref()
            .filter(|_| check.policy != HostKeyPolicy::Off)?;
        let file = known_hosts.path().display();
        let changed = |message: String| Some(Failure::at_home(Category::HostkeyChanged, message));
        match known_hosts.check(&check.names, key) {
            HostKeyStatus::Known => None,
            HostKeyStatus::Changed { line } => changed(format!(
                "host key {} {fingerprint} does not match the key for {} at {file}:{line}",
                key.algorithm(),
                check.names[0]
            )),
            HostKeyStatus::Revoked { line } => changed(format!(
                "host key {fingerprint} is marked @revoked at {file}:{line}"
            )),
            HostKeyStatus::Unknown if check.policy == HostKeyPolicy::Strict => {
                Some(Failure::at_home(
                    Category::HostkeyUnknown,
                    format!(
                        "host key {} {fingerprint} is not in {file}",
                        key.algorithm()
                    ),
                ))
            }
            HostKeyStatus::Unknown => {
                // Failing to record is the file's problem, reported once by the run.
                let _ = known_hosts.learn(&check.names[0], key);
                None
            }
        }
    }
}

pub type Session = Handle<ProbeHandler>;

/// Runs the key exchange; on success the session is ready for authentication.
pub async fn handshake<S>(
    stream: S,
    config: Arc<client::Config>,
    check: HostKeyCheck,
    obs: &mut Observations,
) -> Result<Session, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let log = Arc::new(Mutex::new(Log::default()));
    let handler = ProbeHandler {
        check,
        log: log.clone(),
    };
    let result = client::connect_stream(config, stream, handler).await;
    let mut log = sync::lock(&log);
    if let Some((alg, fingerprint)) = log.host_key.take() {
        obs.host_key_alg = Some(alg);
        obs.host_key_fingerprint = Some(fingerprint);
    }
    // The negotiated name says which signature (rsa-sha2-512 or ssh-rsa) the key used.
    if let Some((kex, cipher, host_key_alg)) = log.names.take() {
        obs.kex = Some(kex);
        obs.cipher = Some(cipher);
        obs.host_key_alg = Some(host_key_alg);
    }
    match result {
        Ok(session) => Ok(session),
        Err(_) if log.verdict.is_some() => Err(log.verdict.take().expect("checked")),
        Err(e) => Err(classify(e)),
    }
}

fn classify(error: russh::Error) -> Failure {
    match error {
        russh::Error::NoCommonAlgo { kind, ours, theirs } => {
            let kind = match kind {
                AlgorithmKind::Kex => "key exchange",
                AlgorithmKind::Key => "host key",
                AlgorithmKind::Cipher => "cipher",
                AlgorithmKind::Mac => "MAC",
                AlgorithmKind::Compression => "compression",
            };
            let ours: Vec<String> = ours.into_iter().filter(|a| !is_pseudo(a)).collect();
            let theirs: Vec<String> = theirs.into_iter().filter(|a| !is_pseudo(a)).collect();
            // A server's offer can be kilobytes long: its first names tell the story.
            Failure::at_home(
                Category::KexNoCommonAlgorithm,
                format!(
                    "no common {kind} algorithm; their offer: {}; ours: {}",
                    excerpt_list(&theirs, OFFER_NAMES, OFFER_NAME_BYTES),
                    excerpt_list(&ours, OFFER_NAMES, OFFER_NAME_BYTES)
                ),
            )
        }
        other => Failure::new(
            Category::SshProtocolError,
            Stage::Kex,
            format!("SSH handshake failed: {other}"),
        ),
    }
}

/// How much of an algorithm list a message shows: real names are under 40 bytes.
const OFFER_NAMES: usize = 8;
const OFFER_NAME_BYTES: usize = 48;

/// Extension markers travel in the key exchange list but are not algorithms.
fn is_pseudo(name: &str) -> bool {
    name.starts_with("ext-info-") || name.starts_with("kex-strict-")
}
