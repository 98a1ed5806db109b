//! JUnit as CI systems read it: valid against the schema of what their readers accept
//! (tests/data/junit.xsd), one class per inventory whatever the outcomes, so that Jenkins'
//! and GitLab's test history follows each asset from run to run, and one name per result.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::lab::{Lab, scenarios};

use crate::util::{args, prober, prober_with_env, prober_with_stdin};

/// One test case as CI reads it.
#[derive(Debug)]
struct Case {
    class: String,
    name: String,
    /// The `category` and `stage` properties.
    properties: BTreeMap<String, String>,
    /// `ok`, `skipped`, or the failure's type.
    verdict: String,
}

/// The cases of a JUnit file, after checking its counts agree with them.
fn cases(xml: &str) -> Vec<Case> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a test suite");
    let cases: Vec<Case> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|case| {
            let child = |tag: &str| case.children().find(|n| n.has_tag_name(tag));
            let verdict = match (child("failure"), child("skipped")) {
                (Some(failure), _) => failure.attribute("type").unwrap().to_string(),
                (None, Some(_)) => "skipped".to_string(),
                (None, None) => "ok".to_string(),
            };
            let properties = child("properties")
                .into_iter()
                .flat_map(|p| p.children().filter(|n| n.has_tag_name("property")))
                .map(|p| {
                    let attribute = |name| p.attribute(name).unwrap().to_string();
                    (attribute("name"), attribute("value"))
                })
                .collect();
            Case {
                class: case.attribute("classname").unwrap().to_string(),
                name: case.attribute("name").unwrap().to_string(),
                properties,
                verdict,
            }
        })
        .collect();
    let count = |verdict: fn(&str) -> bool| {
        let n = cases.iter().filter(|c| verdict(&c.verdict)).count();
        Some(n.to_string())
    };
    let counted = |name| suite.attribute(name).map(str::to_string);
    assert_eq!(counted("tests"), count(|_| true), "{xml}");
    assert_eq!(counted("skipped"), count(|v| v == "skipped"), "{xml}");
    assert_eq!(
        counted("failures"),
        count(|v| v != "ok" && v != "skipped"),
        "{xml}"
    );
    for attribute in ["time", "timestamp", "hostname"] {
        assert!(suite.attribute(attribute).is_some(), "{attribute}: {xml}");
    }
    cases
}

/// Whether `file` is valid JUnit for CI, as xmllint judges it against tests/data/junit.xsd;
/// xmllint's complaint when not.
fn schema_check(file: &Path) -> Result<(), String> {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit.xsd");
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .args([&schema, file])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "xmllint cannot run ({e}): install Debian's libxml2-utils (scripts/test.sh does) to check JUnit against its schema"
            )
        });
    match output.status.success() {
        true => Ok(()),
        false => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
    }
}

/// An inventory of the lab's assets and two more named `web` on two of its servers, each
/// row's admin user replaced by `admin` when given; in a file whose name has a dot and a
/// space, as people name them.
fn inventory(lab: &Lab, admin: Option<&str>) -> PathBuf {
    let port = |name: &str| {
        let row = lab.rows().iter().find(|r| r.name == name).unwrap();
        row.port.clone()
    };
    let mut csv = std::fs::read_to_string(lab.inventory()).unwrap();
    for server in ["ok-root", "with-system-users"] {
        csv.push_str(&format!("web,127.0.0.1,{},lab-root,,,true\n", port(server)));
    }
    if let Some(admin) = admin {
        csv = csv.replace(",lab-root,", &format!(",{admin},"));
    }
    let path = lab.dir().join("prod.east assets.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

async fn junit_run(lab: &Lab, inventory: &Path, output: &Path) -> String {
    let mut argv = lab.check_args_for(inventory);
    argv.extend(args(["--format", "junit", "--quiet", "-o"]));
    argv.push(output.into());
    let run = prober(argv).await;
    assert_eq!(run.status, 1, "some fail: {}", run.stderr);
    std::fs::read_to_string(output).unwrap()
}

#[tokio::test]
async fn junit_keeps_each_asset_in_one_class_and_name_from_run_to_run() {
    let lab = Lab::start(&[
        scenarios::OK_ROOT,
        scenarios::TCP_REFUSED,
        scenarios::INACTIVE,
        scenarios::SYSTEM_USERS,
    ])
    .await
    .unwrap();
    let mut runs = Vec::new();
    // The second run's admin password is wrong: what worked fails at another stage.
    for (admin, file) in [(None, "first.xml"), (Some("lab-root-wrong"), "second.xml")] {
        let output = lab.dir().join(file);
        let xml = junit_run(&lab, &inventory(&lab, admin), &output).await;
        schema_check(&output).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        runs.push(cases(&xml));
    }

    for cases in &runs {
        let classes: BTreeSet<&str> = cases.iter().map(|c| c.class.as_str()).collect();
        assert_eq!(
            classes,
            BTreeSet::from(["prober.prod_east_assets"]),
            "{cases:#?}"
        );
        let names: BTreeSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names.len(), cases.len(), "one name per result: {cases:#?}");
        for case in cases {
            let category = case.properties.get("category");
            assert_eq!(category, Some(&case.verdict), "{case:#?}");
            assert!(case.properties.contains_key("stage"), "{case:#?}");
        }
    }
    let names =
        |cases: &[Case]| -> BTreeSet<String> { cases.iter().map(|c| c.name.clone()).collect() };
    assert_eq!(names(&runs[0]), names(&runs[1]), "the same results by name");
    let users = lab.port(&scenarios::SYSTEM_USERS);
    for name in [
        format!("web (127.0.0.1:{})", lab.port(&scenarios::OK_ROOT)),
        format!("web (127.0.0.1:{users})"),
        format!("with-system-users (127.0.0.1:{users}) as lab-deploy"),
    ] {
        assert!(names(&runs[0]).contains(&name), "{name}: {:#?}", runs[0]);
    }
    let verdicts = |cases: &[Case]| -> Vec<(String, String)> {
        let mut verdicts: Vec<_> = cases
            .iter()
            .map(|c| (c.name.clone(), c.verdict.clone()))
            .collect();
        verdicts.sort();
        verdicts
    };
    assert_ne!(verdicts(&runs[0]), verdicts(&runs[1]), "outcomes changed");
    assert!(
        runs[0].iter().any(|c| c.verdict == "ok") && runs[0].iter().any(|c| c.verdict == "skipped")
    );
}

/// The check above means something: the schema refuses what CI could not read.
#[test]
fn the_schema_refuses_a_case_without_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.xml");
    std::fs::write(
        &file,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="prober check" tests="1" failures="0" errors="0"><testcase classname="prober.x"/></testsuite></testsuites>
"#,
    )
    .unwrap();
    let complaint = schema_check(&file).expect_err("a case without a name");
    assert!(complaint.contains("name"), "{complaint}");
}

/// The class names the inventory read on stdin, or the results file `--from` probes again.
#[tokio::test]
async fn the_class_names_stdin_and_a_from_results_file() {
    let lab = Lab::start(&[scenarios::OK_ROOT, scenarios::TCP_REFUSED])
        .await
        .unwrap();
    let mut argv = lab.check_args_for(Path::new("-"));
    argv.extend(args(["--format", "junit", "--quiet"]));
    let inventory = std::fs::read(lab.inventory()).unwrap();
    let run = prober_with_stdin(argv, inventory).await;
    let classes: BTreeSet<String> = cases(&run.stdout).into_iter().map(|c| c.class).collect();
    assert_eq!(classes, BTreeSet::from(["prober.stdin".to_string()]));

    let earlier = lab.dir().join("nightly.v1.jsonl");
    let mut argv = lab.check_args();
    argv.extend(args(["--format", "jsonl", "--quiet", "-o"]));
    argv.push(earlier.clone().into());
    assert_eq!(prober(argv).await.status, 1);
    let mut argv = lab.check_args();
    argv.splice(1..2, args(["--from".as_ref(), earlier.as_os_str()]));
    argv.extend(args(["--format", "junit", "--quiet"]));
    let run = prober(argv).await;
    let classes: BTreeSet<String> = cases(&run.stdout).into_iter().map(|c| c.class).collect();
    assert_eq!(
        classes,
        BTreeSet::from(["prober.nightly_v1".to_string()]),
        "{}",
        run.stderr
    );
}

/// The demo's lab lives in a temporary directory: the class names the demo, not its file.
#[tokio::test]
async fn the_demo_is_its_own_class() {
    let run = prober(["demo", "--format", "junit", "--quiet"]).await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    let classes: BTreeSet<String> = cases(&run.stdout).into_iter().map(|c| c.class).collect();
    assert_eq!(classes, BTreeSet::from(["prober.demo".to_string()]));
}

/// `prober gateway` without an inventory probes the gateway alone: the class says so.
#[tokio::test]
async fn the_gateway_alone_is_its_own_class() {
    let dir = tempfile::tempdir().unwrap();
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, "").unwrap();
    let refusing = fixtures::tcp::refusing();
    let mut argv = args(["gateway", "--gateway", &refusing.addr.to_string()]);
    argv.extend(args([
        "--jms-user",
        "alice",
        "--password-env",
        "JMS_PASSWORD",
    ]));
    argv.extend(args(["--format", "junit", "--quiet", "--known-hosts"]));
    argv.push(known_hosts.into());
    let run = prober_with_env(argv, &[("JMS_PASSWORD", "not-used")]).await;
    let cases = cases(&run.stdout);
    let classes: BTreeSet<&str> = cases.iter().map(|c| c.class.as_str()).collect();
    assert_eq!(
        classes,
        BTreeSet::from(["prober.gateway"]),
        "{}",
        run.stderr
    );
}
