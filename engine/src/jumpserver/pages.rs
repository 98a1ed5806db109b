//! The asset list, a page at a time, and the small lists that name what an asset refers
//! to by id. Pages are asked by `limit`/`offset` (DRF's LimitOffsetPagination), not by
//! following `next`: behind a proxy JumpServer may write `next` with its inner address.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use super::assets::{self, Names};
use super::client::{Client, Got};
use super::{ApiError, ApiVersion, Source};
use crate::inventory::{Entry, InvalidRow};

pub const V3_ASSETS: &str = "/api/v1/assets/assets/";
pub const V14_ASSETS: &str = "/api/assets/v1/assets/";
const V3_ACCOUNTS: &str = "/api/v1/accounts/accounts/";
const V14_ADMIN_USERS: &str = "/api/assets/v1/admin-user/";
const V14_DOMAINS: &str = "/api/assets/v1/domain/";

pub struct Listing {
    client: Client,
    names: Names,
    path: &'static str,
    /// The filters, encoded, each followed by `&`.
    filters: String,
    /// The list's URL with its filters: what messages name.
    name: String,
    page_size: u32,
    offset: u64,
    page: VecDeque<Value>,
    more: bool,
    /// The position of the last asset given, from 1: an invalid one's "line".
    position: u64,
}

impl Listing {
    pub fn open(client: Client, version: ApiVersion, source: &Source) -> Result<Listing, ApiError> {
        let (path, order, names) = match version {
            ApiVersion::V1_4 => (V14_ASSETS, "hostname", v14_names(&client)?),
            _ => (V3_ASSETS, "name", v3_names(&client)?),
        };
        let mut filters = String::new();
        // `node_id` is the node filter's name in every version (3.x also takes `node`).
        for (key, value) in [
            ("node_id", source.node.as_deref()),
            ("search", source.search.as_deref()),
            ("order", Some(order)),
        ] {
            if let Some(value) = value {
                filters.push_str(&format!("{key}={}&", encode(value)));
            }
        }
        let name = client.url(&format!("{path}?{}", filters.trim_end_matches('&')));
        let mut listing = Listing {
            client,
            names,
            path,
            filters,
            name,
            page_size: source.page_size.max(1),
            offset: 0,
            page: VecDeque::new(),
            more: true,
            position: 0,
        };
        listing.next_page()?;
        Ok(listing)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_empty(&self) -> bool {
        self.page.is_empty() && !self.more
    }

    fn next_page(&mut self) -> Result<(), ApiError> {
        let target = format!(
            "{}?{}limit={}&offset={}",
            self.path, self.filters, self.page_size, self.offset
        );
        let (results, more) = page(&self.client, &target, NOT_THIS_VERSION)?;
        self.offset += results.len() as u64;
        self.more = more;
        self.page.extend(results);
        Ok(())
    }
}

impl Iterator for Listing {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        if self.page.is_empty()
            && self.more
            && let Err(error) = self.next_page()
        {
            // Later pages cannot be trusted to line up: the listing ends here.
            self.more = false;
            self.position += 1;
            return Some(Entry::Invalid(InvalidRow {
                line: self.position,
                name: None,
                host: None,
                field: "page".into(),
                reason: format!("assets from offset {} not read: {error}", self.offset),
            }));
        }
        let asset = self.page.pop_front()?;
        self.position += 1;
        Some(assets::entry(&asset, self.position, &self.names))
    }
}

const NOT_THIS_VERSION: &str =
    "is --jumpserver-api right? (1.4 for JumpServer 1.4, 3 for 3.x and 4.x; auto finds it)";

/// One page's results, and whether more follow. A 1.4 list without pagination answers
/// with a plain array: all of it.
fn page(
    client: &Client,
    target: &str,
    advice: &'static str,
) -> Result<(Vec<Value>, bool), ApiError> {
    let json = match client.get(target)? {
        Got::Json(json) => json,
        Got::NotFound => {
            return Err(ApiError::NoApi {
                url: client.url(""),
                tried: target.split('?').next().unwrap_or(target).to_string(),
                advice,
            });
        }
    };
    match json {
        Value::Array(all) => Ok((all, false)),
        Value::Object(mut page) => match page.remove("results") {
            Some(Value::Array(results)) => {
                let more = !results.is_empty() && page.get("next").is_some_and(|n| !n.is_null());
                Ok((results, more))
            }
            _ => Err(ApiError::Malformed {
                url: client.url(target),
                reason: "neither a list nor a page of results".into(),
            }),
        },
        _ => Err(ApiError::Malformed {
            url: client.url(target),
            reason: "neither a list nor a page of results".into(),
        }),
    }
}

/// Every item of a (small) list, a page at a time.
fn all(
    client: &Client,
    path: &str,
    filters: &str,
    advice: &'static str,
) -> Result<Vec<Value>, ApiError> {
    const PAGE: u64 = 500;
    let mut items = Vec::new();
    loop {
        let target = format!("{path}?{filters}limit={PAGE}&offset={}", items.len());
        let (results, more) = page(client, &target, advice)?;
        items.extend(results);
        if !more {
            return Ok(items);
        }
    }
}

/// 1.4 names an asset's admin user and domain by id; these lists give their names.
fn v14_names(client: &Client) -> Result<Names, ApiError> {
    let by_id = |path| -> Result<HashMap<String, String>, ApiError> {
        Ok(all(client, path, "", NOT_THIS_VERSION)?
            .iter()
            .filter_map(|item| Some((assets::text(item, "id")?, assets::text(item, "name")?)))
            .collect())
    };
    Ok(Names::V14 {
        admin_users: by_id(V14_ADMIN_USERS)?,
        domains: by_id(V14_DOMAINS)?,
    })
}

/// 3.x/4.x: each asset's privileged account, as JumpServer's automations pick it among
/// the asset's active accounts: privileged first, then the one whose last check passed,
/// then the one updated last.
fn v3_names(client: &Client) -> Result<Names, ApiError> {
    let accounts = all(
        client,
        V3_ACCOUNTS,
        "privileged=true&is_active=true&",
        "JumpServer before 3.0 keeps admin users elsewhere: use --jumpserver-api 1.4 for 1.4, or export the assets of 1.5 to 2.x",
    )?;
    let mut best: HashMap<String, (assets::AccountRank, String)> = HashMap::new();
    for account in &accounts {
        let Some((asset, rank, name)) = assets::privileged_account(account) else {
            continue;
        };
        match best.get(&asset) {
            Some((known, _)) if *known >= rank => {}
            _ => {
                best.insert(asset, (rank, name));
            }
        }
    }
    Ok(Names::V3 {
        privileged: best
            .into_iter()
            .map(|(asset, (_, name))| (asset, name))
            .collect(),
    })
}

/// Query values as a form encodes them; the signature covers them as sent.
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
