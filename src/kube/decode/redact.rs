//! Hiding values: a Secret's data, and the data of anything that was stored encrypted, become
//! `<redacted len:N sha256:XXXXXXXXXXXXXXXX>` (length of the value and the first 16 hex digits of
//! its SHA-256, enough to tell two values apart or match a known one, not to read them).
//!
//! What is redacted: of a Secret, the `data`, `stringData` and `binaryData` values; of an object
//! that was stored encrypted, every value outside `apiVersion`, `kind` and `metadata` (the
//! structure and the field and map key names stay, as `get` has always shown data key names);
//! of both, the `kubectl.kubernetes.io/last-applied-configuration` annotation (kubectl copies the
//! whole object, data included, into it).

use super::node::Node;
use base64::Engine as _;
use sha2::{Digest, Sha256};

pub(super) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Whether `object` holds values to hide: a Secret always, any object that was stored encrypted.
pub fn needs_redaction(object: &Node, was_encrypted: bool) -> bool {
    was_encrypted || object.get("kind").and_then(Node::as_str) == Some("Secret")
}

/// Replaces every value outside typeMeta and metadata (an object that was stored encrypted);
/// returns how many were hidden.
pub fn redact_decrypted(object: &mut Node) -> usize {
    let mut n = redact(object);
    if let Node::Object(m) = object {
        for (k, v) in m.iter_mut() {
            if k != "apiVersion" && k != "kind" && k != "metadata" {
                n += redact_all(v);
            }
        }
    }
    n
}

pub(super) fn redact_all(v: &mut Node) -> usize {
    match v {
        Node::Object(m) => m.iter_mut().map(|(_, x)| redact_all(x)).sum(),
        Node::Array(a) => a.iter_mut().map(redact_all).sum(),
        Node::Null => 0,
        Node::Str(s) if s.starts_with("<redacted len:") => 0,
        Node::Str(s) => {
            *v = Node::Str(marker(s, false));
            1
        }
        other => {
            let text = serde_json::to_string(&*other).unwrap_or_default();
            *other = Node::Str(marker(&text, false));
            1
        }
    }
}

/// Replaces a Secret's values in place; returns how many were hidden.
pub fn redact(object: &mut Node) -> usize {
    let mut n = 0;
    for (field, base64) in [("data", true), ("binaryData", true), ("stringData", false)] {
        // A ConfigMap's `data` is plain text; a Secret's is base64 of the value.
        let is_b64 = base64
            && (field == "binaryData"
                || object.get("kind").and_then(Node::as_str) == Some("Secret"));
        if let Some(Node::Object(m)) = object.get_mut(field) {
            for (_, v) in m.iter_mut() {
                if let Node::Str(s) = v {
                    *v = Node::Str(marker(s, is_b64));
                    n += 1;
                }
            }
        }
    }
    if let Some(Node::Object(a)) = object
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    {
        for (k, v) in a.iter_mut() {
            if k == LAST_APPLIED {
                if let Node::Str(s) = v {
                    *v = Node::Str(marker(s, false));
                    n += 1;
                }
            }
        }
    }
    n
}

/// The marker for one value (`s` as printed; base64-decoded first when `is_b64`).
pub fn marker(s: &str, is_b64: bool) -> String {
    let decoded;
    let bytes: &[u8] = if is_b64 {
        match base64::engine::general_purpose::STANDARD.decode(s) {
            Ok(b) => {
                decoded = b;
                &decoded
            }
            Err(_) => s.as_bytes(),
        }
    } else {
        s.as_bytes()
    };
    let mut out = Vec::with_capacity(48);
    write_marker(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the marker for the value `bytes` to `out` (no quotes): what [`marker`] returns,
/// without allocating, for the streaming writer.
pub fn write_marker(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let h = Sha256::digest(bytes);
    out.extend_from_slice(b"<redacted len:");
    super::compact::write_u64(bytes.len() as u64, out);
    out.extend_from_slice(b" sha256:");
    for b in &h[..8] {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
    out.push(b'>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_become_markers() {
        let mut o: Node = serde_json::from_str(
            r#"{"kind":"Secret","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"a\":\"aGk=\"}}","x":"y"}},"data":{"a":"aGk="},"stringData":{"b":"hi"}}"#,
        )
        .unwrap();
        assert!(needs_redaction(&o, false));
        assert_eq!(redact(&mut o), 3);
        let s = serde_json::to_string(&o).unwrap();
        assert!(!s.contains("aGk="), "{s}");
        // sha256("hi") = 8f434346648f6b96…
        assert_eq!(
            o.at(&["data", "a"]).and_then(Node::as_str),
            Some("<redacted len:2 sha256:8f434346648f6b96>")
        );
        assert_eq!(o.at(&["stringData", "b"]), o.at(&["data", "a"]));
        assert_eq!(
            o.at(&["metadata", "annotations", "x"])
                .and_then(Node::as_str),
            Some("y")
        );
    }

    #[test]
    fn decrypted_objects_keep_only_their_metadata() {
        let mut o: Node = serde_json::from_str(
            r#"{"apiVersion":"example.com/v1","kind":"W","metadata":{"name":"w"},"spec":{"note":"s3cret","n":[1,true]}}"#,
        )
        .unwrap();
        assert_eq!(redact_decrypted(&mut o), 3);
        let s = serde_json::to_string(&o).unwrap();
        assert!(!s.contains("s3cret") && s.contains(r#""name":"w""#), "{s}");
    }
}
