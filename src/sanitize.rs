//! The one sanitiser for input bytes shown to a person: in error messages, warnings and table
//! cells. A snapshot, config, tarball or log is hostile input, and a terminal obeys what it
//! prints: ESC sequences clear the screen or set the window title, CR and NL forge whole lines,
//! bidi overrides reorder what is read. Everything echoed passes through here, so control
//! characters are shown as escapes (`\x1b`, `\n`, `\u{202e}`), invalid UTF-8 as `\xNN`, and the
//! length is capped with an ellipsis.
//!
//! Errors about key-bearing files (configs, tarballs) never echo content at all, only structure
//! (member name, offset, field); [`echo`] is for names, never for values.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The most characters of one input word (a provider name, a YAML tag, a tar member name) an
/// error message echoes.
pub const MAX_ECHO: usize = 100;

/// The most characters one table cell shows; longer cells are cut with `…`. Wide enough for
/// every real key path (etcd keys are at most 1.5 MiB but Kubernetes names are ≤ 253 characters
/// and resource paths well under 512), narrow enough that width formatting cannot overflow.
pub const MAX_CELL: usize = 512;

/// True for characters a terminal may act on rather than print: C0 and C1 controls, DEL, and
/// the Unicode format characters that reorder or split lines (bidi embeddings, overrides and
/// isolates, line and paragraph separators, zero-width marks).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` with every unsafe character escaped; borrowed when there is none (the common case).
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Escapes `bytes` (invalid UTF-8 as `\xNN`) and cuts the result to at most `max` characters,
/// the last one `…` when cut. Work and memory are bounded by `max`, not by the input.
fn escape_capped(bytes: &[u8], max: usize) -> String {
    // Printable ASCII (every real etcd key) is shown as it is: one exact allocation, no walk
    // by character (300k keys per report on the bench snapshot).
    if bytes.len() <= max && bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut out = String::new();
    let mut shown = 0usize;
    // Byte length of `out` when it last held at most `max - 1` characters.
    let mut last_fit = 0usize;
    let mut piece = String::new();
    for chunk in bytes.utf8_chunks() {
        let chars = chunk.valid().chars().map(Ok);
        let invalid = chunk.invalid().iter().map(|b| Err(*b));
        for p in chars.chain(invalid) {
            piece.clear();
            match p {
                Ok(c) if is_unsafe(c) => push_escaped(&mut piece, c),
                Ok(c) => piece.push(c),
                Err(b) => {
                    let _ = write!(piece, "\\x{b:02x}");
                }
            }
            let n = piece.chars().count();
            if shown + n > max {
                // Cut at a whole piece (never inside an escape), leaving room for the mark.
                out.truncate(last_fit);
                out.push('…');
                return out;
            }
            out.push_str(&piece);
            shown += n;
            if shown < max {
                last_fit = out.len();
            }
        }
    }
    out
}

/// `s` escaped as [`text`] and cut to at most `max` characters, ending in `…` when cut.
pub fn capped(s: &str, max: usize) -> String {
    escape_capped(s.as_bytes(), max)
}

/// Input bytes echoed in an error or warning: invalid UTF-8 as `\xNN`, escaped, capped at
/// [`MAX_ECHO`] characters.
pub fn echo(bytes: &[u8]) -> String {
    escape_capped(bytes, MAX_ECHO)
}

/// Input bytes shown in full (an etcd key, a resource name): escaped, invalid UTF-8 as `\xNN`.
pub fn bytes(b: &[u8]) -> String {
    escape_capped(b, usize::MAX)
}

/// A table cell: escaped and cut at [`MAX_CELL`] characters.
pub fn cell(s: &str) -> Cow<'_, str> {
    if s.len() <= MAX_CELL && !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(capped(s, MAX_CELL))
}

/// Pads `s` with spaces on the right to `width` characters (no `{:<w$}`, whose width is a u16
/// and panics past 65,535).
pub fn pad_right(s: &str, width: usize) -> String {
    let n = s.chars().count();
    let mut out = String::with_capacity(s.len() + width.saturating_sub(n));
    out.push_str(s);
    out.push_str(&" ".repeat(width.saturating_sub(n)));
    out
}

/// Pads `s` with spaces on the left to `width` characters.
pub fn pad_left(s: &str, width: usize) -> String {
    let n = s.chars().count();
    let mut out = " ".repeat(width.saturating_sub(n));
    out.push_str(s);
    out
}

/// True when `s` holds a character [`is_unsafe`] would escape, other than the newlines and tabs
/// that lay out multi-line output. For tests of whole outputs.
pub fn has_unsafe_output(s: &str) -> bool {
    s.chars().any(|c| c != '\n' && c != '\t' && is_unsafe(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(text("ok"), "ok");
        assert_eq!(
            text("a\x1b]0;title\x07b\r\nall good"),
            "a\\x1b]0;title\\x07b\\r\\nall good"
        );
        assert_eq!(text("x\u{202e}y\u{9b}"), "x\\u{202e}y\\u{9b}");
        assert_eq!(echo(b"\xff\xfeab"), "\\xff\\xfeab");
    }

    #[test]
    fn caps_with_an_ellipsis() {
        assert_eq!(capped("abcdef", 6), "abcdef");
        assert_eq!(capped("abcdefg", 6), "abcde…");
        assert_eq!(capped("\x1b\x1b", 6), "\\x1b…");
        let long = "n".repeat(70_000);
        let c = cell(&long);
        assert_eq!(c.chars().count(), MAX_CELL);
        assert!(c.ends_with('…'));
        assert_eq!(echo(long.as_bytes()).chars().count(), MAX_ECHO);
        assert!(!has_unsafe_output(&echo(&[0x1b; 500])));
    }

    #[test]
    fn pads_past_u16_widths() {
        assert_eq!(pad_right("ab", 4), "ab  ");
        assert_eq!(pad_left("ab", 4), "  ab");
        assert_eq!(pad_right("ab", 70_000).len(), 70_000);
    }
}
