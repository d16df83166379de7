//! The published Kubernetes and OpenShift protobuf schema, built into the binary.
//!
//! `schema.fds` is a `FileDescriptorSet` compiled by protoc from the `generated.proto` files of
//! k8s.io/api, k8s.io/apimachinery, k8s.io/apiextensions-apiserver and openshift/api (all
//! Apache-2.0); `scripts/objects/make-schema.sh` rebuilds it and `schema.md` names the commits.
//! Field numbers never change in a released Kubernetes API, so one schema reads objects written
//! by every apiserver version: older fields are still declared, newer ones are warned about.
//!
//! Package → API group: k8s.io/api packages are named after the group's first label
//! (`rbac` → `rbac.authorization.k8s.io`), openshift/api's after theirs (`route` →
//! `route.openshift.io`); the exceptions are listed in [`group_of_package`].

use prost_reflect::{DescriptorPool, MessageDescriptor};
use std::collections::HashMap;
use std::sync::OnceLock;

static FDS: &[u8] = include_bytes!("schema.fds");
/// Go struct tags of the same types, one message a line: `name num:flags …` (see [`GoField`]).
static GO_FIELDS: &str = include_str!("gofields.txt");

/// How Go's JSON encoder treats one field (from its struct tag in types.go).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GoField {
    /// Embedded without a JSON name (`json:",inline"`): its fields are the parent's.
    pub inline: bool,
    /// `omitempty`: a zero scalar, empty string, list or map is left out.
    pub omitempty: bool,
    /// A pointer: present when set, even to a zero value.
    pub pointer: bool,
}

/// The schema and an index by (group, version, kind).
pub struct Schema {
    pool: DescriptorPool,
    by_gvk: HashMap<(String, String, String), MessageDescriptor>,
    go: HashMap<&'static str, Vec<(u32, GoField)>>,
}

static SCHEMA: OnceLock<Schema> = OnceLock::new();

/// The built-in schema (parsed once, on first use).
pub fn get() -> &'static Schema {
    SCHEMA.get_or_init(|| Schema::new(FDS))
}

impl Schema {
    fn new(fds: &[u8]) -> Schema {
        // The descriptor set is ours, compiled by protoc; a failure is a build defect that the
        // unit test below catches, so an empty pool (every type unknown) is the safe fallback.
        let pool = DescriptorPool::decode(fds).unwrap_or_default();
        let mut by_gvk = HashMap::new();
        for m in pool.all_messages() {
            let Some((pkg, version)) = m.package_name().rsplit_once('.') else {
                continue;
            };
            let Some(group) = group_of_package(pkg) else {
                continue;
            };
            by_gvk.insert((group, version.to_string(), m.name().to_string()), m);
        }
        let mut go = HashMap::new();
        for line in GO_FIELDS.lines().filter(|l| !l.starts_with('#')) {
            let mut parts = line.split(' ');
            let Some(msg) = parts.next() else { continue };
            let fields = parts
                .filter_map(|p| {
                    let (n, f) = p.split_once(':')?;
                    Some((
                        n.parse().ok()?,
                        GoField {
                            inline: f.contains('i'),
                            omitempty: f.contains('o'),
                            pointer: f.contains('p'),
                        },
                    ))
                })
                .collect();
            go.insert(msg, fields);
        }
        Schema { pool, by_gvk, go }
    }

    /// The message for an object's typeMeta (`apps/v1`, `Deployment`).
    pub fn message_for(&self, api_version: &str, kind: &str) -> Option<MessageDescriptor> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.by_gvk
            .get(&(group.to_string(), version.to_string(), kind.to_string()))
            .cloned()
    }

    /// `meta.v1.ObjectMeta`, for the metadata of types the schema does not know.
    pub fn object_meta(&self) -> Option<MessageDescriptor> {
        self.pool
            .get_message_by_name("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    }

    /// The Go JSON rules of a message's fields, when types.go was read for it.
    pub fn go_fields(&self, message: &str) -> Option<&[(u32, GoField)]> {
        self.go.get(message).map(Vec::as_slice)
    }

    /// Number of object types known.
    pub fn len(&self) -> usize {
        self.by_gvk.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_gvk.is_empty()
    }
}

/// The API group a proto package's types belong to; None for apimachinery's own packages.
pub fn group_of_package(pkg: &str) -> Option<String> {
    if let Some(p) = pkg.strip_prefix("k8s.io.api.") {
        let g = match p {
            "core" => "",
            "apps" | "batch" | "autoscaling" | "policy" | "extensions" => p,
            "rbac" => "rbac.authorization.k8s.io",
            "flowcontrol" => "flowcontrol.apiserver.k8s.io",
            "apiserverinternal" => "internal.apiserver.k8s.io",
            _ => return Some(format!("{p}.k8s.io")),
        };
        return Some(g.to_string());
    }
    if pkg == "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions" {
        return Some("apiextensions.k8s.io".into());
    }
    if let Some(p) = pkg.strip_prefix("github.com.openshift.api.") {
        let g = match p {
            "networkoperator" => "network.operator.openshift.io".to_string(),
            "cloudnetwork" => "cloud.network.openshift.io".to_string(),
            "samples" => "samples.operator.openshift.io".to_string(),
            _ => format!("{p}.openshift.io"),
        };
        return Some(g);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_schema_knows_core_apps_and_openshift() {
        let s = get();
        assert!(s.len() > 500, "{}", s.len());
        for (av, k) in [
            ("v1", "Secret"),
            ("v1", "Pod"),
            ("apps/v1", "Deployment"),
            ("rbac.authorization.k8s.io/v1", "ClusterRole"),
            ("coordination.k8s.io/v1", "Lease"),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            ("route.openshift.io/v1", "Route"),
            ("oauth.openshift.io/v1", "OAuthAccessToken"),
            ("extensions/v1beta1", "Ingress"),
        ] {
            assert!(s.message_for(av, k).is_some(), "{av} {k}");
        }
        assert_eq!(s.object_meta().unwrap().name(), "ObjectMeta");
        assert!(s.message_for("example.com/v1", "Widget").is_none());
        // Volume embeds VolumeSource (field 2) inline; ObjectMeta.deletionGracePeriodSeconds is *int64.
        let vol = s.go_fields("k8s.io.api.core.v1.Volume").unwrap();
        assert!(vol.iter().any(|(n, f)| *n == 2 && f.inline));
        let om = s
            .go_fields("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")
            .unwrap();
        assert!(om.iter().any(|(n, f)| *n == 10 && f.pointer && f.omitempty));
    }
}
