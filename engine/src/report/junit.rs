//! JUnit XML, one test case per result, so CI systems show the verdicts; each case's
//! output holds the whole record. The counts go in the opening tags, so the cases are kept
//! until the end.

use std::io::{self, Write};

use super::{Record, Sink, Summary};
use crate::category::Category;
use crate::text::xml;

pub struct Junit {
    out: Box<dyn Write + Send>,
    suite: String,
    cases: Vec<String>,
    failures: usize,
    skipped: usize,
}

impl Junit {
    pub fn new(out: Box<dyn Write + Send>, suite: &str) -> Junit {
        Junit {
            out,
            suite: suite.to_string(),
            cases: Vec::new(),
            failures: 0,
            skipped: 0,
        }
    }
}

impl Sink for Junit {
    fn record(&mut self, r: &Record) -> io::Result<()> {
        let name = r.display_name();
        let mut case = format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            xml(&format!(
                "prober.{}",
                r.category.stage().map_or("any", |s| s.id())
            )),
            xml(&name),
            r.duration_ms as f64 / 1000.0
        );
        match r.category {
            Category::Ok => {}
            Category::Skipped => {
                self.skipped += 1;
                case.push_str(&format!("<skipped message=\"{}\"/>", xml(&r.message)));
            }
            category => {
                self.failures += 1;
                case.push_str(&format!(
                    "<failure type=\"{}\" message=\"{}\">{}</failure>",
                    category.id(),
                    xml(&format!("{}: {}", category.id(), r.message)),
                    xml(r.hint)
                ));
            }
        }
        // The whole record, field by field, for whoever opens the test case.
        let fields: Vec<String> = r
            .texts()
            .iter()
            .filter(|(_, text)| !text.is_empty())
            .map(|(name, text)| format!("{name}: {text}"))
            .collect();
        case.push_str(&format!(
            "<system-out>{}</system-out></testcase>",
            xml(&fields.join("\n"))
        ));
        self.cases.push(case);
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let (tests, time) = (self.cases.len(), summary.elapsed.as_secs_f64());
        let counts = format!(
            "tests=\"{tests}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{time:.3}\"",
            self.failures, self.skipped
        );
        writeln!(self.out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(self.out, "<testsuites name=\"prober\" {counts}>")?;
        writeln!(
            self.out,
            "  <testsuite name=\"{}\" {counts}>",
            xml(&self.suite)
        )?;
        for case in &self.cases {
            writeln!(self.out, "{case}")?;
        }
        writeln!(self.out, "  </testsuite>\n</testsuites>")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::{Lang, Stage};

    #[test]
    fn a_case_carries_the_record_in_field_order() {
        let mut junit = Junit::new(Box::new(std::io::Cursor::new(Vec::new())), "prober check");
        let record = Record::bare(
            "a<b".into(),
            "10.0.0.1".into(),
            Some(22),
            Category::TcpRefused,
            Stage::Connect,
            "refused".into(),
            Lang::En,
        );
        junit.record(&record).unwrap();
        let case = &junit.cases[0];
        assert!(case.contains("name=\"a&lt;b\""), "{case}");
        let shown: Vec<usize> = ["name: ", "host: ", "port: ", "category: ", "duration_ms: "]
            .iter()
            .map(|f| case.find(f).unwrap_or_else(|| panic!("{f} in {case}")))
            .collect();
        assert!(shown.windows(2).all(|w| w[0] < w[1]), "{case}");
        assert!(!case.contains("ip: "), "empty fields are left out: {case}");
    }
}
