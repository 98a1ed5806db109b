//! `prober man`: manual pages in roff, from the same clap definitions that parse the
//! command line. One page per subcommand, as git has (prober-check(1), …), since each
//! subcommand's option groups are sections of its page.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::Cli;
use crate::commands::OutputError;

/// prober(1), which lists the subcommands and their pages.
pub fn print(out: &mut dyn Write) -> anyhow::Result<()> {
    let mut page = Vec::new();
    // As generate_to renders it: clap's `help` subcommand gets no page, so none is listed.
    let command = Cli::command().disable_help_subcommand(true);
    clap_mangen::Man::new(command).render(&mut page)?;
    Ok(out
        .write_all(&page)
        .and_then(|()| out.flush())
        .map_err(OutputError::stdout)?)
}

/// prober.1 and prober-SUBCOMMAND.1 for every subcommand, into `dir`.
pub fn write_all(dir: &Path) -> anyhow::Result<()> {
    clap_mangen::generate_to(Cli::command(), dir)
        .with_context(|| format!("cannot write manual pages to {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page as a reader sees it: groff's rendering when groff is installed (which
    /// must not warn), else the roff source with its escaped hyphens (`\-`) plain.
    fn rendered(page: &Path) -> String {
        let groff = std::process::Command::new("groff")
            .args(["-man", "-Tascii", "-P-cbou", "-ww"])
            .arg(page)
            .output();
        match groff {
            Ok(out) if out.status.success() && out.stderr.is_empty() => {
                String::from_utf8_lossy(&out.stdout).into_owned()
            }
            Ok(out) => panic!(
                "groff cannot render {}: {}",
                page.display(),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(_) => std::fs::read_to_string(page).unwrap().replace("\\-", "-"),
        }
    }

    #[test]
    fn every_subcommand_has_a_page_with_all_its_options() {
        let dir = tempfile::tempdir().unwrap();
        write_all(dir.path()).unwrap();
        let mut top = Vec::new();
        print(&mut top).unwrap();
        let top = String::from_utf8(top).unwrap();
        let main_page = dir.path().join("prober.1");
        assert_eq!(std::fs::read_to_string(&main_page).unwrap(), top);
        let main_page = rendered(&main_page);
        let cli = Cli::command();
        let subcommands: Vec<&clap::Command> = cli.get_subcommands().collect();
        assert!(subcommands.len() >= 9);
        for sub in subcommands {
            let name = sub.get_name();
            assert!(
                main_page.contains(&format!("prober-{name}(1)")),
                "prober(1) lists {name}"
            );
            let page = rendered(&dir.path().join(format!("prober-{name}.1")));
            let longs = sub
                .get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| a.get_long());
            for long in longs {
                assert!(
                    page.contains(&format!("--{long}")),
                    "prober-{name}(1) lacks --{long}:\n{page}"
                );
            }
        }
        let check = rendered(&dir.path().join("prober-check.1"));
        assert!(
            check.contains("TIMEOUTS") && check.contains("HOST KEYS"),
            "{check}"
        );
    }
}
