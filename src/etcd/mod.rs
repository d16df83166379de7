//! etcd's view of a bbolt file: revisions and records in the `key` bucket, the `meta` bucket,
//! cluster membership, alarms, leases and auth, the `snapshot status` numbers, and the SHA-256
//! trailer `etcdctl snapshot save` appends. Knows nothing of Kubernetes.
//!
//! Facts cite etcd v3.4–v3.6: server/storage/mvcc (revision.go, kvstore.go), server/storage/schema
//! (bucket names, meta keys), etcdutl/snapshot/v3_snapshot.go (status, trailer), api/mvccpb/kv.proto.

pub mod cluster;
pub mod error;
pub mod hashkv;
pub mod integrity;
mod keysort;
pub mod kv;
pub mod meta;
pub mod records;
pub mod restore;
pub mod revision;
pub mod salvage;
pub mod snapshot;
pub mod space;
pub mod status;
pub mod trailer;
pub mod wal;

pub use error::Error;
pub use kv::KeyValue;
pub use records::{Record, Records};
pub use revision::Revision;
pub use snapshot::Snapshot;
pub use status::Status;
pub use trailer::Trailer;

/// A key for display: UTF-8 as is, other bytes escaped as `\xNN`. Never used for values.
pub fn display_key(key: &[u8]) -> String {
    crate::sanitize::bytes(key)
}

/// Bucket names etcd creates (server/storage/schema/bucket.go).
pub mod buckets {
    pub const KEY: &[u8] = b"key";
    pub const META: &[u8] = b"meta";
    pub const LEASE: &[u8] = b"lease";
    pub const ALARM: &[u8] = b"alarm";
    pub const CLUSTER: &[u8] = b"cluster";
    pub const MEMBERS: &[u8] = b"members";
    pub const MEMBERS_REMOVED: &[u8] = b"members_removed";
    pub const AUTH: &[u8] = b"auth";
    pub const AUTH_USERS: &[u8] = b"authUsers";
    pub const AUTH_ROLES: &[u8] = b"authRoles";
}
