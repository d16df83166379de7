//! `keys`: every candidate key with its provenance and fingerprint, each node's config (which
//! resources it covers, providers in order), OpenShift's zero-key markers, and keys that share a
//! name but not a secret across nodes. Never prints key bytes.
//!
//! Exit 0; 1 when the configs disagree (one provider+name, different secrets on different nodes)
//! or a config would be refused by kube-apiserver (a masked resource); 2 on unreadable input.

use super::common::display_key;
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::sources::KeySourceArgs;
use super::{CmdResult, Error, Outcome};
use crate::keyring::{CandidateKey, Keyring, Marker, Origin, ProviderConfig, Role};
use crate::kube::Provider;
use crate::output::write_json;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub keys: KeySourceArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// One config as `keys` shows it.
#[derive(Serialize)]
pub struct ConfigView<'a> {
    pub node: &'a str,
    pub origin: &'a Origin,
    /// False for older tarball revisions (their keys are listed, the node no longer runs them).
    pub active: bool,
    /// The legacy `kind: EncryptionConfig`.
    pub legacy: bool,
    pub resources: Vec<RuleView<'a>>,
    /// Why kube-apiserver would refuse this config, if it would.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_error: Option<String>,
}

#[derive(Serialize)]
pub struct RuleView<'a> {
    pub resources: &'a [String],
    pub providers: Vec<ProviderView<'a>>,
}

#[derive(Serialize)]
pub struct ProviderView<'a> {
    pub provider: Provider,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyRef>,
    /// KMS plugin name and endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<&'a str>,
}

#[derive(Serialize)]
pub struct KeyRef {
    pub name: String,
    pub fingerprint: String,
    /// The candidate key id; none for markers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub marker: bool,
}

/// One provider+name whose secret differs between nodes.
#[derive(Serialize)]
pub struct Conflict {
    pub provider: Provider,
    pub name: String,
    /// Fingerprint → ids of the keys that have it.
    pub fingerprints: BTreeMap<String, Vec<String>>,
}

#[derive(Serialize)]
pub struct KeysView<'a> {
    pub configs: Vec<ConfigView<'a>>,
    pub keys: &'a [CandidateKey],
    pub markers: &'a [Marker],
    pub conflicts: Vec<Conflict>,
}

/// Builds the view (shared with commands that print a key list).
pub fn view(k: &Keyring) -> KeysView<'_> {
    // Candidate ids by (node, provider, name, fingerprint): a lookup per config entry, not a
    // scan (a config of 40,000 keys was quadratic here, #18).
    let ids: KeyIndex<'_> = k
        .keys
        .iter()
        .map(|c| {
            (
                (
                    c.node.as_str(),
                    c.provider,
                    c.name.as_str(),
                    c.fingerprint.as_str(),
                ),
                c.id.as_str(),
            )
        })
        .collect();
    let configs = k
        .configs
        .iter()
        .map(|nc| ConfigView {
            node: &nc.node,
            origin: &nc.origin,
            active: nc.active,
            legacy: nc.config.legacy,
            config_error: nc.config.masked_resources(),
            resources: nc
                .config
                .rules
                .iter()
                .map(|r| RuleView {
                    resources: &r.resources,
                    providers: r
                        .providers
                        .iter()
                        .map(|p| provider_view(&ids, &nc.node, p))
                        .collect(),
                })
                .collect(),
        })
        .collect();
    KeysView {
        configs,
        keys: &k.keys,
        markers: &k.markers,
        conflicts: conflicts(k),
    }
}

type KeyIndex<'k> = std::collections::HashMap<(&'k str, Provider, &'k str, &'k str), &'k str>;

fn provider_view<'a>(ids: &KeyIndex<'_>, node: &str, p: &'a ProviderConfig) -> ProviderView<'a> {
    match p {
        ProviderConfig::Keys { provider, keys } => ProviderView {
            provider: *provider,
            keys: keys
                .iter()
                .map(|e| {
                    let fingerprint = e.secret.fingerprint();
                    let id = (!e.marker)
                        .then(|| {
                            ids.get(&(node, *provider, e.name.as_str(), fingerprint.as_str()))
                                .map(|id| id.to_string())
                        })
                        .flatten();
                    KeyRef {
                        name: e.name.clone(),
                        fingerprint,
                        id,
                        marker: e.marker,
                    }
                })
                .collect(),
            name: None,
            endpoint: None,
        },
        ProviderConfig::Kms {
            version,
            name,
            endpoint,
        } => ProviderView {
            provider: *version,
            keys: Vec::new(),
            name: Some(name),
            endpoint: Some(endpoint),
        },
        ProviderConfig::Identity => ProviderView {
            provider: Provider::Identity,
            keys: Vec::new(),
            name: None,
            endpoint: None,
        },
    }
}

/// Provider+name pairs whose secret differs between nodes' active configs: the incident where
/// one control-plane node has a different key under the same name.
pub fn conflicts(k: &Keyring) -> Vec<Conflict> {
    let mut by_name: BTreeMap<(Provider, &str), BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for c in &k.keys {
        if matches!(c.role, Role::Write | Role::Read) {
            by_name
                .entry((c.provider, c.name.as_str()))
                .or_default()
                .entry(c.fingerprint.clone())
                .or_default()
                .push(c.id.clone());
        }
    }
    by_name
        .into_iter()
        .filter(|(_, fps)| fps.len() > 1)
        .map(|((provider, name), fingerprints)| Conflict {
            provider,
            name: name.to_string(),
            fingerprints,
        })
        .collect()
}

pub fn run(args: &Args) -> CmdResult {
    if args.keys.is_empty() {
        return Err(Error::new(
            "keys: give at least one --encryption-config, --static-resources or --key",
        ));
    }
    let mut guard = Guard::new();
    args.keys.guard(&mut guard);
    let (fmt, mut out) = args
        .out
        .prepare("keys", formats("keys"), &guard, Mode::Private)?;
    let keyring = args.keys.load()?;
    let v = view(&keyring);
    let problems = !v.conflicts.is_empty() || v.configs.iter().any(|c| c.config_error.is_some());
    match fmt {
        Fmt::Json => write_json(&mut out, &v)?,
        _ => write_text(&mut out, &v)?,
    }
    out.finish()?;
    Ok(if problems {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

/// A key name or node name for a text line: control characters and non-UTF-8 escaped.
fn shown(s: &str) -> String {
    display_key(s.as_bytes())
}

fn write_text<W: Write>(out: &mut W, v: &KeysView<'_>) -> std::io::Result<()> {
    for c in &v.configs {
        let state = if c.active { "" } else { " (older revision)" };
        let legacy = if c.legacy {
            " (legacy EncryptionConfig)"
        } else {
            ""
        };
        writeln!(out, "{}: {}{state}{legacy}", shown(c.node), c.origin)?;
        if let Some(e) = &c.config_error {
            writeln!(out, "  kube-apiserver refuses this config: {e}")?;
        }
        for r in &c.resources {
            let providers: Vec<String> = r
                .providers
                .iter()
                .map(|p| match p.provider {
                    Provider::Identity => "identity".to_string(),
                    Provider::KmsV1 | Provider::KmsV2 => format!(
                        "{} {} ({})",
                        p.provider,
                        shown(p.name.unwrap_or("")),
                        shown(p.endpoint.unwrap_or(""))
                    ),
                    _ => {
                        let keys: Vec<String> = p
                            .keys
                            .iter()
                            .map(|k| {
                                let tag = if k.marker { " marker" } else { "" };
                                format!("{} {}{tag}", shown(&k.name), k.fingerprint)
                            })
                            .collect();
                        format!("{} [{}]", p.provider, keys.join(", "))
                    }
                })
                .collect();
            let res: Vec<String> = r.resources.iter().map(|s| shown(s)).collect();
            writeln!(out, "  {}: {}", res.join(", "), providers.join(", "))?;
        }
    }
    if !v.configs.is_empty() {
        writeln!(out)?;
    }
    let rows: Vec<Vec<String>> = v
        .keys
        .iter()
        .map(|k| {
            let origins: Vec<String> = k.origins.iter().map(|o| o.to_string()).collect();
            vec![
                shown(&k.id),
                shown(&k.node),
                k.provider.to_string(),
                shown(&k.name),
                k.size.to_string(),
                k.fingerprint.clone(),
                k.role.to_string(),
                if k.resources.is_empty() {
                    "-".to_string()
                } else {
                    k.resources
                        .iter()
                        .map(|s| shown(s))
                        .collect::<Vec<_>>()
                        .join(",")
                },
                origins.join("; "),
            ]
        })
        .collect();
    let header = [
        "KEY",
        "NODE",
        "PROVIDER",
        "NAME",
        "BYTES",
        "FINGERPRINT",
        "ROLE",
        "RESOURCES",
        "SOURCE",
    ];
    write_table(out, &header, &rows)?;
    if !v.markers.is_empty() {
        writeln!(
            out,
            "\nmarkers (all-zero secrets: OpenShift's names of old identity-mode keys, not keys):"
        )?;
        for m in v.markers {
            writeln!(
                out,
                "  {} {} {} ({})",
                shown(&m.node),
                m.provider,
                shown(&m.name),
                m.origin
            )?;
        }
    }
    for c in &v.conflicts {
        let parts: Vec<String> = c
            .fingerprints
            .iter()
            .map(|(fp, ids)| {
                let ids: Vec<String> = ids.iter().map(|s| shown(s)).collect();
                format!("{fp} ({})", ids.join(", "))
            })
            .collect();
        writeln!(
            out,
            "\nconflict: {} key {:?} has different secrets on different nodes: {}",
            c.provider,
            shown(&c.name),
            parts.join(" vs ")
        )?;
    }
    Ok(())
}

/// Left-aligned columns, two spaces apart. Cells are escaped and cut at
/// [`sanitize::MAX_CELL`] characters (a 65,536-character key name once overflowed `{:<w$}`).
pub fn write_table<W: Write>(
    out: &mut W,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    use crate::sanitize;
    // Headers too: `audit` heads columns with node names.
    let header: Vec<String> = header
        .iter()
        .map(|h| sanitize::cell(h).into_owned())
        .collect();
    let cells = |r: &[String]| -> Vec<String> {
        r.iter().map(|c| sanitize::cell(c).into_owned()).collect()
    };
    let rows: Vec<Vec<String>> = rows.iter().map(|r| cells(r)).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&sanitize::pad_right(c, *w));
                s.push_str("  ");
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(&header))?;
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    Ok(())
}
