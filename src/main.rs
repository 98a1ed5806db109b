//! `prober`, the command line: parses the arguments, runs the command on the engine
//! (`prober_engine`) or the fixtures (`demo`, `farm`), and turns the outcome into an exit
//! status in one place, [`exit::status`].

mod cli;
mod commands;
mod completions;
mod demo;
mod diff;
mod exit;
mod explain;
mod farm;
mod jumpserver;
mod manpage;
mod output;
mod rerun;
mod sd;
mod signals;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    exit::status(run(cli))
}

fn run(cli: cli::Cli) -> anyhow::Result<exit::Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(commands::run(cli.command));
    // Probes cut short by a second signal may still hold the runtime's threads: the
    // outcome is known, so they are not waited for.
    runtime.shutdown_background();
    outcome
}
