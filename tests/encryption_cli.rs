//! End-to-end: `keys`, `audit` and `get` on the encrypted fixtures. Exit codes, one-line errors
//! naming file and field, and no key material or plaintext marker in any output.

mod common;
use common::{run, testdata};
use std::path::PathBuf;

fn path(rel: &str) -> String {
    testdata(rel).display().to_string()
}

/// Every secret (base64 and raw-hex forms) in the fixtures' configs and tarballs.
fn all_secrets() -> Vec<String> {
    let mut texts = Vec::new();
    for f in [
        "encrypted/cp-1.yaml",
        "encrypted/cp-2.yaml",
        "encrypted/cp-3.yaml",
    ] {
        texts.push(std::fs::read_to_string(testdata(f)).unwrap());
    }
    for f in [
        "incident/master-1.yaml",
        "incident/master-2.yaml",
        "incident/master-3.yaml",
    ] {
        texts.push(std::fs::read_to_string(testdata(f)).unwrap());
    }
    for t in [
        "openshift/static_kuberesources_2026-11-01_120000.tar.gz",
        "openshift/static_kuberesources_stale.tar.gz",
    ] {
        let bytes = std::fs::read(testdata(t)).unwrap();
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path()
                .unwrap()
                .ends_with("encryption-config/encryption-config")
            {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut e, &mut s).unwrap();
                texts.push(s.replace(",", "\n").replace("\"secret\":", "secret: "));
            }
        }
    }
    let mut out = Vec::new();
    for t in texts {
        for line in t.lines() {
            if let Some(v) = line.trim().strip_prefix("secret:") {
                let v = v.trim().trim_matches(|c| c == '"' || c == '}' || c == ']');
                if v.chars().all(|c| c == 'A' || c == '=') {
                    continue; // the all-zero marker: not a key
                }
                use base64::Engine;
                let raw = base64::engine::general_purpose::STANDARD.decode(v).unwrap();
                let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
                out.push(v.to_string());
                out.push(hex);
            }
        }
    }
    assert!(out.len() >= 20, "found only {} secrets", out.len() / 2);
    out
}

fn assert_no_leak(args: &[&str], out: &std::process::Output) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("AUTOPSY-MARKER-"),
        "{args:?} printed a plaintext marker"
    );
    for s in all_secrets() {
        assert!(!text.contains(&s), "{args:?} printed key material");
    }
}

fn multi_sources() -> Vec<String> {
    ["cp-1", "cp-2", "cp-3"]
        .iter()
        .flat_map(|n| {
            [
                "--encryption-config".to_string(),
                path(&format!("encrypted/{n}.yaml")),
            ]
        })
        .collect()
}

fn openshift_sources() -> Vec<String> {
    vec![
        "--static-resources".into(),
        format!(
            "backup={}",
            path("openshift/static_kuberesources_2026-11-01_120000.tar.gz")
        ),
        "--static-resources".into(),
        format!(
            "stale={}",
            path("openshift/static_kuberesources_stale.tar.gz")
        ),
    ]
}

fn incident_sources() -> Vec<String> {
    ["master-1", "master-2", "master-3"]
        .iter()
        .flat_map(|n| {
            [
                "--encryption-config".to_string(),
                path(&format!("incident/{n}.yaml")),
            ]
        })
        .collect()
}

fn args<'a>(head: &[&'a str], sources: &'a [String], tail: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = head.to_vec();
    v.extend(sources.iter().map(String::as_str));
    v.extend_from_slice(tail);
    v
}

#[test]
fn every_command_and_format_keeps_keys_and_plaintext_out() {
    let sets = [
        (
            path("encrypted/multi.db"),
            multi_sources(),
            "/registry/secrets/team-b/wrong-key-valid-padding",
        ),
        (
            path("openshift/snapshot_2026-11-01_120000.db"),
            openshift_sources(),
            "/kubernetes.io/secrets/app-prod/alertmanager-secret-d2jvp",
        ),
        (
            path("incident/snapshot.db"),
            incident_sources(),
            "/registry/secrets/cee-dnceed21/alert-logger-sa-token-dzhkb",
        ),
    ];
    for (snap, sources, key) in &sets {
        for format in ["text", "json"] {
            let a = args(&["keys"], sources, &["--format", format]);
            let out = run(&a);
            assert!(matches!(out.status.code(), Some(0 | 1)), "{a:?}");
            assert_no_leak(&a, &out);

            let a = args(&["audit", snap], sources, &["--format", format]);
            let out = run(&a);
            assert_eq!(out.status.code(), Some(1), "{a:?}");
            assert_no_leak(&a, &out);
            if format == "json" {
                // Deterministic: byte-identical on a second run.
                assert_eq!(run(&a).stdout, out.stdout, "{a:?} not deterministic");
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(v["clean"], false);
            }

            let a = args(&["get", snap, key], sources, &["--meta", "-o", format]);
            let out = run(&a);
            assert!(matches!(out.status.code(), Some(0 | 1)), "{a:?}");
            assert_no_leak(&a, &out);
        }
    }
}

#[test]
fn audit_names_the_incident() {
    let sources = incident_sources();
    let snap = path("incident/snapshot.db");
    let a = args(&["audit", &snap], &sources, &["--format", "json"]);
    let out = run(&a);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unreadable = v["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 33);
    let first = unreadable
        .iter()
        .find(|u| u["key"] == "/registry/secrets/cee-dnceed21/alert-logger-sa-token-dzhkb")
        .unwrap();
    assert_eq!(
        first["failing_nodes"],
        serde_json::json!({"master-3": "invalid padding on input"})
    );
    assert_eq!(
        first["decrypts_with"],
        serde_json::json!(["master-1/aescbc/key1", "master-2/aescbc/key1"])
    );
    assert_eq!(first["provider"], "aescbc");
    assert_eq!(first["key_name"], "key1");
    assert!(first["mod_revision"].as_i64().unwrap() > 0);
    let m3 = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "master-3")
        .unwrap();
    assert_eq!(m3["errors"]["invalid padding on input"], 30);
    let keys = run(&args(&["keys"], &sources, &["--format", "json"]));
    assert_eq!(keys.status.code(), Some(1), "conflicting key1 is a problem");
    let kv: serde_json::Value = serde_json::from_slice(&keys.stdout).unwrap();
    assert_eq!(kv["conflicts"][0]["name"], "key1");
}

#[test]
fn audit_agrees_with_report_when_every_node_reads_everything() {
    // Plaintext snapshot, configs whose identity provider reads it: every node reads every
    // record (clean), but the plaintext secrets of an encrypted resource are a warning, so the
    // verdict is the report's: problems, exit 1.
    let snap = path("snapshots/basic.db");
    let sources = multi_sources();
    let out = run(&args(&["audit", &snap], &sources, &["--format", "json"]));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["clean"], true);
    assert_eq!(v["verdict"], "problems");
    assert!(!v["plaintext_in_encrypted_resources"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn get_reveals_only_when_asked() {
    let sources = multi_sources();
    let snap = path("encrypted/multi.db");
    let key = "/registry/secrets/cee-dnceed21/web-tls-sjpkj";
    let out = run(&args(
        &["get", &snap, key],
        &sources,
        &["--meta", "-o", "json"],
    ));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["object"]["kind"], "Secret");
    assert!(!v["object"]["data"].as_array().unwrap().is_empty());
    assert_eq!(v["decryption"]["nodes"]["cp-1"], "ok");
    assert_eq!(v["decryption"]["nodes"]["cp-3"], "invalid padding on input");
    assert!(v.get("data_base64").is_none());
    let out = run(&args(
        &["get", &snap, key],
        &sources,
        &["--meta", "-o", "json", "--reveal"],
    ));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    use base64::Engine;
    let revealed: String = v["data_base64"]
        .as_object()
        .unwrap()
        .values()
        .map(|b| {
            String::from_utf8_lossy(
                &base64::engine::general_purpose::STANDARD
                    .decode(b.as_str().unwrap())
                    .unwrap(),
            )
            .into_owned()
        })
        .collect();
    assert!(
        revealed.contains("AUTOPSY-MARKER-"),
        "--reveal shows the data"
    );
}

#[test]
fn bad_key_sources_exit_2_with_one_line_naming_file_and_field() {
    let snap = path("encrypted/multi.db");
    let dir = std::env::temp_dir().join(format!("autopsy-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &[u8]| -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let short = write(
        "short.yaml",
        b"apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: k\n        secret: c2VjcmV0c2VjcmV0\n",
    );
    let bad64 = write(
        "bad64.yaml",
        b"apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: k\n        secret: 'not base64!'\n",
    );
    let unknown = write(
        "unknown.yaml",
        b"apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aesctr: {}\n",
    );
    let malformed = write(
        "malformed.json",
        b"{\"kind\": \"EncryptionConfiguration\",\n\"resources\": [}\n",
    );
    let notar = {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o600);
        h.set_cksum();
        b.append_data(&mut h, "static-pod-resources/etcd-pod-2/x", &b"x"[..])
            .unwrap();
        write("nokeys.tar.gz", &b.into_inner().unwrap().finish().unwrap())
    };
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["--encryption-config".into(), short.display().to_string()],
            format!(
                "{}: resources[0].providers[0].aescbc.keys[0].secret: secret is 12 bytes; aescbc takes 16, 24 or 32",
                short.display()
            ),
        ),
        (
            vec!["--encryption-config".into(), bad64.display().to_string()],
            format!(
                "{}: resources[0].providers[0].aescbc.keys[0].secret: not valid base64",
                bad64.display()
            ),
        ),
        (
            vec!["--encryption-config".into(), unknown.display().to_string()],
            format!(
                "{}: resources[0].providers[0].aesctr: unknown provider \"aesctr\" (expected aescbc, aesgcm, secretbox, kms or identity)",
                unknown.display()
            ),
        ),
        (
            vec!["--encryption-config".into(), malformed.display().to_string()],
            format!("{}: malformed JSON at line 2 column 15", malformed.display()),
        ),
        (
            vec!["--static-resources".into(), notar.display().to_string()],
            format!(
                "{}: no static-pod-resources/kube-apiserver-pod-N/secrets/encryption-config/encryption-config in the tarball",
                notar.display()
            ),
        ),
        (
            vec!["--key".into(), "secretbox:k=c2VjcmV0c2VjcmV0".into()],
            "--key #1: secret: secret is 12 bytes; secretbox takes 32".into(),
        ),
        (
            vec!["--key".into(), "rot13:k=c2VjcmV0c2VjcmV0".into()],
            "--key #1: provider: unknown provider \"rot13\" (expected aescbc, aesgcm, secretbox, kms or identity)".into(),
        ),
    ];
    for (src, want) in cases {
        for cmd in [vec!["keys"], vec!["audit", snap.as_str()]] {
            let mut a: Vec<&str> = cmd.clone();
            a.extend(src.iter().map(String::as_str));
            let out = run(&a);
            assert_eq!(out.status.code(), Some(2), "{a:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err.lines().count(), 1, "{a:?}: {err}");
            assert!(
                err.starts_with(&format!("etcd-autopsy: {want}")),
                "{a:?}: {err}"
            );
            assert!(!err.contains("c2VjcmV0c2VjcmV0") && !err.contains("secretsecret"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
