//! A restore plan's words: command lines as a shell takes them and warnings in sentences, the
//! only place they are chosen (`restore-plan` prints them, the report carries them).

use crate::etcd::restore::{RestorePlan, Warning};

/// One command line, `\`-continued before each flag so it fits a terminal.
pub fn command_line(argv: &[String], env: &str) -> String {
    let mut s = String::from(env);
    for (i, a) in argv.iter().enumerate() {
        if a.starts_with("--") && i > 0 {
            s.push_str(" \\\n      ");
        } else if i > 0 {
            s.push(' ');
        }
        s.push_str(&super::remedy::quote(a));
    }
    s
}

/// Why the bump has its size, in words.
pub fn bump_reason(p: &RestorePlan) -> String {
    format!(
        "it must exceed the revisions written after this snapshot, which the file cannot tell; this snapshot is at revision {} after the cluster's whole life, so ten times that (rounded up to a power of ten, at least 10^9) leaves room for nine more lifetimes at the same rate",
        p.bump.from_revision
    )
}

/// A warning in words: the only place they are chosen.
pub fn warning_text(w: &Warning) -> String {
    match w {
        Warning::NoTrailer => "no SHA-256 trailer (a copy of member/snap/db?): restore needs --skip-hash-check, and nothing then proves this is the file that was saved".into(),
        Warning::TrailerMismatch => "the SHA-256 trailer does not match: the file changed after it was saved; restore refuses it. Do not add --skip-hash-check: find an intact copy".into(),
        Warning::SizeMismatch => "the trailer matches but the length does not fit the high-water mark: bytes were added or lost".into(),
        Warning::CompactionUnfinished { scheduled, finished } => format!(
            "compaction scheduled at {scheduled} never finished (finished: {finished}): the restored member finishes it when it starts, so revisions up to {scheduled} are gone"
        ),
        Warning::AlarmsSet { alarms } => format!(
            "alarms stored in the file come back with the restored member: {}; writes stay refused until `etcdctl alarm disarm` (free space first)",
            alarms
                .iter()
                .map(|a| format!("{} (member {})", a.alarm, a.member_id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Warning::NoBumpIn34 => "etcd 3.4's restore has no --bump-revision/--mark-compacted: the member comes back at the snapshot's revision, below what clients (kube-apiserver watch caches, informers) saw before the loss; restart every kube-apiserver and client so they relist, or restore with etcdutl 3.5.10+".into(),
        Warning::NoMembers => "the file names no members: fill in the <placeholders>".into(),
        Warning::RecordsIncomplete => "part of the key bucket could not be read: the revision above may be too low; run `check`".into(),
    }
}
