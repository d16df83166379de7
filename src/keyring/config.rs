//! EncryptionConfiguration: `apiserver.config.k8s.io/v1` `EncryptionConfiguration` and the legacy
//! `v1` `EncryptionConfig` (still registered in apiserver pkg/apis/apiserver/v1/register.go), as
//! YAML or JSON.
//!
//! The file is first parsed into a generic tree and then walked by hand, so every error names the
//! field by its path (`resources[0].providers[1].aescbc.keys[0].secret`) and never quotes a value:
//! serde's "invalid type: string \"…\"" messages would echo a secret.

use super::key::{valid_key_sizes, Secret};
use super::{Error, Problem};
use crate::kube::Provider;
use base64::Engine;
use serde_json::{Map, Value};

/// A parsed EncryptionConfiguration.
#[derive(Clone, Debug)]
pub struct EncryptionConfig {
    /// `resources[]`, in file order.
    pub rules: Vec<ResourceRule>,
    /// True for the legacy `kind: EncryptionConfig`, `apiVersion: v1`.
    pub legacy: bool,
}

/// One `resources[]` entry: the resources it covers and its providers in order (the first one
/// encrypts writes, all are tried on reads).
#[derive(Clone, Debug)]
pub struct ResourceRule {
    /// The resources as the config spells them (`secrets`, `*.`, `routes.route.openshift.io`).
    pub resources: Vec<String>,
    pub providers: Vec<ProviderConfig>,
}

/// One provider of a resources entry.
#[derive(Clone, Debug)]
pub enum ProviderConfig {
    /// aescbc, aesgcm or secretbox with its keys in order.
    Keys {
        provider: Provider,
        keys: Vec<KeyEntry>,
    },
    /// A KMS plugin (v1 or v2). Its keys live in the KMS; we can only name it.
    Kms {
        version: Provider,
        name: String,
        endpoint: String,
    },
    Identity,
}

impl ProviderConfig {
    /// The provider kind (aescbc, …, kms, kmsv2, identity).
    pub fn provider(&self) -> Provider {
        match self {
            ProviderConfig::Keys { provider, .. } => *provider,
            ProviderConfig::Kms { version, .. } => *version,
            ProviderConfig::Identity => Provider::Identity,
        }
    }
}

/// One `{name, secret}` key.
#[derive(Clone, Debug)]
pub struct KeyEntry {
    pub name: String,
    pub secret: Secret,
    /// An all-zero secret: OpenShift writes fake aesgcm providers with a 16-zero-byte secret that
    /// only carry the names of old identity-mode keys (openshift/library-go
    /// pkg/operator/encryption). They are markers, never real keys; the apiserver still builds a
    /// transformer for them, so the node simulation keeps them.
    pub marker: bool,
}

/// A GroupResource as kube-apiserver parses a config entry (apimachinery schema.ParseGroupResource:
/// split at the FIRST dot). `*.` is {resource "*", group ""}, `*.*` is {"*", "*"}.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupResource {
    pub resource: String,
    pub group: String,
}

impl GroupResource {
    pub fn parse(s: &str) -> GroupResource {
        match s.split_once('.') {
            Some((r, g)) => GroupResource {
                resource: r.to_string(),
                group: g.to_string(),
            },
            None => GroupResource {
                resource: s.to_string(),
                group: String::new(),
            },
        }
    }
}

impl GroupResource {
    /// apimachinery GroupResource.String(), except `*.` for {*, ""} as config.go's
    /// grYAMLString prints it.
    pub fn config_string(&self) -> String {
        if self.group.is_empty() && self.resource == "*" {
            return "*.".to_string();
        }
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

impl EncryptionConfig {
    /// The error kube-apiserver refuses this config with when a resource comes after a
    /// `*.group` or `*.*` rule that already covers it (apiserver config.go
    /// getTransformerOverridesAndKMSPluginProbes: `resource "x" is masked by earlier rule "y"`;
    /// it stops at the first).
    pub fn masked_resources(&self) -> Option<String> {
        // A set, not a list: a config of 150,000 resources was quadratic here (#18).
        let mut seen: std::collections::HashSet<GroupResource> = std::collections::HashSet::new();
        let all = GroupResource {
            resource: "*".into(),
            group: "*".into(),
        };
        for rule in &self.rules {
            for r in &rule.resources {
                let gr = GroupResource::parse(r);
                let group_mask = GroupResource {
                    resource: "*".into(),
                    group: gr.group.clone(),
                };
                for mask in [&group_mask, &all] {
                    if seen.contains(mask) {
                        return Some(format!(
                            "resource {:?} is masked by earlier rule {:?}",
                            gr.config_string(),
                            mask.config_string()
                        ));
                    }
                }
                seen.insert(gr);
            }
        }
        None
    }
}

/// Go's base64.StdEncoding: padded standard alphabet, lenient about trailing bits, and it skips
/// `\r` and `\n` (encoding/base64 DecodeString).
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
    );
    let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    engine.decode(cleaned.as_bytes()).ok()
}

/// Parses a config file's bytes. `file` is the name errors carry.
pub fn parse(bytes: &[u8], file: &str) -> Result<EncryptionConfig, Error> {
    let tree = parse_tree(bytes, file)?;
    let w = Walker { file };
    w.config(&tree)
}

/// Real EncryptionConfigurations are a few KiB and nest a handful of levels.
pub const MAX_CONFIG_BYTES: usize = 4 << 20;
pub const MAX_FLOW_DEPTH: usize = 64;

/// Rejects inputs a parser would choke on before any parser sees them: the YAML parser's time is
/// quadratic in flow nesting (`[[[[…` 50,000 deep took 31 s), so brackets and braces outside
/// quoted strings and comments are counted in one pass.
fn check_shape(bytes: &[u8], file: &str) -> Result<(), Error> {
    let err = |line: Option<usize>, message: String| Error::Syntax {
        file: file.to_string(),
        format: "config",
        line,
        column: None,
        message,
    };
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(err(
            None,
            format!(
                "{} bytes; an encryption config is at most {} MiB",
                bytes.len(),
                MAX_CONFIG_BYTES >> 20
            ),
        ));
    }
    let (mut depth, mut line) = (0usize, 1usize);
    let mut quote: Option<u8> = None;
    let mut comment = false;
    let mut prev = b'\n';
    for &b in bytes {
        match (quote, b) {
            (_, b'\n') => {
                line += 1;
                comment = false;
            }
            _ if comment => {}
            (Some(q), c) if c == q && prev != b'\\' => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'#') if prev.is_ascii_whitespace() => comment = true,
            (None, b'[' | b'{') => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(err(
                        Some(line),
                        format!("nesting deeper than {MAX_FLOW_DEPTH} levels"),
                    ));
                }
            }
            (None, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = b;
    }
    Ok(())
}

/// JSON when the first non-blank byte is `{` (OpenShift writes compact JSON), else YAML.
fn parse_tree(bytes: &[u8], file: &str) -> Result<Value, Error> {
    check_shape(bytes, file)?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return serde_json::from_slice::<Value>(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "JSON",
            line: Some(e.line()),
            column: Some(e.column()),
            message: redact_quoted(&strip_location(&e.to_string())),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| Error::Syntax {
        file: file.to_string(),
        format: "YAML",
        line: None,
        column: None,
        message: format!("not UTF-8 (byte {})", e.valid_up_to()),
    })?;
    let y: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let loc = e.location();
        Error::Syntax {
            file: file.to_string(),
            format: "YAML",
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message: redact_quoted(&strip_location(&e.to_string())),
        }
    })?;
    yaml_to_json(y, "", file)
}

/// Parser messages end in " at line L column C"; we print the location ourselves.
fn strip_location(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Parser messages should not quote input, but make sure: anything in double quotes goes.
fn redact_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut inside = false;
    for c in msg.chars() {
        if c == '"' {
            if inside {
                out.push_str("…\"");
            } else {
                out.push('"');
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

fn yaml_to_json(y: serde_yaml_ng::Value, path: &str, file: &str) -> Result<Value, Error> {
    use serde_yaml_ng::Value as Y;
    Ok(match y {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        // Numbers are never keys; keep their shape only so a type error can be reported.
        Y::Number(n) => Value::Number(
            n.as_i64()
                .map(serde_json::Number::from)
                .unwrap_or_else(|| serde_json::Number::from(0)),
        ),
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => {
            let mut out = Vec::with_capacity(seq.len());
            for (i, v) in seq.into_iter().enumerate() {
                out.push(yaml_to_json(v, &format!("{path}[{i}]"), file)?);
            }
            Value::Array(out)
        }
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let Y::String(k) = k else {
                    return Err(field_err(file, or_root(path), Problem::NonStringKey));
                };
                let child = join(path, &k);
                let v = yaml_to_json(v, &child, file)?;
                out.insert(k, v);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            return Err(field_err(
                file,
                or_root(path),
                Problem::Tagged(printable(&t.tag.to_string())),
            ))
        }
    })
}

fn or_root(path: &str) -> &str {
    if path.is_empty() {
        "(document)"
    } else {
        path
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn field_err(file: &str, field: &str, problem: Problem) -> Error {
    Error::Field {
        file: file.to_string(),
        field: field.to_string(),
        problem,
    }
}

/// Walks the generic tree, naming fields by path in errors.
struct Walker<'a> {
    file: &'a str,
}

impl Walker<'_> {
    fn err(&self, field: &str, problem: Problem) -> Error {
        field_err(self.file, field, problem)
    }

    fn object<'v>(&self, v: &'v Value, field: &str) -> Result<&'v Map<String, Value>, Error> {
        v.as_object()
            .ok_or_else(|| self.err(or_root(field), Problem::WrongType("a mapping")))
    }

    fn array<'v>(&self, v: Option<&'v Value>, field: &str) -> Result<&'v [Value], Error> {
        match v {
            None | Some(Value::Null) => Err(self.err(field, Problem::Missing)),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(self.err(field, Problem::WrongType("a list"))),
        }
    }

    fn string<'v>(&self, v: Option<&'v Value>, field: &str) -> Result<&'v str, Error> {
        match v {
            None | Some(Value::Null) => Err(self.err(field, Problem::Missing)),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(self.err(field, Problem::WrongType("a string"))),
        }
    }

    fn config(&self, root: &Value) -> Result<EncryptionConfig, Error> {
        let top = self.object(root, "")?;
        let kind = self.string(top.get("kind"), "kind")?;
        let api_version = self.string(top.get("apiVersion"), "apiVersion")?;
        let legacy = match (kind, api_version) {
            ("EncryptionConfiguration", "apiserver.config.k8s.io/v1") => false,
            ("EncryptionConfig", "v1") => true,
            _ => {
                return Err(self.err(
                    "kind",
                    // Neither value is echoed: a secret pasted into the wrong field would be.
                    Problem::WrongKind,
                ));
            }
        };
        let entries = self.array(top.get("resources"), "resources")?;
        if entries.is_empty() {
            return Err(self.err("resources", Problem::Empty));
        }
        let mut rules = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            rules.push(self.rule(e, &format!("resources[{i}]"))?);
        }
        Ok(EncryptionConfig { rules, legacy })
    }

    fn rule(&self, v: &Value, field: &str) -> Result<ResourceRule, Error> {
        let m = self.object(v, field)?;
        let rf = format!("{field}.resources");
        let list = self.array(m.get("resources"), &rf)?;
        if list.is_empty() {
            return Err(self.err(&rf, Problem::Empty));
        }
        let mut resources = Vec::with_capacity(list.len());
        for (i, r) in list.iter().enumerate() {
            let s = self.string(Some(r), &format!("{rf}[{i}]"))?;
            resources.push(s.to_string());
        }
        let pf = format!("{field}.providers");
        let list = self.array(m.get("providers"), &pf)?;
        if list.is_empty() {
            return Err(self.err(&pf, Problem::Empty));
        }
        let mut providers = Vec::with_capacity(list.len());
        for (i, p) in list.iter().enumerate() {
            providers.push(self.provider(p, &format!("{pf}[{i}]"))?);
        }
        Ok(ResourceRule {
            resources,
            providers,
        })
    }

    fn provider(&self, v: &Value, field: &str) -> Result<ProviderConfig, Error> {
        let m = self.object(v, field)?;
        let mut found: Option<ProviderConfig> = None;
        for (k, body) in m {
            let f = format!("{field}.{k}");
            let p = match k.as_str() {
                "aescbc" => self.keys(Provider::Aescbc, body, &f)?,
                "aesgcm" => self.keys(Provider::Aesgcm, body, &f)?,
                "secretbox" => self.keys(Provider::Secretbox, body, &f)?,
                "kms" => self.kms(body, &f)?,
                "identity" => match body {
                    Value::Null | Value::Object(_) => ProviderConfig::Identity,
                    _ => return Err(self.err(&f, Problem::WrongType("a mapping"))),
                },
                other => return Err(self.err(&f, Problem::UnknownProvider(printable(other)))),
            };
            if found.is_some() {
                return Err(self.err(field, Problem::MoreThanOneProvider));
            }
            found = Some(p);
        }
        found.ok_or_else(|| self.err(field, Problem::NoProvider))
    }

    fn keys(&self, provider: Provider, body: &Value, field: &str) -> Result<ProviderConfig, Error> {
        let m = self.object(body, field)?;
        let kf = format!("{field}.keys");
        let list = self.array(m.get("keys"), &kf)?;
        if list.is_empty() {
            return Err(self.err(&kf, Problem::Empty));
        }
        let mut keys = Vec::with_capacity(list.len());
        for (i, k) in list.iter().enumerate() {
            let f = format!("{kf}[{i}]");
            let km = self.object(k, &f)?;
            let name = self.string(km.get("name"), &format!("{f}.name"))?;
            if name.is_empty() {
                return Err(self.err(&format!("{f}.name"), Problem::Empty));
            }
            let sf = format!("{f}.secret");
            let secret = self.string(km.get("secret"), &sf)?;
            let bytes = decode_base64(secret).ok_or_else(|| self.err(&sf, Problem::BadBase64))?;
            if !valid_key_sizes(provider).contains(&bytes.len()) {
                return Err(self.err(
                    &sf,
                    Problem::KeyLength {
                        provider,
                        got: bytes.len(),
                    },
                ));
            }
            let secret = Secret::new(bytes);
            keys.push(KeyEntry {
                name: name.to_string(),
                marker: secret.is_all_zero(),
                secret,
            });
        }
        Ok(ProviderConfig::Keys { provider, keys })
    }

    fn kms(&self, body: &Value, field: &str) -> Result<ProviderConfig, Error> {
        let m = self.object(body, field)?;
        let name = self.string(m.get("name"), &format!("{field}.name"))?;
        if name.is_empty() {
            return Err(self.err(&format!("{field}.name"), Problem::Empty));
        }
        // apiVersion defaults to v1 (apiserver pkg/apis/apiserver/v1/defaults.go).
        let av = format!("{field}.apiVersion");
        let version = match m.get("apiVersion") {
            None | Some(Value::Null) => Provider::KmsV1,
            Some(v) => match self.string(Some(v), &av)? {
                "v1" | "" => Provider::KmsV1,
                "v2" => Provider::KmsV2,
                _ => return Err(self.err(&av, Problem::KmsApiVersion)),
            },
        };
        let endpoint = match m.get("endpoint") {
            None | Some(Value::Null) => String::new(),
            Some(v) => self
                .string(Some(v), &format!("{field}.endpoint"))?
                .to_string(),
        };
        Ok(ProviderConfig::Kms {
            version,
            name: name.to_string(),
            endpoint,
        })
    }
}

/// A config mapping key (a provider name) fit for an error line: escaped, at most 64 characters.
/// Only keys are echoed, never values.
fn printable(s: &str) -> String {
    crate::sanitize::capped(s, 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K32: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // "0123456789abcdef" * 2
    const K16: &str = "MDEyMzQ1Njc4OWFiY2RlZg==";

    fn err(text: &str) -> String {
        parse(text.as_bytes(), "f.yaml").unwrap_err().to_string()
    }

    #[test]
    fn parses_v1_yaml_in_order() {
        let text = r#"
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets, '*.', '*.*', routes.route.openshift.io]
  providers:
  - aescbc:
      keys:
      - name: 'a:b'
        secret: K32
      - name: k2
        secret: K16
  - secretbox:
      keys: [{name: s, secret: K32}]
  - kms: {apiVersion: v2, name: plug, endpoint: unix:///k.sock}
  - kms: {name: old}
  - identity: {}
"#
        .replace("K32", K32)
        .replace("K16", K16);
        let c = parse(text.as_bytes(), "f.yaml").unwrap();
        assert!(!c.legacy);
        assert_eq!(c.rules.len(), 1);
        let r = &c.rules[0];
        assert_eq!(
            r.resources,
            ["secrets", "*.", "*.*", "routes.route.openshift.io"]
        );
        let kinds: Vec<_> = r.providers.iter().map(|p| p.provider()).collect();
        assert_eq!(
            kinds,
            [
                Provider::Aescbc,
                Provider::Secretbox,
                Provider::KmsV2,
                Provider::KmsV1,
                Provider::Identity
            ]
        );
        let ProviderConfig::Keys { keys, .. } = &r.providers[0] else {
            panic!()
        };
        assert_eq!(keys[0].name, "a:b");
        assert_eq!(keys[0].secret.len(), 32);
        assert_eq!(keys[1].secret.len(), 16);
        let ProviderConfig::Kms { name, endpoint, .. } = &r.providers[2] else {
            panic!()
        };
        assert_eq!(
            (name.as_str(), endpoint.as_str()),
            ("plug", "unix:///k.sock")
        );
    }

    #[test]
    fn parses_legacy_kind_and_compact_json() {
        let text = format!(
            "kind: EncryptionConfig\napiVersion: v1\nresources:\n  - resources:\n      - secrets\n    providers:\n      - identity: {{}}\n      - aesgcm:\n          keys:\n            - name: key1\n              secret: {K16}\n"
        );
        let c = parse(text.as_bytes(), "legacy.yaml").unwrap();
        assert!(c.legacy);
        let json = format!(
            r#"{{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{{"resources":["secrets"],"providers":[{{"aescbc":{{"keys":[{{"name":"2","secret":"{K32}"}}]}}}},{{"identity":{{}}}},{{"aesgcm":{{"keys":[{{"name":"1","secret":"AAAAAAAAAAAAAAAAAAAAAA=="}}]}}}}]}}]}}"#
        );
        let c = parse(json.as_bytes(), "enc.json").unwrap();
        let ProviderConfig::Keys { keys, .. } = &c.rules[0].providers[2] else {
            panic!()
        };
        assert!(keys[0].marker);
        let ProviderConfig::Keys { keys, .. } = &c.rules[0].providers[0] else {
            panic!()
        };
        assert!(!keys[0].marker);
    }

    #[test]
    fn group_resource_splits_at_first_dot() {
        let g = GroupResource::parse("routes.route.openshift.io");
        assert_eq!(
            (g.resource.as_str(), g.group.as_str()),
            ("routes", "route.openshift.io")
        );
        let g = GroupResource::parse("*.");
        assert_eq!((g.resource.as_str(), g.group.as_str()), ("*", ""));
        let g = GroupResource::parse("*.*");
        assert_eq!((g.resource.as_str(), g.group.as_str()), ("*", "*"));
        let g = GroupResource::parse("secrets");
        assert_eq!((g.resource.as_str(), g.group.as_str()), ("secrets", ""));
    }

    const HEAD: &str = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n";

    #[test]
    fn errors_name_file_and_field_never_the_secret() {
        let bad64 = "c2VjcmV0!!!";
        let e = err(&format!(
            "{HEAD}resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: k\n        secret: {bad64}\n"
        ));
        assert_eq!(
            e,
            "f.yaml: resources[0].providers[0].aescbc.keys[0].secret: not valid base64"
        );
        // 20-byte key for aescbc
        let k20 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM=";
        let e = err(&format!(
            "{HEAD}resources:\n- resources: [secrets]\n  providers:\n  - identity: {{}}\n  - aescbc:\n      keys:\n      - name: k\n        secret: {k20}\n"
        ));
        assert_eq!(
            e,
            "f.yaml: resources[0].providers[1].aescbc.keys[0].secret: secret is 20 bytes; aescbc takes 16, 24 or 32"
        );
        assert!(!e.contains(k20));
        let e = err(&format!(
            "{HEAD}resources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys:\n      - name: k\n        secret: {K16}\n"
        ));
        assert_eq!(
            e,
            "f.yaml: resources[0].providers[0].secretbox.keys[0].secret: secret is 16 bytes; secretbox takes 32"
        );
        let e = err(&format!(
            "{HEAD}resources:\n- resources: [secrets]\n  providers:\n  - aesxts:\n      keys: []\n"
        ));
        assert_eq!(
            e,
            "f.yaml: resources[0].providers[0].aesxts: unknown provider \"aesxts\" (expected aescbc, aesgcm, secretbox, kms or identity)"
        );
        // A secret of the wrong type must not be echoed.
        let e = err(&format!(
            "{HEAD}resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: k\n        secret: [12345678901234567890]\n"
        ));
        assert_eq!(
            e,
            "f.yaml: resources[0].providers[0].aescbc.keys[0].secret: expected a string"
        );
        let e = err(&format!("{HEAD}resources: []\n"));
        assert_eq!(e, "f.yaml: resources: is empty");
        let e = err("apiVersion: v1\nkind: Secret\n");
        assert_eq!(
            e,
            "f.yaml: kind: expected EncryptionConfiguration (apiserver.config.k8s.io/v1) or EncryptionConfig (v1); the kind and apiVersion found are not shown"
        );
        let e = err(&format!(
            "{HEAD}resources:\n- resources: [secrets]\n  providers:\n  - aescbc: {{keys: [{{name: k, secret: {K16}}}]}}\n    identity: {{}}\n"
        ));
        assert_eq!(
            e,
            "f.yaml: resources[0].providers[0]: more than one provider specified in a single element"
        );
        let e = err(&format!(
            "{HEAD}resources:\n- resources: [secrets]\n  providers:\n  - kms: {{name: p, apiVersion: v3}}\n"
        ));
        assert_eq!(
            e,
            "f.yaml: resources[0].providers[0].kms.apiVersion: unsupported KMS apiVersion (expected v1 or v2; the value is not shown)"
        );
    }

    #[test]
    fn syntax_errors_carry_line() {
        let e = err(&format!(
            "{HEAD}resources:\n- resources: [secrets\n  providers: x\n"
        ));
        assert!(e.starts_with("f.yaml: malformed YAML at line "), "{e}");
        let e = parse(
            b"{\"kind\": \"x\",\n \"secret\": \"abc\" \"oops\"}",
            "c.json",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "c.json: malformed JSON at line 2 column 18: expected `,` or `}`"
        );
    }

    /// Every truncation and a byte flip at every position: an error or a config, never a panic,
    /// and never an error quoting the secret.
    #[test]
    fn damaged_configs_never_panic_or_leak() {
        let json = crate::keyring::tarball::tests::OPENSHIFT_CONFIG.as_bytes();
        let yaml = format!(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: k\n        secret: {K32}\n  - identity: {{}}\n"
        );
        for text in [json, yaml.as_bytes()] {
            for n in 0..text.len() {
                if let Err(e) = parse(&text[..n], "f") {
                    assert!(!e.to_string().contains("MDEyMzQ1Njc4"), "{e}");
                }
                let mut t = text.to_vec();
                t[n] ^= 0x20;
                if let Err(e) = parse(&t, "f") {
                    assert!(!e.to_string().contains("MDEyMzQ1Njc4"), "{e}");
                }
            }
        }
    }

    #[test]
    fn go_base64_is_lenient_about_newlines_and_trailing_bits() {
        assert_eq!(decode_base64("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64("YR==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64("Y\nQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64("YQ"), None);
        assert_eq!(decode_base64("Y Q=="), None);
    }
}

#[cfg(test)]
mod shape_tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_rejected_before_parsing() {
        // Found while probing hostile inputs: 50,000 nested `[` kept the YAML parser busy 31 s.
        let deep = format!("a: {}", "[".repeat(200_000));
        let e = parse(deep.as_bytes(), "deep.yaml").unwrap_err().to_string();
        assert!(
            e.contains("deep.yaml") && e.contains("nesting deeper than 64"),
            "{e}"
        );
    }

    #[test]
    fn brackets_in_quotes_and_comments_do_not_count() {
        let text = format!("# {}\nkind: \"{}\"\n", "[".repeat(100), "{".repeat(100));
        assert!(check_shape(text.as_bytes(), "x.yaml").is_ok());
        assert!(check_shape(
            include_bytes!("../../testdata/encrypted/cp-1.yaml"),
            "cp-1.yaml"
        )
        .is_ok());
    }
}
