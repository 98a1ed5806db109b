//! `prober farm`: the fixtures' farm of virtual assets, served until interrupted, with
//! the files to probe it (see fixtures::farm).

use std::io::Write;

use fixtures::farm::{Farm, FarmSpec, address};

use crate::cli::FarmArgs;
use crate::commands::OutputError;
use crate::exit::Outcome;

pub async fn run(args: FarmArgs) -> anyhow::Result<Outcome> {
    let assets = args.assets as usize;
    // Every probe in flight holds one of the farm's descriptors.
    let wanted = assets as u64 + 256;
    match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) if limit < wanted => eprintln!(
            "prober farm: warning: the open-file limit is {limit}: at most about that many connections at once (raise it with ulimit -n)"
        ),
        Ok(_) => {}
        Err(e) => eprintln!("prober farm: warning: cannot raise the open-file limit: {e}"),
    }
    let farm = Farm::start(FarmSpec {
        assets,
        mix: args.mix,
        seed: args.seed,
        port: args.port,
        record_accepts: false,
    })
    .await?;
    let files = farm.write_files(&args.output)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "prober farm: {assets} assets on {}..{} port {}\n  inventory:   {}\n  credentials: {}\n  expected:    {}\nready",
        address(0),
        address(assets - 1),
        farm.port(),
        files.inventory.display(),
        files.credentials.display(),
        files.expected.display(),
    )
    .and_then(|()| stdout.flush())
    .map_err(OutputError::stdout)?;
    drop(stdout);
    stopped().await?;
    eprintln!(
        "prober farm: stopping after {} connections",
        farm.accepted()
    );
    Ok(Outcome::AllOk)
}

/// Until Ctrl-C or SIGTERM (how scripts stop a background process).
async fn stopped() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted,
        _ = term.recv() => Ok(()),
    }
}
