//! GETs of JumpServer's API: one agent (its connections kept alive between pages), each
//! request signed, TLS verified against the system's roots and the operator's own CA.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use super::ApiError;
use super::auth::{Auth, Signing};
use crate::text;

const ACCEPT: &str = "application/json";
/// JumpServer's answers are pages of at most a thousand assets: a few MiB.
const MAX_BODY: u64 = 64 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A page of a thousand assets may take JumpServer a while to serialize.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Client {
    agent: ureq::Agent,
    /// Scheme, host and port, without a slash at the end.
    origin: String,
    /// The path JumpServer is served under (usually empty), without a slash at the end.
    prefix: String,
    auth: Auth,
    org: Option<String>,
    pub signing: Signing,
}

/// A GET's outcome that callers tell apart: a path this JumpServer does not have.
pub enum Got {
    Json(Value),
    NotFound,
}

impl Client {
    pub fn new(
        base: &url::Url,
        auth: Auth,
        org: Option<String>,
        ca: Option<&Path>,
    ) -> Result<Client, ApiError> {
        let tls = TlsConfig::builder().root_certs(roots(ca)?).build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect would be followed without the signature it needs; an
            // environment's proxy would see the credentials.
            .max_redirects(0)
            .proxy(None)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .tls_config(tls)
            .build();
        let origin = base.origin().ascii_serialization();
        let prefix = base.path().trim_end_matches('/').to_string();
        Ok(Client {
            agent: config.into(),
            origin,
            prefix,
            auth,
            org,
            signing: Signing::HttpSignature,
        })
    }

    /// The URL messages name for `target`.
    pub fn url(&self, target: &str) -> String {
        format!("{}{}{target}", self.origin, self.prefix)
    }

    /// GETs `target` (an API path with its query, already encoded) as JSON.
    pub fn get(&self, target: &str) -> Result<Got, ApiError> {
        let url = self.url(target);
        let signed = format!("{}{target}", self.prefix);
        let date = httpdate::fmt_http_date(SystemTime::now());
        let authorization = self.auth.header(self.signing, &signed, ACCEPT, &date);
        let mut request = self
            .agent
            .get(&url)
            .header("Accept", ACCEPT)
            .header("Date", &date)
            .header("Authorization", &authorization);
        if let Some(org) = &self.org {
            request = request.header("X-JMS-ORG", org);
        }
        let mut response = request.call().map_err(|e| unreachable(&url, &e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| unreachable(&url, &e))?;
        let json = serde_json::from_slice::<Value>(&body).ok();
        match status {
            200 => json.map(Got::Json).ok_or_else(|| ApiError::Malformed {
                url: url.clone(),
                reason: format!("not JSON: {}", excerpt(&body)),
            }),
            404 => Ok(Got::NotFound),
            401 | 403 => Err(ApiError::Refused {
                url,
                status,
                detail: json
                    .as_ref()
                    .and_then(detail)
                    .unwrap_or_else(|| excerpt(&body)),
            }),
            300..=399 => Err(ApiError::Status {
                url,
                status,
                text: format!(
                    "redirected to {}: give --jumpserver the address it redirects to",
                    response
                        .headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .map(|l| text::excerpt(l, 200).into_owned())
                        .unwrap_or_default()
                ),
            }),
            _ => Err(ApiError::Status {
                url,
                status,
                text: json
                    .as_ref()
                    .and_then(detail)
                    .unwrap_or_else(|| excerpt(&body)),
            }),
        }
    }
}

/// DRF's errors are `{"detail": "…"}`; JumpServer's own handler sometimes adds a `code`.
fn detail(json: &Value) -> Option<String> {
    let detail = json.get("detail")?;
    let text = detail
        .as_str()
        .map_or_else(|| detail.to_string(), str::to_string);
    Some(text::excerpt(&text, 300).into_owned())
}

fn excerpt(body: &[u8]) -> String {
    text::excerpt(String::from_utf8_lossy(body).trim(), 200).into_owned()
}

fn unreachable(url: &str, error: &ureq::Error) -> ApiError {
    let reason = error.to_string();
    // rustls's verdicts reach us wrapped in an I/O error.
    let tls = matches!(error, ureq::Error::Rustls(_) | ureq::Error::Tls(_))
        || reason.contains("certificate");
    ApiError::Unreachable {
        url: url.to_string(),
        reason,
        hint: if tls {
            " (a certificate from a private CA? give --jumpserver-ca FILE)"
        } else {
            ""
        },
    }
}

/// The system's roots, plus the PEM certificates of `ca`.
fn roots(ca: Option<&Path>) -> Result<RootCerts, ApiError> {
    let mut certs: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .into_iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    if let Some(path) = ca {
        let bad = |reason: String| ApiError::Ca {
            path: path.to_path_buf(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let before = certs.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let PemItem::Certificate(cert) = item.map_err(|e| bad(e.to_string()))? {
                certs.push(cert.to_owned());
            }
        }
        if certs.len() == before {
            return Err(bad("no PEM certificate in it".into()));
        }
    }
    if certs.is_empty() {
        // No system store (a bare container): Mozilla's roots, as browsers have them.
        return Ok(RootCerts::WebPki);
    }
    Ok(RootCerts::Specific(Arc::new(certs)))
}
