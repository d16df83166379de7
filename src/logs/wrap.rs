//! Rejoining records that were hard-wrapped when pasted into a ticket.
//!
//! A physical line without a recognisable header (klog, JSON logging, or a container envelope)
//! continues the record above it. The same rule rebuilds klog's own multi-line messages (trace
//! steps, `key=<` blocks, aggregated errors), whose later lines have no header either.
//!
//! # The join rule
//!
//! The continuation is trimmed of leading and trailing whitespace (paste indentation, a klog
//! multi-line value's tab, `\r`) and the record of trailing whitespace. Then:
//!
//! 1. **Inside an open double-quoted etcd key, insert nothing.** The record is inside one when its
//!    last `"/` (or `\"/`, the same quote escaped inside a structured `err="…"` value) has no `"`
//!    after it, and the continuation has no space before its first `"`. Etcd keys written by
//!    kube-apiserver never contain spaces or quotes, so a wrap inside one can only have split the
//!    key itself: `"/registry/secrets/cee-` ⏎ `dnceed21/alert-logger-sa-token-dzhkb"` is one key.
//! 2. **Elsewhere, join with a single space.** Ticket systems and mail clients wrap at spaces, so
//!    the break replaced one.
//!
//! # Limits
//!
//! - A line broken mid-word outside a key (a terminal's fixed-width wrap) gains a space:
//!   `invalid pad` ⏎ `ding on input` becomes `invalid pad ding on input`. The wrapper
//!   (`unable to transform key "…"`) is still recognised, but that error string will not match a
//!   known provider error.
//! - An unquoted key (`StorageError: … Key: /registry/…,`) split across lines gains a space and is
//!   cut there.
//! - A key quoted with single quotes or backticks is not recognised as open.

/// Is a record rebuilt so far finished, so that a following headerless line is something else
/// (prose, a code fence, a table row) rather than more of it?
///
/// Unfinished: inside an open etcd key, an open structured value (`err="…` with an odd number of
/// unescaped quotes, a `key=<` block not yet closed by ` >`), an open aggregate `[`, ending with
/// `:` or `,` (a wrapper waiting for its cause), or no error text at all yet (a wrapped
/// `unexpected ListAndWatch` ⏎ `error: …`). Finished: a known error follows the last wrapper.
pub fn complete(record: &[u8], has_error: impl Fn(&[u8]) -> bool) -> bool {
    let r = trim(record);
    if r.is_empty() || in_open_key(r) {
        return false;
    }
    if matches!(r.last(), Some(b':' | b',' | b'[' | b'(' | b'=')) {
        return false;
    }
    let mut quotes = 0usize;
    let mut prev = 0u8;
    for &c in r {
        if c == b'"' && prev != b'\\' {
            quotes += 1;
        }
        prev = c;
    }
    if quotes % 2 == 1 {
        return false;
    }
    if let Some(open) = memchr::memmem::rfind(r, b"=<") {
        if memchr::memmem::find(&r[open..], b" >").is_none() && !r.ends_with(b">") {
            return false;
        }
    }
    let opened = r.iter().filter(|&&c| c == b'[').count();
    let closed = r.iter().filter(|&&c| c == b']').count();
    if opened > closed {
        return false;
    }
    has_error(r)
}

/// How a continuation was attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Separator {
    /// Inside an open quoted etcd key: nothing inserted.
    None,
    /// A single space.
    Space,
}

/// Appends `continuation` to `record` following the join rule above. An empty (all-whitespace)
/// continuation appends nothing.
pub fn join(record: &mut Vec<u8>, continuation: &[u8]) -> Separator {
    let cont = trim(continuation);
    while record.last().is_some_and(|c| c.is_ascii_whitespace()) {
        record.pop();
    }
    if cont.is_empty() {
        return Separator::Space;
    }
    let sep = if in_open_key(record) && key_continues(cont) {
        Separator::None
    } else {
        if !record.is_empty() {
            record.push(b' ');
        }
        Separator::Space
    };
    record.extend_from_slice(cont);
    sep
}

/// Does `record` end inside a double-quoted etcd key (`"/…` with no closing quote yet)?
pub fn in_open_key(record: &[u8]) -> bool {
    match memchr::memmem::rfind(record, b"\"/") {
        Some(open) => memchr::memchr(b'"', &record[open + 1..]).is_none(),
        None => false,
    }
}

/// Could `cont` be the rest of a key? No space before the closing quote (or the line's end).
fn key_continues(cont: &[u8]) -> bool {
    let end = memchr::memchr(b'"', cont).unwrap_or(cont.len());
    // `\"` closes a key inside a structured value; the backslash is not part of the key.
    !cont[..end].iter().any(|c| c.is_ascii_whitespace())
}

fn trim(b: &[u8]) -> &[u8] {
    super::klog::trim(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(lines: &[&str]) -> String {
        let mut rec = lines[0].as_bytes().to_vec();
        for l in &lines[1..] {
            join(&mut rec, l.as_bytes());
        }
        String::from_utf8(rec).unwrap()
    }

    #[test]
    fn incident_paste_rejoins_key_exactly() {
        // incidents.md §1, as it arrived in the ticket.
        let s = joined(&[
            "    E1116 20:09:52.635602      1 cacher.go:419] cacher (*core.Secret): unexpected ListAndWatch",
            "    error: failed to list *core.Secret: unable to transform key \"/registry/secrets/cee-",
            "    dnceed21/alert-logger-sa-token-dzhkb\": invalid padding on input; reinitializing...",
        ]);
        assert!(s.contains("unexpected ListAndWatch error: failed to list"));
        assert!(s.contains(
            "\"/registry/secrets/cee-dnceed21/alert-logger-sa-token-dzhkb\": invalid padding on input; reinitializing..."
        ));
    }

    #[test]
    fn escaped_quote_inside_structured_value() {
        let s = joined(&[
            r#"E0727 16:22:15.775506 1 x.go:1] "m" err="unable to transform key \"/registry/configmaps/"#,
            r#"ns/cm1\": invalid padding on input""#,
        ]);
        assert!(s.ends_with(r#"key \"/registry/configmaps/ns/cm1\": invalid padding on input""#));
    }

    #[test]
    fn closed_key_and_plain_text_get_a_space() {
        assert_eq!(
            joined(&["key \"/registry/a/b\":", "invalid padding"]),
            "key \"/registry/a/b\": invalid padding"
        );
        assert_eq!(joined(&["no key here", "  next  "]), "no key here next");
        // A continuation with spaces before any quote is not the rest of a key.
        assert_eq!(
            joined(&["key \"/registry/a/", "b c\""]),
            "key \"/registry/a/ b c\""
        );
        // Empty continuations add nothing.
        assert_eq!(joined(&["a ", "   "]), "a");
    }

    #[test]
    fn open_key_detection() {
        assert!(in_open_key(
            b"unable to transform key \"/registry/secrets/cee-"
        ));
        assert!(!in_open_key(
            b"unable to transform key \"/registry/secrets/x\": e"
        ));
        assert!(!in_open_key(b"Key: /registry/secrets/x"));
        assert!(in_open_key(
            br#"err="unable to transform key \"/registry/s/"#
        ));
    }

    #[test]
    fn complete_records() {
        let has = |t: &[u8]| crate::logs::event::says_error(t);
        assert!(complete(
            b"unable to transform key \"/registry/a/b\": invalid padding on input",
            has
        ));
        assert!(!complete(b"unable to transform key \"/registry/a/", has));
        assert!(!complete(b"cacher (secrets): unexpected ListAndWatch", has));
        assert!(!complete(
            b"unable to transform key \"/registry/a/b\":",
            has
        ));
        assert!(!complete(
            b"err=\"unable to transform key \\\"/registry/a/b\\\": invalid padding on input",
            has
        ));
        assert!(!complete(b"\"failed to decrypt data\" err=<", has));
        assert!(!complete(
            b"unable to transform key \"/registry/a/b\": [invalid padding on input,",
            has
        ));
    }
}
