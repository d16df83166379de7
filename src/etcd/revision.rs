//! Keys of the `key` bucket: an 8-byte big-endian main revision, `_`, an 8-byte big-endian sub
//! revision, and an 18th byte `t` for a tombstone (server/storage/mvcc/revision.go,
//! `revToBytes`, `bytesToBucketKey`; kvstore.go `markTombstone`).

use serde::Serialize;
use std::fmt;

pub const REV_BYTES_LEN: usize = 17;
pub const MARKED_REV_BYTES_LEN: usize = 18;
const TOMBSTONE_MARK: u8 = b't';

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Revision {
    pub main: i64,
    pub sub: i64,
    pub tombstone: bool,
}

impl Revision {
    /// Revision `main`, sub revision 0: what tests build records from.
    #[cfg(test)]
    pub(crate) fn at(main: i64, tombstone: bool) -> Revision {
        Revision {
            main,
            sub: 0,
            tombstone,
        }
    }

    /// Parses a `key` bucket key. None when its length or separator is wrong.
    pub fn parse(b: &[u8]) -> Option<Revision> {
        let tombstone = match b.len() {
            REV_BYTES_LEN => false,
            MARKED_REV_BYTES_LEN if b[17] == TOMBSTONE_MARK => true,
            _ => return None,
        };
        if b[8] != b'_' {
            return None;
        }
        let main = i64::from_be_bytes(b[0..8].try_into().ok()?);
        let sub = i64::from_be_bytes(b[9..17].try_into().ok()?);
        Some(Revision {
            main,
            sub,
            tombstone,
        })
    }

    /// The main revision of a 17-byte revision value, as the `meta` bucket stores compaction
    /// revisions, or of any key bucket key (status reads only the first 8 bytes: `bytesToRev`).
    pub fn main_of(b: &[u8]) -> Option<i64> {
        Some(i64::from_be_bytes(b.get(0..8)?.try_into().ok()?))
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.main, self.sub)?;
        if self.tombstone {
            f.write_str("t")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_tombstone() {
        let mut k = Vec::new();
        k.extend_from_slice(&5i64.to_be_bytes());
        k.push(b'_');
        k.extend_from_slice(&2i64.to_be_bytes());
        assert_eq!(
            Revision::parse(&k),
            Some(Revision {
                main: 5,
                sub: 2,
                tombstone: false
            })
        );
        k.push(b't');
        assert_eq!(Revision::parse(&k).map(|r| r.tombstone), Some(true));
        k[8] = b'x';
        assert_eq!(Revision::parse(&k), None);
        assert_eq!(Revision::parse(b"short"), None);
    }
}
