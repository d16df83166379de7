//! The literal prefilter: finds the few lines worth parsing, before any parsing or regex.
//!
//! The needles are the *wrappers* kube-apiserver and its clients put around every encryption
//! error, not the provider errors themselves:
//!
//! - `nsform`: `unable to transform key` (LIST), `transformer.go` (1.28+ `"failed to decrypt
//!   data"`, in klog's source field or JSON's `caller`), `not transformable` (1.32+), `identity
//!   transformer`, `supported transformers`;
//! - `ious objects`: the watch path's `failed to prepare current and previous objects`;
//! - `Internal error`: clients (`Internal error occurred: …`);
//! - `crypt` and `KMS`: KMS (`failed to decrypt DEK`, health checks), secretbox's `… for
//!   encryption`;
//! - `padding`: `invalid padding on input`, the error a wrong aescbc key gives 99% of the time,
//!   wherever it appears;
//! - starts: `] Version: v` / `"Version: v` (klog text / JSON) and `Golang settings`.
//!
//! So a provider error with no wrapper at all (`cipher: message authentication failed` logged by
//! some other component on its own) is not looked for; every shape in formats.md §5 is. A unit
//! test keeps every wrapper the classifier knows covered.
//!
//! Needles are chosen for rare first bytes, since the searcher (Teddy, from aho-corasick's `packed`
//! module, the one ripgrep uses for literal alternations) fingerprints the first three:
//! `nsform` rather than `transform` (`tra…` is everywhere: trace, transport), `] Version: v` rather
//! than `Version` (`resourceVersion` fills trace lines). All needles go in one SIMD pass: the work
//! is bound by memory bandwidth, and a `memmem` per needle would read the data ten times.
//! Multi-word needles can be split by a ticket's word wrap; the single-word ones around them
//! (`nsform`, `padding`, `crypt`) still catch the shapes that matter.
//!
//! Lines are numbered by counting newlines with `memchr` between hits, so every byte is read once
//! for the search and once (still in cache, block by block) for the count.

use aho_corasick::{packed, AhoCorasick, Input, Span};

/// Error wrappers (see the module documentation).
pub const ERROR_NEEDLES: &[&str] = &[
    "nsform",
    "crypt",
    "ious objects",
    "Internal error",
    "padding",
    "KMS",
    // `kms plugin failed health check probe` (encryptionconfig/config.go).
    "kms plugin",
    // What an apiserver without the matching config says about encrypted bytes (pre-1.26):
    // `illegal base64 data`, from its rarer middle (`ill…` starts `will`, `still`).
    "legal base64",
    // k3s/rke2 secrets-encrypt: `hash does not match between A and B`, `… newer than datastore`
    // (again from rarer starts than `not…`, `tha…`).
    "does not match between",
    "tastore and could",
    // journalctl -o json writes a non-UTF-8 MESSAGE as an array of byte values, which hides
    // every other needle; such lines are rare, so all of them are looked at.
    "\"MESSAGE\":[",
];

/// kube-apiserver's first lines: `Version: v1.21.14` (klog text or JSON `msg`) and
/// `"Golang settings"`.
pub const START_NEEDLES: &[&str] = &["] Version: v", "\"Version: v", "Golang settings"];

enum Engine {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

/// The compiled needle set.
pub struct Prefilter {
    engine: Engine,
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
        Prefilter { engine }
    }

    fn find(&self, hay: &[u8], from: usize) -> Option<(usize, usize)> {
        match &self.engine {
            Engine::Teddy(s) => s
                .find_in(hay, Span::from(from..hay.len()))
                .map(|m| (m.start(), m.end())),
            Engine::Automaton(a) => a
                .find(Input::new(hay).span(from..hay.len()))
                .map(|m| (m.start(), m.end())),
        }
    }

    /// Scans `block` (whole lines) and returns the lines holding a needle, each once, with the
    /// number of newlines before each, and the block's total newline count.
    pub fn scan_block(&self, block: &[u8]) -> (Vec<(Hit, u64)>, u64) {
        let mut hits = Vec::new();
        let mut pos = 0;
        let mut counted_to = 0;
        let mut newlines: u64 = 0;
        while let Some((s, e)) = self.find(block, pos) {
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
    fn every_wrapper_holds_a_needle() {
        let contexts = [
            "failed to prepare current and previous objects: ",
            "Internal error occurred: ",
            "transformer.go:164] ",
            "\"caller\":\"value/transformer.go:164\"",
            "failed to decrypt DEK, error: ",
            "healthz check for KMS Provider",
            "invalid padding on input",
            "output array was not large enough for encryption",
            "identity transformer tried to read encrypted data",
            "illegal base64 data at input byte 0",
            "failed get version from remote KMS provider",
            "KMS provider api version",
            "kms plugin failed health check probe",
            "error while decrypting key",
            "invalid data encountered by envelope transformer",
            "encrypted object is nil",
            "failed to encrypt DEK",
            "hash does not match between",
            "newer than datastore and could cause a cluster outage",
        ];
        let wrappers = crate::logs::event::definitive_wrappers();
        for s in wrappers.iter().chain(contexts.iter()) {
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
        // `transform` is found through `nsform`.
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
