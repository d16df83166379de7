//! etcd key → (prefix, resource, namespace, name), as kube-apiserver and openshift-apiserver lay
//! keys out: `/<prefix>/<resource>[/<namespace>]/<name>`.
//!
//! The storage paths are set per resource in kube-apiserver's storage registry
//! (pkg/registry/*/storage/storage.go, `DefaultQualifiedResource` and the `Prefix` each one
//! passes); the irregular ones are `services/specs`, `services/endpoints`, `minions` and
//! `controllers`. Custom resources and many aggregated resources are stored under
//! `<group>/<plural>`. OpenShift 4 uses `/kubernetes.io` for kube-apiserver resources and
//! `/openshift.io` for openshift-apiserver and oauth-apiserver resources.

use serde::Serialize;

/// The parts of a Kubernetes etcd key. Borrows from the key bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KeyPath<'a> {
    /// The storage prefix without slashes: `registry`, `kubernetes.io`, `openshift.io`, …
    pub prefix: &'a str,
    /// The storage path of the resource: `secrets`, `services/specs`, `apps.example.com/widgets`.
    pub storage: &'a str,
    /// The namespace, for namespaced objects (told apart by path depth).
    pub namespace: Option<&'a str>,
    /// The object's name (the last path segment).
    pub name: &'a str,
}

/// Storage paths whose resource part takes two segments. `(storage path, API resource, group)`.
const TWO_SEGMENT: &[(&str, &str, &str)] = &[
    ("services/specs", "services", ""),
    ("services/endpoints", "endpoints", ""),
    (
        "oauth/accesstokens",
        "oauthaccesstokens",
        "oauth.openshift.io",
    ),
    (
        "oauth/authorizetokens",
        "oauthauthorizetokens",
        "oauth.openshift.io",
    ),
    ("oauth/clients", "oauthclients", "oauth.openshift.io"),
    (
        "oauth/clientauthorizations",
        "oauthclientauthorizations",
        "oauth.openshift.io",
    ),
];

/// Single-segment storage names that differ from the API resource, and the API group of well-known
/// non-core resources that are stored without a group directory. `(storage, API resource, group)`.
const ONE_SEGMENT: &[(&str, &str, &str)] = &[
    ("minions", "nodes", ""),
    ("controllers", "replicationcontrollers", ""),
    ("deployments", "deployments", "apps"),
    ("replicasets", "replicasets", "apps"),
    ("daemonsets", "daemonsets", "apps"),
    ("statefulsets", "statefulsets", "apps"),
    ("controllerrevisions", "controllerrevisions", "apps"),
    ("jobs", "jobs", "batch"),
    ("cronjobs", "cronjobs", "batch"),
    ("ingress", "ingresses", "networking.k8s.io"),
    ("networkpolicies", "networkpolicies", "networking.k8s.io"),
    ("leases", "leases", "coordination.k8s.io"),
    ("roles", "roles", "rbac.authorization.k8s.io"),
    ("rolebindings", "rolebindings", "rbac.authorization.k8s.io"),
    ("clusterroles", "clusterroles", "rbac.authorization.k8s.io"),
    (
        "clusterrolebindings",
        "clusterrolebindings",
        "rbac.authorization.k8s.io",
    ),
    ("storageclasses", "storageclasses", "storage.k8s.io"),
    ("routes", "routes", "route.openshift.io"),
];

/// The storage paths a resource may live under (the inverse of [`KeyPath::group_resource`]):
/// its name, the irregular paths that map to it, and `<group>/<resource>` for grouped resources.
/// `group` None means any group.
pub fn storage_paths(resource: &str, group: Option<&str>) -> Vec<String> {
    let fits = |g: &str| group.is_none_or(|x| x == g);
    let mut out = Vec::new();
    for (s, r, g) in TWO_SEGMENT.iter().chain(ONE_SEGMENT) {
        if *r == resource && fits(g) {
            out.push(s.to_string());
        }
    }
    out.push(resource.to_string());
    if let Some(g) = group.filter(|g| !g.is_empty()) {
        out.push(format!("{g}/{resource}"));
    }
    out.sort();
    out.dedup();
    out
}

impl<'a> KeyPath<'a> {
    /// Parses a key. Returns None for keys that are not UTF-8 or have fewer than three segments
    /// (`/prefix/resource/name`), which kube-apiserver never writes.
    pub fn parse(key: &'a [u8]) -> Option<KeyPath<'a>> {
        let key = std::str::from_utf8(key).ok()?;
        let rest = key.strip_prefix('/')?;
        let (prefix, rest) = rest.split_once('/')?;
        let segments: Vec<&str> = rest.split('/').collect();
        if prefix.is_empty() || segments.len() < 2 {
            return None;
        }
        // How many leading segments name the resource: two for the irregular paths and for
        // `<group>/<plural>` (a group always contains a dot), else one.
        let first = segments[0];
        let two = segments.len() >= 3
            && (TWO_SEGMENT.iter().any(|(s, _, _)| {
                s.split_once('/')
                    .is_some_and(|(a, b)| a == first && b == segments[1])
            }) || first.contains('.'));
        let n = if two { 2 } else { 1 };
        let storage_len = segments[..n].iter().map(|s| s.len()).sum::<usize>() + n - 1;
        let storage = &rest[..storage_len];
        let tail = &segments[n..];
        let (namespace, name) = match tail {
            [name] => (None, *name),
            [ns, name] => (Some(*ns), *name),
            // Deeper paths (e.g. /registry/events/ns/name/extra) keep the last segment as name.
            [ns, .., name] => (Some(*ns), *name),
            [] => return None,
        };
        Some(KeyPath {
            prefix,
            storage,
            namespace,
            name,
        })
    }

    /// The API resource and group this storage path belongs to: `("nodes", "")`,
    /// `("routes", "route.openshift.io")`, `("widgets", "apps.example.com")`.
    pub fn group_resource(&self) -> (&'a str, &'a str) {
        if let Some((_, r, g)) = TWO_SEGMENT.iter().find(|(s, _, _)| *s == self.storage) {
            return (r, g);
        }
        if let Some((group, plural)) = self.storage.split_once('/') {
            return (plural, group);
        }
        if let Some((_, r, g)) = ONE_SEGMENT.iter().find(|(s, _, _)| *s == self.storage) {
            return (r, g);
        }
        (self.storage, "")
    }

    /// The resource as EncryptionConfiguration names it: `secrets`, `routes.route.openshift.io`.
    pub fn qualified_resource(&self) -> String {
        match self.group_resource() {
            (r, "") => r.to_string(),
            (r, g) => format!("{r}.{g}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str) -> KeyPath<'_> {
        KeyPath::parse(k.as_bytes()).unwrap()
    }

    #[test]
    fn namespaced_and_cluster_scoped() {
        let k = p("/registry/secrets/kube-system/token-abc");
        assert_eq!(
            (k.prefix, k.storage, k.namespace, k.name),
            ("registry", "secrets", Some("kube-system"), "token-abc")
        );
        assert_eq!(k.qualified_resource(), "secrets");
        let k = p("/registry/minions/node-1");
        assert_eq!(
            (k.storage, k.namespace, k.name),
            ("minions", None, "node-1")
        );
        assert_eq!(k.qualified_resource(), "nodes");
    }

    #[test]
    fn irregular_and_grouped_paths() {
        let k = p("/registry/services/specs/default/kubernetes");
        assert_eq!(
            (k.storage, k.namespace, k.name),
            ("services/specs", Some("default"), "kubernetes")
        );
        assert_eq!(k.qualified_resource(), "services");
        let k = p("/registry/services/endpoints/default/kubernetes");
        assert_eq!(k.qualified_resource(), "endpoints");
        let k = p("/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com");
        assert_eq!((k.namespace, k.name), (None, "widgets.example.com"));
        assert_eq!(
            k.qualified_resource(),
            "customresourcedefinitions.apiextensions.k8s.io"
        );
        let k = p("/registry/example.com/widgets/default/w1");
        assert_eq!(k.qualified_resource(), "widgets.example.com");
        let k = p("/openshift.io/routes/ns/r");
        assert_eq!(
            (k.prefix, k.qualified_resource()),
            ("openshift.io", "routes.route.openshift.io".into())
        );
        let k = p("/openshift.io/oauth/accesstokens/sha256~x");
        assert_eq!(
            (k.namespace, k.qualified_resource()),
            (None, "oauthaccesstokens.oauth.openshift.io".into())
        );
        let k = p("/registry/controllers/ns/rc");
        assert_eq!(k.qualified_resource(), "replicationcontrollers");
    }

    #[test]
    fn rejects_non_kube_keys() {
        assert!(KeyPath::parse(b"foo").is_none());
        assert!(KeyPath::parse(b"/registry").is_none());
        assert!(KeyPath::parse(b"/registry/x").is_none());
        assert!(KeyPath::parse(b"/registry/\xff/x").is_none());
    }
}
