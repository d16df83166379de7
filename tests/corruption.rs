//! Deterministic corruption matrix on a small real-etcd snapshot: every byte of both meta pages
//! flipped, 2,000 random single-byte flips elsewhere and 200 truncations (fixed seed), zeroed
//! pages, a branch pointing at itself or at an ancestor, an overflow running past the end of the
//! file, and element positions outside their page. The readers
//! behind `status`, `check` and `ls` must never panic and must finish; a sample also runs through
//! the binary, which must exit 0, 1 or 2 — never 101 — within a time limit.

mod common;
use common::*;
use etcd_autopsy::bbolt::Data;
use etcd_autopsy::etcd::integrity::Integrity;
use etcd_autopsy::etcd::records::Records;
use etcd_autopsy::etcd::{status, Snapshot};
use etcd_autopsy::kube::ObjectInfo;

fn base() -> Vec<u8> {
    std::fs::read(testdata("snapshots/basic.db")).expect("testdata/snapshots/basic.db")
}

/// xorshift64*: a fixed, dependency-free sequence so every run tests the same variants.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Everything the snapshot commands do with a file, in-process. Returns whether it opened and
/// whether the check found it healthy.
fn exercise(bytes: Vec<u8>) -> Option<bool> {
    let snap = Snapshot::from_data("variant.db", Data::Owned(bytes)).ok()?;
    let check = Integrity::run(&snap);
    let _ = status::compute(&snap);
    let records = Records::read(&snap);
    for r in records.live().chain(records.history()) {
        let _ = ObjectInfo::describe(r.kv.key, r.kv.value);
    }
    Some(check.ok)
}

#[test]
fn every_meta_byte_flipped() {
    let orig = base();
    let page_size = 4096;
    use rayon::prelude::*;
    let opened: usize = (0..2 * page_size)
        .into_par_iter()
        .map(|off| {
            let mut b = orig.clone();
            b[off] ^= 0xff;
            let ok = exercise(b).map(|ok| {
                // Any change invalidates the trailer, so no variant may pass as healthy.
                assert!(!ok, "flip at meta byte {off} not detected");
            });
            ok.is_some() as usize
        })
        .sum();
    // One meta damaged leaves the other: every variant must still open.
    assert_eq!(opened, 2 * page_size);
}

#[test]
fn both_metas_damaged_is_unreadable() {
    let mut b = base();
    b[16] ^= 0xff;
    b[4096 + 16] ^= 0xff;
    assert!(exercise(b).is_none());
}

#[test]
fn random_single_byte_flips() {
    let orig = base();
    let mut rng = Rng(0x5eed_0001);
    for _ in 0..2000 {
        let mut b = orig.clone();
        let off = 8192 + (rng.next() as usize) % (orig.len() - 8192);
        b[off] ^= 1 + (rng.next() % 255) as u8;
        if let Some(ok) = exercise(b) {
            assert!(!ok, "flip at {off} not detected (trailer must catch it)");
        }
    }
}

#[test]
fn truncations() {
    let orig = base();
    let mut rng = Rng(0x5eed_0002);
    for i in 0..100 {
        let len = if i < 10 {
            i * 700
        } else {
            (rng.next() as usize) % orig.len()
        };
        let _ = exercise(orig[..len].to_vec());
    }
}

#[test]
fn damaged_pages_are_named() {
    // A leaf/branch page overwritten with zeros: its header no longer carries its id.
    let orig = base();
    let snap = Snapshot::from_data("x", Data::Owned(orig.clone())).unwrap();
    let root = snap.db().meta().root as usize;
    let mut b = orig.clone();
    b[root * 4096..(root + 1) * 4096].fill(0);
    let snap = Snapshot::from_data("x", Data::Owned(b)).unwrap();
    let c = Integrity::run(&snap);
    assert!(
        c.problems
            .iter()
            .any(|p| p.contains(&format!("page {root}"))),
        "{:?}",
        c.problems
    );
}

#[test]
fn binary_never_panics_on_a_sample() {
    let orig = base();
    let dir = std::env::temp_dir().join(format!("autopsy-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(0x5eed_0003);
    for i in 0..24 {
        let mut b = orig.clone();
        match i % 3 {
            0 => b.truncate((rng.next() as usize) % orig.len()),
            1 => {
                let off = (rng.next() as usize) % orig.len();
                b[off] ^= 0x5a;
            }
            _ => {
                let page = 2 + (rng.next() as usize) % (orig.len() / 4096 - 2);
                b[page * 4096..page * 4096 + 4096].fill(0xff);
            }
        }
        let f = dir.join(format!("v{i}.db"));
        std::fs::write(&f, &b).unwrap();
        for cmd in [
            &["status"][..],
            &["check"],
            &["ls"],
            &["stats"],
            &["audit"],
            &["report", "--snapshot"],
        ] {
            let mut args = cmd.to_vec();
            args.push(f.to_str().unwrap());
            let o = run(&args);
            let c = code(&o);
            assert!(matches!(c, 0..=2), "{args:?} exited {c}: {}", stderr(&o));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Page ids of `basic.db` with the given page flags (0x01 branch, 0x02 leaf), found by reading
/// the page headers directly.
fn pages_with_flags(b: &[u8], flags: u16) -> Vec<usize> {
    (2..b.len() / 4096)
        .filter(|&p| {
            let h = &b[p * 4096..];
            u64::from_le_bytes(h[0..8].try_into().unwrap()) == p as u64
                && u16::from_le_bytes([h[8], h[9]]) == flags
        })
        .collect()
}

fn problems_of(bytes: Vec<u8>) -> Vec<String> {
    let snap = Snapshot::from_data("x", Data::Owned(bytes)).expect("still opens");
    let c = Integrity::run(&snap);
    assert!(!c.ok);
    c.problems
}

#[test]
fn branch_pointing_at_itself_or_an_ancestor_is_a_named_cycle() {
    let orig = base();
    let branches = pages_with_flags(&orig, 0x01);
    assert!(branches.len() >= 2, "basic.db has branch pages");
    let snap = Snapshot::from_data("x", Data::Owned(orig.clone())).unwrap();
    let root = snap.db().meta().root as usize;
    for (target, what) in [(None, "itself"), (Some(root), "an ancestor (the root)")] {
        let mut cycles = 0;
        for &b in &branches {
            let mut v = orig.clone();
            // Branch element 0: pos u32, ksize u32, child pgid u64 at page+16+8.
            let child = target.unwrap_or(b) as u64;
            v[b * 4096 + 24..b * 4096 + 32].copy_from_slice(&child.to_le_bytes());
            let p = problems_of(v);
            if p.iter()
                .any(|p| p.contains(&format!("page {child}")) && p.contains("multiple references"))
            {
                cycles += 1;
            } else {
                // Free space is not zeroed: a stale branch page outside the tree changes nothing
                // but the trailer.
                assert!(
                    p.len() == 1 && p[0].contains("trailer"),
                    "branch {b} pointing at {what}: {p:?}"
                );
            }
        }
        assert!(
            cycles >= 1,
            "no reachable branch page pointing at {what} was reported"
        );
    }
}

#[test]
fn overflow_past_the_end_of_the_file_is_named() {
    let orig = base();
    let leaves = pages_with_flags(&orig, 0x02);
    for &l in leaves.iter().take(20) {
        let mut v = orig.clone();
        v[l * 4096 + 12..l * 4096 + 16].copy_from_slice(&u32::MAX.to_le_bytes());
        let p = problems_of(v);
        assert!(
            p.iter()
                .any(|p| p.contains(&format!("page {l}")) && p.contains("out of bounds")),
            "leaf {l}: {p:?}"
        );
    }
}

#[test]
fn element_positions_outside_the_page_are_named() {
    let orig = base();
    let leaves = pages_with_flags(&orig, 0x02);
    for &l in leaves.iter().take(20) {
        let mut v = orig.clone();
        // Leaf element 0: flags u32, pos u32 at page+16+4.
        v[l * 4096 + 20..l * 4096 + 24].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
        let p = problems_of(v);
        assert!(
            p.iter()
                .any(|p| p.contains(&format!("page {l}")) && p.contains("element 0")),
            "leaf {l}: {p:?}"
        );
    }
}

#[test]
fn zeroed_pages_are_named() {
    let orig = base();
    for page in [2usize, 5, 17, 40, 90, 150] {
        if (page + 1) * 4096 > orig.len() {
            continue;
        }
        let mut v = orig.clone();
        v[page * 4096..(page + 1) * 4096].fill(0);
        // A zeroed page reached from the tree is named; an unreachable (free) one only breaks the
        // trailer. Either way the file is not healthy and nothing panics.
        let p = problems_of(v);
        assert!(!p.is_empty());
    }
}

#[test]
fn damaged_snapshot_through_audit_and_report() {
    let mut v = std::fs::read(testdata("encrypted/multi.db")).unwrap();
    let leaves = pages_with_flags(&v, 0x02);
    let l = leaves[leaves.len() / 2];
    v[l * 4096 + 20..l * 4096 + 24].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    let dir = std::env::temp_dir().join(format!("autopsy-damaged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("multi-damaged.db");
    std::fs::write(&f, &v).unwrap();
    let cfg = testdata("encrypted/cp-1.yaml");
    let (f, cfg) = (f.to_str().unwrap(), cfg.to_str().unwrap());
    let o = run(&["audit", f, "--encryption-config", cfg]);
    assert!(matches!(code(&o), 1 | 2), "audit exited {}", code(&o));
    let o = run(&[
        "report",
        "--snapshot",
        f,
        "--encryption-config",
        cfg,
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["verdict"]["status"], "damaged");
    let problems = r["snapshot"]["integrity"]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains(&format!("page {l}"))),
        "{problems:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
