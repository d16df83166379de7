//! aesgcm: `k8s:enc:aesgcm:v1:<name>:` + nonce(12) + ciphertext + tag(16), the additional
//! authenticated data being the full etcd key (so a value copied under another key fails).
//!
//! kubernetes/apiserver pkg/storage/value/encrypt/aes/aes.go `gcm.TransformFromStorage`:
//! `len(data) < nonceSize` → `the stored data was shorter than the required size`; otherwise Go's
//! `cipher.AEAD.Open`, whose only error (also for a body shorter than the tag) is
//! `cipher: message authentication failed` (crypto/cipher/gcm.go errOpen).

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{AesGcm, KeyInit, Nonce};

pub const NONCE: usize = 12;
pub const AUTH_FAILED: &str = crate::kube::transform_error::TransformError::GcmAuth.text();

type Aes192Gcm = AesGcm<aes::Aes192, aes_gcm::aead::consts::U12>;

/// An AES-GCM key, expanded once. No Debug of the key material.
#[derive(Clone)]
pub enum GcmCipher {
    A128(Box<aes_gcm::Aes128Gcm>),
    A192(Box<Aes192Gcm>),
    A256(Box<aes_gcm::Aes256Gcm>),
}

impl std::fmt::Debug for GcmCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GcmCipher(..)")
    }
}

/// Why aesgcm refuses a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcmError {
    Short,
    Auth,
}

impl GcmError {
    pub fn message(self) -> &'static str {
        match self {
            GcmError::Short => super::SHORT,
            GcmError::Auth => AUTH_FAILED,
        }
    }
}

impl GcmCipher {
    /// A cipher for a 16, 24 or 32-byte key; None for any other length.
    pub fn new(key: &[u8]) -> Option<GcmCipher> {
        Some(match key.len() {
            16 => GcmCipher::A128(Box::new(aes_gcm::Aes128Gcm::new_from_slice(key).ok()?)),
            24 => GcmCipher::A192(Box::new(Aes192Gcm::new_from_slice(key).ok()?)),
            32 => GcmCipher::A256(Box::new(aes_gcm::Aes256Gcm::new_from_slice(key).ok()?)),
            _ => return None,
        })
    }

    /// Opens `payload` (what follows `<name>:`) with `aad` = the full etcd key.
    pub fn decrypt(&self, payload: &[u8], aad: &[u8]) -> Result<Vec<u8>, GcmError> {
        if payload.len() < NONCE {
            return Err(GcmError::Short);
        }
        let (nonce, body) = payload.split_at(NONCE);
        let nonce = Nonce::from_slice(nonce);
        let msg = Payload { msg: body, aad };
        let r = match self {
            GcmCipher::A128(c) => c.decrypt(nonce, msg),
            GcmCipher::A192(c) => c.decrypt(nonce, msg),
            GcmCipher::A256(c) => c.decrypt(nonce, msg),
        };
        r.map_err(|_| GcmError::Auth)
    }
}

#[cfg(test)]
mod tests {
    use super::super::vectors::*;
    use super::*;

    #[test]
    fn opens_with_the_etcd_key_as_aad() {
        let c = GcmCipher::new(&KEY1[..16]).unwrap();
        let p = GCM_KEY1_128.strip_prefix(b"k8s:enc:aesgcm:v1:gk:").unwrap();
        assert_eq!(c.decrypt(p, GCM_ETCD_KEY).unwrap(), PLAIN);
        // The same bytes under another etcd key fail authentication.
        assert_eq!(
            c.decrypt(p, b"/registry/secrets/default/s2"),
            Err(GcmError::Auth)
        );
        let other = GcmCipher::new(&KEY_OTHER[..16]).unwrap();
        assert_eq!(other.decrypt(p, GCM_ETCD_KEY), Err(GcmError::Auth));
        assert_eq!(c.decrypt(&p[..11], GCM_ETCD_KEY), Err(GcmError::Short));
        // Nonce present, body shorter than the tag: Go's Open says authentication failed.
        assert_eq!(c.decrypt(&p[..20], GCM_ETCD_KEY), Err(GcmError::Auth));
        assert_eq!(
            GcmError::Auth.message(),
            "cipher: message authentication failed"
        );
    }
}
