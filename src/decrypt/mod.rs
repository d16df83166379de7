//! Trial decryption: record × candidate keys → verdicts, and per node, exactly what that node's
//! kube-apiserver returns for the record (see [`node`]).
//!
//! The [`Engine`] expands every distinct key once (AES key schedules, GCM and secretbox states),
//! then answers, for each record: which candidate keys decrypt it (`decrypts_with`, across all
//! nodes and `--key`s, by provider, whatever the key's name) and what each node reads. aescbc
//! trials are O(1) per record × key ([`aescbc`]); aesgcm and secretbox have to authenticate the
//! whole value. Full decryption only happens on demand ([`Engine::open`]).

pub mod aescbc;
pub mod aesgcm;
pub mod audit;
pub mod kms;
pub mod node;
pub mod recovered;
pub mod secretbox;
#[cfg(test)]
mod vectors;

pub use kms::KmsEnvelope;
pub use node::{NodeOutcome, NodeSim, ResourceIds};

use crate::keyring::{GroupResource, Keyring, Secret};
use crate::kube::openshift::Apiserver;
use crate::kube::{Envelope, KeyPath, Provider};
use aescbc::{CbcCipher, CbcTrial};
use aesgcm::GcmCipher;
use secretbox::SecretboxCipher;
use serde::Serialize;
use std::borrow::Cow;

/// `the stored data was shorter than the required size`: aescbc, aesgcm and secretbox all say it.
pub(crate) const SHORT: &str = crate::kube::transform_error::TransformError::Short.text();

/// A distinct key, expanded once. The CBC schedule stays inline (it is the hot path); the
/// rarer GCM and secretbox states are boxed.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
enum KeyCipher {
    Cbc(CbcCipher),
    Gcm(GcmCipher),
    Secretbox(SecretboxCipher),
}

#[derive(Clone, Debug)]
struct UniqueKey {
    cipher: KeyCipher,
    fingerprint: String,
    secret: Secret,
}

/// What one key does with one payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trial {
    /// Decrypts: authenticated (aesgcm, secretbox) or padding valid and a plausible plaintext
    /// start (aescbc).
    Decrypts,
    /// aescbc only: padding valid by chance, garbage plaintext. The apiserver accepts it.
    Garbage,
    /// The provider's error, as the apiserver words it.
    Failed(&'static str),
    /// The apiserver panics with this runtime error.
    Panics(&'static str),
}

impl UniqueKey {
    fn trial(&self, payload: &[u8], aad: &[u8]) -> Trial {
        match &self.cipher {
            KeyCipher::Cbc(c) => cbc_trial(c.trial(payload)),
            KeyCipher::Gcm(c) => match c.decrypt(payload, aad) {
                Ok(_) => Trial::Decrypts,
                Err(e) => Trial::Failed(e.message()),
            },
            KeyCipher::Secretbox(c) => match c.decrypt(payload) {
                Ok(_) => Trial::Decrypts,
                Err(e) => Trial::Failed(e.message()),
            },
        }
    }

    fn open(&self, payload: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        match &self.cipher {
            KeyCipher::Cbc(c) => match c.trial(payload) {
                CbcTrial::Plausible => c.decrypt(payload).ok(),
                _ => None,
            },
            KeyCipher::Gcm(c) => c.decrypt(payload, aad).ok(),
            KeyCipher::Secretbox(c) => c.decrypt(payload).ok(),
        }
    }
}

fn cbc_trial(t: CbcTrial) -> Trial {
    match t {
        CbcTrial::Plausible => Trial::Decrypts,
        CbcTrial::Garbage => Trial::Garbage,
        CbcTrial::Failed(aescbc::CbcError::EmptyPanics) => {
            Trial::Panics(aescbc::CbcError::EmptyPanics.message())
        }
        CbcTrial::Failed(e) => Trial::Failed(e.message()),
    }
}

/// Trials already made for one record: (cipher, payload offset in the value) → trial.
pub(crate) struct TrialCache<'a> {
    pub(crate) engine: &'a Engine,
    value: &'a [u8],
    aad: &'a [u8],
    done: Vec<(usize, usize, Trial)>,
    /// `done` by (cipher, offset) once it outgrows a linear scan: a config of 40,000 keys tries
    /// them all on one record, and scanning made that quadratic (#18).
    index: std::collections::HashMap<(usize, usize), usize>,
}

/// Trials kept in `done` before lookups go through the index.
const TRIALS_SCANNED: usize = 16;

impl<'a> TrialCache<'a> {
    fn new(engine: &'a Engine, aad: &'a [u8], value: &'a [u8]) -> Self {
        TrialCache {
            engine,
            value,
            aad,
            done: Vec::new(),
            index: std::collections::HashMap::new(),
        }
    }

    pub(crate) fn get(&mut self, cipher: usize, offset: usize) -> Trial {
        if self.done.len() <= TRIALS_SCANNED {
            if let Some((_, _, t)) = self
                .done
                .iter()
                .find(|(c, o, _)| *c == cipher && *o == offset)
            {
                return *t;
            }
        } else if let Some(&i) = self.index.get(&(cipher, offset)) {
            return self.done[i].2;
        }
        let payload = self.value.get(offset..).unwrap_or(&[]);
        let t = match self.engine.keys.get(cipher) {
            Some(k) => k.trial(payload, self.aad),
            None => Trial::Failed(SHORT),
        };
        self.done.push((cipher, offset, t));
        if self.done.len() > TRIALS_SCANNED {
            if self.index.is_empty() {
                for (i, (c, o, _)) in self.done.iter().enumerate() {
                    self.index.entry((*c, *o)).or_insert(i);
                }
            } else {
                self.index.insert((cipher, offset), self.done.len() - 1);
            }
        }
        t
    }
}

/// A candidate key as the engine sees it (index = index in `Keyring::keys`).
#[derive(Clone, Debug)]
struct Candidate {
    provider: Provider,
    name: String,
    cipher: usize,
}

/// A record's plaintext: only `get --reveal` shows it. Debug prints the length only.
pub struct Plaintext(Vec<u8>);

impl Plaintext {
    /// The bytes, for decoding inside the crate (`get`, `export`).
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plaintext(<{} bytes>)", self.0.len())
    }
}

/// A successful full decryption.
#[derive(Debug)]
pub struct Opened {
    /// Indices into `Keyring::keys` of every candidate that decrypts the record.
    pub candidates: Vec<usize>,
    pub plaintext: Plaintext,
}

/// How a record is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Storage {
    Protobuf,
    Json,
    Other,
    Encrypted,
    /// `k8s:enc:` with a provider no apiserver knows.
    UnknownEncrypted,
}

/// Everything the engine says about one record. Borrows from the [`Engine`].
#[derive(Clone, Debug)]
pub struct RecordVerdict<'e> {
    pub storage: Storage,
    /// The provider for encrypted records.
    pub provider: Option<Provider>,
    /// The key (or KMS plugin) name: a configured/candidate name the record's prefix matches
    /// (the one that decrypts, else the longest), else the text up to the first ':'.
    pub key_name: Option<Cow<'e, str>>,
    /// One outcome per node, in [`Engine::nodes`] order.
    pub nodes: Vec<NodeOutcome<'e>>,
    /// Indices into `Keyring::keys` of every candidate key that decrypts the record.
    pub decrypts_with: Vec<usize>,
    /// For KMS records: the parsed envelope, or why the apiserver would reject it.
    pub kms: Option<Result<KmsEnvelope, String>>,
}

impl RecordVerdict<'_> {
    pub fn is_encrypted(&self) -> bool {
        matches!(self.storage, Storage::Encrypted | Storage::UnknownEncrypted)
    }
}

/// The expanded keys and compiled node configs.
#[derive(Debug)]
pub struct Engine {
    keys: Vec<UniqueKey>,
    candidates: Vec<Candidate>,
    /// One per node's active config, in argument order.
    pub nodes: Vec<NodeSim>,
    /// Per provider, every key (or KMS plugin) name a record's prefix may carry: candidates'
    /// and nodes' names, sorted and deduplicated.
    names: Vec<(Provider, Vec<String>)>,
    /// Every GroupResource any node configures, by its index in the table the nodes are bound
    /// to (see [`ResourceIds`]).
    resource_index: std::collections::HashMap<GroupResource, u32>,
    /// The aggregated apiservers (openshift-apiserver, oauth-apiserver) some node stands for:
    /// records of the groups they serve are judged by those nodes only, not by kube-apiserver's.
    aggregated: Vec<Apiserver>,
}

impl Engine {
    /// Expands every distinct key of the keyring once and compiles each node's active config.
    pub fn new(keyring: &Keyring) -> Engine {
        use std::collections::{HashMap, HashSet};
        let mut keys: Vec<UniqueKey> = Vec::new();
        // Keys by (provider, fingerprint), so interning is a lookup, not a scan (40,000 keys
        // in one config were quadratic, #18); the secrets are still compared on a hit.
        let mut by_fingerprint: HashMap<(Provider, String), Vec<usize>> = HashMap::new();
        let mut intern = |provider: Provider, secret: &Secret| -> Option<usize> {
            let fingerprint = secret.fingerprint();
            let slot = by_fingerprint
                .entry((provider, fingerprint.clone()))
                .or_default();
            if let Some(&i) = slot.iter().find(|&&i| keys[i].secret == *secret) {
                return Some(i);
            }
            let raw = secret.expose();
            let cipher = match provider {
                Provider::Aescbc => KeyCipher::Cbc(CbcCipher::new(raw)?),
                Provider::Aesgcm => KeyCipher::Gcm(GcmCipher::new(raw)?),
                Provider::Secretbox => KeyCipher::Secretbox(SecretboxCipher::new(raw)?),
                _ => return None,
            };
            keys.push(UniqueKey {
                cipher,
                fingerprint,
                secret: secret.clone(),
            });
            slot.push(keys.len() - 1);
            Some(keys.len() - 1)
        };
        let mut candidates = Vec::with_capacity(keyring.keys.len());
        for c in &keyring.keys {
            // Lengths were validated when the keyring was built, so interning cannot fail; a
            // candidate that somehow does gets an out-of-range index and never decrypts.
            let cipher = intern(c.provider, c.secret()).unwrap_or(usize::MAX);
            candidates.push(Candidate {
                provider: c.provider,
                name: c.name.clone(),
                cipher,
            });
        }
        let mut nodes: Vec<NodeSim> = keyring
            .active_configs()
            .map(|nc| NodeSim::compile(nc, &mut intern))
            .collect();
        let mut resources: Vec<GroupResource> = Vec::new();
        let mut seen: HashSet<&GroupResource> = HashSet::new();
        for n in &nodes {
            for gr in n.resources() {
                if seen.insert(gr) {
                    resources.push(gr.clone());
                }
            }
        }
        let resource_index: HashMap<GroupResource, u32> = resources
            .iter()
            .enumerate()
            .filter_map(|(i, gr)| Some((gr.clone(), u32::try_from(i).ok()?)))
            .collect();
        for n in &mut nodes {
            n.bind(&resources);
        }
        let names = [
            Provider::Aescbc,
            Provider::Aesgcm,
            Provider::Secretbox,
            Provider::KmsV1,
            Provider::KmsV2,
        ]
        .into_iter()
        .map(|p| {
            let mut names: Vec<&str> = candidates
                .iter()
                .filter(|c| c.provider == p)
                .map(|c| c.name.as_str())
                .collect();
            for n in &nodes {
                n.key_names(p, &mut names);
                n.kms_names(p, &mut names);
            }
            names.sort_unstable();
            names.dedup();
            (p, names.into_iter().map(str::to_string).collect())
        })
        .collect();
        let mut aggregated: Vec<Apiserver> = nodes
            .iter()
            .map(|n| n.apiserver)
            .filter(|a| *a != Apiserver::Kube)
            .collect();
        aggregated.sort_unstable();
        aggregated.dedup();
        Engine {
            keys,
            candidates,
            nodes,
            names,
            resource_index,
            aggregated,
        }
    }

    pub(crate) fn fingerprint(&self, cipher: usize) -> &str {
        self.keys
            .get(cipher)
            .map(|k| k.fingerprint.as_str())
            .unwrap_or("")
    }

    /// Key names that may follow this provider's prefix.
    fn names_of(&self, provider: Provider) -> &[String] {
        self.names
            .iter()
            .find(|(p, _)| *p == provider)
            .map(|(_, n)| n.as_slice())
            .unwrap_or(&[])
    }

    /// Payload offsets (into the value) to try for an encrypted record: one per known name the
    /// record's prefix matches, plus the split at the first ':' after the provider prefix.
    fn offsets(&self, provider: Provider, value: &[u8]) -> Vec<(Option<&str>, usize)> {
        let Some(rest) = value.strip_prefix(provider.prefix()) else {
            return Vec::new();
        };
        let base = value.len() - rest.len();
        let mut out: Vec<(Option<&str>, usize)> = Vec::new();
        for name in self.names_of(provider) {
            if rest.starts_with(name.as_bytes()) && rest.get(name.len()) == Some(&b':') {
                out.push((Some(name.as_str()), base + name.len() + 1));
            }
        }
        if let Some(i) = memchr::memchr(b':', rest) {
            let off = base + i + 1;
            if !out.iter().any(|(_, o)| *o == off) {
                out.push((None, off));
            }
        }
        out
    }

    /// Resolves an etcd key's resource against the nodes' configs.
    pub fn resource_ids(&self, key: &[u8]) -> ResourceIds {
        let path = KeyPath::parse(key);
        let gr = path.as_ref().map(|p| p.group_resource());
        let mut ids = ResourceIds::resolve_in(&self.resource_index, gr);
        ids.apiserver = gr
            .and_then(|(_, g)| Apiserver::serving(g))
            .filter(|a| self.aggregated.contains(a))
            .unwrap_or_default();
        ids
    }

    /// True when some node stands for an aggregated apiserver (a recovered or given config of
    /// openshift-apiserver or oauth-apiserver).
    pub fn judges_aggregated(&self) -> bool {
        !self.aggregated.is_empty()
    }

    /// The verdict for one record. `key` is the full etcd key (aesgcm's AAD).
    pub fn assess<'e>(&'e self, key: &'e [u8], value: &'e [u8]) -> RecordVerdict<'e> {
        let mut cache = TrialCache::new(self, key, value);
        self.assess_with(value, self.resource_ids(key), &mut cache)
    }

    /// Verdicts for many records; aescbc trials for up to 4 records per key go through AES
    /// together (see [`CbcCipher::trial_batch`]).
    pub fn assess_batch<'e>(&'e self, records: &[(&'e [u8], &'e [u8])]) -> Vec<RecordVerdict<'e>> {
        let mut caches: Vec<TrialCache<'e>> = records
            .iter()
            .map(|(k, v)| TrialCache::new(self, k, v))
            .collect();
        // (record index, offset) of every aescbc payload to try.
        let mut jobs: Vec<(usize, usize)> = Vec::new();
        for (i, (_, v)) in records.iter().enumerate() {
            // Values in key order lie one per page across a big snapshot: the first read of
            // each (its prefix here, its last blocks in the trial below) waits for DRAM, so
            // both ends of the values a few records ahead are asked for meanwhile (a perf
            // profile of `report` on the bench snapshot put nine tenths of this loop on the
            // prefix load). A batch's lines stay in cache for the trials.
            if let Some((_, next)) = records.get(i + crate::bbolt::prefetch::AHEAD) {
                crate::bbolt::prefetch::prefetch(next, 0);
                crate::bbolt::prefetch::prefetch(next, next.len().saturating_sub(32));
            }
            if v.starts_with(Provider::Aescbc.prefix()) {
                for (_, off) in self.offsets(Provider::Aescbc, v) {
                    jobs.push((i, off));
                }
            }
        }
        if !jobs.is_empty() {
            let payloads: Vec<&[u8]> = jobs
                .iter()
                .map(|&(i, off)| {
                    records
                        .get(i)
                        .and_then(|(_, v)| v.get(off..))
                        .unwrap_or(&[])
                })
                .collect();
            let mut out = vec![CbcTrial::Garbage; payloads.len()];
            for (ci, k) in self.keys.iter().enumerate() {
                let KeyCipher::Cbc(c) = &k.cipher else {
                    continue;
                };
                c.trial_batch(&payloads, &mut out);
                for (&(i, off), t) in jobs.iter().zip(&out) {
                    if let Some(cache) = caches.get_mut(i) {
                        cache.done.push((ci, off, cbc_trial(*t)));
                    }
                }
            }
        }
        // Records come in key order, so consecutive ones usually share a resource.
        let mut last: Option<(&[u8], ResourceIds)> = None;
        // (A key without a UTF-8 last segment is never cached.)
        records
            .iter()
            .zip(caches.iter_mut())
            .map(|((k, v), cache)| {
                let ids = match last {
                    Some((prefix, ids)) if same_resource(prefix, k) => ids,
                    _ => {
                        let ids = self.resource_ids(k);
                        last = resource_prefix(k).map(|p| (p, ids));
                        ids
                    }
                };
                self.assess_with(v, ids, cache)
            })
            .collect()
    }

    fn assess_with<'e>(
        &'e self,
        value: &'e [u8],
        ids: ResourceIds,
        cache: &mut TrialCache<'e>,
    ) -> RecordVerdict<'e> {
        let nodes = self
            .nodes
            .iter()
            .map(|n| n.read(ids, value, cache))
            .collect();
        let env = Envelope::classify(value);
        let mut v = RecordVerdict {
            storage: match env {
                Envelope::Protobuf(_) => Storage::Protobuf,
                Envelope::Json(_) => Storage::Json,
                Envelope::Other(_) => Storage::Other,
                Envelope::Encrypted { .. } => Storage::Encrypted,
                Envelope::UnknownEncrypted(_) => Storage::UnknownEncrypted,
            },
            provider: None,
            key_name: None,
            nodes,
            decrypts_with: Vec::new(),
            kms: None,
        };
        let Envelope::Encrypted { provider, rest } = env else {
            return v;
        };
        v.provider = Some(provider);
        let offsets = self.offsets(provider, value);
        let guess = memchr::memchr(b':', rest)
            .and_then(|i| rest.get(..i))
            .map(|n| Cow::Owned(String::from_utf8_lossy(n).into_owned()));
        match provider {
            Provider::KmsV1 | Provider::KmsV2 => {
                let name = self.kms_name(provider, rest).map(Cow::Borrowed).or(guess);
                if let Some(n) = &name {
                    let payload = rest.get(n.len() + 1..).unwrap_or(&[]);
                    v.kms = Some(if provider == Provider::KmsV1 {
                        kms::parse_v1(n, payload)
                    } else {
                        kms::parse_v2(n, payload)
                    });
                }
                v.key_name = name;
            }
            _ => {
                // The name whose payload offset some candidate decrypts at.
                let mut best: Option<&'e str> = None;
                for (ci, c) in self.candidates.iter().enumerate() {
                    if c.provider != provider {
                        continue;
                    }
                    // Every offset, whatever the candidate's name: a key is reported if its
                    // bytes decrypt the record (a renamed key is still the right key).
                    let hit = offsets
                        .iter()
                        .find(|(_, o)| cache.get(c.cipher, *o) == Trial::Decrypts);
                    if let Some((name, _)) = hit {
                        v.decrypts_with.push(ci);
                        if best.is_none() {
                            best = *name;
                        }
                    }
                }
                let longest = offsets
                    .iter()
                    .filter_map(|(n, _)| *n)
                    .max_by_key(|n| n.len());
                v.key_name = best.or(longest).map(Cow::Borrowed).or(guess);
            }
        }
        v
    }

    /// The configured KMS plugin name the record's prefix matches, if any (the longest).
    fn kms_name(&self, version: Provider, rest: &[u8]) -> Option<&str> {
        self.names_of(version)
            .iter()
            .filter(|n| rest.starts_with(n.as_bytes()) && rest.get(n.len()) == Some(&b':'))
            .max_by_key(|n| n.len())
            .map(String::as_str)
    }

    /// Fully decrypts an encrypted record with every candidate key of its provider; None when
    /// no candidate decrypts it (or it is not encrypted).
    pub fn open(&self, key: &[u8], value: &[u8]) -> Option<Opened> {
        let Envelope::Encrypted { provider, .. } = Envelope::classify(value) else {
            return None;
        };
        let offsets = self.offsets(provider, value);
        let mut plaintext = None;
        let mut hits = Vec::new();
        for (ci, c) in self.candidates.iter().enumerate() {
            if c.provider != provider {
                continue;
            }
            let Some(k) = self.keys.get(c.cipher) else {
                continue;
            };
            let tries = offsets.iter().map(|(_, o)| *o);
            for o in tries {
                if let Some(p) = k.open(value.get(o..).unwrap_or(&[]), key) {
                    hits.push(ci);
                    if plaintext.is_none() {
                        plaintext = Some(p);
                    }
                    break;
                }
            }
        }
        Some(Opened {
            candidates: hits,
            plaintext: Plaintext(plaintext?),
        })
    }
}

impl Engine {
    /// Decrypts an encrypted record with the first candidate key that yields a Kubernetes object
    /// (`k8s\x00` or `{`); a key whose output only passes the padding check by chance is passed
    /// over for a later one. Returns the candidate's index into `Keyring::keys`. Used to decode
    /// many records (`get -o`, `export`), where trying every key would multiply the work.
    pub fn open_first(&self, key: &[u8], value: &[u8]) -> Option<(usize, Plaintext)> {
        let mut p = Vec::new();
        let ci = self.open_first_into(key, value, &mut p)?;
        Some((ci, Plaintext(p)))
    }

    /// [`Engine::open_first`] into a buffer the caller reuses (replacing its contents). Each
    /// distinct key is tried once: candidates holding the same key bytes (the same key in
    /// several nodes' configs) give the same answer.
    pub(crate) fn open_first_into(
        &self,
        key: &[u8],
        value: &[u8],
        out: &mut Vec<u8>,
    ) -> Option<usize> {
        let Envelope::Encrypted { provider, .. } = Envelope::classify(value) else {
            return None;
        };
        let offsets = self.offsets(provider, value);
        let opens = |ci: usize, out: &mut Vec<u8>| -> bool {
            let Some(c) = self.candidates.get(ci).filter(|c| c.provider == provider) else {
                return false;
            };
            let Some(k) = self.keys.get(c.cipher) else {
                return false;
            };
            offsets.iter().any(|(_, o)| {
                let payload = value.get(*o..).unwrap_or(&[]);
                match &k.cipher {
                    KeyCipher::Cbc(cbc) => {
                        cbc.trial(payload) == CbcTrial::Plausible
                            && cbc.decrypt_into(payload, out).is_ok()
                    }
                    _ => match k.open(payload, key) {
                        Some(p) => {
                            out.clear();
                            out.extend_from_slice(&p);
                            true
                        }
                        None => false,
                    },
                }
            })
        };
        let object = |p: &[u8]| {
            p.starts_with(crate::kube::envelope::PROTOBUF_MAGIC) || p.first() == Some(&b'{')
        };
        let mut fallback = None;
        let mut tried: Vec<usize> = Vec::new();
        for (ci, c) in self.candidates.iter().enumerate() {
            if c.provider != provider || tried.contains(&c.cipher) {
                continue;
            }
            tried.push(c.cipher);
            if !opens(ci, out) {
                continue;
            }
            if object(out) {
                return Some(ci);
            }
            fallback.get_or_insert(ci);
        }
        // A key whose output only passes the padding check by chance: the first such.
        let ci = fallback?;
        opens(ci, out).then_some(ci)
    }
}

/// The part of an etcd key that names its resource: everything up to the last '/', provided
/// the last segment is UTF-8. Two keys with the same such prefix parse to the same resource:
/// KeyPath takes the resource from the leading segments, never from the name, and fails only on
/// non-UTF-8 keys.
fn resource_prefix(key: &[u8]) -> Option<&[u8]> {
    let i = memchr::memrchr(b'/', key)?;
    std::str::from_utf8(key.get(i + 1..)?).ok()?;
    key.get(..i)
}

fn same_resource(prefix: &[u8], key: &[u8]) -> bool {
    resource_prefix(key) == Some(prefix)
}

#[cfg(test)]
mod tests;
