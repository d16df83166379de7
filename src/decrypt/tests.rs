//! Engine and per-node simulation tests over the Python-made vectors in `vectors.rs`.

use super::vectors::*;
use super::*;
use crate::keyring::{config, KeyringBuilder, Origin};

// base64 of the vector keys (python3 base64.b64encode).
const B_KEY1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const B_KEY1_16: &str = "AAECAwQFBgcICQoLDA0ODw==";
const B_OTHER: &str = "RtGufiZjv4zY7f8ejvACN6F2LTKDo0shJ5bEb1ESYAw=";
const B_BAD_PKCS7: &str = "z3IlC/GYbBeqWNKdZ4CWjHzLuEVmp31mWPxxp0Q8uUc=";
const B_BAD_PADDING: &str = "E68gQHXJ0+M56KDvf2sNdHbr/G2NtDl1dfUnXQudQug=";
const B_PADDING_PASSES: &str = "NaCBXY2wXjPdoorTw3dLe1wykU+4ng5E2fQ6sKCodRI=";
const FP_KEY1: &str = "sha256:630dcd2966c43366";

const SECRET_KEY: &[u8] = b"/registry/secrets/default/s1";

/// A config from `resources: [...]` YAML lines (the part after `resources:`).
fn cfg(body: &str) -> config::EncryptionConfig {
    let text = format!(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n{body}"
    );
    config::parse(text.as_bytes(), "t.yaml").unwrap()
}

/// `[aescbc: name=secret, …] + identity` for secrets.
fn cbc_cfg(keys: &[(&str, &str)]) -> config::EncryptionConfig {
    let list: Vec<String> = keys
        .iter()
        .map(|(n, s)| format!("{{name: '{n}', secret: '{s}'}}"))
        .collect();
    cfg(&format!(
        "- resources: [secrets]\n  providers:\n  - aescbc: {{keys: [{}]}}\n  - identity: {{}}\n",
        list.join(", ")
    ))
}

fn engine(nodes: Vec<(&str, config::EncryptionConfig)>, keys: &[&str]) -> (Keyring, Engine) {
    let mut b = KeyringBuilder::new();
    for (n, c) in nodes {
        b.add_config(
            n,
            Origin::EncryptionConfig {
                path: format!("{n}.yaml"),
            },
            c,
        )
        .unwrap();
    }
    for k in keys {
        b.key_arg(k).unwrap();
    }
    let k = b.build();
    let e = Engine::new(&k);
    (k, e)
}

fn errors(v: &RecordVerdict) -> Vec<Option<String>> {
    v.nodes.iter().map(|o| o.error_line()).collect()
}

#[test]
fn incident_1_one_node_with_a_different_key() {
    let (k, e) = engine(
        vec![
            ("master-1", cbc_cfg(&[("key1", B_KEY1)])),
            ("master-2", cbc_cfg(&[("key1", B_KEY1)])),
            ("master-3", cbc_cfg(&[("key1", B_OTHER)])),
        ],
        &[],
    );
    let v = e.assess(SECRET_KEY, CBC_KEY1);
    assert_eq!(v.provider, Some(Provider::Aescbc));
    assert_eq!(v.key_name.as_deref(), Some("key1"));
    assert_eq!(
        v.nodes[0],
        NodeOutcome::Decrypted {
            provider: Provider::Aescbc,
            key_name: "key1",
            fingerprint: FP_KEY1
        }
    );
    assert!(v.nodes[1].is_readable());
    assert_eq!(
        v.nodes[2],
        NodeOutcome::Failed {
            error: "invalid PKCS7 data (empty or not padded)".into()
        }
    );
    let ids: Vec<_> = v
        .decrypts_with
        .iter()
        .map(|&i| k.keys[i].id.as_str())
        .collect();
    assert_eq!(ids, ["master-1/aescbc/key1", "master-2/aescbc/key1"]);
}

#[test]
fn each_cbc_error_and_chance_padding() {
    let (_, e) = engine(
        vec![
            ("pad", cbc_cfg(&[("key1", B_BAD_PADDING)])),
            ("pkcs7", cbc_cfg(&[("key1", B_BAD_PKCS7)])),
            ("chance", cbc_cfg(&[("key1", B_PADDING_PASSES)])),
        ],
        &[],
    );
    let v = e.assess(SECRET_KEY, CBC_KEY1);
    assert_eq!(
        errors(&v)[..2],
        [
            Some("invalid padding on input".to_string()),
            Some("invalid PKCS7 data (empty or not padded)".to_string())
        ]
    );
    assert!(matches!(v.nodes[2], NodeOutcome::Garbage { .. }));
    assert!(!v.nodes[2].is_readable());
    assert!(v.decrypts_with.is_empty());

    let mut short = b"k8s:enc:aescbc:v1:key1:".to_vec();
    short.extend_from_slice(&[0u8; 15]);
    let v = e.assess(SECRET_KEY, &short);
    assert_eq!(
        v.nodes[0].error_line().unwrap(),
        "the stored data was shorter than the required size"
    );
    short.push(0);
    let v = e.assess(SECRET_KEY, &short);
    assert_eq!(
        v.nodes[0],
        NodeOutcome::Panics {
            error: "runtime error: index out of range [-1]"
        }
    );
    short.push(0);
    let v = e.assess(SECRET_KEY, &short);
    assert_eq!(
        v.nodes[0].error_line().unwrap(),
        "the stored data is not a multiple of the block size"
    );
}

#[test]
fn chance_padding_stops_the_provider_loop() {
    // The apiserver takes the first success, even garbage: the right key later never runs.
    let c = cfg(&format!(
        "- resources: [secrets]\n  providers:\n  - aescbc: {{keys: [{{name: key1, secret: '{B_PADDING_PASSES}'}}]}}\n  - aescbc: {{keys: [{{name: key1, secret: '{B_KEY1}'}}]}}\n"
    ));
    let (_, e) = engine(vec![("n", c)], &[]);
    let v = e.assess(SECRET_KEY, CBC_KEY1);
    assert!(matches!(v.nodes[0], NodeOutcome::Garbage { .. }));
    assert_eq!(v.decrypts_with.len(), 1);
}

#[test]
fn rotation_and_key_name_matching() {
    // key2 first (new write key), key1 kept for reads: reads key1 records.
    let rotated = cbc_cfg(&[("key2", B_OTHER), ("key1", B_KEY1)]);
    // key1 rotated away.
    let gone = cbc_cfg(&[("key2", B_OTHER)]);
    // Two providers, one per key, the first without key1.
    let two = cfg(&format!(
        "- resources: [secrets]\n  providers:\n  - aescbc: {{keys: [{{name: key2, secret: '{B_OTHER}'}}]}}\n  - aescbc: {{keys: [{{name: key1, secret: '{B_KEY1}'}}]}}\n"
    ));
    let (_, e) = engine(
        vec![("rotated", rotated), ("gone", gone), ("two", two)],
        &[],
    );
    let v = e.assess(SECRET_KEY, CBC_KEY1);
    assert!(v.nodes[0].is_readable());
    assert_eq!(
        v.nodes[1].error_line().unwrap(),
        "no matching key was found for the provided AES transformer"
    );
    assert!(v.nodes[2].is_readable());
}

#[test]
fn aggregation_collapses_repeats_and_brackets_distinct_errors() {
    let p = |name: &str, s: &str| {
        format!("  - aescbc: {{keys: [{{name: '{name}', secret: '{s}'}}]}}\n")
    };
    let c = |ps: &[String]| {
        cfg(&format!(
            "- resources: [secrets]\n  providers:\n{}",
            ps.concat()
        ))
    };
    let (_, e) = engine(
        vec![
            (
                "same",
                c(&[p("key1", B_BAD_PADDING), p("key1", B_BAD_PADDING)]),
            ),
            (
                "distinct",
                c(&[p("key1", B_BAD_PADDING), p("key1", B_BAD_PKCS7)]),
            ),
            ("nokey", c(&[p("key9", B_KEY1), p("key1", B_BAD_PADDING)])),
            ("nokey2", c(&[p("key9", B_KEY1), p("key8", B_KEY1)])),
        ],
        &[],
    );
    let v = e.assess(SECRET_KEY, CBC_KEY1);
    assert_eq!(
        errors(&v),
        [
            Some("invalid padding on input".to_string()),
            Some("[invalid padding on input, invalid PKCS7 data (empty or not padded)]".to_string()),
            Some("[no matching key was found for the provided AES transformer, invalid padding on input]".to_string()),
            Some("no matching key was found for the provided AES transformer".to_string()),
        ]
    );
}

#[test]
fn no_prefix_uncovered_and_plaintext() {
    let sb_only = cfg(&format!(
        "- resources: [secrets]\n  providers:\n  - secretbox: {{keys: [{{name: sb, secret: '{B_KEY1}'}}]}}\n  - identity: {{}}\n"
    ));
    let cbc_only = cfg(&format!(
        "- resources: [secrets]\n  providers:\n  - aescbc: {{keys: [{{name: key1, secret: '{B_KEY1}'}}]}}\n"
    ));
    let cm_only = cfg(&format!(
        "- resources: [configmaps]\n  providers:\n  - aescbc: {{keys: [{{name: key1, secret: '{B_KEY1}'}}]}}\n"
    ));
    let (_, e) = engine(
        vec![("sb", sb_only), ("cbc", cbc_only), ("cm", cm_only)],
        &[],
    );
    let v = e.assess(SECRET_KEY, CBC_KEY1);
    assert_eq!(
        errors(&v),
        [
            Some("no matching prefix found".to_string()),
            None,
            Some("identity transformer tried to read encrypted data".to_string()),
        ]
    );
    // Plaintext: identity reads it; a config without identity cannot.
    let v = e.assess(SECRET_KEY, PLAIN);
    assert_eq!(v.storage, Storage::Protobuf);
    assert_eq!(
        v.nodes,
        [
            NodeOutcome::Plaintext,
            NodeOutcome::Failed {
                error: "no matching prefix found".into()
            },
            NodeOutcome::Plaintext
        ]
    );
    assert_eq!(
        e.nodes[1].write_provider(e.resource_ids(SECRET_KEY)),
        Some(Provider::Aescbc)
    );
    assert_eq!(e.nodes[2].write_provider(e.resource_ids(SECRET_KEY)), None);
}

#[test]
fn wildcards_resolve_exact_then_group_then_all() {
    let good = format!("{{keys: [{{name: key1, secret: '{B_KEY1}'}}]}}");
    let bad = format!("{{keys: [{{name: key1, secret: '{B_BAD_PADDING}'}}]}}");
    let core = cfg(&format!(
        "- resources: [secrets]\n  providers: [{{aescbc: {good}}}]\n- resources: ['*.']\n  providers: [{{aescbc: {bad}}}]\n"
    ));
    let all = cfg(&format!(
        "- resources: ['*.route.openshift.io']\n  providers: [{{aescbc: {good}}}]\n- resources: ['*.*']\n  providers: [{{aescbc: {bad}}}]\n"
    ));
    let (_, e) = engine(vec![("core", core), ("all", all)], &[]);
    let at = |key: &[u8]| errors(&e.assess(key, CBC_KEY1));
    assert_eq!(
        at(SECRET_KEY),
        [None, Some("invalid padding on input".to_string())]
    );
    assert_eq!(
        at(b"/registry/configmaps/ns/c"),
        [
            Some("invalid padding on input".to_string()),
            Some("invalid padding on input".to_string())
        ]
    );
    assert_eq!(
        at(b"/openshift.io/routes/ns/r"),
        [
            Some("identity transformer tried to read encrypted data".to_string()),
            None
        ]
    );
    assert!(e.nodes.iter().all(|n| n.config_error.is_none()));
    // A specific resource after a wildcard: the apiserver refuses the config.
    let masked = cfg(&format!(
        "- resources: ['*.']\n  providers: [{{aescbc: {good}}}]\n- resources: [secrets]\n  providers: [{{aescbc: {good}}}]\n"
    ));
    let (_, e) = engine(vec![("m", masked)], &[]);
    assert_eq!(
        e.nodes[0].config_error.as_deref(),
        Some("resource \"secrets\" is masked by earlier rule \"*.\"")
    );
}

#[test]
fn names_with_colons_are_matched_not_split() {
    let colon = cbc_cfg(&[("a:b", B_KEY1)]);
    let short = cbc_cfg(&[("a", B_KEY1)]);
    let (k, e) = engine(vec![("colon", colon), ("short", short)], &[]);
    let v = e.assess(SECRET_KEY, CBC_COLON);
    assert_eq!(v.key_name.as_deref(), Some("a:b"));
    assert!(v.nodes[0].is_readable());
    // "a:" matches too, but then the payload starts at "b:" and is misaligned.
    assert_eq!(
        v.nodes[1].error_line().unwrap(),
        "the stored data is not a multiple of the block size"
    );
    let ids: Vec<_> = v
        .decrypts_with
        .iter()
        .map(|&i| k.keys[i].id.as_str())
        .collect();
    // The same key under the name "a" does decrypt the payload after "a:b:".
    assert_eq!(ids, ["colon/aescbc/a:b", "short/aescbc/a"]);
}

#[test]
fn cli_keys_count_for_decrypts_with_whatever_their_name() {
    let (k, e) = engine(
        vec![("m3", cbc_cfg(&[("key1", B_OTHER)]))],
        &[
            &format!("renamed={B_KEY1}"),
            &format!("key1={B_BAD_PADDING}"),
        ],
    );
    let v = e.assess(SECRET_KEY, CBC_KEY1);
    let ids: Vec<_> = v
        .decrypts_with
        .iter()
        .map(|&i| k.keys[i].id.as_str())
        .collect();
    assert_eq!(ids, ["cli/aescbc/renamed"]);
    assert_eq!(v.key_name.as_deref(), Some("key1"));
}

#[test]
fn aesgcm_binds_the_etcd_key() {
    let c = cfg(&format!(
        "- resources: [secrets]\n  providers:\n  - aesgcm: {{keys: [{{name: gk, secret: '{B_KEY1_16}'}}]}}\n"
    ));
    let (_, e) = engine(vec![("n", c)], &[]);
    let v = e.assess(GCM_ETCD_KEY, GCM_KEY1_128);
    assert!(v.nodes[0].is_readable());
    assert_eq!(v.decrypts_with, [0]);
    let v = e.assess(b"/registry/secrets/default/copied", GCM_KEY1_128);
    assert_eq!(
        v.nodes[0].error_line().unwrap(),
        "cipher: message authentication failed"
    );
    assert!(v.decrypts_with.is_empty());
}

#[test]
fn openshift_zero_key_markers_are_tried_but_never_candidates() {
    let c = cfg(
        "- resources: [secrets]\n  providers:\n  - identity: {}\n  - aesgcm: {keys: [{name: gk, secret: 'AAAAAAAAAAAAAAAAAAAAAA=='}]}\n",
    );
    let (k, e) = engine(vec![("n", c)], &[]);
    assert!(k.keys.is_empty());
    assert_eq!(k.markers.len(), 1);
    let v = e.assess(GCM_ETCD_KEY, GCM_KEY1_128);
    assert_eq!(
        v.nodes[0].error_line().unwrap(),
        "cipher: message authentication failed"
    );
}

#[test]
fn secretbox_errors() {
    let c = |name: &str, s: &str| {
        cfg(&format!(
            "- resources: [secrets]\n  providers:\n  - secretbox: {{keys: [{{name: {name}, secret: '{s}'}}]}}\n"
        ))
    };
    let (_, e) = engine(
        vec![
            ("ok", c("sb", B_KEY1)),
            ("wrong", c("sb", B_OTHER)),
            ("name", c("xx", B_KEY1)),
        ],
        &[],
    );
    let v = e.assess(SECRET_KEY, SECRETBOX_KEY1);
    assert_eq!(
        errors(&v),
        [
            None,
            Some("output array was not large enough for encryption".to_string()),
            Some("no matching key was found for the provided Secretbox transformer".to_string())
        ]
    );
}

#[test]
fn kms_records_need_their_plugin() {
    let c = cfg(
        "- resources: [secrets]\n  providers:\n  - kms: {apiVersion: v2, name: vault, endpoint: unix:///v.sock}\n  - identity: {}\n",
    );
    let (_, e) = engine(vec![("n", c)], &[]);
    // EncryptedObject{1: "data", 2: "kid", 3: "dek", 5: 0}
    let mut value = b"k8s:enc:kms:v2:vault:".to_vec();
    value.extend_from_slice(b"\x0a\x04data\x12\x03kid\x1a\x03dek");
    let v = e.assess(SECRET_KEY, &value);
    assert_eq!(
        v.nodes[0],
        NodeOutcome::NeedsKms {
            plugin: "vault",
            version: Provider::KmsV2
        }
    );
    assert_eq!(v.key_name.as_deref(), Some("vault"));
    let env = v.kms.unwrap().unwrap();
    assert_eq!(env.key_id.as_deref(), Some("kid"));
    let mut other = b"k8s:enc:kms:v2:other:".to_vec();
    other.extend_from_slice(b"\x0a\x04data\x12\x03kid\x1a\x03dek");
    let v = e.assess(SECRET_KEY, &other);
    assert_eq!(v.nodes[0].error_line().unwrap(), "no matching prefix found");
    let v = e.assess(SECRET_KEY, b"k8s:enc:kms:v2:vault:\x0a\x04data\x1a\x03dek");
    assert_eq!(
        v.nodes[0].error_line().unwrap(),
        "failed to validate key id: keyID is empty"
    );
}

#[test]
fn batch_equals_single() {
    let core = cfg(&format!(
        "- resources: ['*.']\n  providers: [{{aescbc: {{keys: [{{name: key1, secret: '{B_KEY1}'}}]}}}}]\n"
    ));
    let (_, e) = engine(
        vec![
            ("m1", cbc_cfg(&[("key1", B_KEY1), ("a:b", B_KEY1)])),
            ("m3", cbc_cfg(&[("key1", B_PADDING_PASSES)])),
            ("core", core),
        ],
        &[
            &format!("x={B_BAD_PKCS7}"),
            &format!("aesgcm:gk={B_KEY1_16}"),
        ],
    );
    let recs: Vec<(&[u8], &[u8])> = vec![
        (SECRET_KEY, CBC_KEY1),
        (SECRET_KEY, CBC_COLON),
        (SECRET_KEY, PLAIN),
        (GCM_ETCD_KEY, GCM_KEY1_128),
        (SECRET_KEY, CBC_SHORT_JSON),
        (SECRET_KEY, &CBC_KEY1[..40]),
        (SECRET_KEY, CBC_KEY1),
        (b"/registry/configmaps/default/c", CBC_KEY1),
        (b"/registry/configmaps/default/\xff", CBC_KEY1),
        (b"/registry/configmaps/default/d", CBC_KEY1),
        (b"/openshift.io/routes/default/r", CBC_KEY1),
        (b"/registry/secrets/default/x", CBC_KEY1),
    ];
    let batch = e.assess_batch(&recs);
    for ((k, v), b) in recs.iter().zip(&batch) {
        let s = e.assess(k, v);
        assert_eq!(s.nodes, b.nodes);
        assert_eq!(s.decrypts_with, b.decrypts_with);
        assert_eq!(s.key_name, b.key_name);
    }
}

#[test]
fn open_returns_plaintext_without_showing_it() {
    let (_, e) = engine(vec![("m", cbc_cfg(&[("key1", B_KEY1)]))], &[]);
    let o = e.open(SECRET_KEY, CBC_KEY1).unwrap();
    assert_eq!(o.plaintext.expose(), PLAIN);
    assert_eq!(o.candidates, [0]);
    let d = format!("{o:?}");
    assert!(!d.contains("PLAINTEXT-MARKER"), "{d}");
    assert!(e.open(SECRET_KEY, PLAIN).is_none());
    let (_, e) = engine(vec![("m", cbc_cfg(&[("key1", B_PADDING_PASSES)]))], &[]);
    assert!(e.open(SECRET_KEY, CBC_KEY1).is_none());
    let d = format!("{e:?}");
    assert!(!d.contains("AAECAwQFBgcICQoLDA0OD"));
}

/// Hostile values never panic: random bytes behind every prefix, every length around block
/// and nonce boundaries, judged by nodes with every provider.
#[test]
fn random_values_never_panic() {
    let all = cfg(&format!(
        "- resources: ['*.*']\n  providers:\n  - aescbc: {{keys: [{{name: key1, secret: '{B_KEY1}'}}, {{name: 'a:b', secret: '{B_BAD_PADDING}'}}]}}\n  - aesgcm: {{keys: [{{name: gk, secret: '{B_KEY1_16}'}}]}}\n  - secretbox: {{keys: [{{name: sb, secret: '{B_KEY1}'}}]}}\n  - kms: {{name: p1}}\n  - kms: {{apiVersion: v2, name: p2}}\n  - identity: {{}}\n"
    ));
    let (_, e) = engine(vec![("n", all)], &[&format!("x={B_OTHER}")]);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let prefixes: [&[u8]; 9] = [
        b"k8s:enc:aescbc:v1:key1:",
        b"k8s:enc:aescbc:v1:a:b:",
        b"k8s:enc:aescbc:v1:",
        b"k8s:enc:aesgcm:v1:gk:",
        b"k8s:enc:secretbox:v1:sb:",
        b"k8s:enc:kms:v1:p1:",
        b"k8s:enc:kms:v2:p2:",
        b"k8s:enc:",
        b"k8s\x00",
    ];
    let keys: [&[u8]; 4] = [SECRET_KEY, b"/registry/x", b"\xff\xfe/a/b/c", b""];
    for i in 0..6000 {
        let p = prefixes[i % prefixes.len()];
        let len = (rnd() % 120) as usize;
        let mut v = p.to_vec();
        v.extend((0..len).map(|_| rnd() as u8));
        let k = keys[i % keys.len()];
        let verdict = e.assess(k, &v);
        assert_eq!(verdict.nodes.len(), 1);
        let _ = e.open(k, &v);
        let batch = e.assess_batch(&[(k, &v), (k, &v[..v.len() / 2])]);
        assert_eq!(batch[0].nodes, verdict.nodes);
    }
}
