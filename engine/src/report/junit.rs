//! JUnit XML, one test case per result, as CI systems read it (Jenkins' junit plugin,
//! GitLab's test reports, GitHub Actions' report actions). Their test history follows a
//! case by class and name, so both say which asset the case is about, never how it went:
//! the class is the source of the assets (the same from run to run), the name the
//! result's identity. The verdict goes in the case's properties, failure and output. The
//! counts go in the opening tags, so the cases are kept until the end.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::SystemTime;

use super::{Record, Sink, Summary, Title};
use crate::category::Category;
use crate::results::Identity;
use crate::text::xml;

pub struct Junit {
    out: Box<dyn Write + Send>,
    suite: String,
    class: String,
    started: SystemTime,
    cases: Vec<String>,
    /// How many cases had each name so far, to tell apart rows listed twice.
    named: HashMap<String, usize>,
    failures: usize,
    skipped: usize,
}

impl Junit {
    pub fn new(out: Box<dyn Write + Send>, title: Title<'_>) -> Junit {
        Junit {
            out,
            suite: title.command.to_string(),
            class: class_name(title.source),
            started: SystemTime::now(),
            cases: Vec::new(),
            named: HashMap::new(),
            failures: 0,
            skipped: 0,
        }
    }

    /// The case's name, made unique in this file: CI systems merge cases of one name.
    fn unique_name(&mut self, record: &Record) -> String {
        let name = case_name(&Identity::of(record));
        let seen = self.named.entry(name.clone()).or_default();
        *seen += 1;
        match *seen {
            1 => name,
            n => format!("{name} #{n}"),
        }
    }
}

/// `prober.<source>`. Jenkins takes what comes before a class's last dot for its package,
/// so dots, spaces and other punctuation in the source become `_`: the class stays one
/// level under `prober` whatever the inventory file is called.
fn class_name(source: &str) -> String {
    let safe: String = source
        .chars()
        .map(|c| match c {
            c if c.is_alphanumeric() || c == '-' || c == '_' => c,
            _ => '_',
        })
        .collect();
    match safe.is_empty() {
        true => "prober.inventory".to_string(),
        false => format!("prober.{safe}"),
    }
}

/// `name (host:port)`, then `as user` for a system user's result: what identifies a
/// result (two assets may share a name), the way people read it; IPv6 in brackets.
fn case_name(identity: &Identity) -> String {
    let address = identity.address();
    let mut name = match address.is_empty() {
        true => identity.name.clone(),
        false => format!("{} ({address})", identity.name),
    };
    if let Some(user) = &identity.system_user {
        name.push_str(" as ");
        name.push_str(user);
    }
    name
}

impl Sink for Junit {
    fn record(&mut self, r: &Record) -> io::Result<()> {
        let name = self.unique_name(r);
        let mut case = format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            xml(&self.class),
            xml(&name),
            r.duration_ms as f64 / 1000.0
        );
        // Jenkins keeps a case's properties with `keepProperties: true`; other readers skip them.
        case.push_str(&format!(
            "<properties><property name=\"category\" value=\"{}\"/><property name=\"stage\" value=\"{}\"/></properties>",
            r.category.id(),
            r.stage.id()
        ));
        match r.category {
            Category::Ok => {}
            Category::Skipped => {
                self.skipped += 1;
                case.push_str(&format!("<skipped message=\"{}\"/>", xml(&r.message)));
            }
            category => {
                self.failures += 1;
                // GitLab shows the failure's text alone: it says it all.
                case.push_str(&format!(
                    "<failure type=\"{}\" message=\"{}\">{}</failure>",
                    category.id(),
                    xml(&r.message),
                    xml(&format!("{}: {}\n{}", category.id(), r.message, r.hint))
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
            "tests=\"{tests}\" failures=\"{}\" errors=\"0\"",
            self.failures
        );
        let timestamp = humantime::format_rfc3339_seconds(self.started);
        let hostname = nix::unistd::gethostname()
            .map(|name| format!(" hostname=\"{}\"", xml(&name.to_string_lossy())))
            .unwrap_or_default();
        writeln!(self.out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(
            self.out,
            "<testsuites name=\"prober\" {counts} time=\"{time:.3}\">"
        )?;
        writeln!(
            self.out,
            "  <testsuite name=\"{}\" {counts} skipped=\"{}\" time=\"{time:.3}\" timestamp=\"{timestamp}\"{hostname}>",
            xml(&self.suite),
            self.skipped
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

    fn junit() -> Junit {
        let title = Title {
            command: "prober check",
            source: "assets",
        };
        Junit::new(Box::new(io::Cursor::new(Vec::new())), title)
    }

    fn refused(name: &str, host: &str, port: Option<u16>) -> Record {
        Record::bare(
            name.into(),
            host.into(),
            port,
            Category::TcpRefused,
            Stage::Connect,
            "refused".into(),
            Lang::En,
        )
    }

    #[test]
    fn a_case_carries_the_record_in_field_order() {
        let mut junit = junit();
        junit.record(&refused("a<b", "10.0.0.1", Some(22))).unwrap();
        let case = &junit.cases[0];
        assert!(case.contains("name=\"a&lt;b (10.0.0.1:22)\""), "{case}");
        let shown: Vec<usize> = ["name: ", "host: ", "port: ", "category: ", "duration_ms: "]
            .iter()
            .map(|f| case.find(f).unwrap_or_else(|| panic!("{f} in {case}")))
            .collect();
        assert!(shown.windows(2).all(|w| w[0] < w[1]), "{case}");
        assert!(!case.contains("ip: "), "empty fields are left out: {case}");
    }

    #[test]
    fn the_class_is_the_source_one_level_under_prober() {
        assert_eq!(class_name("assets"), "prober.assets");
        assert_eq!(class_name("prod.v2 east"), "prober.prod_v2_east");
        assert_eq!(class_name("资产-2"), "prober.资产-2");
        assert_eq!(class_name(""), "prober.inventory");
    }

    #[test]
    fn names_tell_results_apart() {
        let mut junit = junit();
        let mut deploy = refused("web", "10.0.0.5", Some(22));
        deploy.system_user = Some("deploy".into());
        for record in [
            refused("web", "10.0.0.5", Some(22)),
            refused("web", "10.0.0.6", Some(22)),
            deploy,
            refused("v6", "::1", Some(2222)),
            refused("bad", "not a host", None),
            refused("web", "10.0.0.5", Some(22)),
        ] {
            junit.record(&record).unwrap();
        }
        let names: Vec<String> = junit
            .cases
            .iter()
            .map(|case| {
                let start = case.find(" name=\"").unwrap() + 7;
                case[start..start + case[start..].find('"').unwrap()].to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "web (10.0.0.5:22)",
                "web (10.0.0.6:22)",
                "web (10.0.0.5:22) as deploy",
                "v6 ([::1]:2222)",
                "bad (not a host)",
                "web (10.0.0.5:22) #2",
            ]
        );
        assert!(
            junit
                .cases
                .iter()
                .all(|case| case.contains("classname=\"prober.assets\""))
        );
    }
}
