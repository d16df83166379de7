//! Snapshot predictions against log observations: per node, what its apiserver should log (a
//! LIST stops at the first unreadable key in key order, so a looping cacher repeats that key)
//! and what its logs show. Log keys are matched after normalising the storage prefix, since an
//! apiserver configured with `--etcd-prefix` logs `/kubernetes.io/...` where a default one logs
//! `/registry/...`.

use super::coverage::Coverage;
use super::findings::list;
use super::model::*;
use super::Context;
use crate::logs::{Aggregate, Event, NodeFrom, TimeBasis};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Storage prefixes (first path segment) of the snapshot's keys.
pub(super) fn snapshot_prefixes(ctx: &Context<'_>) -> BTreeSet<String> {
    let records = ctx.records;
    first_segments(records.live_count(), |i| {
        records.live_at(i).map_or(&b""[..], |r| r.kv.key)
    })
}

/// The distinct first segments (`registry` of `/registry/…`; empty for a key without a leading
/// `/`) of `n` keys in key order, `key(i)` the `i`-th.
fn first_segments<'k>(n: usize, key: impl Fn(usize) -> &'k [u8]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut i = 0;
    while i < n {
        let k = key(i);
        let seg = k
            .strip_prefix(b"/")
            .and_then(|k| k.split(|&c| c == b'/').next())
            .unwrap_or(b"");
        out.insert(String::from_utf8_lossy(seg).into_owned());
        // Live keys are in key order, so every key starting with `/SEG/` (the same segment)
        // follows this one: skipped by a binary search instead of read one by one (each a
        // first touch of a page on a big snapshot, 300k on the bench one).
        let run = 1 + seg.len() + 1;
        if k.first() == Some(&b'/') && k.get(run - 1) == Some(&b'/') {
            let p = &k[..run];
            let (mut lo, mut hi) = (i + 1, n);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if key(mid).starts_with(p) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            i = lo;
        } else {
            i += 1;
        }
    }
    out
}

/// Is `key` in the snapshot (any revision)?
fn in_snapshot(ctx: &Context<'_>, key: &str) -> bool {
    !ctx.records.of_key(key.as_bytes()).is_empty()
}

/// The snapshot key a log key refers to: itself if present, else the same path under another
/// storage prefix of the snapshot. None when the snapshot holds no such key.
fn normalise(ctx: &Context<'_>, prefixes: &BTreeSet<String>, key: &str) -> Option<String> {
    if in_snapshot(ctx, key) {
        return Some(key.to_string());
    }
    let rest = key.strip_prefix('/')?.split_once('/')?.1;
    prefixes
        .iter()
        .map(|p| format!("/{p}/{rest}"))
        .find(|k| in_snapshot(ctx, k))
}

/// The mod revision of the key's latest record in the snapshot.
fn live_revision(ctx: &Context<'_>, key: &str) -> Option<i64> {
    ctx.records
        .of_key(key.as_bytes())
        .last()
        .map(|&i| ctx.records.get(i).kv.mod_revision)
}

/// Whether the key's latest revision in the snapshot is a deletion.
fn deleted_in_snapshot(ctx: &Context<'_>, key: &str) -> bool {
    ctx.records
        .of_key(key.as_bytes())
        .last()
        .is_some_and(|&i| ctx.records.get(i).rev.tombstone)
}

pub fn summarise(ctx: &Context<'_>) -> LogEvents {
    let Some(scan) = ctx.logs else {
        return LogEvents::default();
    };
    let mut ev = LogEvents {
        total: scan.events.len() as u64,
        ..LogEvents::default()
    };
    for e in &scan.events {
        *ev.by_node.entry(e.node.clone()).or_default() += 1;
        if let Some(k) = &e.key {
            *ev.by_key.entry(k.clone()).or_default() += 1;
        }
    }
    (ev.timeline, ev.timeline_basis) = timeline(&scan.events, &scan.restarts);
    ev
}

/// Errors per node in up to 48 equal time buckets over the span of all timed events and
/// apiserver starts, with the starts marked. Times keep their basis: a klog time without `--year`
/// or `--tz` is never written with an invented year or a `Z`.
fn timeline(
    events: &[Event],
    restarts: &[crate::logs::Restart],
) -> (Vec<TimelineSeries>, Option<TimeBasis>) {
    const BUCKETS: i64 = 48;
    let events: Vec<&Event> = events
        .iter()
        .filter(|e| e.time_basis != TimeBasis::Unknown)
        .collect();
    let restarts: Vec<&crate::logs::Restart> = restarts
        .iter()
        .filter(|r| r.time_basis != TimeBasis::Unknown)
        .collect();
    let times = || {
        events
            .iter()
            .map(|e| e.micros)
            .chain(restarts.iter().map(|r| r.micros))
    };
    let (Some(lo), Some(hi), Some(basis)) = (
        times().min(),
        times().max(),
        events.iter().map(|e| e.time_basis).max(),
    ) else {
        return (Vec::new(), None);
    };
    let basis = restarts.iter().map(|r| r.time_basis).fold(basis, Ord::max);
    let span = hi.saturating_sub(lo);
    let width = (span / BUCKETS).max(1_000_000);
    let n = (span / width + 1).clamp(1, BUCKETS + 1) as usize;
    let bucket = |micros: i64| ((micros.saturating_sub(lo) / width) as usize).min(n - 1);
    let mut by_node: BTreeMap<&str, (Vec<u64>, Vec<TimelineRestart>)> = BTreeMap::new();
    for e in &events {
        by_node
            .entry(&e.node)
            .or_insert_with(|| (vec![0; n], Vec::new()))
            .0[bucket(e.micros)] += 1;
    }
    for r in &restarts {
        by_node
            .entry(&r.node)
            .or_insert_with(|| (vec![0; n], Vec::new()))
            .1
            .push(TimelineRestart {
                time: crate::logs::time::format_on(r.micros, basis),
                bucket: bucket(r.micros),
                source: format!("{}:{}", r.file, r.line),
            });
    }
    let series = by_node
        .into_iter()
        .map(|(node, (counts, restarts))| TimelineSeries {
            node: node.to_string(),
            points: counts
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let t = lo.saturating_add((i as i64).saturating_mul(width));
                    (crate::logs::time::format_on(t, basis), c)
                })
                .collect(),
            restarts,
        })
        .collect();
    (series, Some(basis))
}

/// Log node → config node, by the documented rule (docs/verdict-rules.md, rule 3): a log node
/// equal to a config node is that node; with exactly one config node, logs whose node was not
/// given as `NODE=` (taken from a pod or file name, or stdin) are that node's. Everything else
/// maps to nothing and gets a `log-node-unmatched` finding.
pub fn node_aliases(ctx: &Context<'_>, node_names: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(scan) = ctx.logs else { return out };
    for f in &scan.files {
        if node_names.contains(&f.node) {
            out.insert(f.node.clone(), f.node.clone());
        } else if let [only] = node_names {
            if f.node_from != NodeFrom::Given {
                out.insert(f.node.clone(), only.clone());
            }
        }
    }
    out
}

/// The config node a log node stands for.
pub(super) fn config_node<'c>(cov: &'c Coverage, log_node: &str) -> Option<&'c str> {
    cov.aliases.get(log_node).map(String::as_str)
}

/// Fills each node row's `log` with prediction vs observation.
pub fn match_nodes(ctx: &Context<'_>, cov: &Coverage, nodes: &mut [NodeRow]) {
    let prefixes = &cov.prefixes;
    for (n, row) in nodes.iter_mut().enumerate() {
        let name = row.name.as_str();
        let has_log = ctx.logs.is_some_and(|s| {
            s.files
                .iter()
                .any(|f| config_node(cov, &f.node) == Some(name))
        });
        let events: Vec<&Event> = ctx
            .logs
            // A client-side event names where the client ran, not an apiserver (logs::Side).
            .map(|s| {
                s.events
                    .iter()
                    .filter(|e| {
                        config_node(cov, &e.node) == Some(name)
                            && e.side == crate::logs::event::Side::Apiserver
                    })
                    .collect()
            })
            .unwrap_or_default();
        // The keys this node fails (in key order, 300k on the bench snapshot): searched in
        // place when their display strings are sorted too, else through a set of borrows.
        let failing_idx: &[usize] = cov.failing.get(n).map_or(&[], Vec::as_slice);
        let key_of = |i: usize| &*ctx.audit.unreadable[i].key;
        let sorted =
            events.is_empty() || failing_idx.windows(2).all(|w| key_of(w[0]) < key_of(w[1]));
        let failing_set: BTreeSet<&str> = if sorted {
            BTreeSet::new()
        } else {
            failing_idx.iter().map(|&i| key_of(i)).collect()
        };
        let is_failing = |k: &str| {
            if sorted {
                failing_idx.binary_search_by(|&i| key_of(i).cmp(k)).is_ok()
            } else {
                failing_set.contains(k)
            }
        };
        let mut confirmed = BTreeSet::new();
        let mut absent = BTreeSet::new();
        let mut contradicted = BTreeSet::new();
        let mut keyless_match = false;
        for e in &events {
            match &e.key {
                Some(k) => match normalise(ctx, prefixes, k) {
                    Some(sk) if is_failing(&sk) => {
                        confirmed.insert(sk);
                    }
                    // The snapshot holds this record live, the config given for the node reads
                    // it, and the node's apiserver failed on it (rule 2) — on this revision, when
                    // the log says which (1.32+ corrupt-object errors do).
                    Some(sk)
                        if !deleted_in_snapshot(ctx, &sk)
                            && e.revision
                                .is_none_or(|r| live_revision(ctx, &sk) == Some(r)) =>
                    {
                        contradicted.insert(sk);
                    }
                    Some(_) => {}
                    None => {
                        absent.insert(k.clone());
                    }
                },
                None => keyless_match |= row.errors.contains_key(e.error.as_str()),
            }
        }
        row.log.events = events.len() as u64;
        row.log.state = if !has_log {
            LogState::NoLog
        } else if !contradicted.is_empty() {
            LogState::Contradicts
        } else if row.fails > 0 {
            if !confirmed.is_empty() || keyless_match {
                LogState::Confirmed
            } else {
                LogState::PredictedNotSeen
            }
        } else if events.is_empty() {
            LogState::Clean
        } else {
            LogState::SeenNotPredicted
        };
        row.log.confirmed_keys = confirmed.into_iter().collect();
        row.log.keys_not_in_snapshot = absent.into_iter().collect();
        row.log.contradicted_keys = contradicted.into_iter().collect();
    }
}

/// Log evidence for `nodes` failing on `keys`: the aggregated lines, with counts, times, the loop
/// interval and where in which file.
pub fn evidence_for(
    ctx: &Context<'_>,
    cov: &Coverage,
    nodes: &[String],
    keys: &[Arc<str>],
) -> Vec<Evidence> {
    let Some(scan) = ctx.logs else {
        return Vec::new();
    };
    let prefixes = &cov.prefixes;
    // The finding's keys come in key order (300k on the bench snapshot): searched in place when
    // sorted, as a set only when not.
    let sorted = keys.windows(2).all(|w| w[0] < w[1]);
    let set: BTreeSet<&str> = if sorted {
        BTreeSet::new()
    } else {
        keys.iter().map(|k| &**k).collect()
    };
    let has = |k: &str| {
        if sorted {
            keys.binary_search_by(|x| str::cmp(x, k)).is_ok()
        } else {
            set.contains(k)
        }
    };
    let mut out = Vec::new();
    for a in scan.aggregates.iter().filter(|a| {
        a.side == crate::logs::event::Side::Apiserver
            && config_node(cov, &a.node).is_some_and(|n| nodes.iter().any(|x| x == n))
    }) {
        let matches = match &a.key {
            Some(k) => normalise(ctx, prefixes, k).is_some_and(|sk| has(sk.as_str())),
            // Keyless (watch/GET) errors support the finding only when it has keys of its own.
            None => !keys.is_empty(),
        };
        if !matches {
            continue;
        }
        let first = scan
            .events
            .iter()
            .find(|e| e.node == a.node && e.key == a.key && e.error == a.error);
        let source = first.map(|e| {
            if e.end_line > e.line {
                format!("{}:{}-{}", e.file, e.line, e.end_line)
            } else {
                format!("{}:{}", e.file, e.line)
            }
        });
        out.push(Evidence {
            text: describe(a),
            source,
        });
    }
    out
}

fn describe(a: &Aggregate) -> String {
    let what = match &a.key {
        Some(k) => format!("unable to transform key \"{k}\": {}", a.error),
        None => a.error.clone(),
    };
    let comp = a
        .components
        .keys()
        .next()
        .map(|c| format!("{c}: "))
        .unwrap_or_default();
    let mut s = format!(
        "{} logged {comp}{what} — {}×, {} → {}",
        a.node, a.count, a.first_seen, a.last_seen
    );
    if let Some(iv) = a.median_interval_secs {
        s += &format!(", every ~{iv:.1} s");
    }
    if a.cacher_loop {
        s += " (a cacher re-listing in a loop)";
    }
    s
}

/// Findings the logs give: how log nodes were mapped (rule 3), logs that contradict the config
/// given for their node (rule 2), and keys named in logs that the snapshot does not hold.
pub fn findings(ctx: &Context<'_>, cov: &Coverage, nodes: &[NodeRow], out: &mut Vec<Finding>) {
    let Some(scan) = ctx.logs else { return };
    node_mapping(ctx, cov, out);
    for row in nodes.iter().filter(|r| !r.log.contradicted_keys.is_empty()) {
        let node = &row.name;
        let keys = &row.log.contradicted_keys;
        let events = scan
            .events
            .iter()
            .filter(|e| config_node(cov, &e.node) == Some(node.as_str()))
            .filter(|e| {
                e.key
                    .as_deref()
                    .and_then(|k| normalise(ctx, &cov.prefixes, k))
                    .is_some_and(|sk| keys.binary_search(&sk).is_ok())
            })
            .count();
        let shared: Vec<Arc<str>> = keys.iter().map(|k| Arc::from(k.as_str())).collect();
        let mut evidence = evidence_for(ctx, cov, std::slice::from_ref(node), &shared);
        evidence.extend(keys.iter().take(10).map(|k| Evidence {
            text: format!("{k}: the config given for {node} decrypts it"),
            source: Some(ctx.snapshot_path.to_string()),
        }));
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::ConfigNotRunning,
            severity: Severity::Critical,
            summary: format!(
                "the config given for {node} is not the one its apiserver runs: its log shows {events} transform \
                 error(s) on {} record(s) that config decrypts",
                keys.len()
            ),
            nodes: vec![node.clone()],
            keys: shared,
            evidence,
            remedy: format!(
                "Get the EncryptionConfiguration {node}'s kube-apiserver really runs (the file its \
                 --encryption-provider-config names, or the highest kube-apiserver-pod-N revision of a current \
                 static_kuberesources backup) and run again with it: every verdict about {node} depends on it. \
                 Until then, compare that file's keys with the ones shown here (fingerprints)."
            ),
        });
    }
    let mut absent: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in nodes {
        for k in &row.log.keys_not_in_snapshot {
            absent
                .entry(k.clone())
                .or_default()
                .insert(row.name.clone());
        }
    }
    // Events on nodes without a config are not in `nodes`; take their keys too.
    let prefixes = &cov.prefixes;
    for e in scan.events.iter().filter(|e| {
        config_node(cov, &e.node).is_none() && e.side == crate::logs::event::Side::Apiserver
    }) {
        if let Some(k) = &e.key {
            if normalise(ctx, prefixes, k).is_none() {
                absent.entry(k.clone()).or_default().insert(e.node.clone());
            }
        }
    }
    if absent.is_empty() {
        return;
    }
    let evidence = absent
        .iter()
        .take(20)
        .map(|(k, n)| {
            let why = if deleted_in_snapshot(ctx, k) {
                "deleted before the snapshot"
            } else {
                "not in the snapshot: written after it, or from another cluster"
            };
            Evidence {
                text: format!(
                    "{k} (logged by {}): {why}",
                    n.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                source: None,
            }
        })
        .collect();
    let node_set: BTreeSet<String> = absent.values().flatten().cloned().collect();
    out.push(Finding {
        facts: FindingFacts::default(),
        kind: FindingKind::LogKeyNotInSnapshot,
        severity: Severity::Info,
        summary: format!("the logs name {} key(s) the snapshot does not hold: the logs and the snapshot are from different times", absent.len()),
        nodes: node_set.into_iter().collect(),
        keys: absent.keys().map(|k| Arc::from(k.as_str())).collect(),
        evidence,
        remedy: "Compare against a snapshot taken when these errors were logged, or collect logs from around the snapshot's time.".into(),
    });
}

/// How each log file's node was matched to a config node, when it was not by name: attached to
/// the only config node (info, says so), or matched to none (warning naming both sides).
fn node_mapping(ctx: &Context<'_>, cov: &Coverage, out: &mut Vec<Finding>) {
    let Some(scan) = ctx.logs else { return };
    if cov.node_names.is_empty() {
        return;
    }
    let mut assumed: Vec<&crate::logs::FileStats> = Vec::new();
    let mut unmatched: Vec<&crate::logs::FileStats> = Vec::new();
    // A file whose events are all client-side (kubelet, kubectl, …) and that shows no apiserver
    // start is not an apiserver's log: it is never matched to a config node, and said so.
    let mut clients: Vec<&crate::logs::FileStats> = Vec::new();
    let mut side: Vec<(bool, bool)> = vec![(false, false); scan.files.len()]; // (client, apiserver)
    for e in &scan.events {
        if let Some(s) = side.get_mut(e.file_index) {
            match e.side {
                crate::logs::event::Side::Apiserver => s.1 = true,
                _ => s.0 = true,
            }
        }
    }
    for (i, f) in scan.files.iter().enumerate() {
        if side[i] == (true, false) && f.restarts == 0 {
            clients.push(f);
            continue;
        }
        match config_node(cov, &f.node) {
            Some(n) if n == f.node => {}
            Some(_) => assumed.push(f),
            None => unmatched.push(f),
        }
    }
    let configs = list(&cov.node_names);
    if !clients.is_empty() {
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::ClientSideLog,
            severity: Severity::Info,
            summary: format!(
                "{} log file(s) hold only client-side errors (kubelet, controller-manager, kubectl): what clients saw, not what an apiserver logged; not matched to a config node",
                clients.len()
            ),
            nodes: vec![],
            keys: vec![],
            evidence: clients
                .iter()
                .map(|f| {
                    // The keys the clients name, so they are not lost with the file.
                    let keys: BTreeSet<&str> = scan
                        .events
                        .iter()
                        .filter(|e| e.file == f.file)
                        .filter_map(|e| e.key.as_deref())
                        .collect();
                    let named = if keys.is_empty() {
                        String::new()
                    } else {
                        let shown: Vec<&str> = keys.iter().take(10).copied().collect();
                        let more = keys.len().saturating_sub(shown.len());
                        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                        format!(" naming {}{more}", shown.join(", "))
                    };
                    Evidence {
                        text: format!("{} client-side event(s){named}", f.events),
                        source: Some(f.file.clone()),
                    }
                })
                .collect(),
            remedy: format!(
                "For the apiserver's side, add the kube-apiserver logs of the nodes concerned: --log NODE=PATH (config nodes: {configs})."
            ),
        });
    }
    if !assumed.is_empty() {
        let only = &cov.node_names[0];
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::LogNodeAssumed,
            severity: Severity::Info,
            summary: format!(
                "{} log file(s) without a node label were attached to {only}, the only config node",
                assumed.len()
            ),
            nodes: vec![only.clone()],
            keys: vec![],
            evidence: assumed
                .iter()
                .map(|f| Evidence {
                    text: format!("node `{}` from its {}", f.node, from_what(f.node_from)),
                    source: Some(f.file.clone()),
                })
                .collect(),
            remedy: format!(
                "If a log is from another node, label it: --log NODE=PATH (config nodes: {configs})."
            ),
        });
    }
    if !unmatched.is_empty() {
        let log_nodes: Vec<String> = unmatched
            .iter()
            .map(|f| f.node.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        out.push(Finding {
            facts: FindingFacts::default(),
            kind: FindingKind::LogNodeUnmatched,
            severity: Severity::Warning,
            summary: format!(
                "log node(s) {} match no config node ({configs}): their {} log file(s) were not compared with the snapshot",
                list(&log_nodes),
                unmatched.len()
            ),
            nodes: log_nodes,
            keys: vec![],
            evidence: unmatched
                .iter()
                .map(|f| Evidence {
                    text: format!(
                        "node `{}` from its {}; {} event(s)",
                        f.node,
                        from_what(f.node_from),
                        f.events
                    ),
                    source: Some(f.file.clone()),
                })
                .collect(),
            remedy: format!(
                "Label each log with the config node it belongs to, e.g. NODE=PATH with NODE one of {configs}, or name \
                 the configs after the log nodes."
            ),
        });
    }
}

fn from_what(f: NodeFrom) -> &'static str {
    match f {
        NodeFrom::Given => "NODE= label",
        NodeFrom::Pod => "pod name",
        NodeFrom::FileName => "file name",
        NodeFrom::Stdin => "stdin default",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The segments found by skipping runs equal those of reading every key.
    #[test]
    fn first_segments_skip_runs_and_miss_none() {
        let mut keys: Vec<&[u8]> = vec![
            b"/registry",
            b"/registry/a",
            b"/registry/b/c",
            b"/registry\x00x",
            b"/registry/z",
            b"/registryfoo/y",
            b"//x",
            b"//y",
            b"/",
            b"",
            b"abc",
            b"/kubernetes.io/secrets/a",
            b"/kubernetes.io",
            b"/\xffbad/1",
            b"/\xffbad/2",
        ];
        keys.sort();
        for n in 0..=keys.len() {
            let naive: BTreeSet<String> = keys[..n]
                .iter()
                .map(|k| {
                    let seg = k
                        .strip_prefix(b"/")
                        .and_then(|k| k.split(|&c| c == b'/').next())
                        .unwrap_or(b"");
                    String::from_utf8_lossy(seg).into_owned()
                })
                .collect();
            assert_eq!(first_segments(n, |i| keys[i]), naive, "{n}");
        }
    }
}
