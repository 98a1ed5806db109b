//! What the shell gets from the same clap definitions that parse the command line:
//! completion scripts and manual pages.

use std::path::Path;
use std::process::Command;

use crate::util::{args, prober};

/// The subcommands `prober --help` lists.
async fn subcommands() -> Vec<String> {
    let help = prober(["--help"]).await.stdout;
    let (_, listed) = help
        .split_once("Commands:\n")
        .expect("--help lists commands");
    listed
        .lines()
        .take_while(|line| !line.trim().is_empty())
        // A wrapped description continues further in than the two spaces of a command.
        .filter_map(|line| {
            line.strip_prefix("  ")
                .filter(|rest| !rest.starts_with(' '))
        })
        .filter_map(|line| line.split_whitespace().next())
        .map(String::from)
        .collect()
}

/// What bash offers for the words typed so far (the last one being completed), with the
/// script loaded as bash-completion would load it.
fn bash_completes(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let current = words.len() - 1;
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={current}; \
         _prober prober '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words[current],
        words[current - 1],
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn bash_completion_offers_subcommands_options_and_categories() {
    let run = prober(["completions", "bash"]).await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("prober.bash");
    std::fs::write(&script, &run.stdout).unwrap();
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    let offered = bash_completes(&script, &["prober", ""]);
    let subcommands = subcommands().await;
    assert!(subcommands.len() >= 9, "{subcommands:?}");
    for sub in &subcommands {
        assert!(offered.contains(sub), "{sub} not offered: {offered:?}");
    }
    let offered = bash_completes(&script, &["prober", "check", "--cre"]);
    assert_eq!(offered, ["--credentials"]);
    let offered = bash_completes(&script, &["prober", "explain", "sudo_req"]);
    assert_eq!(offered, ["sudo_requiretty"]);
}

#[tokio::test]
async fn zsh_and_fish_completions_know_the_options() {
    let dir = tempfile::tempdir().unwrap();
    // Each shell spells an option its own way.
    for (shell, credentials) in [("zsh", "'--credentials="), ("fish", "-l credentials ")] {
        let run = prober(["completions", shell]).await;
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert!(run.stdout.contains(credentials), "{shell}:\n{}", run.stdout);
        // The shell itself, where installed, checks the syntax.
        let script = dir.path().join(shell);
        std::fs::write(&script, &run.stdout).unwrap();
        if let Ok(check) = Command::new(shell).arg("-n").arg(&script).output() {
            assert!(
                check.status.success(),
                "{shell} -n: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    let unknown = prober(["completions", "tcsh"]).await;
    assert_eq!(unknown.status, 2);
}

#[tokio::test]
async fn man_prints_prober_1_or_writes_every_page() {
    let run = prober(["man"]).await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.contains(".TH prober 1"), "{}", run.stdout);
    let dir = tempfile::tempdir().unwrap();
    let written = prober(args([
        "man".as_ref(),
        "--dir".as_ref(),
        dir.path().as_os_str(),
    ]))
    .await;
    assert_eq!(written.status, 0, "{}", written.stderr);
    let main_page = std::fs::read_to_string(dir.path().join("prober.1")).unwrap();
    assert_eq!(main_page, run.stdout);
    for sub in subcommands().await {
        let page = dir.path().join(format!("prober-{sub}.1"));
        // `help` is clap's, not a command of ours: it gets no page.
        assert_eq!(page.exists(), sub != "help", "{}", page.display());
        if sub != "help" {
            assert!(main_page.contains(&format!("prober\\-{sub}(1)")), "{sub}");
        }
    }
    let missing = dir.path().join("no/such/dir");
    let failed = prober(args([
        "man".as_ref(),
        "--dir".as_ref(),
        missing.as_os_str(),
    ]))
    .await;
    assert_eq!(failed.status, 2);
    assert!(
        failed.stderr.contains("cannot write manual pages"),
        "{}",
        failed.stderr
    );
}
