//! End-to-end tests of `etcd-autopsy logs` on testdata/logs (see its README) and on inputs
//! generated here (long lines, large gzip streams, stdin).

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_etcd-autopsy");
const INCIDENT_KEY: &str = "/registry/secrets/cee-dnceed21/alert-logger-sa-token-dzhkb";

fn td(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/logs")
        .join(rel)
        .display()
        .to_string()
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run binary");
    {
        let mut si = child.stdin.take().unwrap();
        if let Some(data) = stdin {
            // The binary may stop reading early; a broken pipe is fine.
            let _ = si.write_all(data);
        }
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `logs --format json <args>`: exit code and parsed output.
fn json(args: &[&str]) -> (i32, Value) {
    json_stdin(args, None)
}

fn json_stdin(args: &[&str], stdin: Option<&[u8]>) -> (i32, Value) {
    let mut all = vec!["logs", "--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all, stdin);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

fn events(v: &Value) -> &Vec<Value> {
    v["events"].as_array().unwrap()
}

/// `(time, key, error, line, end_line)` of each event.
fn summary(v: &Value) -> Vec<(String, Option<String>, String, u64, u64)> {
    events(v)
        .iter()
        .map(|e| {
            (
                e["time"].as_str().unwrap().to_string(),
                e["key"].as_str().map(str::to_string),
                e["error"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["end_line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn incident_paste_is_rejoined_with_the_exact_key() {
    let spec = format!("master-3={}", td("pasted/incident-1.txt"));
    let (code, v) = json(&[&spec, "--year", "2021", "--tz", "+00:00"]);
    assert_eq!(code, 1);
    let k = Some(s(INCIDENT_KEY));
    let e = s("invalid padding on input");
    assert_eq!(
        summary(&v),
        vec![
            // `line` is the line holding the error; the records start at 4, 7 and 10.
            (s("2021-11-16T20:09:52.635602Z"), k.clone(), e.clone(), 6, 6),
            (s("2021-11-16T20:09:53.637011Z"), k.clone(), e.clone(), 9, 9),
            (
                s("2021-11-16T20:09:54.638420Z"),
                k.clone(),
                e.clone(),
                12,
                13
            ),
        ]
    );
    for ev in events(&v) {
        assert_eq!(ev["node"], "master-3");
        assert_eq!(ev["level"], "E");
        assert_eq!(ev["source"], "cacher.go:419");
        assert_eq!(ev["component"], "cacher (*core.Secret)");
        assert_eq!(ev["operation"], "list");
        assert_eq!(ev["resource"], "secrets");
        assert_eq!(ev["class"], "aescbc-padding");
        assert_eq!(ev["time_basis"], "utc");
    }
    let a = &v["aggregates"][0];
    assert_eq!(v["aggregates"].as_array().unwrap().len(), 1);
    assert_eq!(
        (a["node"].as_str(), a["key"].as_str()),
        (Some("master-3"), Some(INCIDENT_KEY))
    );
    assert_eq!(a["count"], 3);
    assert_eq!(a["median_interval_secs"], 1.001);
    assert_eq!(a["cacher_loop"], true);
    assert_eq!(a["first_seen"], "2021-11-16T20:09:52.635602Z");
    assert_eq!(a["last_seen"], "2021-11-16T20:09:54.638420Z");
    assert_eq!(v["files"][0]["rejoined"], 3);
}

#[test]
fn text_output_names_the_loop() {
    let spec = format!("master-3={}", td("pasted/incident-1.txt"));
    let (code, out, _) = run(&["logs", &spec, "--year", "2021", "--tz", "Z"], None);
    assert_eq!(code, 1);
    assert!(
        out.contains("every ~1.001 s (cacher reinitializing)"),
        "{out}"
    );
    assert!(out.contains(INCIDENT_KEY));
    assert!(out.contains("incident-1.txt:6 (record 4-6)"));
}

#[test]
fn klog_1_19_across_new_year() {
    let f = td("klog/v1.19/master-1.log");
    let (code, v) = json(&[&f, "--year", "2021", "--tz", "+00:00"]);
    assert_eq!(code, 1);
    let k = Some(s("/registry/secrets/kube-system/bootstrap-token-abcdef"));
    let e = s("invalid padding on input");
    assert_eq!(
        summary(&v),
        vec![
            (s("2021-12-31T23:59:58.635602Z"), k.clone(), e.clone(), 6, 6),
            (s("2021-12-31T23:59:59.637011Z"), k.clone(), e.clone(), 8, 8),
            (s("2022-01-01T00:00:00.638420Z"), k.clone(), e.clone(), 9, 9),
            (s("2022-01-01T00:00:00.901234Z"), None, e.clone(), 10, 10),
            (
                s("2022-01-01T00:00:01.639877Z"),
                k.clone(),
                e.clone(),
                11,
                11
            ),
        ]
    );
    assert_eq!(events(&v)[3]["operation"], "watch");
    assert_eq!(events(&v)[3]["component"], "watcher");
    assert_eq!(events(&v)[0]["node"], "master-1");
    let r = &v["restarts"][0];
    assert_eq!(r["time"], "2021-12-31T23:59:50.100720Z");
    assert_eq!(r["version"], "v1.19.16");
    assert_eq!(r["line"], 4);
    assert_eq!(v["files"][0]["lines"], 13);
    assert_eq!(v["files"][0]["format"], "plain/klog");

    // Without --year and --tz the times stay as written, flagged.
    let (_, v) = json(&[&f]);
    assert_eq!(events(&v)[0]["time"], "--12-31T23:59:58.635602");
    assert_eq!(events(&v)[0]["time_basis"], "no-year");
    // The rollover is still followed for intervals.
    let a = v["aggregates"].as_array().unwrap();
    let keyed = a.iter().find(|a| a["key"].is_string()).unwrap();
    assert_eq!(keyed["median_interval_secs"], 1.001);
    // With a year but no offset: local.
    let (_, v) = json(&[&f, "--year", "2021"]);
    assert_eq!(events(&v)[2]["time"], "2022-01-01T00:00:00.638420");
    assert_eq!(events(&v)[2]["time_basis"], "local");
    // --tz moves the clock.
    let (_, v) = json(&[&f, "--year", "2021", "--tz", "-05:00"]);
    assert_eq!(events(&v)[0]["time"], "2022-01-01T04:59:58.635602Z");
}

#[test]
fn klog_1_23_reflector_and_cacher_pairs() {
    let (_, v) = json(&[
        &td("klog/v1.23/master-2.log"),
        "--year",
        "2023",
        "--tz",
        "Z",
    ]);
    let evs = events(&v);
    assert_eq!(evs.len(), 7);
    let comps: Vec<&str> = evs
        .iter()
        .map(|e| e["component"].as_str().unwrap())
        .collect();
    assert_eq!(
        comps,
        vec![
            "reflector storage/cacher.go:/secrets",
            "cacher (*core.Secret)",
            "reflector storage/cacher.go:/secrets",
            "cacher (*core.Secret)",
            "reflector storage/cacher.go:/secrets",
            "cacher (*core.Secret)",
            "reflector storage/cacher.go:/secrets",
        ]
    );
    assert_eq!(evs[0]["level"], "W");
    assert_eq!(evs[0]["source"], "reflector.go:324");
    assert_eq!(evs[1]["source"], "cacher.go:424");
    for e in evs {
        assert_eq!(e["key"], "/registry/secrets/openshift-config/etcd-client");
        assert_eq!(e["error"], "invalid PKCS7 data (empty or not padded)");
        assert_eq!(e["class"], "aescbc-pkcs7");
    }
    let a = &v["aggregates"][0];
    assert_eq!(a["count"], 7);
    assert_eq!(a["components"]["cacher (*core.Secret)"], 3);
    // Per component: reflector 36.025110 → 37.026420 → 38.027950 → 39.100000.
    assert_eq!(a["median_interval_secs"], 1.002);
}

#[test]
fn klog_1_26_resources_and_provider_errors() {
    let (_, v) = json(&[
        &td("klog/v1.26/master-3.log"),
        "--year",
        "2023",
        "--tz",
        "Z",
    ]);
    let got: Vec<(String, String, String, String)> = events(&v)
        .iter()
        .map(|e| {
            (
                e["component"].as_str().unwrap().to_string(),
                e["resource"].as_str().unwrap_or("-").to_string(),
                e["class"].as_str().unwrap().to_string(),
                e["key"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let g = |a: &str, b: &str, c: &str, d: &str| (s(a), s(b), s(c), s(d));
    assert_eq!(
        got,
        vec![
            g(
                "reflector storage/cacher.go:/secrets",
                "secrets",
                "aesgcm-auth",
                "/registry/secrets/payments/db-password"
            ),
            g(
                "cacher (secrets)",
                "secrets",
                "aesgcm-auth",
                "/registry/secrets/payments/db-password"
            ),
            g(
                "cacher (configmaps)",
                "configmaps",
                "secretbox-auth",
                "/registry/configmaps/payments/app-settings"
            ),
            g(
                "cacher (routes.route.openshift.io)",
                "routes.route.openshift.io",
                "no-matching-prefix",
                "/registry/route.openshift.io/routes/payments/frontend"
            ),
            g("watcher", "-", "identity-encrypted", "-"),
        ]
    );
    assert_eq!(v["restarts"].as_array().unwrap().len(), 1);
}

#[test]
fn klog_1_28_transformer_lines() {
    let (_, v) = json(&[
        &td("klog/v1.28/master-1.log"),
        "--year",
        "2023",
        "--tz",
        "Z",
    ]);
    let evs = events(&v);
    assert_eq!(evs.len(), 4);
    assert_eq!(evs[0]["source"], "transformer.go:164");
    assert_eq!(evs[0]["operation"], "decrypt");
    assert_eq!(evs[0]["component"], "transformer");
    assert_eq!(evs[0]["error"], "invalid padding on input");
    assert_eq!(evs[0]["time"], "2023-07-27T16:22:15.775506Z");
    let agg =
        "[invalid padding on input, no matching key was found for the provided AES transformer]";
    assert_eq!(evs[1]["error"], agg);
    assert_eq!(evs[1]["class"], "multiple");
    assert_eq!(evs[2]["error"], agg);
    assert_eq!(
        evs[2]["key"],
        "/registry/secrets/kube-system/cloud-credentials"
    );
    assert_eq!(evs[3]["level"], "I");
    assert_eq!(evs[3]["operation"], "get");
    assert_eq!(evs[3]["class"], "short-data");
    // One start: `Version:` and `"Golang settings"` are the same start.
    let r = v["restarts"].as_array().unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["version"], "v1.28.4");
}

#[test]
fn klog_1_32_corrupt_objects_and_kms() {
    let (_, v) = json(&[
        &td("klog/v1.32/master-2.log"),
        "--year",
        "2024",
        "--tz",
        "Z",
    ]);
    let evs = events(&v);
    assert_eq!(evs.len(), 4);
    assert_eq!(evs[0]["revision"], 48213);
    assert_eq!(
        evs[0]["error"],
        "no matching key was found for the provided Secretbox transformer"
    );
    assert_eq!(evs[0]["class"], "no-matching-key");
    assert_eq!(evs[1]["key"], "/registry/secrets/ns1/s1");
    assert_eq!(
        evs[1]["error"],
        "the stored data is not a multiple of the block size"
    );
    assert_eq!(evs[1]["class"], "aescbc-block-size");
    assert_eq!(evs[2]["class"], "kms");
    assert!(evs[2]["error"]
        .as_str()
        .unwrap()
        .starts_with("failed to decrypt DEK, error: rpc error: code = Unavailable"));
    assert_eq!(evs[3]["operation"], "healthz");
    assert_eq!(evs[3]["component"], "kms");
}

#[test]
fn json_logging_times_are_exact() {
    let (_, v) = json(&[&td("json/master-3.log")]);
    assert_eq!(v["files"][0]["format"], "plain/json");
    assert_eq!(
        summary(&v),
        vec![
            (
                s("2023-07-27T16:22:15.775506Z"),
                None,
                s("invalid padding on input"),
                2,
                2
            ),
            (
                s("2023-07-27T16:22:15.775900Z"),
                Some(s("/registry/secrets/default/db-password")),
                s("invalid padding on input"),
                3,
                3
            ),
        ]
    );
    assert_eq!(events(&v)[0]["source"], "value/transformer.go:164");
    assert_eq!(v["restarts"][0]["time"], "2023-07-27T16:20:00.100100Z");
}

#[test]
fn pods_directory_picks_kube_apiserver_and_joins_cri_chunks() {
    let (code, v) = json(&[&td("pods")]);
    assert_eq!(code, 1);
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(files, vec!["0.log", "0.log.20211116-200952.gz", "1.log"]);
    for f in v["files"].as_array().unwrap() {
        assert_eq!(f["node"], "master-3");
        assert_eq!(f["node_from"], "pod");
        assert_eq!(f["format"], "cri/klog");
    }
    assert_eq!(v["files"][1]["gzip"], true);
    let got: Vec<(String, u64, u64)> = events(&v)
        .iter()
        .map(|e| {
            assert_eq!(e["key"], INCIDENT_KEY);
            assert_eq!(e["node"], "master-3");
            (
                e["time"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["end_line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            // The record starts on line 2; the error is in the chunk on line 3.
            (s("2021-11-16T20:09:52.635602Z"), 3, 4),
            (s("2021-11-16T20:09:53.637011Z"), 5, 5),
            (s("2021-11-16T20:09:54.638420Z"), 6, 6),
            (s("2021-11-16T20:05:30.000100Z"), 3, 3),
            (s("2021-11-16T20:10:15.100200Z"), 2, 2),
            (s("2021-11-16T20:10:16.101200Z"), 3, 3),
        ]
    );
    let r: Vec<(String, String)> = v["restarts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["time"].as_str().unwrap().to_string(),
                r["evidence"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        r,
        vec![
            (s("2021-11-16T20:05:00.000400Z"), s("Version: v1.21.14")),
            (s("2021-11-16T20:10:05.000200Z"), s("Version: v1.21.14")),
        ]
    );
    let a = &v["aggregates"][0];
    assert_eq!(a["count"], 6);
    assert_eq!(a["first_seen"], "2021-11-16T20:05:30.000100Z");
    assert_eq!(a["last_seen"], "2021-11-16T20:10:16.101200Z");
    assert_eq!(a["restarts"], 1);
    assert_eq!(a["cacher_loop"], true);
}

#[test]
fn must_gather_directory() {
    let (_, v) = json(&[&td("must-gather")]);
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert!(files[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("kube-apiserver/logs/current.log"));
    assert!(files[1]["file"]
        .as_str()
        .unwrap()
        .ends_with("kube-apiserver/logs/previous.log"));
    assert_eq!(files[0]["format"], "kubectl-timestamps/klog");
    let k = Some(s(
        "/kubernetes.io/configmaps/openshift-config/admin-kubeconfig-client-ca",
    ));
    let e = s("cipher: message authentication failed");
    assert_eq!(
        summary(&v),
        vec![
            (s("2023-06-01T10:05:10.000100Z"), k.clone(), e.clone(), 2, 2),
            (s("2023-06-01T10:00:30.000100Z"), k.clone(), e.clone(), 2, 2),
        ]
    );
    assert_eq!(events(&v)[0]["node"], "master-0");
    assert_eq!(events(&v)[0]["resource"], "configmaps");
    let a = &v["aggregates"][0];
    assert_eq!(a["first_seen"], "2023-06-01T10:00:30.000100Z");
    assert_eq!(a["restarts"], 1);
}

#[test]
fn docker_partial_lines_join() {
    let (_, v) = json(&[&td("docker/master-1.log")]);
    assert_eq!(v["files"][0]["format"], "docker-json/klog");
    assert_eq!(
        summary(&v),
        vec![
            (
                s("2021-11-16T20:09:52.635602Z"),
                Some(s(INCIDENT_KEY)),
                s("invalid padding on input"),
                3,
                3
            ),
            (
                s("2021-11-16T20:09:53.637011Z"),
                Some(s(INCIDENT_KEY)),
                s("invalid padding on input"),
                4,
                4
            ),
        ]
    );
}

#[test]
fn journald_json_short_and_iso() {
    let (_, v) = json(&[&td("journal/master-2.json")]);
    assert_eq!(v["files"][0]["format"], "journal-json/klog");
    let evs = events(&v);
    assert_eq!(evs.len(), 4);
    assert_eq!(evs[0]["time"], "2022-04-04T04:04:04.404040Z");
    assert_eq!(evs[0]["key"], "/registry/secrets/monitoring/grafana-admin");
    assert_eq!(evs[2]["component"], "kubelet");
    assert_eq!(evs[2]["operation"], "get");
    assert_eq!(evs[2]["resource"], "secrets");
    assert_eq!(evs[3]["line"], 5);
    assert_eq!(evs[3]["operation"], "watch");
    let w = v["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0]["line"], 5);
    assert_eq!(v["restarts"][0]["version"], "v1.24.17");

    // short: yearless local syslog time; klog's own µs win.
    let (_, v) = json(&[
        &td("journal/master-2-short.log"),
        "--year",
        "2022",
        "--tz",
        "Z",
    ]);
    assert_eq!(v["files"][0]["format"], "journal-short/klog");
    assert_eq!(
        events(&v)
            .iter()
            .map(|e| e["time"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec![
            "2022-04-04T04:04:04.404040Z",
            "2022-04-04T04:04:05.405050Z",
            "2022-04-04T04:04:06.000123Z"
        ]
    );
    assert_eq!(events(&v)[0]["line"], 2);
    let (_, v) = json(&[&td("journal/master-2-short-iso.log")]);
    assert_eq!(v["files"][0]["format"], "journal-short-iso/klog");
    assert_eq!(events(&v)[1]["time"], "2022-04-04T04:04:05.405050Z");
}

#[test]
fn journald_host_names_the_node_unless_given() {
    let (_, v) = json(&[&td("journal/master-2-short-iso.log")]);
    assert_eq!(events(&v)[0]["node"], "master-2");
    let spec = format!("other={}", td("journal/master-2-short-iso.log"));
    let (_, v) = json(&[&spec]);
    assert_eq!(events(&v)[0]["node"], "other");
}

#[test]
fn kubectl_client_output() {
    let (code, v) = json(&[&td("clients/kubectl-output.txt")]);
    assert_eq!(code, 1);
    assert_eq!(
        summary(&v),
        vec![
            (
                s("unknown"),
                Some(s(INCIDENT_KEY)),
                s("invalid padding on input"),
                2,
                2
            ),
            (s("unknown"), None, s("invalid padding on input"), 4, 4),
        ]
    );
    assert_eq!(events(&v)[0]["component"], "client");
    assert_eq!(events(&v)[1]["operation"], "get");
    assert_eq!(events(&v)[0]["time_basis"], "unknown");
}

#[test]
fn gzip_and_truncated_gzip() {
    let (code, v) = json(&[&td("gz/master-1.log.gz"), "--year", "2022", "--tz", "Z"]);
    assert_eq!(code, 1);
    assert_eq!(events(&v).len(), 6);
    assert_eq!(v["files"][0]["gzip"], true);
    assert_eq!(v["files"][0]["lines"], 206);
    assert_eq!(events(&v)[5]["key"], "/registry/secrets/app/s5");
    assert_eq!(events(&v)[5]["time"], "2022-02-10T11:00:05.000005Z");
    assert!(v["warnings"].as_array().unwrap().is_empty());

    let (code, v) = json(&[&td("gz/truncated.log.gz")]);
    assert_eq!(code, 1, "a truncated stream is a warning, not a failure");
    assert_eq!(events(&v).len(), 6);
    let w = &v["warnings"][0];
    assert!(w["file"].as_str().unwrap().ends_with("gz/truncated.log.gz"));
    assert!(w["line"].as_u64().unwrap() > 6);
    assert!(w["message"]
        .as_str()
        .unwrap()
        .contains("ends early or is corrupt"));
}

#[test]
fn binary_junk_and_invalid_utf8() {
    let (code, v) = json(&[&td("junk/binary-junk.log")]);
    assert_eq!(code, 1);
    let evs = events(&v);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0]["key"], "/registry/secrets/ns/bad\u{FFFD}name");
    assert_eq!(evs[0]["error"], "invalid padding on input");
    let lines: Vec<u64> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![1, evs[0]["line"].as_u64().unwrap()]);
}

#[test]
fn whole_testdata_is_deterministic() {
    let all = td("");
    let (_, a, _) = run(
        &[
            "logs",
            "--format",
            "json",
            &all,
            &td("klog"),
            &td("journal/master-2.json"),
        ],
        None,
    );
    let (_, b, _) = run(
        &[
            "logs",
            "--format",
            "json",
            &all,
            &td("klog"),
            &td("journal/master-2.json"),
        ],
        None,
    );
    assert_eq!(a, b);
    assert!(a.len() > 1000);
}

#[test]
fn exit_codes() {
    // Unreadable input: exit 2, one line naming the file.
    let (code, out, err) = run(&["logs", "/nonexistent/kube-apiserver.log"], None);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/kube-apiserver.log"), "{err}");
    // Clean log: exit 0.
    let dir = tempdir("clean");
    let f = dir.join("master-1.log");
    std::fs::write(
        &f,
        "I1116 20:09:50.000100       1 httplog.go:94] \"HTTP\" verb=\"GET\" URI=\"/readyz\" resp=200\n",
    )
    .unwrap();
    let (code, v) = json(&[f.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(events(&v).is_empty());
    // An empty file and an empty directory are nothing recognisable: exit 3, not "clean".
    let e = dir.join("empty.log");
    std::fs::write(&e, "").unwrap();
    let sub = dir.join("nothing-here");
    std::fs::create_dir_all(&sub).unwrap();
    let (code, v) = json(&[e.to_str().unwrap(), sub.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert_eq!(
        v["warnings"][0]["message"],
        "no logs recognised in this directory (see the skipped files)"
    );
    // With one real log beside them, the scan is clean again.
    let (code, _) = json(&[
        e.to_str().unwrap(),
        sub.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    // Bad flags are clap's exit 2.
    let (code, _, _) = run(&["logs", "--tz", "+25:00", f.to_str().unwrap()], None);
    assert_eq!(code, 2);
}

#[test]
fn stdin_plain_and_gzip() {
    let paste = std::fs::read(td("pasted/incident-1.txt")).unwrap();
    let (code, v) = json_stdin(&["m3=-", "--year", "2021", "--tz", "Z"], Some(&paste));
    assert_eq!(code, 1);
    assert_eq!(events(&v).len(), 3);
    assert_eq!(events(&v)[0]["node"], "m3");
    assert_eq!(events(&v)[0]["file"], "-");
    assert_eq!(events(&v)[2]["end_line"], 13);
    let gz = std::fs::read(td("gz/master-1.log.gz")).unwrap();
    let (_, v) = json_stdin(&["-"], Some(&gz));
    assert_eq!(events(&v).len(), 6);
    assert_eq!(events(&v)[0]["node"], "stdin");
    assert_eq!(v["files"][0]["gzip"], true);
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("etcd-autopsy-logs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn klog_corpus(lines: usize) -> (Vec<u8>, Vec<u64>) {
    let mut out = Vec::new();
    let mut error_lines = Vec::new();
    for i in 0..lines {
        let (m, s) = (i / 60 % 60, i % 60);
        if i % 997 == 0 {
            error_lines.push(i as u64 + 1);
            writeln!(
                out,
                "E1116 20:{m:02}:{s:02}.000001       1 cacher.go:419] cacher (*core.Secret): unexpected ListAndWatch error: failed to list *core.Secret: unable to transform key \"/registry/secrets/ns/s{i}\": invalid padding on input; reinitializing..."
            )
            .unwrap();
        } else {
            writeln!(
                out,
                "I1116 20:{m:02}:{s:02}.000001       1 httplog.go:94] \"HTTP\" verb=\"GET\" URI=\"/api/v1/namespaces/ns/pods/p{i}\" latency=\"1.2ms\" userAgent=\"kubelet/v1.21.14\" resp=200"
            )
            .unwrap();
        }
    }
    (out, error_lines)
}

#[test]
fn large_gzip_stream_matches_the_mapped_file() {
    // ~25 MB: several stream windows and many parallel blocks.
    let (data, error_lines) = klog_corpus(150_000);
    let dir = tempdir("large");
    let plain = dir.join("master-1.log");
    std::fs::write(&plain, &data).unwrap();
    let gzp = dir.join("master-1.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gzp).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&data).unwrap();
    enc.finish().unwrap();
    let (_, a) = json(&[plain.to_str().unwrap(), "--year", "2021"]);
    let (_, b) = json(&[gzp.to_str().unwrap(), "--year", "2021"]);
    let lines = |v: &Value| {
        events(v)
            .iter()
            .map(|e| e["line"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(&a), error_lines);
    assert_eq!(lines(&b), error_lines);
    assert_eq!(a["files"][0]["lines"], 150_000);
    assert_eq!(b["files"][0]["lines"], 150_000);
    assert_eq!(a["aggregates"], b["aggregates"]);
}

#[test]
fn ten_megabyte_line_is_cut_with_a_warning() {
    let dir = tempdir("long");
    let mut data = vec![b'E'; 10 << 20];
    // A needle deep inside the long line, past the classified first MiB.
    data.extend_from_slice(
        b" unable to transform key \"/registry/secrets/a/deep\": invalid padding on input\n",
    );
    data.extend_from_slice(
        b"E1116 20:09:52.635602       1 cacher.go:419] cacher (*core.Secret): unexpected ListAndWatch error: failed to list *core.Secret: unable to transform key \"/registry/secrets/a/b\": invalid padding on input; reinitializing...\n",
    );
    let f = dir.join("master-1.log");
    std::fs::write(&f, &data).unwrap();
    let (code, v) = json(&[f.to_str().unwrap()]);
    assert_eq!(code, 1);
    let keys: Vec<&str> = events(&v)
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["/registry/secrets/a/b"]);
    assert_eq!(events(&v)[0]["line"], 2);
    let w = &v["warnings"][0];
    assert_eq!(w["line"], 1);
    assert!(
        w["message"]
            .as_str()
            .unwrap()
            .contains("only the first 1048576"),
        "{w}"
    );

    // The same through a stream (gzip): the rest of the line is skipped.
    let gzp = dir.join("master-1.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gzp).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&data).unwrap();
    enc.finish().unwrap();
    let (_, v) = json(&[gzp.to_str().unwrap()]);
    assert_eq!(events(&v).len(), 1);
    assert_eq!(events(&v)[0]["line"], 2);
    assert_eq!(v["warnings"][0]["line"], 1);
    assert_eq!(v["files"][0]["lines"], 2);
}

/// Compares each event with its expected fields (`cls` is `class`); extra events fail.
fn check_expected(name: &str, got: &[Value], want: &[Value]) {
    let lines: Vec<String> = got
        .iter()
        .map(|e| format!("{}: {} {}", e["line"], e["key"], e["error"]))
        .collect();
    assert_eq!(got.len(), want.len(), "{name}: events {lines:#?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        for (k, v) in w.as_object().unwrap() {
            let gk = if k == "cls" { "class" } else { k.as_str() };
            assert_eq!(&g[gk], v, "{name}: event {i} field {k}: {g}");
        }
    }
}

/// Issue #12's shapes (scripts/make-logs-shapes.py): every event a careful reader sees, exactly,
/// and nothing else.
#[test]
fn pasted_shapes_give_exactly_the_expected_events() {
    let dir = td("shapes");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/expected.json")).unwrap())
            .unwrap();
    for (name, want) in expected.as_object().unwrap() {
        let path = format!("{dir}/{name}");
        let (code, v) = json(&[&path, "--year", "2024", "--tz", "+00:00"]);
        let want = want.as_array().unwrap();
        // Documentation is no log at all: exit 3, not 0.
        assert_eq!(code, if want.is_empty() { 3 } else { 1 }, "{name}");
        check_expected(name, events(&v), want);
    }
}

#[test]
fn shapes_mixed_with_noise_keep_their_events() {
    let dir = td("shapes");
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/mixed-1.expected.json")).unwrap(),
    )
    .unwrap();
    let (code, v) = json(&[&format!("{dir}/mixed-1.txt"), "--year", "2024", "--tz", "Z"]);
    assert_eq!(code, 1);
    check_expected("mixed-1.txt", events(&v), want.as_array().unwrap());
}

#[test]
fn client_side_events_are_kept_apart_from_apiservers() {
    let (_, v) = json(&[&td("shapes/10-clients.txt"), "--year", "2024", "--tz", "Z"]);
    for a in v["aggregates"].as_array().unwrap() {
        assert_eq!(a["side"], "client", "{a}");
    }
    let describe = &events(&v)[2];
    assert_eq!(describe["component"], "kubelet");
    // x23 over 40m counts 23 in the aggregate.
    let total: u64 = v["aggregates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 1 + 1 + 23 + 1);
}

#[test]
fn bundle_directories_are_read_by_content_and_skips_say_why() {
    let (code, v) = json(&[&td("bundles/k3s"), "--year", "2024", "--tz", "Z"]);
    assert_eq!(code, 1);
    let nodes: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, vec!["node-a", "node-b"]);
    let skipped: Vec<String> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let f = s["file"].as_str().unwrap();
            f.rsplit('/').next().unwrap().to_string()
        })
        .collect();
    assert_eq!(skipped, vec!["README.md", "ps.txt"]);
    assert!(v["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("no log lines"));
    // Nothing recognisable is exit 3, distinct from 0 "scanned, no errors".
    let (code, _, out) = run(&["logs", &td("bundles/nothing")], None);
    assert_eq!(code, 3, "{out}");
}

#[test]
fn node_from_a_path_does_not_depend_on_its_spelling() {
    let dir = tempdir("spelling").join("cp-7");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(td("shapes/01-swallow.md"), dir.join("kube-apiserver.log")).unwrap();
    let abs = dir.join("kube-apiserver.log");
    let node_of = |args: &[&str], cwd: &Path| -> String {
        let out = Command::new(BIN)
            .args(["logs", "--format", "json"])
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["files"][0]["node"].as_str().unwrap().to_string()
    };
    let parent = dir.parent().unwrap();
    assert_eq!(node_of(&[abs.to_str().unwrap()], Path::new("/")), "cp-7");
    assert_eq!(node_of(&["kube-apiserver.log"], &dir), "cp-7");
    assert_eq!(
        node_of(&["./cp-7/../cp-7/kube-apiserver.log"], parent),
        "cp-7"
    );
}
