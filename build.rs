//! Stamps the binary with the commit it was built from and the build date, for `--version`:
//! a report attached to a ticket names the exact build that made it.
//!
//! Outside a git checkout (a source tarball, `cargo install` from a registry) both fall back to
//! what the environment says, then to "unknown". `SOURCE_DATE_EPOCH` (reproducible-builds.org)
//! fixes the date.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn main() {
    // Rebuild the stamp when HEAD moves (a commit, a checkout), not on every source edit. Only
    // paths that exist: cargo reruns a build script on every build when one of its
    // rerun-if-changed paths is missing (packed-refs often is).
    let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watch.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for p in &watch {
        if let Some(path) = git(&["rev-parse", "--git-path", p]) {
            if std::path::Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    // Outside a git checkout, watch nothing but the environment below: without any
    // rerun-if-changed line cargo would rerun this script on every source change.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=ETCD_AUTOPSY_COMMIT");

    let commit = std::env::var("ETCD_AUTOPSY_COMMIT")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs() as i64)
        });
    let date = secs
        .map(|s| {
            let (y, m, d) = civil(s.div_euclid(86_400));
            format!("{y:04}-{m:02}-{d:02}")
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ETCD_AUTOPSY_COMMIT={commit}");
    println!("cargo:rustc-env=ETCD_AUTOPSY_BUILD_DATE={date}");
}
