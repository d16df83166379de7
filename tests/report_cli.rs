//! End-to-end: `demo`, `report` and `validate` on the real-etcd incident and OpenShift testdata.

mod common;
use common::*;

const FIXED: &str = "2026-11-22T00:00:00Z";

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
    a.extend([
        "--year".into(),
        "2021".into(),
        "--format".into(),
        format.into(),
        "--fixed-time".into(),
        FIXED.into(),
    ]);
    a
}

fn run_s(args: &[String]) -> std::process::Output {
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn demo_names_the_odd_node_both_fingerprints_and_the_mirror_set() {
    let o = run(&["demo", "--format", "json", "--fixed-time", FIXED]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["schema_version"], 2);
    assert_eq!(r["verdict"]["status"], "problems");
    let f = &r["findings"][0];
    assert_eq!(f["kind"], "key-mismatch");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["nodes"], serde_json::json!(["master-3"]));
    let summary = f["summary"].as_str().unwrap();
    // Fingerprints from testdata/README.md (made by the Python generator).
    assert!(
        summary.contains("sha256:2f91094b3553b6d8") && summary.contains("sha256:b7a1955c7f4f3625"),
        "{summary}"
    );
    assert!(
        summary.contains("cannot read 30 record(s)") && summary.contains("cannot read 3 record(s)"),
        "{summary}"
    );
    assert_eq!(f["keys"].as_array().unwrap().len(), 33);
    assert!(f["remedy"].as_str().unwrap().starts_with(
        "Make master-3's aescbc key key1 the key with fingerprint sha256:b7a1955c7f4f3625"
    ));
    // The hard-wrapped pasted log confirms the prediction for master-3, rejoined across lines.
    let nodes = r["nodes"].as_array().unwrap();
    let m3 = nodes.iter().find(|n| n["name"] == "master-3").unwrap();
    assert_eq!(m3["fails"], 30);
    assert_eq!(
        m3["first_failing_key"],
        "/registry/secrets/cee-dnceed21/alert-logger-sa-token-dzhkb"
    );
    assert_eq!(m3["log"]["state"], "confirmed");
    assert_eq!(
        m3["log"]["confirmed_keys"],
        serde_json::json!(["/registry/secrets/cee-dnceed21/alert-logger-sa-token-dzhkb"])
    );
    let evidence: Vec<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["source"].as_str())
        .collect();
    assert!(
        evidence
            .iter()
            .any(|s| s.starts_with("builtin:testdata/incident/master-3.log:")),
        "{evidence:?}"
    );
    assert_eq!(r["records"]["encrypted"], 33);
    assert_eq!(r["unreadable"].as_array().unwrap().len(), 33);
}

#[test]
fn report_matches_expected_json_from_the_generator() {
    // expected.json was computed by the Python generator, independently of this tool.
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("incident/expected.json")).unwrap())
            .unwrap();
    let o = run_s(&incident_args("json"));
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let unreadable = r["unreadable"].as_array().unwrap();
    let records = expected["records"]
        .as_array()
        .expect("expected.json records");
    let mut checked = 0;
    for rec in records {
        let key = rec["key"].as_str().unwrap();
        for (node, want) in rec["nodes"].as_object().unwrap() {
            let want = want.as_str().unwrap();
            let got = unreadable
                .iter()
                .find(|u| u["key"] == key)
                .and_then(|u| u["failing_nodes"][node].as_str())
                .unwrap_or("ok");
            assert_eq!(got, want, "{key} on {node}");
            checked += 1;
        }
    }
    assert!(checked >= 100, "checked {checked} verdicts");
}

#[test]
fn golden_markdown_and_json_are_byte_identical() {
    for (format, golden) in [("md", "incident.md"), ("json", "incident.json")] {
        let o = run_s(&incident_args(format));
        let got = stdout(&o);
        let again = stdout(&run_s(&incident_args(format)));
        assert_eq!(got, again, "{format} output differs between two runs");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(golden);
        // Paths in the golden files are relative to the repository.
        let root = format!("{}/", env!("CARGO_MANIFEST_DIR"));
        let got = got.replace(&root, "");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path)
            .expect("golden file (UPDATE_GOLDEN=1 cargo test to create)");
        assert_eq!(got, want, "{golden} changed (UPDATE_GOLDEN=1 to accept)");
    }
}

#[test]
fn html_is_self_contained_with_findings_matrix_and_timeline() {
    let o = run_s(&incident_args("html"));
    let html = stdout(&o);
    for id in [
        "id=\"verdict\"",
        "id=\"findings\"",
        "id=\"nodes\"",
        "id=\"matrix\"",
        "<svg id=\"timeline\"",
        "id=\"inputs\"",
        "data-kind=\"key-mismatch\"",
    ] {
        assert!(html.contains(id), "missing {id}");
    }
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    for external in ["<script", "<link", "src=\"http", "href=\"http", "url("] {
        assert!(!html.contains(external), "external asset: {external}");
    }
}

#[test]
fn validate_openshift_pair_not_verified_and_stale_tarball_not_restorable() {
    let snap = testdata("openshift/snapshot_2026-11-01_120000.db");
    let good = testdata("openshift/static_kuberesources_2026-11-01_120000.tar.gz");
    let stale = testdata("openshift/static_kuberesources_stale.tar.gz");
    let dir = std::env::temp_dir().join(format!("autopsy-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let metrics = dir.join("backup.prom");
    let o = run(&[
        "validate",
        snap.to_str().unwrap(),
        "--static-resources",
        good.to_str().unwrap(),
        "--metrics",
        metrics.to_str().unwrap(),
        "--format",
        "json",
    ]);
    // Routes and OAuth tokens belong to openshift-apiserver / oauth-apiserver, whose keys the
    // tarball does not hold: not checked (info), so not verified — never "lost", never deleted.
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["restorable"], false);
    assert_eq!(v["restorability"], "not-verified");
    let kinds: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"not-checked"), "{kinds:?}");
    assert!(!kinds.contains(&"undecryptable-records"), "{kinds:?}");
    assert!(!stdout(&o).contains("etcdctl del"));
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        prom.contains(
            "etcd_autopsy_backup_restorable{snapshot=\"snapshot_2026-11-01_120000.db\"} 0"
        ),
        "{prom}"
    );
    assert!(prom.contains("state=\"encrypted\"} 39"));

    let o = run(&[
        "validate",
        snap.to_str().unwrap(),
        "--static-resources",
        stale.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["restorable"], false);
    assert_eq!(v["restorability"], "not-restorable");
    assert_eq!(v["unreadable_by_key"]["aescbc key 1"], 9);

    let o = run(&[
        "validate",
        testdata("snapshots/datadir.db").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "missing trailer is not restorable by default");
    let o = run(&[
        "validate",
        testdata("snapshots/datadir.db").to_str().unwrap(),
        "--allow-missing-trailer",
    ]);
    assert_eq!(code(&o), 0);
    let o = run(&["validate", "/nonexistent.db"]);
    assert_eq!(code(&o), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
