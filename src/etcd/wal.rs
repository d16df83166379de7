//! The member and cluster ids a data dir's WAL starts with. A snapshot db does not hold them (the
//! `members` bucket lists member ids, not whose copy it is); the first WAL file's metadata record
//! does: wal/wal.go `Create` writes a crc record, then `metadataType` (1) with
//! etcdserverpb.Metadata{1 NodeID, 2 ClusterID} (etcdserver/etcdserverpb/etcdserver.proto).
//! Frames: an 8-byte little-endian length word, the low 56 bits the record size and, when the top
//! bit is set, bits 56..59 the padding (wal/decoder.go `decodeFrameSize`); then walpb.Record
//! {1 type, 2 crc, 3 data} (wal/walpb/record.proto).

use crate::proto::Fields;
use std::io::Read;
use std::path::Path;

const METADATA_TYPE: i64 = 1;
/// Records looked at before giving up: the metadata record is the second one.
const MAX_RECORDS: usize = 4;
/// Bytes read from the WAL file: the first records are tiny.
const READ_LIMIT: u64 = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalIds {
    pub member_id: u64,
    pub cluster_id: u64,
}

/// Reads the ids from the lowest-named `*.wal` file of `wal_dir`. None if there is none or it is
/// not a WAL.
pub fn read_ids(wal_dir: &Path) -> Option<WalIds> {
    let mut names: Vec<_> = std::fs::read_dir(wal_dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect();
    names.sort();
    let mut buf = Vec::new();
    std::fs::File::open(names.first()?)
        .ok()?
        .take(READ_LIMIT)
        .read_to_end(&mut buf)
        .ok()?;
    parse_ids(&buf)
}

fn parse_ids(mut buf: &[u8]) -> Option<WalIds> {
    for _ in 0..MAX_RECORDS {
        let len_field = u64::from_le_bytes(buf.get(..8)?.try_into().ok()?);
        let rec = (len_field & !(0xff << 56)) as usize;
        let pad = if len_field >> 63 == 1 {
            ((len_field >> 56) & 0x7) as usize
        } else {
            0
        };
        let body = buf.get(8..8usize.checked_add(rec)?)?;
        let (mut typ, mut data) = (0, &[][..]);
        for f in Fields::new(body) {
            match f.ok()? {
                (1, v) => typ = v.as_i64()?,
                (3, v) => data = v.as_bytes()?,
                _ => {}
            }
        }
        if typ == METADATA_TYPE {
            let (mut member_id, mut cluster_id) = (0u64, 0u64);
            for f in Fields::new(data) {
                match f.ok()? {
                    (1, v) => member_id = v.as_i64()? as u64,
                    (2, v) => cluster_id = v.as_i64()? as u64,
                    _ => {}
                }
            }
            return Some(WalIds {
                member_id,
                cluster_id,
            });
        }
        buf = buf.get(8usize.checked_add(rec)?.checked_add(pad)?..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_metadata_after_the_crc_record() {
        // crc record {type 4, crc 0}, then metadata {type 1, data {NodeID 0x10, ClusterID 0x20}}.
        let crc = b"\x08\x04\x10\x00";
        let meta = b"\x08\x01\x1a\x04\x08\x10\x10\x20";
        let mut w = Vec::new();
        w.extend_from_slice(&((crc.len() as u64) | (4u64 << 56) | (1 << 63)).to_le_bytes());
        w.extend_from_slice(crc);
        w.extend_from_slice(&[0; 4]);
        w.extend_from_slice(&(meta.len() as u64).to_le_bytes());
        w.extend_from_slice(meta);
        assert_eq!(
            parse_ids(&w),
            Some(WalIds {
                member_id: 0x10,
                cluster_id: 0x20
            })
        );
        assert_eq!(parse_ids(b"\xff\xff\xff\xff\xff\xff\xff\x7f"), None);
    }
}
