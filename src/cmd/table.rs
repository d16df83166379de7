//! Tables drawn as etcdctl's tablewriter (olekukonko/tablewriter v0.0.5, as etcdctl/etcdutl
//! configure it) draws them: headers centred, cells right-aligned, `+---+` rules. Used by
//! `status`, `hashkv` and `compare`, whose `-w table` output must match etcdctl's byte for byte.

use crate::sanitize;

/// The table of `rows` under `headers`. Cells can come from the file (a storageVersion) or the
/// command line (a path): each is escaped and cut like every table cell, and padded without
/// `{:>w$}`, whose width is a u16 (a 65,536-character cell panicked).
pub fn etcdctl(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| sanitize::cell(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let rule: String = widths
        .iter()
        .map(|w| format!("+{}", "-".repeat(w + 2)))
        .collect::<String>()
        + "+\n";
    let mut s = rule.clone();
    for (h, w) in headers.iter().zip(&widths) {
        let pad = w - h.chars().count();
        s += &format!(
            "| {}{}{} ",
            " ".repeat(pad / 2),
            h,
            " ".repeat(pad - pad / 2)
        );
    }
    s += "|\n";
    s += &rule;
    for r in &rows {
        for (c, w) in r.iter().zip(&widths) {
            s += &format!("| {} ", sanitize::pad_left(c, *w));
        }
        s += "|\n";
    }
    s + &rule
}
