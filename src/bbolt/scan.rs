//! Every leaf page in the file, reachable or not: the raw material for salvage.
//!
//! bbolt never overwrites a page in place (copy-on-write, tx.go `commit` writes dirty pages to
//! freshly allocated ids), so a page freed by a later transaction keeps its old contents until it
//! is reused, and a subtree cut off by damage is still in the file. A page counts as a leaf when
//! its header carries its own id and the leaf flag (internal/common/page.go) and its element
//! table fits — exactly what [`Db::page`] and [`LeafPage::new`] check for reachable pages.

use super::db::Db;
use super::page::{LeafPage, PageKind, Pgid};

/// Pages 0 and 1 are the metas.
const FIRST_DATA_PAGE: Pgid = 2;

/// Every leaf page from page 2 up to the high-water mark (and the end of the file), in page order.
/// Pages inside another page's overflow run are looked at too: their header is then value bytes,
/// which almost never carry the page's own id and the leaf flag, and callers validate every
/// element anyway.
pub fn leaf_pages(db: &Db) -> Vec<(Pgid, LeafPage<'_>)> {
    let limit = db.meta().hwm.min(db.file_pages());
    let mut out = Vec::new();
    for id in FIRST_DATA_PAGE..limit {
        let Ok(page) = db.page(id) else { continue };
        if page.kind() != PageKind::Leaf {
            continue;
        }
        if let Ok(view) = LeafPage::new(page) {
            if !view.is_empty() {
                out.push((id, view));
            }
        }
    }
    out
}

/// Pages scanned by [`leaf_pages`].
pub fn scanned_pages(db: &Db) -> u64 {
    db.meta()
        .hwm
        .min(db.file_pages())
        .saturating_sub(FIRST_DATA_PAGE)
}
