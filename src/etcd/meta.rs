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

/// `meta/storageVersion` as etcd 3.6 reads it: `schema.ReadStorageVersionFromSnapshot`
/// (server/storage/schema/version.go) parses it with coreos/go-semver `NewVersion` and
/// `etcdutl snapshot status` prints `Version.String()`; a value that does not parse is dropped
/// (`""`). etcd itself writes `major.minor.0` (`UnsafeSetStorageVersion`).
///
/// go-semver (semver.go `Set`, v0.3.x): split off `+metadata`, then `-prerelease`, then exactly
/// three dot-separated parts parsed by `strconv.ParseInt(_, 10, 64)` (leading zeros accepted and
/// dropped on output); pre-release and metadata must match `^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$`.
pub fn storage_version_semver(raw: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(raw).ok()?;
    let (rest, metadata) = split_off(s, '+');
    let (core, pre) = split_off(rest, '-');
    let parts: Vec<&str> = core.splitn(3, '.').collect();
    if parts.len() != 3 || !valid_identifier(pre) || !valid_identifier(metadata) {
        return None;
    }
    let mut n = [0i64; 3];
    for (slot, p) in n.iter_mut().zip(&parts) {
        *slot = go_parse_int(p)?;
    }
    let mut out = format!("{}.{}.{}", n[0], n[1], n[2]);
    if !pre.is_empty() {
        out += &format!("-{pre}");
    }
    if !metadata.is_empty() {
        out += &format!("+{metadata}");
    }
    Some(out)
}

/// `strings.SplitN(s, delim, 2)`: the part after the first `delim`, or `""` when there is none.
fn split_off(s: &str, delim: char) -> (&str, &str) {
    s.split_once(delim).unwrap_or((s, ""))
}

fn valid_identifier(id: &str) -> bool {
    id.is_empty()
        || id.split('.').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `strconv.ParseInt(s, 10, 64)`: an optional sign, then at least one ASCII digit; no overflow.
/// (A `-` or `+` never reaches here: go-semver split them off first.)
fn go_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::storage_version_semver as sv;

    #[test]
    fn storage_version_follows_go_semver() {
        assert_eq!(sv(b"3.6.0").as_deref(), Some("3.6.0"));
        assert_eq!(sv(b"03.06.00").as_deref(), Some("3.6.0"));
        assert_eq!(
            sv(b"3.6.0-rc.1+build.5").as_deref(),
            Some("3.6.0-rc.1+build.5")
        );
        assert_eq!(sv(b"3.6"), None);
        assert_eq!(sv(b"v3.6.0"), None);
        assert_eq!(sv(b""), None);
        assert_eq!(sv(b"3.6.x"), None);
        assert_eq!(sv(b"3.6.0-"), Some("3.6.0".into()));
        assert_eq!(sv(b"3.6.0-a..b"), None);
        assert_eq!(sv(b"3.6.0.1"), None);
        assert_eq!(sv(b"99999999999999999999.0.0"), None);
        assert_eq!(sv(b"3.6.0\xff"), None);
    }
}
