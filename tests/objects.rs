//! End-to-end: `get -o`, `ls` selection and `export` on testdata/objects (a real etcd 3.4
//! snapshot; objects encoded by scripts/testdata/make_objects.py, an independent Python protobuf
//! encoder, which also wrote the source objects we must print).

mod common;
use base64::Engine as _;
use common::*;
use serde_json::Value;
use std::path::PathBuf;

/// A private copy of the fixture: tests never open the committed files.
fn fixture(tag: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("autopsy-objects-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("in")).unwrap();
    let db = dir.join("in/objects.db");
    std::fs::copy(testdata("objects/objects.db"), &db).unwrap();
    (dir, db)
}

fn expected() -> Vec<Value> {
    let t = std::fs::read_to_string(testdata("objects/objects.expected.json")).unwrap();
    serde_json::from_str::<Value>(&t)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn jsonl(out: &std::process::Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn find<'a>(objs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objs.iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// Field-by-field comparison, naming the first differing path.
fn same(want: &Value, got: &Value, path: &str) {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let g = b
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k}: missing, want {v}"));
                same(v, g, &format!("{path}.{k}"));
            }
            for k in b.keys() {
                assert!(a.contains_key(k), "{path}.{k}: not in the source object");
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: length");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same(x, y, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(want, got, "{path}"),
    }
}

#[test]
fn every_object_decodes_to_the_encoders_source() {
    let (dir, db) = fixture("decode");
    let o = run(&["get", db.to_str().unwrap(), "-o", "jsonl", "--reveal"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let got = jsonl(&o);
    let exp = expected();
    let live: Vec<&Value> = exp
        .iter()
        .filter(|e| e.get("deleted_at").is_none())
        .collect();
    assert_eq!(got.len(), live.len());
    for e in live {
        let w = &e["object"];
        let kind = w["kind"].as_str().unwrap();
        let g = find(&got, kind, w["metadata"]["name"].as_str().unwrap());
        same(w, g, kind);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn selects_like_kubectl() {
    let (dir, db) = fixture("select");
    let db = db.to_str().unwrap();
    let names = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["get", db];
        a.extend_from_slice(args);
        a.extend_from_slice(&["-o", "name"]);
        let o = run(&a);
        assert_eq!(code(&o), 0, "{a:?}: {}", stderr(&o));
        stdout(&o).lines().map(String::from).collect()
    };
    assert_eq!(names(&["secrets", "-n", "shop"]), ["secret/db-password"]);
    assert_eq!(names(&["deployments.apps", "-A"]), ["deployment.apps/web"]);
    assert_eq!(names(&["Deployment"]), ["deployment.apps/web"]);
    assert_eq!(
        names(&["routes.route.openshift.io"]),
        ["route.route.openshift.io/web"]
    );
    assert_eq!(names(&["svc/web"]), ["service/web"]);
    assert_eq!(names(&["widgets"]), ["widget.example.com/blue"]);
    assert_eq!(names(&["/openshift.io/"]), ["route.route.openshift.io/web"]);
    let mut web = names(&["-l", "app=web"]);
    web.sort();
    assert_eq!(
        web,
        [
            "configmap/shop-settings",
            "deployment.apps/web",
            "pod/web-5d9c7b-abcde"
        ]
    );
    assert!(names(&["secrets", "-n", "nope"]).is_empty());
    // ls: a count, keys only, limit.
    let o = run(&["ls", db, "-n", "shop", "--count"]);
    assert_eq!(stdout(&o).trim(), "9");
    let o = run(&["ls", db, "configmaps", "--keys-only"]);
    assert_eq!(stdout(&o), "/registry/configmaps/shop/shop-settings\n");
    let o = run(&["ls", db, "/registry/", "--limit", "2"]);
    let t = stdout(&o);
    assert!(t.ends_with("2 keys\n"), "{t}");
    assert!(!t.contains("MODIFIED"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn past_revisions_and_deleted_objects() {
    let (dir, db) = fixture("history");
    let db = db.to_str().unwrap();
    let exp = expected();
    let cm = exp
        .iter()
        .find(|e| e["key"] == "/registry/configmaps/shop/shop-settings")
        .unwrap();
    let old = &cm["history"][0];
    let r = old["revision"].to_string();
    let o = run(&[
        "get",
        db,
        "cm",
        "-n",
        "shop",
        "shop-settings",
        "--revision",
        &r,
        "-o",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    same(
        &old["object"],
        &serde_json::from_str(&stdout(&o)).unwrap(),
        "old",
    );
    let o = run(&["get", db, "cm", "-n", "shop", "shop-settings", "-o", "json"]);
    same(
        &cm["object"],
        &serde_json::from_str(&stdout(&o)).unwrap(),
        "new",
    );

    let gone = exp
        .iter()
        .find(|e| e["key"] == "/registry/configmaps/shop/gone")
        .unwrap();
    // Deleted is not found (exit 3, as `get` of any missing key), with when and how to see it.
    let o = run(&["get", db, "cm", "-n", "shop", "gone", "-o", "json"]);
    assert_eq!(code(&o), 3);
    let want = format!(
        "deleted at revision {} (last value at revision {})",
        gone["deleted_at"], gone["revision"]
    );
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "a deleted object offers no value");
    let o = run(&["get", db, "/registry/configmaps/shop/gone"]);
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    let o = run(&[
        "get",
        db,
        "cm",
        "-n",
        "shop",
        "gone",
        "--deleted",
        "-o",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    same(
        &gone["object"],
        &serde_json::from_str(&stdout(&o)).unwrap(),
        "gone",
    );
    let o = run(&["ls", db, "--deleted", "--format", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v[0]["deleted_at"], gone["deleted_at"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn yaml_and_list_forms_read_back_as_the_json() {
    let (dir, db) = fixture("yaml");
    let db = db.to_str().unwrap();
    let j = run(&["get", db, "-n", "shop", "-o", "json", "--reveal"]);
    let y = run(&["get", db, "-n", "shop", "-o", "yaml", "--reveal"]);
    assert_eq!(code(&j), 0, "{}", stderr(&j));
    let jv: Value = serde_json::from_str(&stdout(&j)).unwrap();
    let yv: Value = serde_yaml_ng::from_str(&stdout(&y)).unwrap();
    assert_eq!(jv["kind"], "List");
    assert_eq!(jv, yv);
    assert_eq!(jv["items"].as_array().unwrap().len(), 9);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every string of a JSON/YAML output, and its base64 decoding, must be free of the marker.
fn assert_no_value(text: &str, what: &str) {
    assert!(!text.contains("FIXTURE-SECRET-"), "{what}: plaintext");
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/=".contains(c))) {
        if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(word) {
            assert!(
                !String::from_utf8_lossy(&b).contains("FIXTURE-SECRET-"),
                "{what}: base64 of a secret value"
            );
        }
    }
}

#[test]
fn secret_values_only_with_reveal() {
    let (dir, db) = fixture("redact");
    let db = db.to_str().unwrap();
    for fmt in ["json", "yaml", "jsonl", "name", "wide"] {
        let o = run(&["get", db, "secrets", "-A", "-o", fmt]);
        assert_eq!(code(&o), 0);
        assert_no_value(&format!("{}{}", stdout(&o), stderr(&o)), fmt);
    }
    let o = run(&["get", db, "secret/db-password", "-n", "shop", "-o", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let s = v["data"]["password"].as_str().unwrap();
    assert!(s.starts_with("<redacted len:30 sha256:"), "{s}");
    let o = run(&["export", db]);
    assert_no_value(&stdout(&o), "export");
    assert!(stderr(&o).contains("skipped 1 Secret"), "{}", stderr(&o));
    let o = run(&[
        "get",
        db,
        "secret/db-password",
        "-n",
        "shop",
        "-o",
        "json",
        "--reveal",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v["data"]["password"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw, b"FIXTURE-SECRET-objects-hunter2");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn export_round_trips_and_refuses_unsafe_targets() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, db) = fixture("export");
    let dbs = db.to_str().unwrap();
    let exp = expected();
    // The stream: namespaces and CRDs first, each object equal to its source minus server fields.
    let o = run(&["export", dbs, "--deleted"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let docs: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&stdout(&o))
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["metadata"]["name"], "gone");
    let tree = dir.join("out");
    let o = run(&["export", dbs, "--reveal", "--to", tree.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut files = Vec::new();
    let mut stack = vec![tree.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    assert_eq!(files.len(), 13);
    assert!(files[0]
        .strip_prefix(&tree)
        .unwrap()
        .starts_with("0-namespace"));
    for f in &files {
        let v: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let src = exp
            .iter()
            .map(|e| &e["object"])
            .find(|o| o["kind"] == v["kind"] && o["metadata"]["name"] == v["metadata"]["name"])
            .unwrap();
        let mut want = src.clone();
        let m = want["metadata"].as_object_mut().unwrap();
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "managedFields",
            "ownerReferences",
        ] {
            m.remove(k);
        }
        want.as_object_mut().unwrap().remove("status");
        same(&want, &v, f.to_str().unwrap());
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        if v["kind"] == "Secret" {
            assert_eq!(mode, 0o600, "{}", f.display());
        }
    }
    // Not again into the same (now non-empty) directory; --force does.
    let o = run(&["export", dbs, "--to", tree.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    let o = run(&["export", dbs, "--to", tree.to_str().unwrap(), "--force"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // Never next to the input.
    for t in [dir.join("in"), dir.join("in/sub")] {
        let o = run(&["export", dbs, "--to", t.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "{}", t.display());
        assert!(stderr(&o).contains("input"), "{}", stderr(&o));
    }
    assert!(!dir.join("in/sub").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unreadable_objects_are_stubs_named_by_their_key() {
    let dir = std::env::temp_dir().join(format!("autopsy-objects-stub-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("multi.db");
    std::fs::copy(testdata("encrypted/multi.db"), &db).unwrap();
    // No key: every encrypted Secret is still listed, by resource/name, with a warning, exit 1.
    let o = run(&["get", db.to_str().unwrap(), "secrets", "-A", "-o", "name"]);
    assert_eq!(code(&o), 1);
    // Plaintext Secrets decode (`secret/NAME`); encrypted ones are named from their key.
    let lines: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert!(lines.iter().any(|l| l.starts_with("secrets/")), "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("secrets/") || l.starts_with("secret/")),
        "{lines:?}"
    );
    assert!(
        stderr(&o).contains("give --encryption-config"),
        "{}",
        stderr(&o)
    );
    let o = run(&["get", db.to_str().unwrap(), "secrets", "-A", "-o", "jsonl"]);
    for v in jsonl(&o).into_iter().filter(|v| v.get("kind").is_none()) {
        assert!(v["undecoded"]["envelope"].is_string(), "{v}");
        assert!(v["undecoded"]["key"]
            .as_str()
            .unwrap()
            .starts_with("/registry/secrets/"));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The key-mismatch remedy's export command, run as printed (with a temporary directory for
/// `<DIR>`), writes exactly the records only master-3's key reads, with their values, 0600.
#[test]
fn key_mismatch_remedy_command_exports_exactly_the_mirror_records() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("autopsy-objects-remedy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for f in [
        "snapshot.db",
        "master-1.yaml",
        "master-2.yaml",
        "master-3.yaml",
    ] {
        std::fs::copy(testdata(&format!("incident/{f}")), input.join(f)).unwrap();
    }
    let p = |f: &str| input.join(f).display().to_string();
    let configs: Vec<String> = ["master-1", "master-2", "master-3"]
        .iter()
        .map(|n| format!("--encryption-config={n}={}", p(&format!("{n}.yaml"))))
        .collect();
    let snap = format!("--snapshot={}", p("snapshot.db"));
    let mut args = vec!["report", snap.as_str(), "-o", "json"];
    args.extend(configs.iter().map(String::as_str));
    let out = run(&args);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "key-mismatch")
        .expect("key-mismatch finding");
    // Who wrote them, from their own managedFields (the generator names the token controller
    // for the two service-account tokens, `kubectl create` for alert-config).
    let w = &f["writers"];
    assert_eq!(w["nodes"], serde_json::json!(["master-3"]));
    assert_eq!(
        (w["records"].as_u64(), w["decoded"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        w["managers"],
        serde_json::json!([
            {"manager": "kube-controller-manager", "operation": "Update", "records": 2},
            {"manager": "kubectl-create", "operation": "Update", "records": 1}
        ])
    );
    assert!(w["since"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(f["evidence"].as_array().unwrap().iter().any(|e| e["text"]
        .as_str()
        .unwrap()
        .starts_with("master-3 has been writing with its own aescbc key key1")));
    let steps = f["steps"].as_array().expect("steps");
    assert_eq!(steps[0]["action"], "export", "no remedy starts by deleting");
    assert_eq!(steps[1]["action"], "recreate");
    let cmd = steps[0]["commands"][0].as_str().unwrap();
    assert!(cmd.starts_with("etcd-autopsy export "), "{cmd}");
    assert!(
        cmd.contains("--reveal") && cmd.ends_with("--to <DIR>"),
        "{cmd}"
    );
    assert!(
        cmd.contains("master-3.yaml") && !cmd.contains("master-1.yaml"),
        "{cmd}"
    );
    let recreate = steps[1]["commands"].as_array().unwrap();
    assert_eq!(recreate.last().unwrap(), "kubectl apply -R -f <DIR>");

    // The records master-1 and master-2 fail on while master-3 reads them: the generator's
    // `mirror` case in expected.json.
    let exp: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("incident/expected.json")).unwrap())
            .unwrap();
    let mut want: Vec<String> = exp["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["case"] == "mirror")
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    assert_eq!(want.len(), 3);

    // Run it as printed, through a shell, with the binary for `etcd-autopsy`.
    let to = dir.join("restore");
    let line = cmd
        .replacen("etcd-autopsy", &format!("'{}'", bin()), 1)
        .replace("<DIR>", &format!("'{}'", to.display()));
    let done = std::process::Command::new("sh")
        .args(["-c", &line])
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    let mut got = Vec::new();
    let mut stack = vec![to.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
                continue;
            }
            assert_eq!(e.metadata().unwrap().permissions().mode() & 0o777, 0o600);
            let text = std::fs::read_to_string(e.path()).unwrap();
            let key = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# etcd key "))
                .and_then(|l| l.split(',').next())
                .unwrap()
                .to_string();
            let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
            assert_eq!(doc["kind"], "Secret");
            assert!(!text.contains("redacted"), "{key}: values must be there");
            // The value decodes to the generator's marker for this record.
            let marker = exp["records"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["key"] == key.as_str())
                .and_then(|r| r["marker"].as_str())
                .unwrap();
            let values: Vec<Vec<u8>> = doc["data"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| {
                    base64::engine::general_purpose::STANDARD
                        .decode(v.as_str().unwrap())
                        .unwrap()
                })
                .collect();
            assert!(
                values
                    .iter()
                    .any(|v| String::from_utf8_lossy(v).contains(marker)),
                "{key}"
            );
            got.push(key);
        }
    }
    got.sort();
    assert_eq!(got, want);
    // A fingerprint no source holds is an error, not an empty export.
    let bad = run(&[
        "export",
        &p("snapshot.db"),
        &configs[2],
        "--decrypted-with",
        "sha256:0000000000000000",
    ]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("--decrypted-with"));
    let _ = std::fs::remove_dir_all(&dir);
}
