//! `runtime.Unknown`, the wrapper kube-apiserver writes after the `k8s\x00` magic
//! (apimachinery/pkg/runtime/generated.proto): 1 typeMeta{1 apiVersion, 2 kind}, 2 raw,
//! 3 contentEncoding, 4 contentType.

use crate::proto::{Fields, ProtoError};

/// A zero-copy view of a decoded `runtime.Unknown`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unknown<'a> {
    pub api_version: &'a [u8],
    pub kind: &'a [u8],
    /// The object itself, encoded as `content_type` says (protobuf when empty).
    pub raw: &'a [u8],
    pub content_encoding: &'a [u8],
    pub content_type: &'a [u8],
}

impl<'a> Unknown<'a> {
    /// Decodes the body that follows the `k8s\x00` magic.
    pub fn decode(body: &'a [u8]) -> Result<Unknown<'a>, ProtoError> {
        let mut u = Unknown::default();
        for field in Fields::new(body) {
            let (n, v) = field?;
            let Some(b) = v.as_bytes() else { continue };
            match n {
                1 => {
                    for tm in Fields::new(b) {
                        let (n, v) = tm?;
                        match (n, v.as_bytes()) {
                            (1, Some(s)) => u.api_version = s,
                            (2, Some(s)) => u.kind = s,
                            _ => {}
                        }
                    }
                }
                2 => u.raw = b,
                3 => u.content_encoding = b,
                4 => u.content_type = b,
                _ => {}
            }
        }
        Ok(u)
    }

    /// True when typeMeta looks like something an apiserver wrote: a non-empty kind of printable
    /// ASCII starting with an uppercase letter. Used to tell a real decryption from garbage.
    pub fn looks_sane(&self) -> bool {
        let printable = |s: &[u8]| s.iter().all(|c| c.is_ascii_graphic());
        self.kind.first().is_some_and(|c| c.is_ascii_uppercase())
            && self.kind.len() <= 128
            && printable(self.kind)
            && self.api_version.len() <= 256
            && printable(self.api_version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_type_meta() {
        // typeMeta{apiVersion "v1", kind "Secret"}, raw "xy"
        let body = b"\x0a\x0c\x0a\x02v1\x12\x06Secret\x12\x02xy";
        let u = Unknown::decode(body).unwrap();
        assert_eq!(u.api_version, b"v1");
        assert_eq!(u.kind, b"Secret");
        assert_eq!(u.raw, b"xy");
        assert!(u.looks_sane());
    }
}
