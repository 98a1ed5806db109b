//! JumpServer's REST API as an inventory: its asset list, read page by page as the run
//! consumes it, each asset mapped as an export's row would be (see [`assets`]).
//!
//! Versions differ in paths, in how an access key signs, and in where an asset's admin
//! credential is named:
//! - 1.4: `/api/assets/v1/assets/`; access keys sign with JumpServer's own `Sign` scheme;
//!   an asset names its admin user and domain by id (`/api/assets/v1/admin-user/`,
//!   `/api/assets/v1/domain/` give their names).
//! - 3.x/4.x: `/api/v1/assets/assets/`; HTTP Signatures; the admin credential is the
//!   asset's privileged account (`/api/v1/accounts/accounts/?privileged=true`), chosen as
//!   JumpServer's own automations choose it.

mod assets;
pub mod auth;
mod client;
mod pages;

use std::path::PathBuf;

use crate::run::Entries;
pub use auth::{Auth, Secret};
use client::{Client, Got};
use pages::Listing;

/// Which API the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ApiVersion {
    /// 3.x/4.x's paths if the server has them, else 1.4's.
    #[default]
    Auto,
    /// 1.4, whose access keys sign with its own `Sign` scheme.
    #[cfg_attr(feature = "clap", value(name = "1.4"))]
    V1_4,
    /// 3.x and 4.x.
    #[cfg_attr(feature = "clap", value(name = "3"))]
    V3,
}

/// Where the assets come from and which of them.
#[derive(Debug, Clone)]
pub struct Source {
    /// JumpServer's address, e.g. `https://jms.example.com`.
    pub url: String,
    pub auth: Auth,
    /// `X-JMS-ORG`: the organisation's id (else the user's default one).
    pub org: Option<String>,
    /// Only the assets under this node (its id, or its key in 3.x/4.x), children included.
    pub node: Option<String>,
    /// Only the assets whose name or address (or comment, 3.x+) contains this text.
    pub search: Option<String>,
    pub api: ApiVersion,
    /// PEM certificates of a CA to trust besides the system's.
    pub ca: Option<PathBuf>,
    /// Assets per request (JumpServer 4 answers at most 1000).
    pub page_size: u32,
    /// Plain http to an address that is not loopback: a token would cross the network in
    /// the clear, and a signed request could be replayed while its Date is accepted.
    pub allow_http: bool,
}

pub const DEFAULT_PAGE_SIZE: u32 = 200;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("--jumpserver {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{reason}")]
    NoAuth { reason: String },
    #[error("JumpServer credentials file {path}: {reason}")]
    AuthFile { path: PathBuf, reason: String },
    #[error("--jumpserver-ca {path}: {reason}")]
    Ca { path: PathBuf, reason: String },
    #[error("cannot reach JumpServer at {url}: {reason}{hint}")]
    Unreachable {
        url: String,
        reason: String,
        hint: &'static str,
    },
    #[error("JumpServer refused {url} (HTTP {status}): {detail}")]
    Refused {
        url: String,
        status: u16,
        detail: String,
    },
    #[error("JumpServer answered {url} with HTTP {status}: {text}")]
    Status {
        url: String,
        status: u16,
        text: String,
    },
    #[error("JumpServer's answer to {url} is not what its API gives: {reason}")]
    Malformed { url: String, reason: String },
    #[error(
        "no assets in {url} (check --jumpserver-org, --jumpserver-node and --jumpserver-search; give --allow-empty if that is fine)"
    )]
    Empty { url: String },
    #[error("{url} has no asset API {tried}: {advice}")]
    NoApi {
        url: String,
        tried: String,
        advice: &'static str,
    },
}

/// Opens the asset list: checks the credentials and reads the first page, so a wrong key,
/// an unreachable server or a filter that matches nothing is said before any probe.
pub fn open(source: Source, allow_empty: bool) -> Result<Entries, ApiError> {
    let base = base_url(&source.url, source.allow_http)?;
    let mut client = Client::new(
        &base,
        source.auth.clone(),
        source.org.clone(),
        source.ca.as_deref(),
    )?;
    let version = match source.api {
        ApiVersion::Auto => detect(&mut client)?,
        version => version,
    };
    client.signing = match version {
        ApiVersion::V1_4 => auth::Signing::Sign14,
        _ => auth::Signing::HttpSignature,
    };
    let listing = Listing::open(client, version, &source)?;
    if listing.is_empty() && !allow_empty {
        return Err(ApiError::Empty {
            url: listing.name().to_string(),
        });
    }
    Ok(Entries {
        path: PathBuf::from(listing.name()),
        rows: Box::new(listing),
    })
}

fn base_url(text: &str, allow_http: bool) -> Result<url::Url, ApiError> {
    let bad = |reason: &str| ApiError::BadUrl {
        url: crate::text::shown(text),
        reason: reason.to_string(),
    };
    let url = url::Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("give an http:// or https:// address"));
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if url.scheme() == "http" && !loopback && !allow_http {
        return Err(bad(
            "plain http would send the API's credentials unencrypted: give https://, or --jumpserver-allow-http if this network is trusted",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad(
            "give JumpServer's address only (no query, no user); credentials come from the environment or --jumpserver-auth",
        ));
    }
    Ok(url)
}

/// 3.x/4.x when its asset path exists, else 1.4 when that one does. A path's existence is
/// decided before any authentication (Django routes first), so it says which JumpServer
/// this is whatever the credentials.
fn detect(client: &mut Client) -> Result<ApiVersion, ApiError> {
    for (version, path, signing) in [
        (
            ApiVersion::V3,
            pages::V3_ASSETS,
            auth::Signing::HttpSignature,
        ),
        (ApiVersion::V1_4, pages::V14_ASSETS, auth::Signing::Sign14),
    ] {
        client.signing = signing;
        if let Got::Json(_) = client.get(&format!("{path}?limit=1&offset=0"))? {
            return Ok(version);
        }
    }
    Err(ApiError::NoApi {
        url: client.url(""),
        tried: format!("({} or {})", pages::V3_ASSETS, pages::V14_ASSETS),
        advice: "is this JumpServer's address (the one its web UI is on)?",
    })
}

#[cfg(test)]
mod tests {
    use super::base_url;

    #[test]
    fn plain_http_is_taken_on_loopback_only_unless_allowed() {
        for local in [
            "http://127.0.0.1:8080",
            "http://[::1]:80/",
            "http://localhost",
        ] {
            assert!(base_url(local, false).is_ok(), "{local}");
        }
        for remote in ["http://jms.example.com", "http://10.0.0.5"] {
            let refused = base_url(remote, false).unwrap_err().to_string();
            assert!(refused.contains("--jumpserver-allow-http"), "{refused}");
            assert!(base_url(remote, true).is_ok(), "{remote}");
        }
        assert!(base_url("https://jms.example.com", false).is_ok());
    }
}
