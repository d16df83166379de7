//! Typed zero-copy views over one page's bytes (internal/common/page.go).
//!
//! Layout: a 16-byte header `id u64 @0, flags u16 @8, count u16 @10, overflow u32 @12`, then
//! `count` fixed-size elements, then the keys and values they point at. A page with
//! `overflow = N` spans N+1 consecutive blocks; only the first has a header.

use super::bytes::{u16_at, u32_at, u64_at};

/// A page id: the page's index in the file in units of the page size.
pub type Pgid = u64;

pub const PAGE_HEADER_SIZE: usize = 16;
pub const ELEMENT_SIZE: usize = 16;

pub const BRANCH_PAGE_FLAG: u16 = 0x01;
pub const LEAF_PAGE_FLAG: u16 = 0x02;
pub const META_PAGE_FLAG: u16 = 0x04;
pub const FREELIST_PAGE_FLAG: u16 = 0x10;

/// Leaf element flag marking a sub-bucket (bucket.go `bucketLeafFlag`).
pub const BUCKET_LEAF_FLAG: u32 = 0x01;

/// The type of a page by its flags. Exactly one flag is set on a valid page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    Branch,
    Leaf,
    Meta,
    Freelist,
    Invalid(u16),
}

impl PageKind {
    pub fn from_flags(flags: u16) -> PageKind {
        match flags {
            BRANCH_PAGE_FLAG => PageKind::Branch,
            LEAF_PAGE_FLAG => PageKind::Leaf,
            META_PAGE_FLAG => PageKind::Meta,
            FREELIST_PAGE_FLAG => PageKind::Freelist,
            other => PageKind::Invalid(other),
        }
    }
}

/// One page: its header and the bytes of all its blocks (header included).
#[derive(Clone, Copy, Debug)]
pub struct Page<'a> {
    bytes: &'a [u8],
}

impl<'a> Page<'a> {
    /// Wraps bytes that start with a page header. Returns None if they are shorter than a header.
    pub fn new(bytes: &'a [u8]) -> Option<Page<'a>> {
        (bytes.len() >= PAGE_HEADER_SIZE).then_some(Page { bytes })
    }
    pub fn id(&self) -> Pgid {
        u64_at(self.bytes, 0).unwrap_or(0)
    }
    pub fn flags(&self) -> u16 {
        u16_at(self.bytes, 8).unwrap_or(0)
    }
    pub fn count(&self) -> u16 {
        u16_at(self.bytes, 10).unwrap_or(0)
    }
    pub fn overflow(&self) -> u32 {
        u32_at(self.bytes, 12).unwrap_or(0)
    }
    pub fn kind(&self) -> PageKind {
        PageKind::from_flags(self.flags())
    }
    /// All bytes of the page, header included.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Why an element could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementError {
    pub index: usize,
    pub detail: String,
}

/// A leaf element: a key, a value, and flags (sub-bucket or plain value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeafElement<'a> {
    pub flags: u32,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

impl<'a> LeafElement<'a> {
    pub fn is_bucket(&self) -> bool {
        self.flags & BUCKET_LEAF_FLAG != 0
    }
}

/// A branch element: the first key of a child page and the child's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BranchElement<'a> {
    pub key: &'a [u8],
    pub child: Pgid,
}

/// Checks that `count` elements fit in `bytes` after the header.
fn element_table_fits(bytes: &[u8], count: usize) -> Result<(), ElementError> {
    let need = count
        .checked_mul(ELEMENT_SIZE)
        .and_then(|n| n.checked_add(PAGE_HEADER_SIZE));
    match need {
        Some(n) if n <= bytes.len() => Ok(()),
        _ => Err(ElementError {
            index: count,
            detail: format!(
                "table of {count} elements does not fit in {} bytes",
                bytes.len()
            ),
        }),
    }
}

/// Slices `len` bytes at `elem_off + pos`: element positions are relative to the element itself.
fn slice_at<'a>(
    bytes: &'a [u8],
    index: usize,
    elem_off: usize,
    pos: u32,
    len: u32,
    what: &str,
) -> Result<&'a [u8], ElementError> {
    let start = elem_off.checked_add(pos as usize);
    let end = start.and_then(|s| s.checked_add(len as usize));
    match (start, end) {
        (Some(s), Some(e)) if e <= bytes.len() => Ok(&bytes[s..e]),
        _ => Err(ElementError {
            index,
            detail: format!(
                "{what} at offset {} (+{len}) runs past the page end ({} bytes)",
                elem_off as u64 + pos as u64,
                bytes.len()
            ),
        }),
    }
}

/// A page's element table: `count` fixed-size elements after the header, checked to fit on
/// construction. Shared by leaf and branch views.
#[derive(Clone, Copy, Debug)]
struct ElementTable<'a> {
    bytes: &'a [u8],
    count: usize,
}

impl<'a> ElementTable<'a> {
    fn new(page: Page<'a>) -> Result<ElementTable<'a>, ElementError> {
        let count = page.count() as usize;
        element_table_fits(page.bytes, count)?;
        Ok(ElementTable {
            bytes: page.bytes,
            count,
        })
    }
}

/// A view of a leaf page (or of an inline bucket's fake page). Construction checks the element
/// table fits; each element's key and value are checked when read.
#[derive(Clone, Copy, Debug)]
pub struct LeafPage<'a> {
    bytes: &'a [u8],
    count: usize,
}

impl<'a> LeafPage<'a> {
    pub fn new(page: Page<'a>) -> Result<LeafPage<'a>, ElementError> {
        let ElementTable { bytes, count } = ElementTable::new(page)?;
        Ok(LeafPage { bytes, count })
    }
    pub fn len(&self) -> usize {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// The page's bytes (header, element table, keys and values).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// Element `i`: `flags u32, pos u32, ksize u32, vsize u32`; the value follows the key.
    pub fn element(&self, i: usize) -> Result<LeafElement<'a>, ElementError> {
        let off = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
        let b = self.bytes;
        let (Some(flags), Some(pos), Some(ksize), Some(vsize)) = (
            u32_at(b, off),
            u32_at(b, off + 4),
            u32_at(b, off + 8),
            u32_at(b, off + 12),
        ) else {
            return Err(ElementError {
                index: i,
                detail: "element header out of page".into(),
            });
        };
        let key = slice_at(b, i, off, pos, ksize, "key")?;
        let vpos = pos.checked_add(ksize).ok_or_else(|| ElementError {
            index: i,
            detail: "key position overflows".into(),
        })?;
        let value = slice_at(b, i, off, vpos, vsize, "value")?;
        Ok(LeafElement { flags, key, value })
    }
    /// Iterates the elements in page order.
    pub fn elements(&self) -> impl Iterator<Item = Result<LeafElement<'a>, ElementError>> + '_ {
        (0..self.count).map(move |i| self.element(i))
    }
}

/// A view of a branch page.
#[derive(Clone, Copy, Debug)]
pub struct BranchPage<'a> {
    bytes: &'a [u8],
    count: usize,
}

impl<'a> BranchPage<'a> {
    pub fn new(page: Page<'a>) -> Result<BranchPage<'a>, ElementError> {
        let ElementTable { bytes, count } = ElementTable::new(page)?;
        Ok(BranchPage { bytes, count })
    }
    pub fn len(&self) -> usize {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Element `i`: `pos u32, ksize u32, child pgid u64`.
    pub fn element(&self, i: usize) -> Result<BranchElement<'a>, ElementError> {
        let off = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
        let b = self.bytes;
        let (Some(pos), Some(ksize), Some(child)) =
            (u32_at(b, off), u32_at(b, off + 4), u64_at(b, off + 8))
        else {
            return Err(ElementError {
                index: i,
                detail: "element header out of page".into(),
            });
        };
        let key = slice_at(b, i, off, pos, ksize, "key")?;
        Ok(BranchElement { key, child })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a leaf page image by hand (test scaffolding only; real files come from etcd).
    pub(crate) fn leaf_bytes(id: u64, elems: &[(u32, &[u8], &[u8])], size: usize) -> Vec<u8> {
        let mut b = vec![0u8; size];
        b[0..8].copy_from_slice(&id.to_le_bytes());
        b[8..10].copy_from_slice(&LEAF_PAGE_FLAG.to_le_bytes());
        b[10..12].copy_from_slice(&(elems.len() as u16).to_le_bytes());
        let mut data = PAGE_HEADER_SIZE + elems.len() * ELEMENT_SIZE;
        for (i, (flags, k, v)) in elems.iter().enumerate() {
            let off = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
            b[off..off + 4].copy_from_slice(&flags.to_le_bytes());
            b[off + 4..off + 8].copy_from_slice(&((data - off) as u32).to_le_bytes());
            b[off + 8..off + 12].copy_from_slice(&(k.len() as u32).to_le_bytes());
            b[off + 12..off + 16].copy_from_slice(&(v.len() as u32).to_le_bytes());
            b[data..data + k.len()].copy_from_slice(k);
            data += k.len();
            b[data..data + v.len()].copy_from_slice(v);
            data += v.len();
        }
        b
    }

    #[test]
    fn reads_leaf_elements() {
        let b = leaf_bytes(3, &[(0, b"a", b"1"), (1, b"bb", b"22")], 128);
        let p = Page::new(&b).unwrap();
        assert_eq!((p.id(), p.kind(), p.count()), (3, PageKind::Leaf, 2));
        let l = LeafPage::new(p).unwrap();
        let e = l.element(1).unwrap();
        assert_eq!(
            (e.key, e.value, e.is_bucket()),
            (&b"bb"[..], &b"22"[..], true)
        );
    }

    #[test]
    fn element_pointing_outside_page_is_an_error() {
        let mut b = leaf_bytes(3, &[(0, b"a", b"1")], 64);
        b[16 + 12..16 + 16].copy_from_slice(&u32::MAX.to_le_bytes());
        let l = LeafPage::new(Page::new(&b).unwrap()).unwrap();
        assert!(l
            .element(0)
            .unwrap_err()
            .detail
            .contains("runs past the page end"));
        b[10..12].copy_from_slice(&0xfffe_u16.to_le_bytes());
        assert!(LeafPage::new(Page::new(&b).unwrap()).is_err());
    }
}
