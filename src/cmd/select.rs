//! Selection shared by `ls`, `get` and `export`: kubectl-style (resource, names, namespace,
//! labels) or etcd-style (key prefixes), at a revision, live or deleted.
//!
//! Selecting seeks: the records are sorted by key, so each `/<root>/<storage>/[<namespace>/]`
//! prefix is a binary search, and the roots (`/registry`, `/kubernetes.io`, `/openshift.io`, a
//! custom `--etcd-prefix`) and storage directories are found by seeking too.

use super::Error;
use crate::etcd::records::{Record, Records};
use crate::etcd::revision::Revision;
use crate::kube::decode::labels::Selector;
use crate::kube::path::{storage_paths, KeyPath};
use std::path::PathBuf;

#[derive(clap::Args, Clone, Debug)]
pub struct SelectArgs {
    /// Snapshot file.
    pub snapshot: PathBuf,
    /// What to select: a resource (`secrets`, `deployments.apps`, `routes.route.openshift.io`,
    /// a Kind such as `Deployment`, a short name such as `cm`), `RESOURCE/NAME`, or etcd keys /
    /// key prefixes starting with `/`. After a resource: object names.
    pub what: Vec<String>,
    /// Only this namespace. Unlike kubectl, all namespaces are selected when it is not given.
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// All namespaces (the default; accepted for kubectl habits).
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Label selector (`app=web,tier!=db,env,!legacy`); needs the objects decoded (and
    /// decrypted, for encrypted ones).
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// The cluster as of revision R: each key's latest revision at or below R.
    #[arg(long, value_name = "R")]
    pub revision: Option<i64>,
    /// Deleted objects instead of live ones: their last value before the deletion.
    #[arg(long)]
    pub deleted: bool,
    /// At most N objects (after all other filters).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// What `what` resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Everything (no argument).
    All,
    /// etcd keys or key prefixes.
    Keys(Vec<String>),
    /// A resource, optionally its group, and object names.
    Resource {
        resource: String,
        group: Option<String>,
        names: Vec<String>,
    },
}

/// One selected object: the record holding the value to show and, for a deleted object, the
/// tombstone's revision.
#[derive(Clone, Copy, Debug)]
pub struct Selected<'r, 'a> {
    pub record: &'r Record<'a>,
    pub deleted_at: Option<Revision>,
}

impl<'r, 'a> Selected<'r, 'a> {
    pub fn key(&self) -> &'a [u8] {
        self.record.kv.key
    }
}

/// Well-known short names (kubectl's `shortNames` of built-in resources).
const SHORT: &[(&str, &str)] = &[
    ("cm", "configmaps"),
    ("cj", "cronjobs"),
    ("crd", "customresourcedefinitions"),
    ("crds", "customresourcedefinitions"),
    ("csr", "certificatesigningrequests"),
    ("deploy", "deployments"),
    ("ds", "daemonsets"),
    ("ep", "endpoints"),
    ("ev", "events"),
    ("hpa", "horizontalpodautoscalers"),
    ("ing", "ingresses"),
    ("limits", "limitranges"),
    ("netpol", "networkpolicies"),
    ("no", "nodes"),
    ("ns", "namespaces"),
    ("pc", "priorityclasses"),
    ("pdb", "poddisruptionbudgets"),
    ("po", "pods"),
    ("pv", "persistentvolumes"),
    ("pvc", "persistentvolumeclaims"),
    ("quota", "resourcequotas"),
    ("rc", "replicationcontrollers"),
    ("rs", "replicasets"),
    ("sa", "serviceaccounts"),
    ("sc", "storageclasses"),
    ("sts", "statefulsets"),
    ("svc", "services"),
];

/// kubectl's resource for a Kind or singular (`Ingress` → `ingresses`, `NetworkPolicy` →
/// `networkpolicies`, `Endpoints` → `endpoints`): the lower-case plural, as the apiserver's
/// `UnsafeGuessKindToResource` (apimachinery/pkg/api/meta/restmapper.go) forms it.
pub fn plural(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if k == "endpoints" || k.ends_with("ses") && k.len() > 3 {
        return k;
    }
    if let Some(stem) = k.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    if k.ends_with('s') || k.ends_with("ch") || k.ends_with("sh") || k.ends_with('x') {
        return format!("{k}es");
    }
    format!("{k}s")
}

impl SelectArgs {
    pub fn target(&self) -> Result<Target, Error> {
        let Some(first) = self.what.first() else {
            return Ok(Target::All);
        };
        if first.starts_with('/') {
            if let Some(bad) = self.what.iter().find(|w| !w.starts_with('/')) {
                return Err(Error::new(format!(
                    "{bad:?}: after an etcd key prefix, only more prefixes (starting with '/') may follow"
                )));
            }
            return Ok(Target::Keys(self.what.clone()));
        }
        let (spec, mut names) = match first.split_once('/') {
            Some((r, n)) if !n.is_empty() => (r, vec![n.to_string()]),
            _ => (first.as_str(), Vec::new()),
        };
        names.extend(self.what[1..].iter().cloned());
        let (res, group) = match spec.split_once('.') {
            Some((r, g)) => (r, Some(g.to_string())),
            None => (spec, None),
        };
        let lower = res.to_ascii_lowercase();
        let resource = match SHORT.iter().find(|(s, _)| *s == lower) {
            Some((_, r)) => r.to_string(),
            // A Kind (`Deployment`) or a singular (`deployment`); plurals stay as they are.
            None if res.starts_with(|c: char| c.is_ascii_uppercase()) => plural(res),
            // A lower-case singular (`secret`, `ingress`, `storageclass`).
            None if !lower.ends_with('s') || lower.ends_with("ss") => plural(&lower),
            None => lower,
        };
        Ok(Target::Resource {
            resource,
            group,
            names,
        })
    }

    pub fn label_selector(&self) -> Result<Option<Selector>, Error> {
        self.selector
            .as_deref()
            .map(|s| Selector::parse(s).map_err(|e| Error::new(format!("--selector {s:?}: {e}"))))
            .transpose()
    }
}

/// The key prefixes to seek for `target`.
fn prefixes(records: &Records, target: &Target, namespace: Option<&str>) -> Vec<Vec<u8>> {
    match target {
        Target::All => vec![Vec::new()],
        Target::Keys(k) => k.iter().map(|p| p.as_bytes().to_vec()).collect(),
        Target::Resource {
            resource, group, ..
        } => {
            let mut out = Vec::new();
            for root in records.key_roots() {
                let mut storages = storage_paths(resource, group.as_deref());
                if group.is_none() {
                    // A custom resource named without its group: any `<group>/<resource>` dir.
                    for dir in children(records, &[root, b"/"].concat()) {
                        if dir.contains(&b'.') {
                            storages.push(format!("{}/{resource}", String::from_utf8_lossy(dir)));
                        }
                    }
                }
                for s in storages {
                    let mut p = [root, b"/", s.as_bytes(), b"/"].concat();
                    if let Some(ns) = namespace {
                        p.extend_from_slice(ns.as_bytes());
                        p.push(b'/');
                    }
                    out.push(p);
                }
            }
            // A cluster-scoped resource asked for with -n still finds nothing, as with kubectl.
            out.sort();
            out.dedup();
            out
        }
    }
}

/// The distinct next path segments under `prefix` (which ends with '/'), found by seeking.
fn children<'a>(records: &Records<'a>, prefix: &[u8]) -> Vec<&'a [u8]> {
    let range = records.with_prefix(prefix);
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&idx) = range.get(i) {
        let key = records.get(idx).kv.key;
        let rest = key.get(prefix.len()..).unwrap_or(&[]);
        let seg_len = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
        let seg = &rest[..seg_len];
        out.push(seg);
        // Skip every key with this segment.
        let mut next = [prefix, seg].concat();
        next.push(b'/' + 1);
        i += range[i..].partition_point(|&j| records.get(j).kv.key < next.as_slice());
        if seg_len == rest.len() {
            i += 1;
        }
    }
    out.dedup();
    out
}

/// Selects the objects `args` asks for (without the label selector and limit, which need the
/// decoded objects). In key order.
pub fn select<'r, 'a>(
    records: &'r Records<'a>,
    args: &SelectArgs,
    target: &Target,
) -> Vec<Selected<'r, 'a>> {
    let ns = args.namespace.as_deref();
    let mut out = Vec::new();
    for p in prefixes(records, target, ns) {
        let range = records.with_prefix(&p);
        let mut i = 0;
        while i < range.len() {
            let key = records.get(range[i]).kv.key;
            let n = range[i..]
                .iter()
                .take_while(|&&j| records.get(j).kv.key == key)
                .count();
            let history = &range[i..i + n];
            i += n;
            if !key_matches(key, target, ns) {
                continue;
            }
            if let Some(s) = at_revision(records, history, args.revision, args.deleted) {
                out.push(s);
            }
        }
    }
    out.sort_by(|a, b| a.key().cmp(b.key()));
    out.dedup_by(|a, b| a.key() == b.key());
    out
}

/// The object a key's history shows at `revision`: the live value, or (with `deleted`) the last
/// value before its deletion.
pub fn at_revision<'r, 'a>(
    records: &'r Records<'a>,
    history: &[u32],
    revision: Option<i64>,
    deleted: bool,
) -> Option<Selected<'r, 'a>> {
    let upto = history.partition_point(|&j| revision.is_none_or(|r| records.get(j).rev.main <= r));
    let at = records.get(*history[..upto].last()?);
    match (at.rev.tombstone, deleted) {
        (false, false) => Some(Selected {
            record: at,
            deleted_at: None,
        }),
        (true, true) => {
            let before = history[..upto.saturating_sub(1)]
                .iter()
                .rev()
                .map(|&j| records.get(j))
                .find(|r| !r.rev.tombstone)?;
            Some(Selected {
                record: before,
                deleted_at: Some(at.rev),
            })
        }
        _ => None,
    }
}

fn key_matches(key: &[u8], target: &Target, ns: Option<&str>) -> bool {
    match target {
        Target::All | Target::Keys(_) => {
            ns.is_none() || KeyPath::parse(key).is_some_and(|p| p.namespace == ns)
        }
        Target::Resource {
            resource,
            group,
            names,
        } => KeyPath::parse(key).is_some_and(|p| {
            let (r, g) = p.group_resource();
            r == resource
                && group.as_deref().is_none_or(|x| x == g)
                && (ns.is_none() || p.namespace == ns)
                && (names.is_empty() || names.iter().any(|n| n == p.name))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_to_resources() {
        for (k, r) in [
            ("Deployment", "deployments"),
            ("Ingress", "ingresses"),
            ("NetworkPolicy", "networkpolicies"),
            ("Endpoints", "endpoints"),
            ("Gateway", "gateways"),
            ("StorageClass", "storageclasses"),
        ] {
            assert_eq!(plural(k), r);
        }
    }

    fn args(what: &[&str]) -> SelectArgs {
        SelectArgs {
            snapshot: "x".into(),
            what: what.iter().map(|s| s.to_string()).collect(),
            namespace: None,
            all_namespaces: false,
            selector: None,
            revision: None,
            deleted: false,
            limit: None,
        }
    }

    #[test]
    fn targets() {
        let r = |res: &str, g: Option<&str>, n: &[&str]| Target::Resource {
            resource: res.into(),
            group: g.map(Into::into),
            names: n.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(args(&[]).target().unwrap(), Target::All);
        assert_eq!(
            args(&["secrets", "a", "b"]).target().unwrap(),
            r("secrets", None, &["a", "b"])
        );
        assert_eq!(
            args(&["deployments.apps"]).target().unwrap(),
            r("deployments", Some("apps"), &[])
        );
        assert_eq!(
            args(&["routes.route.openshift.io/r1"]).target().unwrap(),
            r("routes", Some("route.openshift.io"), &["r1"])
        );
        assert_eq!(
            args(&["Deployment"]).target().unwrap(),
            r("deployments", None, &[])
        );
        assert_eq!(args(&["cm"]).target().unwrap(), r("configmaps", None, &[]));
        assert_eq!(args(&["secret"]).target().unwrap(), r("secrets", None, &[]));
        assert_eq!(
            args(&["ingress"]).target().unwrap(),
            r("ingresses", None, &[])
        );
        assert_eq!(
            args(&["endpoints"]).target().unwrap(),
            r("endpoints", None, &[])
        );
        assert_eq!(
            args(&["/registry/secrets/"]).target().unwrap(),
            Target::Keys(vec!["/registry/secrets/".into()])
        );
        assert!(args(&["/registry/secrets/", "x"]).target().is_err());
    }
}
