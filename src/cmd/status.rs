//! `status`: what `etcdctl snapshot status` prints, plus the live-key count.

use super::common::open_snapshot;
use super::{CmdResult, Outcome};
use crate::etcd::records::Records;
use crate::etcd::status::{self, humanize_bytes, Status};
use crate::output::write_json;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (`etcdctl snapshot save` output or a data dir's member/snap/db).
    pub snapshot: PathBuf,
    /// Output format, as etcdctl's `-w`.
    #[arg(short = 'w', long = "write-out", value_enum, default_value = "table")]
    pub write_out: WriteOut,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WriteOut {
    Table,
    Json,
    Simple,
}

/// etcdctl's JSON fields first (same names, same order), then ours.
#[derive(Serialize)]
struct JsonStatus<'a> {
    #[serde(flatten)]
    status: &'a Status,
    /// Distinct live keys: what etcd 3.6 reports as totalKey (etcd#19253).
    #[serde(rename = "liveKeys")]
    live_keys: usize,
}

pub fn run(args: &Args) -> CmdResult {
    let snap = open_snapshot(&args.snapshot)?;
    // etcdctl runs tx.Check() before computing status and refuses a damaged file; we compute the
    // numbers anyway and say the file is damaged. The check runs beside the hashing.
    let ((st, st_problems), (check, records)) = rayon::join(
        || status::compute(&snap),
        || (snap.check_structure(), Records::read(&snap)),
    );
    let live = records.live_count();
    let mut out = std::io::stdout().lock();
    match args.write_out {
        WriteOut::Json => write_json(
            &mut out,
            &JsonStatus {
                status: &st,
                live_keys: live,
            },
        )?,
        WriteOut::Simple => writeln!(
            out,
            "{:x}, {}, {}, {}, {}, {}",
            st.hash,
            st.revision,
            st.total_key,
            humanize_bytes(st.total_size),
            st.version,
            live
        )?,
        WriteOut::Table => {
            let headers = [
                "HASH",
                "REVISION",
                "TOTAL KEYS",
                "TOTAL SIZE",
                "VERSION",
                "LIVE KEYS",
            ];
            let row = [
                format!("{:x}", st.hash),
                st.revision.to_string(),
                st.total_key.to_string(),
                humanize_bytes(st.total_size),
                st.version.clone(),
                live.to_string(),
            ];
            write!(out, "{}", table(&headers, &row))?;
        }
    }
    let problems = check.problems.len() + st_problems.len();
    if problems > 0 {
        eprintln!(
            "etcd-autopsy: {}: {problems} integrity problem(s); etcdctl would refuse this file \
             (\"snapshot file integrity check failed\"). Run `etcd-autopsy check` for details.",
            snap.path.display()
        );
        return Ok(Outcome::Problems);
    }
    Ok(Outcome::Clean)
}

/// A one-row table drawn as etcdctl's tablewriter does: headers centred, cells right-aligned.
fn table(headers: &[&str], row: &[String]) -> String {
    // Cells come from the file (storageVersion): escaped and cut like every table cell.
    let row: Vec<String> = row
        .iter()
        .map(|c| crate::sanitize::cell(c).into_owned())
        .collect();
    let widths: Vec<usize> = headers
        .iter()
        .zip(&row)
        .map(|(h, c)| h.len().max(c.chars().count()))
        .collect();
    let rule: String = widths
        .iter()
        .map(|w| format!("+{}", "-".repeat(w + 2)))
        .collect::<String>()
        + "+\n";
    let mut s = rule.clone();
    for (h, w) in headers.iter().zip(&widths) {
        let pad = w - h.len();
        s += &format!(
            "| {}{}{} ",
            " ".repeat(pad / 2),
            h,
            " ".repeat(pad - pad / 2)
        );
    }
    s += "|\n";
    s += &rule;
    for (c, w) in row.iter().zip(&widths) {
        // No `{c:>w$}`: its width is a u16 and a 65,536-character storageVersion panicked.
        s += &format!("| {} ", crate::sanitize::pad_left(c, *w));
    }
    s += "|\n";
    s + &rule
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_matches_etcdctl_shape() {
        let t = super::table(
            &["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"],
            &[
                "9d5601aa".into(),
                "478".into(),
                "482".into(),
                "238 kB".into(),
            ],
        );
        let want = "+----------+----------+------------+------------+\n\
                    |   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |\n\
                    +----------+----------+------------+------------+\n\
                    | 9d5601aa |      478 |        482 |     238 kB |\n\
                    +----------+----------+------------+------------+\n";
        assert_eq!(t, want);
    }
}
