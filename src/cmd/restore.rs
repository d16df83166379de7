//! `restore-plan`: the `snapshot restore` command lines a snapshot needs, what the restored
//! member will hold, and the warnings (computed in `etcd::restore`, rendered here).

use super::common::open_snapshot;
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::stats::wrap;
use super::{CmdResult, Outcome};
use crate::etcd::records::Records;
use crate::etcd::restore::{self, RestorePlan, Tool, Warning};
use crate::output::write_json;
use crate::report::restore::{bump_reason, command_line, warning_text};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file.
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    guard.input(&args.snapshot);
    let (fmt, mut out) = args.out.prepare(
        "restore-plan",
        formats("restore-plan"),
        &guard,
        Mode::Private,
    )?;
    let snap = open_snapshot(&args.snapshot)?;
    let records = Records::read(&snap);
    let trailer = snap.verify_trailer();
    let plan = restore::plan(
        &snap,
        &records,
        &trailer,
        &args.snapshot.display().to_string(),
    );
    match fmt {
        Fmt::Json => write_json(&mut out, &plan)?,
        _ => render(&mut out, &plan)?,
    }
    out.finish()?;
    let blocked = plan.warnings.iter().any(|w| {
        matches!(
            w,
            Warning::TrailerMismatch | Warning::SizeMismatch | Warning::RecordsIncomplete
        )
    });
    Ok(if blocked {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

pub fn render(out: &mut impl Write, p: &RestorePlan) -> std::io::Result<()> {
    let r = &p.restored;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    writeln!(out, "restore plan for {}", p.snapshot)?;
    writeln!(
        out,
        "the snapshot holds: revision {}, compacted {}, cluster version {}, storage version {}, {} live keys",
        r.revision,
        r.compacted_revision.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
        opt(&r.cluster_version),
        opt(&r.storage_version),
        r.live_keys
    )?;
    writeln!(
        out,
        "members in the file (restore replaces them with --initial-cluster): {}",
        if r.members_in_file.is_empty() {
            "-".to_string()
        } else {
            r.members_in_file.join(", ")
        }
    )?;
    for (tool, title, env) in [
        (
            Tool::Etcdutl,
            "etcdutl 3.5.10+ / 3.6 (--bump-revision and --mark-compacted exist since 3.5.10, etcd-io/etcd#16165, and 3.6.0, #16029):",
            "",
        ),
        (
            Tool::Etcdctl34,
            "etcdctl 3.4 (no bump flags):",
            "ETCDCTL_API=3 ",
        ),
    ] {
        writeln!(out, "\n{}", wrap(title, 80, "", "  "))?;
        for c in p.commands.iter().filter(|c| c.tool == tool) {
            writeln!(out, "  {}", command_line(&c.argv, env))?;
        }
        match tool {
            Tool::Etcdutl => {
                let restored = format!(
                    "restored member: revision {}, compacted at {} (--mark-compacted); clients with older revisions get \"required revision has been compacted\" and relist",
                    p.bump.restored_revision, p.bump.restored_revision
                );
                writeln!(out, "{}", wrap(&restored, 80, "  ", "    "))?;
                let why = format!("why {}: {}", p.bump.bump, bump_reason(p));
                writeln!(out, "{}", wrap(&why, 80, "  ", "    "))?;
            }
            Tool::Etcdctl34 => writeln!(
                out,
                "  restored member: revision {}, compacted {}",
                r.revision,
                r.compacted_revision
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into())
            )?,
        }
    }
    writeln!(out, "\nwarnings:")?;
    for w in &p.warnings {
        writeln!(out, "{}", wrap(&warning_text(w), 80, "  - ", "    "))?;
    }
    Ok(())
}
