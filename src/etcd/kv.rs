//! mvccpb.KeyValue (api/mvccpb/kv.proto): 1 key bytes, 2 create_revision int64, 3 mod_revision
//! int64, 4 version int64, 5 value bytes, 6 lease int64. Decoded zero-copy.

use crate::proto::{Fields, ProtoError};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyValue<'a> {
    pub key: &'a [u8],
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub value: &'a [u8],
    pub lease: i64,
}

impl<'a> KeyValue<'a> {
    pub fn decode(buf: &'a [u8]) -> Result<KeyValue<'a>, ProtoError> {
        match decode_in_order(buf) {
            Some(kv) => Ok(kv),
            None => Self::decode_fields(buf),
        }
    }

    /// The general reader: any field order, repeats (the last wins), unknown fields skipped,
    /// and the error when the message cannot be read.
    fn decode_fields(buf: &'a [u8]) -> Result<KeyValue<'a>, ProtoError> {
        let mut kv = KeyValue::default();
        for f in Fields::new(buf) {
            let (n, v) = f?;
            match n {
                1 => kv.key = v.as_bytes().unwrap_or_default(),
                2 => kv.create_revision = v.as_i64().unwrap_or_default(),
                3 => kv.mod_revision = v.as_i64().unwrap_or_default(),
                4 => kv.version = v.as_i64().unwrap_or_default(),
                5 => kv.value = v.as_bytes().unwrap_or_default(),
                6 => kv.lease = v.as_i64().unwrap_or_default(),
                _ => {}
            }
        }
        Ok(kv)
    }
}

/// A varint, as the general reader reads it (up to 10 bytes, bits past 64 dropped): from one
/// 8-byte load when it is that short and the buffer has 8 bytes left, else byte by byte.
#[inline(always)]
fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *buf.get(*pos)?;
    if first < 0x80 {
        *pos += 1;
        return Some(u64::from(first));
    }
    if let Some(w) = buf.get(*pos..*pos + 8) {
        let word = u64::from_le_bytes(w.try_into().ok()?);
        // The first byte without the continuation bit ends the varint.
        let ends = !word & 0x8080_8080_8080_8080;
        if ends != 0 {
            let len = (ends.trailing_zeros() / 8 + 1) as usize;
            let mut v = 0u64;
            for i in 0..len {
                v |= ((word >> (8 * i)) & 0x7f) << (7 * i);
            }
            *pos += len;
            return Some(v);
        }
    }
    let mut v = 0u64;
    for i in 0..10 {
        let b = *buf.get(*pos + i)?;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            *pos += i + 1;
            return Some(v);
        }
    }
    None
}

/// The message as etcd writes it (api/mvccpb/kv.pb.go `MarshalToSizedBuffer`: fields in
/// number order, each at most once, zero values left out), read without the general field
/// loop: the decode of every record of a snapshot spent a third of its time there. `None` on
/// anything else (a field out of order, repeated or unknown, a wire type other than the
/// field's, a varint or a length running past the end):
/// [`KeyValue::decode_fields`] then reads it, so both give the same answer on every input.
fn decode_in_order(buf: &[u8]) -> Option<KeyValue<'_>> {
    let mut kv = KeyValue::default();
    let mut pos = 0;
    let mut last = 0;
    while pos < buf.len() {
        let tag = varint(buf, &mut pos)?;
        let field = tag >> 3;
        if field <= last || field > 6 {
            return None;
        }
        last = field;
        match (field, tag & 7) {
            (1 | 5, 2) => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                let bytes = buf.get(pos..end)?;
                pos = end;
                if field == 1 {
                    kv.key = bytes;
                } else {
                    kv.value = bytes;
                }
            }
            (2..=4 | 6, 0) => {
                let v = varint(buf, &mut pos)? as i64;
                match field {
                    2 => kv.create_revision = v,
                    3 => kv.mod_revision = v,
                    4 => kv.version = v,
                    _ => kv.lease = v,
                }
            }
            _ => return None,
        }
    }
    Some(kv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_all_fields() {
        let buf = b"\x0a\x03/a1\x10\x02\x18\x05\x20\x03\x2a\x02hi\x30\x07";
        let kv = KeyValue::decode(buf).unwrap();
        assert_eq!(
            kv,
            KeyValue {
                key: b"/a1",
                create_revision: 2,
                mod_revision: 5,
                version: 3,
                value: b"hi",
                lease: 7
            }
        );
    }

    /// The in-order reader gives what the general one gives on every input it accepts, and
    /// accepts what etcd writes: encodings of random records (multi-byte varints, empty and
    /// long fields, negative numbers, zero fields left out) and millions of mutations of them
    /// (bytes flipped, cut, repeated, fields swapped).
    #[test]
    fn in_order_reader_agrees_with_the_general_one() {
        fn varint(out: &mut Vec<u8>, mut v: u64) {
            while v >= 0x80 {
                out.push(v as u8 | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut accepted = 0;
        for _ in 0..20_000 {
            let r = next();
            let num = |shift: u32| match (r >> shift) % 4 {
                0 => 0,
                1 => (r >> 20) % 200,
                2 => (r >> 8) % 5_000_000,
                _ => r.wrapping_mul(0x2545_f491_4f6c_dd1d),
            };
            let key = vec![b'k'; (r % 40) as usize];
            let value = vec![7u8; ((r >> 6) % 300) as usize];
            let mut m = Vec::new();
            for field in 1..=6u64 {
                match field {
                    1 | 5 => {
                        let b = if field == 1 { &key } else { &value };
                        if !b.is_empty() {
                            varint(&mut m, field << 3 | 2);
                            varint(&mut m, b.len() as u64);
                            m.extend_from_slice(b);
                        }
                    }
                    _ => {
                        let v = num(field as u32 * 7);
                        if v != 0 {
                            varint(&mut m, field << 3);
                            varint(&mut m, v);
                        }
                    }
                }
            }
            let whole = decode_in_order(&m);
            if let Some(kv) = whole {
                assert_eq!(Ok(kv), KeyValue::decode_fields(&m));
            }
            assert_eq!(KeyValue::decode(&m), KeyValue::decode_fields(&m));
            accepted += usize::from(whole.is_some());
            for _ in 0..100 {
                let mut b = m.clone();
                let r = next();
                let at = (r as usize) % (b.len() + 1);
                match (r >> 32) % 4 {
                    0 if at < b.len() => b[at] ^= 1 << ((r >> 40) % 8),
                    1 => b.truncate(at),
                    2 => {
                        let tail = b[at..].to_vec();
                        b.extend_from_slice(&tail);
                    }
                    _ if at < b.len() => b[at] = (r >> 48) as u8,
                    _ => {}
                }
                if let Some(kv) = decode_in_order(&b) {
                    assert_eq!(Ok(kv), KeyValue::decode_fields(&b), "{b:?}");
                }
                assert_eq!(KeyValue::decode(&b), KeyValue::decode_fields(&b), "{b:?}");
            }
        }
        // Every record written in etcd's order.
        assert_eq!(accepted, 20_000);
    }
}
