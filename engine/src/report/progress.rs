//! Live progress on stderr, only when it is a terminal: rows done of the total (once a
//! count on the side knows it), percentage, elapsed time, ETA, probes in flight, rate and
//! the categories so far. The line is built by [`line`], a pure function; indicatif only
//! draws it.

use std::io::IsTerminal;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Summary;
use crate::category::Lang;
use crate::i18n::Text;
use crate::inventory::{Entry, InventoryReader};
use crate::run::Gauges;

/// Categories named on the line; the rest are only counted.
const TALLY: usize = 3;

pub struct Progress {
    bar: Option<ProgressBar>,
    /// Inventory rows, once counted.
    total: Arc<OnceLock<usize>>,
    started: Instant,
    lang: Lang,
}

impl Progress {
    pub fn new(quiet: bool, lang: Lang) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
            bar.set_style(
                ProgressStyle::with_template("{spinner} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(125));
            bar
        });
        Progress {
            bar,
            total: Arc::default(),
            started: Instant::now(),
            lang,
        }
    }

    /// Whether the line is drawn at all.
    pub fn shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Counts the rows of a second reader of the inventory on a thread of its own, so the
    /// run does not wait for it; the line shows `done/?` until it is known. Only for a
    /// regular file (a pipe can be read once) and only when the line is drawn. `holds`
    /// keeps the rows the run probes (its shard's).
    pub fn count(
        &self,
        inventory: InventoryReader,
        holds: impl Fn(&Entry) -> bool + Send + 'static,
    ) {
        if !self.shown() {
            return;
        }
        let total = self.total.clone();
        std::thread::spawn(move || {
            let _ = total.set(inventory.filter(|entry| holds(entry)).count());
        });
    }

    /// Runs `f` with the bar hidden, so lines written to the same terminal stay intact.
    pub fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Redraws the line from the run's gauges and the records so far.
    pub fn update(&self, summary: &Summary, gauges: &Gauges) {
        if let Some(bar) = &self.bar {
            bar.set_message(line(&Snapshot {
                done: gauges.rows_done(),
                resumed: gauges.rows_resumed(),
                total: self.total.get().copied(),
                elapsed: self.started.elapsed(),
                in_flight: gauges.in_flight(),
                summary,
                lang: self.lang,
            }));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What the progress line shows, at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// Inventory rows this run finished.
    pub done: usize,
    /// Inventory rows passed over because `--resume`'s file has them: through the
    /// inventory, but in no time, so not in the rate.
    pub resumed: usize,
    /// Inventory rows in all, once known.
    pub total: Option<usize>,
    pub elapsed: Duration,
    pub in_flight: usize,
    /// The records' categories so far.
    pub summary: &'a Summary,
    pub lang: Lang,
}

/// `120/1000 12% · 1m05s · ETA 7m56s · 256 in flight · 1.8/s · 100 ok, 15 auth_failed, 5 tcp_timeout`
pub fn line(s: &Snapshot) -> String {
    let lang = s.lang;
    let seconds = s.elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        s.done as f64 / seconds
    } else {
        0.0
    };
    let through = s.done + s.resumed;
    let resumed = Text::ProgressResumed.fill(lang, &[("n", &s.resumed)]);
    let mut parts = Vec::new();
    match s.total {
        Some(total) => {
            // An empty inventory is all done.
            let percent = (through.min(total) * 100).checked_div(total).unwrap_or(100);
            parts.push(format!("{through}/{total} {percent}%"));
            if s.resumed > 0 {
                parts.push(resumed);
            }
            parts.push(clock(s.elapsed));
            let left = total.saturating_sub(through);
            if left > 0 && rate > 0.0 {
                let left = clock(Duration::from_secs_f64(left as f64 / rate));
                parts.push(Text::ProgressEta.fill(lang, &[("left", &left)]));
            }
        }
        None => {
            parts.push(format!("{through}/?"));
            if s.resumed > 0 {
                parts.push(resumed);
            }
            parts.push(clock(s.elapsed));
        }
    }
    parts.push(Text::ProgressInFlight.fill(lang, &[("n", &s.in_flight)]));
    parts.push(Text::ProgressRate.fill(lang, &[("rate", &per_second(rate))]));
    let tally = tally(s.summary, lang);
    if !tally.is_empty() {
        parts.push(tally);
    }
    parts.join(" · ")
}

/// Two or three significant digits: enough to see a trend, not so many that they flicker.
fn per_second(rate: f64) -> String {
    if rate >= 100.0 {
        format!("{rate:.0}")
    } else if rate >= 1.0 {
        format!("{rate:.1}")
    } else {
        format!("{rate:.2}")
    }
}

/// `42s`, `1m05s`, `2h03m`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// The most frequent categories, then how many others there are.
fn tally(summary: &Summary, lang: Lang) -> String {
    let ranked = summary.ranked();
    let mut named: Vec<String> = ranked
        .iter()
        .take(TALLY)
        .map(|(c, n)| format!("{n} {c}"))
        .collect();
    let others = ranked.len().saturating_sub(TALLY);
    if others > 0 {
        named.push(Text::ProgressMore.fill(lang, &[("n", &others)]));
    }
    named.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;

    fn summary(counts: &[(Category, usize)]) -> Summary {
        let mut summary = Summary::default();
        for &(category, n) in counts {
            for _ in 0..n {
                summary.add(category);
            }
        }
        summary
    }

    #[test]
    fn a_known_total_gives_percentage_and_eta() {
        let summary = summary(&[
            (Category::Ok, 100),
            (Category::AuthFailed, 15),
            (Category::TcpTimeout, 5),
        ]);
        let snapshot = Snapshot {
            done: 120,
            resumed: 0,
            total: Some(1000),
            elapsed: Duration::from_secs(65),
            in_flight: 256,
            summary: &summary,
            lang: Lang::En,
        };
        assert_eq!(
            line(&snapshot),
            "120/1000 12% · 1m05s · ETA 7m56s · 256 in flight · 1.8/s · 100 ok, 15 auth_failed, 5 tcp_timeout"
        );
    }

    #[test]
    fn an_unknown_total_shows_a_question_mark_and_no_eta() {
        let summary = summary(&[]);
        let snapshot = Snapshot {
            done: 0,
            resumed: 0,
            total: None,
            elapsed: Duration::ZERO,
            in_flight: 3,
            summary: &summary,
            lang: Lang::En,
        };
        assert_eq!(line(&snapshot), "0/? · 0s · 3 in flight · 0.00/s");
    }

    #[test]
    fn the_tally_names_the_largest_categories_and_counts_the_rest() {
        let summary = summary(&[
            (Category::Ok, 4),
            (Category::AuthFailed, 3),
            (Category::TcpRefused, 2),
            (Category::TcpTimeout, 1),
            (Category::Interrupted, 1),
        ]);
        let snapshot = Snapshot {
            done: 11,
            resumed: 0,
            total: Some(11),
            elapsed: Duration::from_secs(7300),
            in_flight: 0,
            summary: &summary,
            lang: Lang::En,
        };
        assert_eq!(
            line(&snapshot),
            "11/11 100% · 2h01m · 0 in flight · 0.00/s · 4 ok, 3 auth_failed, 2 tcp_refused, +2 more"
        );
    }

    /// Rows a resumed run passes over count toward the total, not toward the rate: 900
    /// resumed at once and 50 probed in 50 s leave 50 rows at 1/s.
    #[test]
    fn resumed_rows_are_through_but_not_in_the_rate() {
        let summary = summary(&[]);
        let snapshot = Snapshot {
            done: 50,
            resumed: 900,
            total: Some(1000),
            elapsed: Duration::from_secs(50),
            in_flight: 4,
            summary: &summary,
            lang: Lang::En,
        };
        assert_eq!(
            line(&snapshot),
            "950/1000 95% · 900 resumed · 50s · ETA 50s · 4 in flight · 1.0/s"
        );
    }

    #[test]
    fn the_line_speaks_chinese_and_keeps_category_ids() {
        let summary = summary(&[
            (Category::Ok, 4),
            (Category::AuthFailed, 3),
            (Category::TcpRefused, 2),
            (Category::TcpTimeout, 1),
        ]);
        let snapshot = Snapshot {
            done: 10,
            resumed: 90,
            total: Some(200),
            elapsed: Duration::from_secs(10),
            in_flight: 4,
            summary: &summary,
            lang: Lang::Zh,
        };
        assert_eq!(
            line(&snapshot),
            "100/200 50% · 90 个已在结果中 · 10s · 预计剩余 1m40s · 4 个检测中 · 1.0/秒 · 4 ok, 3 auth_failed, 2 tcp_refused, 另有 1 类"
        );
    }

    #[test]
    fn rates_keep_two_or_three_significant_digits() {
        assert_eq!(per_second(1234.567), "1235");
        assert_eq!(per_second(12.345), "12.3");
        assert_eq!(per_second(0.256), "0.26");
    }
}
