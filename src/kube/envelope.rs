//! What a stored value is: plaintext protobuf, plaintext JSON, encrypted by a provider, or other.
//!
//! Prefixes come from kube-apiserver's encryption config
//! (staging/src/k8s.io/apiserver/pkg/server/options/encryptionconfig/config.go):
//! `k8s:enc:<provider>:v1:<keyname>:` for aescbc, aesgcm and secretbox, `k8s:enc:kms:v1:<plugin>:`
//! and `k8s:enc:kms:v2:<plugin>:` for KMS. Key names may themselves contain `:`, so the key name is
//! only known once it is matched against configured names; [`Envelope::Encrypted::rest`] keeps the
//! bytes after the provider prefix for the decrypt layer to match.

use serde::Serialize;

/// The plaintext protobuf magic kube-apiserver writes before a `runtime.Unknown`
/// (apimachinery/pkg/runtime/serializer/protobuf/protobuf.go).
pub const PROTOBUF_MAGIC: &[u8] = b"k8s\x00";

/// An encryption-at-rest provider, as named in stored prefixes and in EncryptionConfiguration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Aescbc,
    Aesgcm,
    Secretbox,
    #[serde(rename = "kms")]
    KmsV1,
    #[serde(rename = "kmsv2")]
    KmsV2,
    Identity,
}

impl Provider {
    /// The provider's name as EncryptionConfiguration spells it.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Aescbc => "aescbc",
            Provider::Aesgcm => "aesgcm",
            Provider::Secretbox => "secretbox",
            Provider::KmsV1 => "kms",
            Provider::KmsV2 => "kmsv2",
            Provider::Identity => "identity",
        }
    }

    /// The stored prefix before the key (or KMS plugin) name, e.g. `k8s:enc:aescbc:v1:`.
    pub fn prefix(self) -> &'static [u8] {
        match self {
            Provider::Aescbc => b"k8s:enc:aescbc:v1:",
            Provider::Aesgcm => b"k8s:enc:aesgcm:v1:",
            Provider::Secretbox => b"k8s:enc:secretbox:v1:",
            Provider::KmsV1 => b"k8s:enc:kms:v1:",
            Provider::KmsV2 => b"k8s:enc:kms:v2:",
            Provider::Identity => b"",
        }
    }

    /// Providers that write a `k8s:enc:` prefix, in the order they are tried when classifying.
    pub const ENCRYPTING: [Provider; 5] = [
        Provider::Aescbc,
        Provider::Aesgcm,
        Provider::Secretbox,
        Provider::KmsV1,
        Provider::KmsV2,
    ];
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A stored value's outer shape. Borrows from the value bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Envelope<'a> {
    /// `k8s\x00` + runtime.Unknown (the body after the magic).
    Protobuf(&'a [u8]),
    /// A JSON object (custom resources, or apiservers configured for JSON storage).
    Json(&'a [u8]),
    /// `k8s:enc:<provider>:v1:` followed by `rest` = `<keyname>:<payload>` (or `<plugin>:<payload>`).
    Encrypted { provider: Provider, rest: &'a [u8] },
    /// An unknown `k8s:enc:` provider: still encrypted, never plaintext.
    UnknownEncrypted(&'a [u8]),
    /// Anything else (empty, YAML, raw text, binary).
    Other(&'a [u8]),
}

impl<'a> Envelope<'a> {
    /// Classifies a stored value by its prefix. O(1); never fails.
    pub fn classify(value: &'a [u8]) -> Envelope<'a> {
        if let Some(body) = value.strip_prefix(PROTOBUF_MAGIC) {
            return Envelope::Protobuf(body);
        }
        if value.starts_with(b"k8s:enc:") {
            for p in Provider::ENCRYPTING {
                if let Some(rest) = value.strip_prefix(p.prefix()) {
                    return Envelope::Encrypted { provider: p, rest };
                }
            }
            return Envelope::UnknownEncrypted(value);
        }
        // JSON storage: leading whitespace is not written by the apiserver's encoder, so a value
        // starting with `{` is the only JSON shape we accept.
        if value.first() == Some(&b'{') {
            return Envelope::Json(value);
        }
        Envelope::Other(value)
    }

    /// A short label for listings: `protobuf`, `json`, `aescbc`, …, `other`.
    pub fn label(&self) -> &'static str {
        match self {
            Envelope::Protobuf(_) => "protobuf",
            Envelope::Json(_) => "json",
            Envelope::Encrypted { provider, .. } => provider.name(),
            Envelope::UnknownEncrypted(_) => "encrypted-unknown",
            Envelope::Other(_) => "other",
        }
    }

    /// True when the value is stored encrypted (by any provider, known or not).
    pub fn is_encrypted(&self) -> bool {
        matches!(
            self,
            Envelope::Encrypted { .. } | Envelope::UnknownEncrypted(_)
        )
    }

    /// The key (or KMS plugin) name as far as it can be told without a config: the bytes before the
    /// first `:`. Names containing `:` are matched exactly by the decrypt layer; this is for display.
    pub fn key_name_guess(&self) -> Option<&'a [u8]> {
        match self {
            Envelope::Encrypted { rest, .. } => {
                let end = memchr::memchr(b':', rest)?;
                Some(&rest[..end])
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_shape() {
        assert_eq!(
            Envelope::classify(b"k8s\x00\x0a\x02"),
            Envelope::Protobuf(b"\x0a\x02")
        );
        assert_eq!(
            Envelope::classify(b"{\"a\":1}"),
            Envelope::Json(b"{\"a\":1}")
        );
        assert_eq!(
            Envelope::classify(b"k8s:enc:aescbc:v1:key1:xyz"),
            Envelope::Encrypted {
                provider: Provider::Aescbc,
                rest: b"key1:xyz"
            }
        );
        assert_eq!(
            Envelope::classify(b"k8s:enc:kms:v2:plug:xyz"),
            Envelope::Encrypted {
                provider: Provider::KmsV2,
                rest: b"plug:xyz"
            }
        );
        assert!(matches!(
            Envelope::classify(b"k8s:enc:rot13:v1:k:x"),
            Envelope::UnknownEncrypted(_)
        ));
        assert!(matches!(Envelope::classify(b""), Envelope::Other(_)));
    }

    #[test]
    fn key_name_guess_stops_at_first_colon() {
        let e = Envelope::classify(b"k8s:enc:aescbc:v1:a:b:payload");
        assert_eq!(e.key_name_guess(), Some(&b"a"[..]));
    }
}
