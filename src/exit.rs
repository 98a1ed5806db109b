//! The one place that maps a command's outcome to the exit status and prints its error.

use std::io;
use std::process::ExitCode;

use crate::signals::Signal;

/// How a command that ran to its end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every active asset is ok (or the command had nothing to judge): status 0.
    AllOk,
    /// At least one asset is not ok: status 1.
    SomeFailed,
    /// Stopped early by a signal: 130 for SIGINT, 143 for SIGTERM, as a shell reports a
    /// process the signal ended, so CI tells a cancelled job from a failed one.
    Interrupted(Signal),
}

impl From<bool> for Outcome {
    fn from(all_ok: bool) -> Outcome {
        if all_ok {
            Outcome::AllOk
        } else {
            Outcome::SomeFailed
        }
    }
}

/// 0 all ok, 1 some not ok, 2 a usage or input error, 130/143 stopped by SIGINT/SIGTERM.
/// A reader that closed our stdout
/// (`prober … | head`) got what it wanted: that ends the run quietly with 0.
pub fn status(result: anyhow::Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::AllOk) => ExitCode::SUCCESS,
        Ok(Outcome::SomeFailed) => ExitCode::from(1),
        Ok(Outcome::Interrupted(signal)) => ExitCode::from(signal.status()),
        Err(error) if closed_stdout(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("prober: {}", message(&error));
            ExitCode::from(2)
        }
    }
}

fn closed_stdout(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<crate::commands::OutputError>()
            .is_some_and(|e| e.to_stdout() && e.source.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes, each said once: a message that already quotes its cause
/// (`cannot read x: No such file or directory`) is not followed by the cause again.
pub fn message(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let said = cause.to_string();
        if text.ends_with(&said) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&said);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = io::Error::from(io::ErrorKind::NotFound);
        let error = anyhow::Error::new(io).context("cannot read inventory x.csv: entity not found");
        assert_eq!(
            message(&error),
            "cannot read inventory x.csv: entity not found"
        );
        let error = anyhow::anyhow!("root cause").context("while reading");
        assert_eq!(message(&error), "while reading: root cause");
        // A short cause said somewhere inside the message is still said.
        let error = anyhow::anyhow!("denied").context("denied users: cannot read x");
        assert_eq!(message(&error), "denied users: cannot read x: denied");
    }
}
