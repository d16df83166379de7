//! End-to-end: the space diagnosis (`stats`) and `restore-plan` on snapshots from a real etcd 3.4,
//! against what scripts/make-space-testdata.sh recorded: the loader's model (space.facts.json) and
//! `etcdctl endpoint status -w json` of the live member before the snapshot, after `defrag`, and
//! after `compact <latest>` + `defrag` (space.live.json). Every run works on a copy.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn json_file(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(testdata(rel)).expect("read")).expect("json")
}

/// A private copy of a testdata file (tests never read the committed files in place).
fn copy(rel: &str, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("autopsy-space-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let to = dir.join(PathBuf::from(rel).file_name().expect("name"));
    std::fs::copy(testdata(rel), &to).expect("copy");
    to
}

fn stats_json(db: &Path, extra: &[&str]) -> Value {
    let p = db.to_str().expect("utf-8 path");
    let mut args = vec!["stats", p, "--format", "json"];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert_eq!(code(&o), 0, "stats failed: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("stats JSON")
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

#[test]
fn numbers_match_what_the_loader_wrote() {
    let db = copy("space/space.db", "facts");
    let facts = json_file("space/space.facts.json");
    let sp = &stats_json(&db, &[])["space"];
    let t = &sp["totals"];
    assert_eq!(u(&t["live_keys"]), u(&facts["live_keys"]));
    assert_eq!(u(&t["live_bytes"]), u(&facts["live_bytes"]));
    assert_eq!(u(&t["revisions"]), u(&facts["key_bucket_records"]));
    assert_eq!(u(&t["bytes"]), u(&facts["history_bytes"]));
    assert_eq!(sp["current_revision"], facts["revision"]);
    assert_eq!(sp["compacted_revision"], facts["compact_revision"]);
    // Depth 2 groups are the loader's resource segments.
    for (res, want) in facts["history_by_resource"].as_object().expect("map") {
        let got = &sp["by_prefix"][format!("/registry/{res}")];
        assert_eq!(got["revisions"], want["revisions"], "{res}");
        assert_eq!(got["bytes"], want["bytes"], "{res}");
        let live = &facts["live_by_resource"][res];
        assert_eq!(u(&got["live_bytes"]), live["bytes"].as_u64().unwrap_or(0));
        assert_eq!(u(&got["live_keys"]), live["keys"].as_u64().unwrap_or(0));
    }
    for (ns, want) in facts["history_by_namespace"].as_object().expect("map") {
        let got = &sp["by_namespace"][ns];
        assert_eq!(got["revisions"], want["revisions"], "{ns}");
        assert_eq!(got["bytes"], want["bytes"], "{ns}");
    }
    // What a compaction at the latest revision removes.
    let c = &facts["compact_at_latest"];
    assert_eq!(sp["compaction"]["revision"], c["revision"]);
    assert_eq!(sp["compaction"]["revisions_removed"], c["records_removed"]);
    assert_eq!(sp["compaction"]["bytes_removed"], c["bytes_removed"]);
    // The hottest key, with its revision count from the loader's model.
    let hot = &sp["hotspots"][0];
    assert_eq!(hot["key"], "/registry/configmaps/team-a/hot-config");
    assert_eq!(
        hot["revisions"],
        facts["per_key"]["/registry/configmaps/team-a/hot-config"]["revisions"]
    );
}

#[test]
fn sizes_match_the_live_member_and_its_defrag() {
    let db = copy("space/space.db", "live");
    let live = json_file("space/space.live.json");
    let status = json_file("space/space.status.json");
    let sp = &stats_json(&db, &[])["space"];
    let page = u(&sp["pages"]["page_size"]);
    let db_bytes = u(&sp["pages"]["hwm"]) * page;
    let in_use = u(&sp["pages"]["in_use"]) * page;
    let before = &live["before_snapshot"];
    assert_eq!(db_bytes, u(&before["dbSize"]));
    assert_eq!(db_bytes, u(&status["totalSize"]));
    assert_eq!(sp["quota"]["used_bytes"], before["dbSize"]);
    // The member counts pages freed by its last commit as in use until the next one
    // (backend.go: Size − FreePageN × pageSize); the file sees them as free.
    assert!(in_use <= u(&before["dbSizeInUse"]));
    // The defrag replay against etcd's own defrag of the same member.
    assert_eq!(sp["defrag"]["db_bytes"], live["after_defrag"]["dbSize"]);
    assert_eq!(
        sp["defrag"]["in_use_bytes"],
        live["after_defrag"]["dbSizeInUse"]
    );
    let after = &live["after_compact_latest_defrag"];
    assert_eq!(sp["compaction"]["then_defrag"]["db_bytes"], after["dbSize"]);
    assert_eq!(
        sp["compaction"]["then_defrag"]["in_use_bytes"],
        after["dbSizeInUse"]
    );
}

fn kinds(sp: &Value) -> Vec<String> {
    sp["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn findings_follow_the_thresholds() {
    let db = copy("space/space.db", "findings");
    let sp = stats_json(&db, &[])["space"].clone();
    let k = kinds(&sp);
    // 74 % of the held bytes are old revisions; one ConfigMap holds 21 % of all revisions.
    assert!(k.contains(&"compaction_would_free".into()), "{k:?}");
    assert!(k.contains(&"write_hotspot".into()), "{k:?}");
    // 1.1 MB of 2 GiB; defrag gives back 8 %: no finding.
    assert!(!k.contains(&"quota_usage".into()), "{k:?}");
    assert!(!k.contains(&"defrag_would_free".into()), "{k:?}");
    // A quota just above the db size.
    let sp = stats_json(&db, &["--quota-backend-bytes", "1150000"])["space"].clone();
    let f = &sp["findings"][0];
    assert_eq!(f["kind"], "quota_usage");
    let o = run(&[
        "stats",
        db.to_str().expect("path"),
        "--quota-backend-bytes",
        "1150000",
    ]);
    let text = stdout(&o);
    assert!(text.contains("CRITICAL db at 97 % of quota"), "{text}");
    assert!(text.contains("history by prefix (depth 2)"), "{text}");
}

#[test]
fn nospace_alarm_and_quota_from_the_file() {
    let db = copy("snapshots/nospace.db", "nospace");
    let facts = json_file("snapshots/nospace.facts.json");
    let quota = u(&facts["quota_backend_bytes"]).to_string();
    let sp = stats_json(&db, &["--quota-backend-bytes", &quota])["space"].clone();
    let k = kinds(&sp);
    assert_eq!(
        k.first().map(String::as_str),
        Some("no_space_alarm"),
        "{k:?}"
    );
    assert!(k.contains(&"quota_usage".into()), "{k:?}");
}

#[test]
fn depth_and_top_and_determinism() {
    let db = copy("space/space.db", "depth");
    let p = db.to_str().expect("path");
    let sp = stats_json(&db, &["--depth", "3", "--top", "2"])["space"].clone();
    assert!(sp["by_prefix"].get("/registry/events/team-a").is_some());
    assert_eq!(sp["hotspots"].as_array().map(Vec::len), Some(2));
    let a = run(&["stats", p, "--format", "json"]);
    let b = run(&["stats", p, "--format", "json"]);
    assert_eq!(a.stdout, b.stdout, "same input, same JSON");
    let o = run(&["stats", p, "--depth", "0"]);
    assert_eq!(code(&o), 2, "--depth 0 is a usage error");
}

fn plan(db: &Path) -> (i32, Value) {
    let o = run(&[
        "restore-plan",
        db.to_str().expect("path"),
        "--format",
        "json",
    ]);
    (
        code(&o),
        serde_json::from_slice(&o.stdout).expect("plan JSON"),
    )
}

fn argv(plan: &Value, tool: &str) -> Vec<String> {
    plan["commands"]
        .as_array()
        .expect("commands")
        .iter()
        .find(|c| c["tool"] == tool)
        .expect("tool")["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect()
}

fn warning_kinds(plan: &Value) -> Vec<String> {
    plan["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn restore_plan_from_the_files_revisions() {
    let db = copy("space/space.db", "plan");
    let facts = json_file("space/space.facts.json");
    let (rc, p) = plan(&db);
    assert_eq!(rc, 0);
    assert_eq!(p["restored"]["revision"], facts["revision"]);
    assert_eq!(
        p["restored"]["compacted_revision"],
        facts["compact_revision"]
    );
    assert_eq!(p["restored"]["cluster_version"], "3.4.0");
    assert_eq!(p["restored"]["live_keys"], facts["live_keys"]);
    assert_eq!(p["bump"]["bump"], 1_000_000_000u64);
    assert_eq!(
        u(&p["bump"]["restored_revision"]),
        1_000_000_000 + u(&facts["revision"])
    );
    let utl = argv(&p, "etcdutl");
    let bump = utl
        .iter()
        .position(|a| a == "--bump-revision")
        .expect("bump");
    assert_eq!(utl[bump + 1], "1000000000");
    assert!(utl.contains(&"--mark-compacted".into()));
    let ctl = argv(&p, "etcdctl34");
    assert!(!ctl
        .iter()
        .any(|a| a.contains("bump") || a.contains("compacted")));
    assert!(!ctl.contains(&"--skip-hash-check".into()));
    assert_eq!(warning_kinds(&p), vec!["no_bump_in34"]);
}

#[test]
fn restore_plan_warnings() {
    let (_, p) = plan(&copy("snapshots/datadir.db", "plan-datadir"));
    assert!(warning_kinds(&p).contains(&"no_trailer".into()));
    assert!(argv(&p, "etcdctl34").contains(&"--skip-hash-check".into()));
    assert!(argv(&p, "etcdutl").contains(&"--skip-hash-check".into()));
    let (_, p) = plan(&copy("snapshots/nospace.db", "plan-nospace"));
    assert!(warning_kinds(&p).contains(&"alarms_set".into()));
    assert_eq!(p["warnings"][0]["alarms"][0]["alarm"], "NOSPACE");
    // A copy changed after it was saved: restore would refuse it, and the plan must not tell
    // anyone to skip the check.
    let db = copy("space/space.db", "plan-damaged");
    let mut bytes = std::fs::read(&db).expect("read copy");
    let last = bytes.len() - 40;
    bytes[last] ^= 0x01;
    std::fs::write(&db, bytes).expect("write copy");
    let (rc, p) = plan(&db);
    assert_eq!(rc, 1);
    assert!(warning_kinds(&p).contains(&"trailer_mismatch".into()));
    assert!(!argv(&p, "etcdctl34").contains(&"--skip-hash-check".into()));
}

/// The restore check (scripts/space-restore-check.sh, run against a real etcd 3.4 and recorded)
/// passed for the plans these tests check.
#[test]
fn recorded_restore_check_passed() {
    let text = std::fs::read_to_string(testdata("space/restore-check.txt")).expect("read");
    assert!(text.contains("RESULT: every restored member holds what the plan said"));
    assert!(!text.contains("MISMATCH"));
}

/// Hostile input: damaged copies of the space fixture go through the space diagnosis and the
/// restore plan without a panic (in-process, so a panic fails here with its message).
#[test]
fn damaged_copies_never_panic() {
    use etcd_autopsy::bbolt::Data;
    use etcd_autopsy::etcd::{restore, space, Records, Snapshot};
    let orig = std::fs::read(testdata("space/space.db")).expect("read");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let classify = |k: &[u8]| space::KeyClass {
        resource: String::from_utf8_lossy(k.get(..12).unwrap_or(k)).into_owned(),
        namespace: String::new(),
    };
    for round in 0..300 {
        let mut b = orig.clone();
        // A few random bytes per round, anywhere past the metas (meta damage is the
        // corruption matrix's job), some rounds hitting page headers.
        for _ in 0..(1 + round % 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let off = 8192 + (x as usize) % (b.len() - 8192);
            let off = if round % 3 == 0 { off & !4095 } else { off };
            b[off] ^= (x >> 32) as u8 | 1;
        }
        let Ok(snap) = Snapshot::from_data("variant.db", Data::Owned(b)) else {
            continue;
        };
        let records = Records::read(&snap);
        let check = snap.check_structure();
        let sp = space::compute(
            &snap,
            &records,
            &check,
            &classify,
            space::Options::default(),
        );
        assert!(sp.pages.in_use + sp.pages.free <= sp.pages.hwm.max(2));
        let trailer = snap.verify_trailer();
        let _ = restore::plan(&snap, &records, &trailer, "variant.db");
    }
}

/// `report` carries the same space diagnosis and restore plan as `stats` and `restore-plan` on
/// the same file: its space findings, its numbers, every command line.
#[test]
fn report_shows_space_findings_and_the_restore_plan() {
    let db = copy("space/space.db", "report");
    let p = db.to_str().expect("path");
    let o = run(&[
        "report",
        "--snapshot",
        p,
        "-o",
        "json",
        "--fixed-time",
        "2026-12-01T00:00:00Z",
    ]);
    let r: Value = serde_json::from_slice(&o.stdout).expect("report JSON");
    let sp = stats_json(&db, &[])["space"].clone();
    // stats' compaction_would_free and write_hotspot are report findings of kind
    // space-history, with the words stats prints; information only, as 552 kB of old revisions
    // is no problem: the verdict stays ok (plaintext snapshot, nothing encrypted).
    let history: Vec<&Value> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "space-history")
        .collect();
    assert!(
        history.iter().any(|f| f["severity"] == "info"
            && f["summary"]
                .as_str()
                .unwrap_or_default()
                .starts_with("old revisions hold")),
        "{history:?}"
    );
    assert!(history
        .iter()
        .any(|f| f["severity"] == "info" && f["keys"].as_array().is_some_and(|k| k.len() == 1)));
    assert_eq!(r["verdict"]["status"], "ok");
    assert_eq!(code(&o), 0);
    let s = &r["space"];
    assert_eq!(s["db_size"], sp["quota"]["used_bytes"]);
    assert_eq!(s["defrag_frees"], sp["defrag"]["frees_bytes"]);
    assert_eq!(s["held_bytes"], sp["totals"]["bytes"]);
    assert_eq!(
        s["compaction"]["revisions_removed"],
        sp["compaction"]["revisions_removed"]
    );
    assert_eq!(s["quota_is_default"], true);
    let (_, plan) = plan(&db);
    let rp = &r["restore_plan"];
    assert_eq!(rp["bump_revision"], plan["bump"]["bump"]);
    assert_eq!(rp["restored_revision"], plan["bump"]["restored_revision"]);
    for (ours, tool) in [("etcdutl", "etcdutl"), ("etcdctl-3.4", "etcdctl34")] {
        let cmd = rp["commands"]
            .as_array()
            .expect("commands")
            .iter()
            .find(|c| c["tool"] == ours)
            .expect("tool");
        let want: Vec<Value> = argv(&plan, tool).into_iter().map(Value::from).collect();
        assert_eq!(cmd["argv"], Value::from(want), "{ours}");
    }
    // Text and Markdown show both sections.
    let text = stdout(&run(&["report", "--snapshot", p]));
    assert!(text.contains("space:    db "), "{text}");
    assert!(text.contains("restore:  With etcdutl 3.5.10+"), "{text}");
    let md = stdout(&run(&["report", "--snapshot", p, "-o", "md"]));
    assert!(
        md.contains("## Space") && md.contains("## Restore plan"),
        "{md}"
    );
    assert!(md.contains("--bump-revision"), "{md}");
}
