//! `get`: one record's metadata, typeMeta and history. The value only with `--reveal`.
//!
//! With key sources (`--encryption-config`, `--static-resources`, `--key`): for an encrypted
//! record, what each node's kube-apiserver returns, which candidate keys decrypt it, and the
//! decrypted object's metadata (for a Secret: name, namespace, type, data key names and sizes).
//! Decrypted values only with `--reveal`.

use super::common::{display_key, open_snapshot};
use super::ls::{entry, Entry};
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::sources::KeySourceArgs;
use super::{CmdResult, Error, Outcome};
use crate::decrypt::{Engine, NodeOutcome};
use crate::etcd::records::Records;
use crate::kube::object::{self, ObjectSummary};
use crate::output::write_json;
use base64::Engine as _;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (also an etcd data dir, or a .gz/.zst/.xz snapshot).
    pub snapshot: PathBuf,
    /// The etcd key, e.g. /registry/secrets/default/my-secret.
    pub key: String,
    /// The key as of this revision (its latest revision at or below N).
    #[arg(long)]
    pub revision: Option<i64>,
    /// Print the stored value bytes and, when a key decrypts it, the decrypted data values
    /// (secrets!). Off by default.
    #[arg(long)]
    pub reveal: bool,
    #[command(flatten)]
    pub keys: KeySourceArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// What the key sources say about the record.
#[derive(Serialize)]
struct Decryption {
    /// Candidate key ids that decrypt it.
    decrypts_with: Vec<String>,
    /// Node → "ok" or exactly what its kube-apiserver returns.
    nodes: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct GetOutput<'a> {
    #[serde(flatten)]
    record: Entry<'a>,
    /// Every revision of the key held in the snapshot, oldest first.
    history: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_base64: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decryption: Option<Decryption>,
    /// The object's metadata, from the stored plaintext or the decrypted value.
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<ObjectSummary>,
    /// Decrypted object, base64 (only with --reveal).
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext_base64: Option<String>,
    /// Secret / ConfigMap data values, base64 (only with --reveal).
    #[serde(skip_serializing_if = "Option::is_none")]
    data_base64: Option<BTreeMap<String, String>>,
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    guard.input(&args.snapshot);
    args.keys.guard(&mut guard);
    let (fmt, mut out) = args
        .out
        .prepare("get", formats("get"), &guard, Mode::Private)?;
    let keyring = if args.keys.is_empty() {
        None
    } else {
        Some(args.keys.load()?)
    };
    let snap = open_snapshot(&args.snapshot)?;
    let records = Records::read(&snap);
    let revs = records.of_key(args.key.as_bytes());
    let at = revs
        .iter()
        .rev()
        .map(|&i| records.get(i))
        .find(|r| args.revision.map_or(true, |n| r.rev.main <= n))
        .ok_or_else(|| {
            let when = args
                .revision
                .map(|n| format!(" at revision {n}"))
                .unwrap_or_default();
            Error::NotFound(format!(
                "{}: key {:?} not found{when}",
                snap.path.display(),
                display_key(args.key.as_bytes())
            ))
        })?;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut problems = false;
    let mut decryption = None;
    // The plaintext: stored as is, or decrypted by a candidate key.
    let mut plaintext: Option<Vec<u8>> = None;
    let encrypted = at.kv.value.starts_with(b"k8s:enc:");
    if !encrypted && !at.rev.tombstone {
        plaintext = Some(at.kv.value.to_vec());
    }
    if let (Some(kr), false) = (&keyring, at.rev.tombstone) {
        let engine = Engine::new(kr);
        let v = engine.assess(at.kv.key, at.kv.value);
        let nodes: BTreeMap<String, String> = engine
            .nodes
            .iter()
            .zip(&v.nodes)
            .map(|(n, o)| {
                let said = match o {
                    NodeOutcome::Plaintext | NodeOutcome::Decrypted { .. } => "ok".to_string(),
                    o => o.error_line().unwrap_or_default(),
                };
                (n.node.clone(), said)
            })
            .collect();
        problems =
            v.nodes.iter().any(|o| !o.is_readable()) || (encrypted && v.decrypts_with.is_empty());
        decryption = Some(Decryption {
            decrypts_with: v
                .decrypts_with
                .iter()
                .filter_map(|&i| kr.keys.get(i).map(|k| k.id.clone()))
                .collect(),
            nodes,
        });
        if encrypted {
            if let Some(o) = engine.open(at.kv.key, at.kv.value) {
                plaintext = Some(o.plaintext.expose().to_vec());
            }
        }
    }
    let object = plaintext.as_deref().and_then(object::summarize);
    let reveal_plain = args.reveal && encrypted;
    let out_rec = GetOutput {
        record: entry(at),
        history: revs
            .iter()
            .map(|&i| records.get(i).rev.to_string())
            .collect(),
        value_base64: args.reveal.then(|| b64(at.kv.value)),
        decryption,
        object,
        plaintext_base64: plaintext.as_deref().filter(|_| reveal_plain).map(b64),
        data_base64: plaintext.as_deref().filter(|_| args.reveal).map(|p| {
            object::data_values(p)
                .into_iter()
                .map(|(k, v)| (k, b64(&v)))
                .collect()
        }),
    };
    match fmt {
        Fmt::Json => write_json(&mut out, &out_rec)?,
        _ => {
            let r = &out_rec.record;
            writeln!(out, "key              {}", r.key)?;
            if r.deleted {
                writeln!(
                    out,
                    "revision         {} (deleted at revision {})",
                    r.revision, at.rev.main
                )?;
            } else {
                writeln!(out, "revision         {}", r.revision)?;
            }
            writeln!(out, "create_revision  {}", r.create_revision)?;
            writeln!(out, "mod_revision     {}", r.mod_revision)?;
            writeln!(out, "version          {}", r.version)?;
            writeln!(out, "lease            {}", r.lease)?;
            writeln!(out, "value size       {}", r.value_size)?;
            writeln!(out, "envelope         {}", r.info.envelope)?;
            if let Some(n) = &r.info.key_name {
                writeln!(out, "key name         {n}")?;
            }
            if let Some(res) = &r.info.resource {
                writeln!(out, "resource         {res}")?;
            }
            if let Some(ns) = r.info.namespace {
                writeln!(out, "namespace        {ns}")?;
            }
            if let Some(k) = &r.info.kind {
                writeln!(
                    out,
                    "kind             {} {}",
                    r.info.api_version.as_deref().unwrap_or(""),
                    k
                )?;
            }
            writeln!(out, "history          {}", out_rec.history.join(" "))?;
            if let Some(d) = &out_rec.decryption {
                if d.decrypts_with.is_empty() {
                    writeln!(out, "decrypts with    no candidate key")?;
                } else {
                    writeln!(out, "decrypts with    {}", d.decrypts_with.join(", "))?;
                }
                for (node, said) in &d.nodes {
                    writeln!(out, "node {node:<11} {said}")?;
                }
            }
            if let Some(o) = &out_rec.object {
                if encrypted {
                    if let Some(k) = &o.kind {
                        writeln!(
                            out,
                            "decrypted kind   {} {}",
                            o.api_version.as_deref().unwrap_or(""),
                            k
                        )?;
                    }
                }
                let shown = |s: &Option<String>| display_key(s.as_deref().unwrap_or("").as_bytes());
                if o.name.is_some() {
                    writeln!(out, "object name      {}", shown(&o.name))?;
                }
                if o.namespace.is_some() {
                    writeln!(out, "object namespace {}", shown(&o.namespace))?;
                }
                if o.uid.is_some() {
                    writeln!(out, "uid              {}", shown(&o.uid))?;
                }
                if let Some(t) = &o.creation_timestamp {
                    writeln!(out, "created          {}", display_key(t.as_bytes()))?;
                }
                if o.secret_type.is_some() {
                    writeln!(out, "secret type      {}", shown(&o.secret_type))?;
                }
                for d in &o.data {
                    writeln!(
                        out,
                        "data             {} ({} bytes)",
                        display_key(d.key.as_bytes()),
                        d.bytes
                    )?;
                }
            }
            match &out_rec.value_base64 {
                Some(v) => writeln!(out, "value (base64)   {v}")?,
                None => writeln!(out, "value            (hidden; --reveal prints it)")?,
            }
            if let Some(p) = &out_rec.plaintext_base64 {
                writeln!(out, "decrypted (b64)  {p}")?;
            }
            if let Some(m) = &out_rec.data_base64 {
                for (k, v) in m {
                    writeln!(
                        out,
                        "data value       {}: {v} (base64)",
                        display_key(k.as_bytes())
                    )?;
                }
            }
        }
    }
    out.finish()?;
    Ok(if problems {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
