//! A whole snapshot's records judged by every node and every candidate key: what `audit`
//! prints, and what `report` / `validate` build on.
//!
//! Records are judged in parallel (rayon) in chunks of [`CHUNK`], each chunk through
//! [`Engine::assess_batch`]; chunk tallies are merged in order, so every list comes out in key
//! order and the result is deterministic.

use super::{Engine, NodeOutcome, RecordVerdict, Storage};
use crate::etcd::display_key;
use crate::keyring::Keyring;
use crate::kube::{KeyPath, Provider};
use rayon::prelude::*;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The per-node error tally's line for chance-valid CBC garbage: our words, marked derived.
/// `DERIVED_MARK` + `TransformError::ChanceGarbage.text()`, spelled out (std has no const
/// concat); a test holds them equal.
pub const GARBAGE_LINE: &str =
    "[derived] wrong key passed the padding check by chance; the decoder fails on the garbage";

/// Records per parallel task.
pub const CHUNK: usize = 256;

/// One record to judge (normally a live record, in key order).
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
    pub mod_revision: i64,
}

impl<'a> Input<'a> {
    /// The live records of a snapshot, in key order: what `audit`, `report` and `validate` judge.
    pub fn live(records: &crate::etcd::records::Records<'a>) -> Vec<Input<'a>> {
        records
            .live()
            .map(|r| Input {
                key: r.kv.key,
                value: r.kv.value,
                mod_revision: r.kv.mod_revision,
            })
            .collect()
    }
}

/// Counts over the records.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RecordCounts {
    pub live: usize,
    pub encrypted: usize,
    pub plaintext: usize,
    /// Encrypted and no candidate key decrypts it: aescbc/aesgcm/secretbox (or an unknown
    /// provider) no key opens, and every KMS record (counted in `kms` too).
    pub undecryptable: usize,
    /// Encrypted by a KMS provider: only the plugin can open it (part of `undecryptable`).
    pub kms: usize,
    /// By provider for encrypted records, by storage (`protobuf`, `json`, `other`) for the rest.
    pub by_provider: BTreeMap<String, usize>,
}

/// What one node makes of all records.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NodeSummary {
    pub node: String,
    pub source: String,
    pub readable: usize,
    /// Plaintext records among `readable` (the rest it decrypts). A node of an aggregated
    /// apiserver reads only the plaintext records of its own resources.
    #[serde(skip)]
    pub plaintext: usize,
    pub failing: usize,
    /// Records its transformer "reads" as garbage (counted in `failing`).
    pub garbage: usize,
    /// Records that need a KMS plugin (not counted as readable or failing).
    pub kms_required: usize,
    /// Exact error → count.
    pub errors: BTreeMap<String, usize>,
    /// Why kube-apiserver would refuse this node's config, if it would.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_error: Option<String>,
}

/// A live record at least one node cannot read: its key and revision, and what it shares with
/// the other records of its chunk that fail the same way ([`UnreadableClass`], one allocation for
/// all of them). 32 bytes per record plus the key: a snapshot can have 300k of them.
#[derive(Clone, Debug)]
pub struct Unreadable {
    pub key: Arc<str>,
    pub mod_revision: i64,
    pub class: Arc<UnreadableClass>,
}

/// Everything about an unreadable record that repeats across records: resource, storage, key
/// name, what each node returns and which candidates decrypt it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnreadableClass {
    pub resource: Option<Arc<str>>,
    /// The provider, or the storage for plaintext (`protobuf`, `json`, `other`).
    pub provider: &'static str,
    pub key_name: Option<Arc<str>>,
    /// Node → exactly what its kube-apiserver returns, in node (argument) order. A JSON object.
    pub failing_nodes: Arc<[NodeError]>,
    /// Ids of candidate keys that decrypt it.
    pub decrypts_with: Arc<[Arc<str>]>,
}

/// `u.provider`, `u.failing_nodes`, …: the class's fields read as the record's own.
impl std::ops::Deref for Unreadable {
    type Target = UnreadableClass;
    fn deref(&self) -> &UnreadableClass {
        &self.class
    }
}

/// The JSON shape of one record: `key`, `mod_revision`, then the class's fields (as before the
/// class was shared).
impl Serialize for Unreadable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let c = &self.class;
        let n = 5 + usize::from(c.resource.is_some()) + usize::from(c.key_name.is_some());
        let mut m = s.serialize_struct("Unreadable", n)?;
        m.serialize_field("key", &*self.key)?;
        m.serialize_field("mod_revision", &self.mod_revision)?;
        if let Some(r) = &c.resource {
            m.serialize_field("resource", &**r)?;
        }
        m.serialize_field("provider", c.provider)?;
        if let Some(k) = &c.key_name {
            m.serialize_field("key_name", &**k)?;
        }
        m.serialize_field("failing_nodes", &PairsAsMap(&c.failing_nodes))?;
        m.serialize_field("decrypts_with", &*c.decrypts_with)?;
        m.end()
    }
}

/// `[(k, v)]` as a JSON object in the pairs' order (keys are distinct node names).
struct PairsAsMap<'a>(&'a [NodeError]);

impl Serialize for PairsAsMap<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(&**k, &**v)?;
        }
        m.end()
    }
}

impl Unreadable {
    /// What `node`'s kube-apiserver returns for this record, if it fails.
    pub fn error_on(&self, node: &str) -> Option<&str> {
        self.failing_nodes
            .iter()
            .find(|(n, _)| &**n == node)
            .map(|(_, e)| &**e)
    }
}

/// The unreadable records in key order, kept as the chunks that found them: merging chunk
/// tallies moves chunk lists instead of copying 300k entries into one (which would hold both
/// copies at its peak).
#[derive(Clone, Debug, Default)]
pub struct Unreadables {
    chunks: Vec<Vec<Unreadable>>,
    /// Entries before each chunk.
    starts: Vec<usize>,
    len: usize,
}

impl Unreadables {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &Unreadable> + '_ {
        self.chunks.iter().flatten()
    }

    pub fn get(&self, i: usize) -> Option<&Unreadable> {
        let c = self.starts.partition_point(|&s| s <= i).checked_sub(1)?;
        self.chunks.get(c)?.get(i - self.starts[c])
    }

    /// Room for the records of one chunk, so the chunk's list is allocated once.
    fn reserve_chunk(&mut self, n: usize) {
        if self.chunks.is_empty() {
            self.chunks.push(Vec::with_capacity(n));
            self.starts.push(0);
        }
    }

    fn push(&mut self, u: Unreadable) {
        if self.chunks.is_empty() {
            self.chunks.push(Vec::new());
            self.starts.push(0);
        }
        if let Some(last) = self.chunks.last_mut() {
            last.push(u);
            self.len += 1;
        }
    }

    fn append(&mut self, other: Unreadables) {
        for mut c in other.chunks.into_iter().filter(|c| !c.is_empty()) {
            c.shrink_to_fit();
            self.starts.push(self.len);
            self.len += c.len();
            self.chunks.push(c);
        }
    }
}

impl std::ops::Index<usize> for Unreadables {
    type Output = Unreadable;
    fn index(&self, i: usize) -> &Unreadable {
        match self.get(i) {
            Some(u) => u,
            None => panic!("unreadable index {i} out of range {}", self.len),
        }
    }
}

impl<'a> IntoIterator for &'a Unreadables {
    type Item = &'a Unreadable;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<Unreadable>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter().flatten()
    }
}

impl Serialize for Unreadables {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Records stored under one provider + key name, and who reads them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Coverage {
    pub provider: String,
    pub key_name: String,
    pub records: usize,
    /// Node → records under this name it reads.
    pub nodes: BTreeMap<String, usize>,
    /// Candidate key id → records under this name it decrypts.
    pub keys: BTreeMap<String, usize>,
}

/// One candidate key's use.
#[derive(Clone, Debug, Serialize)]
pub struct KeyUse {
    pub id: String,
    pub node: String,
    pub provider: Provider,
    pub name: String,
    pub fingerprint: String,
    /// Live records it decrypts (under any name).
    pub decrypts: usize,
}

/// A plaintext record of a resource some node's config encrypts on write.
#[derive(Clone, Debug, Serialize)]
pub struct PlaintextRecord {
    pub key: String,
    pub mod_revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Nodes whose first provider for this resource encrypts.
    pub encrypted_on: Vec<String>,
}

/// A record only a KMS plugin can open.
#[derive(Clone, Debug, Serialize)]
pub struct KmsRecord {
    pub key: String,
    pub mod_revision: i64,
    #[serde(flatten)]
    pub envelope: Option<super::KmsEnvelope>,
    /// Why the apiserver would reject the envelope before calling the plugin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope_error: Option<String>,
    /// Nodes with a matching KMS provider.
    pub nodes: Vec<String>,
}

/// The first record of a resource, in key order, a node cannot read: where its LIST (and a
/// looping cacher) stops.
#[derive(Clone, Debug, Serialize)]
pub struct FirstFailure {
    pub node: String,
    pub resource: String,
    pub key: String,
    pub error: String,
}

/// Everything `audit` reports.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Audit {
    pub records: RecordCounts,
    pub nodes: Vec<NodeSummary>,
    pub unreadable: Unreadables,
    pub coverage: Vec<Coverage>,
    pub keys: Vec<KeyUse>,
    pub plaintext_in_encrypted_resources: Vec<PlaintextRecord>,
    pub kms_records: Vec<KmsRecord>,
    pub first_failures: Vec<FirstFailure>,
    /// The aggregated apiservers' configs looked for in the snapshot (rule 4): which were
    /// recovered (they are nodes of the engine) and why the others were not.
    #[serde(skip)]
    pub recovery: super::recovered::Recovery,
}

impl Audit {
    /// True when every node reads every record, no node's config would be refused, and (with no
    /// node configs, only `--key`s) every encrypted record is decrypted by some candidate. KMS
    /// records cannot be judged offline and do not count either way.
    pub fn clean(&self) -> bool {
        let no_nodes = self.nodes.is_empty();
        self.unreadable.is_empty()
            && self.nodes.iter().all(|n| n.config_error.is_none())
            && (!no_nodes || self.records.undecryptable == 0)
    }
}

/// Per stored (provider, key name): records, readable per node, decrypted per candidate index.
type CoverageRow = (usize, Vec<usize>, BTreeMap<usize, usize>);

/// A node's name and what its apiserver returns for a record.
pub type NodeError = (Arc<str>, Arc<str>);

/// A partial tally over one chunk; merged in order.
#[derive(Default)]
struct Tally {
    counts: RecordCounts,
    by_provider: BTreeMap<&'static str, usize>,
    per_node: Vec<NodeTally>,
    unreadable: Unreadables,
    coverage: BTreeMap<Provider, BTreeMap<String, CoverageRow>>,
    key_decrypts: Vec<usize>,
    plaintext: Vec<PlaintextRecord>,
    kms: Vec<KmsRecord>,
    /// Per node index: resource → first failure (key, error), in key order.
    first: Vec<BTreeMap<String, (String, String)>>,
    /// Strings shared by this chunk's records (errors, key names).
    interned: HashMap<String, Arc<str>>,
    /// Failure lists and decrypting-key sets shared by this chunk's records.
    failure_sets: HashMap<Vec<NodeError>, Arc<[NodeError]>>,
    key_sets: HashMap<Vec<usize>, Arc<[Arc<str>]>>,
    classes: std::collections::HashSet<Arc<UnreadableClass>>,
    /// The last string, failure list and class handed out: consecutive records nearly always
    /// repeat them, and comparing (interned `Arc`s compare by address first) is cheaper than
    /// hashing their text again.
    last_interned: Option<Arc<str>>,
    last_failing: Option<Arc<[NodeError]>>,
    last_class: Option<Arc<UnreadableClass>>,
}

#[derive(Default, Clone)]
struct NodeTally {
    readable: usize,
    plaintext: usize,
    failing: usize,
    garbage: usize,
    kms: usize,
    errors: HashMap<Cow<'static, str>, usize>,
}

/// Judges every record.
pub fn audit(engine: &Engine, keyring: &Keyring, records: &[Input<'_>]) -> Audit {
    let n_nodes = engine.nodes.len();
    let n_keys = keyring.keys.len();
    let shared = Shared {
        nodes: engine
            .nodes
            .iter()
            .map(|n| Arc::from(n.node.as_str()))
            .collect(),
        ids: keyring
            .keys
            .iter()
            .map(|k| Arc::from(k.id.as_str()))
            .collect(),
    };
    // Chunk tallies are collected, then merged left to right: a parallel tree reduce would copy
    // the long lists (unreadable records) once per tree level.
    let tallies: Vec<Tally> = records
        .par_chunks(CHUNK)
        .map(|chunk| {
            let pairs: Vec<(&[u8], &[u8])> = chunk.iter().map(|r| (r.key, r.value)).collect();
            let verdicts = engine.assess_batch(&pairs);
            let mut t = Tally::new(n_nodes, n_keys);
            t.unreadable.reserve_chunk(chunk.len());
            // Consecutive records usually share a resource: parse it once per run of them.
            let mut last: Option<(&[u8], Option<Arc<str>>)> = None;
            for (r, v) in chunk.iter().zip(&verdicts) {
                let prefix = r.key.get(..memchr::memrchr(b'/', r.key).unwrap_or(0));
                let resource = match (&last, prefix) {
                    (Some((p, res)), Some(q)) if *p == q => res.clone(),
                    _ => {
                        let res = KeyPath::parse(r.key).map(|p| Arc::from(p.qualified_resource()));
                        last = prefix.map(|p| (p, res.clone()));
                        res
                    }
                };
                t.add(engine, &shared, r, v, &resource);
            }
            t
        })
        .collect();
    let tally = tallies.into_iter().fold(Tally::new(n_nodes, n_keys), merge);
    finish(engine, keyring, tally)
}

/// Strings every chunk shares: node names and candidate key ids, by index.
struct Shared {
    nodes: Vec<Arc<str>>,
    ids: Vec<Arc<str>>,
}

impl Tally {
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.last_interned.as_ref().filter(|a| &***a == s) {
            return a.clone();
        }
        let a = match self.interned.get(s) {
            Some(a) => a.clone(),
            None => {
                let a: Arc<str> = Arc::from(s);
                self.interned.insert(s.to_string(), a.clone());
                a
            }
        };
        self.last_interned = Some(a.clone());
        a
    }

    fn new(n_nodes: usize, n_keys: usize) -> Tally {
        Tally {
            per_node: vec![NodeTally::default(); n_nodes],
            key_decrypts: vec![0; n_keys],
            first: vec![BTreeMap::new(); n_nodes],
            ..Tally::default()
        }
    }

    fn add(
        &mut self,
        engine: &Engine,
        shared: &Shared,
        r: &Input<'_>,
        v: &RecordVerdict<'_>,
        resource: &Option<Arc<str>>,
    ) {
        let c = &mut self.counts;
        c.live += 1;
        let label: &'static str = match (v.provider, v.storage) {
            (Some(p), _) => p.name(),
            (None, Storage::UnknownEncrypted) => "encrypted-unknown",
            (None, Storage::Protobuf) => "protobuf",
            (None, Storage::Json) => "json",
            (None, _) => "other",
        };
        *self.by_provider.entry(label).or_default() += 1;
        let is_kms = matches!(v.provider, Some(Provider::KmsV1 | Provider::KmsV2));
        if v.is_encrypted() {
            c.encrypted += 1;
            if is_kms {
                // No candidate key opens it either (rule 6): undecryptable, with a kms sub-count.
                c.kms += 1;
                c.undecryptable += 1;
            } else if v.decrypts_with.is_empty() {
                c.undecryptable += 1;
            }
        } else {
            c.plaintext += 1;
        }
        for &k in &v.decrypts_with {
            if let Some(n) = self.key_decrypts.get_mut(k) {
                *n += 1;
            }
        }
        let mut failing = Vec::new();
        for (i, o) in v.nodes.iter().enumerate() {
            let Some(nt) = self.per_node.get_mut(i) else {
                continue;
            };
            let name = shared
                .nodes
                .get(i)
                .cloned()
                .unwrap_or_else(|| Arc::from(""));
            match o {
                NodeOutcome::Plaintext => {
                    nt.readable += 1;
                    nt.plaintext += 1;
                }
                NodeOutcome::Decrypted { .. } => nt.readable += 1,
                NodeOutcome::NeedsKms { .. } => nt.kms += 1,
                // Another apiserver serves it: neither read nor failed by this node.
                NodeOutcome::NotServed => {}
                other => {
                    nt.failing += 1;
                    let line: Cow<'static, str> = match other {
                        NodeOutcome::Failed { error } => error.clone(),
                        NodeOutcome::Garbage { .. } => {
                            nt.garbage += 1;
                            Cow::Borrowed(GARBAGE_LINE)
                        }
                        o => Cow::Owned(o.error_line().unwrap_or_default()),
                    };
                    *nt.errors.entry(line).or_default() += 1;
                    // The apiserver's own line, borrowed when the outcome holds it as is.
                    let exact: Cow<'_, str> = match other {
                        NodeOutcome::Failed { error } => Cow::Borrowed(error.as_ref()),
                        o => Cow::Owned(o.error_line().unwrap_or_default()),
                    };
                    let res = resource.as_deref().unwrap_or("(not a resource)");
                    if let Some(first) = self.first.get_mut(i) {
                        if !first.contains_key(res) {
                            first.insert(
                                res.to_string(),
                                (display_key(r.key), exact.clone().into_owned()),
                            );
                        }
                    }
                    let exact = self.intern(&exact);
                    failing.push((name, exact));
                }
            }
        }
        if let (Some(p), Some(name)) = (v.provider, v.key_name.as_deref()) {
            if !is_kms {
                let rows = self.coverage.entry(p).or_default();
                if !rows.contains_key(name) {
                    rows.insert(
                        name.to_string(),
                        (0, vec![0; v.nodes.len()], BTreeMap::new()),
                    );
                }
                if let Some(row) = rows.get_mut(name) {
                    row.0 += 1;
                    for (i, o) in v.nodes.iter().enumerate() {
                        if o.is_readable() {
                            if let Some(n) = row.1.get_mut(i) {
                                *n += 1;
                            }
                        }
                    }
                    for &k in &v.decrypts_with {
                        *row.2.entry(k).or_default() += 1;
                    }
                }
            }
        }
        // With only `--key`s (no node simulated) a record no candidate opens is listed too, so
        // correlate can name it (unverified-records).
        let unopened = engine.nodes.is_empty()
            && !self.key_decrypts.is_empty()
            && v.is_encrypted()
            && !is_kms
            && v.decrypts_with.is_empty();
        if !failing.is_empty() || unopened {
            let key_name = v.key_name.as_deref().map(|n| {
                let n = printable_name(n);
                self.intern(&n)
            });
            let failing_nodes = match self.last_failing.as_ref().filter(|a| ***a == *failing) {
                Some(a) => a.clone(),
                None => {
                    let a = match self.failure_sets.get(&failing) {
                        Some(a) => a.clone(),
                        None => {
                            let a: Arc<[NodeError]> = Arc::from(failing.clone());
                            self.failure_sets.insert(failing, a.clone());
                            a
                        }
                    };
                    self.last_failing = Some(a.clone());
                    a
                }
            };
            let decrypts_with = match self.key_sets.get(&v.decrypts_with) {
                Some(a) => a.clone(),
                None => {
                    let a: Arc<[Arc<str>]> = v
                        .decrypts_with
                        .iter()
                        .filter_map(|&k| shared.ids.get(k).cloned())
                        .collect();
                    self.key_sets.insert(v.decrypts_with.clone(), a.clone());
                    a
                }
            };
            let class = UnreadableClass {
                resource: resource.clone(),
                provider: label,
                key_name,
                failing_nodes,
                decrypts_with,
            };
            let class = match self.last_class.as_ref().filter(|c| ***c == class) {
                Some(c) => c.clone(),
                None => {
                    let c = match self.classes.get(&class) {
                        Some(c) => c.clone(),
                        None => {
                            let c = Arc::new(class);
                            self.classes.insert(c.clone());
                            c
                        }
                    };
                    self.last_class = Some(c.clone());
                    c
                }
            };
            self.unreadable.push(Unreadable {
                key: Arc::from(display_key(r.key)),
                mod_revision: r.mod_revision,
                class,
            });
        }
        if !v.is_encrypted() {
            let ids = engine.resource_ids(r.key);
            let encrypted_on: Vec<String> = engine
                .nodes
                .iter()
                .filter(|n| n.write_provider(ids).is_some())
                .map(|n| n.node.clone())
                .collect();
            if !encrypted_on.is_empty() {
                self.plaintext.push(PlaintextRecord {
                    key: display_key(r.key),
                    mod_revision: r.mod_revision,
                    resource: resource.as_deref().map(str::to_string),
                    encrypted_on,
                });
            }
        } else if is_kms {
            let (envelope, envelope_error) = match &v.kms {
                Some(Ok(e)) => (Some(e.clone()), None),
                Some(Err(e)) => (None, Some(e.clone())),
                None => (None, Some("no plugin name".to_string())),
            };
            self.kms.push(KmsRecord {
                key: display_key(r.key),
                mod_revision: r.mod_revision,
                envelope,
                envelope_error,
                nodes: v
                    .nodes
                    .iter()
                    .zip(&engine.nodes)
                    .filter(|(o, _)| matches!(o, NodeOutcome::NeedsKms { .. }))
                    .map(|(_, n)| n.node.clone())
                    .collect(),
            });
        }
    }
}

fn merge(mut a: Tally, b: Tally) -> Tally {
    let (ca, cb) = (&mut a.counts, b.counts);
    ca.live += cb.live;
    ca.encrypted += cb.encrypted;
    ca.plaintext += cb.plaintext;
    ca.undecryptable += cb.undecryptable;
    ca.kms += cb.kms;
    for (k, n) in b.by_provider {
        *a.by_provider.entry(k).or_default() += n;
    }
    for (x, y) in a.per_node.iter_mut().zip(b.per_node) {
        x.readable += y.readable;
        x.plaintext += y.plaintext;
        x.failing += y.failing;
        x.garbage += y.garbage;
        x.kms += y.kms;
        for (e, n) in y.errors {
            *x.errors.entry(e).or_default() += n;
        }
    }
    a.unreadable.append(b.unreadable);
    for (k, (n, nodes, keys)) in b
        .coverage
        .into_iter()
        .flat_map(|(p, rows)| rows.into_iter().map(move |(name, row)| ((p, name), row)))
    {
        let row = a
            .coverage
            .entry(k.0)
            .or_default()
            .entry(k.1)
            .or_insert_with(|| (0, vec![0; nodes.len()], BTreeMap::new()));
        row.0 += n;
        for (x, y) in row.1.iter_mut().zip(nodes) {
            *x += y;
        }
        for (c, m) in keys {
            *row.2.entry(c).or_default() += m;
        }
    }
    for (x, y) in a.key_decrypts.iter_mut().zip(b.key_decrypts) {
        *x += y;
    }
    a.plaintext.extend(b.plaintext);
    a.kms.extend(b.kms);
    // `a` holds earlier keys: its first failures win.
    for (x, y) in a.first.iter_mut().zip(b.first) {
        for (res, f) in y {
            x.entry(res).or_insert(f);
        }
    }
    a
}

fn finish(engine: &Engine, keyring: &Keyring, t: Tally) -> Audit {
    let node_name = |i: usize| {
        engine
            .nodes
            .get(i)
            .map(|n| n.node.clone())
            .unwrap_or_default()
    };
    let nodes = engine
        .nodes
        .iter()
        .zip(t.per_node)
        .map(|(n, nt)| NodeSummary {
            node: n.node.clone(),
            source: n.origin.to_string(),
            readable: nt.readable,
            plaintext: nt.plaintext,
            failing: nt.failing,
            garbage: nt.garbage,
            kms_required: nt.kms,
            errors: nt
                .errors
                .into_iter()
                .map(|(e, c)| (e.into_owned(), c))
                .collect(),
            config_error: n.config_error.clone(),
        })
        .collect();
    let coverage = t
        .coverage
        .into_iter()
        .flat_map(|(p, rows)| rows.into_iter().map(move |(name, row)| ((p, name), row)))
        .map(|((p, name), (records, per_node, keys))| Coverage {
            provider: p.name().to_string(),
            key_name: printable_name(&name),
            records,
            nodes: per_node
                .into_iter()
                .enumerate()
                .map(|(i, n)| (node_name(i), n))
                .collect(),
            keys: keys
                .into_iter()
                .filter_map(|(k, n)| keyring.keys.get(k).map(|c| (c.id.clone(), n)))
                .collect(),
        })
        .collect();
    let keys = keyring
        .keys
        .iter()
        .zip(t.key_decrypts)
        .map(|(c, n)| KeyUse {
            id: c.id.clone(),
            node: c.node.clone(),
            provider: c.provider,
            name: c.name.clone(),
            fingerprint: c.fingerprint.clone(),
            decrypts: n,
        })
        .collect();
    let first_failures = t
        .first
        .into_iter()
        .enumerate()
        .flat_map(|(i, per)| {
            let node = node_name(i);
            per.into_iter()
                .map(move |(resource, (key, error))| FirstFailure {
                    node: node.clone(),
                    resource,
                    key,
                    error,
                })
        })
        .collect();
    let mut records = t.counts;
    records.by_provider = t
        .by_provider
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    Audit {
        records,
        nodes,
        unreadable: t.unreadable,
        coverage,
        keys,
        plaintext_in_encrypted_resources: t.plaintext,
        kms_records: t.kms,
        first_failures,
        recovery: Default::default(),
    }
}

/// A key name read from a record, for output (same escaping, at most 256 characters).
pub fn printable_name(name: &str) -> String {
    let s = display_key(name.as_bytes());
    if s.chars().count() > 256 {
        let mut t: String = s.chars().take(256).collect();
        t.push('…');
        t
    } else {
        s
    }
}

#[cfg(test)]
mod garbage_line_tests {
    use crate::kube::transform_error::{TransformError, DERIVED_MARK};

    #[test]
    fn garbage_line_is_the_marked_table_entry() {
        assert_eq!(
            super::GARBAGE_LINE,
            format!("{DERIVED_MARK}{}", TransformError::ChanceGarbage.text())
        );
    }
}

#[cfg(test)]
mod unreadables_tests {
    use super::*;

    fn u(key: &str) -> Unreadable {
        Unreadable {
            key: key.into(),
            mod_revision: 1,
            class: Arc::new(UnreadableClass {
                resource: None,
                provider: "aescbc",
                key_name: None,
                failing_nodes: Arc::from(Vec::new()),
                decrypts_with: Arc::from(Vec::new()),
            }),
        }
    }

    #[test]
    fn chunked_list_indexes_and_iterates_in_order() {
        let mut a = Unreadables::default();
        a.push(u("a"));
        let mut b = Unreadables::default();
        b.push(u("b"));
        b.push(u("c"));
        a.append(Unreadables::default());
        a.append(b);
        assert_eq!(a.len(), 3);
        let keys: Vec<&str> = a.iter().map(|u| &*u.key).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(&*a[2].key, "c");
        assert!(a.get(3).is_none());
    }
}
