//! `audit SNAPSHOT [key sources]`: every live record judged by every node's config and every
//! candidate key. Exit 0 when every node reads every record, 1 otherwise (or when the snapshot
//! could not be read completely), 2 when the inputs cannot be read.

use super::common::open_snapshot;
use super::keys::write_table;
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::sources::KeySourceArgs;
use super::{CmdResult, Outcome};
use crate::decrypt::audit::{Audit, Unreadable};
use crate::etcd::trailer::Trailer;
use crate::output::{write_json, write_typed_line};
use crate::report::build::{analyse, trailer_name, Options, Quiet};
use crate::report::model::{Named, Verdict};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Records listed per group of same-failing records in text output.
const GROUP_LIST: usize = 10;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (also an etcd data dir, or a .gz/.zst/.xz snapshot).
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub keys: KeySourceArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Serialize)]
struct AuditOutput<'a> {
    snapshot: String,
    /// The report's verdict on the same inputs (`ok`, `not-verified`, `problems`, `damaged`),
    /// except that audit does not hash the file for its SHA-256 trailer (see `trailer`).
    verdict: &'static str,
    /// `not-checked` when the file has a trailer (audit skips the SHA-256 of the whole file:
    /// `check` and `report` verify it), `missing` when it has none (decided by its size).
    trailer: &'static str,
    #[serde(skip)]
    trailer_skipped: bool,
    headline: &'a str,
    /// False when damage kept some of the `key` bucket from being read.
    complete: bool,
    /// True when every node reads every record.
    clean: bool,
    #[serde(flatten)]
    audit: &'a Audit,
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    guard.input(&args.snapshot);
    args.keys.guard(&mut guard);
    let (fmt, mut out) = args
        .out
        .prepare("audit", formats("audit"), &guard, Mode::Private)?;
    let keyring = args.keys.load()?;
    let snap = open_snapshot(&args.snapshot)?;
    // The same analysis `report` and `validate` make, so the verdicts agree, but without the
    // whole-file hashes: judging records needs neither the SHA-256 trailer (~40 % of audit's
    // CPU on a 1 GiB snapshot) nor the status CRC. Only a mismatched trailer can make report's
    // verdict differ.
    let opts = Options {
        skip_file_hashes: true,
        skip_space: true,
        ..Options::default()
    };
    let an = analyse(&snap, &keyring, None, &opts, &Quiet);
    let a = &an.audit;
    let out_doc = AuditOutput {
        snapshot: snap.path.display().to_string(),
        verdict: an.diagnosis.verdict.name(),
        headline: &an.diagnosis.headline,
        trailer: trailer_name(&an.integrity.trailer.trailer),
        trailer_skipped: an.integrity.trailer.trailer == Trailer::NotChecked,
        complete: an.records_complete,
        clean: a.clean(),
        audit: a,
    };
    // The sink is block-buffered: a broken cluster's JSON lists every record.
    crate::trace::span("render", || match fmt {
        Fmt::Json => write_json(&mut out, &out_doc),
        Fmt::Jsonl => write_lines(&mut out, &out_doc),
        _ => write_text(&mut out, &out_doc),
    })?;
    out.finish()?;
    Ok(if an.diagnosis.verdict == Verdict::Ok && out_doc.complete {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

/// JSON Lines: one row per node, unreadable record, plaintext record, KMS record, coverage row
/// and key, each `{"type": …}`, then one `summary` row with the counts. The same facts as the
/// JSON document, one per line for `grep`/`jq -c`.
fn write_lines<W: Write>(out: &mut W, d: &AuditOutput<'_>) -> std::io::Result<()> {
    let a = d.audit;
    for n in &a.nodes {
        write_typed_line(out, "node", n)?;
    }
    for u in &a.unreadable {
        write_typed_line(out, "unreadable", u)?;
    }
    for p in &a.plaintext_in_encrypted_resources {
        write_typed_line(out, "plaintext-in-encrypted-resource", p)?;
    }
    for k in &a.kms_records {
        write_typed_line(out, "kms", k)?;
    }
    for c in &a.coverage {
        write_typed_line(out, "coverage", c)?;
    }
    for k in &a.keys {
        write_typed_line(out, "key", k)?;
    }
    for f in &a.first_failures {
        write_typed_line(out, "first-failure", f)?;
    }
    #[derive(Serialize)]
    struct Summary<'a> {
        snapshot: &'a str,
        complete: bool,
        clean: bool,
        records: &'a crate::decrypt::audit::RecordCounts,
    }
    write_typed_line(
        out,
        "summary",
        &Summary {
            snapshot: &d.snapshot,
            complete: d.complete,
            clean: d.clean,
            records: &a.records,
        },
    )
}

fn write_text<W: Write>(out: &mut W, d: &AuditOutput<'_>) -> std::io::Result<()> {
    let a = d.audit;
    let c = &a.records;
    // audit judges records and skips the file's SHA-256 (docs/performance.md): its verdict says
    // so, so an "ok" is never read as "this file is intact".
    let scope = if d.trailer_skipped {
        " (records; trailer not checked)"
    } else {
        ""
    };
    writeln!(out, "verdict   {}{scope}: {}", d.verdict, d.headline)?;
    writeln!(out, "snapshot  {}", d.snapshot)?;
    if d.trailer_skipped {
        writeln!(
            out,
            "trailer   not checked by audit (`check` and `report` verify the SHA-256)"
        )?;
    }
    if !d.complete {
        writeln!(
            out,
            "          damaged: part of the key bucket could not be read (run `check`)"
        )?;
    }
    let by: Vec<String> = c
        .by_provider
        .iter()
        .map(|(p, n)| format!("{p} {n}"))
        .collect();
    writeln!(
        out,
        "records   {} live: {} encrypted, {} plaintext ({})",
        c.live,
        c.encrypted,
        c.plaintext,
        by.join(", ")
    )?;
    writeln!(
        out,
        "          {} encrypted records no candidate key decrypts ({} of them need a KMS plugin)",
        c.undecryptable, c.kms
    )?;
    writeln!(out)?;

    if !a.nodes.is_empty() {
        let rows: Vec<Vec<String>> = a
            .nodes
            .iter()
            .map(|n| {
                vec![
                    n.node.clone(),
                    n.readable.to_string(),
                    n.failing.to_string(),
                    n.kms_required.to_string(),
                    n.source.clone(),
                ]
            })
            .collect();
        write_table(out, &["NODE", "READS", "FAILS", "KMS", "CONFIG"], &rows)?;
        for n in &a.nodes {
            if let Some(e) = &n.config_error {
                writeln!(out, "  {}: kube-apiserver refuses this config: {e}", n.node)?;
            }
            for (e, k) in &n.errors {
                writeln!(out, "  {}: {k} × {e}", n.node)?;
            }
        }
        writeln!(out)?;
    }

    if !a.coverage.is_empty() {
        writeln!(
            out,
            "records per stored key name, and how many each node reads / each key decrypts:"
        )?;
        let node_names: Vec<&str> = a.nodes.iter().map(|n| n.node.as_str()).collect();
        let mut header = vec!["PROVIDER", "KEY NAME", "RECORDS"];
        header.extend(node_names.iter().copied());
        header.push("DECRYPTED BY");
        let rows: Vec<Vec<String>> = a
            .coverage
            .iter()
            .map(|cv| {
                let mut row = vec![
                    cv.provider.clone(),
                    cv.key_name.clone(),
                    cv.records.to_string(),
                ];
                for n in &node_names {
                    row.push(cv.nodes.get(*n).copied().unwrap_or(0).to_string());
                }
                let by: Vec<String> = cv.keys.iter().map(|(k, n)| format!("{k} ({n})")).collect();
                row.push(if by.is_empty() {
                    "no candidate key".to_string()
                } else {
                    by.join(", ")
                });
                row
            })
            .collect();
        write_table(out, &header, &rows)?;
        writeln!(out)?;
    }

    if !a.keys.is_empty() {
        let rows: Vec<Vec<String>> = a
            .keys
            .iter()
            .map(|k| {
                vec![
                    k.id.clone(),
                    k.fingerprint.clone(),
                    format!("decrypts {} live records", k.decrypts),
                ]
            })
            .collect();
        write_table(out, &["KEY", "FINGERPRINT", "USE"], &rows)?;
        writeln!(out)?;
    }

    if a.unreadable.is_empty() {
        if !a.nodes.is_empty() {
            writeln!(out, "every node reads every live record")?;
        }
    } else {
        writeln!(
            out,
            "{} live records at least one node cannot read, grouped by what the nodes say:",
            a.unreadable.len()
        )?;
        // Group records that fail the same way on the same nodes and open with the same keys.
        type Group<'g> = (&'g Unreadable, Vec<&'g Unreadable>);
        let mut groups: Vec<Group<'_>> = Vec::new();
        for u in &a.unreadable {
            let same = |g: &&mut Group<'_>| {
                let f = g.0;
                f.failing_nodes == u.failing_nodes
                    && f.decrypts_with == u.decrypts_with
                    && f.provider == u.provider
                    && f.key_name == u.key_name
            };
            match groups.iter_mut().find(same) {
                Some(g) => g.1.push(u),
                None => groups.push((u, vec![u])),
            }
        }
        for (first, members) in &groups {
            let name = first
                .key_name
                .as_deref()
                .map(|n| format!(" key {n}"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {} record(s), {}{name}:",
                members.len(),
                first.provider
            )?;
            for (node, e) in first.failing_nodes.iter() {
                writeln!(out, "    {node}: {e}")?;
            }
            if first.decrypts_with.is_empty() {
                writeln!(out, "    no candidate key decrypts them")?;
            } else {
                writeln!(out, "    decrypt with {}", first.decrypts_with.join(", "))?;
            }
            for u in members.iter().take(GROUP_LIST) {
                writeln!(out, "      {} (mod_revision {})", u.key, u.mod_revision)?;
            }
            if members.len() > GROUP_LIST {
                writeln!(
                    out,
                    "      … and {} more (--format json lists every one)",
                    members.len() - GROUP_LIST
                )?;
            }
        }
    }

    if !a.first_failures.is_empty() {
        writeln!(
            out,
            "\nwhere each node's LIST stops (first unreadable key per resource):"
        )?;
        for f in &a.first_failures {
            writeln!(out, "  {} {}: {}: {}", f.node, f.resource, f.key, f.error)?;
        }
    }

    if !a.plaintext_in_encrypted_resources.is_empty() {
        writeln!(
            out,
            "\n{} plaintext records of resources the configs encrypt:",
            a.plaintext_in_encrypted_resources.len()
        )?;
        for p in &a.plaintext_in_encrypted_resources {
            writeln!(
                out,
                "  {} (mod_revision {}; encrypted on {})",
                p.key,
                p.mod_revision,
                p.encrypted_on.join(", ")
            )?;
        }
    }

    if !a.kms_records.is_empty() {
        writeln!(
            out,
            "\n{} records only a KMS plugin can open:",
            a.kms_records.len()
        )?;
        for k in &a.kms_records {
            match (&k.envelope, &k.envelope_error) {
                (Some(e), _) => {
                    let mut parts = vec![format!("{} plugin {}", e.version, e.plugin)];
                    if let Some(id) = &e.key_id {
                        parts.push(format!("keyID {id}"));
                    }
                    if let Some(t) = &e.dek_source_type {
                        parts.push(t.clone());
                    }
                    let nodes = if k.nodes.is_empty() {
                        "no node has this plugin".to_string()
                    } else {
                        format!("configured on {}", k.nodes.join(", "))
                    };
                    writeln!(
                        out,
                        "  {} (mod_revision {}): {}; {nodes}",
                        k.key,
                        k.mod_revision,
                        parts.join(", ")
                    )?;
                }
                (None, Some(err)) => writeln!(
                    out,
                    "  {} (mod_revision {}): malformed envelope: {err}",
                    k.key, k.mod_revision
                )?,
                (None, None) => writeln!(out, "  {} (mod_revision {})", k.key, k.mod_revision)?,
            }
        }
    }
    Ok(())
}
