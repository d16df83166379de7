//! A stored object's metadata, decoded from its plaintext (protobuf `k8s\x00` + runtime.Unknown,
//! or JSON): typeMeta, ObjectMeta name/namespace/uid/creationTimestamp, and for Secrets and
//! ConfigMaps the data key names and value sizes. Values are only returned by
//! [`data_values`], for `get --reveal`.
//!
//! Field numbers from k8s.io/api core/v1 generated.proto and apimachinery meta/v1: every
//! object's field 1 is ObjectMeta {1 name, 3 namespace, 5 uid, 8 creationTimestamp {1 seconds,
//! 2 nanos}}; Secret {2 data map<string, bytes>, 3 type, 5 immutable}; ConfigMap {2 data
//! map<string, string>, 3 binaryData map<string, bytes>, 4 immutable}.

use super::envelope::Envelope;
use super::unknown::Unknown;
use crate::proto::{Fields, Value};
use base64::Engine;
use serde::Serialize;

/// What `get` shows of an object. Names and sizes only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ObjectSummary {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub uid: Option<String>,
    /// RFC 3339, UTC.
    pub creation_timestamp: Option<String>,
    /// Secret `type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<String>,
    /// Secret / ConfigMap data keys and value sizes in bytes (ConfigMap binaryData included).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<DataItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DataItem {
    pub key: String,
    pub bytes: usize,
}

/// Decodes a plaintext value; None when it is neither protobuf nor JSON.
pub fn summarize(plaintext: &[u8]) -> Option<ObjectSummary> {
    match Envelope::classify(plaintext) {
        Envelope::Protobuf(body) => summarize_protobuf(body),
        Envelope::Json(doc) => summarize_json(doc),
        _ => None,
    }
}

/// Secret / ConfigMap data values by key (raw bytes), for `--reveal` only.
pub fn data_values(plaintext: &[u8]) -> Vec<(String, Vec<u8>)> {
    match Envelope::classify(plaintext) {
        Envelope::Protobuf(body) => {
            let Ok(u) = Unknown::decode(body) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            walk_data(u.kind, u.raw, |k, v| out.push((k.to_string(), v.to_vec())));
            out
        }
        Envelope::Json(doc) => {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(doc) else {
                return Vec::new();
            };
            json_data(&v)
                .into_iter()
                .map(|(k, bytes, _)| (k, bytes))
                .collect()
        }
        _ => Vec::new(),
    }
}

fn text(b: &[u8]) -> Option<String> {
    (!b.is_empty()).then(|| String::from_utf8_lossy(b).into_owned())
}

fn summarize_protobuf(body: &[u8]) -> Option<ObjectSummary> {
    let u = Unknown::decode(body).ok()?;
    let mut s = ObjectSummary {
        api_version: text(u.api_version),
        kind: text(u.kind),
        ..ObjectSummary::default()
    };
    for f in Fields::new(u.raw) {
        let Ok((n, v)) = f else { break };
        match (n, v, u.kind) {
            (1, Value::Bytes(meta), _) => object_meta(meta, &mut s),
            (3, Value::Bytes(t), b"Secret") => s.secret_type = text(t),
            _ => {}
        }
    }
    walk_data(u.kind, u.raw, |k, v| {
        s.data.push(DataItem {
            key: k.to_string(),
            bytes: v.len(),
        })
    });
    Some(s)
}

/// Calls `f(key, value)` for each Secret data / ConfigMap data and binaryData entry.
fn walk_data(kind: &[u8], raw: &[u8], mut f: impl FnMut(&str, &[u8])) {
    let maps: &[u32] = match kind {
        b"Secret" => &[2],
        b"ConfigMap" => &[2, 3],
        _ => return,
    };
    for field in Fields::new(raw) {
        let Ok((n, Value::Bytes(entry))) = field else {
            continue;
        };
        if !maps.contains(&n) {
            continue;
        }
        let (mut k, mut v): (&[u8], &[u8]) = (&[], &[]);
        for e in Fields::new(entry) {
            match e {
                Ok((1, Value::Bytes(b))) => k = b,
                Ok((2, Value::Bytes(b))) => v = b,
                _ => {}
            }
        }
        f(&String::from_utf8_lossy(k), v);
    }
}

fn object_meta(meta: &[u8], s: &mut ObjectSummary) {
    for f in Fields::new(meta) {
        let Ok((n, v)) = f else { break };
        match (n, v) {
            (1, Value::Bytes(b)) => s.name = text(b),
            (3, Value::Bytes(b)) => s.namespace = text(b),
            (5, Value::Bytes(b)) => s.uid = text(b),
            (8, Value::Bytes(t)) => {
                let mut secs = None;
                for tf in Fields::new(t) {
                    if let Ok((1, Value::Varint(x))) = tf {
                        secs = Some(x as i64);
                    }
                }
                s.creation_timestamp = secs.and_then(rfc3339);
            }
            _ => {}
        }
    }
}

fn summarize_json(doc: &[u8]) -> Option<ObjectSummary> {
    let v: serde_json::Value = serde_json::from_slice(doc).ok()?;
    let st = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let meta = &v["metadata"];
    let mut s = ObjectSummary {
        api_version: st(&v["apiVersion"]),
        kind: st(&v["kind"]),
        name: st(&meta["name"]),
        namespace: st(&meta["namespace"]),
        uid: st(&meta["uid"]),
        creation_timestamp: st(&meta["creationTimestamp"]),
        ..ObjectSummary::default()
    };
    if s.kind.as_deref() == Some("Secret") {
        s.secret_type = st(&v["type"]);
    }
    s.data = json_data(&v)
        .into_iter()
        .map(|(key, bytes, _)| DataItem {
            bytes: bytes.len(),
            key,
        })
        .collect();
    Some(s)
}

/// (key, decoded bytes, was base64) of a JSON Secret's data (base64) or ConfigMap's data (text)
/// and binaryData (base64).
fn json_data(v: &serde_json::Value) -> Vec<(String, Vec<u8>, bool)> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).ok();
    let mut out = Vec::new();
    let kind = v["kind"].as_str().unwrap_or("");
    let fields: &[(&str, bool)] = match kind {
        "Secret" => &[("data", true)],
        "ConfigMap" => &[("data", false), ("binaryData", true)],
        _ => &[],
    };
    for (field, is_b64) in fields {
        if let Some(m) = v[*field].as_object() {
            for (k, val) in m {
                let s = val.as_str().unwrap_or("");
                let bytes = if *is_b64 {
                    b64(s).unwrap_or_default()
                } else {
                    s.as_bytes().to_vec()
                };
                out.push((k.clone(), bytes, *is_b64));
            }
        }
    }
    out
}

/// Who wrote an object and when, from its own metadata: `creationTimestamp` and each
/// `managedFields` entry (ObjectMeta field 17, ManagedFieldsEntry {1 manager, 2 operation,
/// 4 time, 8 subresource}; apimachinery meta/v1 generated.proto). Times are Unix seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    pub creation: Option<i64>,
    pub managed: Vec<ManagedEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedEntry {
    /// The client's field manager (`kube-controller-manager`, `kubectl-create`, …).
    pub manager: String,
    /// `Update` or `Apply`.
    pub operation: String,
    pub time: Option<i64>,
    /// `status`, `scale`, … or empty for the main resource.
    pub subresource: String,
}

impl Provenance {
    /// The latest time the object says it was written: its newest managedFields entry, else its
    /// creation.
    pub fn last_write(&self) -> Option<i64> {
        self.managed
            .iter()
            .filter_map(|m| m.time)
            .max()
            .or(self.creation)
    }
}

/// The provenance of a plaintext value; None when it is neither protobuf nor JSON.
pub fn provenance(plaintext: &[u8]) -> Option<Provenance> {
    match Envelope::classify(plaintext) {
        Envelope::Protobuf(body) => {
            let u = Unknown::decode(body).ok()?;
            let mut p = Provenance::default();
            for f in Fields::new(u.raw) {
                let Ok((n, v)) = f else { break };
                if let (1, Value::Bytes(meta)) = (n, v) {
                    provenance_meta(meta, &mut p);
                }
            }
            Some(p)
        }
        Envelope::Json(doc) => {
            let v: serde_json::Value = serde_json::from_slice(doc).ok()?;
            let meta = &v["metadata"];
            let st = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
            Some(Provenance {
                creation: meta["creationTimestamp"].as_str().and_then(parse_rfc3339),
                managed: meta["managedFields"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|m| ManagedEntry {
                                manager: st(&m["manager"]),
                                operation: st(&m["operation"]),
                                time: m["time"].as_str().and_then(parse_rfc3339),
                                subresource: st(&m["subresource"]),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        }
        _ => None,
    }
}

fn time_secs(t: &[u8]) -> Option<i64> {
    let mut secs = None;
    for tf in Fields::new(t) {
        if let Ok((1, Value::Varint(x))) = tf {
            secs = Some(x as i64);
        }
    }
    secs
}

fn provenance_meta(meta: &[u8], p: &mut Provenance) {
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for f in Fields::new(meta) {
        let Ok((n, v)) = f else { break };
        match (n, v) {
            (8, Value::Bytes(t)) => p.creation = time_secs(t),
            (17, Value::Bytes(e)) => {
                let mut m = ManagedEntry {
                    manager: String::new(),
                    operation: String::new(),
                    time: None,
                    subresource: String::new(),
                };
                for ef in Fields::new(e) {
                    let Ok((n, Value::Bytes(b))) = ef else {
                        continue;
                    };
                    match n {
                        1 => m.manager = lossy(b),
                        2 => m.operation = lossy(b),
                        4 => m.time = time_secs(b),
                        8 => m.subresource = lossy(b),
                        _ => {}
                    }
                }
                p.managed.push(m);
            }
            _ => {}
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` → Unix seconds (metav1.Time's JSON form).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let d = b.get(r)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| d.iter().fold(0i64, |a, &c| a * 10 + i64::from(c - b'0')))
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b't'))
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        c @ (b'+' | b'-') if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let o = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *c == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    // Howard Hinnant's days_from_civil.
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// Seconds since the Unix epoch → `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339(secs: i64) -> Option<String> {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe.checked_add(era.checked_mul(400)?)? + i64::from(m <= 2);
    if !(0..=9999).contains(&y) {
        return None;
    }
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u8, b: &[u8]) -> Vec<u8> {
        let mut v = vec![(n << 3) | 2, b.len() as u8];
        v.extend_from_slice(b);
        v
    }

    #[test]
    fn protobuf_secret() {
        let mut meta = field(1, b"s1");
        meta.extend(field(3, b"default"));
        meta.extend(field(8, &[0x08, 0x80, 0xa3, 0xc3, 0xf0, 0x05]));
        let mut raw = field(1, &meta);
        let mut e = field(1, b"password");
        e.extend(field(2, b"hunter2-MARKER"));
        raw.extend(field(2, &e));
        raw.extend(field(3, b"Opaque"));
        let mut tm = field(1, b"v1");
        tm.extend(field(2, b"Secret"));
        let mut body = field(1, &tm);
        body.extend(field(2, &raw));
        let mut v = b"k8s\x00".to_vec();
        v.extend(body);
        let s = summarize(&v).unwrap();
        assert_eq!(s.kind.as_deref(), Some("Secret"));
        assert_eq!(s.name.as_deref(), Some("s1"));
        assert_eq!(s.namespace.as_deref(), Some("default"));
        assert_eq!(s.secret_type.as_deref(), Some("Opaque"));
        assert_eq!(
            s.data,
            [DataItem {
                key: "password".into(),
                bytes: 14
            }]
        );
        assert!(s.creation_timestamp.is_some());
        assert!(!format!("{s:?}").contains("MARKER"));
        assert_eq!(
            data_values(&v),
            [("password".to_string(), b"hunter2-MARKER".to_vec())]
        );
    }

    #[test]
    fn json_secret_and_configmap() {
        let s = summarize(
            br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a","namespace":"n"},"type":"Opaque","data":{"k":"aGVsbG8="}}"#,
        )
        .unwrap();
        assert_eq!(
            s.data,
            [DataItem {
                key: "k".into(),
                bytes: 5
            }]
        );
        let c = summarize(br#"{"kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"abc"}}"#)
            .unwrap();
        assert_eq!(
            c.data,
            [DataItem {
                key: "x".into(),
                bytes: 3
            }]
        );
        assert_eq!(summarize(b"garbage"), None);
    }

    #[test]
    fn provenance_from_protobuf_and_json() {
        // ObjectMeta{1 "s", 8 {1 1700000000}, 17 {1 "kcm", 2 "Update", 4 {1 1700000100}}}
        let mut meta = field(1, b"s");
        meta.extend(field(8, &[0x08, 0x80, 0xe2, 0xcf, 0xaa, 0x06]));
        let mut e = field(1, b"kcm");
        e.extend(field(2, b"Update"));
        e.extend(field(4, &[0x08, 0xe4, 0xe2, 0xcf, 0xaa, 0x06]));
        // Field 17's tag is two varint bytes (138 = 0x8a 0x01).
        meta.extend([0x8a, 0x01, e.len() as u8]);
        meta.extend(&e);
        let raw = field(1, &meta);
        let mut tm = field(1, b"v1");
        tm.extend(field(2, b"Secret"));
        let mut v = b"k8s\x00".to_vec();
        v.extend(field(1, &tm));
        v.extend(field(2, &raw));
        let p = provenance(&v).unwrap();
        assert_eq!(p.creation, Some(1_700_000_000));
        assert_eq!(p.managed.len(), 1);
        assert_eq!(p.managed[0].manager, "kcm");
        assert_eq!(p.managed[0].operation, "Update");
        assert_eq!(p.last_write(), Some(1_700_000_100));
        let j = provenance(
            br#"{"kind":"W","metadata":{"creationTimestamp":"2023-11-14T22:13:20Z","managedFields":[{"manager":"kubectl-client-side-apply","operation":"Update","time":"2023-11-14T23:13:20+01:00"}]}}"#,
        )
        .unwrap();
        assert_eq!(j.creation, Some(1_700_000_000));
        assert_eq!(j.managed[0].time, Some(1_700_000_000));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00.5Z"), Some(951_782_400));
        for bad in [
            "",
            "2000-13-01T00:00:00Z",
            "2000-02-29 00:00:00Z",
            "2000-02-29T00:00:00",
            "x",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(provenance(b"garbage"), None);
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            rfc3339(1_700_000_000).as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(
            rfc3339(951_782_400).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(rfc3339(i64::MAX), None);
        assert_eq!(rfc3339(-1).as_deref(), Some("1969-12-31T23:59:59Z"));
    }
}
