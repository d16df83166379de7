//! End-to-end: `demo`, `report` and `validate` on the real-etcd incident and OpenShift testdata.

mod common;
use common::*;

const FIXED: &str = "2026-11-22T00:00:00Z";

/// `report` on the incident snapshot with the three nodes' configs and no logs.
fn incident_with_configs() -> Vec<String> {
    let mut a: Vec<String> = vec![
        "report".into(),
        "--snapshot".into(),
        td("incident/snapshot.db"),
    ];
    for n in ["master-1", "master-2", "master-3"] {
        a.push("--encryption-config".into());
        a.push(format!("{n}={}", td(&format!("incident/{n}.yaml"))));
    }
    a
}

fn incident_args(format: &str) -> Vec<String> {
    let mut a = incident_report_args();
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

// ---- One diagnosis: the verdict rules end to end (docs/verdict-rules.md) ----

fn td(rel: &str) -> String {
    testdata(rel).to_str().unwrap().to_string()
}

fn json_of(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(o), stderr(o)))
}

/// `--encryption-config NODE=testdata/DIR/NODE.yaml` for each node.
fn configs(dir: &str, nodes: &[&str]) -> Vec<String> {
    nodes
        .iter()
        .flat_map(|n| {
            [
                "--encryption-config".to_string(),
                format!("{n}={}", td(&format!("{dir}/{n}.yaml"))),
            ]
        })
        .collect()
}

fn kinds(r: &serde_json::Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

fn finding<'a>(r: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} finding in {:?}", kinds(r)))
}

/// `report`, `audit` and `validate` on one snapshot + key sources: (report JSON, exit), the
/// audit's (verdict, exit), validate's JSON and exit.
struct Four {
    report: serde_json::Value,
    report_code: i32,
    audit_verdict: String,
    audit_code: i32,
    validate: serde_json::Value,
    validate_code: i32,
}

fn four(snapshot: &str, sources: &[&str]) -> Four {
    let mut r = vec!["report", "--snapshot", snapshot, "--format", "json", "-q"];
    r.extend(sources);
    let ro = run(&r);
    let mut a = vec!["audit", snapshot, "--format", "json"];
    a.extend(sources);
    let ao = run(&a);
    let mut v = vec!["validate", snapshot, "--format", "json", "-q"];
    v.extend(sources);
    let vo = run(&v);
    Four {
        report: json_of(&ro),
        report_code: code(&ro),
        audit_verdict: json_of(&ao)["verdict"].as_str().unwrap().to_string(),
        audit_code: code(&ao),
        validate: json_of(&vo),
        validate_code: code(&vo),
    }
}

#[test]
fn report_audit_validate_agree_on_every_testdata_input() {
    let inc = |f: &str| format!("master-{f}={}", td(&format!("incident/master-{f}.yaml")));
    let (m1, m2, m3) = (inc("1"), inc("2"), inc("3"));
    let cp = |n: &str| format!("cp-{n}={}", td(&format!("encrypted/cp-{n}.yaml")));
    let (c1, c2, c3) = (cp("1"), cp("2"), cp("3"));
    let good = td("openshift/static_kuberesources_2026-11-01_120000.tar.gz");
    let stale = td("openshift/static_kuberesources_stale.tar.gz");
    let osm_tarball = format!("cp-1={}", td(OSM_TARBALL));
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (td("incident/snapshot.db"), vec![], "not-verified"),
        (
            td("incident/snapshot.db"),
            vec!["--key", "key1=eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5"],
            "not-verified",
        ),
        (
            td("incident/snapshot.db"),
            vec![
                "--encryption-config",
                &m1,
                "--encryption-config",
                &m2,
                "--encryption-config",
                &m3,
            ],
            "problems",
        ),
        (
            td("encrypted/multi.db"),
            vec![
                "--encryption-config",
                &c1,
                "--encryption-config",
                &c2,
                "--encryption-config",
                &c3,
            ],
            "problems",
        ),
        (
            td("openshift/snapshot_2026-11-01_120000.db"),
            vec!["--static-resources", &good],
            "problems",
        ),
        (
            td("openshift/snapshot_2026-11-01_120000.db"),
            vec!["--static-resources", &stale],
            "problems",
        ),
        (
            td(OSM),
            vec!["--static-resources", &osm_tarball],
            "problems",
        ),
        (td(OSM), vec!["--static-resources", &good], "problems"),
        (td(OSM), vec![], "not-verified"),
        (td("snapshots/basic.db"), vec![], "ok"),
        (td("snapshots/datadir.db"), vec![], "problems"),
    ];
    for (snap, sources, want) in &cases {
        let f = four(snap, sources);
        let what = format!("{snap} {sources:?}");
        assert_eq!(f.report["verdict"]["status"], *want, "{what}");
        assert_eq!(f.audit_verdict, *want, "audit on {what}");
        assert_eq!(f.validate["verdict"], *want, "validate on {what}");
        let nonzero = i32::from(*want != "ok");
        assert_eq!(f.report_code, nonzero, "report exit on {what}");
        assert_eq!(f.audit_code, nonzero, "audit exit on {what}");
        assert_eq!(
            f.validate_code,
            i32::from(f.validate["restorability"] != "restorable"),
            "validate exit on {what}"
        );
        // validate carries exactly the report's findings.
        assert_eq!(
            f.validate["findings"], f.report["findings"],
            "findings on {what}"
        );
    }
}

#[test]
fn demo_agrees_with_report_on_the_same_incident() {
    let d = json_of(&run(&["demo", "--format", "json", "--fixed-time", FIXED]));
    let r = json_of(&run_s(&incident_args("json")));
    assert_eq!(d["verdict"]["status"], r["verdict"]["status"]);
    assert_eq!(kinds(&d), kinds(&r));
    for (a, b) in d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .zip(r["findings"].as_array().unwrap())
    {
        assert_eq!(a["severity"], b["severity"]);
        assert_eq!(a["keys"], b["keys"]);
        assert_eq!(a["summary"], b["summary"]);
    }
}

#[test]
fn no_key_sources_is_not_verified_and_says_what_to_give() {
    let f = four(&td("incident/snapshot.db"), &[]);
    assert_eq!(f.report_code, 1);
    assert_eq!(f.report["verdict"]["status"], "not-verified");
    let n = finding(&f.report, "no-key-sources");
    assert!(n["summary"]
        .as_str()
        .unwrap()
        .starts_with("33 encrypted record(s)"));
    let remedy = n["remedy"].as_str().unwrap();
    assert!(remedy.contains("--encryption-config") && remedy.contains("--static-resources"));
    assert_eq!(f.validate["restorability"], "not-verified");
    assert_eq!(f.validate_code, 1);
    assert_eq!(f.audit_code, 1);
    let text = stdout(&run(&[
        "report",
        "--snapshot",
        &td("incident/snapshot.db"),
        "-q",
    ]));
    assert!(text.starts_with("verdict: NOT VERIFIED"), "{text}");
    assert!(!text.contains("nothing to fix"));
}

#[test]
fn a_wrong_key_is_not_verified_with_every_record_named() {
    let f = four(
        &td("incident/snapshot.db"),
        &["--key", "key1=eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5"],
    );
    assert_eq!(f.report["verdict"]["status"], "not-verified");
    let u = finding(&f.report, "unverified-records");
    assert_eq!(u["keys"].as_array().unwrap().len(), 33);
    assert_eq!(f.report["records"]["undecryptable"], 33);
    // No node config: nothing is called lost, nothing is to be deleted.
    assert!(!kinds(&f.report).contains(&"undecryptable-records".to_string()));
    assert!(!f.report.to_string().contains("etcdctl del"));
}

#[test]
fn openshift_routes_and_tokens_are_not_checked_never_critical() {
    let f = four(
        &td("openshift/snapshot_2026-11-01_120000.db"),
        &[
            "--static-resources",
            &td("openshift/static_kuberesources_2026-11-01_120000.tar.gz"),
        ],
    );
    let n = finding(&f.report, "not-checked");
    assert_eq!(n["severity"], "info");
    let keys: Vec<&str> = n["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 4);
    assert!(keys
        .iter()
        .all(|k| k.starts_with("/openshift.io/routes/") || k.starts_with("/openshift.io/oauth/")));
    for f in f.report["findings"].as_array().unwrap() {
        if f["severity"] == "critical" {
            panic!("critical finding on the OpenShift pair: {f}");
        }
    }
    assert!(!f.report.to_string().contains("etcdctl del"));
}

const OSM: &str = "openshift-managed/snapshot_2026-11-20_120000.db";
const OSM_TARBALL: &str = "openshift-managed/static_kuberesources_2026-11-20_120000.tar.gz";

/// `report` on the OpenShift-managed fixture with cp-1's tarball (the kube-apiserver key).
fn osm_report(fmt: &str) -> std::process::Output {
    let tarball = format!("cp-1={}", td(OSM_TARBALL));
    run(&[
        "report",
        "--snapshot",
        &td(OSM),
        "--static-resources",
        &tarball,
        "--format",
        fmt,
        "--fixed-time",
        FIXED,
        "-q",
    ])
}

#[test]
fn openshift_managed_routes_and_tokens_are_checked_through_keys_recovered_from_the_snapshot() {
    let tarball = format!("cp-1={}", td(OSM_TARBALL));
    let f = four(&td(OSM), &["--static-resources", &tarball]);
    // testdata/README.md: 23 records; 4 routes under openshift-apiserver's keys "2"/"1" and 2
    // tokens under oauth-apiserver's "2" read through the recovered configs; one route under
    // "3", which no config and no key Secret holds, is the only record lost; one token under
    // oauth-apiserver's generation "1", which its config no longer lists, fails on
    // oauth-apiserver but opens with the key Secret encryption-key-openshift-oauth-apiserver-1.
    assert_eq!(kinds(&f.report), ["missing-read-key", "node-read-failures"]);
    assert_eq!(f.report["records"]["undecryptable"], 1);
    let g = finding(&f.report, "node-read-failures");
    assert_eq!(g["nodes"], serde_json::json!(["oauth-apiserver"]));
    assert!(g["summary"]
        .as_str()
        .unwrap()
        .contains("that a key Secret in the snapshot decrypts"));
    assert!(g["remedy"].as_str().unwrap().starts_with("Not lost:"));
    let token = g["keys"][0].as_str().unwrap();
    assert!(token.starts_with("/openshift.io/oauth/authorizetokens/"));
    // Which generation opens which record: the unreadable record names the key Secret's key.
    let u = unreadable_entry(&f.report, token);
    assert_eq!(
        u["decrypts_with"],
        serde_json::json!(["oauth-apiserver/aescbc/1"])
    );
    assert_eq!(u["key_name"], "1");
    let m = finding(&f.report, "missing-read-key");
    assert_eq!(m["severity"], "critical");
    let keys = m["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0]
        .as_str()
        .unwrap()
        .starts_with("/openshift.io/routes/app-dev/"));
    let nodes = node_counts(&f.report);
    assert_eq!(
        nodes,
        [
            ("cp-1", 15, 0),
            ("openshift-apiserver", 4, 1),
            ("oauth-apiserver", 2, 1)
        ]
    );
    // The recovered keys are named by node, name and fingerprint (testdata/README.md), with
    // their provenance.
    let rows: Vec<(String, String, String)> = f.report["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["node"] != "cp-1")
        .map(|k| {
            (
                k["id"].as_str().unwrap().to_string(),
                k["fingerprint"].as_str().unwrap().to_string(),
                k["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let secret = |name: &str, rev: u32| {
        format!("snapshot secret openshift-config-managed/{name} at revision {rev}")
    };
    let oapi = secret("encryption-config-openshift-apiserver", 2);
    let oauth = secret("encryption-config-openshift-oauth-apiserver", 3);
    let want = [
        (
            "openshift-apiserver/aescbc/2",
            "sha256:dc830c0964ff77a2",
            format!(
                "{oapi}; {}",
                secret("encryption-key-openshift-apiserver-2", 5)
            ),
        ),
        (
            "openshift-apiserver/aescbc/1",
            "sha256:d40f439aacdbf434",
            format!(
                "{oapi}; {}",
                secret("encryption-key-openshift-apiserver-1", 4)
            ),
        ),
        (
            "oauth-apiserver/aescbc/2",
            "sha256:af474aa0d393068d",
            format!(
                "{oauth}; {}",
                secret("encryption-key-openshift-oauth-apiserver-2", 7)
            ),
        ),
        (
            "oauth-apiserver/aescbc/1",
            "sha256:5fb27e654fa32bb1",
            secret("encryption-key-openshift-oauth-apiserver-1", 6),
        ),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c));
    assert_eq!(rows, want);
    assert_eq!(f.validate["restorability"], "not-restorable");
    assert_eq!(f.validate_code, 1);
    assert_eq!(f.audit_verdict, "problems");
    assert!(!f.report.to_string().contains("etcdctl del"));
}

/// A week later (`openshift-managed-after/`, testdata/README.md): report, audit and validate
/// judge with the configs and keys recovered from this snapshot. oauth-apiserver's rotation to
/// "3" left nothing behind (both migrated tokens read); the route still under the generation
/// openshift-apiserver pruned is `node-read-failures` ("Not lost": its key Secret opens it),
/// the orphan route under "3" still the only record lost.
#[test]
fn openshift_managed_after_a_rotation_is_judged_with_that_snapshots_keys() {
    let tarball = format!("cp-1={}", td(OSM_TARBALL));
    let snap = td("openshift-managed-after/snapshot_2026-11-27_120000.db");
    let f = four(&snap, &["--static-resources", &tarball]);
    // (space-history: the week's rewrites of secrets, info.)
    assert_eq!(
        kinds(&f.report),
        ["missing-read-key", "node-read-failures", "space-history"]
    );
    assert_eq!(f.report["records"]["undecryptable"], 1);
    let g = finding(&f.report, "node-read-failures");
    assert_eq!(g["nodes"], serde_json::json!(["openshift-apiserver"]));
    assert!(g["remedy"].as_str().unwrap().starts_with("Not lost:"));
    assert!(g["remedy"]
        .as_str()
        .unwrap()
        .contains("openshift-config-managed/encryption-key-openshift-apiserver-1"));
    let route = g["keys"][0].as_str().unwrap();
    assert!(route.starts_with("/openshift.io/routes/app-prod/"));
    let u = unreadable_entry(&f.report, route);
    assert_eq!(
        u["decrypts_with"],
        serde_json::json!(["openshift-apiserver/aescbc/1"])
    );
    let nodes = node_counts(&f.report);
    assert_eq!(
        nodes,
        [
            ("cp-1", 15, 0),
            ("openshift-apiserver", 3, 2),
            ("oauth-apiserver", 3, 0)
        ]
    );
    assert_eq!(f.validate["restorability"], "not-restorable");
    assert_eq!(f.audit_verdict, "problems");
    assert!(!f.report.to_string().contains("etcdctl del"));
}

#[test]
fn openshift_managed_report_is_deterministic_and_leaks_nothing_recovered() {
    let json = |fmt: &str| stdout(&osm_report(fmt));
    let a = json("json");
    assert_eq!(a, json("json"), "JSON differs between two runs");
    for out in [a, json("text"), json("markdown"), json("html")] {
        // No config content: no provider body, no secret field, no record marker.
        for bad in [
            "\"secret\"",
            "secret:",
            "AUTOPSY-MARKER-",
            "EncryptionConfiguration",
        ] {
            assert!(!out.contains(bad), "{bad} in output");
        }
    }
}

#[test]
fn openshift_managed_without_the_kube_key_is_not_checked_never_critical_for_routes() {
    let f = four(&td(OSM), &[]);
    assert_eq!(f.report["verdict"]["status"], "not-verified");
    assert_eq!(kinds(&f.report), ["no-key-sources"]);
    let wrong = td("openshift/static_kuberesources_2026-11-01_120000.tar.gz");
    let f = four(&td(OSM), &["--static-resources", &wrong]);
    let n = finding(&f.report, "not-checked");
    assert_eq!(n["severity"], "info");
    assert_eq!(n["keys"].as_array().unwrap().len(), 8);
    for c in f.report["findings"].as_array().unwrap() {
        if c["severity"] == "critical" {
            assert!(
                c["keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|k| !k.as_str().unwrap().starts_with("/openshift.io/")),
                "{c}"
            );
        }
    }
}

#[test]
fn a_log_contradicting_the_config_is_a_finding() {
    // master-3's log (errors on records master-1's config decrypts) given as master-1's.
    let mut a = incident_with_configs();
    a.extend([
        "--log".into(),
        format!("master-1={}", td("incident/master-3.log")),
    ]);
    a.extend([
        "--year".into(),
        "2021".into(),
        "--format".into(),
        "json".into(),
        "-q".into(),
    ]);
    let o = run_s(&a);
    assert_eq!(code(&o), 1);
    let r = json_of(&o);
    let c = finding(&r, "config-not-running");
    assert_eq!(c["severity"], "critical");
    assert_eq!(c["nodes"], serde_json::json!(["master-1"]));
    assert!(c["summary"]
        .as_str()
        .unwrap()
        .starts_with("the config given for master-1 is not the one its apiserver runs"));
    assert!(c["evidence"].as_array().unwrap().iter().any(|e| e["source"]
        .as_str()
        .is_some_and(|s| s.contains("master-3.log:"))));
    let m1 = r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "master-1")
        .unwrap();
    assert_eq!(m1["log"]["state"], "contradicts");
}

#[test]
fn log_node_mapping_is_never_silent() {
    let cfg = |n: &str| format!("{n}={}", td(&format!("incident/{n}.yaml")));
    // A log node that matches no config node: a warning naming both sides.
    let o = run(&[
        "report",
        "--snapshot",
        &td("incident/snapshot.db"),
        "--encryption-config",
        &cfg("master-1"),
        "--encryption-config",
        &cfg("master-2"),
        "--log",
        &format!("cp-9={}", td("incident/master-1.log")),
        "--year",
        "2021",
        "--format",
        "json",
        "-q",
    ]);
    let r = json_of(&o);
    let u = finding(&r, "log-node-unmatched");
    assert_eq!(u["severity"], "warning");
    let s = u["summary"].as_str().unwrap();
    assert!(
        s.contains("cp-9") && s.contains("master-1 and master-2"),
        "{s}"
    );
    assert!(u["remedy"].as_str().unwrap().contains("NODE=PATH"));

    // One config node, an unlabelled log with a generic name: attached, and said so.
    let dir = std::env::temp_dir().join(format!("autopsy-lognode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("kube-apiserver.log");
    std::fs::copy(testdata("incident/master-3.log"), &log).unwrap();
    let o = run(&[
        "report",
        "--snapshot",
        &td("incident/snapshot.db"),
        "--encryption-config",
        &cfg("master-3"),
        "--log",
        log.to_str().unwrap(),
        "--year",
        "2021",
        "--format",
        "json",
        "-q",
    ]);
    let r = json_of(&o);
    let a = finding(&r, "log-node-assumed");
    assert_eq!(a["severity"], "info");
    assert_eq!(a["nodes"], serde_json::json!(["master-3"]));
    let m3 = &r["nodes"][0];
    assert_eq!(m3["log"]["state"], "confirmed", "{m3}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_kms_finding_counted_as_undecryptable_never_read_by_other_nodes() {
    let sources = configs("encrypted", &["cp-1", "cp-2", "cp-3"]);
    let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
    let f = four(&td("encrypted/multi.db"), &sources);
    let r = &f.report;
    assert_eq!(kinds(r).iter().filter(|k| *k == "kms-required").count(), 1);
    let kms: Vec<&serde_json::Value> = finding(r, "kms-required")["keys"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(r["records"]["kms"], kms.len());
    assert!(r["records"]["undecryptable"].as_u64().unwrap() >= kms.len() as u64);
    for nf in r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "node-read-failures")
    {
        for k in &kms {
            assert!(!nf["keys"].as_array().unwrap().contains(k), "{k} in {nf}");
        }
    }
    for sev in r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
    {
        assert!(matches!(sev, "critical" | "warning" | "info"), "{sev}");
    }
}

#[test]
fn trailer_only_mismatch_says_structure_intact() {
    let dir = std::env::temp_dir().join(format!("autopsy-trailer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("basic.db");
    let mut bytes = std::fs::read(testdata("snapshots/basic.db")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&copy, &bytes).unwrap();
    let snap = copy.to_str().unwrap();
    let f = four(snap, &[]);
    let t = finding(&f.report, "trailer-mismatch");
    assert!(t["summary"]
        .as_str()
        .unwrap()
        .starts_with("trailer mismatch, structure intact"));
    assert!(!kinds(&f.report).contains(&"snapshot-integrity".to_string()));
    assert_eq!(f.report["snapshot"]["integrity"]["structure_ok"], true);
    assert_eq!(f.validate["restorability"], "not-restorable");
    let text = stdout(&run(&["report", "--snapshot", snap, "-q"]));
    assert!(
        text.contains("trailer mismatch, structure intact"),
        "{text}"
    );
    assert!(!text.contains("DAMAGED"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn validate_warns_about_a_key_conflict_and_lists_the_report_findings() {
    let sources = configs("incident", &["master-1", "master-2", "master-3"]);
    let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
    let f = four(&td("incident/snapshot.db"), &sources);
    assert_eq!(f.validate["restorability"], "restorable");
    let warnings = f.validate["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("key-mismatch: master-3's")),
        "{warnings:?}"
    );
    assert_eq!(
        finding(&f.validate, "key-mismatch")["keys"]
            .as_array()
            .unwrap()
            .len(),
        33
    );
}

/// `--quota-backend-bytes` means the same to `report`, `validate` and `stats`: the space
/// findings compare the db size (57,376 bytes for the incident snapshot) with it.
#[test]
fn quota_backend_bytes_is_the_same_for_report_validate_and_stats() {
    let snap = td("incident/snapshot.db");
    let summary_of = |v: &serde_json::Value| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == "space-quota")
            .map(|f| (f["severity"].clone(), f["summary"].clone()))
    };
    for (quota, severity) in [("60000", "critical"), ("70000", "warning")] {
        let r = json_of(&run(&[
            "report",
            "--snapshot",
            &snap,
            "--quota-backend-bytes",
            quota,
            "-o",
            "json",
            "-q",
        ]));
        assert_eq!(r["space"]["quota_bytes"].to_string(), quota);
        assert_eq!(r["space"]["quota_is_default"], false);
        let (sev, summary) = summary_of(&r).expect("space-quota in report");
        assert_eq!(sev, severity);
        assert!(summary.as_str().unwrap().starts_with("db at "), "{summary}");
        let v = json_of(&run(&[
            "validate",
            &snap,
            "--quota-backend-bytes",
            quota,
            "-o",
            "json",
            "-q",
        ]));
        assert_eq!(summary_of(&v), Some((sev, summary.clone())));
        let s = json_of(&run(&[
            "stats",
            &snap,
            "--quota-backend-bytes",
            quota,
            "-o",
            "json",
        ]));
        assert_eq!(s["space"]["quota"]["quota_bytes"].to_string(), quota, "{s}");
    }
    // Without it: etcd's default, said as assumed, and no quota finding for a 57 kB db.
    let r = json_of(&run(&["report", "--snapshot", &snap, "-o", "json", "-q"]));
    assert_eq!(r["space"]["quota_is_default"], true);
    assert_eq!(summary_of(&r), None);
    let bad = run(&[
        "report",
        "--snapshot",
        &snap,
        "--quota-backend-bytes",
        "2GiB",
    ]);
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("--quota-backend-bytes"));
}

/// No byte of a key recovered from a key Secret in any output of report (every format), audit
/// and validate (text and JSON), as base64 or hex: expected.json lists the fixture's key Secret
/// keys (fake keys) for this check.
#[test]
fn openshift_managed_key_secret_keys_appear_in_no_output() {
    use base64::Engine as _;
    let exp: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(td("openshift-managed/expected.json")).unwrap(),
    )
    .unwrap();
    let needles: Vec<String> = exp["key_secrets"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|k| {
            let b64 = k["key_base64"].as_str().unwrap().to_string();
            let raw = base64::engine::general_purpose::STANDARD
                .decode(&b64)
                .unwrap();
            let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            // Also the unpadded head, as a partial print would show it.
            [b64[..24].to_string(), hex[..32].to_string()]
        })
        .collect();
    assert_eq!(needles.len(), 8);
    let snap = td(OSM);
    let tarball = format!("cp-1={}", td(OSM_TARBALL));
    let mut outputs = Vec::new();
    for fmt in ["text", "markdown", "json", "html"] {
        outputs.push(osm_report(fmt));
    }
    for fmt in ["text", "json"] {
        outputs.push(run(&[
            "audit",
            &snap,
            "--static-resources",
            &tarball,
            "--format",
            fmt,
        ]));
        outputs.push(run(&[
            "validate",
            &snap,
            "--static-resources",
            &tarball,
            "--format",
            fmt,
            "-q",
        ]));
    }
    for o in &outputs {
        let all = format!("{}{}", stdout(o), stderr(o));
        assert!(!all.is_empty());
        for n in &needles {
            assert!(!all.contains(n.as_str()), "a key Secret's key in an output");
        }
    }
}

#[cfg(unix)]
#[test]
fn a_log_given_as_a_fifo_is_read_once_and_recorded_unhashed() {
    // `--log NODE=<(zcat …)` or a named pipe: the scan reads it; the chain of custody must not
    // open it a second time (that would wait for a writer forever).
    let dir = std::env::temp_dir().join(format!("etcd-autopsy-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("master-3.log");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let log = std::fs::read(testdata("incident/master-3.log")).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            // Opening for writing waits until the report opens it for reading.
            let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            let _ = w.write_all(&log);
        })
    };
    let mut a = incident_with_configs();
    a.extend([
        "--log".into(),
        format!("master-3={}", fifo.display()),
        "--year".into(),
        "2021".into(),
        "--format".into(),
        "json".into(),
        "-q".into(),
    ]);
    let args: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = run_with_timeout(&args, std::time::Duration::from_secs(30));
    writer.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = json_of(&o);
    let input = r["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["role"] == "log" && i["node"] == "master-3")
        .expect("the FIFO log is listed among the inputs")
        .clone();
    assert_eq!(input["sha256"], "");
    assert!(input["size"].as_u64().unwrap() > 0);
    assert_eq!(input["path"], fifo.display().to_string());
}

/// Per node of a report's JSON: (name, records it decrypts, records it fails on).
fn node_counts(report: &serde_json::Value) -> Vec<(&str, u64, u64)> {
    report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap(),
                n["decrypts"].as_u64().unwrap(),
                n["fails"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The entry of a report's JSON `unreadable` list for the record `key`.
fn unreadable_entry<'a>(report: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    report["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["key"] == key)
        .unwrap()
}
