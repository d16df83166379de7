//! KMS envelopes: we cannot decrypt them (the DEK is wrapped by a KMS), but we can say which
//! plugin, key ID and DEK scheme a record needs, and reject envelopes the apiserver would reject
//! before ever calling the plugin.
//!
//! - v1 (apiserver pkg/storage/value/encrypt/envelope/envelope.go): `k8s:enc:kms:v1:<name>:` +
//!   u16 BE length + wrapped DEK + data encrypted with the DEK (AES-GCM, or AES-CBC before 1.25).
//!   A payload without a readable length prefix → `invalid data encountered by envelope
//!   transformer: failed to read uint16 length prefixed data`.
//! - v2 (…/envelope/kmsv2/envelope.go, v2/api.proto): `k8s:enc:kms:v2:<name>:` + protobuf
//!   EncryptedObject {1 encryptedData, 2 keyID, 3 encryptedDEKSource, 4 annotations (map), 5
//!   encryptedDEKSourceType}, validated by `ValidateEncryptedObject` (strings below are its own).

use crate::kube::Provider;
use crate::proto::{Fields, Value};
use serde::Serialize;

/// kmsv2 limits (envelope.go): keyID and encryptedDEKSource at most 1 KiB, annotations 32 KiB.
const KEY_ID_MAX: usize = 1024;
const DEK_SOURCE_MAX: usize = 1024;
const ANNOTATIONS_MAX: usize = 32 * 1024;

pub const V1_BAD_LENGTH: &str = crate::kube::transform_error::TransformError::KmsV1BadLength.text();

/// What a KMS envelope says about itself. Holds no key material (the DEK is only counted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KmsEnvelope {
    /// `kms` (v1) or `kmsv2`.
    pub version: Provider,
    /// The plugin name from the prefix.
    pub plugin: String,
    /// v2: the KMS key ID the DEK (or seed) was wrapped with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// v2: `AES_GCM_KEY` or `HKDF_SHA256_XNONCE_AES_GCM_SEED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dek_source_type: Option<String>,
    /// Length of the wrapped DEK (v1) or encryptedDEKSource (v2).
    pub wrapped_dek_bytes: usize,
    pub encrypted_data_bytes: usize,
    /// v2 annotation keys (values are plugin data and are not shown).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub annotation_keys: Vec<String>,
}

/// Parses a v1 payload (what follows `k8s:enc:kms:v1:<name>:`).
pub fn parse_v1(plugin: &str, payload: &[u8]) -> Result<KmsEnvelope, String> {
    let (len, rest) = match payload {
        [a, b, rest @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), rest),
        _ => return Err(V1_BAD_LENGTH.to_string()),
    };
    if rest.len() < len {
        return Err(V1_BAD_LENGTH.to_string());
    }
    Ok(KmsEnvelope {
        version: Provider::KmsV1,
        plugin: plugin.to_string(),
        key_id: None,
        dek_source_type: None,
        wrapped_dek_bytes: len,
        encrypted_data_bytes: rest.len() - len,
        annotation_keys: Vec::new(),
    })
}

/// Parses and validates a v2 payload (what follows `k8s:enc:kms:v2:<name>:`). Error strings are
/// the apiserver's, except the protobuf decoding failure, which google.golang.org/protobuf words
/// itself (and prefixes with a randomly chosen space or no-break space) *[derived]*.
pub fn parse_v2(plugin: &str, payload: &[u8]) -> Result<KmsEnvelope, String> {
    const PROTO_ERR: &str = crate::kube::transform_error::TransformError::KmsV2Proto.text();
    let mut data: &[u8] = &[];
    let mut key_id: &[u8] = &[];
    let mut dek: &[u8] = &[];
    let mut source_type: u64 = 0;
    let mut annotation_keys = Vec::new();
    let mut annotations_size: usize = 0;
    for f in Fields::new(payload) {
        let (n, v) = f.map_err(|_| PROTO_ERR.to_string())?;
        match (n, v) {
            (1, Value::Bytes(b)) => data = b,
            (2, Value::Bytes(b)) => key_id = b,
            (3, Value::Bytes(b)) => dek = b,
            (4, Value::Bytes(entry)) => {
                let mut k: &[u8] = &[];
                let mut val: &[u8] = &[];
                for e in Fields::new(entry) {
                    match e.map_err(|_| PROTO_ERR.to_string())? {
                        (1, Value::Bytes(b)) => k = b,
                        (2, Value::Bytes(b)) => val = b,
                        _ => {}
                    }
                }
                annotations_size = annotations_size
                    .saturating_add(k.len())
                    .saturating_add(val.len());
                annotation_keys.push(printable(k));
            }
            (5, Value::Varint(t)) => source_type = t,
            // Known fields with the wrong wire type are a decoding error in protobuf-go.
            (1..=5, _) => return Err(PROTO_ERR.to_string()),
            _ => {}
        }
    }
    if std::str::from_utf8(key_id).is_err() {
        return Err("proto: string field contains invalid UTF-8".to_string());
    }
    // ValidateEncryptedObject, in its order.
    let dek_source_type = match source_type {
        0 => "AES_GCM_KEY",
        1 => "HKDF_SHA256_XNONCE_AES_GCM_SEED",
        // Go prints the enum's int32 value.
        t => return Err(format!("unknown encryptedDEKSourceType: {}", t as i32)),
    };
    if data.is_empty() {
        return Err("encrypted data is empty".to_string());
    }
    if dek.is_empty() {
        return Err(
            "failed to validate encrypted DEK source: encrypted DEK source is empty".to_string(),
        );
    }
    if dek.len() > DEK_SOURCE_MAX {
        return Err(format!("failed to validate encrypted DEK source: encrypted DEK source is {} bytes, which exceeds the max size of {DEK_SOURCE_MAX}", dek.len()));
    }
    if key_id.is_empty() {
        return Err("failed to validate key id: keyID is empty".to_string());
    }
    if key_id.len() > KEY_ID_MAX {
        return Err(format!(
            "failed to validate key id: keyID is {} bytes, which exceeds the max size of {KEY_ID_MAX}",
            key_id.len()
        ));
    }
    // The apiserver also checks each annotation key is a DNS-1123 FQDN; we only check the size.
    if annotations_size > ANNOTATIONS_MAX {
        return Err(format!("failed to validate annotations: total size of annotations is {annotations_size}, which exceeds the max size of {ANNOTATIONS_MAX}"));
    }
    Ok(KmsEnvelope {
        version: Provider::KmsV2,
        plugin: plugin.to_string(),
        key_id: Some(printable(key_id)),
        dek_source_type: Some(dek_source_type.to_string()),
        wrapped_dek_bytes: dek.len(),
        encrypted_data_bytes: data.len(),
        annotation_keys,
    })
}

/// A short printable rendering of an identifier read from the record.
fn printable(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let mut out: String = s
        .chars()
        .take(128)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 128 {
        out.push('…');
    }
    out
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
    fn v1_envelope() {
        let mut p = vec![0, 3, 1, 2, 3];
        p.extend_from_slice(b"payload");
        let e = parse_v1("vault", &p).unwrap();
        assert_eq!((e.wrapped_dek_bytes, e.encrypted_data_bytes), (3, 7));
        assert_eq!(parse_v1("vault", &[0]).unwrap_err(), V1_BAD_LENGTH);
        assert_eq!(parse_v1("vault", &[0, 9, 1]).unwrap_err(), V1_BAD_LENGTH);
    }

    #[test]
    fn v2_envelope_and_validation() {
        let mut p = field(1, b"ciphertext");
        p.extend(field(2, b"key-id-7"));
        p.extend(field(3, b"wrapped-seed"));
        let mut ann = field(1, b"version.encryption.remote.io");
        ann.extend(field(2, b"1"));
        p.extend(field(4, &ann));
        p.extend([0x28, 1]);
        let e = parse_v2("kms-plugin", &p).unwrap();
        assert_eq!(e.key_id.as_deref(), Some("key-id-7"));
        assert_eq!(
            e.dek_source_type.as_deref(),
            Some("HKDF_SHA256_XNONCE_AES_GCM_SEED")
        );
        assert_eq!(e.annotation_keys, ["version.encryption.remote.io"]);
        assert_eq!((e.wrapped_dek_bytes, e.encrypted_data_bytes), (12, 10));

        let mut no_key = field(1, b"c");
        no_key.extend(field(3, b"d"));
        assert_eq!(
            parse_v2("p", &no_key).unwrap_err(),
            "failed to validate key id: keyID is empty"
        );
        let mut bad_type = no_key.clone();
        bad_type.extend([0x28, 7]);
        assert_eq!(
            parse_v2("p", &bad_type).unwrap_err(),
            "unknown encryptedDEKSourceType: 7"
        );
        assert_eq!(
            parse_v2("p", &field(2, b"k")).unwrap_err(),
            "encrypted data is empty"
        );
        assert_eq!(
            parse_v2("p", &[0x0a, 0x05, 1]).unwrap_err(),
            "proto: cannot parse invalid wire-format data"
        );
    }
}
