//! bbolt open + walk + check + etcd decode on arbitrary bytes: everything `status`, `check`,
//! `ls` and `stats` do with a snapshot file.
#![no_main]
use etcd_autopsy::bbolt::Data;
use etcd_autopsy::etcd::integrity::Integrity;
use etcd_autopsy::etcd::records::Records;
use etcd_autopsy::etcd::{cluster::ClusterInfo, meta::MetaInfo, status, Snapshot};
use etcd_autopsy::kube::ObjectInfo;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(snap) = Snapshot::from_data("fuzz.db", Data::Owned(data.to_vec())) else { return };
    let _ = Integrity::run(&snap);
    let _ = status::compute(&snap);
    let _ = MetaInfo::read(&snap);
    let _ = ClusterInfo::read(&snap);
    let records = Records::read(&snap);
    for r in records.history() {
        let _ = ObjectInfo::describe(r.kv.key, r.kv.value);
    }
});
