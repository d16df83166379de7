//! Record-level decoders on arbitrary bytes: revision keys, mvccpb.KeyValue, runtime.Unknown,
//! value envelopes and Kubernetes key paths.
#![no_main]
use etcd_autopsy::etcd::{KeyValue, Revision};
use etcd_autopsy::kube::unknown::Unknown;
use etcd_autopsy::kube::{Envelope, KeyPath, ObjectInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Revision::parse(data);
    if let Ok(kv) = KeyValue::decode(data) {
        let _ = ObjectInfo::describe(kv.key, kv.value);
    }
    let env = Envelope::classify(data);
    let _ = env.key_name_guess();
    if let Envelope::Protobuf(body) = env {
        let _ = Unknown::decode(body).map(|u| u.looks_sane());
    }
    if let Some(p) = KeyPath::parse(data) {
        let _ = p.qualified_resource();
    }
});
