//! How the prober proves who it is to JumpServer: a user's access key (signed requests)
//! or private token. Secrets come from a file or the environment, never the command line,
//! and never appear in a message: only the key id, which JumpServer shows in its own UI.

use std::path::Path;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::ApiError;

pub const ENV_KEY_ID: &str = "JMS_ACCESS_KEY_ID";
pub const ENV_KEY_SECRET: &str = "JMS_ACCESS_KEY_SECRET";
pub const ENV_TOKEN: &str = "JMS_PRIVATE_TOKEN";

/// A secret that says nothing of itself when printed.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(text: String) -> Secret {
        Secret(Zeroizing::new(text))
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Debug, Clone)]
pub enum Auth {
    AccessKey { id: String, secret: Secret },
    Token(Secret),
}

/// How requests are signed with an access key: JumpServer 1.4 knows only its own `Sign`
/// scheme; HTTP Signatures came with 1.5 and are the one scheme from 3.0 on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// `Authorization: Sign <key id>:<base64 of the MD5 hex of "secret\ndate">`.
    Sign14,
    /// `Authorization: Signature keyId=…,algorithm="hmac-sha256",headers=…,signature=…`
    /// over `(request-target) accept date`.
    HttpSignature,
}

/// The headers JumpServer's HTTP Signature check is given, in this order.
pub const SIGNED_HEADERS: &str = "(request-target) accept date";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthFile {
    key_id: Option<String>,
    secret: Option<String>,
    token: Option<String>,
}

impl Auth {
    /// From `file` (TOML: `key_id` and `secret`, or `token`) when given, else from the
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Auth, ApiError> {
        match file {
            Some(path) => Self::from_file(path),
            None => Self::from_env(),
        }
    }

    fn from_file(path: &Path) -> Result<Auth, ApiError> {
        let bad = |reason: String| ApiError::AuthFile {
            path: path.to_path_buf(),
            reason,
        };
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?);
        // toml's messages quote the line they fail on, which may be the secret's.
        let file: AuthFile = toml::from_str(&text)
            .map_err(|_| bad("not valid TOML with key_id and secret, or token (strings)".into()))?;
        let secret = file.secret.map(Secret::new);
        let token = file.token.map(Secret::new);
        Self::pick(file.key_id, secret, token).map_err(bad)
    }

    fn from_env() -> Result<Auth, ApiError> {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self::pick(
            var(ENV_KEY_ID),
            var(ENV_KEY_SECRET).map(Secret::new),
            var(ENV_TOKEN).map(Secret::new),
        )
        .map_err(|reason| ApiError::NoAuth { reason })
    }

    fn pick(
        key_id: Option<String>,
        secret: Option<Secret>,
        token: Option<Secret>,
    ) -> Result<Auth, String> {
        match (key_id, secret, token) {
            (Some(id), Some(secret), None) => {
                let id = id.trim().to_string();
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    return Err("the access key id is not JumpServer's (a UUID)".into());
                }
                Ok(Auth::AccessKey { id, secret })
            }
            (None, None, Some(token)) => Ok(Auth::Token(token)),
            (None, None, None) => Err(format!(
                "no JumpServer credentials: give an access key ({ENV_KEY_ID} and {ENV_KEY_SECRET}) or a private token ({ENV_TOKEN}), or --jumpserver-auth FILE"
            )),
            (Some(_), None, _) => Err("an access key id without its secret".into()),
            (None, Some(_), _) => Err("an access key secret without its id".into()),
            (Some(_), Some(_), Some(_)) => {
                Err("both an access key and a private token: give one".into())
            }
        }
    }

    /// The `Authorization` header of a GET of `target` (path and query as sent), with the
    /// `Accept` and `Date` values sent beside it.
    pub fn header(&self, signing: Signing, target: &str, accept: &str, date: &str) -> String {
        match self {
            Auth::Token(token) => format!("Token {}", token.expose()),
            Auth::AccessKey { id, secret } => match signing {
                Signing::Sign14 => {
                    let digest = md5::compute(format!("{}\n{date}", secret.expose()));
                    let hex = format!("{digest:x}");
                    let signature = base64::engine::general_purpose::STANDARD.encode(hex);
                    format!("Sign {id}:{signature}")
                }
                Signing::HttpSignature => {
                    let text = signing_string(target, accept, date);
                    let signature = hmac_sha256(secret.expose(), &text);
                    format!(
                        "Signature keyId=\"{id}\",algorithm=\"hmac-sha256\",headers=\"{SIGNED_HEADERS}\",signature=\"{signature}\""
                    )
                }
            },
        }
    }
}

/// What an HTTP Signature signs: each of [`SIGNED_HEADERS`] as `name: value`, a line each.
pub fn signing_string(target: &str, accept: &str, date: &str) -> String {
    format!("(request-target): get {target}\naccept: {accept}\ndate: {date}")
}

/// Base64 of the HMAC-SHA256 of `text` under `secret`.
pub fn hmac_sha256(secret: &str, text: &str) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_not_printed() {
        let auth = Auth::Token(Secret::new("s3cr3t-token".into()));
        assert!(!format!("{auth:?}").contains("s3cr3t"));
    }

    #[test]
    fn sign_14_is_base64_of_the_md5_hex_of_secret_and_date() {
        // JumpServer 1.4's own docstring example of the scheme's input.
        let auth = Auth::AccessKey {
            id: "d32d2b8b-9a10-4b8d-85bb-1a66976f6fdc".into(),
            secret: Secret::new("d32d2b8b-9a10-4b8d-85bb-1a66976f6fdc".into()),
        };
        let date = "Thu, 12 Jan 2017 08:19:41 GMT";
        let header = auth.header(Signing::Sign14, "/", "application/json", date);
        let hex = format!(
            "{:x}",
            md5::compute("d32d2b8b-9a10-4b8d-85bb-1a66976f6fdc\nThu, 12 Jan 2017 08:19:41 GMT")
        );
        let expected = base64::engine::general_purpose::STANDARD.encode(hex);
        assert_eq!(
            header,
            format!("Sign d32d2b8b-9a10-4b8d-85bb-1a66976f6fdc:{expected}")
        );
    }

    #[test]
    fn http_signature_names_its_headers_and_signs_the_target() {
        let auth = Auth::AccessKey {
            id: "kid".into(),
            secret: Secret::new("secret".into()),
        };
        let date = "Tue, 01 Dec 2026 10:00:00 GMT";
        let a = auth.header(Signing::HttpSignature, "/a/?x=1", "application/json", date);
        let b = auth.header(Signing::HttpSignature, "/a/?x=2", "application/json", date);
        assert!(a.starts_with("Signature keyId=\"kid\",algorithm=\"hmac-sha256\",headers=\"(request-target) accept date\",signature=\""));
        assert_ne!(a, b);
        assert!(!a.contains("secret\""));
    }

    #[test]
    fn one_kind_of_credential_only() {
        let s = || Some(Secret::new("x".into()));
        assert!(Auth::pick(Some("id".into()), s(), None).is_ok());
        assert!(Auth::pick(None, None, s()).is_ok());
        assert!(Auth::pick(Some("id".into()), None, None).is_err());
        assert!(Auth::pick(Some("id".into()), s(), s()).is_err());
        assert!(Auth::pick(None, None, None).is_err());
    }
}
