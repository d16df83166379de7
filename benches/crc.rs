//! CRC-32C: `etcd_autopsy::crc::append` (carry-less folding where the CPU has VPCLMULQDQ and
//! AVX-512) against the `crc32c` crate (the `crc32` instruction), at the sizes the snapshot
//! hashes see: keys of tens of bytes, values of a few KiB (3.6 KiB in the bench data), pages.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let data: Vec<u8> = (0..1usize << 20).map(|i| (i * 131 % 251) as u8).collect();
    let mut g = c.benchmark_group(format!("crc32c-folds-{}", etcd_autopsy::crc::folds()));
    for n in [48usize, 64, 100, 128, 192, 256, 1024, 3600, 1 << 20] {
        let d = &data[..n];
        g.throughput(Throughput::Bytes(n as u64));
        g.bench_with_input(BenchmarkId::new("crc::append", n), d, |b, d| {
            b.iter(|| etcd_autopsy::crc::append(0, black_box(d)))
        });
        g.bench_with_input(BenchmarkId::new("crc32c crate", n), d, |b, d| {
            b.iter(|| crc32c::crc32c_append(0, black_box(d)))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(1)).warm_up_time(std::time::Duration::from_millis(300));
    targets = bench
}
criterion_main!(benches);
