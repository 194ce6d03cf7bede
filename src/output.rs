//! The one place that writes output files: atomically, and only when the bytes change.

use std::io::Write;
use std::path::Path;

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
    if std::fs::read(path).is_ok_and(|current| current == bytes) {
        return Ok(Written::Unchanged);
    }
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(folder)
        .map_err(|err| Error::io("cannot create folder", folder, err))?;
    // A temporary file is private (0600) by default, but these files are
    // served: keep the mode of the file being replaced, else the usual 0644.
    let permissions = std::fs::metadata(path)
        .map(|meta| meta.permissions())
        .ok()
        .or_else(default_permissions);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".digest-feed-");
    if let Some(permissions) = permissions {
        builder.permissions(permissions);
    }
    let mut temp = builder
        .tempfile_in(folder)
        .map_err(|err| Error::io("cannot create a temporary file in", folder, err))?;
    temp.write_all(bytes)
        .map_err(|err| Error::io("cannot write", temp.path(), err))?;
    temp.as_file()
        .sync_all()
        .map_err(|err| Error::io("cannot sync", temp.path(), err))?;
    temp.persist(path)
        .map_err(|err| Error::io("cannot replace", path, err.error))?;
    Ok(Written::Changed)
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
}
