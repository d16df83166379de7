//! Snapshot reading: bbolt leaf iteration and mvccpb.KeyValue decoding (records/s), the status
//! hash, the structure check and the SHA-256 trailer (bytes/s): the stages of `status`, `check`
//! and `audit` (docs/performance.md). Runs on the largest committed real-etcd snapshot by default; set
//! AUTOPSY_BENCH_SNAPSHOT to a bigger file (scripts/bench.sh builds 0.1–1.1 GiB ones).
//!
//! `cargo bench --bench snapshot`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use etcd_autopsy::etcd::records::{self, Records};
use etcd_autopsy::etcd::{status, trailer, KeyValue, Snapshot};
use std::hint::black_box;
use std::path::PathBuf;

fn snapshot_path() -> PathBuf {
    std::env::var_os("AUTOPSY_BENCH_SNAPSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/snapshots/basic.db")
        })
}

fn bench(c: &mut Criterion) {
    let snap = Snapshot::open(&snapshot_path()).expect("snapshot");
    let records = Records::read(&snap);
    let n = records.all.len() as u64;
    let (bucket, _) = snap.bucket(b"key");
    let bucket = bucket.expect("key bucket");

    let mut g = c.benchmark_group("snapshot");
    g.throughput(Throughput::Elements(n));
    g.bench_function("leaf iteration (elements)", |b| {
        b.iter(|| {
            let (leaves, _) = bucket.leaves();
            let mut count = 0usize;
            for l in &leaves {
                for e in l.view.elements().flatten() {
                    count += black_box(e.key.len()) & 1;
                }
            }
            count
        })
    });
    let values: Vec<&[u8]> = {
        let (leaves, _) = bucket.leaves();
        leaves
            .iter()
            .flat_map(|l| {
                l.view
                    .elements()
                    .flatten()
                    .map(|e| e.value)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    g.bench_function("KeyValue decode", |b| {
        b.iter(|| {
            values
                .iter()
                .filter_map(|v| KeyValue::decode(black_box(v)).ok())
                .map(|kv| kv.mod_revision)
                .sum::<i64>()
        })
    });
    g.bench_function("Records::read (parallel decode + live view)", |b| {
        b.iter(|| Records::read(black_box(&snap)).live_count())
    });
    g.bench_function("count_undecodable (status's decode check, no index)", |b| {
        b.iter(|| records::count_undecodable(black_box(&snap)))
    });
    g.throughput(Throughput::Bytes(snap.db().logical_size()));
    g.bench_function("status hash (CRC-32C, parallel)", |b| {
        b.iter(|| status::compute(black_box(&snap)).0.hash)
    });
    // The page walk with its prefetch hints (bbolt::check: three passes over every page).
    g.bench_function("structure check (page walk, key order)", |b| {
        b.iter(|| black_box(&snap).check_structure().reachable_pages)
    });
    g.throughput(Throughput::Bytes(snap.bytes().len() as u64));
    g.bench_function("SHA-256 of the file (prefetched steps)", |b| {
        b.iter(|| trailer::sha256(black_box(snap.bytes()))[0])
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
