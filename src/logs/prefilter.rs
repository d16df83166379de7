//! The literal prefilter: finds the few lines worth parsing, before any parsing or regex.
//!
//! Every string the classifier accepts as an error (`event::PHRASES` and the definitive wrappers)
//! contains one of `ERROR_NEEDLES`, and every start marker one of `START_NEEDLES` — a unit test
//! keeps it so. All needles are searched in one pass with a SIMD multi-literal searcher (Teddy,
//! from aho-corasick's `packed` module; the same one ripgrep uses for literal alternations). One
//! pass matters: the work is bound by memory bandwidth, and a `memmem` per needle would read the
//! data ten times. Needles are single words where possible, so a ticket's word wrap cannot split
//! them.
//!
//! Lines are numbered by counting newlines with `memchr` between hits, so every byte is read once
//! for the search and once (still in cache, block by block) for the count.

use aho_corasick::{packed, AhoCorasick, Input, Span};

/// Substrings of every error string the classifier knows: `transform` (`unable to transform key`,
/// `not transformable`, `supported transformers`), `crypt` (`failed to decrypt data`, `… DEK`,
/// `… for encryption`, `… encrypted data`, KMS health checks), and the provider errors.
pub const ERROR_NEEDLES: &[&str] = &[
    "transform",
    "crypt",
    "padding",
    "PKCS7",
    "stored",
    "cipher:",
    "matching",
    "base64",
    "KMS",
    // journalctl -o json writes a non-UTF-8 MESSAGE as an array of byte values, which hides
    // every other needle; such lines are rare, so all of them are looked at.
    "\"MESSAGE\":[",
];

/// kube-apiserver's first lines: `Version: v1.21.14` and `"Golang settings"`.
pub const START_NEEDLES: &[&str] = &["Version: v", "Golang settings"];

enum Engine {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

/// The compiled needle set.
pub struct Prefilter {
    engine: Engine,
    /// Pattern ids at or beyond this are start needles.
    first_start: usize,
}

/// A line holding a needle: byte range of the line (without its newline) in the searched slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
}

impl Default for Prefilter {
    fn default() -> Self {
        Self::new()
    }
}

impl Prefilter {
    pub fn new() -> Prefilter {
        let all: Vec<&str> = ERROR_NEEDLES.iter().chain(START_NEEDLES).copied().collect();
        let engine = match packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&all)
            .build()
        {
            Some(s) => Engine::Teddy(s),
            // No SIMD Teddy on this target: a DFA is slower but correct. Building one for eleven
            // short literals cannot fail; if it somehow did, every line would be a hit.
            None => Engine::Automaton(
                AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                    .build(&all)
                    .unwrap_or_else(|_| AhoCorasick::new([""]).expect("empty pattern set builds")),
            ),
        };
        Prefilter {
            engine,
            first_start: ERROR_NEEDLES.len(),
        }
    }

    fn find(&self, hay: &[u8], from: usize) -> Option<(usize, usize, usize)> {
        match &self.engine {
            Engine::Teddy(s) => s
                .find_in(hay, Span::from(from..hay.len()))
                .map(|m| (m.start(), m.end(), m.pattern().as_usize())),
            Engine::Automaton(a) => a
                .find(Input::new(hay).span(from..hay.len()))
                .map(|m| (m.start(), m.end(), m.pattern().as_usize())),
        }
    }

    /// Is the match real? Start needles must not be the tail of a word (`resourceVersion: v…`).
    fn verify(&self, hay: &[u8], start: usize, pattern: usize) -> bool {
        if pattern < self.first_start {
            return true;
        }
        start == 0 || !hay[start - 1].is_ascii_alphanumeric()
    }

    /// Scans `block` (whole lines) and returns the lines holding a needle, each once, with the
    /// number of newlines before each, and the block's total newline count.
    pub fn scan_block(&self, block: &[u8]) -> (Vec<(Hit, u64)>, u64) {
        let mut hits = Vec::new();
        let mut pos = 0;
        let mut counted_to = 0;
        let mut newlines: u64 = 0;
        while let Some((s, e, pat)) = self.find(block, pos) {
            if !self.verify(block, s, pat) {
                pos = e;
                continue;
            }
            let ls = memchr::memrchr(b'\n', &block[..s]).map_or(0, |p| p + 1);
            let le = memchr::memchr(b'\n', &block[e..]).map_or(block.len(), |p| e + p);
            newlines += count_newlines(&block[counted_to..ls]);
            counted_to = ls;
            hits.push((Hit { start: ls, end: le }, newlines));
            pos = le;
            if pos >= block.len() {
                break;
            }
        }
        newlines += count_newlines(&block[counted_to..]);
        (hits, newlines)
    }
}

/// Number of `\n` bytes.
#[inline]
pub fn count_newlines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_classified_string_holds_a_needle() {
        for s in crate::logs::event::phrases_and_wrappers() {
            assert!(
                ERROR_NEEDLES.iter().any(|n| s.contains(n)),
                "no prefilter needle in {s:?}"
            );
        }
    }

    #[test]
    fn hits_once_per_line_with_line_numbers() {
        let pf = Prefilter::new();
        let text = b"a\nb transform decrypt padding\nc\nresourceVersion: v1\n] Version: v1.2\nKMS";
        let (hits, n) = pf.scan_block(text);
        let lines: Vec<(&[u8], u64)> = hits
            .iter()
            .map(|(h, l)| (&text[h.start..h.end], *l))
            .collect();
        assert_eq!(
            lines,
            vec![
                (&b"b transform decrypt padding"[..], 1),
                (&b"] Version: v1.2"[..], 4),
                (&b"KMS"[..], 5),
            ]
        );
        assert_eq!(n, 5);
        assert_eq!(pf.scan_block(b"").1, 0);
        assert_eq!(pf.scan_block(b"\n\n").1, 2);
    }
}
