//! Backup sets for `validate PATH…`: which backups a directory holds, in which order, which one a
//! run validates, and what the set as a whole says (revisions going back, a backup that shrank,
//! the newest one stale).
//!
//! OpenShift's `cluster-backup.sh` (openshift/cluster-etcd-operator, bindata/etcd/cluster-backup.sh)
//! writes `snapshot_${DATENAME}.db` and `static_kuberesources_${DATENAME}.tar.gz` with
//! `DATENAME=$(date +%Y-%m-%d_%H%M%S)`: the pair shares the timestamp, and the tarball holds the
//! encryption configs of that backup's kube-apiserver revision, so it is the pair's key source.
//! Any other `*.db` (also `.db.gz`, `.db.zst`, `.db.xz`) is a plain snapshot, read with the key
//! sources given on the command line. Nothing in a listed directory is passed over without being
//! named: other files are listed as skipped, a tarball without its snapshot is a set-level flag.
//!
//! Facts here are typed; `validate` turns them into words and JSON.

use super::metrics::{snapshot_time, TimeSource};
use super::Error;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// A backup whose live keys or db size fell below this percentage of the previous backup's (in
/// time order) is flagged as shrunk. A cluster rarely loses half its keys between two backups
/// unless something deleted them (or the backup is of another, emptier cluster).
pub const SHRINK_BELOW_PERCENT: u64 = 50;

/// `--max-age` default: a daily backup plus an hour of slack.
pub const DEFAULT_MAX_AGE: &str = "25h";

/// How a backup came into the listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Named on the command line (a snapshot file or an etcd data dir).
    Given,
    /// Found by listing a directory.
    Listed,
}

/// One backup: a snapshot and, for an OpenShift pair, its tarball.
#[derive(Clone, Debug)]
pub struct Backup {
    pub path: PathBuf,
    /// The file (or data dir) name: the `snapshot` label of its metrics.
    pub name: String,
    /// The name without its last extension: the verdict file is `<stem>.verdict.json`.
    pub stem: String,
    /// When it was taken: a timestamp in its name, else its mtime; None when neither exists
    /// (such backups sort first, as the oldest).
    pub time: Option<(i64, TimeSource)>,
    /// `static_kuberesources_<ts>.tar.gz` of the same `<ts>`: this backup's key source.
    pub tarball: Option<PathBuf>,
    pub origin: Origin,
}

impl Backup {
    /// The verdict file in `dir`.
    pub fn verdict_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.verdict.json", self.stem))
    }
}

/// Why a directory entry is not a backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// A name starting with `.`: temporary files of a backup being written, editor files.
    Hidden,
    /// A subdirectory: listings do not descend.
    Directory,
    /// Neither a snapshot nor a static_kuberesources tarball by its name.
    NotABackupName,
    /// A name that is not UTF-8 (cannot be a label or a verdict file name faithfully).
    NotUtf8,
}

#[derive(Clone, Debug)]
pub struct Skipped {
    pub path: PathBuf,
    pub why: Skip,
}

/// Every backup of the given paths, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    pub backups: Vec<Backup>,
    /// `static_kuberesources_<ts>.tar.gz` with no `snapshot_<ts>.db`: an incomplete backup.
    pub unpaired_tarballs: Vec<PathBuf>,
    pub skipped: Vec<Skipped>,
    /// The directories listed (for the output-directory checks and the summary).
    pub directories: Vec<PathBuf>,
}

impl Listing {
    /// True when a directory was listed or several paths were given: the set checks apply.
    pub fn is_set(&self) -> bool {
        !self.directories.is_empty() || self.backups.len() + self.unpaired_tarballs.len() > 1
    }
}

/// True for a directory `snapshot_path` would read as an etcd data dir.
fn is_data_dir(dir: &Path) -> bool {
    // etcd server/storage/datadir/datadir.go: ToBackendFileName = <data-dir>/member/snap/db.
    ["member/snap/db", "snap/db"]
        .iter()
        .any(|rel| dir.join(rel).is_file())
}

/// The snapshot suffixes a directory listing recognises, the compressed ones first.
const SNAPSHOT_SUFFIXES: [&str; 4] = [".db.gz", ".db.zst", ".db.xz", ".db"];

/// `snapshot_<ts>.db[.gz|.zst|.xz]` → `<ts>`.
fn openshift_snapshot_ts(name: &str) -> Option<&str> {
    let base = SNAPSHOT_SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s))?;
    base.strip_prefix("snapshot_").filter(|ts| !ts.is_empty())
}

/// `static_kuberesources_<ts>.tar.gz` → `<ts>`.
fn tarball_ts(name: &str) -> Option<&str> {
    name.strip_prefix("static_kuberesources_")?
        .strip_suffix(".tar.gz")
        .filter(|ts| !ts.is_empty())
}

fn stem_of(path: &Path, name: &str) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name)
        .to_string()
}

fn backup(path: PathBuf, tarball: Option<PathBuf>, origin: Origin) -> Backup {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Backup {
        stem: stem_of(&path, &name),
        time: snapshot_time(&path),
        name,
        path,
        tarball,
        origin,
    }
}

/// Lists `paths`: a directory (not an etcd data dir) is listed one level deep; anything else is
/// one backup as given (a missing file too: validating it says why it cannot be read).
pub fn list(paths: &[PathBuf]) -> Result<Listing, Error> {
    let mut l = Listing::default();
    let mut seen = HashSet::new();
    for p in paths {
        let is_dir = std::fs::metadata(p).is_ok_and(|m| m.is_dir());
        if !is_dir || is_data_dir(p) {
            // The same file named twice is validated once.
            let id = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            if seen.insert(id) {
                l.backups.push(backup(p.clone(), None, Origin::Given));
            }
            continue;
        }
        l.directories.push(p.clone());
        list_dir(p, &mut l, &mut seen)?;
    }
    l.backups.sort_by(|a, b| {
        (a.time.map(|t| t.0), &a.name, &a.path).cmp(&(b.time.map(|t| t.0), &b.name, &b.path))
    });
    l.unpaired_tarballs.sort();
    l.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(l)
}

fn list_dir(dir: &Path, l: &mut Listing, seen: &mut HashSet<PathBuf>) -> Result<(), Error> {
    let err = |e: std::io::Error| Error::new(format!("{}: cannot list: {e}", dir.display()));
    let mut snapshots: Vec<(PathBuf, Option<String>)> = Vec::new();
    let mut tarballs: BTreeMap<String, PathBuf> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            l.skipped.push(Skipped {
                path,
                why: Skip::NotUtf8,
            });
            continue;
        };
        let why = if name.starts_with('.') {
            Some(Skip::Hidden)
        } else if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) && !is_data_dir(&path) {
            Some(Skip::Directory)
        } else {
            None
        };
        if let Some(why) = why {
            l.skipped.push(Skipped { path, why });
            continue;
        }
        if let Some(ts) = tarball_ts(&name) {
            tarballs.insert(ts.to_string(), path);
        } else if let Some(ts) = openshift_snapshot_ts(&name) {
            snapshots.push((path, Some(ts.to_string())));
        } else if SNAPSHOT_SUFFIXES.iter().any(|s| name.ends_with(s)) || is_data_dir(&path) {
            snapshots.push((path, None));
        } else {
            l.skipped.push(Skipped {
                path,
                why: Skip::NotABackupName,
            });
        }
    }
    for (path, ts) in snapshots {
        let tarball = ts.and_then(|ts| tarballs.remove(&ts));
        let id = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.insert(id) {
            l.backups.push(backup(path, tarball, Origin::Listed));
        }
    }
    l.unpaired_tarballs.extend(tarballs.into_values());
    Ok(())
}

/// Which backups a run validates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// `--all`.
    All,
    /// `--index N`: the N-th of the listing, oldest first (a Kubernetes Indexed Job's pod N).
    Index(usize),
    /// The default: the newest backup whose verdict file does not exist yet (without an output
    /// directory: the newest).
    NewestNotValidated,
}

/// The indices (into `listing.backups`) to validate. `validated` says whether a backup's verdict
/// file exists already.
pub fn select(
    listing: &Listing,
    selection: Selection,
    validated: impl Fn(&Backup) -> bool,
) -> Result<Vec<usize>, Error> {
    let n = listing.backups.len();
    Ok(match selection {
        Selection::All => (0..n).collect(),
        Selection::Index(i) if i < n => vec![i],
        Selection::Index(i) => {
            return Err(Error::new(match n {
                0 => format!("--index {i}: the listing holds no backup"),
                1 => format!("--index {i}: the listing holds 1 backup (index 0)"),
                _ => format!(
                    "--index {i}: the listing holds {n} backups (indices 0 to {}, oldest first)",
                    n - 1
                ),
            }))
        }
        Selection::NewestNotValidated => (0..n)
            .rev()
            .find(|&i| !validated(&listing.backups[i]))
            .into_iter()
            .collect(),
    })
}

/// What is known of one backup's size and content, from this run's validation or from its
/// verdict file in the output directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub revision: Option<i64>,
    pub live_keys: Option<u64>,
    /// Bytes of the (decompressed) db.
    pub db_size: Option<u64>,
}

/// What shrank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    LiveKeys,
    DbSize,
}

/// A set-level finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flag {
    /// The directories hold no backup at all.
    NoBackups,
    /// A backup's revision is below an older backup's: a restore, another cluster, or a clock
    /// (and so the time order) that is wrong.
    RevisionWentBack {
        backup: usize,
        revision: i64,
        previous: usize,
        previous_revision: i64,
    },
    /// Live keys or db size below [`SHRINK_BELOW_PERCENT`] of the previous backup's.
    Shrank {
        backup: usize,
        measure: Measure,
        value: u64,
        previous: usize,
        previous_value: u64,
    },
    /// The newest backup is older than `--max-age` (or no backup has a time at all).
    Stale {
        newest: usize,
        age: Option<i64>,
        max_age: i64,
    },
    /// A `static_kuberesources_<ts>.tar.gz` whose snapshot is missing.
    TarballWithoutSnapshot { tarball: usize },
}

impl Flag {
    /// The name used in JSON and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Flag::NoBackups => "no-backups",
            Flag::RevisionWentBack { .. } => "revision-went-back",
            Flag::Shrank { .. } => "shrank",
            Flag::Stale { .. } => "stale",
            Flag::TarballWithoutSnapshot { .. } => "tarball-without-snapshot",
        }
    }

    /// Every kind, for metrics that show 0 as well.
    pub const KINDS: [&'static str; 5] = [
        "no-backups",
        "revision-went-back",
        "shrank",
        "stale",
        "tarball-without-snapshot",
    ];
}

/// The set checks over `listing` (oldest first) with `figures[i]` for `listing.backups[i]`.
/// Each backup is compared with the nearest older backup that has the same figure.
pub fn check(listing: &Listing, figures: &[Figures], now: i64, max_age: i64) -> Vec<Flag> {
    let mut flags = Vec::new();
    if listing.backups.is_empty() {
        flags.push(Flag::NoBackups);
    }
    let mut last_rev: Option<(usize, i64)> = None;
    let mut last: [Option<(usize, u64)>; 2] = [None, None];
    for (i, f) in figures.iter().enumerate().take(listing.backups.len()) {
        if let Some(rev) = f.revision {
            if let Some((p, prev)) = last_rev {
                if rev < prev {
                    flags.push(Flag::RevisionWentBack {
                        backup: i,
                        revision: rev,
                        previous: p,
                        previous_revision: prev,
                    });
                }
            }
            last_rev = Some((i, rev));
        }
        for (slot, (measure, value)) in [
            (Measure::LiveKeys, f.live_keys),
            (Measure::DbSize, f.db_size),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(value) = value else { continue };
            if let Some((p, prev)) = last[slot] {
                // value < prev × 50 %, in integers that cannot overflow.
                if u128::from(value) * 100 < u128::from(prev) * u128::from(SHRINK_BELOW_PERCENT) {
                    flags.push(Flag::Shrank {
                        backup: i,
                        measure,
                        value,
                        previous: p,
                        previous_value: prev,
                    });
                }
            }
            last[slot] = Some((i, value));
        }
    }
    if let Some(newest) = listing.backups.len().checked_sub(1) {
        let age = listing.backups[newest]
            .time
            .map(|(t, _)| now.saturating_sub(t));
        if age.is_none_or(|a| a > max_age) {
            flags.push(Flag::Stale {
                newest,
                age,
                max_age,
            });
        }
    }
    for t in 0..listing.unpaired_tarballs.len() {
        flags.push(Flag::TarballWithoutSnapshot { tarball: t });
    }
    flags
}

/// `--max-age`: `25h`, `90m`, `2d`, `3600s`, `1h30m`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("{s}: not a duration; write e.g. 25h, 90m, 2d or 1h30m");
    if s.is_empty() {
        return Err(bad());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| bad());
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let n: i64 = num.parse().map_err(|_| bad())?;
        num.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if !num.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("backupset-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn pairs_by_timestamp_orders_by_time_and_names_the_rest() {
        let d = tmpdir("list");
        for n in [
            "snapshot_2026-11-02_120000.db",
            "static_kuberesources_2026-11-02_120000.tar.gz",
            "snapshot_2026-11-01_120000.db",
            "static_kuberesources_2026-10-30_120000.tar.gz",
            "etcd-20261031T000000Z.db.gz",
            "notes.txt",
            ".snapshot_2026-11-03_120000.db.part",
        ] {
            std::fs::write(d.join(n), b"x").unwrap();
        }
        std::fs::create_dir(d.join("old")).unwrap();
        let l = list(std::slice::from_ref(&d)).unwrap();
        let names: Vec<&str> = l.backups.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "etcd-20261031T000000Z.db.gz",
                "snapshot_2026-11-01_120000.db",
                "snapshot_2026-11-02_120000.db"
            ]
        );
        assert_eq!(l.backups[0].stem, "etcd-20261031T000000Z.db");
        assert_eq!(l.backups[1].tarball, None);
        assert_eq!(
            l.backups[2].tarball.as_deref(),
            Some(
                d.join("static_kuberesources_2026-11-02_120000.tar.gz")
                    .as_path()
            )
        );
        assert_eq!(
            l.unpaired_tarballs,
            [d.join("static_kuberesources_2026-10-30_120000.tar.gz")]
        );
        let skipped: Vec<(String, Skip)> = l
            .skipped
            .iter()
            .map(|s| {
                (
                    s.path.file_name().unwrap().to_string_lossy().into_owned(),
                    s.why.clone(),
                )
            })
            .collect();
        assert_eq!(
            skipped,
            [
                (
                    ".snapshot_2026-11-03_120000.db.part".to_string(),
                    Skip::Hidden
                ),
                ("notes.txt".to_string(), Skip::NotABackupName),
                ("old".to_string(), Skip::Directory),
            ]
        );
        assert!(l.is_set());
        // The newest not yet validated, counting from the newest.
        let pick = |sel| select(&l, sel, |b: &Backup| b.name.contains("11-02")).unwrap();
        assert_eq!(pick(Selection::NewestNotValidated), [1]);
        assert_eq!(pick(Selection::All), [0, 1, 2]);
        assert_eq!(pick(Selection::Index(0)), [0]);
        let e = select(&l, Selection::Index(3), |_| false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--index 3: the listing holds 3 backups (indices 0 to 2, oldest first)"
        );
        assert!(select(&l, Selection::NewestNotValidated, |_| true)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn set_checks() {
        let l = Listing {
            backups: (0..4)
                .map(|i| Backup {
                    path: PathBuf::from(format!("b{i}.db")),
                    name: format!("b{i}.db"),
                    stem: format!("b{i}"),
                    time: Some((1000 * i, TimeSource::FileName)),
                    tarball: None,
                    origin: Origin::Listed,
                })
                .collect(),
            ..Listing::default()
        };
        let f = |rev, keys, size| Figures {
            revision: Some(rev),
            live_keys: Some(keys),
            db_size: size,
        };
        let figures = [
            f(100, 1000, Some(4096)),
            f(150, 1000, None),
            f(140, 499, Some(2048)),
            f(200, 500, Some(2047)),
        ];
        let flags = check(&l, &figures, 3000 + 90_000, 90_000);
        assert_eq!(
            flags,
            [
                Flag::RevisionWentBack {
                    backup: 2,
                    revision: 140,
                    previous: 1,
                    previous_revision: 150
                },
                Flag::Shrank {
                    backup: 2,
                    measure: Measure::LiveKeys,
                    value: 499,
                    previous: 1,
                    previous_value: 1000
                },
            ]
        );
        // Exactly half is not below half; one second past --max-age is stale.
        let flags = check(&l, &figures, 3000 + 90_001, 90_000);
        assert_eq!(
            flags.last(),
            Some(&Flag::Stale {
                newest: 3,
                age: Some(90_001),
                max_age: 90_000
            })
        );
        assert_eq!(check(&Listing::default(), &[], 0, 1), [Flag::NoBackups]);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("25h"), Ok(90_000));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert_eq!(parse_duration("600"), Ok(600));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("3h5").is_err());
        assert!(parse_duration("99999999999999999999w").is_err());
    }
}
