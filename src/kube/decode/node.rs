//! An ordered JSON tree: what a decoded object is before it is printed as JSON or YAML.
//!
//! `serde_json::Value` sorts object keys (we do not enable `preserve_order`, which would change
//! every other command's output); kubectl prints built-in objects in Go struct order (apiVersion,
//! kind, metadata, spec, status) and maps with sorted keys. `Node` keeps the order it is built in,
//! so the decoder decides: field-number order for protobuf messages, sorted keys for maps, and the
//! stored order for JSON documents.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::fmt;

/// One JSON value with object keys in insertion order.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The member `key` of an object, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Object(m) => m.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a path of object keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Removes the member `key` of an object, returning it.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        match self {
            Node::Object(m) => {
                let i = m.iter().position(|(k, _)| k == key)?;
                Some(m.remove(i).1)
            }
            _ => None,
        }
    }

    /// Sets `key` (replacing it in place, or appending it).
    pub fn set(&mut self, key: &str, value: Node) {
        if let Node::Object(m) = self {
            match m.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => m.push((key.to_string(), value)),
            }
        }
    }

    /// Inserts `key` at position `at` (or replaces it where it is).
    pub fn insert_at(&mut self, at: usize, key: &str, value: Node) {
        if let Node::Object(m) = self {
            if let Some((_, v)) = m.iter_mut().find(|(k, _)| k == key) {
                *v = value;
            } else {
                m.insert(at.min(m.len()), (key.to_string(), value));
            }
        }
    }

    /// Empty object, array or string, or null: what Go's `omitempty` leaves out.
    pub fn is_empty(&self) -> bool {
        match self {
            Node::Null => true,
            Node::Str(s) => s.is_empty(),
            Node::Array(a) => a.is_empty(),
            Node::Object(m) => m.is_empty(),
            _ => false,
        }
    }
}

impl Node {
    /// Compact JSON, as `serde_json::to_vec` writes it, without going through serde: strings
    /// without a character to escape (base64 data, names) are copied in one piece.
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        match self {
            Node::Null => out.extend_from_slice(b"null"),
            Node::Bool(true) => out.extend_from_slice(b"true"),
            Node::Bool(false) => out.extend_from_slice(b"false"),
            Node::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Node::UInt(u) => out.extend_from_slice(u.to_string().as_bytes()),
            Node::Float(_) => {
                out.extend_from_slice(serde_json::to_string(self).unwrap_or_default().as_bytes())
            }
            Node::Str(s) => write_str(s, out),
            Node::Array(a) => {
                out.push(b'[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    v.write_compact(out);
                }
                out.push(b']');
            }
            Node::Object(m) => {
                out.push(b'{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(k, out);
                    out.push(b':');
                    v.write_compact(out);
                }
                out.push(b'}');
            }
        }
    }
}

/// True when no byte of `s` needs a JSON escape (`"`, `\\`, control characters): eight bytes
/// at a time (the classic "has a zero byte" bit trick), since this runs over every base64 value.
fn plain(s: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |w: u64| w.wrapping_sub(LO) & !w & HI != 0;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        let w = u64::from_le_bytes(a);
        // A byte < 0x20 has w - 0x20 borrow into its high bit (bytes >= 0x80 are UTF-8, fine,
        // and excluded by `& !w`).
        let below_space = w.wrapping_sub(LO * 0x20) & !w & HI != 0;
        if below_space
            || has_zero(w ^ (LO * u64::from(b'"')))
            || has_zero(w ^ (LO * u64::from(b'\\')))
        {
            return false;
        }
    }
    chunks
        .remainder()
        .iter()
        .all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

pub(crate) fn write_str(s: &str, out: &mut Vec<u8>) {
    if plain(s.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // serde_json's escaping for the rest (control characters, quotes, backslashes).
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Int(i) => s.serialize_i64(*i),
            Node::UInt(u) => s.serialize_u64(*u),
            // JSON has no NaN/Infinity; Go's encoder refuses them, we print null.
            Node::Float(f) if !f.is_finite() => s.serialize_unit(),
            Node::Float(f) => s.serialize_f64(*f),
            Node::Str(v) => s.serialize_str(v),
            Node::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Node::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Reads any self-describing document (JSON, YAML) keeping object key order.
impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::UInt(v), Node::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
        let mut v = Vec::new();
        while let Some(e) = a.next_element()? {
            v.push(e);
        }
        Ok(Node::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
        let mut m: Vec<(String, Node)> = Vec::new();
        while let Some((k, v)) = a.next_entry::<String, Node>()? {
            // A repeated key keeps the last value, as Go's decoder does.
            match m.iter_mut().find(|(x, _)| *x == k) {
                Some((_, old)) => *old = v,
                None => m.push((k, v)),
            }
        }
        Ok(Node::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_through_json() {
        let n: Node =
            serde_json::from_str(r#"{"z":1,"a":[true,null,"s"],"m":{"y":2.5,"b":-1}}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"z":1,"a":[true,null,"s"],"m":{"y":2.5,"b":-1}}"#
        );
        assert_eq!(n.at(&["m", "b"]), Some(&Node::Int(-1)));
        let mut v = Vec::new();
        let n: Node = serde_json::from_str(r#"{"a":"x\"y\n","b":[1.5,null,false,"é"]}"#).unwrap();
        n.write_compact(&mut v);
        assert_eq!(v, serde_json::to_vec(&n).unwrap());
        for t in [
            "abcdefgh",
            "abcdefg\"",
            "abcdefgh\\ijk",
            "abcdefg\u{1f}",
            "é€漢字abcdefgh",
            "\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}",
        ] {
            let mut v = Vec::new();
            write_str(t, &mut v);
            assert_eq!(v, serde_json::to_vec(t).unwrap(), "{t:?}");
        }
    }
}
