//! Renderers: the report document ([`model::Report`]) → text, Markdown, JSON, HTML.
//! Renderers only render; they make no decisions and read no input files.

pub mod build;
pub mod html;
pub mod json;
pub mod markdown;
pub mod model;
pub mod remedy;
pub mod restore;
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

/// In text, lists of keys are cut to this many (saying how many more); Markdown, HTML and JSON
/// list them all.
pub const KEYS_SHOWN: usize = 10;

pub fn render(
    report: &Report,
    format: ReportFormat,
    color: bool,
    width: Option<usize>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        ReportFormat::Text => text::render(report, color, width, out),
        ReportFormat::Md => markdown::render(report, out),
        ReportFormat::Json => json::write(report, out),
        ReportFormat::Html => html::render(report, out),
    }
}

/// `a, b, c … and N more` for capped lists.
pub(crate) fn capped<T: AsRef<str>>(
    items: &[T],
    n: usize,
    wrap: impl Fn(&str) -> String,
) -> String {
    let mut s: Vec<String> = items.iter().take(n).map(|i| wrap(i.as_ref())).collect();
    if items.len() > n {
        s.push(format!(
            "… and {} more (-o md, html or json lists all)",
            items.len() - n
        ));
    }
    s.join(", ")
}

/// The space section in one sentence (plain text; `backtick spans` as the findings write them).
pub(crate) fn space_sentence(sp: &model::SpaceSection) -> String {
    let h = crate::etcd::status::humanize_bytes;
    let used = if sp.quota_bytes == 0 {
        0.0
    } else {
        100.0 * sp.db_size as f64 / sp.quota_bytes as f64
    };
    format!(
        "db {} ({} pages of {} B in use, {} free: {:.1} % fragmentation; defrag would free {}); quota {}{}, {:.1} % used; live {} in {} keys, {} held over {} revisions ({} old; compacting at {} removes {} revisions).",
        h(sp.db_size),
        sp.pages_in_use,
        sp.page_size,
        sp.pages_free,
        100.0 * sp.fragmentation,
        h(sp.defrag_frees),
        h(sp.quota_bytes),
        if sp.quota_is_default { " (etcd's default, assumed)" } else { "" },
        used,
        h(sp.live_bytes),
        sp.live_keys,
        h(sp.held_bytes),
        sp.revisions,
        h(sp.old_bytes),
        sp.compaction.revision,
        sp.compaction.revisions_removed
    )
}

/// The space section's resource table: resource, live, held, old, revisions.
pub(crate) fn space_rows(sp: &model::SpaceSection) -> Vec<[String; 5]> {
    let h = crate::etcd::status::humanize_bytes;
    sp.history_by_resource
        .iter()
        .map(|t| {
            [
                t.resource.clone(),
                h(t.live_bytes),
                h(t.held_bytes),
                h(t.old_bytes),
                t.revisions.to_string(),
            ]
        })
        .collect()
}

/// The restore plan in one sentence (`backtick spans` for the flags).
pub(crate) fn restore_sentence(rp: &model::RestorePlanSection) -> String {
    format!(
        "With etcdutl 3.5.10+ / 3.6: `--bump-revision {} --mark-compacted`, the member comes back at revision {} (compacted there: clients relist). With etcd 3.4 (no bump flags): at revision {}; `restore-plan` prints the same.",
        rp.bump_revision, rp.restored_revision, rp.revision
    )
}
