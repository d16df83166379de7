//! Key material and what may be said about it in public: provider, name, fingerprint, provenance.
//!
//! [`Secret`] is the only type that holds key bytes. It has no `Display`, no `Serialize`, and its
//! `Debug` prints only the length, so a key cannot reach an output, a log line or a panic message
//! by accident: code that needs the bytes must call [`Secret::expose`], which is crate-private.

use crate::kube::Provider;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;

/// Key bytes. Debug prints `Secret(<N bytes>)`; the bytes are zeroed when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<[u8]>);

impl Secret {
    pub(crate) fn new(bytes: Vec<u8>) -> Secret {
        Secret(bytes.into_boxed_slice())
    }

    /// The key bytes, for the decrypt layer only.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Key length in bytes (safe to show).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when every byte is zero: OpenShift's marker keys (see [`super::tarball`]).
    pub fn is_all_zero(&self) -> bool {
        self.0.iter().all(|&b| b == 0)
    }

    /// `sha256:` + the first 16 hex digits of SHA-256 of the key bytes. One-way, so safe to
    /// print; two nodes holding the same key show the same fingerprint.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes>)", self.0.len())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // Volatile so the zeroing is not optimised away as a dead store.
            // SAFETY: `b` is a valid, aligned, exclusive reference to a u8.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

/// `sha256:` + first 16 hex digits of SHA-256 of `bytes`.
pub fn fingerprint(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(7 + 16);
    s.push_str("sha256:");
    for b in digest.iter().take(8) {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The key sizes a provider accepts (aes.NewCipher: 16/24/32; secretbox: 32 —
/// apiserver pkg/apis/apiserver/validation/validation_encryption.go).
pub fn valid_key_sizes(p: Provider) -> &'static [usize] {
    match p {
        Provider::Aescbc | Provider::Aesgcm => &[16, 24, 32],
        Provider::Secretbox => &[32],
        _ => &[],
    }
}

/// Where a candidate key was found.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Origin {
    /// An EncryptionConfiguration file given with `--encryption-config`.
    EncryptionConfig { path: String },
    /// `kube-apiserver-pod-<revision>/…/encryption-config` inside a `--static-resources` tarball.
    StaticResources {
        path: String,
        revision: u32,
        entry: String,
    },
    /// A `--key` argument (the n-th one, counting from 1).
    CommandLine { index: usize },
    /// A Secret inside the snapshot, decrypted in memory: an EncryptionConfiguration (OpenShift's
    /// `openshift-config-managed/encryption-config-<component>`) or one key
    /// (`…/encryption-key-<component>-<N>`).
    SnapshotSecret {
        namespace: String,
        name: String,
        revision: i64,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::EncryptionConfig { path } => write!(f, "{path}"),
            Origin::StaticResources { path, revision, .. } => {
                write!(f, "{path} revision {revision}")
            }
            Origin::CommandLine { index } => write!(f, "--key #{index}"),
            Origin::SnapshotSecret {
                namespace,
                name,
                revision,
            } => write!(
                f,
                "snapshot secret {namespace}/{name} at revision {revision}"
            ),
        }
    }
}

/// What a key is used for in its config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The first key of the first provider of a resources entry: new writes use it.
    Write,
    /// Any other key of the node's active config: only tried on reads.
    Read,
    /// Only in an older tarball revision: the node's kube-apiserver no longer has it.
    Retired,
    /// Given with `--key`: not part of any node's config.
    Candidate,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Write => "write",
            Role::Read => "read",
            Role::Retired => "retired",
            Role::Candidate => "candidate",
        })
    }
}

/// One key that may decrypt records, with its provenance. Never shows the key bytes.
#[derive(Clone, Debug, Serialize)]
pub struct CandidateKey {
    /// Stable identifier: `<node>/<provider>/<name>` (plus `#n` if that repeats with a different
    /// secret).
    pub id: String,
    /// The node whose config holds it (`cli` for `--key`).
    pub node: String,
    /// Where it was read; several when the same key appears in several tarball revisions.
    pub origins: Vec<Origin>,
    pub provider: Provider,
    /// The key name (OpenShift: "1", "2", …). May contain ':'.
    pub name: String,
    pub fingerprint: String,
    /// Key length in bytes.
    pub size: usize,
    pub role: Role,
    /// The resources of every resources entry that lists this key (as the config spells them).
    pub resources: Vec<String>,
    #[serde(skip)]
    pub(crate) secret: Secret,
}

impl CandidateKey {
    /// The key bytes, for the decrypt layer only.
    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_sha256_prefix() {
        // python3: hashlib.sha256(b"\x00"*32).hexdigest()[:16] == "66687aadf862bd77"
        assert_eq!(fingerprint(&[0u8; 32]), "sha256:66687aadf862bd77");
    }

    #[test]
    fn debug_never_shows_bytes() {
        let s = Secret::new(b"0123456789abcdef".to_vec());
        let d = format!("{s:?}");
        assert_eq!(d, "Secret(<16 bytes>)");
        let k = CandidateKey {
            id: "n/aescbc/k".into(),
            node: "n".into(),
            origins: vec![Origin::CommandLine { index: 1 }],
            provider: Provider::Aescbc,
            name: "k".into(),
            fingerprint: s.fingerprint(),
            size: 16,
            role: Role::Candidate,
            resources: vec![],
            secret: s.clone(),
        };
        let d = format!("{k:?} {k:#?}");
        assert!(!d.contains("0123456789abcdef"));
        assert!(!d.contains("48, 49, 50"), "{d}");
        assert!(!d.contains("MDEyMzQ1Njc4OWFiY2RlZg"));
        let j = serde_json::to_string(&k).unwrap();
        assert!(!j.contains("0123456789abcdef") && !j.contains("MDEyMzQ1Njc4OWFiY2RlZg"));
    }
}
