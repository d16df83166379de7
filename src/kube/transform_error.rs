//! The one table of kube-apiserver transform errors: what `TransformFromStorage` returns for a
//! record it cannot read, word for word, and whether we saw the string in an apiserver's own
//! output or derived it from the code (`derived`). `decrypt` predicts with these; `logs`
//! classifies against them; `report` marks the derived ones so they are never shown as an
//! apiserver's words.
//!
//! Upstream (kubernetes/apiserver, staging/src/k8s.io/apiserver):
//! - pkg/storage/value/transformer.go: `no matching prefix found`, and the aggregate `[a, b]`.
//! - pkg/storage/value/encrypt/aes/aes_cbc.go: block size, PKCS#7 and padding errors.
//! - pkg/storage/value/encrypt/aes/aes.go (aesgcm): Go's `cipher: message authentication failed`.
//! - pkg/storage/value/encrypt/secretbox/secretbox.go: `output array was not large enough …`.
//! - pkg/storage/value/encrypt/identity/identity.go: `identity transformer tried to read …`.
//! - pkg/storage/value/encrypt/envelope/envelope.go: the kms v1 length prefix error.

/// A transform error the apiserver returns (or, for the derived ones, would return).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TransformError {
    NoMatchingPrefix,
    NoAesKey,
    NoSecretboxKey,
    IdentityEncrypted,
    Short,
    CbcNotMultiple,
    CbcPkcs7,
    CbcPadding,
    /// An aescbc value that is exactly an IV: `aes_cbc.go` indexes `result[len(result)-1]` on an
    /// empty slice and the Go runtime panics with this message. Derived from the code.
    CbcIvOnlyPanic,
    GcmAuth,
    SecretboxOpen,
    KmsV1BadLength,
    /// google.golang.org/protobuf's own wording for a broken kms v2 envelope. Derived.
    KmsV2Proto,
    /// Ours: an aescbc key that passes the padding check by chance returns garbage, which the
    /// decoder then refuses with an error we do not reproduce. Derived.
    ChanceGarbage,
}

impl TransformError {
    pub const ALL: [TransformError; 14] = [
        TransformError::NoMatchingPrefix,
        TransformError::NoAesKey,
        TransformError::NoSecretboxKey,
        TransformError::IdentityEncrypted,
        TransformError::Short,
        TransformError::CbcNotMultiple,
        TransformError::CbcPkcs7,
        TransformError::CbcPadding,
        TransformError::CbcIvOnlyPanic,
        TransformError::GcmAuth,
        TransformError::SecretboxOpen,
        TransformError::KmsV1BadLength,
        TransformError::KmsV2Proto,
        TransformError::ChanceGarbage,
    ];

    /// The exact text (for derived errors: our best prediction, see [`Self::derived`]).
    pub const fn text(self) -> &'static str {
        match self {
            TransformError::NoMatchingPrefix => "no matching prefix found",
            TransformError::NoAesKey => {
                "no matching key was found for the provided AES transformer"
            }
            TransformError::NoSecretboxKey => {
                "no matching key was found for the provided Secretbox transformer"
            }
            TransformError::IdentityEncrypted => {
                "identity transformer tried to read encrypted data"
            }
            TransformError::Short => "the stored data was shorter than the required size",
            TransformError::CbcNotMultiple => {
                "the stored data is not a multiple of the block size"
            }
            TransformError::CbcPkcs7 => "invalid PKCS7 data (empty or not padded)",
            TransformError::CbcPadding => "invalid padding on input",
            TransformError::CbcIvOnlyPanic => "runtime error: index out of range [-1]",
            TransformError::GcmAuth => "cipher: message authentication failed",
            TransformError::SecretboxOpen => "output array was not large enough for encryption",
            TransformError::KmsV1BadLength => {
                "invalid data encountered by envelope transformer: failed to read uint16 length prefixed data"
            }
            TransformError::KmsV2Proto => "proto: cannot parse invalid wire-format data",
            TransformError::ChanceGarbage => {
                "wrong key passed the padding check by chance; the decoder fails on the garbage"
            }
        }
    }

    /// True when the text is not one seen from an apiserver but derived from code (or our own
    /// description): shown marked, never as an apiserver's error.
    pub const fn derived(self) -> bool {
        matches!(
            self,
            TransformError::CbcIvOnlyPanic
                | TransformError::KmsV2Proto
                | TransformError::ChanceGarbage
        )
    }

    /// The entry whose text is exactly `s`.
    pub fn from_text(s: &str) -> Option<TransformError> {
        Self::ALL.into_iter().find(|e| e.text() == s)
    }
}

/// The mark a derived string carries wherever it is shown.
pub const DERIVED_MARK: &str = "[derived] ";

/// True when an error line (one error, an aggregate `[a, b]`, or `panic: …`) contains a derived
/// string: shown with [`DERIVED_MARK`].
pub fn line_is_derived(line: &str) -> bool {
    line.starts_with(DERIVED_MARK)
        || TransformError::ALL
            .iter()
            .any(|e| e.derived() && line.contains(e.text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_unique_and_round_trip() {
        for e in TransformError::ALL {
            assert_eq!(TransformError::from_text(e.text()), Some(e));
        }
    }

    #[test]
    fn derived_strings_are_marked() {
        assert!(line_is_derived(TransformError::ChanceGarbage.text()));
        assert!(line_is_derived(
            "panic: runtime error: index out of range [-1]"
        ));
        assert!(!line_is_derived(
            "[invalid padding on input, no matching prefix found]"
        ));
        assert!(!TransformError::CbcPadding.derived());
    }
}
