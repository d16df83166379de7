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
}
