//! What an input path is, said before it is read: a regular file, a directory, an etcd data dir,
//! a special file that would block (FIFO) or never end (character device), a compressed
//! snapshot, or a file of another kind given to the wrong flag ("this looks like X; use --flag").
//!
//! Nothing is written: a compressed snapshot is decompressed into anonymous memory, capped at
//! [`DECOMPRESSED_CAP`].

use super::Error;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The most a compressed snapshot may decompress to (in memory; nothing goes to disk). etcd's
/// default backend quota is 2 GiB and its maximum 8 GiB (etcd server/storage/quota.go
/// `MaxQuotaBytes`), so an 8 GiB cap holds any real snapshot.
pub const DECOMPRESSED_CAP: u64 = 8 << 30;

/// What the first bytes of a file say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    Gzip,
    Zstd,
    Xz,
    Bzip2,
    /// bbolt's meta magic (0xED0CDAED) where meta 0 keeps it (after the 16-byte page header).
    Bbolt,
    Tar,
    EncryptionConfig,
    /// Other YAML or JSON.
    Manifest,
    /// klog, CRI, JSON or journald lines.
    Log,
    Text,
    Unknown,
}

impl Sniffed {
    /// What to call it in a message.
    pub fn describe(self) -> &'static str {
        match self {
            Sniffed::Gzip => "a gzip-compressed file",
            Sniffed::Zstd => "a zstd-compressed file",
            Sniffed::Xz => "an xz-compressed file",
            Sniffed::Bzip2 => "a bzip2-compressed file",
            Sniffed::Bbolt => "a bbolt database (an etcd snapshot)",
            Sniffed::Tar => "a tar archive (an OpenShift static_kuberesources tarball?)",
            Sniffed::EncryptionConfig => "an EncryptionConfiguration",
            Sniffed::Manifest => "a YAML or JSON document",
            Sniffed::Log => "a log",
            Sniffed::Text => "a text file",
            Sniffed::Unknown => "an unrecognised file",
        }
    }
}

/// Looks at the first bytes of a file (4 KiB are plenty).
pub fn sniff(head: &[u8]) -> Sniffed {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Sniffed::Gzip;
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Sniffed::Zstd;
    }
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Sniffed::Xz;
    }
    if head.starts_with(b"BZh") {
        return Sniffed::Bzip2;
    }
    // bbolt internal/common/page.go: the page header is 16 bytes, the meta's magic follows.
    if head.get(16..20) == Some(&0xED0C_DAEDu32.to_le_bytes()[..]) {
        return Sniffed::Bbolt;
    }
    // POSIX ustar: "ustar" at offset 257 of the first header.
    if head.get(257..262) == Some(&b"ustar"[..]) {
        return Sniffed::Tar;
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // A cut in the middle of a multi-byte character at the end of the head.
        Err(e) if e.valid_up_to() + 4 >= head.len() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return Sniffed::Unknown,
    };
    if text.is_empty()
        || text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Sniffed::Unknown;
    }
    if text.contains("EncryptionConfig") {
        return Sniffed::EncryptionConfig;
    }
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if looks_like_log_line(first) {
        return Sniffed::Log;
    }
    if text.contains("apiVersion") || text.contains("kind:") || first.starts_with('{') {
        return Sniffed::Manifest;
    }
    Sniffed::Text
}

/// klog (`I1116 …`), RFC 3339-prefixed (CRI, docker `--timestamps`), syslog/journald `short`
/// (`Nov 16 …`) or a JSON log line.
fn looks_like_log_line(l: &str) -> bool {
    let b = l.as_bytes();
    let klog = b.len() > 6
        && matches!(b[0], b'I' | b'W' | b'E' | b'F')
        && b[1..5].iter().all(u8::is_ascii_digit)
        && b[5] == b' ';
    let rfc3339 = b.len() > 11
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T';
    const MONTHS: [&str; 12] = [
        "Jan ", "Feb ", "Mar ", "Apr ", "May ", "Jun ", "Jul ", "Aug ", "Sep ", "Oct ", "Nov ",
        "Dec ",
    ];
    let syslog = MONTHS.iter().any(|m| l.starts_with(m));
    let json = l.starts_with('{') && (l.contains("\"ts\"") || l.contains("\"msg\""));
    klog || rfc3339 || syslog || json
}

/// What the flag for a kind of input is, for the hint.
fn flag_for(kind: Sniffed) -> Option<&'static str> {
    Some(match kind {
        Sniffed::Bbolt => "the SNAPSHOT argument (report: --snapshot)",
        Sniffed::Tar => "--static-resources",
        Sniffed::EncryptionConfig => "--encryption-config",
        Sniffed::Log => "`logs` or --log",
        _ => return None,
    })
}

/// Refuses what is not a regular file before anything opens it (opening a FIFO blocks, a
/// character device never ends). `role` names what the path should be, e.g. "snapshot".
pub fn regular_file(path: &Path, role: &str) -> Result<std::fs::Metadata, Error> {
    let shown = path.display();
    let m = std::fs::metadata(path).map_err(|e| Error::new(format!("{shown}: {e}")))?;
    special(&m).map_or(Ok(()), |what| {
        Err(Error::new(format!(
            "{shown}: is {what}, not a {role} file; give a regular file (only `logs -` reads a stream)"
        )))
    })?;
    Ok(m)
}

/// "a FIFO", "a character device", … for what is neither a file nor a directory.
fn special(m: &std::fs::Metadata) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    if m.is_file() || m.is_dir() {
        None
    } else {
        Some("not a regular file")
    }
}

fn is_fifo(m: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        m.file_type().is_fifo()
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        false
    }
}

/// Reads up to 4 KiB from the start of a regular file.
fn head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = Vec::with_capacity(4096);
    (&mut f).take(4096).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Where a snapshot argument leads.
pub struct SnapshotPath {
    /// The file to read (for a data dir: its member/snap/db).
    pub file: PathBuf,
    /// Said on stderr before reading, e.g. that a data dir's db is used.
    pub note: Option<String>,
}

/// Resolves a snapshot argument: a regular file, or an etcd data dir (or its `member` dir) whose
/// `member/snap/db` is used. A directory that is neither, and any special file, is refused.
pub fn snapshot_path(path: &Path) -> Result<SnapshotPath, Error> {
    let shown = path.display();
    let m = std::fs::metadata(path).map_err(|e| Error::new(format!("{shown}: {e}")))?;
    if m.is_dir() {
        // etcd server/storage/datadir/datadir.go: ToBackendFileName = <data-dir>/member/snap/db.
        for rel in ["member/snap/db", "snap/db"] {
            let db = path.join(rel);
            if std::fs::metadata(&db).is_ok_and(|m| m.is_file()) {
                return Ok(SnapshotPath {
                    note: Some(format!(
                        "{shown} is an etcd data dir: reading its {}",
                        db.display()
                    )),
                    file: db,
                });
            }
        }
        return Err(Error::new(format!(
            "{shown}: is a directory, not a snapshot (an etcd data dir would hold member/snap/db)"
        )));
    }
    regular_file(path, "snapshot")?;
    Ok(SnapshotPath {
        file: path.to_path_buf(),
        note: None,
    })
}

/// The hint for a file that is not a snapshot: "this looks like X; use --flag", or None.
pub fn not_a_snapshot(kind: Sniffed) -> Option<String> {
    let what = kind.describe();
    match flag_for(kind) {
        Some(flag) if kind != Sniffed::Bbolt => Some(format!(
            "not a snapshot: this looks like {what}; use {flag}"
        )),
        _ => match kind {
            Sniffed::Manifest | Sniffed::Text => Some(format!(
                "not a snapshot: this looks like {what}, and a snapshot is a binary bbolt file"
            )),
            _ => None,
        },
    }
}

/// Decompresses a gzip, zstd or xz snapshot into memory, capped at [`DECOMPRESSED_CAP`].
/// Damage (a bad CRC, a cut-off stream) is an error: a partly decompressed snapshot would be
/// misread as a truncated one.
pub fn decompress(kind: Sniffed, bytes: &[u8], shown: &str) -> Result<Vec<u8>, Error> {
    let err =
        |e: std::io::Error| Error::new(format!("{shown}: {} is damaged: {e}", kind.describe()));
    let reader: Box<dyn Read + '_> = match kind {
        Sniffed::Gzip => Box::new(flate2::read::MultiGzDecoder::new(bytes)),
        Sniffed::Zstd => return zstd(bytes, shown),
        Sniffed::Xz => {
            // lzma-rs decodes into a writer; the cap is enforced by the writer.
            let mut out = Capped(Vec::new());
            let mut input = std::io::BufReader::new(bytes);
            lzma_rs::xz_decompress(&mut input, &mut out).map_err(|e| match e {
                lzma_rs::error::Error::IoError(io)
                    if io.kind() == std::io::ErrorKind::OutOfMemory =>
                {
                    too_big(shown)
                }
                e => err(std::io::Error::other(e.to_string())),
            })?;
            return Ok(out.0);
        }
        Sniffed::Bzip2 => {
            return Err(Error::new(format!(
                "{shown}: {} ; decompress it first (bunzip2 -k), to a place you choose",
                kind.describe()
            )))
        }
        _ => return Ok(bytes.to_vec()),
    };
    let mut reader = reader;
    let mut out = Capped(Vec::new());
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(err(e)),
        };
        std::io::Write::write_all(&mut out, &buf[..n]).map_err(|e| oom_or(e, shown))?;
    }
    Ok(out.0)
}

/// zstd, frame by frame (a file may hold several, zstd's format spec RFC 8878 §3.1), each frame's
/// content checksum verified when it has one (`zstd` writes one by default): ruzstd's streaming
/// reader decodes one frame and does not compare the checksum itself.
fn zstd(bytes: &[u8], shown: &str) -> Result<Vec<u8>, Error> {
    let damaged =
        |m: String| Error::new(format!("{shown}: a zstd-compressed file is damaged: {m}"));
    let mut src: &[u8] = bytes;
    let mut out = Capped(Vec::new());
    let mut buf = vec![0u8; 1 << 20];
    while !src.is_empty() {
        let at = bytes.len() - src.len();
        let mut dec = ruzstd::decoding::StreamingDecoder::new(&mut src)
            .map_err(|e| damaged(format!("frame at byte {at}: {e}")))?;
        loop {
            let n = match dec.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(damaged(e.to_string())),
            };
            std::io::Write::write_all(&mut out, &buf[..n]).map_err(|e| oom_or(e, shown))?;
        }
        let frame = dec.into_frame_decoder();
        if !frame.is_finished() {
            return Err(damaged(format!("frame at byte {at} is cut off")));
        }
        if let (Some(stored), Some(computed)) = (
            frame.get_checksum_from_data(),
            frame.get_calculated_checksum(),
        ) {
            if stored != computed {
                return Err(damaged(format!(
                    "frame at byte {at}: content checksum {stored:08x}, computed {computed:08x}"
                )));
            }
        }
    }
    Ok(out.0)
}

/// The cap and memory errors of [`Capped`] as one-line messages.
fn oom_or(e: std::io::Error, shown: &str) -> Error {
    if e.kind() == std::io::ErrorKind::OutOfMemory {
        too_big(shown)
    } else {
        Error::new(format!("{shown}: {e}"))
    }
}

fn too_big(shown: &str) -> Error {
    Error::new(format!(
        "{shown}: decompresses to more than the in-memory cap ({} GiB, or the memory this process \
         may allocate); decompress it yourself, to a place you choose",
        DECOMPRESSED_CAP >> 30
    ))
}

/// A `Vec` writer that refuses to grow past [`DECOMPRESSED_CAP`] and reports an allocation that
/// fails (a decompression bomb under a memory limit) as an error instead of aborting.
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() as u64 + buf.len() as u64 > DECOMPRESSED_CAP
            || self.0.try_reserve(buf.len()).is_err()
        {
            return Err(std::io::ErrorKind::OutOfMemory.into());
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Checks a key source (`--encryption-config`, `--static-resources`) before the keyring reads
/// it: a regular file, and not obviously something else (a snapshot, a log, a config given as a
/// tarball or the reverse).
pub fn key_source(path: &Path, flag: &str) -> Result<(), Error> {
    let shown = path.display();
    let m = std::fs::metadata(path).map_err(|e| Error::new(format!("{flag} {shown}: {e}")))?;
    if m.is_dir() {
        return Err(Error::new(format!(
            "{flag} {shown}: is a directory; give a file"
        )));
    }
    regular_file(path, "key source").map_err(|e| Error::new(format!("{flag} {e}")))?;
    let Ok(h) = head(path) else {
        // The keyring's own open reports the error with its context.
        return Ok(());
    };
    let kind = sniff(&h);
    let wrong = match flag {
        "--encryption-config" => matches!(
            kind,
            Sniffed::Bbolt | Sniffed::Tar | Sniffed::Gzip | Sniffed::Log
        ),
        "--static-resources" => matches!(
            kind,
            Sniffed::Bbolt | Sniffed::EncryptionConfig | Sniffed::Log
        ),
        _ => false,
    };
    if wrong {
        let flag_hint = match kind {
            Sniffed::Gzip => "--static-resources (a .tar.gz from cluster-backup.sh)",
            k => flag_for(k).unwrap_or("another flag"),
        };
        return Err(Error::new(format!(
            "{flag} {shown}: this looks like {}; use {flag_hint}",
            kind.describe()
        )));
    }
    Ok(())
}

/// Checks a log path before the log reader opens it: a snapshot or a tarball given as a log is
/// named ("this looks like a bbolt database; use …"). Streams (`-`, FIFOs such as `<(zcat …)`)
/// are allowed: `logs` reads them as they come.
pub fn log_path(path: &Path) -> Result<(), Error> {
    if path.as_os_str() == "-" {
        return Ok(());
    }
    let Ok(m) = std::fs::metadata(path) else {
        return Ok(()); // the log reader names the error
    };
    if let Some(what) = special(&m).filter(|_| !is_fifo(&m)) {
        // A pipe (`<(zcat …)`) is a stream `logs` reads; a device or socket never ends.
        return Err(Error::new(format!(
            "{}: is {what}, not a log file; give a file, a directory, a pipe or `-` for stdin",
            path.display()
        )));
    }
    if !m.is_file() {
        return Ok(());
    }
    let Ok(h) = head(path) else {
        return Ok(());
    };
    let kind = sniff(&h);
    if matches!(
        kind,
        Sniffed::Bbolt | Sniffed::Tar | Sniffed::EncryptionConfig
    ) {
        return Err(Error::new(format!(
            "{}: not a log: this looks like {}; use {}",
            path.display(),
            kind.describe(),
            flag_for(kind).unwrap_or("another flag")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_what_people_give_by_mistake() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Sniffed::Gzip);
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Sniffed::Zstd);
        assert_eq!(sniff(b"\xfd7zXZ\0\0"), Sniffed::Xz);
        let mut meta = vec![0u8; 64];
        meta[16..20].copy_from_slice(&0xED0C_DAEDu32.to_le_bytes());
        assert_eq!(sniff(&meta), Sniffed::Bbolt);
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&tar), Sniffed::Tar);
        assert_eq!(
            sniff(b"apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"),
            Sniffed::EncryptionConfig
        );
        assert_eq!(
            sniff(b"I1116 10:00:00.000000       1 server.go:1] hi\n"),
            Sniffed::Log
        );
        assert_eq!(
            sniff(b"2026-11-16T10:00:00.1Z stderr F E1116 x\n"),
            Sniffed::Log
        );
        assert_eq!(sniff(b"kind: Pod\n"), Sniffed::Manifest);
        assert_eq!(sniff(b"hello\n"), Sniffed::Text);
        assert_eq!(sniff(b"\0\0\0\x01\x02"), Sniffed::Unknown);
    }

    #[test]
    fn decompresses_gzip_and_names_damage() {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&[7u8; 10000]).unwrap();
        let gz = e.finish().unwrap();
        assert_eq!(
            decompress(Sniffed::Gzip, &gz, "s.gz").unwrap(),
            vec![7u8; 10000]
        );
        let cut = &gz[..gz.len() - 6];
        let err = decompress(Sniffed::Gzip, cut, "s.gz")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("s.gz: a gzip-compressed file is damaged: "),
            "{err}"
        );
    }
}
