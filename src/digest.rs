//! SHA-256 of two inputs at once, on one core.
//!
//! Why: SHA-256 is one serial chain of rounds. With SHA-NI each `sha256rnds2` waits for the one
//! before it, so one message keeps the SHA unit mostly idle; two independent messages whose
//! rounds are interleaved fill it. `report` must hash both the snapshot (its trailer) and a
//! GB-sized log (the chain of custody): measured on the 1.23 GB bench snapshot and the 1.07 GB
//! bench log, warm cache, one thread, AMD EPYC (family 25 model 1): sha2 0.10 one after the
//! other 1.64–1.67 s, this code one after the other 1.61–1.64 s, both interleaved 0.93–0.97 s.
//! That frees a core for the analysis instead of spending two on hashing.
//!
//! The rounds follow FIPS 180-4 §6.2 with Intel's SHA extensions (the usual arrangement of the
//! state as ABEF/CDGH and the message schedule by `sha256msg1`/`sha256msg2`); on a CPU without
//! them, [`sha2::compress256`] does the same blocks one message at a time. Tested against the
//! `sha2` crate on every length around the block and padding boundaries.

use sha2::digest::generic_array::GenericArray;
use std::sync::atomic::{AtomicBool, Ordering};

const BLOCK: usize = 64;

/// FIPS 180-4 §5.3.3.
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The hash state after a whole number of blocks of a message: [`Midstate::finish`] with the
/// bytes that follow gives the SHA-256 of the prefix plus them. One midstate can be finished
/// with different endings (a snapshot's body alone, and the body plus its trailer).
#[derive(Clone, Copy, Debug)]
pub struct Midstate {
    state: [u32; 8],
    /// Bytes hashed so far: a multiple of 64.
    len: u64,
}

impl Midstate {
    /// How many bytes of the message it covers (a multiple of 64).
    pub fn hashed(&self) -> usize {
        self.len as usize
    }

    /// The SHA-256 of the bytes this midstate covers followed by `rest`.
    pub fn finish(&self, rest: &[u8]) -> [u8; 32] {
        let mut state = self.state;
        let full = rest.len() / BLOCK * BLOCK;
        compress_one(&mut state, &rest[..full]);
        let tail = &rest[full..];
        let mut pad = [0u8; 2 * BLOCK];
        pad[..tail.len()].copy_from_slice(tail);
        pad[tail.len()] = 0x80;
        let n = if tail.len() < BLOCK - 8 {
            BLOCK
        } else {
            2 * BLOCK
        };
        let bits = (self.len + rest.len() as u64).wrapping_mul(8);
        pad[n - 8..n].copy_from_slice(&bits.to_be_bytes());
        compress_one(&mut state, &pad[..n]);
        let mut out = [0u8; 32];
        for (o, w) in out.chunks_exact_mut(4).zip(state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

/// The midstates of `a` and of `b` after each one's whole blocks (the tails, under 64 bytes,
/// are left for [`Midstate::finish`]), hashed interleaved while both have blocks left, until
/// `split` is set (by another thread, when a core has become free): from then on `b` goes on on
/// a thread of its own and `a` on the calling thread, one message per core. The answer is the
/// same either way.
pub fn pair_until_split(a: &[u8], b: &[u8], split: &AtomicBool) -> (Midstate, Midstate) {
    let (fa, fb) = (a.len() / BLOCK * BLOCK, b.len() / BLOCK * BLOCK);
    let (mut sa, mut sb) = (IV, IV);
    let common = fa.min(fb);
    let mut at = 0;
    if has_sha_ni() {
        // Steps of 64 KiB: the midstates are always whole, whatever the inputs' lengths.
        const STEP: usize = 64 << 10;
        while at < common && !split.load(Ordering::Relaxed) {
            let n = STEP.min(common - at);
            // SAFETY: `has_sha_ni` checked the CPU has SHA, SSSE3 and SSE4.1; both ranges are in
            // bounds and a whole number of blocks.
            unsafe { shani::compress2(&mut sa, &a[at..at + n], &mut sb, &b[at..at + n]) };
            at += n;
        }
    }
    std::thread::scope(|s| {
        let rest_b = &b[at..fb];
        // A thread for the rest of `b` when asked to split, or when nothing was interleaved (no
        // SHA-NI: the two go on side by side instead), and only if that rest is worth a
        // thread (1 MiB).
        let other =
            (at < fb && (split.load(Ordering::Relaxed) || at == 0) && rest_b.len() >= 1 << 20)
                .then(|| {
                    s.spawn(move || {
                        compress_one(&mut sb, rest_b);
                        sb
                    })
                });
        compress_one(&mut sa, &a[at..fa]);
        sb = match other {
            Some(t) => t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            None => {
                compress_one(&mut sb, rest_b);
                sb
            }
        };
    });
    let mid = |state, len: usize| Midstate {
        state,
        len: len as u64,
    };
    (mid(sa, fa), mid(sb, fb))
}

/// Whole blocks of one message.
fn compress_one(state: &mut [u32; 8], blocks: &[u8]) {
    debug_assert_eq!(blocks.len() % BLOCK, 0);
    if blocks.is_empty() {
        return;
    }
    if has_sha_ni() {
        // SAFETY: as in `pair_until_split`.
        unsafe { shani::compress1(state, blocks) };
        return;
    }
    for b in blocks.chunks_exact(BLOCK) {
        sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(b)));
    }
}

fn has_sha_ni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *HAS.get_or_init(|| {
            std::arch::is_x86_feature_detected!("sha")
                && std::arch::is_x86_feature_detected!("ssse3")
                && std::arch::is_x86_feature_detected!("sse4.1")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod shani {
    use std::arch::x86_64::*;

    /// FIPS 180-4 §4.2.2.
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    /// The state as the SHA instructions hold it: (ABEF, CDGH).
    type Lane = (__m128i, __m128i);

    #[inline(always)]
    unsafe fn load(st: &[u32; 8]) -> Lane {
        let dcba = _mm_loadu_si128(st.as_ptr() as *const __m128i);
        let hgfe = _mm_loadu_si128(st.as_ptr().add(4) as *const __m128i);
        let cdab = _mm_shuffle_epi32(dcba, 0xB1);
        let efgh = _mm_shuffle_epi32(hgfe, 0x1B);
        (
            _mm_alignr_epi8(cdab, efgh, 8),
            _mm_blend_epi16(efgh, cdab, 0xF0),
        )
    }

    #[inline(always)]
    unsafe fn store(l: Lane, st: &mut [u32; 8]) {
        let feba = _mm_shuffle_epi32(l.0, 0x1B);
        let dchg = _mm_shuffle_epi32(l.1, 0xB1);
        let dcba = _mm_blend_epi16(feba, dchg, 0xF0);
        let hgef = _mm_alignr_epi8(dchg, feba, 8);
        _mm_storeu_si128(st.as_mut_ptr() as *mut __m128i, dcba);
        _mm_storeu_si128(st.as_mut_ptr().add(4) as *mut __m128i, hgef);
    }

    /// The 64 rounds of `N` blocks, one per lane, their instructions interleaved.
    #[inline(always)]
    unsafe fn rounds<const N: usize>(lanes: &mut [Lane; N], blocks: [*const u8; N]) {
        let swap = _mm_set_epi64x(0x0c0d0e0f08090a0b, 0x0405060700010203);
        let saved = *lanes;
        let mut w: [[__m128i; 4]; N] = [[_mm_setzero_si128(); 4]; N];
        for (wi, &p) in w.iter_mut().zip(&blocks) {
            let p = p as *const __m128i;
            for (j, x) in wi.iter_mut().enumerate() {
                *x = _mm_shuffle_epi8(_mm_loadu_si128(p.add(j)), swap);
            }
        }
        // Four rounds per group; the schedule word for group g+4 replaces group g's.
        macro_rules! group {
            ($g:expr, $a:expr, $b:expr, $c:expr, $d:expr, $sched:expr) => {{
                let k = _mm_loadu_si128(K.as_ptr().add(4 * $g) as *const __m128i);
                for i in 0..N {
                    let mut m = _mm_add_epi32(w[i][$a], k);
                    lanes[i].1 = _mm_sha256rnds2_epu32(lanes[i].1, lanes[i].0, m);
                    m = _mm_shuffle_epi32(m, 0x0E);
                    lanes[i].0 = _mm_sha256rnds2_epu32(lanes[i].0, lanes[i].1, m);
                    if $sched {
                        let t = _mm_alignr_epi8(w[i][$d], w[i][$c], 4);
                        let x = _mm_add_epi32(_mm_sha256msg1_epu32(w[i][$a], w[i][$b]), t);
                        w[i][$a] = _mm_sha256msg2_epu32(x, w[i][$d]);
                    }
                }
            }};
        }
        group!(0, 0, 1, 2, 3, true);
        group!(1, 1, 2, 3, 0, true);
        group!(2, 2, 3, 0, 1, true);
        group!(3, 3, 0, 1, 2, true);
        group!(4, 0, 1, 2, 3, true);
        group!(5, 1, 2, 3, 0, true);
        group!(6, 2, 3, 0, 1, true);
        group!(7, 3, 0, 1, 2, true);
        group!(8, 0, 1, 2, 3, true);
        group!(9, 1, 2, 3, 0, true);
        group!(10, 2, 3, 0, 1, true);
        group!(11, 3, 0, 1, 2, true);
        group!(12, 0, 1, 2, 3, false);
        group!(13, 1, 2, 3, 0, false);
        group!(14, 2, 3, 0, 1, false);
        group!(15, 3, 0, 1, 2, false);
        for (l, s) in lanes.iter_mut().zip(saved) {
            *l = (_mm_add_epi32(l.0, s.0), _mm_add_epi32(l.1, s.1));
        }
    }

    /// Whole blocks of one message. Caller: the CPU has SHA, SSSE3 and SSE4.1, and
    /// `blocks.len()` is a multiple of 64.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub unsafe fn compress1(st: &mut [u32; 8], blocks: &[u8]) {
        let mut l = [load(st)];
        for b in blocks.chunks_exact(64) {
            rounds(&mut l, [b.as_ptr()]);
        }
        store(l[0], st);
    }

    /// Whole blocks of two messages of the same length. Caller: as [`compress1`], and
    /// `a.len() == b.len()`.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub unsafe fn compress2(sa: &mut [u32; 8], a: &[u8], sb: &mut [u32; 8], b: &[u8]) {
        let mut l = [load(sa), load(sb)];
        for (x, y) in a.chunks_exact(64).zip(b.chunks_exact(64)) {
            rounds(&mut l, [x.as_ptr(), y.as_ptr()]);
        }
        store(l[0], sa);
        store(l[1], sb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The midstates without a split.
    fn pair(a: &[u8], b: &[u8]) -> (Midstate, Midstate) {
        pair_until_split(a, b, &AtomicBool::new(false))
    }

    /// SHA-256 of `a` and of `b` through [`pair`].
    fn sha256_pair(a: &[u8], b: &[u8]) -> ([u8; 32], [u8; 32]) {
        let (ma, mb) = pair(a, b);
        (ma.finish(&a[ma.hashed()..]), mb.finish(&b[mb.hashed()..]))
    }

    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761) as u8 ^ seed)
            .collect()
    }

    #[test]
    fn pairs_equal_sha2_at_every_boundary() {
        let lens = [
            0usize, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65_536, 65_600,
            200_003,
        ];
        for &la in &lens {
            for &lb in &lens {
                let (a, b) = (bytes(la, 1), bytes(lb, 2));
                let (x, y) = sha256_pair(&a, &b);
                assert_eq!(x[..], Sha256::digest(&a)[..], "a {la} (b {lb})");
                assert_eq!(y[..], Sha256::digest(&b)[..], "b {lb} (a {la})");
            }
        }
    }

    /// Split before, during (set by another thread) and never: the same midstates.
    #[test]
    fn a_split_changes_nothing() {
        let (a, b) = (bytes(3 << 20 | 77, 5), bytes(5 << 20 | 3, 6));
        let want = (Sha256::digest(&a), Sha256::digest(&b));
        for at in [None, Some(0u64), Some(2)] {
            let split = AtomicBool::new(at == Some(0));
            let (ma, mb) = std::thread::scope(|s| {
                if at == Some(2) {
                    s.spawn(|| {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                        split.store(true, Ordering::Relaxed);
                    });
                }
                pair_until_split(&a, &b, &split)
            });
            assert_eq!(ma.finish(&a[ma.hashed()..])[..], want.0[..], "{at:?}");
            assert_eq!(mb.finish(&b[mb.hashed()..])[..], want.1[..], "{at:?}");
        }
    }

    #[test]
    fn one_midstate_finishes_two_endings() {
        let data = bytes(10_000 + 32, 3);
        let (body, trailer) = data.split_at(10_000);
        let (m, _) = pair(body, &[]);
        let rest = &data[m.len as usize..];
        assert_eq!(
            m.finish(&body[m.len as usize..])[..],
            Sha256::digest(body)[..]
        );
        assert_eq!(m.finish(rest)[..], Sha256::digest(&data)[..]);
        assert!(trailer.len() == 32);
    }

    #[test]
    fn the_fallback_gives_the_same_midstate() {
        let a = bytes(4096 + 17, 4);
        let mut s = IV;
        for b in a[..4096].chunks_exact(64) {
            sha2::compress256(&mut s, std::slice::from_ref(GenericArray::from_slice(b)));
        }
        let (m, _) = pair(&a, &[]);
        assert_eq!(m.state, s);
        assert_eq!(m.len, 4096);
    }
}
