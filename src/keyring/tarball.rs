//! OpenShift `static_kuberesources_<ts>.tar.gz` (written by cluster-backup.sh): a tar of
//! `/etc/kubernetes/static-pod-resources/<component>-pod-N`. Every
//! `…/static-pod-resources/kube-apiserver-pod-N/secrets/encryption-config/encryption-config` is the
//! kube-apiserver EncryptionConfiguration of revision N.
//!
//! The file is memory-mapped read-only and gunzipped as a stream; entries are read one at a time,
//! nothing is written to disk, and no entry may inflate beyond [`MAX_ENTRY_BYTES`] (a gzip bomb
//! stops there with an error naming the entry). Headers are read by [`super::tar`], whose errors
//! name offsets and fields, never bytes: a misaligned header is key material. Damage outside the
//! configs (a bad CRC, a cut-off end, trailing bytes) is a warning; inside a config, an error.

use super::config::{self, EncryptionConfig};
use super::tar::{End, TarReader};
use super::Error;
use crate::sanitize;
use std::io::Read;
use std::path::Path;

/// The most bytes we inflate for one encryption-config entry. Real ones are a few KiB.
pub const MAX_ENTRY_BYTES: u64 = 16 << 20;

/// The most bytes we inflate for the whole tarball (entries we skip are inflated too). Real
/// static_kuberesources tarballs inflate to a few MiB.
pub const MAX_TOTAL_BYTES: u64 = 1 << 30;

/// A reader that fails once more than `left` bytes have passed through it.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::other(format!(
                "the tarball inflates beyond {} MiB",
                MAX_TOTAL_BYTES >> 20
            ))
        })?;
        Ok(n)
    }
}

/// The most characters of a member name an error or warning shows (real ones are ~100).
const MAX_NAME_SHOWN: usize = 256;

/// One encryption config found in a tarball.
#[derive(Debug)]
pub struct TarballConfig {
    /// N of `kube-apiserver-pod-N`.
    pub revision: u32,
    /// The entry's path inside the tarball.
    pub entry: String,
    pub config: EncryptionConfig,
}

/// What a tarball yielded: its configs by revision, and damage met outside them (a bad gzip
/// CRC, a cut-off end, trailing bytes), one line each, never quoting content.
#[derive(Debug)]
pub struct Tarball {
    pub configs: Vec<TarballConfig>,
    pub warnings: Vec<String>,
}

/// If `path` is a kube-apiserver encryption config, its revision. Accepts any leading directories
/// (`etc/kubernetes/static-pod-resources/…`, `./static-pod-resources/…`, a backup-dir prefix).
pub fn revision_of(path: &str) -> Option<u32> {
    let mut parts = path.rsplit('/').filter(|p| !p.is_empty() && *p != ".");
    let tail: [&str; 5] = std::array::from_fn(|_| parts.next().unwrap_or(""));
    // `tail` is in reverse: encryption-config, encryption-config, secrets, pod dir, root.
    if tail[4] != "static-pod-resources"
        || tail[2] != "secrets"
        || tail[1] != "encryption-config"
        || tail[0] != "encryption-config"
    {
        return None;
    }
    let rev = tail[3].strip_prefix("kube-apiserver-pod-")?;
    if rev.is_empty() || !rev.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rev.parse().ok()
}

/// Reads every kube-apiserver encryption config in the tarball at `path`, sorted by revision.
/// `display` is the name errors carry.
pub fn read(path: &Path, display: &str) -> Result<Tarball, Error> {
    let io = |e: std::io::Error| Error::Io {
        file: display.to_string(),
        source: e,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // SAFETY: read-only mapping; if another process truncates the file while we read it we may
    // get SIGBUS, the same caveat ripgrep accepts. The bytes are only read through the gunzip
    // stream, which bounds-checks everything.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
    read_bytes(&map, display)
}

/// Where the reader stands, for messages: ``last member read: #3 `a/b` ``.
fn position(index: u64, prev: &Option<String>) -> String {
    match prev {
        Some(p) => format!("last member read: #{index} `{p}`"),
        None => "no member read yet".to_string(),
    }
}

/// As [`read`], over bytes already in memory.
pub fn read_bytes(bytes: &[u8], display: &str) -> Result<Tarball, Error> {
    let invalid = |message: String| Error::Invalid {
        file: display.to_string(),
        message,
    };
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(invalid(
            "not gzip-compressed (expected a static_kuberesources_*.tar.gz)".to_string(),
        ));
    }
    // `bufread` so that what follows the gzip member is left in the slice (trailing data).
    let gz = Capped {
        inner: flate2::bufread::GzDecoder::new(bytes),
        left: MAX_TOTAL_BYTES,
    };
    let mut tar = TarReader::new(gz);
    let mut configs = Vec::new();
    let mut warnings = Vec::new();
    let mut index = 0u64;
    let mut prev: Option<String> = None;
    let mut complete = true;
    loop {
        let member = match tar.next_member() {
            Ok(Ok(m)) => m,
            Ok(Err(End::Marker)) => break,
            Ok(Err(End::NoMarker)) => {
                warnings.push(format!(
                    "the tar stream ends without the end-of-archive blocks ({}); it may be cut off",
                    position(index, &prev)
                ));
                break;
            }
            Err(e) => {
                let message = format!("{e} ({})", position(index, &prev));
                if configs.is_empty() {
                    return Err(invalid(message));
                }
                warnings.push(format!("{message}; the members after it are not read"));
                complete = false;
                break;
            }
        };
        index += 1;
        let shown = sanitize::capped(&member.name, MAX_NAME_SHOWN);
        let revision = member
            .is_file()
            .then(|| revision_of(&member.name))
            .flatten();
        if let Some(revision) = revision {
            let entry_display = format!("{display}:{shown}");
            let buf = tar
                .read_data(&member, MAX_ENTRY_BYTES)
                .map_err(|e| Error::Invalid {
                    file: entry_display.clone(),
                    message: e.to_string(),
                })?;
            if buf.len() as u64 > MAX_ENTRY_BYTES {
                return Err(Error::Invalid {
                    file: entry_display,
                    message: format!("entry inflates beyond {} MiB", MAX_ENTRY_BYTES >> 20),
                });
            }
            let config = config::parse(&buf, &entry_display)?;
            configs.push(TarballConfig {
                revision,
                entry: member.name,
                config,
            });
        }
        prev = Some(shown);
    }
    if complete {
        // Read to the end of the gzip member so its CRC-32 and length are checked: tar stops
        // at the end-of-archive blocks, before the gzip trailer (RFC 1952 section 2.3.1).
        let archive_end = tar.offset();
        let mut gz = tar.into_inner();
        match std::io::copy(&mut gz, &mut std::io::sink()) {
            Ok(_) => {
                let rest = gz.inner.into_inner();
                if !rest.is_empty() {
                    warnings.push(format!(
                        "{} bytes follow the gzip stream (at byte {}) and are not read",
                        rest.len(),
                        bytes.len() - rest.len()
                    ));
                }
            }
            Err(e) => warnings.push(format!(
                "the gzip stream is damaged after the end of the archive (inflated offset \
                 {archive_end}): {e}; what was read may be damaged too"
            )),
        }
    }
    if configs.is_empty() {
        return Err(Error::NoEncryptionConfig {
            file: display.to_string(),
        });
    }
    // Sorting is n log n; the revision ties keep tarball order.
    configs.sort_by_key(|c| c.revision);
    Ok(Tarball { configs, warnings })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a .tar.gz in memory from (path, contents).
    pub(crate) fn make_tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (path, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o600);
            h.set_cksum();
            b.append_data(&mut h, path, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    pub(crate) const OPENSHIFT_CONFIG: &str = r#"{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"2","secret":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}]}},{"aescbc":{"keys":[{"name":"1","secret":"ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="}]}},{"identity":{}},{"aesgcm":{"keys":[{"name":"1","secret":"AAAAAAAAAAAAAAAAAAAAAA=="}]}}]},{"resources":["configmaps"],"providers":[{"aescbc":{"keys":[{"name":"2","secret":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}]}},{"identity":{}}]}]}"#;

    #[test]
    fn revision_from_nested_paths() {
        assert_eq!(
            revision_of("etc/kubernetes/static-pod-resources/kube-apiserver-pod-7/secrets/encryption-config/encryption-config"),
            Some(7)
        );
        assert_eq!(
            revision_of("./backup/static-pod-resources/kube-apiserver-pod-12/secrets/encryption-config/encryption-config"),
            Some(12)
        );
        assert_eq!(
            revision_of("static-pod-resources/kube-controller-manager-pod-3/secrets/encryption-config/encryption-config"),
            None
        );
        assert_eq!(
            revision_of("static-pod-resources/kube-apiserver-pod-x/secrets/encryption-config/encryption-config"),
            None
        );
        assert_eq!(revision_of("encryption-config"), None);
    }

    #[test]
    fn finds_every_revision_in_order() {
        let tgz = make_tgz(&[
            ("static-pod-resources/etcd-pod-3/configmaps/etcd-pod/pod.yaml", b"x"),
            (
                "etc/kubernetes/static-pod-resources/kube-apiserver-pod-9/secrets/encryption-config/encryption-config",
                OPENSHIFT_CONFIG.as_bytes(),
            ),
            (
                "etc/kubernetes/static-pod-resources/kube-apiserver-pod-8/secrets/encryption-config/encryption-config",
                OPENSHIFT_CONFIG.as_bytes(),
            ),
        ]);
        let found = read_bytes(&tgz, "b.tar.gz").unwrap().configs;
        assert_eq!(found.iter().map(|c| c.revision).collect::<Vec<_>>(), [8, 9]);
        assert_eq!(found[0].config.rules.len(), 2);
    }

    #[test]
    fn no_config_and_bad_config_are_named() {
        let tgz = make_tgz(&[("static-pod-resources/etcd-pod-3/x", b"x")]);
        assert_eq!(
            read_bytes(&tgz, "b.tar.gz").unwrap_err().to_string(),
            "b.tar.gz: no static-pod-resources/kube-apiserver-pod-N/secrets/encryption-config/encryption-config in the tarball"
        );
        let bad = OPENSHIFT_CONFIG.replace("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=", "Zm=");
        let p =
            "static-pod-resources/kube-apiserver-pod-4/secrets/encryption-config/encryption-config";
        let tgz = make_tgz(&[(p, bad.as_bytes())]);
        assert_eq!(
            read_bytes(&tgz, "b.tar.gz").unwrap_err().to_string(),
            format!(
                "b.tar.gz:{p}: resources[0].providers[1].aescbc.keys[0].secret: not valid base64"
            )
        );
        let e = read_bytes(b"not gzip", "b.tar.gz").unwrap_err().to_string();
        assert_eq!(
            e,
            "b.tar.gz: not gzip-compressed (expected a static_kuberesources_*.tar.gz)"
        );
        // gzip, but not a tar inside.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &[7u8; 700]).unwrap();
        let e = read_bytes(&gz.finish().unwrap(), "b.tar.gz")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("b.tar.gz: "), "{e}");
    }

    #[test]
    fn gzip_bomb_is_capped() {
        let p =
            "static-pod-resources/kube-apiserver-pod-4/secrets/encryption-config/encryption-config";
        let big = vec![b' '; (MAX_ENTRY_BYTES + 10) as usize];
        let tgz = make_tgz(&[(p, &big)]);
        assert!(tgz.len() < 1 << 20);
        let e = read_bytes(&tgz, "b.tar.gz").unwrap_err().to_string();
        assert_eq!(e, format!("b.tar.gz:{p}: entry inflates beyond 16 MiB"));
    }
}
