//! `diff OLD NEW`: what changed between two snapshots of one cluster — keys added, removed and
//! changed (live views compared by revision and value hash, never by showing values), by resource
//! and namespace, and how each record's encryption changed: moved to another key, to another
//! provider, became plaintext, became encrypted. With key sources (the same `--encryption-config`
//! / `--static-resources` / `--key` as `report`), every changed or added record is also judged by
//! each node's config in both snapshots (`decrypt::Engine`, the per-node kube-apiserver
//! simulation): records a node could read in OLD and cannot in NEW, and the reverse. Removed
//! records are judged on OLD's side: per node whether it read the record before it went (and
//! with which provider and key), so "became unreadable" (still there, no longer read), "removed"
//! (read, then gone) and "removed while unreadable" (gone, and this node could not read it
//! either) are distinct; a record no node could read that disappears is said on its own: its
//! contents could not have been recovered from OLD by any of these nodes.

use super::common::{display_key, open_snapshot};
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::sources::KeySourceArgs;
use super::{CmdResult, Outcome};
use crate::decrypt::{Engine, NodeOutcome};
use crate::etcd::records::{Record, Records};
use crate::kube::envelope::Envelope;
use crate::kube::openshift::Apiserver;
use crate::kube::path::KeyPath;
use crate::output::write_json;
use rayon::prelude::*;
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
    /// Node configs to judge both snapshots by: which records each node could read before and
    /// cannot after, and the reverse.
    #[command(flatten)]
    pub keys: KeySourceArgs,
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

/// How one node's answer for a record changed between the two snapshots (typed here; the JSON
/// names are the serde names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Readability {
    /// The node returns OLD's record and fails on NEW's (e.g. a rotation's new key it lacks).
    BecameUnreadable,
    /// The node fails on OLD's record and returns NEW's.
    BecameReadable,
    /// A record only NEW holds, which the node cannot read.
    AddedUnreadable,
    /// One side needs a KMS plugin for this node: only the plugin can tell.
    Undetermined,
    /// A record only OLD holds, which the node read (`read_with` says how).
    Removed,
    /// A record only OLD holds, which the node could not read either (`error` says why).
    RemovedUnreadable,
}

/// Whether anyone could read a removed record before it went, over every node of the configs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovedState {
    ReadByEveryNode,
    ReadBySomeNodes,
    /// No node's kube-apiserver could return it: what it held could not have been recovered
    /// from OLD through any of these configs (`decrypts_with` names a candidate key that opens
    /// it, if one does).
    ReadByNoNode,
    /// A KMS plugin decides for some node, and no node reads it without one.
    Undetermined,
    /// Another apiserver serves it (OpenShift routes, OAuth tokens) and no config of that
    /// apiserver was given: not judged (verdict rule 4), never "read by no node".
    NotChecked,
}

/// What one node's kube-apiserver does with a record, as far as the files tell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reads {
    Yes,
    No,
    NeedsKms,
    /// Another apiserver serves the resource: not this node's record to read.
    NotServed,
}

fn reads(o: &NodeOutcome<'_>) -> Reads {
    match o {
        NodeOutcome::NeedsKms { .. } => Reads::NeedsKms,
        NodeOutcome::NotServed => Reads::NotServed,
        o if o.is_readable() => Reads::Yes,
        _ => Reads::No,
    }
}

/// How a node read a record: `plaintext`, or `PROVIDER key NAME (FINGERPRINT)`.
fn read_with(o: &NodeOutcome<'_>) -> Option<String> {
    match o {
        NodeOutcome::Plaintext => Some("plaintext".into()),
        NodeOutcome::Decrypted {
            provider,
            key_name,
            fingerprint,
        } => Some(format!(
            "{} key {} ({fingerprint})",
            provider.name(),
            display_key(key_name.as_bytes())
        )),
        _ => None,
    }
}

/// One node's change for one record: what changed, the apiserver's error on the side it cannot
/// read, and how it read OLD's record (for `removed` and `became_unreadable`).
type NodeJudgement = (usize, Readability, Option<String>, Option<String>);

/// Per node (index into `engine.nodes`), how its answer changed: nothing for a node that reads
/// (or fails on) both sides alike. The error is the apiserver's, for the side it cannot read.
fn readability(
    engine: &Engine,
    key: &[u8],
    old: Option<&[u8]>,
    new: Option<&[u8]>,
) -> (Vec<NodeJudgement>, Vec<usize>, bool) {
    // Verdict rule 4: a resource an aggregated apiserver serves is judged only by a config of
    // that apiserver; without one, kube-apiserver's nodes would "fail" it for nothing.
    let served = KeyPath::parse(key).and_then(|p| Apiserver::serving(p.group_resource().1));
    if served.is_some() && engine.resource_ids(key).apiserver == Apiserver::Kube {
        return (Vec::new(), Vec::new(), true);
    }
    let (a, b) = (
        old.map(|v| engine.assess(key, v)),
        new.map(|v| engine.assess(key, v)),
    );
    let mut out = Vec::new();
    for i in 0..engine.nodes.len() {
        let (x, y) = (
            a.as_ref().and_then(|v| v.nodes.get(i)),
            b.as_ref().and_then(|v| v.nodes.get(i)),
        );
        let change = match (x.map(reads), y.map(reads)) {
            (Some(Reads::NotServed), _) | (_, Some(Reads::NotServed)) => None,
            (Some(Reads::Yes), Some(Reads::No)) => Some((Readability::BecameUnreadable, y)),
            (Some(Reads::No), Some(Reads::Yes)) => Some((Readability::BecameReadable, x)),
            (None, Some(Reads::No)) => Some((Readability::AddedUnreadable, y)),
            (Some(p), Some(q)) if p != q => Some((Readability::Undetermined, None)),
            (None, Some(Reads::NeedsKms)) => Some((Readability::Undetermined, None)),
            (Some(Reads::Yes), None) => Some((Readability::Removed, None)),
            (Some(Reads::No), None) => Some((Readability::RemovedUnreadable, x)),
            (Some(Reads::NeedsKms), None) => Some((Readability::Undetermined, None)),
            _ => None,
        };
        if let Some((c, failing)) = change {
            let how = match c {
                Readability::Removed | Readability::BecameUnreadable => x.and_then(read_with),
                _ => None,
            };
            out.push((i, c, failing.and_then(NodeOutcome::error_line), how));
        }
    }
    // Which candidate keys open OLD's value of a removed record (whoever holds them).
    let opens = match (&a, new) {
        (Some(v), None) => v.decrypts_with.clone(),
        _ => Vec::new(),
    };
    (out, opens, false)
}

/// A changed key and its value in OLD and in NEW (None where it is absent).
type ChangedValues<'a> = (&'a [u8], Option<&'a [u8]>, Option<&'a [u8]>);

#[derive(Serialize)]
struct NodeChange {
    node: String,
    change: Readability,
    /// The node's kube-apiserver error on the side it cannot read (NEW's record, or OLD's for
    /// `became_readable` and `removed_unreadable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// How the node read OLD's record (`removed`, `became_unreadable`): `plaintext` or
    /// `PROVIDER key NAME (FINGERPRINT)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    read_with: Option<String>,
}

#[derive(Serialize, Default)]
struct NodeCounts {
    became_unreadable: usize,
    became_readable: usize,
    added_unreadable: usize,
    undetermined: usize,
    /// Removed records this node read before they went.
    removed: usize,
    /// Removed records this node could not read either.
    removed_unreadable: usize,
}

/// Removed records by [`RemovedState`] (with key sources and node configs).
#[derive(Serialize, Default)]
struct RemovedCounts {
    total: usize,
    read_by_every_node: usize,
    read_by_some_nodes: usize,
    read_by_no_node: usize,
    undetermined: usize,
    not_checked: usize,
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
    /// With key sources: the nodes whose answer for this record changed (for a removed record,
    /// every node whose apiserver serves it: read before, or not).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    nodes: Vec<NodeChange>,
    /// A removed record, with node configs: whether any node could read it before it went.
    #[serde(skip_serializing_if = "Option::is_none")]
    removed: Option<RemovedState>,
    /// A removed encrypted record: the candidate keys (ids `NODE/PROVIDER/NAME`) that open OLD's
    /// value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    decrypts_with: Vec<String>,
}

#[derive(Serialize, Default)]
struct Counts {
    added: usize,
    removed: usize,
    changed: usize,
    /// With node configs: the removed records no node could read.
    #[serde(skip_serializing_if = "Option::is_none")]
    removed_read_by_no_node: Option<usize>,
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
    /// With key sources: per node (every node of the configs, also those with nothing changed),
    /// how many records changed readability. Absent without key sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    readability: Option<BTreeMap<String, NodeCounts>>,
    /// With node configs: the removed records by whether any node could read them.
    #[serde(skip_serializing_if = "Option::is_none")]
    removed: Option<RemovedCounts>,
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
        nodes: Vec::new(),
        removed: None,
        decrypts_with: Vec::new(),
    }
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    guard.input(&args.old).input(&args.new);
    args.keys.guard(&mut guard);
    let (fmt, sink) = args
        .out
        .prepare("diff", formats("diff"), &guard, Mode::Private)?;
    let keyring = if args.keys.is_empty() {
        None
    } else {
        Some(args.keys.load()?)
    };
    let engine = keyring.as_ref().map(Engine::new);
    let (old, new) = (open_snapshot(&args.old)?, open_snapshot(&args.new)?);
    let (ro, rn) = rayon::join(|| Records::read(&old), || Records::read(&new));
    let (mut a, mut b) = (ro.live().peekable(), rn.live().peekable());
    let mut changes = Vec::new();
    // Of every change, for the per-node judgement.
    let mut values: Vec<ChangedValues<'_>> = Vec::new();
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
                values.push((r.kv.key, Some(r.kv.value), None));
            }
            Ordering::Greater => {
                let r = b.next().expect("peeked");
                changes.push(describe(r.kv.key, Change::Added, None, Some(r)));
                values.push((r.kv.key, None, Some(r.kv.value)));
            }
            Ordering::Equal => {
                let (x, y) = (a.next().expect("peeked"), b.next().expect("peeked"));
                let same = x.kv.mod_revision == y.kv.mod_revision
                    && x.kv.create_revision == y.kv.create_revision
                    && x.kv.value == y.kv.value;
                if !same {
                    changes.push(describe(x.kv.key, Change::Changed, Some(x), Some(y)));
                    values.push((x.kv.key, Some(x.kv.value), Some(y.kv.value)));
                }
            }
        }
    }
    let readability_counts = engine.as_ref().map(|e| {
        let judged: Vec<_> = values
            .par_iter()
            .map(|&(k, o, n)| readability(e, k, o, n))
            .collect();
        let mut counts: BTreeMap<String, NodeCounts> = e
            .nodes
            .iter()
            .map(|n| (n.node.clone(), NodeCounts::default()))
            .collect();
        let mut removed = RemovedCounts::default();
        for (c, (j, opens, unjudged)) in changes.iter_mut().zip(judged) {
            for (i, change, error, how) in j {
                let node = e.nodes.get(i).map(|n| n.node.clone()).unwrap_or_default();
                let n = counts.entry(node.clone()).or_default();
                match change {
                    Readability::BecameUnreadable => n.became_unreadable += 1,
                    Readability::BecameReadable => n.became_readable += 1,
                    Readability::AddedUnreadable => n.added_unreadable += 1,
                    Readability::Undetermined => n.undetermined += 1,
                    Readability::Removed => n.removed += 1,
                    Readability::RemovedUnreadable => n.removed_unreadable += 1,
                }
                c.nodes.push(NodeChange {
                    node,
                    change,
                    error,
                    read_with: how,
                });
            }
            if c.change == Change::Removed && !e.nodes.is_empty() {
                let read = c.nodes.iter().filter(|n| n.change == Readability::Removed);
                let (read, unread, kms) = (
                    read.count(),
                    c.nodes
                        .iter()
                        .filter(|n| n.change == Readability::RemovedUnreadable)
                        .count(),
                    c.nodes
                        .iter()
                        .filter(|n| n.change == Readability::Undetermined)
                        .count(),
                );
                let state = match (read, unread, kms) {
                    _ if unjudged => RemovedState::NotChecked,
                    (0, _, k) if k > 0 => RemovedState::Undetermined,
                    (0, _, _) => RemovedState::ReadByNoNode,
                    (_, 0, 0) => RemovedState::ReadByEveryNode,
                    _ => RemovedState::ReadBySomeNodes,
                };
                removed.total += 1;
                match state {
                    RemovedState::ReadByEveryNode => removed.read_by_every_node += 1,
                    RemovedState::ReadBySomeNodes => removed.read_by_some_nodes += 1,
                    RemovedState::ReadByNoNode => removed.read_by_no_node += 1,
                    RemovedState::Undetermined => removed.undetermined += 1,
                    RemovedState::NotChecked => removed.not_checked += 1,
                }
                c.removed = Some(state);
                if let Some(kr) = &keyring {
                    c.decrypts_with = opens
                        .iter()
                        .filter_map(|&k| kr.keys.get(k).map(|k| k.id.clone()))
                        .collect();
                }
            }
        }
        (counts, (!e.nodes.is_empty()).then_some(removed))
    });
    let (readability_counts, removed_counts) = match readability_counts {
        Some((c, r)) => (Some(c), r),
        None => (None, None),
    };
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
        if removed_counts.is_some() {
            let unread = n.removed_read_by_no_node.get_or_insert(0);
            if c.removed == Some(RemovedState::ReadByNoNode) {
                *unread += 1;
            }
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
        readability: readability_counts,
        removed: removed_counts,
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

/// The removed records judged on OLD's side: counts, per node, then the ones that went while a
/// node (or every node) could not read them.
fn render_removed(
    out: &mut impl Write,
    r: &DiffReport,
    rc: &RemovedCounts,
    nodes: &BTreeMap<String, NodeCounts>,
    max: usize,
) -> std::io::Result<()> {
    write!(
        out,
        "\nremoved records ({}): read before by every node {}, by some nodes {}, by no node {}",
        rc.total, rc.read_by_every_node, rc.read_by_some_nodes, rc.read_by_no_node
    )?;
    writeln!(out)?;
    if rc.undetermined > 0 {
        writeln!(out, "  {} need a KMS plugin to tell", rc.undetermined)?;
    }
    if rc.not_checked > 0 {
        writeln!(
            out,
            "  {} not checked: another apiserver serves them (give its config)",
            rc.not_checked
        )?;
    }
    if rc.total == 0 {
        return Ok(());
    }
    writeln!(out, "removed per node (read before / unreadable before):")?;
    for (node, c) in nodes {
        writeln!(out, "  {node:<20} {} / {}", c.removed, c.removed_unreadable)?;
    }
    let gone: Vec<&KeyChange> = r
        .changes
        .iter()
        .filter(|c| c.removed == Some(RemovedState::ReadByNoNode))
        .collect();
    if !gone.is_empty() {
        writeln!(
            out,
            "\nremoved while no node could read it ({}); what they held could not have been\n\
             recovered from OLD through these configs either:",
            gone.len()
        )?;
        for c in gone.iter().take(max) {
            let opens = if c.decrypts_with.is_empty() {
                String::new()
            } else {
                format!("  (opens with {})", c.decrypts_with.join(", "))
            };
            writeln!(out, "  {}{opens}", c.key)?;
        }
        if gone.len() > max {
            writeln!(out, "  … and {} more", gone.len() - max)?;
        }
    }
    let partly: Vec<(&KeyChange, &NodeChange)> = r
        .changes
        .iter()
        .filter(|c| c.removed == Some(RemovedState::ReadBySomeNodes))
        .flat_map(|c| c.nodes.iter().map(move |n| (c, n)))
        .filter(|(_, n)| n.change == Readability::RemovedUnreadable)
        .collect();
    if !partly.is_empty() {
        writeln!(
            out,
            "\nremoved while unreadable for some nodes (others read it) ({}):",
            partly.len()
        )?;
        for (c, n) in partly.iter().take(max) {
            let by: Vec<String> = c
                .nodes
                .iter()
                .filter(|o| o.change == Readability::Removed)
                .map(|o| format!("{} with {}", o.node, o.read_with.as_deref().unwrap_or("-")))
                .collect();
            writeln!(
                out,
                "  {}  {}: {}; read by {}",
                n.node,
                c.key,
                n.error.as_deref().unwrap_or("-"),
                by.join(", ")
            )?;
        }
        if partly.len() > max {
            writeln!(out, "  … and {} more", partly.len() - max)?;
        }
    }
    Ok(())
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
            write!(
                out,
                "  {res:<32} {ns:<20} +{} -{} ~{}",
                c.added, c.removed, c.changed
            )?;
            match c.removed_read_by_no_node {
                Some(n) if n > 0 => writeln!(out, "  ({n} removed that no node could read)")?,
                _ => writeln!(out)?,
            }
        }
    }
    if !r.encryption.is_empty() {
        writeln!(out, "\nencryption changes:")?;
        for (k, n) in &r.encryption {
            writeln!(out, "  {k:<20} {n}")?;
        }
    }
    match &r.readability {
        None => writeln!(
            out,
            "\nreadability per node: not judged (give the nodes' configs: --encryption-config, \
             --static-resources)"
        )?,
        Some(nodes) if nodes.is_empty() => writeln!(
            out,
            "\nreadability per node: no node configs among the key sources (--key gives \
             candidates, not nodes)"
        )?,
        Some(nodes) => {
            writeln!(
                out,
                "\nreadability per node (became unreadable / readable again / added unreadable):"
            )?;
            for (node, c) in nodes {
                write!(
                    out,
                    "  {node:<20} {} / {} / {}",
                    c.became_unreadable, c.became_readable, c.added_unreadable
                )?;
                if c.undetermined > 0 {
                    write!(out, "  ({} need a KMS plugin to tell)", c.undetermined)?;
                }
                writeln!(out)?;
            }
            for (label, want) in [
                ("became unreadable", Readability::BecameUnreadable),
                ("readable again", Readability::BecameReadable),
                ("added, unreadable", Readability::AddedUnreadable),
            ] {
                let hit: Vec<(&KeyChange, &NodeChange)> = r
                    .changes
                    .iter()
                    .flat_map(|c| c.nodes.iter().map(move |n| (c, n)))
                    .filter(|(_, n)| n.change == want)
                    .collect();
                if hit.is_empty() {
                    continue;
                }
                writeln!(out, "\n{label} ({}):", hit.len())?;
                // For a record readable again the error is the one OLD gave: say so, or the line
                // reads as if the node still failed it.
                let was = if want == Readability::BecameReadable {
                    "was: "
                } else {
                    ""
                };
                for (c, n) in hit.iter().take(max) {
                    writeln!(
                        out,
                        "  {}  {}: {was}{}",
                        n.node,
                        c.key,
                        n.error.as_deref().unwrap_or("-")
                    )?;
                }
                if hit.len() > max {
                    writeln!(out, "  … and {} more", hit.len() - max)?;
                }
            }
            if let Some(rc) = &r.removed {
                render_removed(out, r, rc, nodes, max)?;
            }
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
