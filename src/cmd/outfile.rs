//! Output files: the one place a command writes to disk.
//!
//! Evidence is never written to. Every output path (`--output-file`, `validate --metrics`) goes
//! through [`Guard::check`], which refuses a path that is one of the command's inputs (same device
//! and inode, so symlinks and hard links are caught), a path inside an input directory, and an
//! existing file unless `--force`. [`AtomicFile`] then writes a temporary file in the target's
//! directory and moves it into place only once everything is written: a reader (a Prometheus
//! textfile collector, a person with `less`) never sees half a file, and a failed run leaves the
//! previous file as it was. Outputs that can hold secrets (reports, `--reveal`) are created 0600.

use super::Error;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Who may read an output file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// 0600: reports, anything printed with `--reveal`, listings of key names.
    Private,
    /// 0644: metrics a collector running as another user must read. Never holds secrets.
    Shared,
}

impl Mode {
    fn bits(self) -> u32 {
        match self {
            Mode::Private => 0o600,
            Mode::Shared => 0o644,
        }
    }
}

/// The identity of one input: what an output must never be.
#[derive(Clone, Debug)]
struct Identity {
    shown: String,
    dev: u64,
    ino: u64,
    dir: bool,
    /// For directories: the canonical path, to refuse outputs inside it.
    canonical: Option<PathBuf>,
}

/// The inputs of one command run.
#[derive(Clone, Debug, Default)]
pub struct Guard {
    inputs: Vec<Identity>,
}

#[cfg(unix)]
fn dev_ino(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn dev_ino(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

impl Guard {
    pub fn new() -> Guard {
        Guard::default()
    }

    /// Records an input path (a file or a directory). Symlinks are followed: the identity is the
    /// file the data comes from. A path that does not exist (or `-`) has nothing to protect.
    pub fn input(&mut self, path: impl AsRef<Path>) -> &mut Guard {
        let path = path.as_ref();
        if let Ok(m) = std::fs::metadata(path) {
            let (dev, ino) = dev_ino(&m);
            self.inputs.push(Identity {
                shown: path.display().to_string(),
                dev,
                ino,
                dir: m.is_dir(),
                canonical: if m.is_dir() {
                    std::fs::canonicalize(path).ok()
                } else {
                    None
                },
            });
        }
        self
    }

    /// Records an input given as `[NODE=]PATH` (key sources, logs).
    pub fn input_spec(&mut self, spec: &str) -> &mut Guard {
        self.input(spec);
        if let Some((_, p)) = spec.split_once('=') {
            self.input(p);
        }
        self
    }

    /// Refuses `out` (given with `flag`) when it is an input, lies inside an input directory, is
    /// a directory, or exists and `force` is not set.
    pub fn check(&self, out: &Path, flag: &str, force: bool) -> Result<(), Error> {
        let shown = out.display();
        let existing = std::fs::metadata(out).ok();
        if let Some(m) = &existing {
            let id = dev_ino(m);
            if let Some(i) = self.inputs.iter().find(|i| (i.dev, i.ino) == id) {
                let how = if i.shown == shown.to_string() {
                    String::new()
                } else {
                    " (the same file, through a link)".to_string()
                };
                return Err(Error::new(format!(
                    "{flag} {shown}: refusing to write over an input, {}{how}; evidence is never written to",
                    i.shown
                )));
            }
            if m.is_dir() {
                return Err(Error::new(format!(
                    "{flag} {shown}: is a directory; give a file name"
                )));
            }
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if let Ok(parent) = std::fs::canonicalize(&parent) {
            if let Some(i) = self
                .inputs
                .iter()
                .find(|i| i.dir && i.canonical.as_ref().is_some_and(|c| parent.starts_with(c)))
            {
                return Err(Error::new(format!(
                    "{flag} {shown}: refusing to write inside the input directory {}; evidence is never written to",
                    i.shown
                )));
            }
        }
        if existing.is_some() && !force {
            return Err(Error::new(format!(
                "{flag} {shown}: exists; add --force to replace it"
            )));
        }
        Ok(())
    }
}

/// A file being written: a temporary file beside the target, moved into place by
/// [`AtomicFile::commit`]. Dropped without a commit, the temporary file is removed.
pub struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
    force: bool,
}

impl AtomicFile {
    /// Creates the temporary file (`.NAME.PID.tmp` in the target's directory, `O_EXCL`, `mode`).
    pub fn create(dest: &Path, mode: Mode, force: bool) -> Result<AtomicFile, Error> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::new(format!("{}: not a file name", dest.display())))?;
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode.bits());
        }
        let mut last = None;
        for n in 0..16u32 {
            let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
            match opts.open(&tmp) {
                Ok(f) => {
                    return Ok(AtomicFile {
                        dest: dest.to_path_buf(),
                        tmp,
                        file: Some(BufWriter::with_capacity(1 << 20, f)),
                        force,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => {
                    return Err(Error::new(format!(
                        "{}: cannot create a file in {}: {e}",
                        dest.display(),
                        dir.display()
                    )))
                }
            }
        }
        Err(Error::new(format!(
            "{}: cannot create a temporary file: {}",
            dest.display(),
            last.map(|e| e.to_string()).unwrap_or_default()
        )))
    }

    /// Flushes, syncs and moves the file into place. Without `--force` the move is a hard link
    /// (fails if the target appeared meanwhile) so a file created after the check is not replaced.
    pub fn commit(mut self) -> Result<(), Error> {
        let err = |e: std::io::Error| Error::new(format!("{}: {e}", self.dest.display()));
        let w = self.file.take().expect("file present until commit");
        let f = w.into_inner().map_err(|e| err(e.into_error()))?;
        f.sync_all().map_err(err)?;
        drop(f);
        if self.force {
            std::fs::rename(&self.tmp, &self.dest).map_err(err)?;
        } else {
            let linked = std::fs::hard_link(&self.tmp, &self.dest);
            let _ = std::fs::remove_file(&self.tmp);
            linked.map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::new(format!(
                        "{}: exists; add --force to replace it",
                        self.dest.display()
                    ))
                } else {
                    err(e)
                }
            })?;
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("file already committed")),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Checks `dest` against `guard` and writes it atomically with what `fill` produces.
pub fn write_file(
    dest: &Path,
    flag: &str,
    guard: &Guard,
    force: bool,
    mode: Mode,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    guard.check(dest, flag, force)?;
    let mut f = AtomicFile::create(dest, mode, force)?;
    fill(&mut f).map_err(|e| Error::new(format!("{}: {e}", dest.display())))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("outfile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn refuses_inputs_links_and_existing_files() {
        let d = tmpdir("refuse");
        let input = d.join("snap.db");
        std::fs::write(&input, b"evidence").unwrap();
        let hard = d.join("hard.db");
        std::fs::hard_link(&input, &hard).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&input, d.join("sym.db")).unwrap();
        let mut g = Guard::new();
        g.input(&input);
        for p in [input.clone(), hard.clone(), d.join("sym.db")] {
            let e = g.check(&p, "--output-file", true).unwrap_err().to_string();
            assert!(e.contains("refusing to write over an input"), "{e}");
        }
        let other = d.join("old.txt");
        std::fs::write(&other, b"x").unwrap();
        let e = g
            .check(&other, "--output-file", false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "--output-file {}: exists; add --force to replace it",
                other.display()
            )
        );
        assert!(g.check(&other, "--output-file", true).is_ok());
        assert_eq!(std::fs::read(&input).unwrap(), b"evidence");
    }

    #[test]
    fn refuses_inside_an_input_directory() {
        let d = tmpdir("dir");
        let logs = d.join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let mut g = Guard::new();
        g.input(&logs);
        let e = g
            .check(&logs.join("r.txt"), "--output-file", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("inside the input directory"), "{e}");
        assert!(g.check(&d.join("r.txt"), "--output-file", false).is_ok());
    }

    #[test]
    fn atomic_write_mode_and_cleanup() {
        let d = tmpdir("atomic");
        let dest = d.join("r.txt");
        write_file(&dest, "-f", &Guard::new(), false, Mode::Private, |w| {
            w.write_all(b"hello")
        })
        .unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(&dest).unwrap().permissions().mode();
            assert_eq!(m & 0o777, 0o600);
        }
        // A failed fill leaves the old file and no temporary file.
        let e = write_file(&dest, "-f", &Guard::new(), true, Mode::Private, |_| {
            Err(std::io::Error::other("boom"))
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
        let names: Vec<_> = std::fs::read_dir(&d).unwrap().collect();
        assert_eq!(names.len(), 1);
    }
}
