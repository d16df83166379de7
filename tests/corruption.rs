//! Deterministic corruption matrix on a small real-etcd snapshot: every byte of both meta pages
//! flipped, 1,000 random single-byte flips elsewhere and 100 truncations (fixed seed). The readers
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
    for _ in 0..1000 {
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
        for cmd in [&["status"][..], &["check"], &["ls"], &["stats"]] {
            let mut args = cmd.to_vec();
            args.push(f.to_str().unwrap());
            let o = run(&args);
            let c = code(&o);
            assert!(
                matches!(c, 0 | 1 | 2),
                "{args:?} exited {c}: {}",
                stderr(&o)
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
