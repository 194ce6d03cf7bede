//! A local Maildir (`new/`, `cur/`, `tmp/`): the messages not yet seen,
//! read one at a time, and marked seen (moved into `cur/` with the `S`
//! flag) once what they asked for is committed.

use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Problem};

/// A message larger than this is no request of a reader: left unread.
pub(super) const MAX_MESSAGE: u64 = 4 * 1024 * 1024;

/// One message file.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) path: PathBuf,
    /// Its unique name, without `:2,` and the flags.
    pub(super) unique: String,
    flags: String,
    /// When it was delivered (the file's modification time), seconds since the epoch.
    pub(super) received_ts: i64,
}

/// A Maildir folder that is not there gets what to make, not only the
/// system's "No such file or directory".
fn missing(dir: &Path, folder: &Path, err: std::io::Error) -> Error {
    if err.kind() != std::io::ErrorKind::NotFound {
        return Error::io("cannot read the Maildir folder", folder, err);
    }
    let dir = dir.display();
    Error::from(Problem::new(
        Location::file(folder),
        format!(
            "no such folder: [inbox] maildir must be a Maildir, with new/, cur/ and tmp/ in it; make an empty one \
             with `mkdir -p {dir}/new {dir}/cur {dir}/tmp` and have the list's mail delivered there, or set \
             [inbox] imap_host instead"
        ),
    ))
}

/// Every message in `new/`, and in `cur/` without the seen flag, in name order.
pub(super) fn unseen(dir: &Path) -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::new();
    for folder in ["new", "cur"] {
        let path = dir.join(folder);
        let listing = std::fs::read_dir(&path).map_err(|err| missing(dir, &path, err))?;
        for item in listing {
            let item = item.map_err(|err| Error::io("cannot read", &path, err))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !item.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let (unique, flags) = match name.split_once(":2,") {
                Some((unique, flags)) => (unique.to_string(), flags.to_string()),
                None => (name.clone(), String::new()),
            };
            if !flags.contains('S') {
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
                    unique,
                    flags,
                    received_ts,
                });
            }
        }
    }
    entries.sort_by(|a, b| a.unique.cmp(&b.unique));
    Ok(entries)
}

/// The message's bytes; `None` when it is larger than [`MAX_MESSAGE`].
pub(super) fn read(entry: &Entry) -> Result<Option<Vec<u8>>, Error> {
    let size = std::fs::metadata(&entry.path)
        .map_err(|err| Error::io("cannot read", &entry.path, err))?
        .len();
    if size > MAX_MESSAGE {
        return Ok(None);
    }
    std::fs::read(&entry.path)
        .map(Some)
        .map_err(|err| Error::io("cannot read", &entry.path, err))
}

/// Marks the message seen: `cur/<unique>:2,<flags with S>`.
pub(super) fn mark_seen(dir: &Path, entry: &Entry) -> Result<(), Error> {
    let mut flags: Vec<char> = entry.flags.chars().chain(['S']).collect();
    flags.sort_unstable();
    flags.dedup();
    let flags: String = flags.into_iter().collect();
    let target = dir.join("cur").join(format!("{}:2,{flags}", entry.unique));
    std::fs::rename(&entry.path, &target)
        .map_err(|err| Error::io("cannot mark as seen", &entry.path, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_maildir_says_what_to_make() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("Maildir");
        let message = unseen(&maildir).unwrap_err().to_string();
        assert!(message.contains("Maildir/new: no such folder"), "{message}");
        assert!(
            message.contains(&format!("mkdir -p {}/new", maildir.display())),
            "{message}"
        );
        std::fs::create_dir_all(maildir.join("new")).unwrap();
        std::fs::create_dir_all(maildir.join("cur")).unwrap();
        assert!(unseen(&maildir).unwrap().is_empty());
    }
}
