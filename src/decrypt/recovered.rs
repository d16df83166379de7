//! The EncryptionConfigurations of OpenShift's aggregated apiservers, recovered from the
//! snapshot itself (verdict rule 4, docs/verdict-rules.md).
//!
//! openshift-apiserver and oauth-apiserver encrypt routes and OAuth tokens with keys of their
//! own; their operators keep each one's final config in the Secret
//! `openshift-config-managed/encryption-config-<component>` (see [`crate::kube::openshift`]),
//! which kube-apiserver stores like any Secret: encrypted with kube-apiserver's key. With that
//! key among the candidates, the Secret is decrypted here, in memory only, decoded (protobuf,
//! [`crate::kube::decode`]), and its `encryption-config` data parsed with the keyring's config
//! parser; the config becomes the candidate config of a node named after the apiserver, with
//! provenance "snapshot secret NS/NAME at revision R". Nothing of it is written or printed: the
//! plaintext, the decoded object and the config bytes are zeroed once parsed, and the keys live
//! in [`crate::keyring::Secret`]s like every other key.
//!
//! The operators also keep every key generation they minted in a Secret of its own,
//! `encryption-key-<component>-<N>` (library-go `pkg/operator/encryption/secrets`: the raw key
//! in data `encryption.apiserver.operator.openshift.io-key`, the component in a label, the mode
//! and migration state in annotations; `secrets.ToKeyState` reads them). Each one opened the
//! same way becomes a candidate key of its apiserver, named `N` as the config would name it,
//! with the mode's provider: a record written under a generation the recovered config no longer
//! lists (or whose config Secret is gone) is still checked, and which generation opens it is
//! said. A key Secret that gives no key (identity or KMS mode, no data, a bad name) is kept
//! in [`Recovery::skipped`] and named in the evidence of the findings about that apiserver.

use super::Engine;
use crate::etcd::records::Records;
use crate::keyring::{self, ExtraKey, Keyring, NodeConfig, Origin, Secret};
use crate::kube::decode::{self, Node};
use crate::kube::openshift::{
    key_generation, Apiserver, AGGREGATED, COMPONENT_LABEL, CONFIG_DATA_KEY, CONFIG_NAMESPACE,
    KEY_DATA_KEY, KEY_SECRET_PREFIX, MIGRATED_RESOURCES_ANNOTATION, MIGRATED_TIMESTAMP_ANNOTATION,
    MODE_ANNOTATION,
};
use crate::kube::Provider;

/// The storage prefixes a Secret may be stored under: OpenShift's, then upstream's.
const PREFIXES: [&str; 2] = ["/kubernetes.io", "/registry"];

/// Why an aggregated apiserver's config was not recovered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unrecovered {
    /// The snapshot holds no live `encryption-config-<component>` Secret.
    Absent,
    /// No kube-apiserver config was given, so no kube-apiserver key could open the Secret.
    NoKubeConfig,
    /// The Secret is encrypted and no candidate key decrypts it.
    Undecryptable { key: String, revision: i64 },
    /// Decrypted, but it holds no readable EncryptionConfiguration. The problem names the
    /// field, never a value.
    Unreadable {
        key: String,
        revision: i64,
        problem: String,
    },
    /// A config for this apiserver was given on the command line; it is used instead.
    Given,
}

/// One key generation recovered from `encryption-key-<component>-<N>`. Its bytes are in
/// `secret` (zeroed on drop, never printed); everything else is safe to show.
#[derive(Clone, Debug)]
pub struct RecoveredKey {
    pub apiserver: Apiserver,
    /// The Secret's name and the revision it was read at.
    pub secret_name: String,
    pub revision: i64,
    /// The key name the generation has in its apiserver's config (`N`).
    pub generation: String,
    pub provider: Provider,
    pub fingerprint: String,
    /// The migration state the operator recorded, as written (RFC 3339), and the migrated
    /// resources (`resource.group`), if any.
    pub migrated_at: Option<String>,
    pub migrated: Vec<String>,
    secret: Secret,
}

impl RecoveredKey {
    /// "snapshot secret NS/NAME at revision R".
    pub fn origin(&self) -> Origin {
        Origin::SnapshotSecret {
            namespace: CONFIG_NAMESPACE.to_string(),
            name: self.secret_name.clone(),
            revision: self.revision,
        }
    }
}

/// A key Secret that was opened but gave no key, and why (names the Secret and field, never a
/// value). One no candidate key opens is not listed here: it is an undecryptable record like any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedKey {
    pub secret_name: String,
    pub revision: i64,
    /// The apiserver its component label (else its name) points at, if any.
    pub apiserver: Option<Apiserver>,
    pub why: String,
}

/// What recovery found, per aggregated apiserver.
#[derive(Clone, Debug, Default)]
pub struct Recovery {
    /// The recovered configs, as active configs of nodes named after their apiserver.
    pub configs: Vec<NodeConfig>,
    /// The apiservers whose config was not recovered, and why.
    pub missing: Vec<(Apiserver, Unrecovered)>,
    /// The key generations recovered from key Secrets, in Secret name order.
    pub keys: Vec<RecoveredKey>,
    /// Key Secrets that gave no key.
    pub skipped: Vec<SkippedKey>,
}

impl Recovery {
    /// Why `apiserver`'s config was not recovered, if it was not.
    pub fn why_not(&self, apiserver: Apiserver) -> Option<&Unrecovered> {
        self.missing
            .iter()
            .find(|(a, _)| *a == apiserver)
            .map(|(_, u)| u)
    }
}

/// The engine to judge the records with: `given` (built from `keyring`) when nothing was
/// recovered, else one built from `keyring` plus the recovered configs, which is returned too.
/// The one path `report::build` and the tests take.
pub fn judge_with_recovered(
    keyring: &Keyring,
    given: Engine,
    records: &Records<'_>,
) -> (Engine, Option<Keyring>, Recovery) {
    let recovery = recover(&given, records);
    match recovered_engine(keyring, &recovery) {
        None => (given, None, recovery),
        Some((engine, kr)) => {
            drop(given);
            (engine, Some(kr), recovery)
        }
    }
}

/// The engine and keyring `recovery` calls for: `keyring` plus what it found, or None when it
/// found nothing (the given engine stays the judge). [`judge_with_recovered`] for one snapshot;
/// `diff` calls [`recover`] once per snapshot with one given engine, then this for each.
pub fn recovered_engine(keyring: &Keyring, recovery: &Recovery) -> Option<(Engine, Keyring)> {
    if recovery.configs.is_empty() && recovery.keys.is_empty() {
        return None;
    }
    let kr = keyring_with(keyring, recovery);
    Some((Engine::new(&kr), kr))
}

/// `keyring` plus what `recovery` found: its configs (as active configs of their apiservers'
/// nodes), its keys (candidates of those nodes) and, as warnings, the key Secrets that gave none.
pub fn keyring_with(keyring: &Keyring, recovery: &Recovery) -> Keyring {
    let keys = recovery
        .keys
        .iter()
        .map(|k| ExtraKey {
            node: k.apiserver.name().to_string(),
            origin: k.origin(),
            provider: k.provider,
            name: k.generation.clone(),
            secret: k.secret.clone(),
        })
        .collect();
    keyring.with_recovered(recovery.configs.clone(), keys)
}

/// Looks for each aggregated apiserver's config Secret and recovers the config with the
/// engine's candidate keys. Only with a kube-apiserver node config (a tarball or a config
/// file): with nothing but `--key`s no apiserver is simulated at all (rule 1).
pub fn recover(engine: &Engine, records: &Records<'_>) -> Recovery {
    let mut out = Recovery::default();
    let has_kube = engine.nodes.iter().any(|n| n.apiserver == Apiserver::Kube);
    for a in AGGREGATED {
        if engine.nodes.iter().any(|n| n.apiserver == a) {
            out.missing.push((a, Unrecovered::Given));
            continue;
        }
        let name = a.config_secret();
        let Some((key, value, revision)) = find_secret(records, &name) else {
            out.missing.push((a, Unrecovered::Absent));
            continue;
        };
        if !has_kube {
            out.missing.push((a, Unrecovered::NoKubeConfig));
            continue;
        }
        match parse_secret(engine, key, value, revision, &name) {
            Ok(config) => out.configs.push(NodeConfig {
                node: a.name().to_string(),
                origin: Origin::SnapshotSecret {
                    namespace: CONFIG_NAMESPACE.to_string(),
                    name,
                    revision,
                },
                config,
                active: true,
            }),
            Err(why) => out.missing.push((a, why)),
        }
    }
    if has_kube {
        recover_keys(engine, records, &mut out);
    }
    out
}

/// Every live `encryption-key-*` Secret of [`CONFIG_NAMESPACE`] whose component label names an
/// aggregated apiserver: opened, its key taken as that apiserver's generation `N`.
fn recover_keys(engine: &Engine, records: &Records<'_>, out: &mut Recovery) {
    for p in PREFIXES {
        let prefix = format!("{p}/secrets/{CONFIG_NAMESPACE}/{KEY_SECRET_PREFIX}");
        let idx = records.with_prefix(prefix.as_bytes());
        // (key, revision) order: the last index of each run of one key is its latest revision.
        for (n, &i) in idx.iter().enumerate() {
            let r = records.get(i);
            let next_same = idx
                .get(n + 1)
                .is_some_and(|&j| records.get(j).kv.key == r.kv.key);
            if next_same || r.rev.tombstone {
                continue;
            }
            let Some(name) =
                r.kv.key
                    .get(prefix.len() - KEY_SECRET_PREFIX.len()..)
                    .and_then(|n| std::str::from_utf8(n).ok())
            else {
                continue;
            };
            let revision = r.kv.mod_revision;
            match key_from_secret(engine, r.kv.key, r.kv.value, revision, name) {
                Ok(k) => out.keys.push(k),
                Err(Skip::Other) => {}
                Err(Skip::Because(apiserver, why)) => out.skipped.push(SkippedKey {
                    secret_name: name.to_string(),
                    revision,
                    apiserver,
                    why,
                }),
            }
        }
    }
    out.keys
        .sort_by(|a, b| (&a.secret_name, a.revision).cmp(&(&b.secret_name, b.revision)));
}

/// Why a key Secret gave no key.
enum Skip {
    /// Not ours to judge: another component's (kube-apiserver's own keys are in its config
    /// already), or encrypted with a key no candidate holds (an undecryptable record, reported
    /// as such).
    Other,
    /// Opened, but no usable key: what is missing, never a value.
    Because(Option<Apiserver>, String),
}

/// The key of one key Secret, like library-go `secrets.ToKeyState`: the keyID from the name,
/// the mode from the annotation, the raw key from the data.
fn key_from_secret(
    engine: &Engine,
    key: &[u8],
    value: &[u8],
    revision: i64,
    name: &str,
) -> Result<RecoveredKey, Skip> {
    let mut object = open_secret(engine, key, value, revision).map_err(|_| Skip::Other)?;
    let meta_str = |o: &Node, map: &str, k: &str| -> Option<String> {
        match o.get("metadata")?.get(map)?.get(k)? {
            Node::Str(s) => Some(s.clone()),
            _ => None,
        }
    };
    let component = meta_str(&object, "labels", COMPONENT_LABEL);
    let mode = meta_str(&object, "annotations", MODE_ANNOTATION);
    let migrated_at = meta_str(&object, "annotations", MIGRATED_TIMESTAMP_ANNOTATION);
    let migrated_json = meta_str(&object, "annotations", MIGRATED_RESOURCES_ANNOTATION);
    let data = take_data(&mut object, KEY_DATA_KEY);
    wipe(object);
    let data = data.map(|b64| {
        let bytes = keyring::config::decode_base64(&b64).map(Secret::new);
        drop(Secret::new(b64.into_bytes()));
        bytes
    });
    // The operators select their key Secrets by label (library-go `ListKeySecrets`); one
    // without it is named by what its name says.
    let apiserver = match component.as_deref() {
        Some(c) => Apiserver::of_component(c).ok_or(Skip::Other)?,
        None => {
            let by_name = AGGREGATED.into_iter().find(|a| {
                name.strip_prefix(KEY_SECRET_PREFIX)
                    .and_then(|n| n.strip_prefix(a.component()))
                    .is_some_and(|n| n.starts_with('-'))
            });
            return Err(Skip::Because(
                by_name,
                format!("no label {COMPONENT_LABEL}"),
            ));
        }
    };
    let skip = |why: String| Skip::Because(Some(apiserver), why);
    let generation = key_generation(name)
        .ok_or_else(|| skip("the name does not end in -<keyID> (a decimal number)".into()))?;
    let provider = match mode.as_deref() {
        Some("aescbc") => Provider::Aescbc,
        Some("aesgcm") => Provider::Aesgcm,
        Some("secretbox") => Provider::Secretbox,
        Some("identity") => return Err(skip("mode identity holds no key".into())),
        Some("KMS") => return Err(skip("mode KMS holds a plugin's config, not a key".into())),
        Some(m) => {
            return Err(skip(format!(
                "annotation {MODE_ANNOTATION}: unknown mode {:?}",
                crate::sanitize::capped(m, 32)
            )))
        }
        None => return Err(skip(format!("no annotation {MODE_ANNOTATION}"))),
    };
    let secret = match data {
        None => return Err(skip(format!("no data key {KEY_DATA_KEY:?}"))),
        Some(None) => return Err(skip(format!("data.{KEY_DATA_KEY}: not valid base64"))),
        Some(Some(s)) => s,
    };
    if !keyring::key::valid_key_sizes(provider).contains(&secret.len()) {
        return Err(skip(format!(
            "data.{KEY_DATA_KEY}: {}",
            keyring::Problem::KeyLength {
                provider,
                got: secret.len()
            }
        )));
    }
    let migrated = migrated_json
        .map(|j| migrated_resources(&j))
        .unwrap_or_default();
    Ok(RecoveredKey {
        apiserver,
        secret_name: name.to_string(),
        revision,
        generation,
        provider,
        fingerprint: secret.fingerprint(),
        migrated_at: migrated_at.map(|t| crate::sanitize::capped(&t, 40)),
        migrated,
        secret,
    })
}

/// `{"resources":[{"group":"oauth.openshift.io","resource":"oauthaccesstokens"}]}` →
/// `oauthaccesstokens.oauth.openshift.io` (library-go `MigratedGroupResources`); nothing when it
/// does not parse.
fn migrated_resources(json: &str) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let Some(list) = v.get("resources").and_then(|r| r.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|gr| {
            let r = gr.get("resource")?.as_str()?;
            let g = gr.get("group").and_then(|g| g.as_str()).unwrap_or("");
            let s = if g.is_empty() {
                r.to_string()
            } else {
                format!("{r}.{g}")
            };
            Some(crate::sanitize::capped(&s, 128))
        })
        .collect()
}

/// The live record of Secret `CONFIG_NAMESPACE/name`: (key, value, mod_revision).
fn find_secret<'a>(records: &Records<'a>, name: &str) -> Option<(&'a [u8], &'a [u8], i64)> {
    PREFIXES.iter().find_map(|p| {
        let key = format!("{p}/secrets/{CONFIG_NAMESPACE}/{name}");
        let last = *records.of_key(key.as_bytes()).last()?;
        let r = records.get(last);
        (!r.rev.tombstone).then_some((r.kv.key, r.kv.value, r.kv.mod_revision))
    })
}

/// The Secret `key` decrypted with the engine's candidates (in memory) and decoded. The caller
/// [`wipe`]s the object.
fn open_secret(
    engine: &Engine,
    key: &[u8],
    value: &[u8],
    revision: i64,
) -> Result<Node, Unrecovered> {
    // Zeroed when dropped, like every key: the plaintext holds the apiserver's keys.
    let plaintext: Secret = if value.starts_with(b"k8s:enc:") {
        match engine.open_first(key, value) {
            Some((_, p)) => Secret::new(p.0),
            None => {
                return Err(Unrecovered::Undecryptable {
                    key: crate::etcd::display_key(key),
                    revision,
                })
            }
        }
    } else {
        Secret::new(value.to_vec())
    };
    let decoded = decode::decode(plaintext.expose(), revision);
    drop(plaintext);
    Ok(decoded.object)
}

/// Takes `data.<name>` (base64 text) out of a decoded Secret; anything else there is wiped.
fn take_data(object: &mut Node, name: &str) -> Option<String> {
    object
        .get_mut("data")
        .and_then(|d| d.get_mut(name))
        .and_then(|n| match std::mem::replace(n, Node::Null) {
            Node::Str(s) => Some(s),
            other => {
                wipe(other);
                None
            }
        })
}

fn parse_secret(
    engine: &Engine,
    key: &[u8],
    value: &[u8],
    revision: i64,
    name: &str,
) -> Result<keyring::EncryptionConfig, Unrecovered> {
    let shown = crate::etcd::display_key(key);
    let unreadable = |problem: String| Unrecovered::Unreadable {
        key: shown.clone(),
        revision,
        problem,
    };
    let mut object = open_secret(engine, key, value, revision)?;
    let b64 = take_data(&mut object, CONFIG_DATA_KEY);
    wipe(object);
    let display = format!("snapshot secret {CONFIG_NAMESPACE}/{name} at revision {revision}");
    let Some(b64) = b64 else {
        return Err(unreadable(format!(
            "no data key {CONFIG_DATA_KEY:?} in the Secret"
        )));
    };
    let bytes = keyring::config::decode_base64(&b64).map(Secret::new);
    drop(Secret::new(b64.into_bytes()));
    let bytes =
        bytes.ok_or_else(|| unreadable(format!("data.{CONFIG_DATA_KEY}: not valid base64")))?;
    keyring::config::parse(bytes.expose(), &display).map_err(|e| unreadable(e.to_string()))
}

/// Zeroes every string of a decoded object (the Secret's data, base64) before it is dropped.
fn wipe(n: Node) {
    match n {
        Node::Str(s) => drop(Secret::new(s.into_bytes())),
        Node::Array(v) => v.into_iter().for_each(wipe),
        Node::Object(m) => m.into_iter().for_each(|(_, v)| wipe(v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etcd::Snapshot;
    use crate::keyring::{KeyringBuilder, Role};
    use base64::Engine as _;
    use std::path::PathBuf;

    fn td(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(rel)
    }

    fn keyring(tarball: &str) -> Keyring {
        let mut b = KeyringBuilder::new();
        b.static_resources(&format!("cp-1={}", td(tarball).display()))
            .unwrap();
        b.build()
    }

    const SNAP: &str = "openshift-managed/snapshot_2026-11-20_120000.db";

    #[test]
    fn recovers_both_configs_and_every_output_is_free_of_their_keys() {
        let snap = Snapshot::open(&td(SNAP)).unwrap();
        let kr = keyring("openshift-managed/static_kuberesources_2026-11-20_120000.tar.gz");
        let records = Records::read(&snap);
        let (engine, recovered, recovery) = judge_with_recovered(&kr, Engine::new(&kr), &records);
        assert!(recovery.missing.is_empty(), "{:?}", recovery.missing);
        let nodes: Vec<(&str, String)> = engine
            .nodes
            .iter()
            .map(|n| (n.node.as_str(), n.origin.to_string()))
            .collect();
        assert_eq!(
            nodes,
            [
                ("cp-1", format!("{} revision 11", td("openshift-managed/static_kuberesources_2026-11-20_120000.tar.gz").display())),
                ("openshift-apiserver", "snapshot secret openshift-config-managed/encryption-config-openshift-apiserver at revision 2".into()),
                ("oauth-apiserver", "snapshot secret openshift-config-managed/encryption-config-openshift-oauth-apiserver at revision 3".into()),
            ]
        );
        // The recovered key bytes, as base64 and hex: in no rendering of the report.
        let recovered = recovered.unwrap();
        let secrets: Vec<String> = recovered
            .keys
            .iter()
            .filter(|k| k.node != "cp-1")
            .flat_map(|k| {
                let b = k.secret().expose();
                [
                    base64::engine::general_purpose::STANDARD.encode(b),
                    b.iter().map(|x| format!("{x:02x}")).collect(),
                ]
            })
            .collect();
        // OAPI2, OAPI1, OAUTH2 (configs and key Secrets) and OAUTH1 (only its key Secret).
        assert_eq!(secrets.len(), 8);
        let a = crate::report::build::analyse(
            &snap,
            &kr,
            None,
            &Default::default(),
            &crate::report::build::Quiet,
        );
        let report = a.into_report(Vec::new(), "2026-11-22T00:00:00Z".into());
        use crate::report::{render, ReportFormat};
        for f in [
            ReportFormat::Text,
            ReportFormat::Md,
            ReportFormat::Json,
            ReportFormat::Html,
        ] {
            let mut out = Vec::new();
            render(&report, f, false, None, &mut out).unwrap();
            let out = String::from_utf8(out).unwrap();
            for s in &secrets {
                assert!(!out.contains(s.as_str()), "{f:?} holds a recovered key");
            }
        }
        // Nor in Debug (a panic message or a log line), nor in the keyring's warnings.
        let dbg = format!("{recovered:?}");
        for s in &secrets {
            assert!(!dbg.contains(s.as_str()));
        }
        let dbg = format!("{recovery:?}");
        for s in &secrets {
            assert!(!dbg.contains(s.as_str()));
        }
    }

    #[test]
    fn key_secrets_become_candidates_of_their_apiserver_named_by_generation() {
        let snap = Snapshot::open(&td(SNAP)).unwrap();
        let kr = keyring("openshift-managed/static_kuberesources_2026-11-20_120000.tar.gz");
        let records = Records::read(&snap);
        let (_, recovered, recovery) = judge_with_recovered(&kr, Engine::new(&kr), &records);
        assert!(recovery.skipped.is_empty(), "{:?}", recovery.skipped);
        let got: Vec<(&str, &str, i64, Apiserver, Provider, &str)> = recovery
            .keys
            .iter()
            .map(|k| {
                (
                    k.secret_name.as_str(),
                    k.generation.as_str(),
                    k.revision,
                    k.apiserver,
                    k.provider,
                    k.fingerprint.as_str(),
                )
            })
            .collect();
        // testdata/README.md: the fingerprints of OAPI1, OAPI2, OAUTH1, OAUTH2.
        assert_eq!(
            got,
            [
                (
                    "encryption-key-openshift-apiserver-1",
                    "1",
                    4,
                    Apiserver::Openshift,
                    Provider::Aescbc,
                    "sha256:d40f439aacdbf434"
                ),
                (
                    "encryption-key-openshift-apiserver-2",
                    "2",
                    5,
                    Apiserver::Openshift,
                    Provider::Aescbc,
                    "sha256:dc830c0964ff77a2"
                ),
                (
                    "encryption-key-openshift-oauth-apiserver-1",
                    "1",
                    6,
                    Apiserver::Oauth,
                    Provider::Aescbc,
                    "sha256:5fb27e654fa32bb1"
                ),
                (
                    "encryption-key-openshift-oauth-apiserver-2",
                    "2",
                    7,
                    Apiserver::Oauth,
                    Provider::Aescbc,
                    "sha256:af474aa0d393068d"
                ),
            ]
        );
        let oauth1 = &recovery.keys[2];
        assert_eq!(oauth1.migrated_at.as_deref(), Some("2026-11-19T08:00:00Z"));
        assert_eq!(
            oauth1.migrated,
            [
                "oauthaccesstokens.oauth.openshift.io",
                "oauthauthorizetokens.oauth.openshift.io"
            ]
        );
        // A generation the config lists is the config's key with one more origin; one it does
        // not list is a candidate of its own.
        let kr = recovered.unwrap();
        let view: Vec<(&str, Role, usize)> = kr
            .keys
            .iter()
            .filter(|k| k.node != "cp-1")
            .map(|k| (k.id.as_str(), k.role, k.origins.len()))
            .collect();
        assert_eq!(
            view,
            [
                ("openshift-apiserver/aescbc/2", Role::Write, 2),
                ("openshift-apiserver/aescbc/1", Role::Read, 2),
                ("oauth-apiserver/aescbc/2", Role::Write, 2),
                ("oauth-apiserver/aescbc/1", Role::Candidate, 1),
            ]
        );
        assert_eq!(
            kr.keys.last().unwrap().origins[0].to_string(),
            "snapshot secret openshift-config-managed/encryption-key-openshift-oauth-apiserver-1 at revision 6"
        );
    }

    /// A plaintext v1 Secret in kube-apiserver's protobuf storage form (k8s\0 + runtime.Unknown),
    /// written here field by field (k8s.io/api core/v1 generated.proto: Secret 1 metadata,
    /// 2 data; ObjectMeta 1 name, 3 namespace, 11 labels, 12 annotations).
    fn secret_pb(
        name: &str,
        labels: &[(&str, &str)],
        ann: &[(&str, &str)],
        data: &[(&str, &[u8])],
    ) -> Vec<u8> {
        fn field(n: u8, b: &[u8]) -> Vec<u8> {
            let mut out = vec![(n << 3) | 2];
            let mut len = b.len();
            loop {
                let byte = (len & 0x7f) as u8;
                len >>= 7;
                if len == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
            out.extend_from_slice(b);
            out
        }
        let entry =
            |n: u8, k: &str, v: &[u8]| field(n, &[field(1, k.as_bytes()), field(2, v)].concat());
        let mut meta = [
            field(1, name.as_bytes()),
            field(3, CONFIG_NAMESPACE.as_bytes()),
        ]
        .concat();
        for (k, v) in labels {
            meta.extend(entry(11, k, v.as_bytes()));
        }
        for (k, v) in ann {
            meta.extend(entry(12, k, v.as_bytes()));
        }
        let mut raw = field(1, &meta);
        for (k, v) in data {
            raw.extend(entry(2, k, v));
        }
        let tm = [field(1, b"v1"), field(2, b"Secret")].concat();
        [b"k8s\x00".to_vec(), field(1, &tm), field(2, &raw)].concat()
    }

    #[test]
    fn key_secrets_read_like_library_go_to_key_state() {
        let engine = Engine::new(&Keyring::default());
        let comp = (COMPONENT_LABEL, "openshift-oauth-apiserver");
        let aesgcm = (MODE_ANNOTATION, "aesgcm");
        let k16: &[u8] = &[7u8; 16];
        let try_ =
            |name: &str, labels: &[(&str, &str)], ann: &[(&str, &str)], data: &[(&str, &[u8])]| {
                let key = format!("/kubernetes.io/secrets/{CONFIG_NAMESPACE}/{name}");
                let v = secret_pb(name, labels, ann, data);
                key_from_secret(&engine, key.as_bytes(), &v, 9, name)
            };
        let k = try_(
            "encryption-key-openshift-oauth-apiserver-007",
            &[comp],
            &[aesgcm],
            &[(KEY_DATA_KEY, k16)],
        )
        .ok()
        .unwrap();
        assert_eq!(
            (k.apiserver, k.generation.as_str(), k.provider, k.revision),
            (Apiserver::Oauth, "7", Provider::Aesgcm, 9)
        );
        assert_eq!(k.fingerprint, crate::keyring::fingerprint(k16));
        let why = |r: Result<RecoveredKey, Skip>| match r {
            Err(Skip::Because(a, w)) => (a, w),
            Err(Skip::Other) => (None, "other".into()),
            Ok(_) => (None, "ok".into()),
        };
        let name = "encryption-key-openshift-oauth-apiserver-3";
        let oauth = Some(Apiserver::Oauth);
        assert_eq!(
            why(try_(name, &[comp], &[(MODE_ANNOTATION, "identity")], &[])),
            (oauth, "mode identity holds no key".into())
        );
        assert_eq!(
            why(try_(name, &[comp], &[(MODE_ANNOTATION, "KMS")], &[])),
            (oauth, "mode KMS holds a plugin's config, not a key".into())
        );
        assert_eq!(
            why(try_(
                name,
                &[comp],
                &[(MODE_ANNOTATION, "rot13")],
                &[(KEY_DATA_KEY, k16)]
            )),
            (
                oauth,
                format!("annotation {MODE_ANNOTATION}: unknown mode \"rot13\"")
            )
        );
        assert_eq!(
            why(try_(name, &[comp], &[aesgcm], &[])),
            (oauth, format!("no data key {KEY_DATA_KEY:?}"))
        );
        assert_eq!(
            why(try_(
                name,
                &[comp],
                &[(MODE_ANNOTATION, "secretbox")],
                &[(KEY_DATA_KEY, k16)]
            )),
            (
                oauth,
                format!("data.{KEY_DATA_KEY}: secret is 16 bytes; secretbox takes 32")
            )
        );
        assert_eq!(
            why(try_(
                "encryption-key-openshift-oauth-apiserver-x",
                &[comp],
                &[aesgcm],
                &[(KEY_DATA_KEY, k16)]
            )),
            (
                oauth,
                "the name does not end in -<keyID> (a decimal number)".into()
            )
        );
        // No label: named by what the name says; another component's: not ours.
        assert_eq!(
            why(try_(name, &[], &[aesgcm], &[(KEY_DATA_KEY, k16)])),
            (oauth, format!("no label {COMPONENT_LABEL}"))
        );
        let kube = (COMPONENT_LABEL, "openshift-kube-apiserver");
        assert_eq!(
            why(try_(
                "encryption-key-openshift-kube-apiserver-3",
                &[kube],
                &[aesgcm],
                &[(KEY_DATA_KEY, k16)]
            ))
            .1,
            "other"
        );
        // The key bytes are in no reason and no Debug.
        let dbg = format!("{k:?}");
        assert!(
            !dbg.contains("7, 7, 7") && !dbg.contains("BwcHBwcH"),
            "{dbg}"
        );
    }

    #[test]
    fn without_a_key_that_opens_them_the_secrets_stay_closed_and_say_why() {
        let snap = Snapshot::open(&td(SNAP)).unwrap();
        let kr = keyring("openshift/static_kuberesources_2026-11-01_120000.tar.gz");
        let records = Records::read(&snap);
        let r = recover(&Engine::new(&kr), &records);
        assert!(r.configs.is_empty());
        // The key Secrets stay closed too (undecryptable records, reported as such).
        assert!(r.keys.is_empty() && r.skipped.is_empty());
        assert_eq!(
            r.why_not(Apiserver::Openshift),
            Some(&Unrecovered::Undecryptable {
                key: "/kubernetes.io/secrets/openshift-config-managed/encryption-config-openshift-apiserver".into(),
                revision: 2
            })
        );
        // Only `--key`s: no apiserver is simulated, nothing is recovered (rule 1).
        let r = recover(&Engine::new(&Keyring::default()), &records);
        assert_eq!(
            r.why_not(Apiserver::Oauth),
            Some(&Unrecovered::NoKubeConfig)
        );
        // The old pair has no such Secrets.
        let old = Snapshot::open(&td("openshift/snapshot_2026-11-01_120000.db")).unwrap();
        let r = recover(&Engine::new(&kr), &Records::read(&old));
        assert_eq!(r.why_not(Apiserver::Openshift), Some(&Unrecovered::Absent));
    }
}
