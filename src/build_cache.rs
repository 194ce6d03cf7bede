//! The build cache: each post's model as the last build read it, kept in
//! one file beside the state, so that a build reads again only the files
//! that changed. A file is taken from the cache only when its path, size,
//! modification and change times (to the nanosecond), inode and device are
//! those it had, and its modification time falls before the second the
//! last build began (git's rule for a racily clean index: a file written in
//! that second may have changed again without its time showing it). The
//! change time is the one a program cannot set: a file rewritten at the
//! same size with its modification time put back (`touch -r`, `cp -p`)
//! still shows; where times are whole seconds, only once that second is
//! past, so there the change time must fall before it too. Everything
//! reading a post depends on besides the file (the site's settings, the blog's front
//! matter defaults, the program's version) is one key: when it changes the
//! whole cache is dropped. A post's rendered body is kept too, under a
//! second key: what rendering looks up besides the post (every file of
//! `_includes/`, every post's URL for `{% post_url %}`); when that changes
//! the bodies are rendered again and the models kept. A cache that cannot
//! be read is ignored, never an error: the build reads every post, as
//! without one.
//!
//! The file has two parts. First the records: each post's model as a JSON
//! line, and its rendered body as another when it has one; a build parses
//! only those of the posts its outputs show. Then the table: a JSON header
//! line, then for each post, in the walk's order ([`path_order`]), a row of
//! fixed size (its file, stamp, where its lines are, and what ordering and
//! the shared-URL and shared-id checks need: its date, whether it is
//! published, hashes of its URL and id, its URL path), the order of the
//! published posts, newest first, and a trailer saying where the table
//! begins. So a build after new posts reads no model of an unchanged post:
//! it compares each file's stamp with its row, merges the new posts into
//! the order, and reads whole only the posts an output shows; and the next
//! cache copies the records as they are and adds the new ones after them.

use std::borrow::Cow;
use std::ops::Range;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;

use crate::config::Data;
use crate::error::{Error, Problem};
use crate::output;
use crate::post::{Post, Rendered, Rules};

/// The cache file's name, in the state's folder.
pub(crate) const FILE_NAME: &str = "build-cache.json";

/// A cache file larger than this is not read (it is rebuilt): far more
/// than the models of a million posts take (about 500 bytes each), and
/// within the reach of the table's 32-bit offsets.
const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// The layout of the file; another is ignored.
const FORMAT: u32 = 4;

/// The last bytes of the file: a file cut short lacks them.
const MAGIC: &[u8; 8] = b"dfcache4";

/// The trailer: where the table begins, its length, [`MAGIC`].
const TRAILER: usize = 24;

/// The bytes of one row of the table ([`Row`]).
const ROW: usize = 112;

/// A row's flags.
const LINKS_POSTS: u8 = 1;
const PUBLISHED: u8 = 2;
const HAS_DATE: u8 = 4;
const HAS_ID: u8 = 8;

/// The order of `Path`'s `Ord` for paths without `.` or doubled `/` (those
/// the walk of the posts folder makes): the bytes from the first that
/// differs, a `/` before any other byte, as a shorter component sorts
/// first. The walk's order, and the order of the cache's rows.
pub(crate) fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let (a, b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    let common = common_prefix(a, b);
    let rank = |bytes: &[u8]| {
        bytes
            .get(common)
            .map(|&byte| if byte == b'/' { 0 } else { u16::from(byte) + 1 })
    };
    rank(a).cmp(&rank(b))
}

/// How many bytes `a` and `b` begin with alike: eight at a time, then
/// one by one (a byte at a time was a fifth of matching each of 10,000
/// files with its row, their paths alike but for a few bytes).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let len = a.len().min(b.len());
    let mut at = 0;
    while at + 8 <= len && a[at..at + 8] == b[at..at + 8] {
        at += 8;
    }
    while at < len && a[at] == b[at] {
        at += 1;
    }
    at
}

/// What identifies a version of a file without reading it. Its two times
/// are each kept as whole seconds and the nanoseconds past them (the
/// instant in nanoseconds, split): 48 bytes rather than the 64 two `i128`s
/// took, in every post's entry and row (a build from the cache holds
/// 10,000 of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Stamp {
    /// Bytes.
    size: u64,
    /// Modification time, seconds since the epoch (with `modified_nanos`).
    modified_seconds: i64,
    /// Status change time, seconds since the epoch (with `changed_nanos`):
    /// every write, rename or `touch -r` moves it, and no program can set
    /// it back.
    changed_seconds: i64,
    /// The inode: a file renamed over another keeps its own.
    inode: u64,
    /// The device: the same inode number on another file system is another file.
    device: u64,
    /// Nanoseconds past `modified_seconds`.
    modified_nanos: u32,
    /// Nanoseconds past `changed_seconds`.
    changed_nanos: u32,
}

impl Stamp {
    /// The stamp of a file as `stat` sees it.
    pub(crate) fn of(meta: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp::of_parts(
            meta.len(),
            (meta.mtime(), meta.mtime_nsec()),
            (meta.ctime(), meta.ctime_nsec()),
            meta.ino(),
            meta.dev(),
        )
    }

    /// The stamp of a file of `size` bytes, modified and changed at these
    /// times (seconds since the epoch and nanoseconds past them, as `stat`
    /// gives them), at `inode` on `device`.
    pub(crate) fn of_parts(
        size: u64,
        (modified_seconds, modified_nanos): (i64, i64),
        (changed_seconds, changed_nanos): (i64, i64),
        inode: u64,
        device: u64,
    ) -> Stamp {
        // As `stat` gives them nearly always: taken as they are (splitting
        // the instant again is an `i128` division, twice for each of
        // 10,000 files).
        let nanos = |nanos: i64| u32::try_from(nanos).ok().filter(|&n| i128::from(n) < NANOS);
        if let (Some(modified_nanos), Some(changed_nanos)) =
            (nanos(modified_nanos), nanos(changed_nanos))
        {
            return Stamp {
                size,
                modified_seconds,
                changed_seconds,
                inode,
                device,
                modified_nanos,
                changed_nanos,
            };
        }
        Stamp::from_nanos(
            size,
            i128::from(modified_seconds) * NANOS + i128::from(modified_nanos),
            inode,
            i128::from(changed_seconds) * NANOS + i128::from(changed_nanos),
            device,
        )
    }

    /// The stamp of these, the times in nanoseconds since the epoch: equal
    /// stamps have equal nanoseconds (a time past the seconds an `i64`
    /// holds, some 292 billion years, is kept as its last second).
    fn from_nanos(size: u64, modified: i128, inode: u64, changed: i128, device: u64) -> Stamp {
        let split = |nanos: i128| {
            let seconds = nanos.div_euclid(NANOS);
            let seconds =
                i64::try_from(seconds).unwrap_or(if seconds < 0 { i64::MIN } else { i64::MAX });
            // Within 0..10^9: it fits, and `of_parts` takes it as it is.
            (seconds, i64::try_from(nanos.rem_euclid(NANOS)).unwrap_or(0))
        };
        Stamp::of_parts(size, split(modified), split(changed), inode, device)
    }

    /// The modification time, nanoseconds since the epoch.
    fn modified(&self) -> i128 {
        i128::from(self.modified_seconds) * NANOS + i128::from(self.modified_nanos)
    }

    /// The status change time, nanoseconds since the epoch.
    fn changed(&self) -> i128 {
        i128::from(self.changed_seconds) * NANOS + i128::from(self.changed_nanos)
    }
}

/// Nanoseconds in a second.
const NANOS: i128 = 1_000_000_000;

/// What ordering and the checks over every post need of a post, kept in
/// its row so that no model is read for them.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    /// Not `published: false` nor a draft.
    published: bool,
    /// Its date in nanoseconds since the epoch (`None` past the years an
    /// `i64` holds: such a post's order is found the slow way).
    at: Option<i64>,
    /// A hash of its URL, for the shared-URL check.
    url_hash: u64,
    /// A hash of its id ([`Post::id_hash`]); `None` with a `feed_id`,
    /// which the shared-id check leaves out.
    id_hash: Option<u64>,
    /// Its URL path, for `{% post_url %}` and `{% link %}`.
    url_path: String,
    /// Its part of the site's fingerprint ([`crate::post::file_hash`]).
    file_hash: u64,
}

impl Facts {
    /// The facts of `post` as read from its file (before ordering).
    pub(crate) fn of(post: &Post) -> Facts {
        Facts {
            published: post.published,
            at: i64::try_from(post.date.timestamp().as_nanosecond()).ok(),
            url_hash: url_hash(&post.url),
            id_hash: post.feed_id.is_none().then(|| post.id_hash()),
            url_path: post.path.clone(),
            file_hash: crate::post::file_hash(&post.source, &post.path),
        }
    }
}

impl Facts {
    /// The URL path.
    pub(crate) fn url_path(&self) -> &str {
        &self.url_path
    }

    /// Its part of the site's fingerprint.
    pub(crate) fn file_hash(&self) -> u64 {
        self.file_hash
    }
}

/// A hash (FNV-1a) of a URL: equal URLs hash equal.
fn url_hash(url: &str) -> u64 {
    url.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One post file as this build saw it, for the next build's cache.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The file.
    pub(crate) path: PathBuf,
    /// Its stamp when it was read.
    pub(crate) stamp: Stamp,
    /// Its model: the cache's, or the one read now.
    pub(crate) model: ModelLine,
    /// Its body: none, the cache's, or the one rendered now as its line.
    pub(crate) rendered: Option<Line>,
    /// Whether rendering it looked up other posts (`{% post_url %}`,
    /// `{% link %}`): then the body holds only while every post's URL does.
    pub(crate) links_posts: bool,
}

impl Entry {
    /// The row of the cache read that holds this file as it is, if any.
    pub(crate) fn kept_row(&self) -> Option<usize> {
        match self.model {
            ModelLine::Kept(row) => Some(row),
            ModelLine::New(..) => None,
        }
    }
}

/// A post's model for the next build's cache.
#[derive(Debug)]
pub(crate) enum ModelLine {
    /// The cache read at the start of the build holds it, in this row:
    /// its line is copied, never parsed and written again.
    Kept(usize),
    /// Read now: its line ([`model_line`]) and its facts (boxed: an entry
    /// is one of every post's, and nearly all are [`ModelLine::Kept`]; a
    /// list of 10,000 entries was a third larger with the facts in it).
    New(String, Box<Facts>),
}

/// A body's line for the next build's cache: kept as the cache holds it
/// (copied, never parsed and written again), or made by this build.
#[derive(Debug)]
pub(crate) enum Line {
    /// The line the cache read at the start of the build holds for the same file.
    Kept,
    /// A line this build made ([`rendered_line`]).
    New(String),
}

/// The table's first line.
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
    /// The instant that build published posts up to, nanoseconds since the epoch.
    cutoff: i128,
    /// Whether two of its published posts shared a URL or an id.
    sharing: bool,
    /// How many rows follow.
    rows: usize,
    /// How many posts the order holds.
    ordered: usize,
}

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

/// `post` as a model line of the cache (`None` if it cannot be one).
pub(crate) fn model_line(post: &Post, zone: &TimeZone) -> Option<String> {
    serde_json::to_string(&Model::of(post, zone)).ok()
}

/// A rendered body as a line of the cache.
pub(crate) fn rendered_line(rendered: &Rendered) -> Option<String> {
    serde_json::to_string(rendered).ok()
}

/// One post's row, as read: where its file's name and its lines are in
/// the file's bytes, and its stamp and facts.
#[derive(Debug, Clone)]
struct Row {
    path: Range<usize>,
    url_path: Range<usize>,
    stamp: Stamp,
    model: Range<usize>,
    /// Empty when the post has no body kept.
    body: Range<usize>,
    at: Option<i64>,
    url_hash: u64,
    id_hash: Option<u64>,
    published: bool,
    links_posts: bool,
    file_hash: u64,
}

/// A cache read at the start of a build: the file's bytes, and its rows.
/// A model or body is parsed only when asked for, on the thread that asks
/// (the posts are read on several).
#[derive(Debug)]
pub(crate) struct Cache {
    /// Files modified at or after this instant are read again.
    racy_from: i128,
    /// The key its rendered bodies were made under.
    render_key: String,
    /// The fingerprint of every post's URL they were made under.
    site_key: u64,
    /// The instant the last build published posts up to.
    cutoff: i128,
    /// Whether two of the last build's published posts shared a URL or an id.
    sharing: bool,
    /// The site's zone, which the models' instants are in.
    zone: TimeZone,
    /// The file, open: the lines of the posts shown are read from it.
    file: Option<std::fs::File>,
    /// The records (every line), when read whole ([`Cache::read_records`]).
    records: std::sync::OnceLock<Vec<u8>>,
    /// The table, from where it begins to the end of the file: the rows'
    /// files and URL paths are in it.
    bytes: Vec<u8>,
    /// Where the table begins in the file: the records are before.
    tail: usize,
    /// Every post, in the walk's order.
    rows: Vec<Row>,
    /// The rows of the published posts, newest first (by date, then by
    /// file, as Jekyll orders them).
    order: Vec<u32>,
}

impl Cache {
    /// A cache that holds nothing, for posts read in `zone` (the site's).
    pub(crate) fn empty(zone: TimeZone) -> Cache {
        Cache {
            racy_from: 0,
            render_key: String::new(),
            site_key: 0,
            cutoff: 0,
            sharing: false,
            zone,
            file: None,
            records: std::sync::OnceLock::new(),
            bytes: Vec::new(),
            tail: 0,
            rows: Vec::new(),
            order: Vec::new(),
        }
    }

    /// The row of `path`, by a binary search of the walk's order.
    pub(crate) fn find(&self, path: &Path) -> Option<usize> {
        self.rows
            .binary_search_by(|row| path_order(self.path_of(row), path))
            .ok()
    }

    /// The file of `row`.
    fn path_of(&self, row: &Row) -> &Path {
        Path::new(std::ffi::OsStr::from_bytes(&self.bytes[row.path.clone()]))
    }

    /// The file of the row at `at`.
    pub(crate) fn row_path(&self, at: usize) -> &Path {
        self.path_of(&self.rows[at])
    }

    /// Whether the row at `at` holds its file as it is at `stamp`: the same
    /// stamp, and modified before the second the last build began. On a
    /// file system that keeps whole seconds (a change time without
    /// nanoseconds), changed before it too: a file rewritten at its size
    /// with its modification time put back (`touch -r`, `cp -p`) in the
    /// second that build read it keeps the stamp that build wrote, and
    /// would be taken from the cache for good.
    pub(crate) fn holds(&self, at: usize, stamp: Stamp) -> bool {
        let settled = stamp.modified() < self.racy_from
            && (stamp.changed_nanos != 0 || stamp.changed() < self.racy_from);
        settled && self.rows.get(at).is_some_and(|row| row.stamp == stamp)
    }

    /// The first row whose file is not before `path` in the walk's order
    /// ([`path_order`]): where `path`'s row is, if it has one.
    pub(crate) fn first_row_from(&self, path: &Path) -> usize {
        self.rows
            .partition_point(|row| path_order(self.path_of(row), path) == std::cmp::Ordering::Less)
    }

    /// The row of `path` if the cache holds the file as it is at `stamp` ([`Cache::holds`]).
    pub(crate) fn lookup(&self, path: &Path, stamp: Stamp) -> Option<usize> {
        self.find(path).filter(|&at| self.holds(at, stamp))
    }

    /// The line at `range` of the records (a newline must end it): from
    /// the records read whole, else read from the file. `None` if it
    /// cannot be read.
    fn line(&self, range: &Range<usize>) -> Option<Cow<'_, [u8]>> {
        let with_newline = range.start..range.end.checked_add(1)?;
        let bytes = if let Some(records) = self.records.get() {
            Cow::Borrowed(records.get(with_newline)?)
        } else {
            use std::os::unix::fs::FileExt;
            let mut bytes = vec![0; with_newline.len()];
            let at = u64::try_from(range.start).ok()?;
            self.file.as_ref()?.read_exact_at(&mut bytes, at).ok()?;
            Cow::Owned(bytes)
        };
        match bytes {
            Cow::Borrowed(line) => line.strip_suffix(b"\n").map(Cow::Borrowed),
            Cow::Owned(mut line) => (line.pop() == Some(b'\n')).then_some(Cow::Owned(line)),
        }
    }

    /// The records, read whole once (a build that reads many posts'
    /// lines): empty if they cannot be read, and then no line reads.
    pub(crate) fn read_records(&self) -> &[u8] {
        self.records.get_or_init(|| {
            use std::os::unix::fs::FileExt;
            let mut bytes = vec![0; self.tail];
            let read = self
                .file
                .as_ref()
                .is_some_and(|file| file.read_exact_at(&mut bytes, 0).is_ok());
            if read { bytes } else { Vec::new() }
        })
    }

    /// The whole model of the row at `at`, `None` if it does not read.
    pub(crate) fn get(&self, at: usize) -> Option<Post> {
        let row = self.rows.get(at)?;
        let line = self.line(&row.model)?;
        let model: Model = serde_json::from_slice(&line).ok()?;
        model.into_post(self.path_of(row), &self.zone)
    }

    /// [`Cache::get`]'s post in summary ([`Summary`]): what ordering and
    /// the checks over every post need.
    pub(crate) fn summary(&self, at: usize) -> Option<Post> {
        let row = self.rows.get(at)?;
        let line = self.line(&row.model)?;
        let summary: Summary = serde_json::from_slice(&line).ok()?;
        summary.into_post(self.path_of(row), &self.zone)
    }

    /// Whether the row at `at` holds a body that [`Cache::rendered`]
    /// gives: then whether it links to other posts.
    pub(crate) fn kept_body(&self, at: usize, render_key: &str, site_key: u64) -> Option<bool> {
        self.rendered_row(at, render_key, site_key)
            .map(|row| row.links_posts)
    }

    fn rendered_row(&self, at: usize, render_key: &str, site_key: u64) -> Option<&Row> {
        self.rows.get(at).filter(|row| {
            !row.body.is_empty()
                && self.render_key == render_key
                && (!row.links_posts || self.site_key == site_key)
        })
    }

    /// The rendered body of the row at `at`, if it was rendered under
    /// `render_key`, and, for a body that links to other posts, with every
    /// post's URL as `site_key` fingerprints: the body and whether it links
    /// to posts.
    pub(crate) fn rendered(
        &self,
        at: usize,
        render_key: &str,
        site_key: u64,
    ) -> Option<(Rendered, bool)> {
        let row = self.rendered_row(at, render_key, site_key)?;
        let body = serde_json::from_slice(&self.line(&row.body)?).ok()?;
        Some((body, row.links_posts))
    }

    /// The bytes of the body line the row at `at` holds.
    pub(crate) fn body_len(&self, at: usize) -> usize {
        self.rows.get(at).map_or(0, |row| row.body.len())
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
        self.rows.len()
    }

    /// The URL path of the row at `at`, as the file holds it (UTF-8).
    pub(crate) fn url_path(&self, at: usize) -> &[u8] {
        &self.bytes[self.rows[at].url_path.clone()]
    }

    /// The part of the site's fingerprint of the row at `at`.
    pub(crate) fn file_hash(&self, at: usize) -> u64 {
        self.rows[at].file_hash
    }
}

/// What the cache knows of a build in which every file it holds is
/// unchanged and some are new: enough to order the published posts and
/// check them for shared URLs and ids without reading an unchanged post.
/// See [`Cache::merge`].
#[derive(Debug)]
pub(crate) struct Merged {
    /// The published posts, newest first: each a place in the build's
    /// entries (the walk's order).
    pub(crate) order: Vec<usize>,
    /// How many of them are dated after the build's cutoff (the first).
    pub(crate) future: usize,
}

impl Cache {
    /// Whether a kept published post is dated where no instant reaches
    /// (before 1678, after 2262): it has no place in the stored order, and
    /// the slow way orders it.
    fn undated_kept(&self, place: &[Option<usize>]) -> bool {
        self.rows
            .iter()
            .zip(place)
            .any(|(row, place)| row.published && row.at.is_none() && place.is_some())
    }

    /// The published posts of `entries` (every file of a build, in the
    /// walk's order: those this cache holds as they are,
    /// [`ModelLine::Kept`], and those read now, new or changed) ordered as
    /// [`crate::post::published`] orders them at `cutoff`, if that can be
    /// found from the rows: `None` when the last build's published posts
    /// shared a URL or an id, when the URL or id hash of a post read now
    /// meets another post's (a shared one, or a rare collision), when a
    /// post the last build left for later is published now, or when a date
    /// is past what a row holds. Then the caller orders every post the
    /// slow way. A row no entry keeps (a file gone or changed) leaves the
    /// order: taking posts away shares nothing.
    pub(crate) fn merge(&self, entries: &[Entry], cutoff: i128) -> Option<Merged> {
        if self.sharing || cutoff < self.cutoff {
            return None;
        }
        // A post dated between the two cutoffs would join the posts the
        // checks found no sharing among: the slow way.
        let comes_out = |at: i64| i128::from(at) > self.cutoff && i128::from(at) <= cutoff;
        let mut new = Vec::new();
        // Each row's place in the entries; none for a file gone or changed.
        let mut place = vec![None; self.rows.len()];
        let mut last = None;
        for (at, entry) in entries.iter().enumerate() {
            match &entry.model {
                ModelLine::Kept(row) => {
                    // Each row once, in order, as the walk gives them.
                    if last.is_some_and(|last| last >= *row) || *row >= place.len() {
                        return None;
                    }
                    last = Some(*row);
                    place[*row] = Some(at);
                }
                ModelLine::New(_, facts) => new.push((at, facts)),
            }
        }
        // The hashes of the published posts read now, each once (sorted,
        // to be found by a binary search: a few among thousands of rows);
        // then no kept published row may have one of them.
        let mut hashes: Vec<(u8, u64)> = Vec::with_capacity(new.len() * 2);
        for (_, facts) in new.iter().filter(|(_, facts)| facts.published) {
            hashes.push((0, facts.url_hash));
            hashes.extend(facts.id_hash.map(|id| (1, id)));
        }
        hashes.sort_unstable();
        if hashes.windows(2).any(|pair| pair[0] == pair[1]) {
            return None;
        }
        let meets = |row: &Row| {
            hashes.binary_search(&(0, row.url_hash)).is_ok()
                || row
                    .id_hash
                    .is_some_and(|id| hashes.binary_search(&(1, id)).is_ok())
        };
        let kept = self.rows.iter().zip(&place);
        if !hashes.is_empty()
            && kept
                .filter(|(row, place)| row.published && place.is_some())
                .any(|(row, _)| meets(row))
        {
            return None;
        }
        if self.undated_kept(&place) {
            return None;
        }
        // The old order, in entries' places; the new posts merged in.
        let mut order: Vec<(i64, usize)> = Vec::with_capacity(self.order.len() + new.len());
        for &row in &self.order {
            let row = row as usize;
            let Some(at) = place[row] else {
                continue;
            };
            let date = self.rows[row].at?;
            if comes_out(date) {
                return None;
            }
            order.push((date, at));
        }
        let added = new.iter().filter(|(_, facts)| facts.published);
        if new.len() > 64 {
            for &(at, facts) in added {
                order.push((facts.at?, at));
            }
            order.sort_unstable_by(|a, b| b.cmp(a));
        } else {
            for &(at, facts) in added {
                let key = (facts.at?, at);
                // Newest first (by date, then by file, later files first):
                // after every post that orders before it.
                let index = order.partition_point(|&other| other > key);
                order.insert(index, key);
            }
        }
        let cutoff_at = |date: i64| i128::from(date) > cutoff;
        let future = order.partition_point(|&(date, _)| cutoff_at(date));
        Some(Merged {
            order: order.into_iter().map(|(_, at)| at).collect(),
            future,
        })
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
/// [`MAX_INCLUDE_BYTES`], holds anything but files and folders (a FIFO),
/// or cannot be read whole.
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
            } else if meta.is_file() {
                files.push((path, meta.len()));
            } else {
                // A FIFO would make the read below wait for a writer for good.
                return None;
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
    // Only a plain file: opening a FIFO put there would wait for a writer forever.
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            let why = format!("{}: not a plain file, ignored and rebuilt", path.display());
            return (empty(), Some(why));
        }
        _ => {}
    }
    let file = match std::fs::File::open(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return (empty(), None),
        Err(err) => {
            let why = format!("{}: cannot read it ({err}); rebuilt", path.display());
            return (empty(), Some(why));
        }
        Ok(file) => file,
    };
    let tail = match read_tail(&file) {
        Ok(Some(tail)) => tail,
        Ok(None) => {
            let why = format!(
                "{}: over {MAX_BYTES} bytes, ignored and rebuilt",
                path.display()
            );
            return (empty(), Some(why));
        }
        Err(err) => {
            let why = format!("{}: cannot read it ({err}); rebuilt", path.display());
            return (empty(), Some(why));
        }
    };
    let parsed = tail.and_then(|(tail, bytes)| parse(bytes, tail, key, zone));
    match parsed.map(|cache| Cache {
        file: Some(file),
        ..cache
    }) {
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
    Damaged(&'static str),
}

/// The little-endian number of `N` bytes at `at` in `bytes` (in bounds).
fn number<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&bytes[at..at + N]);
    out
}

/// `start..start + len` if it lies within `within`.
fn span(start: u32, len: u32, within: &Range<usize>) -> Option<Range<usize>> {
    let start = within.start.checked_add(start as usize)?;
    let end = start.checked_add(len as usize)?;
    (end <= within.end).then_some(start..end)
}

/// Where the table of a file of `total` bytes ending in `trailer` begins.
fn table_at(total: usize, trailer: &[u8]) -> Result<usize, Unread> {
    let cut = || Unread::Damaged("cut short");
    if total < TRAILER || trailer.len() != TRAILER || trailer[16..] != *MAGIC {
        return Err(cut());
    }
    let end = total - TRAILER;
    let tail = usize::try_from(u64::from_le_bytes(number(trailer, 0))).map_err(|_| cut())?;
    let tail_len = u64::from_le_bytes(number(trailer, 8));
    if tail > end || u64::try_from(end - tail).ok() != Some(tail_len) {
        return Err(cut());
    }
    Ok(tail)
}

/// The table of the cache `file` and where it begins: its trailer read,
/// then the bytes from the table's start to the end. `Ok(None)` for a file
/// too large to be a cache.
#[allow(clippy::type_complexity)] // a read, then a check of what it read
fn read_tail(file: &std::fs::File) -> std::io::Result<Option<Result<(usize, Vec<u8>), Unread>>> {
    use std::os::unix::fs::FileExt;
    let total = file.metadata()?.len();
    if total > MAX_BYTES {
        return Ok(None);
    }
    let Ok(total) = usize::try_from(total) else {
        return Ok(None);
    };
    let mut trailer = [0; TRAILER];
    let Some(at) = total.checked_sub(TRAILER) else {
        return Ok(Some(Err(Unread::Damaged("cut short"))));
    };
    file.read_exact_at(&mut trailer, at as u64)?;
    let tail = match table_at(total, &trailer) {
        Ok(tail) => tail,
        Err(unread) => return Ok(Some(Err(unread))),
    };
    let mut bytes = vec![0; total - tail];
    file.read_exact_at(&mut bytes, tail as u64)?;
    Ok(Some(Ok((tail, bytes))))
}

/// The cache whose table, from where it begins (at `tail` in the file) to
/// the end of the file, is `bytes`: its header, rows and order are read
/// and checked, its models and bodies only located (before `tail`).
fn parse(bytes: Vec<u8>, tail: usize, key: &str, zone: &TimeZone) -> Result<Cache, Unread> {
    let total = tail
        .checked_add(bytes.len())
        .ok_or(Unread::Damaged("cut short"))?;
    let trailer = bytes
        .get(bytes.len().saturating_sub(TRAILER)..)
        .unwrap_or_default();
    if table_at(total, trailer)? != tail {
        return Err(Unread::Damaged("cut short"));
    }
    let end = bytes.len() - TRAILER;
    let line_end = bytes[..end]
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(Unread::Damaged("no header"))?;
    let header: Header = serde_json::from_slice(&bytes[..line_end])
        .map_err(|_| Unread::Damaged("a header that does not read"))?;
    if header.format != FORMAT {
        return Err(Unread::Damaged("another layout"));
    }
    if header.key != key {
        return Err(Unread::OtherKey);
    }
    let damaged = Unread::Damaged("a table that does not add up");
    let table = line_end + 1;
    let order_at = header
        .rows
        .checked_mul(ROW)
        .and_then(|len| table.checked_add(len))
        .filter(|&at| at <= end)
        .ok_or(Unread::Damaged("a table that does not add up"))?;
    let blob_at = header
        .ordered
        .checked_mul(4)
        .and_then(|len| order_at.checked_add(len))
        .filter(|&at| at <= end)
        .ok_or(damaged)?;
    let blob = blob_at..end;
    let records = 0..tail;
    let mut rows = Vec::with_capacity(header.rows);
    for n in 0..header.rows {
        rows.push(
            row(&bytes, table + n * ROW, &blob, &records)
                .ok_or(Unread::Damaged("a row that does not read"))?,
        );
    }
    let order = order_of(&bytes[order_at..blob_at], &rows)
        .ok_or(Unread::Damaged("an order that does not hold"))?;
    let second = 1_000_000_000;
    Ok(Cache {
        racy_from: header.started.div_euclid(second) * second,
        render_key: header.render_key,
        site_key: header.site_key,
        cutoff: header.cutoff,
        sharing: header.sharing,
        zone: zone.clone(),
        file: None,
        records: std::sync::OnceLock::new(),
        bytes,
        tail,
        rows,
        order,
    })
}

/// The row at `at`, its file and URL path in `blob`, its lines in `records`
/// (each followed by a newline); `None` if it points outside them.
fn row(bytes: &[u8], at: usize, blob: &Range<usize>, records: &Range<usize>) -> Option<Row> {
    let word = |offset: usize| u32::from_le_bytes(number(bytes, at + offset));
    let long = |offset: usize| u64::from_le_bytes(number(bytes, at + offset));
    // A line's newline is checked when it is read: the records are not.
    let line =
        |start: u32, len: u32| span(start, len, records).filter(|range| range.end < records.end);
    let flags = bytes[at + 80];
    let body_len = word(52);
    Some(Row {
        path: span(word(0), word(4), blob)?,
        url_path: span(word(8), word(12), blob)?,
        stamp: Stamp::from_nanos(
            long(16),
            i128::from(i64::from_le_bytes(number(bytes, at + 24))),
            long(32),
            i128::from(i64::from_le_bytes(number(bytes, at + 96))),
            long(104),
        ),
        model: line(word(40), word(44))?,
        body: if body_len == 0 {
            0..0
        } else {
            line(word(48), body_len)?
        },
        at: (flags & HAS_DATE != 0).then(|| i64::from_le_bytes(number(bytes, at + 56))),
        url_hash: long(64),
        id_hash: (flags & HAS_ID != 0).then(|| long(72)),
        published: flags & PUBLISHED != 0,
        links_posts: flags & LINKS_POSTS != 0,
        file_hash: long(88),
    })
}

/// The order in `bytes` (a row number each, 4 bytes), if it holds every
/// published row with a date exactly once, newest first.
fn order_of(bytes: &[u8], rows: &[Row]) -> Option<Vec<u32>> {
    let order: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|chunk| u32::from_le_bytes(number(chunk, 0)))
        .collect();
    let key = |at: u32| -> Option<(i64, u32)> {
        let row = rows.get(at as usize)?;
        row.published.then_some(())?;
        Some((row.at?, at))
    };
    // Strictly falling keys: no row twice; as many as there are: every one.
    let mut last: Option<(i64, u32)> = None;
    for &at in &order {
        let key = key(at)?;
        if last.is_some_and(|last| last <= key) {
            return None;
        }
        last = Some(key);
    }
    let published = rows
        .iter()
        .filter(|row| row.published && row.at.is_some())
        .count();
    (published == order.len()).then_some(order)
}

/// What the table's header says of a build besides its rows.
#[derive(Debug)]
pub(crate) struct Written<'a> {
    /// The key of the models ([`key`]).
    pub(crate) key: &'a str,
    /// The key of the bodies ([`render_key`]).
    pub(crate) render_key: &'a str,
    /// The fingerprint of every post's URL.
    pub(crate) site_key: u64,
    /// When the build began.
    pub(crate) started: i128,
    /// The instant it published posts up to.
    pub(crate) cutoff: i128,
    /// Whether two of its published posts share a URL or an id.
    pub(crate) sharing: bool,
}

/// The most bytes of lines no row points to that a cache may hold (lines
/// of posts gone or changed, bodies replaced) before it is written anew
/// rather than added to: as many as the rows point to, and a megabyte.
fn room_for_unused(used: usize) -> usize {
    used + 1024 * 1024
}

/// Writes the cache at `path`, whole or not at all: `entries` with the
/// lines this build made, and the lines `old` holds for those it kept.
/// When every row of `old` is kept and it holds few unused lines, its
/// records are copied whole and the new lines added after them; else each
/// post's lines are copied one by one. Not synced to disk: a cache lost
/// or cut short by a crash is only rebuilt (a cut shows: the trailer is
/// missing). `order`, the published posts newest first as places in
/// `entries`, is found from them when not given.
pub(crate) fn write(
    path: &Path,
    header: &Written<'_>,
    entries: &[Entry],
    old: &Cache,
    order: Option<&[usize]>,
) -> Result<(), Error> {
    // Each entry with the old row it keeps (none for a row that is not
    // there: the entry is left out), and its facts.
    let kept = |entry: &Entry| entry.kept_row().and_then(|at| old.rows.get(at));
    let rows: Vec<(&Entry, Option<&Row>)> = entries
        .iter()
        .filter_map(|entry| match entry.model {
            ModelLine::Kept(_) => Some((entry, Some(kept(entry)?))),
            ModelLine::New(..) => Some((entry, None)),
        })
        .collect();
    // Given, it holds for the rows when each entry has one.
    let order: Vec<u32> = match order {
        Some(order) if rows.len() == entries.len() => order
            .iter()
            .filter_map(|&at| u32::try_from(at).ok())
            .collect(),
        _ => newest_first(&rows),
    };
    let append = appends(old, &rows);
    let table = Header {
        format: FORMAT,
        key: header.key.to_string(),
        render_key: header.render_key.to_string(),
        site_key: header.site_key,
        started: header.started,
        cutoff: header.cutoff,
        sharing: header.sharing,
        rows: rows.len(),
        ordered: order.len(),
    };
    // The old records are copied file to file (no copy in memory); lines
    // copied one by one come from the records read whole.
    let prefix = old
        .file
        .as_ref()
        .filter(|_| append)
        .map(|file| (file, old.tail as u64));
    let append = prefix.is_some();
    if !append {
        old.read_records();
    }
    output::replace_unsynced(path, prefix, |out| {
        use std::io::Write;
        // Written through a buffer of its own, a quarter of a megabyte:
        // the table and the blob go out a row at a time, never held whole
        // (they were two growing buffers, a thousand pages of memory
        // touched at 10,000 posts, a tenth of a build from the cache), and
        // few enough writes reach the file.
        let mut out = std::io::BufWriter::with_capacity(WRITE_BUFFER, out);
        let mut records = Records {
            out: &mut out,
            at: if append { old.tail } else { 0 },
        };
        // The lines first: where each row's are, written where not copied.
        let mut lines = Vec::with_capacity(rows.len());
        for &(entry, row) in &rows {
            lines.push(records.put_lines(old, append, entry, row)?);
        }
        let tail = records.at;
        let mut head = serde_json::to_vec(&table)?;
        head.push(b'\n');
        out.write_all(&head)?;
        // Each row names its file and URL path by their places in the
        // blob, which follows the table: those places are added up here,
        // and the blob written after, in the same order.
        let mut blob_len = 0;
        for (&(entry, row), (model, body)) in rows.iter().zip(lines) {
            let (new_row, url_path) = row_of(old, entry, row, model, body);
            let file = entry.path.as_os_str().as_bytes();
            let file_at = (offset(blob_len), offset(file.len()));
            let url_at = (offset(blob_len + file.len()), offset(url_path.len()));
            blob_len += file.len() + url_path.len();
            out.write_all(&row_bytes(&new_row, file_at, url_at))?;
        }
        for at in &order {
            out.write_all(&at.to_le_bytes())?;
        }
        for &(entry, row) in &rows {
            out.write_all(entry.path.as_os_str().as_bytes())?;
            out.write_all(url_path_of(old, entry, row))?;
        }
        let tail_len = head.len() + rows.len() * ROW + order.len() * 4 + blob_len;
        for part in [&to_u64(tail), &to_u64(tail_len), MAGIC] {
            out.write_all(part)?;
        }
        out.flush()
    })
}

/// The buffer the cache is written through.
const WRITE_BUFFER: usize = 256 * 1024;

/// The places of `rows`' published posts, newest first (by date, then by
/// place: the walk's order is the files' order).
fn newest_first(rows: &[(&Entry, Option<&Row>)]) -> Vec<u32> {
    let facts = |(entry, row): &(&Entry, Option<&Row>)| match (row, &entry.model) {
        (Some(row), _) => (row.published, row.at),
        (None, ModelLine::New(_, facts)) => (facts.published, facts.at),
        (None, ModelLine::Kept(_)) => (false, None),
    };
    let mut order: Vec<(i64, u32)> = Vec::with_capacity(rows.len());
    for (at, row) in rows.iter().enumerate() {
        if let ((true, Some(date)), Ok(at)) = (facts(row), u32::try_from(at)) {
            order.push((date, at));
        }
    }
    order.sort_unstable_by(|a, b| b.cmp(a));
    order.into_iter().map(|(_, at)| at).collect()
}

/// Whether the next cache is `old`'s records and the new lines after them:
/// when the lines `rows` keep are most of it (a post changed or gone
/// leaves lines no row points to, until they pass the used ones).
fn appends(old: &Cache, rows: &[(&Entry, Option<&Row>)]) -> bool {
    let used: usize = rows
        .iter()
        .filter_map(|(_, row)| *row)
        .map(|row| row.model.len() + row.body.len() + 2)
        .sum();
    !old.rows.is_empty() && old.tail <= room_for_unused(used)
}

/// The table's bytes of `row`, its file and URL path at `file` and
/// `url_path` in the blob (each a start and a length; its own `path` and
/// `url_path` are not read).
fn row_bytes(row: &Row, file: (u32, u32), url_path: (u32, u32)) -> [u8; ROW] {
    let modified = i64::try_from(row.stamp.modified()).unwrap_or(i64::MIN);
    let flags = (u8::from(row.links_posts) * LINKS_POSTS)
        | (u8::from(row.published) * PUBLISHED)
        | (u8::from(row.at.is_some()) * HAS_DATE)
        | (u8::from(row.id_hash.is_some()) * HAS_ID);
    let changed = i64::try_from(row.stamp.changed()).unwrap_or(i64::MIN);
    let fields: [&[u8]; 18] = [
        &file.0.to_le_bytes(),
        &file.1.to_le_bytes(),
        &url_path.0.to_le_bytes(),
        &url_path.1.to_le_bytes(),
        &row.stamp.size.to_le_bytes(),
        &modified.to_le_bytes(),
        &row.stamp.inode.to_le_bytes(),
        &offset(row.model.start).to_le_bytes(),
        &offset(row.model.len()).to_le_bytes(),
        &offset(row.body.start).to_le_bytes(),
        &offset(row.body.len()).to_le_bytes(),
        &row.at.unwrap_or(0).to_le_bytes(),
        &row.url_hash.to_le_bytes(),
        &row.id_hash.unwrap_or(0).to_le_bytes(),
        &[flags, 0, 0, 0, 0, 0, 0, 0],
        &row.file_hash.to_le_bytes(),
        &changed.to_le_bytes(),
        &row.stamp.device.to_le_bytes(),
    ];
    let mut bytes = [0; ROW];
    let mut at = 0;
    for field in fields {
        bytes[at..at + field.len()].copy_from_slice(field);
        at += field.len();
    }
    bytes
}

/// The URL path the row of `entry` names: its facts' when read now, else
/// the old row's.
fn url_path_of<'a>(old: &'a Cache, entry: &'a Entry, row: Option<&Row>) -> &'a [u8] {
    match (&entry.model, row) {
        (ModelLine::New(_, facts), _) => facts.url_path.as_bytes(),
        (ModelLine::Kept(_), Some(row)) => &old.bytes[row.url_path.clone()],
        (ModelLine::Kept(_), None) => b"",
    }
}

/// The next cache's row of `entry` (with the old `row` it keeps, if any),
/// its lines at `model` and `body`, and its URL path.
fn row_of<'a>(
    old: &'a Cache,
    entry: &'a Entry,
    row: Option<&Row>,
    model: Range<usize>,
    body: Range<usize>,
) -> (Row, &'a [u8]) {
    let facts = match &entry.model {
        ModelLine::New(_, facts) => Some(facts),
        ModelLine::Kept(_) => None,
    };
    let (file_hash, published, at, url_hash, id_hash) = match (facts, row) {
        (Some(f), _) => (f.file_hash, f.published, f.at, f.url_hash, f.id_hash),
        (None, Some(r)) => (r.file_hash, r.published, r.at, r.url_hash, r.id_hash),
        (None, None) => (0, false, None, 0, None),
    };
    let new_row = Row {
        path: 0..0,
        url_path: 0..0,
        stamp: entry.stamp,
        model,
        body,
        at,
        url_hash,
        id_hash,
        published,
        links_posts: entry.links_posts,
        file_hash,
    };
    (new_row, url_path_of(old, entry, row))
}

/// A 32-bit offset or length of the file (which [`MAX_BYTES`] keeps
/// within 32 bits; a larger one writes a cache the next build ignores).
fn offset(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// `value` as the trailer's 8 little-endian bytes.
fn to_u64(value: usize) -> [u8; 8] {
    u64::try_from(value).unwrap_or(u64::MAX).to_le_bytes()
}

/// The records of the file being written, and where the next line goes.
struct Records<'a> {
    out: &'a mut dyn std::io::Write,
    at: usize,
}

impl Records<'_> {
    /// Writes the lines `entry` needs written (those of `row`, the old
    /// cache's, unless they are copied with its records): where its model
    /// and body lines are in the next file.
    fn put_lines(
        &mut self,
        old: &Cache,
        append: bool,
        entry: &Entry,
        row: Option<&Row>,
    ) -> std::io::Result<(Range<usize>, Range<usize>)> {
        let old_line = |range: &Range<usize>| {
            old.line(range)
                .ok_or_else(|| std::io::Error::other("a line of the build cache read no more"))
        };
        let model = match (row, &entry.model) {
            (Some(row), _) if append => row.model.clone(),
            (Some(row), _) => self.put(&old_line(&row.model)?)?,
            (None, ModelLine::New(line, _)) => self.put(line.as_bytes())?,
            // Not reached: a kept entry's row is there (`write` leaves
            // the others out); its model would read as damaged.
            (None, ModelLine::Kept(_)) => 0..0,
        };
        let body = match (&entry.rendered, row) {
            (Some(Line::Kept), Some(row)) if append || row.body.is_empty() => row.body.clone(),
            (Some(Line::Kept), Some(row)) => self.put(&old_line(&row.body)?)?,
            (Some(Line::New(line)), _) => self.put(line.as_bytes())?,
            _ => 0..0,
        };
        Ok((model, body))
    }

    /// Writes `line` and its newline: where the line is.
    fn put(&mut self, line: &[u8]) -> std::io::Result<Range<usize>> {
        self.out.write_all(line)?;
        self.out.write_all(b"\n")?;
        let range = self.at..self.at + line.len();
        self.at = range.end + 1;
        Ok(range)
    }
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
        Stamp::from_nanos(n, 1_000_000_000, n, 1_000_000_000, 1)
    }

    fn header(cutoff: i128) -> Written<'static> {
        Written {
            key: "k",
            render_key: "r",
            site_key: 1,
            started: 5_000_000_000,
            cutoff,
            sharing: false,
        }
    }

    /// A post read from `name` (under `_posts/`) with `front` as its front matter.
    fn post(name: &str, front: &str) -> Post {
        let source = PathBuf::from(format!("_posts/{name}"));
        crate::post::parse(&source, &format!("---\n{front}\n---\nBody\n"), &rules()).unwrap()
    }

    fn new_entry(post: &Post, n: u64) -> Entry {
        Entry {
            path: post.source.clone(),
            stamp: stamp(n),
            model: ModelLine::New(
                model_line(post, &rules().zone).unwrap(),
                Box::new(Facts::of(post)),
            ),
            rendered: None,
            links_posts: false,
        }
    }

    /// The cache `entries` make, written and read back.
    fn written(entries: &[Entry], cutoff: i128) -> (tempfile::TempDir, Cache) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE_NAME);
        let zone = rules().zone;
        write(
            &file,
            &header(cutoff),
            entries,
            &Cache::empty(zone.clone()),
            None,
        )
        .unwrap();
        let (cache, note) = read(&file, "k", &zone);
        assert!(note.is_none(), "{note:?}");
        (dir, cache)
    }

    #[test]
    fn a_written_cache_reads_back_and_a_changed_stamp_misses() {
        let source = Path::new("_posts/2025-12-24-daily-papers.md");
        let text = include_str!("../example/_posts/2025-12-24-daily-papers.md");
        let post = crate::post::parse(source, text, &rules()).unwrap();
        let entries = vec![new_entry(&post, 7)];
        let (dir, cache) = written(&entries, 0);
        let file = dir.path().join(FILE_NAME);
        assert_eq!(cache.len(), 1);
        let row = cache.lookup(source, stamp(7)).unwrap();
        let got = cache.get(row).unwrap();
        assert_eq!(format!("{got:?}"), format!("{post:?}"));
        assert!(cache.lookup(source, stamp(8)).is_none());
        assert!(cache.rendered(row, "r", 1).is_none());
        assert_eq!(cache.url_path(row), post.path.as_bytes());
        // Kept lines are copied from the cache read, with a body added.
        let body = post.render(text).unwrap();
        let kept = vec![Entry {
            model: ModelLine::Kept(row),
            rendered: Some(Line::New(rendered_line(&body).unwrap())),
            ..new_entry(&post, 7)
        }];
        write(&file, &header(0), &kept, &cache, None).unwrap();
        let zone = rules().zone;
        let (again, _) = read(&file, "k", &zone);
        let row = again.lookup(source, stamp(7)).unwrap();
        assert!(again.get(row).is_some());
        assert!(again.rendered(row, "r", 1).is_some());
        // Another key: nothing is taken.
        let (other, note) = read(&file, "other", &zone);
        assert_eq!(other.len(), 0);
        assert!(note.unwrap().contains("other settings"));
        // Every cut of the file is noticed.
        let bytes = std::fs::read(&file).unwrap();
        for cut in 0..bytes.len() {
            let cut_short = &bytes[..cut];
            let trailer = &cut_short[cut.saturating_sub(TRAILER)..];
            let parsed = table_at(cut, trailer)
                .and_then(|tail| parse(cut_short[tail..].to_vec(), tail, "k", &zone));
            assert!(parsed.is_err(), "{cut}");
        }
    }

    #[test]
    fn a_file_changed_in_the_second_a_build_began_is_read_again_where_times_are_whole_seconds() {
        // ext2/3, ext4 with small inodes, many network and USB file
        // systems keep whole seconds: a post rewritten in place at its
        // size with its modification time put back, in the second a build
        // read it, keeps the stamp that build wrote (its change time is
        // the same second). The build began at 5 s (`header`).
        let source = Path::new("_posts/2025-12-24-a.md");
        let post = crate::post::parse(source, "---\ntitle: A\n---\nBody\n", &rules()).unwrap();
        let at = |changed: i128| Stamp::from_nanos(7, 1_000_000_000, 7, changed, 1);
        for (changed, held) in [
            // Changed in that second, or after: it may have changed again unseen.
            (5_000_000_000, false),
            (6_000_000_000, false),
            // Changed before it: any later write would show in the second.
            (4_000_000_000, true),
            // A file system of nanoseconds shows a later write.
            (5_000_000_001, true),
        ] {
            let entries = vec![Entry {
                stamp: at(changed),
                ..new_entry(&post, 7)
            }];
            let (_dir, cache) = written(&entries, 0);
            assert_eq!(
                cache.lookup(source, at(changed)).is_some(),
                held,
                "{changed}"
            );
        }
    }

    #[test]
    fn the_common_prefix_is_the_one_a_byte_at_a_time_finds() {
        let texts: [&[u8]; 7] = [
            b"",
            b"a",
            b"abcdefgh",
            b"abcdefghi",
            b"abcdefgX",
            b"_posts/2024-01-01-a.md",
            b"_posts/2024-01-01-a.mdx",
        ];
        for a in texts {
            for b in texts {
                let slow = a.iter().zip(b).take_while(|(x, y)| x == y).count();
                assert_eq!(common_prefix(a, b), slow, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn a_stamps_times_keep_every_nanosecond_before_and_after_1970() {
        use std::os::unix::fs::MetadataExt;
        let times: [i128; 9] = [
            -1_000_000_001,
            -1,
            0,
            1,
            999_999_999,
            1_000_000_000,
            1_765_000_000_123_456_789,
            i128::from(i64::MIN),
            i128::from(i64::MAX),
        ];
        for (a, &time) in times.iter().enumerate() {
            let stamp = Stamp::from_nanos(1, time, 2, time, 3);
            assert_eq!((stamp.modified(), stamp.changed()), (time, time));
            for (b, &other) in times.iter().enumerate() {
                let same = Stamp::from_nanos(1, time, 2, other, 3) == stamp;
                assert_eq!(same, a == b, "{time} {other}");
            }
        }
        // A file's stamp, taken as `stat` gives it, is the one its instants make.
        let file = tempfile::NamedTempFile::new().unwrap();
        let meta = file.as_file().metadata().unwrap();
        let nanos = |seconds: i64, nanos: i64| i128::from(seconds) * NANOS + i128::from(nanos);
        assert_eq!(
            Stamp::of(&meta),
            Stamp::from_nanos(
                meta.len(),
                nanos(meta.mtime(), meta.mtime_nsec()),
                meta.ino(),
                nanos(meta.ctime(), meta.ctime_nsec()),
                meta.dev()
            )
        );
    }

    #[test]
    fn every_rows_file_url_path_stamp_and_facts_read_back_in_a_cache_written_twice() {
        // Enough rows that the blob's places add up over many files, each
        // file and URL path of its own length.
        let posts: Vec<Post> = (0..300)
            .map(|n| {
                let name = format!("2025-01-{:02}-p{}{}.md", n % 28 + 1, n, "x".repeat(n % 7));
                post(&name, &format!("title: T{n}"))
            })
            .collect();
        let entries: Vec<Entry> = posts
            .iter()
            .enumerate()
            .map(|(n, post)| new_entry(post, n as u64))
            .collect();
        let mut sorted = entries;
        sorted.sort_by(|a, b| path_order(&a.path, &b.path));
        let (dir, cache) = written(&sorted, i128::MAX);
        let check = |cache: &Cache, entries: &[Entry]| {
            assert_eq!(cache.len(), entries.len());
            for (at, entry) in entries.iter().enumerate() {
                assert_eq!(cache.row_path(at), entry.path);
                assert!(cache.holds(at, entry.stamp), "{}", entry.path.display());
                let post = cache.get(at).unwrap();
                assert_eq!(post.source, entry.path);
                assert_eq!(cache.url_path(at), post.path.as_bytes());
                assert_eq!(
                    cache.file_hash(at),
                    crate::post::file_hash(&post.source, &post.path)
                );
            }
        };
        check(&cache, &sorted);
        // Written again from the cache read: every other row kept (its
        // lines copied with the records), the others read anew.
        let again: Vec<Entry> = sorted
            .iter()
            .enumerate()
            .map(|(at, entry)| {
                let post = cache.get(at).unwrap();
                let mut next = new_entry(&post, entry.stamp.size);
                if at % 2 == 0 {
                    next.model = ModelLine::Kept(at);
                }
                next
            })
            .collect();
        let file = dir.path().join(FILE_NAME);
        write(&file, &header(i128::MAX), &again, &cache, None).unwrap();
        let (reread, note) = read(&file, "k", &rules().zone);
        assert!(note.is_none(), "{note:?}");
        check(&reread, &again);
        let order = |cache: &Cache| -> Vec<PathBuf> {
            cache
                .order
                .iter()
                .map(|&row| cache.row_path(row as usize).to_path_buf())
                .collect()
        };
        assert_eq!(order(&reread), order(&cache));
        assert_eq!(order(&reread).len(), 300);
    }

    /// `posts` as [`crate::post::published`] orders them at `now`: their files.
    fn published_at(posts: &[Post], now: i128) -> Vec<PathBuf> {
        let now = jiff::Timestamp::from_nanosecond(now).unwrap();
        crate::post::published(posts.to_vec(), now)
            .into_iter()
            .map(|post| post.source)
            .collect()
    }

    /// The files `merged` orders, of those published at `now`.
    fn merged_at(entries: &[Entry], merged: &Merged) -> Vec<PathBuf> {
        merged.order[merged.future..]
            .iter()
            .map(|&at| entries[at].path.clone())
            .collect()
    }

    #[test]
    fn new_posts_merge_into_the_order_jekyll_gives() {
        let old = vec![
            post("2025-01-01-a.md", "title: A"),
            post("2025-01-02-b.md", "title: B"),
            post(
                "2025-01-02-c.md",
                "title: C\ndate: 2025-01-02 00:00:00 +0900",
            ),
            post("2025-01-03-d.md", "title: D\npublished: false"),
            post("2025-01-05-e.md", "title: E"),
        ];
        let now = post("2025-01-04-x.md", "title: X")
            .date
            .timestamp()
            .as_nanosecond();
        let entries: Vec<Entry> = (0..)
            .zip(&old)
            .map(|(n, post)| new_entry(post, n))
            .collect();
        let (_dir, cache) = written(&entries, now);
        // Two new posts: one dated as B (ordered by file), one older than all.
        let added = [
            post(
                "2025-01-02-bb.md",
                "title: BB\ndate: 2025-01-02 00:00:00 +0900",
            ),
            post("2024-12-31-z.md", "title: Z"),
        ];
        let mut all: Vec<Post> = old.iter().chain(&added).cloned().collect();
        all.sort_by(|a, b| a.source.cmp(&b.source));
        let entries: Vec<Entry> = all
            .iter()
            .map(|post| match cache.find(&post.source) {
                Some(row) => Entry {
                    model: ModelLine::Kept(row),
                    ..new_entry(post, 0)
                },
                None => new_entry(post, 0),
            })
            .collect();
        let merged = cache.merge(&entries, now).unwrap();
        assert_eq!(merged.future, 1, "E is not published yet");
        assert_eq!(merged_at(&entries, &merged), published_at(&all, now));
        // Once E is published, its order was never checked: the slow way.
        let later = post("2025-01-06-y.md", "title: Y")
            .date
            .timestamp()
            .as_nanosecond();
        assert!(cache.merge(&entries, later).is_none());
        // Nothing new: the cache's order.
        let same: Vec<Entry> = (0..)
            .zip(&old)
            .map(|(row, post)| Entry {
                model: ModelLine::Kept(row),
                ..new_entry(post, 0)
            })
            .collect();
        let merged = cache.merge(&same, now).unwrap();
        assert_eq!(merged_at(&same, &merged), published_at(&old, now));
    }

    #[test]
    fn a_new_post_sharing_a_url_or_an_id_goes_the_slow_way() {
        let old = [post("2025-01-01-a.md", "title: A\npermalink: /same/")];
        let now = i128::from(i64::MAX);
        let (_dir, cache) = written(&[new_entry(&old[0], 0)], now);
        let with = |new: Post| {
            let mut entries = vec![Entry {
                model: ModelLine::Kept(0),
                ..new_entry(&old[0], 0)
            }];
            entries.push(new_entry(&new, 1));
            cache.merge(&entries, now)
        };
        assert!(with(post("2025-01-02-b.md", "title: B\npermalink: /same/")).is_none());
        // The same folder and slug: the same jekyll-feed id.
        assert!(
            with(post(
                "2025-01-02-b.md",
                "title: B\npermalink: /b.html\nslug: a"
            ))
            .is_none()
        );
        assert!(with(post("2025-01-02-b.md", "title: B")).is_some());
        // A post changed (read again) is ordered by what it holds now.
        let changed = [new_entry(&old[0], 1)];
        assert_eq!(cache.merge(&changed, now).unwrap().order, [0]);
    }
}
