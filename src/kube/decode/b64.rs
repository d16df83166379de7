//! Standard base64 (RFC 4648 §4, with `=` padding: what Go's `encoding/json` writes for a
//! `[]byte`), appended straight to an output buffer.
//!
//! `get --reveal` encodes every Secret value it prints — about 1 GB on the bench snapshot — so
//! this is on the hot path: a 4096-entry table maps 12 input bits to two output characters, and
//! the main loop turns 6 input bytes into 8 characters per step (one 8-byte load, four table
//! reads, one 8-byte store). On x86-64 with AVX2, 24 bytes become 32 characters per step first
//! (Muła and Lemire, "Faster Base64 Encoding and Decoding Using AVX2 Instructions", ACM TWEB
//! 2018: an in-lane shuffle, two multiplies to move the 6-bit fields, a 16-entry offset table).
//! Output is byte-identical to the `base64` crate's `STANDARD` engine (the tests compare them,
//! on both paths).

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
    out.reserve(len);
    let (i, o) = simd(src, out);
    // The tail (under 28 bytes of input) on zeroed bytes, which the table loop overwrites.
    out.resize(start + len, 0);
    scalar(src, &mut out[start..], i, o);
}

/// Encodes `src[i..]` into `dst[o..]` (`i` a multiple of 3, `dst` the full padded length).
fn scalar(src: &[u8], dst: &mut [u8], mut i: usize, mut o: usize) {
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

/// The AVX2 part, written into `out`'s spare capacity (which holds the whole encoding) and
/// appended: how much of `src` it encoded, as (bytes read, characters written); (0, 0) without
/// AVX2.
#[cfg(target_arch = "x86_64")]
fn simd(src: &[u8], out: &mut Vec<u8>) -> (usize, usize) {
    if src.len() < 28 || !std::arch::is_x86_feature_detected!("avx2") {
        return (0, 0);
    }
    let spare = out.spare_capacity_mut();
    // SAFETY: AVX2 is present (checked just above); `encode` writes only inside `spare`.
    let (i, o) = unsafe { avx2::encode(src, spare.as_mut_ptr().cast(), spare.len()) };
    // SAFETY: `encode` initialised the first `o` bytes of the spare capacity.
    unsafe { out.set_len(out.len() + o) };
    (i, o)
}

#[cfg(not(target_arch = "x86_64"))]
fn simd(_: &[u8], _: &mut Vec<u8>) -> (usize, usize) {
    (0, 0)
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Encodes 24-byte groups while 28 bytes can be read (each step loads 16 bytes at offsets
    /// 0 and 12); returns (bytes read, characters written).
    ///
    /// # Safety
    /// The CPU must support AVX2, and `dst` must be valid for writes of `dst_len` bytes. Loads
    /// stay inside `src`, stores inside `dst_len`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn encode(src: &[u8], dst: *mut u8, dst_len: usize) -> (usize, usize) {
        // Per 3 input bytes a, b, c: the 32-bit word [b, a, c, b] (little-endian), in each lane.
        let shuffle = _mm256_setr_epi8(
            1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10, //
            1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
        );
        // Added to each 6-bit index, chosen by its range: 0–25 'A', 26–51 'a', 52–61 '0',
        // 62 '+', 63 '/' (as wrapping i8).
        let offsets = _mm256_setr_epi8(
            71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0, //
            71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0,
        );
        let (mut i, mut o) = (0usize, 0usize);
        while i + 28 <= src.len() && o + 32 <= dst_len {
            // SAFETY (all intrinsics below): `i + 28 <= src.len()` covers both 16-byte loads,
            // `o + 32 <= dst_len` the store; unaligned loads and stores.
            let p = src.as_ptr().add(i);
            let lo = _mm_loadu_si128(p.cast());
            let hi = _mm_loadu_si128(p.add(12).cast());
            let v = _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(lo), hi);
            let w = _mm256_shuffle_epi8(v, shuffle);
            // Fields 0 and 2 to the low bits of their bytes, fields 1 and 3 up to theirs.
            let t0 = _mm256_and_si256(w, _mm256_set1_epi32(0x0fc0_fc00));
            let t1 = _mm256_mulhi_epu16(t0, _mm256_set1_epi32(0x0400_0040));
            let t2 = _mm256_and_si256(w, _mm256_set1_epi32(0x003f_03f0));
            let t3 = _mm256_mullo_epi16(t2, _mm256_set1_epi32(0x0100_0010));
            let idx = _mm256_or_si256(t1, t3);
            // Which offset: 0 for 26–51, 1–12 for 52–63 (saturating idx - 51), 13 for 0–25.
            let mut sel = _mm256_subs_epu8(idx, _mm256_set1_epi8(51));
            let less = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), idx);
            sel = _mm256_or_si256(sel, _mm256_and_si256(less, _mm256_set1_epi8(13)));
            let ascii = _mm256_add_epi8(_mm256_shuffle_epi8(offsets, sel), idx);
            _mm256_storeu_si256(dst.add(o).cast(), ascii);
            i += 24;
            o += 32;
        }
        (i, o)
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
            // The table loop alone, as on a CPU without AVX2.
            let mut plain = vec![0u8; want.len()];
            scalar(&data[..n], &mut plain, 0, 0);
            assert_eq!(plain, want.as_bytes(), "length {n}, no SIMD");
        }
        let all: Vec<u8> = (0..=255u8).cycle().take(4099).collect();
        let mut short = Vec::with_capacity(36);
        assert_eq!(simd(&all[..27], &mut short), (0, 0));
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
