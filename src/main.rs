//! Command-line entry point: argument parsing and exit codes only.

use clap::{CommandFactory, Parser, Subcommand};
use etcd_autopsy::cmd::{self, Outcome};
use std::process::ExitCode;

/// Offline forensics for etcd snapshots of Kubernetes and OpenShift clusters.
///
/// Exit codes: 0 nothing wrong, 1 problems found, 2 could not run.
#[derive(Parser)]
#[command(name = "etcd-autopsy", version = cmd::version::LONG, about, long_about = None)]
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
    /// List keys with revisions, sizes, resource and envelope (live keys by default).
    Ls(cmd::ls::Args),
    /// One record's metadata and history; the value only with --reveal.
    Get(cmd::get::Args),
    /// Where the space goes: by resource, namespace, envelope; largest objects; history.
    Stats(cmd::stats::Args),
    /// Candidate keys from configs, OpenShift backup tarballs and --key: node, source,
    /// provider, name, fingerprint, role, resources. Never the key bytes.
    Keys(cmd::keys::Args),
    /// Can every node read every record? Each node's kube-apiserver simulated on every live
    /// record: exact errors, the keys that decrypt each unreadable record, key coverage,
    /// plaintext in encrypted resources, KMS-only records.
    Audit(cmd::audit::Args),
    /// Find encryption/transform errors and kube-apiserver starts in kube-apiserver logs.
    Logs(cmd::logs::Args),
    /// The main job: snapshot + keys + logs → findings with evidence and remedies.
    Report(cmd::report::Args),
    /// `report` on a real incident built into the binary: start here.
    Demo(cmd::demo::Args),
    /// Is this backup restorable? Exit 0 yes, 1 no (reasons listed), 2 could not run.
    Validate(cmd::validate::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions(cmd::shell::CompletionsArgs),
    /// Print the man page (roff) to stdout: `man SUBCOMMAND` for a subcommand's page.
    Man(cmd::shell::ManArgs),
}

fn main() -> ExitCode {
    etcd_autopsy::guard::install_sigbus_handler();
    let cli = Cli::parse();
    let result: cmd::CmdResult = match &cli.command {
        Command::Status(a) => cmd::status::run(a),
        Command::Check(a) => cmd::check::run(a),
        Command::Ls(a) => cmd::ls::run(a),
        Command::Get(a) => cmd::get::run(a),
        Command::Stats(a) => cmd::stats::run(a),
        Command::Keys(a) => cmd::keys::run(a),
        Command::Audit(a) => cmd::audit::run(a),
        Command::Logs(args) => cmd::logs::run(args),
        Command::Report(a) => cmd::report::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Completions(a) => cmd::shell::completions(Cli::command(), a),
        Command::Man(a) => cmd::shell::man(Cli::command(), a),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::from(0),
        Ok(Outcome::Problems) => ExitCode::from(1),
        Err(cmd::Error::OutputClosed) => ExitCode::from(0),
        Err(e) => {
            eprintln!("etcd-autopsy: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks (duplicate argument ids across flattened structs, …).
    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
