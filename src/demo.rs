//! `prober demo`: the fixtures' fake servers on loopback, one per failure mode they can
//! produce, probed by the same code path as `prober check`.

use std::collections::BTreeMap;

use clap::Parser;
use fixtures::lab::{Lab, scenarios};
use prober_engine::Category;

use crate::cli::{Cli, Command, DemoArgs};
use crate::commands;
use crate::exit::Outcome;

/// Succeeds when every fake asset got the category of the failure mode it reproduces.
pub async fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    let lab = Lab::start(scenarios::ALL).await?;
    let mut argv = vec!["prober".into()];
    argv.extend(lab.check_args());
    let Command::Check(mut check) = Cli::try_parse_from(argv)?.command else {
        unreachable!("check_args builds a check command");
    };
    check.output = args.output;
    let quiet = check.output.quiet;
    if !quiet {
        eprintln!(
            "prober demo: {} fake assets on loopback, each reproducing one failure mode (files in {})\n",
            scenarios::ALL.len(),
            lab.dir().display()
        );
    }
    let finished = commands::check_as(&check, "demo").await?;
    if finished.signal.is_some() {
        return Ok(finished.outcome());
    }
    let summary = finished.summary;

    let mut expected: BTreeMap<Category, usize> = BTreeMap::new();
    for (_, category) in lab.expected() {
        *expected.entry(category).or_default() += 1;
    }
    if summary.counts != expected {
        let counts = |counts: &BTreeMap<Category, usize>| {
            let counts: Vec<String> = counts.iter().map(|(c, n)| format!("{c} {n}")).collect();
            counts.join(", ")
        };
        eprintln!(
            "prober demo: results differ from the fixtures' failure modes: expected {}; got {}",
            counts(&expected),
            counts(&summary.counts)
        );
        return Ok(Outcome::SomeFailed);
    }
    if !quiet {
        eprintln!(
            "prober demo: all {} assets got the category of their failure mode ({} distinct)",
            lab.expected().len(),
            expected.len()
        );
    }
    Ok(Outcome::AllOk)
}
