//! Helpers for the end-to-end tests: run the `prober` binary Cargo built, and read its
//! JSONL output.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

/// The `prober` binary Cargo built for these tests.
pub fn prober_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_prober"))
}

/// A command running the binary in a neutral environment: no ssh-agent, an empty HOME
/// (the developer's ~/.ssh config, keys and known_hosts must never decide a test), and no
/// locale, so a developer whose LANG is zh_CN.UTF-8 gets the English the tests expect. A
/// test sets what it wants on top (`tokio::process::Command::from` takes it as it is).
pub fn prober_command() -> std::process::Command {
    let mut command = std::process::Command::new(prober_bin());
    command
        .env_remove("SSH_AUTH_SOCK")
        .env("HOME", empty_home());
    for name in prober_engine::i18n::LOCALE_VARS {
        command.env_remove(name);
    }
    command
}

pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The JSONL records, each an object.
    pub fn records(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {l}\nstderr: {}", self.stderr))
            })
            .collect()
    }

    /// The record of the asset with this name.
    pub fn record(&self, name: &str) -> Value {
        self.records()
            .into_iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| {
                panic!(
                    "no record named {name}\nstdout: {}\nstderr: {}",
                    self.stdout, self.stderr
                )
            })
    }
}

/// Runs the binary while the test's in-process fixtures keep serving.
pub async fn prober<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    prober_with_env(args, &[]).await
}

pub async fn prober_with_env<I, S>(args: I, env: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut command = tokio::process::Command::from(prober_command());
    command.args(&args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().await.expect("run prober");
    Run::from(output)
}

/// The HOME every run gets unless a test gives its own.
fn empty_home() -> &'static std::path::Path {
    static HOME: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().expect("temporary HOME"))
        .path()
}

/// Args, as OsStrings, from anything printable.
pub fn args<I, S>(items: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    items
        .into_iter()
        .map(|s| s.as_ref().to_os_string())
        .collect()
}

/// Starts a lab of these scenarios and probes it with `prober check --format jsonl`.
/// The lab is returned so its servers live as long as the test needs them.
pub async fn probe_lab(
    scenarios: &[fixtures::lab::Scenario],
    extra: &[&str],
) -> (fixtures::lab::Lab, Run) {
    let lab = fixtures::lab::Lab::start(scenarios)
        .await
        .expect("lab starts");
    let mut argv = lab.check_args();
    argv.extend(args(["--format", "jsonl", "--quiet"]));
    argv.extend(args(extra));
    let run = prober(argv).await;
    (lab, run)
}

/// Runs the binary with `input` as its stdin.
pub async fn prober_with_stdin<I, S>(args: I, input: Vec<u8>) -> Run
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    use std::process::Stdio;
    use tokio::io::AsyncWriteExt;
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut child = tokio::process::Command::from(prober_command())
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run prober");
    let mut stdin = child.stdin.take().expect("stdin piped");
    // A prober that stops reading early closes the pipe: not this helper's failure.
    let _ = stdin.write_all(&input).await;
    drop(stdin);
    Run::from(child.wait_with_output().await.expect("prober ends"))
}
