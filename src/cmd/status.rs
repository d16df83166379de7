//! `status`: what `snapshot status` prints, byte for byte, as the etcdctl/etcdutl that belongs to
//! the file would print it (3.6 when the file carries `meta/storageVersion`, else 3.4/3.5), or as
//! the one `--semantics` names. Our own numbers are in `-w extended`.
//!
//! Printers: etcdctl/ctlv3/command/printer*.go (3.4) and etcdutl/etcdutl/printer*.go (3.5, 3.6 at
//! 2d377000ff61): `json` is `json.Marshal` + newline (compact); `table` is olekukonko/tablewriter
//! v0.0.5 with upper-cased headers, right-aligned cells; `simple` joins the table row with `", "`;
//! `fields` prints `"Name" : value` lines with the hash in decimal.

use super::common::open_snapshot;
use super::outfile::{Guard, Mode};
use super::output_args::{formats, Fmt, OutputArgs};
use super::{CmdResult, Outcome};
use crate::bbolt::{FreelistState, Problem};
use crate::etcd::records::Records;
use crate::etcd::status::{self, humanize_bytes, Printed, Semantics, Status};
use crate::output::write_json;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (`etcdctl snapshot save` output or a data dir's member/snap/db).
    pub snapshot: PathBuf,
    /// `-w table|json|simple|fields` as etcdctl's/etcdutl's (also `-o`); `extended` is ours
    /// (both semantics and the raw storageVersion, pretty JSON).
    #[command(flatten)]
    pub out: OutputArgs,
    /// Whose `snapshot status` to reproduce: `auto` follows the file (etcdutl 3.6 when it
    /// carries meta/storageVersion, else etcdctl 3.4 / etcdutl 3.5).
    #[arg(long, value_enum, default_value = "auto")]
    pub semantics: SemanticsArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WriteOut {
    Table,
    Json,
    Simple,
    Fields,
    Extended,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SemanticsArg {
    Auto,
    /// etcdctl 3.4 and etcdutl 3.5 (identical output).
    #[value(name = "3.5", alias = "3.4")]
    V35,
    /// etcdutl 3.6.
    #[value(name = "3.6")]
    V36,
}

/// etcdutl's `snapshot.Status` JSON: field names and order of the Go struct; 3.4/3.5 lack
/// `version`.
#[derive(Serialize)]
struct JsonStatus<'a> {
    hash: u32,
    revision: i64,
    #[serde(rename = "totalKey")]
    total_key: u64,
    #[serde(rename = "totalSize")]
    total_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

/// `-w extended`: everything we know, under our own names.
#[derive(Serialize)]
struct Extended<'a> {
    /// The semantics the file's own etcd uses.
    native: &'static str,
    hash: u32,
    revision: i64,
    /// `totalKey` of etcdctl 3.4 / etcdutl 3.5: pairs over all buckets.
    pairs: u64,
    /// `totalKey` of etcdutl 3.6: distinct live user keys.
    #[serde(rename = "liveKeys")]
    live_keys: u64,
    #[serde(rename = "totalSize")]
    total_size: u64,
    /// The raw meta/storageVersion (lossy UTF-8), null when absent.
    #[serde(rename = "storageVersion")]
    storage_version: Option<String>,
    /// What etcdutl 3.6 prints as `version` (semver only).
    version: String,
    /// Integrity problems (bbolt 1.4 `tx.Check` rules); any makes etcdctl/etcdutl refuse.
    problems: &'a [String],
}

fn semantics_name(s: Semantics) -> &'static str {
    match s {
        Semantics::Etcd35 => "3.5",
        Semantics::Etcd36 => "3.6",
    }
}

pub fn run(args: &Args) -> CmdResult {
    let mut guard = Guard::new();
    guard.input(&args.snapshot);
    let (fmt, mut out) = args
        .out
        .prepare("status", formats("status"), &guard, Mode::Private)?;
    let write_out = match fmt {
        Fmt::Json => WriteOut::Json,
        Fmt::Simple => WriteOut::Simple,
        Fmt::Fields => WriteOut::Fields,
        Fmt::Extended => WriteOut::Extended,
        _ => WriteOut::Table,
    };
    let snap = open_snapshot(&args.snapshot)?;
    // The live-key count (3.6's totalKey, and `extended`) needs every record indexed by key;
    // 3.4/3.5 output only needs to know how many records cannot be decoded, which is cheaper.
    let needs_live = write_out == WriteOut::Extended
        || match args.semantics {
            SemanticsArg::Auto => status::read_storage_version(&snap).is_some(),
            SemanticsArg::V35 => false,
            SemanticsArg::V36 => true,
        };
    // etcdctl/etcdutl run tx.Check() before computing status and refuse a damaged file; we print
    // the numbers anyway and say what they would do. 3.4/3.5 output only needs to know how many
    // records cannot be decoded: one walk serves the check and the hash, which counts them while
    // it reads each leaf. The live-key count needs every record indexed by key.
    let (st, st_problems, check, live, record_problems) = if needs_live {
        let ((st, st_problems, _, check), r) = rayon::join(
            || status::compute_with_check(&snap),
            || Records::read(&snap),
        );
        let bad = r.record_problems.len() as u64 + r.record_problems_omitted;
        (st, st_problems, check, r.live_count() as u64, bad)
    } else {
        let (st, st_problems, undecodable, check) = status::compute_with_check(&snap);
        // Not printed: 3.4/3.5 semantics count pairs, not live keys.
        (st, st_problems, check, 0, undecodable)
    };
    let semantics = match args.semantics {
        SemanticsArg::Auto => st.native_semantics(),
        SemanticsArg::V35 => Semantics::Etcd35,
        SemanticsArg::V36 => Semantics::Etcd36,
    };
    // The check walks every page the status hash walks, so its list covers the hash's; the
    // hash's own list only matters if the check found nothing (kept linear on hostile files).
    let mut problems: Vec<&Problem> = check.problems.iter().collect();
    if problems.is_empty() {
        problems.extend(st_problems.iter());
    }
    if write_out == WriteOut::Extended {
        let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        write_json(&mut out, &extended(&st, live, &lines))?;
    } else {
        out.write_all(render(&st.printed(semantics, live), write_out).as_bytes())?;
    }
    out.finish()?;
    if problems.is_empty() && record_problems == 0 {
        return Ok(Outcome::Clean);
    }
    eprintln!(
        "etcd-autopsy: {}: {}",
        snap.path.display(),
        refusal(&problems, check.freelist, record_problems)
    );
    Ok(Outcome::Problems)
}

fn extended<'a>(st: &Status, live: u64, problems: &'a [String]) -> Extended<'a> {
    Extended {
        native: semantics_name(st.native_semantics()),
        hash: st.hash,
        revision: st.revision,
        pairs: st.pairs,
        live_keys: live,
        total_size: st.total_size,
        storage_version: st
            .storage_version
            .as_deref()
            .map(|v| String::from_utf8_lossy(v).into_owned()),
        version: st.version(),
        problems,
    }
}

/// What etcdctl/etcdutl would do with a file that has these problems, in one paragraph. Both run
/// `tx.Check()` first (etcdutl/snapshot/v3_snapshot.go `Status`), which force-loads the freelist;
/// without a persisted one bbolt rebuilds it by walking the tree (db.go `freepages`) and panics on
/// the first problem that walk reports instead of returning it.
fn refusal(problems: &[&Problem], freelist: FreelistState, record_problems: u64) -> String {
    let n = problems.len();
    let old_rules = problems
        .iter()
        .filter(|p| !p.kind.since_bbolt_1_3_7())
        .count();
    let fails = |count: usize| {
        if freelist == FreelistState::Unreadable {
            // freelist.go `read`: "invalid freelist page" panic, or a count past the page that
            // faults or exhausts memory.
            "panic or run out of memory while loading the freelist (exit 2)".to_string()
        } else if freelist == FreelistState::NotPersisted {
            // The panic is raised in a goroutine that races with the caller's own tx.Check(): in
            // our runs of bbolt 1.3.9 it won about 8 times in 10.
            format!(
                "panic while rebuilding the freelist (\"freepages: failed to get all reachable \
                 pages\", exit 2) or else fail with \"Error: snapshot file integrity check \
                 failed. {count} errors found.\" (exit 1)"
            )
        } else {
            format!(
                "print no status and fail with \"Error: snapshot file integrity check failed. \
                 {count} errors found.\" (exit 1)"
            )
        }
    };
    let mut s = String::new();
    if n > 0 {
        s += &format!(
            "{n} integrity problem(s); etcdutl 3.6 and etcdutl/etcd >= 3.5.8 (bbolt >= 1.3.7) \
             would {}",
            fails(n)
        );
        s += &if old_rules == 0 {
            "; etcdctl 3.4 and etcdutl < 3.5.8 (bbolt 1.3.6, no key-range rule) would accept it \
             and print these numbers."
                .to_string()
        } else if old_rules < n {
            format!(
                "; etcdctl 3.4 and etcdutl < 3.5.8 (bbolt 1.3.6) see {old_rules} of them and would \
                 {}.",
                fails(old_rules)
            )
        } else {
            "; so would etcdctl 3.4 and etcdutl < 3.5.8.".to_string()
        };
    }
    if record_problems > 0 {
        if !s.is_empty() {
            s += " ";
        }
        s += &format!(
            "{record_problems} record(s) of the key bucket cannot be decoded; etcdutl 3.6 would \
             fail with \"cannot unmarshal value\"."
        );
    }
    s + " Run `etcd-autopsy check` for details."
}

/// The bytes the tool of `p.semantics` prints for `-w format` (not `extended`).
pub fn render(p: &Printed, format: WriteOut) -> String {
    let size = humanize_bytes(p.total_size);
    let mut row = vec![
        format!("{:x}", p.hash),
        p.revision.to_string(),
        p.total_key.to_string(),
        size,
    ];
    let mut headers = vec!["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"];
    if let Some(v) = &p.version {
        row.push(v.clone());
        headers.push("VERSION");
    }
    match format {
        WriteOut::Json => {
            let j = JsonStatus {
                hash: p.hash,
                revision: p.revision,
                total_key: p.total_key,
                total_size: p.total_size,
                version: p.version.as_deref(),
            };
            // Serialising plain numbers and a string cannot fail.
            serde_json::to_string(&j).unwrap_or_default() + "\n"
        }
        WriteOut::Simple => row.join(", ") + "\n",
        WriteOut::Table | WriteOut::Extended => super::table::etcdctl(&headers, &[row]),
        WriteOut::Fields => {
            // fmt.Println(`"Hash" :`, r.Hash): operands separated by one space.
            let mut s = format!(
                "\"Hash\" : {}\n\"Revision\" : {}\n\"Keys\" : {}\n\"Size\" : {}\n",
                p.hash, p.revision, p.total_key, p.total_size
            );
            if let Some(v) = &p.version {
                s += &format!("\"Version\" : {v}\n");
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(version: Option<&str>) -> Printed {
        Printed {
            semantics: if version.is_some() {
                Semantics::Etcd36
            } else {
                Semantics::Etcd35
            },
            hash: 0x9d5601aa,
            revision: 478,
            total_key: 482,
            total_size: 237568,
            version: version.map(str::to_string),
        }
    }

    #[test]
    fn table_matches_etcdctl_shape() {
        let want = "+----------+----------+------------+------------+\n\
                    |   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |\n\
                    +----------+----------+------------+------------+\n\
                    | 9d5601aa |      478 |        482 |     238 kB |\n\
                    +----------+----------+------------+------------+\n";
        assert_eq!(render(&printed(None), WriteOut::Table), want);
    }

    #[test]
    fn etcdutl_36_prints_five_fields() {
        let p = printed(Some(""));
        assert_eq!(
            render(&p, WriteOut::Json),
            "{\"hash\":2639659434,\"revision\":478,\"totalKey\":482,\"totalSize\":237568,\
             \"version\":\"\"}\n"
        );
        assert_eq!(
            render(&p, WriteOut::Simple),
            "9d5601aa, 478, 482, 238 kB, \n"
        );
        assert_eq!(
            render(&p, WriteOut::Fields),
            "\"Hash\" : 2639659434\n\"Revision\" : 478\n\"Keys\" : 482\n\"Size\" : 237568\n\
             \"Version\" : \n"
        );
        let t = render(&printed(Some("3.6.0")), WriteOut::Table);
        assert_eq!(
            t.lines().nth(1),
            Some("|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE | VERSION |")
        );
        assert_eq!(
            t.lines().nth(3),
            Some("| 9d5601aa |      478 |        482 |     238 kB |   3.6.0 |")
        );
    }
}
