//! Events → one line per node × etcd key × error, and de-duplicated restarts.
//!
//! The typical interval is the median gap between consecutive events *of the same component*: one
//! failed cacher LIST is logged twice (reflector, then cacher, microseconds apart), so gaps over
//! all events would alternate between µs and the loop period. The component with the most events
//! gives the interval. A median of 0.5–2 s is the cacher reinitializing in a loop
//! (storage/cacher/cacher.go `startCaching` retries every second).

use super::event::{ErrorClass, Event, Operation, Restart, Side};
use super::time::TimeBasis;
use serde::Serialize;
use std::collections::BTreeMap;

/// Events sharing node, key and error.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Aggregate {
    pub node: String,
    /// Client-side groups are kept apart: their node ran a client, not the failing apiserver.
    pub side: Side,
    /// The client, for client-side groups (the first event's).
    pub client: Option<String>,
    pub key: Option<String>,
    pub error: String,
    pub class: ErrorClass,
    pub resource: Option<String>,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// The weakest time basis among the events (UTC only if all are UTC).
    pub time_basis: TimeBasis,
    /// Median gap between events of the busiest component, in seconds (ms precision).
    pub median_interval_secs: Option<f64>,
    /// The median gap is 0.5–2 s over at least three events: a cacher reinitializing in a loop.
    pub cacher_loop: bool,
    pub operations: Vec<Operation>,
    /// Events per component (`-` when the line names none).
    pub components: BTreeMap<String, u64>,
    /// kube-apiserver starts on this node between the first and the last event.
    pub restarts: u64,
}

/// Window within which two start markers on one node are the same start (the `Version:` and
/// `"Golang settings"` lines, a pod log's first line).
const SAME_START_MICROS: i64 = 30_000_000;

/// Orders restarts by file and line and merges markers of the same start.
pub fn dedupe_restarts(mut restarts: Vec<Restart>) -> Vec<Restart> {
    restarts.sort_by_key(|r| (r.file_index, r.line));
    let mut out: Vec<Restart> = Vec::new();
    for r in restarts {
        let dup = out.iter_mut().rev().find(|k| {
            k.node == r.node
                && (k.file_index == r.file_index
                    || (k.time_basis == TimeBasis::Utc && r.time_basis == TimeBasis::Utc))
                && (k.micros - r.micros).abs() <= SAME_START_MICROS
                && k.time_basis != TimeBasis::Unknown
        });
        match dup {
            Some(k) => {
                if k.version.is_none() && r.version.is_some() {
                    k.version = r.version;
                    k.evidence = r.evidence;
                }
            }
            None => out.push(r),
        }
    }
    out
}

fn median_gap_secs(mut micros: Vec<i64>) -> Option<f64> {
    if micros.len() < 2 {
        return None;
    }
    micros.sort_unstable();
    let mut gaps: Vec<i64> = micros.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    let n = gaps.len();
    let m = if n % 2 == 1 {
        gaps[n / 2] as f64
    } else {
        (gaps[n / 2 - 1] as f64 + gaps[n / 2] as f64) / 2.0
    };
    Some((m / 1000.0).round() / 1000.0)
}

/// Times kept per component for the median interval: beyond this the median is over the first
/// ones (a week of a 1 s loop is 600,000 events per component).
const MAX_TIMES_PER_COMPONENT: usize = 1 << 20;

/// An event's position for first/last: on the file's timeline and in input order.
#[derive(Clone, Debug)]
struct Seen {
    micros: i64,
    file_index: usize,
    line: u64,
    time: String,
}

impl Seen {
    fn of(e: &Event) -> Seen {
        Seen {
            micros: e.micros,
            file_index: e.file_index,
            line: e.line,
            time: e.time.clone(),
        }
    }
    /// Becomes `e`'s, keeping the time's buffer: in a loop the last event changes every time.
    fn set(&mut self, e: &Event) {
        self.micros = e.micros;
        self.file_index = e.file_index;
        self.line = e.line;
        self.time.clear();
        self.time.push_str(&e.time);
    }
    fn by_time(&self) -> (i64, usize, u64) {
        (self.micros, self.file_index, self.line)
    }
    fn by_input(&self) -> (usize, u64) {
        (self.file_index, self.line)
    }
}

/// Running state of one node × key × error group.
#[derive(Debug)]
struct Group {
    class: BTreeMap<ErrorClass, ()>,
    resource: Option<String>,
    client: Option<String>,
    count: u64,
    basis: TimeBasis,
    first_time: Seen,
    last_time: Seen,
    first_input: Seen,
    last_input: Seen,
    /// Lines seen per file: (first, last).
    files: BTreeMap<usize, (u64, u64)>,
    times: BTreeMap<String, Vec<i64>>,
    components: BTreeMap<String, u64>,
    operations: Vec<Operation>,
}

/// At most this many node × key × error groups are kept: a log naming millions of distinct keys
/// would otherwise grow memory with the key count. Events of further groups are counted
/// (`overflow`) and reported as a warning.
pub const MAX_GROUPS: usize = if cfg!(test) { 1_000 } else { 100_000 };

type GroupKey = (String, Option<String>, String, Side);

/// Folds events into groups as they are found, so memory does not grow with the event count.
#[derive(Debug, Default)]
pub struct Aggregator {
    groups: BTreeMap<GroupKey, Group>,
    /// The last event's group: consecutive events of a loop share it, and finding it again
    /// allocates nothing.
    last: Option<GroupKey>,
    /// Events not aggregated because they would have opened a group past [`MAX_GROUPS`].
    pub overflow: u64,
}

impl Aggregator {
    pub fn add(&mut self, e: &Event) {
        let same = self
            .last
            .as_ref()
            .is_some_and(|k| k.3 == e.side && k.2 == e.error && k.1 == e.key && k.0 == e.node);
        if !same {
            let key = (e.node.clone(), e.key.clone(), e.error.clone(), e.side);
            if self.groups.len() >= MAX_GROUPS && !self.groups.contains_key(&key) {
                self.overflow += e.count.max(1);
                return;
            }
            self.last = Some(key);
        }
        let Some(key) = self.last.as_ref() else {
            return;
        };
        let g = match self.groups.get_mut(key) {
            Some(g) => g,
            None => {
                let seen = Seen::of(e);
                self.groups.entry(key.clone()).or_insert_with(|| Group {
                    class: BTreeMap::new(),
                    resource: None,
                    client: e.client.clone(),
                    count: 0,
                    basis: e.time_basis,
                    first_time: seen.clone(),
                    last_time: seen.clone(),
                    first_input: seen.clone(),
                    last_input: seen,
                    files: BTreeMap::new(),
                    times: BTreeMap::new(),
                    components: BTreeMap::new(),
                    operations: Vec::new(),
                })
            }
        };
        g.count += e.count.max(1);
        g.class.entry(e.class).or_insert(());
        if g.resource.is_none() {
            g.resource = e.resource.clone();
        }
        g.basis = g.basis.max(e.time_basis);
        let by_time = (e.micros, e.file_index, e.line);
        let by_input = (e.file_index, e.line);
        if by_time < g.first_time.by_time() {
            g.first_time.set(e);
        }
        if by_time > g.last_time.by_time() {
            g.last_time.set(e);
        }
        if by_input < g.first_input.by_input() {
            g.first_input.set(e);
        }
        if by_input > g.last_input.by_input() {
            g.last_input.set(e);
        }
        let lines = g.files.entry(e.file_index).or_insert((e.line, e.line));
        lines.0 = lines.0.min(e.line);
        lines.1 = lines.1.max(e.line);
        let comp = e.component.as_deref().unwrap_or("-");
        match g.components.get_mut(comp) {
            Some(n) => *n += e.count.max(1),
            None => {
                g.components.insert(comp.to_string(), e.count.max(1));
            }
        }
        let t = match g.times.get_mut(comp) {
            Some(t) => t,
            None => g.times.entry(comp.to_string()).or_default(),
        };
        if t.len() < MAX_TIMES_PER_COMPONENT {
            t.push(e.micros);
        }
        if !g.operations.contains(&e.operation) {
            g.operations.push(e.operation);
        }
    }

    /// The groups, ordered by node, key, error, with restarts counted between first and last.
    pub fn finish(self, restarts: &[Restart]) -> Vec<Aggregate> {
        let mut out = Vec::with_capacity(self.groups.len());
        for ((node, key, error, side), g) in self.groups {
            let all_utc = g.basis == TimeBasis::Utc;
            let single_file = g.files.len() == 1;
            let comparable = all_utc || (single_file && g.basis != TimeBasis::Unknown);
            let (first, last) = if comparable {
                (&g.first_time, &g.last_time)
            } else {
                (&g.first_input, &g.last_input)
            };
            // The busiest component sets the interval (ties: the first name).
            let busiest = g
                .times
                .iter()
                .max_by(|a, b| a.1.len().cmp(&b.1.len()).then_with(|| b.0.cmp(a.0)));
            let median = if comparable {
                busiest.and_then(|(_, m)| median_gap_secs(m.clone()))
            } else {
                None
            };
            let loop_len = busiest.map_or(0, |(_, m)| m.len());
            let cacher_loop = median.is_some_and(|m| (0.5..=2.0).contains(&m)) && loop_len >= 3;
            let mut operations = g.operations.clone();
            operations.sort();
            let restarts_between = restarts
                .iter()
                .filter(|r| side == Side::Apiserver && r.node == node)
                .filter(|r| {
                    if all_utc && r.time_basis == TimeBasis::Utc {
                        r.micros > first.micros && r.micros <= last.micros
                    } else {
                        g.files
                            .get(&r.file_index)
                            .is_some_and(|&(lo, hi)| r.line > lo && r.line <= hi)
                    }
                })
                .count() as u64;
            let classes: Vec<ErrorClass> = g.class.keys().copied().collect();
            out.push(Aggregate {
                node,
                side,
                client: g.client.clone(),
                key,
                error,
                class: if classes.len() == 1 {
                    classes[0]
                } else {
                    ErrorClass::Multiple
                },
                resource: g.resource.clone(),
                count: g.count,
                first_seen: first.time.clone(),
                last_seen: last.time.clone(),
                time_basis: g.basis,
                median_interval_secs: median,
                cacher_loop,
                operations,
                components: g.components.clone(),
                restarts: restarts_between,
            });
        }
        out
    }
}

/// Groups events by node, key and error. Deterministic: ordered by node, key, error.
pub fn aggregate(events: &[Event], restarts: &[Restart]) -> Vec<Aggregate> {
    let mut a = Aggregator::default();
    for e in events {
        a.add(e);
    }
    a.finish(restarts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::time::format_utc;

    fn ev(component: &str, micros: i64, line: u64) -> Event {
        Event {
            node: "m3".into(),
            time: format_utc(micros),
            time_basis: TimeBasis::Utc,
            level: None,
            source: None,
            component: Some(component.into()),
            operation: Operation::List,
            resource: Some("secrets".into()),
            key: Some("/registry/secrets/a/b".into()),
            error: "invalid padding on input".into(),
            class: ErrorClass::AescbcPadding,
            revision: None,
            side: Side::Apiserver,
            client: None,
            object: None,
            count: 1,
            over_secs: None,
            peers: Vec::new(),
            file: "f".into(),
            line,
            record_line: line,
            end_line: line,
            micros,
            file_index: 0,
        }
    }

    #[test]
    fn distinct_keys_beyond_the_cap_are_counted_not_kept() {
        let mut a = Aggregator::default();
        for i in 0..(MAX_GROUPS as u64 + 500) {
            let mut e = ev("cacher (secrets)", i as i64, i);
            e.key = Some(format!("/registry/secrets/ns/s{i}"));
            a.add(&e);
        }
        // An event of an existing group still counts after the cap.
        let mut again = ev("cacher (secrets)", 0, 1);
        again.key = Some("/registry/secrets/ns/s0".into());
        a.add(&again);
        assert_eq!(a.overflow, 500);
        assert_eq!(a.finish(&[]).len(), MAX_GROUPS);
    }

    fn restart(micros: i64, line: u64, version: Option<&str>) -> Restart {
        Restart {
            node: "m3".into(),
            time: format_utc(micros),
            time_basis: TimeBasis::Utc,
            evidence: version.map_or("container log 1.log".into(), |v| format!("Version: {v}")),
            version: version.map(str::to_string),
            file: "f".into(),
            line,
            micros,
            file_index: 0,
        }
    }

    #[test]
    fn loop_interval_per_component() {
        let s = 1_000_000;
        let mut events = Vec::new();
        for i in 0..5 {
            events.push(ev(
                "reflector storage/cacher.go:/secrets",
                i * s,
                2 * i as u64 + 1,
            ));
            events.push(ev("cacher (*core.Secret)", i * s + 31, 2 * i as u64 + 2));
        }
        let restarts = vec![restart(2 * s + 500, 6, Some("v1.21.14"))];
        let a = aggregate(&events, &restarts);
        assert_eq!(a.len(), 1);
        let a = &a[0];
        assert_eq!(a.count, 10);
        assert_eq!(a.median_interval_secs, Some(1.0));
        assert!(a.cacher_loop);
        assert_eq!(a.first_seen, "1970-01-01T00:00:00.000000Z");
        assert_eq!(a.last_seen, "1970-01-01T00:00:04.000031Z");
        assert_eq!(a.restarts, 1);
        assert_eq!(a.components.values().sum::<u64>(), 10);
    }

    #[test]
    fn restart_markers_merge() {
        let r = dedupe_restarts(vec![
            restart(10_000_000, 40, Some("v1.21.14")),
            restart(9_000_000, 1, None),
            restart(500_000_000, 900, Some("v1.21.14")),
        ]);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].line, r[0].version.as_deref()), (1, Some("v1.21.14")));
        assert_eq!(r[1].line, 900);
    }
}
