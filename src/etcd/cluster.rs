//! Cluster-level buckets: `members` (hex id → JSON), `members_removed`, `cluster`
//! (`clusterVersion`), `alarm` (key = etcdserverpb.AlarmMember{1 memberID, 2 alarm}), `lease`
//! (8-byte BE id → leasepb.Lease{1 ID, 2 TTL, 3 RemainingTTL}), `auth` (`authEnabled`,
//! `authRevision`), `authUsers` and `authRoles` (names only: password hashes are never shown).

use super::buckets;
use super::snapshot::Snapshot;
use crate::proto::Fields;
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub peer_urls: Vec<String>,
    pub client_urls: Vec<String>,
    pub is_learner: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alarm {
    pub member_id: String,
    /// `NOSPACE`, `CORRUPT`, `NONE` or the raw number.
    pub alarm: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lease {
    pub id: i64,
    pub ttl: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClusterInfo {
    pub cluster_version: Option<String>,
    pub members: Vec<Member>,
    pub removed_members: Vec<String>,
    pub alarms: Vec<Alarm>,
    pub leases: Vec<Lease>,
    pub auth_enabled: Option<bool>,
    pub auth_revision: Option<u64>,
    pub users: Vec<String>,
    pub roles: Vec<String>,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn strings(v: &serde_json::Value, field: &str) -> Vec<String> {
    v.get(field)
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn alarm_name(n: u64) -> String {
    // etcdserverpb.AlarmType (api/etcdserverpb/rpc.proto).
    match n {
        0 => "NONE".into(),
        1 => "NOSPACE".into(),
        2 => "CORRUPT".into(),
        n => n.to_string(),
    }
}

impl ClusterInfo {
    pub fn read(snap: &Snapshot) -> ClusterInfo {
        let mut c = ClusterInfo::default();
        let each = |name: &[u8], f: &mut dyn FnMut(&[u8], &[u8])| {
            if let (Some(b), _) = snap.bucket(name) {
                b.for_each(|_, e| f(e.key, e.value));
            }
        };
        each(buckets::CLUSTER, &mut |k, v| {
            if k == b"clusterVersion" {
                c.cluster_version = Some(lossy(v));
            }
        });
        each(buckets::MEMBERS, &mut |k, v| {
            let json: serde_json::Value = serde_json::from_slice(v).unwrap_or_default();
            c.members.push(Member {
                id: lossy(k),
                name: json
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_string(),
                peer_urls: strings(&json, "peerURLs"),
                client_urls: strings(&json, "clientURLs"),
                is_learner: json
                    .get("isLearner")
                    .and_then(|b| b.as_bool())
                    .unwrap_or(false),
            });
        });
        each(buckets::MEMBERS_REMOVED, &mut |k, _| {
            c.removed_members.push(lossy(k))
        });
        each(buckets::ALARM, &mut |k, _| {
            let (mut member, mut alarm) = (0u64, 0u64);
            for (n, v) in Fields::new(k).map_while(Result::ok) {
                match (n, v) {
                    (1, crate::proto::Value::Varint(x)) => member = x,
                    (2, crate::proto::Value::Varint(x)) => alarm = x,
                    _ => {}
                }
            }
            c.alarms.push(Alarm {
                member_id: format!("{member:x}"),
                alarm: alarm_name(alarm),
            });
        });
        each(buckets::LEASE, &mut |_, v| {
            let (mut id, mut ttl) = (0, 0);
            for (n, v) in Fields::new(v).map_while(Result::ok) {
                match n {
                    1 => id = v.as_i64().unwrap_or(0),
                    2 => ttl = v.as_i64().unwrap_or(0),
                    _ => {}
                }
            }
            c.leases.push(Lease { id, ttl });
        });
        each(buckets::AUTH, &mut |k, v| match k {
            b"authEnabled" => c.auth_enabled = v.first().map(|b| *b == 1),
            b"authRevision" => {
                c.auth_revision = v
                    .get(..8)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_be_bytes)
            }
            _ => {}
        });
        each(buckets::AUTH_USERS, &mut |k, _| c.users.push(lossy(k)));
        each(buckets::AUTH_ROLES, &mut |k, _| c.roles.push(lossy(k)));
        c
    }

    /// Alarms that matter: NOSPACE (writes refused) and CORRUPT (data inconsistency).
    pub fn raised_alarms(&self) -> impl Iterator<Item = &Alarm> {
        self.alarms.iter().filter(|a| a.alarm != "NONE")
    }
}
