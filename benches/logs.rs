//! Classifier throughput on generated kube-apiserver klog text (MB/s), in memory, no I/O:
//!
//! - `scan_bytes/klog_0.1pct`: the whole `logs` pipeline on 64 MiB shaped like
//!   scripts/gen-klog.py's output (httplog, trace, watch, grpc lines; a cacher/reflector error
//!   pair about every 1,600 lines, ~0.1%).
//! - `scan_bytes/klog_10pct`: the same with one line in ten an error, to price record rebuilding
//!   and classification.
//! - `prefilter/block`: the literal prefilter alone on 1 MiB of the same text.
//!
//! Run with `cargo bench --bench logs`. The whole command against ripgrep is scripts/bench-logs.sh (and scripts/bench.sh).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use etcd_autopsy::logs::{self, prefilter::Prefilter, ScanOptions};
use std::fmt::Write;
use std::hint::black_box;

/// Deterministic xorshift, so every run scans the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const NS: [&str; 5] = [
    "kube-system",
    "openshift-monitoring",
    "default",
    "payments",
    "ingress",
];
const RES: [&str; 6] = [
    "pods",
    "secrets",
    "configmaps",
    "endpoints",
    "leases",
    "nodes",
];

fn klog(bytes: usize, error_every: u64) -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut s = String::with_capacity(bytes + 4096);
    let mut us: u64 = 0;
    let mut n: u64 = 0;
    while s.len() < bytes {
        us += 50 + rng.below(1150);
        n += 1;
        let (h, m, sec, frac) = (
            20 + us / 3_600_000_000 % 4,
            us / 60_000_000 % 60,
            us / 1_000_000 % 60,
            us % 1_000_000,
        );
        let hdr = |s: &mut String, l: char, src: &str| {
            let _ = write!(
                s,
                "{l}1116 {h:02}:{m:02}:{sec:02}.{frac:06}       1 {src}] "
            );
        };
        let ns = NS[rng.below(5) as usize];
        let res = RES[rng.below(6) as usize];
        if n.is_multiple_of(error_every) {
            hdr(&mut s, 'W', "reflector.go:424");
            s.push_str("storage/cacher.go:/secrets: failed to list *core.Secret: unable to transform key \"/registry/secrets/cee-dnceed21/alert-logger-sa-token-dzhkb\": invalid padding on input\n");
            continue;
        }
        match rng.below(100) {
            0..=61 => {
                hdr(&mut s, 'I', "httplog.go:94");
                let _ = writeln!(
                    s,
                    "\"HTTP\" verb=\"GET\" URI=\"/api/v1/namespaces/{ns}/{res}/x-{:05x}\" latency=\"{}.{:06}ms\" userAgent=\"kubelet/v1.21.14 (linux/amd64) kubernetes/0f75679\" audit-ID=\"{:016x}-{:04x}\" srcIP=\"10.0.{}.{}:{}\" resp=200",
                    rng.below(1 << 20), rng.below(40), rng.below(1_000_000), rng.next(), rng.below(1 << 16), rng.below(10), rng.below(250), 30000 + rng.below(30000)
                );
            }
            62..=69 => {
                let id = rng.below(1_000_000_000);
                hdr(&mut s, 'I', "trace.go:205");
                let _ = writeln!(s, "Trace[{id}]: \"List etcd3\" key:/{res}/{ns},resourceVersion:,resourceVersionMatch:,limit:500,continue: (total time: 612ms):\nTrace[{id}]: [612ms] [612ms] END");
            }
            70..=77 => {
                hdr(&mut s, 'I', "get.go:260");
                let _ = writeln!(s, "\"Starting watch\" path=\"/api/v1/namespaces/{ns}/{res}\" resourceVersion=\"{}\" labels=\"\" fields=\"\" timeout=\"8m1s\"", rng.below(100_000_000));
            }
            78..=84 => {
                hdr(&mut s, 'I', "clientconn.go:948");
                s.push_str("ClientConn switching balancer to \"pick_first\"\n");
            }
            85..=89 => {
                hdr(&mut s, 'W', "watcher.go:220");
                s.push_str(
                    "watch chan error: etcdserver: mvcc: required revision has been compacted\n",
                );
            }
            _ => {
                hdr(&mut s, 'I', "controller.go:611");
                let _ = writeln!(s, "quota admission added evaluator for: {res}");
            }
        }
    }
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let opts = ScanOptions::default();
    let mut g = c.benchmark_group("scan_bytes");
    g.sample_size(10);
    for (name, every) in [("klog_0.1pct", 1600u64), ("klog_10pct", 10)] {
        let data = klog(64 << 20, every);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &data, |b, d| {
            b.iter(|| {
                black_box(logs::scan_bytes("bench.log", "m1", d, &opts))
                    .events
                    .len()
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("prefilter");
    let data = klog(1 << 20, 1600);
    let pf = Prefilter::new();
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("block", |b| b.iter(|| black_box(pf.scan_block(&data)).1));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
