//! The build cache: each post's model as the last build read it, kept in
//! one JSON file beside the state, so that a build reads again only the
//! files that changed. A file is taken from the cache only when its path,
//! size, modification time (to the nanosecond) and inode are those it had,
//! and its modification time falls before the second the last build began
//! (git's rule for a racily clean index: a file written in that second may
//! have changed again without its time showing it). Everything reading a
//! post depends on besides the file (the site's settings, the blog's front
//! matter defaults, the program's version) is one key: when it changes the
//! whole cache is dropped. A post's rendered body is kept too, under a
//! second key: what rendering looks up besides the post (every file of
//! `_includes/`, every post's URL for `{% post_url %}`); when that changes
//! the bodies are rendered again and the models kept. A cache that cannot be read is ignored, never an
//! error: the build reads every post, as without one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::output;
use crate::post::{Post, Rendered, Rules};

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
    /// Its body, when a build rendered it.
    #[serde(default)]
    pub(crate) rendered: Option<Rendered>,
    /// Whether rendering it looked up other posts (`{% post_url %}`,
    /// `{% link %}`): then the body holds only while every post's URL does.
    #[serde(default)]
    pub(crate) links_posts: bool,
}

/// The file's content.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    format: u32,
    key: String,
    /// The key of the rendered bodies (see [`render_key`]).
    #[serde(default)]
    render_key: String,
    /// The fingerprint of every post's URL, for bodies that link to posts.
    #[serde(default)]
    site_key: u64,
    /// When the build that wrote it began, nanoseconds since the epoch.
    started: i128,
    entries: Vec<Entry>,
}

/// A cache read at the start of a build.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    /// Files modified at or after this instant are read again.
    racy_from: i128,
    /// The key its rendered bodies were made under.
    render_key: String,
    /// The fingerprint of every post's URL they were made under.
    site_key: u64,
    entries: HashMap<PathBuf, (Stamp, Post, Option<Rendered>, bool)>,
}

impl Cache {
    /// The model of `path` if the cache holds it for exactly this `stamp`
    /// and the file was not modified in or after the second of the last build.
    pub(crate) fn get(&self, path: &Path, stamp: Stamp) -> Option<&Post> {
        let (known, post, _, _) = self.entries.get(path)?;
        (*known == stamp && stamp.modified < self.racy_from).then_some(post)
    }

    /// The rendered body of `path`, on the terms of [`Cache::get`], if it
    /// was rendered under `render_key`, and, for a body that links to
    /// other posts, with every post's URL as `site_key` fingerprints: the
    /// body and whether it links to posts.
    pub(crate) fn rendered(
        &self,
        path: &Path,
        stamp: Stamp,
        render_key: &str,
        site_key: u64,
    ) -> Option<(&Rendered, bool)> {
        let (known, _, rendered, links_posts) = self.entries.get(path)?;
        if *known != stamp
            || stamp.modified >= self.racy_from
            || self.render_key != render_key
            || (*links_posts && self.site_key != site_key)
        {
            return None;
        }
        rendered.as_ref().map(|body| (body, *links_posts))
    }

    /// The fingerprint of every post's URL its bodies were made under.
    pub(crate) fn site_key(&self) -> u64 {
        self.site_key
    }

    /// The key its rendered bodies were made under.
    pub(crate) fn render_key(&self) -> &str {
        &self.render_key
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

/// The files of `_includes/` read at most: past this, bodies are not kept.
const MAX_INCLUDE_BYTES: u64 = 64 * 1024 * 1024;

/// The key of what rendering a post looks up besides the post, the rules
/// and the other posts' URLs: every file under `includes` with its bytes. `None` (bodies not kept) when the folder holds more than
/// [`MAX_INCLUDE_BYTES`] or cannot be read whole.
pub(crate) fn render_key(includes: &Path) -> Option<String> {
    use std::hash::{Hash, Hasher};
    // Within one binary the same; across binaries the whole key changes
    // with the version anyway, and a differing hash only costs renders.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut pending = vec![includes.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && dir == includes => break,
            Err(_) => return None,
        };
        for entry in entries {
            let path = entry.ok()?.path();
            let meta = std::fs::metadata(&path).ok()?;
            if meta.is_dir() {
                if files.len() + pending.len() > 100_000 {
                    return None;
                }
                pending.push(path);
            } else {
                files.push((path, meta.len()));
            }
        }
    }
    files.sort();
    if files.iter().map(|(_, size)| size).sum::<u64>() > MAX_INCLUDE_BYTES {
        return None;
    }
    for (path, _) in &files {
        path.hash(&mut hasher);
        std::fs::read(path).ok()?.hash(&mut hasher);
    }
    Some(format!("{:016x}", hasher.finish()))
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
        .map(|entry| {
            let value = (entry.stamp, entry.post, entry.rendered, entry.links_posts);
            (entry.path, value)
        })
        .collect();
    (
        Cache {
            racy_from,
            render_key: stored.render_key,
            site_key: stored.site_key,
            entries,
        },
        None,
    )
}

/// Writes the cache at `path`, whole or not at all.
pub(crate) fn write(
    path: &Path,
    key: &str,
    render_key: &str,
    site_key: u64,
    started: i128,
    entries: Vec<Entry>,
) -> Result<(), Error> {
    let stored = Stored {
        format: FORMAT,
        key: key.to_string(),
        render_key: render_key.to_string(),
        site_key,
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
