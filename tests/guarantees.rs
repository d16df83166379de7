//! The non-negotiables, end to end: no command in any format (nor an error path) prints a key's
//! bytes (base64 or hex) or a stored value's plaintext marker unless `--reveal` is asked for; and
//! no command modifies an input (bytes and mtime unchanged).

mod common;
use base64::Engine;
use common::*;
use std::io::Read;
use std::path::PathBuf;

/// Every key secret in the testdata configs and tarballs, as base64 and as hex.
fn forbidden_key_strings() -> Vec<String> {
    let re = regex::Regex::new(r#""?secret"?\s*:\s*"?([A-Za-z0-9+/=]{16,})"?"#).unwrap();
    let mut texts = Vec::new();
    for dir in ["encrypted", "incident"] {
        for e in std::fs::read_dir(testdata(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                texts.push(std::fs::read_to_string(p).unwrap());
            }
        }
    }
    for tarball in [
        "static_kuberesources_2026-11-01_120000.tar.gz",
        "static_kuberesources_stale.tar.gz",
    ] {
        let f = std::fs::File::open(testdata(&format!("openshift/{tarball}"))).unwrap();
        let mut s = String::new();
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(f)
            .read_to_end(&mut raw)
            .unwrap();
        s.push_str(&String::from_utf8_lossy(&raw));
        texts.push(s);
    }
    let mut out = Vec::new();
    for t in &texts {
        for c in re.captures_iter(t) {
            let b64 = c[1].to_string();
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&b64) {
                if bytes.iter().all(|&b| b == 0) {
                    continue; // OpenShift's all-zero marker key is public knowledge, not a secret
                }
                out.push(bytes.iter().map(|b| format!("{b:02x}")).collect());
                out.push(b64);
            }
        }
    }
    out.sort();
    out.dedup();
    assert!(out.len() >= 20, "found {} key strings", out.len());
    out
}

/// Plaintext markers the generators put into every stored value.
const MARKERS: [&str; 2] = ["AUTOPSY-MARKER-", "FIXTURE-SECRET-"];

fn p(rel: &str) -> String {
    testdata(rel).to_str().unwrap().to_string()
}

/// Every command, every format, on every kind of input.
fn invocations(out_dir: &std::path::Path) -> Vec<Vec<String>> {
    let enc = [
        "--encryption-config".to_string(),
        p("encrypted/cp-1.yaml"),
        "--encryption-config".into(),
        p("encrypted/cp-2.yaml"),
        "--encryption-config".into(),
        p("encrypted/cp-3.yaml"),
    ];
    let inc = |n: &str| {
        vec![
            "--encryption-config".to_string(),
            p(&format!("incident/{n}.yaml")),
            "--log".into(),
            p(&format!("incident/{n}.log")),
        ]
    };
    let os = [
        "--static-resources".to_string(),
        p("openshift/static_kuberesources_2026-11-01_120000.tar.gz"),
    ];
    let mut v: Vec<Vec<String>> = Vec::new();
    let s = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    for snap in [
        p("snapshots/basic.db"),
        p("encrypted/multi.db"),
        p("openshift/snapshot_2026-11-01_120000.db"),
    ] {
        for w in ["json", "table", "simple"] {
            v.push(s(&["status", &snap, "-w", w]));
        }
        for f in ["text", "json"] {
            v.push(s(&["check", &snap, "--format", f]));
            v.push(s(&["ls", &snap, "--format", f]));
            v.push(s(&["ls", &snap, "--history", "--format", f]));
            v.push(s(&["stats", &snap, "--format", f]));
        }
    }
    for f in ["text", "json"] {
        let mut a = s(&["audit", &p("encrypted/multi.db"), "--format", f]);
        a.extend(enc.iter().cloned());
        v.push(a);
        let mut a = s(&["keys", "--format", f]);
        a.extend(enc.iter().cloned());
        a.extend(os.iter().cloned());
        v.push(a);
        let mut a = s(&[
            "get",
            &p("encrypted/multi.db"),
            "/registry/secrets/default/api-tls-rvclg",
            "--format",
            f,
        ]);
        a.extend(enc.iter().cloned());
        v.push(a);
        v.push(s(&[
            "get",
            &p("snapshots/basic.db"),
            "/registry/secrets/default/default-token-zw4cq",
            "--format",
            f,
        ]));
        v.push(s(&[
            "logs",
            &p("incident/master-3.log"),
            &p("incident/master-1.log"),
            "--format",
            f,
        ]));
        let mut a = s(&[
            "validate",
            &p("openshift/snapshot_2026-11-01_120000.db"),
            "--format",
            f,
            "--metrics",
        ]);
        a.push(
            out_dir
                .join(format!("m-{f}.prom"))
                .to_str()
                .unwrap()
                .to_string(),
        );
        a.extend(os.iter().cloned());
        v.push(a);
    }
    for f in ["text", "md", "json", "html"] {
        v.push(s(&["demo", "--format", f]));
        let mut a = s(&[
            "report",
            "--snapshot",
            &p("incident/snapshot.db"),
            "--format",
            f,
        ]);
        for n in ["master-1", "master-2", "master-3"] {
            a.extend(inc(n));
        }
        v.push(a.clone());
        a.push("-o".into());
        a.push(
            out_dir
                .join(format!("report.{f}"))
                .to_str()
                .unwrap()
                .to_string(),
        );
        v.push(a);
        let mut a = s(&[
            "report",
            "--snapshot",
            &p("encrypted/multi.db"),
            "--format",
            f,
        ]);
        a.extend(enc.iter().cloned());
        v.push(a);
    }
    // Error paths: a real key under the wrong provider (wrong length), a config given as a key.
    let key16 = "MDEyMzQ1Njc4OWFiY2RlZg=="; // not a fixture key; checked below like one
    v.push(s(&["keys", "--key", &format!("secretbox:k={key16}")]));
    v.push(s(&[
        "audit",
        &p("encrypted/multi.db"),
        "--static-resources",
        &p("encrypted/cp-1.yaml"),
    ]));
    v
}

fn all_inputs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["snapshots", "encrypted", "incident", "openshift"] {
        for e in std::fs::read_dir(testdata(dir)).unwrap() {
            out.push(e.unwrap().path());
        }
    }
    out.sort();
    out
}

fn fingerprint(p: &PathBuf) -> (Vec<u8>, std::time::SystemTime) {
    let meta = std::fs::metadata(p).unwrap();
    (std::fs::read(p).unwrap(), meta.modified().unwrap())
}

#[test]
fn no_secret_reaches_any_output_and_inputs_stay_untouched() {
    let mut forbidden = forbidden_key_strings();
    forbidden.push("MDEyMzQ1Njc4OWFiY2RlZg==".into());
    forbidden.push("30313233343536373839616263646566".into());
    let before: Vec<_> = all_inputs()
        .iter()
        .map(|p| (p.clone(), fingerprint(p)))
        .collect();
    let dir = std::env::temp_dir().join(format!("autopsy-guarantees-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let runs = invocations(&dir);
    for args in &runs {
        let o = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            matches!(code(&o), 0..=2),
            "{args:?} exited {}: {}",
            code(&o),
            stderr(&o)
        );
        let text = format!("{}\n{}", stdout(&o), stderr(&o));
        for f in &forbidden {
            assert!(
                !text.contains(f.as_str()),
                "{args:?} printed key material {f}"
            );
        }
        for m in MARKERS {
            assert!(
                !text.contains(m),
                "{args:?} printed a plaintext value ({m}…)"
            );
        }
    }
    for e in std::fs::read_dir(&dir).unwrap() {
        let text = String::from_utf8_lossy(&std::fs::read(e.unwrap().path()).unwrap()).into_owned();
        for f in forbidden.iter().map(String::as_str).chain(MARKERS) {
            assert!(!text.contains(f), "written file contains {f}");
        }
    }
    for (path, (bytes, mtime)) in before {
        let (now_bytes, now_mtime) = fingerprint(&path);
        assert!(now_bytes == bytes, "{} changed", path.display());
        assert_eq!(now_mtime, mtime, "{} mtime changed", path.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(runs.len() > 60);
}

#[test]
fn reveal_is_the_only_way_to_a_value() {
    let key = "/registry/secrets/default/api-tls-rvclg";
    let snap = p("encrypted/multi.db");
    let cfg = p("encrypted/cp-1.yaml");
    let o = run(&[
        "get",
        &snap,
        key,
        "--encryption-config",
        &cfg,
        "--format",
        "json",
    ]);
    assert!(!stdout(&o).contains("AUTOPSY-MARKER-"), "{}", stdout(&o));
    let o = run(&[
        "get",
        &snap,
        key,
        "--encryption-config",
        &cfg,
        "--format",
        "json",
        "--reveal",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let decoded_has_marker = out.contains("AUTOPSY-MARKER-")
        || regex::Regex::new(r#""[A-Za-z0-9+/=]{40,}""#)
            .unwrap()
            .find_iter(&out)
            .any(|m| {
                base64::engine::general_purpose::STANDARD
                    .decode(m.as_str().trim_matches('"'))
                    .is_ok_and(|b| String::from_utf8_lossy(&b).contains("AUTOPSY-MARKER-"))
            });
    assert!(decoded_has_marker, "--reveal shows the value: {out}");
}
