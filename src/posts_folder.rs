//! Finds the post files in a posts folder and reads them (the I/O edge of
//! `post`), and picks the posts a command works on: those published now,
//! or the one `--post` names.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::build_cache;
use crate::config::Config;
use crate::error::{Error, Location, Problem};
use crate::post::{self, Post, Rules};

/// The extensions of the files Jekyll reads as posts: every one its
/// Markdown converter takes, and HTML.
pub(crate) const POST_EXTENSIONS: &[&str] = &["md", "markdown", "mkdown", "mkdn", "mkd", "html"];

/// Every post file under `dir`, recursively, in a stable order: each
/// extension of [`POST_EXTENSIONS`], skipping names that start with `.` or
/// `_`. A link to a file or folder is followed, but no folder is walked
/// twice and none holding the posts folder (`a -> .`, `root -> /`): the walk
/// always ends. Only regular files are posts: a FIFO or device named `x.md`
/// would block or never end a read.
pub(crate) fn find(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    walk(dir, None)
}

/// [`find`]'s files; the folder `dir` itself listed through `opened` when
/// it is open already (its files `stat`ed by name in it, [`RowStamps`]:
/// the very folder they are in, even if `dir` is a link another program
/// points elsewhere meanwhile, as a deploy flipping `current` does). Each
/// folder is listed into one buffer, its names read where they lie (the
/// standard library's listing made two strings of every name, nearly half
/// of listing 10,000 files).
fn walk(dir: &Path, opened: Option<&rustix::fd::OwnedFd>) -> Result<Vec<PathBuf>, Error> {
    use rustix::fs::FileType;
    let mut found = Vec::new();
    let root = std::fs::canonicalize(dir).map_err(|err| missing_folder(dir, err))?;
    let mut walked = std::collections::HashSet::from([root.clone()]);
    let mut pending = vec![(dir.to_path_buf(), root.clone())];
    let mut buffer = Vec::with_capacity(LISTING_BYTES);
    // The first folder listed is `dir`.
    let mut opened_dir = opened;
    while let Some((folder, real_folder)) = pending.pop() {
        let cannot_read =
            |err: rustix::io::Errno| Error::io("cannot read folder", &folder, err.into());
        let owned;
        let opened = if let Some(opened) = opened_dir.take() {
            opened
        } else {
            owned = open_folder(&folder).map_err(cannot_read)?;
            &owned
        };
        let mut entries = rustix::fs::RawDir::new(opened, buffer.spare_capacity_mut());
        while let Some(entry) = entries.next() {
            let entry = entry.map_err(cannot_read)?;
            let name_bytes = entry.file_name().to_bytes();
            if name_bytes.starts_with(b".") || name_bytes.starts_with(b"_") {
                continue;
            }
            let name = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name_bytes);
            let path = child(&folder, name);
            // A file system that does not say each entry's type is asked.
            let file_type = match entry.file_type() {
                FileType::Unknown => rustix::fs::statat(
                    opened,
                    entry.file_name(),
                    rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
                )
                .map(|stat| FileType::from_raw_mode(stat.st_mode))
                .map_err(|err| Error::io("cannot read", &path, err.into()))?,
                known => known,
            };
            let is_post_name = is_post_name(name_bytes);
            match file_type {
                FileType::Directory => {
                    let real = real_folder.join(name);
                    if walked.insert(real.clone()) {
                        pending.push((path, real));
                    }
                }
                FileType::Symlink => match std::fs::metadata(&path) {
                    Ok(target) if target.is_dir() => {
                        let Ok(real) = std::fs::canonicalize(&path) else {
                            continue;
                        };
                        if !root.starts_with(&real) && walked.insert(real.clone()) {
                            pending.push((path, real));
                        }
                    }
                    Ok(target) if target.is_file() && is_post_name => found.push(path),
                    // A dangling link is read, to be reported as unreadable.
                    Err(_) if is_post_name => found.push(path),
                    _ => {}
                },
                FileType::RegularFile if is_post_name => found.push(path),
                _ => {}
            }
        }
    }
    Ok(in_path_order(found, PathBuf::as_path))
}

/// The bytes of a folder's listing read at a time: 64 KiB, about 1,100
/// names of daily posts.
const LISTING_BYTES: usize = 64 * 1024;

/// The folder `path`, open to be listed or to look up names in. Only a
/// folder: opening a FIFO put there would wait for a writer forever.
fn open_folder(path: &Path) -> rustix::io::Result<rustix::fd::OwnedFd> {
    open_folder_in(rustix::fs::CWD, path)
}

/// [`open_folder`] of `path` in the open folder `folder`.
fn open_folder_in(
    folder: impl rustix::fd::AsFd,
    path: impl rustix::path::Arg,
) -> rustix::io::Result<rustix::fd::OwnedFd> {
    use rustix::fs::OFlags;
    rustix::fs::openat(
        folder,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
}

/// `items` in the path order (component by component) of their `path`,
/// as `sort()` gives it, without splitting every path into components for
/// every comparison: the paths are compared on the 8 bytes after the
/// prefix they all share, each `/` made NUL (which ranks it first, as
/// [`build_cache::path_order`] does; a Unix path holds no NUL of its own),
/// as one number, and byte by byte only where those are equal (comparing
/// the paths whole was a third of a build from the cache: posts' names
/// share long prefixes). The sort moves a number and a place, 16 bytes,
/// not the items (a window of 32 bytes moved with each was a tenth of a
/// build from the cache; past a date, names rarely part in the next 24).
fn in_path_order<T>(items: Vec<T>, path: impl Fn(&T) -> &Path) -> Vec<T> {
    fn bytes_of<'a, T>(item: &'a T, path: &impl Fn(&T) -> &Path) -> &'a [u8] {
        path(item).as_os_str().as_encoded_bytes()
    }
    let shared = items.first().map_or(0, |first| {
        let first = bytes_of(first, &path);
        items
            .iter()
            .map(|item| {
                bytes_of(item, &path)
                    .iter()
                    .zip(first)
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .min()
            .unwrap_or(0)
    });
    let head = |item: &T| {
        let rest = bytes_of(item, &path).get(shared..).unwrap_or_default();
        let mut head = [0; 8];
        for (to, &byte) in head.iter_mut().zip(rest) {
            *to = if byte == b'/' { 0 } else { byte };
        }
        u64::from_be_bytes(head)
    };
    // A shorter path's head is padded with zeros: a tie, settled whole.
    let mut order: Vec<(u64, usize)> = items
        .iter()
        .enumerate()
        .map(|(at, item)| (head(item), at))
        .collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| build_cache::path_order(path(&items[a.1]), path(&items[b.1])))
    });
    // Each item moved into its place along the cycles of the order, in
    // the list it is in: no second and third list of every item.
    let mut from: Vec<usize> = order.into_iter().map(|(_, at)| at).collect();
    let mut items = items;
    for start in 0..from.len() {
        let mut place = start;
        while from[place] != usize::MAX {
            let next = std::mem::replace(&mut from[place], usize::MAX);
            if next == start {
                break;
            }
            items.swap(place, next);
            place = next;
        }
    }
    items
}

/// `folder` joined with the file `name` as `Path::join` joins them, made
/// with one allocation (`join` checks and grows its buffer, a tenth of a
/// build from the cache).
fn child(folder: &Path, name: &std::ffi::OsStr) -> PathBuf {
    let folder = folder.as_os_str();
    if folder.is_empty() {
        return PathBuf::from(name);
    }
    let mut path = std::ffi::OsString::with_capacity(folder.len() + 1 + name.len());
    path.push(folder);
    if !folder.as_encoded_bytes().ends_with(b"/") {
        path.push("/");
    }
    path.push(name);
    PathBuf::from(path)
}

/// Whether a file `name` has an extension of [`POST_EXTENSIONS`], in any
/// case (as `Path::extension` finds it: after the last dot, unless that
/// begins the name).
fn is_post_name(name: &[u8]) -> bool {
    match name.iter().rposition(|&byte| byte == b'.') {
        None | Some(0) => false,
        Some(dot) => POST_EXTENSIONS
            .iter()
            .any(|ext| ext.as_bytes().eq_ignore_ascii_case(&name[dot + 1..])),
    }
}

fn missing_folder(dir: &Path, err: std::io::Error) -> Error {
    if err.kind() == std::io::ErrorKind::NotFound {
        Error::from(Problem::new(
            Location::file(dir),
            "the posts folder does not exist; set [posts] dir in the config or pass --posts DIR",
        ))
    } else {
        Error::io("cannot read folder", dir, err)
    }
}

/// Reads a post file's text, refusing files too large to be a post.
pub(crate) fn read(path: &Path) -> Result<String, Problem> {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    refuse_huge(path, size)?;
    let bytes = std::fs::read(path).map_err(|err| cannot_read(path, &err))?;
    post::decode(path, &bytes).map(std::borrow::Cow::into_owned)
}

/// Reads a post file up to the end of its front matter: all a post's model
/// needs. A file without a closed front matter is read whole, so that its
/// problem is reported as for [`read`]. The body is read again, whole, only
/// if an output needs it.
pub(crate) fn read_front_matter(path: &Path) -> Result<String, Problem> {
    // Most front matter fits in the first page, one read; a longer one
    // reads on, doubling, so a big file without one costs linear time. The
    // size limit is checked only then: no `stat` per post.
    let mut file = File::open(path).map_err(|err| cannot_read(path, &err))?;
    // One buffer a thread, zeroed once: a fresh page a post was zeroed
    // 10,000 times over in a cold build of 10,000 posts.
    PAGE_BUFFER.with_borrow_mut(|bytes| {
        let text = read_front_matter_into(path, &mut file, bytes);
        // A long front matter's (or a huge file's) room is not kept.
        if bytes.len() > KEPT_BUFFER_BYTES {
            *bytes = Vec::new();
        }
        text
    })
}

/// The most room [`PAGE_BUFFER`] keeps from one post to the next.
const KEPT_BUFFER_BYTES: usize = 64 * 1024;

thread_local! {
    /// [`read_front_matter`]'s buffer on this thread: a page, or the
    /// longest front matter read on it (a post's size at most).
    static PAGE_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`read_front_matter`] of `file`, read into `bytes` (kept from the
/// post before: only its first `filled` bytes are this post's).
fn read_front_matter_into(
    path: &Path,
    file: &mut File,
    bytes: &mut Vec<u8>,
) -> Result<String, Problem> {
    const PAGE: usize = 4096;
    if bytes.len() < PAGE {
        bytes.resize(PAGE, 0);
    }
    let mut filled = 0;
    loop {
        if filled == bytes.len() {
            if filled as u64 >= post::MAX_POST_BYTES {
                let size = file.metadata().map_or(filled as u64 + 1, |m| m.len());
                refuse_huge(path, size.max(filled as u64 + 1))?;
            }
            bytes.resize(filled * 2, 0);
        }
        let got = match file.read(&mut bytes[filled..]) {
            Ok(got) => got,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(cannot_read(path, &err)),
        };
        filled += got;
        if got == 0 {
            break;
        }
        if let Some(end) = front_matter_end(&bytes[..filled]) {
            filled = end;
            break;
        }
    }
    post::decode(path, &bytes[..filled]).map(std::borrow::Cow::into_owned)
}

/// Where the closing fence line ends, if `bytes` hold the whole front matter.
fn front_matter_end(bytes: &[u8]) -> Option<usize> {
    let bom = if bytes.starts_with(crate::text::BOM) {
        crate::text::BOM.len()
    } else {
        0
    };
    post::front_matter::end_of_front_matter(&bytes[bom..]).map(|end| bom + end)
}

fn refuse_huge(path: &Path, size: u64) -> Result<(), Problem> {
    if size > post::MAX_POST_BYTES {
        return Err(Problem::new(
            Location::file(path),
            format!(
                "the file is {:.1} MiB, over the {} MiB a post may be; is it really a post?",
                mebibytes(size),
                post::MAX_POST_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}

/// Bytes as MiB for a message; lossy only past 2^52 bytes.
#[allow(clippy::cast_precision_loss)]
fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn cannot_read(path: &Path, err: &std::io::Error) -> Problem {
    Problem::new(Location::file(path), format!("cannot read the file: {err}"))
}

/// The posts read from a folder, and the problems of those that could not be.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// Posts whose front matter is valid.
    pub posts: Vec<Post>,
    /// One or more problems per invalid post.
    pub problems: Vec<Problem>,
    /// How many post files the folder holds, valid or not.
    pub files: usize,
    /// Files Jekyll does not read as posts (in a Jekyll blog, a name without
    /// its `Y-M-D-` date): left out, as Jekyll leaves them out.
    pub ignored: Vec<PathBuf>,
    /// With a build cache: each valid post's file, stamp and model, for the
    /// next build's cache, in the order of [`find`] ([`build_cache::path_order`]).
    pub cache_entries: Vec<build_cache::Entry>,
    /// How many post files were read (not taken from a cache).
    pub read: usize,
    /// How many posts are published ([`load_published_cached`]): `posts`
    /// holds them all, or with [`Loaded::newest_only`] the newest of them.
    pub published: usize,
    /// Whether `posts` holds only the newest published posts, read whole
    /// from the build cache ([`load_published_cached`]'s quick way).
    pub newest_only: bool,
    /// Then every published post, newest first (those dated after the
    /// cutoff too): a place in `cache_entries` each.
    pub order: Vec<usize>,
}

/// One post file's outcome: its model or its problems, with a cache its
/// stamp and model line ([`build_cache::Line::Kept`] when taken from the
/// cache), and whether it was read (not taken from the cache).
type Outcome = (
    Result<Post, Vec<Problem>>,
    Option<(build_cache::Stamp, Option<build_cache::ModelLine>)>,
    bool,
);

/// Reads every post's front matter under `dir`, on as many threads as the
/// machine has cores. Bodies are not read: only the posts an output needs
/// are read again, whole, and rendered.
/// With a `cache`, each post whose file has not changed is taken
/// from it, and every valid post is listed in `cache_entries` for the next
/// build's cache.
pub(crate) fn load_cached(
    dir: &Path,
    rules: &Rules,
    cache: Option<&build_cache::Cache>,
) -> Result<Loaded, Error> {
    let (paths, ignored) = posts_of(find(dir)?, rules);
    Ok(load_found(&paths, ignored, dir, rules, cache, false))
}

/// The files of `found` Jekyll reads as posts, and those it leaves out
/// (in a Jekyll blog, a name without its `Y-M-D-` date).
fn posts_of(found: Vec<PathBuf>, rules: &Rules) -> (Vec<PathBuf>, Vec<PathBuf>) {
    found.into_iter().partition(|path| is_post(path, rules))
}

/// Whether Jekyll reads the file `path` as a post.
fn is_post(path: &Path, rules: &Rules) -> bool {
    !rules.site.dated_names_only
        || path.file_stem().is_some_and(|stem| {
            post::date::file_name_date(&stem.to_string_lossy(), &rules.zone).is_some()
        })
}

/// A post file's front matter read into its model.
fn parse_one(path: &Path, rules: &Rules) -> Result<Post, Vec<Problem>> {
    read_front_matter(path)
        .map_err(|problem| vec![problem])
        .and_then(|text| post::parse(path, &text, rules))
}

/// [`load_cached`] of the post files `paths` in `dir` (`ignored`: the
/// files left out); with `summaries`, a post taken from the cache is its
/// summary ([`build_cache::Cache::summary`]).
fn load_found(
    paths: &[PathBuf],
    ignored: Vec<PathBuf>,
    dir: &Path,
    rules: &Rules,
    cache: Option<&build_cache::Cache>,
    summaries: bool,
) -> Loaded {
    let parse_one = |path: &PathBuf| parse_one(path, rules);
    // Without a cache, one read per post and no `stat`; with one, a `stat`,
    // and a read only when the file is not the one the cache knows. A model
    // read is made a cache line here, on this thread.
    let read_one = |path: &PathBuf| -> Outcome {
        let Some(cache) = cache else {
            return (parse_one(path), None, true);
        };
        let Ok(meta) = std::fs::metadata(path) else {
            return (parse_one(path), None, true);
        };
        let stamp = build_cache::Stamp::of(&meta);
        let row = cache.lookup(path, stamp);
        let taken = row.and_then(|row| {
            if summaries {
                cache.summary(row)
            } else {
                cache.get(row)
            }
        });
        if let (Some(post), Some(row)) = (taken, row) {
            return (
                Ok(post),
                Some((stamp, Some(build_cache::ModelLine::Kept(row)))),
                false,
            );
        }
        let result = parse_one(path);
        let line = result.as_ref().ok().and_then(|post| {
            let line = build_cache::model_line(post, cache.zone())?;
            Some(build_cache::ModelLine::New(
                line,
                Box::new(build_cache::Facts::of(post)),
            ))
        });
        (result, Some((stamp, line)), true)
    };
    // Most posts' models are read from the cache: its lines read at once.
    if let Some(cache) = cache {
        cache.read_records();
    }
    let results = post::on_threads(paths, read_one);
    let mut loaded = Loaded {
        files: paths.len(),
        ignored,
        ..Loaded::default()
    };
    loaded.posts.reserve(results.len());
    for (result, cached, read) in results {
        loaded.read += usize::from(read);
        match result {
            Ok(post) => {
                if let Some((stamp, Some(model))) = cached {
                    loaded.cache_entries.push(build_cache::Entry {
                        path: post.source.clone(),
                        stamp,
                        model,
                        rendered: None,
                        links_posts: false,
                    });
                }
                loaded.posts.push(post);
            }
            Err(problems) => loaded.problems.extend(problems),
        }
    }
    // What Liquid may look up while rendering any of them (`post_url`, `link`, `site.*`).
    let site = std::sync::Arc::new(post::SiteContext::new(&loaded.posts, dir, rules));
    for post in &mut loaded.posts {
        post.site = Some(site.clone());
    }
    loaded
}

/// Each of the files `found` with its stamp and the row of `cache` that
/// holds it as it is: `None` for a file new or changed, and none at all if
/// a file cannot be `stat`ed or `known` did not match the files with rows.
/// A file's row is the one `known` matched it with ([`rows_of_files`]); a
/// file with a row takes the stamp [`RowStamps`] took while the folder was
/// walked, if it took one; the others are `stat`ed here, in runs of
/// [`STAT_RUN`] on every core (this thread's too), each core taking the
/// next run not taken: a core another program holds for a while slows one
/// run, not half of them.
fn cache_rows(
    found: &[PathBuf],
    known: &Known,
    cache: &build_cache::Cache,
) -> Option<Vec<(build_cache::Stamp, Option<usize>)>> {
    // Rows for fewer files would leave the rest without a stamp.
    let matched = (known.rows.len() == found.len()).then_some(&known.rows)?;
    let early = &known.stamps;
    let mut rows = vec![(build_cache::Stamp::default(), None); found.len()];
    let failed = std::sync::atomic::AtomicBool::new(false);
    let runs = std::sync::Mutex::new(
        rows.chunks_mut(STAT_RUN)
            .zip(found.chunks(STAT_RUN).zip(matched.chunks(STAT_RUN))),
    );
    let work = || {
        // The lock is held only to take the next run.
        while let Some((rows, (found, matched))) = runs.lock().ok().and_then(|mut runs| runs.next())
        {
            if !rows_of_run(rows, found, matched, early, cache) {
                failed.store(true, std::sync::atomic::Ordering::Relaxed);
                return;
            }
        }
    };
    // Threads only for the `stat`s not taken yet: the others are a look-up.
    let unstamped = found.len().saturating_sub(early.taken());
    let threads = cores().min(unstamped.div_ceil(STAT_RUN)).max(1);
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
    (!failed.into_inner()).then_some(rows)
}

/// The row of `cache` of each file of `found`, `None` for a file it does
/// not hold: both are in the walk's order, so one pass matches them.
/// Done while the other thread still `stat`s ([`RowStamps`]), where it
/// costs half what it would after.
fn rows_of_files(found: &[PathBuf], cache: &build_cache::Cache) -> Vec<Option<usize>> {
    let mut next = found.first().map_or(0, |first| cache.first_row_from(first));
    let is_row_of = |row: usize, path: &Path| {
        row < cache.len()
            && cache.row_path(row).as_os_str().as_encoded_bytes()
                == path.as_os_str().as_encoded_bytes()
    };
    found
        .iter()
        .map(|path| {
            // Nearly always the next row's (the rows of files gone are
            // passed over): the bytes compared once, then the order asked
            // only where they differ.
            let row = if is_row_of(next, path) {
                Some(next)
            } else {
                while next < cache.len()
                    && build_cache::path_order(cache.row_path(next), path)
                        == std::cmp::Ordering::Less
                {
                    next += 1;
                }
                is_row_of(next, path).then_some(next)
            };
            next += usize::from(row.is_some());
            row
        })
        .collect()
}

/// The stamp of the file at `path` (a link followed); `None` if it cannot be `stat`ed.
fn stamp_of(path: &Path) -> Option<build_cache::Stamp> {
    std::fs::metadata(path)
        .ok()
        .map(|meta| build_cache::Stamp::of(&meta))
}

/// The files a thread `stat`s at a time ([`cache_rows`], [`RowStamps`]).
const STAT_RUN: usize = 256;

/// [`cache_rows`] of one run: each file of `found`, its row `matched`, and
/// its stamp (`early`'s for that row, else `stat`ed now) into `rows`;
/// `false` if one cannot be `stat`ed.
fn rows_of_run(
    rows: &mut [(build_cache::Stamp, Option<usize>)],
    found: &[PathBuf],
    matched: &[Option<usize>],
    early: &EarlyStamps,
    cache: &build_cache::Cache,
) -> bool {
    for ((slot, path), &row) in rows.iter_mut().zip(found).zip(matched) {
        let Some(stamp) = row
            .and_then(|row| early.get(row))
            .or_else(|| stamp_of(path))
        else {
            return false;
        };
        *slot = (stamp, row.filter(|&row| cache.holds(row, stamp)));
    }
    true
}

/// The stamps of the files of a cache's rows, taken while the posts
/// folder is walked: the thread that read the cache begins, and the one
/// walking joins in once done, each taking the next run of
/// [`STAT_RUN`] rows not taken (a daily build's files are nearly all the
/// cache's: their `stat`s need not wait for the listing, which is about a
/// third of the time both take). Each file is `stat`ed by its name in the
/// open folder, a link followed, as [`stamp_of`] does by its whole path
/// (whose folders may be links, each looked up again).
struct RowStamps {
    /// The posts folder, open.
    folder: rustix::fd::OwnedFd,
    /// The folder as the rows' files begin with it.
    dir: PathBuf,
    /// The first row of the next run not taken.
    next: std::sync::atomic::AtomicUsize,
    /// Each run taken: its first row, and its stamps.
    runs: std::sync::Mutex<Vec<(usize, Vec<Option<build_cache::Stamp>>)>>,
}

impl RowStamps {
    /// `None` if the folder cannot be opened (each file is then `stat`ed by
    /// its path, after the walk).
    fn open(dir: &Path) -> Option<RowStamps> {
        Some(RowStamps {
            folder: open_folder(dir).ok()?,
            dir: dir.to_path_buf(),
            next: std::sync::atomic::AtomicUsize::new(0),
            runs: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// `stat`s the files of runs of `cache`'s rows not taken yet, until none is left.
    fn take_runs(&self, cache: &build_cache::Cache) {
        // The folder opened again for this thread: each `stat` through an
        // open folder counts a use of it, and two threads counting uses of
        // the same one (and the walk listing it) made every `stat` wait for
        // the other core's (a third of the `stat`s' time, on two cores).
        let own = open_folder_in(&self.folder, c".");
        let folder = own.as_ref().unwrap_or(&self.folder);
        loop {
            let first = self
                .next
                .fetch_add(STAT_RUN, std::sync::atomic::Ordering::Relaxed);
            if first >= cache.len() {
                return;
            }
            let stamps = (first..cache.len().min(first + STAT_RUN))
                .map(|row| self.stamp_in(folder, cache.row_path(row)))
                .collect();
            if let Ok(mut runs) = self.runs.lock() {
                runs.push((first, stamps));
            }
        }
    }

    /// [`RowStamps::stamp_in`] through the folder as first opened.
    #[cfg(test)]
    fn stamp(&self, path: &Path) -> Option<build_cache::Stamp> {
        self.stamp_in(&self.folder, path)
    }

    /// The stamp of `path`, `stat`ed by its name in `folder` (the posts
    /// folder, maybe opened again); `None` if it is not in the folder or
    /// cannot be `stat`ed.
    fn stamp_in(&self, folder: &rustix::fd::OwnedFd, path: &Path) -> Option<build_cache::Stamp> {
        let name = name_in(&self.dir, path)?;
        let mask = rustix::fs::StatxFlags::SIZE
            | rustix::fs::StatxFlags::MTIME
            | rustix::fs::StatxFlags::CTIME
            | rustix::fs::StatxFlags::INO;
        let stat = rustix::fs::statx(folder, name, rustix::fs::AtFlags::empty(), mask).ok()?;
        // A field the file system could not give is no stamp.
        (stat.stx_mask & mask.bits() == mask.bits()).then_some(())?;
        let time = |time: rustix::fs::StatxTimestamp| (time.tv_sec, i64::from(time.tv_nsec));
        Some(build_cache::Stamp::of_parts(
            stat.stx_size,
            time(stat.stx_mtime),
            time(stat.stx_ctime),
            stat.stx_ino,
            rustix::fs::makedev(stat.stx_dev_major, stat.stx_dev_minor),
        ))
    }

    /// The stamps taken, by row.
    fn into_stamps(self) -> EarlyStamps {
        let taken = self.runs.into_inner().unwrap_or_default();
        let mut runs = vec![Vec::new(); taken.len()];
        for (first, stamps) in taken {
            if let Some(run) = runs.get_mut(first / STAT_RUN) {
                *run = stamps;
            }
        }
        EarlyStamps { runs }
    }
}

/// What is known of the walk's files before they are read: the row of
/// the cache of each ([`rows_of_files`]), and the stamps taken of the
/// rows' files ([`RowStamps`]).
#[derive(Default)]
struct Known {
    /// Each file's row, if the cache holds one; empty if not matched yet.
    rows: Vec<Option<usize>>,
    /// The stamps taken, by row.
    stamps: EarlyStamps,
}

/// The stamps [`RowStamps`] took, by row of the cache.
#[derive(Default)]
struct EarlyStamps {
    /// Each run's stamps, by run ([`STAT_RUN`] rows each, from the first);
    /// empty for a run not taken.
    runs: Vec<Vec<Option<build_cache::Stamp>>>,
}

impl EarlyStamps {
    /// The stamp taken of the file of `row`, if one was.
    fn get(&self, row: usize) -> Option<build_cache::Stamp> {
        self.runs
            .get(row / STAT_RUN)?
            .get(row % STAT_RUN)
            .copied()
            .flatten()
    }

    /// How many stamps were taken.
    fn taken(&self) -> usize {
        self.runs
            .iter()
            .map(|stamps| stamps.iter().flatten().count())
            .sum()
    }
}

/// The name of `path` within the folder `dir` the walk began in (as
/// [`child`] joined them); `None` if `path` is not in it.
fn name_in<'a>(dir: &Path, path: &'a Path) -> Option<&'a std::ffi::OsStr> {
    let (dir, path) = (
        dir.as_os_str().as_encoded_bytes(),
        path.as_os_str().as_encoded_bytes(),
    );
    let rest = if dir.is_empty() {
        path
    } else {
        let rest = path.strip_prefix(dir)?;
        if dir.ends_with(b"/") {
            rest
        } else {
            rest.strip_prefix(b"/")?
        }
    };
    if rest.is_empty() || rest.starts_with(b"/") {
        return None;
    }
    // Split from a path at an ASCII `/`: still a whole encoded string.
    Some(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(rest))
}

/// Moves the calling thread, just started, to another core than the one
/// it was started on, if the process may run on another: the thread that
/// started it goes on where it was. Called by a thread that the starting
/// one let run first (`yield_now`): else the scheduler may leave both on
/// one core, one waiting behind the other for milliseconds (until its
/// next balancing, at a tick) while the other core sits idle; seen in
/// most runs of the build after one new post on a 2-core machine. The
/// thread may then go anywhere it could before.
pub(crate) fn to_another_core() {
    let Ok(all) = rustix::thread::sched_getaffinity(None) else {
        return;
    };
    let mut others = all;
    others.unset(rustix::thread::sched_getcpu());
    if others.count() > 0 && rustix::thread::sched_setaffinity(None, &others).is_ok() {
        let _ = rustix::thread::sched_setaffinity(None, &all);
    }
}

/// How many threads the machine runs at once, asked once: the standard
/// library reads the control group's files at each asking.
pub(crate) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

/// What Liquid may look up while rendering (`post_url`, `link`): every
/// post of `entries`, as the slow way gives it. Its fingerprint is added
/// up from the rows; the files and URL paths are made a list only if a
/// post looks another up: from the rows of the `cache` (shared, not
/// copied: it was the better part of a megabyte copied at 10,000 posts)
/// and the few posts read now.
fn site_of(
    entries: &[build_cache::Entry],
    cache: &std::sync::Arc<build_cache::Cache>,
    dir: &Path,
    rules: &Rules,
) -> std::sync::Arc<post::SiteContext> {
    // Each entry: its row, or (with [`READ_NOW`] set) its place among the
    // files read now.
    const READ_NOW: u32 = 1 << 31;
    let mut places = Vec::with_capacity(entries.len());
    let mut read_now = Vec::new();
    let mut sum = 0u64;
    for entry in entries {
        let (place, file_hash) = match &entry.model {
            build_cache::ModelLine::Kept(row) => (u32::try_from(*row).ok(), cache.file_hash(*row)),
            build_cache::ModelLine::New(_, facts) => {
                read_now.push((entry.path.clone(), facts.url_path().to_string()));
                (
                    u32::try_from(read_now.len() - 1)
                        .ok()
                        .map(|at| at | READ_NOW),
                    facts.file_hash(),
                )
            }
        };
        sum = sum.wrapping_add(file_hash);
        // A cache's rows and a build's new files are far fewer than 2^31.
        places.push(place.unwrap_or(u32::MAX));
    }
    let cache = std::sync::Arc::clone(cache);
    let load = move || {
        places
            .iter()
            .filter_map(|&place| {
                let at = (place & !READ_NOW) as usize;
                if place & READ_NOW == 0 {
                    let url_path = String::from_utf8_lossy(cache.url_path(at)).into_owned();
                    Some((cache.row_path(at).to_path_buf(), url_path))
                } else {
                    read_now.get(at).cloned()
                }
            })
            .collect()
    };
    std::sync::Arc::new(post::SiteContext::made_later(
        entries.len(),
        sum,
        dir,
        rules,
        load,
    ))
}

/// Reads every post under `dir` and keeps those readers see at `now`
/// ([`post::published`]): newest first. `problems` holds the invalid posts'
/// problems; what to do with them is the caller's (fail, warn, or list
/// them). Posts sharing a URL are all kept, with a note.
pub(crate) fn load_published(
    dir: &Path,
    rules: &Rules,
    now: jiff::Timestamp,
) -> Result<Loaded, Error> {
    let loaded = load_cached(dir, rules, None)?;
    let posts = post::published(loaded.posts, now);
    Ok(Loaded {
        published: posts.len(),
        posts,
        ..loaded
    })
}

/// [`load_published`] with a build cache (see [`load_cached`]), which
/// `read_cache` reads while the folder is walked (on a thread of its own,
/// or on this one if that thread has not begun by the end of the walk).
/// The posts, and the cache read.
/// A post taken from the cache is its summary (its entry's model is
/// [`build_cache::ModelLine::Kept`]): what ordering and the checks over
/// every post need; the caller reads whole, with [`build_cache::Cache::get`],
/// the posts its outputs show.
///
/// With `newest`, the quick way is tried first: when every file the cache
/// holds is there unchanged (and maybe some new ones), only the new files
/// are read, the posts are ordered from the cache's rows
/// ([`build_cache::Cache::merge`]), and `posts` holds the `newest`
/// published posts, whole ([`Loaded::newest_only`]). Anything else (a
/// file changed or gone, a new file that does not read, a shared URL or
/// id) goes the slow way.
pub(crate) fn load_published_cached(
    dir: &Path,
    rules: &Rules,
    now: jiff::Timestamp,
    read_cache: impl Fn() -> Option<build_cache::Cache> + Sync,
    newest: Option<usize>,
) -> Result<(Loaded, Option<std::sync::Arc<build_cache::Cache>>), Error> {
    // The quick way `stat`s every file: those of the cache's rows, while
    // the folder is walked.
    let row_stamps = newest.and_then(|_| RowStamps::open(dir));
    // The cache is read by a thread of its own while this one walks the
    // folder, or by this one if that thread has not begun by the end of the
    // walk (a new thread may wait milliseconds for a core): whichever asks
    // first reads it, the other waits for it.
    let cell = std::sync::OnceLock::new();
    let read = || {
        cell.get_or_init(|| read_cache().map(std::sync::Arc::new))
            .clone()
    };
    let (found, matched) = std::thread::scope(|scope| {
        let reading = scope.spawn(|| {
            to_another_core();
            if let (Some(stamps), Some(cache)) = (&row_stamps, read()) {
                stamps.take_runs(&cache);
            }
        });
        // The new thread runs first, to move to another core ([`to_another_core`]).
        std::thread::yield_now();
        // The files left out taken from the list where it is (no copy of
        // every file's place into a second list).
        let found = walk(dir, row_stamps.as_ref().map(|stamps| &stamps.folder)).map(|mut found| {
            let ignored: Vec<PathBuf> =
                found.extract_if(.., |path| !is_post(path, rules)).collect();
            (found, ignored)
        });
        // The files matched with the cache's rows, then the `stat`s.
        let matched = match (&found, newest.and_then(|_| read())) {
            (Ok((found, _)), Some(cache)) => rows_of_files(found, &cache),
            _ => Vec::new(),
        };
        if let (Some(stamps), Ok(_), Some(cache)) = (&row_stamps, &found, read()) {
            stamps.take_runs(&cache);
        }
        reading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (found, matched)
    });
    let cache = read();
    let known = Known {
        rows: matched,
        stamps: row_stamps.map(RowStamps::into_stamps).unwrap_or_default(),
    };
    let (found, ignored) = found?;
    let paths = match (newest, &cache) {
        (Some(newest), Some(old)) => match load_newest(found, &known, dir, rules, now, old, newest)
        {
            Ok(loaded) => return Ok((Loaded { ignored, ..loaded }, cache)),
            Err(paths) => paths,
        },
        _ => found,
    };
    let loaded = load_found(&paths, ignored, dir, rules, cache.as_deref(), true);
    let posts = post::published(loaded.posts, now);
    let loaded = Loaded {
        published: posts.len(),
        posts,
        ..loaded
    };
    Ok((loaded, cache))
}

/// The most files the quick way reads ([`load_newest`]) however few the
/// posts (a quarter of them when that is more).
const MOST_FRESH: usize = 64;

/// The quick way of [`load_published_cached`]: `None` when the posts
/// cannot be ordered from `cache`'s rows ([`build_cache::Cache::merge`])
/// or a file read now does not read (the slow way says why). Each file is
/// `stat`ed (on every core) and found in its row; the new and changed ones
/// are read; no unchanged post's model is read but those of the `newest`
/// published posts.
#[allow(clippy::too_many_arguments)] // the files, and what is known of them already
fn load_newest(
    found: Vec<PathBuf>,
    known: &Known,
    dir: &Path,
    rules: &Rules,
    now: jiff::Timestamp,
    cache: &std::sync::Arc<build_cache::Cache>,
    newest: usize,
) -> Result<Loaded, Vec<PathBuf>> {
    let Some((rows, mut fresh)) = read_changed(&found, known, rules, cache) else {
        return Err(found);
    };
    let read = fresh.len();
    // The files move into the entries (no copy of each); the slow way gets
    // them back.
    let mut new_posts = Vec::with_capacity(read);
    let mut entries = Vec::with_capacity(found.len());
    for (path, (stamp, row)) in found.into_iter().zip(rows) {
        let model = if let Some(row) = row {
            build_cache::ModelLine::Kept(row)
        } else if let Some((post, line)) = fresh.pop() {
            let facts = Box::new(build_cache::Facts::of(&post));
            new_posts.push((entries.len(), post));
            build_cache::ModelLine::New(line, facts)
        } else {
            // Each file without a row was read: not reached.
            continue;
        };
        entries.push(build_cache::Entry {
            path,
            stamp,
            model,
            rendered: None,
            links_posts: false,
        });
    }
    let files = entries.len();
    let Some((posts, order, published)) = newest_posts(&entries, &new_posts, now, cache, newest)
    else {
        return Err(entries.into_iter().map(|entry| entry.path).collect());
    };
    let site = site_of(&entries, cache, dir, rules);
    let mut posts = posts;
    for post in &mut posts {
        post.site = Some(site.clone());
    }
    Ok(Loaded {
        posts,
        problems: Vec::new(),
        files,
        ignored: Vec::new(),
        cache_entries: entries,
        read,
        published,
        newest_only: true,
        order,
    })
}

/// Each file of `found` with its stamp and the row of `cache` that holds it as
/// it is, and the posts read of the others (new or changed), last first,
/// each with its model line; `None` when the quick way does not apply (an
/// empty cache, many files new, one that cannot be `stat`ed or read).
#[allow(clippy::type_complexity)] // two lists that go together
fn read_changed(
    found: &[PathBuf],
    known: &Known,
    rules: &Rules,
    cache: &build_cache::Cache,
) -> Option<(
    Vec<(build_cache::Stamp, Option<usize>)>,
    Vec<(Post, String)>,
)> {
    if cache.len() == 0 {
        return None;
    }
    let rows = cache_rows(found, known, cache)?;
    let fresh: Vec<&PathBuf> = found
        .iter()
        .zip(&rows)
        .filter(|(_, (_, row))| row.is_none())
        .map(|(path, _)| path)
        .collect();
    // Past a few new or changed files among many (a first build, a new
    // version of every post), the slow way is as quick and checks them all.
    if fresh.len() > MOST_FRESH.max(found.len() / 4) {
        return None;
    }
    let read_one = |path: &&PathBuf| {
        let post = parse_one(path, rules).ok()?;
        let line = build_cache::model_line(&post, cache.zone())?;
        Some((post, line))
    };
    // The daily build's one new post is read here, on this thread: no
    // threads to start, nor the control group's files to read for them.
    let mut read: Vec<(Post, String)> = if fresh.len() == 1 {
        fresh.iter().map(read_one).collect::<Option<_>>()?
    } else {
        post::on_threads(&fresh, read_one)
            .into_iter()
            .collect::<Option<_>>()?
    };
    read.reverse();
    Some((rows, read))
}

/// The newest `newest` published posts of `entries`, whole (from the
/// cache's lines, or `new_posts` read now, by their places), the order
/// of every published post, and how many are published at `now`; `None`
/// when the rows cannot order them ([`build_cache::Cache::merge`]) or a
/// line does not read.
fn newest_posts(
    entries: &[build_cache::Entry],
    new_posts: &[(usize, Post)],
    now: jiff::Timestamp,
    cache: &build_cache::Cache,
    newest: usize,
) -> Option<(Vec<Post>, Vec<usize>, usize)> {
    let merged = cache.merge(entries, now.as_nanosecond())?;
    let published = &merged.order[merged.future..];
    let mut posts = Vec::with_capacity(newest.min(published.len()));
    for &at in published.iter().take(newest) {
        let post = match entries[at].model {
            build_cache::ModelLine::Kept(row) => cache.get(row)?,
            build_cache::ModelLine::New(..) => new_posts
                .iter()
                .find(|(place, _)| *place == at)
                .map(|(_, post)| post.clone())?,
        };
        posts.push(post);
    }
    let published = published.len();
    Some((posts, merged.order, published))
}

/// The posts published in the config's posts folder, newest first; any
/// invalid post is an error (the mail commands never work from a part),
/// unless `posts.skip_invalid` leaves it out (`mail --skip-invalid`, which
/// names each).
pub(crate) fn published(config: &Config) -> Result<Vec<Post>, Error> {
    let loaded = load_published(
        &config.posts.dir,
        &Rules::from_config(config),
        cutoff(config),
    )?;
    if loaded.problems.is_empty() || config.posts.skip_invalid {
        Ok(loaded.posts)
    } else {
        Err(Error::Invalid(loaded.problems))
    }
}

/// The instant after which a post is not published yet: now, or never with
/// Jekyll's `future: true`.
pub(crate) fn cutoff(config: &Config) -> jiff::Timestamp {
    if config.posts.future {
        jiff::Timestamp::MAX
    } else {
        jiff::Timestamp::now()
    }
}

/// Picks a post by its file path or its date `YYYY-MM-DD` (`--post`).
pub(crate) fn select<'a>(posts: &'a [Post], selector: &str) -> Result<&'a Post, Error> {
    let by_path = posts.iter().find(|post| {
        post.source == Path::new(selector)
            || post.source.file_name().is_some_and(|name| name == selector)
            || post.source.ends_with(selector)
    });
    if let Some(post) = by_path {
        return Ok(post);
    }
    let on_day: Vec<&Post> = posts
        .iter()
        .filter(|post| post.date.strftime("%Y-%m-%d").to_string() == selector)
        .collect();
    match on_day.as_slice() {
        [post] => Ok(post),
        [] => Err(Problem::new(
            Location::file("--post"),
            format!("no published post is {selector:?}; give a post's path or its date YYYY-MM-DD"),
        )
        .into()),
        several => Err(Problem::new(
            Location::file("--post"),
            format!(
                "{} posts are dated {selector}: {}; give the path of one",
                several.len(),
                several
                    .iter()
                    .map(|post| post.source.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn front_of(bytes: &[u8]) -> Result<String, Problem> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("post.md");
        std::fs::write(&path, bytes).unwrap();
        read_front_matter(&path)
    }

    #[test]
    fn paths_sort_in_path_order() {
        let names = [
            "_posts/a-b.md",
            "_posts/a/b.md",
            "_posts/a.md",
            "_posts/a",
            "_posts/a b.md",
            "_posts/ab/c.md",
            "_posts/a/b/c.md",
            "_posts/a/b",
            "_posts/2024-01-02-x.md",
            "_posts/2024/01-x.md",
            "_posts/2024.md",
            "_posts/é.md",
            "_posts/Z.md",
            "_posts/.md",
        ];
        let mut by_path: Vec<PathBuf> = names.iter().map(PathBuf::from).collect();
        let mut ours = by_path.clone();
        ours.reverse();
        by_path.sort();
        let keyed = ours.clone();
        ours.sort_unstable_by(|a, b| build_cache::path_order(a, b));
        assert_eq!(ours, by_path);
        assert_eq!(in_path_order(keyed, PathBuf::as_path), by_path);
        // Long shared prefixes, and names that differ past the window.
        let long = |tail: &str| PathBuf::from(format!("_posts/2024-01-01-daily-papers-{tail}"));
        let mut names: Vec<PathBuf> = [
            "a/b.md",
            "a.md",
            "a",
            "abcdefghijklmnopq.md",
            "abcdefghijklmnopp.md",
            "b",
            "a-b",
        ]
        .iter()
        .map(|tail| long(tail))
        .collect();
        let far = "x".repeat(40);
        names.extend(["b.md", "a.md", "a/b.md"].map(|end| long(&format!("{far}{end}"))));
        let shuffled = names.clone();
        names.sort();
        assert_eq!(in_path_order(shuffled, PathBuf::as_path), names);
    }

    #[test]
    fn post_names_and_joined_paths_are_those_of_path() {
        for name in [
            "a.md",
            "a.MD",
            "a.markdown",
            "a.html",
            ".md",
            "a.",
            "a.txt",
            "a.md.txt",
            "a.txt.md",
            "a",
        ] {
            let by_path = Path::new(name)
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| POST_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()));
            assert_eq!(is_post_name(name.as_bytes()), by_path, "{name}");
        }
        for folder in ["", ".", "_posts", "_posts/", "/abs/_posts", "a//b"] {
            let name = std::ffi::OsStr::new("x.md");
            assert_eq!(
                child(Path::new(folder), name),
                Path::new(folder).join(name),
                "{folder}"
            );
        }
    }

    #[test]
    fn the_quick_ways_site_is_the_slow_ways() {
        let rules = post::test_rules();
        let dir = tempfile::tempdir().unwrap();
        let posts: Vec<Post> = ["2025-01-01-a.md", "2025-01-02-b.md"]
            .iter()
            .map(|name| {
                let source = Path::new("_posts").join(name);
                post::parse(&source, "---\ntitle: T\n---\nBody\n", &rules).unwrap()
            })
            .collect();
        let entry = |post: &Post, model| build_cache::Entry {
            path: post.source.clone(),
            stamp: build_cache::Stamp::of(&std::fs::metadata(dir.path()).unwrap()),
            model,
            rendered: None,
            links_posts: false,
        };
        let new = |post: &Post| {
            let line = build_cache::model_line(post, &rules.zone).unwrap();
            build_cache::ModelLine::New(line, Box::new(build_cache::Facts::of(post)))
        };
        let file = dir.path().join(build_cache::FILE_NAME);
        let header = build_cache::Written {
            key: "k",
            render_key: "",
            site_key: 0,
            started: 0,
            cutoff: 0,
            sharing: false,
        };
        let empty = build_cache::Cache::empty(rules.zone.clone());
        build_cache::write(
            &file,
            &header,
            &[entry(&posts[0], new(&posts[0]))],
            &empty,
            None,
        )
        .unwrap();
        let (cache, _) = build_cache::read(&file, "k", &rules.zone);
        let cache = std::sync::Arc::new(cache);
        // One post from the cache's row, one read now.
        let entries = [
            entry(&posts[0], build_cache::ModelLine::Kept(0)),
            entry(&posts[1], new(&posts[1])),
        ];
        let quick = site_of(&entries, &cache, Path::new("_posts"), &rules);
        let slow = post::SiteContext::new(&posts, Path::new("_posts"), &rules);
        assert_eq!(quick.fingerprint(), slow.fingerprint());
        for name in ["2025-01-01-a", "_posts/2025-01-02-b.md", "none"] {
            assert_eq!(quick.post_path(name), slow.post_path(name), "{name}");
        }
        assert!(quick.post_path("2025-01-02-b").is_some());
    }

    /// The cache entry of a post read now from `path`, at `stamp`.
    fn new_entry(path: &Path, stamp: build_cache::Stamp) -> build_cache::Entry {
        let rules = post::test_rules();
        let post = post::parse(path, "---\ntitle: T\n---\nBody\n", &rules).unwrap();
        let line = build_cache::model_line(&post, &rules.zone).unwrap();
        build_cache::Entry {
            path: path.to_path_buf(),
            stamp,
            model: build_cache::ModelLine::New(line, Box::new(build_cache::Facts::of(&post))),
            rendered: None,
            links_posts: false,
        }
    }

    #[test]
    fn each_run_of_stats_finds_the_rows_a_look_up_finds() {
        // More files than several runs of `stat`s take, some new to the
        // cache, some changed, and rows of files gone between them.
        let rules = post::test_rules();
        let dir = tempfile::tempdir().unwrap();
        let posts_dir = dir.path().join("_posts");
        std::fs::create_dir(&posts_dir).unwrap();
        let name = |n: usize| format!("2025-01-{:02}-p{n}.md", n % 28 + 1);
        for n in 0..STAT_RUN * 3 + 17 {
            std::fs::write(
                posts_dir.join(name(n)),
                format!("---\ntitle: T{n}\n---\nBody\n"),
            )
            .unwrap();
        }
        let found = walk(&posts_dir, None).unwrap();
        // The walk's order is the paths' (the folder lists them in its own).
        assert!(found.windows(2).all(|pair| pair[0] < pair[1]));
        let mut entries = Vec::new();
        for (at, path) in found.iter().enumerate() {
            let mut stamp = build_cache::Stamp::of(&std::fs::metadata(path).unwrap());
            match at % 5 {
                0 => continue,                              // new: no row
                1 => stamp = build_cache::Stamp::default(), // changed since
                _ => {}
            }
            entries.push(new_entry(path, stamp));
            if at % 7 == 3 {
                // A file gone since, whose row sorts just after this one.
                let mut gone = path.clone().into_os_string();
                gone.push("-gone.md");
                entries.push(new_entry(Path::new(&gone), stamp));
            }
        }
        entries.sort_by(|a, b| build_cache::path_order(&a.path, &b.path));
        let file = dir.path().join(build_cache::FILE_NAME);
        let header = build_cache::Written {
            key: "k",
            render_key: "",
            site_key: 0,
            started: i128::from(i64::MAX),
            cutoff: 0,
            sharing: false,
        };
        let empty = build_cache::Cache::empty(rules.zone.clone());
        build_cache::write(&file, &header, &entries, &empty, None).unwrap();
        let (cache, note) = build_cache::read(&file, "k", &rules.zone);
        assert!(note.is_none(), "{note:?}");
        // Without stamps taken early: each file `stat`ed by its path.
        let matched = Known {
            rows: rows_of_files(&found, &cache),
            stamps: EarlyStamps::default(),
        };
        let rows = cache_rows(&found, &matched, &cache).unwrap();
        // Files not matched with rows: no stamps, not the quick way.
        assert_eq!(cache_rows(&found, &Known::default(), &cache), None);
        // Stamps taken by name in the open folder, while the folder is
        // walked, give the same rows: one stamp for each row of a file
        // there, none for a file gone.
        let stamps = RowStamps::open(&posts_dir).unwrap();
        stamps.take_runs(&cache);
        let early = stamps.into_stamps();
        let there = (0..cache.len())
            .filter(|&row| cache.row_path(row).exists())
            .count();
        assert_eq!(early.taken(), there);
        assert!(there < cache.len());
        let known = Known {
            rows: rows_of_files(&found, &cache),
            stamps: early,
        };
        assert_eq!(cache_rows(&found, &known, &cache).unwrap(), rows);
        assert_eq!(rows.len(), found.len());
        let mut kept = 0;
        for (path, (stamp, row)) in found.iter().zip(&rows) {
            assert_eq!(
                *stamp,
                build_cache::Stamp::of(&std::fs::metadata(path).unwrap())
            );
            assert_eq!(*row, cache.lookup(path, *stamp), "{}", path.display());
            kept += usize::from(row.is_some());
        }
        assert_eq!(
            kept,
            found.len() - found.len().div_ceil(5) - (found.len() + 3) / 5
        );
    }

    #[test]
    fn the_walk_lists_the_folder_its_files_are_stated_in_though_the_path_moved() {
        // `_posts` a link flipped to another release between the folder's
        // opening (where the cache's files are `stat`ed) and its listing:
        // the listing is of the folder opened, not of the link's new target.
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (dir.path().join("old"), dir.path().join("new"));
        std::fs::create_dir_all(&old).unwrap();
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(old.join("2025-01-01-a.md"), "a").unwrap();
        std::fs::write(new.join("2025-01-02-b.md"), "b").unwrap();
        let posts = dir.path().join("_posts");
        std::os::unix::fs::symlink(&old, &posts).unwrap();
        let stamps = RowStamps::open(&posts).unwrap();
        std::fs::remove_file(&posts).unwrap();
        std::os::unix::fs::symlink(&new, &posts).unwrap();
        let listed = walk(&posts, Some(&stamps.folder)).unwrap();
        assert_eq!(listed, [posts.join("2025-01-01-a.md")]);
        assert!(stamps.stamp(&posts.join("2025-01-01-a.md")).is_some());
        // Without a folder open, the path as it is now.
        assert_eq!(walk(&posts, None).unwrap(), [posts.join("2025-01-02-b.md")]);
    }

    #[test]
    fn a_thread_moved_to_another_core_may_still_run_on_every_core_it_could() {
        let before = rustix::thread::sched_getaffinity(None).unwrap();
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mine = rustix::thread::sched_getaffinity(None).unwrap();
                    to_another_core();
                    assert_eq!(rustix::thread::sched_getaffinity(None).unwrap(), mine);
                })
                .join()
                .unwrap();
        });
        assert_eq!(rustix::thread::sched_getaffinity(None).unwrap(), before);
    }

    #[test]
    fn a_files_name_in_the_folder_is_what_follows_the_folder() {
        let name = |dir: &str, path: &str| {
            name_in(Path::new(dir), Path::new(path)).map(|name| name.to_str().unwrap().to_owned())
        };
        assert_eq!(name("_posts", "_posts/a.md").as_deref(), Some("a.md"));
        assert_eq!(name("_posts/", "_posts/a.md").as_deref(), Some("a.md"));
        assert_eq!(
            name("_posts", "_posts/sub/a.md").as_deref(),
            Some("sub/a.md")
        );
        assert_eq!(
            name("/abs/_posts", "/abs/_posts/a.md").as_deref(),
            Some("a.md")
        );
        assert_eq!(name("", "a.md").as_deref(), Some("a.md"));
        // Not in the folder: another folder sharing its first letters, the
        // folder itself, an absolute path.
        assert_eq!(name("_posts", "_posts2/a.md"), None);
        assert_eq!(name("_posts", "_posts"), None);
        assert_eq!(name("_posts", "_posts/"), None);
        assert_eq!(name("", "/a.md"), None);
    }

    #[test]
    fn a_stamp_taken_by_name_in_the_folder_is_the_stamp_of_its_path() {
        // A file, and links to a file and through a folder: each followed,
        // as `stat` by the whole path follows them.
        let dir = tempfile::tempdir().unwrap();
        let posts = dir.path().join("_posts");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&posts).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(posts.join("2025-01-01-a.md"), "a").unwrap();
        std::fs::write(elsewhere.join("2025-01-02-b.md"), "bb").unwrap();
        std::os::unix::fs::symlink(
            elsewhere.join("2025-01-02-b.md"),
            posts.join("2025-01-02-b.md"),
        )
        .unwrap();
        std::os::unix::fs::symlink(&elsewhere, posts.join("linked")).unwrap();
        let stamps = RowStamps::open(&posts).unwrap();
        for name in [
            "2025-01-01-a.md",
            "2025-01-02-b.md",
            "linked/2025-01-02-b.md",
        ] {
            let path = posts.join(name);
            assert_eq!(
                stamps.stamp(&path),
                Some(build_cache::Stamp::of(&std::fs::metadata(&path).unwrap())),
                "{name}"
            );
        }
        assert_eq!(stamps.stamp(&posts.join("gone.md")), None);
    }

    #[test]
    fn reads_up_to_the_closing_fence_only() {
        assert_eq!(
            front_of(b"---\ntitle: A\n---\nBody\n\xFF").unwrap(),
            "---\ntitle: A\n---\n"
        );
        // A BOM and CRLF, as `read` takes them.
        assert_eq!(
            front_of(b"\xEF\xBB\xBF---\r\ntitle: A\r\n...\r\nBody\r\n").unwrap(),
            "---\ntitle: A\n...\n"
        );
        // A front matter longer than one read.
        let long = format!(
            "---\ntitle: A\ndescription: \"{}\"\n---\nBody\n",
            "x".repeat(10_000)
        );
        let front = front_of(long.as_bytes()).unwrap();
        assert!(
            front.ends_with("\"\n---\n") && front.len() > 10_000,
            "{}",
            front.len()
        );
    }

    #[test]
    fn reads_the_whole_file_when_the_front_matter_is_not_closed() {
        let text = format!("---\ntitle: A\n{}", "body line\n".repeat(1_000));
        assert_eq!(front_of(text.as_bytes()).unwrap(), text);
        assert_eq!(front_of(b"no front matter\n").unwrap(), "no front matter\n");
        assert_eq!(front_of(b"").unwrap(), "");
        // A `---` that is not alone on its line does not close it.
        let text = "---\ntitle: A\n--- no\n";
        assert_eq!(front_of(text.as_bytes()).unwrap(), text);
    }
}
