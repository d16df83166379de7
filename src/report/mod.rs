//! Renderers: the report document ([`model::Report`]) → text, Markdown, JSON, HTML.
//! Renderers only render; they make no decisions and read no input files.

pub mod build;
pub mod html;
pub mod markdown;
pub mod model;
pub mod remedy;
pub mod text;
pub mod writers;

pub use model::Report;

use std::io::Write;

/// Output formats of `report` and `demo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Md,
    Json,
    Html,
}

/// In text and Markdown, lists of keys are cut to this many; JSON always has them all.
pub const KEYS_SHOWN: usize = 10;

pub fn render(
    report: &Report,
    format: ReportFormat,
    color: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        ReportFormat::Text => text::render(report, color, out),
        ReportFormat::Md => markdown::render(report, out),
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            out.write_all(b"\n")
        }
        ReportFormat::Html => html::render(report, out),
    }
}

/// `a, b, c … and N more` for capped lists.
pub(crate) fn capped(items: &[String], n: usize, wrap: impl Fn(&str) -> String) -> String {
    let mut s: Vec<String> = items.iter().take(n).map(|i| wrap(i)).collect();
    if items.len() > n {
        s.push(format!("… and {} more", items.len() - n));
    }
    s.join(", ")
}
