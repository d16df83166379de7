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
//!
//! On OpenShift, routes and OAuth tokens are judged by openshift-apiserver / oauth-apiserver
//! (verdict rule 4): their configs and keys are recovered from each snapshot's own
//! `openshift-config-managed` Secrets with the given kube-apiserver keys
//! (`decrypt::recovered`, as `report` does), so OLD's records are judged by OLD's configs and
//! NEW's by NEW's; how those apiservers' keys changed is listed (fingerprints only), and a side
//! without such a config leaves their records `not_checked`.

use super::common::{display_key, open_snapshot};
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::sources::KeySourceArgs;
use super::stats::wrap;
use super::{CmdResult, Outcome};
use crate::decrypt::recovered::{recover, recovered_engine, Recovery, Unrecovered};
use crate::decrypt::{Engine, NodeOutcome};
use crate::etcd::records::{Record, Records};
use crate::keyring::{Keyring, Role};
use crate::kube::envelope::Envelope;
use crate::kube::openshift::{Apiserver, AGGREGATED, CONFIG_NAMESPACE};
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
    /// cannot after, and the reverse. On OpenShift, kube-apiserver's config or tarball also
    /// opens each snapshot's openshift-apiserver / oauth-apiserver configs and keys
    /// (openshift-config-managed Secrets), which judge that snapshot's routes and OAuth tokens.
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
    /// The same bytes at the same revision in both snapshots, listed (in `unchanged`) only when
    /// a node answers differently because its apiserver's config recovered from NEW is not OLD's.
    Unchanged,
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

/// One node's change for one record: the node (index into [`Judges::nodes`]), what changed, the
/// apiserver's error on the side it cannot read, and how it read OLD's record (for `removed`
/// and `became_unreadable`).
type NodeJudgement = (usize, Readability, Option<String>, Option<String>);

/// One snapshot's judges: the given configs plus, by verdict rule 4, the configs and keys of
/// openshift-apiserver / oauth-apiserver recovered from that snapshot's own Secrets
/// (`decrypt::recovered`, the path `report` takes), or the given engine alone when it holds none.
struct Judge {
    recovered: Option<(Engine, Keyring)>,
    recovery: Recovery,
}

/// OLD's and NEW's judges, and every node of either by name.
struct Judges<'k> {
    given: Engine,
    keyring: &'k Keyring,
    old: Judge,
    new: Judge,
    /// Every node of either side, OLD's order then NEW's own: (name, index in OLD's engine,
    /// index in NEW's). The given nodes are on both sides; a recovered apiserver may be on one.
    nodes: Vec<(String, Option<usize>, Option<usize>)>,
}

impl<'k> Judges<'k> {
    fn new(keyring: &'k Keyring, ro: &Records<'_>, rn: &Records<'_>) -> Judges<'k> {
        let given = Engine::new(keyring);
        let (a, b) = rayon::join(|| recover(&given, ro), || recover(&given, rn));
        let judge = |recovery: Recovery| Judge {
            recovered: recovered_engine(keyring, &recovery),
            recovery,
        };
        let (old, new) = rayon::join(|| judge(a), || judge(b));
        let mut j = Judges {
            given,
            keyring,
            old,
            new,
            nodes: Vec::new(),
        };
        let (eo, en) = j.engines();
        let mut nodes: Vec<(String, Option<usize>, Option<usize>)> = eo
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let other = en.nodes.iter().position(|m| m.node == n.node);
                (n.node.clone(), Some(i), other)
            })
            .collect();
        for (i, n) in en.nodes.iter().enumerate() {
            if !eo.nodes.iter().any(|m| m.node == n.node) {
                nodes.push((n.node.clone(), None, Some(i)));
            }
        }
        j.nodes = nodes;
        j
    }

    fn engine<'a>(&'a self, side: &'a Judge) -> &'a Engine {
        side.recovered.as_ref().map_or(&self.given, |(e, _)| e)
    }

    fn engines(&self) -> (&Engine, &Engine) {
        (self.engine(&self.old), self.engine(&self.new))
    }

    /// The keyring a side's candidate key ids index.
    fn keyring_of<'a>(&'a self, side: &'a Judge) -> &'a Keyring {
        side.recovered.as_ref().map_or(self.keyring, |(_, k)| k)
    }

    /// True when either side judges an aggregated apiserver's resources.
    fn judges_aggregated(&self) -> bool {
        let (eo, en) = self.engines();
        eo.judges_aggregated() || en.judges_aggregated()
    }
}

/// A record another apiserver serves, held by a side that has no config of that apiserver:
/// not judged there (verdict rule 4).
#[derive(Serialize)]
struct NotChecked {
    apiserver: &'static str,
    /// `old`, `new` or both: the sides that hold the record without that apiserver's config.
    sides: Vec<&'static str>,
}

/// How the nodes' answers for one record changed, and which candidate keys open the value a
/// node lost: OLD's of a removed record, NEW's of a record some node no longer reads (indices
/// into that side's keyring).
struct Judgement {
    nodes: Vec<NodeJudgement>,
    opens: Opens,
    not_checked: Option<NotChecked>,
}

/// Candidate keys that open one side's value (indices into that side's keyring).
enum Opens {
    None,
    Old(Vec<usize>),
    New(Vec<usize>),
}

/// Per node, how its answer changed: nothing for a node that reads (or fails on) both sides
/// alike. Each side is judged by its own judges. The error is the apiserver's, for the side it
/// cannot read.
fn readability(j: &Judges<'_>, key: &[u8], old: Option<&[u8]>, new: Option<&[u8]>) -> Judgement {
    let (eo, en) = j.engines();
    // Verdict rule 4: a resource an aggregated apiserver serves is judged only by a config of
    // that apiserver; a side without one does not judge it (kube-apiserver's nodes would
    // "fail" it for nothing).
    if let Some(a) = served_by_aggregated(key) {
        let mut sides = Vec::new();
        if old.is_some() && eo.resource_ids(key).apiserver == Apiserver::Kube {
            sides.push("old");
        }
        if new.is_some() && en.resource_ids(key).apiserver == Apiserver::Kube {
            sides.push("new");
        }
        if !sides.is_empty() {
            return Judgement {
                nodes: Vec::new(),
                opens: Opens::None,
                not_checked: Some(NotChecked {
                    apiserver: a.name(),
                    sides,
                }),
            };
        }
    }
    let (a, b) = (
        old.map(|v| eo.assess(key, v)),
        new.map(|v| en.assess(key, v)),
    );
    let mut out = Vec::new();
    for (slot, (_, io, inew)) in j.nodes.iter().enumerate() {
        // A side holding the record, without this node: the node stands for an apiserver that
        // side has no config of, and that apiserver does not serve this record (else it would
        // not be judged above), so it would not read it.
        let (x, y) = (
            a.as_ref().map(|v| io.and_then(|i| v.nodes.get(i))),
            b.as_ref().map(|v| inew.and_then(|i| v.nodes.get(i))),
        );
        let (xo, yo) = (x.flatten(), y.flatten());
        let state = |side: Option<Option<&NodeOutcome<'_>>>| {
            side.map(|o| o.map_or(Reads::NotServed, reads))
        };
        let change = match (state(x), state(y)) {
            (Some(Reads::NotServed), _) | (_, Some(Reads::NotServed)) => None,
            (Some(Reads::Yes), Some(Reads::No)) => Some((Readability::BecameUnreadable, yo)),
            (Some(Reads::No), Some(Reads::Yes)) => Some((Readability::BecameReadable, xo)),
            (None, Some(Reads::No)) => Some((Readability::AddedUnreadable, yo)),
            (Some(p), Some(q)) if p != q => Some((Readability::Undetermined, None)),
            (None, Some(Reads::NeedsKms)) => Some((Readability::Undetermined, None)),
            (Some(Reads::Yes), None) => Some((Readability::Removed, None)),
            (Some(Reads::No), None) => Some((Readability::RemovedUnreadable, xo)),
            (Some(Reads::NeedsKms), None) => Some((Readability::Undetermined, None)),
            _ => None,
        };
        if let Some((c, failing)) = change {
            let how = match c {
                Readability::Removed | Readability::BecameUnreadable => xo.and_then(read_with),
                _ => None,
            };
            out.push((slot, c, failing.and_then(NodeOutcome::error_line), how));
        }
    }
    // Which candidate keys open OLD's value of a removed record, or NEW's value of a record a
    // node cannot read in NEW although it read it, or never saw it, before (whoever holds the
    // keys): the key a remedy brings back.
    let lost = out.iter().any(|n| {
        matches!(
            n.1,
            Readability::BecameUnreadable | Readability::AddedUnreadable
        )
    });
    let opens = match (&a, &b) {
        (Some(v), None) => Opens::Old(v.decrypts_with.clone()),
        (_, Some(v)) if lost => Opens::New(v.decrypts_with.clone()),
        _ => Opens::None,
    };
    Judgement {
        nodes: out,
        opens,
        not_checked: None,
    }
}

/// The aggregated apiserver that serves an etcd key's resource, if one does.
fn served_by_aggregated(key: &[u8]) -> Option<Apiserver> {
    KeyPath::parse(key).and_then(|p| Apiserver::serving(p.group_resource().1))
}

/// Why a side has no config of `a`, and what to give (the words of `report`'s evidence).
fn unrecovered(a: Apiserver, why: &Unrecovered) -> String {
    let secret = format!("{CONFIG_NAMESPACE}/{}", a.config_secret());
    match why {
        Unrecovered::Absent => format!(
            "the snapshot holds no Secret {secret}: give {}'s config as --encryption-config {}=FILE",
            a.name(),
            a.name()
        ),
        Unrecovered::NoKubeConfig => format!(
            "Secret {secret} is in the snapshot, but no kube-apiserver config or tarball was given \
             to open it (--encryption-config, --static-resources)"
        ),
        Unrecovered::Undecryptable { revision, .. } => format!(
            "Secret {secret} (revision {revision}) is encrypted with a kube-apiserver key none of \
             the given sources holds: give the config or tarball whose key opens it"
        ),
        Unrecovered::Unreadable {
            revision, problem, ..
        } => format!(
            "Secret {secret} (revision {revision}) was decrypted but holds no usable config: {problem}"
        ),
        Unrecovered::Given => format!("{}'s config was given", a.name()),
    }
}

/// `a`'s config and keys on one side.
fn apiserver_side(j: &Judges<'_>, side: &Judge, a: Apiserver) -> ApiserverSide {
    let engine = j.engine(side);
    let config = engine
        .nodes
        .iter()
        .find(|n| n.node == a.name())
        .map(|n| n.origin.to_string());
    let not_recovered = match (&config, side.recovery.why_not(a)) {
        (None, Some(why)) => Some(unrecovered(a, why)),
        _ => None,
    };
    let keys = j
        .keyring_of(side)
        .keys
        .iter()
        .filter(|k| k.node == a.name())
        .map(|k| KeyView {
            provider: k.provider.name(),
            name: display_key(k.name.as_bytes()),
            fingerprint: k.fingerprint.clone(),
            role: k.role,
            origins: k.origins.iter().map(|o| o.to_string()).collect(),
        })
        .collect();
    let skipped_key_secrets = side
        .recovery
        .skipped
        .iter()
        .filter(|k| k.apiserver == Some(a))
        .map(|k| format!("{} at revision {}: {}", k.secret_name, k.revision, k.why))
        .collect();
    ApiserverSide {
        config,
        not_recovered,
        keys,
        skipped_key_secrets,
    }
}

/// How `a`'s keys changed from OLD to NEW, by provider and name (fingerprints only).
fn key_deltas(old: &[KeyView], new: &[KeyView]) -> Vec<KeyDelta> {
    let by_name = |v: &[KeyView]| -> BTreeMap<(&'static str, String), KeyView> {
        let mut m = BTreeMap::new();
        for k in v {
            m.entry((k.provider, k.name.clone()))
                .or_insert_with(|| k.clone());
        }
        m
    };
    let (a, b) = (by_name(old), by_name(new));
    let names: std::collections::BTreeSet<&(&'static str, String)> =
        a.keys().chain(b.keys()).collect();
    names
        .into_iter()
        .filter_map(|id| {
            let (x, y) = (a.get(id), b.get(id));
            let change = match (x, y) {
                (Some(_), None) => KeyChangeKind::Removed,
                (None, Some(_)) => KeyChangeKind::Added,
                (Some(x), Some(y)) if x.fingerprint != y.fingerprint => KeyChangeKind::BytesChanged,
                (Some(x), Some(y)) if x.role != y.role => KeyChangeKind::RoleChanged,
                _ => return None,
            };
            Some(KeyDelta {
                provider: id.0,
                name: id.1.clone(),
                change,
                old: x.cloned(),
                new: y.cloned(),
            })
        })
        .collect()
}

/// Per aggregated apiserver that either side has a config of, or whose records some side did
/// not check: both sides' configs and keys, and what changed.
fn apiserver_diffs(
    j: &Judges<'_>,
    not_checked: &BTreeMap<&'static str, usize>,
    unchanged_not_checked: &BTreeMap<&'static str, usize>,
) -> BTreeMap<&'static str, ApiserverDiff> {
    let mut out = BTreeMap::new();
    for a in AGGREGATED {
        let (old, new) = (apiserver_side(j, &j.old, a), apiserver_side(j, &j.new, a));
        let skipped = not_checked.get(a.name()).copied().unwrap_or(0);
        let skipped_same = unchanged_not_checked.get(a.name()).copied().unwrap_or(0);
        if old.config.is_none()
            && new.config.is_none()
            && old.keys.is_empty()
            && new.keys.is_empty()
            && skipped == 0
            && skipped_same == 0
        {
            continue;
        }
        let writes = |s: &ApiserverSide| -> Vec<String> {
            let mut w: Vec<String> = s
                .keys
                .iter()
                .filter(|k| k.role == Role::Write)
                .map(|k| format!("{} {} ({})", k.provider, k.name, k.fingerprint))
                .collect();
            w.dedup();
            w
        };
        let (wo, wn) = (writes(&old), writes(&new));
        out.insert(
            a.name(),
            ApiserverDiff {
                key_changes: key_deltas(&old.keys, &new.keys),
                write_key: (wo != wn).then_some((wo, wn)),
                old,
                new,
                not_checked: skipped,
                unchanged_not_checked: skipped_same,
            },
        );
    }
    out
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
    /// value; a record some node cannot read in NEW (became unreadable, or added unreadable):
    /// those of NEW's candidates that open NEW's value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    decrypts_with: Vec<String>,
    /// Served by an aggregated apiserver of which a side holding the record has no config:
    /// not judged there (verdict rule 4; `apiservers` says why and what to give).
    #[serde(skip_serializing_if = "Option::is_none")]
    not_checked: Option<NotChecked>,
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
    /// Per aggregated apiserver (OpenShift's openshift-apiserver, oauth-apiserver) whose
    /// config either snapshot holds, or whose records were not checked: where each side's
    /// config came from, its keys, and how they changed. Absent when neither matters.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    apiservers: BTreeMap<&'static str, ApiserverDiff>,
    changes: Vec<KeyChange>,
    /// Records the same in both snapshots that a node answers differently, because its
    /// apiserver's config recovered from NEW is not the one recovered from OLD.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unchanged: Vec<KeyChange>,
}

/// One key of an aggregated apiserver on one side (never its bytes).
#[derive(Serialize, Clone, PartialEq, Eq)]
struct KeyView {
    provider: &'static str,
    name: String,
    fingerprint: String,
    role: Role,
    /// Where it was read: the config Secret and/or its key Secret, at their revisions.
    origins: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
enum KeyChangeKind {
    /// A key (provider and name) NEW holds and OLD does not.
    Added,
    /// A key OLD held and NEW does not.
    Removed,
    /// The same key bytes, another role (e.g. write → read after a rotation, read → candidate
    /// once pruned from the config while its key Secret stays).
    RoleChanged,
    /// The same provider and name, other key bytes: records written under that name in OLD do
    /// not open with NEW's key.
    BytesChanged,
}

#[derive(Serialize)]
struct KeyDelta {
    provider: &'static str,
    name: String,
    change: KeyChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    old: Option<KeyView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new: Option<KeyView>,
}

/// One aggregated apiserver's config on one side.
#[derive(Serialize)]
struct ApiserverSide {
    /// Where its config came from: "snapshot secret NS/NAME at revision R", or the file given.
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<String>,
    /// Why there is none (and so what to give).
    #[serde(skip_serializing_if = "Option::is_none")]
    not_recovered: Option<String>,
    keys: Vec<KeyView>,
    /// Key Secrets that gave no key: `NAME at revision R: why`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped_key_secrets: Vec<String>,
}

#[derive(Serialize)]
struct ApiserverDiff {
    old: ApiserverSide,
    new: ApiserverSide,
    /// The write keys (`PROVIDER NAME (FINGERPRINT)`), when they differ between the sides.
    #[serde(skip_serializing_if = "Option::is_none")]
    write_key: Option<(Vec<String>, Vec<String>)>,
    key_changes: Vec<KeyDelta>,
    /// Changed (or added, removed) records it serves that were not checked on some side.
    not_checked: usize,
    /// Records it serves, the same in both snapshots, not checked on a side without its config
    /// while the other side judged them: whether that side's nodes read them is not known.
    unchanged_not_checked: usize,
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
        not_checked: None,
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
    let (old, new) = (open_snapshot(&args.old)?, open_snapshot(&args.new)?);
    let (ro, rn) = rayon::join(|| Records::read(&old), || Records::read(&new));
    let judges = keyring.as_ref().map(|k| Judges::new(k, &ro, &rn));
    // Records the same on both sides are judged only for the resources an aggregated apiserver
    // serves, when some side recovered its config: its config may differ between the sides.
    let rejudge = judges.as_ref().is_some_and(Judges::judges_aggregated);
    let (mut a, mut b) = (ro.live().peekable(), rn.live().peekable());
    let mut changes = Vec::new();
    // Of every change, for the per-node judgement.
    let mut values: Vec<ChangedValues<'_>> = Vec::new();
    let mut same: Vec<(&Record<'_>, &Record<'_>)> = Vec::new();
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
                let unchanged = x.kv.mod_revision == y.kv.mod_revision
                    && x.kv.create_revision == y.kv.create_revision
                    && x.kv.value == y.kv.value;
                if !unchanged {
                    changes.push(describe(x.kv.key, Change::Changed, Some(x), Some(y)));
                    values.push((x.kv.key, Some(x.kv.value), Some(y.kv.value)));
                } else if rejudge && served_by_aggregated(x.kv.key).is_some() {
                    same.push((x, y));
                }
            }
        }
    }
    let mut unchanged: Vec<KeyChange> = Vec::new();
    let mut apiservers = BTreeMap::new();
    let readability_counts = judges.as_ref().map(|j| {
        let judged: Vec<Judgement> = values
            .par_iter()
            .map(|&(k, o, n)| readability(j, k, o, n))
            .collect();
        // Unchanged records: those a node answers differently, and, per aggregated apiserver,
        // how many were not checked on a side without its config (counted, not listed: their
        // bytes did not move, but whether that side could read them is not known).
        let rejudged_all: Vec<Judgement> = same
            .par_iter()
            .map(|&(x, y)| readability(j, x.kv.key, Some(x.kv.value), Some(y.kv.value)))
            .collect();
        let mut unchanged_not_checked: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut rejudged: Vec<(KeyChange, Judgement)> = Vec::new();
        for (&(x, y), v) in same.iter().zip(rejudged_all) {
            if let Some(nc) = &v.not_checked {
                *unchanged_not_checked.entry(nc.apiserver).or_default() += 1;
            }
            if !v.nodes.is_empty() {
                rejudged.push((describe(x.kv.key, Change::Unchanged, Some(x), Some(y)), v));
            }
        }
        let mut counts: BTreeMap<String, NodeCounts> = j
            .nodes
            .iter()
            .map(|(n, _, _)| (n.clone(), NodeCounts::default()))
            .collect();
        let mut removed = RemovedCounts::default();
        let (old_keys, new_keys) = (j.keyring_of(&j.old), j.keyring_of(&j.new));
        // Candidate key indices of one side as ids `NODE/PROVIDER/NAME`.
        let ids = |opens: &[usize], k: &Keyring| -> Vec<String> {
            opens
                .iter()
                .filter_map(|&i| k.keys.get(i).map(|k| k.id.clone()))
                .collect()
        };
        let mut not_checked: BTreeMap<&'static str, usize> = BTreeMap::new();
        let (rejudged_changes, rejudged): (Vec<KeyChange>, Vec<Judgement>) =
            rejudged.into_iter().unzip();
        unchanged = rejudged_changes;
        let all = changes
            .iter_mut()
            .zip(judged)
            .chain(unchanged.iter_mut().zip(rejudged));
        for (c, v) in all {
            for (i, change, error, how) in v.nodes {
                let node = j.nodes.get(i).map(|n| n.0.clone()).unwrap_or_default();
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
            if let Some(nc) = &v.not_checked {
                *not_checked.entry(nc.apiserver).or_default() += 1;
            }
            let unjudged = v.not_checked.is_some();
            c.not_checked = v.not_checked;
            c.decrypts_with = match &v.opens {
                Opens::None => Vec::new(),
                Opens::Old(o) => ids(o, old_keys),
                Opens::New(o) => ids(o, new_keys),
            };
            if c.change == Change::Removed && !j.nodes.is_empty() {
                let count = |want: Readability| c.nodes.iter().filter(|n| n.change == want).count();
                let (read, unread, kms) = (
                    count(Readability::Removed),
                    count(Readability::RemovedUnreadable),
                    count(Readability::Undetermined),
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
            }
        }
        apiservers = apiserver_diffs(j, &not_checked, &unchanged_not_checked);
        (counts, (!j.nodes.is_empty()).then_some(removed))
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
            Change::Unchanged => {}
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
        apiservers,
        changes,
        unchanged,
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
            "  {} not checked: another apiserver serves them, and OLD holds no config of it (above)",
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
            let error = n.error.as_deref().unwrap_or("-");
            let read_by = format!("read by {}", by.join(", "));
            writeln!(
                out,
                "{}",
                node_line(&n.node, &c.key, &[error, &read_by], "; ")
            )?;
        }
        if partly.len() > max {
            writeln!(out, "  … and {} more", partly.len() - max)?;
        }
    }
    Ok(())
}

/// `  NODE  KEY: PART1SEPPART2…` when that fits 80 columns; else the node and key on one line and
/// each part on its own, indented, so an apiserver's error is never cut inside (it is what a
/// reader searches for) and a terminal 80 columns wide does not fold it.
fn node_line(node: &str, key: &str, parts: &[&str], sep: &str) -> String {
    let one = format!("  {node}  {key}: {}", parts.join(sep));
    if one.chars().count() <= 80 {
        return one;
    }
    let mut out = format!("  {node}  {key}:");
    for (i, p) in parts.iter().enumerate() {
        out.push('\n');
        if i == 0 {
            out.push_str("    ");
            out.push_str(p);
        } else {
            out.push_str(&wrap_items(p, 80, "    ", "      "));
        }
    }
    out
}

/// `text`, a list whose items are separated by ", ", broken between items (a key's name and
/// fingerprint stay on one line) where a line would pass `width` columns.
fn wrap_items(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::from(first);
    let mut col = first.chars().count();
    for (i, item) in text.split(", ").enumerate() {
        let n = item.chars().count();
        if i > 0 {
            if col + 2 + n > width {
                out.push_str(",\n");
                out.push_str(rest);
                col = rest.chars().count();
            } else {
                out.push_str(", ");
                col += 2;
            }
        }
        out.push_str(item);
        col += n;
    }
    out
}

/// An aggregated apiserver's config on both sides, its write key and key changes, and the
/// records not checked for want of its config.
fn render_apiserver(out: &mut impl Write, name: &str, a: &ApiserverDiff) -> std::io::Result<()> {
    writeln!(
        out,
        "\n{name} (its config on each side, and how its keys changed):"
    )?;
    for (label, s) in [("old", &a.old), ("new", &a.new)] {
        let line = match (&s.config, &s.not_recovered) {
            (Some(c), _) => c.clone(),
            (None, Some(why)) => format!("no config: {why}"),
            (None, None) => "no config".to_string(),
        };
        writeln!(
            out,
            "{}",
            wrap(&line, 80, &format!("  {label}: "), "       ")
        )?;
        for k in &s.skipped_key_secrets {
            writeln!(out, "    key Secret without a key: {k}")?;
        }
    }
    if let Some((o, n)) = &a.write_key {
        let show = |v: &Vec<String>| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.join(", ")
            }
        };
        let line = format!("  write key: {} -> {}", show(o), show(n));
        if line.chars().count() <= 80 {
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "  write key: {}\n          -> {}", show(o), show(n))?;
        }
    }
    if !a.key_changes.is_empty() {
        writeln!(out, "  key changes ({}):", a.key_changes.len())?;
    }
    for d in &a.key_changes {
        let (o, n) = (d.old.as_ref(), d.new.as_ref());
        let fp = |k: Option<&KeyView>| k.map_or("-".to_string(), |k| k.fingerprint.clone());
        let role = |k: Option<&KeyView>| k.map(|k| k.role.to_string()).unwrap_or_default();
        let line = match d.change {
            KeyChangeKind::Added => format!("+ {} {} ({}) {}", d.provider, d.name, fp(n), role(n)),
            KeyChangeKind::Removed => {
                format!("- {} {} ({}) was {}", d.provider, d.name, fp(o), role(o))
            }
            KeyChangeKind::RoleChanged => format!(
                "~ {} {} ({}) {} -> {}",
                d.provider,
                d.name,
                fp(n),
                role(o),
                role(n)
            ),
            KeyChangeKind::BytesChanged => format!(
                "! {} {} ({} -> {}) other key bytes under the same name",
                d.provider,
                d.name,
                fp(o),
                fp(n)
            ),
        };
        writeln!(out, "    {line}")?;
    }
    if a.not_checked > 0 {
        let line = format!(
            "{} added, removed or changed records it serves were not checked on a side \
             without its config (info: give what that side lacks, above)",
            a.not_checked
        );
        writeln!(out, "{}", wrap(&line, 80, "  ", "  "))?;
    }
    if a.unchanged_not_checked > 0 {
        let line = format!(
            "{} records it serves, unchanged between the snapshots, were not checked on a \
             side without its config: whether that side's nodes read them is not known",
            a.unchanged_not_checked
        );
        writeln!(out, "{}", wrap(&line, 80, "  ", "  "))?;
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
    for (name, a) in &r.apiservers {
        render_apiserver(out, name, a)?;
    }
    match &r.readability {
        None => {
            writeln!(
                out,
                "\nreadability per node: not judged (give the nodes' configs: --encryption-config, \
                 --static-resources)"
            )?;
            let served = r
                .changes
                .iter()
                .filter(|c| served_by_aggregated(c.key.as_bytes()).is_some())
                .count();
            if served > 0 {
                let line = format!(
                    "{served} of the changes are records openshift-apiserver or oauth-apiserver \
                     serves (routes, OAuth tokens): with kube-apiserver's config or tarball their \
                     configs are read from each snapshot's {CONFIG_NAMESPACE} Secrets and they \
                     are judged too"
                );
                writeln!(out, "{}", wrap(&line, 80, "  ", "  "))?;
            }
        }
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
                    .chain(&r.unchanged)
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
                    // The bytes did not move: the node's config did (recovered from each side).
                    let why = match (c.change, c.decrypts_with.is_empty()) {
                        (Change::Unchanged, true) => {
                            "\n    (record unchanged; its apiserver's config changed)".to_string()
                        }
                        (Change::Unchanged, false) => wrap(
                            &format!(
                                "(record unchanged; its apiserver's config changed; opens with {})",
                                c.decrypts_with.join(", ")
                            ),
                            80,
                            "\n    ",
                            "    ",
                        ),
                        // NEW's value, which this node cannot read: the keys that open it.
                        (_, false) if want != Readability::BecameReadable => wrap(
                            &format!("(opens with {})", c.decrypts_with.join(", ")),
                            80,
                            "\n    ",
                            "    ",
                        ),
                        _ => String::new(),
                    };
                    let error = format!("{was}{}", n.error.as_deref().unwrap_or("-"));
                    writeln!(out, "{}{why}", node_line(&n.node, &c.key, &[&error], ""))?;
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
            Change::Unchanged => "=",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, fp: &str, role: Role) -> KeyView {
        KeyView {
            provider: "aescbc",
            name: name.into(),
            fingerprint: fp.into(),
            role,
            origins: Vec::new(),
        }
    }

    #[test]
    fn key_changes_by_provider_and_name() {
        let old = [
            key("1", "sha256:aaaa", Role::Candidate),
            key("2", "sha256:bbbb", Role::Write),
            key("4", "sha256:dddd", Role::Read),
            key("5", "sha256:eeee", Role::Read),
        ];
        let new = [
            key("2", "sha256:bbbb", Role::Read),
            key("3", "sha256:cccc", Role::Write),
            key("4", "sha256:ffff", Role::Read),
            key("5", "sha256:eeee", Role::Read),
        ];
        let got: Vec<(String, KeyChangeKind)> = key_deltas(&old, &new)
            .into_iter()
            .map(|d| (d.name, d.change))
            .collect();
        assert_eq!(
            got,
            [
                ("1".to_string(), KeyChangeKind::Removed),
                ("2".to_string(), KeyChangeKind::RoleChanged),
                ("3".to_string(), KeyChangeKind::Added),
                ("4".to_string(), KeyChangeKind::BytesChanged),
            ]
        );
        assert!(key_deltas(&new, &new).is_empty());
    }
}
