//! Candidate keys and the configs they come from: EncryptionConfiguration files
//! (`--encryption-config [NODE=]PATH`), OpenShift static_kuberesources tarballs
//! (`--static-resources [NODE=]PATH`) and bare keys (`--key [PROVIDER:]NAME=BASE64`).
//!
//! Every key keeps its provenance (node, file, tarball revision) and a fingerprint; the bytes stay
//! inside [`Secret`]. Each node's active config is kept whole, because the decrypt layer simulates
//! exactly what that node's kube-apiserver does with it.

pub mod config;
pub mod key;
pub mod tar;
pub mod tarball;

pub use config::{EncryptionConfig, GroupResource, KeyEntry, ProviderConfig, ResourceRule};
pub use key::{fingerprint, CandidateKey, Origin, Role, Secret};

use crate::kube::Provider;
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a key source could not be loaded. Every message names the file (or `--key #n`) and the
/// field, and never contains key bytes or their base64.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: {field}: {problem}")]
    Field {
        file: String,
        field: String,
        problem: Problem,
    },
    #[error("{file}: malformed {format}{}: {message}", location(*line, *column))]
    Syntax {
        file: String,
        format: &'static str,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: no static-pod-resources/kube-apiserver-pod-N/secrets/encryption-config/encryption-config in the tarball")]
    NoEncryptionConfig { file: String },
    #[error("node name {node:?} is given to both {first} and {second}; name them with NODE=PATH")]
    DuplicateNode {
        node: String,
        first: String,
        second: String,
    },
    #[error("{argument}: {message}")]
    Argument { argument: String, message: String },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l} column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing,
    Empty,
    WrongType(&'static str),
    BadBase64,
    KeyLength { provider: Provider, got: usize },
    UnknownProvider(String),
    NoKeyProvider(Provider),
    MoreThanOneProvider,
    NoProvider,
    KmsApiVersion,
    WrongKind,
    NonStringKey,
    Tagged(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => f.write_str("missing"),
            Problem::Empty => f.write_str("is empty"),
            Problem::WrongType(t) => write!(f, "expected {t}"),
            Problem::BadBase64 => f.write_str("not valid base64"),
            Problem::KeyLength { provider, got } => {
                let sizes = key::valid_key_sizes(*provider);
                let list = match sizes {
                    [a, b, c] => format!("{a}, {b} or {c}"),
                    [a] => a.to_string(),
                    _ => "no key".to_string(),
                };
                write!(f, "secret is {got} bytes; {provider} takes {list}")
            }
            Problem::UnknownProvider(p) => write!(
                f,
                "unknown provider {p:?} (expected aescbc, aesgcm, secretbox, kms or identity)"
            ),
            Problem::NoKeyProvider(p) => {
                write!(f, "{p} takes no key (expected aescbc, aesgcm or secretbox)")
            }
            Problem::MoreThanOneProvider => {
                f.write_str("more than one provider specified in a single element")
            }
            Problem::NoProvider => f.write_str("no provider (expected one of aescbc, aesgcm, secretbox, kms, identity)"),
            Problem::KmsApiVersion => f.write_str("unsupported KMS apiVersion (expected v1 or v2; the value is not shown)"),
            Problem::WrongKind => f.write_str(
                "expected EncryptionConfiguration (apiserver.config.k8s.io/v1) or EncryptionConfig (v1); the kind and apiVersion found are not shown",
            ),
            Problem::NonStringKey => f.write_str("a mapping key is not a string"),
            Problem::Tagged(t) => write!(f, "unexpected YAML tag {t}"),
        }
    }
}

/// One node's config as read from one file or one tarball revision.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub node: String,
    pub origin: Origin,
    pub config: EncryptionConfig,
    /// True for the config the node's kube-apiserver runs: the file itself, or the highest
    /// revision in a tarball. Older revisions only contribute candidate keys.
    pub active: bool,
}

/// An OpenShift fake aesgcm key (all-zero secret): the name of an old identity-mode key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Marker {
    pub node: String,
    pub origin: Origin,
    pub provider: Provider,
    pub name: String,
}

/// A single key found outside any config: OpenShift's key Secret
/// `openshift-config-managed/encryption-key-<component>-<N>` inside the snapshot
/// ([`crate::decrypt::recovered`]). It is a candidate of `node` (the apiserver it belongs to)
/// under `name`, the generation as that apiserver's config names it.
#[derive(Clone, Debug)]
pub struct ExtraKey {
    pub node: String,
    pub origin: Origin,
    pub provider: Provider,
    pub name: String,
    pub secret: Secret,
}

/// All key sources, loaded.
#[derive(Debug, Default)]
pub struct Keyring {
    /// Every config read, in argument order (tarball revisions ascending).
    pub configs: Vec<NodeConfig>,
    /// Every distinct key, per node, in config order; `--key` keys last.
    pub keys: Vec<CandidateKey>,
    pub markers: Vec<Marker>,
    /// Damage met in a source that did not stop it from being read (a tarball's bad gzip CRC,
    /// cut-off end or trailing bytes), one line each naming the file; never content.
    pub warnings: Vec<String>,
}

/// Where a `[NODE=]PATH` argument points.
pub struct NodeSpec {
    pub node: String,
    pub path: PathBuf,
    /// The path as given, for messages and the chain of custody.
    pub display: String,
}

/// Splits `[NODE=]PATH`. A path that exists as given wins over a split at `=`; the node defaults
/// to the file name without its extensions (`master-1.yaml` → `master-1`).
pub fn node_spec(spec: &str, flag: &str) -> Result<NodeSpec, Error> {
    let arg_err = |m: &str| Error::Argument {
        argument: format!("{flag} {spec}"),
        message: m.to_string(),
    };
    let (node, path) = match spec.split_once('=') {
        Some((n, p)) if !Path::new(spec).exists() && !n.contains('/') => {
            if n.is_empty() {
                return Err(arg_err("empty node name before '='"));
            }
            (Some(n.to_string()), p)
        }
        _ => (None, spec),
    };
    if path.is_empty() {
        return Err(arg_err("empty path"));
    }
    let node = match node {
        Some(n) => n,
        None => default_node(path)
            .ok_or_else(|| arg_err("cannot name a node after this path; use NODE=PATH"))?,
    };
    Ok(NodeSpec {
        node,
        path: PathBuf::from(path),
        display: path.to_string(),
    })
}

/// The file name without `.tar.gz`, `.tgz`, `.yaml`, `.yml`, `.json`, `.conf` or other extension.
pub fn default_node(path: &str) -> Option<String> {
    let name = Path::new(path).file_name()?.to_str()?;
    for ext in [".tar.gz", ".tgz", ".yaml", ".yml", ".json", ".conf"] {
        if let Some(stem) = name.strip_suffix(ext) {
            if !stem.is_empty() {
                return Some(stem.to_string());
            }
        }
    }
    let stem = Path::new(name).file_stem()?.to_str()?;
    (!stem.is_empty()).then(|| stem.to_string())
}

/// Reads a config file, stopping past [`config::MAX_CONFIG_BYTES`] (so pipes and devices
/// cannot exhaust memory either).
fn read_capped(path: &Path, display: &str) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let io = |e: std::io::Error| Error::Io {
        file: display.to_string(),
        source: e,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    let cap = config::MAX_CONFIG_BYTES as u64;
    f.take(cap + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(Error::Invalid {
            file: display.to_string(),
            message: format!(
                "more than {} MiB; an encryption config is at most {} MiB",
                cap >> 20,
                cap >> 20
            ),
        });
    }
    Ok(bytes)
}

/// Collects key sources, then builds the [`Keyring`].
#[derive(Default)]
pub struct KeyringBuilder {
    configs: Vec<NodeConfig>,
    /// (node, display of its first source) to detect two sources claiming one node.
    node_sources: Vec<(String, String)>,
    cli: Vec<(usize, Provider, String, Secret)>,
    extra: Vec<ExtraKey>,
    warnings: Vec<String>,
}

impl KeyringBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    fn claim_node(&mut self, node: &str, display: &str) -> Result<(), Error> {
        if let Some((_, first)) = self.node_sources.iter().find(|(n, _)| n == node) {
            return Err(Error::DuplicateNode {
                node: node.to_string(),
                first: first.clone(),
                second: display.to_string(),
            });
        }
        self.node_sources
            .push((node.to_string(), display.to_string()));
        Ok(())
    }

    /// `--encryption-config [NODE=]PATH`.
    pub fn encryption_config(&mut self, spec: &str) -> Result<&mut Self, Error> {
        let s = node_spec(spec, "--encryption-config")?;
        let bytes = read_capped(&s.path, &s.display)?;
        let config = config::parse(&bytes, &s.display)?;
        self.add_config(
            &s.node,
            Origin::EncryptionConfig {
                path: s.display.clone(),
            },
            config,
        )?;
        Ok(self)
    }

    /// Adds an already-parsed config for `node` (used by tests and by callers with configs in
    /// memory).
    pub fn add_config(
        &mut self,
        node: &str,
        origin: Origin,
        config: EncryptionConfig,
    ) -> Result<&mut Self, Error> {
        self.claim_node(node, &origin.to_string())?;
        self.configs.push(NodeConfig {
            node: node.to_string(),
            origin,
            config,
            active: true,
        });
        Ok(self)
    }

    /// `--static-resources [NODE=]PATH`.
    pub fn static_resources(&mut self, spec: &str) -> Result<&mut Self, Error> {
        let s = node_spec(spec, "--static-resources")?;
        let tarball = tarball::read(&s.path, &s.display)?;
        self.warnings.extend(
            tarball
                .warnings
                .iter()
                .map(|w| format!("{}: {w}", s.display)),
        );
        self.add_tarball_configs(&s.node, &s.display, tarball.configs)?;
        Ok(self)
    }

    /// Adds the configs of one tarball (sorted by revision); the highest revision is active.
    pub fn add_tarball_configs(
        &mut self,
        node: &str,
        display: &str,
        found: Vec<tarball::TarballConfig>,
    ) -> Result<&mut Self, Error> {
        self.claim_node(node, display)?;
        let last = found.len().saturating_sub(1);
        for (i, t) in found.into_iter().enumerate() {
            self.configs.push(NodeConfig {
                node: node.to_string(),
                origin: Origin::StaticResources {
                    path: display.to_string(),
                    revision: t.revision,
                    entry: t.entry,
                },
                config: t.config,
                active: i == last,
            });
        }
        Ok(self)
    }

    /// `--key [PROVIDER:]NAME=BASE64` (the n-th, counting from 1). PROVIDER is aescbc unless
    /// given; a NAME containing ':' needs an explicit PROVIDER.
    pub fn key_arg(&mut self, spec: &str) -> Result<&mut Self, Error> {
        let index = self.cli.len() + 1;
        let file = format!("--key #{index}");
        let ferr = |field: &str, problem: Problem| Error::Field {
            file: file.clone(),
            field: field.to_string(),
            problem,
        };
        let Some((lhs, b64)) = spec.split_once('=') else {
            return Err(Error::Argument {
                argument: file.clone(),
                message: "expected [PROVIDER:]NAME=BASE64".to_string(),
            });
        };
        let (provider, name) = match lhs.split_once(':') {
            None => (Provider::Aescbc, lhs),
            Some((p, n)) => {
                let provider = match p {
                    "aescbc" => Provider::Aescbc,
                    "aesgcm" => Provider::Aesgcm,
                    "secretbox" => Provider::Secretbox,
                    "kms" => return Err(ferr("provider", Problem::NoKeyProvider(Provider::KmsV1))),
                    "identity" => {
                        return Err(ferr("provider", Problem::NoKeyProvider(Provider::Identity)))
                    }
                    other => {
                        return Err(ferr(
                            "provider",
                            Problem::UnknownProvider(crate::sanitize::capped(other, 64)),
                        ))
                    }
                };
                (provider, n)
            }
        };
        if name.is_empty() {
            return Err(ferr("name", Problem::Empty));
        }
        let bytes = config::decode_base64(b64).ok_or_else(|| ferr("secret", Problem::BadBase64))?;
        if !key::valid_key_sizes(provider).contains(&bytes.len()) {
            return Err(ferr(
                "secret",
                Problem::KeyLength {
                    provider,
                    got: bytes.len(),
                },
            ));
        }
        self.cli
            .push((index, provider, name.to_string(), Secret::new(bytes)));
        Ok(self)
    }

    /// Derives the candidate keys and markers. Linear in the number of key entries (n log n
    /// with the indexes): a tarball of 40,000 revisions or a config of 100,000 keys is read in
    /// well under a second.
    pub fn build(self) -> Keyring {
        use std::collections::{BTreeSet, HashMap, HashSet};
        let mut keys: Vec<CandidateKey> = Vec::new();
        let mut markers: Vec<Marker> = Vec::new();
        let mut ids = Ids::default();
        // Indexes over `keys` and `markers`, so each entry costs a lookup, not a scan.
        let mut index: HashMap<(&str, Provider, &str, String), usize> = HashMap::new();
        let mut seen_markers: BTreeSet<Marker> = BTreeSet::new();
        let mut seen_origins: BTreeSet<(usize, &Origin)> = BTreeSet::new();
        let mut seen_resources: HashSet<(usize, &str)> = HashSet::new();
        for nc in &self.configs {
            for rule in &nc.config.rules {
                for (pi, p) in rule.providers.iter().enumerate() {
                    let ProviderConfig::Keys {
                        provider,
                        keys: entries,
                    } = p
                    else {
                        continue;
                    };
                    for (ki, k) in entries.iter().enumerate() {
                        if k.marker {
                            let m = Marker {
                                node: nc.node.clone(),
                                origin: nc.origin.clone(),
                                provider: *provider,
                                name: k.name.clone(),
                            };
                            if seen_markers.insert(m.clone()) {
                                markers.push(m);
                            }
                            continue;
                        }
                        let role = match (nc.active, pi == 0 && ki == 0) {
                            (false, _) => Role::Retired,
                            (true, true) => Role::Write,
                            (true, false) => Role::Read,
                        };
                        let fp = k.secret.fingerprint();
                        let n = *index
                            .entry((nc.node.as_str(), *provider, k.name.as_str(), fp.clone()))
                            .or_insert_with(|| {
                                let id = ids.unique(&nc.node, *provider, &k.name);
                                keys.push(CandidateKey {
                                    id,
                                    node: nc.node.clone(),
                                    origins: Vec::new(),
                                    provider: *provider,
                                    name: k.name.clone(),
                                    fingerprint: fp,
                                    size: k.secret.len(),
                                    role,
                                    resources: Vec::new(),
                                    secret: k.secret.clone(),
                                });
                                keys.len() - 1
                            });
                        let c = &mut keys[n];
                        // The strongest role wins: write > read > retired.
                        if role < c.role {
                            c.role = role;
                        }
                        if seen_origins.insert((n, &nc.origin)) {
                            c.origins.push(nc.origin.clone());
                        }
                        if nc.active {
                            for r in &rule.resources {
                                if seen_resources.insert((n, r.as_str())) {
                                    c.resources.push(r.clone());
                                }
                            }
                        }
                    }
                }
            }
        }
        // A key Secret's key: one more origin of the same key when a config of its node holds
        // those bytes under that name (a generation the config lists), else a candidate of its
        // own (a generation no config lists).
        for e in &self.extra {
            let fp = e.secret.fingerprint();
            match index.get(&(e.node.as_str(), e.provider, e.name.as_str(), fp.clone())) {
                Some(&n) => {
                    if !keys[n].origins.contains(&e.origin) {
                        keys[n].origins.push(e.origin.clone());
                    }
                }
                None => {
                    let id = ids.unique(&e.node, e.provider, &e.name);
                    keys.push(CandidateKey {
                        id,
                        node: e.node.clone(),
                        origins: vec![e.origin.clone()],
                        provider: e.provider,
                        name: e.name.clone(),
                        fingerprint: fp,
                        size: e.secret.len(),
                        role: Role::Candidate,
                        resources: Vec::new(),
                        secret: e.secret.clone(),
                    });
                }
            }
        }
        for (index, provider, name, secret) in self.cli {
            let id = ids.unique("cli", provider, &name);
            keys.push(CandidateKey {
                id,
                node: "cli".to_string(),
                origins: vec![Origin::CommandLine { index }],
                provider,
                name,
                fingerprint: secret.fingerprint(),
                size: secret.len(),
                role: Role::Candidate,
                resources: Vec::new(),
                secret,
            });
        }
        Keyring {
            configs: self.configs,
            keys,
            markers,
            warnings: self.warnings,
        }
    }
}

/// Key ids handed out so far.
#[derive(Default)]
struct Ids {
    taken: std::collections::HashSet<String>,
    /// The next `#n` to try per base id, so repeats cost O(1) each, not a scan.
    next: std::collections::HashMap<String, u64>,
}

impl Ids {
    /// `<node>/<provider>/<name>`, with `#2`, `#3`, … when that id is already taken.
    fn unique(&mut self, node: &str, provider: Provider, name: &str) -> String {
        let base = format!("{node}/{provider}/{name}");
        if self.taken.insert(base.clone()) {
            return base;
        }
        let n = self.next.entry(base.clone()).or_insert(2);
        loop {
            let id = format!("{base}#{n}");
            *n += 1;
            if self.taken.insert(id.clone()) {
                return id;
            }
        }
    }
}

impl Keyring {
    /// The configs the nodes' kube-apiservers run (one per node), in argument order.
    pub fn active_configs(&self) -> impl Iterator<Item = &NodeConfig> {
        self.configs.iter().filter(|c| c.active)
    }

    /// This keyring with `extra` configs (each active, for a node no given source names)
    /// after the given ones: the candidate keys are derived again, so the given keys keep
    /// their ids and the new ones come after them. Used for the apiserver configs recovered
    /// from the snapshot's own Secrets.
    pub fn with_configs(&self, extra: Vec<NodeConfig>) -> Keyring {
        self.with_recovered(extra, Vec::new())
    }

    /// [`Keyring::with_configs`], plus single keys found in the snapshot (`keys`, after the
    /// configs' keys and before the `--key`s).
    pub fn with_recovered(&self, extra: Vec<NodeConfig>, keys: Vec<ExtraKey>) -> Keyring {
        let mut configs = self.configs.clone();
        configs.extend(
            extra
                .into_iter()
                .filter(|e| !self.configs.iter().any(|c| c.node == e.node)),
        );
        let cli = self
            .keys
            .iter()
            .filter_map(|k| match k.origins.first() {
                Some(Origin::CommandLine { index }) => {
                    Some((*index, k.provider, k.name.clone(), k.secret().clone()))
                }
                _ => None,
            })
            .collect();
        KeyringBuilder {
            configs,
            node_sources: Vec::new(),
            cli,
            extra: keys,
            warnings: self.warnings.clone(),
        }
        .build()
    }

    /// True when no key source was given at all.
    pub fn is_empty(&self) -> bool {
        self.configs.is_empty() && self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K32: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn key_args() {
        let mut b = KeyringBuilder::new();
        b.key_arg(&format!("key1={K32}")).unwrap();
        b.key_arg(&format!("secretbox:a:b={K32}")).unwrap();
        b.key_arg(&format!("aesgcm:key1={K32}")).unwrap();
        b.key_arg(&format!("key1={K32}")).unwrap();
        let k = b.build();
        let ids: Vec<_> = k.keys.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "cli/aescbc/key1",
                "cli/secretbox/a:b",
                "cli/aesgcm/key1",
                "cli/aescbc/key1#2"
            ]
        );
        assert_eq!(k.keys[1].name, "a:b");
        assert_eq!(k.keys[0].role, Role::Candidate);
    }

    #[test]
    fn bad_key_args_name_the_argument_and_field() {
        let e = |s: &str| KeyringBuilder::new().key_arg(s).err().unwrap().to_string();
        assert_eq!(e("k=!!!!"), "--key #1: secret: not valid base64");
        assert_eq!(
            e("k=MDEyMzQ1Njc4OWFiY2RlZjAxMjM="),
            "--key #1: secret: secret is 20 bytes; aescbc takes 16, 24 or 32"
        );
        assert_eq!(
            e("rot13:k=MDEy"),
            "--key #1: provider: unknown provider \"rot13\" (expected aescbc, aesgcm, secretbox, kms or identity)"
        );
        assert_eq!(
            e("kms:k=MDEy"),
            "--key #1: provider: kms takes no key (expected aescbc, aesgcm or secretbox)"
        );
        assert_eq!(e("justaname"), "--key #1: expected [PROVIDER:]NAME=BASE64");
        assert_eq!(e(&format!("={K32}")), "--key #1: name: is empty");
        assert!(!e("k=MDEyMzQ1Njc4OWFiY2RlZjAxMjM=").contains("MDEy"));
    }

    #[test]
    fn node_names() {
        assert_eq!(
            default_node("/a/master-1.yaml").as_deref(),
            Some("master-1")
        );
        assert_eq!(
            default_node("static_kuberesources_2024-01-02_030405.tar.gz").as_deref(),
            Some("static_kuberesources_2024-01-02_030405")
        );
        assert_eq!(
            default_node("/etc/x/secrets.conf").as_deref(),
            Some("secrets")
        );
        assert_eq!(
            default_node("encryption-config").as_deref(),
            Some("encryption-config")
        );
        let s = node_spec("cp-3=/nonexistent/x.yaml", "--encryption-config")
            .ok()
            .unwrap();
        assert_eq!(
            (s.node.as_str(), s.display.as_str()),
            ("cp-3", "/nonexistent/x.yaml")
        );
        let s = node_spec("/nonexistent/dir=x/y.yaml", "--encryption-config")
            .ok()
            .unwrap();
        assert_eq!(s.node, "y");
    }

    fn config_with(keys: &[(&str, &str)]) -> EncryptionConfig {
        let list: Vec<String> = keys
            .iter()
            .map(|(n, s)| format!("{{\"name\":\"{n}\",\"secret\":\"{s}\"}}"))
            .collect();
        let json = format!(
            r#"{{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{{"resources":["secrets","configmaps"],"providers":[{{"aescbc":{{"keys":[{}]}}}},{{"identity":{{}}}}]}}]}}"#,
            list.join(",")
        );
        config::parse(json.as_bytes(), "t.json").unwrap()
    }

    #[test]
    fn roles_ids_and_duplicate_nodes() {
        let k16 = "MDEyMzQ1Njc4OWFiY2RlZg==";
        let mut b = KeyringBuilder::new();
        let o = |p: &str| Origin::EncryptionConfig { path: p.into() };
        b.add_config(
            "m1",
            o("m1.yaml"),
            config_with(&[("key1", K32), ("old", k16)]),
        )
        .unwrap();
        b.add_config("m3", o("m3.yaml"), config_with(&[("key1", k16)]))
            .unwrap();
        let e = b
            .add_config("m1", o("other/m1.yaml"), config_with(&[("key1", K32)]))
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            e,
            "node name \"m1\" is given to both m1.yaml and other/m1.yaml; name them with NODE=PATH"
        );
        let k = b.build();
        let view: Vec<_> = k
            .keys
            .iter()
            .map(|k| (k.id.as_str(), k.role, k.size, k.resources.join(",")))
            .collect();
        assert_eq!(
            view,
            [
                (
                    "m1/aescbc/key1",
                    Role::Write,
                    32,
                    "secrets,configmaps".to_string()
                ),
                (
                    "m1/aescbc/old",
                    Role::Read,
                    16,
                    "secrets,configmaps".to_string()
                ),
                (
                    "m3/aescbc/key1",
                    Role::Write,
                    16,
                    "secrets,configmaps".to_string()
                ),
            ]
        );
        assert_ne!(k.keys[0].fingerprint, k.keys[2].fingerprint);
    }

    #[test]
    fn tarball_revisions_markers_and_retired_keys() {
        use tarball::tests::{make_tgz, OPENSHIFT_CONFIG};
        let old = OPENSHIFT_CONFIG
            .replace("\"name\":\"2\"", "\"name\":\"0\"")
            .replace(
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=",
            );
        let tgz = make_tgz(&[
            (
                "etc/kubernetes/static-pod-resources/kube-apiserver-pod-6/secrets/encryption-config/encryption-config",
                old.as_bytes(),
            ),
            (
                "etc/kubernetes/static-pod-resources/kube-apiserver-pod-7/secrets/encryption-config/encryption-config",
                OPENSHIFT_CONFIG.as_bytes(),
            ),
        ]);
        let found = tarball::read_bytes(&tgz, "s.tar.gz").unwrap().configs;
        let mut b = KeyringBuilder::new();
        b.add_tarball_configs("cp-1", "s.tar.gz", found).unwrap();
        let k = b.build();
        assert_eq!(k.active_configs().count(), 1);
        let view: Vec<_> = k
            .keys
            .iter()
            .map(|k| (k.id.as_str(), k.role, k.origins.len()))
            .collect();
        assert_eq!(
            view,
            [
                ("cp-1/aescbc/0", Role::Retired, 1),
                ("cp-1/aescbc/1", Role::Read, 2),
                ("cp-1/aescbc/2", Role::Write, 1),
            ]
        );
        assert_eq!(k.markers.len(), 2);
        assert!(k
            .markers
            .iter()
            .all(|m| m.name == "1" && m.provider == Provider::Aesgcm));
        assert_eq!(k.keys[2].resources, ["secrets", "configmaps"]);
    }
}
