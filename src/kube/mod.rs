//! Kubernetes view of etcd records: key paths and value envelopes.
//!
//! Knows the layout kube-apiserver uses in etcd; knows nothing of bbolt pages or of keys.

pub mod decode;
pub mod envelope;
pub mod object;
pub mod openshift;
pub mod path;
pub mod transform_error;
pub mod unknown;

pub use envelope::{Envelope, Provider};
pub use path::KeyPath;

use serde::Serialize;

/// What a record is, as far as can be told without keys: where it lives and its envelope.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectInfo<'a> {
    /// `group_resource` as EncryptionConfiguration names it (`secrets`, `routes.route.openshift.io`).
    pub resource: Option<String>,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    /// `protobuf`, `json`, `aescbc`, `aesgcm`, `secretbox`, `kms`, `kmsv2`, `encrypted-unknown`, `other`.
    pub envelope: &'static str,
    /// For encrypted values: the key (or KMS plugin) name up to the first `:`.
    pub key_name: Option<String>,
    /// typeMeta of a plaintext object, when readable.
    pub api_version: Option<String>,
    pub kind: Option<String>,
}

impl<'a> ObjectInfo<'a> {
    pub fn describe(key: &'a [u8], value: &[u8]) -> ObjectInfo<'a> {
        let path = KeyPath::parse(key);
        let env = Envelope::classify(value);
        let (api_version, kind) = type_meta(&env);
        ObjectInfo {
            resource: path.as_ref().map(|p| p.qualified_resource()),
            namespace: path.and_then(|p| p.namespace),
            name: path.map(|p| p.name),
            envelope: env.label(),
            key_name: env
                .key_name_guess()
                .map(|n| String::from_utf8_lossy(n).into_owned()),
            api_version,
            kind,
        }
    }
}

/// apiVersion and kind of a plaintext value: from runtime.Unknown for protobuf, from the top-level
/// fields for JSON.
pub fn type_meta(env: &Envelope<'_>) -> (Option<String>, Option<String>) {
    let s = |b: &[u8]| (!b.is_empty()).then(|| String::from_utf8_lossy(b).into_owned());
    match env {
        Envelope::Protobuf(body) => match unknown::Unknown::decode(body) {
            Ok(u) => (s(u.api_version), s(u.kind)),
            Err(_) => (None, None),
        },
        Envelope::Json(doc) => {
            #[derive(serde::Deserialize)]
            struct Tm {
                #[serde(rename = "apiVersion")]
                api_version: Option<String>,
                kind: Option<String>,
            }
            match serde_json::from_slice::<Tm>(doc) {
                Ok(t) => (t.api_version, t.kind),
                Err(_) => (None, None),
            }
        }
        _ => (None, None),
    }
}
