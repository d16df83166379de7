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
    let mut a = incident_report_args();
    a.extend([
        "-o".into(),
        format.into(),
        "--fixed-time".into(),
        FIXED.into(),
    ]);
    a
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
    // keys and errors hold none) outside code blocks, where the restore plan's shell lines end
    // in `\` continuations on purpose.
    let mut prose_html = String::new();
    let mut rest = html.as_str();
    while let Some(a) = rest.find("<pre") {
        prose_html.push_str(&rest[..a]);
        rest = rest[a..].find("</pre>").map_or("", |b| &rest[a + b + 6..]);
    }
    prose_html.push_str(rest);
    assert!(!prose_html.contains('\\'), "a visible backslash:\n{html}");

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
    assert!(!md.contains("… and "), "a capped list:\n{md}");

    // Tables keep their shape: every row has as many cells as its header.
    for table in elements(&html, "table") {
        let cols = elements(table, "th").len();
        for row in elements(table, "tr").iter().skip(1) {
            assert_eq!(elements(row, "td").len(), cols, "{row}");
        }
    }
}

#[test]
fn html_renders_in_headless_chromium_without_errors_or_overflow_at_760_and_1400_px() {
    if which("chromium").is_none() || which("python3").is_none() {
        eprintln!("SKIPPED: chromium or python3 not installed (apt-get install chromium python3)");
        return;
    }
    let shots = tempdir("html-shots");
    let o = Command::new("python3")
        .arg(root().join("scripts/html-check.py"))
        .args(["--bin", bin(), "--out"])
        .arg(&shots)
        .output()
        .expect("python3");
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    for name in ["incident", "openshift", "demo"] {
        for w in [760, 1400] {
            assert!(out.contains(&format!("ok {name} @{w}px screen")), "{out}");
            let png = shots.join(format!("{name}-{w}.png"));
            let bytes = std::fs::read(&png).unwrap();
            assert!(
                bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
                "{png:?}"
            );
        }
        assert!(out.contains(&format!("ok {name} @718px print")), "{out}");
    }
    // The incident's timeline: a row per node (master-2's logs show nothing), its restart.
    assert!(out.contains("3 rows, 1 restarts"), "{out}");
    std::fs::remove_dir_all(&shots).ok();
}

#[test]
fn html_says_what_its_times_are_and_carries_the_verdict_in_its_title() {
    let mut a = incident_args("html");
    let html = stdout(&run_s(&a));
    assert!(html.contains("<title>PROBLEMS — etcd-autopsy report</title>"));
    assert!(
        html.contains("Year unknown, local time"),
        "no basis caption"
    );
    // klog times carry no year and no zone: none invented on the axis or in the bars.
    for invented in ["2000-", "Z</title>", "Z</text>"] {
        assert!(!html.contains(invented), "{invented}");
    }
    assert!(html.contains("viewBox=\"0 0 900 ") && html.contains("width=\"100%\""));
    assert!(html.contains("class=\"restart\""));
    assert!(html.contains("@media print"));
    // A node whose logs show nothing still has its row.
    assert!(html.contains("no errors in its logs (predicted-not-seen)"));
    // With --year the year is known, the zone still not.
    a.extend(["--year".into(), "2021".into()]);
    let html = stdout(&run_s(&a));
    assert!(html.contains("Local time of each logging host, zone unknown"));
    assert!(
        html.contains("<title>2021-11-16T20:09:"),
        "bars carry their times"
    );
    // With --tz as well, UTC.
    a.extend(["--tz".into(), "+01:00".into()]);
    let html = stdout(&run_s(&a));
    assert!(html.contains("Times in UTC."));
    assert!(
        html.contains("<title>2021-11-16T19:09:"),
        "converted to UTC"
    );
}

fn which(cmd: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(cmd))
            .find(|f| f.is_file())
    })
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "etcd-autopsy-render-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The text report with `COLUMNS` set (or unset), as a pipe sees it.
fn text_with_columns(columns: Option<&str>) -> String {
    let mut c = Command::new(bin());
    c.args(incident_args("text")).env("NO_COLOR", "1");
    match columns {
        Some(v) => c.env("COLUMNS", v),
        None => c.env_remove("COLUMNS"),
    };
    String::from_utf8(c.output().unwrap().stdout).unwrap()
}

#[test]
fn text_wraps_to_columns_repeats_the_verdict_last_and_leaves_pipes_unwrapped() {
    let piped = text_with_columns(None);
    let lines: Vec<&str> = piped.lines().collect();
    assert!(lines[0].starts_with("verdict: PROBLEMS — "));
    // Unwrapped, the verdict is repeated only when the summary is longer than 24 lines.
    let piped_repeats = lines.len() > 24;
    assert_eq!(
        piped.matches("verdict: ").count(),
        if piped_repeats { 2 } else { 1 },
        "{piped}"
    );
    assert!(
        lines.iter().any(|l| l.chars().count() > 100),
        "a pipe is not wrapped"
    );

    let wrapped = text_with_columns(Some("80"));
    let lines: Vec<&str> = wrapped.lines().collect();
    assert!(lines.len() > 24);
    for l in &lines {
        assert!(
            l.chars().count() <= 80 || !l.trim().contains(' '),
            "wider than 80: {l:?}"
        );
    }
    assert!(lines[0].starts_with("verdict: PROBLEMS — "));
    // The verdict again at the end, whole: the last lines are its wrapped lines.
    let head: Vec<&str> = lines
        .iter()
        .take_while(|l| !l.starts_with("snapshot:"))
        .copied()
        .collect();
    assert_eq!(&lines[lines.len() - head.len()..], &head[..]);
    assert_eq!(lines[lines.len() - head.len() - 1], "");
    // The remedy command stays on one line, so it copies whole.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("`kubectl get secrets -A -o json | kubectl replace -f -`")),
        "{wrapped}"
    );
    // Nothing lost by wrapping.
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let mut want = words(&piped);
    if !piped_repeats {
        want.extend(words(&head.join(" ")));
    }
    assert_eq!(words(&wrapped), want);
}

#[test]
fn an_80x24_terminal_shows_the_verdict_after_the_report() {
    if which("tmux").is_none() {
        eprintln!("SKIPPED: tmux not installed");
        return;
    }
    // Our own tmux server on our own socket; only it is killed at the end.
    let sock = format!("etcd-autopsy-render-{}", std::process::id());
    let mut cmd = format!("env -u COLUMNS NO_COLOR=1 {}", bin());
    for a in incident_args("text") {
        cmd.push(' ');
        cmd.push_str(&format!("'{a}'"));
    }
    cmd.push_str("; sleep 30");
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &sock, "-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap()
    };
    let o = tmux(&["new-session", "-d", "-x", "80", "-y", "24", &cmd]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut screen = String::new();
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        screen = String::from_utf8_lossy(&tmux(&["capture-pane", "-p"]).stdout).into_owned();
        if screen.contains("master-3 wrote") && screen.contains("remedy:") {
            break;
        }
    }
    tmux(&["kill-server"]);
    let rows: Vec<&str> = screen.lines().collect();
    assert!(rows.len() <= 24, "{screen}");
    assert!(rows.iter().all(|r| r.chars().count() <= 80), "{screen}");
    assert!(
        screen.contains("verdict: PROBLEMS — master-3's aescbc key key1"),
        "the verdict scrolled away:\n{screen}"
    );
    assert!(screen.trim_end().ends_with("master-3 wrote"), "{screen}");
}

#[test]
fn ls_counts_in_text_only_and_get_of_a_deleted_key_names_both_revisions() {
    let db = testdata("snapshots/basic.db");
    let db = db.to_str().unwrap();
    let o = run(&["ls", db, "configmaps"]);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    let rows = lines.len() - 2; // header and count
    assert_eq!(lines.last().unwrap(), &format!("{rows} keys"), "{text}");
    for machine in [vec!["-o", "jsonl"], vec!["--keys-only"]] {
        let mut a = vec!["ls", db, "configmaps"];
        a.extend(machine.iter());
        let out = stdout(&run(&a));
        assert_eq!(out.lines().count(), rows, "{machine:?}: no count line");
    }

    let facts: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(testdata("snapshots/basic.facts.json")).unwrap(),
    )
    .unwrap();
    let key = "/registry/configmaps/team-b/batch-config";
    let deleted = facts["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["key"] == key)
        .unwrap();
    let last = facts["records"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|r| r["key"] == key && r["tombstone"] == false)
        .unwrap()["revision"]
        .as_str()
        .unwrap()
        .split('_')
        .next()
        .unwrap()
        .to_string();
    let o = run(&["get", db, key, "--meta", "--deleted"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains(&format!(
            "revision         deleted at {} (last value at {last})\n",
            deleted["revision"]
        )),
        "{text}"
    );
    assert!(!text.contains(&format!("{last}_0 (")), "{text}");
    assert!(
        text.contains("value            the last value, hidden; --reveal prints it"),
        "{text}"
    );
}

#[test]
fn markup_in_input_names_renders_as_text_in_cmark_gfm() {
    // A node name (from the command line, as from a file name) full of Markdown and HTML (no
    // `/`: a NODE= prefix with one is read as part of the path).
    let node = "odd|*n*<b>x<b>_y_";
    let cfg = testdata("encrypted/cp-1.yaml");
    let md = stdout(&run(&[
        "report",
        "--snapshot",
        testdata("encrypted/multi.db").to_str().unwrap(),
        "--encryption-config",
        &format!("{node}={}", cfg.to_str().unwrap()),
        "-o",
        "md",
        "--fixed-time",
        FIXED,
    ]));
    let Some(html) = gfm(&md) else { return };
    let shown = "odd|*n*&lt;b&gt;x&lt;b&gt;_y_";
    assert!(
        html.contains(&format!("<li><strong>Nodes:</strong> {shown}</li>")),
        "{html}"
    );
    assert!(html.contains(&format!("<td>{shown}</td>")), "{html}");
    for live in ["<b>", "<em>", "<strong>n"] {
        assert!(!html.contains(live), "{live} rendered:\n{html}");
    }
    for table in elements(&html, "table") {
        let cols = elements(table, "th").len();
        for row in elements(table, "tr").iter().skip(1) {
            assert_eq!(elements(row, "td").len(), cols, "{row}");
        }
    }
}
