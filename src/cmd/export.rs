//! `export`: the selected objects as apply-ready manifests — one YAML stream on stdout, or a tree
//! `DIR/NN-kind.group/NAMESPACE/NAME.yaml` — at any revision the snapshot holds, deleted objects
//! included (`--deleted`: undelete).
//!
//! Apply-ready: the fields the apiserver sets are removed (uid, resourceVersion,
//! creationTimestamp, generation, managedFields, selfLink, deletion marks, ownerReferences —
//! those name uids that no longer exist, and the garbage collector would delete an object
//! owned by a missing uid — and status unless `--with-status`), and objects are ordered so
//! `kubectl apply -f` (or `-R -f DIR`, which walks the tree in name order) creates namespaces and
//! CRDs before what lives in them.
//!
//! Secrets, and any object that was stored encrypted, are exported only with `--reveal` (without
//! it their values would be redaction markers: not apply-ready); their files are mode 0600.
//! The output directory must be empty (or new) unless `--force`, and is never the directory of an
//! input.

use super::common::open_snapshot;
use super::objects::{Decoder, DecryptedWith, Item, CHUNK};
use super::select::{select, SelectArgs};
use super::sources::KeySourceArgs;
use super::{CmdResult, Error, Outcome};
use crate::kube::decode::{redact, yaml, Node};
use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Write a tree DIR/NN-kind.group/NAMESPACE/NAME.yaml instead of one YAML stream to stdout.
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// Write into a non-empty DIR (files of the same name are replaced).
    #[arg(long, requires = "to")]
    pub force: bool,
    /// Keep `status`.
    #[arg(long)]
    pub with_status: bool,
    /// Export Secrets and decrypted objects with their values (files mode 0600).
    #[arg(long)]
    pub reveal: bool,
    /// Only the records this key decrypts: its fingerprint (`sha256:…`, as `keys` and `report`
    /// print it) or candidate id (`NODE/PROVIDER/NAME`). Needs the key source that holds it.
    #[arg(long, value_name = "KEY")]
    pub decrypted_with: Option<String>,
    #[command(flatten)]
    pub keys: KeySourceArgs,
    /// Also records the tree no longer reaches, recovered by a page scan (see `salvage`); each
    /// manifest's comment names the page it came from.
    #[arg(long)]
    pub salvage: bool,
}

/// Fields of `metadata` the apiserver sets (apimachinery meta/v1 ObjectMeta "read-only" and
/// "populated by the system" fields).
const SERVER_SET: [&str; 9] = [
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
];

/// An object made apply-ready: server-set fields removed.
pub fn strip(object: &mut Node, with_status: bool) {
    if let Some(meta) = object.get_mut("metadata") {
        for f in SERVER_SET {
            meta.remove(f);
        }
    }
    if !with_status {
        object.remove("status");
    }
    // A stub's bookkeeping is not part of any object.
    object.remove("undecoded");
}

/// Apply order: namespaces, CRDs, other cluster-scoped objects, then what pods use, then the rest.
fn rank(o: &Node) -> u8 {
    let kind = o.get("kind").and_then(Node::as_str).unwrap_or("");
    let namespaced = o.at(&["metadata", "namespace"]).is_some();
    match kind {
        "Namespace" | "Project" => 0,
        "CustomResourceDefinition" => 1,
        _ if !namespaced => 2,
        "ServiceAccount"
        | "Secret"
        | "ConfigMap"
        | "PersistentVolumeClaim"
        | "Role"
        | "RoleBinding"
        | "LimitRange"
        | "ResourceQuota" => 3,
        _ => 4,
    }
}

/// `kind.group` in lower case, as kubectl names resources (`deployment.apps`, `secret`).
fn kind_group(o: &Node) -> String {
    let kind = o
        .get("kind")
        .and_then(Node::as_str)
        .unwrap_or("unknown")
        .to_ascii_lowercase();
    match o
        .get("apiVersion")
        .and_then(Node::as_str)
        .and_then(|a| a.rsplit_once('/'))
    {
        Some((g, _)) => format!("{kind}.{g}"),
        None => kind,
    }
}

/// A path segment from a name that came from the snapshot: never `.`/`..`, never a separator
/// or a control character (those are %-escaped), at most 200 bytes.
fn segment(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@' | '~' | '+') {
            out.push(c);
        } else {
            let mut b = [0u8; 4];
            for byte in c.encode_utf8(&mut b).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        if out.len() > 200 {
            break;
        }
    }
    if out.is_empty() || out.chars().all(|c| c == '.') {
        out = out.replace('.', "%2E");
        if out.is_empty() {
            out.push_str("%00");
        }
    }
    out
}

pub fn run(args: &Args) -> CmdResult {
    let sel = &args.select;
    let target = sel.target()?;
    let labels = sel.label_selector()?;
    let keyring = if args.keys.is_empty() {
        None
    } else {
        Some(args.keys.load()?)
    };
    let only = args
        .decrypted_with
        .as_deref()
        .map(|k| DecryptedWith::new(k, keyring.as_ref()))
        .transpose()?;
    if let Some(dir) = &args.to {
        check_dir(dir, args)?;
    }
    let snap = open_snapshot(&sel.snapshot)?;
    let (records, salvaged) = super::salvage::records(&snap, args.salvage);
    if let Some(s) = &salvaged {
        eprintln!("etcd-autopsy: {}", s.summary(&snap.path));
    }
    let page_of = |i: &Item| {
        salvaged
            .as_ref()
            .and_then(|s| s.page_of(&i.key, i.mod_revision))
    };
    let selected = select(&records, sel, &target);
    let decoder = Decoder::new(keyring.as_ref(), true);
    let tree = args
        .to
        .as_deref()
        .map(|d| Tree::create(d, args.force))
        .transpose()?;
    // Pass 1 decodes every selected record, one chunk at a time, to decide what is exported and
    // where it goes in the apply order. A tree is written there and then (file order does not
    // matter); the stdout stream keeps only each object's place and is written in pass 2, which
    // decodes again in apply order. Holding the decoded objects instead took 2 GB for 300k
    // Secrets (#19); the plan is 8 bytes an object.
    let mut groups: Vec<(u8, String)> = Vec::new();
    let mut group_of: HashMap<(u8, String), u32> = HashMap::new();
    let mut plan: Vec<(u32, u32)> = Vec::new(); // (group, index into `selected`)
    let mut exported = 0usize;
    let mut salvaged_items = 0usize;
    let (mut skipped_secret, mut skipped_stub, mut skipped_other) = (0usize, Vec::new(), 0usize);
    'chunks: for (c, chunk) in selected.chunks(CHUNK).enumerate() {
        for (j, mut item) in decoder.decode_all(chunk).into_iter().enumerate() {
            if sel.limit.is_some_and(|n| exported >= n) {
                break 'chunks;
            }
            if labels.as_ref().is_some_and(|l| !l.matches(&item.object))
                || only.as_ref().is_some_and(|o| !o.matches(&item))
            {
                continue;
            }
            if item.stub && crate::kube::KeyPath::parse(item.key.as_bytes()).is_none() {
                // etcd's own keys (compact_rev_key) and non-Kubernetes keys are not objects.
                skipped_other += 1;
                continue;
            }
            if item.stub {
                skipped_stub.push(item.key);
                continue;
            }
            let encrypted = item.decrypted_with.is_some();
            let sensitive = redact::needs_redaction(&item.object, encrypted);
            if sensitive && !args.reveal {
                skipped_secret += 1;
                continue;
            }
            exported += 1;
            let page = page_of(&item);
            salvaged_items += usize::from(page.is_some());
            strip(&mut item.object, args.with_status);
            match &tree {
                Some(t) => t.write(&item, sensitive, page)?,
                None => {
                    let g = (rank(&item.object), kind_group(&item.object));
                    let id = *group_of.entry(g.clone()).or_insert_with(|| {
                        groups.push(g);
                        (groups.len() - 1) as u32
                    });
                    plan.push((id, (c * CHUNK + j) as u32));
                }
            }
        }
    }
    if tree.is_none() {
        // Apply order, then the key; equal keys (a deleted and a live version) keep their order.
        plan.sort_by(|&(ga, a), &(gb, b)| {
            let (ra, ka) = &groups[ga as usize];
            let (rb, kb) = &groups[gb as usize];
            (ra, ka, selected[a as usize].key(), a).cmp(&(rb, kb, selected[b as usize].key(), b))
        });
        let mut out = BufWriter::new(std::io::stdout().lock());
        for part in plan.chunks(CHUNK) {
            let batch: Vec<_> = part.iter().map(|&(_, i)| selected[i as usize]).collect();
            for mut item in decoder.decode_all(&batch) {
                strip(&mut item.object, args.with_status);
                writeln!(out, "---\n# {}", source_line(&item, page_of(&item)))?;
                out.write_all(yaml::to_yaml(&item.object).as_bytes())?;
            }
        }
        out.flush()?;
    }
    eprintln!(
        "etcd-autopsy: exported {exported} object(s){}",
        args.to
            .as_ref()
            .map(|d| format!(" to {}", d.display()))
            .unwrap_or_default()
    );
    if skipped_secret > 0 {
        eprintln!(
            "etcd-autopsy: skipped {skipped_secret} Secret(s) or encrypted object(s): --reveal exports them with their values"
        );
    }
    if skipped_other > 0 {
        eprintln!("etcd-autopsy: skipped {skipped_other} key(s) that are not Kubernetes objects");
    }
    for k in &skipped_stub {
        eprintln!("etcd-autopsy: {k}: not exported: its value could not be decoded (see `get`)");
    }
    if salvaged_items > 0 {
        eprintln!(
            "etcd-autopsy: {salvaged_items} exported object(s) were salvaged from pages the tree \
             no longer reaches (each manifest's comment names its page)"
        );
    }
    // Salvaged objects come from a damaged file: exit 1, as `salvage` does.
    Ok(if skipped_stub.is_empty() && salvaged_items == 0 {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

fn source_line(i: &Item, salvaged_from: Option<u64>) -> String {
    let salvaged = salvaged_from
        .map(|p| format!(", salvaged from page {p} (the tree no longer reaches it)"))
        .unwrap_or_default();
    match i.deleted_at {
        Some(d) => format!(
            "etcd key {}, revision {} (deleted at revision {d}){salvaged}",
            i.key, i.mod_revision
        ),
        None => format!("etcd key {}, revision {}{salvaged}", i.key, i.mod_revision),
    }
}

/// Refuses an output directory that holds files (without --force) or is where an input lives.
fn check_dir(dir: &Path, args: &Args) -> Result<(), Error> {
    let inputs: Vec<PathBuf> = std::iter::once(args.select.snapshot.clone())
        .chain(
            args.keys
                .encryption_config
                .iter()
                .chain(&args.keys.static_resources)
                .map(|s| PathBuf::from(s.split_once('=').map_or(s.as_str(), |(_, p)| p))),
        )
        .collect();
    let canon_dir = canonical_or_parent(dir);
    for input in &inputs {
        let Ok(c) = input.canonicalize() else {
            continue;
        };
        let parent = c.parent().map(Path::to_path_buf).unwrap_or_default();
        // Inside an input's directory (or over the input itself) is next to the evidence.
        if canon_dir.starts_with(&parent) || c.starts_with(&canon_dir) {
            return Err(Error::new(format!(
                "{}: refusing to export next to or over an input ({}); choose another directory",
                dir.display(),
                input.display()
            )));
        }
    }
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() && !args.force {
                return Err(Error::new(format!(
                    "{}: directory is not empty; --force writes into it",
                    dir.display()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::new(format!("{}: {e}", dir.display()))),
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Error::new(format!("{}: not a directory", dir.display())));
    }
    Ok(())
}

/// The canonical path of `dir`, or of its nearest existing ancestor joined with the rest.
fn canonical_or_parent(dir: &Path) -> PathBuf {
    let abs = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(dir)
    };
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut p = c;
            for r in rest.iter().rev() {
                p.push(r);
            }
            return p;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(p), Some(f)) => {
                rest.push(f.to_os_string());
                cur = p;
            }
            _ => return abs,
        }
    }
}

/// The `--to DIR` tree, written one object at a time.
struct Tree {
    dir: PathBuf,
    force: bool,
}

fn io_err(p: &Path, e: std::io::Error) -> Error {
    Error::new(format!("{}: {e}", p.display()))
}

impl Tree {
    fn create(dir: &Path, force: bool) -> Result<Self, Error> {
        fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        Ok(Tree {
            dir: dir.to_path_buf(),
            force,
        })
    }

    fn write(&self, i: &Item, sensitive: bool, page: Option<u64>) -> Result<(), Error> {
        let o = &i.object;
        // An object without metadata.name (RangeAllocation) is filed under its key's name.
        let key_name = i.key.rsplit('/').next().unwrap_or("");
        let name = o
            .at(&["metadata", "name"])
            .and_then(Node::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(key_name);
        let mut path = self
            .dir
            .join(format!("{}-{}", rank(o), segment(&kind_group(o))));
        if let Some(ns) = o.at(&["metadata", "namespace"]).and_then(Node::as_str) {
            path.push(segment(ns));
        }
        fs::create_dir_all(&path).map_err(|e| io_err(&path, e))?;
        path.push(format!("{}.yaml", segment(name)));
        let mut opts = OpenOptions::new();
        opts.write(true)
            .mode(if sensitive { 0o600 } else { 0o644 })
            // Never follow a symlink planted in the output tree.
            .custom_flags(libc::O_NOFOLLOW);
        if self.force {
            opts.create(true).truncate(true);
        } else {
            opts.create_new(true);
        }
        let mut f = opts.open(&path).map_err(|e| io_err(&path, e))?;
        if sensitive {
            // An existing file keeps its mode on open; make sure a secret is not world-readable.
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(0o600))
                .map_err(|e| io_err(&path, e))?;
        }
        let text = format!("# {}\n{}", source_line(i, page), yaml::to_yaml(o));
        f.write_all(text.as_bytes()).map_err(|e| io_err(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_safe() {
        assert_eq!(segment("web-1"), "web-1");
        assert_eq!(segment("a/b"), "a%2Fb");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment(""), "%00");
        assert_eq!(segment("x\ny"), "x%0Ay");
    }

    #[test]
    fn strips_server_fields() {
        let mut o: Node = serde_json::from_str(
            r#"{"kind":"Pod","metadata":{"name":"p","uid":"u","resourceVersion":"3","managedFields":[]},"spec":{},"status":{"phase":"Running"}}"#,
        )
        .unwrap();
        strip(&mut o, false);
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"kind":"Pod","metadata":{"name":"p"},"spec":{}}"#
        );
    }
}
