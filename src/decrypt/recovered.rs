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

use super::Engine;
use crate::etcd::records::Records;
use crate::keyring::{self, Keyring, NodeConfig, Origin, Secret};
use crate::kube::decode::{self, Node};
use crate::kube::openshift::{Apiserver, AGGREGATED, CONFIG_DATA_KEY, CONFIG_NAMESPACE};

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

/// What recovery found, per aggregated apiserver.
#[derive(Clone, Debug, Default)]
pub struct Recovery {
    /// The recovered configs, as active configs of nodes named after their apiserver.
    pub configs: Vec<NodeConfig>,
    /// The apiservers whose config was not recovered, and why.
    pub missing: Vec<(Apiserver, Unrecovered)>,
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
    if recovery.configs.is_empty() {
        return (given, None, recovery);
    }
    drop(given);
    let kr = keyring.with_configs(recovery.configs.clone());
    (Engine::new(&kr), Some(kr), recovery)
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
    out
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
    // Zeroed when dropped, like every key: the plaintext holds the apiserver's keys.
    let plaintext: Secret = if value.starts_with(b"k8s:enc:") {
        match engine.open_first(key, value) {
            Some((_, p)) => Secret::new(p.0),
            None => {
                return Err(Unrecovered::Undecryptable {
                    key: shown,
                    revision,
                })
            }
        }
    } else {
        Secret::new(value.to_vec())
    };
    let decoded = decode::decode(plaintext.expose(), revision);
    drop(plaintext);
    let mut object = decoded.object;
    let b64 = object
        .get_mut("data")
        .and_then(|d| d.get_mut(CONFIG_DATA_KEY))
        .and_then(|n| match std::mem::replace(n, Node::Null) {
            Node::Str(s) => Some(s),
            other => {
                wipe(other);
                None
            }
        });
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
    use crate::keyring::KeyringBuilder;
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
        assert_eq!(secrets.len(), 6);
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
        // Nor in Debug (a panic message or a log line).
        let dbg = format!("{recovery:?}");
        for s in &secrets {
            assert!(!dbg.contains(s.as_str()));
        }
    }

    #[test]
    fn without_a_key_that_opens_them_the_secrets_stay_closed_and_say_why() {
        let snap = Snapshot::open(&td(SNAP)).unwrap();
        let kr = keyring("openshift/static_kuberesources_2026-11-01_120000.tar.gz");
        let records = Records::read(&snap);
        let r = recover(&Engine::new(&kr), &records);
        assert!(r.configs.is_empty());
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
