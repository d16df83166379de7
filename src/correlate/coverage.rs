//! Who reads what: record counts, per-node results, the node × key matrix and the unreadable list.

use super::model::*;
use super::{fails, Context};
use crate::decrypt::{NodeOutcome, Storage};
use crate::keyring::Role;
use std::collections::BTreeMap;

/// Per-node failing records and the counts, computed once and shared by every finding.
pub struct Coverage {
    pub counts: RecordCounts,
    pub node_names: Vec<String>,
    /// Per node (engine order): indexes into `ctx.assessed` of records it cannot read, key order.
    pub failing: Vec<Vec<usize>>,
    /// Per node: encrypted records it decrypts.
    pub decrypted: Vec<u64>,
    /// Encrypted records of resources no given config covers (e.g. OpenShift routes and OAuth
    /// tokens, encrypted by other apiservers whose keys live in secrets inside etcd).
    pub uncovered: Vec<usize>,
}

impl Coverage {
    pub fn compute(ctx: &Context<'_>) -> Coverage {
        let node_names: Vec<String> = ctx.engine.nodes.iter().map(|n| n.node.clone()).collect();
        let mut counts = RecordCounts::default();
        let mut failing = vec![Vec::new(); node_names.len()];
        let mut decrypted = vec![0u64; node_names.len()];
        let mut uncovered = Vec::new();
        for (i, a) in ctx.assessed.iter().enumerate() {
            let v = &a.verdict;
            counts.live += 1;
            let label = match (v.storage, v.provider) {
                (Storage::Encrypted, Some(p)) => p.name().to_string(),
                (Storage::UnknownEncrypted, _) => "encrypted-unknown".to_string(),
                (Storage::Protobuf, _) => "protobuf".into(),
                (Storage::Json, _) => "json".into(),
                _ => "other".into(),
            };
            *counts.by_provider.entry(label).or_default() += 1;
            if v.is_encrypted() {
                counts.encrypted += 1;
                let ids = ctx.engine.resource_ids(a.key);
                if !ctx.engine.nodes.iter().any(|n| n.covers(ids)) {
                    uncovered.push(i);
                }
                if v.decrypts_with.is_empty() && v.kms.is_none() {
                    counts.undecryptable += 1;
                }
            } else {
                counts.plaintext += 1;
            }
            for (n, o) in v.nodes.iter().enumerate() {
                if fails(o) {
                    failing[n].push(i);
                } else if matches!(o, NodeOutcome::Decrypted { .. }) {
                    decrypted[n] += 1;
                }
            }
        }
        Coverage {
            counts,
            node_names,
            failing,
            decrypted,
            uncovered,
        }
    }

    /// Per node: reads, failures, errors, where its LIST stops.
    pub fn node_rows(&self, ctx: &Context<'_>) -> Vec<NodeRow> {
        self.node_names
            .iter()
            .enumerate()
            .map(|(n, name)| {
                let mut errors = BTreeMap::new();
                for &i in &self.failing[n] {
                    if let Some(e) = ctx.assessed[i].verdict.nodes[n].error_line() {
                        *errors.entry(e).or_insert(0u64) += 1;
                    }
                }
                NodeRow {
                    name: name.clone(),
                    decrypts: self.decrypted[n],
                    fails: self.failing[n].len() as u64,
                    errors,
                    // Records are in key order, so the first failing one is where a LIST stops.
                    first_failing_key: self.failing[n].first().map(|&i| ctx.assessed[i].key_str()),
                    log: LogMatch {
                        state: String::new(),
                        events: 0,
                        confirmed_keys: Vec::new(),
                        keys_not_in_snapshot: Vec::new(),
                    },
                }
            })
            .collect()
    }

    /// Node × key: for each node's active key, records stored under its name that it reads/fails.
    pub fn matrix(&self, ctx: &Context<'_>) -> Vec<MatrixRow> {
        self.node_names
            .iter()
            .enumerate()
            .map(|(n, node)| {
                let mut cells = BTreeMap::new();
                for k in ctx
                    .keyring
                    .keys
                    .iter()
                    .filter(|k| &k.node == node && matches!(k.role, Role::Write | Role::Read))
                {
                    let mut cell = MatrixCell {
                        fingerprint: k.fingerprint.clone(),
                        decrypts: 0,
                        fails: 0,
                    };
                    for a in ctx.assessed {
                        let v = &a.verdict;
                        if v.provider != Some(k.provider)
                            || v.key_name.as_deref() != Some(k.name.as_str())
                        {
                            continue;
                        }
                        match &v.nodes[n] {
                            NodeOutcome::Decrypted { fingerprint, .. }
                                if *fingerprint == k.fingerprint =>
                            {
                                cell.decrypts += 1
                            }
                            o if fails(o) => cell.fails += 1,
                            _ => {}
                        }
                    }
                    cells.insert(format!("{}:{}", k.provider.name(), k.name), cell);
                }
                MatrixRow {
                    node: node.clone(),
                    cells,
                }
            })
            .collect()
    }

    /// Every live encrypted record at least one node cannot read, in key order.
    pub fn unreadable(&self, ctx: &Context<'_>) -> Vec<Unreadable> {
        let mut out = Vec::new();
        for a in ctx.assessed {
            let v = &a.verdict;
            let failing_nodes: BTreeMap<String, String> = v
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, o)| fails(o))
                .map(|(n, o)| {
                    (
                        self.node_names[n].clone(),
                        o.error_line().unwrap_or_default(),
                    )
                })
                .collect();
            if failing_nodes.is_empty() || !v.is_encrypted() {
                continue;
            }
            out.push(Unreadable {
                key: a.key_str(),
                mod_revision: a.mod_revision,
                provider: v
                    .provider
                    .map(|p| p.name().to_string())
                    .unwrap_or_else(|| "unknown".into()),
                key_name: v.key_name.as_ref().map(|s| s.to_string()),
                failing_nodes,
                decrypts_with: v
                    .decrypts_with
                    .iter()
                    .filter_map(|&k| ctx.keyring.keys.get(k))
                    .map(|k| k.id.clone())
                    .collect(),
            });
        }
        out
    }
}
