//! The meta page (internal/common/meta.go): where the root bucket, freelist and high-water mark
//! live. Two copies, pages 0 and 1, written alternately; the valid one with the higher txid wins.

use super::bytes::{u32_at, u64_at};
use super::page::{Pgid, META_PAGE_FLAG, PAGE_HEADER_SIZE};
use serde::Serialize;

/// `magic` value of a bbolt meta page.
pub const MAGIC: u32 = 0xED0C_DAED;
/// The only file format version bbolt writes.
pub const VERSION: u32 = 2;
/// Freelist pgid meaning "not persisted" (etcd opens bbolt with NoFreelistSync on Linux).
pub const PGID_NO_FREELIST: Pgid = u64::MAX;

/// A decoded meta page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Meta {
    pub magic: u32,
    pub version: u32,
    pub page_size: u32,
    pub flags: u32,
    /// Root page of the top-level bucket tree.
    pub root: Pgid,
    pub root_sequence: u64,
    /// Freelist page, or [`PGID_NO_FREELIST`].
    pub freelist: Pgid,
    /// High-water mark: the number of pages in use; the file's logical size is `hwm * page_size`.
    pub hwm: Pgid,
    pub txid: u64,
    pub checksum: u64,
}

/// FNV-1a 64 (hash/fnv in Go), used for the meta checksum.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Meta {
    /// Decodes the meta at the start of `page` (which begins with a page header). None if short.
    pub fn decode(page: &[u8]) -> Option<Meta> {
        let m = PAGE_HEADER_SIZE;
        Some(Meta {
            magic: u32_at(page, m)?,
            version: u32_at(page, m + 4)?,
            page_size: u32_at(page, m + 8)?,
            flags: u32_at(page, m + 12)?,
            root: u64_at(page, m + 16)?,
            root_sequence: u64_at(page, m + 24)?,
            freelist: u64_at(page, m + 32)?,
            hwm: u64_at(page, m + 40)?,
            txid: u64_at(page, m + 48)?,
            checksum: u64_at(page, m + 56)?,
        })
    }

    /// Validates like bbolt's `Meta.Validate`: magic, version, checksum over the meta body before
    /// the checksum field (page bytes [16, 72)). Also rejects page sizes bbolt could not have
    /// written, which would otherwise make every page offset meaningless. The meta flags are not
    /// checked: surgery tools write 0x04 there.
    pub fn validate(&self, page: &[u8]) -> Result<(), String> {
        if self.magic != MAGIC {
            return Err(format!("bad magic {:#010x}", self.magic));
        }
        if self.version != VERSION {
            return Err(format!("unsupported version {}", self.version));
        }
        let body = page
            .get(PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + 56)
            .ok_or("page too short")?;
        let sum = fnv1a64(body);
        if sum != self.checksum {
            return Err(format!(
                "checksum mismatch (stored {:#018x}, computed {sum:#018x})",
                self.checksum
            ));
        }
        if !self.page_size.is_power_of_two() || !(512..=1 << 20).contains(&self.page_size) {
            return Err(format!("implausible page size {}", self.page_size));
        }
        if self.hwm < 2 || self.root < 2 || self.root >= self.hwm {
            return Err(format!(
                "root page {} outside [2, high-water mark {})",
                self.root, self.hwm
            ));
        }
        Ok(())
    }

    /// True when the page header marks a meta page. Informational: bbolt does not require it.
    pub fn has_meta_flag(page: &[u8]) -> bool {
        super::bytes::u16_at(page, 8) == Some(META_PAGE_FLAG)
    }

    pub fn freelist_persisted(&self) -> bool {
        self.freelist != PGID_NO_FREELIST
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_vectors() {
        // Vectors from the FNV reference (isthe.com/chongo/tech/comp/fnv).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }
}
