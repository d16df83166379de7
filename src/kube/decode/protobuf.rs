//! Protobuf message bytes → [`Node`], driven by the published schema and Kubernetes' JSON rules.
//!
//! The schema is the `generated.proto` files of k8s.io/api, k8s.io/apimachinery,
//! apiextensions-apiserver and openshift/api (see `schema.rs`). Messages are walked on the wire
//! with the crate's own bounds-checked reader ([`crate::proto::Fields`]): nothing is copied until a
//! string is emitted, and a damaged or newer-than-schema message degrades to warnings, never to a
//! failure.
//!
//! The types whose JSON form is not their protobuf shape (apimachinery's custom marshallers):
//! - `meta.v1.Time` {1 seconds, 2 nanos} → RFC 3339 in seconds, `null` when zero
//!   (apimachinery/pkg/apis/meta/v1/time.go, time_proto.go: a zero Time marshals as an empty message);
//! - `meta.v1.MicroTime` → RFC 3339 with 6 fractional digits (micro_time.go);
//! - `meta.v1.Duration` {1 duration ns} → Go's `time.Duration.String()` (duration.go);
//! - `api.resource.Quantity` {1 string} → the string (quantity_proto.go);
//! - `util.intstr.IntOrString` {1 type, 2 intVal, 3 strVal} → a number or a string (intstr.go);
//! - `runtime.RawExtension` {1 raw}, `meta.v1.FieldsV1` {1 Raw}, apiextensions `JSON` {1 raw} → the
//!   embedded JSON document (runtime/types.go, meta/v1/types.go);
//! - apiextensions `JSONSchemaPropsOr{Bool,Array,StringArray}` → the schema, or the bool/array
//!   (apiextensions/v1/marshal.go);
//! - `bytes` → base64 (Go's `[]byte` JSON), maps → objects with sorted keys (Go sorts map keys).
//!
//! Which fields JSON leaves out or inlines is not in the .proto: Go's generated marshallers write
//! every non-pointer field, and the JSON encoder then follows the struct tags. `gofields.txt`
//! (read from the same releases' types.go) gives each field's `inline` / `omitempty` / pointer;
//! for a message without tags, empty strings and lists are left out and numbers kept.

use super::node::Node;
use crate::proto::{Fields, Value};
use base64::Engine as _;
use prost_reflect::{Kind, MessageDescriptor};

/// How deep messages may nest before the rest is left undecoded (hostile input).
pub(super) const MAX_DEPTH: usize = 96;

const META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.";
const APIEXT_V1: &str = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.";
const APIEXT_V1BETA1: &str = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.";

/// Decodes `buf` as message `desc`. Problems go to `warnings` (field paths, never values).
pub fn message(desc: &MessageDescriptor, buf: &[u8], warnings: &mut Vec<String>) -> Node {
    let mut d = Decoder {
        warnings,
        path: Vec::new(),
    };
    d.message(desc, buf, 0)
}

/// The JSON of `buf` as `desc` when `desc` is one of the types with their own JSON marshaller
/// (the module comment lists them); None for every other message. For [`super::compact`],
/// which streams the plain messages itself and takes these few from here.
pub(super) fn special(
    desc: &MessageDescriptor,
    buf: &[u8],
    depth: usize,
    warnings: &mut Vec<String>,
) -> Option<Node> {
    let mut d = Decoder {
        warnings,
        path: Vec::new(),
    };
    d.special(desc, buf, depth)
}

struct Decoder<'w> {
    warnings: &'w mut Vec<String>,
    /// Field path of the value being decoded (message, field number), named only when a warning
    /// is written: building names for every field would cost an allocation each.
    path: Vec<(MessageDescriptor, u32)>,
}

impl Decoder<'_> {
    fn warn(&mut self, what: String) {
        // Bounded: a hostile message could otherwise produce one warning per byte.
        if self.warnings.len() < 32 {
            let at = if self.path.is_empty() {
                ".".to_string()
            } else {
                let names: Vec<String> = self
                    .path
                    .iter()
                    .map(|(m, n)| {
                        m.get_field(*n)
                            .map_or_else(|| n.to_string(), |f| f.name().to_string())
                    })
                    .collect();
                names.join(".")
            };
            self.warnings.push(format!("{at}: {what}"));
        }
    }

    fn message(&mut self, desc: &MessageDescriptor, buf: &[u8], depth: usize) -> Node {
        if depth > MAX_DEPTH {
            self.warn(format!(
                "nested deeper than {MAX_DEPTH} messages; left undecoded"
            ));
            return Node::Null;
        }
        if let Some(n) = self.special(desc, buf, depth) {
            return n;
        }
        // (field number, json name, value); repeated fields gather into one array.
        let mut out: Vec<(u32, String, Node)> = Vec::new();
        let mut maps: Vec<(u32, Vec<(String, Node)>)> = Vec::new();
        // Fields holding a (non-map, non-list) message: Go's omitempty never drops a struct.
        let mut structs: Vec<u32> = Vec::new();
        for f in Fields::new(buf) {
            let (num, v) = match f {
                Ok(x) => x,
                Err(e) => {
                    self.warn(format!("{} damaged: {e}", desc.name()));
                    break;
                }
            };
            let Some(field) = desc.get_field(num) else {
                self.warn(format!(
                    "field {num} of {} is not in the schema; left undecoded",
                    desc.name()
                ));
                continue;
            };
            let name = field.name().to_string();
            if !field.is_map() && !field.is_list() && matches!(field.kind(), Kind::Message(_)) {
                structs.push(num);
            }
            self.path.push((desc.clone(), num));
            if field.is_map() {
                if let (Kind::Message(entry), Some(b)) = (field.kind(), v.as_bytes()) {
                    let (k, val) = self.map_entry(&entry, b, depth);
                    match maps.iter_mut().find(|(n, _)| *n == num) {
                        Some((_, m)) => m.push((k, val)),
                        None => maps.push((num, vec![(k, val)])),
                    }
                    if !out.iter().any(|(n, _, _)| *n == num) {
                        out.push((num, name, Node::Null));
                    }
                } else {
                    self.warn("map entry with the wrong wire type".into());
                }
                self.path.pop();
                continue;
            }
            let mut values = Vec::new();
            match (&v, field.is_list(), is_scalar_numeric(&field.kind())) {
                // Packed repeated numbers: one length-delimited run of values.
                (Value::Bytes(b), true, true) => self.packed(&field.kind(), b, &mut values),
                _ => {
                    if let Some(n) = self.value(&field.kind(), v, depth) {
                        values.push(n);
                    }
                }
            }
            self.path.pop();
            if field.is_list() {
                match out.iter_mut().find(|(n, _, _)| *n == num) {
                    Some((_, _, Node::Array(a))) => a.extend(values),
                    _ => out.push((num, name, Node::Array(values))),
                }
            } else if let Some(n) = values.pop() {
                // A repeated non-repeated field: the last one wins (protobuf merge rule, simplified).
                match out.iter_mut().find(|(x, _, _)| *x == num) {
                    Some((_, _, old)) => *old = n,
                    None => out.push((num, name, n)),
                }
            }
        }
        for (num, mut m) in maps {
            m.sort_by(|a, b| a.0.cmp(&b.0));
            m.dedup_by(|later, earlier| later.0 == earlier.0);
            if let Some((_, _, slot)) = out.iter_mut().find(|(n, _, _)| *n == num) {
                *slot = Node::Object(m);
            }
        }
        out.sort_by_key(|(n, _, _)| *n);
        let go = super::schema::get().go_fields(desc.full_name());
        let mut members = Vec::with_capacity(out.len());
        for (num, k, v) in out {
            let Some(go) = go else {
                // No Go tags known: Go writes every non-pointer field, so "" means unset.
                if !omitted(&v) {
                    members.push((k, v));
                }
                continue;
            };
            let rule = go
                .iter()
                .find(|(n, _)| *n == num)
                .map(|(_, f)| *f)
                .unwrap_or_default();
            let is_struct = structs.contains(&num);
            if rule.inline {
                if let Node::Object(m) = v {
                    members.extend(m);
                }
                continue;
            }
            // Go's omitempty never leaves out a struct, only zero scalars and empty strings,
            // lists and maps; a pointer is written whenever it is set.
            if rule.omitempty && !rule.pointer && !is_struct && is_zero(&v) {
                continue;
            }
            members.push((k, v));
        }
        Node::Object(members)
    }

    fn map_entry(&mut self, entry: &MessageDescriptor, buf: &[u8], depth: usize) -> (String, Node) {
        let (mut key, mut val) = (String::new(), Node::Null);
        let (kf, vf) = (entry.map_entry_key_field(), entry.map_entry_value_field());
        for f in Fields::new(buf) {
            match f {
                Ok((1, v)) => {
                    key = match self.value(&kf.kind(), v, depth) {
                        Some(Node::Str(s)) => s,
                        Some(Node::Int(i)) => i.to_string(),
                        Some(Node::UInt(i)) => i.to_string(),
                        Some(Node::Bool(b)) => b.to_string(),
                        _ => String::new(),
                    }
                }
                Ok((2, v)) => {
                    val = self.value(&vf.kind(), v, depth).unwrap_or(Node::Null);
                }
                Ok(_) => {}
                Err(e) => {
                    self.warn(format!("map entry damaged: {e}"));
                    break;
                }
            }
        }
        // A map value that is absent is the type's zero value, as Go decodes it.
        if val == Node::Null {
            val = match vf.kind() {
                Kind::String | Kind::Bytes => Node::Str(String::new()),
                Kind::Message(_) => Node::Object(Vec::new()),
                Kind::Bool => Node::Bool(false),
                _ => Node::Int(0),
            };
        }
        (key, val)
    }

    fn packed(&mut self, kind: &Kind, b: &[u8], out: &mut Vec<Node>) {
        let mut r = PackedReader { buf: b, pos: 0 };
        while r.pos < b.len() {
            let v = match kind {
                Kind::Fixed32 | Kind::Sfixed32 | Kind::Float => {
                    r.fixed(4).map(|x| Value::Fixed32(x as u32))
                }
                Kind::Fixed64 | Kind::Sfixed64 | Kind::Double => r.fixed(8).map(Value::Fixed64),
                _ => r.varint().map(Value::Varint),
            };
            match v.and_then(|v| self.value(kind, v, 0)) {
                Some(n) => out.push(n),
                None => {
                    self.warn("packed repeated field damaged".into());
                    return;
                }
            }
        }
    }

    /// One field value. None when the wire type does not fit the schema (warned).
    fn value(&mut self, kind: &Kind, v: Value<'_>, depth: usize) -> Option<Node> {
        let n = match (kind, v) {
            (Kind::String, Value::Bytes(b)) => Node::Str(String::from_utf8_lossy(b).into_owned()),
            (Kind::Bytes, Value::Bytes(b)) => {
                Node::Str(base64::engine::general_purpose::STANDARD.encode(b))
            }
            (Kind::Message(m), Value::Bytes(b)) => self.message(m, b, depth + 1),
            (Kind::Bool, Value::Varint(x)) => Node::Bool(x != 0),
            (Kind::Int32 | Kind::Enum(_), Value::Varint(x)) => Node::Int(i64::from(x as i32)),
            (Kind::Int64, Value::Varint(x)) => Node::Int(x as i64),
            (Kind::Uint32, Value::Varint(x)) => Node::Int(i64::from(x as u32)),
            (Kind::Uint64, Value::Varint(x)) => Node::UInt(x),
            (Kind::Sint32, Value::Varint(x)) => Node::Int(i64::from(zigzag(x) as i32)),
            (Kind::Sint64, Value::Varint(x)) => Node::Int(zigzag(x)),
            (Kind::Fixed32, Value::Fixed32(x)) => Node::Int(i64::from(x)),
            (Kind::Sfixed32, Value::Fixed32(x)) => Node::Int(i64::from(x as i32)),
            (Kind::Float, Value::Fixed32(x)) => Node::Float(f64::from(f32::from_bits(x))),
            (Kind::Fixed64, Value::Fixed64(x)) => Node::UInt(x),
            (Kind::Sfixed64, Value::Fixed64(x)) => Node::Int(x as i64),
            (Kind::Double, Value::Fixed64(x)) => Node::Float(f64::from_bits(x)),
            _ => {
                self.warn("wire type does not match the schema; left undecoded".into());
                return None;
            }
        };
        Some(n)
    }

    /// The apimachinery types with their own JSON marshallers.
    fn special(&mut self, desc: &MessageDescriptor, buf: &[u8], depth: usize) -> Option<Node> {
        let full = desc.full_name();
        let local = full
            .strip_prefix(META)
            .or_else(|| full.strip_prefix(APIEXT_V1))
            .or_else(|| full.strip_prefix(APIEXT_V1BETA1));
        let n = match (full, local) {
            (_, Some("Time")) if full.starts_with(META) => {
                let (s, ns) = (varint_field(buf, 1), varint_field(buf, 2));
                match (s, ns) {
                    (0, 0) => Node::Null,
                    (s, _) => super::time::rfc3339(s as i64, None).map_or(Node::Null, Node::Str),
                }
            }
            (_, Some("MicroTime")) if full.starts_with(META) => {
                let (s, ns) = (varint_field(buf, 1), varint_field(buf, 2));
                match (s, ns) {
                    (0, 0) => Node::Null,
                    (s, ns) => {
                        super::time::rfc3339(s as i64, Some((ns as i32).max(0) as u32 / 1000))
                            .map_or(Node::Null, Node::Str)
                    }
                }
            }
            (_, Some("Duration")) if full.starts_with(META) => {
                Node::Str(super::time::go_duration(varint_field(buf, 1) as i64))
            }
            ("k8s.io.apimachinery.pkg.api.resource.Quantity", _) => Node::Str(
                String::from_utf8_lossy(bytes_field(buf, 1).unwrap_or_default()).into_owned(),
            ),
            ("k8s.io.apimachinery.pkg.util.intstr.IntOrString", _) => {
                if varint_field(buf, 1) == 1 {
                    Node::Str(
                        String::from_utf8_lossy(bytes_field(buf, 3).unwrap_or_default())
                            .into_owned(),
                    )
                } else {
                    Node::Int(i64::from(varint_field(buf, 2) as i32))
                }
            }
            ("k8s.io.apimachinery.pkg.runtime.RawExtension", _)
            | (_, Some("FieldsV1" | "JSON")) => {
                let raw = bytes_field(buf, 1).unwrap_or_default();
                self.embedded(raw, depth)
            }
            (_, Some("JSONSchemaPropsOrBool")) => match bytes_field(buf, 2) {
                Some(s) => self.message(
                    &desc.get_field(2)?.kind().as_message()?.clone(),
                    s,
                    depth + 1,
                ),
                None => Node::Bool(varint_field(buf, 1) != 0),
            },
            (_, Some("JSONSchemaPropsOrArray" | "JSONSchemaPropsOrStringArray")) => {
                let schema = desc.get_field(1)?.kind().as_message()?.clone();
                match bytes_field(buf, 1) {
                    Some(s) => self.message(&schema, s, depth + 1),
                    None => {
                        let items = desc.get_field(2)?;
                        let mut a = Vec::new();
                        for (n, v) in Fields::new(buf).flatten() {
                            if n == 2 {
                                a.extend(self.value(&items.kind(), v, depth + 1));
                            }
                        }
                        Node::Array(a)
                    }
                }
            }
            _ => return None,
        };
        Some(n)
    }

    /// An embedded document (RawExtension, FieldsV1): JSON as is, a nested `k8s\0` object
    /// decoded, anything else base64.
    fn embedded(&mut self, raw: &[u8], depth: usize) -> Node {
        if raw.is_empty() {
            return Node::Null;
        }
        if raw.starts_with(crate::kube::envelope::PROTOBUF_MAGIC) {
            let mut w = Vec::new();
            let d = super::decode_plaintext_at(raw, depth + 1, &mut w);
            for x in w {
                self.warn(x);
            }
            return d;
        }
        match serde_json::from_slice::<Node>(raw) {
            Ok(n) => n,
            Err(_) => {
                self.warn("embedded object is neither JSON nor protobuf; shown as base64".into());
                Node::Str(base64::engine::general_purpose::STANDARD.encode(raw))
            }
        }
    }
}

/// Empty values Go's `omitempty` leaves out (see the module comment).
pub(super) fn omitted(v: &Node) -> bool {
    match v {
        Node::Str(s) => s.is_empty(),
        Node::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn is_zero(v: &Node) -> bool {
    match v {
        Node::Null => true,
        Node::Bool(b) => !b,
        Node::Int(i) => *i == 0,
        Node::UInt(u) => *u == 0,
        Node::Float(f) => *f == 0.0,
        Node::Str(s) => s.is_empty(),
        Node::Array(a) => a.is_empty(),
        Node::Object(m) => m.is_empty(),
    }
}

pub(super) fn is_scalar_numeric(k: &Kind) -> bool {
    !matches!(k, Kind::String | Kind::Bytes | Kind::Message(_))
}

pub(super) fn zigzag(x: u64) -> i64 {
    ((x >> 1) as i64) ^ -((x & 1) as i64)
}

/// The last varint field `n` of a message (0 when absent or damaged).
fn varint_field(buf: &[u8], n: u32) -> u64 {
    Fields::new(buf)
        .map_while(Result::ok)
        .filter(|(k, _)| *k == n)
        .filter_map(|(_, v)| match v {
            Value::Varint(x) => Some(x),
            _ => None,
        })
        .last()
        .unwrap_or(0)
}

/// The last length-delimited field `n` of a message.
fn bytes_field(buf: &[u8], n: u32) -> Option<&[u8]> {
    Fields::new(buf)
        .map_while(Result::ok)
        .filter(|(k, _)| *k == n)
        .filter_map(|(_, v)| v.as_bytes())
        .last()
}

struct PackedReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl PackedReader<'_> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = *self.buf.get(self.pos)?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    fn fixed(&mut self, n: usize) -> Option<u64> {
        let end = self.pos.checked_add(n)?;
        let b = self.buf.get(self.pos..end)?;
        self.pos = end;
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(b);
        Some(u64::from_le_bytes(a))
    }
}
