//! End-to-end: reports render right where they are read (#11 item 6). Markdown through a real
//! GFM renderer (cmark-gfm via Python `cmarkgfm`, scripts/gfm-render.py), HTML in a real headless
//! Chromium (scripts/html-check.py), text on an 80-column terminal.

mod common;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};

const FIXED: &str = "2026-11-22T00:00:00Z";

fn root() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn incident_args(format: &str) -> Vec<String> {
    let t = |f: &str| {
        testdata(&format!("incident/{f}"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let mut a: Vec<String> = vec!["report".into(), "--snapshot".into(), t("snapshot.db")];
    for n in ["master-1", "master-2", "master-3"] {
        a.push("--encryption-config".into());
        a.push(format!("{n}={}", t(&format!("{n}.yaml"))));
        a.push("--log".into());
        a.push(format!("{n}={}", t(&format!("{n}.log"))));
    }
    a.extend(["-o".into(), format.into(), "--fixed-time".into(), FIXED.into()]);
    a
}

fn run_s(args: &[String]) -> std::process::Output {
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Markdown → HTML through cmark-gfm, or None (with the reason printed) when python3 or
/// cmarkgfm is missing. CI installs it (`pip install cmarkgfm`).
fn gfm(md: &str) -> Option<String> {
    let child = Command::new("python3")
        .arg(root().join("scripts/gfm-render.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("SKIPPED: python3 not runnable ({e})");
            return None;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(md.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    if o.status.code() == Some(4) {
        eprintln!("SKIPPED: {}", String::from_utf8_lossy(&o.stderr).trim());
        return None;
    }
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(String::from_utf8(o.stdout).unwrap())
}

/// Every `<tag …>…</tag>` element's inner HTML, in order.
fn elements<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(gt) = after.find('>') else { break };
        let body = &after[gt + 1..];
        let Some(end) = body.find(&close) else { break };
        out.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    out
}

#[test]
fn markdown_renders_in_cmark_gfm_with_copyable_remedy_one_line_headings_and_every_key() {
    let md = stdout(&run_s(&incident_args("md")));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&run_s(&incident_args("json")))).unwrap();
    let Some(html) = gfm(&md) else { return };

    // The remedy command copies out exactly as a shell wants it.
    assert!(
        html.contains("<code>kubectl get secrets -A -o json | kubectl replace -f -</code>"),
        "{html}"
    );
    // Nothing escaped shows: no backslash anywhere in the rendered incident report (its paths,
    // keys and errors hold none).
    assert!(!html.contains('\\'), "a visible backslash:\n{html}");

    // Headings are one line, short, and carry kind and severity.
    let findings = json["findings"].as_array().unwrap();
    let h3 = elements(&html, "h3");
    assert_eq!(h3.len(), findings.len(), "{h3:?}");
    for (h, f) in h3.iter().zip(findings) {
        assert!(!h.contains('\n') && h.chars().count() <= 140, "{h:?}");
        assert!(h.contains(f["kind"].as_str().unwrap()), "{h:?}");
    }

    // Every key of every finding is inside that finding's <details>, none cut.
    let details = elements(&html, "details");
    let with_keys: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| !f["keys"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(details.len(), with_keys.len());
    for (d, f) in details.iter().zip(&with_keys) {
        let keys = f["keys"].as_array().unwrap();
        assert!(
            d.contains(&format!("<summary>{} keys</summary>", keys.len())),
            "{d}"
        );
        for k in keys {
            let k = k.as_str().unwrap();
            assert!(d.contains(&format!("<li><code>{k}</code></li>")), "{k}");
        }
        assert_eq!(d.matches("<li>").count(), keys.len());
    }
    assert!(!md.contains("more"), "a capped list:\n{md}");

    // Tables keep their shape: every row has as many cells as its header.
    for table in elements(&html, "table") {
        let cols = elements(table, "th").len();
        for row in elements(table, "tr").iter().skip(1) {
            assert_eq!(elements(row, "td").len(), cols, "{row}");
        }
    }
}
