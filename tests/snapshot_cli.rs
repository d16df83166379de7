//! End-to-end: the binary on snapshots made by a real etcd 3.4 (testdata/README.md).

mod common;
use common::*;
use std::path::PathBuf;

/// Every testdata snapshot that has etcdctl's recorded `snapshot status -w json` beside it.
fn snapshots_with_status() -> Vec<(PathBuf, serde_json::Value)> {
    let mut out = Vec::new();
    for dir in ["snapshots", "encrypted", "openshift", "incident"] {
        let Ok(entries) = std::fs::read_dir(testdata(dir)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for db in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "db"))
        {
            let status = db.with_extension("status.json");
            if let Ok(text) = std::fs::read_to_string(&status) {
                out.push((
                    db,
                    serde_json::from_str(&text).expect("recorded status is JSON"),
                ));
            }
        }
    }
    out
}

#[test]
fn status_json_equals_etcdctl_on_every_snapshot() {
    let all = snapshots_with_status();
    assert!(
        !all.is_empty(),
        "no testdata snapshots with recorded status"
    );
    for (db, want) in all {
        let o = run(&["status", db.to_str().unwrap(), "-w", "json"]);
        assert_eq!(code(&o), 0, "{}: {}", db.display(), stderr(&o));
        let got: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        for field in want.as_object().unwrap().keys() {
            assert_eq!(got[field], want[field], "{}: field {field}", db.display());
        }
    }
}

#[test]
fn status_table_matches_etcdctl_columns() {
    // A 3.4 file: etcdctl 3.4's four columns, byte for byte (tests/versions.rs covers the rest).
    let db = testdata("snapshots/basic.db");
    let want = std::fs::read_to_string(testdata("snapshots/basic.status.table.txt")).unwrap();
    let o = run(&["status", db.to_str().unwrap(), "-w", "table"]);
    assert_eq!(stdout(&o), want);
}

#[test]
fn check_healthy_snapshot_exits_0() {
    let o = run(&["check", testdata("snapshots/basic.db").to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("trailer    valid"));
    assert!(stdout(&o).contains("result     OK"));
}

#[test]
fn check_data_dir_copy_warns_about_missing_trailer() {
    let o = run(&["check", testdata("snapshots/datadir.db").to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("trailer    missing"));
    assert!(stdout(&o).contains("--skip-hash-check"));
}

#[test]
fn check_unreadable_file_exits_2_naming_it() {
    let dir = std::env::temp_dir().join(format!("autopsy-unreadable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("zeros.db");
    std::fs::write(&f, vec![0u8; 8192]).unwrap();
    for args in [
        vec!["check", f.to_str().unwrap()],
        vec!["status", f.to_str().unwrap()],
        vec!["check", "/nonexistent/x.db"],
    ] {
        let o = run(&args);
        assert_eq!(code(&o), 2, "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(args[1]), "names the file: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_json_reports_mismatched_trailer_as_damage() {
    let mut bytes = std::fs::read(testdata("snapshots/basic.db")).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 0xff; // inside the last page, outside any element the walk reads
    let dir = std::env::temp_dir().join(format!("autopsy-mismatch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("flipped.db");
    std::fs::write(&f, &bytes).unwrap();
    let o = run(&["check", f.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["trailer"]["state"], "mismatch");
    assert_eq!(v["ok"], false);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ls_lists_live_keys_and_get_hides_values() {
    let db = testdata("snapshots/basic.db");
    let o = run(&[
        "ls",
        db.to_str().unwrap(),
        "/registry/secrets/",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let first = &v.as_array().unwrap()[0];
    assert_eq!(first["resource"], "secrets");
    assert_eq!(first["envelope"], "protobuf");
    assert_eq!(first["kind"], "Secret");
    let key = first["key"].as_str().unwrap();
    let o = run(&["get", db.to_str().unwrap(), key, "--meta", "-o", "json"]);
    assert_eq!(code(&o), 0);
    let g: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(g.get("value_base64").is_none());
    let o = run(&[
        "get",
        db.to_str().unwrap(),
        key,
        "--meta",
        "-o",
        "json",
        "--reveal",
    ]);
    let g: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(g["value_base64"].is_string());
}
