//! End-to-end: `validate` over directories of backups (docs/backup-validation.md): pairing,
//! time order, `--index`, the default "newest not yet validated", `--output-dir` refusals and
//! atomic verdict files, set checks, exit codes, metrics per snapshot, `--metrics -`, and
//! `--push` against a real Prometheus Pushgateway (Debian `prometheus-pushgateway`).
//!
//! Every test works on copies of testdata in a directory of its own.

mod common;

use common::{code, stderr, stdout, testdata};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The OpenShift pair (real etcd 3.4 snapshot + cluster-backup.sh-shaped tarball).
const PAIR_TS: &str = "2026-11-01_120000";
/// Two days after the pair was taken.
const FIXED: &str = "2026-11-03T12:00:00Z";

struct Work {
    dir: PathBuf,
}

impl Work {
    fn new(name: &str) -> Work {
        let dir =
            std::env::temp_dir().join(format!("autopsy-backup-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("backups")).unwrap();
        std::fs::create_dir_all(dir.join("verdicts")).unwrap();
        Work { dir }
    }

    fn backups(&self) -> PathBuf {
        self.dir.join("backups")
    }

    fn verdicts(&self) -> PathBuf {
        self.dir.join("verdicts")
    }

    /// Copies testdata `rel` into the backup directory as `name`.
    fn put(&self, rel: &str, name: &str) -> PathBuf {
        let to = self.backups().join(name);
        std::fs::copy(testdata(rel), &to).unwrap();
        to
    }

    fn pair(&self, ts: &str) {
        self.put(
            &format!("openshift/snapshot_{PAIR_TS}.db"),
            &format!("snapshot_{ts}.db"),
        );
        self.put(
            &format!("openshift/static_kuberesources_{PAIR_TS}.tar.gz"),
            &format!("static_kuberesources_{ts}.tar.gz"),
        );
    }

    fn s(&self, p: &Path) -> String {
        p.to_str().unwrap().to_string()
    }

    /// `validate` on the backup directory with `extra` flags (and a fixed time).
    fn validate(&self, extra: &[&str]) -> Output {
        let b = self.s(&self.backups());
        let mut a = vec!["validate", b.as_str(), "--fixed-time", FIXED, "-q"];
        a.extend_from_slice(extra);
        common::run(&a)
    }

    fn verdict(&self, stem: &str) -> Value {
        let p = self.verdicts().join(format!("{stem}.verdict.json"));
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p:?}: {e}")))
            .unwrap()
    }

    fn verdict_files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.verdicts())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(o), stderr(o)))
}

fn names(v: &Value) -> Vec<String> {
    v["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect()
}

fn flag_kinds(v: &Value) -> Vec<String> {
    v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Sets a file's mtime (for names without a timestamp).
fn set_mtime(p: &Path, secs: i64) {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64);
    std::fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

#[test]
fn pairs_by_timestamp_orders_by_time_and_names_everything_else() {
    let w = Work::new("pairs");
    w.pair(PAIR_TS);
    // A plain snapshot named by time, one named by nothing (its mtime orders it), a tarball
    // whose snapshot is missing, and a file that is no backup.
    w.put("snapshots/basic.db", "snapshot_2026-11-02_120000.db");
    let plain = w.put("snapshots/basic.db", "etcd.db");
    set_mtime(&plain, 1_793_707_000); // 2026-11-03T11:56:40Z
    w.put(
        &format!("openshift/static_kuberesources_{PAIR_TS}.tar.gz"),
        "static_kuberesources_2026-10-30_120000.tar.gz",
    );
    std::fs::write(w.backups().join("README"), b"backups of cluster a").unwrap();
    let o = w.validate(&["--all", "-o", "json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(
        names(&v),
        [
            "snapshot_2026-11-01_120000.db",
            "snapshot_2026-11-02_120000.db",
            "etcd.db"
        ]
    );
    let b = &v["backups"];
    assert_eq!(b[0]["key_sources"], "tarball");
    assert!(b[0]["tarball"]
        .as_str()
        .unwrap()
        .ends_with("static_kuberesources_2026-11-01_120000.tar.gz"));
    // The pair is read with its tarball: 39 encrypted records, routes/OAuth not checked.
    assert_eq!(b[0]["restorability"], "not-verified");
    assert_eq!(b[0]["validation"]["records"]["encrypted"], 39);
    assert_eq!(b[1]["key_sources"], "none");
    assert_eq!(b[1]["tarball"], Value::Null);
    assert_eq!(b[1]["restorability"], "restorable");
    assert_eq!(b[2]["time_source"], "mtime");
    assert_eq!(b[2]["time"], "2026-11-03T11:56:40Z");
    assert_eq!(v["summary"]["validated"], 3);
    assert!(v["unpaired_tarballs"][0]
        .as_str()
        .unwrap()
        .ends_with("static_kuberesources_2026-10-30_120000.tar.gz"));
    assert_eq!(flag_kinds(&v), ["tarball-without-snapshot"]);
    assert!(v["skipped"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("README"));
    assert_eq!(v["skipped"][0]["why"], "not a backup file name");

    // A plain snapshot given key sources on the command line is read with them; the pair with
    // its tarball plus them.
    let cfg = testdata("encrypted/cp-1.yaml");
    let o = w.validate(&[
        "--index",
        "2",
        "-o",
        "json",
        "--encryption-config",
        cfg.to_str().unwrap(),
    ]);
    let v = json(&o);
    assert_eq!(v["backups"][2]["key_sources"], "command-line");
    assert_eq!(v["backups"][2]["validated"], true);
    assert_eq!(v["backups"][0]["validated"], false);

    // The text form fits 80 columns apart from the paths.
    let o = w.validate(&["--all"]);
    let text = stdout(&o);
    assert!(text.contains("RESTORABLE"), "{text}");
    assert!(text.contains("set: tarball-without-snapshot:"), "{text}");
    let base = w.backups().display().to_string();
    for line in text.lines().filter(|l| !l.contains(&base)) {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
}

#[test]
fn default_validates_the_newest_not_yet_validated_then_the_next() {
    let w = Work::new("default");
    for ts in [
        "2026-11-03_000000",
        "2026-11-03_060000",
        "2026-11-03_110000",
    ] {
        w.put("snapshots/basic.db", &format!("snapshot_{ts}.db"));
    }
    let out = w.s(&w.verdicts());
    let mut order = Vec::new();
    for _ in 0..3 {
        let o = w.validate(&["--output-dir", &out, "-o", "json"]);
        assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
        let v = json(&o);
        assert_eq!(v["summary"]["validated"], 1);
        let done: Vec<&str> = v["backups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["validated"] == true)
            .map(|b| b["name"].as_str().unwrap())
            .collect();
        order.push(done[0].to_string());
        // Verdicts are in their files, not repeated on stdout.
        assert!(v["backups"][0].get("validation").is_none());
    }
    assert_eq!(
        order,
        [
            "snapshot_2026-11-03_110000.db",
            "snapshot_2026-11-03_060000.db",
            "snapshot_2026-11-03_000000.db"
        ]
    );
    assert_eq!(
        w.verdict_files(),
        [
            "snapshot_2026-11-03_000000.verdict.json",
            "snapshot_2026-11-03_060000.verdict.json",
            "snapshot_2026-11-03_110000.verdict.json"
        ]
    );
    // Everything validated: nothing to do, still exit 0 (the set is fine).
    let o = w.validate(&["--output-dir", &out, "-o", "json"]);
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["summary"]["validated"], 0);
    // The set checks use the verdict files of earlier runs: a new, emptier backup is flagged.
    w.put("snapshots/empty.db", "snapshot_2026-11-03_115000.db");
    let o = w.validate(&["--output-dir", &out, "-o", "json"]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(flag_kinds(&v), ["revision-went-back", "shrank", "shrank"]);
    assert!(
        v["flags"][1]["summary"]
            .as_str()
            .unwrap()
            .starts_with("snapshot_2026-11-03_115000.db: live keys 0 is below 50% of the previous backup's (402, snapshot_2026-11-03_110000.db)"),
        "{}",
        v["flags"][1]
    );
}

#[test]
fn index_counts_oldest_first_and_refuses_past_the_end() {
    let w = Work::new("index");
    w.pair(PAIR_TS);
    w.put("snapshots/basic.db", "snapshot_2026-11-03_100000.db");
    let out = w.s(&w.verdicts());
    // Kubernetes passes --index=$(JOB_COMPLETION_INDEX).
    let o = w.validate(&["--index=0", "--output-dir", &out]);
    assert_eq!(code(&o), 1, "not verified: {}", stderr(&o));
    assert_eq!(
        w.verdict_files(),
        ["snapshot_2026-11-01_120000.verdict.json"]
    );
    let v = w.verdict(&format!("snapshot_{PAIR_TS}"));
    assert_eq!(v["restorability"], "not-verified");
    assert_eq!(v["snapshot_name"], format!("snapshot_{PAIR_TS}.db"));
    assert!(v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["role"] == "static-resources"));
    let o = w.validate(&["--index", "1", "--output-dir", &out]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = w.validate(&["--index", "2", "--output-dir", &out]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o).trim(),
        "etcd-autopsy: --index 2: the listing holds 2 backups (indices 0 to 1, oldest first)"
    );
    // The metrics still say the run could not validate anything.
    let prom = w.dir.join("m.prom");
    let o = w.validate(&["--index", "7", "--metrics", &w.s(&prom)]);
    assert_eq!(code(&o), 2);
    let m = std::fs::read_to_string(&prom).unwrap();
    assert!(
        m.contains("etcd_autopsy_backup_set_validation_success 0\n"),
        "{m}"
    );
    assert!(m.contains("etcd_autopsy_backup_set_ok 0\n"), "{m}");
    assert!(m.contains("etcd_autopsy_backup_set_backups 2\n"), "{m}");
    let o = w.validate(&["--index", "1", "--all"]);
    assert_eq!(code(&o), 2, "--index and --all conflict");
}

#[test]
fn output_dir_refusals() {
    let w = Work::new("refuse");
    w.put("snapshots/basic.db", "snapshot_2026-11-03_100000.db");
    let backups = w.s(&w.backups());
    let inside = w.backups().join("verdicts");
    std::fs::create_dir_all(&inside).unwrap();
    let parent = w.s(&w.dir);
    let snap = w.s(&w.backups().join("snapshot_2026-11-03_100000.db"));
    for (dir, want) in [
        (
            backups.clone(),
            format!("--output-dir {backups}: is an input;"),
        ),
        (
            w.s(&inside),
            format!(
                "--output-dir {}: lies inside the input directory {backups};",
                inside.display()
            ),
        ),
        (
            parent.clone(),
            format!("--output-dir {parent}: holds the input {backups};"),
        ),
        (
            w.s(&w.dir.join("missing")),
            format!(
                "--output-dir {}: No such file or directory (os error 2) (create it first)",
                w.dir.join("missing").display()
            ),
        ),
        (
            snap.clone(),
            format!("--output-dir {snap}: not a directory"),
        ),
    ] {
        let o = w.validate(&["--output-dir", &dir]);
        assert_eq!(code(&o), 2, "{dir}: {}", stdout(&o));
        assert!(
            stderr(&o).starts_with(&format!("etcd-autopsy: {want}")),
            "{dir}: {}",
            stderr(&o)
        );
    }
    // A single snapshot's own directory is refused too.
    let o = common::run(&["validate", &snap, "--output-dir", &backups, "-q"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("holds the input"), "{}", stderr(&o));
    // Nothing was written anywhere.
    assert!(std::fs::read_dir(&inside).unwrap().next().is_none());
    let files: Vec<_> = std::fs::read_dir(w.backups()).unwrap().collect();
    assert_eq!(files.len(), 2);
    // A key source inside the output directory is an input too.
    let cfg = w.verdicts().join("cp-1.yaml");
    std::fs::copy(testdata("encrypted/cp-1.yaml"), &cfg).unwrap();
    let o = w.validate(&[
        "--output-dir",
        &w.s(&w.verdicts()),
        "--encryption-config",
        &w.s(&cfg),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("holds the input"), "{}", stderr(&o));
}

#[test]
fn verdict_files_are_atomic_private_and_replaced_only_for_the_same_backup() {
    use std::os::unix::fs::PermissionsExt;
    let w = Work::new("atomic");
    w.put("snapshots/basic.db", "snapshot_2026-11-03_100000.db");
    let out = w.s(&w.verdicts());
    let o = w.validate(&["--output-dir", &out]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let stem = "snapshot_2026-11-03_100000";
    let p = w.verdicts().join(format!("{stem}.verdict.json"));
    let mode = std::fs::metadata(&p).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // No temporary file left beside it.
    assert_eq!(w.verdict_files(), [format!("{stem}.verdict.json")]);
    let v = w.verdict(stem);
    assert_eq!(v["restorability"], "restorable");
    assert_eq!(v["revision"], 697);
    assert_eq!(v["live_keys"], 402);
    assert_eq!(v["validated_at"], FIXED);
    assert_eq!(v["restore_plan"]["bump"]["bump"], 1_000_000_000u64);
    // Re-validation of the same backup replaces its verdict without --force, byte-identical.
    let before = std::fs::read(&p).unwrap();
    let o = w.validate(&["--output-dir", &out, "--all"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(&p).unwrap(), before);
    // A file of that name that is not this backup's verdict is refused before any work…
    std::fs::write(&p, b"{\"snapshot_name\": \"other.db\"}").unwrap();
    let o = w.validate(&["--output-dir", &out, "--all"]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "etcd-autopsy: --output-dir: {} exists and is not a verdict of {stem}.db; add --force to replace it",
            p.display()
        )
    );
    assert_eq!(
        std::fs::read(&p).unwrap(),
        b"{\"snapshot_name\": \"other.db\"}"
    );
    // … and replaced with --force.
    let o = w.validate(&["--output-dir", &out, "--all", "--force"]);
    assert_eq!(code(&o), 0);
    assert_eq!(std::fs::read(&p).unwrap(), before);
}

#[test]
fn damaged_stale_and_unreadable_backups_make_exit_1_with_every_verdict_written() {
    let w = Work::new("damaged");
    w.put("snapshots/basic.db", "snapshot_2026-11-03_080000.db");
    // Truncated: the last pages are gone.
    let bytes = std::fs::read(testdata("snapshots/basic.db")).unwrap();
    std::fs::write(
        w.backups().join("snapshot_2026-11-03_090000.db"),
        &bytes[..300_000],
    )
    .unwrap();
    // Not a snapshot at all.
    std::fs::write(
        w.backups().join("snapshot_2026-11-03_100000.db"),
        b"not a bbolt file\n",
    )
    .unwrap();
    let out = w.s(&w.verdicts());
    let o = w.validate(&["--output-dir", &out, "--all", "-o", "json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json(&o);
    let r: Vec<&str> = v["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["restorability"].as_str().unwrap())
        .collect();
    assert_eq!(r, ["restorable", "not-restorable", "could-not-validate"]);
    assert_eq!(w.verdict_files().len(), 3);
    let bad = w.verdict("snapshot_2026-11-03_100000");
    assert_eq!(bad["restorable"], false);
    assert_eq!(bad["restorability"], "could-not-validate");
    assert!(bad["error"]
        .as_str()
        .unwrap()
        .contains("snapshot_2026-11-03_100000.db"));
    assert_eq!(v["summary"]["could_not_validate"], 1);
    assert_eq!(v["summary"]["ok"], false);

    // Stale: the good one alone, two hours old, against --max-age 1h.
    let w = Work::new("stale");
    w.put("snapshots/basic.db", "snapshot_2026-11-03_100000.db");
    let o = w.validate(&["-o", "json", "--max-age", "1h"]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(flag_kinds(&v), ["stale"]);
    assert_eq!(
        v["flags"][0]["summary"],
        "snapshot_2026-11-03_100000.db: the newest backup is 2h00m old, more than --max-age 1h00m: the backup job may have stopped"
    );
    let o = w.validate(&["-o", "json"]);
    assert_eq!(code(&o), 0, "within the default 25h");
    let o = w.validate(&["--max-age", "soon"]);
    assert_eq!(code(&o), 2);
    // An empty directory is a flag, not silence.
    let w = Work::new("none");
    let o = w.validate(&["-o", "json"]);
    assert_eq!(code(&o), 1);
    assert_eq!(flag_kinds(&json(&o)), ["no-backups"]);
}

#[test]
fn metrics_per_snapshot_and_for_the_set_to_a_file_or_stdout() {
    let w = Work::new("metrics");
    w.put("snapshots/basic.db", "snapshot_2026-11-03_100000.db");
    w.put("snapshots/nospace.db", "snapshot_2026-11-03_110000.db");
    let out = w.s(&w.verdicts());
    let prom = w.dir.join("backup.prom");
    let o = w.validate(&["--output-dir", &out, "--all", "--metrics", &w.s(&prom)]);
    assert_eq!(
        code(&o),
        1,
        "nospace is smaller than half of basic: {}",
        stderr(&o)
    );
    let text = std::fs::read_to_string(&prom).unwrap();
    for want in [
        "etcd_autopsy_backup_restorable{snapshot=\"snapshot_2026-11-03_100000.db\"} 1\n",
        "etcd_autopsy_backup_revision{snapshot=\"snapshot_2026-11-03_100000.db\"} 697\n",
        "etcd_autopsy_backup_revision{snapshot=\"snapshot_2026-11-03_110000.db\"} 56\n",
        "etcd_autopsy_backup_age_seconds{snapshot=\"snapshot_2026-11-03_110000.db\",source=\"filename\"} 3600\n",
        "etcd_autopsy_backup_set_backups 2\n",
        "etcd_autopsy_backup_set_validated 2\n",
        "etcd_autopsy_backup_set_ok 0\n",
        "etcd_autopsy_backup_set_flags{kind=\"revision-went-back\"} 1\n",
        "etcd_autopsy_backup_set_flags{kind=\"stale\"} 0\n",
        "etcd_autopsy_backup_set_newest_age_seconds 3600\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // Each metric's HELP/TYPE once, its samples together (exposition format).
    assert_eq!(
        text.matches("# TYPE etcd_autopsy_backup_restorable gauge")
            .count(),
        1
    );
    // `--metrics -`: stdout is the exposition and nothing else; the summary goes to stderr.
    let b = w.s(&w.backups());
    let o = common::run(&[
        "validate",
        &b,
        "--fixed-time",
        FIXED,
        "--output-dir",
        &out,
        "--all",
        "--metrics",
        "-",
    ]);
    assert_eq!(code(&o), 1);
    let s = stdout(&o);
    assert!(
        s.lines()
            .all(|l| l.starts_with('#') || l.starts_with("etcd_autopsy_")),
        "{s}"
    );
    assert!(stderr(&o).contains("summary: 2 backups"), "{}", stderr(&o));
    // Without a place for the verdict, `--metrics -` is refused.
    let o = w.validate(&["--metrics", "-"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--metrics -: stdout would carry"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn single_snapshot_validate_carries_the_restore_plan() {
    let w = Work::new("plan");
    let snap = w.s(&w.put("snapshots/nospace.db", "nospace.db"));
    let o = common::run(&["validate", &snap, "-o", "json", "-q"]);
    let v = json(&o);
    let plan = &v["restore_plan"];
    assert_eq!(plan["bump"]["from_revision"], 56);
    assert_eq!(plan["bump"]["bump"], 1_000_000_000u64);
    assert!(plan["bump_reason"]
        .as_str()
        .unwrap()
        .contains("revision 56"));
    let kinds: Vec<&str> = plan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"alarms_set"), "{kinds:?}");
    assert_eq!(
        plan["warnings"].as_array().unwrap().len(),
        plan["warning_texts"].as_array().unwrap().len()
    );
    let argv: Vec<&str> = plan["commands"][0]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        argv.contains(&"--bump-revision") && argv.contains(&"--mark-compacted"),
        "{argv:?}"
    );
    // No trailer: the plan says --skip-hash-check.
    let dd = w.s(&w.put("snapshots/datadir.db", "datadir.db"));
    let o = common::run(&["validate", &dd, "--allow-missing-trailer", "-q"]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    assert!(text.contains("restore plan for"), "{text}");
    assert!(text.contains("--skip-hash-check"), "{text}");
    assert!(text.contains("etcdutl snapshot restore"), "{text}");
}

// ---- Pushgateway ----

/// A real `prometheus-pushgateway` on 127.0.0.1, killed on drop.
struct Gateway {
    child: std::process::Child,
    port: u16,
}

impl Gateway {
    fn start(dir: &Path) -> Option<Gateway> {
        let bin = "/usr/bin/prometheus-pushgateway";
        if !Path::new(bin).exists() {
            eprintln!("skipped: {bin} is not installed (apt-get install prometheus-pushgateway)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(bin)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!(
                "--persistence.file={}",
                dir.join("pushgateway.data").display()
            ))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start pushgateway");
        let g = Gateway { child, port };
        for _ in 0..200 {
            if g.get("/-/ready")
                .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
            {
                return Some(g);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("pushgateway on port {port} never became ready");
    }

    /// A plain GET, the whole answer.
    fn get(&self, path: &str) -> Option<String> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn push_to_a_real_pushgateway() {
    let w = Work::new("push");
    let Some(g) = Gateway::start(&w.dir) else {
        return;
    };
    w.put("snapshots/basic.db", "snapshot_2026-11-03_100000.db");
    w.put("snapshots/basic.db", "snapshot_2026-11-03_110000.db");
    let out = w.s(&w.verdicts());
    let o = w.validate(&[
        "--output-dir",
        &out,
        "--all",
        "--push",
        &g.url(),
        "--push-instance",
        "master-0",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let m = g.get("/metrics").unwrap();
    for want in [
        "etcd_autopsy_backup_restorable{instance=\"master-0\",job=\"etcd-autopsy-validate\",snapshot=\"snapshot_2026-11-03_100000.db\"} 1",
        "etcd_autopsy_backup_restorable{instance=\"master-0\",job=\"etcd-autopsy-validate\",snapshot=\"snapshot_2026-11-03_110000.db\"} 1",
        "etcd_autopsy_backup_revision{instance=\"master-0\",job=\"etcd-autopsy-validate\",snapshot=\"snapshot_2026-11-03_110000.db\"} 697",
        "etcd_autopsy_backup_set_ok{instance=\"master-0\",job=\"etcd-autopsy-validate\"} 1",
        "etcd_autopsy_backup_set_validated{instance=\"master-0\",job=\"etcd-autopsy-validate\"} 2",
    ] {
        assert!(m.contains(want), "missing {want:?} in\n{m}");
    }
    // A job name that is no plain path segment goes base64-encoded; PUT replaces the group, so
    // a second run that validates one backup leaves only its gauges in that group.
    let o = w.validate(&[
        "--output-dir",
        &out,
        "--index",
        "1",
        "--push",
        &g.url(),
        "--push-job",
        "backups/a b",
        "--push-instance",
        "master-0",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let m = g.get("/metrics").unwrap();
    assert!(
        m.contains(
            "etcd_autopsy_backup_set_validated{instance=\"master-0\",job=\"backups/a b\"} 1"
        ),
        "{m}"
    );
    // A gateway that answers an error: exit 2, the status named, the verdicts already written.
    std::fs::remove_dir_all(w.verdicts()).unwrap();
    std::fs::create_dir(w.verdicts()).unwrap();
    let o = w.validate(&[
        "--output-dir",
        &out,
        "--push",
        &format!("{}/nowhere", g.url()),
    ]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o).trim(),
        format!("etcd-autopsy: --push {}/nowhere: the Pushgateway answered HTTP 404 Not Found: 404 page not found", g.url())
    );
    assert_eq!(
        w.verdict_files(),
        ["snapshot_2026-11-03_110000.verdict.json"]
    );
    // Nobody listening: exit 2, named.
    let port = g.port;
    drop(g);
    let o = w.validate(&["--all", "--push", &format!("http://127.0.0.1:{port}")]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot connect"), "{}", stderr(&o));
}

#[test]
fn https_is_refused_before_anything_runs() {
    let w = Work::new("https");
    w.put("snapshots/basic.db", "snapshot_2026-11-03_100000.db");
    let out = w.s(&w.verdicts());
    let o = w.validate(&["--output-dir", &out, "--push", "https://pushgateway:9091"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("https is not supported"),
        "{}",
        stderr(&o)
    );
    assert!(w.verdict_files().is_empty());
    let o = w.validate(&["--push-job", "x"]);
    assert_eq!(code(&o), 2, "--push-job needs --push");
}
