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
    /// The numbers `etcdctl snapshot status` prints (hash, revision, total keys, total size).
    Status(cmd::status::Args),
    /// Is the snapshot intact? SHA-256 trailer, meta pages, page graph, records.
    Check(cmd::check::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: cmd::CmdResult = match &cli.command {
        Command::Status(a) => cmd::status::run(a),
        Command::Check(a) => cmd::check::run(a),
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
