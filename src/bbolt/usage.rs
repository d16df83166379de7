//! Where a bbolt file's pages go, and how many pages a defragmented copy would take.
//!
//! Pages of a file fall in four classes: *in use* (reachable from the meta's root, metas
//! included), *free* (below the high-water mark but unreachable: bbolt's freelist, rebuilt this
//! way when etcd runs with `NoFreelistSync`, mvcc/backend/config_linux.go), *past the high-water
//! mark* (the file was grown ahead of use, db.go `grow`), and the bytes after the last whole page
//! (`etcdctl snapshot save`'s SHA-256 trailer).
//!
//! [`Packer`] replays how bbolt lays out a bucket written in key order: `node.split` cuts a node
//! when it outgrows `pageSize × FillPercent`, keeping at least two keys per page
//! (node.go `splitTwo`, `splitIndex`, `minKeysPerPage`), every node is written to
//! `ceil(size / pageSize)` pages (tx.go `allocate` in node.go `spill`), and parents are packed the
//! same way from the first key of each child. etcd's defrag copies every bucket this way with
//! `FillPercent = 0.9` (mvcc/backend/backend.go `defragdb`, 3.4; server/storage/backend in 3.5+).

use super::page::PAGE_HEADER_SIZE;
use serde::Serialize;

/// Size of a leaf or branch element header (page.go `leafPageElementSize`, `branchPageElementSize`).
pub const ELEMENT_HEADER_SIZE: u64 = 16;
/// node.go `minKeysPerPage`.
const MIN_KEYS_PER_PAGE: usize = 2;

/// The four classes of a file's pages (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PageUsage {
    pub page_size: u64,
    pub file_bytes: u64,
    /// The meta's high-water mark: `hwm × page_size` is etcd's `dbSize` (`tx.Size()`).
    pub hwm: u64,
    /// Reachable pages, metas (and a persisted freelist page) included.
    pub in_use: u64,
    /// Pages below the high-water mark that nothing reaches.
    pub free: u64,
    /// Whole pages in the file at or above the high-water mark.
    pub past_hwm: u64,
    /// Bytes after the last whole page (32 for a snapshot's SHA-256 trailer).
    pub tail_bytes: u64,
}

impl PageUsage {
    pub fn db_bytes(&self) -> u64 {
        self.hwm.saturating_mul(self.page_size)
    }
    pub fn in_use_bytes(&self) -> u64 {
        self.in_use.saturating_mul(self.page_size)
    }
    pub fn free_bytes(&self) -> u64 {
        self.free.saturating_mul(self.page_size)
    }
    /// Free pages over pages below the high-water mark.
    pub fn fragmentation(&self) -> f64 {
        if self.hwm == 0 {
            0.0
        } else {
            self.free as f64 / self.hwm as f64
        }
    }
}

/// Packs one bucket tree written in key order; see the module docs.
#[derive(Clone, Debug)]
pub struct Packer {
    page_size: u64,
    threshold: u64,
    /// Element sizes of the leaf level, and the key length of each element.
    leaf: Vec<(u64, u64)>,
}

impl Packer {
    /// `fill_percent` as bbolt clamps it (`[0.1, 1.0]`, node.go `splitTwo`).
    pub fn new(page_size: u64, fill_percent: f64) -> Packer {
        let fill = fill_percent.clamp(0.1, 1.0);
        Packer {
            page_size,
            threshold: (page_size as f64 * fill) as u64,
            leaf: Vec::new(),
        }
    }

    /// Appends one key/value (keys must come in key order, as `defragdb`'s cursor gives them).
    pub fn push(&mut self, key_len: usize, value_len: usize) {
        let size = ELEMENT_HEADER_SIZE + key_len as u64 + value_len as u64;
        self.leaf.push((size, key_len as u64));
    }

    /// Whether bbolt would store this bucket inline in its parent (bucket.go `inlineable`: one
    /// leaf node no larger than a quarter page), and the inline value's length if so.
    pub fn inline_len(&self) -> Option<u64> {
        let size = PAGE_HEADER_SIZE as u64 + self.leaf.iter().map(|e| e.0).sum::<u64>();
        (size <= self.page_size / 4).then_some(super::bucket::BUCKET_HEADER_SIZE as u64 + size)
    }

    /// Pages of the whole tree: leaves, then branch levels up to a single root node.
    pub fn pages(&self) -> u64 {
        let mut level = self.leaf.clone();
        let mut total = 0u64;
        loop {
            let nodes = self.split(&level);
            total = total.saturating_add(nodes.iter().map(|n| n.pages).sum::<u64>());
            if nodes.len() <= 1 {
                return total.max(1);
            }
            level = nodes
                .iter()
                .map(|n| (ELEMENT_HEADER_SIZE + n.first_key_len, n.first_key_len))
                .collect();
        }
    }

    /// Cuts one level into nodes like repeated `splitTwo` calls. Linear: the size of what is
    /// left is kept as a running total.
    fn split(&self, elems: &[(u64, u64)]) -> Vec<Node> {
        let header = PAGE_HEADER_SIZE as u64;
        let mut out = Vec::new();
        let mut rest = elems;
        let mut rest_size: u64 = header + rest.iter().map(|e| e.0).sum::<u64>();
        loop {
            if rest.len() <= MIN_KEYS_PER_PAGE * 2 || rest_size < self.page_size {
                out.push(Node::of(rest, self.page_size));
                return out;
            }
            let mut size = header;
            let mut index = 0;
            for (i, e) in rest.iter().enumerate().take(rest.len() - MIN_KEYS_PER_PAGE) {
                index = i;
                if i >= MIN_KEYS_PER_PAGE && size + e.0 > self.threshold {
                    break;
                }
                size += e.0;
            }
            // Go's `splitIndex` returns a size too, but `spill` sizes the node afresh: when no
            // element crosses the threshold, the head stops before the last one counted.
            let (head, tail) = rest.split_at(index);
            let node = Node::of(head, self.page_size);
            rest_size = rest_size.saturating_sub(node.size - header);
            out.push(node);
            rest = tail;
        }
    }
}

struct Node {
    size: u64,
    pages: u64,
    first_key_len: u64,
}

impl Node {
    fn of(elems: &[(u64, u64)], page_size: u64) -> Node {
        let size = PAGE_HEADER_SIZE as u64 + elems.iter().map(|e| e.0).sum::<u64>();
        Node {
            size,
            pages: size.div_ceil(page_size).max(1),
            first_key_len: elems.first().map(|e| e.1).unwrap_or(0),
        }
    }
}

/// Pages a fresh file frees in its first commit: `db.init` writes the metas, a freelist page
/// (2) and an empty root leaf (3); the first commit writes a new root elsewhere and, with
/// `NoFreelistSync`, never writes the freelist again, so both stay free below the high-water
/// mark (db.go `init`, tx.go `commit`).
pub const INIT_PAGES_FREED: u64 = 2;

/// Pages in use in a file holding `buckets` (each packed) under one root bucket, the two metas
/// included: what `defrag` would leave in use. Its high-water mark is at least
/// [`INIT_PAGES_FREED`] higher, more when the copy took several commits (etcd commits every
/// 10,000 keys; each commit's freed pages are reused by the next, the last one's stay free).
/// Inline buckets live in the root's leaf.
pub fn compacted_pages(page_size: u64, buckets: &[(usize, Packer)]) -> u64 {
    let mut root = Packer::new(page_size, 0.5);
    let mut pages = 2u64;
    for (name_len, b) in buckets {
        match b.inline_len() {
            Some(len) => root.push(*name_len, len as usize),
            None => {
                root.push(*name_len, super::bucket::BUCKET_HEADER_SIZE);
                pages = pages.saturating_add(b.pages());
            }
        }
    }
    pages.saturating_add(root.pages())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bucket_is_one_page_and_inline() {
        let mut p = Packer::new(4096, 0.9);
        for _ in 0..3 {
            p.push(10, 20);
        }
        assert_eq!(p.pages(), 1);
        assert_eq!(p.inline_len(), Some(16 + 16 + 3 * 46));
    }

    #[test]
    fn sequential_fill_cuts_at_ninety_percent() {
        // 1000 elements of 100 bytes (16 header + 17 key + 67 value): 3686-byte threshold
        // → 36 elements per leaf (16 + 36×100 = 3616; a 37th would pass 3686).
        let mut p = Packer::new(4096, 0.9);
        for _ in 0..1000 {
            p.push(17, 67);
        }
        let leaves = 1000usize.div_ceil(36) as u64;
        // 28 leaves → one branch node of 28 × 33 bytes.
        assert_eq!(p.pages(), leaves + 1);
    }

    #[test]
    fn large_values_take_overflow_pages() {
        let mut p = Packer::new(4096, 0.9);
        for _ in 0..5 {
            p.push(17, 10_000);
        }
        // Each node keeps at least two keys; three left are not split again: 2 + 3 elements →
        // ceil(20082 / 4096) + ceil(30115 / 4096) pages, and a branch.
        assert_eq!(p.pages(), 5 + 8 + 1);
    }

    #[test]
    fn fragmentation_is_free_over_hwm() {
        let u = PageUsage {
            page_size: 4096,
            hwm: 100,
            free: 25,
            ..Default::default()
        };
        assert!((u.fragmentation() - 0.25).abs() < 1e-9);
        assert_eq!(u.db_bytes(), 409_600);
    }
}
