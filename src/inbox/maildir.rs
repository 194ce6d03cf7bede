//! A local Maildir (`new/`, `cur/`, `tmp/`): the messages not yet seen,
//! read one at a time, and marked seen (moved into `cur/` with the `S`
//! flag) once what they asked for is committed.
//!
//! A message is known by its file name as the file system spells it
//! (bytes, not a lossy UTF-8 copy), and marking it seen never replaces
//! another file: `new/X` beside `cur/X:2,` would otherwise both become
//! `cur/X:2,S`, one of them lost.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// A message larger than this is no request of a reader: left unread.
pub(super) const MAX_MESSAGE: u64 = 4 * 1024 * 1024;

/// One message file.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) path: PathBuf,
    /// Its unique name (without `:2,` and the flags), for people and the
    /// state: lossy where the name is not UTF-8.
    pub(super) unique: String,
    /// The same, as the file system spells it.
    unique_raw: OsString,
    flags: String,
    /// When it was delivered (the file's modification time), seconds since the epoch.
    pub(super) received_ts: i64,
}

/// Every message in `new/`, and in `cur/` without the seen flag, in name
/// order. An entry that cannot be examined is passed over (it is no
/// reason to read none of the others).
pub(super) fn unseen(dir: &Path) -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::new();
    for folder in ["new", "cur"] {
        let path = dir.join(folder);
        let listing = std::fs::read_dir(&path)
            .map_err(|err| Error::io("cannot read the Maildir folder", &path, err))?;
        for item in listing.flatten() {
            let name = item.file_name();
            if name.as_bytes().starts_with(b".") || !item.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let (unique_raw, flags) = split_name(&name);
            if flags.contains('S') {
                continue;
            }
            let received_ts = item
                .metadata()
                .and_then(|meta| meta.modified())
                .ok()
                .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |since| {
                    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
                });
            entries.push(Entry {
                path: item.path(),
                unique: unique_raw.to_string_lossy().into_owned(),
                unique_raw,
                flags,
                received_ts,
            });
        }
    }
    entries.sort_by(|a, b| a.unique_raw.cmp(&b.unique_raw));
    Ok(entries)
}

/// A file name's unique part and its flags (after `:2,`).
fn split_name(name: &OsStr) -> (OsString, String) {
    let bytes = name.as_bytes();
    match bytes.windows(3).position(|w| w == b":2,") {
        Some(at) => (
            OsString::from_vec(bytes[..at].to_vec()),
            String::from_utf8_lossy(&bytes[at + 3..]).into_owned(),
        ),
        None => (name.to_owned(), String::new()),
    }
}

/// The message's bytes; `None` when it is larger than [`MAX_MESSAGE`]. An
/// error is this message's alone (another owner's file, mode 0600): the
/// caller leaves it and reads on.
pub(super) fn read(entry: &Entry) -> Result<Option<Vec<u8>>, std::io::Error> {
    let size = std::fs::metadata(&entry.path)?.len();
    if size > MAX_MESSAGE {
        return Ok(None);
    }
    std::fs::read(&entry.path).map(Some)
}

/// Marks the message seen: `cur/<unique>:2,<flags with S>`, never over
/// another file (a name taken already gets `.2`, `.3`… after its unique
/// part, which keeps it unique).
pub(super) fn mark_seen(dir: &Path, entry: &Entry) -> Result<(), Error> {
    let mut flags: Vec<char> = entry.flags.chars().chain(['S']).collect();
    flags.sort_unstable();
    flags.dedup();
    let flags: String = flags.into_iter().collect();
    for n in 1..=100 {
        let mut name = entry.unique_raw.clone();
        if n > 1 {
            name.push(format!(".{n}"));
        }
        name.push(format!(":2,{flags}"));
        let target = dir.join("cur").join(name);
        // Moved only to a name nothing holds. (Between the look and the
        // rename only a mail client could take the name, with this very
        // unique part: the one `inbox` run at a time never does.)
        if std::fs::symlink_metadata(&target).is_err() {
            return std::fs::rename(&entry.path, &target)
                .map_err(|err| Error::io("cannot mark as seen", &entry.path, err));
        }
    }
    Err(Error::io(
        "cannot mark as seen",
        &entry.path,
        std::io::Error::other("a hundred names beside it are taken"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maildir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["new", "cur", "tmp"] {
            std::fs::create_dir(dir.path().join(folder)).unwrap();
        }
        dir
    }

    fn files(dir: &Path) -> usize {
        ["new", "cur"]
            .iter()
            .map(|f| std::fs::read_dir(dir.join(f)).unwrap().count())
            .sum()
    }

    #[test]
    fn marking_seen_never_overwrites_another_message() {
        let dir = maildir();
        let root = dir.path();
        // The same unique name twice, and two names only their invalid UTF-8 tells apart.
        std::fs::write(root.join("new/X"), "one").unwrap();
        std::fs::write(root.join("cur/X:2,"), "two").unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"new/Y\xff")), "three").unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"new/Y\xfe")), "four").unwrap();
        let unseen = unseen(root).unwrap();
        assert_eq!(unseen.len(), 4);
        for entry in &unseen {
            mark_seen(root, entry).unwrap();
        }
        assert_eq!(files(root), 4, "no message lost");
        assert!(super::unseen(root).unwrap().is_empty());
        let mut bodies: Vec<String> = std::fs::read_dir(root.join("cur"))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        bodies.sort();
        assert_eq!(bodies, ["four", "one", "three", "two"]);
    }
}
