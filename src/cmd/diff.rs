//! `diff OLD NEW`: what changed between two snapshots of one cluster — keys added, removed and
//! changed (live views compared by revision and value hash, never by showing values), by resource
//! and namespace, and how each record's encryption changed: moved to another key, to another
//! provider, became plaintext, became encrypted.

use super::common::{display_key, open_snapshot};
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::{CmdResult, Outcome};
use crate::etcd::records::{Record, Records};
use crate::kube::envelope::Envelope;
use crate::kube::path::KeyPath;
use crate::output::write_json;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The older snapshot.
    pub old: PathBuf,
    /// The newer snapshot.
    pub new: PathBuf,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Keys listed per section in text output (JSON lists all).
    #[arg(long, default_value_t = 20)]
    pub max: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// How a record's storage changed between the two snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EncryptionChange {
    /// Same provider, another key name (a key rotation's rewrite).
    KeyChanged,
    /// Another encrypting provider.
    ProviderChanged,
    /// Was encrypted, now stored in plaintext.
    BecamePlaintext,
    /// Was plaintext, now encrypted.
    BecameEncrypted,
}

#[derive(Serialize)]
struct Storage {
    /// `protobuf`, `json`, `aescbc`, …
    envelope: &'static str,
    /// The key (or KMS plugin) name before the first `:`; None for plaintext.
    key_name: Option<String>,
}

fn storage(value: &[u8]) -> Storage {
    let e = Envelope::classify(value);
    Storage {
        envelope: e.label(),
        key_name: e.key_name_guess().map(display_key),
    }
}

#[derive(Serialize)]
struct KeyChange {
    key: String,
    resource: Option<String>,
    namespace: Option<String>,
    change: Change,
    old_revision: Option<i64>,
    new_revision: Option<i64>,
    /// False when only the revision moved (a write of identical bytes).
    value_changed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption: Option<EncryptionChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_storage: Option<Storage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_storage: Option<Storage>,
}

#[derive(Serialize, Default)]
struct Counts {
    added: usize,
    removed: usize,
    changed: usize,
}

#[derive(Serialize)]
struct Side {
    file: String,
    revision: i64,
    live_keys: usize,
    complete: bool,
}

#[derive(Serialize)]
struct DiffReport {
    old: Side,
    new: Side,
    /// Changes per resource, then per namespace ("" for cluster-scoped and non-kube keys).
    by_resource: BTreeMap<String, BTreeMap<String, Counts>>,
    encryption: BTreeMap<String, usize>,
    changes: Vec<KeyChange>,
}

fn encryption_change(old: &[u8], new: &[u8]) -> Option<EncryptionChange> {
    let (a, b) = (Envelope::classify(old), Envelope::classify(new));
    match (a.is_encrypted(), b.is_encrypted()) {
        (true, false) => Some(EncryptionChange::BecamePlaintext),
        (false, true) => Some(EncryptionChange::BecameEncrypted),
        (false, false) => None,
        (true, true) if a.label() != b.label() => Some(EncryptionChange::ProviderChanged),
        (true, true) if a.key_name_guess() != b.key_name_guess() => {
            Some(EncryptionChange::KeyChanged)
        }
        (true, true) => None,
    }
}

fn describe(
    key: &[u8],
    change: Change,
    old: Option<&Record<'_>>,
    new: Option<&Record<'_>>,
) -> KeyChange {
    let path = KeyPath::parse(key);
    let (ov, nv) = (old.map(|r| r.kv.value), new.map(|r| r.kv.value));
    let encryption = match (ov, nv) {
        (Some(a), Some(b)) => encryption_change(a, b),
        _ => None,
    };
    KeyChange {
        key: display_key(key),
        resource: path.map(|p| p.qualified_resource()),
        namespace: path.and_then(|p| p.namespace.map(str::to_string)),
        change,
        old_revision: old.map(|r| r.kv.mod_revision),
        new_revision: new.map(|r| r.kv.mod_revision),
        value_changed: match (ov, nv) {
            (Some(a), Some(b)) => a != b,
            _ => true,
        },
        encryption,
        old_storage: ov.map(storage),
        new_storage: nv.map(storage),
    }
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    guard.input(&args.old).input(&args.new);
    let (fmt, sink) = args
        .out
        .prepare("diff", formats("diff"), &guard, Mode::Private)?;
    let (old, new) = (open_snapshot(&args.old)?, open_snapshot(&args.new)?);
    let (ro, rn) = rayon::join(|| Records::read(&old), || Records::read(&new));
    let (mut a, mut b) = (ro.live().peekable(), rn.live().peekable());
    let mut changes = Vec::new();
    loop {
        let ord = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => x.kv.key.cmp(y.kv.key),
        };
        match ord {
            Ordering::Less => {
                let r = a.next().expect("peeked");
                changes.push(describe(r.kv.key, Change::Removed, Some(r), None));
            }
            Ordering::Greater => {
                let r = b.next().expect("peeked");
                changes.push(describe(r.kv.key, Change::Added, None, Some(r)));
            }
            Ordering::Equal => {
                let (x, y) = (a.next().expect("peeked"), b.next().expect("peeked"));
                let same = x.kv.mod_revision == y.kv.mod_revision
                    && x.kv.create_revision == y.kv.create_revision
                    && x.kv.value == y.kv.value;
                if !same {
                    changes.push(describe(x.kv.key, Change::Changed, Some(x), Some(y)));
                }
            }
        }
    }
    let mut by_resource: BTreeMap<String, BTreeMap<String, Counts>> = BTreeMap::new();
    let mut encryption: BTreeMap<String, usize> = BTreeMap::new();
    for c in &changes {
        let n = by_resource
            .entry(
                c.resource
                    .clone()
                    .unwrap_or_else(|| "(not a kube key)".into()),
            )
            .or_default()
            .entry(c.namespace.clone().unwrap_or_default())
            .or_default();
        match c.change {
            Change::Added => n.added += 1,
            Change::Removed => n.removed += 1,
            Change::Changed => n.changed += 1,
        }
        if let Some(e) = c.encryption {
            let name = serde_json::to_value(e)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            *encryption.entry(name).or_default() += 1;
        }
    }
    let side = |path: &std::path::Path, r: &Records<'_>| Side {
        file: path.display().to_string(),
        revision: r.max_revision(),
        live_keys: r.live_count(),
        complete: r.complete(),
    };
    let report = DiffReport {
        old: side(&old.path, &ro),
        new: side(&new.path, &rn),
        by_resource,
        encryption,
        changes,
    };
    let mut out = sink;
    match fmt {
        Fmt::Json => write_json(&mut out, &report)?,
        _ => render_text(&mut out, &report, args.max)?,
    }
    out.finish()?;
    if !report.old.complete || !report.new.complete {
        eprintln!(
            "etcd-autopsy: a snapshot is damaged; the diff covers only what could be read \
             (`etcd-autopsy check`, `etcd-autopsy salvage`)"
        );
        return Ok(Outcome::Problems);
    }
    Ok(Outcome::Clean)
}

fn render_text(out: &mut impl Write, r: &DiffReport, max: usize) -> std::io::Result<()> {
    for (label, s) in [("old", &r.old), ("new", &r.new)] {
        writeln!(
            out,
            "{label}  {}  revision {}, {} live keys",
            s.file, s.revision, s.live_keys
        )?;
    }
    writeln!(out, "\nby resource (added / removed / changed):")?;
    for (res, nss) in &r.by_resource {
        for (ns, c) in nss {
            let ns = if ns.is_empty() { "-" } else { ns };
            writeln!(
                out,
                "  {res:<32} {ns:<20} +{} -{} ~{}",
                c.added, c.removed, c.changed
            )?;
        }
    }
    if !r.encryption.is_empty() {
        writeln!(out, "\nencryption changes:")?;
        for (k, n) in &r.encryption {
            writeln!(out, "  {k:<20} {n}")?;
        }
    }
    writeln!(out, "\nkeys ({}):", r.changes.len())?;
    for c in r.changes.iter().take(max) {
        let sign = match c.change {
            Change::Added => "+",
            Change::Removed => "-",
            Change::Changed => "~",
        };
        let revs = format!(
            "{} -> {}",
            c.old_revision.map_or("-".into(), |v| v.to_string()),
            c.new_revision.map_or("-".into(), |v| v.to_string())
        );
        let enc = match (&c.encryption, &c.old_storage, &c.new_storage) {
            (Some(_), Some(a), Some(b)) => format!(
                "  [{}{} -> {}{}]",
                a.envelope,
                a.key_name
                    .as_deref()
                    .map(|k| format!(":{k}"))
                    .unwrap_or_default(),
                b.envelope,
                b.key_name
                    .as_deref()
                    .map(|k| format!(":{k}"))
                    .unwrap_or_default()
            ),
            _ => String::new(),
        };
        writeln!(out, "  {sign} {}  {revs}{enc}", c.key)?;
    }
    if r.changes.len() > max {
        writeln!(
            out,
            "  … and {} more (--max N, or --format json for all)",
            r.changes.len() - max
        )?;
    }
    Ok(())
}
