//! secretbox: `k8s:enc:secretbox:v1:<name>:` + nonce(24) + NaCl secretbox (tag(16) + XSalsa20
//! ciphertext), 32-byte keys.
//!
//! kubernetes/apiserver pkg/storage/value/encrypt/secretbox/secretbox.go: `len(data) <
//! Overhead(16) + nonce(24)` → `the stored data was shorter than the required size`; a failed
//! Open → `output array was not large enough for encryption` (that is its authentication failure).

use xsalsa20poly1305::aead::Aead;
use xsalsa20poly1305::{KeyInit, XSalsa20Poly1305};

pub const NONCE: usize = 24;
pub const OVERHEAD: usize = 16;
pub const OPEN_FAILED: &str = crate::kube::transform_error::TransformError::SecretboxOpen.text();

/// A secretbox key. No Debug of the key material.
#[derive(Clone)]
pub struct SecretboxCipher(Box<XSalsa20Poly1305>);

impl std::fmt::Debug for SecretboxCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretboxCipher(..)")
    }
}

/// Why secretbox refuses a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretboxError {
    Short,
    Open,
}

impl SecretboxError {
    pub fn message(self) -> &'static str {
        match self {
            SecretboxError::Short => super::SHORT,
            SecretboxError::Open => OPEN_FAILED,
        }
    }
}

impl SecretboxCipher {
    /// A cipher for a 32-byte key; None for any other length.
    pub fn new(key: &[u8]) -> Option<SecretboxCipher> {
        (key.len() == 32).then(|| {
            SecretboxCipher(Box::new(XSalsa20Poly1305::new(
                xsalsa20poly1305::Key::from_slice(key),
            )))
        })
    }

    /// Opens `payload` (what follows `<name>:`).
    pub fn decrypt(&self, payload: &[u8]) -> Result<Vec<u8>, SecretboxError> {
        if payload.len() < NONCE + OVERHEAD {
            return Err(SecretboxError::Short);
        }
        let (nonce, boxed) = payload.split_at(NONCE);
        self.0
            .decrypt(xsalsa20poly1305::Nonce::from_slice(nonce), boxed)
            .map_err(|_| SecretboxError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::super::vectors::*;
    use super::*;

    #[test]
    fn opens_pynacl_boxes() {
        let c = SecretboxCipher::new(KEY1).unwrap();
        let p = SECRETBOX_KEY1
            .strip_prefix(b"k8s:enc:secretbox:v1:sb:")
            .unwrap();
        assert_eq!(c.decrypt(p).unwrap(), PLAIN);
        let other = SecretboxCipher::new(KEY_OTHER).unwrap();
        assert_eq!(other.decrypt(p), Err(SecretboxError::Open));
        assert_eq!(c.decrypt(&p[..39]), Err(SecretboxError::Short));
        assert_eq!(c.decrypt(&p[..40]), Err(SecretboxError::Open));
        assert!(SecretboxCipher::new(&KEY1[..16]).is_none());
    }
}
