//! The per-node simulation against the encrypted fixtures: real etcd snapshots whose values were
//! made by an independent Python implementation, with every node's exact expected outcome in
//! `expected.json` (see testdata/README.md, "Encrypted fixtures").

use etcd_autopsy::decrypt::recovered::judge_with_recovered;
use etcd_autopsy::decrypt::{Engine, NodeOutcome};
use etcd_autopsy::etcd::{Records, Snapshot};
use etcd_autopsy::keyring::{Keyring, KeyringBuilder};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn dir(d: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(d)
}

fn expected(d: &str) -> Value {
    let text = std::fs::read_to_string(dir(d).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Loads the keyring as expected.json's `nodes` says: NODE=file, tarballs by extension.
fn keyring(d: &str, exp: &Value) -> Keyring {
    let mut b = KeyringBuilder::new();
    for (node, file) in exp["nodes"].as_object().unwrap() {
        // Configs kept in the snapshot's own Secrets are recovered from it, not read from a file.
        if file.as_str().unwrap().starts_with("snapshot-secret:") {
            continue;
        }
        let path = dir(d).join(file.as_str().unwrap());
        let spec = format!("{node}={}", path.display());
        if spec.ends_with(".tar.gz") {
            b.static_resources(&spec).unwrap();
        } else {
            b.encryption_config(&spec).unwrap();
        }
    }
    b.build()
}

/// Our outcome in expected.json's vocabulary: "ok", "kms-required" or the exact error.
fn word(o: &NodeOutcome<'_>) -> String {
    match o {
        NodeOutcome::Plaintext | NodeOutcome::Decrypted { .. } | NodeOutcome::Garbage { .. } => {
            "ok".into()
        }
        NodeOutcome::NeedsKms { .. } => "kms-required".into(),
        NodeOutcome::Failed { error } => error.to_string(),
        NodeOutcome::Panics { error } => format!("panic: {error}"),
        NodeOutcome::NotServed => "not-served".into(),
    }
}

fn check_dataset(d: &str, snapshot: &str) {
    let exp = expected(d);
    let given = keyring(d, &exp);
    let snap = Snapshot::open(&dir(d).join(snapshot)).unwrap();
    let records = Records::read(&snap);
    assert!(records.complete());
    // With the configs recovered from the snapshot (rule 4), as `report` judges it.
    let (engine, recovered, recovery) = judge_with_recovered(&given, Engine::new(&given), &records);
    let kr = recovered.unwrap_or(given);
    // The operators' key Secrets: each recovered as expected.json lists it, and a candidate of
    // its apiserver under its generation, with the Secret among the key's origins.
    let want_secrets = exp["key_secrets"].as_object().cloned().unwrap_or_default();
    let got: Vec<(String, String, i64, String, String)> = recovery
        .keys
        .iter()
        .map(|k| {
            (
                k.secret_name.clone(),
                k.generation.clone(),
                k.revision,
                k.apiserver.name().to_string(),
                k.fingerprint.clone(),
            )
        })
        .collect();
    let want: Vec<(String, String, i64, String, String)> = want_secrets
        .iter()
        .map(|(name, w)| {
            (
                name.clone(),
                w["generation"].as_str().unwrap().to_string(),
                w["revision"].as_i64().unwrap(),
                w["apiserver"].as_str().unwrap().to_string(),
                w["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want, "{d}: key secrets");
    for (name, gen, rev, node, fp) in &want {
        let origin = format!("snapshot secret openshift-config-managed/{name} at revision {rev}");
        assert!(
            kr.keys.iter().any(|k| k.node == *node
                && k.name == *gen
                && k.fingerprint == *fp
                && k.origins.iter().any(|o| o.to_string() == origin)),
            "{d}: no candidate {node}/{gen} {fp} from {origin}"
        );
    }
    let node_names: Vec<&str> = engine.nodes.iter().map(|n| n.node.as_str()).collect();
    assert_eq!(node_names.len(), exp["nodes"].as_object().unwrap().len());

    // Every configured key is listed with the fingerprint expected.json gives it.
    let fps: Vec<&str> = kr.keys.iter().map(|k| k.fingerprint.as_str()).collect();
    for (id, k) in exp["keys"].as_object().unwrap() {
        let fp = k["fingerprint"].as_str().unwrap();
        let configured = k["configured"].as_array().is_some_and(|c| !c.is_empty());
        let marker =
            k["note"].as_str().unwrap_or("").contains("fake") || fp == "sha256:374708fff7719dd5";
        if configured && !marker {
            assert!(fps.contains(&fp), "{d}: key {id} {fp} not among {fps:?}");
        }
    }

    let want: BTreeMap<&str, &Value> = exp["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r))
        .collect();
    let live: Vec<_> = records.live().collect();
    assert_eq!(live.len(), want.len(), "{d}: live record count");
    let pairs: Vec<(&[u8], &[u8])> = live.iter().map(|r| (r.kv.key, r.kv.value)).collect();
    let verdicts = engine.assess_batch(&pairs);
    let mut mismatches = Vec::new();
    for (r, v) in live.iter().zip(&verdicts) {
        let key = std::str::from_utf8(r.kv.key).unwrap();
        let e = want[key];
        for (i, node) in node_names.iter().enumerate() {
            let got = word(&v.nodes[i]);
            let exp_node = e["nodes"][*node].as_str().unwrap();
            if got != exp_node {
                mismatches.push(format!("{key} on {node}: got {got:?}, want {exp_node:?}"));
            }
            let garbage = e["garbage_on"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g.as_str() == Some(node));
            if garbage != matches!(v.nodes[i], NodeOutcome::Garbage { .. }) {
                mismatches.push(format!("{key} on {node}: garbage flag"));
            }
        }
        // decrypts_with: exactly the candidates holding the key that encrypted it (none for the
        // aesgcm value copied under another etcd key: the AAD no longer matches).
        if let Some(fp) = e["key_fingerprint"].as_str() {
            if e["case"] == "aesgcm-copied-ciphertext" {
                if !v.decrypts_with.is_empty() {
                    mismatches.push(format!("{key}: copied aesgcm value decrypts"));
                }
            } else if e["provider"] != "kms" {
                let with: Vec<&str> = v
                    .decrypts_with
                    .iter()
                    .map(|&i| kr.keys[i].fingerprint.as_str())
                    .collect();
                let holders = kr.keys.iter().filter(|k| k.fingerprint == fp).count();
                if with.len() != holders || with.iter().any(|w| *w != fp) {
                    mismatches.push(format!(
                        "{key}: decrypts_with {with:?}, want the {holders} holders of {fp}"
                    ));
                }
            }
        }
        if let Some(name) = e["key_name"].as_str() {
            if v.key_name.as_deref() != Some(name) {
                mismatches.push(format!("{key}: key name {:?}, want {name}", v.key_name));
            }
        }
    }
    assert!(mismatches.is_empty(), "{d}:\n{}", mismatches.join("\n"));

    // Older revisions too.
    let hist: Vec<&Value> = exp["history"].as_array().unwrap().iter().collect();
    for h in hist {
        let key = h["key"].as_str().unwrap();
        let rev = h["mod_revision"].as_i64().unwrap();
        let r = records
            .of_key(key.as_bytes())
            .iter()
            .map(|&i| records.get(i))
            .find(|r| r.kv.mod_revision == rev && !r.rev.tombstone)
            .unwrap_or_else(|| panic!("{key}@{rev} missing"));
        let v = engine.assess(r.kv.key, r.kv.value);
        for (i, node) in node_names.iter().enumerate() {
            assert_eq!(
                word(&v.nodes[i]),
                h["nodes"][*node].as_str().unwrap(),
                "{key}@{rev} on {node}"
            );
        }
    }
}

#[test]
fn multi_node_every_provider() {
    check_dataset("encrypted", "multi.db");
}

#[test]
fn openshift_backup_pair() {
    check_dataset("openshift", "snapshot_2026-11-01_120000.db");
}

#[test]
fn openshift_managed_configs_recovered_from_the_snapshot() {
    check_dataset("openshift-managed", "snapshot_2026-11-20_120000.db");
}

/// A week later: the configs and keys recovered from that snapshot's own Secrets (a rotated
/// oauth-apiserver, a pruned openshift-apiserver generation) give every outcome the Python model
/// computed from them.
#[test]
fn openshift_managed_after_a_component_key_rotation() {
    check_dataset("openshift-managed-after", "snapshot_2026-11-27_120000.db");
}

#[test]
fn incident_one_wrong_node() {
    check_dataset("incident", "snapshot.db");
}

#[test]
fn openshift_tarball_keys_and_markers() {
    let exp = expected("openshift");
    let kr = keyring("openshift", &exp);
    let view: Vec<(String, String, String)> = kr
        .keys
        .iter()
        .map(|k| (k.id.clone(), k.fingerprint.clone(), k.role.to_string()))
        .collect();
    assert_eq!(
        view,
        [
            (
                "backup/aescbc/2".to_string(),
                "sha256:b93149d765ea0cc5".to_string(),
                "write".to_string()
            ),
            (
                "backup/aescbc/1".to_string(),
                "sha256:dfa83f15396b9b0f".to_string(),
                "read".to_string()
            ),
            (
                "stale/aescbc/2".to_string(),
                "sha256:b93149d765ea0cc5".to_string(),
                "write".to_string()
            ),
        ]
    );
    assert!(kr
        .markers
        .iter()
        .all(|m| m.name == "1" && m.provider.name() == "aesgcm"));
    assert_eq!(kr.markers.len(), 2);
    let revs: Vec<String> = kr.configs.iter().map(|c| c.origin.to_string()).collect();
    assert!(revs[0].ends_with("revision 7"), "{revs:?}");
    assert!(revs[1].ends_with("revision 9"), "{revs:?}");
}

/// `audit` over each dataset: per-node counts and exact error tallies equal expected.json's
/// `summary` (its "ok" includes garbage), and where each node's LIST stops equals
/// `list_first_failure`.
#[test]
fn audit_summaries_and_list_failures() {
    use etcd_autopsy::decrypt::audit::{audit, Input};
    for (d, snapshot) in [
        ("encrypted", "multi.db"),
        ("openshift", "snapshot_2026-11-01_120000.db"),
        ("incident", "snapshot.db"),
    ] {
        let exp = expected(d);
        let kr = keyring(d, &exp);
        let engine = Engine::new(&kr);
        let snap = Snapshot::open(&dir(d).join(snapshot)).unwrap();
        let records = Records::read(&snap);
        let inputs: Vec<Input<'_>> = Input::live(&records);
        let a = audit(&engine, &kr, &inputs);
        for n in &a.nodes {
            let s = &exp["summary"][&n.node];
            assert_eq!(
                n.readable + n.garbage,
                s["ok"].as_u64().unwrap() as usize,
                "{d} {}",
                n.node
            );
            assert_eq!(n.garbage, s["ok_but_garbage"].as_u64().unwrap() as usize);
            assert_eq!(n.kms_required, s["kms_required"].as_u64().unwrap() as usize);
            let mut errors = n.errors.clone();
            errors.retain(|e, _| !e.starts_with("[derived]"));
            let want: BTreeMap<String, usize> = s["errors"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(e, c)| (e.clone(), c.as_u64().unwrap() as usize))
                .collect();
            assert_eq!(errors, want, "{d} {}", n.node);
        }
        let mut got: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
        for f in &a.first_failures {
            got.insert(
                (f.node.clone(), f.resource.clone()),
                (f.key.clone(), f.error.clone()),
            );
        }
        let mut want = BTreeMap::new();
        for (node, per) in exp["list_first_failure"].as_object().unwrap() {
            for (res, f) in per.as_object().unwrap() {
                want.insert(
                    (node.clone(), res.clone()),
                    (
                        f["key"].as_str().unwrap().to_string(),
                        f["error"].as_str().unwrap().to_string(),
                    ),
                );
            }
        }
        assert_eq!(got, want, "{d}: list_first_failure");
        assert_eq!(a.records.live, exp["records"].as_array().unwrap().len());
        assert!(!a.clean());
    }
}
