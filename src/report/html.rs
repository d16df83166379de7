//! One self-contained HTML file: no external assets, no scripts. Findings, the node × key matrix,
//! records, inputs, and a timeline of log errors per node as inline SVG.

use super::model::{Named, Report, Severity, TimelineSeries};
use super::{capped, KEYS_SHOWN};
use std::io::Write;

/// Escapes text for HTML element content and attribute values; control characters from the
/// inputs are shown as escapes (`\x1b`), never written.
fn esc(s: &str) -> String {
    let s = crate::sanitize::text(s);
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Escapes text and turns `backtick spans` (as findings write commands and error strings) into
/// `<code>` elements.
fn rich(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(&esc(part));
            out.push_str("</code>");
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}\
table{border-collapse:collapse;margin:.5em 0;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#f4f4f4}code{font:12px ui-monospace,monospace;background:#f6f6f6;padding:0 .2em}\
.verdict{padding:.8em 1em;border-radius:6px;font-size:1.15em}.ok{background:#e6f6e6}.problems,.damaged{background:#fde8e8}.not-verified{background:#fff4d6}\
.finding{border-left:5px solid #999;padding:.3em 1em;margin:1em 0;background:#fafafa}\
.critical{border-color:#b00}.error{border-color:#e55}.warning{border-color:#e9a000}.info{border-color:#39c}\
.sev{font-weight:bold;text-transform:uppercase}.fail{color:#b00}.num{text-align:right}";

pub fn render(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<title>etcd-autopsy report</title><style>{STYLE}</style></head><body>"
    )?;
    writeln!(out, "<h1>etcd-autopsy report</h1>")?;
    writeln!(
        out,
        "<div class=\"verdict {}\" id=\"verdict\"><strong>{}</strong> — {}</div>",
        esc(r.verdict.status.name()),
        esc(&r.verdict.status.name().replace('-', " ").to_uppercase()),
        esc(&r.verdict.headline)
    )?;
    writeln!(
        out,
        "<p>Made {} by {} {}.</p>",
        esc(&r.created),
        esc(&r.tool.name),
        esc(&r.tool.version)
    )?;

    writeln!(out, "<h2>Findings</h2><section id=\"findings\">")?;
    if r.findings.is_empty() {
        writeln!(out, "<p>No findings.</p>")?;
    }
    for f in &r.findings {
        let sev = match f.severity {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        writeln!(
            out,
            "<div class=\"finding {sev}\" data-kind=\"{}\">",
            esc(f.kind.name())
        )?;
        writeln!(
            out,
            "<p><span class=\"sev\">{sev}</span> <code>{}</code> {}</p>",
            esc(f.kind.name()),
            rich(&f.summary)
        )?;
        if !f.nodes.is_empty() {
            writeln!(out, "<p>Nodes: {}</p>", esc(&f.nodes.join(", ")))?;
        }
        if !f.keys.is_empty() {
            let keys = capped(&f.keys, KEYS_SHOWN, |k| format!("<code>{}</code>", esc(k)));
            writeln!(out, "<p>Keys ({}): {keys}</p>", f.keys.len())?;
        }
        if !f.evidence.is_empty() {
            writeln!(out, "<ul>")?;
            for e in &f.evidence {
                let src = e
                    .source
                    .as_deref()
                    .map(|s| format!("<code>{}</code> ", esc(s)))
                    .unwrap_or_default();
                writeln!(out, "<li>{src}{}</li>", rich(&e.text))?;
            }
            writeln!(out, "</ul>")?;
        }
        writeln!(out, "<p><strong>Remedy:</strong> {}</p>", rich(&f.remedy))?;
        if !f.steps.is_empty() {
            writeln!(out, "<ol class=\"steps\">")?;
            for st in &f.steps {
                let cmds: Vec<String> = st.commands.iter().map(|c| esc(c)).collect();
                writeln!(
                    out,
                    "<li>{}<pre><code>{}</code></pre></li>",
                    rich(&st.text),
                    cmds.join("\n")
                )?;
            }
            writeln!(out, "</ol>")?;
        }
        writeln!(out, "</div>")?;
    }
    writeln!(out, "</section>")?;

    if !r.nodes.is_empty() {
        writeln!(out, "<h2>Nodes</h2><table id=\"nodes\"><tr><th>node</th><th>reads</th><th>cannot read</th><th>errors</th><th>LIST stops at</th><th>logs</th></tr>")?;
        for n in &r.nodes {
            let errors: Vec<String> = n
                .errors
                .iter()
                .map(|(e, c)| format!("{c}× <code>{}</code>", esc(e)))
                .collect();
            writeln!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&n.name),
                n.decrypts,
                if n.fails > 0 { " fail" } else { "" },
                n.fails,
                errors.join("<br>"),
                n.first_failing_key.as_deref().map(|k| format!("<code>{}</code>", esc(k))).unwrap_or_default(),
                esc(n.log.state.name())
            )?;
        }
        writeln!(out, "</table>")?;
    }

    if !r.matrix.is_empty() {
        let mut cols: Vec<&String> = r.matrix.iter().flat_map(|m| m.cells.keys()).collect();
        cols.sort();
        cols.dedup();
        writeln!(
            out,
            "<h2>Node × key</h2><table id=\"matrix\"><tr><th>node</th>"
        )?;
        for c in &cols {
            write!(out, "<th><code>{}</code></th>", esc(c))?;
        }
        writeln!(out, "</tr>")?;
        for m in &r.matrix {
            write!(out, "<tr><td>{}</td>", esc(&m.node))?;
            for c in &cols {
                match m.cells.get(*c) {
                    Some(cell) => write!(
                        out,
                        "<td><code>{}</code><br>{} ok, <span class=\"{}\">{} fail</span></td>",
                        esc(&cell.fingerprint),
                        cell.decrypts,
                        if cell.fails > 0 { "fail" } else { "" },
                        cell.fails
                    )?,
                    None => write!(out, "<td>–</td>")?,
                }
            }
            writeln!(out, "</tr>")?;
        }
        writeln!(out, "</table>")?;
    }

    if !r.log_events.timeline.is_empty() {
        writeln!(out, "<h2>Log errors over time</h2>")?;
        timeline_svg(&r.log_events.timeline, out)?;
    }

    let rc = &r.records;
    writeln!(
        out,
        "<h2>Records</h2><p id=\"records\">{} live records: {} encrypted, {} plaintext, {} that no candidate key decrypts.</p>",
        rc.live, rc.encrypted, rc.plaintext, rc.undecryptable
    )?;
    if !r.keys.is_empty() {
        writeln!(out, "<h2>Candidate keys</h2><table id=\"keys\"><tr><th>id</th><th>node</th><th>source</th><th>provider</th><th>name</th><th>role</th><th>fingerprint</th></tr>")?;
        for k in &r.keys {
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&k.id),
                esc(k.node.as_deref().unwrap_or("")),
                esc(&k.source),
                esc(&k.provider),
                esc(&k.name),
                esc(&k.role),
                esc(&k.fingerprint)
            )?;
        }
        writeln!(out, "</table>")?;
    }
    if let Some(s) = &r.snapshot {
        writeln!(
            out,
            "<h2>Snapshot</h2><p id=\"integrity\"><code>{}</code>: trailer {}, structure {}.</p>",
            esc(&s.path),
            esc(&s.integrity.sha256_trailer),
            if s.integrity.structure_ok {
                "intact"
            } else {
                "DAMAGED"
            }
        )?;
        if !s.integrity.problems.is_empty() {
            writeln!(out, "<ul>")?;
            for p in s.integrity.problems.iter().take(50) {
                writeln!(out, "<li>{}</li>", esc(p))?;
            }
            writeln!(out, "</ul>")?;
        }
    }
    writeln!(out, "<h2>Inputs</h2><table id=\"inputs\"><tr><th>path</th><th>role</th><th>node</th><th>bytes</th><th>sha256</th></tr>")?;
    for i in &r.inputs {
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            esc(&i.path),
            esc(&i.role),
            esc(i.node.as_deref().unwrap_or("")),
            i.size,
            esc(&i.sha256)
        )?;
    }
    writeln!(
        out,
        "</table><p>No secret values and no key bytes appear in this report.</p></body></html>"
    )
}

/// A bar chart per node: one bar per time bucket, height ∝ errors in it.
fn timeline_svg(series: &[TimelineSeries], out: &mut dyn Write) -> std::io::Result<()> {
    let (w, row_h, left) = (900.0_f64, 60.0_f64, 140.0_f64);
    let buckets = series
        .iter()
        .map(|s| s.points.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .max()
        .unwrap_or(1)
        .max(1);
    let h = row_h * series.len() as f64 + 30.0;
    writeln!(out, "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"log errors per node over time\">")?;
    let bw = (w - left - 10.0) / buckets as f64;
    for (i, s) in series.iter().enumerate() {
        let y0 = row_h * i as f64 + 10.0;
        writeln!(
            out,
            "<text x=\"4\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            y0 + row_h / 2.0,
            esc(&s.node)
        )?;
        writeln!(
            out,
            "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ccc\"/>",
            y0 + row_h - 8.0,
            w - 10.0,
            y0 + row_h - 8.0
        )?;
        for (j, (t, n)) in s.points.iter().enumerate() {
            let bh = (row_h - 12.0) * (*n as f64) / (max as f64);
            writeln!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#c33\"><title>{}: {n}</title></rect>",
                left + j as f64 * bw,
                y0 + row_h - 8.0 - bh,
                (bw - 1.0).max(1.0),
                bh,
                esc(t)
            )?;
        }
    }
    if let (Some(first), Some(last)) = (
        series
            .iter()
            .filter_map(|s| s.points.first())
            .map(|p| &p.0)
            .min(),
        series
            .iter()
            .filter_map(|s| s.points.last())
            .map(|p| &p.0)
            .max(),
    ) {
        writeln!(
            out,
            "<text x=\"{left}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            h - 6.0,
            esc(first)
        )?;
        writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            w - 10.0,
            h - 6.0,
            esc(last)
        )?;
    }
    writeln!(out, "</svg>")
}

#[cfg(test)]
mod tests {
    #[test]
    fn backtick_spans_become_code_and_everything_is_escaped() {
        assert_eq!(
            super::rich("fail with `a<b>` then `c`"),
            "fail with <code>a&lt;b&gt;</code> then <code>c</code>"
        );
        assert_eq!(super::rich("<script>"), "&lt;script&gt;");
    }
}
