//! aescbc: `k8s:enc:aescbc:v1:<name>:` + IV(16) + AES-CBC ciphertext with PKCS#7 padding.
//!
//! Semantics and error strings are kube-apiserver's (kubernetes/apiserver
//! pkg/storage/value/encrypt/aes/aes.go, `cbc.TransformFromStorage`, unchanged since 2017):
//!
//! 1. `len(data) < 16` (shorter than the IV) → `the stored data was shorter than the required size`
//! 2. ciphertext after the IV not a multiple of 16 → `the stored data is not a multiple of the block size`
//! 3. ciphertext empty (exactly an IV): Go indexes `result[len(result)-1]` on an empty slice and
//!    panics — `runtime error: index out of range [-1]` *[derived from the code; not seen in a log]*
//! 4. `c` = last plaintext byte; `c == 0 || c > len` → `invalid PKCS7 data (empty or not padded)`
//! 5. any of the last `c` bytes != `c` → `invalid padding on input`
//!
//! A trial is O(1) whatever the value's size: the padding verdict needs only the last block
//! (and, for `c > 16`, the few blocks the padding spans), the plaintext's shape only the first
//! block, XORed with the IV. A wrong key passes the padding check by chance (last byte 0x01 is
//! 1/256, 0x02 0x02 1/65536, …); only a plausible first block makes it count as decrypting.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, KeyInit};

pub const BLOCK: usize = 16;

type Block = GenericArray<u8, aes::cipher::consts::U16>;

/// An AES decryption key schedule, expanded once per key. Holds key material: no Debug of it.
#[derive(Clone)]
pub enum CbcCipher {
    A128(aes::Aes128Dec),
    A192(aes::Aes192Dec),
    A256(aes::Aes256Dec),
}

impl std::fmt::Debug for CbcCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CbcCipher::A128(_) => "CbcCipher(AES-128)",
            CbcCipher::A192(_) => "CbcCipher(AES-192)",
            CbcCipher::A256(_) => "CbcCipher(AES-256)",
        })
    }
}

/// Why aescbc refuses a value; [`CbcError::message`] is the apiserver's string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CbcError {
    Short,
    NotMultiple,
    /// Exactly an IV and no ciphertext: the apiserver panics.
    EmptyPanics,
    Pkcs7Data,
    Padding,
}

impl CbcError {
    pub fn message(self) -> &'static str {
        match self {
            CbcError::Short => super::SHORT,
            CbcError::NotMultiple => {
                crate::kube::transform_error::TransformError::CbcNotMultiple.text()
            }
            CbcError::EmptyPanics => {
                crate::kube::transform_error::TransformError::CbcIvOnlyPanic.text()
            }
            CbcError::Pkcs7Data => crate::kube::transform_error::TransformError::CbcPkcs7.text(),
            CbcError::Padding => crate::kube::transform_error::TransformError::CbcPadding.text(),
        }
    }
}

/// The outcome of one record × key trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CbcTrial {
    /// Padding valid and the first block is a plausible Kubernetes value: this key decrypts it.
    Plausible,
    /// Padding valid by chance, first block is garbage: the apiserver would accept it and hand
    /// garbage to the decoder. Not a decryption.
    Garbage,
    Failed(CbcError),
}

impl CbcCipher {
    /// A cipher for a 16, 24 or 32-byte key; None for any other length.
    pub fn new(key: &[u8]) -> Option<CbcCipher> {
        Some(match key.len() {
            16 => CbcCipher::A128(aes::Aes128Dec::new_from_slice(key).ok()?),
            24 => CbcCipher::A192(aes::Aes192Dec::new_from_slice(key).ok()?),
            32 => CbcCipher::A256(aes::Aes256Dec::new_from_slice(key).ok()?),
            _ => return None,
        })
    }

    #[inline]
    fn decrypt_blocks(&self, blocks: &mut [Block]) {
        match self {
            CbcCipher::A128(c) => c.decrypt_blocks(blocks),
            CbcCipher::A192(c) => c.decrypt_blocks(blocks),
            CbcCipher::A256(c) => c.decrypt_blocks(blocks),
        }
    }

    /// One record × key trial. `payload` is what follows `k8s:enc:aescbc:v1:<name>:`.
    pub fn trial(&self, payload: &[u8]) -> CbcTrial {
        let mut one = [CbcTrial::Garbage];
        self.trial_batch(&[payload], &mut one);
        one[0]
    }

    /// Trials for up to 4 payloads with one key: their first and last blocks go through AES
    /// together, which lets the AES-NI backend pipeline 8 blocks. `out.len()` must equal
    /// `payloads.len()`; extra payloads beyond 4 are handled in further rounds.
    pub fn trial_batch(&self, payloads: &[&[u8]], out: &mut [CbcTrial]) {
        for (ps, os) in payloads.chunks(4).zip(out.chunks_mut(4)) {
            self.trial_batch4(ps, os);
        }
    }

    fn trial_batch4(&self, payloads: &[&[u8]], out: &mut [CbcTrial]) {
        // Up to 8 blocks: [first0, last0, first1, last1, …]; `ok[i]` = structurally valid.
        let mut blocks = [Block::default(); 8];
        let mut live = [false; 4];
        let mut n = 0;
        for (i, p) in payloads.iter().enumerate().take(4) {
            match structure(p) {
                Err(e) => {
                    if let Some(o) = out.get_mut(i) {
                        *o = CbcTrial::Failed(e);
                    }
                }
                Ok(ct) => {
                    live[i] = true;
                    let nb = ct.len() / BLOCK;
                    blocks[2 * i].copy_from_slice(block_at(ct, 0));
                    blocks[2 * i + 1].copy_from_slice(block_at(ct, nb - 1));
                    n = 2 * i + 2;
                }
            }
        }
        if n == 0 {
            return;
        }
        self.decrypt_blocks(&mut blocks[..n]);
        for (i, p) in payloads.iter().enumerate().take(4) {
            if !live[i] {
                continue;
            }
            let (iv, ct) = p.split_at(BLOCK);
            let nb = ct.len() / BLOCK;
            let mut first = [0u8; BLOCK];
            xor_into(&mut first, &blocks[2 * i], iv);
            let mut last = [0u8; BLOCK];
            let prev = if nb >= 2 { block_at(ct, nb - 2) } else { iv };
            xor_into(&mut last, &blocks[2 * i + 1], prev);
            let verdict = self.verdict(iv, ct, &first, &last);
            if let Some(o) = out.get_mut(i) {
                *o = verdict;
            }
        }
    }

    /// Padding verdict from the decrypted last block (reaching back when `c > 16`), then the
    /// shape verdict from the decrypted first block.
    fn verdict(&self, iv: &[u8], ct: &[u8], first: &[u8; 16], last: &[u8; 16]) -> CbcTrial {
        let len = ct.len();
        let c = usize::from(last[BLOCK - 1]);
        if c == 0 || c > len {
            return CbcTrial::Failed(CbcError::Pkcs7Data);
        }
        let in_last = c.min(BLOCK);
        if last[BLOCK - in_last..].iter().any(|&b| usize::from(b) != c) {
            return CbcTrial::Failed(CbcError::Padding);
        }
        if c > BLOCK && !self.earlier_padding_ok(iv, ct, c) {
            return CbcTrial::Failed(CbcError::Padding);
        }
        let plain_len = len - c;
        // The first block holds plaintext up to plain_len bytes (padding after that, which the
        // padding check already vouched for).
        let shown = plain_len.min(BLOCK);
        if plausible_start(&first[..shown]) {
            CbcTrial::Plausible
        } else {
            CbcTrial::Garbage
        }
    }

    /// For `c > 16`: the padding bytes before the last block must all be `c` too. Decrypts at
    /// most 15 more blocks.
    fn earlier_padding_ok(&self, iv: &[u8], ct: &[u8], c: usize) -> bool {
        let len = ct.len();
        let start = len - c;
        let nb = len / BLOCK;
        for b in start / BLOCK..nb - 1 {
            let mut blk = [Block::clone_from_slice(block_at(ct, b))];
            self.decrypt_blocks(&mut blk);
            let prev = if b == 0 { iv } else { block_at(ct, b - 1) };
            let mut p = [0u8; BLOCK];
            xor_into(&mut p, &blk[0], prev);
            let from = start.saturating_sub(b * BLOCK).min(BLOCK);
            if p[from..].iter().any(|&x| usize::from(x) != c) {
                return false;
            }
        }
        true
    }

    /// Full decryption with the apiserver's checks; the plaintext without padding.
    pub fn decrypt(&self, payload: &[u8]) -> Result<Vec<u8>, CbcError> {
        let mut out = Vec::new();
        self.decrypt_into(payload, &mut out)?;
        Ok(out)
    }

    /// [`CbcCipher::decrypt`] into `out` (replacing its contents), so a caller decrypting many
    /// records reuses one buffer. On error `out` holds no plaintext.
    pub fn decrypt_into(&self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), CbcError> {
        /// Blocks per AES call: on the stack, enough for AES-NI's 8-block pipelining.
        const BATCH: usize = 32;
        let ct = structure(payload)?;
        out.clear();
        out.reserve(ct.len());
        let mut blocks = [Block::default(); BATCH];
        // payload = IV || ciphertext, so the block before ciphertext block k (the IV for k = 0)
        // is payload's block k.
        for (chunk, prev) in ct.chunks(BLOCK * BATCH).zip(payload.chunks(BLOCK * BATCH)) {
            let n = chunk.len() / BLOCK;
            for (b, c) in blocks.iter_mut().zip(chunk.chunks_exact(BLOCK)) {
                b.copy_from_slice(c);
            }
            self.decrypt_blocks(&mut blocks[..n]);
            for (b, p) in blocks[..n].iter().zip(prev.chunks_exact(BLOCK)) {
                let mut x = [0u8; BLOCK];
                x.copy_from_slice(b);
                let mut y = [0u8; BLOCK];
                y.copy_from_slice(p);
                out.extend_from_slice(
                    &(u128::from_ne_bytes(x) ^ u128::from_ne_bytes(y)).to_ne_bytes(),
                );
            }
        }
        let fail = |out: &mut Vec<u8>, e| {
            out.clear();
            Err(e)
        };
        let Some(&last) = out.last() else {
            return fail(out, CbcError::EmptyPanics);
        };
        let c = usize::from(last);
        if c == 0 || c > out.len() {
            return fail(out, CbcError::Pkcs7Data);
        }
        let size = out.len() - c;
        if out[size..].iter().any(|&b| usize::from(b) != c) {
            return fail(out, CbcError::Padding);
        }
        out.truncate(size);
        Ok(())
    }
}

/// Checks lengths in the apiserver's order; returns the ciphertext after the IV.
#[inline]
fn structure(payload: &[u8]) -> Result<&[u8], CbcError> {
    if payload.len() < BLOCK {
        return Err(CbcError::Short);
    }
    let ct = &payload[BLOCK..];
    if !ct.len().is_multiple_of(BLOCK) {
        return Err(CbcError::NotMultiple);
    }
    if ct.is_empty() {
        return Err(CbcError::EmptyPanics);
    }
    Ok(ct)
}

/// Block `i` of `ct`; callers guarantee `ct.len() >= (i + 1) * 16`.
#[inline]
fn block_at(ct: &[u8], i: usize) -> &[u8] {
    &ct[i * BLOCK..(i + 1) * BLOCK]
}

#[inline]
fn xor_into(out: &mut [u8; BLOCK], a: &Block, b: &[u8]) {
    for ((o, x), y) in out.iter_mut().zip(a.iter()).zip(b.iter()) {
        *o = x ^ y;
    }
}

/// True when `p` (the first ≤16 plaintext bytes) starts like something kube-apiserver stores:
///
/// - `k8s\x00` + runtime.Unknown whose first field is typeMeta (tag 0x0a) holding apiVersion
///   (0x0a) and/or kind (0x12) as printable ASCII — checked as far as the bytes go;
/// - `{` followed by JSON-ish printable ASCII (custom resources, JSON storage);
/// - `\xd9\xd9\xf7` (CBOR self-describe tag, Kubernetes 1.32+ CBOR storage) followed by a map.
pub fn plausible_start(p: &[u8]) -> bool {
    if let Some(rest) = p.strip_prefix(b"k8s\x00") {
        return plausible_unknown_prefix(rest);
    }
    if let Some(rest) = p.strip_prefix(b"{") {
        return rest
            .iter()
            .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    }
    if let Some(rest) = p.strip_prefix(b"\xd9\xd9\xf7") {
        return rest.first().is_some_and(|&b| (0xa0..=0xbf).contains(&b));
    }
    false
}

/// The start of a runtime.Unknown: `0x0a <len> { (0x0a|0x12) <len> <printable…> }*`, checked
/// until the bytes run out. An Unknown with no bytes at all is not plausible.
fn plausible_unknown_prefix(b: &[u8]) -> bool {
    let mut it = b.iter().copied();
    match it.next() {
        Some(0x0a) => {}
        _ => return false,
    }
    // typeMeta length: one- or two-byte varint.
    match it.next() {
        None => return true,
        Some(l) if l & 0x80 != 0 => match it.next() {
            None => return true,
            Some(h) if h & 0x80 != 0 => return false,
            Some(_) => {}
        },
        Some(_) => {}
    }
    loop {
        match it.next() {
            None => return true,
            Some(0x0a) | Some(0x12) => {}
            Some(_) => return false,
        }
        let Some(len) = it.next() else { return true };
        if len & 0x80 != 0 {
            return false;
        }
        for _ in 0..len {
            match it.next() {
                None => return true,
                Some(c) if c.is_ascii_graphic() => {}
                Some(_) => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::vectors::*;
    use super::*;

    fn payload(v: &[u8], prefix: &[u8]) -> Vec<u8> {
        v.strip_prefix(prefix).unwrap().to_vec()
    }

    #[test]
    fn right_key_decrypts_and_is_plausible() {
        let c = CbcCipher::new(KEY1).unwrap();
        let p = payload(CBC_KEY1, b"k8s:enc:aescbc:v1:key1:");
        assert_eq!(c.trial(&p), CbcTrial::Plausible);
        assert_eq!(c.decrypt(&p).unwrap(), PLAIN);
        let p = payload(CBC_SHORT_JSON, b"k8s:enc:aescbc:v1:key1:");
        assert_eq!(c.trial(&p), CbcTrial::Plausible);
        assert_eq!(c.decrypt(&p).unwrap(), b"{}");
    }

    #[test]
    fn wrong_keys_give_the_apiserver_errors() {
        let p = payload(CBC_KEY1, b"k8s:enc:aescbc:v1:key1:");
        let t = |k: &[u8]| CbcCipher::new(k).unwrap().trial(&p);
        let d = |k: &[u8]| CbcCipher::new(k).unwrap().decrypt(&p).map(|_| ());
        assert_eq!(
            t(WRONG_KEY_BAD_PADDING),
            CbcTrial::Failed(CbcError::Padding)
        );
        assert_eq!(d(WRONG_KEY_BAD_PADDING), Err(CbcError::Padding));
        assert_eq!(
            t(WRONG_KEY_BAD_PKCS7),
            CbcTrial::Failed(CbcError::Pkcs7Data)
        );
        assert_eq!(d(WRONG_KEY_BAD_PKCS7), Err(CbcError::Pkcs7Data));
        assert_eq!(t(KEY_OTHER), CbcTrial::Failed(CbcError::Pkcs7Data));
        // Passes the padding check by chance: the apiserver accepts it, we do not.
        assert_eq!(t(WRONG_KEY_PADDING_PASSES), CbcTrial::Garbage);
        assert!(d(WRONG_KEY_PADDING_PASSES).is_ok());
    }

    #[test]
    fn length_checks_in_apiserver_order() {
        let c = CbcCipher::new(KEY1).unwrap();
        assert_eq!(c.trial(&[0u8; 15]), CbcTrial::Failed(CbcError::Short));
        assert_eq!(c.trial(&[]), CbcTrial::Failed(CbcError::Short));
        assert_eq!(c.trial(&[0u8; 16]), CbcTrial::Failed(CbcError::EmptyPanics));
        assert_eq!(c.trial(&[0u8; 17]), CbcTrial::Failed(CbcError::NotMultiple));
        assert_eq!(c.trial(&[0u8; 47]), CbcTrial::Failed(CbcError::NotMultiple));
        assert_eq!(c.decrypt(&[0u8; 15]), Err(CbcError::Short));
        assert_eq!(
            CbcError::Short.message(),
            "the stored data was shorter than the required size"
        );
    }

    /// Padding longer than a block (c > 16) reaches into earlier blocks, like Go's loop.
    #[test]
    fn long_padding_spans_blocks() {
        use aes::cipher::BlockEncrypt;
        let enc = aes::Aes256Enc::new_from_slice(KEY1).unwrap();
        let iv = [7u8; 16];
        let cbc = |plain: &[u8]| {
            let mut prev = iv;
            let mut out = iv.to_vec();
            for chunk in plain.chunks(16) {
                let mut b = Block::clone_from_slice(chunk);
                for (x, p) in b.iter_mut().zip(prev.iter()) {
                    *x ^= p;
                }
                enc.encrypt_block(&mut b);
                prev.copy_from_slice(&b);
                out.extend_from_slice(&b);
            }
            out
        };
        let c = CbcCipher::new(KEY1).unwrap();
        // "{}" + 30 bytes of 30: valid per Go (c <= len, all c bytes equal).
        let mut plain = b"{}".to_vec();
        plain.extend(std::iter::repeat_n(30u8, 30));
        let v = cbc(&plain);
        assert_eq!(c.trial(&v), CbcTrial::Plausible);
        assert_eq!(c.decrypt(&v).unwrap(), b"{}");
        // Break one padding byte in the first block.
        let mut bad = plain.clone();
        bad[5] = 29;
        let v = cbc(&bad);
        assert_eq!(c.trial(&v), CbcTrial::Failed(CbcError::Padding));
        assert_eq!(c.decrypt(&v), Err(CbcError::Padding));
        // c == len: empty plaintext, valid padding, nothing to look at: not plausible.
        let v = cbc(&[32u8; 32]);
        assert_eq!(c.trial(&v), CbcTrial::Garbage);
        assert_eq!(c.decrypt(&v).unwrap(), b"");
    }

    #[test]
    fn batch_equals_single() {
        let good = payload(CBC_KEY1, b"k8s:enc:aescbc:v1:key1:");
        let short = payload(CBC_SHORT_JSON, b"k8s:enc:aescbc:v1:key1:");
        let ps: Vec<&[u8]> = vec![&good, &[0u8; 16], &short, &good[..20], &good, &short];
        for k in [
            KEY1,
            KEY_OTHER,
            WRONG_KEY_PADDING_PASSES,
            WRONG_KEY_BAD_PADDING,
        ] {
            let c = CbcCipher::new(k).unwrap();
            let mut out = vec![CbcTrial::Garbage; ps.len()];
            c.trial_batch(&ps, &mut out);
            let single: Vec<_> = ps.iter().map(|p| c.trial(p)).collect();
            assert_eq!(out, single);
        }
    }

    #[test]
    fn shapes() {
        assert!(plausible_start(b"k8s\x00\x0a\x0c\x0a\x02v1\x12\x06Secr"));
        assert!(plausible_start(b"k8s\x00\x0a\x08\x12\x06Secret"));
        assert!(plausible_start(b"{\"kind\":\"Widget"));
        assert!(plausible_start(b"{}"));
        assert!(plausible_start(b"\xd9\xd9\xf7\xa4"));
        assert!(!plausible_start(b"k8s\x00"));
        assert!(!plausible_start(b"k8s\x00\x12\x02ab"));
        assert!(!plausible_start(b"k8s\x00\x0a\x0c\x0a\x02v\x01"));
        assert!(!plausible_start(b"{\x00\x01"));
        assert!(!plausible_start(b""));
        assert!(!plausible_start(b"\x93k8s\x00\x0a"));
    }
}
