//! Helpers for the end-to-end tests: run the built binary on testdata.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_etcd-autopsy")
}

pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// Runs the binary with a time limit; a hang fails the test instead of stalling CI.
pub fn run(args: &[&str]) -> Output {
    run_with_timeout(args, Duration::from_secs(60))
}

pub fn run_with_timeout(args: &[&str], limit: Duration) -> Output {
    use std::io::Read;
    let mut child = Command::new(bin())
        .args(args)
        .env("NO_COLOR", "1")
        // A COLUMNS exported by the developer's shell would wrap text reports.
        .env_remove("COLUMNS")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn etcd-autopsy");
    // Drain both pipes on threads so a large output cannot block the child.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("etcd-autopsy {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: out.join().expect("stdout thread"),
        stderr: err.join().expect("stderr thread"),
    }
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `report` on the key-mismatch incident with its three node configs and logs (the arguments
/// every report test starts from; each adds its format and time flags).
pub fn incident_report_args() -> Vec<String> {
    let t = |f: &str| {
        testdata(&format!("incident/{f}"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let mut a: Vec<String> = vec!["report".into(), "--snapshot".into(), t("snapshot.db")];
    for n in ["master-1", "master-2", "master-3"] {
        a.push("--encryption-config".into());
        a.push(format!("{n}={}", t(&format!("{n}.yaml"))));
        a.push("--log".into());
        a.push(format!("{n}={}", t(&format!("{n}.log"))));
    }
    a
}

/// Runs the binary with owned arguments.
pub fn run_s(args: &[String]) -> std::process::Output {
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}
