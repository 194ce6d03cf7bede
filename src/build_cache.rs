//! The build cache: each post's model as the last build read it, kept in
//! one JSON file beside the state, so that a build reads again only the
//! files that changed. A file is taken from the cache only when its path,
//! size, modification time (to the nanosecond) and inode are those it had,
//! and its modification time falls before the second the last build began
//! (git's rule for a racily clean index: a file written in that second may
//! have changed again without its time showing it). Everything reading a
//! post depends on besides the file (the site's settings, the blog's front
//! matter defaults, the program's version) is one key: when it changes the
//! whole cache is dropped. A cache that cannot be read is ignored, never an
//! error: the build reads every post, as without one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::output;
use crate::post::{Post, Rules};

/// The cache file's name, in the state's folder.
pub(crate) const FILE_NAME: &str = "build-cache.json";

/// A cache file larger than this is not read (it is rebuilt): about 8 KB a
/// post for 64,000 posts, far more than a model takes.
const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// The layout of the file; another is ignored.
const FORMAT: u32 = 1;

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Stamp {
    /// Bytes.
    size: u64,
    /// Modification time, nanoseconds since the epoch.
    modified: i128,
    /// The inode: a file renamed over another keeps its own.
    inode: u64,
}

impl Stamp {
    /// The stamp of a file as `stat` sees it.
    pub(crate) fn of(meta: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            size: meta.len(),
            modified: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            inode: meta.ino(),
        }
    }
}

/// One post file as a build read it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    /// The file.
    pub(crate) path: PathBuf,
    /// Its stamp when it was read.
    pub(crate) stamp: Stamp,
    /// Its model, without the site it was read in.
    pub(crate) post: Post,
}

/// The file's content.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    format: u32,
    key: String,
    /// When the build that wrote it began, nanoseconds since the epoch.
    started: i128,
    entries: Vec<Entry>,
}

/// A cache read at the start of a build.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    /// Files modified at or after this instant are read again.
    racy_from: i128,
    entries: HashMap<PathBuf, (Stamp, Post)>,
}

impl Cache {
    /// The model of `path` if the cache holds it for exactly this `stamp`
    /// and the file was not modified in or after the second of the last build.
    pub(crate) fn get(&self, path: &Path, stamp: Stamp) -> Option<&Post> {
        let (known, post) = self.entries.get(path)?;
        (*known == stamp && stamp.modified < self.racy_from).then_some(post)
    }

    /// How many posts it holds.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The key of everything reading a post depends on besides its file: the
/// program's version, the posts folder, and the rules it is read with (the
/// site's settings, the blog's `_config.yml` defaults and separator, ...).
#[allow(clippy::unnecessary_debug_formatting)] // a key, exact and escaped, not a message
pub(crate) fn key(rules: &Rules, posts_dir: &Path) -> String {
    format!(
        "{} {} {posts_dir:?} {rules:?}",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    )
}

/// Now, in nanoseconds since the epoch: a build's start.
pub(crate) fn now() -> i128 {
    jiff::Timestamp::now().as_nanosecond()
}

/// Reads the cache at `path` for `key`: an empty one when there is none,
/// or (with a note saying why) when it cannot be read or was made for
/// other settings.
pub(crate) fn read(path: &Path, key: &str) -> (Cache, Option<String>) {
    let bytes = match std::fs::metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return (Cache::default(), None),
        Ok(meta) if meta.len() > MAX_BYTES => {
            return (
                Cache::default(),
                Some(format!(
                    "{}: over {MAX_BYTES} bytes, ignored and rebuilt",
                    path.display()
                )),
            );
        }
        _ => match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) => {
                return (
                    Cache::default(),
                    Some(format!(
                        "{}: cannot read it ({err}); rebuilt",
                        path.display()
                    )),
                );
            }
        },
    };
    let stored: Stored = match serde_json::from_slice(&bytes) {
        Ok(stored) => stored,
        Err(err) => {
            return (
                Cache::default(),
                Some(format!(
                    "{}: not a cache this version reads ({err}); rebuilt",
                    path.display()
                )),
            );
        }
    };
    if stored.format != FORMAT || stored.key != key {
        return (
            Cache::default(),
            Some(format!(
                "{}: made with other settings or another version; rebuilt",
                path.display()
            )),
        );
    }
    let second = 1_000_000_000;
    let racy_from = stored.started.div_euclid(second) * second;
    let entries = stored
        .entries
        .into_iter()
        .map(|entry| (entry.path, (entry.stamp, entry.post)))
        .collect();
    (Cache { racy_from, entries }, None)
}

/// Writes the cache at `path`, whole or not at all.
pub(crate) fn write(
    path: &Path,
    key: &str,
    started: i128,
    entries: Vec<Entry>,
) -> Result<(), Error> {
    let stored = Stored {
        format: FORMAT,
        key: key.to_string(),
        started,
        entries,
    };
    let bytes = serde_json::to_vec(&stored).map_err(|err| Error::Render {
        format: "build cache",
        reason: err.to_string(),
    })?;
    output::write_atomically(path, &bytes)?;
    Ok(())
}
