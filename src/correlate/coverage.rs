//! Who reads what, per node, derived from `decrypt::audit`: node rows, the node × key matrix, and
//! the unreadable records indexed per node.

use super::model::*;
use super::Context;
use crate::keyring::Role;
use std::collections::BTreeMap;

/// Indexes over the audit, computed once and shared by every finding.
pub struct Coverage {
    pub node_names: Vec<String>,
    /// Per node (engine order): indexes into `audit.unreadable` of records it cannot read. The
    /// audit lists records in key order, so the first is where the node's LIST stops.
    pub failing: Vec<Vec<usize>>,
    /// Encrypted records (keys) of resources no given config covers (e.g. OpenShift routes and
    /// OAuth tokens, encrypted by other apiservers whose keys live in secrets inside etcd).
    pub uncovered: Vec<String>,
    /// Storage prefixes (first path segment) of the snapshot's keys, for matching log keys.
    pub prefixes: std::collections::BTreeSet<String>,
    /// Log node → config node ([`super::logmatch::node_aliases`]).
    pub aliases: BTreeMap<String, String>,
}

impl Coverage {
    pub fn compute(ctx: &Context<'_>) -> Coverage {
        let node_names: Vec<String> = ctx.engine.nodes.iter().map(|n| n.node.clone()).collect();
        let mut failing = vec![Vec::new(); node_names.len()];
        let mut uncovered = Vec::new();
        // Records come in key order, in runs sharing a class (what each node returns) and a
        // directory (the bytes before the last `/`, which alone name a key path's resource):
        // each run is resolved once, not once per record (300k on the bench snapshot).
        let mut last_class: Option<(*const crate::decrypt::audit::UnreadableClass, Vec<usize>)> =
            None;
        let mut last_dir: Option<(&str, bool)> = None;
        for (i, u) in ctx.audit.unreadable.iter().enumerate() {
            let class = std::sync::Arc::as_ptr(&u.class);
            let nodes = match &last_class {
                Some((c, nodes)) if *c == class => nodes,
                _ => {
                    let nodes = node_names
                        .iter()
                        .enumerate()
                        .filter(|(_, name)| u.error_on(name).is_some())
                        .map(|(n, _)| n)
                        .collect();
                    &last_class.insert((class, nodes)).1
                }
            };
            for &n in nodes {
                failing[n].push(i);
            }
            // `covers` is false for a node whose apiserver does not serve the resource.
            let dir = &u.key[..u.key.rfind('/').unwrap_or(0)];
            let covered = match last_dir {
                Some((d, covered)) if d == dir && !dir.is_empty() => covered,
                _ => {
                    let ids = ctx.engine.resource_ids(u.key.as_bytes());
                    let covered = ctx.engine.nodes.iter().any(|n| n.covers(ids));
                    last_dir = Some((dir, covered));
                    covered
                }
            };
            if !covered {
                uncovered.push(u.key.to_string());
            }
        }
        for f in &mut failing {
            f.shrink_to_fit();
        }
        Coverage {
            aliases: super::logmatch::node_aliases(ctx, &node_names),
            node_names,
            failing,
            uncovered,
            prefixes: super::logmatch::snapshot_prefixes(ctx),
        }
    }

    /// Per node: encrypted records it decrypts, failures, errors, where its LIST stops.
    pub fn node_rows(&self, ctx: &Context<'_>) -> Vec<NodeRow> {
        let audit = ctx.audit;
        ctx.audit
            .nodes
            .iter()
            .enumerate()
            .map(|(n, s)| {
                NodeRow {
                    name: s.node.clone(),
                    // `readable` counts the plaintext records the node reads too.
                    decrypts: s.readable.saturating_sub(s.plaintext) as u64,
                    fails: s.failing as u64,
                    errors: s.errors.clone(),
                    first_failing_key: self
                        .failing
                        .get(n)
                        .and_then(|f| f.first())
                        .map(|&i| audit.unreadable[i].key.to_string()),
                    log: LogMatch {
                        state: LogState::NoLog,
                        events: 0,
                        confirmed_keys: Vec::new(),
                        keys_not_in_snapshot: Vec::new(),
                        contradicted_keys: Vec::new(),
                    },
                }
            })
            .collect()
    }

    /// Node × key: for each node's active key, the records stored under its name that the node
    /// reads and fails.
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
                    let row = ctx
                        .audit
                        .coverage
                        .iter()
                        .find(|c| c.provider == k.provider.name() && c.key_name == k.name);
                    let decrypts = row.and_then(|r| r.nodes.get(node)).copied().unwrap_or(0) as u64;
                    let fails = self.failing[n]
                        .iter()
                        .filter(|&&i| {
                            let u = &ctx.audit.unreadable[i];
                            u.provider == k.provider.name()
                                && u.key_name.as_deref() == Some(k.name.as_str())
                        })
                        .count() as u64;
                    cells.insert(
                        format!("{}:{}", k.provider.name(), k.name),
                        MatrixCell {
                            fingerprint: k.fingerprint.clone(),
                            decrypts,
                            fails,
                        },
                    );
                }
                MatrixRow {
                    node: node.clone(),
                    cells,
                }
            })
            .collect()
    }
}
