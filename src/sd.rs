//! `prober sd`: the inventory as Prometheus `file_sd` targets, read by the same reader (or
//! JumpServer API source) as `check`, so both see the same assets.

use std::io::Write;
use std::path::Path;

use prober_engine::inventory::Entry;
use prober_engine::report::Format;
use prober_engine::report::file_sd::{FileSd, TargetGroup};
use prober_engine::run::Entries;

use crate::cli::SdArgs;
use crate::exit::Outcome;
use crate::output::{self, Destination};

pub async fn run(args: &SdArgs) -> anyhow::Result<Outcome> {
    let inputs: Vec<(&str, &Path)> = [
        ("inventory", args.inventory.as_deref()),
        (
            "JumpServer credentials file",
            args.jumpserver.jumpserver_auth.as_deref(),
        ),
        (
            "JumpServer CA file",
            args.jumpserver.jumpserver_ca.as_deref(),
        ),
    ]
    .into_iter()
    .filter_map(|(what, path)| Some((what, path?)))
    .collect();
    output::refuse_inputs(None, args.output.as_deref(), &inputs)?;
    let options = args.read.options();
    let entries = match args.jumpserver.open(options.allow_empty).await? {
        Some(api) => api,
        None => {
            let path = args
                .inventory
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("give an inventory or --jumpserver"))?;
            crate::commands::open_inventory(path, &options)?
        }
    };
    // Staged like a JSON results file: Prometheus re-reads the file whenever it changes.
    let (destination, out) = Destination::open(args.output.as_deref(), Format::Json)?;
    let (port, include_inactive, module) = (args.port, args.include_inactive, args.module.clone());
    // Reading a file or the API's pages blocks: off the runtime's threads.
    let written = tokio::task::spawn_blocking(move || {
        write(entries, out, |asset| {
            (include_inactive || asset.skip.is_none())
                .then(|| TargetGroup::of(asset, port, module.as_deref()))
        })
    })
    .await?;
    let invalid = written.map_err(|e| destination.error(e))?;
    destination.commit()?;
    Ok((invalid == 0).into())
}

/// Writes a group for each asset `group` keeps; says each invalid row on stderr and counts
/// them.
fn write(
    entries: Entries,
    out: Box<dyn Write + Send>,
    group: impl Fn(&prober_engine::inventory::Asset) -> Option<TargetGroup>,
) -> std::io::Result<usize> {
    let mut sd = FileSd::new(out);
    let mut invalid = 0;
    for entry in entries.rows {
        match entry {
            Entry::Asset(asset) => {
                if let Some(group) = group(&asset) {
                    sd.group(&group)?;
                }
            }
            Entry::Invalid(row) => {
                invalid += 1;
                eprintln!("prober: {}, left out", row.message(&entries.path));
            }
        }
    }
    sd.finish()?;
    Ok(invalid)
}
