//! What changed between two runs' results, subject by subject (an asset's own result, or
//! one of its system users'): the latest record of each identity in each file is compared.

use std::collections::HashMap;

use super::{Identity, Recorded};
use crate::category::Lang;
use crate::i18n::Text;

/// How a subject's verdict changed, in the order a report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// Was ok (or skipped), now needs action.
    NewlyFailing,
    /// Needed action, now does not.
    Fixed,
    /// Another category on the same side: failing for another reason, or ok ↔ skipped.
    Changed,
    /// Only in the new results.
    Added,
    /// Only in the old results.
    Removed,
    /// `interrupted` on one side: a run stopped before this subject's probe ended, so
    /// there is nothing to compare with.
    NotProbed,
}

impl Change {
    pub const ALL: [Change; 6] = [
        Change::NewlyFailing,
        Change::Fixed,
        Change::Changed,
        Change::Added,
        Change::Removed,
        Change::NotProbed,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Change::NewlyFailing => "newly_failing",
            Change::Fixed => "fixed",
            Change::Changed => "changed",
            Change::Added => "added",
            Change::Removed => "removed",
            Change::NotProbed => "not_probed",
        }
    }

    pub fn title(self, lang: Lang) -> &'static str {
        let title = match self {
            Change::NewlyFailing => Text::NewlyFailing,
            Change::Fixed => Text::Fixed,
            Change::Changed => Text::ChangedCategory,
            Change::Added => Text::Added,
            Change::Removed => Text::Removed,
            Change::NotProbed => Text::NotProbed,
        };
        title.get(lang)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub change: Change,
    pub identity: Identity,
    /// The category ids before and after; `None` on the side that lacks the subject.
    pub old: Option<String>,
    pub new: Option<String>,
    /// Whether the subject needs action now: a newly failing one, or one that fails with
    /// nothing known before (added, or interrupted in the old results). An interrupted
    /// probe in the new results never is one: nothing is known about the asset.
    pub new_failure: bool,
}

/// Each identity's latest record, and the order the file first names them in.
fn latest(
    records: impl IntoIterator<Item = Recorded>,
) -> (Vec<Identity>, HashMap<Identity, Recorded>) {
    let mut order = Vec::new();
    let mut latest = HashMap::new();
    for record in records {
        let identity = record.identity();
        if latest.insert(identity.clone(), record).is_none() {
            order.push(identity);
        }
    }
    (order, latest)
}

/// The differences, by kind of change, then in the order the new results (the old ones,
/// for removed subjects) name them.
pub fn diff(
    old: impl IntoIterator<Item = Recorded>,
    new: impl IntoIterator<Item = Recorded>,
) -> Vec<Difference> {
    let (old_order, mut old) = latest(old);
    let (new_order, new) = latest(new);
    let mut found = Vec::new();
    for identity in new_order {
        let now = &new[&identity];
        let was = old.remove(&identity);
        let change = match &was {
            None => Change::Added,
            Some(was) if was.category == now.category => continue,
            Some(was) if was.interrupted() || now.interrupted() => Change::NotProbed,
            Some(was) => match (was.failing(), now.failing()) {
                (false, true) => Change::NewlyFailing,
                (true, false) => Change::Fixed,
                _ => Change::Changed,
            },
        };
        let unknown_before = was.as_ref().is_none_or(Recorded::interrupted);
        found.push(Difference {
            change,
            new_failure: !now.interrupted()
                && now.failing()
                && (change == Change::NewlyFailing || unknown_before),
            old: was.map(|r| r.category),
            new: Some(now.category.clone()),
            identity,
        });
    }
    for identity in old_order {
        if let Some(was) = old.remove(&identity) {
            found.push(Difference {
                change: Change::Removed,
                identity,
                old: Some(was.category),
                new: None,
                new_failure: false,
            });
        }
    }
    // A stable sort keeps each kind in file order.
    found.sort_by_key(|d| d.change);
    found
}
