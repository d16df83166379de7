//! A minimal, zero-copy protobuf wire-format reader for the few messages we decode
//! (mvccpb.KeyValue, leasepb.Lease, runtime.Unknown, kms v2 EncryptedObject).
//!
//! Every read is bounds-checked: values come from files that may be damaged or hostile.
//! Wire format: https://protobuf.dev/programming-guides/encoding/

use thiserror::Error;

/// Why a protobuf message could not be read. Offsets are relative to the message start.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtoError {
    #[error("truncated varint at offset {0}")]
    TruncatedVarint(usize),
    #[error("varint longer than 10 bytes at offset {0}")]
    VarintTooLong(usize),
    #[error("field length {len} at offset {at} runs past the message end ({total} bytes)")]
    LengthOutOfRange { at: usize, len: u64, total: usize },
    #[error("unsupported wire type {wire} at offset {at}")]
    BadWireType { at: usize, wire: u8 },
    #[error("field number 0 at offset {0}")]
    ZeroField(usize),
}

/// One field's value as found on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Value<'a> {
    /// The value as an int64 field (two's complement varint), or None for other wire types.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Value::Varint(v) => Some(v as i64),
            _ => None,
        }
    }
    /// The value as a length-delimited field, or None for other wire types.
    pub fn as_bytes(self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

/// Iterates `(field number, value)` pairs of one message. Stops after the first error.
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Fields {
            buf,
            pos: 0,
            failed: false,
        }
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, ProtoError> {
        // Tags and most lengths and revisions of the messages we read fit in one byte.
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_slow()
    }

    fn varint_slow(&mut self) -> Result<u64, ProtoError> {
        let start = self.pos;
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or(ProtoError::TruncatedVarint(start))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ProtoError::VarintTooLong(start))
    }

    #[inline]
    fn take(&mut self, len: u64) -> Result<&'a [u8], ProtoError> {
        let at = self.pos;
        let s = usize::try_from(len)
            .ok()
            .and_then(|n| at.checked_add(n))
            .and_then(|end| self.buf.get(at..end));
        match s {
            Some(s) => {
                self.pos = at + s.len();
                Ok(s)
            }
            None => Err(ProtoError::LengthOutOfRange {
                at,
                len,
                total: self.buf.len(),
            }),
        }
    }

    #[inline]
    fn next_field(&mut self) -> Result<(u32, Value<'a>), ProtoError> {
        let at = self.pos;
        let tag = self.varint()?;
        let field = (tag >> 3) as u32;
        if field == 0 {
            return Err(ProtoError::ZeroField(at));
        }
        let value = match (tag & 7) as u8 {
            0 => Value::Varint(self.varint()?),
            1 => {
                let b = self.take(8)?;
                Value::Fixed64(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            }
            2 => {
                let len = self.varint()?;
                Value::Bytes(self.take(len)?)
            }
            5 => {
                let b = self.take(4)?;
                Value::Fixed32(u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
            }
            wire => return Err(ProtoError::BadWireType { at, wire }),
        };
        Ok((field, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), ProtoError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let r = self.next_field();
        self.failed = r.is_err();
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_varints_and_bytes() {
        // field 1 bytes "ab", field 2 varint 300, field 3 fixed32, field 4 fixed64
        let msg = [
            0x0a, 2, b'a', b'b', 0x10, 0xac, 0x02, 0x1d, 1, 0, 0, 0, 0x21, 2, 0, 0, 0, 0, 0, 0, 0,
        ];
        let f: Vec<_> = Fields::new(&msg).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            f,
            vec![
                (1, Value::Bytes(b"ab")),
                (2, Value::Varint(300)),
                (3, Value::Fixed32(1)),
                (4, Value::Fixed64(2))
            ]
        );
    }

    #[test]
    fn rejects_hostile_lengths() {
        let msg = [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1];
        let r: Result<Vec<_>, _> = Fields::new(&msg).collect();
        assert!(matches!(r, Err(ProtoError::LengthOutOfRange { .. })));
        let r: Result<Vec<_>, _> = Fields::new(&[0x08, 0x80]).collect();
        assert_eq!(r, Err(ProtoError::TruncatedVarint(1)));
        let r: Result<Vec<_>, _> = Fields::new(&[0x0b]).collect();
        assert!(matches!(r, Err(ProtoError::BadWireType { .. })));
    }
}
