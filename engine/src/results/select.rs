//! What a results file says for another run: which assets are done (`--resume`), and
//! which to probe again, rebuilt from the records alone (`--from`).

use std::collections::{HashMap, HashSet};

use super::{Identity, Recorded, ResultsError};
use crate::category::Category;
use crate::inventory::{Asset, Entry, InvalidRow, fields};
use crate::probe::KOKO_RESULTS;

/// The identities a results file has a verdict for (everything but `interrupted`), each
/// with its latest category.
#[derive(Debug, Default)]
pub struct Done {
    categories: HashMap<Identity, String>,
}

impl Done {
    pub fn read(
        records: impl IntoIterator<Item = Result<Recorded, ResultsError>>,
    ) -> Result<Done, ResultsError> {
        let mut done = Done::default();
        for record in records {
            let record = record?;
            if record.interrupted() {
                continue;
            }
            done.categories.insert(record.identity(), record.category);
        }
        Ok(done)
    }

    pub fn contains(&self, identity: &Identity) -> bool {
        self.categories.contains_key(identity)
    }

    /// Whether every result this asset would get is there.
    pub fn all(&self, mut identities: impl Iterator<Item = Identity>) -> bool {
        identities.all(|identity| self.contains(&identity))
    }

    pub fn len(&self) -> usize {
        self.categories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
    }

    /// The verdicts already in the file, by category id.
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.categories.values().map(String::as_str)
    }
}

/// Which assets of a results file to probe again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    All,
    /// Those with a category that needs action.
    Failing,
    Only(Vec<Category>),
}

impl Pick {
    fn wants(&self, record: &Recorded) -> bool {
        match self {
            Pick::All => true,
            Pick::Failing => record.failing(),
            Pick::Only(categories) => categories.iter().any(|c| c.id() == record.category),
        }
    }
}

/// One asset's records, gathered in file order.
struct Gathered {
    first: Recorded,
    /// The latest record of each of its identities (its own, its system users').
    latest: HashMap<Identity, Recorded>,
    system_users: Vec<String>,
    /// The same names, to keep a hostile file's long lists linear.
    seen: HashSet<String>,
}

/// The assets whose latest results `pick` wants, as inventory entries, in the order the
/// file first names them; a record that cannot be probed again (a bad inventory row had
/// no address) is an invalid entry naming its line of the results file.
pub fn assets(
    records: impl IntoIterator<Item = Result<Recorded, ResultsError>>,
    pick: &Pick,
) -> Result<Vec<Entry>, ResultsError> {
    let mut order: Vec<Identity> = Vec::new();
    let mut gathered: HashMap<Identity, Gathered> = HashMap::new();
    for record in records {
        let record = record?;
        if about_the_gateway(&record) {
            continue;
        }
        let identity = record.identity();
        let key = identity.asset();
        let asset = gathered.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            Gathered {
                first: record.clone(),
                latest: HashMap::new(),
                system_users: Vec::new(),
                seen: HashSet::new(),
            }
        });
        // Every record of an asset lists all its system users; results of an older
        // prober only name them on their own records.
        // A list cut to keep the record small ends with how many it left out: the users
        // named are probed, and the cut ones are not known.
        let named = record.system_users.iter().chain(&record.system_user);
        for user in named.filter(|user| !crate::text::is_more(user)) {
            if asset.seen.insert(user.clone()) {
                asset.system_users.push(user.clone());
            }
        }
        asset.latest.insert(identity, record);
    }
    Ok(order
        .into_iter()
        .filter_map(|key| gathered.remove(&key))
        .filter(|asset| asset.latest.values().any(|r| pick.wants(r)))
        .map(entry)
        .collect())
}

/// `prober gateway`'s results about the gateway itself are no inventory row.
fn about_the_gateway(record: &Recorded) -> bool {
    KOKO_RESULTS.contains(&record.name.as_str())
        && record.admin_user.is_none()
        && record.system_users.is_empty()
        && record.system_user.is_none()
}

fn entry(asset: Gathered) -> Entry {
    // The row's fields as the latest record gave them.
    let row = asset
        .latest
        .values()
        .max_by_key(|r| r.line)
        .unwrap_or(&asset.first);
    let first = &asset.first;
    let invalid = |field: &str, reason: String| {
        Entry::Invalid(InvalidRow {
            line: first.line,
            name: Some(first.name.clone()),
            host: Some(first.host.clone()),
            field: field.into(),
            reason,
        })
    };
    let host = match fields::host(&first.host) {
        Ok(host) => host,
        Err(reason) => return invalid("host", format!("cannot probe it again: {reason}")),
    };
    let Some(port) = first.port else {
        return invalid(
            "port",
            "cannot probe it again: the result has no port (fix the inventory row and run it)"
                .into(),
        );
    };
    Entry::Asset(Asset {
        line: first.line,
        name: first.name.clone(),
        host,
        port,
        port_given: true,
        admin_user: row.admin_user.clone(),
        system_users: asset.system_users,
        jump_host: row.gateway.clone(),
        platform: None,
        id: row.asset_id.clone(),
        nodes: row.nodes.clone(),
        skip: None,
    })
}
