//! Counts per category, for the progress line, the end-of-run summary and the exit status.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use crate::category::{Category, Lang};
use crate::i18n::Text;
use crate::probe::human_duration;
use crate::run::{Shard, ShardRows};
use crate::text::pad;

#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub counts: BTreeMap<Category, usize>,
    /// Assets whose probe died without a result (a bug); they count as failures.
    pub lost: usize,
    /// Results a resumed run found in its file: counted, but not probed by this run.
    pub resumed: usize,
    pub elapsed: Duration,
    /// Set when the run was stopped early.
    pub interruption: Option<Interruption>,
    /// `--shard`: which, and its share of the rows read.
    pub shard: Option<(Shard, ShardRows)>,
}

/// How a run stopped early went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Interruption {
    /// What stopped it (`SIGINT`).
    pub by: &'static str,
    /// Probes still under way when the grace ran out, recorded as `interrupted`.
    pub cut_short: usize,
    /// Inventory rows never reached: no record, and no probe.
    pub not_probed: usize,
    /// Whether `not_probed` is all of them: counting stops with the grace, and an
    /// inventory on a pipe may not have ended by then.
    pub all_counted: bool,
}

impl Interruption {
    /// What became of the rows not reached, as far as the run knows.
    fn not_probed(&self, lang: Lang) -> String {
        let n = self.not_probed;
        match (self.all_counted, n) {
            (true, _) => Text::NotProbedCounted.fill(lang, &[("n", &n)]),
            (false, 0) => Text::NotProbedUncounted.get(lang).to_string(),
            (false, _) => Text::NotProbedAtLeast.fill(lang, &[("n", &n)]),
        }
    }
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

    /// Results this run gave (not found in a resumed file) per second.
    pub fn rate(&self) -> f64 {
        let new = self.total().saturating_sub(self.resumed);
        new as f64 / self.elapsed.as_secs_f64().max(0.001)
    }

    /// The summary for people, in `lang`; category ids stay as they are.
    pub fn write(&self, out: &mut dyn Write, lang: Lang) -> io::Result<()> {
        let total = self.total();
        let elapsed = human_duration(self.elapsed);
        let rate = format!("{:.1}", self.rate());
        let timing = match self.resumed {
            0 => Text::SummaryTiming.fill(lang, &[("elapsed", &elapsed), ("rate", &rate)]),
            resumed => Text::SummaryTimingResumed.fill(
                lang,
                &[
                    ("resumed", &resumed),
                    ("new", &total.saturating_sub(resumed)),
                    ("elapsed", &elapsed),
                    ("rate", &rate),
                ],
            ),
        };
        // Cut short is not a verdict on the asset: said apart from the ones not ok.
        let interrupted = self.count(Category::Interrupted);
        let totals = Text::SummaryTotals.fill(
            lang,
            &[
                ("total", &total),
                ("timing", &timing),
                ("ok", &self.count(Category::Ok)),
                ("failed", &(self.failed() - interrupted)),
                ("skipped", &self.count(Category::Skipped)),
            ],
        );
        write!(out, "{totals}")?;
        if interrupted > 0 {
            write!(
                out,
                "{}",
                Text::SummaryInterrupted.fill(lang, &[("n", &interrupted)])
            )?;
        }
        writeln!(out)?;
        if let Some(i) = &self.interruption {
            let line = Text::SummaryInterruptedBy.fill(
                lang,
                &[
                    ("signal", &i.by),
                    ("cut_short", &i.cut_short),
                    ("category", &Category::Interrupted.id()),
                    ("not_probed", &i.not_probed(lang)),
                ],
            );
            writeln!(out, "{line}")?;
        }
        if let Some((shard, rows)) = &self.shard {
            let line = Text::SummaryShard.fill(
                lang,
                &[
                    ("index", &shard.index()),
                    ("count", &shard.count()),
                    ("here", &rows.here),
                    ("all", &rows.all),
                ],
            );
            writeln!(out, "{line}")?;
        }
        let ids = Category::id_width();
        for (category, n) in self.ranked() {
            writeln!(out, "  {} {n:>7}", pad(category.id(), ids))?;
        }
        if self.lost > 0 {
            writeln!(
                out,
                "  {} {:>7}  {}",
                pad("lost", ids),
                self.lost,
                Text::SummaryLost.get(lang)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_run_says_what_was_not_finished() {
        let mut summary = Summary {
            elapsed: Duration::from_secs(2),
            interruption: Some(Interruption {
                by: "SIGTERM",
                cut_short: 3,
                not_probed: 120,
                all_counted: true,
            }),
            ..Summary::default()
        };
        summary.add(Category::Ok);
        for _ in 0..3 {
            summary.add(Category::Interrupted);
        }
        let mut out = Vec::new();
        summary.write(&mut out, Lang::En).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("4 assets in 2s (2.0/s): 1 ok, 0 not ok, 0 skipped, 3 interrupted\n"),
            "{text}"
        );
        assert!(
            text.contains("interrupted by SIGTERM: 3 probe(s) cut short (recorded as interrupted), 120 inventory row(s) not probed"),
            "{text}"
        );
        assert!(text.contains("  interrupted "), "{text}");
    }

    #[test]
    fn the_summary_speaks_chinese_and_keeps_category_ids() {
        let mut summary = Summary {
            elapsed: Duration::from_secs(4),
            resumed: 90,
            interruption: Some(Interruption {
                by: "SIGINT",
                cut_short: 1,
                not_probed: 7,
                all_counted: true,
            }),
            ..Summary::default()
        };
        for _ in 0..99 {
            summary.add(Category::Ok);
        }
        summary.add(Category::Interrupted);
        let mut out = Vec::new();
        summary.write(&mut out, Lang::Zh).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "共 100 个资产（90 个来自续跑的结果文件，本次新增 10 个，用时 4s，2.5/秒）：99 个正常，0 个异常，0 个跳过，1 个被中断\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "被 SIGINT 中断：1 个检测未完成（记为 interrupted），7 行清单未检测（无记录）"
            ),
            "{text}"
        );
        assert!(text.contains("\n  ok "), "{text}");
    }

    fn written(summary: &Summary) -> String {
        let mut out = Vec::new();
        summary.write(&mut out, Lang::En).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rows_not_counted_by_the_end_of_the_grace_are_not_claimed() {
        let mut interruption = Interruption {
            by: "SIGINT",
            cut_short: 1,
            not_probed: 5,
            all_counted: false,
        };
        let summary = |interruption: &Interruption| Summary {
            interruption: Some(interruption.clone()),
            ..Summary::default()
        };
        let text = written(&summary(&interruption));
        assert!(
            text.contains("(recorded as interrupted), at least 5 inventory row(s) not probed"),
            "{text}"
        );
        interruption.not_probed = 0;
        let text = written(&summary(&interruption));
        assert!(
            text.contains("inventory rows not probed were not counted")
                && !text.contains("0 inventory row"),
            "{text}"
        );
    }

    #[test]
    fn the_rate_counts_only_what_this_run_probed() {
        let mut summary = Summary {
            elapsed: Duration::from_secs(4),
            resumed: 90,
            ..Summary::default()
        };
        for _ in 0..100 {
            summary.add(Category::Ok);
        }
        assert_eq!(summary.rate(), 2.5);
        let text = written(&summary);
        assert!(
            text.starts_with("100 assets (90 from the resumed file, 10 new in 4s, 2.5/s): 100 ok"),
            "{text}"
        );
    }
}
