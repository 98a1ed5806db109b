//! Results files read back: the JSONL or CSV a run wrote, for `--resume` (what is done),
//! `--from` (what to probe again) and `diff` (what changed between two runs).
//!
//! A results file is untrusted input like an inventory: every record is bounded
//! ([`MAX_RECORD`]), a bad one is an error naming its line, and the last line of a run that
//! was killed mid-write is ignored.

mod diff;
mod identity;
mod read;
mod select;

#[cfg(test)]
mod tests;

pub use diff::{Change, Difference, diff};
pub use identity::Identity;
pub use read::{ResultsError, ResultsFormat, ResultsReader};
pub use select::{Done, Pick, assets};

use crate::category::Category;

/// The longest record a results file may hold, in bytes: the inventory's longest row, as
/// the same splitter cuts both. A record the prober writes stays far below it.
pub const MAX_RECORD: usize = crate::inventory::MAX_ROW;

/// One record read back: whom it is about, its verdict, and what probing it again takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Line of the results file the record starts on (1-based).
    pub line: u64,
    pub name: String,
    pub system_user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// The category's id as written, so results of a newer prober still read.
    pub category: String,
    pub admin_user: Option<String>,
    pub gateway: Option<String>,
    pub system_users: Vec<String>,
    pub asset_id: Option<String>,
    pub nodes: Vec<String>,
}

impl Recorded {
    pub fn identity(&self) -> Identity {
        Identity::new(
            &self.name,
            &self.host,
            self.port,
            self.system_user.as_deref(),
        )
    }

    /// The category, when this prober knows it.
    pub fn known_category(&self) -> Option<Category> {
        self.category.parse().ok()
    }

    /// Whether the asset needs attention: a verdict that needs action, a category this
    /// prober does not know (a newer one) and `interrupted` (no verdict yet, so `--failed`
    /// probes it again). `diff` tells `interrupted` apart: it is no failure of the asset.
    pub fn failing(&self) -> bool {
        self.known_category().is_none_or(Category::needs_action)
    }

    /// A probe a signal cut short: not a verdict, so `--resume` probes the asset again.
    pub fn interrupted(&self) -> bool {
        self.known_category() == Some(Category::Interrupted)
    }
}
