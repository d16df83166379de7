//! The snapshot reader against facts recorded by the Python loader that wrote the data into a
//! real etcd (testdata/snapshots/*.facts.json): every record, every live key with its metadata
//! and value hash, leases, compaction, alarms. Independent of etcdctl and of our own writer.

mod common;
use common::testdata;
use etcd_autopsy::etcd::cluster::ClusterInfo;
use etcd_autopsy::etcd::meta::MetaInfo;
use etcd_autopsy::etcd::records::Records;
use etcd_autopsy::etcd::trailer::{hex, sha256};
use etcd_autopsy::etcd::Snapshot;
use serde_json::Value;

fn facts(name: &str) -> Value {
    let text = std::fs::read_to_string(testdata(&format!("snapshots/{name}.facts.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn open(name: &str) -> Snapshot {
    Snapshot::open(&testdata(&format!("snapshots/{name}.db"))).unwrap()
}

#[test]
fn every_record_and_live_key_matches_the_loader() {
    for name in ["basic", "datadir", "empty", "nospace"] {
        let f = facts(name);
        let snap = open(name);
        let records = Records::read(&snap);
        assert!(records.complete(), "{name}");
        let got: Vec<(String, String, bool)> = records
            .all
            .iter()
            .map(|r| {
                (
                    String::from_utf8_lossy(r.kv.key).into_owned(),
                    format!("{}_{}", r.rev.main, r.rev.sub),
                    r.rev.tombstone,
                )
            })
            .collect();
        let want: Vec<(String, String, bool)> = f["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["key"].as_str().unwrap().into(),
                    r["revision"].as_str().unwrap().into(),
                    r["tombstone"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want, "{name}: key bucket records");
        let live: Vec<_> = records.live().collect();
        let want_live = f["live"].as_array().unwrap();
        assert_eq!(live.len(), want_live.len(), "{name}: live keys");
        assert_eq!(live.len() as u64, f["live_keys"].as_u64().unwrap());
        for (r, w) in live.iter().zip(want_live) {
            assert_eq!(
                String::from_utf8_lossy(r.kv.key),
                w["key"].as_str().unwrap()
            );
            assert_eq!(r.kv.create_revision, w["create_revision"].as_i64().unwrap());
            assert_eq!(r.kv.mod_revision, w["mod_revision"].as_i64().unwrap());
            assert_eq!(r.kv.version, w["version"].as_i64().unwrap());
            assert_eq!(r.kv.lease, w["lease"].as_i64().unwrap());
            assert_eq!(r.kv.value.len() as u64, w["value_size"].as_u64().unwrap());
            assert_eq!(
                hex(&sha256(r.kv.value)),
                w["value_sha256"].as_str().unwrap(),
                "{name}: value of {}",
                w["key"]
            );
        }
        let tombstones = records.all.iter().filter(|r| r.rev.tombstone).count();
        assert_eq!(
            tombstones as u64,
            f["tombstones"].as_u64().unwrap(),
            "{name}: tombstones"
        );
    }
}

#[test]
fn leases_compaction_and_alarms() {
    let f = facts("basic");
    let snap = open("basic");
    let meta = MetaInfo::read(&snap);
    assert_eq!(
        meta.finished_compact_revision,
        f["compact_revision"].as_i64()
    );
    let cluster = ClusterInfo::read(&snap);
    let mut got: Vec<(i64, i64)> = cluster.leases.iter().map(|l| (l.id, l.ttl)).collect();
    got.sort();
    let mut want: Vec<(i64, i64)> = f["leases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["id"].as_i64().unwrap(), l["ttl"].as_i64().unwrap()))
        .collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(cluster.members.len(), 1);
    assert!(cluster.cluster_version.is_some());

    let f = facts("nospace");
    let cluster = ClusterInfo::read(&open("nospace"));
    let alarms: Vec<_> = cluster.raised_alarms().collect();
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0].alarm, "NOSPACE");
    let member = f["alarms"][0]["member_id"].as_u64().unwrap();
    assert_eq!(alarms[0].member_id, format!("{member:x}"));
}

#[test]
fn overflow_values_are_read_whole() {
    let f = facts("basic");
    let snap = open("basic");
    let records = Records::read(&snap);
    for o in f["overflow_values"].as_array().unwrap() {
        let key = o["key"].as_str().unwrap().as_bytes();
        let idx = *records.of_key(key).last().unwrap();
        assert_eq!(
            records.get(idx).kv.value.len() as u64,
            o["value_size"].as_u64().unwrap()
        );
    }
}
