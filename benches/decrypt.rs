//! aescbc trial throughput: record × key trials per second on one core.
//!
//! `cargo bench --bench decrypt` (release profile). Each "element" is one record × key trial, so
//! criterion's throughput line is trials/s. Records are 1–8 KiB Secret-sized values encrypted
//! with one key; the trial keys are that key plus wrong ones, as in an audit.

use aes::cipher::{BlockEncrypt, KeyInit};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use etcd_autopsy::decrypt::aescbc::CbcCipher;
use etcd_autopsy::decrypt::Engine;
use etcd_autopsy::keyring::KeyringBuilder;
use std::hint::black_box;

const RECORDS: usize = 4096;
const KEYS: usize = 8;

fn key(i: usize) -> [u8; 32] {
    let mut k = [0u8; 32];
    for (j, b) in k.iter_mut().enumerate() {
        *b = (i * 31 + j * 7) as u8;
    }
    k
}

/// IV + AES-256-CBC(PKCS#7(plain)) with a simple xorshift for IVs and filler.
fn encrypt(k: &[u8; 32], plain: &[u8], seed: u64) -> Vec<u8> {
    let enc = aes::Aes256Enc::new_from_slice(k).unwrap();
    let mut x = seed | 1;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u8
    };
    let mut iv = [0u8; 16];
    iv.iter_mut().for_each(|b| *b = rnd());
    let pad = 16 - plain.len() % 16;
    let mut p = plain.to_vec();
    p.extend(std::iter::repeat_n(pad as u8, pad));
    let mut out = iv.to_vec();
    let mut prev = iv;
    for chunk in p.chunks(16) {
        let mut b = aes::Block::clone_from_slice(chunk);
        b.iter_mut().zip(prev.iter()).for_each(|(a, p)| *a ^= p);
        enc.encrypt_block(&mut b);
        prev.copy_from_slice(&b);
        out.extend_from_slice(&b);
    }
    out
}

fn records() -> Vec<Vec<u8>> {
    (0..RECORDS)
        .map(|i| {
            let mut plain = b"k8s\x00\x0a\x0c\x0a\x02v1\x12\x06Secret\x12".to_vec();
            plain.resize(1024 + (i % 8) * 1000, b'x');
            let mut v = b"k8s:enc:aescbc:v1:key1:".to_vec();
            v.extend(encrypt(&key(0), &plain, i as u64 + 1));
            v
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let recs = records();
    let payloads: Vec<&[u8]> = recs.iter().map(|v| &v[23..]).collect();
    let ciphers: Vec<CbcCipher> = (0..KEYS)
        .map(|i| CbcCipher::new(&key(i)).unwrap())
        .collect();

    let mut g = c.benchmark_group("aescbc");
    g.throughput(Throughput::Elements((RECORDS * KEYS) as u64));
    g.bench_function("trial (one record at a time)", |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for c in &ciphers {
                for p in &payloads {
                    ok += matches!(
                        c.trial(black_box(p)),
                        etcd_autopsy::decrypt::aescbc::CbcTrial::Plausible
                    ) as usize;
                }
            }
            assert_eq!(ok, RECORDS);
        })
    });
    g.bench_function("trial_batch (4 records per AES call)", |b| {
        let mut out = vec![etcd_autopsy::decrypt::aescbc::CbcTrial::Garbage; RECORDS];
        b.iter(|| {
            let mut ok = 0usize;
            for c in &ciphers {
                c.trial_batch(black_box(&payloads), &mut out);
                ok += out
                    .iter()
                    .filter(|t| matches!(t, etcd_autopsy::decrypt::aescbc::CbcTrial::Plausible))
                    .count();
            }
            assert_eq!(ok, RECORDS);
        })
    });
    g.finish();

    // The whole engine: 8 nodes (one per key), every record judged by every node plus
    // decrypts_with over the 8 candidate keys.
    let mut kb = KeyringBuilder::new();
    for i in 0..KEYS {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(key(i));
        let text = format!(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc: {{keys: [{{name: key1, secret: '{b64}'}}]}}\n  - identity: {{}}\n"
        );
        let cfg = etcd_autopsy::keyring::config::parse(text.as_bytes(), "bench").unwrap();
        kb.add_config(
            &format!("node-{i}"),
            etcd_autopsy::keyring::Origin::EncryptionConfig {
                path: "bench".into(),
            },
            cfg,
        )
        .unwrap();
    }
    let keyring = kb.build();
    let engine = Engine::new(&keyring);
    let keys: Vec<Vec<u8>> = (0..RECORDS)
        .map(|i| format!("/registry/secrets/ns/s{i}").into_bytes())
        .collect();
    let pairs: Vec<(&[u8], &[u8])> = keys
        .iter()
        .zip(&recs)
        .map(|(k, v)| (k.as_slice(), v.as_slice()))
        .collect();
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements((RECORDS * KEYS) as u64));
    g.bench_function("assess_batch, 8 nodes x 8 keys", |b| {
        b.iter(|| {
            let mut readable = 0usize;
            for chunk in pairs.chunks(64) {
                for v in engine.assess_batch(black_box(chunk)) {
                    readable += v.nodes.iter().filter(|n| n.is_readable()).count();
                }
            }
            assert_eq!(readable, RECORDS);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
