//! A protobuf object → its compact JSON, written straight into an output buffer: the bytes
//! `decode(…).object.write_compact(…)` produces, after the same redaction, without building a
//! [`Node`] tree, its Strings or a base64 String per value (`get -o jsonl` on 300k Secrets).
//!
//! It streams what the tree decoder ([`super::protobuf`]) would build in the common case, and
//! gives up (returns false, leaving `out` as it was) whenever the tree decoder would have to
//! reorder, merge or warn, so the caller decodes that object the tree way and nothing differs:
//! - fields must come in increasing field-number order, repeated fields contiguous, a field
//!   that is not repeated only once (Go's generated marshallers write them so; the tree decoder
//!   sorts and lets the last value win);
//! - map keys must be strings in strictly increasing byte order (gogo-protobuf marshals maps
//!   with sorted keys; the tree decoder sorts them and keeps the first of equal keys);
//! - anything that warns (a damaged message, a field the schema does not know, a wrong wire
//!   type, invalid UTF-8, packed repeated numbers, a type without schema, JSON) is left to it;
//! - the apimachinery types with their own JSON form (Time, Quantity, RawExtension, …) are small:
//!   the tree decoder's own code decodes each of them ([`super::protobuf::special`]) and the
//!   node is written, so their rules live in one place.
//!
//! Redaction follows [`super::redact`]: a Secret's `data`/`stringData`/`binaryData` values and
//! the last-applied annotation become markers; of an object that was stored encrypted, every
//! value outside typeMeta and metadata. The unit tests compare both paths on every object of
//! the committed snapshots, in each redaction mode.

use super::node::{write_str, Node};
use super::protobuf::{is_scalar_numeric, omitted, special, zigzag, MAX_DEPTH};
use super::redact::{redact_all, write_marker, LAST_APPLIED};
use super::schema;
use crate::kube::envelope::Envelope;
use crate::kube::unknown::Unknown;
use crate::proto::{Fields, Value};
use prost_reflect::{Kind, MessageDescriptor};

/// What to hide, as `get` decides it per record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hide {
    /// `--reveal`: nothing.
    Nothing,
    /// A plaintext record: a Secret's values ([`super::redact::redact`]); other kinds as they are.
    SecretValues,
    /// A record that was stored encrypted: [`super::redact::redact_decrypted`].
    AllButMetadata,
}

const OBJECT_META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const PROTOBUF_CONTENT_TYPE: &[u8] = b"application/vnd.kubernetes.protobuf";
/// ObjectMeta's resourceVersion (apimachinery meta/v1 generated.proto).
const RESOURCE_VERSION: u32 = 6;

/// The tree decoder must take this object (see the module comment).
struct Bail;

type R = Result<(), Bail>;

/// Appends the compact JSON of a plaintext value (one stored object, without a newline) to
/// `out`, redacted as `hide` says, with `metadata.resourceVersion` = `mod_revision`. False when
/// the object needs the tree decoder; `out` is then as it was.
pub fn write_object(plaintext: &[u8], mod_revision: i64, hide: Hide, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let ok = object(plaintext, mod_revision, hide, out).is_ok();
    if !ok {
        out.truncate(start);
    }
    ok
}

fn object(plaintext: &[u8], mod_revision: i64, hide: Hide, out: &mut Vec<u8>) -> R {
    let Envelope::Protobuf(body) = Envelope::classify(plaintext) else {
        return Err(Bail);
    };
    let u = Unknown::decode(body).map_err(|_| Bail)?;
    if !u.content_type.is_empty() && u.content_type != PROTOBUF_CONTENT_TYPE {
        return Err(Bail);
    }
    let api_version = std::str::from_utf8(u.api_version).map_err(|_| Bail)?;
    let kind = std::str::from_utf8(u.kind).map_err(|_| Bail)?;
    let desc = schema::get().message_for(api_version, kind).ok_or(Bail)?;
    let mut w = Writer {
        out,
        rev: mod_revision,
        // `needs_redaction`: a Secret always, anything that was stored encrypted.
        redact: match hide {
            Hide::Nothing => false,
            Hide::SecretValues => kind == "Secret",
            Hide::AllButMetadata => true,
        },
        all: hide == Hide::AllButMetadata,
        secret: kind == "Secret",
        warnings: Vec::new(),
        scratch: Vec::new(),
    };
    // The top-level message is a plain one (no object kind has its own marshaller).
    let mut sp = Vec::new();
    if special(&desc, u.raw, 0, &mut sp).is_some() {
        return Err(Bail);
    }
    w.out.extend_from_slice(b"{\"apiVersion\":");
    write_str(api_version, w.out);
    w.out.extend_from_slice(b",\"kind\":");
    write_str(kind, w.out);
    let mut first = false;
    w.members(&desc, u.raw, 0, At::Top, &mut first)?;
    w.out.push(b'}');
    Ok(())
}

/// Where a message's members are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// The object itself.
    Top,
    /// Its `metadata` (ObjectMeta): resourceVersion goes here; the last-applied annotation.
    TopMeta,
    /// Anywhere else; `leaves`: every leaf value becomes a marker (inside a top-level field of
    /// an object that was stored encrypted).
    Nested { leaves: bool },
}

impl At {
    fn leaves(self) -> bool {
        matches!(self, At::Nested { leaves: true })
    }
}

/// A repeated field or map still open in the output (`[` or `{` written, not closed).
#[derive(Clone, Copy)]
enum Open<'a> {
    None,
    List(u32),
    /// The map field and its last key.
    Map(u32, &'a [u8]),
}

struct Writer<'o> {
    out: &'o mut Vec<u8>,
    rev: i64,
    /// Secret values and the last-applied annotation are hidden.
    redact: bool,
    /// Everything outside typeMeta and metadata is hidden.
    all: bool,
    /// The object is a Secret (its `data` is base64 of the values).
    secret: bool,
    /// For the special types' decoder; any warning means the tree decoder takes over.
    warnings: Vec<String>,
    /// Text of a leaf that becomes a marker.
    scratch: Vec<u8>,
}

/// How one map's values are hidden by [`super::redact::redact`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum MapValues {
    Shown,
    /// Secret `data`, `binaryData`: the marker of the decoded bytes.
    Base64,
    /// `stringData`, a ConfigMap's `data`, the last-applied annotation: of the text.
    Text,
    /// The object's annotations: only the last-applied one, as text.
    LastApplied,
}

impl Writer<'_> {
    fn key(&mut self, name: &str, first: &mut bool) {
        if !*first {
            self.out.push(b',');
        }
        *first = false;
        write_str(name, self.out);
        self.out.push(b':');
    }

    /// A special type's value, or None for a plain message. Warnings hand over to the tree.
    fn special(
        &mut self,
        desc: &MessageDescriptor,
        buf: &[u8],
        depth: usize,
    ) -> Result<Option<Node>, Bail> {
        let n = special(desc, buf, depth, &mut self.warnings);
        if self.warnings.is_empty() {
            Ok(n)
        } else {
            Err(Bail)
        }
    }

    fn node(&mut self, mut n: Node, leaves: bool) {
        if leaves {
            redact_all(&mut n);
        }
        n.write_compact(self.out);
    }

    /// The members of message `desc` (without braces: an inline message's go into its parent).
    fn members(
        &mut self,
        desc: &MessageDescriptor,
        buf: &[u8],
        depth: usize,
        at: At,
        first: &mut bool,
    ) -> R {
        let go = schema::get().go_fields(desc.full_name());
        let mut open = Open::None;
        let mut last = 0u32;
        let mut rv_done = at != At::TopMeta;
        for f in Fields::new(buf) {
            let (num, v) = f.map_err(|_| Bail)?;
            let field = desc.get_field(num).ok_or(Bail)?;
            if num < last {
                return Err(Bail);
            }
            if num == last {
                match open {
                    Open::List(n) if n == num => {
                        self.out.push(b',');
                        let leaves = self.child(at, field.name()).leaves();
                        self.element(&field.kind(), v, depth, leaves)?;
                    }
                    Open::Map(n, prev) if n == num => {
                        self.out.push(b',');
                        let how = self.map_values(at, field.name());
                        let k =
                            self.entry(&field.kind(), v, depth, self.child(at, field.name()), how)?;
                        if k <= prev {
                            return Err(Bail);
                        }
                        open = Open::Map(num, k);
                    }
                    _ => return Err(Bail),
                }
                continue;
            }
            self.close(open);
            open = Open::None;
            last = num;
            if !rv_done && num >= RESOURCE_VERSION {
                // kube-apiserver sets it from the record's mod_revision (see `super`); a stored
                // one is replaced where it stands.
                self.key("resourceVersion", first);
                self.out.push(b'"');
                write_i64(self.rev, self.out);
                self.out.push(b'"');
                rv_done = true;
                if num == RESOURCE_VERSION {
                    match v {
                        Value::Bytes(b) if std::str::from_utf8(b).is_ok() => {}
                        _ => return Err(Bail),
                    }
                    continue;
                }
            }
            let name = field.name();
            if at == At::Top && matches!(name, "apiVersion" | "kind" | "typeMeta") {
                return Err(Bail);
            }
            let rule = go.map(|g| {
                g.iter()
                    .find(|(n, _)| *n == num)
                    .map(|(_, f)| *f)
                    .unwrap_or_default()
            });
            let inline = rule.is_some_and(|r| r.inline);
            let kind = field.kind();
            if field.is_map() {
                if inline {
                    return Err(Bail);
                }
                let how = self.map_values(at, name);
                let child = self.child(at, name);
                self.key(name, first);
                self.out.push(b'{');
                let k = self.entry(&kind, v, depth, child, how)?;
                open = Open::Map(num, k);
                continue;
            }
            if at == At::Top && self.redact && matches!(name, "data" | "binaryData" | "stringData")
            {
                // `redact` hides these only as maps of strings; anything else goes the tree way.
                return Err(Bail);
            }
            if field.is_list() {
                if inline || (matches!(v, Value::Bytes(_)) && is_scalar_numeric(&kind)) {
                    // Packed repeated numbers: rare in Kubernetes' proto2 messages.
                    return Err(Bail);
                }
                let leaves = self.child(at, name).leaves();
                self.key(name, first);
                self.out.push(b'[');
                self.element(&kind, v, depth, leaves)?;
                open = Open::List(num);
                continue;
            }
            let child = self.child(at, name);
            if let Kind::Message(m) = &kind {
                let Value::Bytes(b) = v else {
                    return Err(Bail);
                };
                if depth + 1 > MAX_DEPTH {
                    return Err(Bail);
                }
                if let Some(n) = self.special(m, b, depth + 1)? {
                    // Go's omitempty never leaves out a struct; without Go tags empty strings
                    // are left out.
                    if inline {
                        return Err(Bail);
                    }
                    if rule.is_none() && omitted(&n) {
                        continue;
                    }
                    self.key(name, first);
                    self.node(n, child.leaves());
                } else if inline {
                    self.members(m, b, depth + 1, child, first)?;
                } else {
                    if at == At::Top && name == "metadata" && m.full_name() != OBJECT_META {
                        return Err(Bail);
                    }
                    self.key(name, first);
                    self.message(m, b, depth + 1, child)?;
                }
                continue;
            }
            if inline {
                return Err(Bail);
            }
            let s = Scalar::of(&kind, v)?;
            let zero = s.is_zero();
            let skip = match rule {
                None => matches!(s, Scalar::Str(_) | Scalar::Bytes(_)) && zero,
                Some(r) => r.omitempty && !r.pointer && zero,
            };
            if skip {
                continue;
            }
            self.key(name, first);
            self.scalar(s, child.leaves())?;
        }
        self.close(open);
        if !rv_done {
            self.key("resourceVersion", first);
            self.out.push(b'"');
            write_i64(self.rev, self.out);
            self.out.push(b'"');
        }
        Ok(())
    }

    /// Where a member `name` of a message at `at` puts its own members.
    fn child(&self, at: At, name: &str) -> At {
        match at {
            At::Top if name == "metadata" => At::TopMeta,
            At::Top => At::Nested { leaves: self.all },
            At::TopMeta => At::Nested { leaves: false },
            nested => nested,
        }
    }

    /// How the values of map `name` at `at` are hidden (`redact`'s rule).
    fn map_values(&self, at: At, name: &str) -> MapValues {
        if !self.redact {
            return MapValues::Shown;
        }
        match (at, name) {
            (At::TopMeta, "annotations") => MapValues::LastApplied,
            (At::Top, "binaryData") => MapValues::Base64,
            (At::Top, "data") if self.secret => MapValues::Base64,
            (At::Top, "data" | "stringData") => MapValues::Text,
            _ => MapValues::Shown,
        }
    }

    fn close(&mut self, open: Open) {
        match open {
            Open::None => {}
            Open::List(_) => self.out.push(b']'),
            Open::Map(..) => self.out.push(b'}'),
        }
    }

    /// `{members}` of a plain message (the caller checked it is not a special type).
    fn message(&mut self, desc: &MessageDescriptor, buf: &[u8], depth: usize, at: At) -> R {
        self.out.push(b'{');
        let mut first = true;
        self.members(desc, buf, depth, at, &mut first)?;
        self.out.push(b'}');
        Ok(())
    }

    /// A message value anywhere but as a member (list element, map value).
    fn any_message(
        &mut self,
        desc: &MessageDescriptor,
        buf: &[u8],
        depth: usize,
        leaves: bool,
    ) -> Result<bool, Bail> {
        if depth > MAX_DEPTH {
            return Err(Bail);
        }
        if let Some(n) = self.special(desc, buf, depth)? {
            if n == Node::Null {
                return Ok(false);
            }
            self.node(n, leaves);
        } else {
            self.message(desc, buf, depth, At::Nested { leaves })?;
        }
        Ok(true)
    }

    /// One element of a repeated field.
    fn element(&mut self, kind: &Kind, v: Value<'_>, depth: usize, leaves: bool) -> R {
        if let Kind::Message(m) = kind {
            let Value::Bytes(b) = v else {
                return Err(Bail);
            };
            if !self.any_message(m, b, depth + 1, leaves)? {
                self.out.extend_from_slice(b"null");
            }
            return Ok(());
        }
        self.scalar(Scalar::of(kind, v)?, leaves)
    }

    /// One map entry `"key":value`; returns the key.
    fn entry<'b>(
        &mut self,
        kind: &Kind,
        v: Value<'b>,
        depth: usize,
        at: At,
        how: MapValues,
    ) -> Result<&'b [u8], Bail> {
        let (Kind::Message(entry), Value::Bytes(b)) = (kind, v) else {
            return Err(Bail);
        };
        let (kf, vf) = (entry.map_entry_key_field(), entry.map_entry_value_field());
        if kf.kind() != Kind::String {
            return Err(Bail);
        }
        let (mut key, mut val): (Option<&'b [u8]>, Option<Value<'b>>) = (None, None);
        for f in Fields::new(b) {
            match f.map_err(|_| Bail)? {
                (1, Value::Bytes(k)) => key = Some(k),
                (1, _) => return Err(Bail),
                (2, x) if val.is_none() => val = Some(x),
                (2, _) => return Err(Bail),
                _ => {}
            }
        }
        let key = key.unwrap_or_default();
        let key_str = std::str::from_utf8(key).map_err(|_| Bail)?;
        write_str(key_str, self.out);
        self.out.push(b':');
        let vkind = vf.kind();
        let leaves = at.leaves();
        let how = match how {
            MapValues::LastApplied if key_str == LAST_APPLIED => MapValues::Text,
            MapValues::LastApplied => MapValues::Shown,
            how => how,
        };
        match (how, &vkind) {
            (MapValues::Shown, _) => {}
            (_, Kind::String | Kind::Bytes) => {
                let raw = match val {
                    None => &[][..],
                    Some(Value::Bytes(x)) => x,
                    Some(_) => return Err(Bail),
                };
                match (how, &vkind) {
                    (MapValues::Base64, Kind::Bytes) | (MapValues::Text, Kind::String) => {
                        if vkind == Kind::String && std::str::from_utf8(raw).is_err() {
                            return Err(Bail);
                        }
                        self.marker(raw);
                    }
                    // A string map whose values are base64, a bytes map shown as text: the tree.
                    _ => return Err(Bail),
                }
                return Ok(key);
            }
            _ => return Err(Bail),
        }
        match (val, &vkind) {
            (None, Kind::String | Kind::Bytes) => self.scalar(Scalar::Str(""), leaves)?,
            (None, Kind::Message(_)) => self.out.extend_from_slice(b"{}"),
            (None, Kind::Bool) => self.scalar(Scalar::Bool(false), leaves)?,
            (None, _) => self.scalar(Scalar::Int(0), leaves)?,
            (Some(x), Kind::Message(m)) => {
                let Value::Bytes(mb) = x else {
                    return Err(Bail);
                };
                // An absent (null) message value is the type's zero value, as Go decodes it.
                if !self.any_message(m, mb, depth + 1, leaves)? {
                    self.out.extend_from_slice(b"{}");
                }
            }
            (Some(x), k) => self.scalar(Scalar::of(k, x)?, leaves)?,
        }
        Ok(key)
    }

    fn marker(&mut self, bytes: &[u8]) {
        self.out.push(b'"');
        write_marker(bytes, self.out);
        self.out.push(b'"');
    }

    fn scalar(&mut self, s: Scalar<'_>, leaves: bool) -> R {
        if leaves {
            // `redact_all`: the marker of the value as printed (a string that already is a
            // marker stays).
            let mut text = std::mem::take(&mut self.scratch);
            text.clear();
            match s {
                Scalar::Str(x) if x.starts_with("<redacted len:") => write_str(x, self.out),
                Scalar::Str(x) => self.marker(x.as_bytes()),
                Scalar::Bytes(b) => {
                    super::b64::encode_into(b, &mut text);
                    self.marker(&text);
                }
                Scalar::Float(f) => {
                    let t = serde_json::to_string(&Node::Float(f)).unwrap_or_default();
                    self.marker(t.as_bytes());
                }
                other => {
                    other.write(&mut text);
                    self.marker(&text);
                }
            }
            self.scratch = text;
            return Ok(());
        }
        s.write(self.out);
        Ok(())
    }
}

/// One non-message field value as the tree decoder would make it.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl<'a> Scalar<'a> {
    /// `Decoder::value` of the tree decoder; a wire type that does not fit hands over.
    fn of(kind: &Kind, v: Value<'a>) -> Result<Scalar<'a>, Bail> {
        Ok(match (kind, v) {
            (Kind::String, Value::Bytes(b)) => {
                Scalar::Str(std::str::from_utf8(b).map_err(|_| Bail)?)
            }
            (Kind::Bytes, Value::Bytes(b)) => Scalar::Bytes(b),
            (Kind::Bool, Value::Varint(x)) => Scalar::Bool(x != 0),
            (Kind::Int32 | Kind::Enum(_), Value::Varint(x)) => Scalar::Int(i64::from(x as i32)),
            (Kind::Int64, Value::Varint(x)) => Scalar::Int(x as i64),
            (Kind::Uint32, Value::Varint(x)) => Scalar::Int(i64::from(x as u32)),
            (Kind::Uint64, Value::Varint(x)) => Scalar::UInt(x),
            (Kind::Sint32, Value::Varint(x)) => Scalar::Int(i64::from(zigzag(x) as i32)),
            (Kind::Sint64, Value::Varint(x)) => Scalar::Int(zigzag(x)),
            (Kind::Fixed32, Value::Fixed32(x)) => Scalar::Int(i64::from(x)),
            (Kind::Sfixed32, Value::Fixed32(x)) => Scalar::Int(i64::from(x as i32)),
            (Kind::Float, Value::Fixed32(x)) => Scalar::Float(f64::from(f32::from_bits(x))),
            (Kind::Fixed64, Value::Fixed64(x)) => Scalar::UInt(x),
            (Kind::Sfixed64, Value::Fixed64(x)) => Scalar::Int(x as i64),
            (Kind::Double, Value::Fixed64(x)) => Scalar::Float(f64::from_bits(x)),
            _ => return Err(Bail),
        })
    }

    /// `is_zero` of the tree decoder.
    fn is_zero(&self) -> bool {
        match *self {
            Scalar::Str(s) => s.is_empty(),
            Scalar::Bytes(b) => b.is_empty(),
            Scalar::Bool(b) => !b,
            Scalar::Int(i) => i == 0,
            Scalar::UInt(u) => u == 0,
            Scalar::Float(f) => f == 0.0,
        }
    }

    fn write(self, out: &mut Vec<u8>) {
        match self {
            Scalar::Str(s) => write_str(s, out),
            Scalar::Bytes(b) => {
                out.push(b'"');
                super::b64::encode_into(b, out);
                out.push(b'"');
            }
            Scalar::Bool(true) => out.extend_from_slice(b"true"),
            Scalar::Bool(false) => out.extend_from_slice(b"false"),
            Scalar::Int(i) => write_i64(i, out),
            Scalar::UInt(u) => write_u64(u, out),
            Scalar::Float(f) => Node::Float(f).write_compact(out),
        }
    }
}

/// Decimal digits of `v`, as `to_string` writes them.
pub(crate) fn write_u64(mut v: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn write_i64(v: i64, out: &mut Vec<u8>) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(v.unsigned_abs(), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etcd::records::Records;
    use crate::etcd::Snapshot;
    use crate::kube::decode::{decode, redact};
    use std::path::Path;

    /// What the tree path prints for one plaintext value.
    fn tree(plaintext: &[u8], rev: i64, hide: Hide) -> Vec<u8> {
        let mut o = decode(plaintext, rev).object;
        match hide {
            Hide::Nothing => {}
            Hide::SecretValues => {
                if redact::needs_redaction(&o, false) {
                    redact::redact(&mut o);
                }
            }
            Hide::AllButMetadata => {
                redact::redact_decrypted(&mut o);
            }
        }
        let mut v = Vec::new();
        o.write_compact(&mut v);
        v
    }

    /// Every plaintext value of the committed snapshots (real etcd, objects of many kinds written
    /// by an independent protobuf encoder, an OpenShift cluster's): both paths print the same
    /// bytes in every redaction mode, and the streaming one takes nearly all protobuf objects.
    #[test]
    fn same_bytes_as_the_tree_on_every_committed_object() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let mut dbs = Vec::new();
        for dir in [
            "objects",
            "incident",
            "openshift",
            "openshift-managed",
            "encrypted",
            "snapshots",
        ] {
            for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                if e.path().extension().is_some_and(|x| x == "db") {
                    dbs.push(e.path());
                }
            }
        }
        let (mut streamed, mut protobuf) = (0usize, 0usize);
        for db in &dbs {
            let Ok(snap) = Snapshot::open(db) else {
                continue;
            };
            let records = Records::read(&snap);
            for r in records.history() {
                let v = r.kv.value;
                let is_pb = v.starts_with(crate::kube::envelope::PROTOBUF_MAGIC);
                for hide in [Hide::Nothing, Hide::SecretValues, Hide::AllButMetadata] {
                    let mut out = b"prefix".to_vec();
                    let ok = write_object(v, r.kv.mod_revision, hide, &mut out);
                    if ok {
                        assert_eq!(
                            String::from_utf8_lossy(&out[6..]),
                            String::from_utf8_lossy(&tree(v, r.kv.mod_revision, hide)),
                            "{}: {} {hide:?}",
                            db.display(),
                            crate::etcd::display_key(r.kv.key)
                        );
                    } else {
                        assert_eq!(out, b"prefix");
                    }
                    if is_pb && hide == Hide::Nothing {
                        protobuf += 1;
                        streamed += usize::from(ok);
                    }
                }
            }
        }
        eprintln!("streamed {streamed} of {protobuf} protobuf values");
        assert!(protobuf > 500, "{protobuf}");
        assert!(
            streamed * 100 >= protobuf * 95,
            "{streamed} of {protobuf} streamed"
        );
    }
}
