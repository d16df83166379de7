//! `report`: the main job. Snapshot + key sources + logs → findings with evidence and remedies, in
//! text, Markdown, JSON or HTML. Also the assembly `demo` and `validate` share.

use super::logs::LogSourceArgs;
use super::progress::Progress;
use super::sources::KeySourceArgs;
use super::{CmdResult, Error, Outcome};
use crate::etcd::trailer::{hex, sha256};
use crate::etcd::Snapshot;
use crate::keyring::Keyring;
use crate::logs::LogScan;
use crate::report::model::{Input, Report, Restorability, Verdict};
use crate::report::{build, render, ReportFormat};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot file (`etcdctl snapshot save` output or a data dir's member/snap/db).
    #[arg(long)]
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub keys: KeySourceArgs,
    #[command(flatten)]
    pub logs: LogSourceArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Do not report a missing SHA-256 trailer (the snapshot is a data-dir copy).
    #[arg(long)]
    pub allow_missing_trailer: bool,
}

/// Output options shared by `report` and `demo`.
#[derive(clap::Args)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Use this creation time (RFC 3339, e.g. 2026-01-01T00:00:00Z) for reproducible output.
    #[arg(long, value_name = "TIME")]
    pub fixed_time: Option<String>,
    /// No progress bars on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `--format` of `report` and `demo` (the library's [`ReportFormat`] knows no clap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Text,
    Md,
    Json,
    Html,
}

impl From<FormatArg> for ReportFormat {
    fn from(f: FormatArg) -> ReportFormat {
        match f {
            FormatArg::Text => ReportFormat::Text,
            FormatArg::Md => ReportFormat::Md,
            FormatArg::Json => ReportFormat::Json,
            FormatArg::Html => ReportFormat::Html,
        }
    }
}

impl OutputArgs {
    pub fn created(&self) -> String {
        self.fixed_time.clone().unwrap_or_else(now_utc)
    }

    /// Renders to the chosen destination, streaming through a buffer (a report on a multi-GiB
    /// snapshot can list hundreds of thousands of keys); colour only for text on a terminal
    /// without NO_COLOR.
    pub fn write(&self, report: &Report) -> Result<(), Error> {
        let color = self.output.is_none()
            && self.format == FormatArg::Text
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        match &self.output {
            Some(path) => {
                let err = |e: std::io::Error| Error::new(format!("{}: {e}", path.display()));
                let f = std::fs::File::create(path).map_err(err)?;
                let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
                render(report, self.format.into(), color, &mut w).map_err(err)?;
                w.flush().map_err(err)?;
            }
            None => {
                let mut w = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
                render(report, self.format.into(), color, &mut w)?;
                w.flush()?;
            }
        }
        Ok(())
    }
}

/// The current time, RFC 3339 UTC.
pub fn now_utc() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    let s = crate::logs::time::format_utc(micros - micros % 1_000_000);
    // format_utc prints microseconds; a report's creation time needs seconds.
    match s.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => s,
    }
}

/// One input for the chain of custody.
pub fn input_of(path: &str, role: &str, node: Option<&str>, bytes: &[u8]) -> Input {
    Input {
        path: path.to_string(),
        role: role.to_string(),
        node: node.map(str::to_string),
        size: bytes.len() as u64,
        sha256: hex(&sha256(bytes)),
    }
}

/// A chain-of-custody entry for a file named on the command line: read once more, read-only, in
/// 1 MiB steps so a multi-GB log costs no memory.
pub fn file_input(path: &str, role: &str, node: Option<&str>) -> Result<Input, Error> {
    use sha2::Digest;
    use std::io::Read;
    let err = |e: std::io::Error| Error::new(format!("{path}: {e}"));
    let mut f = std::fs::File::open(path).map_err(err)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok(Input {
        path: path.to_string(),
        role: role.to_string(),
        node: node.map(str::to_string),
        size,
        sha256: hex(&h.finalize()),
    })
}

/// Everything `report`, `demo` and `validate` compute before rendering.
pub struct Assembly {
    pub report: Report,
    /// `validate`'s answer, a function of the diagnosis.
    pub restorability: Restorability,
}

impl Assembly {
    /// Anything but verdict ok is exit 1.
    pub fn problems(&self) -> bool {
        self.report.verdict.status != Verdict::Ok
    }
}

/// Runs the whole pipeline ([`build::analyse`] → [`build::Analysis::into_report`]) on an
/// opened snapshot, a keyring and (optionally) scanned logs.
pub fn assemble(
    snap: &Snapshot,
    keyring: &Keyring,
    logs: Option<&LogScan>,
    inputs: Vec<Input>,
    created: String,
    allow_missing_trailer: bool,
    progress: &Progress,
) -> Assembly {
    let analysis = build::analyse(
        snap,
        keyring,
        logs,
        &build::Options {
            allow_missing_trailer,
        },
        progress,
    );
    let restorability = analysis.diagnosis.restorability();
    Assembly {
        report: analysis.into_report(inputs, created),
        restorability,
    }
}

/// Chain-of-custody entries for the key sources and logs given on the command line.
pub fn source_inputs(keys: &KeySourceArgs, logs: Option<&LogScan>) -> Result<Vec<Input>, Error> {
    let mut out = Vec::new();
    // The same [NODE=]PATH parsing the keyring used when it loaded these sources.
    let spec = |s: &str, flag: &str| {
        crate::keyring::node_spec(s, flag).map_err(|e| Error::new(e.to_string()))
    };
    for s in &keys.encryption_config {
        let s = spec(s, "--encryption-config")?;
        out.push(file_input(&s.display, "encryption-config", Some(&s.node))?);
    }
    for s in &keys.static_resources {
        let s = spec(s, "--static-resources")?;
        out.push(file_input(&s.display, "static-resources", Some(&s.node))?);
    }
    for (i, _) in keys.candidate_key.iter().enumerate() {
        // The argument holds key bytes: record that it was given, never what it was.
        out.push(Input {
            path: format!("--key #{}", i + 1),
            role: "key-argument".into(),
            node: None,
            size: 0,
            sha256: String::new(),
        });
    }
    if let Some(scan) = logs {
        for f in &scan.files {
            if f.file == "-" {
                out.push(Input {
                    path: "-".into(),
                    role: "log".into(),
                    node: Some(f.node.clone()),
                    size: f.bytes,
                    sha256: String::new(),
                });
            } else {
                out.push(file_input(&f.file, "log", Some(&f.node))?);
            }
        }
    }
    Ok(out)
}

pub fn run(args: &Args) -> CmdResult {
    let progress = Progress::new(args.out.quiet);
    let snap = super::common::open_snapshot(&args.snapshot)?;
    let keyring = args.keys.load()?;
    // Scanning the logs and hashing every input for the chain of custody (a log can be GBs)
    // overlap the snapshot work; only the correlation waits for the logs.
    let (analysis, side) = build::analyse_beside(
        &snap,
        &keyring,
        || -> Result<_, Error> {
            let logs = args.logs.scan()?;
            let inputs = source_inputs(&args.keys, logs.as_ref())?;
            Ok((logs, inputs))
        },
        |side| side.as_ref().ok().and_then(|(logs, _)| logs.as_ref()),
        &build::Options {
            allow_missing_trailer: args.allow_missing_trailer,
        },
        &progress,
    );
    let (_logs, inputs) = side?;
    let report = analysis.into_report(inputs, args.out.created());
    args.out.write(&report)?;
    Ok(if report.verdict.status != Verdict::Ok {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
