//! Ticket-ready Markdown: verdict first, findings with evidence, node and node × key tables,
//! records, integrity, and the chain of custody.

use super::model::{Named, Report, Severity, Verdict};
use super::{capped, KEYS_SHOWN};
use std::io::Write;

/// Escapes text for a Markdown table cell or inline text.
/// Control characters from the inputs (key and resource names) are escaped, never written.
fn esc(s: &str) -> String {
    crate::sanitize::text(&s.replace('\n', " ")).replace('|', "\\|")
}

fn code(s: &str) -> String {
    // A backtick inside would end the span; etcd keys and errors practically never hold one.
    format!("`{}`", crate::sanitize::text(s).replace('`', "'"))
}

pub fn render(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "# etcd-autopsy report\n")?;
    let badge = match r.verdict.status {
        Verdict::Ok => "✅ OK",
        Verdict::NotVerified => "⚠️ NOT VERIFIED",
        Verdict::Damaged => "⛔ DAMAGED",
        Verdict::Problems => "❌ PROBLEMS",
    };
    writeln!(out, "**Verdict: {badge}** — {}\n", esc(&r.verdict.headline))?;
    let snap = r.snapshot.as_ref();
    writeln!(
        out,
        "Made {} by {} {}{}.\n",
        r.created,
        r.tool.name,
        r.tool.version,
        snap.map(|s| format!(" from snapshot {}", code(&s.path)))
            .unwrap_or_default()
    )?;

    writeln!(out, "## Findings\n")?;
    if r.findings.is_empty() {
        writeln!(out, "No findings.\n")?;
    }
    for (i, f) in r.findings.iter().enumerate() {
        let sev = match f.severity {
            Severity::Critical => "CRITICAL",
            Severity::Warning => "WARNING",
            Severity::Info => "INFO",
        };
        writeln!(
            out,
            "### {}. [{sev}] {} — {}\n",
            i + 1,
            f.kind.name(),
            esc(&f.summary)
        )?;
        if !f.nodes.is_empty() {
            writeln!(out, "- **Nodes:** {}", f.nodes.join(", "))?;
        }
        if !f.keys.is_empty() {
            writeln!(
                out,
                "- **Keys ({}):** {}",
                f.keys.len(),
                capped(&f.keys, KEYS_SHOWN, code)
            )?;
        }
        if !f.evidence.is_empty() {
            writeln!(out, "- **Evidence:**")?;
            for e in &f.evidence {
                match &e.source {
                    Some(s) => writeln!(out, "  - {} — {}", code(s), esc(&e.text))?,
                    None => writeln!(out, "  - {}", esc(&e.text))?,
                }
            }
        }
        writeln!(out, "- **Remedy:** {}", esc(&f.remedy))?;
        for (n, st) in f.steps.iter().enumerate() {
            writeln!(out, "  {}. {}\n", n + 1, esc(&st.text))?;
            writeln!(out, "     ```sh")?;
            for c in &st.commands {
                writeln!(out, "     {c}")?;
            }
            writeln!(out, "     ```")?;
        }
        writeln!(out)?;
    }

    if !r.nodes.is_empty() {
        writeln!(out, "## Nodes\n")?;
        writeln!(
            out,
            "| node | reads | cannot read | errors | LIST stops at | logs |"
        )?;
        writeln!(out, "|---|---:|---:|---|---|---|")?;
        for n in &r.nodes {
            let errors: Vec<String> = n
                .errors
                .iter()
                .map(|(e, c)| format!("{c}× {}", code(e)))
                .collect();
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                esc(&n.name),
                n.decrypts,
                n.fails,
                esc(&errors.join("<br>")),
                n.first_failing_key
                    .as_deref()
                    .map(code)
                    .unwrap_or_else(|| "–".into()),
                esc(n.log.state.name())
            )?;
        }
        writeln!(out)?;
    }

    if !r.matrix.is_empty() {
        writeln!(out, "## Node × key\n")?;
        let mut cols: Vec<&String> = r.matrix.iter().flat_map(|m| m.cells.keys()).collect();
        cols.sort();
        cols.dedup();
        write!(out, "| node |")?;
        for c in &cols {
            write!(out, " {} |", code(c))?;
        }
        writeln!(out)?;
        writeln!(out, "|---|{}", "---|".repeat(cols.len()))?;
        for m in &r.matrix {
            write!(out, "| {} |", esc(&m.node))?;
            for c in &cols {
                match m.cells.get(*c) {
                    Some(cell) => write!(
                        out,
                        " {} — {} ok, {} fail |",
                        code(&cell.fingerprint),
                        cell.decrypts,
                        cell.fails
                    )?,
                    None => write!(out, " – |")?,
                }
            }
            writeln!(out)?;
        }
        writeln!(out)?;
    }

    writeln!(out, "## Records\n")?;
    let rc = &r.records;
    writeln!(
        out,
        "{} live records: {} encrypted, {} plaintext, {} that no candidate key decrypts.\n",
        rc.live, rc.encrypted, rc.plaintext, rc.undecryptable
    )?;
    if !rc.by_provider.is_empty() {
        writeln!(out, "| storage | records |\n|---|---:|")?;
        for (p, n) in &rc.by_provider {
            writeln!(out, "| {p} | {n} |")?;
        }
        writeln!(out)?;
    }
    if !r.keys.is_empty() {
        writeln!(out, "## Candidate keys\n")?;
        writeln!(
            out,
            "| id | node | source | provider | name | role | fingerprint |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|---|")?;
        for k in &r.keys {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                esc(&k.id),
                esc(k.node.as_deref().unwrap_or("–")),
                esc(&k.source),
                k.provider,
                code(&k.name),
                k.role,
                code(&k.fingerprint)
            )?;
        }
        writeln!(out)?;
    }
    if let Some(s) = snap {
        writeln!(out, "## Snapshot integrity\n")?;
        let status: Vec<String> = s.status.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(out, "- status: {}", status.join(", "))?;
        writeln!(out, "- SHA-256 trailer: {}", s.integrity.sha256_trailer)?;
        writeln!(
            out,
            "- structure: {}",
            if s.integrity.structure_ok {
                "intact"
            } else {
                "DAMAGED"
            }
        )?;
        for p in s.integrity.problems.iter().take(20) {
            writeln!(out, "  - problem: {}", esc(p))?;
        }
        for w in &s.integrity.warnings {
            writeln!(out, "  - warning: {}", esc(w))?;
        }
        writeln!(out)?;
    }
    if r.log_events.total > 0 {
        writeln!(out, "## Log events\n")?;
        writeln!(
            out,
            "{} transform/decryption errors in the logs.\n",
            r.log_events.total
        )?;
        writeln!(out, "| node | events |\n|---|---:|")?;
        for (n, c) in &r.log_events.by_node {
            writeln!(out, "| {} | {c} |", esc(n))?;
        }
        writeln!(out)?;
    }
    writeln!(out, "## Inputs (chain of custody)\n")?;
    writeln!(
        out,
        "| path | role | node | bytes | sha256 |\n|---|---|---|---:|---|"
    )?;
    for i in &r.inputs {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            code(&i.path),
            i.role,
            esc(i.node.as_deref().unwrap_or("–")),
            i.size,
            code(&i.sha256)
        )?;
    }
    writeln!(
        out,
        "\nNo secret values and no key bytes appear in this report; keys are named by fingerprint."
    )
}
