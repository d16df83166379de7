//! CRC-32C (Castagnoli), the checksum behind `etcdctl snapshot status`'s hash and etcd's HashKV
//! (`crc32.MakeTable(crc32.Castagnoli)` in etcd's `etcdutl/snapshot/v3_snapshot.go` and
//! `server/storage/mvcc/hash.go`), with the same `append` semantics as `crc32c::crc32c_append`.
//!
//! Why our own: status, hashkv and compare spend most of their CPU in CRC-32C over values of a
//! few KiB (docs/performance.md, sixth round). The `crc32` instruction the `crc32c` crate uses
//! is bound by its 3-cycle latency (three interleaved streams at best, only for long inputs);
//! carry-less multiplication folds 256 bytes per step in four independent 512-bit accumulators
//! (the folding of Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ",
//! 2009), several times the `crc32` instruction's rate on CPUs with VPCLMULQDQ and AVX-512.
//! Inputs shorter than [`FOLD_MIN`] and CPUs without those instructions use the crate.
//!
//! Bits are reflected (bit 0 of byte 0 is the highest power). A 16-byte lane loaded little-endian
//! stands for `A(x)·x^64 + B(x)` (A from bytes 0..8, B from 8..16); moving it `D` bits towards the
//! end multiplies it by `x^D`, which the two carry-less products `a ⊗ K1 ⊕ b ⊗ K2` give modulo
//! P with `K1 = x^(63+D) mod P`, `K2 = x^(D-1) mod P`, each bit-reversed into 64 bits (the product
//! of two reflected 64-bit values comes out one bit short of the lane: the extra `x^-1`). The
//! folded 16 bytes are finally reduced by the `crc32` instruction itself, which computes
//! `V(x)·x^32 mod P`, the CRC of the input so far; the last < 16 bytes follow the same way.
//! `scripts/crc32c-constants.py` derives the constants and checks the scheme on random inputs
//! against a bitwise CRC-32C.

/// Inputs at least this long are folded (where the CPU can): below it the `crc32` instruction's
/// serial chain is short, and the folding's fixed cost (the reduction of four lanes to one and
/// two `crc32` steps) dominates. `benches/crc.rs` on an AMD EPYC (Zen 4): 100 bytes 22 ns folded
/// against 18 ns by the crate, 128 bytes 20 against 25, 3600 bytes 83 against 206.
pub const FOLD_MIN: usize = 128;

/// The CRC-32C of `data` continued from `crc` (the CRC of what came before; 0 to start).
#[inline]
pub fn append(crc: u32, data: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if x86::available() {
        // SAFETY: `available` checked every feature `fold512` and `short` are compiled with.
        return unsafe {
            if data.len() >= FOLD_MIN {
                x86::fold512(crc, data)
            } else if data.len() <= SHORT_MAX {
                x86::short(crc, data)
            } else {
                crc32c::crc32c_append(crc, data)
            }
        };
    }
    crc32c::crc32c_append(crc, data)
}

/// Inputs up to this long (an mvcc revision key is 17 or 18 bytes) go through the CRC32
/// instruction a word at a time, inline: the crate's dispatch costs more than the CRC there
/// (3-4 % of `compare`'s CPU went to it, hashing 300k keys per copy).
const SHORT_MAX: usize = 32;

/// The CRC-32C of `data`.
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    append(0, data)
}

/// Whether [`append`] folds long inputs with carry-less multiplication on this CPU (for traces
/// and benchmark notes).
pub fn folds() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        x86::available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::sync::atomic::{AtomicU8, Ordering};

    /// Fold constants `(K1, K2)` for a distance of `D` bits (module docs).
    const K2048: (u64, u64) = (0xe9a5d8be00000000, 0x1426a81500000000);
    const K512: (u64, u64) = (0x1c19243b00000000, 0x75bba45b00000000);
    const K384: (u64, u64) = (0xa46ef4aa00000000, 0x6051243f00000000);
    const K256: (u64, u64) = (0x33ccbbbc00000000, 0xa2158b3400000000);
    const K128: (u64, u64) = (0x3743f7bd00000000, 0x3171d43000000000);

    /// 0 unknown, 1 no, 2 yes: `is_x86_feature_detected!` is cached too, but four of them per
    /// call are a noticeable share of folding a [`super::FOLD_MIN`]-byte input.
    static STATE: AtomicU8 = AtomicU8::new(0);

    #[inline]
    pub(super) fn available() -> bool {
        match STATE.load(Ordering::Relaxed) {
            2 => true,
            1 => false,
            _ => {
                let yes = is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("vpclmulqdq")
                    && is_x86_feature_detected!("pclmulqdq")
                    && is_x86_feature_detected!("sse4.2");
                STATE.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
                yes
            }
        }
    }

    /// [`super::append`] for short inputs: the CRC32 instruction on each 8-byte word, then
    /// on each byte left (its running value is the CRC register: the complement of the CRC).
    ///
    /// # Safety
    /// The CPU has SSE4.2 ([`available`]).
    #[inline]
    #[target_feature(enable = "sse4.2")]
    pub(super) unsafe fn short(crc: u32, data: &[u8]) -> u32 {
        let mut c = u64::from(!crc);
        let mut words = data.chunks_exact(8);
        for w in &mut words {
            c = _mm_crc32_u64(c, u64::from_le_bytes(w.try_into().unwrap_or_default()));
        }
        let mut c = c as u32;
        for &b in words.remainder() {
            c = _mm_crc32_u8(c, b);
        }
        !c
    }

    /// `x` moved `k`'s distance towards the end, xor `next`, in each 16-byte lane.
    #[inline]
    #[target_feature(enable = "avx512f,vpclmulqdq")]
    unsafe fn fold(x: __m512i, k: __m512i, next: __m512i) -> __m512i {
        let lo = _mm512_clmulepi64_epi128(x, k, 0x00);
        let hi = _mm512_clmulepi64_epi128(x, k, 0x11);
        // 0x96: a ^ b ^ c.
        _mm512_ternarylogic_epi64(lo, hi, next, 0x96)
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn lanes(k: (u64, u64)) -> __m512i {
        _mm512_broadcast_i32x4(_mm_set_epi64x(k.1 as i64, k.0 as i64))
    }

    #[inline]
    #[target_feature(enable = "pclmulqdq,sse2")]
    unsafe fn fold128(x: __m128i, k: (u64, u64)) -> __m128i {
        let k = _mm_set_epi64x(k.1 as i64, k.0 as i64);
        _mm_xor_si128(
            _mm_clmulepi64_si128(x, k, 0x00),
            _mm_clmulepi64_si128(x, k, 0x11),
        )
    }

    /// [`super::append`] for inputs of at least 64 bytes.
    ///
    /// # Safety
    /// The CPU has AVX-512F, VPCLMULQDQ, PCLMULQDQ and SSE4.2 ([`available`]).
    #[target_feature(enable = "avx512f,vpclmulqdq,pclmulqdq,sse4.2,sse4.1")]
    pub(super) unsafe fn fold512(crc: u32, data: &[u8]) -> u32 {
        let n = data.len();
        debug_assert!(n >= 64, "fold512 reads 64 bytes at once");
        let at = data.as_ptr();
        // SAFETY (every load): `o + 64 <= n` at each call below.
        let load = |o: usize| unsafe { _mm512_loadu_si512(at.add(o).cast()) };
        // The running CRC enters as the first four bytes' xor (the CRC register before them).
        let init = _mm512_zextsi128_si512(_mm_cvtsi32_si128(!crc as i32));
        let mut p;
        let mut x;
        if n >= 256 {
            let mut a = [
                _mm512_xor_si512(load(0), init),
                load(64),
                load(128),
                load(192),
            ];
            p = 256;
            let k = lanes(K2048);
            while p + 256 <= n {
                a = [
                    fold(a[0], k, load(p)),
                    fold(a[1], k, load(p + 64)),
                    fold(a[2], k, load(p + 128)),
                    fold(a[3], k, load(p + 192)),
                ];
                p += 256;
            }
            let k = lanes(K512);
            x = fold(fold(fold(a[0], k, a[1]), k, a[2]), k, a[3]);
        } else {
            x = _mm512_xor_si512(load(0), init);
            p = 64;
        }
        let k = lanes(K512);
        while p + 64 <= n {
            x = fold(x, k, load(p));
            p += 64;
        }
        // Four lanes into one, each moved to the end of the last.
        let mut v = _mm_xor_si128(
            _mm_xor_si128(
                fold128(_mm512_extracti32x4_epi32::<0>(x), K384),
                fold128(_mm512_extracti32x4_epi32::<1>(x), K256),
            ),
            _mm_xor_si128(
                fold128(_mm512_extracti32x4_epi32::<2>(x), K128),
                _mm512_extracti32x4_epi32::<3>(x),
            ),
        );
        while p + 16 <= n {
            // SAFETY: `p + 16 <= n`.
            let next = unsafe { _mm_loadu_si128(at.add(p).cast()) };
            v = _mm_xor_si128(fold128(v, K128), next);
            p += 16;
        }
        // The register after these 16 bytes from 0 is the CRC register after `data[..p]`.
        let r = _mm_crc32_u64(0, _mm_cvtsi128_si64(v) as u64);
        let r = _mm_crc32_u64(r, _mm_extract_epi64::<1>(v) as u64) as u32;
        crc32c::crc32c_append(!r, &data[p..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bitwise CRC-32C: the definition, independent of both implementations.
    fn bitwise(crc: u32, data: &[u8]) -> u32 {
        let mut c = !crc;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = (c >> 1) ^ (0x82F6_3B78 & (c & 1).wrapping_neg());
            }
        }
        !c
    }

    fn bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn every_length_and_alignment_agrees_with_the_definition() {
        let data = bytes(5000, 7);
        for n in (0..700).chain([1023, 1024, 1025, 3600, 4096, 4999]) {
            for off in [0, 1, 7] {
                let d = &data[off..off + n.min(data.len() - off)];
                for crc in [0, 0xFFFF_FFFF, 0x1234_5678] {
                    assert_eq!(append(crc, d), bitwise(crc, d), "len {} off {off}", d.len());
                }
            }
        }
    }

    #[test]
    fn agrees_with_the_crc32c_crate_piecewise() {
        let data = bytes(100_000, 11);
        let (mut ours, mut theirs, mut at, mut step) = (0, 0, 0, 1usize);
        while at < data.len() {
            let end = (at + step).min(data.len());
            ours = append(ours, &data[at..end]);
            theirs = crc32c::crc32c_append(theirs, &data[at..end]);
            assert_eq!(ours, theirs, "piece {at}..{end}");
            at = end;
            step = step * 7 % 4999 + 1;
        }
        assert_eq!(ours, crc32c::crc32c(&data));
    }
}
