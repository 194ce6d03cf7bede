//! The one place that writes output files: atomically, and only when the bytes change.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Whether a write changed anything on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// The file was created or replaced.
    Changed,
    /// The file already held these bytes and was left alone (mtime kept).
    Unchanged,
}

/// Writes `bytes` to `path` so that a reader sees the old file or the new
/// one, never half of one: a temporary file in the same folder, synced, then
/// renamed over the old. A file that already holds `bytes` is not touched.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<Written, Error> {
    if holds(path, bytes) {
        return Ok(Written::Unchanged);
    }
    let staged = stage(path, bytes, true)?;
    replace(staged, path)?;
    Ok(Written::Changed)
}

/// Writes to `path` as [`write_atomically`] does, but neither compares
/// nor syncs: for a file a crash may only cost time to make again (the
/// build cache, which notices when it is cut short), where a sync would
/// cost every run. The bytes are made by `write` as they are written, not
/// held whole, after the first `len` bytes of `file` when `prefix` gives
/// them: copied file to file by the kernel (`copy_file_range`), not read.
///
/// The old file is removed just before the new one is renamed into its
/// place, not replaced by the rename: renamed over a file, ext4 writes
/// the new file's blocks out at once (its `auto_da_alloc`, there for
/// programs that replace a file without syncing it), and the syncs of the
/// outputs, committing the same journal, then wait for those megabytes
/// too (4 to 5 ms of a 25 ms build after one new post). Between the two, a
/// reader finds no file, and a crash leaves none: the next build reads
/// every post, as without a cache.
pub(crate) fn replace_unsynced(
    path: &Path,
    prefix: Option<(&std::fs::File, u64)>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let staged = stage_with(path, false, prefix, write)?;
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(Error::io("cannot replace", path, err));
        }
        _ => {}
    }
    replace(staged, path)
}

/// Files written all or none: each new file is written whole beside its
/// target first (a full disk, a name too long, a folder that cannot be
/// made fail here, and every temporary file is removed), and only then is
/// each renamed over its target; a rename within one folder does not run
/// out of space. A file is staged as it comes, so that its bytes need not
/// be held until the last is made (an archive of 100,000 posts is
/// gigabytes of pages); one that already holds its bytes is left alone.
#[derive(Default)]
pub(crate) struct Batch {
    /// Each file, with its staged new version when its bytes changed.
    files: Vec<(PathBuf, Option<tempfile::TempPath>)>,
}

impl Batch {
    /// Stages `bytes` for `path`, unless the file already holds them.
    /// Dropping the batch removes every staged file.
    pub(crate) fn add(&mut self, path: PathBuf, bytes: &[u8]) -> Result<(), Error> {
        let staged = if holds(&path, bytes) {
            None
        } else {
            Some(stage(&path, bytes, false)?)
        };
        self.files.push((path, staged));
        Ok(())
    }

    /// Syncs every staged file to disk, then renames each over its target:
    /// each file and whether it changed, in order. The syncs run a few at
    /// once and after every file was written: the first waits for the disk,
    /// and those after it find their data already there, where a sync per
    /// file as it was written would wait for the disk once per file.
    pub(crate) fn commit(self) -> Result<Vec<(PathBuf, Written)>, Error> {
        let staged: Vec<&tempfile::TempPath> = self
            .files
            .iter()
            .filter_map(|(_, temp)| temp.as_ref())
            .collect();
        let threads = staged.len().clamp(1, MAX_SYNC_THREADS);
        let chunk = staged.len().div_ceil(threads).max(1);
        let sync = |part: &[&tempfile::TempPath]| {
            for temp in part {
                std::fs::File::open(temp)
                    .and_then(|file| file.sync_all())
                    .map_err(|err| Error::io("cannot sync", temp, err))?;
            }
            Ok::<(), Error>(())
        };
        if staged.len() <= 1 {
            sync(&staged)?;
        } else {
            // This thread syncs the first part itself: one thread fewer
            // to start, and it would only wait.
            std::thread::scope(|scope| {
                let mut parts = staged.chunks(chunk);
                let first = parts.next().unwrap_or_default();
                let workers: Vec<_> = parts.map(|part| scope.spawn(move || sync(part))).collect();
                let mine = sync(first);
                std::iter::once(mine)
                    .chain(workers.into_iter().map(|worker| {
                        worker
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    }))
                    .collect::<Result<Vec<()>, Error>>()
            })?;
        }
        let mut written = Vec::with_capacity(self.files.len());
        for (path, temp) in self.files {
            let outcome = match temp {
                Some(temp) => {
                    replace(temp, &path)?;
                    Written::Changed
                }
                None => Written::Unchanged,
            };
            written.push((path, outcome));
        }
        Ok(written)
    }
}

/// Removes the files named `names` from each folder under `dir` that is not
/// in `keep`, and the folder once empty: what an earlier run wrote for a
/// tag that no published post carries any more. Nothing else is touched.
pub(crate) fn remove_stale(
    dir: &Path,
    keep: &[PathBuf],
    names: &[&str],
) -> Result<Vec<PathBuf>, Error> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(removed);
    };
    for entry in entries {
        let folder = entry
            .map_err(|err| Error::io("cannot read folder", dir, err))?
            .path();
        if !folder.is_dir() || keep.contains(&folder) {
            continue;
        }
        for name in names {
            let file = folder.join(name);
            match std::fs::remove_file(&file) {
                Ok(()) => removed.push(file),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(Error::io("cannot remove", &file, err)),
            }
        }
        // Left in place if it holds anything else.
        let _ = std::fs::remove_dir(&folder);
    }
    Ok(removed)
}

/// Removes each file directly in `dir` that `ours` claims by name and
/// `keep` does not hold: the pages an earlier run wrote that this one no
/// longer has (fewer posts published). Anything else is left alone.
pub(crate) fn remove_unkept(
    dir: &Path,
    keep: &[PathBuf],
    ours: impl Fn(&str) -> bool,
) -> Result<Vec<PathBuf>, Error> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(removed);
    };
    // An archive has thousands of pages: no search through the list for each.
    let keep: std::collections::HashSet<&Path> = keep.iter().map(PathBuf::as_path).collect();
    for entry in entries {
        let file = entry
            .map_err(|err| Error::io("cannot read folder", dir, err))?
            .path();
        let claimed = file.file_name().and_then(|n| n.to_str()).is_some_and(&ours);
        if !claimed || keep.contains(file.as_path()) || !file.is_file() {
            continue;
        }
        match std::fs::remove_file(&file) {
            Ok(()) => removed.push(file),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(Error::io("cannot remove", &file, err)),
        }
    }
    Ok(removed)
}

/// The start of the name of every file staged beside its target: the
/// staging process's id in it tells a file a killed run left
/// ([`remove_leftovers`]) from one a running build is writing.
fn staging_prefix() -> String {
    format!("{STAGED}{}-", std::process::id())
}

/// What every staged file's name begins with.
const STAGED: &str = ".digest-feed-";

/// Removes from `dir` the files a run killed while staging left there
/// (`.digest-feed-<id>-…` of a process no longer running): they would
/// otherwise stay beside the outputs for good, and be served with them.
/// A file of a running process, or where `/proc` cannot tell, is left;
/// so is anything that cannot be removed (this is tidying, not a write
/// the run depends on). The files removed.
pub(crate) fn remove_leftovers(dir: &Path) -> Vec<PathBuf> {
    let processes = Path::new("/proc");
    let (Ok(entries), true) = (std::fs::read_dir(dir), processes.join("self").exists()) else {
        return Vec::new();
    };
    let own = std::process::id().to_string();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(process) = name
            .to_str()
            .and_then(|name| name.strip_prefix(STAGED))
            .and_then(|rest| rest.split_once('-'))
            .map(|(process, _)| process)
            .filter(|process| !process.is_empty() && process.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let regular = entry.file_type().is_ok_and(|kind| kind.is_file());
        if regular && process != own && !processes.join(process).exists() {
            let path = entry.path();
            if std::fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    removed
}

/// At most this many files are synced at once.
const MAX_SYNC_THREADS: usize = 4;

/// Whether the file at `path` holds `bytes`: read only when it is a plain
/// file of their length (reading a FIFO there would wait for a writer for
/// good; a file of another length differs without being read).
fn holds(path: &Path, bytes: &[u8]) -> bool {
    let same_length = |meta: std::fs::Metadata| {
        meta.is_file() && u64::try_from(bytes.len()).is_ok_and(|len| meta.len() == len)
    };
    std::fs::metadata(path).is_ok_and(same_length)
        && std::fs::read(path).is_ok_and(|current| current == bytes)
}

/// `bytes` in a closed temporary file beside `path`, synced if `sync`;
/// removed when dropped unless renamed into place.
fn stage(path: &Path, bytes: &[u8], sync: bool) -> Result<tempfile::TempPath, Error> {
    stage_with(path, sync, None, |file| file.write_all(bytes))
}

/// [`stage`] with the bytes written by `write`, through a buffer, after
/// the first bytes of a file when `prefix` gives them (copied file to file).
fn stage_with(
    path: &Path,
    sync: bool,
    prefix: Option<(&std::fs::File, u64)>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<tempfile::TempPath, Error> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(folder)
        .map_err(|err| Error::io("cannot create folder", folder, err))?;
    let existing = std::fs::metadata(path).ok();
    // A folder where the file goes would fail its rename at the end, after
    // the renames of the files before it: refused here, while nothing is
    // replaced yet (a link to a folder is replaced as any link is).
    if existing.as_ref().is_some_and(std::fs::Metadata::is_dir)
        && std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir())
    {
        return Err(Error::io(
            "cannot replace",
            path,
            std::io::Error::other("it is a folder; move it away or choose another output"),
        ));
    }
    // A temporary file is private (0600) by default, but these files are
    // served: keep the mode of the file being replaced, else the usual 0644.
    let permissions = existing
        .map(|meta| meta.permissions())
        .or_else(default_permissions);
    let mut builder = tempfile::Builder::new();
    let staged_name = staging_prefix();
    builder.prefix(&staged_name);
    if let Some(permissions) = permissions {
        builder.permissions(permissions);
    }
    let mut temp = builder
        .tempfile_in(folder)
        .map_err(|err| Error::io("cannot create a temporary file in", folder, err))?;
    if let Some((file, len)) = prefix {
        copy_start(file, len, temp.as_file_mut())
            .map_err(|err| Error::io("cannot write", path, err))?;
    }
    let mut buffered = std::io::BufWriter::new(temp.as_file_mut());
    write(&mut buffered)
        .and_then(|()| buffered.flush())
        .map_err(|err| Error::io("cannot write", path, err))?;
    drop(buffered);
    if sync {
        temp.as_file()
            .sync_all()
            .map_err(|err| Error::io("cannot sync", temp.path(), err))?;
    }
    // Closed: a build of a thousand tag feeds holds no thousand open files.
    Ok(temp.into_temp_path())
}

/// Copies the first `len` bytes of `from` to `to`: file to file, so that
/// the kernel copies them (`copy_file_range`) and they need not be read.
fn copy_start(from: &std::fs::File, len: u64, to: &mut std::fs::File) -> std::io::Result<()> {
    use std::io::{Read, Seek};
    let mut from = from;
    from.seek(std::io::SeekFrom::Start(0))?;
    if std::io::copy(&mut from.take(len), to)? == len {
        Ok(())
    } else {
        Err(std::io::Error::other("the file copied from was cut short"))
    }
}

fn replace(staged: tempfile::TempPath, path: &Path) -> Result<(), Error> {
    staged
        .persist(path)
        .map_err(|err| Error::io("cannot replace", path, err.error))
}

/// Creates `path` holding `bytes` unless a file is already there, which is
/// left alone: `Written::Unchanged`. For starting files a user then edits.
pub(crate) fn create_new(path: &Path, bytes: &[u8]) -> Result<Written, Error> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .map_err(|err| Error::io("cannot create folder", folder, err))?;
    }
    let mut file = match std::fs::File::create_new(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return Ok(Written::Unchanged);
        }
        Err(err) => return Err(Error::io("cannot create", path, err)),
    };
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|err| Error::io("cannot write", path, err))?;
    Ok(Written::Changed)
}

#[cfg(unix)]
#[allow(clippy::unnecessary_wraps)] // the same signature as the non-Unix one
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replaces_and_skips_identical_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/feed.xml");
        assert_eq!(write_atomically(&path, b"one").unwrap(), Written::Changed);
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        assert_eq!(write_atomically(&path, b"one").unwrap(), Written::Unchanged);
        assert_eq!(write_atomically(&path, b"two").unwrap(), Written::Changed);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn outputs_are_readable_by_a_web_server_and_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.xml");
        write_atomically(&path, b"one").unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o644);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(
            mode(&path),
            0o640,
            "a replaced file keeps the mode its owner gave it"
        );
    }

    #[test]
    fn only_files_staged_by_processes_gone_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        // No process has an id of 2^22 (Linux's highest bound); 1 always runs.
        let names = [
            ".digest-feed-4194304-aB3xYz",
            ".digest-feed-1-aB3xYz",
            &format!("{}aB3xYz", staging_prefix()),
            ".digest-feed-aB3xYz",
            ".digest-feed--aB3xYz",
            "feed.xml",
        ];
        for name in names {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join(".digest-feed-4194304-folder")).unwrap();
        let removed = remove_leftovers(dir.path());
        if !Path::new("/proc/self").exists() {
            assert!(removed.is_empty());
            return;
        }
        assert_eq!(removed, vec![dir.path().join(names[0])]);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut kept: Vec<String> = names[1..].iter().map(ToString::to_string).collect();
        kept.push(".digest-feed-4194304-folder".to_string());
        kept.sort();
        assert_eq!(left, kept);
    }
}
