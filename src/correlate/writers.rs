//! Who wrote the records only one node's key reads, and since when: read from the objects
//! themselves. Each record is decrypted in memory (the candidate key that opens it), and its
//! metadata gives `creationTimestamp` and `managedFields[]` (manager, operation, time) — the
//! clients whose requests that node's kube-apiserver encrypted with its own key.
//!
//! A record's write time is its newest managedFields time (else its creation): the apiserver
//! stamps the entry of the manager whose request changed the object (apiserver
//! pkg/endpoints/handlers/fieldmanager). Only records still holding a value written with the
//! key are seen, so "since" is a lower bound: earlier ones may have been overwritten since.
//! Plaintext never leaves this function; only names, times and revisions do.

use super::Context;
use crate::kube::object::{self, Provenance};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// What the records' own metadata says about who wrote them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Writers {
    /// The nodes whose key wrote them.
    pub nodes: Vec<String>,
    /// That key: provider, name, fingerprint.
    pub provider: &'static str,
    pub key_name: String,
    pub fingerprint: String,
    /// Records looked at.
    pub records: usize,
    /// Of those, decrypted and read as objects.
    pub decoded: usize,
    /// The earliest write among them, by revision: (mod_revision, etcd key, its write time).
    pub first: Option<FirstWrite>,
    /// The earliest write time any of them carries (Unix seconds).
    pub since: Option<i64>,
    /// Each (manager, operation) in their managedFields with the number of records naming it,
    /// most records first.
    pub managers: Vec<Manager>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstWrite {
    pub revision: i64,
    pub key: String,
    pub time: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manager {
    pub manager: String,
    pub operation: String,
    pub records: usize,
}

/// The key the records were written with.
#[derive(Clone, Copy, Debug)]
pub struct KeyOf<'a> {
    pub provider: &'static str,
    pub name: &'a str,
    pub fingerprint: &'a str,
}

/// The writers of the live records at `keys`, decrypted with any candidate key of `ctx`.
pub fn of(ctx: &Context<'_>, keys: &[&str], nodes: &[String], key: KeyOf<'_>) -> Writers {
    let read: Vec<(i64, &str, Option<Provenance>)> = keys
        .par_iter()
        .filter_map(|&k| {
            let rec = ctx.records.get(*ctx.records.of_key(k.as_bytes()).last()?);
            if rec.rev.tombstone {
                return None;
            }
            let p = ctx
                .engine
                .open_first(rec.kv.key, rec.kv.value)
                .and_then(|(_, pt)| object::provenance(pt.expose()));
            Some((rec.kv.mod_revision, k, p))
        })
        .collect();
    let mut w = Writers {
        nodes: nodes.to_vec(),
        provider: key.provider,
        key_name: key.name.to_string(),
        fingerprint: key.fingerprint.to_string(),
        records: keys.len(),
        ..Writers::default()
    };
    let mut managers: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (rev, key, p) in &read {
        let time = p.as_ref().and_then(Provenance::last_write);
        if w.first.as_ref().is_none_or(|f| *rev < f.revision) {
            w.first = Some(FirstWrite {
                revision: *rev,
                key: key.to_string(),
                time,
            });
        }
        let Some(p) = p else { continue };
        w.decoded += 1;
        if let Some(t) = time {
            w.since = Some(w.since.map_or(t, |s| s.min(t)));
        }
        let mut seen: Vec<(&str, &str)> = p
            .managed
            .iter()
            .map(|m| (m.manager.as_str(), m.operation.as_str()))
            .collect();
        seen.sort();
        seen.dedup();
        for m in seen {
            *managers.entry(m).or_default() += 1;
        }
    }
    let mut managers: Vec<Manager> = managers
        .into_iter()
        .map(|((m, o), n)| Manager {
            manager: m.to_string(),
            operation: o.to_string(),
            records: n,
        })
        .collect();
    managers.sort_by(|a, b| b.records.cmp(&a.records).then(a.manager.cmp(&b.manager)));
    w.managers = managers;
    w
}
