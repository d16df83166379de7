//! One self-contained HTML file: no external assets, no scripts. Findings, the node × key matrix,
//! records, inputs, and a timeline of log errors per node as inline SVG.

use super::model::{Named, Report, Severity, TimelineSeries};
use crate::logs::TimeBasis;
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

/// How many of a finding's keys a printout shows (the page lists them all): 300,000 keys
/// would be thousands of pages.
const PRINTED_KEYS: usize = 50;

/// Screen and print styles. Wide content (keys, digests, the node × key matrix) wraps inside
/// its cell or scrolls inside its own box, never the page: `overflow-wrap:anywhere` lets long
/// tokens break, `.scroll` boxes scroll sideways when a table still does not fit.
const STYLE: &str = "*{box-sizing:border-box}\
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;padding:0 1em;max-width:1100px;color:#222}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}\
.scroll{max-width:100%;overflow-x:auto}\
pre{max-width:100%;overflow-x:auto;background:#f6f6f6;padding:.4em .6em;font:12px ui-monospace,monospace}\
table{border-collapse:collapse;margin:.5em 0;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#f4f4f4}code{font:12px ui-monospace,monospace;background:#f6f6f6;padding:0 .2em;overflow-wrap:anywhere}\
td,th,li,p,div{overflow-wrap:break-word}.path{overflow-wrap:anywhere}\
.verdict{padding:.8em 1em;border-radius:6px;font-size:1.15em}.ok{background:#e6f6e6}.problems,.damaged{background:#fde8e8}.not-verified{background:#fff4d6}\
.finding{border-left:5px solid #999;padding:.3em 1em;margin:1em 0;background:#fafafa}\
.critical{border-color:#b00}.error{border-color:#e55}.warning{border-color:#e9a000}.info{border-color:#39c}\
.sev{font-weight:bold;text-transform:uppercase}.fail{color:#b00}.num{text-align:right}\
.keys{max-height:12em;overflow:auto;border:1px solid #e4e4e4;background:#fff;margin:.3em 0;padding:.2em .5em}\
.keys ol{margin:0;padding-left:2.5em}\
.print-only{display:none}#timeline{display:block;width:100%;height:auto}.axis{font-size:11px;fill:#555}.caption{color:#555;font-size:.9em}\
@media print{body{max-width:none;margin:0;padding:0;font-size:11px}code{font-size:10px}\
.scroll,.keys{overflow:visible;max-height:none;border:0}\
pre{white-space:pre-wrap;overflow-wrap:anywhere;overflow:visible}\
.finding,tr,#timeline{break-inside:avoid}h2{break-after:avoid}\
.keys li:nth-child(n+51){display:none}.print-only{display:block}\
.verdict,.finding,th,code{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

pub fn render(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    )?;
    // The verdict in the title: it is what a tab, a bookmark and a mail attachment list show.
    writeln!(
        out,
        "<title>{} — etcd-autopsy report</title><style>{STYLE}</style></head><body>",
        esc(&r.verdict.status.name().replace('-', " ").to_uppercase())
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
            // Every key, in a box that scrolls on screen and prints in full.
            writeln!(
                out,
                "<p>Keys ({}):</p><div class=\"keys\"><ol>",
                f.keys.len()
            )?;
            for k in &f.keys {
                writeln!(out, "<li><code>{}</code></li>", esc(k))?;
            }
            writeln!(out, "</ol></div>")?;
            if f.keys.len() > PRINTED_KEYS {
                writeln!(
                    out,
                    "<p class=\"print-only\">Printed: the first {PRINTED_KEYS} of {} keys; the file lists all.</p>",
                    f.keys.len()
                )?;
            }
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
        writeln!(out, "<h2>Nodes</h2><div class=\"scroll\"><table id=\"nodes\"><tr><th>node</th><th>reads</th><th>cannot read</th><th>errors</th><th>LIST stops at</th><th>logs</th></tr>")?;
        for n in &r.nodes {
            let errors: Vec<String> = n
                .errors
                .iter()
                .map(|(e, c)| format!("{c}× <code>{}</code>", esc(e)))
                .collect();
            writeln!(
                out,
                "<tr><td class=\"path\">{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&n.name),
                n.decrypts,
                if n.fails > 0 { " fail" } else { "" },
                n.fails,
                errors.join("<br>"),
                n.first_failing_key.as_deref().map(|k| format!("<code>{}</code>", esc(k))).unwrap_or_default(),
                esc(n.log.state.name())
            )?;
        }
        writeln!(out, "</table></div>")?;
    }

    if !r.matrix.is_empty() {
        let mut cols: Vec<&String> = r.matrix.iter().flat_map(|m| m.cells.keys()).collect();
        cols.sort();
        cols.dedup();
        writeln!(
            out,
            "<h2>Node × key</h2><div class=\"scroll\"><table id=\"matrix\"><tr><th>node</th>"
        )?;
        for c in &cols {
            write!(out, "<th><code>{}</code></th>", esc(c))?;
        }
        writeln!(out, "</tr>")?;
        for m in &r.matrix {
            write!(out, "<tr><td class=\"path\">{}</td>", esc(&m.node))?;
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
        writeln!(out, "</table></div>")?;
    }

    if !r.log_events.timeline.is_empty() {
        writeln!(out, "<h2>Log errors over time</h2>")?;
        timeline_svg(r, out)?;
    }

    let rc = &r.records;
    writeln!(
        out,
        "<h2>Records</h2><p id=\"records\">{} live records: {} encrypted, {} plaintext, {} that no candidate key decrypts.</p>",
        rc.live, rc.encrypted, rc.plaintext, rc.undecryptable
    )?;
    if !r.keys.is_empty() {
        writeln!(out, "<h2>Candidate keys</h2><div class=\"scroll\"><table id=\"keys\"><tr><th>id</th><th>node</th><th>source</th><th>provider</th><th>name</th><th>role</th><th>fingerprint</th></tr>")?;
        for k in &r.keys {
            writeln!(
                out,
                "<tr><td class=\"path\">{}</td><td class=\"path\">{}</td><td class=\"path\">{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&k.id),
                esc(k.node.as_deref().unwrap_or("")),
                esc(&k.source),
                esc(&k.provider),
                esc(&k.name),
                esc(&k.role),
                esc(&k.fingerprint)
            )?;
        }
        writeln!(out, "</table></div>")?;
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
    space_and_restore(r, out)?;
    writeln!(out, "<h2>Inputs</h2><div class=\"scroll\"><table id=\"inputs\"><tr><th>path</th><th>role</th><th>node</th><th>bytes</th><th>sha256</th></tr>")?;
    for i in &r.inputs {
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"path\">{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            esc(&i.path),
            esc(&i.role),
            esc(i.node.as_deref().unwrap_or("")),
            i.size,
            esc(&i.sha256)
        )?;
    }
    writeln!(
        out,
        "</table></div><p>No secret values and no key bytes appear in this report.</p></body></html>"
    )
}

/// The space numbers and the restore plan (command lines in `<pre>`, warnings as a list).
fn space_and_restore(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(sp) = &r.space {
        writeln!(
            out,
            "<h2>Space</h2><p id=\"space\">{}</p>",
            rich(&super::space_sentence(sp))
        )?;
        let rows = super::space_rows(sp);
        if !rows.is_empty() {
            writeln!(out, "<div class=\"scroll\"><table id=\"space-resources\"><tr><th>resource</th><th>live</th><th>held</th><th>old</th><th>revisions</th></tr>")?;
            for [name, cells @ ..] in &rows {
                write!(out, "<tr><td>{}</td>", esc(name))?;
                for c in cells {
                    write!(out, "<td class=\"num\">{}</td>", esc(c))?;
                }
                writeln!(out, "</tr>")?;
            }
            writeln!(out, "</table></div>")?;
        }
    }
    if let Some(rp) = &r.restore_plan {
        writeln!(
            out,
            "<h2>Restore plan</h2><p id=\"restore\">{}</p>",
            rich(&super::restore_sentence(rp))
        )?;
        writeln!(out, "<pre>")?;
        for c in &rp.commands {
            writeln!(out, "# {} — {}", esc(&c.tool), esc(&c.member))?;
            for line in c.line.lines() {
                writeln!(out, "{}", esc(line))?;
            }
        }
        writeln!(out, "</pre>")?;
        if !rp.warnings.is_empty() {
            writeln!(out, "<ul id=\"restore-warnings\">")?;
            for w in &rp.warnings {
                writeln!(out, "<li>{}</li>", rich(w))?;
            }
            writeln!(out, "</ul>")?;
        }
    }
    Ok(())
}

/// What the timeline's times are, said where it is drawn.
fn basis_caption(basis: Option<TimeBasis>) -> &'static str {
    match basis {
        Some(TimeBasis::Utc) | None => "Times in UTC.",
        Some(TimeBasis::Local) => {
            "Local time of each logging host, zone unknown (--tz converts to UTC); \
             times of different nodes compare only if their clocks share a zone."
        }
        Some(TimeBasis::NoYear) | Some(TimeBasis::Unknown) => {
            "Year unknown, local time (klog headers carry neither; --year and --tz set them)."
        }
    }
}

/// `hh:mm:ss` of a timeline time (`2021-11-16T20:09:52.635602Z`, `--11-16T…`), with `MM-DD `
/// in front when the span crosses days.
fn tick_label(t: &str, with_day: bool) -> String {
    let (date, time) = t.split_once('T').unwrap_or(("", t));
    let hms: String = time.chars().take(8).collect();
    if with_day {
        let md: String = date
            .chars()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{md} {hms}")
    } else {
        hms
    }
}

/// A bar chart per node: one bar per time bucket, height ∝ errors in it; apiserver starts as
/// dashed lines. One row for every node of the report (a node whose logs show nothing gets an
/// empty row saying so) and for every log node no config names. The SVG scales with its
/// column (`viewBox`, width 100 %).
fn timeline_svg(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let series = &r.log_events.timeline;
    let (w, row_h, left, top, bottom) = (900.0_f64, 44.0_f64, 150.0_f64, 8.0_f64, 34.0_f64);
    let right = w - 10.0;
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
    // Rows: the report's nodes in its order, then log nodes it does not name.
    let mut rows: Vec<(&str, Option<&TimelineSeries>, Option<&str>)> = r
        .nodes
        .iter()
        .map(|n| {
            let s = series.iter().find(|s| s.node == n.name);
            (n.name.as_str(), s, Some(n.log.state.name()))
        })
        .collect();
    for s in series {
        if !r.nodes.iter().any(|n| n.name == s.node) {
            rows.push((s.node.as_str(), Some(s), None));
        }
    }
    let h = top + row_h * rows.len() as f64 + bottom;
    writeln!(
        out,
        "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" \
         width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\" \
         aria-label=\"log errors per node over time\">"
    )?;
    let bw = (right - left) / buckets as f64;
    let base = |i: usize| top + row_h * (i as f64 + 1.0) - 6.0;
    for (i, (node, s, state)) in rows.iter().enumerate() {
        let y = base(i);
        writeln!(
            out,
            "<text x=\"4\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            y - row_h / 2.0 + 6.0,
            esc(node)
        )?;
        writeln!(
            out,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{right}\" y2=\"{y:.1}\" stroke=\"#bbb\"/>"
        )?;
        let Some(s) = s else {
            writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\">no errors in its logs ({})</text>",
                left + 6.0,
                y - 8.0,
                esc(state.unwrap_or(""))
            )?;
            continue;
        };
        for (j, (t, n)) in s.points.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let bh = ((row_h - 12.0) * (*n as f64) / (max as f64)).max(1.5);
            writeln!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#c33\"><title>{}: {n}</title></rect>",
                left + j as f64 * bw,
                y - bh,
                (bw - 1.0).max(1.0),
                esc(t)
            )?;
        }
        for rs in &s.restarts {
            let x = left + (rs.bucket as f64 + 0.5) * bw;
            writeln!(
                out,
                "<line class=\"restart\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{y:.1}\" stroke=\"#36c\" stroke-width=\"2\" stroke-dasharray=\"4 3\"><title>kube-apiserver start {} ({})</title></line>",
                y - row_h + 8.0,
                esc(&rs.time),
                esc(&rs.source)
            )?;
        }
    }
    // Axis ticks at bucket starts, about six over the span.
    let times: Vec<&str> = series
        .iter()
        .max_by_key(|s| s.points.len())
        .map(|s| s.points.iter().map(|p| p.0.as_str()).collect())
        .unwrap_or_default();
    let day = |t: &str| t.split_once('T').map(|p| p.0.to_string());
    let with_day = times.first().map(|t| day(t)) != times.last().map(|t| day(t));
    let axis_y = top + row_h * rows.len() as f64;
    let step = (times.len() / 6).max(1);
    for (j, t) in times.iter().enumerate().step_by(step) {
        let x = left + j as f64 * bw;
        writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#888\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"{}\">{}</text>",
            axis_y - 6.0,
            axis_y,
            axis_y + 14.0,
            if j == 0 { "start" } else { "middle" },
            esc(&tick_label(t, with_day))
        )?;
    }
    writeln!(out, "</svg>")?;
    let drawn: u64 = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .sum();
    let not_drawn = r.log_events.total.saturating_sub(drawn);
    let restarts = series.iter().map(|s| s.restarts.len()).sum::<usize>();
    write!(
        out,
        "<p class=\"caption\">{} Bars: errors per {}; dashed blue lines: kube-apiserver starts ({restarts}).",
        esc(basis_caption(r.log_events.timeline_basis)),
        bucket_width(&times)
    )?;
    if not_drawn > 0 {
        write!(
            out,
            " {not_drawn} event(s) carry no time and are not drawn."
        )?;
    }
    writeln!(out, "</p>")
}

/// The bucket width in words, from two consecutive bucket starts.
fn bucket_width(times: &[&str]) -> String {
    let secs = |t: &str| -> Option<f64> {
        let time = t.split_once('T')?.1.trim_end_matches('Z');
        let mut it = time.split(':');
        let h: f64 = it.next()?.parse().ok()?;
        let m: f64 = it.next()?.parse().ok()?;
        let s: f64 = it.next()?.parse().ok()?;
        Some(h * 3600.0 + m * 60.0 + s)
    };
    match (times.first(), times.get(1)) {
        (Some(a), Some(b)) => match (secs(a), secs(b)) {
            (Some(x), Some(y)) if y > x => format!("{:.0} s", y - x),
            _ => "time bucket".to_string(),
        },
        _ => "time bucket".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_print_style_cuts_key_lists_where_the_note_says() {
        let rule = format!(".keys li:nth-child(n+{})", super::PRINTED_KEYS + 1);
        assert!(super::STYLE.contains(&rule));
    }

    #[test]
    fn backtick_spans_become_code_and_everything_is_escaped() {
        assert_eq!(
            super::rich("fail with `a<b>` then `c`"),
            "fail with <code>a&lt;b&gt;</code> then <code>c</code>"
        );
        assert_eq!(super::rich("<script>"), "&lt;script&gt;");
    }
}
