//! Terminal summary. Colour only when asked (the caller decides: a TTY and no `NO_COLOR`).

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

pub fn render(r: &Report, color: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let p = Paint(color);
    let verdict = match r.verdict.status {
        Verdict::Ok => p.wrap("1;32", "OK"),
        Verdict::NotVerified => p.wrap("1;33", "NOT VERIFIED"),
        Verdict::Damaged => p.wrap("1;31", "DAMAGED"),
        Verdict::Problems => p.wrap("1;31", "PROBLEMS"),
    };
    writeln!(out, "verdict: {verdict} — {}", r.verdict.headline)?;
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
    Ok(())
}
