//! The `meta` bucket (server/storage/schema/meta.go, mvcc/kvstore.go): `consistent_index` and
//! `term` as big-endian u64; `scheduledCompactRev` / `finishedCompactRev` as 17-byte revisions;
//! `confState` (JSON, 3.5+); `storageVersion` (3.6+).

use super::buckets;
use super::revision::Revision;
use super::snapshot::Snapshot;
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MetaInfo {
    pub consistent_index: Option<u64>,
    pub term: Option<u64>,
    pub scheduled_compact_revision: Option<i64>,
    pub finished_compact_revision: Option<i64>,
    pub conf_state: Option<String>,
    pub storage_version: Option<String>,
}

fn be_u64(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.get(..8)?.try_into().ok()?))
}

impl MetaInfo {
    pub fn read(snap: &Snapshot) -> MetaInfo {
        let mut m = MetaInfo::default();
        let (Some(b), _) = snap.bucket(buckets::META) else {
            return m;
        };
        b.for_each(|_, e| match e.key {
            b"consistent_index" => m.consistent_index = be_u64(e.value),
            b"term" => m.term = be_u64(e.value),
            b"scheduledCompactRev" => m.scheduled_compact_revision = Revision::main_of(e.value),
            b"finishedCompactRev" => m.finished_compact_revision = Revision::main_of(e.value),
            b"confState" => m.conf_state = Some(String::from_utf8_lossy(e.value).into_owned()),
            b"storageVersion" => {
                m.storage_version = Some(String::from_utf8_lossy(e.value).into_owned())
            }
            _ => {}
        });
        m
    }
}
