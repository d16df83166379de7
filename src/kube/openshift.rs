//! OpenShift's aggregated apiservers: which apiserver serves (and encrypts) a resource, and where
//! the operators keep each apiserver's EncryptionConfiguration inside etcd.
//!
//! On OpenShift 4, kube-apiserver serves the core and Kubernetes groups; openshift-apiserver and
//! oauth-apiserver serve the OpenShift groups below and encrypt them with keys of their own. Their
//! operators (library-go `pkg/operator/encryption`) keep the final config of each apiserver as a
//! Secret in `openshift-config-managed`, itself stored through kube-apiserver (so encrypted with
//! kube-apiserver's key):
//! - `encryption-config-<component>`, data key `encryption-config` (library-go
//!   `pkg/operator/encryption/encryptionconfig/secret.go`: `EncryptionConfSecretKey`), the
//!   EncryptionConfiguration the operand runs, keys inline;
//! - `encryption-key-<component>-<keyID>`, data key `encryption.apiserver.operator.openshift.io-key`
//!   (library-go `pkg/operator/encryption/secrets/types.go`: `EncryptionSecretKeyDataKey`), one
//!   key each, labelled `encryption.apiserver.operator.openshift.io/component=<component>`, mode
//!   in the annotation `encryption.apiserver.operator.openshift.io/mode`.
//!
//! Components are `openshift-apiserver` and `openshift-oauth-apiserver` (the names in
//! cluster-openshift-apiserver-operator and cluster-authentication-operator's encryption e2e
//! tests: `encryption-config-openshift-oauth-apiserver` in `openshift-config-managed`).

use serde::Serialize;

/// The namespace the encryption operators keep the final configs and keys in.
pub const CONFIG_NAMESPACE: &str = "openshift-config-managed";

/// The data key holding the EncryptionConfiguration in `encryption-config-<component>`.
pub const CONFIG_DATA_KEY: &str = "encryption-config";

/// The data key holding the raw key in `encryption-key-<component>-<keyID>` (library-go
/// `pkg/operator/encryption/secrets/types.go`: `EncryptionSecretKeyDataKey`).
pub const KEY_DATA_KEY: &str = "encryption.apiserver.operator.openshift.io-key";

/// The label naming a key Secret's component (`EncryptionKeySecretsLabel`): the operators find
/// their key Secrets by it, not by name.
pub const COMPONENT_LABEL: &str = "encryption.apiserver.operator.openshift.io/component";

/// The annotation holding a key's mode (`encryptionSecretMode`): `aescbc`, `aesgcm`,
/// `secretbox`, `identity` or `KMS` (library-go `pkg/operator/encryption/state/types.go`).
pub const MODE_ANNOTATION: &str = "encryption.apiserver.operator.openshift.io/mode";

/// When the key's migration was observed complete (`EncryptionSecretMigratedTimestamp`, RFC 3339).
pub const MIGRATED_TIMESTAMP_ANNOTATION: &str =
    "encryption.apiserver.operator.openshift.io/migrated-timestamp";

/// The resources migrated to the key (`EncryptionSecretMigratedResources`, JSON
/// `{"resources":[{"group":…,"resource":…}]}`).
pub const MIGRATED_RESOURCES_ANNOTATION: &str =
    "encryption.apiserver.operator.openshift.io/migrated-resources";

/// The prefix of every key Secret's name.
pub const KEY_SECRET_PREFIX: &str = "encryption-key-";

/// The key name a key Secret's keyID gives in the config: the decimal digits after the name's
/// last `-`, as an unsigned integer written back in decimal (library-go
/// `state.NameToKeyID`, then `strconv.FormatUint` in `secrets.ToKeyState`), so
/// `…-007` names key `7`. None when the name does not end in one.
pub fn key_generation(secret_name: &str) -> Option<String> {
    let (_, id) = secret_name.rsplit_once('-')?;
    // ParseUint takes ASCII digits only (no sign), at most u64.
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse::<u64>().ok().map(|n| n.to_string())
}

/// An apiserver that serves resources stored in etcd.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Apiserver {
    /// kube-apiserver: every resource no other apiserver below serves.
    #[default]
    Kube,
    /// openshift-apiserver (routes, builds, images, …).
    Openshift,
    /// oauth-apiserver (OAuth tokens, users).
    Oauth,
}

/// The aggregated apiservers whose configs can be recovered from the snapshot.
pub const AGGREGATED: [Apiserver; 2] = [Apiserver::Openshift, Apiserver::Oauth];

/// API group → the aggregated apiserver that serves it: the OpenShift 4 groups openshift-apiserver
/// and oauth-apiserver register (their APIServices `v1.<group>` point at those services; the
/// groups are openshift/api's `apps`, `authorization`, `build`, `image`, `project`, `quota`,
/// `route`, `security`, `template`, and `oauth`, `user`).
const GROUPS: &[(&str, Apiserver)] = &[
    ("apps.openshift.io", Apiserver::Openshift),
    ("authorization.openshift.io", Apiserver::Openshift),
    ("build.openshift.io", Apiserver::Openshift),
    ("image.openshift.io", Apiserver::Openshift),
    ("project.openshift.io", Apiserver::Openshift),
    ("quota.openshift.io", Apiserver::Openshift),
    ("route.openshift.io", Apiserver::Openshift),
    ("security.openshift.io", Apiserver::Openshift),
    ("template.openshift.io", Apiserver::Openshift),
    ("oauth.openshift.io", Apiserver::Oauth),
    ("user.openshift.io", Apiserver::Oauth),
];

impl Apiserver {
    /// The apiserver's name, which is also the node name its recovered config is judged under.
    pub fn name(self) -> &'static str {
        match self {
            Apiserver::Kube => "kube-apiserver",
            Apiserver::Openshift => "openshift-apiserver",
            Apiserver::Oauth => "oauth-apiserver",
        }
    }

    /// The operator's component name (secret names and the component label).
    pub fn component(self) -> &'static str {
        match self {
            Apiserver::Kube => "openshift-kube-apiserver",
            Apiserver::Openshift => "openshift-apiserver",
            Apiserver::Oauth => "openshift-oauth-apiserver",
        }
    }

    /// `encryption-config-<component>` in [`CONFIG_NAMESPACE`].
    pub fn config_secret(self) -> String {
        format!("encryption-config-{}", self.component())
    }

    /// `encryption-key-<component>-<key>` in [`CONFIG_NAMESPACE`]: where key `key` was minted.
    pub fn key_secret(self, key: &str) -> String {
        format!("encryption-key-{}-{key}", self.component())
    }

    /// The aggregated apiserver of an operator component (a key Secret's [`COMPONENT_LABEL`]).
    pub fn of_component(component: &str) -> Option<Apiserver> {
        AGGREGATED.into_iter().find(|a| a.component() == component)
    }

    /// The apiserver a config node stands for: the aggregated apiservers by their own name
    /// (a recovered config, or one given as `--encryption-config openshift-apiserver=FILE`),
    /// every other node is a kube-apiserver.
    pub fn of_node(node: &str) -> Apiserver {
        AGGREGATED
            .into_iter()
            .find(|a| a.name() == node)
            .unwrap_or(Apiserver::Kube)
    }

    /// The aggregated apiserver that serves API group `group`, if one does.
    pub fn serving(group: &str) -> Option<Apiserver> {
        GROUPS.iter().find(|(g, _)| *g == group).map(|(_, a)| *a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_groups() {
        assert_eq!(
            Apiserver::Oauth.config_secret(),
            "encryption-config-openshift-oauth-apiserver"
        );
        assert_eq!(
            Apiserver::Openshift.key_secret("3"),
            "encryption-key-openshift-apiserver-3"
        );
        assert_eq!(
            Apiserver::of_node("openshift-apiserver"),
            Apiserver::Openshift
        );
        assert_eq!(Apiserver::of_node("master-1"), Apiserver::Kube);
        assert_eq!(
            Apiserver::serving("route.openshift.io"),
            Some(Apiserver::Openshift)
        );
        assert_eq!(
            Apiserver::serving("oauth.openshift.io"),
            Some(Apiserver::Oauth)
        );
        assert_eq!(Apiserver::serving("apps"), None);
        assert_eq!(
            Apiserver::of_component("openshift-oauth-apiserver"),
            Some(Apiserver::Oauth)
        );
        assert_eq!(Apiserver::of_component("openshift-kube-apiserver"), None);
    }

    #[test]
    fn key_generations_as_library_go_reads_them() {
        let g = |s: &str| key_generation(s);
        assert_eq!(
            g("encryption-key-openshift-apiserver-3").as_deref(),
            Some("3")
        );
        assert_eq!(
            g("encryption-key-openshift-apiserver-007").as_deref(),
            Some("7")
        );
        assert_eq!(g("encryption-key-openshift-apiserver-"), None);
        assert_eq!(g("encryption-key-openshift-apiserver-+3"), None);
        assert_eq!(g("encryption-key-openshift-apiserver-x3"), None);
        assert_eq!(g("encryption-key-a-99999999999999999999"), None);
        assert_eq!(g("nodash"), None);
    }
}
