//! `demo`: `report` on an incident dataset built into the binary — three masters, one with a
//! different `key1` (docs: ../shared/reference/incidents.md §1), made by a real etcd 3.4 and an
//! independent Python implementation of the aescbc provider (testdata/README.md). Nothing is
//! written to disk.

use super::progress::Progress;
use super::report::{assemble, input_of, OutputArgs};
use super::{CmdResult, Error, Outcome};
use crate::bbolt::Data;
use crate::etcd::Snapshot;
use crate::keyring::{config, KeyringBuilder, Origin};
use crate::logs::{self, ScanOptions};

const SNAPSHOT: &[u8] = include_bytes!("../../testdata/incident/snapshot.db");
const CONFIGS: [(&str, &str, &[u8]); 3] = [
    (
        "master-1",
        "master-1.yaml",
        include_bytes!("../../testdata/incident/master-1.yaml"),
    ),
    (
        "master-2",
        "master-2.yaml",
        include_bytes!("../../testdata/incident/master-2.yaml"),
    ),
    (
        "master-3",
        "master-3.yaml",
        include_bytes!("../../testdata/incident/master-3.yaml"),
    ),
];
const LOGS: [(&str, &str, &[u8]); 3] = [
    (
        "master-1",
        "master-1.log",
        include_bytes!("../../testdata/incident/master-1.log"),
    ),
    (
        "master-2",
        "master-2.log",
        include_bytes!("../../testdata/incident/master-2.log"),
    ),
    (
        "master-3",
        "master-3.log",
        include_bytes!("../../testdata/incident/master-3.log"),
    ),
];
/// The incident's logs are klog without a year; it happened in November 2021.
const LOG_YEAR: i32 = 2021;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub out: OutputArgs,
}

fn builtin(name: &str) -> String {
    format!("builtin:testdata/incident/{name}")
}

pub fn run(args: &Args) -> CmdResult {
    let format = args.out.format("demo")?;
    // The demo's inputs are built in; only the output is checked.
    let sink = args.out.open(&super::outfile::Guard::new())?;
    let progress = Progress::new(args.out.quiet);
    let snap = Snapshot::from_data(&builtin("snapshot.db"), Data::Static(SNAPSHOT))
        .map_err(|e| Error::new(e.to_string()))?;
    let mut b = KeyringBuilder::new();
    let mut inputs = Vec::new();
    for (node, file, bytes) in CONFIGS {
        let path = builtin(file);
        let cfg = config::parse(bytes, &path).map_err(|e| Error::new(e.to_string()))?;
        b.add_config(node, Origin::EncryptionConfig { path: path.clone() }, cfg)
            .map_err(|e| Error::new(e.to_string()))?;
        inputs.push(input_of(&path, "encryption-config", Some(node), bytes));
    }
    let keyring = b.build();
    let named: Vec<(&str, String, &[u8])> =
        LOGS.iter().map(|(n, f, b)| (*n, builtin(f), *b)).collect();
    let refs: Vec<(&str, &str, &[u8])> =
        named.iter().map(|(n, f, b)| (*n, f.as_str(), *b)).collect();
    let scan = progress.stage("scanning logs", || {
        logs::scan_memory(
            &refs,
            &ScanOptions {
                year: Some(LOG_YEAR),
                ..ScanOptions::default()
            },
        )
    });
    for (node, path, bytes) in &refs {
        inputs.push(input_of(path, "log", Some(node), bytes));
    }
    let a = assemble(
        &snap,
        &keyring,
        Some(&scan),
        inputs,
        args.out.created(),
        false,
        &progress,
    );
    args.out.write(&a.report, format, sink)?;
    Ok(if a.problems() {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
