//! Counts per category, for the progress line, the end-of-run summary and the exit status.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use crate::category::Category;
use crate::probe::human_duration;

#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub counts: BTreeMap<Category, usize>,
    /// Assets whose probe died without a result (a bug); they count as failures.
    pub lost: usize,
    pub elapsed: Duration,
}

impl Summary {
    pub fn add(&mut self, category: Category) {
        *self.counts.entry(category).or_default() += 1;
    }

    pub fn total(&self) -> usize {
        self.counts.values().sum::<usize>() + self.lost
    }

    pub fn count(&self, category: Category) -> usize {
        self.counts.get(&category).copied().unwrap_or(0)
    }

    /// Active assets that are not ok.
    pub fn failed(&self) -> usize {
        let needing_action: usize = self
            .counts
            .iter()
            .filter(|(c, _)| c.needs_action())
            .map(|(_, n)| n)
            .sum();
        needing_action + self.lost
    }

    pub fn all_ok(&self) -> bool {
        self.failed() == 0
    }

    /// Categories by count, largest first.
    pub fn ranked(&self) -> Vec<(Category, usize)> {
        let mut ranked: Vec<(Category, usize)> =
            self.counts.iter().map(|(c, n)| (*c, *n)).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }

    /// "30 ok, 5 auth_failed, …" for the progress line.
    pub fn short(&self) -> String {
        self.ranked()
            .iter()
            .map(|(c, n)| format!("{n} {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let total = self.total();
        let rate = total as f64 / self.elapsed.as_secs_f64().max(0.001);
        writeln!(
            out,
            "{total} assets in {} ({rate:.1}/s): {} ok, {} not ok, {} skipped",
            human_duration(self.elapsed),
            self.count(Category::Ok),
            self.failed(),
            self.count(Category::Skipped),
        )?;
        for (category, n) in self.ranked() {
            writeln!(out, "  {:<26} {n:>7}", category.id())?;
        }
        if self.lost > 0 {
            writeln!(
                out,
                "  {:<26} {:>7}  (internal error: please report)",
                "lost", self.lost
            )?;
        }
        Ok(())
    }
}
