use std::process::ExitCode;

use clap::Parser;
use prober::app;
use prober::cli::{Cli, Command};

mod demo;
mod farm;

/// Exit status: 0 every active asset ok, 1 some are not, 2 usage or input error.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    let result = runtime.map_err(anyhow::Error::from).and_then(|rt| {
        rt.block_on(async {
            match cli.command {
                Command::Check(args) => Ok(app::check(&args).await?.all_ok()),
                Command::Prepush(args) => Ok(app::prepush(&args).await?.all_ok()),
                Command::Gateway(args) => Ok(app::gateway(&args).await?.all_ok()),
                Command::Demo(args) => demo::run(args).await,
                Command::Farm(args) => farm::run(args).await,
                Command::Explain(args) => {
                    Ok(app::explain(&args, &mut std::io::stdout()).map(|_| true)?)
                }
            }
        })
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("prober: {error:#}");
            ExitCode::from(2)
        }
    }
}
