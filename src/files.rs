//! Every file flowlab reads or writes goes through here.
//!
//! Reading: one bounded reader for scenarios, comparison files, shards and their manifests, with
//! the same size cap and the same messages; `-` is standard input. A huge file or a device that
//! never ends (`/dev/zero`) stops at the cap, so it cannot exhaust memory.
//!
//! Writing: an output is checked before any work is done (`check_output`): its directory exists
//! and takes files, it is not a directory, not reached through a symbolic link, not an input of
//! the run, and an existing file is overwritten only when flowlab wrote it (it says how it knows)
//! or with `--force`. Files are written under a temporary name in the same directory and renamed
//! into place (`write_atomic`, `AtomicFile`), so an interrupted run leaves no half file.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Largest input read (bytes): scenarios, comparisons, shards' results and manifests.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The operating system refused, or the path is not a file.
    #[error("{path}: cannot read {what}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What it was meant to be ("scenario", "comparison file", ...).
        what: &'static str,
        /// Cause.
        source: std::io::Error,
    },
    /// Over the cap.
    #[error("{path}: larger than {limit} bytes; no {what} needs that much (is it the right file?)")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What it was meant to be.
        what: &'static str,
        /// The cap.
        limit: u64,
    },
    /// Not UTF-8.
    #[error("{path}: cannot read {what}: not UTF-8 text (byte {at})")]
    NotText {
        /// The file.
        path: PathBuf,
        /// What it was meant to be.
        what: &'static str,
        /// Offset of the first byte that is not UTF-8.
        at: usize,
    },
}

/// Reads the text file at `path` (`-`: standard input), at most `MAX_INPUT_BYTES`; `what` names
/// it in messages.
pub fn read_text(path: &Path, what: &'static str) -> Result<String, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        what,
        source,
    };
    let reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        if path.is_dir() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "it is a directory",
            )));
        }
        Box::new(std::fs::File::open(path).map_err(io)?)
    };
    let mut bytes = vec![];
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
            what,
            limit: MAX_INPUT_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|e| InputError::NotText {
        path: path.to_path_buf(),
        what,
        at: e.utf8_error().valid_up_to(),
    })
}

/// Reads at most `limit` bytes from the start of `path` (for recognising flowlab's own files).
pub fn head(path: &Path, limit: u64) -> Vec<u8> {
    let mut bytes = vec![];
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(limit).read_to_end(&mut bytes);
    }
    bytes
}

/// Whether `a` and `b` name the same file (also through links and `..`).
pub fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// An output about to be written.
pub struct Output<'a> {
    /// The option that named it, for messages (`--out`, `--metrics`).
    pub flag: &'a str,
    /// Where.
    pub path: &'a Path,
    /// Whether an existing file at `path` is flowlab's own output of this kind (a metrics CSV
    /// with flowlab's header, a PNG that says flowlab made it): those are overwritten.
    pub ours: &'a dyn Fn(&Path) -> bool,
    /// What flowlab's own file of this kind looks like, for the message.
    pub kind: &'a str,
}

/// Checks an output before any work: see the module's documentation. `inputs` are the run's
/// input files; `force` allows overwriting a file flowlab did not write.
pub fn check_output(out: &Output, inputs: &[&Path], force: bool) -> Result<(), String> {
    let (flag, p) = (out.flag, out.path);
    let at = p.display();
    if let Ok(m) = std::fs::symlink_metadata(p) {
        if m.file_type().is_symlink() {
            return Err(format!(
                "{flag} {at}: is a symbolic link; flowlab does not write through links (give the file it points to, or another name)"
            ));
        }
        if m.is_dir() {
            return Err(format!(
                "{flag} {at}: is a directory; give a file name inside it"
            ));
        }
        if !m.is_file() {
            return Err(format!("{flag} {at}: is not a regular file"));
        }
    }
    if let Some(i) = inputs.iter().find(|i| same_file(p, i)) {
        return Err(format!(
            "{flag} {at}: is an input of this run ({}); give another name",
            i.display()
        ));
    }
    check_dir(flag, &parent(p))?;
    // An empty file holds nothing to lose (`mktemp` makes one).
    let empty = std::fs::metadata(p).is_ok_and(|m| m.len() == 0);
    if p.exists() && !force && !empty && !(out.ours)(p) {
        return Err(format!(
            "{flag} {at}: exists and is not {}; give --force to overwrite it, or another name",
            out.kind
        ));
    }
    Ok(())
}

/// The directory a file goes in (`.` for a bare name).
pub fn parent(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The directory `dir` exists, is a directory (not through a link) and takes new files.
pub fn check_dir(flag: &str, dir: &Path) -> Result<(), String> {
    let at = dir.display();
    match std::fs::symlink_metadata(dir) {
        Err(_) => {
            return Err(format!(
                "{flag}: the directory {at} does not exist; create it first"
            ));
        }
        Ok(m) if m.file_type().is_symlink() && !dir.is_dir() => {
            return Err(format!("{flag}: {at} is a link to no directory"));
        }
        Ok(_) if !dir.is_dir() => {
            return Err(format!("{flag}: {at} is a file, not a directory"));
        }
        Ok(_) => {}
    }
    let probe = dir.join(format!(".flowlab-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!("{flag}: cannot write in {at}: {e}")),
    }
}

/// The temporary name `path` is written under before it is renamed into place: hidden, in the
/// same directory (so the rename is atomic), with the same extension (encoders pick the format
/// by it).
pub fn temporary(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or("out".into(), |n| n.to_string_lossy().to_string());
    let ext = path
        .extension()
        .map_or(String::new(), |e| format!(".{}", e.to_string_lossy()));
    parent(path).join(format!(".{stem}.flowlab-{}-part{ext}", std::process::id()))
}

/// Renames the finished temporary file `tmp` (from `temporary(path)`) to `path`; on failure
/// the temporary file is removed.
pub fn rename_into_place(tmp: &Path, path: &Path) -> Result<(), String> {
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        format!("{}: {e}", path.display())
    })
}

/// Writes `bytes` to `path` under a temporary name, then renames it into place (a link at
/// `path` is replaced, never followed).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.commit()
}

/// A file written under a temporary name and renamed into place by `commit`; dropped without
/// `commit`, the temporary file is removed and `path` is untouched.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> Result<Self, String> {
        let tmp = temporary(path);
        let file = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            file: Some(std::io::BufWriter::new(file)),
        })
    }

    /// Flushes and renames the file into place.
    pub fn commit(mut self) -> Result<(), String> {
        let err = |e: std::io::Error| format!("{}: {e}", self.path.display());
        if let Some(f) = self.file.take() {
            let f = f.into_inner().map_err(|e| err(e.into_error()))?;
            f.sync_all().map_err(err)?;
        }
        std::fs::rename(&self.tmp, &self.path).map_err(err)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("already committed")),
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

/// SHA-256 of the file at `path`, read in pieces (any size), in hex; `None` if unreadable.
pub fn digest_file(path: &Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Some(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// SHA-256 of `bytes`, in hex.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_file_dropped_before_commit_leaves_nothing_and_the_old_file_whole() {
        let dir = std::env::temp_dir().join(format!("flowlab-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("out.csv");
        std::fs::write(&p, "old").unwrap();
        {
            let mut f = AtomicFile::create(&p).unwrap();
            f.write_all(b"half of a new fi").unwrap();
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
