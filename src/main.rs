//! Command-line entry point: argument parsing and exit codes only.

use clap::{Parser, Subcommand};
use etcd_autopsy::cmd::{self, Outcome};
use std::process::ExitCode;

/// Offline forensics for etcd snapshots of Kubernetes and OpenShift clusters.
///
/// Exit codes: 0 nothing wrong, 1 problems found, 2 could not run.
#[derive(Parser)]
#[command(name = "etcd-autopsy", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find encryption/transform errors and kube-apiserver starts in kube-apiserver logs.
    Logs(cmd::logs::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: cmd::CmdResult = match &cli.command {
        Command::Logs(args) => cmd::logs::run(args),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::from(0),
        Ok(Outcome::Problems) => ExitCode::from(1),
        Err(e) => {
            eprintln!("etcd-autopsy: {e}");
            ExitCode::from(2)
        }
    }
}
