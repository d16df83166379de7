//! Records → typed events: the encryption/transform error family, and kube-apiserver starts.
//!
//! The shapes (formats.md §5; kubernetes/apiserver):
//!
//! - LIST, 1.19–1.25 (storage/cacher/cacher.go:419…440): `cacher (*core.Secret): unexpected
//!   ListAndWatch error: failed to list *core.Secret: unable to transform key "<key>": <err>;
//!   reinitializing...`; 1.26+ names the resource: `cacher (secrets): …`.
//! - LIST via the reflector (client-go tools/cache/reflector.go, 1.23+):
//!   `storage/cacher.go:/secrets: failed to list *core.Secret: unable to transform key "…": <err>`.
//! - The key comes from storage/etcd3/store.go: `unable to transform key %q: %v` — only LIST names
//!   a key, and it stops at the first bad key in key order.
//! - Watch (storage/etcd3/watcher.go): `failed to prepare current and previous objects: <err>`.
//! - 1.28+ (storage/value/transformer.go:164): `"failed to decrypt data" err="<err>"`.
//! - 1.32+ (storage/etcd3/corrupt_obj_deleter.go, storage/errors.go): `data from the storage is not
//!   transformable revision=N: <err>`, `StorageError: corrupt object, Code: 7, Key: <key>, …`.
//! - Clients: `Internal error occurred: <err>` (kubectl, kubelet `Couldn't get secret ns/name: …`).
//! - KMS (envelope/kmsv2/envelope.go, encryptionconfig/config.go): `failed to decrypt DEK, error:
//!   …`, `failed to perform decrypt section of the healthz check for KMS Provider …`.
//!
//! The provider errors themselves (storage/value/encrypt/{aes,secretbox,identity}, config.go) are
//! the `PHRASES` table. Several distinct ones are aggregated as `[a, b]`, kept whole.
//!
//! Starts are recognised by kube-apiserver's first log line in `Run`
//! (cmd/kube-apiserver/app/server.go: `klog.Infof("Version: %+v", version.Get())`, every version
//! since 1.x) and by klog's `"Golang settings"` line that follows it since 1.20. A new
//! `/var/log/pods/…/<container>/N.log` with N ≥ 1 is the Nth restart of the container; the scanner
//! adds that one.

use super::klog::{Level, Structured};
use super::time::TimeBasis;
use crate::kube::KeyPath;
use serde::Serialize;

/// What the error says went wrong, from the innermost provider error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorClass {
    /// aescbc: `invalid padding on input` — almost always a wrong key.
    AescbcPadding,
    /// aescbc: `invalid PKCS7 data (empty or not padded)` — a wrong key, 0.4% of the time.
    AescbcPkcs7,
    /// aescbc: `the stored data is not a multiple of the block size` — damaged value.
    AescbcBlockSize,
    /// aescbc/aesgcm/secretbox: `the stored data was shorter than the required size`.
    ShortData,
    /// aesgcm: `cipher: message authentication failed` — wrong key or key/AAD mismatch.
    AesgcmAuth,
    /// secretbox: `output array was not large enough for encryption` — its authentication failure.
    SecretboxAuth,
    /// The prefix named a provider but no configured key has the value's key name.
    NoMatchingKey,
    /// No configured provider matches the value's prefix.
    NoMatchingPrefix,
    /// A resource without encryption config met an encrypted value (1.26+).
    IdentityEncrypted,
    /// Encrypted bytes reached the decoder (before 1.26, resource not configured).
    Base64,
    /// KMS: the plugin could not decrypt the value's DEK (`failed to decrypt DEK, error: …`, v2;
    /// `error while decrypting key: …`, v1 before 1.17).
    Kms,
    /// KMS: the stored envelope itself is malformed (`invalid data encountered by envelope
    /// transformer`, kmsv2 `EncryptedObject` validation): a damaged or foreign value.
    KmsInvalidData,
    /// KMS: the plugin is unreachable or unhealthy (healthz sections, `failed get version from
    /// remote KMS provider`, API version checks): no verdict on any value.
    KmsUnavailable,
    /// KMS: a write failed (`failed to encrypt DEK`).
    KmsEncrypt,
    /// k3s/rke2 `secrets-encrypt`: `hash does not match between NODE-A and NODE-B` — the servers'
    /// encryption configs differ (k3s pkg/secretsencrypt/config.go).
    SecretsEncryptHashMismatch,
    /// k3s/rke2 refused to start: `…/encryption-config.json newer than datastore and could cause a
    /// cluster outage. …` (k3s pkg/cluster/bootstrap.go).
    SecretsEncryptConfigNewer,
    /// An aggregate of several of the above.
    Multiple,
    /// A transform failure whose cause is none of the known provider errors.
    Other,
}

/// Which storage path failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    List,
    Watch,
    Get,
    Decrypt,
    Healthz,
    Unknown,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::List => "list",
            Operation::Watch => "watch",
            Operation::Get => "get",
            Operation::Decrypt => "decrypt",
            Operation::Healthz => "healthz",
            Operation::Unknown => "unknown",
        }
    }
}

/// Who logged an event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// kube-apiserver itself (or k3s/rke2 around it): the node named ran the failing apiserver.
    #[default]
    Apiserver,
    /// A client reporting what an apiserver answered (kubelet, kube-controller-manager, kubectl,
    /// `kubectl describe` events): the node named is where the client ran, not an apiserver.
    Client,
}

/// One encryption/transform error found in a log. Fields serialize in this order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    pub node: String,
    /// See [`TimeBasis`]: UTC `…Z`, or local / no-year when the log did not say.
    pub time: String,
    pub time_basis: TimeBasis,
    /// klog level; JSON logging lines are `I` with a `v`, `E` without. None for headerless text.
    pub level: Option<Level>,
    /// klog `file:line` or JSON `caller`.
    pub source: Option<String>,
    /// `cacher (*core.Secret)`, `cacher (secrets)`, `reflector storage/cacher.go:/secrets`,
    /// `watcher`, `transformer`, `kms`, `client`, or a journald identifier.
    pub component: Option<String>,
    pub operation: Operation,
    /// `secrets`, `routes.route.openshift.io`, … when the line names one.
    pub resource: Option<String>,
    /// The etcd key, when the line names one (LIST errors do; GET and watch errors do not).
    pub key: Option<String>,
    /// The apiserver's error text, innermost first wrapper removed: `invalid padding on input`, or
    /// an aggregate `[a, b]` whole.
    pub error: String,
    pub class: ErrorClass,
    /// The etcd revision, when the 1.32+ corrupt-object errors give it.
    pub revision: Option<i64>,
    pub side: Side,
    /// For client-side events: `kubelet`, `kube-controller-manager`, `kubectl`, `kubectl describe`
    /// or `client` when the line does not say which.
    pub client: Option<String>,
    /// The object a client names (`ns/name`: kubelet's `object-"ns"/"name"`, a preceding `kubectl
    /// get secret NAME -n NS`), when no etcd key is printed.
    pub object: Option<String>,
    /// Occurrences this record stands for: `kubectl describe`'s `x23 over 40m` is 23; else 1.
    pub count: u64,
    /// The span those occurrences cover, in seconds (`over 40m`), when the record says.
    pub over_secs: Option<u64>,
    /// Nodes the message names (k3s `hash does not match between A and B`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<String>,
    pub file: String,
    /// The physical line holding the error (for a rejoined record, the line where its key or
    /// error text is), and the record's first and last line.
    pub line: u64,
    pub record_line: u64,
    pub end_line: u64,
    /// Position on the file's timeline (µs), for intervals and ordering; not serialized.
    #[serde(skip)]
    pub micros: i64,
    #[serde(skip)]
    pub file_index: usize,
}

/// One observed kube-apiserver start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Restart {
    pub node: String,
    pub time: String,
    pub time_basis: TimeBasis,
    /// `Version: v1.21.14`, `"Golang settings"`, or `container log 2.log`.
    pub evidence: String,
    pub version: Option<String>,
    pub file: String,
    pub line: u64,
    #[serde(skip)]
    pub micros: i64,
    #[serde(skip)]
    pub file_index: usize,
}

/// The provider and KMS error strings, in the order they are looked for.
const PHRASES: &[(&str, ErrorClass)] = &[
    (
        crate::kube::transform_error::TransformError::CbcPadding.text(),
        ErrorClass::AescbcPadding,
    ),
    ("invalid PKCS7 data", ErrorClass::AescbcPkcs7),
    (
        crate::kube::transform_error::TransformError::CbcNotMultiple.text(),
        ErrorClass::AescbcBlockSize,
    ),
    (
        crate::kube::transform_error::TransformError::Short.text(),
        ErrorClass::ShortData,
    ),
    (
        crate::kube::transform_error::TransformError::GcmAuth.text(),
        ErrorClass::AesgcmAuth,
    ),
    (
        crate::kube::transform_error::TransformError::SecretboxOpen.text(),
        ErrorClass::SecretboxAuth,
    ),
    (
        "no matching key was found for the provided",
        ErrorClass::NoMatchingKey,
    ),
    (
        crate::kube::transform_error::TransformError::NoMatchingPrefix.text(),
        ErrorClass::NoMatchingPrefix,
    ),
    (
        "the provided value does not match any of the supported transformers",
        ErrorClass::NoMatchingPrefix,
    ),
    (
        "identity transformer tried to read encrypted data",
        ErrorClass::IdentityEncrypted,
    ),
    ("illegal base64 data at input byte", ErrorClass::Base64),
    // KMS, read path: envelope/kmsv2/envelope.go `TransformFromStorage`; envelope/envelope.go
    // before kubernetes/apiserver 53db7e198 (2019, 1.17) wrapped the v1 plugin error this way.
    ("failed to decrypt DEK", ErrorClass::Kms),
    ("error while decrypting key", ErrorClass::Kms),
    // KMS, malformed envelope: envelope/envelope.go, kmsv2/envelope.go `ValidateEncryptedObject`.
    (
        "invalid data encountered by envelope transformer",
        ErrorClass::KmsInvalidData,
    ),
    ("encrypted object is nil", ErrorClass::KmsInvalidData),
    ("unknown encryptedDEKSourceType", ErrorClass::KmsInvalidData),
    ("encrypted data is empty", ErrorClass::KmsInvalidData),
    (
        "failed to validate encrypted DEK source",
        ErrorClass::KmsInvalidData,
    ),
    ("failed to validate key id", ErrorClass::KmsInvalidData),
    ("failed to validate annotations", ErrorClass::KmsInvalidData),
    // KMS, plugin health: server/options/encryptionconfig/config.go (healthz sections, v2
    // status), envelope/grpc_service.go (v1 version check).
    ("healthz check for KMS Provider", ErrorClass::KmsUnavailable),
    (
        "failed get version from remote KMS provider",
        ErrorClass::KmsUnavailable,
    ),
    ("KMS provider api version", ErrorClass::KmsUnavailable),
    (
        "kms plugin failed health check probe",
        ErrorClass::KmsUnavailable,
    ),
    // KMS, write path: kmsv2/envelope.go `addTransformerForEncryption`.
    ("failed to encrypt DEK", ErrorClass::KmsEncrypt),
    // k3s/rke2 (see `ErrorClass`).
    (
        "hash does not match between",
        ErrorClass::SecretsEncryptHashMismatch,
    ),
    (
        "newer than datastore and could cause a cluster outage",
        ErrorClass::SecretsEncryptConfigNewer,
    ),
];

/// Phrases whose error text continues past the phrase (a name, a number, a wrapped cause); every
/// other phrase is the whole error, so the text ends where the phrase does.
const OPEN_ENDED: &[ErrorClass] = &[
    ErrorClass::NoMatchingKey,
    ErrorClass::Base64,
    ErrorClass::Kms,
    ErrorClass::KmsInvalidData,
    ErrorClass::KmsUnavailable,
    ErrorClass::KmsEncrypt,
    ErrorClass::SecretsEncryptHashMismatch,
    ErrorClass::SecretsEncryptConfigNewer,
];

/// The fixed provider errors that are longer than their phrase (aes.go `errInvalidPKCS7Data`).
const FULL_TEXT: &[&str] = &["invalid PKCS7 data (empty or not padded)"];

/// Wrappers that make a line a transform failure whatever the inner error says.
const DEFINITIVE: &[&str] = &[
    "unable to transform key \"",
    "failed to decrypt data",
    "data from the storage is not transformable",
    "unable to transform or decode",
];

/// The wrappers that make a record an event on their own; the prefilter must find each.
#[cfg(test)]
pub(crate) fn definitive_wrappers() -> &'static [&'static str] {
    DEFINITIVE
}

/// Wrapper prefixes peeled off to reach the innermost error.
const WRAPPERS: &[&str] = &[
    "Internal error occurred: ",
    "failed to prepare current and previous objects: ",
    "unexpected ListAndWatch error: ",
];

/// What a record says, before node, time and position are attached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Classified {
    pub component: Option<String>,
    pub operation: Option<Operation>,
    pub resource: Option<String>,
    pub items: Vec<Item>,
    pub side: Side,
    /// Which client, for client-side records (see [`Event::client`]).
    pub client: Option<&'static str>,
    /// `ns/name` a client names.
    pub object: Option<String>,
    pub peers: Vec<String>,
}

/// One failing key (or one keyless error) of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub key: Option<String>,
    pub error: String,
    pub class: ErrorClass,
    pub revision: Option<i64>,
}

/// What a record carries besides its message text.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'a> {
    /// klog source or JSON caller.
    pub source: Option<&'a str>,
    /// journald identifier.
    pub ident: Option<&'a str>,
    /// Structured fields (klog `k=v` or JSON), `err` included.
    pub fields: Option<&'a [(String, Vec<u8>)]>,
}

/// A key as documentation writes it, not as kube-apiserver prints one: `…/<name>`, `…/{name}`,
/// `/registry/secrets/...`, `$NS`, `*`. kube-apiserver keys are object paths
/// (storage/etcd3/store.go), whose names are DNS labels/subdomains and never contain these.
pub fn is_placeholder_key(k: &[u8]) -> bool {
    k.iter()
        .any(|&c| matches!(c, b'<' | b'>' | b'{' | b'}' | b'$' | b'*' | b'[' | b']'))
        || memchr::memmem::find(k, b"...").is_some()
        || memchr::memmem::find(k, "\u{2026}".as_bytes()).is_some()
        || k.ends_with(b"/")
}

/// Storage and client contexts in which `illegal base64 data at input byte N` is a transform
/// error: the decoder of an apiserver without the matching config reading an encrypted value
/// (cacher/reflector LIST, status.go, a client's `Error from server`). Elsewhere (authentication,
/// webhooks, tokens) it is not ours.
fn base64_in_storage(scan: &[u8], ctx: &Context<'_>) -> bool {
    const CONTEXTS: &[&str] = &[
        "failed to list ",
        "Failed to watch ",
        "cacher (",
        "storage/cacher.go",
        "ListAndWatch",
        "not an metav1.Status",
        "Error from server",
        "Couldn't get ",
    ];
    let src = ctx.source.unwrap_or("");
    CONTEXTS.iter().any(|c| find(scan, c).is_some())
        || [
            "status.go",
            "cacher.go",
            "reflector.go",
            "store.go",
            "watcher.go",
        ]
        .iter()
        .any(|s| src.starts_with(s))
}

/// Which client logged a record, from its text and journald identifier; None for the apiserver.
/// Clients use client-go's external types (`*v1.Secret`), the apiserver's cacher its internal
/// ones (`*core.Secret`).
fn client_of(scan: &[u8], ctx: &Context<'_>, internal: bool) -> Option<&'static str> {
    let ident = ctx.ident.unwrap_or("");
    if ident.contains("kubelet") {
        return Some("kubelet");
    }
    if ident.contains("controller-manager") {
        return Some("kube-controller-manager");
    }
    if find(scan, "Error from server").is_some() {
        return Some("kubectl");
    }
    if find(scan, "object-\"").is_some()
        || find(scan, "Couldn't get secret").is_some()
        || find(scan, "Couldn't get configMap").is_some()
        || find(scan, "MountVolume.").is_some()
    {
        return Some("kubelet");
    }
    if find(scan, "not an metav1.Status").is_some() {
        return None;
    }
    if internal
        || find(scan, "failed to list *v1.").is_some()
        || find(scan, "Failed to watch *v1.").is_some()
    {
        return Some("client");
    }
    None
}

/// kubelet's reflector names the object it watches: `object-"ns"/"name"` (pkg/kubelet/util/manager
/// watch_based_manager.go). Returns `ns/name`.
fn kubelet_object(scan: &[u8]) -> Option<String> {
    let p = find(scan, "object-\"")?;
    let rest = &scan[p + 8..];
    let q = memchr::memchr(b'"', rest)?;
    let ns = &rest[..q];
    let rest = rest[q + 1..].strip_prefix(b"/\"")?;
    let q = memchr::memchr(b'"', rest)?;
    let name = &rest[..q];
    let ok = |b: &[u8]| {
        !b.is_empty()
            && b.iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
    };
    (ok(ns) && ok(name)).then(|| format!("{}/{}", lossy(ns), lossy(name)))
}

/// `hash does not match between A and B` → `[A, B]`.
fn peers_of(e: &[u8]) -> Vec<String> {
    let Some(p) = find(e, "hash does not match between ") else {
        return Vec::new();
    };
    let rest = &e[p + 28..];
    let word = |b: &[u8]| -> Vec<u8> {
        b.iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
            .copied()
            .collect()
    };
    let a = word(rest);
    let Some(rest) = rest.get(a.len()..).and_then(|r| r.strip_prefix(b" and ")) else {
        return Vec::new();
    };
    let b = word(rest);
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    vec![lossy(&a), lossy(&b)]
}

fn find(hay: &[u8], needle: &str) -> Option<usize> {
    memchr::memmem::find(hay, needle.as_bytes())
}

/// One automaton over `PHRASES` then `DEFINITIVE`: a single pass tells which are present and
/// where, instead of a `memmem` per string (records are classified by the thousand).
fn phrase_automaton() -> &'static aho_corasick::AhoCorasick {
    static AC: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    AC.get_or_init(|| {
        let pats = PHRASES
            .iter()
            .map(|(p, _)| *p)
            .chain(DEFINITIVE.iter().copied());
        aho_corasick::AhoCorasick::new(pats).expect("fixed phrase set builds")
    })
}

/// Occurrences of the phrases and wrappers in `e`: `(position, index)`, index < `PHRASES.len()`
/// for a provider phrase, else a `DEFINITIVE` wrapper.
fn phrase_hits(e: &[u8]) -> Vec<(usize, usize)> {
    phrase_automaton()
        .find_overlapping_iter(e)
        .map(|m| (m.start(), m.pattern().as_usize()))
        .collect()
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Classifies a record's message. `text` is the message after any header (for structured and
/// JSON lines: the message, with the fields in `ctx`). Returns None when it is not an
/// encryption/transform error.
pub fn classify(text: &[u8], ctx: &Context<'_>) -> Option<Classified> {
    let field = |k: &str| -> Option<&[u8]> {
        ctx.fields?
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_slice())
    };
    // The error body: the `err` field when structured, else the whole message. status.go writes
    // `apiserver received an error that is not an metav1.Status: %#+v: %v`; the `%v` is the text.
    let err_field = field("err");
    let body: &[u8] = match err_field {
        Some(e) => e,
        None => match find(text, "not an metav1.Status: ") {
            Some(p) => {
                let rest = &text[p + 22..];
                memchr::memmem::rfind(rest, b"}: ").map_or(rest, |q| &rest[q + 3..])
            }
            None => text,
        },
    };
    let whole: Vec<u8>;
    let scan: &[u8] = if err_field.is_some() {
        whole = [text, b": ", body].concat();
        &whole
    } else {
        text
    };

    let hits = phrase_hits(scan);
    let definitive = hits.iter().any(|&(_, i)| i >= PHRASES.len());
    // k3s refuses to start for any bootstrap file newer on disk than in the datastore; only the
    // encryption config's is ours.
    let ours = |i: usize| {
        PHRASES[i].1 != ErrorClass::SecretsEncryptConfigNewer
            || find(scan, "encryption-config").is_some()
    };
    let known = hits.iter().any(|&(_, i)| i < PHRASES.len() && ours(i));
    let internal = find(scan, "Internal error occurred: ").is_some();
    if !definitive && !known {
        return None;
    }

    let mut items = Vec::new();
    // 1. Every `unable to transform key "K": E` (only LIST names keys this way).
    let needle = "unable to transform key \"";
    let mut at = 0;
    while let Some(p) = find(&body[at..], needle) {
        let k0 = at + p + needle.len();
        let Some((klen, past)) = key_end(&body[k0..]) else {
            // `"<full etcd key>"`, `"..."`: a placeholder (spaces and all) is documentation.
            let quoted =
                memchr::memchr(b'"', &body[k0..]).map_or(&body[k0..], |q| &body[k0..k0 + q]);
            if is_placeholder_key(quoted) {
                return None;
            }
            break;
        };
        let key = &body[k0..k0 + klen];
        let mut e0 = k0 + past;
        if body[e0..].starts_with(b": ") {
            e0 += 2;
        }
        let next = find(&body[e0..], needle).map_or(body.len(), |n| e0 + n);
        let (error, class, revision) = inner_error(&body[e0..next]);
        items.push(Item {
            key: Some(lossy(key)),
            error,
            class,
            revision,
        });
        at = next;
    }
    let list_key = !items.is_empty();
    // 2. Every `StorageError: corrupt object, …, Key: K, …, AdditionalErrorMsg: E`.
    if items.is_empty() {
        let needle = "StorageError: corrupt object";
        let mut at = 0;
        while let Some(p) = find(&body[at..], needle) {
            let s0 = at + p;
            let next = find(&body[s0 + needle.len()..], needle)
                .map_or(body.len(), |n| s0 + needle.len() + n);
            let item_text = &body[s0..next];
            let key = find(item_text, "Key: ").map(|k| {
                let rest = &item_text[k + 5..];
                let end = rest
                    .iter()
                    .position(|&c| c == b',' || c.is_ascii_whitespace())
                    .unwrap_or(rest.len());
                lossy(&rest[..end])
            });
            let msg =
                find(item_text, "AdditionalErrorMsg: ").map_or(&b""[..], |m| &item_text[m + 20..]);
            // The last item of an aggregate ends with the list's closing brace.
            let msg = super::klog::trim(msg);
            let msg = msg.strip_suffix(b"}").unwrap_or(msg);
            let (error, class, revision) = inner_error(msg);
            items.push(Item {
                key: key.filter(|k| k.starts_with('/')),
                error,
                class,
                revision,
            });
            at = next;
        }
    }
    // 3. A single keyless error.
    if items.is_empty() {
        let (error, class, revision) = inner_error(body);
        if class == ErrorClass::Base64 && !definitive && !internal && !base64_in_storage(scan, ctx)
        {
            // Outside storage and client wrappers, bad base64 is someone else's problem
            // (tokens, webhooks).
            return None;
        }
        let key = field("key").filter(|k| k.starts_with(b"/")).map(lossy);
        items.push(Item {
            key,
            error,
            class,
            revision,
        });
    }

    // Documentation quoting the error (`"/registry/secrets/<namespace>/<name>"`, `err="…"`,
    // `<err>`) is not a log.
    if items.iter().any(|i| {
        i.key
            .as_deref()
            .is_some_and(|k| is_placeholder_key(k.as_bytes()))
            || matches!(i.error.as_str(), "" | "…" | "..." | "<err>" | "<error>")
    }) {
        return None;
    }
    let client = client_of(scan, ctx, internal);
    let component = component(text, ctx, internal);
    let operation = operation(scan, field("verb"), ctx, list_key);
    let resource = resource(text, field("resource"), field("group"), &items);
    let peers = items
        .first()
        .map_or(Vec::new(), |i| peers_of(i.error.as_bytes()));
    Some(Classified {
        component,
        operation: Some(operation),
        resource,
        items,
        side: if client.is_some() {
            Side::Client
        } else {
            Side::Apiserver
        },
        client,
        object: kubelet_object(scan),
        peers,
    })
}

/// A key starting right after its opening quote: `(key length, bytes up to and including the
/// closing quote)`. The closing quote may be escaped (`\"`) inside a structured value. None when it
/// runs off the end or is not a key.
fn key_end(b: &[u8]) -> Option<(usize, usize)> {
    let q = memchr::memchr(b'"', b)?;
    let end = if q > 0 && b[q - 1] == b'\\' { q - 1 } else { q };
    let key = &b[..end];
    if key.first() != Some(&b'/') || key.iter().any(|c| c.is_ascii_whitespace()) {
        return None;
    }
    Some((end, q + 1))
}

/// Peels wrappers off an error and cuts it at its terminator. Returns the error, its class and a
/// revision if one was given.
fn inner_error(e: &[u8]) -> (String, ErrorClass, Option<i64>) {
    let mut e = super::klog::trim(e);
    // Terminators: the cacher's `; reinitializing...`, a closing `\"` of an enclosing value, a
    // following StorageError in an aggregate.
    for t in ["; reinitializing", "\\\""] {
        if let Some(p) = find(e, t) {
            e = &e[..p];
        }
    }
    let mut revision = None;
    loop {
        let before = e.len();
        for w in WRAPPERS {
            if let Some(p) = find(e, w) {
                // Only peel a wrapper that precedes every known phrase.
                if first_phrase(e).is_none_or(|(q, _)| p < q) {
                    e = &e[p + w.len()..];
                }
            }
        }
        // (Wrappers are rare; `first_phrase` runs only when one is present.)
        // `data from the storage is not transformable revision=N: <err>`
        let nt = "data from the storage is not transformable revision=";
        if let Some(p) = find(e, nt) {
            let rest = &e[p + nt.len()..];
            let d = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            revision = std::str::from_utf8(&rest[..d])
                .ok()
                .and_then(|s| s.parse().ok());
            let mut r = &rest[d..];
            if r.starts_with(b": ") {
                r = &r[2..];
            }
            e = r;
        }
        // `failed to list *core.Secret: ` and similar `failed to list X: `.
        if let Some(rest) = e.strip_prefix(b"failed to list ") {
            if let Some(c) = find(rest, ": ") {
                e = &rest[c + 2..];
            }
        }
        if e.len() == before {
            break;
        }
    }
    // Leading context of a keyless error (`kms-provider-0 check failed: healthz: failed to …`):
    // start after the last `: ` before the first known phrase. An aggregate's `[` stays.
    if let Some((p, _)) = first_phrase(e) {
        if let Some(c) = memchr::memmem::rfind(&e[..p], b": ") {
            e = &e[c + 2..];
        }
    }
    let e = end_of_error(super::klog::trim(e));
    // Class: the phrases present; an aggregate mentions several.
    let mut classes: Vec<ErrorClass> = phrase_hits(e)
        .into_iter()
        .filter(|&(_, i)| i < PHRASES.len())
        .map(|(_, i)| PHRASES[i].1)
        .collect();
    classes.sort();
    classes.dedup();
    let class = match classes.as_slice() {
        [] => ErrorClass::Other,
        [c] => *c,
        _ => ErrorClass::Multiple,
    };
    (lossy(e), class, revision)
}

/// Where an error ends when nothing terminated it: what a paste appends (a closing code fence, a
/// sentence of prose, Markdown punctuation, the next line of a table) is not the apiserver's.
/// A fixed provider error ends with its text; an aggregate `[a, b]` at its closing bracket; an
/// open-ended one (KMS, base64's byte offset, the AES/Secretbox transformer name) at its own
/// shape, then trailing quotes, backticks and separators are dropped.
fn end_of_error(e: &[u8]) -> &[u8] {
    let mut e = e;
    if let Some(p) = find(e, "```") {
        e = super::klog::trim(&e[..p]);
    }
    if e.starts_with(b"[") {
        if let Some(p) = memchr::memrchr(b']', e) {
            return &e[..=p];
        }
    }
    if let Some((0, class)) = first_phrase(e) {
        if !OPEN_ENDED.contains(&class) {
            let full = FULL_TEXT
                .iter()
                .find(|f| e.starts_with(f.as_bytes()))
                .map(|f| f.len());
            let phrase = PHRASES
                .iter()
                .filter(|(p, _)| e.starts_with(p.as_bytes()))
                .map(|(p, _)| p.len())
                .max();
            if let Some(n) = full.or(phrase) {
                return &e[..n];
            }
        }
        match class {
            ErrorClass::Base64 => {
                let n = "illegal base64 data at input byte ".len();
                let d = e
                    .get(n..)
                    .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
                if d > 0 {
                    return &e[..n + d];
                }
            }
            ErrorClass::NoMatchingKey => {
                // `… for the provided AES transformer` / `… Secretbox transformer`.
                if let Some(t) = find(e, " transformer") {
                    return &e[..t + 12];
                }
            }
            _ => {}
        }
    }
    trim_paste_punctuation(e)
}

/// Drops trailing backticks, `,` `;` `|`, and an unbalanced quote or `)`: a paste's, never the end
/// of one of the apiserver's error texts.
fn trim_paste_punctuation(mut e: &[u8]) -> &[u8] {
    loop {
        e = super::klog::trim(e);
        match e.last() {
            Some(b'`' | b',' | b';' | b'|' | b'\\') => e = &e[..e.len() - 1],
            // A quote closes one the error opened (`desc = "transport: …"`) unless it is odd.
            Some(&q @ (b'"' | b'\'')) if e.iter().filter(|&&c| c == q).count() % 2 == 1 => {
                e = &e[..e.len() - 1]
            }
            Some(b')')
                if e.iter().filter(|&&c| c == b')').count()
                    > e.iter().filter(|&&c| c == b'(').count() =>
            {
                e = &e[..e.len() - 1]
            }
            _ => return e,
        }
    }
}

/// Is a known error in `text` said the way Go error chains say it: at the start, after `: `, or
/// inside an aggregate (`[`, `, `)? Text with no log header must be (prose that mentions
/// `'invalid padding on input'` or a backticked error is not a log line).
pub fn chained(text: &[u8]) -> bool {
    phrase_hits(text).iter().any(|&(at, i)| {
        i < PHRASES.len() && {
            let before = &text[..at];
            before.is_empty()
                || before.ends_with(b": ")
                || before.ends_with(b"[")
                || before.ends_with(b", ")
                || before.ends_with(b"=\"")
        }
    })
}

/// Does `text` hold a known error after its last wrapper (so the error has been said)?
pub fn says_error(text: &[u8]) -> bool {
    let hits = phrase_hits(text);
    let last_wrapper = hits
        .iter()
        .filter(|&&(_, i)| i >= PHRASES.len())
        .map(|&(at, _)| at)
        .max();
    hits.iter()
        .any(|&(at, i)| i < PHRASES.len() && last_wrapper.is_none_or(|w| at > w))
}

fn first_phrase(e: &[u8]) -> Option<(usize, ErrorClass)> {
    phrase_hits(e)
        .into_iter()
        .filter(|&(_, i)| i < PHRASES.len())
        .map(|(at, i)| (at, PHRASES[i].1))
        .min()
}

fn component(text: &[u8], ctx: &Context<'_>, internal: bool) -> Option<String> {
    if let Some(p) = find(text, "cacher (") {
        let rest = &text[p..];
        if let Some(c) = memchr::memchr(b')', rest) {
            return Some(lossy(&rest[..=c]));
        }
    }
    if let Some(p) = find(text, "storage/cacher.go:") {
        let rest = &text[p..];
        let end = find(rest, ": ").unwrap_or(rest.len());
        return Some(format!(
            "reflector {}",
            String::from_utf8_lossy(&rest[..end])
        ));
    }
    let src = ctx.source.unwrap_or("");
    if find(text, "failed to prepare current and previous objects").is_some()
        || src.starts_with("watcher.go")
    {
        return Some("watcher".into());
    }
    if src.contains("transformer.go") || find(text, "failed to decrypt data").is_some() {
        return Some("transformer".into());
    }
    if find(text, "KMS Provider").is_some() || find(text, "decrypt DEK").is_some() {
        return Some("kms".into());
    }
    if let Some(ident) = ctx.ident.filter(|i| !i.contains("apiserver")) {
        return Some(ident.to_string());
    }
    if internal {
        return Some("client".into());
    }
    if src.starts_with("status.go") {
        return Some("responsewriters".into());
    }
    None
}

fn operation(text: &[u8], verb: Option<&[u8]>, ctx: &Context<'_>, has_key: bool) -> Operation {
    let has = |s: &str| find(text, s).is_some();
    if has("failed to prepare current and previous objects") {
        return Operation::Watch;
    }
    if has("healthz check for KMS Provider") {
        return Operation::Healthz;
    }
    if let Some(v) = verb {
        match v.to_ascii_uppercase().as_slice() {
            b"LIST" => return Operation::List,
            b"WATCH" => return Operation::Watch,
            b"GET" => return Operation::Get,
            _ => {}
        }
    }
    if has("failed to list")
        || has("ListAndWatch")
        || has("unable to transform or decode")
        || has_key
    {
        return Operation::List;
    }
    if has("failed to decrypt data") || ctx.source.is_some_and(|s| s.contains("transformer.go")) {
        return Operation::Decrypt;
    }
    if has("Couldn't get")
        || has("Error from server")
        || has("Internal error occurred")
        || has("StorageError: corrupt object")
    {
        return Operation::Get;
    }
    Operation::Unknown
}

/// `*core.Secret` → `secrets`.
fn type_to_resource(t: &[u8]) -> Option<String> {
    let t = t.strip_prefix(b"*").unwrap_or(t);
    let kind = t.rsplit(|&c| c == b'.').next()?;
    if kind.is_empty() || !kind.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let k = String::from_utf8_lossy(kind).to_ascii_lowercase();
    Some(if k.ends_with('s') {
        if k == "endpoints" {
            k
        } else {
            format!("{k}es")
        }
    } else if let Some(stem) = k.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{k}s")
    })
}

fn resource(
    text: &[u8],
    res_field: Option<&[u8]>,
    group_field: Option<&[u8]>,
    items: &[Item],
) -> Option<String> {
    if let Some(k) = items.iter().find_map(|i| i.key.as_deref()) {
        if let Some(p) = KeyPath::parse(k.as_bytes()) {
            return Some(p.qualified_resource());
        }
    }
    if let Some(r) = res_field.filter(|r| !r.is_empty()) {
        return Some(match group_field.filter(|g| !g.is_empty()) {
            Some(g) => format!("{}.{}", lossy(r), lossy(g)),
            None => lossy(r),
        });
    }
    if let Some(p) = find(text, "cacher (") {
        let rest = &text[p + 8..];
        if let Some(c) = memchr::memchr(b')', rest) {
            let inner = &rest[..c];
            return if inner.starts_with(b"*") {
                type_to_resource(inner)
            } else {
                Some(lossy(inner))
            };
        }
    }
    if let Some(p) = find(text, "storage/cacher.go:/") {
        let rest = &text[p + 19..];
        let end = rest
            .iter()
            .position(|&c| c == b':' || c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let path = &rest[..end];
        return Some(match path.iter().position(|&c| c == b'/') {
            Some(s) => format!("{}.{}", lossy(&path[s + 1..]), lossy(&path[..s])),
            None => lossy(path),
        });
    }
    if let Some(p) = find(text, "failed to list ") {
        let rest = &text[p + 15..];
        let end = find(rest, ":").unwrap_or(rest.len());
        if let Some(r) = type_to_resource(&rest[..end]) {
            return Some(r);
        }
    }
    if let Some(p) = find(text, "Couldn't get ") {
        let rest = &text[p + 13..];
        let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        return match &rest[..end] {
            b"secret" => Some("secrets".into()),
            b"configMap" | b"configmap" => Some("configmaps".into()),
            _ => None,
        };
    }
    None
}

/// Is this message a kube-apiserver start line? Returns the evidence and the version.
pub fn start_marker(
    text: &[u8],
    structured: Option<&Structured>,
) -> Option<(String, Option<String>)> {
    let msg = structured.map_or(text, |s| s.msg.as_slice());
    if let Some(rest) = msg.strip_prefix(b"Version: v") {
        let v: Vec<u8> = rest
            .iter()
            .take_while(|c| !c.is_ascii_whitespace())
            .copied()
            .collect();
        let version = format!("v{}", String::from_utf8_lossy(&v));
        return Some((format!("Version: {version}"), Some(version)));
    }
    if msg == b"Golang settings" {
        return Some(("\"Golang settings\"".into(), None));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(text: &str) -> Option<Classified> {
        classify(text.as_bytes(), &Context::default())
    }

    fn one(text: &str) -> (Classified, Item) {
        let cl = c(text).expect("classified");
        assert_eq!(cl.items.len(), 1, "{cl:?}");
        let i = cl.items[0].clone();
        (cl, i)
    }

    #[test]
    fn cacher_1_19_and_1_26() {
        let (cl, i) = one("cacher (*core.Secret): unexpected ListAndWatch error: failed to list *core.Secret: unable to transform key \"/registry/secrets/ns/n\": invalid padding on input; reinitializing...");
        assert_eq!(cl.component.as_deref(), Some("cacher (*core.Secret)"));
        assert_eq!(
            (cl.operation, cl.resource.as_deref()),
            (Some(Operation::List), Some("secrets"))
        );
        assert_eq!(i.key.as_deref(), Some("/registry/secrets/ns/n"));
        assert_eq!(
            (i.error.as_str(), i.class),
            ("invalid padding on input", ErrorClass::AescbcPadding)
        );
        let (cl, _) = one("cacher (secrets): unexpected ListAndWatch error: failed to list *core.Secret: unable to transform key \"/registry/secrets/ns/n\": cipher: message authentication failed; reinitializing...");
        assert_eq!(cl.component.as_deref(), Some("cacher (secrets)"));
    }

    #[test]
    fn reflector_and_aggregate() {
        let (cl, i) = one("storage/cacher.go:/secrets: failed to list *core.Secret: unable to transform key \"/registry/secrets/a/b\": [invalid padding on input, cipher: message authentication failed]");
        assert_eq!(
            cl.component.as_deref(),
            Some("reflector storage/cacher.go:/secrets")
        );
        assert_eq!(
            i.error,
            "[invalid padding on input, cipher: message authentication failed]"
        );
        assert_eq!(i.class, ErrorClass::Multiple);
        let (cl, _) = one("storage/cacher.go:/route.openshift.io/routes: failed to list *route.Route: unable to transform key \"/openshift.io/routes/ns/r\": no matching prefix found");
        assert_eq!(cl.resource.as_deref(), Some("routes.route.openshift.io"));
    }

    #[test]
    fn watch_decrypt_and_clients() {
        let (cl, i) =
            one("failed to prepare current and previous objects: invalid padding on input");
        assert_eq!(
            (cl.operation, cl.component.as_deref()),
            (Some(Operation::Watch), Some("watcher"))
        );
        assert_eq!(
            (i.key, i.error.as_str()),
            (None, "invalid padding on input")
        );
        let (cl, i) = one("Couldn't get secret ns/name: Internal error occurred: invalid PKCS7 data (empty or not padded)");
        assert_eq!(
            (cl.operation, cl.resource.as_deref()),
            (Some(Operation::Get), Some("secrets"))
        );
        assert_eq!(
            (i.error.as_str(), i.class),
            (
                "invalid PKCS7 data (empty or not padded)",
                ErrorClass::AescbcPkcs7
            )
        );
        assert_eq!(cl.component.as_deref(), Some("client"));
        let (_, i) = one("Error from server (InternalError): Internal error occurred: unable to transform key \"/registry/configmaps/x/y\": identity transformer tried to read encrypted data");
        assert_eq!(i.key.as_deref(), Some("/registry/configmaps/x/y"));
        assert_eq!(i.class, ErrorClass::IdentityEncrypted);
    }

    #[test]
    fn structured_transformer_line() {
        let fields = vec![(
            "err".to_string(),
            b"output array was not large enough for encryption".to_vec(),
        )];
        let ctx = Context {
            source: Some("transformer.go:164"),
            ident: None,
            fields: Some(&fields),
        };
        let cl = classify(b"failed to decrypt data", &ctx).unwrap();
        assert_eq!(
            (cl.operation, cl.component.as_deref()),
            (Some(Operation::Decrypt), Some("transformer"))
        );
        assert_eq!(cl.items[0].class, ErrorClass::SecretboxAuth);
        assert_eq!(
            cl.items[0].error,
            "output array was not large enough for encryption"
        );
    }

    #[test]
    fn corrupt_objects_1_32() {
        let (_, i) = one("data from the storage is not transformable revision=1234: no matching key was found for the provided AES transformer");
        assert_eq!(
            (i.revision, i.class),
            (Some(1234), ErrorClass::NoMatchingKey)
        );
        assert_eq!(
            i.error,
            "no matching key was found for the provided AES transformer"
        );
        let cl = c("unable to transform or decode 2 objects: { StorageError: corrupt object, Code: 7, Key: /registry/secrets/a/b, ResourceVersion: 0, AdditionalErrorMsg: data from the storage is not transformable revision=7: invalid padding on input StorageError: corrupt object, Code: 7, Key: /registry/secrets/a/c, ResourceVersion: 0, AdditionalErrorMsg: data from the storage is not transformable revision=9: invalid padding on input }").unwrap();
        let keys: Vec<_> = cl
            .items
            .iter()
            .map(|i| (i.key.clone().unwrap(), i.revision, i.error.clone()))
            .collect();
        assert_eq!(
            keys,
            vec![
                (
                    "/registry/secrets/a/b".to_string(),
                    Some(7),
                    "invalid padding on input".to_string()
                ),
                (
                    "/registry/secrets/a/c".to_string(),
                    Some(9),
                    "invalid padding on input".to_string()
                ),
            ]
        );
    }

    #[test]
    fn status_go_and_kms_context() {
        let (cl, i) = one("apiserver received an error that is not an metav1.Status: &storage.StorageError{Code:7, Key:\"/registry/secrets/ns1/s1\", ResourceVersion:0, AdditionalErrorMsg:\"\", err:(*etcd3.corruptObjectError)(0xc000a1b2c0)}: StorageError: corrupt object, Code: 7, Key: /registry/secrets/ns1/s1, ResourceVersion: 0, AdditionalErrorMsg: data from the storage is not transformable revision=48213: the stored data is not a multiple of the block size");
        assert_eq!(
            (i.key.as_deref(), i.revision),
            (Some("/registry/secrets/ns1/s1"), Some(48213))
        );
        assert_eq!(
            i.error,
            "the stored data is not a multiple of the block size"
        );
        assert_eq!(cl.operation, Some(Operation::Get));
        let (_, i) = one("apiserver received an error that is not an metav1.Status: &errors.errorString{s:\"invalid padding on input\"}: invalid padding on input");
        assert_eq!(i.error, "invalid padding on input");
        let (cl, i) = one("kms-provider-0 check failed: healthz: failed to perform decrypt section of the healthz check for KMS Provider vault, error: rpc error: code = DeadlineExceeded desc = context deadline exceeded");
        assert_eq!(
            (cl.operation, i.class),
            (Some(Operation::Healthz), ErrorClass::KmsUnavailable)
        );
        assert!(
            i.error.starts_with("failed to perform decrypt section"),
            "{}",
            i.error
        );
    }

    #[test]
    fn not_events() {
        assert!(c("ClientConn switching balancer to \"pick_first\"").is_none());
        assert!(
            c("Unable to authenticate the request: illegal base64 data at input byte 4").is_none()
        );
        assert!(c("unionTransformers: transform something else").is_none());
    }

    #[test]
    fn errors_end_where_the_apiservers_text_ends() {
        let k = "storage/cacher.go:/secrets: failed to list *core.Secret: unable to transform key \"/registry/secrets/a/b\": ";
        for (tail, want) in [
            ("no matching prefix found```", "no matching prefix found"),
            ("no matching prefix found\"`", "no matching prefix found"),
            (
                "invalid padding on input We tried restarting the kubelet.",
                "invalid padding on input",
            ),
            (
                "invalid PKCS7 data (empty or not padded)`.",
                "invalid PKCS7 data (empty or not padded)",
            ),
            (
                "illegal base64 data at input byte 12`",
                "illegal base64 data at input byte 12",
            ),
            (
                "no matching key was found for the provided AES transformer, see above",
                "no matching key was found for the provided AES transformer",
            ),
            (
                "[invalid padding on input, no matching prefix found]`",
                "[invalid padding on input, no matching prefix found]",
            ),
            (
                "failed to decrypt DEK, error: rpc error: desc = \"x y\"`",
                "failed to decrypt DEK, error: rpc error: desc = \"x y\"",
            ),
        ] {
            let (_, i) = one(&format!("{k}{tail}"));
            assert_eq!(i.error, want, "{tail}");
        }
    }

    #[test]
    fn placeholders_are_documentation() {
        for key in [
            "/registry/secrets/<namespace>/<secret-name>",
            "/registry/secrets/...",
            "/registry/configmaps/{ns}/{name}",
            "/registry/secrets/$NS/x",
            "<full etcd key>",
        ] {
            assert!(
                c(&format!(
                    "unable to transform key \"{key}\": invalid padding on input"
                ))
                .is_none(),
                "{key}"
            );
        }
        assert!(is_placeholder_key(b"/registry/secrets/\xe2\x80\xa6"));
        assert!(!is_placeholder_key(b"/registry/secrets/ns-1/name.v2_x"));
    }

    #[test]
    fn kms_and_k3s_classes() {
        for (text, class) in [
            ("failed get version from remote KMS provider: rpc error: code = Unavailable", ErrorClass::KmsUnavailable),
            ("KMS provider api version v2 is not supported, only v1beta1 is supported now", ErrorClass::KmsUnavailable),
            ("unable to transform key \"/registry/secrets/a/b\": error while decrypting key: \"rpc error\"", ErrorClass::Kms),
            ("unable to transform key \"/registry/secrets/a/b\": invalid data encountered by envelope transformer: failed to read uint16 length prefixed data", ErrorClass::KmsInvalidData),
            ("\"failed to decrypt data\" err=\"failed to validate annotations: x\"", ErrorClass::KmsInvalidData),
            ("failed to encrypt DEK, error: rpc error", ErrorClass::KmsEncrypt),
            ("Server Encryption Hashes: hash does not match between node-a and node-b", ErrorClass::SecretsEncryptHashMismatch),
            ("/var/lib/rancher/k3s/server/cred/encryption-config.json newer than datastore and could cause a cluster outage. Remove the file(s) from disk and restart to be recreated from datastore.", ErrorClass::SecretsEncryptConfigNewer),
        ] {
            let cl = c(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(cl.items[0].class, class, "{text}");
        }
        let cl =
            c("Server Encryption Hashes: hash does not match between node-a and node-b").unwrap();
        assert_eq!(cl.peers, vec!["node-a".to_string(), "node-b".to_string()]);
        assert!(c("/var/lib/rancher/k3s/server/cred/passwd newer than datastore and could cause a cluster outage.").is_none());
    }

    #[test]
    fn base64_only_in_storage_and_client_contexts() {
        let (_, i) = one("storage/cacher.go:/secrets: failed to list *core.Secret: illegal base64 data at input byte 0");
        assert_eq!(i.class, ErrorClass::Base64);
        let cl = c("Error from server (InternalError): Internal error occurred: illegal base64 data at input byte 0").unwrap();
        assert_eq!((cl.side, cl.client), (Side::Client, Some("kubectl")));
        assert!(
            c("Unable to authenticate the request: illegal base64 data at input byte 4").is_none()
        );
    }

    #[test]
    fn clients_name_their_object() {
        let cl = c("object-\"payments\"/\"db\": Failed to watch *v1.Secret: failed to list *v1.Secret: Internal error occurred: invalid padding on input").unwrap();
        assert_eq!((cl.side, cl.client), (Side::Client, Some("kubelet")));
        assert_eq!(cl.object.as_deref(), Some("payments/db"));
        let cl = c("cacher (secrets): unexpected ListAndWatch error: failed to list *core.Secret: unable to transform key \"/registry/secrets/a/b\": invalid padding on input; reinitializing...").unwrap();
        assert_eq!((cl.side, cl.client), (Side::Apiserver, None));
    }

    #[test]
    fn chained_errors_and_prose() {
        assert!(chained(
            b"Internal error occurred: invalid padding on input"
        ));
        assert!(chained(b"invalid padding on input"));
        assert!(!chained(
            b"it fails with 'invalid padding on input', as the log shows"
        ));
        assert!(!chained(b"error `invalid padding on input`"));
    }

    #[test]
    fn starts() {
        assert_eq!(
            start_marker(b"Version: v1.21.14", None),
            Some(("Version: v1.21.14".into(), Some("v1.21.14".into())))
        );
        assert!(start_marker(b"resourceVersion: v1", None).is_none());
    }
}
