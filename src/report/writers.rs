//! The key-mismatch writers evidence ([`Writers`]) as the report says it: one evidence line,
//! and its typed JSON form (`findings[].writers`).

use crate::correlate::writers::Writers;
use crate::kube::object::rfc3339;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct WritersJson {
    pub nodes: Vec<String>,
    pub fingerprint: String,
    pub records: usize,
    pub decoded: usize,
    /// RFC 3339 UTC: the earliest write time the records carry (a lower bound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_revision: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_key: Option<String>,
    pub managers: Vec<ManagerJson>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ManagerJson {
    pub manager: String,
    pub operation: String,
    pub records: usize,
}

impl WritersJson {
    pub fn from_writers(w: &Writers) -> WritersJson {
        WritersJson {
            nodes: w.nodes.clone(),
            fingerprint: w.fingerprint.clone(),
            records: w.records,
            decoded: w.decoded,
            since: w.since.and_then(rfc3339),
            first_revision: w.first.as_ref().map(|f| f.revision),
            first_key: w.first.as_ref().map(|f| f.key.clone()),
            managers: w
                .managers
                .iter()
                .map(|m| ManagerJson {
                    manager: m.manager.clone(),
                    operation: m.operation.clone(),
                    records: m.records,
                })
                .collect(),
        }
    }
}

fn names(n: &[String]) -> String {
    match n {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// "master-3 has been writing with its own aescbc key key1 (sha256:…) since at least T (first
/// write at revision R: KEY); written by MANAGER (OPERATION, N records), …".
pub fn sentence(w: &Writers) -> String {
    let who = names(&w.nodes);
    let mut s = format!(
        "{who} has been writing with its own {} key {} ({})",
        w.provider, w.key_name, w.fingerprint
    );
    match (w.since.and_then(rfc3339), &w.first) {
        (Some(t), Some(f)) => {
            s += &format!(
                " since at least {t} (first write at revision {}: {})",
                f.revision, f.key
            )
        }
        (None, Some(f)) => s += &format!(" since at least revision {} ({})", f.revision, f.key),
        _ => {}
    }
    if w.decoded == 0 {
        s += &format!(
            "; none of the {} record(s) decodes as an object, so who wrote them is unknown",
            w.records
        );
    } else if w.managers.is_empty() {
        s += &format!(
            "; the metadata of the {} decoded record(s) names no field manager (managedFields exist from Kubernetes 1.18)",
            w.decoded
        );
    } else {
        let m: Vec<String> = w
            .managers
            .iter()
            .map(|m| {
                let op = if m.operation.is_empty() {
                    String::new()
                } else {
                    format!("{}, ", m.operation)
                };
                format!("{} ({op}{} record(s))", m.manager, m.records)
            })
            .collect();
        s += &format!(
            "; written by {} (managedFields of the {} record(s), decrypted in memory)",
            m.join(", "),
            w.decoded
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::writers::{FirstWrite, Manager};

    #[test]
    fn says_who_and_since_when() {
        let mut w = Writers {
            nodes: vec!["master-3".into()],
            provider: "aescbc",
            key_name: "key1".into(),
            fingerprint: "sha256:2f91094b3553b6d8".into(),
            records: 3,
            decoded: 3,
            first: Some(FirstWrite {
                revision: 5,
                key: "/registry/secrets/a/b".into(),
                time: Some(1_700_000_000),
            }),
            since: Some(1_700_000_000),
            managers: vec![Manager {
                manager: "kube-controller-manager".into(),
                operation: "Update".into(),
                records: 2,
            }],
        };
        assert_eq!(
            sentence(&w),
            "master-3 has been writing with its own aescbc key key1 (sha256:2f91094b3553b6d8) since at least \
             2023-11-14T22:13:20Z (first write at revision 5: /registry/secrets/a/b); written by \
             kube-controller-manager (Update, 2 record(s)) (managedFields of the 3 record(s), decrypted in memory)"
        );
        w.managers.clear();
        assert!(sentence(&w)
            .ends_with("names no field manager (managedFields exist from Kubernetes 1.18)"));
        w.decoded = 0;
        assert!(sentence(&w).contains("who wrote them is unknown"));
    }
}
