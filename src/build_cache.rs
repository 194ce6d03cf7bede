//! The build cache: each post's model as the last build read it, kept in
//! one file beside the state, so that a build reads again only the files
//! that changed. A file is taken from the cache only when its path, size,
//! modification time (to the nanosecond) and inode are those it had, and
//! its modification time falls before the second the last build began
//! (git's rule for a racily clean index: a file written in that second may
//! have changed again without its time showing it). Everything reading a
//! post depends on besides the file (the site's settings, the blog's front
//! matter defaults, the program's version) is one key: when it changes the
//! whole cache is dropped. A post's rendered body is kept too, under a
//! second key: what rendering looks up besides the post (every file of
//! `_includes/`, every post's URL for `{% post_url %}`); when that changes
//! the bodies are rendered again and the models kept. A cache that cannot
//! be read is ignored, never an error: the build reads every post, as
//! without one.
//!
//! The file is JSON, one value a line: a header, then three lines a post
//! (an index line with its file, stamp and the lengths of the next two;
//! its model; its body or `null`), then `"end"`. A build reads the header
//! and the index lines only, and parses a post's model or body when it
//! needs it (a model on the thread that reads that post); the next build's
//! file copies the lines of unchanged posts as they are. So a build after
//! one new post parses one small line per post, not every model again.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;

use crate::config::Data;
use crate::error::{Error, Problem};
use crate::output;
use crate::post::{Post, Rendered, Rules};

/// The cache file's name, in the state's folder.
pub(crate) const FILE_NAME: &str = "build-cache.json";

/// A cache file larger than this is not read (it is rebuilt): far more
/// than the models of a million posts take (about 300 bytes each).
const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// The layout of the file; another is ignored.
const FORMAT: u32 = 2;

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// One post file as this build saw it, for the next build's cache.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The file.
    pub(crate) path: PathBuf,
    /// Its stamp when it was read.
    pub(crate) stamp: Stamp,
    /// Its model: the cache's, or the one read now as its line.
    pub(crate) model: Line,
    /// Its body: none, the cache's, or the one rendered now as its line.
    pub(crate) rendered: Option<Line>,
    /// Whether rendering it looked up other posts (`{% post_url %}`,
    /// `{% link %}`): then the body holds only while every post's URL does.
    pub(crate) links_posts: bool,
}

/// A line of the cache file for the next build: kept as the cache holds
/// it (copied, never parsed and written again), or made by this build.
#[derive(Debug)]
pub(crate) enum Line {
    /// The line the cache read at the start of the build holds for the same file.
    Kept,
    /// A line this build made ([`model_line`], [`rendered_line`]).
    New(String),
}

/// The first line of the file.
#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    format: u32,
    key: String,
    /// The key of the rendered bodies (see [`render_key`]).
    render_key: String,
    /// The fingerprint of every post's URL, for bodies that link to posts.
    site_key: u64,
    /// When the build that wrote it began, nanoseconds since the epoch.
    started: i128,
    /// How many posts follow.
    entries: usize,
}

/// A post's index line: its file, its stamp, whether its body links to
/// other posts, and the lengths of the two lines that follow (its model,
/// its body or `null`), so that reading the file parses no model it does
/// not need.
/// (The time in an `i64` of nanoseconds, good to the year 2262: `serde_json`
/// reads an `i128` through a string.)
type Index = (String, u64, i64, u64, bool, usize, usize);

/// The last line: a file cut short lacks it.
const END: &[u8] = b"\"end\"\n";

/// A post's model as the cache keeps it: the fields of [`Post`] but its
/// file (the index line has it) and its site; empty and default values
/// left out, the date as an instant in the site's zone when it is in that
/// zone (the usual case), so that a line is short and quick to read.
#[derive(serde::Serialize, serde::Deserialize)]
struct Model<'a> {
    title: Cow<'a, str>,
    /// The date in nanoseconds since the epoch, when in the site's zone
    /// (and within the years 1678 to 2262 an `i64` holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<i64>,
    /// The date as RFC 9557 text, when in another zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    path: Cow<'a, str>,
    url: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    tags: Cow<'a, [String]>,
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    categories: Cow<'a, [String]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    authors: Cow<'a, [String]>,
    #[serde(default, skip_serializing_if = "is_false")]
    unpublished: bool,
    slug: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    feed_id: Option<Cow<'a, str>>,
    /// `last_modified_at` as RFC 9557 text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    excerpt_separator: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "is_false")]
    no_liquid: bool,
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    defaults: Cow<'a, [(String, Data)]>,
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    notes: Cow<'a, [Problem]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shares_url_with: Option<Cow<'a, Path>>,
    #[serde(default, skip_serializing_if = "is_false")]
    shares_id: bool,
    /// The post's key when it is not its URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<Cow<'a, str>>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if hands a reference
fn is_false(value: &bool) -> bool {
    !value
}

impl<'a> Model<'a> {
    /// The cache's form of `post`, read in `zone` (the site's).
    fn of(post: &'a Post, zone: &TimeZone) -> Model<'a> {
        let at = (post.date.time_zone() == zone)
            .then(|| i64::try_from(post.date.timestamp().as_nanosecond()).ok())
            .flatten();
        Model {
            title: Cow::Borrowed(&post.title),
            at,
            date: at.is_none().then(|| post.date.to_string()),
            path: Cow::Borrowed(&post.path),
            url: Cow::Borrowed(&post.url),
            tags: Cow::Borrowed(&post.tags),
            categories: Cow::Borrowed(&post.categories),
            description: post.description.as_deref().map(Cow::Borrowed),
            author: post.author.as_deref().map(Cow::Borrowed),
            authors: Cow::Borrowed(&post.authors),
            unpublished: !post.published,
            slug: Cow::Borrowed(&post.slug),
            feed_id: post.feed_id.as_deref().map(Cow::Borrowed),
            updated: post.updated.as_ref().map(ToString::to_string),
            excerpt_separator: post.excerpt_separator.as_deref().map(Cow::Borrowed),
            no_liquid: !post.liquid,
            defaults: Cow::Borrowed(&post.defaults),
            notes: Cow::Borrowed(&post.notes),
            shares_url_with: post.shares_url_with.as_deref().map(Cow::Borrowed),
            shares_id: post.shares_id,
            key: (post.key != post.url).then_some(Cow::Borrowed(post.key.as_str())),
        }
    }

    /// The post again, read from `source` in `zone`; `None` if a date does not read.
    fn into_post(self, source: &Path, zone: &TimeZone) -> Option<Post> {
        let (date, updated) = dates(self.at, self.date, self.updated, zone)?;
        let url = self.url.into_owned();
        Some(Post {
            source: source.to_path_buf(),
            title: self.title.into_owned(),
            date,
            path: self.path.into_owned(),
            key: self.key.map_or_else(|| url.clone(), Cow::into_owned),
            url,
            tags: self.tags.into_owned(),
            categories: self.categories.into_owned(),
            description: self.description.map(Cow::into_owned),
            author: self.author.map(Cow::into_owned),
            authors: self.authors.into_owned(),
            published: !self.unpublished,
            slug: self.slug.into_owned(),
            feed_id: self.feed_id.map(Cow::into_owned),
            updated,
            excerpt_separator: self.excerpt_separator.map(Cow::into_owned),
            liquid: !self.no_liquid,
            defaults: self.defaults.into_owned(),
            site: None,
            notes: self.notes.into_owned(),
            shares_url_with: self.shares_url_with.map(Cow::into_owned),
            shares_id: self.shares_id,
        })
    }
}

/// A model's date and `last_modified_at`; `None` if either does not read.
fn dates(
    at: Option<i64>,
    date: Option<String>,
    updated: Option<String>,
    zone: &TimeZone,
) -> Option<(jiff::ZonedDateTime, Option<jiff::ZonedDateTime>)> {
    let date = match (at, date) {
        (Some(at), _) => jiff::Timestamp::from_nanosecond(i128::from(at))
            .ok()?
            .to_zoned_datetime(zone.clone()),
        (None, Some(text)) => text.parse().ok()?,
        (None, None) => return None,
    };
    let updated = match updated {
        Some(text) => Some(text.parse().ok()?),
        None => None,
    };
    Some((date, updated))
}

/// What a build needs of every post from a model line, whichever posts its
/// outputs show: its date and place for the order, its URL, slug and
/// `feed_id` for the shared-URL and shared-id checks, its tags for the
/// per-tag feeds. The other fields are skipped unread (no copy of each
/// post's title, description, author...): the posts an output shows are
/// read whole ([`Cache::get`]).
#[derive(serde::Deserialize)]
struct Summary {
    #[serde(default)]
    at: Option<i64>,
    #[serde(default)]
    date: Option<String>,
    path: String,
    url: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    unpublished: bool,
    slug: String,
    #[serde(default)]
    feed_id: Option<String>,
    #[serde(default)]
    updated: Option<String>,
    #[serde(default)]
    notes: Vec<Problem>,
    #[serde(default)]
    shares_url_with: Option<PathBuf>,
    #[serde(default)]
    shares_id: bool,
    #[serde(default)]
    key: Option<String>,
}

impl Summary {
    /// The post in summary: the fields [`Summary`] holds, the others empty.
    fn into_post(self, source: &Path, zone: &TimeZone) -> Option<Post> {
        // `updated` is read as the whole model reads it: a summary is
        // there exactly when the whole model is.
        let (date, updated) = dates(self.at, self.date, self.updated, zone)?;
        Some(Post {
            source: source.to_path_buf(),
            title: String::new(),
            date,
            key: self.key.unwrap_or_else(|| self.url.clone()),
            path: self.path,
            url: self.url,
            tags: self.tags,
            categories: Vec::new(),
            description: None,
            author: None,
            authors: Vec::new(),
            published: !self.unpublished,
            slug: self.slug,
            feed_id: self.feed_id,
            updated,
            excerpt_separator: None,
            liquid: true,
            defaults: Vec::new(),
            site: None,
            notes: self.notes,
            shares_url_with: self.shares_url_with,
            shares_id: self.shares_id,
        })
    }
}

/// `post` as a model line of the cache (`None` if it cannot be one: a
/// path that is not UTF-8 is read again by every build).
pub(crate) fn model_line(post: &Post, zone: &TimeZone) -> Option<String> {
    post.source.to_str()?;
    serde_json::to_string(&Model::of(post, zone)).ok()
}

/// A rendered body as a line of the cache.
pub(crate) fn rendered_line(rendered: &Rendered) -> Option<String> {
    serde_json::to_string(rendered).ok()
}

/// Where one post's lines are in the file read.
#[derive(Debug)]
struct Slot {
    stamp: Stamp,
    links_posts: bool,
    model: std::ops::Range<usize>,
    /// Empty when the line is `null`.
    rendered: std::ops::Range<usize>,
}

/// A cache read at the start of a build: the file's bytes, and where each
/// post's lines are in them. A model or body is parsed only when asked
/// for, on the thread that asks (the posts are read on several).
#[derive(Debug)]
pub(crate) struct Cache {
    /// Files modified at or after this instant are read again.
    racy_from: i128,
    /// The key its rendered bodies were made under.
    render_key: String,
    /// The fingerprint of every post's URL they were made under.
    site_key: u64,
    /// The site's zone, which the models' instants are in.
    zone: TimeZone,
    /// The file.
    bytes: Vec<u8>,
    /// Keyed by the path's bytes: hashing a `Path` walks its components.
    entries: HashMap<OsString, Slot>,
}

impl Cache {
    /// A cache that holds nothing, for posts read in `zone` (the site's).
    pub(crate) fn empty(zone: TimeZone) -> Cache {
        Cache {
            racy_from: 0,
            render_key: String::new(),
            site_key: 0,
            zone,
            bytes: Vec::new(),
            entries: HashMap::new(),
        }
    }

    /// The slot of `path` if the cache holds it for exactly this `stamp`
    /// and the file was not modified in or after the second of the last build.
    fn slot(&self, path: &Path, stamp: Stamp) -> Option<&Slot> {
        self.entries
            .get(path.as_os_str())
            .filter(|slot| slot.stamp == stamp && stamp.modified < self.racy_from)
    }

    /// The model of `path` if the cache holds it for exactly this `stamp`
    /// and the file was not modified in or after the second of the last
    /// build. A model that does not read is not there: the file is read.
    pub(crate) fn get(&self, path: &Path, stamp: Stamp) -> Option<Post> {
        let slot = self.slot(path, stamp)?;
        let model: Model = serde_json::from_slice(&self.bytes[slot.model.clone()]).ok()?;
        model.into_post(path, &self.zone)
    }

    /// [`Cache::get`]'s post in summary ([`Summary`]): what a build needs
    /// of every post. The cache holds the whole model for exactly the same
    /// files and stamps.
    pub(crate) fn summary(&self, path: &Path, stamp: Stamp) -> Option<Post> {
        let slot = self.slot(path, stamp)?;
        let summary: Summary = serde_json::from_slice(&self.bytes[slot.model.clone()]).ok()?;
        summary.into_post(path, &self.zone)
    }

    /// Whether the cache holds a body of `path` that [`Cache::rendered`]
    /// gives: then whether it links to other posts.
    pub(crate) fn kept_body(
        &self,
        path: &Path,
        stamp: Stamp,
        render_key: &str,
        site_key: u64,
    ) -> Option<bool> {
        self.rendered_slot(path, stamp, render_key, site_key)
            .map(|slot| slot.links_posts)
    }

    fn rendered_slot(
        &self,
        path: &Path,
        stamp: Stamp,
        render_key: &str,
        site_key: u64,
    ) -> Option<&Slot> {
        self.slot(path, stamp).filter(|slot| {
            !slot.rendered.is_empty()
                && self.render_key == render_key
                && (!slot.links_posts || self.site_key == site_key)
        })
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
    ) -> Option<(Rendered, bool)> {
        let slot = self.rendered_slot(path, stamp, render_key, site_key)?;
        let body = serde_json::from_slice(&self.bytes[slot.rendered.clone()]).ok()?;
        Some((body, slot.links_posts))
    }

    /// The bytes of the body line the cache holds for `path`.
    pub(crate) fn body_len(&self, path: &Path) -> usize {
        self.line(path, true).map_or(0, <[u8]>::len)
    }

    /// The fingerprint of every post's URL its bodies were made under.
    pub(crate) fn site_key(&self) -> u64 {
        self.site_key
    }

    /// The key its rendered bodies were made under.
    pub(crate) fn render_key(&self) -> &str {
        &self.render_key
    }

    /// The site's zone.
    pub(crate) fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// How many posts it holds.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The bytes of `path`'s model line, or of its body line.
    fn line(&self, path: &Path, body: bool) -> Option<&[u8]> {
        let slot = self.entries.get(path.as_os_str())?;
        let range = if body { &slot.rendered } else { &slot.model };
        (!range.is_empty()).then(|| &self.bytes[range.clone()])
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

/// Reads the cache at `path` for `key`, its models in `zone` (the site's):
/// an empty one when there is none, or (with a note saying why) when it
/// cannot be read or was made for other settings.
pub(crate) fn read(path: &Path, key: &str, zone: &TimeZone) -> (Cache, Option<String>) {
    let empty = || Cache::empty(zone.clone());
    let bytes = match std::fs::metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return (empty(), None),
        Ok(meta) if meta.len() > MAX_BYTES => {
            return (
                empty(),
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
                    empty(),
                    Some(format!(
                        "{}: cannot read it ({err}); rebuilt",
                        path.display()
                    )),
                );
            }
        },
    };
    match parse(bytes, key, zone) {
        Ok(cache) => (cache, None),
        Err(Unread::OtherKey) => (
            empty(),
            Some(format!(
                "{}: made with other settings or another version; rebuilt",
                path.display()
            )),
        ),
        Err(Unread::Damaged(why)) => (
            empty(),
            Some(format!(
                "{}: not a cache this version reads ({why}); rebuilt",
                path.display()
            )),
        ),
    }
}

/// Why a cache file is not used.
enum Unread {
    /// Made with other settings or by another version.
    OtherKey,
    /// Cut short, damaged, or of another layout.
    Damaged(String),
}

/// The next line of `bytes` from `at`, without its newline, and where the one after begins.
fn next_line(bytes: &[u8], at: usize) -> Option<(std::ops::Range<usize>, usize)> {
    let rest = bytes.get(at..)?;
    let end = at + rest.iter().position(|&b| b == b'\n')?;
    Some((at..end, end + 1))
}

/// The line of `len` bytes at `at`, which a newline must end.
fn sized_line(bytes: &[u8], at: usize, len: usize) -> Option<(std::ops::Range<usize>, usize)> {
    let end = at.checked_add(len)?;
    (bytes.get(end) == Some(&b'\n')).then_some((at..end, end + 1))
}

/// The cache in `bytes`: its header and every post's index line are read,
/// its models and bodies only located.
fn parse(bytes: Vec<u8>, key: &str, zone: &TimeZone) -> Result<Cache, Unread> {
    let damaged = |why: &str| Unread::Damaged(why.to_string());
    let (first, mut at) = next_line(&bytes, 0).ok_or_else(|| damaged("no first line"))?;
    let header: Header =
        serde_json::from_slice(&bytes[first]).map_err(|err| Unread::Damaged(err.to_string()))?;
    if header.format != FORMAT {
        return Err(damaged("another layout"));
    }
    if header.key != key {
        return Err(Unread::OtherKey);
    }
    // The count comes from the file: bounded by what the file can hold.
    let mut entries = HashMap::with_capacity(header.entries.min(bytes.len() / 8));
    for _ in 0..header.entries {
        let (line, next) = next_line(&bytes, at).ok_or_else(|| damaged("cut short"))?;
        let (file, size, nanoseconds, inode, links_posts, model_len, rendered_len): Index =
            serde_json::from_slice(&bytes[line]).map_err(|err| Unread::Damaged(err.to_string()))?;
        let (model, next) =
            sized_line(&bytes, next, model_len).ok_or_else(|| damaged("cut short"))?;
        let (rendered, next) =
            sized_line(&bytes, next, rendered_len).ok_or_else(|| damaged("cut short"))?;
        let rendered = if bytes[rendered.clone()] == *b"null" {
            next..next
        } else {
            rendered
        };
        at = next;
        let stamp = Stamp {
            size,
            modified: i128::from(nanoseconds),
            inode,
        };
        let slot = Slot {
            stamp,
            links_posts,
            model,
            rendered,
        };
        entries.insert(OsString::from(file), slot);
    }
    if bytes.get(at..) != Some(END) {
        return Err(damaged("cut short"));
    }
    let second = 1_000_000_000;
    Ok(Cache {
        racy_from: header.started.div_euclid(second) * second,
        render_key: header.render_key,
        site_key: header.site_key,
        zone: zone.clone(),
        bytes,
        entries,
    })
}

/// A post's file, time and two lines for the file; none for a post a line
/// cannot hold (a path that is not UTF-8).
fn lines_of<'a>(entry: &'a Entry, old: &'a Cache) -> Option<(&'a str, i64, &'a [u8], &'a [u8])> {
    let file = entry.path.to_str()?;
    let modified = i64::try_from(entry.stamp.modified).ok()?;
    // One look-up of the old cache's slot for both lines, and none for a
    // post whose lines are both new.
    let keeps = matches!(entry.model, Line::Kept) || matches!(entry.rendered, Some(Line::Kept));
    let slot = keeps
        .then(|| old.entries.get(entry.path.as_os_str()))
        .flatten();
    let old_line =
        |range: &std::ops::Range<usize>| (!range.is_empty()).then(|| &old.bytes[range.clone()]);
    let model = match &entry.model {
        Line::Kept => old_line(&slot?.model)?,
        Line::New(line) => line.as_bytes(),
    };
    let rendered: &[u8] = match &entry.rendered {
        None => b"null",
        Some(Line::Kept) => slot
            .and_then(|slot| old_line(&slot.rendered))
            .unwrap_or(b"null"),
        Some(Line::New(line)) => line.as_bytes(),
    };
    Some((file, modified, model, rendered))
}

/// Writes the cache at `path`, whole or not at all: `entries` with the
/// lines this build made, and the lines `old` holds for those it kept.
/// Not synced to disk: a cache lost or cut short by a crash is only
/// rebuilt (a cut shows: the last line is missing).
pub(crate) fn write(
    path: &Path,
    header: (&str, &str, u64, i128),
    entries: &[Entry],
    old: &Cache,
) -> Result<(), Error> {
    let (key, render_key, site_key, started) = header;
    // Each post's lines found once, for the count and the writing.
    let lines: Vec<_> = entries
        .iter()
        .filter_map(|entry| Some((entry, lines_of(entry, old)?)))
        .collect();
    let header = Header {
        format: FORMAT,
        key: key.to_string(),
        render_key: render_key.to_string(),
        site_key,
        started,
        entries: lines.len(),
    };
    output::replace_unsynced(path, |out| {
        serde_json::to_writer(&mut *out, &header)?;
        out.write_all(b"\n")?;
        for &(entry, (file, modified, model, rendered)) in &lines {
            // An [`Index`], its file borrowed: the same JSON.
            let index = (
                file,
                entry.stamp.size,
                modified,
                entry.stamp.inode,
                entry.links_posts,
                model.len(),
                rendered.len(),
            );
            serde_json::to_writer(&mut *out, &index)?;
            for line in [b"\n", model, b"\n", rendered, b"\n"] {
                out.write_all(line)?;
            }
        }
        out.write_all(END)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::post::test_rules as rules;

    /// `post` through a model line and back.
    fn again(post: &Post) -> Post {
        let zone = rules().zone;
        let line = model_line(post, &zone).unwrap();
        let model: Model = serde_json::from_str(&line).unwrap();
        model.into_post(&post.source, &zone).unwrap()
    }

    #[test]
    fn a_model_line_gives_the_post_back() {
        let source = Path::new("_posts/2025-12-24-daily-papers.md");
        let text = include_str!("../example/_posts/2025-12-24-daily-papers.md");
        let post = crate::post::parse(source, text, &rules()).unwrap();
        assert_eq!(format!("{:?}", again(&post)), format!("{post:?}"));
        // Every field that is mostly left out, set; a date in another zone.
        let mut odd = post.clone();
        odd.date = "2025-12-24T08:00:00+01:00[Europe/Paris]".parse().unwrap();
        odd.updated = Some("2025-12-25T08:00:00-05:00[-05:00]".parse().unwrap());
        odd.published = false;
        odd.liquid = false;
        odd.shares_id = true;
        odd.key = format!("{}#x", odd.url);
        odd.shares_url_with = Some("_posts/a.md".into());
        odd.feed_id = Some("id".into());
        odd.excerpt_separator = Some("<!--more-->".into());
        odd.authors = vec!["Ann".into()];
        odd.defaults = vec![("layout".into(), crate::config::Data::Text("post".into()))];
        odd.notes = vec![Problem::new(crate::error::Location::file(source), "a note")];
        let back = again(&odd);
        assert_eq!(format!("{back:?}"), format!("{odd:?}"));
        assert_eq!(back.date.time_zone().iana_name(), Some("Europe/Paris"));
    }

    #[test]
    fn a_summary_holds_what_ordering_and_the_checks_need() {
        let source = Path::new("_posts/2025-12-24-daily-papers.md");
        let text = include_str!("../example/_posts/2025-12-24-daily-papers.md");
        let mut post = crate::post::parse(source, text, &rules()).unwrap();
        post.tags = vec!["a".into()];
        post.feed_id = Some("id".into());
        post.key = format!("{}#x", post.url);
        post.notes = vec![Problem::new(crate::error::Location::file(source), "a note")];
        let zone = rules().zone;
        let line = model_line(&post, &zone).unwrap();
        let summary: Summary = serde_json::from_str(&line).unwrap();
        let summary = summary.into_post(source, &zone).unwrap();
        let kept = |post: &Post| {
            format!(
                "{:?}",
                (
                    &post.source,
                    &post.date,
                    &post.path,
                    &post.url,
                    &post.tags,
                    post.published,
                    &post.slug,
                    &post.feed_id,
                    &post.updated,
                    &post.notes,
                    &post.key,
                )
            )
        };
        assert_eq!(kept(&summary), kept(&post));
        // What only an output shows is left for the whole model.
        assert!(!post.title.is_empty());
        assert!(summary.title.is_empty());
    }

    fn stamp(n: u64) -> Stamp {
        Stamp {
            size: n,
            modified: 1_000_000_000,
            inode: n,
        }
    }

    #[test]
    fn a_written_cache_reads_back_and_a_changed_stamp_misses() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE_NAME);
        let zone = rules().zone;
        let source = Path::new("_posts/2025-12-24-daily-papers.md");
        let text = include_str!("../example/_posts/2025-12-24-daily-papers.md");
        let post = crate::post::parse(source, text, &rules()).unwrap();
        let entries = vec![Entry {
            path: source.to_path_buf(),
            stamp: stamp(7),
            model: Line::New(model_line(&post, &zone).unwrap()),
            rendered: None,
            links_posts: false,
        }];
        let empty = Cache::empty(zone.clone());
        write(&file, ("k", "r", 1, 5_000_000_000), &entries, &empty).unwrap();
        let (cache, note) = read(&file, "k", &zone);
        assert!(note.is_none(), "{note:?}");
        assert_eq!(cache.len(), 1);
        let got = cache.get(source, stamp(7)).unwrap();
        assert_eq!(format!("{got:?}"), format!("{post:?}"));
        assert!(cache.get(source, stamp(8)).is_none());
        assert!(cache.rendered(source, stamp(7), "r", 1).is_none());
        // Kept lines are copied from the cache read.
        let kept = vec![Entry {
            model: Line::Kept,
            ..entries.into_iter().next().unwrap()
        }];
        write(&file, ("k", "r", 1, 5_000_000_000), &kept, &cache).unwrap();
        let (again, _) = read(&file, "k", &zone);
        assert!(again.get(source, stamp(7)).is_some());
        // Another key: nothing is taken.
        let (other, note) = read(&file, "other", &zone);
        assert_eq!(other.len(), 0);
        assert!(note.unwrap().contains("other settings"));
    }
}
