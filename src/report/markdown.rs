//! Ticket-ready Markdown: verdict first, findings with evidence, node and node × key tables,
//! records, integrity, and the chain of custody.

use super::model::{Named, Report, Severity, Verdict};
use std::io::Write;

/// Inline text outside tables: control characters from the inputs (key and resource names) are
/// shown as escapes, never written; newlines become spaces. Backtick spans (as findings write
/// commands and error strings) stay code spans, verbatim: inside a code span a backslash is
/// literal, so nothing there is escaped and a command copies out as written. Outside them, the
/// punctuation that would start emphasis, a link or raw HTML is backslash-escaped (the backslash
/// does not render).
fn prose(s: &str) -> String {
    let s = crate::sanitize::text(&s.replace(['\n', '\r'], " ")).into_owned();
    let parts: Vec<&str> = s.split('`').collect();
    let mut out = String::with_capacity(s.len() + 8);
    let unclosed = parts.len().is_multiple_of(2);
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 && !(unclosed && i == parts.len() - 1) {
            out.push('`');
            out.push_str(part);
            out.push('`');
        } else {
            if i % 2 == 1 {
                out.push_str("\\`");
            }
            for c in part.chars() {
                if matches!(
                    c,
                    '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '~' | '#'
                ) {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out
}

/// A table cell: [`prose`] with `|` escaped everywhere, code spans included — GFM splits the
/// row into cells before it parses spans and turns `\|` back into `|`
/// (cmark-gfm extensions/table.c; GFM spec "Tables", example 200).
fn cell(s: &str) -> String {
    prose(s).replace('|', "\\|")
}

/// A code span, for names from the inputs (keys, paths, digests).
fn code(s: &str) -> String {
    // A backtick inside would end the span; etcd keys and errors practically never hold one.
    format!(
        "`{}`",
        crate::sanitize::text(&s.replace(['\n', '\r'], " ")).replace('`', "'")
    )
}

/// A code span inside a table cell.
fn code_cell(s: &str) -> String {
    code(s).replace('|', "\\|")
}

/// A finding's heading: the summary up to its first `: ` (outside code spans), cut at a word
/// boundary to about [`HEADING_CHARS`]; the whole summary follows in the body.
fn short(summary: &str) -> String {
    let one_line = summary.replace(['\n', '\r'], " ");
    let mut in_code = false;
    let mut end = one_line.len();
    let mut last_space = None;
    let mut chars = 0;
    for (i, c) in one_line.char_indices() {
        if c == '`' {
            in_code = !in_code;
        }
        if !in_code && (one_line[i..].starts_with(": ") || one_line[i..].starts_with(". ")) {
            end = i;
            break;
        }
        if !in_code && c == ' ' {
            last_space = Some(i);
        }
        chars += 1;
        if chars > HEADING_CHARS {
            end = last_space.unwrap_or(i);
            return format!("{}…", one_line[..end].trim_end());
        }
    }
    one_line[..end].trim_end_matches('.').to_string()
}

/// About how many characters a finding's heading shows.
const HEADING_CHARS: usize = 90;

pub fn render(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "# etcd-autopsy report\n")?;
    let badge = match r.verdict.status {
        Verdict::Ok => "✅ OK",
        Verdict::NotVerified => "⚠️ NOT VERIFIED",
        Verdict::Damaged => "⛔ DAMAGED",
        Verdict::Problems => "❌ PROBLEMS",
    };
    writeln!(
        out,
        "**Verdict: {badge}** — {}\n",
        prose(&r.verdict.headline)
    )?;
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
            "### {}. {sev} {} — {}\n",
            i + 1,
            f.kind.name(),
            prose(&short(&f.summary))
        )?;
        writeln!(out, "{}\n", prose(&f.summary))?;
        if !f.nodes.is_empty() {
            writeln!(out, "- **Nodes:** {}", prose(&f.nodes.join(", ")))?;
        }
        if !f.keys.is_empty() {
            writeln!(out, "- **Keys:** {} (listed below)", f.keys.len())?;
        }
        if !f.evidence.is_empty() {
            writeln!(out, "- **Evidence:**")?;
            for e in &f.evidence {
                match &e.source {
                    Some(s) => writeln!(out, "  - {} — {}", code(s), prose(&e.text))?,
                    None => writeln!(out, "  - {}", prose(&e.text))?,
                }
            }
        }
        writeln!(out, "- **Remedy:** {}", prose(&f.remedy))?;
        for (n, st) in f.steps.iter().enumerate() {
            writeln!(out, "  {}. {}\n", n + 1, prose(&st.text))?;
            writeln!(out, "     ```sh")?;
            for c in &st.commands {
                writeln!(out, "     {c}")?;
            }
            writeln!(out, "     ```")?;
        }
        writeln!(out)?;
        if !f.keys.is_empty() {
            // Every key, folded: GitHub and GitLab render <details>; the blank lines around the
            // list make it Markdown again inside the HTML block (GFM spec "HTML blocks", type 6).
            let noun = if f.keys.len() == 1 { "key" } else { "keys" };
            writeln!(out, "<details><summary>{} {noun}</summary>\n", f.keys.len())?;
            for k in &f.keys {
                writeln!(out, "- {}", code(k))?;
            }
            writeln!(out, "\n</details>\n")?;
        }
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
                .map(|(e, c)| format!("{c}× {}", code_cell(e)))
                .collect();
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&n.name),
                n.decrypts,
                n.fails,
                errors.join("<br>"),
                n.first_failing_key
                    .as_deref()
                    .map(code_cell)
                    .unwrap_or_else(|| "–".into()),
                cell(n.log.state.name())
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
            write!(out, " {} |", code_cell(c))?;
        }
        writeln!(out)?;
        writeln!(out, "|---|{}", "---|".repeat(cols.len()))?;
        for m in &r.matrix {
            write!(out, "| {} |", cell(&m.node))?;
            for c in &cols {
                match m.cells.get(*c) {
                    Some(cell) => write!(
                        out,
                        " {} — {} ok, {} fail |",
                        code_cell(&cell.fingerprint),
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
                cell(&k.id),
                cell(k.node.as_deref().unwrap_or("–")),
                cell(&k.source),
                k.provider,
                code_cell(&k.name),
                k.role,
                code_cell(&k.fingerprint)
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
            writeln!(out, "  - problem: {}", prose(p))?;
        }
        for w in &s.integrity.warnings {
            writeln!(out, "  - warning: {}", prose(w))?;
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
            writeln!(out, "| {} | {c} |", cell(n))?;
        }
        writeln!(out)?;
    }
    space_and_restore(r, out)?;
    writeln!(out, "## Inputs (chain of custody)\n")?;
    writeln!(
        out,
        "| path | role | node | bytes | sha256 |\n|---|---|---|---:|---|"
    )?;
    for i in &r.inputs {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            code_cell(&i.path),
            i.role,
            cell(i.node.as_deref().unwrap_or("–")),
            i.size,
            code_cell(&i.sha256)
        )?;
    }
    writeln!(
        out,
        "\nNo secret values and no key bytes appear in this report; keys are named by fingerprint."
    )
}

/// The space numbers and the restore plan: command lines in a fenced block, warnings as a list.
fn space_and_restore(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(sp) = &r.space {
        writeln!(out, "## Space\n")?;
        writeln!(out, "{}", prose(&super::space_sentence(sp)))?;
        let rows = super::space_rows(sp);
        if !rows.is_empty() {
            writeln!(
                out,
                "\n| resource | live | held | old | revisions |\n|---|---:|---:|---:|---:|"
            )?;
            for row in &rows {
                let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
                writeln!(out, "| {} |", cells.join(" | "))?;
            }
        }
        writeln!(out)?;
    }
    if let Some(rp) = &r.restore_plan {
        writeln!(out, "## Restore plan\n")?;
        writeln!(out, "{}\n", prose(&super::restore_sentence(rp)))?;
        // Backticks in a path would close the fence: shown as quotes, as code() does.
        writeln!(out, "```sh")?;
        for c in &rp.commands {
            writeln!(
                out,
                "# {} — {}",
                c.tool,
                crate::sanitize::text(&c.member).replace('`', "'")
            )?;
            for line in c.line.lines() {
                writeln!(out, "{}", crate::sanitize::text(line).replace('`', "'"))?;
            }
        }
        writeln!(out, "```\n")?;
        for w in &rp.warnings {
            writeln!(out, "- warning: {}", prose(w))?;
        }
        if !rp.warnings.is_empty() {
            writeln!(out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_stay_verbatim_outside_tables_and_escape_pipes_inside() {
        let remedy = "Rewrite: `kubectl get secrets -A -o json | kubectl replace -f -`.";
        assert_eq!(prose(remedy), remedy);
        assert_eq!(
            cell(remedy),
            "Rewrite: `kubectl get secrets -A -o json \\| kubectl replace -f -`."
        );
    }

    #[test]
    fn markup_from_inputs_is_inert() {
        assert_eq!(prose("a *b* <x> [l](u)"), "a \\*b\\* \\<x\\> \\[l\\](u)");
        assert_eq!(prose("line\nbreak"), "line break");
        assert_eq!(prose("\x1b[2J"), "\\\\x1b\\[2J");
        // An unclosed backtick is shown, not left to swallow the rest of the line.
        assert_eq!(prose("a `b"), "a \\`b");
        assert_eq!(code("a`b"), "`a'b`");
    }

    #[test]
    fn headings_stop_at_the_first_clause_or_a_word_boundary() {
        assert_eq!(short("x differs: y cannot read"), "x differs");
        assert_eq!(short("4 records. More"), "4 records");
        // Not inside a code span.
        assert_eq!(short("run `a: b` now"), "run `a: b` now");
        let long = "word ".repeat(40);
        let h = short(&long);
        assert!(
            h.ends_with("word…") && h.chars().count() <= HEADING_CHARS + 1,
            "{h}"
        );
    }
}
