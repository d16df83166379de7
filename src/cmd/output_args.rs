//! The one output convention every command follows.
//!
//! - `-o/--output FORMAT` chooses the format (kubectl's habit); etcdctl's `-w/--write-out` is the
//!   same flag; the old `--format` still works.
//! - `--output-file FILE` writes to a file instead of stdout (through [`super::outfile`]); the
//!   format follows the file's extension (`.json`, `.jsonl`, `.md`, `.html`, `.txt`) unless `-o`
//!   says otherwise, and a contradiction is refused.
//! - A file name where a format is expected (`-o r.html`) or a format name where a file is
//!   expected (`--output-file json`) is refused with a hint: never silently misread.
//! - `--color auto|always|never`; `auto` colours only a terminal, without `NO_COLOR` (any
//!   non-empty value) and with `TERM` other than `dumb`.

use super::outfile::{AtomicFile, Guard, Mode};
use super::Error;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Every output format some command renders; each command accepts a subset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fmt {
    Text,
    Json,
    /// JSON Lines: one object per row (`ls`, `audit`, `logs`).
    Jsonl,
    Md,
    Html,
    /// `status` only, as etcdctl's `-w table` / `-w simple`.
    Table,
    Simple,
    /// `get`: objects as YAML, `kind.group/name` lines, a wide table.
    Yaml,
    Name,
    Wide,
    /// `status` only, as etcdutl's `-w fields`.
    Fields,
    /// `status` only: our numbers beside etcdctl's (pretty JSON).
    Extended,
}

impl Fmt {
    pub fn name(self) -> &'static str {
        match self {
            Fmt::Text => "text",
            Fmt::Json => "json",
            Fmt::Jsonl => "jsonl",
            Fmt::Md => "md",
            Fmt::Html => "html",
            Fmt::Table => "table",
            Fmt::Simple => "simple",
            Fmt::Yaml => "yaml",
            Fmt::Name => "name",
            Fmt::Wide => "wide",
            Fmt::Fields => "fields",
            Fmt::Extended => "extended",
        }
    }

    /// A format name or one of its spellings.
    pub fn parse(s: &str) -> Option<Fmt> {
        Some(match s.to_ascii_lowercase().as_str() {
            "text" | "txt" => Fmt::Text,
            "json" => Fmt::Json,
            "jsonl" | "ndjson" | "json-lines" | "jsonlines" => Fmt::Jsonl,
            "md" | "markdown" => Fmt::Md,
            "html" | "htm" => Fmt::Html,
            "table" => Fmt::Table,
            "simple" => Fmt::Simple,
            "yaml" | "yml" => Fmt::Yaml,
            "name" => Fmt::Name,
            "wide" => Fmt::Wide,
            "fields" => Fmt::Fields,
            "extended" => Fmt::Extended,
            _ => return None,
        })
    }

    /// The format a file's extension stands for.
    fn of_extension(path: &std::path::Path) -> Option<Fmt> {
        let ext = path.extension()?.to_str()?;
        match ext.to_ascii_lowercase().as_str() {
            "json" => Some(Fmt::Json),
            "jsonl" | "ndjson" => Some(Fmt::Jsonl),
            "md" | "markdown" => Some(Fmt::Md),
            "html" | "htm" => Some(Fmt::Html),
            "txt" | "text" => Some(Fmt::Text),
            "yaml" | "yml" => Some(Fmt::Yaml),
            _ => None,
        }
    }
}

/// The formats each command writes; the first is its default. The one list `-o` is checked
/// against and `--help` shows.
pub fn formats(command: &str) -> &'static [Fmt] {
    match command {
        "status" => &[
            Fmt::Table,
            Fmt::Json,
            Fmt::Simple,
            Fmt::Fields,
            Fmt::Extended,
        ],
        "ls" | "audit" | "logs" => &[Fmt::Text, Fmt::Json, Fmt::Jsonl],
        "hashkv" => &[Fmt::Table, Fmt::Json, Fmt::Simple],
        "get" => &[
            Fmt::Text,
            Fmt::Json,
            Fmt::Yaml,
            Fmt::Jsonl,
            Fmt::Name,
            Fmt::Wide,
        ],
        "report" | "demo" => &[Fmt::Text, Fmt::Md, Fmt::Json, Fmt::Html],
        _ => &[Fmt::Text, Fmt::Json],
    }
}

/// Gives each subcommand's `-o` help its own list of formats.
pub fn with_format_help(mut cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let list = formats(&name);
        let help = format!(
            "Output format: {} (default {}){}; -w/--write-out (etcdctl) is the same flag",
            self::list(list),
            list[0].name(),
            if list.contains(&Fmt::Jsonl) {
                "; jsonl is JSON Lines, one row per line"
            } else {
                ""
            }
        );
        cmd = cmd.mut_subcommand(&name, |sc| {
            if sc.get_arguments().any(|a| a.get_id() == "format") {
                sc.mut_arg("format", |a| a.help(help))
            } else {
                sc
            }
        });
    }
    cmd
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    #[default]
    Auto,
    Always,
    Never,
}

/// The output flags, flattened into every command.
#[derive(clap::Args, Clone, Debug, Default)]
#[group(skip)]
pub struct OutputArgs {
    /// Output format (each command's `--help` lists its own); `-w/--write-out` (etcdctl) is the
    /// same flag.
    #[arg(
        short = 'o',
        long = "output",
        visible_short_alias = 'w',
        visible_alias = "write-out",
        value_name = "FORMAT"
    )]
    pub format: Option<String>,
    /// Old spelling of -o/--output.
    #[arg(long = "format", value_name = "FORMAT", hide = true)]
    pub legacy_format: Option<String>,
    /// Write to FILE instead of stdout (`-`: stdout); the format follows its extension (.json .jsonl .md .html
    /// .txt) unless -o is given. Never an input; an existing file only with --force.
    #[arg(long = "output-file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Replace an existing output file (never an input).
    #[arg(long)]
    pub force: bool,
    /// Colour: auto (a terminal, unless NO_COLOR is set or TERM=dumb), always, never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

fn list(allowed: &[Fmt]) -> String {
    allowed
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl OutputArgs {
    /// The format to write, from `allowed` (the first is the default), or a one-line refusal.
    pub fn format(&self, command: &str, allowed: &[Fmt]) -> Result<Fmt, Error> {
        let given = match (&self.format, &self.legacy_format) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::new(format!(
                "-o {a} and --format {b} disagree; give one (--format is the old spelling of -o)"
            )))
            }
            (Some(a), _) => Some(("-o", a.as_str())),
            (None, Some(b)) => Some(("--format", b.as_str())),
            (None, None) => None,
        };
        let named = match given {
            None => None,
            Some((flag, s)) => match Fmt::parse(s) {
                Some(f) => Some(f),
                None => {
                    let looks_like_file =
                        s.contains('/') || s.contains('.') || std::path::Path::new(s).exists();
                    return Err(Error::new(if looks_like_file {
                        format!(
                            "{flag} {s}: {flag} takes a format ({}), not a file; to write to a file use --output-file {s}",
                            list(allowed)
                        )
                    } else {
                        format!(
                            "{flag} {s}: unknown format; {command} writes {} (to write to a file use --output-file)",
                            list(allowed)
                        )
                    }));
                }
            },
        };
        let from_file = match &self.file {
            None => None,
            Some(p) if p.as_os_str() == "-" => None,
            Some(p) => {
                not_a_format_name("--output-file", p)?;
                Fmt::of_extension(p).map(|f| (f, p))
            }
        };
        let chosen = match (named, from_file) {
            (Some(n), Some((e, p))) if !same(n, e) => {
                return Err(Error::new(format!(
                    "-o {} but --output-file {} ends in .{}; give one or make them agree",
                    n.name(),
                    p.display(),
                    e.name()
                )))
            }
            (Some(n), _) => n,
            (None, Some((e, _))) => e,
            (None, None) => allowed[0],
        };
        // status calls its text format `table`.
        let chosen = if chosen == Fmt::Text && !allowed.contains(&Fmt::Text) {
            allowed[0]
        } else {
            chosen
        };
        if !allowed.contains(&chosen) {
            return Err(Error::new(format!(
                "{command} does not write {}; it writes {}",
                chosen.name(),
                list(allowed)
            )));
        }
        Ok(chosen)
    }

    /// Whether to colour text written where `self` says.
    pub fn color(&self) -> bool {
        match self.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                self.file.as_ref().is_none_or(|p| p.as_os_str() == "-")
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        }
    }

    /// The width to wrap text to: `COLUMNS` when set (so `COLUMNS=80 … | less` wraps too),
    /// else the terminal's (TIOCGWINSZ) when writing to one, else none — a pipe or a file keeps
    /// one item per line for grep and scripts.
    pub fn text_width(&self) -> Option<usize> {
        let to_stdout = self.file.as_ref().is_none_or(|p| p.as_os_str() == "-");
        text_width(to_stdout)
    }

    /// The format and the opened destination, checked before any input is read.
    pub fn prepare(
        &self,
        command: &str,
        allowed: &[Fmt],
        guard: &Guard,
        mode: Mode,
    ) -> Result<(Fmt, Sink), Error> {
        // An output path that is an input is the first thing to refuse, before any complaint
        // about the format its extension implies.
        if let Some(p) = self.file.as_ref().filter(|p| p.as_os_str() != "-") {
            guard.check(p, "--output-file", self.force)?;
        }
        let fmt = self.format(command, allowed)?;
        Ok((fmt, self.open(guard, mode)?))
    }

    /// Opens the destination: stdout, or `--output-file` checked against `guard` and written
    /// atomically. Call [`Sink::finish`] once everything is written.
    pub fn open(&self, guard: &Guard, mode: Mode) -> Result<Sink, Error> {
        match self.file.as_ref().filter(|p| p.as_os_str() != "-") {
            None => Ok(Sink::Stdout(std::io::BufWriter::with_capacity(
                1 << 20,
                std::io::stdout(),
            ))),
            Some(p) => {
                guard.check(p, "--output-file", self.force)?;
                Ok(Sink::File(AtomicFile::create(p, mode, self.force)?))
            }
        }
    }
}

/// Refuses a file flag given a bare format name (`--output-file json`): kubectl's `-o json`
/// habit, which would otherwise write a file named `json`.
pub fn not_a_format_name(flag: &str, p: &std::path::Path) -> Result<(), Error> {
    let s = p.to_string_lossy();
    if !s.contains('/') && Fmt::parse(&s).is_some() {
        return Err(Error::new(format!(
            "{flag} {s}: `{s}` is a format name, not a file; to choose the format use -o {s} \
             (to really name a file {s}, write {flag} ./{s})"
        )));
    }
    Ok(())
}

/// `text` and `table` are one format where a command has one of them.
fn same(a: Fmt, b: Fmt) -> bool {
    a == b || matches!((a, b), (Fmt::Table, Fmt::Text) | (Fmt::Text, Fmt::Table))
}

/// Where a command's output goes.
pub enum Sink {
    Stdout(std::io::BufWriter<std::io::Stdout>),
    File(AtomicFile),
}

impl Sink {
    /// Flushes stdout, or moves the finished file into place.
    pub fn finish(self) -> Result<(), Error> {
        match self {
            Sink::Stdout(mut w) => Ok(w.flush()?),
            Sink::File(f) => f.commit(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::File(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(f) => f.flush(),
        }
    }
}

/// See [`OutputArgs::text_width`]. Widths below 20 columns are ignored as implausible.
pub fn text_width(to_stdout: bool) -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n >= 20)
    {
        return Some(n);
    }
    if !to_stdout || !std::io::stdout().is_terminal() {
        return None;
    }
    Some(terminal_columns().filter(|n| *n >= 20).unwrap_or(80))
}

/// The terminal's width in columns, from TIOCGWINSZ on stdout.
fn terminal_columns() -> Option<usize> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the pointer given, which is ours and live;
    // on failure it writes nothing and returns -1.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_col > 0).then_some(usize::from(ws.ws_col))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(format: Option<&str>, file: Option<&str>) -> OutputArgs {
        OutputArgs {
            format: format.map(str::to_string),
            file: file.map(PathBuf::from),
            ..OutputArgs::default()
        }
    }

    const REPORT: &[Fmt] = &[Fmt::Text, Fmt::Md, Fmt::Json, Fmt::Html];

    #[test]
    fn format_from_flag_extension_and_default() {
        assert_eq!(
            args(None, None).format("report", REPORT).unwrap(),
            Fmt::Text
        );
        assert_eq!(
            args(Some("json"), None).format("report", REPORT).unwrap(),
            Fmt::Json
        );
        assert_eq!(
            args(None, Some("out/r.html"))
                .format("report", REPORT)
                .unwrap(),
            Fmt::Html
        );
        assert_eq!(
            args(Some("markdown"), Some("r.md"))
                .format("report", REPORT)
                .unwrap(),
            Fmt::Md
        );
        assert_eq!(
            args(None, Some("r.log")).format("report", REPORT).unwrap(),
            Fmt::Text
        );
        let status = &[Fmt::Table, Fmt::Json, Fmt::Simple];
        assert_eq!(
            args(None, Some("s.txt")).format("status", status).unwrap(),
            Fmt::Table
        );
    }

    #[test]
    fn file_for_format_and_format_for_file_are_refused_with_a_hint() {
        let e = args(Some("r.html"), None)
            .format("report", REPORT)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "-o r.html: -o takes a format (text, md, json, html), not a file; to write to a file use --output-file r.html"
        );
        let e = args(None, Some("json"))
            .format("report", REPORT)
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--output-file json: `json` is a format name"),
            "{e}"
        );
        let e = args(Some("json"), Some("r.html"))
            .format("report", REPORT)
            .unwrap_err();
        assert!(e.to_string().contains("ends in .html"), "{e}");
        let e = args(Some("html"), None)
            .format("ls", &[Fmt::Text, Fmt::Json, Fmt::Jsonl])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "ls does not write html; it writes text, json, jsonl"
        );
        let e = args(Some("yaml"), None)
            .format("ls", &[Fmt::Text, Fmt::Json])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "ls does not write yaml; it writes text, json"
        );
        let e = args(Some("toml"), None)
            .format("ls", &[Fmt::Text, Fmt::Json])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "-o toml: unknown format; ls writes text, json (to write to a file use --output-file)"
        );
    }
}
