//! Per-node simulation: exactly what one node's kube-apiserver returns when it reads a record.
//!
//! Upstream (kubernetes/apiserver):
//! - pkg/server/options/encryptionconfig/config.go `getTransformerOverridesAndKMSPluginProbes`:
//!   each `resources[]` entry's resources are parsed with schema.ParseGroupResource and the
//!   entry's providers are APPENDED to that GroupResource's list (a resource listed twice gets
//!   both lists, in config order); a resource after an earlier `*.group` or `*.*` rule makes the
//!   apiserver refuse the config (`resource "x" is masked by earlier rule "*."`).
//! - `transformerFromOverrides` (1.27+): exact GroupResource, then `{group, *}`, then `{*, *}`,
//!   else `identity.NewEncryptCheckTransformer()` — which fails encrypted data with
//!   `identity transformer tried to read encrypted data` (1.26+; before 1.26 the raw bytes went
//!   on to the decoder, whose error we do not reproduce).
//! - Each provider is a `PrefixTransformer`; pkg/storage/value/transformer.go
//!   `prefixTransformers.TransformFromStorage` tries, in order, every transformer whose prefix
//!   matches; an error from the empty-prefix identity transformer is swallowed, other errors are
//!   collected and the loop goes on; the first success wins (even garbage from a chance-valid
//!   CBC padding). With no error collected it returns its own error: `no matching prefix found`
//!   for a resource, `no matching key was found for the provided AES transformer` /
//!   `… Secretbox transformer` for a provider's key list (key prefixes are `<name>:`).
//! - Collected errors: `utilerrors.Reduce(utilerrors.NewAggregate(errs))`; the aggregate's
//!   Error() flattens nested aggregates, drops repeated messages, and prints one message bare or
//!   several as `[a, b]` (apimachinery pkg/util/errors/errors.go).

use super::kms;
use super::{Trial, TrialCache};
use crate::keyring::{GroupResource, NodeConfig, Origin, ProviderConfig, Secret};
use crate::kube::openshift::Apiserver;
use crate::kube::Provider;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;

use crate::kube::transform_error::{TransformError, DERIVED_MARK};

pub const NO_MATCHING_PREFIX: &str = TransformError::NoMatchingPrefix.text();
pub const NO_AES_KEY: &str = TransformError::NoAesKey.text();
pub const NO_SECRETBOX_KEY: &str = TransformError::NoSecretboxKey.text();
pub const IDENTITY_ENCRYPTED: &str = TransformError::IdentityEncrypted.text();

/// What one node's kube-apiserver returns for one record.
///
/// Borrows names and fingerprints from the [`super::Engine`], so judging a record allocates
/// nothing for the common outcomes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum NodeOutcome<'e> {
    /// Read as stored, through identity (configured, or the default for uncovered resources).
    Plaintext,
    /// Decrypted with this key of the node's config.
    Decrypted {
        provider: Provider,
        key_name: &'e str,
        fingerprint: &'e str,
    },
    /// The node's key passed the CBC padding check by chance: the transformer returns garbage,
    /// and decoding it fails.
    Garbage {
        provider: Provider,
        key_name: &'e str,
        fingerprint: &'e str,
    },
    /// The transformer's error, exactly as the apiserver words it.
    Failed { error: Cow<'static, str> },
    /// The apiserver panics (an aescbc value that is exactly an IV).
    Panics { error: &'static str },
    /// A KMS provider of this node matches; only the plugin can tell.
    NeedsKms { plugin: &'e str, version: Provider },
    /// Another apiserver serves this resource (an OpenShift route judged by a kube-apiserver
    /// node when openshift-apiserver's config is known too): this node never reads it.
    NotServed,
}

impl NodeOutcome<'_> {
    /// True when the node returns the object.
    pub fn is_readable(&self) -> bool {
        matches!(self, NodeOutcome::Plaintext | NodeOutcome::Decrypted { .. })
    }

    /// One line for `failing_nodes`: the apiserver's own error where there is one.
    pub fn error_line(&self) -> Option<String> {
        match self {
            NodeOutcome::Plaintext | NodeOutcome::Decrypted { .. } | NodeOutcome::NotServed => None,
            NodeOutcome::Failed { error } => Some(error.to_string()),
            NodeOutcome::Panics { error } => Some(format!("{DERIVED_MARK}panic: {error}")),
            NodeOutcome::Garbage {
                key_name,
                fingerprint,
                ..
            } => Some(format!(
                "{DERIVED_MARK}key {key_name} ({fingerprint}) passes the padding check by chance and yields garbage; decoding fails"
            )),
            NodeOutcome::NeedsKms { plugin, .. } => Some(format!("needs KMS plugin {plugin}")),
        }
    }
}

/// One key of a node's provider, resolved to the engine's cipher table.
#[derive(Clone, Debug)]
pub(crate) struct SimKey {
    pub name: String,
    pub cipher: usize,
}

#[derive(Clone, Debug)]
pub(crate) enum SimProvider {
    Keys {
        provider: Provider,
        keys: Vec<SimKey>,
    },
    Kms {
        version: Provider,
        name: String,
    },
    Identity,
}

/// A record's resource resolved against the engine's table of every GroupResource any node
/// configures: the exact entry, the `*.group` entry and the `*.*` entry, where they exist.
/// Resolving once per record keeps string comparisons out of the per-node loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResourceIds {
    pub exact: Option<u32>,
    pub group: Option<u32>,
    pub all: Option<u32>,
    /// The apiserver that serves the resource, among those the engine simulates.
    pub apiserver: Apiserver,
}

impl ResourceIds {
    /// Resolves `(resource, group)` (None for a key that is not a Kubernetes path) through an
    /// index of the engine's table: one lookup per entry, not a scan (a config of 150,000
    /// resources made every record scan them, #18).
    pub(crate) fn resolve_in(
        index: &HashMap<GroupResource, u32>,
        gr: Option<(&str, &str)>,
    ) -> ResourceIds {
        let find = |r: &str, g: &str| {
            index
                .get(&GroupResource {
                    resource: r.to_string(),
                    group: g.to_string(),
                })
                .copied()
        };
        ResourceIds {
            exact: gr.and_then(|(r, g)| find(r, g)),
            group: gr.and_then(|(_, g)| find("*", g)),
            all: find("*", "*"),
            apiserver: Apiserver::Kube,
        }
    }
}

/// One node's compiled config.
#[derive(Clone, Debug)]
pub struct NodeSim {
    pub node: String,
    pub origin: Origin,
    /// The apiserver this node's config belongs to ([`Apiserver::of_node`]).
    pub apiserver: Apiserver,
    /// GroupResource → providers (appended across entries), in first-seen order.
    rules: Vec<(GroupResource, Vec<SimProvider>)>,
    /// Engine table index → index in `rules` (see [`ResourceIds`]).
    bound: Vec<Option<u32>>,
    /// Why the apiserver would refuse this config (a masked resource), if it would.
    pub config_error: Option<String>,
}

impl NodeSim {
    /// Compiles a node's config; `cipher_of` maps each key to the engine's cipher index.
    pub(crate) fn compile(
        nc: &NodeConfig,
        mut cipher_of: impl FnMut(Provider, &Secret) -> Option<usize>,
    ) -> NodeSim {
        let mut rules: Vec<(GroupResource, Vec<SimProvider>)> = Vec::new();
        // `rules` by GroupResource: entries are appended per resource in one pass (#18).
        let mut index: HashMap<GroupResource, usize> = HashMap::new();
        let config_error = nc.config.masked_resources();
        for rule in &nc.config.rules {
            let providers: Vec<SimProvider> = rule
                .providers
                .iter()
                .map(|p| match p {
                    ProviderConfig::Keys { provider, keys } => SimProvider::Keys {
                        provider: *provider,
                        keys: keys
                            .iter()
                            .filter_map(|k| {
                                Some(SimKey {
                                    name: k.name.clone(),
                                    cipher: cipher_of(*provider, &k.secret)?,
                                })
                            })
                            .collect(),
                    },
                    ProviderConfig::Kms { version, name, .. } => SimProvider::Kms {
                        version: *version,
                        name: name.clone(),
                    },
                    ProviderConfig::Identity => SimProvider::Identity,
                })
                .collect();
            for r in &rule.resources {
                let gr = GroupResource::parse(r);
                match index.get(&gr) {
                    Some(&i) => rules[i].1.extend(providers.iter().cloned()),
                    None => {
                        index.insert(gr.clone(), rules.len());
                        rules.push((gr, providers.clone()));
                    }
                }
            }
        }
        NodeSim {
            node: nc.node.clone(),
            origin: nc.origin.clone(),
            apiserver: Apiserver::of_node(&nc.node),
            rules,
            bound: Vec::new(),
            config_error,
        }
    }

    /// The GroupResources this node configures.
    pub(crate) fn resources(&self) -> impl Iterator<Item = &GroupResource> {
        self.rules.iter().map(|(g, _)| g)
    }

    /// Maps the engine's resource table onto this node's rules.
    pub(crate) fn bind(&mut self, table: &[GroupResource]) {
        // Each GroupResource is in `rules` once (compile merges repeats), so an index of it
        // gives the same first position as a scan, in linear time.
        let index: HashMap<&GroupResource, usize> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, (g, _))| (g, i))
            .rev()
            .collect();
        self.bound = table
            .iter()
            .map(|gr| index.get(gr).and_then(|&i| u32::try_from(i).ok()))
            .collect();
    }

    /// The providers that apply to a resource — exact entry, else `*.group`, else `*.*` — or
    /// None when the config does not cover it.
    pub(crate) fn providers_for(&self, ids: ResourceIds) -> Option<&[SimProvider]> {
        if !self.serves(ids) {
            return None;
        }
        for id in [ids.exact, ids.group, ids.all].into_iter().flatten() {
            if let Some(Some(r)) = self.bound.get(id as usize) {
                return self.rules.get(*r as usize).map(|(_, v)| v.as_slice());
            }
        }
        None
    }

    /// The provider new writes of this resource get on this node, when it is not identity.
    pub fn write_provider(&self, ids: ResourceIds) -> Option<Provider> {
        match self.providers_for(ids)?.first()? {
            SimProvider::Keys { provider, .. } => Some(*provider),
            SimProvider::Kms { version, .. } => Some(*version),
            SimProvider::Identity => None,
        }
    }

    /// Appends the key names this node configures for `provider`.
    pub(crate) fn key_names<'a>(&'a self, provider: Provider, out: &mut Vec<&'a str>) {
        for (_, list) in &self.rules {
            for p in list {
                if let SimProvider::Keys { provider: q, keys } = p {
                    if *q == provider {
                        out.extend(keys.iter().map(|k| k.name.as_str()));
                    }
                }
            }
        }
    }

    /// Appends the KMS plugin names this node configures for `version`.
    pub(crate) fn kms_names<'a>(&'a self, version: Provider, out: &mut Vec<&'a str>) {
        for (_, list) in &self.rules {
            for p in list {
                if let SimProvider::Kms { version: v, name } = p {
                    if *v == version {
                        out.push(name.as_str());
                    }
                }
            }
        }
    }

    /// True when this node's apiserver serves the resource.
    pub fn serves(&self, ids: ResourceIds) -> bool {
        self.apiserver == ids.apiserver
    }

    /// True when this node serves the resource and its config names it (exactly or by wildcard).
    pub fn covers(&self, ids: ResourceIds) -> bool {
        self.providers_for(ids).is_some()
    }

    /// What this node's kube-apiserver returns for `value`.
    pub(crate) fn read<'e>(
        &'e self,
        ids: ResourceIds,
        value: &[u8],
        cache: &mut TrialCache<'e>,
    ) -> NodeOutcome<'e> {
        if !self.serves(ids) {
            return NodeOutcome::NotServed;
        }
        let Some(providers) = self.providers_for(ids) else {
            // Default transformer: identity with the encrypted-data check (1.26+).
            return if value.starts_with(b"k8s:enc:") {
                NodeOutcome::Failed {
                    error: Cow::Borrowed(IDENTITY_ENCRYPTED),
                }
            } else {
                NodeOutcome::Plaintext
            };
        };
        let mut errs = Errors::default();
        for p in providers {
            match p {
                SimProvider::Identity => {
                    if value.starts_with(b"k8s:enc:") {
                        continue; // identity's error is swallowed
                    }
                    return NodeOutcome::Plaintext;
                }
                SimProvider::Keys { provider, keys } => {
                    let Some(rest) = value.strip_prefix(provider.prefix()) else {
                        continue;
                    };
                    let mut tried = false;
                    for k in keys {
                        let Some(payload) = rest
                            .strip_prefix(k.name.as_bytes())
                            .and_then(|r| r.strip_prefix(b":"))
                        else {
                            continue;
                        };
                        tried = true;
                        let offset = value.len() - payload.len();
                        match cache.get(k.cipher, offset) {
                            Trial::Decrypts => {
                                return NodeOutcome::Decrypted {
                                    provider: *provider,
                                    key_name: &k.name,
                                    fingerprint: cache.engine.fingerprint(k.cipher),
                                }
                            }
                            Trial::Garbage => {
                                return NodeOutcome::Garbage {
                                    provider: *provider,
                                    key_name: &k.name,
                                    fingerprint: cache.engine.fingerprint(k.cipher),
                                }
                            }
                            Trial::Panics(m) => return NodeOutcome::Panics { error: m },
                            Trial::Failed(m) => errs.push(Cow::Borrowed(m)),
                        }
                    }
                    if !tried {
                        let m = if *provider == Provider::Secretbox {
                            NO_SECRETBOX_KEY
                        } else {
                            NO_AES_KEY
                        };
                        errs.push(Cow::Borrowed(m));
                    }
                }
                SimProvider::Kms { version, name } => {
                    let Some(rest) = value.strip_prefix(version.prefix()) else {
                        continue;
                    };
                    let Some(payload) = rest
                        .strip_prefix(name.as_bytes())
                        .and_then(|r| r.strip_prefix(b":"))
                    else {
                        continue;
                    };
                    let parsed = if *version == Provider::KmsV1 {
                        kms::parse_v1(name, payload)
                    } else {
                        kms::parse_v2(name, payload)
                    };
                    match parsed {
                        Ok(_) => {
                            return NodeOutcome::NeedsKms {
                                plugin: name,
                                version: *version,
                            }
                        }
                        Err(e) => errs.push(Cow::Owned(e)),
                    }
                }
            }
        }
        NodeOutcome::Failed {
            error: errs.finish().unwrap_or(Cow::Borrowed(NO_MATCHING_PREFIX)),
        }
    }
}

/// Errors collected by a prefix-transformer loop, deduplicated as they arrive; allocates only
/// when a second distinct message shows up.
#[derive(Default)]
struct Errors {
    first: Option<Cow<'static, str>>,
    more: Vec<Cow<'static, str>>,
}

impl Errors {
    fn push(&mut self, e: Cow<'static, str>) {
        match &self.first {
            None => self.first = Some(e),
            Some(f) if *f == e => {}
            Some(_) => {
                if !self.more.contains(&e) {
                    self.more.push(e);
                }
            }
        }
    }

    /// The aggregate's text, or None when nothing was collected.
    fn finish(self) -> Option<Cow<'static, str>> {
        let first = self.first?;
        if self.more.is_empty() {
            return Some(first);
        }
        let all = std::iter::once(first.as_ref()).chain(self.more.iter().map(|e| e.as_ref()));
        Some(Cow::Owned(aggregate(all)))
    }
}

/// apimachinery `utilerrors.NewAggregate(errs).Error()` after `Reduce`: repeated messages are
/// dropped, one message prints bare, several print as `[a, b]`.
pub fn aggregate<'a>(msgs: impl IntoIterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for m in msgs {
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    match seen.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_like_apimachinery() {
        assert_eq!(aggregate(["a"]), "a");
        assert_eq!(aggregate(["a", "a"]), "a");
        assert_eq!(aggregate(["a", "b", "a"]), "[a, b]");
        assert_eq!(aggregate(["x", "y", "z"]), "[x, y, z]");
    }
}
