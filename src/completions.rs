//! `prober completions SHELL`: the shell's completion script, from the same clap
//! definitions that parse the command line.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, Shell};
use crate::commands::OutputError;

pub fn run(shell: Shell, out: &mut dyn Write) -> anyhow::Result<()> {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "prober", &mut script);
    Ok(out
        .write_all(&script)
        .and_then(|()| out.flush())
        .map_err(OutputError::stdout)?)
}
