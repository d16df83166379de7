//! Standard base64 (RFC 4648 §4, with `=` padding: what Go's `encoding/json` writes for a
//! `[]byte`), appended straight to an output buffer.
//!
//! `get --reveal` encodes every Secret value it prints — about 1 GB on the bench snapshot — so
//! this is on the hot path: a 4096-entry table maps 12 input bits to two output characters, and
//! the main loop turns 6 input bytes into 8 characters per step (one 8-byte load, four table
//! reads, one 8-byte store). Output is byte-identical to the `base64` crate's `STANDARD` engine
//! (the tests compare them).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Two characters for each 12-bit value, first character in the low byte.
static PAIRS: [u16; 4096] = pairs();

const fn pairs() -> [u16; 4096] {
    let mut t = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = ALPHABET[i >> 6] as u16 | ((ALPHABET[i & 63] as u16) << 8);
        i += 1;
    }
    t
}

/// The encoded length of `n` bytes (padded); None on overflow.
pub fn encoded_len(n: usize) -> Option<usize> {
    n.div_ceil(3).checked_mul(4)
}

/// Appends the base64 of `src` to `out`.
pub fn encode_into(src: &[u8], out: &mut Vec<u8>) {
    let Some(len) = encoded_len(src.len()) else {
        return;
    };
    let start = out.len();
    out.resize(start + len, 0);
    let dst = &mut out[start..];
    let (mut i, mut o) = (0usize, 0usize);
    // 6 bytes in, 8 characters out; the 8-byte load needs 2 bytes of slack.
    while let (Some(w), Some(d)) = (src.get(i..i + 8), dst.get_mut(o..o + 8)) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let w = u64::from_be_bytes(a);
        let p = |shift: u32| u64::from(PAIRS[((w >> shift) & 0xfff) as usize]);
        let v = p(52) | p(40) << 16 | p(28) << 32 | p(16) << 48;
        d.copy_from_slice(&v.to_le_bytes());
        i += 6;
        o += 8;
    }
    // The rest, 3 bytes at a time, then the padded tail.
    while let (Some(s), Some(d)) = (src.get(i..i + 3), dst.get_mut(o..o + 4)) {
        let n = u32::from(s[0]) << 16 | u32::from(s[1]) << 8 | u32::from(s[2]);
        let hi = PAIRS[(n >> 12) as usize].to_le_bytes();
        let lo = PAIRS[(n & 0xfff) as usize].to_le_bytes();
        d.copy_from_slice(&[hi[0], hi[1], lo[0], lo[1]]);
        i += 3;
        o += 4;
    }
    let rest = src.get(i..).unwrap_or(&[]);
    if let Some(d) = dst.get_mut(o..o + 4) {
        let ch = |x: u32| ALPHABET[(x & 63) as usize];
        match *rest {
            [a] => {
                let n = u32::from(a) << 16;
                d.copy_from_slice(&[ch(n >> 18), ch(n >> 12), b'=', b'=']);
            }
            [a, b] => {
                let n = u32::from(a) << 16 | u32::from(b) << 8;
                d.copy_from_slice(&[ch(n >> 18), ch(n >> 12), ch(n >> 6), b'=']);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn same_as_the_base64_crate() {
        // Every length up to 300 (all tails and loop boundaries), over varied bytes.
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for n in 0..data.len() {
            let mut out = b"x".to_vec();
            encode_into(&data[..n], &mut out);
            let want = base64::engine::general_purpose::STANDARD.encode(&data[..n]);
            assert_eq!(&out[1..], want.as_bytes(), "length {n}");
        }
        let all: Vec<u8> = (0..=255u8).cycle().take(4099).collect();
        let mut out = Vec::new();
        encode_into(&all, &mut out);
        assert_eq!(
            out,
            base64::engine::general_purpose::STANDARD
                .encode(&all)
                .into_bytes()
        );
    }
}
