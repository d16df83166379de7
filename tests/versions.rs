//! etcd 3.5/3.6-shaped files (testdata/versions, written by bbolt 1.3.6 through
//! scripts/gen-bbolt): `status` prints byte for byte what etcdctl 3.4 (real, recorded) and
//! etcdutl 3.6 (its printers, run against Debian's tablewriter/go-humanize) print, in every
//! format and under both semantics; `check` reports bbolt's own `tx.Check()` problem list one for
//! one (bbolt 1.3.9 built from upstream source: the key-range rules of 1.3.7 through 1.4).

mod common;

use common::{code, run, stderr, stdout, testdata};
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;

const FORMATS: [&str; 4] = ["json", "table", "simple", "fields"];

fn expected() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(testdata("versions/expected.json")).unwrap();
    match serde_json::from_str(&text).unwrap() {
        Value::Object(m) => m,
        _ => panic!("expected.json is not an object"),
    }
}

/// A private copy of fixture `name` (inflated when committed gzipped), removed on drop: tests
/// never open the committed files.
struct Copy(PathBuf);

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl std::ops::Deref for Copy {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

fn copy_of(name: &str, gzipped: bool) -> Copy {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dst = std::env::temp_dir().join(format!(
        "etcd-autopsy-versions-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    if gzipped {
        let f = std::fs::File::open(testdata(&format!("versions/{name}.gz"))).unwrap();
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(f)
            .read_to_end(&mut bytes)
            .unwrap();
        std::fs::write(&dst, bytes).unwrap();
    } else {
        std::fs::copy(testdata(&format!("versions/{name}")), &dst).unwrap();
    }
    Copy(dst)
}

fn fixtures() -> Vec<(String, Copy, Value)> {
    expected()
        .into_iter()
        .map(|(name, e)| {
            let gz = e["gzipped"].as_bool().unwrap_or(false);
            let path = copy_of(&name, gz);
            (name, path, e)
        })
        .collect()
}

#[test]
fn status_prints_what_each_tool_prints_in_every_format() {
    let mut checked = 0;
    for (name, path, e) in fixtures() {
        let Some(printed) = e.get("printed") else {
            continue;
        };
        let native = if name.starts_with("v36") {
            "etcdutl-3.6"
        } else {
            "etcdctl-3.4"
        };
        for (semantics, tool) in [
            ("3.5", "etcdctl-3.4"),
            ("3.6", "etcdutl-3.6"),
            ("auto", native),
        ] {
            for w in FORMATS {
                let o = run(&[
                    "status",
                    path.to_str().unwrap(),
                    "-w",
                    w,
                    "--semantics",
                    semantics,
                ]);
                assert_eq!(code(&o), 0, "{name} {semantics} {w}: {}", stderr(&o));
                let want = printed[tool][w].as_str().unwrap();
                assert_eq!(stdout(&o), want, "{name} --semantics {semantics} -w {w}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 7 * 12, "only {checked} outputs compared");
}

#[test]
fn status_numbers_equal_the_go_reference() {
    for (name, path, e) in fixtures() {
        // bbolt 1.3.6 (no key-range rule) computes the numbers on files only 1.3.7+ refuses.
        let r = &e["bbolt-1.3.6"];
        if r.get("panic").is_some() || !r["check"].as_array().unwrap().is_empty() {
            continue;
        }
        let new = &e["bbolt-1.3.9"];
        let clean = new.get("panic").is_none() && new["check"].as_array().unwrap().is_empty();
        let o = run(&["status", path.to_str().unwrap(), "-w", "extended"]);
        assert_eq!(
            code(&o),
            if clean { 0 } else { 1 },
            "{name}: {}",
            stderr(&o)
        );
        let got: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let (s35, s36) = (&r["status_3_5"], &r["status_3_6"]);
        assert_eq!(got["hash"], s35["hash"], "{name}");
        assert_eq!(got["revision"], s35["revision"], "{name}");
        assert_eq!(got["pairs"], s35["totalKey"], "{name}");
        assert_eq!(got["liveKeys"], s36["totalKey"], "{name}");
        assert_eq!(got["totalSize"], s35["totalSize"], "{name}");
        let v36 = s36.get("version").and_then(Value::as_str).unwrap_or("");
        assert_eq!(got["version"], v36, "{name}");
        assert_ne!(
            got["pairs"], got["liveKeys"],
            "{name}: history makes them differ"
        );
    }
}

#[test]
fn more_than_0xffff_free_pages_are_read_from_the_persisted_freelist() {
    let path = copy_of("v36-bigfree-1k.db", true);
    let o = run(&["check", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let c: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(c["structure"]["freelist"], "persisted");
    assert!(c["structure"]["freelist_pages"].as_u64().unwrap() > 0xFFFF);
    assert_eq!(c["page_size"], 1024);
}

/// One bbolt problem line, reduced to what both wordings carry: kind, element index and key for
/// key-order problems (bbolt names a branch element by its child page and, for "needs to be <",
/// prints the previous key instead of the bound), page and kind for the others.
fn bbolt_fact(line: &str) -> String {
    let key = |s: &str| {
        let i = s.find("key[").unwrap();
        s[i..].split(' ').next().unwrap().to_string()
    };
    if line.contains("needs to be >= the key in the ancestor") {
        format!("below-ancestor {}", key(line))
    } else if line.contains("needs to be > (found =)") {
        format!("not-above-previous(=) {}", key(line))
    } else if line.contains("needs to be > (found <)") {
        format!("not-above-previous(<) {}", key(line))
    } else if line.contains("needs to be < than key of the next element") {
        format!("not-below-next {}", key(line))
    } else {
        line.to_string()
    }
}

fn our_fact(line: &str) -> String {
    let key = |s: &str| {
        let i = s.find("key[").unwrap();
        s[i..].split(' ').next().unwrap().to_string()
    };
    if line.contains("of its element in") {
        format!("below-ancestor {}", key(line))
    } else if line.contains("is equal to the previous key") {
        format!("not-above-previous(=) {}", key(line))
    } else if line.contains("is below the previous key") {
        format!("not-above-previous(<) {}", key(line))
    } else if line.contains("is not below the next element's key") {
        format!("not-below-next {}", key(line))
    } else {
        line.to_string()
    }
}

fn check_problems(path: &std::path::Path) -> (i32, Vec<String>) {
    let o = run(&["check", path.to_str().unwrap(), "--format", "json"]);
    let c: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let lines = c["structure"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    (code(&o), lines)
}

#[test]
fn check_reports_bbolts_problem_list_one_for_one() {
    let mut compared = 0;
    for (name, path, e) in fixtures() {
        let (rc, ours) = check_problems(&path);
        let r = &e["bbolt-1.3.9"];
        let Some(theirs) = r["check"].as_array() else {
            continue; // bbolt panicked or ran out of memory: see the tests below
        };
        let mut want: Vec<String> = theirs
            .iter()
            .map(|l| bbolt_fact(l.as_str().unwrap()))
            .collect();
        let mut got: Vec<String> = ours.iter().map(|l| our_fact(l)).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{name}: ours {ours:?}");
        assert_eq!(rc, if want.is_empty() { 0 } else { 1 }, "{name}");
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} fixtures compared");
}

#[test]
fn freed_twice_is_worded_as_bbolt_words_it() {
    let path = copy_of("damaged-freelist-dup.db", false);
    let (_, ours) = check_problems(&path);
    let e = expected();
    let theirs: Vec<String> = e["damaged-freelist-dup.db"]["bbolt-1.3.6"]["check"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ours, theirs);
}

#[test]
fn key_range_violation_without_freelist_is_the_same_finding_bbolt_panics_on() {
    let e = expected();
    let panic = e["damaged-branch-above-child-nofreelist.db"]["bbolt-1.3.9"]["panic"]
        .as_str()
        .unwrap();
    assert!(panic.contains("freepages: failed to get all reachable pages"));
    let path = copy_of("damaged-branch-above-child-nofreelist.db", false);
    let (rc, ours) = check_problems(&path);
    assert_eq!(rc, 1);
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(
        our_fact(&ours[0]),
        bbolt_fact(panic.trim_start_matches("panic: ")),
        "{ours:?} vs {panic}"
    );
    // bbolt 1.3.6 has no key-range rule: etcdctl 3.4 accepts the file.
    assert_eq!(
        e["damaged-branch-above-child-nofreelist.db"]["bbolt-1.3.6"]["check"],
        Value::Array(vec![])
    );
    let o = run(&["status", path.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("etcdutl 3.6"), "{err}");
    assert!(err.contains("panic while rebuilding the freelist"), "{err}");
    assert!(err.contains("etcdctl 3.4"), "{err}");
    assert!(err.contains("would accept it"), "{err}");
}

#[test]
fn status_exits_1_and_says_what_etcdutl_36_does_on_a_key_range_violation() {
    let path = copy_of("damaged-branch-below-prev-persist.db", false);
    for w in FORMATS {
        let o = run(&["status", path.to_str().unwrap(), "-w", w]);
        assert_eq!(code(&o), 1, "{w}");
        let err = stderr(&o);
        assert!(
            err.contains("\"Error: snapshot file integrity check failed. 2 errors found.\""),
            "{err}"
        );
    }
}

#[test]
fn unreadable_persisted_freelist_is_not_called_unpersisted() {
    let e = expected();
    let r = &e["damaged-freelist-badcount.db"]["bbolt-1.3.6"];
    assert!(r["panic"].as_str().unwrap().contains("out of memory"));
    let path = copy_of("damaged-freelist-badcount.db", false);
    let o = run(&["check", path.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("freelist persisted but UNREADABLE"), "{out}");
    assert!(!out.contains("freelist not persisted"), "{out}");
    assert!(out.contains("1000000000000 ids"), "{out}");
}

#[test]
fn version_is_empty_when_storage_version_is_not_semver() {
    let path = copy_of("v36-notsemver-4k.db", false);
    let o = run(&["status", path.to_str().unwrap(), "-w", "extended"]);
    let got: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(got["storageVersion"], "v3.6");
    assert_eq!(got["version"], "");
    assert_eq!(got["native"], "3.6");
}
