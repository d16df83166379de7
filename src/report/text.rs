//! Terminal summary. Colour only when asked (the caller decides: a TTY and no `NO_COLOR`).
//!
//! The verdict comes first, and again as the last lines when the summary is longer than a
//! 24-line terminal, so it is on screen after the findings scrolled it away. Lines wrap at word
//! boundaries to the width the caller gives (the terminal's; `cmd::output_args::text_width`),
//! each continuation indented under its label; a word longer than the width (an etcd key) is
//! never broken, so it still copies whole. No width (a pipe or a file): lines are not wrapped.

use super::model::{Named, Report, Severity, Verdict};
use super::{capped, KEYS_SHOWN};
use std::io::Write;

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn sev(&self, s: Severity) -> String {
        match s {
            Severity::Critical => self.wrap("1;31", "CRITICAL"),
            Severity::Warning => self.wrap("33", "WARNING"),
            Severity::Info => self.wrap("36", "INFO"),
        }
    }
}

/// More lines than this and the verdict is repeated at the end: a classic terminal's height.
pub const REPEAT_VERDICT_AFTER: usize = 24;

pub fn render(
    r: &Report,
    color: bool,
    width: Option<usize>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    let verdict_line = summary(r, color, &mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let mut lines: Vec<String> = Vec::new();
    for l in text.lines() {
        lines.extend(wrap(l, width));
    }
    if lines.len() > REPEAT_VERDICT_AFTER {
        lines.push(String::new());
        lines.extend(wrap(&verdict_line, width));
    }
    for l in lines {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// Writes the summary unwrapped; returns the verdict line.
fn summary(r: &Report, color: bool, out: &mut dyn Write) -> std::io::Result<String> {
    let p = Paint(color);
    let verdict = match r.verdict.status {
        Verdict::Ok => p.wrap("1;32", "OK"),
        Verdict::NotVerified => p.wrap("1;33", "NOT VERIFIED"),
        Verdict::Damaged => p.wrap("1;31", "DAMAGED"),
        Verdict::Problems => p.wrap("1;31", "PROBLEMS"),
    };
    let verdict_line = format!("verdict: {verdict} — {}", r.verdict.headline);
    writeln!(out, "{verdict_line}")?;
    if let Some(s) = &r.snapshot {
        let live = s
            .status
            .get("liveKeys")
            .map(|v| v.to_string())
            .unwrap_or_default();
        let rev = s
            .status
            .get("revision")
            .map(|v| v.to_string())
            .unwrap_or_default();
        writeln!(
            out,
            "snapshot: {} (revision {rev}, {live} live keys, trailer {}, structure {})",
            s.path,
            s.integrity.sha256_trailer,
            if s.integrity.structure_ok {
                "intact"
            } else {
                "DAMAGED"
            }
        )?;
    }
    let rc = &r.records;
    writeln!(
        out,
        "records:  {} live, {} encrypted, {} plaintext, {} undecryptable with the given keys",
        rc.live, rc.encrypted, rc.plaintext, rc.undecryptable
    )?;
    for n in &r.nodes {
        let stop = n
            .first_failing_key
            .as_deref()
            .map(|k| format!("; LIST stops at {k}"))
            .unwrap_or_default();
        writeln!(
            out,
            "node {}: reads {}, cannot read {}{stop} [logs: {}]",
            n.name,
            n.decrypts,
            n.fails,
            n.log.state.name()
        )?;
    }
    space_and_restore(r, out)?;
    writeln!(out)?;
    for (i, f) in r.findings.iter().enumerate() {
        writeln!(
            out,
            "{}. {} {}: {}",
            i + 1,
            p.sev(f.severity),
            f.kind.name(),
            f.summary
        )?;
        if !f.nodes.is_empty() {
            writeln!(out, "   nodes:    {}", f.nodes.join(", "))?;
        }
        if !f.keys.is_empty() {
            writeln!(
                out,
                "   keys:     {}",
                capped(&f.keys, KEYS_SHOWN, |k| k.to_string())
            )?;
        }
        for e in f.evidence.iter().take(8) {
            match &e.source {
                Some(s) => writeln!(out, "   evidence: {s}: {}", e.text)?,
                None => writeln!(out, "   evidence: {}", e.text)?,
            }
        }
        writeln!(out, "   remedy:   {}", f.remedy)?;
        for (n, st) in f.steps.iter().enumerate() {
            writeln!(out, "   step {}:   {}", n + 1, st.text)?;
            for c in &st.commands {
                writeln!(out, "     $ {c}")?;
            }
        }
    }
    if r.findings.is_empty() {
        writeln!(out, "no findings")?;
    }
    Ok(verdict_line)
}

/// Columns a line takes on a terminal: characters, not counting colour escapes.
fn columns(s: &str) -> usize {
    let mut n = 0;
    let mut in_esc = false;
    for c in s.chars() {
        match (in_esc, c) {
            (false, '\x1b') => in_esc = true,
            (true, 'm') => in_esc = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

/// The hanging indent of a summary line: continuation lines start under the text after its
/// label (`   evidence: `, `1. `, `verdict: `).
fn hanging_indent(line: &str) -> usize {
    let lead = line.len() - line.trim_start().len();
    let rest = &line[lead..];
    let label = if let Some(n) = rest.find(|c: char| !c.is_ascii_digit()) {
        if n > 0 && rest[n..].starts_with(". ") {
            n + 2
        } else {
            match rest.find(": ") {
                Some(i) if i < 12 && !rest[..i].contains(' ') => {
                    i + 2 + rest[i + 2..].len() - rest[i + 2..].trim_start().len()
                }
                _ => 2,
            }
        }
    } else {
        2
    };
    lead + label
}

/// The words of `s` split at spaces, except inside a `backtick span`: a command in a remedy
/// stays on one line, so it copies out of the terminal whole.
fn words(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_code = false;
    for (i, c) in s.char_indices() {
        match c {
            '`' => in_code = !in_code,
            ' ' if !in_code => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// `line` wrapped at spaces to `width` columns with its hanging indent; unchanged without a
/// width. Words are never split.
fn wrap(line: &str, width: Option<usize>) -> Vec<String> {
    let Some(width) = width else {
        return vec![line.to_string()];
    };
    if columns(line) <= width {
        return vec![line.to_string()];
    }
    let indent = hanging_indent(line).min(width / 2);
    let pad = " ".repeat(indent);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_cols = 0;
    // Leading spaces belong to the first line; after that, split on single spaces.
    let lead = line.len() - line.trim_start().len();
    cur.push_str(&line[..lead]);
    cur_cols += lead;
    let mut first_word = true;
    for word in words(&line[lead..]) {
        let wc = columns(word);
        if !first_word && cur_cols + 1 + wc > width && cur_cols > indent {
            out.push(std::mem::take(&mut cur));
            cur.push_str(&pad);
            cur_cols = indent;
            first_word = true;
        }
        if !first_word {
            cur.push(' ');
            cur_cols += 1;
        }
        cur.push_str(word);
        cur_cols += wc;
        first_word = false;
    }
    out.push(cur);
    out
}

/// One line of space numbers and one of the restore plan (`stats` and `restore-plan` say more).
fn space_and_restore(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(sp) = &r.space {
        writeln!(out, "space:    {}", super::space_sentence(sp))?;
    }
    if let Some(rp) = &r.restore_plan {
        writeln!(out, "restore:  {}", super::restore_sentence(rp))?;
        for w in &rp.warnings {
            writeln!(out, "          warning: {w}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_under_the_label_and_never_splits_a_word() {
        let line = format!(
            "   evidence: {} {}",
            "word ".repeat(20).trim_end(),
            "/registry/secrets/a-very-long-namespace-name/a-very-long-secret-name-xyz"
        );
        let w = wrap(&line, Some(40));
        assert!(w.len() > 2, "{w:?}");
        assert!(w[0].starts_with("   evidence: word"));
        for l in &w[1..] {
            assert!(
                l.starts_with("             ") && !l[13..].starts_with(' '),
                "{l:?}"
            );
        }
        for l in &w {
            assert!(columns(l) <= 40 || !l.trim().contains(' '), "{l:?}");
        }
        assert!(
            w.last().unwrap().trim()
                == "/registry/secrets/a-very-long-namespace-name/a-very-long-secret-name-xyz"
        );
        assert_eq!(
            w.join(" ").split_whitespace().collect::<Vec<_>>(),
            line.split_whitespace().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_command_in_backticks_is_never_split() {
        let line =
            "   remedy:   Rewrite them: `kubectl get secrets -A -o json | kubectl replace -f -`.";
        let w = wrap(line, Some(60));
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(
            w[1].trim(),
            "`kubectl get secrets -A -o json | kubectl replace -f -`."
        );
    }

    #[test]
    fn no_width_no_wrap_and_colour_takes_no_columns() {
        let line = "x ".repeat(100);
        assert_eq!(wrap(&line, None), vec![line.clone()]);
        assert_eq!(columns("\x1b[1;31mCRITICAL\x1b[0m"), 8);
        assert_eq!(hanging_indent("12. CRITICAL kind: text"), 4);
        assert_eq!(hanging_indent("verdict: OK — x"), 9);
        assert_eq!(hanging_indent("node master-1: reads"), 2);
    }
}
