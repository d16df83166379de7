//! End-to-end: inputs and outputs a person can trust (evidence never written, one output
//! convention, bad inputs named, exit codes, metrics on failure). Every test works on copies of
//! testdata in its own temp dir; error lines are asserted whole.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// A fresh temp dir holding copies of the fixtures the tests use.
struct Work {
    dir: PathBuf,
}

impl Work {
    fn new(name: &str) -> Work {
        let dir = std::env::temp_dir().join(format!("io-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (src, dst) in [
            ("snapshots/basic.db", "basic.db"),
            ("snapshots/datadir.db", "datadir.db"),
            ("encrypted/multi.db", "multi.db"),
            ("encrypted/cp-1.yaml", "cp-1.yaml"),
            ("incident/master-1.log", "master-1.log"),
            ("io/plain-bbolt.db", "plain-bbolt.db"),
            (
                "openshift/static_kuberesources_2026-11-01_120000.tar.gz",
                "static_kuberesources_2026-11-01_120000.tar.gz",
            ),
            (
                "openshift/snapshot_2026-11-01_120000.db",
                "snapshot_2026-11-01_120000.db",
            ),
        ] {
            std::fs::copy(testdata(src), dir.join(dst)).unwrap();
        }
        Work { dir }
    }

    /// Runs the binary in the work dir (relative paths are as a user types them).
    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[("NO_COLOR", "1")])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(bin());
        c.args(args)
            .current_dir(&self.dir)
            .env_remove("NO_COLOR")
            .env_remove("TERM")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().unwrap();
        // Drain both pipes on threads so a large output cannot block the child; a hang (a FIFO
        // opened) fails the test.
        use std::io::Read;
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = r.read_to_end(&mut buf);
                buf
            })
        };
        let out = drain(Box::new(child.stdout.take().unwrap()));
        let err = drain(Box::new(child.stderr.take().unwrap()));
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("{args:?} did not finish within 60 s");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Output {
            status,
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        }
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sha(path: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

fn err_line(o: &Output) -> String {
    stderr(o).trim_end().to_string()
}

/// Every command with an output path, with the inputs it reads (by name in the work dir).
fn commands() -> Vec<(Vec<&'static str>, Vec<&'static str>)> {
    vec![
        (vec!["status", "basic.db"], vec!["basic.db"]),
        (vec!["check", "basic.db"], vec!["basic.db"]),
        (vec!["ls", "basic.db"], vec!["basic.db"]),
        (vec!["stats", "basic.db"], vec!["basic.db"]),
        (
            vec!["get", "basic.db", "/registry/namespaces/default"],
            vec!["basic.db"],
        ),
        (
            vec!["keys", "--encryption-config", "cp-1.yaml"],
            vec!["cp-1.yaml"],
        ),
        (
            vec!["audit", "multi.db", "--encryption-config", "cp-1.yaml"],
            vec!["multi.db", "cp-1.yaml"],
        ),
        (vec!["logs", "master-1.log"], vec!["master-1.log"]),
        (
            vec![
                "report",
                "--snapshot",
                "multi.db",
                "--encryption-config",
                "cp-1.yaml",
                "--log",
                "master-1.log",
                "-q",
            ],
            vec!["multi.db", "cp-1.yaml", "master-1.log"],
        ),
        (
            vec![
                "validate",
                "multi.db",
                "--encryption-config",
                "cp-1.yaml",
                "-q",
            ],
            vec!["multi.db", "cp-1.yaml"],
        ),
        (vec!["get", "basic.db", "secrets", "-A"], vec!["basic.db"]),
        (vec!["restore-plan", "basic.db"], vec!["basic.db"]),
        (vec!["hashkv", "basic.db"], vec!["basic.db"]),
        (vec!["salvage", "basic.db"], vec!["basic.db"]),
        (
            vec!["compare", "basic.db", "multi.db"],
            vec!["basic.db", "multi.db"],
        ),
        (
            vec!["diff", "basic.db", "multi.db"],
            vec!["basic.db", "multi.db"],
        ),
    ]
}

#[test]
fn every_output_flag_of_every_command_refuses_every_input() {
    let w = Work::new("refuse");
    let before: Vec<(String, Vec<u8>)> = ["basic.db", "multi.db", "cp-1.yaml", "master-1.log"]
        .iter()
        .map(|n| (n.to_string(), sha(&w.dir.join(n))))
        .collect();
    for (args, inputs) in commands() {
        let flags: &[&str] = if args[0] == "validate" {
            &["--output-file", "--metrics"]
        } else {
            &["--output-file"]
        };
        for flag in flags {
            for input in &inputs {
                // The input itself, a symlink to it and a hard link to it; with --force too.
                let sym = format!("sym-{input}");
                let hard = format!("hard-{input}");
                let _ = std::fs::remove_file(w.dir.join(&sym));
                let _ = std::fs::remove_file(w.dir.join(&hard));
                std::os::unix::fs::symlink(w.dir.join(input), w.dir.join(&sym)).unwrap();
                std::fs::hard_link(w.dir.join(input), w.dir.join(&hard)).unwrap();
                for target in [input.to_string(), sym.clone(), hard.clone()] {
                    for force in [false, true] {
                        let mut a: Vec<&str> = args.clone();
                        a.extend([*flag, target.as_str()]);
                        if force {
                            a.push("--force");
                        }
                        let o = w.run(&a);
                        assert_eq!(code(&o), 2, "{a:?}: {}", stderr(&o));
                        let how = if target == *input {
                            ""
                        } else {
                            " (the same file, through a link)"
                        };
                        assert_eq!(
                            err_line(&o),
                            format!(
                                "etcd-autopsy: {flag} {target}: refusing to write over an input, {input}{how}; \
                                 evidence is never written to"
                            ),
                            "{a:?}"
                        );
                    }
                }
            }
            // An existing file that is not an input: refused without --force, replaced with it.
            let old = w.dir.join("old-output.txt");
            std::fs::write(&old, b"previous").unwrap();
            let mut a: Vec<&str> = args.clone();
            a.extend([*flag, "old-output.txt"]);
            let o = w.run(&a);
            assert_eq!(code(&o), 2, "{a:?}");
            assert_eq!(
                err_line(&o),
                format!("etcd-autopsy: {flag} old-output.txt: exists; add --force to replace it")
            );
            assert_eq!(std::fs::read(&old).unwrap(), b"previous");
            a.push("--force");
            let o = w.run(&a);
            assert!(code(&o) < 2, "{a:?}: {}", stderr(&o));
            assert_ne!(std::fs::read(&old).unwrap(), b"previous", "{a:?}");
            std::fs::remove_file(&old).unwrap();
        }
    }
    for (n, h) in before {
        assert_eq!(sha(&w.dir.join(&n)), h, "{n} was modified");
    }
    // No temporary file is left behind.
    for e in std::fs::read_dir(&w.dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "{name} left behind");
    }
}

#[test]
fn outputs_inside_an_input_directory_are_refused() {
    let w = Work::new("indir");
    std::fs::create_dir_all(w.dir.join("logs")).unwrap();
    std::fs::copy(w.dir.join("master-1.log"), w.dir.join("logs/a.log")).unwrap();
    let o = w.run(&["logs", "logs", "--output-file", "logs/r.json"]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        err_line(&o),
        "etcd-autopsy: --output-file logs/r.json: refusing to write inside the input directory logs; \
         evidence is never written to"
    );
    assert!(!w.dir.join("logs/r.json").exists());
}

#[test]
fn report_file_is_atomic_private_and_format_follows_extension() {
    use std::os::unix::fs::PermissionsExt;
    let w = Work::new("report");
    for (file, starts) in [
        ("r.html", "<!DOCTYPE html>"),
        ("r.md", "# etcd-autopsy report"),
        ("r.json", "{"),
        ("r.txt", ""),
    ] {
        let o = w.run(&["demo", "-q", "--output-file", file]);
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        assert!(stdout(&o).is_empty());
        let text = std::fs::read_to_string(w.dir.join(file)).unwrap();
        assert!(text.starts_with(starts), "{file}: {}", &text[..40]);
        let mode = std::fs::metadata(w.dir.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    // -o and the extension must agree; a file where a format belongs and the reverse are refused.
    let cases: [(&[&str], &str); 4] = [
        (
            &["demo", "-o", "r.html"],
            "etcd-autopsy: -o r.html: -o takes a format (text, md, json, html), not a file; \
             to write to a file use --output-file r.html",
        ),
        (
            &["demo", "--output-file", "json"],
            "etcd-autopsy: --output-file json: `json` is a format name, not a file; to choose the \
             format use -o json (to really name a file json, write --output-file ./json)",
        ),
        (
            &["demo", "-o", "json", "--output-file", "x.html"],
            "etcd-autopsy: -o json but --output-file x.html ends in .html; give one or make them agree",
        ),
        (
            &["ls", "basic.db", "-o", "html"],
            "etcd-autopsy: ls does not write html; it writes text, json, jsonl",
        ),
    ];
    for (a, want) in cases {
        let o = w.run(a);
        assert_eq!(code(&o), 2, "{a:?}");
        assert_eq!(err_line(&o), want);
    }
    assert!(!w.dir.join("json").exists() && !w.dir.join("x.html").exists());
}

#[test]
fn format_flag_spellings_agree() {
    let w = Work::new("spell");
    for fmt in ["json", "table", "simple"] {
        let a = w.run(&["status", "basic.db", "-w", fmt]);
        for alt in [
            vec!["status", "basic.db", "--write-out", fmt],
            vec!["status", "basic.db", "-o", fmt],
            vec!["status", "basic.db", "--output", fmt],
        ] {
            let b = w.run(&alt);
            assert_eq!(a.stdout, b.stdout, "{alt:?}");
        }
    }
    let a = w.run(&["ls", "basic.db", "--format", "json"]);
    let b = w.run(&["ls", "basic.db", "-o", "json"]);
    assert_eq!(a.stdout, b.stdout);
    let o = w.run(&["ls", "basic.db", "--format", "json", "-o", "text"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn json_lines_for_ls_audit_logs() {
    let w = Work::new("jsonl");
    let all: serde_json::Value =
        serde_json::from_slice(&w.run(&["ls", "basic.db", "-o", "json"]).stdout).unwrap();
    let o = w.run(&["ls", "basic.db", "-o", "jsonl"]);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), all.as_array().unwrap().len());
    assert_eq!(lines[0], all[0]);
    for a in [
        vec![
            "audit",
            "multi.db",
            "--encryption-config",
            "cp-1.yaml",
            "-o",
            "jsonl",
        ],
        vec!["logs", "master-1.log", "-o", "jsonl"],
    ] {
        let o = w.run(&a);
        let rows: Vec<serde_json::Value> = stdout(&o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(rows.len() > 1, "{a:?}");
        assert!(rows.iter().all(|r| r["type"].is_string()), "{a:?}");
        assert_eq!(rows.last().unwrap()["type"], "summary");
    }
    // The output file's extension chooses JSON Lines too.
    let o = w.run(&["logs", "master-1.log", "--output-file", "events.jsonl"]);
    assert!(code(&o) < 2);
    let text = std::fs::read_to_string(w.dir.join("events.jsonl")).unwrap();
    assert!(text
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
}

#[test]
fn color_follows_flag_no_color_and_term() {
    let w = Work::new("color");
    let esc = |o: &Output| o.stdout.contains(&0x1b);
    assert!(esc(&w.run_env(&["demo", "-q", "--color", "always"], &[])));
    assert!(!esc(&w.run_env(&["demo", "-q", "--color", "never"], &[])));
    // auto: stdout is a pipe here, so no colour whatever the environment.
    assert!(!esc(&w.run_env(&["demo", "-q"], &[("TERM", "xterm")])));
    assert!(!esc(&w.run_env(
        &["demo", "-q", "--color", "auto"],
        &[("TERM", "dumb")]
    )));
    // JSON is never coloured.
    assert!(!esc(&w.run_env(
        &["demo", "-q", "-o", "json", "--color", "always"],
        &[]
    )));
    let o = w.run(&["ls", "basic.db", "--color", "sometimes"]);
    assert_eq!(code(&o), 2);
    // On a terminal (a pty from util-linux `script`): colour unless NO_COLOR (non-empty) or
    // TERM=dumb.
    let on_tty = |env: &[(&str, &str)]| -> bool {
        let mut c = Command::new("script");
        c.args(["-qec", &format!("'{}' demo -q", bin()), "/dev/null"])
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c
            .output()
            .expect("util-linux `script` is needed for this test (Debian bsdutils)");
        o.stdout.windows(2).any(|x| x == b"\x1b[")
    };
    assert!(on_tty(&[("TERM", "xterm")]));
    assert!(on_tty(&[("TERM", "xterm"), ("NO_COLOR", "")]));
    assert!(!on_tty(&[("TERM", "xterm"), ("NO_COLOR", "1")]));
    assert!(!on_tty(&[("TERM", "dumb")]));
}

#[test]
fn directories_data_dirs_and_special_files() {
    let w = Work::new("dirs");
    std::fs::create_dir_all(w.dir.join("empty")).unwrap();
    std::fs::create_dir_all(w.dir.join("etcd/member/snap")).unwrap();
    std::fs::copy(w.dir.join("datadir.db"), w.dir.join("etcd/member/snap/db")).unwrap();
    let o = w.run(&["check", "empty"]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        err_line(&o),
        "etcd-autopsy: empty: is a directory, not a snapshot (an etcd data dir would hold member/snap/db)"
    );
    let direct = w.run(&["ls", "datadir.db", "-o", "json"]);
    for d in ["etcd", "etcd/member"] {
        let o = w.run(&["ls", d, "-o", "json"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(
            err_line(&o),
            format!(
                "etcd-autopsy: note: {d} is an etcd data dir: reading its {d}/{}",
                if d == "etcd" {
                    "member/snap/db"
                } else {
                    "snap/db"
                }
            )
        );
        assert_eq!(o.stdout, direct.stdout);
    }
    // A missing file: its path once.
    let o = w.run(&["status", "gone.db"]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        err_line(&o),
        "etcd-autopsy: gone.db: No such file or directory (os error 2)"
    );
    // FIFO, character device, socket: refused before anything opens them (no hang).
    let fifo = w.dir.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let _sock = std::os::unix::net::UnixListener::bind(w.dir.join("sock")).unwrap();
    for (path, what) in [
        ("fifo", "a FIFO (named pipe)"),
        ("/dev/null", "a character device"),
        ("sock", "a socket"),
    ] {
        for cmd in ["status", "check", "ls", "stats"] {
            let o = w.run(&[cmd, path]);
            assert_eq!(code(&o), 2, "{cmd} {path}");
            assert_eq!(
                err_line(&o),
                format!(
                    "etcd-autopsy: {path}: is {what}, not a snapshot file; give a regular file (only `logs -` reads a stream)"
                )
            );
        }
        if path != "fifo" {
            // `logs` reads pipes (`<(zcat …)`), not devices or sockets.
            let o = w.run(&["logs", path]);
            assert_eq!(code(&o), 2, "logs {path}");
            assert_eq!(
                err_line(&o),
                format!(
                    "etcd-autopsy: {path}: is {what}, not a log file; give a file, a directory, a pipe or `-` for stdin"
                )
            );
        }
        for flag in ["--encryption-config", "--static-resources"] {
            let o = w.run(&["keys", flag, path]);
            assert_eq!(code(&o), 2, "{flag} {path}");
            assert_eq!(
                err_line(&o),
                format!(
                    "etcd-autopsy: {flag} {path}: is {what}, not a key source file; give a regular file (only `logs -` reads a stream)"
                )
            );
        }
    }
}

/// Compresses `src` with an independent tool (gzip, zstd, xz from Debian).
fn compress(tool: &str, src: &Path, dst: &Path) {
    let out = Command::new(tool)
        .args(["-c", src.to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| panic!("{tool} is needed for this test (apt-get install {tool}): {e}"));
    assert!(out.status.success());
    std::fs::write(dst, out.stdout).unwrap();
}

#[test]
fn compressed_snapshots_are_read_in_memory_and_said_so() {
    let w = Work::new("compressed");
    let plain = w.run(&["status", "basic.db", "-o", "json"]);
    for (tool, ext, what) in [
        ("gzip", "gz", "a gzip-compressed file"),
        ("zstd", "zst", "a zstd-compressed file"),
        ("xz", "xz", "an xz-compressed file"),
    ] {
        let name = format!("basic.db.{ext}");
        compress(tool, &w.dir.join("basic.db"), &w.dir.join(&name));
        let o = w.run(&["status", &name, "-o", "json"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(o.stdout, plain.stdout, "{name}");
        assert_eq!(
            err_line(&o),
            format!(
                "etcd-autopsy: note: {name} is {what}: decompressed 708640 bytes into memory (nothing written to disk)"
            )
        );
        // A flipped bit (caught by the format's checksum) and cut-off data are errors, never
        // a truncated snapshot.
        let mut flipped = std::fs::read(w.dir.join(&name)).unwrap();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 1;
        let bad = format!("flipped.db.{ext}");
        std::fs::write(w.dir.join(&bad), &flipped).unwrap();
        let o = w.run(&["status", &bad]);
        assert_eq!(code(&o), 2, "{bad}: {}", stderr(&o));
        assert!(
            err_line(&o).starts_with(&format!("etcd-autopsy: {bad}: {what} is damaged: ")),
            "{}",
            err_line(&o)
        );
        let bytes = std::fs::read(w.dir.join(&name)).unwrap();
        let cut = format!("cut.db.{ext}");
        std::fs::write(w.dir.join(&cut), &bytes[..bytes.len() / 2]).unwrap();
        let o = w.run(&["status", &cut]);
        assert_eq!(code(&o), 2, "{cut}");
        assert!(
            err_line(&o).starts_with(&format!("etcd-autopsy: {cut}: {what} is damaged: ")),
            "{}",
            err_line(&o)
        );
    }
    let names: Vec<String> = std::fs::read_dir(&w.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with(".db") && n.starts_with("basic.db.")),
        "nothing decompressed to disk: {names:?}"
    );
}

#[test]
fn files_of_another_kind_are_named() {
    let w = Work::new("kinds");
    let cases: [(&[&str], String); 7] = [
        (
            &["status", "cp-1.yaml"],
            "etcd-autopsy: cp-1.yaml: not a snapshot: this looks like an EncryptionConfiguration; use --encryption-config".into(),
        ),
        (
            &["ls", "master-1.log"],
            "etcd-autopsy: master-1.log: not a snapshot: this looks like a log; use `logs` or --log".into(),
        ),
        (
            &["check", "static_kuberesources_2026-11-01_120000.tar.gz"],
            "etcd-autopsy: static_kuberesources_2026-11-01_120000.tar.gz: not a snapshot: this looks like a tar \
             archive (an OpenShift static_kuberesources tarball?); use --static-resources (inside a gzip-compressed file)".into(),
        ),
        (
            &["keys", "--encryption-config", "basic.db"],
            "etcd-autopsy: --encryption-config basic.db: this looks like a bbolt database (an etcd snapshot); \
             use the SNAPSHOT argument (report: --snapshot)".into(),
        ),
        (
            &["keys", "--static-resources", "cp-1.yaml"],
            "etcd-autopsy: --static-resources cp-1.yaml: this looks like an EncryptionConfiguration; use --encryption-config".into(),
        ),
        (
            &["keys", "--encryption-config", "static_kuberesources_2026-11-01_120000.tar.gz"],
            "etcd-autopsy: --encryption-config static_kuberesources_2026-11-01_120000.tar.gz: this looks like a \
             gzip-compressed file; use --static-resources (a .tar.gz from cluster-backup.sh)".into(),
        ),
        (
            &["logs", "basic.db"],
            "etcd-autopsy: basic.db: not a log: this looks like a bbolt database (an etcd snapshot); use the \
             SNAPSHOT argument (report: --snapshot)".into(),
        ),
    ];
    for (a, want) in cases {
        let o = w.run(a);
        assert_eq!(code(&o), 2, "{a:?}");
        assert_eq!(err_line(&o), want, "{a:?}");
    }
}

#[test]
fn not_an_etcd_backend_is_exit_2() {
    let w = Work::new("notetcd");
    for cmd in ["status", "check", "ls", "stats"] {
        let o = w.run(&[cmd, "plain-bbolt.db"]);
        assert_eq!(code(&o), 2, "{cmd}");
        assert!(stdout(&o).is_empty());
        assert_eq!(
            err_line(&o),
            "etcd-autopsy: plain-bbolt.db: not an etcd backend: a bbolt file without etcd's `key` and `meta` buckets"
        );
    }
}

#[test]
fn truncation_is_named_and_partial_reads_exit_1() {
    let w = Work::new("trunc");
    let bytes = std::fs::read(w.dir.join("basic.db")).unwrap();
    std::fs::write(w.dir.join("cut.db"), &bytes[..300_000]).unwrap();
    let warning = "etcd-autopsy: warning: cut.db: truncated: 300000 of at least 708608 bytes \
                   (high-water mark 173 × page size 4096); what follows is partial";
    for cmd in ["ls", "stats"] {
        let o = w.run(&[cmd, "cut.db"]);
        assert_eq!(code(&o), 1, "{cmd}");
        assert!(stderr(&o).starts_with(warning), "{cmd}: {}", stderr(&o));
    }
    let o = w.run(&["check", "cut.db", "-o", "json"]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let problems: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        problems[0],
        "truncated: 300000 of at least 708608 bytes (high-water mark 173 × page size 4096)"
    );
    // Not mistaken for a data-dir copy.
    let warnings = v["warnings"].to_string();
    assert!(!warnings.contains("data dir"), "{warnings}");
    let o = w.run(&["report", "--snapshot", "cut.db", "-q", "-o", "json"]);
    assert_eq!(code(&o), 1);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let kinds: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"missing-trailer"), "{kinds:?}");
    let o = w.run(&["validate", "cut.db", "-q"]);
    assert_eq!(code(&o), 1);
    assert!(
        !stdout(&o).contains("--allow-missing-trailer"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("truncated: 300000 of at least 708608 bytes"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn exit_codes_mean_the_same_everywhere() {
    let w = Work::new("codes");
    let o = w.run(&["get", "basic.db", "/registry/nothing/here"]);
    assert_eq!(code(&o), 3);
    assert_eq!(
        err_line(&o),
        "etcd-autopsy: basic.db: key \"/registry/nothing/here\" not found"
    );
    std::fs::create_dir_all(w.dir.join("nothing")).unwrap();
    std::fs::write(w.dir.join("nothing/readme.txt"), "hello\n").unwrap();
    // Nothing recognisable as a log is exit 3 ("nothing to look at"), never 0 ("looked, found
    // nothing"); the skipped files are listed with the reason.
    let o = w.run(&["logs", "nothing"]);
    assert_eq!(code(&o), 3);
    assert!(
        stdout(&o).contains(
            "nothing/readme.txt: no log lines (klog, JSON, journald, CRI, docker, kubectl) in its first 64 KiB"
        ),
        "{}",
        stdout(&o)
    );
    let o = w.run(&[
        "report",
        "--snapshot",
        "basic.db",
        "--fixed-time",
        "yesterday",
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("not an RFC 3339 time"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn metrics_make_the_alert_fire_when_validate_cannot_run() {
    use std::os::unix::fs::PermissionsExt;
    let w = Work::new("metrics");
    // A restorable backup under an OpenShift-style name (the age comes from the name): the
    // plaintext basic.db. (The OpenShift pair itself is not verified until routes and OAuth
    // tokens can be checked: docs/verdict-rules.md rule 4.)
    let snap = "snapshot_2026-11-01_120000.db";
    std::fs::copy(testdata("snapshots/basic.db"), w.dir.join(snap)).unwrap();
    let tarball = "static_kuberesources_2026-11-01_120000.tar.gz";
    let fixed = "2026-11-03T12:00:00Z";
    let ok = w.run(&[
        "validate",
        snap,
        "--metrics",
        "m.prom",
        "--fixed-time",
        fixed,
        "-q",
    ]);
    assert_eq!(code(&ok), 0, "{}", stderr(&ok));
    let prom = std::fs::read_to_string(w.dir.join("m.prom")).unwrap();
    let mode = std::fs::metadata(w.dir.join("m.prom"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    let label = format!("{{snapshot=\"{snap}\"}}");
    let status: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(testdata("snapshots/basic.status.json")).unwrap(),
    )
    .unwrap();
    for want in [
        format!("etcd_autopsy_backup_restorable{label} 1\n"),
        format!("etcd_autopsy_backup_validation_success{label} 1\n"),
        format!("etcd_autopsy_backup_validation_timestamp_seconds{label} 1793707200\n"),
        format!("etcd_autopsy_backup_revision{label} {}\n", status["revision"]),
        format!(
            "etcd_autopsy_backup_size_bytes{label} {}\n",
            std::fs::metadata(w.dir.join(snap)).unwrap().len()
        ),
        // 2026-11-01T12:00:00Z from the file name, two days before the run.
        format!("etcd_autopsy_backup_snapshot_timestamp_seconds{{snapshot=\"{snap}\",source=\"filename\"}} 1793534400\n"),
        format!("etcd_autopsy_backup_age_seconds{{snapshot=\"{snap}\",source=\"filename\"}} 172800\n"),
    ] {
        assert!(prom.contains(&want), "missing {want:?} in\n{prom}");
    }
    assert!(prom.contains("etcd_autopsy_backup_live_keys{"));
    // The next run cannot run (snapshot gone): exit 2, and the file now makes the alert fire.
    std::fs::remove_file(w.dir.join(snap)).unwrap();
    let o = w.run(&[
        "validate",
        snap,
        "--static-resources",
        tarball,
        "--metrics",
        "m.prom",
        "--force",
        "-q",
    ]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        err_line(&o),
        format!("etcd-autopsy: {snap}: No such file or directory (os error 2)")
    );
    let prom = std::fs::read_to_string(w.dir.join("m.prom")).unwrap();
    assert!(
        prom.contains(&format!("etcd_autopsy_backup_restorable{label} 0\n")),
        "{prom}"
    );
    assert!(prom.contains(&format!(
        "etcd_autopsy_backup_validation_success{label} 0\n"
    )));
    assert!(!prom.contains("etcd_autopsy_backup_revision"));
    // Without --force an existing metrics file is not replaced.
    let o = w.run(&["validate", snap, "--metrics", "m.prom"]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        err_line(&o),
        "etcd-autopsy: --metrics m.prom: exists; add --force to replace it"
    );
    let o = w.run(&["validate", snap, "--fixed-time", "yesterday"]);
    assert_eq!(code(&o), 2);
}
