//! The findings: each one an incident named, with the numbers, the evidence and a concrete remedy.

use super::coverage::Coverage;
use super::model::*;
use super::Context;
use crate::decrypt::audit::UnreadableClass;
use crate::etcd::integrity::Integrity;
use crate::etcd::trailer::Trailer;
use crate::keyring::{Origin, Role};
use crate::kube::openshift::Apiserver;
use crate::kube::Provider;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Every finding but the integrity ones ([`integrity`]), unsorted.
pub fn all_but_integrity(ctx: &Context<'_>, cov: &Coverage, nodes: &[NodeRow]) -> Vec<Finding> {
    let mut out = Vec::new();
    no_key_sources(ctx, &mut out);
    let accounted = key_mismatch(ctx, cov, &mut out);
    let lost = lost_records(ctx, cov, &mut out);
    node_read_failures(ctx, cov, &accounted, &lost, &mut out);
    plaintext_in_encrypted(ctx, &mut out);
    kms_required(ctx, &mut out);
    super::logmatch::findings(ctx, cov, nodes, &mut out);
    out
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The findings of the integrity check of the snapshot at `path`.
pub fn integrity(i: &Integrity, path: &str, allow_missing_trailer: bool, out: &mut Vec<Finding>) {
    if let Trailer::Mismatch { stored, computed } = &i.trailer.trailer {
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::TrailerMismatch,
            severity: Severity::Critical,
            summary: if i.structure_ok {
                "trailer mismatch, structure intact: the SHA-256 trailer does not match the file's contents".into()
            } else {
                "trailer mismatch: the SHA-256 trailer does not match the file's contents".into()
            },
            nodes: vec![],
            keys: vec![],
            evidence: vec![Evidence { text: format!("stored {stored}, computed {computed}"), source: Some(path.to_string()) }],
            remedy: "`etcdctl snapshot restore` refuses this file. The bytes changed after the snapshot was taken (copy, \
                     storage): take a fresh `etcdctl snapshot save`, or compare with another copy of this backup; restore \
                     this one with --skip-hash-check only if `check` keeps saying the structure is intact."
                .into(),
        });
    }
    let structural: Vec<&String> = i
        .problems
        .iter()
        .filter(|p| !p.starts_with("SHA-256 trailer mismatch"))
        .collect();
    if !i.structure_ok {
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::SnapshotIntegrity,
            severity: Severity::Critical,
            // problem_count includes the problems counted past the list's cap.
            summary: format!(
                "the snapshot is damaged: {} problem(s), first: {}",
                i.problem_count
                    .saturating_sub(u64::from(matches!(i.trailer.trailer, Trailer::Mismatch { .. }))),
                structural.first().map(|s| s.as_str()).unwrap_or_default()
            ),
            nodes: vec![],
            keys: vec![],
            evidence: structural.iter().take(10).map(|p| Evidence { text: (*p).clone(), source: Some(path.to_string()) }).collect(),
            remedy: "Do not restore from this file. Take a fresh `etcdctl snapshot save` from a healthy member, or use an \
                     older backup; `ls`/`get` still read the intact parts of this one."
                .into(),
        });
    }
    // A truncated file has no trailer either; its truncation is the critical finding above.
    if matches!(i.trailer.trailer, Trailer::Missing) && !allow_missing_trailer && !i.truncated {
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::MissingTrailer,
            severity: Severity::Warning,
            summary: "the snapshot has no SHA-256 trailer (a copy of a data dir's member/snap/db, or cut short)".into(),
            nodes: vec![],
            keys: vec![],
            evidence: vec![Evidence { text: format!("file size {} is not 32 more than a multiple of 512", i.trailer.file_size), source: Some(path.to_string()) }],
            remedy: "`etcdctl snapshot restore` needs --skip-hash-check for this file; prefer a snapshot taken with \
                     `etcdctl snapshot save`."
                .into(),
        });
    }
    for a in &i.alarms {
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::Alarm,
            severity: Severity::Warning,
            summary: format!("alarm {} was raised on member {} when the snapshot was taken", a.alarm, a.member_id),
            nodes: vec![],
            keys: vec![],
            evidence: vec![Evidence { text: format!("alarm bucket: member {} {}", a.member_id, a.alarm), source: Some(path.to_string()) }],
            remedy: if a.alarm == "NOSPACE" {
                "The cluster hit its space quota: compact, defragment and `etcdctl alarm disarm` after restoring.".into()
            } else {
                "Members diverged: restore from this snapshot only after checking the others.".into()
            },
        });
    }
}

/// (node index, index into `audit.unreadable`) pairs a key-mismatch finding explains, so
/// node-read-failures does not repeat them.
/// One bit per (node, unreadable record): a set of 300k pairs as a B-tree took 10 MB.
#[derive(Default)]
struct Accounted {
    bits: Vec<u64>,
    records: usize,
}

impl Accounted {
    fn new(nodes: usize, records: usize) -> Accounted {
        Accounted {
            bits: vec![0; (nodes.saturating_mul(records)).div_ceil(64)],
            records,
        }
    }

    fn insert(&mut self, (n, i): (usize, usize)) {
        let b = n * self.records + i;
        if let Some(w) = self.bits.get_mut(b / 64) {
            *w |= 1 << (b % 64);
        }
    }

    fn contains(&self, &(n, i): &(usize, usize)) -> bool {
        let b = n * self.records + i;
        i < self.records
            && self
                .bits
                .get(b / 64)
                .is_some_and(|w| w & (1 << (b % 64)) != 0)
    }
}

/// Providers whose records a candidate key can open offline.
fn key_provider(label: &str) -> bool {
    matches!(
        label,
        "aescbc" | "aesgcm" | "secretbox" | "encrypted-unknown"
    )
}

/// A node whose key under a shared name differs from the other nodes'.
fn key_mismatch(ctx: &Context<'_>, cov: &Coverage, out: &mut Vec<Finding>) -> Accounted {
    let mut accounted = Accounted::new(cov.node_names.len(), ctx.audit.unreadable.len());
    let audit = ctx.audit;
    let node_index = |name: &str| cov.node_names.iter().position(|n| n == name);
    // (apiserver, provider, name) → fingerprint → nodes holding it as an active key. Key names
    // are compared within one apiserver: openshift-apiserver's key "1" is not kube-apiserver's.
    let mut by_name: BTreeMap<(Apiserver, Provider, String), BTreeMap<String, Vec<String>>> =
        BTreeMap::new();
    for k in ctx
        .keyring
        .keys
        .iter()
        .filter(|k| matches!(k.role, Role::Write | Role::Read))
    {
        if node_index(&k.node).is_none() {
            continue;
        }
        let nodes = by_name
            .entry((Apiserver::of_node(&k.node), k.provider, k.name.clone()))
            .or_default()
            .entry(k.fingerprint.clone())
            .or_default();
        if !nodes.contains(&k.node) {
            nodes.push(k.node.clone());
        }
    }
    for ((_, provider, name), groups) in by_name {
        if groups.len() < 2 {
            continue;
        }
        let Some(row) = audit
            .coverage
            .iter()
            .find(|c| c.provider == provider.name() && c.key_name == name)
        else {
            continue;
        };
        // Records under this name each fingerprint decrypts (candidate ids → fingerprints).
        let decrypted_by = |fp: &str| -> usize {
            let mut ids: Vec<&str> = ctx
                .keyring
                .keys
                .iter()
                .filter(|k| k.fingerprint == fp && k.provider == provider)
                .map(|k| k.id.as_str())
                .collect();
            ids.dedup();
            ids.iter()
                .filter_map(|id| row.keys.get(*id))
                .copied()
                .max()
                .unwrap_or(0)
        };
        // The reference key is the one that reads the most records (then: held by most nodes).
        let reference = groups
            .iter()
            .max_by_key(|(fp, nodes)| {
                (
                    decrypted_by(fp),
                    nodes.len(),
                    std::cmp::Reverse((*fp).clone()),
                )
            })
            .map(|(fp, nodes)| (fp.clone(), nodes.clone()));
        let Some((ref_fp, ref_nodes)) = reference else {
            continue;
        };
        // Indexes of the records under this name, walked again per odd key rather than kept: at
        // 300k unreadable records the list alone was 4 MB.
        let under_name = || {
            audit
                .unreadable
                .iter()
                .enumerate()
                .filter(|(_, u)| {
                    u.provider == provider.name() && u.key_name.as_deref() == Some(name.as_str())
                })
                .map(|(i, _)| i)
        };
        for (odd_fp, odd_nodes) in groups.iter().filter(|(fp, _)| **fp != ref_fp) {
            // Whether the odd and the reference nodes fail a record depends only on its class,
            // which runs of records share: judged once per run.
            let mut last: Option<(*const UnreadableClass, (bool, bool))> = None;
            let mut odd_fails: Vec<usize> = Vec::new();
            let mut mirror: Vec<usize> = Vec::new();
            for i in under_name() {
                let u = &audit.unreadable[i];
                let class = Arc::as_ptr(&u.class);
                let (odd, reference) = match last {
                    Some((c, r)) if c == class => r,
                    _ => {
                        let fails_on =
                            |nodes: &[String]| nodes.iter().any(|n| u.error_on(n).is_some());
                        let r = (fails_on(odd_nodes), fails_on(&ref_nodes));
                        last = Some((class, r));
                        r
                    }
                };
                if odd && !reference {
                    odd_fails.push(i);
                } else if reference && !odd {
                    mirror.push(i);
                }
            }
            odd_fails.shrink_to_fit();
            mirror.shrink_to_fit();
            if odd_fails.is_empty() && mirror.is_empty() {
                continue;
            }
            for (idx, nodes) in [(&odd_fails, odd_nodes), (&mirror, &ref_nodes)] {
                for &i in idx.iter() {
                    for n in nodes.iter().filter_map(|n| node_index(n)) {
                        accounted.insert((n, i));
                    }
                }
            }
            let odd = list(odd_nodes);
            let refs = list(&ref_nodes);
            let common_error = |idx: &[usize], nodes: &[String]| -> String {
                let mut c: BTreeMap<&str, usize> = BTreeMap::new();
                for &i in idx {
                    for n in nodes {
                        if let Some(e) = audit.unreadable[i].error_on(n) {
                            *c.entry(e).or_default() += 1;
                        }
                    }
                }
                c.into_iter()
                    .max_by_key(|(e, n)| (*n, std::cmp::Reverse(*e)))
                    .map(|(e, _)| e.to_string())
                    .unwrap_or_default()
            };
            let keys_of = |idx: &[usize]| {
                idx.iter()
                    .map(|&i| audit.unreadable[i].key.clone())
                    .collect::<Vec<_>>()
            };
            let mut evidence = Vec::new();
            if !odd_fails.is_empty() {
                evidence.push(Evidence {
                    text: format!(
                        "{} of {} records under key name {name} fail on {odd} with `{}`; {refs} read them",
                        odd_fails.len(),
                        row.records,
                        common_error(&odd_fails, odd_nodes)
                    ),
                    source: Some(ctx.snapshot_path.to_string()),
                });
            }
            if !mirror.is_empty() {
                evidence.push(Evidence {
                    text: format!(
                        "{} records were written with {odd}'s key: {refs} fail on them with `{}`",
                        mirror.len(),
                        common_error(&mirror, &ref_nodes)
                    ),
                    source: Some(ctx.snapshot_path.to_string()),
                });
            }
            let odd_keys = keys_of(&odd_fails);
            let mirror_keys = keys_of(&mirror);
            evidence.extend(super::logmatch::evidence_for(
                ctx, cov, odd_nodes, &odd_keys,
            ));
            evidence.extend(super::logmatch::evidence_for(
                ctx,
                cov,
                &ref_nodes,
                &mirror_keys,
            ));
            for k in ctx.keyring.keys.iter().filter(|k| {
                k.provider == provider
                    && k.name == name
                    && matches!(k.role, Role::Write | Role::Read)
            }) {
                let src = k.origins.first().map(|o| o.to_string());
                evidence.push(Evidence {
                    text: format!(
                        "{}: {} key {} = {} ({})",
                        k.node,
                        provider.name(),
                        name,
                        k.fingerprint,
                        k.role
                    ),
                    source: src,
                });
            }
            let mut remedy = format!(
                "Make {odd}'s {} key {name} the key with fingerprint {ref_fp}, as on {refs}, then restart {odd}'s kube-apiserver.",
                provider.name()
            );
            if !mirror.is_empty() {
                remedy += &format!(
                    " Before that, export the {} record(s) {odd} wrote with its key (readable only through {odd}) and \
                     re-create them afterwards: once the key is fixed no node can read them.",
                    mirror.len()
                );
            }
            let mut keys = odd_keys;
            keys.reserve_exact(mirror_keys.len());
            keys.extend(mirror_keys.iter().cloned());
            let steps = recreate_steps(ctx, provider, &name, odd_fp, odd_nodes, mirror_keys);
            let writers = (!mirror.is_empty()).then(|| {
                let keys: Vec<&str> = mirror.iter().map(|&i| &*audit.unreadable[i].key).collect();
                let key = super::writers::KeyOf {
                    provider: provider.name(),
                    name: &name,
                    fingerprint: odd_fp,
                };
                super::writers::of(ctx, &keys, odd_nodes, key)
            });
            out.push(Finding {
                facts: FindingFacts { steps, writers },
                kind: FindingKind::KeyMismatch,
                severity: Severity::Critical,
                summary: format!(
                    "{odd}'s {} key {name} ({odd_fp}) differs from {refs}'s ({ref_fp}): {odd} cannot read {} record(s) that \
                     {refs} read, and {refs} cannot read {} record(s) {odd} wrote",
                    provider.name(),
                    odd_fails.len(),
                    mirror.len()
                ),
                nodes: odd_nodes.clone(),
                keys,
                evidence,
                remedy,
            });
        }
    }
    accounted
}

/// The commands that save and re-create the records only `odd_nodes`' key (`odd_fp`) reads:
/// export them from the snapshot with that node's key source, selected by the key's
/// fingerprint (which decrypts exactly these: the others are stored under other keys, or under
/// this name with the reference key), then, once the key is fixed, re-create them. None when no
/// such record exists or the key's source is unknown.
fn recreate_steps(
    ctx: &Context<'_>,
    provider: Provider,
    name: &str,
    odd_fp: &str,
    odd_nodes: &[String],
    mirror: Vec<Arc<str>>,
) -> Vec<RemedyStep> {
    if mirror.is_empty() {
        return Vec::new();
    }
    let Some(key) = ctx.keyring.keys.iter().find(|k| {
        k.provider == provider
            && k.name == name
            && k.fingerprint == odd_fp
            && odd_nodes.contains(&k.node)
    }) else {
        return Vec::new();
    };
    let source = match key.origins.first() {
        Some(Origin::EncryptionConfig { path }) => KeySourceRef::EncryptionConfig {
            node: key.node.clone(),
            path: path.clone(),
        },
        Some(Origin::StaticResources { path, .. }) => KeySourceRef::StaticResources {
            node: key.node.clone(),
            path: path.clone(),
        },
        // A key recovered from the snapshot has no file to name: no export command (the same
        // kube-apiserver source that opened it opens it again in any command).
        Some(Origin::SnapshotSecret { .. }) => return Vec::new(),
        Some(Origin::CommandLine { .. }) | None => KeySourceRef::CommandLine {
            provider: provider.name().to_string(),
            name: name.to_string(),
        },
    };
    let objects: Vec<ObjectRef> = mirror
        .iter()
        .filter_map(|k| {
            let p = crate::kube::KeyPath::parse(k.as_bytes())?;
            Some(ObjectRef {
                key: k.to_string(),
                resource: p.qualified_resource(),
                namespace: p.namespace.map(str::to_string),
                name: p.name.to_string(),
            })
        })
        .collect();
    let secrets = objects.iter().any(|o| o.resource == "secrets");
    vec![
        RemedyStep::Export(ExportStep {
            snapshot: ctx.snapshot_path.to_string(),
            source,
            fingerprint: odd_fp.to_string(),
            keys: mirror,
            secrets,
            encrypted: true,
        }),
        RemedyStep::Recreate(RecreateStep { objects }),
    ]
}

/// Encrypted records no candidate key decrypts: the key name is held by no candidate (a read key
/// missing after a rotation, or a stale tarball), or held only with other secrets.
///
/// Records of resources no given config covers are not judged here: another apiserver serves
/// them (OpenShift routes and OAuth tokens), so they get one `not-checked` finding (rule 4). With
/// no node config at all (only `--key`s), no apiserver was simulated: records no key opens are
/// `unverified-records`, not lost (rule 1).
fn lost_records(ctx: &Context<'_>, cov: &Coverage, out: &mut Vec<Finding>) -> BTreeSet<usize> {
    let mut lost = BTreeSet::new();
    // (apiserver, provider, key name) → records: a key name is looked for among the keys of
    // the apiserver that serves the record (and `--key`s), never another apiserver's.
    let mut missing: BTreeMap<(Apiserver, String, String), Vec<usize>> = BTreeMap::new();
    let mut wrong: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    let mut unchecked: Vec<usize> = Vec::new();
    let mut unverified: Vec<usize> = Vec::new();
    let uncovered: BTreeSet<&str> = cov.uncovered.iter().map(String::as_str).collect();
    let no_nodes = ctx.engine.nodes.is_empty();
    // Records no simulated apiserver serves that key Secrets of the apiserver that does open
    // (its config Secret is gone): generation (index in recovery.keys) → records.
    let mut by_secret: Vec<usize> = Vec::new();
    let mut opened_by: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, u) in ctx.audit.unreadable.iter().enumerate() {
        if key_provider(u.provider) && !u.decrypts_with.is_empty() && uncovered.contains(&*u.key) {
            let serving = crate::kube::KeyPath::parse(u.key.as_bytes())
                .and_then(|p| Apiserver::serving(p.group_resource().1));
            let gens: Vec<usize> = u
                .decrypts_with
                .iter()
                .filter_map(|id| ctx.keyring.keys.iter().find(|k| *k.id == **id))
                .filter(|k| serving.is_some_and(|a| a.name() == k.node))
                .filter_map(|k| key_secret_of(ctx, k))
                .collect();
            if let Some(&g) = gens.first() {
                *opened_by.entry(g).or_default() += 1;
                by_secret.push(i);
                lost.insert(i);
                continue;
            }
        }
        if !key_provider(u.provider) || !u.decrypts_with.is_empty() {
            continue;
        }
        lost.insert(i);
        if no_nodes {
            unverified.push(i);
            continue;
        }
        if uncovered.contains(&*u.key) {
            unchecked.push(i);
            continue;
        }
        let name = u.key_name.clone().unwrap_or_else(|| "?".into());
        let apiserver = ctx.engine.resource_ids(u.key.as_bytes()).apiserver;
        let held = ctx.keyring.keys.iter().any(|k| {
            k.provider.name() == u.provider
                && *k.name == *name
                && (k.node == "cli" || Apiserver::of_node(&k.node) == apiserver)
        });
        if held {
            wrong
                .entry((u.provider.to_string(), name.to_string()))
                .or_default()
                .push(i);
        } else {
            missing
                .entry((apiserver, u.provider.to_string(), name.to_string()))
                .or_default()
                .push(i);
        }
    }
    let key_list = |idx: &[usize]| {
        idx.iter()
            .map(|&i| ctx.audit.unreadable[i].key.clone())
            .collect::<Vec<_>>()
    };
    let resources_of = |idx: &[usize]| {
        idx.iter()
            .filter_map(|&i| {
                ctx.audit.unreadable[i]
                    .resource
                    .as_deref()
                    .map(str::to_string)
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    };
    if !unverified.is_empty() {
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::UnverifiedRecords,
            severity: Severity::Warning,
            summary: format!(
                "{} encrypted record(s) decrypt with none of the given --key(s); not verified",
                unverified.len()
            ),
            nodes: vec![],
            keys: key_list(&unverified),
            evidence: vec![Evidence {
                text: format!("{} --key(s) tried, no node config given", ctx.keyring.keys.len()),
                source: Some(ctx.snapshot_path.to_string()),
            }],
            remedy: "Give the nodes' kube-apiserver configs (--encryption-config NODE=FILE or --static-resources \
                     NODE=TARBALL): with only --key nothing says which key each apiserver holds. A --key that opens \
                     none of them is likely not this cluster's key."
                .into(),
        });
    }
    if !unchecked.is_empty() {
        let res = resources_of(&unchecked);
        let mut evidence = vec![Evidence {
            text: "on OpenShift, routes and OAuth tokens are encrypted by openshift-apiserver / oauth-apiserver, whose \
                   keys live in Secrets in openshift-config-managed, not in kube-apiserver's config"
                .into(),
            source: Some(ctx.snapshot_path.to_string()),
        }];
        evidence.extend(unrecovered_evidence(ctx, &unchecked));
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::NotChecked,
            severity: Severity::Info,
            summary: format!(
                "{} encrypted record(s) of {} were not checked: no given config covers them, another apiserver serves them",
                unchecked.len(),
                list(&res)
            ),
            nodes: vec![],
            keys: key_list(&unchecked),
            evidence,
            remedy: not_checked_remedy(ctx),
        });
    }
    if !by_secret.is_empty() {
        let res = resources_of(&by_secret);
        let mut evidence: Vec<Evidence> = opened_by
            .iter()
            .filter_map(|(&g, &c)| {
                let k = ctx.audit.recovery.keys.get(g)?;
                Some(Evidence {
                    text: format!(
                        "{}'s generation {} ({} {}, Secret {}/{} at revision {}) opens {c} record(s)",
                        k.apiserver.name(),
                        k.generation,
                        k.provider.name(),
                        k.fingerprint,
                        crate::kube::openshift::CONFIG_NAMESPACE,
                        k.secret_name,
                        k.revision
                    ),
                    source: Some(ctx.snapshot_path.to_string()),
                })
            })
            .collect();
        evidence.extend(unrecovered_evidence(ctx, &by_secret));
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::NotChecked,
            severity: Severity::Info,
            summary: format!(
                "{} encrypted record(s) of {} open with key Secrets in the snapshot, but what the apiserver serving \
                 them returns was not checked: no config of it was given or recovered",
                by_secret.len(),
                list(&res)
            ),
            nodes: vec![],
            keys: key_list(&by_secret),
            evidence,
            remedy: format!(
                "They are not lost: keep the key Secrets (do not delete them). To check what the apiserver returns, {}.",
                "give its config as --encryption-config openshift-apiserver=FILE / oauth-apiserver=FILE \
                 (`oc get secret -n openshift-config-managed encryption-config-<component>`)"
            ),
        });
    }
    if !missing.is_empty() {
        let total: usize = missing.values().map(Vec::len).sum();
        let key_label = |a: &Apiserver, p: &str, n: &str| match a {
            Apiserver::Kube => format!("{p} key {n}"),
            a => format!("{}'s {p} key {n}", a.name()),
        };
        let names: Vec<String> = missing.keys().map(|(a, p, n)| key_label(a, p, n)).collect();
        let recovered = missing.keys().any(|(a, _, _)| *a != Apiserver::Kube);
        let mut remedy = String::new();
        let kube: Vec<String> = missing
            .keys()
            .filter(|(a, _, _)| *a == Apiserver::Kube)
            .map(|(a, p, n)| key_label(a, p, n))
            .collect();
        if !kube.is_empty() {
            remedy += &format!(
                "Find {}: an older EncryptionConfiguration, or a static_kuberesources tarball from before the key \
                 rotation, and give it with --encryption-config, --static-resources or --key.",
                list(&kube)
            );
        }
        for (a, p, n) in missing.keys().filter(|(a, _, _)| *a != Apiserver::Kube) {
            let secret = a.key_secret(n);
            let held = crate::kube::openshift::CONFIG_NAMESPACE;
            if !remedy.is_empty() {
                remedy.push(' ');
            }
            let where_ = if live_secret(ctx, &secret) {
                "which this snapshot holds but which gave no key (see the evidence)"
            } else {
                "which this snapshot does not hold"
            };
            remedy += &format!(
                "Find {}: its operator minted it in the Secret {held}/{secret}, {where_}; an older etcd backup or \
                 the live cluster may hold it (`oc get secret -n {held} {secret}`), or {held}/{} from before the \
                 rotation; give the key with --key {p}:{n}=BASE64 or that config as --encryption-config {}=FILE.",
                key_label(a, p, n),
                a.config_secret(),
                a.name()
            );
        }
        remedy += " Without it these records cannot be read or restored; keep them (they are not to be deleted).";
        let servers: BTreeSet<Apiserver> = missing.keys().map(|(a, _, _)| *a).collect();
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::MissingReadKey,
            severity: Severity::Critical,
            summary: format!(
                "{total} record(s) need {}, which no given config, tarball{} or --key holds",
                list(&names),
                if recovered { ", recovered config" } else { "" }
            ),
            nodes: vec![],
            keys: missing.values().flat_map(|v| key_list(v)).collect(),
            evidence: missing
                .iter()
                .map(|((a, p, n), v)| Evidence {
                    text: match a {
                        Apiserver::Kube => format!("{} record(s) stored as k8s:enc:{p}:v1:{n}: …", v.len()),
                        a => format!(
                            "{} record(s) stored as k8s:enc:{p}:v1:{n}: …, served by {}; its config ({}) holds no key {n}",
                            v.len(),
                            a.name(),
                            node_source(ctx, a.name())
                        ),
                    },
                    source: Some(ctx.snapshot_path.to_string()),
                })
                .chain(key_secrets_evidence(ctx, &servers))
                .collect(),
            remedy,
        });
    }
    if !wrong.is_empty() {
        let total: usize = wrong.values().map(Vec::len).sum();
        let names: Vec<String> = wrong.keys().map(|(p, n)| format!("{p} key {n}")).collect();
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::UndecryptableRecords,
            severity: Severity::Critical,
            summary: format!("{total} record(s) under {} decrypt with none of the given keys of that name", list(&names)),
            nodes: vec![],
            keys: wrong.values().flat_map(|v| key_list(v)).collect(),
            evidence: wrong
                .iter()
                .map(|((p, n), v)| {
                    let fps: BTreeSet<String> =
                        ctx.keyring.keys.iter().filter(|k| k.provider.name() == p && &k.name == n).map(|k| format!("{} ({})", k.fingerprint, k.node)).collect();
                    Evidence {
                        text: format!("{} record(s) under {p} key {n}; tried {}", v.len(), fps.into_iter().collect::<Vec<_>>().join(", ")),
                        source: Some(ctx.snapshot_path.to_string()),
                    }
                })
                .collect(),
            remedy: format!(
                "These were written with a key of the same name but another secret. First find that key: older \
                 EncryptionConfigurations and static_kuberesources tarballs, other nodes, backups of the encryption \
                 config; give it with --encryption-config, --static-resources or --key to check. Only if it is gone \
                 for good are these {total} object(s) lost (their contents cannot be recovered from etcd); then, and \
                 after saving a copy of this snapshot, remove them (`etcdctl del KEY`, or kubectl with \
                 AllowUnsafeMalformedObjectDeletion on 1.32+) so LISTs of {} stop failing.",
                list(&resources_of(&wrong.values().flatten().copied().collect::<Vec<_>>()))
            ),
        });
    }
    lost
}

/// Where `node`'s active config comes from.
fn node_source(ctx: &Context<'_>, node: &str) -> String {
    ctx.engine
        .nodes
        .iter()
        .find(|n| n.node == node)
        .map(|n| n.origin.to_string())
        .unwrap_or_else(|| "none given".into())
}

/// Why the records `idx` (not checked) could not be judged by the apiserver that serves them:
/// one line per aggregated apiserver whose config was not recovered from the snapshot.
fn unrecovered_evidence(ctx: &Context<'_>, idx: &[usize]) -> Vec<Evidence> {
    use crate::decrypt::recovered::Unrecovered;
    use crate::kube::openshift::CONFIG_NAMESPACE;
    let mut servers: BTreeSet<Apiserver> = BTreeSet::new();
    for &i in idx {
        let key = ctx.audit.unreadable[i].key.as_bytes();
        if let Some(a) =
            crate::kube::KeyPath::parse(key).and_then(|p| Apiserver::serving(p.group_resource().1))
        {
            servers.insert(a);
        }
    }
    servers
        .into_iter()
        .map(|a| {
            let secret = format!("{CONFIG_NAMESPACE}/{}", a.config_secret());
            let text = match ctx.audit.recovery.why_not(a) {
                None => format!(
                    "{}'s config ({}) does not name these resources",
                    a.name(),
                    node_source(ctx, a.name())
                ),
                Some(Unrecovered::Absent) => {
                    format!("the snapshot holds no Secret {secret}: {}'s config was not recovered", a.name())
                }
                Some(Unrecovered::NoKubeConfig) => format!(
                    "Secret {secret} is in the snapshot, but no kube-apiserver config or tarball was given to open it"
                ),
                Some(Unrecovered::Undecryptable { revision, .. }) => format!(
                    "Secret {secret} (revision {revision}) is encrypted with a kube-apiserver key none of the given sources holds"
                ),
                Some(Unrecovered::Unreadable { revision, problem, .. }) => format!(
                    "Secret {secret} (revision {revision}) was decrypted but holds no usable config: {problem}"
                ),
                Some(Unrecovered::Given) => format!("{}'s config was given", a.name()),
            };
            Evidence {
                text,
                source: Some(ctx.snapshot_path.to_string()),
            }
        })
        .collect()
}

/// What to give so records another apiserver serves get checked, after what recovery met.
fn not_checked_remedy(ctx: &Context<'_>) -> String {
    use crate::decrypt::recovered::Unrecovered;
    let given = "give those apiservers' configs as --encryption-config openshift-apiserver=FILE / \
                 oauth-apiserver=FILE (`oc get secret -n openshift-config-managed encryption-config-<component>`)";
    let why: Vec<&Unrecovered> = crate::kube::openshift::AGGREGATED
        .iter()
        .filter_map(|a| ctx.audit.recovery.why_not(*a))
        .collect();
    if why.iter().any(|u| {
        matches!(
            u,
            Unrecovered::NoKubeConfig | Unrecovered::Undecryptable { .. }
        )
    }) {
        format!(
            "Give kube-apiserver's config or static_kuberesources tarball with the key that opens the Secrets \
             openshift-config-managed/encryption-config-openshift-apiserver and \
             …/encryption-config-openshift-oauth-apiserver: their configs are then recovered from the snapshot \
             and these records checked. Or {given}."
        )
    } else {
        format!("The snapshot does not hold those apiservers' configs: {given}, from the cluster or an older backup.")
    }
}

/// Failures on one node of records other nodes read, not explained by a key mismatch.
fn node_read_failures(
    ctx: &Context<'_>,
    cov: &Coverage,
    accounted: &Accounted,
    lost: &BTreeSet<usize>,
    out: &mut Vec<Finding>,
) {
    let audit = ctx.audit;
    for (n, node) in cov.node_names.iter().enumerate() {
        let rest: Vec<usize> = cov.failing[n]
            .iter()
            .copied()
            .filter(|i| !accounted.contains(&(n, *i)) && !lost.contains(i))
            // A KMS record is never "read by other nodes": one kms-required finding covers it.
            .filter(|&i| !matches!(audit.unreadable[i].provider, "kms" | "kmsv2"))
            .collect();
        if rest.is_empty() {
            continue;
        }
        let mut errors: BTreeMap<&str, usize> = BTreeMap::new();
        let mut helpful: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        // Generations of this node's own apiserver found only in key Secrets → records each opens.
        let mut generations: BTreeMap<usize, usize> = BTreeMap::new();
        for &i in &rest {
            let u = &audit.unreadable[i];
            if let Some(e) = u.error_on(node) {
                *errors.entry(e).or_default() += 1;
            }
            for k in u
                .decrypts_with
                .iter()
                .filter_map(|id| ctx.keyring.keys.iter().find(|k| *k.id == **id))
            {
                if k.node == *node {
                    if let Some(g) = key_secret_of(ctx, k) {
                        *generations.entry(g).or_default() += 1;
                        continue;
                    }
                }
                helpful
                    .entry(format!(
                        "{} key {} ({})",
                        k.provider.name(),
                        k.name,
                        k.fingerprint
                    ))
                    .or_default()
                    .insert(k.node.clone());
            }
        }
        let keys: Vec<Arc<str>> = rest
            .iter()
            .map(|&i| audit.unreadable[i].key.clone())
            .collect();
        let evidence: Vec<Evidence> = errors
            .iter()
            .map(|(e, c)| Evidence {
                text: format!("{c} record(s): `{e}`"),
                source: Some(ctx.snapshot_path.to_string()),
            })
            .chain(generations.iter().map(|(&g, &c)| Evidence {
                text: generation_opens(ctx, g, c, node),
                source: Some(ctx.snapshot_path.to_string()),
            }))
            .chain(super::logmatch::evidence_for(
                ctx,
                cov,
                std::slice::from_ref(node),
                &keys,
            ))
            .collect();
        let remedy = if !generations.is_empty() {
            let mut r = generations_remedy(ctx, &generations, node);
            if !helpful.is_empty() {
                r.push_str(&format!(
                    " Other keys that decrypt some of them: {}.",
                    helpful.keys().cloned().collect::<Vec<_>>().join("; ")
                ));
            }
            r
        } else if helpful.is_empty() {
            format!("Give {node}'s kube-apiserver a provider for these resources that matches how they are stored, then restart it.")
        } else {
            let adds: Vec<String> = helpful
                .iter()
                .map(|(k, nodes)| {
                    format!(
                        "{k}, as on {}",
                        list(&nodes.iter().cloned().collect::<Vec<_>>())
                    )
                })
                .collect();
            format!("Add {} to {node}'s encryption config as read key(s), then restart its kube-apiserver.", adds.join("; "))
        };
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::NodeReadFailures,
            severity: Severity::Critical,
            summary: format!(
                "{node} cannot read {} record(s) that {}: {}",
                rest.len(),
                // Never claim other nodes read them when none does (a single config).
                if rest.iter().any(|&i| {
                    let u = &audit.unreadable[i];
                    let ids = ctx.engine.resource_ids(u.key.as_bytes());
                    u.failing_nodes.len()
                        < ctx.engine.nodes.iter().filter(|n| n.serves(ids)).count()
                }) {
                    "other nodes read"
                } else if helpful.is_empty() && !generations.is_empty() {
                    "a key Secret in the snapshot decrypts"
                } else {
                    "a key of the given configs decrypts"
                },
                errors
                    .iter()
                    .map(|(e, c)| format!("{c}× {e}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            nodes: vec![node.clone()],
            keys,
            evidence,
            remedy,
        });
    }
}

/// True when the snapshot holds a live Secret `openshift-config-managed/name`.
fn live_secret(ctx: &Context<'_>, name: &str) -> bool {
    ["/kubernetes.io", "/registry"].iter().any(|p| {
        let key = format!(
            "{p}/secrets/{}/{name}",
            crate::kube::openshift::CONFIG_NAMESPACE
        );
        ctx.records
            .of_key(key.as_bytes())
            .last()
            .is_some_and(|&i| !ctx.records.get(i).rev.tombstone)
    })
}

/// What the key Secrets of the aggregated apiservers among `servers` gave: the generations
/// recovered and the Secrets that gave no key (one line each, never a value).
fn key_secrets_evidence(ctx: &Context<'_>, servers: &BTreeSet<Apiserver>) -> Vec<Evidence> {
    use crate::kube::openshift::CONFIG_NAMESPACE;
    let r = &ctx.audit.recovery;
    let mut out = Vec::new();
    for a in servers.iter().filter(|a| **a != Apiserver::Kube) {
        let gens: Vec<String> = r
            .keys
            .iter()
            .filter(|k| k.apiserver == *a)
            .map(|k| format!("{} ({} {})", k.generation, k.provider.name(), k.fingerprint))
            .collect();
        if !gens.is_empty() {
            out.push(Evidence {
                text: format!(
                    "{}'s key Secrets in {CONFIG_NAMESPACE} hold generation(s) {}, all tried",
                    a.name(),
                    list(&gens)
                ),
                source: Some(ctx.snapshot_path.to_string()),
            });
        }
        for s in r.skipped.iter().filter(|s| s.apiserver == Some(*a)) {
            out.push(Evidence {
                text: format!(
                    "key Secret {CONFIG_NAMESPACE}/{} (revision {}) gave no key: {}",
                    s.secret_name, s.revision, s.why
                ),
                source: Some(ctx.snapshot_path.to_string()),
            });
        }
    }
    // A key Secret no apiserver can be named for is said wherever key Secrets are.
    for s in r.skipped.iter().filter(|s| s.apiserver.is_none()) {
        out.push(Evidence {
            text: format!(
                "key Secret {CONFIG_NAMESPACE}/{} (revision {}) gave no key: {}",
                s.secret_name, s.revision, s.why
            ),
            source: Some(ctx.snapshot_path.to_string()),
        });
    }
    out
}

/// The index in `audit.recovery.keys` of the key Secret `k` was recovered from, if it was.
fn key_secret_of(ctx: &Context<'_>, k: &crate::keyring::CandidateKey) -> Option<usize> {
    ctx.audit.recovery.keys.iter().position(|r| {
        r.apiserver.name() == k.node
            && r.generation == k.name
            && r.provider == k.provider
            && r.fingerprint == k.fingerprint
    })
}

/// "generation 1 (aescbc sha256:…, Secret NS/NAME at revision R, marked migrated at T for …)
/// opens N of these record(s); NODE's config (…) does not list it".
fn generation_opens(ctx: &Context<'_>, g: usize, count: usize, node: &str) -> String {
    let Some(k) = ctx.audit.recovery.keys.get(g) else {
        return String::new();
    };
    let migrated = match (&k.migrated_at, k.migrated.is_empty()) {
        (Some(t), true) => format!(", marked migrated at {t}"),
        (Some(t), false) => format!(", marked migrated at {t} for {}", list(&k.migrated)),
        (None, _) => String::new(),
    };
    format!(
        "generation {} ({} {}, Secret {}/{} at revision {}{migrated}) opens {count} of these record(s); \
         {node}'s config ({}) does not list it",
        k.generation,
        k.provider.name(),
        k.fingerprint,
        crate::kube::openshift::CONFIG_NAMESPACE,
        k.secret_name,
        k.revision,
        node_source(ctx, node)
    )
}

/// What to do about records only key Secrets open: they are not lost; keep the Secrets.
fn generations_remedy(
    ctx: &Context<'_>,
    generations: &BTreeMap<usize, usize>,
    node: &str,
) -> String {
    use crate::kube::openshift::{CONFIG_NAMESPACE, KEY_DATA_KEY};
    let keys: Vec<&crate::decrypt::recovered::RecoveredKey> = generations
        .keys()
        .filter_map(|&g| ctx.audit.recovery.keys.get(g))
        .collect();
    let secrets: Vec<String> = keys
        .iter()
        .map(|k| format!("{CONFIG_NAMESPACE}/{}", k.secret_name))
        .collect();
    let args: Vec<String> = keys
        .iter()
        .map(|k| format!("--key {}:{}=BASE64", k.provider.name(), k.generation))
        .collect();
    format!(
        "Not lost: the key Secret {} still holds the key that opens them, but {node}'s config no longer lists that \
         generation, so {node} fails them. Keep the Secret (do not delete it: it is the only copy of that key). To make \
         them readable again, save each object decrypted with that key ({}, BASE64 = the Secret's data {KEY_DATA_KEY}) \
         and re-create it through {node}, which writes it under its current write key.",
        list(&secrets),
        list(&args)
    )
}

/// Plaintext records of resources that some node's config encrypts on write.
fn plaintext_in_encrypted(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let recs = &ctx.audit.plaintext_in_encrypted_resources;
    if recs.is_empty() {
        return;
    }
    let nodes: BTreeSet<String> = recs
        .iter()
        .flat_map(|r| r.encrypted_on.iter().cloned())
        .collect();
    let resources: Vec<String> = recs
        .iter()
        .filter_map(|r| r.resource.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    out.push(Finding {
        facts: FindingFacts::default(),
        kind: FindingKind::PlaintextInEncryptedResource,
        severity: Severity::Warning,
        summary: format!("{} record(s) of {} are stored in plaintext although the configs encrypt that resource", recs.len(), list(&resources)),
        nodes: nodes.into_iter().collect(),
        keys: recs.iter().map(|r| Arc::from(r.key.as_str())).collect(),
        evidence: vec![Evidence {
            text: "written before encryption was enabled (or before the initial encryption finished), or through an apiserver without the config".into(),
            source: Some(ctx.snapshot_path.to_string()),
        }],
        remedy: format!(
            "Rewrite them so they get encrypted: `kubectl get {} -A -o json | kubectl replace -f -`.",
            resources.iter().map(|r| r.split('.').next().unwrap_or(r)).collect::<Vec<_>>().join(",")
        ),
    });
}

/// Encrypted records and not one key source: nothing was checked (rule 1).
fn no_key_sources(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let c = &ctx.audit.records;
    if !ctx.keyring.keys.is_empty() || !ctx.engine.nodes.is_empty() || c.encrypted == 0 {
        return;
    }
    out.push(Finding {
        facts: FindingFacts::default(),
        kind: FindingKind::NoKeySources,
        severity: Severity::Warning,
        summary: format!(
            "{} encrypted record(s) and no key source given: none of them was checked",
            c.encrypted
        ),
        nodes: vec![],
        keys: vec![],
        evidence: c
            .by_provider
            .iter()
            .filter(|(p, _)| !matches!(p.as_str(), "protobuf" | "json" | "other"))
            .map(|(p, n)| Evidence {
                text: format!("{n} record(s) stored with {p}"),
                source: Some(ctx.snapshot_path.to_string()),
            })
            .collect(),
        remedy: "Give every control-plane node's key source: --encryption-config NODE=FILE (the file named by \
                 kube-apiserver's --encryption-provider-config) or --static-resources NODE=TARBALL (OpenShift's \
                 static_kuberesources backup), or at least --key."
            .into(),
    });
}

fn kms_required(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let recs = &ctx.audit.kms_records;
    if recs.is_empty() {
        return;
    }
    let mut plugins: BTreeMap<String, usize> = BTreeMap::new();
    for r in recs {
        let label = match (&r.envelope, &r.envelope_error) {
            (Some(env), _) => format!(
                "{} {}, key ID {}, DEK source {}",
                env.version.name(),
                env.plugin,
                env.key_id.as_deref().unwrap_or("-"),
                env.dek_source_type.as_deref().unwrap_or("-")
            ),
            (None, e) => format!("envelope unreadable: {}", e.as_deref().unwrap_or("?")),
        };
        *plugins.entry(label).or_default() += 1;
    }
    out.push(Finding {
        facts: FindingFacts::default(),
        kind: FindingKind::KmsRequired,
        severity: Severity::Info,
        summary: format!("{} record(s) are encrypted through a KMS plugin; only the plugin can open them", recs.len()),
        nodes: recs.iter().flat_map(|r| r.nodes.iter().cloned()).collect::<BTreeSet<_>>().into_iter().collect(),
        keys: recs.iter().map(|r| Arc::from(r.key.as_str())).collect(),
        evidence: plugins.iter().map(|(p, c)| Evidence { text: format!("{c} record(s): plugin {p}"), source: Some(ctx.snapshot_path.to_string()) }).collect(),
        remedy: "Check these against the KMS itself (the plugin must still hold the key that wrapped their DEK) before relying on this backup.".into(),
    });
}
