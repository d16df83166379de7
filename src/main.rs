//! Command-line entry point: argument parsing and exit codes only.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use etcd_autopsy::cmd::{self, Outcome};
use std::process::ExitCode;

#[cfg(target_os = "linux")]
mod hugealloc;

#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOC: hugealloc::HugeForLarge = hugealloc::HugeForLarge;

/// Offline forensics for etcd snapshots of Kubernetes and OpenShift clusters.
///
/// Exit codes (the same in every command): 0 nothing wrong, 1 problems found, 2 could not run
/// (bad arguments, unreadable or wrong input, refused output), 3 nothing to look at (`get` of
/// a missing key, `logs` with no recognisable log).
#[derive(Parser)]
#[command(name = "etcd-autopsy", version = cmd::version::LONG, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// What `snapshot status` prints, byte for byte, as the file's own etcdctl/etcdutl would
    /// (3.4/3.5, or 3.6 when the file carries meta/storageVersion; --semantics to choose).
    Status(cmd::status::Args),
    /// Is the snapshot intact? SHA-256 trailer, meta pages, page graph, records.
    Check(cmd::check::Args),
    /// List keys with revisions, sizes, resource and envelope (live keys by default).
    Ls(cmd::ls::Args),
    /// Objects as kubectl prints them (-o json|yaml|jsonl|name|wide), selected like kubectl
    /// or by key prefix; one key's metadata and history. Values redacted unless --reveal.
    Get(cmd::get::Args),
    /// Apply-ready manifests of the selected objects (past revisions, deleted ones too):
    /// a YAML stream, or a tree with --to DIR.
    Export(cmd::export::Args),
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
    /// Is this backup restorable? A snapshot, or a directory of backups (the newest not yet
    /// validated, --all or --index N; verdict files, set checks, metrics, Pushgateway).
    /// Exit 0 yes, 1 no (reasons listed), 2 could not run.
    Validate(cmd::validate::Args),
    /// What `etcdctl endpoint hashkv --rev R` would answer for this file, without a server.
    Hashkv(cmd::hashkv::Args),
    /// Copies of one cluster side by side: which agree, which diverged (from which revision),
    /// which to restore from, and the keys that differ.
    Compare(cmd::compare::Args),
    /// Scan every page for key-bucket records the tree no longer reaches (damaged files), and
    /// the history left on free pages.
    Salvage(cmd::salvage::Args),
    /// What changed between two snapshots: keys added/removed/changed by resource and namespace,
    /// encryption changes (key rotated, provider changed, became plaintext) and, given configs,
    /// which records each node could read before and cannot after (kube-apiserver; on
    /// OpenShift also openshift-/oauth-apiserver, from each snapshot's own secrets).
    Diff(cmd::diff::Args),
    /// How to restore this snapshot: `snapshot restore` command lines (with the revision bump
    /// it needs), what the restored member holds, warnings.
    RestorePlan(cmd::restore::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions(cmd::shell::CompletionsArgs),
    /// Print the man page (roff) to stdout: `man SUBCOMMAND` for a subcommand's page.
    Man(cmd::shell::ManArgs),
}

fn main() -> ExitCode {
    etcd_autopsy::guard::install_sigbus_handler();
    // Each subcommand's `-o` help lists its own formats.
    let matches = cmd::output_args::with_format_help(Cli::command()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result: cmd::CmdResult = match &cli.command {
        Command::Status(a) => cmd::status::run(a),
        Command::Check(a) => cmd::check::run(a),
        Command::Ls(a) => cmd::ls::run(a),
        Command::Get(a) => cmd::get::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Stats(a) => cmd::stats::run(a),
        Command::Keys(a) => cmd::keys::run(a),
        Command::Audit(a) => cmd::audit::run(a),
        Command::Logs(args) => cmd::logs::run(args),
        Command::Report(a) => cmd::report::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Hashkv(a) => cmd::hashkv::run(a),
        Command::Compare(a) => cmd::compare::run(a),
        Command::Salvage(a) => cmd::salvage::run(a),
        Command::Diff(a) => cmd::diff::run(a),
        Command::RestorePlan(a) => cmd::restore::run(a),
        Command::Completions(a) => {
            cmd::shell::completions(cmd::output_args::with_format_help(Cli::command()), a)
        }
        Command::Man(a) => cmd::shell::man(cmd::output_args::with_format_help(Cli::command()), a),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::from(0),
        Ok(Outcome::Problems) => ExitCode::from(1),
        Ok(Outcome::NothingRecognised) => ExitCode::from(3),
        Err(cmd::Error::OutputClosed) => ExitCode::from(0),
        Err(e @ cmd::Error::NotFound(_)) => {
            eprintln!("etcd-autopsy: {e}");
            ExitCode::from(3)
        }
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
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
        etcd_autopsy::cmd::output_args::with_format_help(super::Cli::command()).debug_assert();
    }
}
