//! One test per verdict rule (docs/verdict-rules.md) and every finding kind, on the committed
//! real-etcd testdata (opened read-only; damaged inputs are in-memory copies).

use super::*;
use crate::bbolt::Data;
use crate::etcd::integrity::Integrity;
use crate::etcd::Snapshot;
use crate::keyring::KeyringBuilder;
use crate::logs::{self, ScanOptions};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn td(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn configs(dir: &str, nodes: &[&str]) -> Keyring {
    let mut b = KeyringBuilder::new();
    for n in nodes {
        b.encryption_config(&format!("{n}={}", td(&format!("{dir}/{n}.yaml"))))
            .unwrap();
    }
    b.build()
}

/// The whole of `diagnose` on a snapshot, a keyring and optional in-memory logs.
fn diagnosis(snap: &Snapshot, keyring: &Keyring, logs: Option<&LogScan>) -> Diagnosis {
    diagnosis_with_space(snap, keyring, logs, None)
}

fn diagnosis_with_space(
    snap: &Snapshot,
    keyring: &Keyring,
    logs: Option<&LogScan>,
    space: Option<&crate::etcd::space::Space>,
) -> Diagnosis {
    let records = Records::read(snap);
    let integrity = Integrity::run(snap);
    let (engine, recovered, recovery) =
        crate::decrypt::recovered::judge_with_recovered(keyring, Engine::new(keyring), &records);
    let keyring = recovered.as_ref().unwrap_or(keyring);
    let live = crate::decrypt::audit::Input::live(&records);
    let mut audit = crate::decrypt::audit::audit(&engine, keyring, &live);
    audit.recovery = recovery;
    let path = snap.path.display().to_string();
    diagnose(&Context {
        snapshot_path: &path,
        records: &records,
        audit: &audit,
        engine: &engine,
        keyring,
        integrity: Some(&integrity),
        allow_missing_trailer: false,
        logs,
        space,
    })
}

fn open(rel: &str) -> Snapshot {
    Snapshot::open(std::path::Path::new(&td(rel))).unwrap()
}

/// An in-memory copy of a testdata snapshot with `f` applied.
fn altered(rel: &str, f: impl FnOnce(&mut Vec<u8>)) -> Snapshot {
    let mut bytes = std::fs::read(td(rel)).unwrap();
    f(&mut bytes);
    Snapshot::from_data(
        "altered.db",
        Data::Static(Box::leak(bytes.into_boxed_slice())),
    )
    .unwrap()
}

fn scan(logs: &[(&str, &str, &[u8])]) -> LogScan {
    logs::scan_memory(
        logs,
        &ScanOptions {
            year: Some(2021),
            ..ScanOptions::default()
        },
    )
}

fn has(d: &Diagnosis, k: FindingKind) -> Option<&Finding> {
    d.findings.iter().find(|f| f.kind == k)
}

fn finding(kind: FindingKind, severity: Severity) -> Finding {
    Finding {
        facts: FindingFacts::default(),
        kind,
        severity,
        summary: format!("{kind:?}"),
        nodes: vec![],
        keys: vec![],
        evidence: vec![],
        remedy: String::new(),
    }
}

#[test]
fn rule1_never_more_optimistic_than_the_evidence() {
    let snap = open("incident/snapshot.db");
    // No key source at all: a finding of its own saying what to give, and not verified.
    let d = diagnosis(&snap, &KeyringBuilder::new().build(), None);
    let f = has(&d, FindingKind::NoKeySources).expect("no-key-sources");
    assert!(f.remedy.contains("--encryption-config"));
    assert_eq!(d.verdict, Verdict::NotVerified);
    assert!(d.has_problems());
    // A wrong --key: every record named, not verified, nothing called lost.
    let mut b = KeyringBuilder::new();
    b.key_arg("key1=eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5").unwrap();
    let d = diagnosis(&snap, &b.build(), None);
    assert_eq!(d.verdict, Verdict::NotVerified);
    assert_eq!(
        has(&d, FindingKind::UnverifiedRecords).unwrap().keys.len(),
        33
    );
    assert!(has(&d, FindingKind::UndecryptableRecords).is_none());
    // The verdict function itself: unverified findings never give ok; a real problem outranks.
    let rc = RecordCounts::default();
    assert_eq!(verdict(&[], &rc).0, Verdict::Ok);
    for k in [
        FindingKind::NoKeySources,
        FindingKind::UnverifiedRecords,
        FindingKind::NotChecked,
        FindingKind::KmsRequired,
    ] {
        assert_eq!(
            verdict(&[finding(k, Severity::Info)], &rc).0,
            Verdict::NotVerified
        );
    }
    let both = [
        finding(FindingKind::KeyMismatch, Severity::Critical),
        finding(FindingKind::NoKeySources, Severity::Warning),
    ];
    assert_eq!(verdict(&both, &rc).0, Verdict::Problems);
}

#[test]
fn rule2_logs_that_contradict_the_config_are_findings() {
    let snap = open("incident/snapshot.db");
    let kr = configs("incident", &["master-1", "master-2", "master-3"]);
    // master-3's log (errors on records master-1's config reads) given as master-1's.
    let log = std::fs::read(td("incident/master-3.log")).unwrap();
    let s = scan(&[("master-1", "m.log", &log)]);
    let d = diagnosis(&snap, &kr, Some(&s));
    let f = has(&d, FindingKind::ConfigNotRunning).expect("config-not-running");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.nodes, vec!["master-1".to_string()]);
    assert!(f
        .evidence
        .iter()
        .any(|e| e.source.as_deref().is_some_and(|s| s.starts_with("m.log:"))));
    let m1 = d.nodes.iter().find(|n| n.name == "master-1").unwrap();
    assert_eq!(m1.log.state, LogState::Contradicts);
    // A log key the snapshot does not hold keeps log-key-not-in-snapshot.
    let line = b"E1116 20:09:52.635602       1 cacher.go:419] cacher (*core.Secret): unexpected ListAndWatch error: failed to list *core.Secret: unable to transform key \"/registry/secrets/gone/x\": invalid padding on input; reinitializing...\n";
    let s = scan(&[("master-3", "m3.log", line)]);
    let d = diagnosis(&snap, &kr, Some(&s));
    let f = has(&d, FindingKind::LogKeyNotInSnapshot).expect("log-key-not-in-snapshot");
    assert_eq!(
        f.keys,
        vec![std::sync::Arc::from("/registry/secrets/gone/x")]
    );
    assert!(has(&d, FindingKind::ConfigNotRunning).is_none());
}

#[test]
fn rule3_node_mapping_is_explicit_and_never_silent() {
    let snap = open("incident/snapshot.db");
    let log = std::fs::read(td("incident/master-3.log")).unwrap();
    // Unmatched: a warning naming both sides.
    let kr = configs("incident", &["master-1", "master-3"]);
    let s = scan(&[("cp-9", "cp-9.log", &log)]);
    let d = diagnosis(&snap, &kr, Some(&s));
    let f = has(&d, FindingKind::LogNodeUnmatched).expect("log-node-unmatched");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.summary.contains("cp-9") && f.summary.contains("master-1 and master-3"));
    // One config node: a log whose node came from its file name is attached, and said so.
    let kr = configs("incident", &["master-3"]);
    let mut s = scan(&[("kube-apiserver", "kube-apiserver.log", &log)]);
    for f in &mut s.files {
        f.node_from = crate::logs::NodeFrom::FileName;
    }
    let d = diagnosis(&snap, &kr, Some(&s));
    let f = has(&d, FindingKind::LogNodeAssumed).expect("log-node-assumed");
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(d.nodes[0].log.state, LogState::Confirmed);
    // A file of client-side errors only (kubelet, kubectl) is not an apiserver's log: an info
    // finding, never "unmatched", and no node's log state.
    let client = br#"E0724 10:00:01.000000    1 reflector.go:138] object-"ns"/"db": Failed to watch *v1.Secret: failed to list *v1.Secret: Internal error occurred: unable to transform key "/registry/secrets/ns/db": invalid padding on input
"#;
    let kr3 = configs("incident", &["master-1", "master-3"]);
    let s = scan(&[("kubelet-7", "kubelet-7.log", client)]);
    if s.events
        .iter()
        .all(|e| e.side != crate::logs::event::Side::Apiserver)
        && !s.events.is_empty()
    {
        let d = diagnosis(&snap, &kr3, Some(&s));
        let f = has(&d, FindingKind::ClientSideLog).expect("client-side-log");
        assert_eq!(f.severity, Severity::Info);
        assert!(has(&d, FindingKind::LogNodeUnmatched).is_none());
    } else {
        panic!(
            "the kubelet line is not classed client-side: {:?}",
            s.events
        );
    }
    // …but a NODE= label is never overridden.
    let s = scan(&[("cp-9", "cp-9.log", &log)]);
    let d = diagnosis(&snap, &kr, Some(&s));
    assert!(has(&d, FindingKind::LogNodeUnmatched).is_some());
    assert_eq!(d.nodes[0].log.state, LogState::NoLog);
}

#[test]
fn rule4_resources_of_other_apiservers_are_not_checked_not_critical() {
    let snap = open("openshift/snapshot_2026-11-01_120000.db");
    let mut b = KeyringBuilder::new();
    b.static_resources(&td(
        "openshift/static_kuberesources_2026-11-01_120000.tar.gz",
    ))
    .unwrap();
    let d = diagnosis(&snap, &b.build(), None);
    let f = has(&d, FindingKind::NotChecked).expect("not-checked");
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.keys.len(), 4);
    assert!(d.findings.iter().all(|f| f.severity != Severity::Critical));
    assert_eq!(d.restorability(), Restorability::NotVerified);
}

const OSM: &str = "openshift-managed/snapshot_2026-11-20_120000.db";
const OSM_TARBALL: &str = "openshift-managed/static_kuberesources_2026-11-20_120000.tar.gz";

#[test]
fn rule4_recovered_configs_check_routes_and_tokens_and_name_only_the_orphan() {
    let snap = open(OSM);
    let mut b = KeyringBuilder::new();
    b.static_resources(&format!("cp-1={}", td(OSM_TARBALL)))
        .unwrap();
    let d = diagnosis(&snap, &b.build(), None);
    let names: Vec<&str> = d.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["cp-1", "openshift-apiserver", "oauth-apiserver"]);
    // testdata/README.md: 4 routes under openshift-apiserver's keys 2 and 1, 2 tokens under
    // oauth-apiserver's 2, one route under 3 (in no config and no key Secret), one token under
    // oauth-apiserver's generation 1 (only in its key Secret).
    let reads: Vec<(u64, u64)> = d.nodes.iter().map(|n| (n.decrypts, n.fails)).collect();
    assert_eq!(reads, [(15, 0), (4, 1), (2, 1)]);
    let kinds: Vec<FindingKind> = d.findings.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [FindingKind::MissingReadKey, FindingKind::NodeReadFailures],
        "{:?}",
        d.findings
    );
    // The token only a key Secret opens: oauth-apiserver fails it (its config no longer lists
    // generation 1), but it is not lost, and the finding says which generation opens it.
    let g = &d.findings[1];
    assert_eq!(g.nodes, ["oauth-apiserver"]);
    assert_eq!(g.keys.len(), 1);
    assert!(g.keys[0].starts_with("/openshift.io/oauth/authorizetokens/"));
    assert!(
        g.summary
            .contains("that a key Secret in the snapshot decrypts"),
        "{}",
        g.summary
    );
    assert!(g.evidence.iter().any(|e| e.text.starts_with(
        "generation 1 (aescbc sha256:5fb27e654fa32bb1, Secret openshift-config-managed/encryption-key-openshift-oauth-apiserver-1 at revision 6, marked migrated at 2026-11-19T08:00:00Z"
    )), "{:?}", g.evidence);
    assert!(
        g.remedy.starts_with("Not lost:") && g.remedy.contains("Keep the Secret"),
        "{}",
        g.remedy
    );
    assert!(!g.remedy.contains("etcdctl del"));
    // Only the record no config and no key Secret opens is lost.
    assert_eq!(d.records.undecryptable, 1);
    let f = &d.findings[0];
    assert_eq!(f.keys.len(), 1);
    assert!(f.keys[0].starts_with("/openshift.io/routes/app-dev/"));
    assert!(
        f.summary.contains("openshift-apiserver's aescbc key 3"),
        "{}",
        f.summary
    );
    assert!(
        f.remedy
            .contains("openshift-config-managed/encryption-key-openshift-apiserver-3")
            && !f.remedy.contains("etcdctl del"),
        "{}",
        f.remedy
    );
    assert_eq!(d.verdict, Verdict::Problems);
    assert_eq!(d.restorability(), Restorability::NotRestorable);
}

#[test]
fn rule4_with_a_config_secret_gone_its_key_secrets_still_check_the_records() {
    // oauth-apiserver's config Secret taken away (as in a snapshot without it): its two key
    // Secrets still open all 3 tokens, generation by generation; what oauth-apiserver returns is
    // not simulated (not-checked, info), and no finding calls them lost or advises cp-1.
    use crate::decrypt::recovered::{keyring_with, recover, Unrecovered};
    use crate::kube::openshift::Apiserver;
    let snap = open(OSM);
    let mut b = KeyringBuilder::new();
    b.static_resources(&format!("cp-1={}", td(OSM_TARBALL)))
        .unwrap();
    let given = b.build();
    let records = Records::read(&snap);
    let mut recovery = recover(&Engine::new(&given), &records);
    recovery.configs.retain(|c| c.node != "oauth-apiserver");
    recovery
        .missing
        .push((Apiserver::Oauth, Unrecovered::Absent));
    let keyring = keyring_with(&given, &recovery);
    let engine = Engine::new(&keyring);
    let live = crate::decrypt::audit::Input::live(&records);
    let mut audit = crate::decrypt::audit::audit(&engine, &keyring, &live);
    audit.recovery = recovery;
    let path = snap.path.display().to_string();
    let d = diagnose(&Context {
        snapshot_path: &path,
        records: &records,
        audit: &audit,
        engine: &engine,
        keyring: &keyring,
        integrity: None,
        allow_missing_trailer: false,
        logs: None,
        space: None,
    });
    let names: Vec<&str> = d.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["cp-1", "openshift-apiserver"]);
    let kinds: Vec<FindingKind> = d.findings.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [FindingKind::MissingReadKey, FindingKind::NotChecked],
        "{:?}",
        d.findings
    );
    let f = has(&d, FindingKind::NotChecked).unwrap();
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.keys.len(), 3);
    assert!(f.keys.iter().all(|k| k.starts_with("/openshift.io/oauth/")));
    let ev: Vec<&str> = f.evidence.iter().map(|e| e.text.as_str()).collect();
    assert!(ev.contains(&"oauth-apiserver's generation 1 (aescbc sha256:5fb27e654fa32bb1, Secret openshift-config-managed/encryption-key-openshift-oauth-apiserver-1 at revision 6) opens 1 record(s)"), "{ev:?}");
    assert!(ev.contains(&"oauth-apiserver's generation 2 (aescbc sha256:af474aa0d393068d, Secret openshift-config-managed/encryption-key-openshift-oauth-apiserver-2 at revision 7) opens 2 record(s)"), "{ev:?}");
    assert!(
        ev.iter().any(|e| e.contains(
            "holds no Secret openshift-config-managed/encryption-config-openshift-oauth-apiserver"
        )),
        "{ev:?}"
    );
    assert_eq!(d.records.undecryptable, 1);
    assert!(d
        .findings
        .iter()
        .all(|f| f.kind != FindingKind::NodeReadFailures));
}

#[test]
fn rule4_without_the_kube_apiserver_key_routes_and_tokens_stay_not_checked() {
    // The old pair's tarball holds other kube-apiserver keys: the config Secrets stay closed.
    let snap = open(OSM);
    let mut b = KeyringBuilder::new();
    b.static_resources(&format!(
        "cp-1={}",
        td("openshift/static_kuberesources_2026-11-01_120000.tar.gz")
    ))
    .unwrap();
    let d = diagnosis(&snap, &b.build(), None);
    assert_eq!(d.nodes.len(), 1);
    let f = has(&d, FindingKind::NotChecked).expect("not-checked");
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.keys.len(), 8);
    assert!(f.evidence.iter().any(|e| e.text.contains(
        "encryption-config-openshift-apiserver (revision 2) is encrypted with a kube-apiserver key"
    )));
    // The kube-apiserver records are this config's problem; routes and tokens are in none of them.
    for c in d
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
    {
        assert!(
            c.keys.iter().all(|k| !k.starts_with("/openshift.io/")),
            "{c:?}"
        );
    }
}

#[test]
fn rule4_given_aggregated_config_wins_over_the_snapshot_secret() {
    // `--encryption-config openshift-apiserver=FILE` stands for that apiserver: nothing is
    // recovered for it, and it judges routes only.
    let snap = open(OSM);
    let dir = std::env::temp_dir().join(format!("autopsy-rule4-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("oapi.yaml");
    std::fs::write(
        &file,
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [routes.route.openshift.io]\n  providers:\n  - identity: {}\n",
    )
    .unwrap();
    let mut b = KeyringBuilder::new();
    b.static_resources(&format!("cp-1={}", td(OSM_TARBALL)))
        .unwrap();
    b.encryption_config(&format!("openshift-apiserver={}", file.display()))
        .unwrap();
    let d = diagnosis(&snap, &b.build(), None);
    std::fs::remove_dir_all(&dir).ok();
    let names: Vec<&str> = d.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["cp-1", "openshift-apiserver", "oauth-apiserver"]);
    // An identity-only config covers routes but reads no encrypted one: its node fails on all 5.
    assert_eq!(d.nodes[1].fails, 5);
    assert_eq!(d.nodes[0].fails, 0);
}

#[test]
fn rule5_no_remedy_starts_by_deleting_data() {
    let snap = open("encrypted/multi.db");
    let d = diagnosis(
        &snap,
        &configs("encrypted", &["cp-1", "cp-2", "cp-3"]),
        None,
    );
    let lost = has(&d, FindingKind::UndecryptableRecords).expect("undecryptable-records");
    let del = lost
        .remedy
        .find("etcdctl del")
        .expect("delete mentioned last");
    let find = lost.remedy.find("find that key").expect("recovery first");
    assert!(find < del);
    assert!(lost.remedy.contains("lost"));
    let missing = has(&d, FindingKind::MissingReadKey).expect("missing-read-key");
    for f in &d.findings {
        assert!(!f.remedy.starts_with("Delete") && !f.remedy.starts_with("`etcdctl del"));
        if f.kind != FindingKind::UndecryptableRecords {
            assert!(!f.remedy.contains("etcdctl del"), "{:?}", f.kind);
        }
    }
    assert!(missing.remedy.contains("--static-resources"));
}

#[test]
fn key_mismatch_remedy_exports_before_anything_is_deleted() {
    let snap = open("incident/snapshot.db");
    let d = diagnosis(
        &snap,
        &configs("incident", &["master-1", "master-2", "master-3"]),
        None,
    );
    let f = has(&d, FindingKind::KeyMismatch).expect("key-mismatch");
    let [RemedyStep::Export(e), RemedyStep::Recreate(r)] = f.facts.steps.as_slice() else {
        panic!("{:?}", f.facts.steps);
    };
    // The source that holds master-3's key, the key that opens exactly the mirror records.
    assert_eq!(
        e.source,
        KeySourceRef::EncryptionConfig {
            node: "master-3".into(),
            path: td("incident/master-3.yaml"),
        }
    );
    assert_eq!(e.fingerprint, "sha256:2f91094b3553b6d8");
    assert!(e.secrets && e.encrypted);
    assert_eq!(e.keys.len(), 3);
    assert!(e.keys.iter().all(|k| f.keys.contains(k)));
    assert_eq!(
        r.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
        e.keys.iter().map(|k| &**k).collect::<Vec<_>>()
    );
    assert!(r
        .objects
        .iter()
        .any(|o| o.resource == "secrets" && o.namespace.as_deref() == Some("cee-dnceed21")));
    // No other finding carries steps.
    assert!(d
        .findings
        .iter()
        .all(|x| x.kind == FindingKind::KeyMismatch || x.facts.steps.is_empty()));
}

#[test]
fn rule6_one_vocabulary_one_kms_finding() {
    let snap = open("encrypted/multi.db");
    let d = diagnosis(
        &snap,
        &configs("encrypted", &["cp-1", "cp-2", "cp-3"]),
        None,
    );
    let kms: Vec<&Finding> = d
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::KmsRequired)
        .collect();
    assert_eq!(kms.len(), 1);
    assert_eq!(d.records.kms, kms[0].keys.len());
    assert!(d.records.undecryptable >= d.records.kms);
    let kms_keys: BTreeSet<&std::sync::Arc<str>> = kms[0].keys.iter().collect();
    for f in d
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::NodeReadFailures)
    {
        assert!(
            f.keys.iter().all(|k| !kms_keys.contains(k)),
            "{}",
            f.summary
        );
    }
    assert!(has(&d, FindingKind::KeyMismatch).is_some());
    assert!(has(&d, FindingKind::NodeReadFailures).is_some());
    assert!(has(&d, FindingKind::PlaintextInEncryptedResource).is_some());
}

#[test]
fn rule7_report_and_validate_agree() {
    let rc = RecordCounts::default();
    let d = |findings: Vec<Finding>| {
        let (verdict, headline) = verdict(&findings, &rc);
        Diagnosis {
            records: rc.clone(),
            nodes: vec![],
            matrix: vec![],
            log_events: LogEvents::default(),
            findings,
            uncovered: vec![],
            verdict,
            headline,
        }
    };
    for k in [
        FindingKind::SnapshotIntegrity,
        FindingKind::TrailerMismatch,
        FindingKind::MissingTrailer,
        FindingKind::MissingReadKey,
        FindingKind::UndecryptableRecords,
    ] {
        assert_eq!(
            d(vec![finding(k, Severity::Critical)]).restorability(),
            Restorability::NotRestorable
        );
    }
    let conflict = d(vec![finding(FindingKind::KeyMismatch, Severity::Critical)]);
    assert_eq!(conflict.restorability(), Restorability::Restorable);
    assert_eq!(conflict.verdict, Verdict::Problems);
    assert_eq!(
        d(vec![finding(FindingKind::KmsRequired, Severity::Info)]).restorability(),
        Restorability::NotVerified
    );
    assert_eq!(d(vec![]).restorability(), Restorability::Restorable);

    // A trailer-only mismatch: trailer mismatch, structure intact.
    let snap = altered("snapshots/basic.db", |b| {
        let n = b.len() - 1;
        b[n] ^= 0xff;
    });
    let d = diagnosis(&snap, &KeyringBuilder::new().build(), None);
    let t = has(&d, FindingKind::TrailerMismatch).expect("trailer-mismatch");
    assert!(t.summary.starts_with("trailer mismatch, structure intact"));
    assert!(has(&d, FindingKind::SnapshotIntegrity).is_none());
    assert_eq!(d.verdict, Verdict::Problems);
    assert_eq!(d.restorability(), Restorability::NotRestorable);
}

#[test]
fn integrity_kinds_missing_trailer_alarm_and_damage() {
    let d = diagnosis(
        &open("snapshots/datadir.db"),
        &KeyringBuilder::new().build(),
        None,
    );
    assert!(has(&d, FindingKind::MissingTrailer).is_some());
    let d = diagnosis(
        &open("snapshots/nospace.db"),
        &KeyringBuilder::new().build(),
        None,
    );
    assert!(has(&d, FindingKind::Alarm).is_some(), "{:?}", d.findings);
    // Zero the second page (meta 1) and a leaf: damaged structure.
    let snap = altered("snapshots/basic.db", |b| {
        let page = 4096;
        for x in &mut b[page * 4..page * 5] {
            *x = 0xff;
        }
    });
    let d = diagnosis(&snap, &KeyringBuilder::new().build(), None);
    assert!(
        has(&d, FindingKind::SnapshotIntegrity).is_some(),
        "{:?}",
        d.findings
    );
    assert_eq!(d.verdict, Verdict::Damaged);
}

#[test]
fn stale_tarball_gives_missing_read_key() {
    let snap = open("openshift/snapshot_2026-11-01_120000.db");
    let mut b = KeyringBuilder::new();
    b.static_resources(&td("openshift/static_kuberesources_stale.tar.gz"))
        .unwrap();
    let d = diagnosis(&snap, &b.build(), None);
    assert_eq!(has(&d, FindingKind::MissingReadKey).unwrap().keys.len(), 9);
    assert_eq!(d.restorability(), Restorability::NotRestorable);
}

#[test]
fn space_kinds_quota_fragmentation_history() {
    use crate::etcd::space::Options;
    let with_space = |rel: &str, quota_bytes: Option<u64>| {
        let snap = open(rel);
        let records = Records::read(&snap);
        let check = snap.check_structure();
        let db = snap.db().logical_size();
        let opts = Options {
            // The db size itself: a full quota, as on a member about to raise NOSPACE.
            quota_bytes: quota_bytes.unwrap_or(db),
            ..Options::default()
        };
        let sp = super::space::diagnosis(&snap, &records, &check, opts);
        diagnosis_with_space(&snap, &KeyringBuilder::new().build(), None, Some(&sp))
    };
    // space.db: many updates of a few keys, Events churn (scripts/make-space-testdata.sh).
    let d = with_space("space/space.db", Some(9 << 30));
    let quota = has(&d, FindingKind::SpaceQuota).expect("a 9 GiB quota is above the suggested");
    assert_eq!(quota.severity, Severity::Warning);
    assert_eq!(d.verdict, Verdict::Problems, "{:?}", d.findings);
    // 74 % of the bytes held are old, but 552 kB is no problem: information.
    let history = has(&d, FindingKind::SpaceHistory).unwrap();
    assert!(
        history.evidence[0].text.contains("revisions"),
        "{history:?}"
    );
    assert_eq!(history.severity, Severity::Info);
    let d = with_space("space/space.db", Some(2 << 30));
    assert_eq!(d.verdict, Verdict::Ok, "{:?}", d.findings);
    // A quota the db fills: critical, and the verdict names it.
    let d = with_space("space/space.db", None);
    let quota = has(&d, FindingKind::SpaceQuota).unwrap();
    assert_eq!(quota.severity, Severity::Critical);
    assert_eq!(d.findings[0].kind, FindingKind::SpaceQuota);
    assert_eq!(d.verdict, Verdict::Problems);
    // Space findings never make a backup unrestorable, nor unverified.
    assert!(!FindingKind::SpaceQuota.blocks_restore() && !FindingKind::SpaceQuota.unverified());
    // m3-behind.db: a copy whose free pages defrag would give back (a small share in bytes).
    let d = with_space("many/m3-behind.db", Some(2 << 30));
    let frag = has(&d, FindingKind::SpaceFragmentation).unwrap();
    assert_eq!(frag.severity, Severity::Info);
    assert!(
        frag.summary.starts_with("defrag would free"),
        "{}",
        frag.summary
    );
    // The NOSPACE alarm is reported once, as `alarm`.
    let d = with_space("snapshots/nospace.db", Some(2 << 30));
    assert!(has(&d, FindingKind::Alarm).is_some());
    assert!(d
        .findings
        .iter()
        .all(|f| !f.summary.contains("NOSPACE alarm stored")));
}

/// Every finding kind has a test above; a new kind does not compile until it is listed here.
#[test]
fn every_finding_kind_is_tested() {
    fn test_of(k: FindingKind) -> &'static str {
        match k {
            FindingKind::NoKeySources | FindingKind::UnverifiedRecords => "rule1",
            FindingKind::ConfigNotRunning | FindingKind::LogKeyNotInSnapshot => "rule2",
            FindingKind::LogNodeAssumed
            | FindingKind::LogNodeUnmatched
            | FindingKind::ClientSideLog => "rule3",
            FindingKind::NotChecked => "rule4",
            FindingKind::UndecryptableRecords | FindingKind::MissingReadKey => "rule5",
            FindingKind::KmsRequired
            | FindingKind::KeyMismatch
            | FindingKind::NodeReadFailures
            | FindingKind::PlaintextInEncryptedResource => "rule6",
            FindingKind::TrailerMismatch => "rule7",
            FindingKind::MissingTrailer | FindingKind::Alarm | FindingKind::SnapshotIntegrity => {
                "integrity_kinds"
            }
            FindingKind::SpaceQuota
            | FindingKind::SpaceFragmentation
            | FindingKind::SpaceHistory => "space_kinds",
        }
    }
    assert_eq!(test_of(FindingKind::Alarm), "integrity_kinds");
}
