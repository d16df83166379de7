//! Selected records → decoded objects, in parallel chunks, for `get -o`, `ls -l` and `export`.
//!
//! Each record is decrypted (first candidate key that yields an object), decoded to Kubernetes
//! JSON, and redacted unless revealed. A record no key opens becomes a stub (name and namespace
//! from its key, the envelope, the size) with a warning: it is never dropped.

use super::select::Selected;
use crate::decrypt::Engine;
use crate::etcd::display_key;
use crate::keyring::Keyring;
use crate::kube::decode::compact::{self, Hide};
use crate::kube::decode::{self, redact, Encoding, Node};
use crate::kube::{Envelope, KeyPath};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Records decoded per parallel batch: bounds memory on a 300k-secret snapshot.
pub const CHUNK: usize = 2048;

/// One decoded object and what is known about how it was stored.
pub struct Item {
    /// The etcd key, printable.
    pub key: String,
    /// The revision of the value shown (its mod_revision).
    pub mod_revision: i64,
    /// For a deleted object: the deletion's revision.
    pub deleted_at: Option<i64>,
    pub object: Node,
    /// The object could not be read (encrypted without a key, or not an object).
    pub stub: bool,
    /// The stored envelope: `protobuf`, `json`, `aescbc`, ….
    pub envelope: &'static str,
    /// Candidate key id that decrypted it.
    pub decrypted_with: Option<String>,
    /// That key's fingerprint.
    pub decrypted_fingerprint: Option<String>,
    pub warnings: Vec<String>,
}

impl Item {
    /// `kind[.group]/name`, as `kubectl get -o name` prints it.
    pub fn kubectl_name(&self) -> String {
        let Some(kind) = self.object.get("kind").and_then(Node::as_str) else {
            // Not readable: `resource.group/name` from the key, which kubectl accepts as well.
            return match KeyPath::parse(self.key.as_bytes()) {
                Some(p) => format!("{}/{}", p.qualified_resource(), p.name),
                None => self.key.clone(),
            };
        };
        let kind = kind.to_ascii_lowercase();
        let group = self
            .object
            .get("apiVersion")
            .and_then(Node::as_str)
            .and_then(|a| a.rsplit_once('/'))
            .map(|(g, _)| g);
        let name = self
            .object
            .at(&["metadata", "name"])
            .and_then(Node::as_str)
            .unwrap_or("");
        match group {
            Some(g) => format!("{kind}.{g}/{name}"),
            None => format!("{kind}/{name}"),
        }
    }
}

/// What decoding needs besides the records.
pub struct Decoder<'k> {
    pub engine: Option<(Engine, &'k Keyring)>,
    pub reveal: bool,
    /// Records decoded so far: a selection decodes only what it selects (tests check it).
    decoded: AtomicUsize,
}

impl<'k> Decoder<'k> {
    pub fn new(keyring: Option<&'k Keyring>, reveal: bool) -> Self {
        Decoder {
            engine: keyring.map(|k| (Engine::new(k), k)),
            reveal,
            decoded: AtomicUsize::new(0),
        }
    }

    /// How many records [`Decoder::decode_one`] has decoded.
    pub fn decoded(&self) -> usize {
        self.decoded.load(Ordering::Relaxed)
    }

    /// Decodes a batch in parallel, keeping its order.
    pub fn decode_all(&self, sel: &[Selected]) -> Vec<Item> {
        sel.par_iter().map(|s| self.decode_one(s)).collect()
    }

    pub fn decode_one(&self, s: &Selected) -> Item {
        self.decoded.fetch_add(1, Ordering::Relaxed);
        self.decode_item(s)
    }

    /// `-o jsonl` of a batch: the lines in order, in a few large buffers written in parallel,
    /// and the objects that went the tree way (the only ones that can have warnings).
    pub fn jsonl_all(&self, sel: &[Selected]) -> Vec<(Vec<u8>, Vec<Item>)> {
        // Enough pieces for rayon to balance two to a few dozen cores, few enough that each
        // buffer is large.
        let per = sel.len().div_ceil(rayon::current_num_threads() * 8).max(1);
        sel.par_chunks(per)
            .map(|part| {
                // A line is about 4/3 of the value (base64 of the data) plus the keys.
                let guess: usize = part
                    .iter()
                    .map(|s| s.record.kv.value.len() / 3 * 4 + 256)
                    .sum();
                let mut out = Vec::with_capacity(guess);
                let mut plain = Vec::new();
                let mut tree = Vec::new();
                for s in part {
                    tree.extend(self.jsonl_into(s, &mut plain, &mut out));
                }
                (out, tree)
            })
            .collect()
    }

    /// Appends one record's `-o jsonl` line to `out`: streamed straight from the protobuf
    /// ([`compact`]) when it can be, else from [`Decoder::decode_one`]'s tree, which is then
    /// returned (for its warnings). Both print the same bytes. `plain` is a buffer for the
    /// decrypted value, reused from record to record.
    pub fn jsonl_into(&self, s: &Selected, plain: &mut Vec<u8>, out: &mut Vec<u8>) -> Option<Item> {
        self.decoded.fetch_add(1, Ordering::Relaxed);
        let kv = &s.record.kv;
        let streamed = match (Envelope::classify(kv.value), &self.engine) {
            (Envelope::Encrypted { .. }, Some((e, _))) => {
                e.open_first_into(kv.key, kv.value, plain).is_some() && {
                    let hide = if self.reveal {
                        Hide::Nothing
                    } else {
                        Hide::AllButMetadata
                    };
                    compact::write_object(plain, kv.mod_revision, hide, out)
                }
            }
            (Envelope::Protobuf(_), _) => {
                let hide = if self.reveal {
                    Hide::Nothing
                } else {
                    Hide::SecretValues
                };
                compact::write_object(kv.value, kv.mod_revision, hide, out)
            }
            _ => false,
        };
        if streamed {
            out.push(b'\n');
            return None;
        }
        let item = self.decode_item(s);
        item.object.write_compact(out);
        out.push(b'\n');
        Some(item)
    }

    fn decode_item(&self, s: &Selected) -> Item {
        let kv = &s.record.kv;
        let env = Envelope::classify(kv.value);
        let mut item = Item {
            key: display_key(kv.key),
            mod_revision: kv.mod_revision,
            deleted_at: s.deleted_at.map(|r| r.main),
            object: Node::Null,
            stub: false,
            envelope: env.label(),
            decrypted_with: None,
            decrypted_fingerprint: None,
            warnings: Vec::new(),
        };
        let encrypted = matches!(
            env,
            Envelope::Encrypted { .. } | Envelope::UnknownEncrypted(_)
        );
        let opened = if encrypted {
            self.engine
                .as_ref()
                .and_then(|(e, kr)| e.open_first(kv.key, kv.value).map(|(i, p)| (i, p, kr)))
        } else {
            None
        };
        let d = match (&opened, encrypted) {
            (Some((i, p, kr)), _) => {
                if let Some(k) = kr.keys.get(*i) {
                    item.decrypted_with = Some(k.id.clone());
                    item.decrypted_fingerprint = Some(k.fingerprint.clone());
                }
                decode::decode(p.expose(), kv.mod_revision)
            }
            (None, false) => decode::decode(kv.value, kv.mod_revision),
            (None, true) => {
                let why = if self.engine.is_some() {
                    "no candidate key decrypts it"
                } else {
                    "encrypted; give --encryption-config, --static-resources or --key to decode it"
                };
                item.warnings.push(format!("{} {why}", env.label()));
                item.object = stub(kv.key, kv.value.len(), env.label(), kv.mod_revision);
                item.stub = true;
                return item;
            }
        };
        item.stub = d.encoding == Encoding::Undecodable;
        item.warnings = d.warnings;
        if item.stub && KeyPath::parse(kv.key).is_none() {
            // Not a Kubernetes key (etcd's own `compact_rev_key`, an application's key): shown as
            // an undecoded value, not warned about.
            item.warnings.clear();
        }
        item.object = d.object;
        if item.stub {
            // Keep the key's name and namespace, so the object can still be found.
            item.object = stub(kv.key, kv.value.len(), env.label(), kv.mod_revision);
        }
        if !self.reveal && encrypted {
            redact::redact_decrypted(&mut item.object);
        } else if !self.reveal && redact::needs_redaction(&item.object, false) {
            redact::redact(&mut item.object);
        }
        item
    }
}

/// `--decrypted-with KEY`: only the records a given key decrypts, the key named by its
/// fingerprint (`sha256:…`) or its candidate id (`master-3/aescbc/key1`).
#[derive(Clone, Debug)]
pub struct DecryptedWith(String);

impl DecryptedWith {
    /// Checks that a given key source holds the key, so a mistyped fingerprint is an error, not
    /// an empty selection.
    pub fn new(spec: &str, keyring: Option<&Keyring>) -> Result<Self, super::Error> {
        let Some(kr) = keyring else {
            return Err(super::Error::new(format!(
                "--decrypted-with {spec}: needs the key source that holds the key (--encryption-config, \
                 --static-resources or --key)"
            )));
        };
        if !kr
            .keys
            .iter()
            .any(|k| k.fingerprint == spec || k.id == spec)
        {
            return Err(super::Error::new(format!(
                "--decrypted-with {}: no key of the given key sources has this fingerprint or id",
                crate::etcd::display_key(spec.as_bytes())
            )));
        }
        Ok(DecryptedWith(spec.to_string()))
    }

    pub fn matches(&self, item: &Item) -> bool {
        item.decrypted_fingerprint.as_deref() == Some(self.0.as_str())
            || item.decrypted_with.as_deref() == Some(self.0.as_str())
    }
}

/// What is known of an object whose value cannot be read: from its key.
fn stub(key: &[u8], len: usize, envelope: &str, mod_revision: i64) -> Node {
    let mut meta = Vec::new();
    if let Some(p) = KeyPath::parse(key) {
        meta.push(("name".to_string(), Node::Str(p.name.to_string())));
        if let Some(ns) = p.namespace {
            meta.push(("namespace".to_string(), Node::Str(ns.to_string())));
        }
    }
    meta.push((
        "resourceVersion".to_string(),
        Node::Str(mod_revision.to_string()),
    ));
    Node::Object(vec![
        ("metadata".to_string(), Node::Object(meta)),
        (
            "undecoded".to_string(),
            Node::Object(vec![
                ("key".to_string(), Node::Str(display_key(key))),
                ("envelope".to_string(), Node::Str(envelope.to_string())),
                (
                    "bytes".to_string(),
                    Node::Int(i64::try_from(len).unwrap_or(i64::MAX)),
                ),
            ]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::select::{select, SelectArgs};
    use super::*;
    use crate::etcd::records::Records;
    use crate::etcd::Snapshot;
    use std::path::Path;

    /// `-n NS` finds its keys by binary search in the sorted record index and decodes only
    /// them: the decoder's counter equals the namespace's live objects, not the snapshot's.
    #[test]
    fn one_namespace_decodes_only_that_namespace() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/objects/objects.db");
        let snap = Snapshot::open(&path).unwrap();
        let records = Records::read(&snap);
        let in_ns = |ns: &str| {
            records
                .live()
                .filter(|r| KeyPath::parse(r.kv.key).is_some_and(|p| p.namespace == Some(ns)))
                .count()
        };
        let live = records.live().count();
        let mut checked = 0;
        for ns in ["shop", "kube-system", "default"] {
            let want = in_ns(ns);
            if want == 0 {
                continue;
            }
            let args = SelectArgs {
                snapshot: path.clone(),
                what: Vec::new(),
                namespace: Some(ns.into()),
                all_namespaces: false,
                selector: None,
                revision: None,
                deleted: false,
                limit: None,
            };
            let target = args.target().unwrap();
            let sel = select(&records, &args, &target);
            let d = Decoder::new(None, false);
            let items = d.decode_all(&sel);
            assert_eq!(items.len(), want, "{ns}");
            assert_eq!(d.decoded(), want, "{ns}: decoded {} of {live}", d.decoded());
            assert!(want < live);
            checked += 1;
        }
        assert!(checked >= 2, "fixture namespaces changed");
    }
}
