//! A streaming reader of tar headers (POSIX ustar, GNU and pax, as GNU tar writes them for
//! cluster-backup.sh), written for hostile input.
//!
//! A tarball carries key files, so when a header is wrong this reader says where (the offset in
//! the inflated stream, the member's index, the field) and never what: a misaligned "header" is
//! the middle of the previous member's data, and quoting its "name" or "size" would print key
//! bytes. Only a header whose checksum verifies is believed, and only its name is ever shown
//! (through [`crate::sanitize`]).
//!
//! Format facts from POSIX.1-2001 `pax` (ustar header layout, the `x` extended header) and GNU
//! tar's `tar.h` (the `L`/`K` long-name members, base-256 numbers). Every member is visited once
//! and its data read or skipped as a stream, so time is linear in the inflated size.

use std::io::Read;

/// Tar's block size: headers are one block, member data is padded to whole blocks.
pub const BLOCK: usize = 512;

/// The most bytes of a GNU long name or a pax extended header we keep (real ones are a path).
const MAX_META_BYTES: u64 = 64 << 10;

// ustar header fields: (offset, length).
const NAME: (usize, usize) = (0, 100);
const SIZE: (usize, usize) = (124, 12);
const CHKSUM: (usize, usize) = (148, 8);
const TYPEFLAG: usize = 156;
const MAGIC: (usize, usize) = (257, 6);
const PREFIX: (usize, usize) = (345, 155);

/// What is wrong with the stream, by position only.
#[derive(Debug)]
pub enum TarError {
    /// The decompressor (or the file) failed at `offset` of the inflated stream.
    Read { offset: u64, source: std::io::Error },
    /// The stream ends inside a header or a member's data.
    CutOff { offset: u64 },
    /// A header block did not verify or parse.
    Header {
        offset: u64,
        field: &'static str,
        problem: &'static str,
    },
}

impl TarError {
    /// The inflated-stream offset the problem was met at.
    pub fn offset(&self) -> u64 {
        match self {
            TarError::Read { offset, .. }
            | TarError::CutOff { offset }
            | TarError::Header { offset, .. } => *offset,
        }
    }
}

impl std::fmt::Display for TarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The decompressor's own messages are fixed strings ("corrupt deflate stream",
            // "invalid gzip header"); they carry no input bytes.
            TarError::Read { offset, source } => {
                write!(f, "read failed at inflated offset {offset}: {source}")
            }
            TarError::CutOff { offset } => {
                write!(f, "data ends at inflated offset {offset}, inside a member")
            }
            TarError::Header {
                offset,
                field,
                problem,
            } => write!(
                f,
                "tar header at inflated offset {offset}: {field} {problem} (not shown: it may be \
                 the previous member's data)"
            ),
        }
    }
}

/// One member's header.
#[derive(Debug, Clone)]
pub struct Member {
    /// The path, GNU long name or pax `path` applied; lossy UTF-8.
    pub name: String,
    pub size: u64,
    /// The typeflag byte (`0`/NUL regular file, `5` directory, …).
    pub kind: u8,
    /// Offset of its header in the inflated stream.
    pub offset: u64,
}

impl Member {
    pub fn is_file(&self) -> bool {
        matches!(self.kind, b'0' | 0 | b'7')
    }
}

/// How the archive ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The end-of-archive zero block(s).
    Marker,
    /// The stream ended on a block boundary without them (cut off between members, or a writer
    /// that does not write them).
    NoMarker,
}

/// Reads members one at a time from an inflated tar stream.
pub struct TarReader<R> {
    inner: R,
    /// Bytes consumed from `inner`.
    offset: u64,
    /// Data bytes (with padding) of the current member not yet consumed.
    pending: u64,
}

impl<R: Read> TarReader<R> {
    pub fn new(inner: R) -> Self {
        TarReader {
            inner,
            offset: 0,
            pending: 0,
        }
    }

    /// The inner reader (to drain what follows the archive).
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Bytes of the inflated stream consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Fills `buf`; returns the bytes read (fewer only at the end of the stream).
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, TarError> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => {
                    got += n;
                    self.offset += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(TarError::CutOff {
                        offset: self.offset,
                    })
                }
                Err(source) => {
                    return Err(TarError::Read {
                        offset: self.offset,
                        source,
                    })
                }
            }
        }
        Ok(got)
    }

    /// Consumes `n` bytes, failing if the stream ends first.
    fn skip(&mut self, mut n: u64) -> Result<(), TarError> {
        let mut buf = [0u8; 8192];
        while n > 0 {
            let want = n.min(buf.len() as u64) as usize;
            let got = self.fill(&mut buf[..want])?;
            if got < want {
                return Err(TarError::CutOff {
                    offset: self.offset,
                });
            }
            n -= got as u64;
        }
        Ok(())
    }

    /// The next member, skipping the rest of the current one; `Ok(Err(end))` at the end.
    pub fn next_member(&mut self) -> Result<Result<Member, End>, TarError> {
        let pending = std::mem::take(&mut self.pending);
        self.skip(pending)?;
        let mut long_name: Option<String> = None;
        loop {
            let offset = self.offset;
            let mut h = [0u8; BLOCK];
            let got = self.fill(&mut h)?;
            if got == 0 {
                return Ok(Err(End::NoMarker));
            }
            if got < BLOCK {
                return Err(TarError::CutOff {
                    offset: self.offset,
                });
            }
            if h.iter().all(|&b| b == 0) {
                return Ok(Err(End::Marker));
            }
            let bad = |field, problem| TarError::Header {
                offset,
                field,
                problem,
            };
            let stored = number(field(&h, CHKSUM)).ok_or(bad("checksum", "is not a number"))?;
            if !checksum_matches(&h, stored) {
                return Err(bad("checksum", "does not match the header"));
            }
            let size = number(field(&h, SIZE)).ok_or(bad("size", "is not a number"))?;
            let padded = size
                .checked_next_multiple_of(BLOCK as u64)
                .ok_or(bad("size", "is too large"))?;
            let kind = h[TYPEFLAG];
            match kind {
                // GNU long name / pax extended header: the data describes the next member.
                b'L' | b'x' => {
                    if size > MAX_META_BYTES {
                        return Err(bad("size", "is too large for a long-name member"));
                    }
                    let mut data = vec![0u8; padded as usize];
                    if self.fill(&mut data)? < data.len() {
                        return Err(TarError::CutOff {
                            offset: self.offset,
                        });
                    }
                    data.truncate(size as usize);
                    let name = if kind == b'L' {
                        Some(cstr(&data).to_vec())
                    } else {
                        pax_path(&data)
                    };
                    if let Some(n) = name {
                        long_name = Some(String::from_utf8_lossy(&n).into_owned());
                    }
                    continue;
                }
                // GNU long link name, pax global header: not needed.
                b'K' | b'g' => {
                    self.skip(padded)?;
                    continue;
                }
                _ => {}
            }
            let name = long_name.take().unwrap_or_else(|| header_name(&h));
            self.pending = padded;
            return Ok(Ok(Member {
                name,
                size,
                kind,
                offset,
            }));
        }
    }

    /// Reads the current member's data, at most `cap + 1` bytes of it (so a caller can tell it
    /// is over `cap`); the rest is skipped by the next [`TarReader::next_member`].
    pub fn read_data(&mut self, member: &Member, cap: u64) -> Result<Vec<u8>, TarError> {
        let want = member.size.min(cap.saturating_add(1));
        let mut data = vec![0u8; want as usize];
        if self.fill(&mut data)? < data.len() {
            return Err(TarError::CutOff {
                offset: self.offset,
            });
        }
        self.pending = self.pending.saturating_sub(want);
        Ok(data)
    }
}

fn field(h: &[u8; BLOCK], (off, len): (usize, usize)) -> &[u8] {
    &h[off..off + len]
}

/// Bytes up to the first NUL.
fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// A numeric field: octal ASCII padded with spaces or NULs, or GNU base-256 (high bit of the
/// first byte set; negative values are refused).
fn number(f: &[u8]) -> Option<u64> {
    if f.first().is_some_and(|&b| b & 0x80 != 0) {
        if f[0] & 0x40 != 0 {
            return None;
        }
        let mut n: u64 = u64::from(f[0] & 0x3f);
        for &b in &f[1..] {
            n = n.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(n);
    }
    let s = cstr(f);
    let digits: &[u8] = {
        let start = s.iter().position(|&b| b != b' ')?;
        let end = s.iter().rposition(|&b| b != b' ')? + 1;
        &s[start..end]
    };
    let mut n: u64 = 0;
    for &d in digits {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        n = n.checked_mul(8)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(n)
}

/// POSIX: the sum of the header's bytes with the checksum field taken as spaces; some old
/// writers summed signed bytes, so both are accepted (as GNU tar does).
fn checksum_matches(h: &[u8; BLOCK], stored: u64) -> bool {
    let (off, len) = CHKSUM;
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in h.iter().enumerate() {
        let b = if (off..off + len).contains(&i) {
            b' '
        } else {
            b
        };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

/// The path of a header: `prefix/name` for POSIX ustar (magic `ustar\0`), `name` otherwise (GNU
/// uses those bytes for times).
fn header_name(h: &[u8; BLOCK]) -> String {
    let name = cstr(field(h, NAME));
    let prefix = cstr(field(h, PREFIX));
    if field(h, MAGIC) == b"ustar\0" && !prefix.is_empty() {
        let mut p = prefix.to_vec();
        p.push(b'/');
        p.extend_from_slice(name);
        return String::from_utf8_lossy(&p).into_owned();
    }
    String::from_utf8_lossy(name).into_owned()
}

/// The `path` record of a pax extended header (`<len> path=<value>\n` records).
fn pax_path(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut path = None;
    while !data.is_empty() {
        let sp = data.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&data[..sp]).ok()?.parse().ok()?;
        if len <= sp || len > data.len() {
            return None;
        }
        let record = &data[sp + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(v) = record.strip_prefix(b"path=") {
            path = Some(v.to_vec());
        }
        data = &data[len..];
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    type Listing = (Vec<(String, Vec<u8>)>, End);

    fn members(tar: &[u8]) -> Result<Listing, TarError> {
        let mut r = TarReader::new(tar);
        let mut out = Vec::new();
        loop {
            match r.next_member()? {
                Ok(m) => {
                    let d = r.read_data(&m, 1 << 20)?;
                    out.push((m.name, d));
                }
                Err(end) => return Ok((out, end)),
            }
        }
    }

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o600);
            h.set_cksum();
            b.append_data(&mut h, path, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn reads_gnu_long_names_and_ustar() {
        let long = format!("{}/encryption-config", "d".repeat(150));
        let t = tar_of(&[("a", b"1"), (long.as_str(), b"22")]);
        let (m, end) = members(&t).unwrap();
        assert_eq!(end, End::Marker);
        assert_eq!(m[0], ("a".to_string(), b"1".to_vec()));
        assert_eq!(m[1], (long, b"22".to_vec()));
    }

    #[test]
    fn numbers() {
        assert_eq!(number(b"00000000012\0"), Some(10));
        assert_eq!(number(b"     12 \0\0\0\0"), Some(10));
        assert_eq!(number(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), Some(256));
        assert_eq!(number(b"0000000001x\0"), None);
        assert_eq!(number(b"\0\0\0"), None);
    }

    #[test]
    fn a_wrong_size_names_the_offset_never_the_bytes() {
        let key = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";
        let data = format!("secret: {key}\n").repeat(40);
        let mut t = tar_of(&[("a", &[b'x'; 512]), ("b", data.as_bytes())]);
        // Size of "a" off by one: 513 → the next header read is inside the data of "b".
        t[SIZE.0..SIZE.0 + 11].copy_from_slice(b"00000001001");
        let sum: u64 = t[..BLOCK]
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (CHKSUM.0..CHKSUM.0 + 8).contains(&i) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        t[CHKSUM.0..CHKSUM.0 + 8].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let e = members(&t).unwrap_err().to_string();
        assert!(!e.contains("c2Vj") && !e.contains("secret"), "{e}");
        assert!(
            e.starts_with("tar header at inflated offset 1536: checksum"),
            "{e}"
        );
    }

    #[test]
    fn cut_inside_a_member_is_an_error() {
        let t = tar_of(&[("a", &[b'x'; 3000])]);
        match members(&t[..1500]) {
            Err(TarError::CutOff { .. }) => {}
            other => panic!("{other:?}"),
        }
        let (m, end) = members(&t[..0]).unwrap();
        assert!(m.is_empty());
        assert_eq!(end, End::NoMarker);
    }
}
