//! A stored object → the JSON `kubectl get -o json` prints for it.
//!
//! - protobuf (`k8s\x00` + runtime.Unknown): the message named by typeMeta, decoded with the
//!   published schema ([`schema`]) and Kubernetes' JSON conventions ([`protobuf`]);
//! - JSON (custom resources, CRDs, JSON-configured apiservers): the document as stored;
//! - a type the schema does not know: typeMeta, the metadata (every Kubernetes object's field 1 is
//!   ObjectMeta) and the size of the undecoded remainder, with a warning. Never an error.
//!
//! `metadata.resourceVersion` is not stored: kube-apiserver sets it from the record's
//! mod_revision when it reads (apiserver/pkg/storage/etcd3/store.go, `decode` →
//! `versioner.UpdateObject`), so we do too.
//!
//! Secrets' values and the values of anything that was stored encrypted are redacted by
//! [`redact`] unless the caller reveals them.

pub mod b64;
pub mod compact;
pub mod labels;
pub mod node;
pub mod protobuf;
pub mod redact;
pub mod schema;
pub mod time;
pub mod yaml;

pub use node::Node;

use super::envelope::Envelope;
use super::unknown::Unknown;

/// A decoded object.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The object as kubectl prints it (or as much of it as could be read).
    pub object: Node,
    /// What could not be decoded, by field path. Never a value.
    pub warnings: Vec<String>,
    /// How it was stored.
    pub encoding: Encoding,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Protobuf decoded with the schema.
    Protobuf,
    /// Protobuf of a type the schema does not have: metadata only.
    ProtobufUnknownType,
    Json,
    /// Neither: the value is not a Kubernetes object.
    Undecodable,
}

/// Decodes a plaintext value (stored as is, or decrypted). `mod_revision` becomes
/// `metadata.resourceVersion`.
pub fn decode(plaintext: &[u8], mod_revision: i64) -> Decoded {
    let mut warnings = Vec::new();
    let (mut object, encoding) = decode_inner(plaintext, 0, &mut warnings);
    if let Some(meta) = object.get_mut("metadata") {
        set_resource_version(meta, mod_revision);
    }
    Decoded {
        object,
        warnings,
        encoding,
    }
}

/// Decodes an embedded object (a RawExtension holding `k8s\x00…`).
pub(crate) fn decode_plaintext_at(raw: &[u8], depth: usize, warnings: &mut Vec<String>) -> Node {
    if depth > 8 {
        warnings.push("embedded objects nested too deep; left undecoded".into());
        return Node::Null;
    }
    decode_inner(raw, depth, warnings).0
}

fn decode_inner(plaintext: &[u8], depth: usize, warnings: &mut Vec<String>) -> (Node, Encoding) {
    match Envelope::classify(plaintext) {
        Envelope::Protobuf(body) => protobuf_object(body, depth, warnings),
        Envelope::Json(doc) => match serde_json::from_slice::<Node>(doc) {
            Ok(n) => (n, Encoding::Json),
            Err(e) => {
                // serde_json's message names line and column, never the content.
                warnings.push(format!("JSON value does not parse: {e}"));
                (undecoded(plaintext.len()), Encoding::Undecodable)
            }
        },
        _ => {
            warnings.push("value is neither protobuf nor JSON".into());
            (undecoded(plaintext.len()), Encoding::Undecodable)
        }
    }
}

fn protobuf_object(body: &[u8], depth: usize, warnings: &mut Vec<String>) -> (Node, Encoding) {
    let u = match Unknown::decode(body) {
        Ok(u) => u,
        Err(e) => {
            warnings.push(format!("runtime.Unknown damaged: {e}"));
            return (undecoded(body.len()), Encoding::Undecodable);
        }
    };
    let api_version = String::from_utf8_lossy(u.api_version).into_owned();
    let kind = String::from_utf8_lossy(u.kind).into_owned();
    let mut fields = vec![
        ("apiVersion".to_string(), Node::Str(api_version.clone())),
        ("kind".to_string(), Node::Str(kind.clone())),
    ];
    if !u.content_type.is_empty() && u.content_type != b"application/vnd.kubernetes.protobuf" {
        // An Unknown may carry JSON (contentType application/json).
        let (n, enc) = decode_inner(u.raw, depth + 1, warnings);
        return (n, enc);
    }
    let s = schema::get();
    let (decoded, enc) = match s.message_for(&api_version, &kind) {
        Some(desc) => (
            protobuf::message(&desc, u.raw, warnings),
            Encoding::Protobuf,
        ),
        None => {
            warnings.push(format!(
                "no schema for {api_version} {kind}: metadata only, {} bytes left undecoded",
                u.raw.len()
            ));
            let meta = s.object_meta();
            let mut out = Vec::new();
            for f in crate::proto::Fields::new(u.raw).map_while(Result::ok) {
                if let (1, Some(b), Some(meta)) = (f.0, f.1.as_bytes(), &meta) {
                    out.push(("metadata".to_string(), protobuf::message(meta, b, warnings)));
                }
            }
            out.push(("undecoded".to_string(), undecoded_info(u.raw.len())));
            (Node::Object(out), Encoding::ProtobufUnknownType)
        }
    };
    if let Node::Object(m) = decoded {
        // TypeMeta inside raw is empty (the serializer moves it to the Unknown); keep ours.
        fields.extend(
            m.into_iter()
                .filter(|(k, _)| k != "apiVersion" && k != "kind" && k != "typeMeta"),
        );
    }
    (Node::Object(fields), enc)
}

fn undecoded_info(len: usize) -> Node {
    Node::Object(vec![(
        "bytes".to_string(),
        Node::Int(i64::try_from(len).unwrap_or(i64::MAX)),
    )])
}

fn undecoded(len: usize) -> Node {
    Node::Object(vec![("undecoded".to_string(), undecoded_info(len))])
}

/// Puts `resourceVersion` where ObjectMeta has it (field 6, after uid), replacing a stored one.
fn set_resource_version(meta: &mut Node, rev: i64) {
    let Node::Object(m) = meta else { return };
    let v = Node::Str(rev.to_string());
    if let Some((_, old)) = m.iter_mut().find(|(k, _)| k == "resourceVersion") {
        *old = v;
        return;
    }
    const BEFORE: [&str; 5] = ["name", "generateName", "namespace", "selfLink", "uid"];
    let at = m
        .iter()
        .rposition(|(k, _)| BEFORE.contains(&k.as_str()))
        .map_or(0, |i| i + 1);
    m.insert(at, ("resourceVersion".to_string(), v));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_never_fail() {
        let d = decode(b"\x00\x01garbage", 5);
        assert_eq!(d.encoding, Encoding::Undecodable);
        assert!(!d.warnings.is_empty());
        let d = decode(b"{\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"}}", 7);
        assert_eq!(
            serde_json::to_string(&d.object).unwrap(),
            r#"{"kind":"Widget","metadata":{"name":"w","resourceVersion":"7"}}"#
        );
    }

    #[test]
    fn unknown_protobuf_type_keeps_metadata() {
        // Unknown{typeMeta{apiVersion "x.io/v9", kind "Thing"}, raw{1: ObjectMeta{1 "n"}, 2: "zz"}}
        let raw = b"\x0a\x03\x0a\x01n\x12\x02zz";
        let mut body = b"\x0a\x10\x0a\x07x.io/v9\x12\x05Thing\x12".to_vec();
        body.push(raw.len() as u8);
        body.extend_from_slice(raw);
        let mut v = b"k8s\x00".to_vec();
        v.extend_from_slice(&body);
        let d = decode(&v, 3);
        assert_eq!(d.encoding, Encoding::ProtobufUnknownType);
        assert_eq!(
            serde_json::to_string(&d.object).unwrap(),
            r#"{"apiVersion":"x.io/v9","kind":"Thing","metadata":{"name":"n","resourceVersion":"3"},"undecoded":{"bytes":9}}"#
        );
    }
}
