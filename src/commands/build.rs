//! `digest-feed build`: posts in, three feeds (and per-tag feeds) out.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::cli::BuildArgs;
use super::report::Report;
use crate::build_cache;
use crate::config::{Config, FeedFiles, ItemKind};
use crate::error::{Error, Location, Problem};
use crate::feed::links::Listed;
use crate::feed::{self, Channel, Item, Person};
use crate::output::{self, Written};
use crate::post::{Post, Rendered, Rules};
use crate::posts_folder;
use crate::text;

/// Runs `build`. Where the outputs show only the newest posts (no
/// per-tag feeds, no archive), the quick way is tried first: with a build
/// cache that holds every file unchanged, only new posts are read and only
/// the newest posts read whole ([`posts_folder::load_published_cached`]).
/// If those posts come short of filling the feeds (posts without papers,
/// posts skipped), the build starts again the slow way, nothing written,
/// and what the quick way said (its warnings, its `-v` lines) is not
/// printed: the slow way says it again.
pub(super) fn run(config: &Config, args: &BuildArgs, report: Report) -> Result<(), Error> {
    let quick = !config.feed.archive && !config.feed.per_tag && !args.no_cache;
    let mut cache = if args.no_cache {
        CacheUse::None
    } else {
        CacheUse::Read
    };
    if quick {
        let held = report.hold();
        // Built (or failed): `held` prints what the attempt said as it drops.
        match attempt(config, args, report, true, cache)? {
            Attempt::Built => return Ok(()),
            Attempt::Short => {
                held.discard();
                report.detail("the newest posts do not fill the feeds: every post read");
            }
            Attempt::CacheDamaged(why) => {
                held.discard();
                report.warning(why);
                cache = CacheUse::Fresh;
            }
        }
    }
    match attempt(config, args, report, false, cache)? {
        Attempt::CacheDamaged(why) => {
            report.warning(why);
            attempt(config, args, report, false, CacheUse::Fresh).map(|_| ())
        }
        Attempt::Built | Attempt::Short => Ok(()),
    }
}

/// How a build uses the build cache.
#[derive(Debug, Clone, Copy)]
enum CacheUse {
    /// `--no-cache`: neither read nor written.
    None,
    /// Read, and written for the next build.
    Read,
    /// Not read (it was found damaged): every post read, and a new one written.
    Fresh,
}

/// How an attempt at a build ended, when no error stopped it.
#[derive(Debug)]
enum Attempt {
    /// Built: every output written.
    Built,
    /// The quick way's newest posts did not fill the feeds; nothing written.
    Short,
    /// A post's model in the build cache did not read (the file was
    /// damaged where the summary does not look); nothing written. Why, for
    /// a warning.
    CacheDamaged(String),
}

/// The posts the quick way reads whole: those the feeds show, and those
/// the page for people lists.
fn newest_shown(config: &Config) -> usize {
    config.feed.limit.max(super::links::NEWEST)
}

/// One build, the quick way or not, with the cache used as `cache` says.
fn attempt(
    config: &Config,
    args: &BuildArgs,
    report: Report,
    quick: bool,
    cache: CacheUse,
) -> Result<Attempt, Error> {
    let started = std::time::Instant::now();
    // With --json the one JSON object is the result; warnings still go to stderr.
    let text_report = if args.json { report.quieter() } else { report };
    let posts_dir = args
        .posts
        .clone()
        .unwrap_or_else(|| config.posts.dir.clone());
    let out_dir = args.out.clone().unwrap_or_else(|| config.feed.out.clone());
    let skip_invalid = args.skip_invalid || config.posts.skip_invalid;
    let newest = quick.then(|| newest_shown(config));
    let LoadedPosts {
        posts,
        published,
        newest_only,
        skipped,
        store,
    } = load(config, &posts_dir, skip_invalid, cache, newest, report)?;
    report.detail(format!(
        "{published} published posts in {}",
        posts_dir.display()
    ));

    let mut renderer = Renderer::new(skip_invalid, report, store, &posts);
    // Each output is staged beside its target as it is made, and all are
    // put in place at the end: a failure before leaves every previous
    // output as it was.
    let mut outputs = output::Batch::default();
    let main = match main_feeds(config, &posts, &out_dir, &mut renderer, &mut outputs) {
        Ok(main) => main,
        Err(err) => return renderer.damaged_or(err),
    };
    if newest_only && main.items.len() < config.feed.limit && posts.len() < published {
        // Older posts are needed to fill the feeds: the slow way reads them.
        return Ok(Attempt::Short);
    }
    let (listed, tag_feeds, tags_without_items) =
        match listed_feeds(config, &posts, &out_dir, &main, &mut renderer, &mut outputs) {
            Ok(listed) => listed,
            Err(err) => return renderer.damaged_or(err),
        };
    let page = match people_page(config, &out_dir, &listed, &posts, &renderer) {
        Ok(page) => page,
        Err(err) => return renderer.damaged_or(err),
    };

    if main.items.is_empty() && config.feed.items == ItemKind::Papers && !posts.is_empty() {
        report.warning(no_papers(renderer.rendered()));
    }
    let rest = Rest {
        main: main_files_deferred(config).then_some(&main),
        page,
        out_dir: &out_dir,
        tags: config.feed.per_tag.then(|| out_dir.join("tags")),
    };
    let (written, unsaved) = finish(&mut renderer, rest, outputs, &config.feed.files, report);
    let (changed, outputs) = match written {
        Ok(written) => written,
        Err(err) => return renderer.damaged_or(err),
    };
    remove_leftovers(&out_dir, &renderer);
    if config.feed.archive {
        remove_old_pages(&out_dir, &outputs, report)?;
    }
    renderer.tell(published);
    if let Some(warning) = unsaved {
        report.warning(warning);
    }
    let built = Built {
        out: shown(&out_dir),
        items: main.items.len(),
        kind: kind_name(config.feed.items),
        files: outputs.len(),
        changed,
        tag_feeds,
        tags_without_items,
        archive_pages: pages_in(&out_dir.join(feed::archive::ARCHIVE_DIR), &outputs),
        skipped,
        milliseconds: started.elapsed().as_millis(),
    };
    if args.json {
        report.json(&built);
    }
    tell(&built, &out_dir, &config.feed.files, text_report);
    // The process ends right after: freeing every post, body and cache
    // line one by one (a tenth of a build from the cache at 10,000
    // posts) would only give back memory the exit gives back at once.
    std::mem::forget((posts, renderer, main));
    Ok(Attempt::Built)
}

/// The main feeds, into `outputs` (their files later when
/// [`main_files_deferred`]); their channel, of the newest
/// `feed.limit` items. Archived feeds page back through every item: the
/// items go through the pages oldest first, each page staged on disk once
/// full and its items dropped, so that a build holds two pages' worth of
/// items whatever the number of posts. The newest posts' bodies are kept
/// (for per-tag feeds and the build cache); an older post's is dropped
/// once its items are on their page, but for its line in the next build's
/// cache while there is room ([`Renderer::render_passing`]).
fn main_feeds(
    config: &Config,
    posts: &[Post],
    out_dir: &Path,
    renderer: &mut Renderer,
    outputs: &mut output::Batch,
) -> Result<Channel, Error> {
    let limit = config.feed.limit;
    if !config.feed.archive {
        let main = channel(config, "", &config.site.title, posts, renderer, limit)?;
        if !main_files_deferred(config) {
            add_feeds(&main, out_dir, outputs)?;
        }
        return Ok(main);
    }
    let mut main = empty_channel(config, "", &config.site.title, posts);
    let mut pager = feed::archive::Pager::new(main.clone(), limit);
    let entry_author = entry_author(config);
    // Posts this near the newest have their body kept: those the
    // subscription feed shows at least (in a papers feed, a post may give
    // no item).
    let kept = limit.saturating_mul(2).max(1);
    for (newer, post) in posts.iter().enumerate().rev() {
        let post = renderer.whole(post)?;
        let items = if newer < kept {
            let Some(body) = renderer.render(&post)? else {
                continue;
            };
            post_items(config, &post, body, &entry_author)
        } else {
            let Some(body) = renderer.render_passing(&post)? else {
                continue;
            };
            post_items(config, &post, &body, &entry_author)
        };
        // A post's items are newest first; the pager takes the oldest first.
        for item in items.into_iter().rev() {
            for (name, bytes) in pager.push(item)? {
                outputs.add(out_dir.join(name), &bytes)?;
            }
        }
    }
    let (files, newest) = pager.finish()?;
    for (name, bytes) in files {
        outputs.add(out_dir.join(name), &bytes)?;
    }
    main.items = newest;
    main.items.truncate(limit);
    Ok(main)
}

/// Whether the main feeds' three files are made only once every body is
/// rendered ([`finish`], beside the writing of the next build's cache):
/// without per-tag feeds or an archive, nothing is rendered past the main
/// channel, and no output comes between its files and the page for people.
fn main_files_deferred(config: &Config) -> bool {
    !config.feed.archive && !config.feed.per_tag
}

/// What is left to stage and write once every body is rendered.
struct Rest<'a> {
    /// The main channel, when its files are still to make ([`main_feeds`]).
    main: Option<&'a Channel>,
    /// The page for people, when it is written.
    page: Option<(PathBuf, Vec<u8>)>,
    /// The output folder.
    out_dir: &'a Path,
    /// With per-tag feeds, their folder.
    tags: Option<PathBuf>,
}

/// What [`finish`] did: how many files changed and every file, and the
/// warning of a cache not written.
type Finished = (Result<(usize, Vec<PathBuf>), Error>, Option<String>);

/// Stages the `rest` of the outputs and writes them all ([`write_all`]),
/// while the next build's cache is written on a thread of its own (it
/// holds what was read, whatever becomes of the outputs): the syncs wait
/// for the disk, the cache's writing does not, and neither waits for the
/// other. What was written, and the warning of a cache not written.
fn finish(
    renderer: &mut Renderer,
    rest: Rest<'_>,
    mut outputs: output::Batch,
    files: &FeedFiles,
    report: Report,
) -> Finished {
    let save = prepare_cache(renderer);
    let run = renderer.store.as_ref();
    std::thread::scope(|scope| {
        let saving = scope.spawn(|| {
            posts_folder::to_another_core();
            run.zip(save)
                .and_then(|(run, save)| write_cache(run, &save))
        });
        // It runs first, to move to another core ([`posts_folder::to_another_core`]).
        std::thread::yield_now();
        let staged = stage_rest(rest.main, rest.page, rest.out_dir, &mut outputs);
        let written = staged.and_then(|()| write_all(outputs, rest.tags.as_deref(), files, report));
        let unsaved = saving
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (written, unsaved)
    })
}

/// Removes what a build killed while staging left beside the outputs
/// and the cache ([`output::remove_leftovers`]): once this build's outputs
/// are in place, so that a failing build leaves everything as it was.
fn remove_leftovers(out_dir: &Path, renderer: &Renderer) {
    output::remove_leftovers(out_dir);
    if let Some(folder) = renderer.store.as_ref().and_then(|run| run.file.parent()) {
        output::remove_leftovers(folder);
    }
}

/// The three feed files of `main`, into `outputs`.
fn add_feeds(main: &Channel, out_dir: &Path, outputs: &mut output::Batch) -> Result<(), Error> {
    for (name, bytes) in feed::render_all(main)? {
        outputs.add(out_dir.join(name), &bytes)?;
    }
    Ok(())
}

/// The outputs not staged yet, in the order they always come: the main
/// feeds' files when their making was `deferred` ([`main_feeds`]), then
/// the page for people.
fn stage_rest(
    deferred: Option<&Channel>,
    page: Option<(PathBuf, Vec<u8>)>,
    out_dir: &Path,
    outputs: &mut output::Batch,
) -> Result<(), Error> {
    if let Some(main) = deferred {
        add_feeds(main, out_dir, outputs)?;
    }
    if let Some((path, bytes)) = page {
        outputs.add(path, &bytes)?;
    }
    Ok(())
}

/// The main feeds and, with per-tag feeds, each tag's, into `outputs`:
/// the feeds the page for people lists, how many tags have feeds, and
/// the tags that get none for want of items.
fn listed_feeds(
    config: &Config,
    posts: &[Post],
    out_dir: &Path,
    main: &Channel,
    renderer: &mut Renderer,
    outputs: &mut output::Batch,
) -> Result<(Vec<Listed>, usize, Vec<String>), Error> {
    let mut listed = vec![Listed {
        title: main.title.clone(),
        base_url: main.base_url.clone(),
        files: main.files.clone(),
    }];
    let (tag_feeds, tags_without_items) = if config.feed.per_tag {
        per_tag(config, posts, out_dir, renderer, outputs, &mut listed)?
    } else {
        (0, Vec::new())
    };
    Ok((listed, tag_feeds, tags_without_items))
}

/// What the feeds' items are, as `--json` names them.
fn kind_name(items: ItemKind) -> &'static str {
    match items {
        ItemKind::Posts => "posts",
        ItemKind::Papers => "papers",
    }
}

/// How many archive pages (each an Atom and a JSON file) `outputs` puts in `pages`.
fn pages_in(pages: &Path, outputs: &[PathBuf]) -> usize {
    outputs
        .iter()
        .filter(|path| path.parent() == Some(pages))
        .count()
        / 2
}

/// Removes the archive pages an earlier build wrote and this one did not
/// (posts unpublished since): a reader paging back finds no stale page.
fn remove_old_pages(out_dir: &Path, outputs: &[PathBuf], report: Report) -> Result<(), Error> {
    let pages = out_dir.join(feed::archive::ARCHIVE_DIR);
    for path in output::remove_unkept(&pages, outputs, feed::archive::is_page_name)? {
        report.detail(format!("removed {}", path.display()));
    }
    Ok(())
}

/// The warning for a papers feed that came out empty.
fn no_papers(rendered: usize) -> String {
    format!(
        "feed.items = \"papers\" finds no paper in the newest {rendered} posts (no numbered sections like `## 1. Title`); the feeds are empty"
    )
}

/// The page for people, unless a file not ours is where it goes.
fn people_page(
    config: &Config,
    out_dir: &Path,
    listed: &[Listed],
    posts: &[Post],
    renderer: &Renderer,
) -> Result<Option<(PathBuf, Vec<u8>)>, Error> {
    let page_path = out_dir.join(super::links::PAGE_FILE);
    if super::links::is_ours(&page_path) {
        // The page lists the newest posts' titles: those posts read whole.
        let newest = posts
            .iter()
            .take(super::links::NEWEST)
            .map(|post| renderer.whole(post).map(Cow::into_owned))
            .collect::<Result<Vec<Post>, Error>>()?;
        let page = super::links::page(config, listed, &newest);
        Ok(Some((page_path, page.into_bytes())))
    } else {
        renderer.report.warning(format!(
            "{} is not digest-feed's: left as it is (the page for people is written there otherwise)",
            page_path.display()
        ));
        Ok(None)
    }
}

/// What a build did, as `--json` prints it.
#[derive(Debug, serde::Serialize)]
struct Built {
    /// The output folder.
    out: String,
    /// Items in the main feeds.
    items: usize,
    /// `posts` or `papers`.
    kind: &'static str,
    /// Files rendered.
    files: usize,
    /// Of those, how many changed on disk.
    changed: usize,
    /// Tags with feeds of their own.
    tag_feeds: usize,
    /// Tags that get no feed: none of their posts gives an item (in papers
    /// mode, none has papers).
    tags_without_items: Vec<String>,
    /// Archive pages (`feed.archive`), each in Atom and JSON Feed.
    archive_pages: usize,
    /// Invalid posts left out with `--skip-invalid`, as `file:line: message`.
    skipped: Vec<String>,
    /// How long the build took.
    milliseconds: u128,
}

/// The lines a build prints.
fn tell(built: &Built, out_dir: &Path, files: &FeedFiles, report: Report) {
    report.result(format!(
        "Feeds in {}: {}, {}, {} ({}; {} of {} changed)",
        built.out,
        out_dir.join(&files.rss).display(),
        out_dir.join(&files.atom).display(),
        out_dir.join(&files.json).display(),
        text::count(built.items, &built.kind[..built.kind.len() - 1]),
        built.changed,
        text::count(built.files, "file"),
    ));
    if built.archive_pages > 0 {
        report.result(format!(
            "Archive: {} in {} (atom.xml and feed.json link back to them)",
            text::count(built.archive_pages, "page"),
            out_dir.join(feed::archive::ARCHIVE_DIR).display()
        ));
    }
    if built.tag_feeds > 0 {
        report.result(format!(
            "Per-tag feeds for {} in {}",
            text::count(built.tag_feeds, "tag"),
            out_dir.join("tags").display()
        ));
    }
    if !built.tags_without_items.is_empty() {
        let why = if built.kind == "papers" {
            "their posts have no papers"
        } else {
            "none of their posts could be rendered"
        };
        report.result(format!(
            "No feeds for {} ({why}): {}",
            text::count(built.tags_without_items.len(), "tag"),
            built.tags_without_items.join(", ")
        ));
    }
}

/// A folder for people: `.` for the current one.
fn shown(path: &Path) -> String {
    if path.as_os_str().is_empty() {
        ".".into()
    } else {
        path.display().to_string()
    }
}

/// The published posts; invalid ones stop the build, or with
/// `--skip-invalid` are warned of and left out.
fn load(
    config: &Config,
    posts_dir: &Path,
    skip_invalid: bool,
    cache: CacheUse,
    newest: Option<usize>,
    report: Report,
) -> Result<LoadedPosts, Error> {
    let rules = Rules::from_config(config);
    let started = build_cache::now();
    let cutoff = posts_folder::cutoff(config);
    // Beside the delivery state; where no mail is set up, in the
    // `.digest-feed` folder the state would have beside the config.
    let state_folder = config.email().map_or_else(
        |_| {
            config
                .path
                .parent()
                .unwrap_or(Path::new(""))
                .join(".digest-feed")
        },
        |email| email.state.parent().unwrap_or(Path::new("")).to_path_buf(),
    );
    let file = state_folder.join(build_cache::FILE_NAME);
    let key = build_cache::key(&rules, posts_dir);
    let read_cache = || match cache {
        CacheUse::None => None,
        CacheUse::Fresh => Some(build_cache::Cache::empty(rules.zone.clone())),
        CacheUse::Read => {
            let (cache, note) = build_cache::read(&file, &key, &rules.zone);
            if let Some(note) = note {
                report.warning(note);
            }
            Some(cache)
        }
    };
    let (
        posts_folder::Loaded {
            posts,
            problems,
            files,
            read,
            cache_entries,
            published,
            newest_only,
            order,
            ..
        },
        cache,
    ) = posts_folder::load_published_cached(posts_dir, &rules, cutoff, read_cache, newest)?;
    if !problems.is_empty() && !skip_invalid {
        return Err(Error::Invalid(problems));
    }
    for problem in &problems {
        report.warning(format!("{problem} (skipped)"));
    }
    let run = cache.map(|old| {
        report.detail(format!(
            "read {read} of {files} post files (the rest from the build cache)"
        ));
        if newest_only {
            report.detail(format!(
                "the newest {} of {published} posts read whole; the others known from the build cache",
                posts.len()
            ));
        }
        CacheRun {
            models_unchanged: read == 0 && old.len() == cache_entries.len(),
            file,
            key,
            started,
            cutoff: cutoff.as_nanosecond(),
            // The quick way is taken only where no two posts share.
            sharing: !newest_only
                && posts
                    .iter()
                    .any(|post| post.shares_url_with.is_some() || post.shares_id),
            whole: newest_only,
            order: newest_only.then_some(order),
            old,
            entries: cache_entries,
        }
    });
    let skipped = problems.iter().map(ToString::to_string).collect();
    Ok(LoadedPosts {
        posts,
        published,
        newest_only,
        skipped,
        store: run,
    })
}

/// The posts a build works on, and its cache.
struct LoadedPosts {
    /// The published posts, newest first: all, or the newest of them.
    posts: Vec<Post>,
    /// How many posts are published.
    published: usize,
    /// Whether `posts` holds only the newest published posts, read whole.
    newest_only: bool,
    /// The invalid posts skipped, as `file:line: message`.
    skipped: Vec<String>,
    /// The build cache, unless `--no-cache`.
    store: Option<CacheRun>,
}

/// This build's cache: the one read, and what the next build gets.
struct CacheRun {
    /// `build-cache.json`.
    file: PathBuf,
    /// The key of the models.
    key: String,
    /// When this build began.
    started: i128,
    /// The instant it publishes posts up to, nanoseconds since the epoch.
    cutoff: i128,
    /// Whether two of its published posts share a URL or an id.
    sharing: bool,
    /// Whether the posts are whole already (the quick way).
    whole: bool,
    /// The quick way's order of the published posts, newest first: places
    /// in `entries`.
    order: Option<Vec<usize>>,
    /// The cache as this build found it (shared with the site's list of
    /// posts, which reads its rows only if a post looks another up).
    old: std::sync::Arc<build_cache::Cache>,
    /// Every valid post, for the next build.
    entries: Vec<build_cache::Entry>,
    /// Every post was taken from the cache, and none is gone.
    models_unchanged: bool,
}

/// The next build's cache made ready to write ([`write_cache`]): each
/// post with the body this build rendered (or the cache's, still good).
/// `None` when there is none to write: no cache, or one that would be the
/// same, which stays as it is.
fn prepare_cache(renderer: &mut Renderer) -> Option<CacheSave> {
    let Some(run) = &mut renderer.store else {
        return None;
    };
    let render_key = renderer.render_key.clone().unwrap_or_default();
    let site_key = renderer.site_key;
    // Bodies rendered now but not kept change nothing in the file.
    if run.models_unchanged
        && renderer.fresh == renderer.unkept
        && run.old.render_key() == render_key
        && run.old.site_key() == site_key
    {
        return None;
    }
    // Every post's body as the cache holds it, if still good; then those
    // this build rendered or took, found by their place (the entries are
    // in the walk's order): a lookup of every post in the renderer's few
    // bodies hashed each path, a twentieth of a build from the cache.
    for entry in &mut run.entries {
        (entry.rendered, entry.links_posts) = if render_key.is_empty() {
            (None, false)
        } else {
            entry
                .kept_row()
                .and_then(|row| run.old.kept_body(row, &render_key, site_key))
                .map_or((None, false), |links| {
                    (Some(build_cache::Line::Kept), links)
                })
        };
    }
    let place = |entries: &[build_cache::Entry], path: &Path| {
        entries
            .binary_search_by(|entry| build_cache::path_order(&entry.path, path))
            .ok()
    };
    let links_posts = |path: &PathBuf| renderer.links_posts.get(path) == Some(&true);
    for (path, body) in &renderer.cache {
        let (Some(body), Some(at)) = (body, place(&run.entries, path)) else {
            continue;
        };
        let entry = &mut run.entries[at];
        (entry.rendered, entry.links_posts) = if renderer.taken.contains(path) {
            // Taken from the cache: its line is still good.
            (Some(build_cache::Line::Kept), links_posts(path))
        } else {
            (
                build_cache::rendered_line(body).map(build_cache::Line::New),
                links_posts(path),
            )
        };
    }
    for (path, line) in renderer.passing_lines.drain() {
        if let Some(at) = place(&run.entries, &path) {
            let entry = &mut run.entries[at];
            (entry.rendered, entry.links_posts) =
                (Some(build_cache::Line::New(line)), links_posts(&path));
        }
    }
    Some(CacheSave {
        render_key,
        site_key,
    })
}

/// What the next build's cache is written under besides the run's own.
struct CacheSave {
    /// The key of its bodies.
    render_key: String,
    /// The fingerprint of every post's URL they were made under.
    site_key: u64,
}

/// Writes the cache for the next build that [`prepare_cache`] made ready.
/// A cache that cannot be written costs the next build time, not this one
/// its feeds: the warning to give.
fn write_cache(run: &CacheRun, save: &CacheSave) -> Option<String> {
    let header = build_cache::Written {
        key: &run.key,
        render_key: &save.render_key,
        site_key: save.site_key,
        started: run.started,
        cutoff: run.cutoff,
        sharing: run.sharing,
    };
    let order = run.order.as_deref();
    build_cache::write(&run.file, &header, &run.entries, &run.old, order)
        .err()
        // The cache is replaced whole or not at all: a failed write leaves
        // the one before (if any), which spares the next build less (a
        // rename failing just after the old one was removed leaves none:
        // the next build reads every post).
        .map(|err| format!("{err}; the build cache was not updated, so the next build reads again the posts this one read"))
}

/// The feeds of each tag, into `outputs`, each listed in `listed`: how
/// many tags have feeds, and the tags that get none for want of items.
fn per_tag(
    config: &Config,
    posts: &[Post],
    out_dir: &Path,
    renderer: &mut Renderer,
    outputs: &mut output::Batch,
    listed: &mut Vec<Listed>,
) -> Result<(usize, Vec<String>), Error> {
    let problems = tag_problems(config, posts);
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let mut count = 0;
    let mut empty = Vec::new();
    for (slug, (tag, tagged)) in posts_by_tag(posts, renderer.report) {
        let folder = format!("tags/{slug}/");
        let title = format!("{} — {tag}", config.site.title);
        let channel = channel(
            config,
            &folder,
            &title,
            &tagged,
            renderer,
            config.feed.limit,
        )?;
        // A feed with no item is one nobody can follow: not written, not listed.
        if channel.items.is_empty() {
            empty.push(tag);
            continue;
        }
        for (name, bytes) in feed::render_all(&channel)? {
            outputs.add(out_dir.join(&folder).join(name), &bytes)?;
        }
        listed.push(Listed {
            title,
            base_url: channel.base_url,
            files: channel.files,
        });
        count += 1;
    }
    Ok((count, empty))
}

/// Writes every output or none, then, with per-tag feeds in `tags`, removes
/// the feeds of every tag folder there that this build did not write: a
/// tag no published post carries any more would go on serving an
/// unpublished post's full text. How many files changed, and every file.
fn write_all(
    outputs: output::Batch,
    tags: Option<&Path>,
    files: &FeedFiles,
    report: Report,
) -> Result<(usize, Vec<PathBuf>), Error> {
    let mut changed = 0;
    let all = outputs.commit()?;
    if let Some(tags) = tags {
        let kept: Vec<PathBuf> = all
            .iter()
            .filter_map(|(path, _)| path.parent())
            .filter(|folder| folder.parent() == Some(tags))
            .map(Path::to_path_buf)
            .collect();
        let names = files.all();
        for path in output::remove_stale(tags, &kept, &names)? {
            report.detail(format!("removed {}", path.display()));
        }
    }
    for (path, written) in &all {
        let written = *written;
        if written == Written::Changed {
            changed += 1;
        }
        report.detail(format!(
            "{} {}",
            if written == Written::Changed {
                "wrote"
            } else {
                "unchanged"
            },
            path.display()
        ));
    }
    Ok((changed, all.into_iter().map(|(path, _)| path).collect()))
}

/// The most bytes of bodies an archived build keeps for the build cache
/// beyond the newest posts' (see [`Renderer::render_passing`]).
const PASSING_BODY_BYTES: usize = 128 * 1024 * 1024;

/// Renders each post at most once, however many feeds it is in.
/// With the build cache, a body the last build rendered is taken from it
/// when the post's file and what rendering looks up are unchanged.
struct Renderer {
    skip_invalid: bool,
    report: Report,
    /// `None` for a post that failed and was skipped.
    cache: HashMap<PathBuf, Option<Rendered>>,
    /// The build cache, unless `--no-cache`.
    store: Option<CacheRun>,
    /// The key bodies are kept under; `None`: none are taken or kept.
    render_key: Option<String>,
    /// The fingerprint of every post's URL, for bodies that link to posts.
    site_key: u64,
    /// Bodies made ahead of their turn ([`Renderer::render_ahead`]), each
    /// told of (warnings, counts) only when [`Renderer::make`] takes it.
    ahead: HashMap<PathBuf, Ahead>,
    /// Whether each body rendered (or taken from the cache) links to posts.
    links_posts: HashMap<PathBuf, bool>,
    /// The bodies taken from the build cache.
    taken: std::collections::HashSet<PathBuf>,
    /// How many posts were rendered and not kept ([`Renderer::render_passing`]).
    passed: usize,
    /// Of those rendered now, the bodies kept for the build cache as its
    /// lines, up to [`PASSING_BODY_BYTES`] in all.
    passing_lines: HashMap<PathBuf, String>,
    /// The bytes of `passing_lines`.
    passing_bytes: usize,
    /// Bodies rendered now and kept neither here nor for the cache (past
    /// the room for them): the cache is no different for them.
    unkept: usize,
    /// How many posts were rendered, not taken from the cache.
    fresh: usize,
    /// Why a post's model in the build cache did not read, when one did not.
    damaged: std::cell::RefCell<Option<String>>,
}

impl Renderer {
    /// A renderer for `posts`, with this build's cache unless `--no-cache`.
    fn new(skip_invalid: bool, report: Report, store: Option<CacheRun>, posts: &[Post]) -> Self {
        // What rendering looks up besides each post: a body rendered under
        // another key is rendered again.
        let site = posts.first().and_then(|post| post.site.clone());
        let render_key = store
            .as_ref()
            .and(site.as_ref())
            .and_then(|site| build_cache::render_key(&site.root.join("_includes")));
        let site_key = site.as_ref().map_or(0, |site| site.fingerprint());
        Renderer {
            skip_invalid,
            report,
            cache: HashMap::new(),
            store,
            render_key,
            site_key,
            ahead: HashMap::new(),
            links_posts: HashMap::new(),
            taken: std::collections::HashSet::new(),
            passed: 0,
            passing_lines: HashMap::new(),
            passing_bytes: 0,
            unkept: 0,
            fresh: 0,
            damaged: std::cell::RefCell::new(None),
        }
    }

    /// `post` whole. A post the build cache gave in summary (its model
    /// line kept) is read whole from the cache, with what ordering settled
    /// for it (its key, the URL and id it shares, its notes): only the
    /// posts an output shows are, not every post.
    fn whole<'a>(&self, post: &'a Post) -> Result<Cow<'a, Post>, Error> {
        let Some(store) = self.store.as_ref().filter(|store| !store.whole) else {
            return Ok(Cow::Borrowed(post));
        };
        let Some(row) = self.entry(post).and_then(build_cache::Entry::kept_row) else {
            return Ok(Cow::Borrowed(post));
        };
        // The same line gave the summary: it reads whole unless damaged
        // in a field the summary skips. Then the build stops here and
        // starts again without the cache (`damaged_or`), writing a new one.
        let Some(mut whole) = store.old.get(row) else {
            let why = format!(
                "{}: its model of {} does not read (the file is damaged); every post read again and the cache rebuilt",
                store.file.display(),
                post.source.display()
            );
            *self.damaged.borrow_mut() = Some(why.clone());
            return Err(Error::Invalid(vec![Problem::new(
                Location::file(&store.file),
                why,
            )]));
        };
        whole.key.clone_from(&post.key);
        whole.shares_url_with.clone_from(&post.shares_url_with);
        whole.shares_id = post.shares_id;
        whole.notes.clone_from(&post.notes);
        whole.site.clone_from(&post.site);
        Ok(Cow::Owned(whole))
    }

    /// `err`, unless it came of a damaged build cache: then the attempt
    /// ends, nothing written, to start again without the cache.
    fn damaged_or(&self, err: Error) -> Result<Attempt, Error> {
        match self.damaged.borrow_mut().take() {
            Some(why) => Ok(Attempt::CacheDamaged(why)),
            None => Err(err),
        }
    }

    /// The build cache's entry of `post`.
    fn entry(&self, post: &Post) -> Option<&build_cache::Entry> {
        let store = self.store.as_ref()?;
        // The entries are in the order the posts folder was walked in.
        let at = store
            .entries
            .binary_search_by(|entry| build_cache::path_order(&entry.path, &post.source))
            .ok()?;
        Some(&store.entries[at])
    }

    /// The body the build cache holds for `post`, if still good.
    fn cached(&self, post: &Post) -> Option<(Rendered, bool)> {
        let row = self.entry(post)?.kept_row()?;
        self.store
            .as_ref()?
            .old
            .rendered(row, self.render_key.as_deref()?, self.site_key)
    }

    /// Makes the bodies of `posts` that are neither made nor due from
    /// the cache side by side, on every core, ahead of
    /// [`Renderer::render`] asking for them one by one: what a build
    /// prints and counts is told as each is taken, in the order of before.
    /// `posts` whole, up to the first that does not read whole (the
    /// caller meets its error again in its turn).
    fn render_ahead<'a>(&mut self, posts: &'a [Post]) -> Vec<Cow<'a, Post>> {
        let mut wholes = Vec::with_capacity(posts.len());
        for post in posts {
            let Ok(whole) = self.whole(post) else {
                break;
            };
            wholes.push(whole);
        }
        let pending: Vec<&Post> = wholes
            .iter()
            .map(|post| &**post)
            .filter(|post| {
                !self.cache.contains_key(&post.source) && !self.ahead.contains_key(&post.source)
            })
            .collect();
        // Read from the cache here, once (`make` takes them from `ahead`),
        // side by side: each body is a JSON line to parse, tens of
        // kilobytes, and the feeds wait for all of them.
        let rows: Vec<Option<usize>> = pending
            .iter()
            .map(|post| self.entry(post).and_then(build_cache::Entry::kept_row))
            .collect();
        let (old, key, site_key) = (
            self.store.as_ref().map(|store| &*store.old),
            self.render_key.as_deref(),
            self.site_key,
        );
        let read = |row: &Option<usize>| old?.rendered((*row)?, key?, site_key);
        // Threads only when there are bodies to read (none without a cache).
        let cached = if old.is_some() && key.is_some() && rows.iter().flatten().nth(1).is_some() {
            side_by_side(&rows, read)
        } else {
            rows.iter().map(read).collect()
        };
        let mut due = Vec::new();
        for (post, cached) in pending.into_iter().zip(cached) {
            match cached {
                Some((body, links_posts)) => {
                    self.ahead
                        .insert(post.source.clone(), Ahead::Cached(body, links_posts));
                }
                None => due.push(post),
            }
        }
        if due.len() > 1 {
            self.ahead.extend(render_side_by_side(&due));
        }
        wholes
    }

    /// The rendered post; `None` when it failed and `--skip-invalid` skips it.
    fn render(&mut self, post: &Post) -> Result<Option<&Rendered>, Error> {
        if !self.cache.contains_key(&post.source) {
            let rendered = self.make(post)?;
            self.cache.insert(post.source.clone(), rendered);
        }
        Ok(self.cache[&post.source].as_ref())
    }

    /// The rendered post as [`Renderer::render`] gives it, but not kept:
    /// for an archive page's post, needed once.
    fn render_passing(&mut self, post: &Post) -> Result<Option<Rendered>, Error> {
        if let Some(done) = self.cache.get(&post.source) {
            return Ok(done.clone());
        }
        self.passed += 1;
        let rendered = self.make(post)?;
        // A body rendered now is kept for the next build while the room
        // lasts: an archive's older pages need not be rendered again, and
        // a blog of any size holds at most this much for it. The bodies the
        // cache gave count first (the oldest, as the pages are made oldest
        // first), so the room is the same from build to build.
        let Some(body) = &rendered else {
            return Ok(rendered);
        };
        if self.taken.contains(&post.source) {
            if let (Some(store), Some(row)) = (
                &self.store,
                self.entry(post).and_then(build_cache::Entry::kept_row),
            ) {
                self.passing_bytes += store.old.body_len(row);
            }
            return Ok(rendered);
        }
        let room = self.store.is_some()
            && self.render_key.is_some()
            && self.passing_bytes < PASSING_BODY_BYTES;
        match room.then(|| build_cache::rendered_line(body)).flatten() {
            Some(line) => {
                self.passing_bytes += line.len();
                self.passing_lines.insert(post.source.clone(), line);
            }
            None => self.unkept += 1,
        }
        Ok(rendered)
    }

    /// Says how many of the `published` posts were rendered, and how many
    /// of those taken from the build cache.
    fn tell(&self, published: usize) {
        self.report
            .detail(format!("rendered {} of {published} posts", self.rendered()));
        if self.store.is_some() {
            self.report.detail(format!(
                "{} of them taken from the build cache",
                self.rendered() - self.fresh
            ));
        }
    }

    /// How many posts were rendered (or taken from the build cache).
    fn rendered(&self) -> usize {
        self.cache.len() + self.passed
    }

    /// The post rendered, or its body taken from the build cache.
    fn make(&mut self, post: &Post) -> Result<Option<Rendered>, Error> {
        let made = match self.ahead.remove(&post.source) {
            Some(made) => made,
            None => match self.cached(post) {
                Some((body, links_posts)) => Ahead::Cached(body, links_posts),
                None => render_fresh(post),
            },
        };
        let result = match made {
            Ahead::Cached(body, links_posts) => {
                self.links_posts.insert(post.source.clone(), links_posts);
                self.taken.insert(post.source.clone());
                Ok(body)
            }
            Ahead::Fresh(result, links_posts) => {
                self.fresh += 1;
                self.links_posts.insert(post.source.clone(), links_posts);
                result
            }
        };
        match result {
            Ok(rendered) => {
                for warning in &rendered.warnings {
                    self.report.warning(warning.to_string());
                }
                Ok(Some(rendered))
            }
            Err(problem) if self.skip_invalid => {
                self.report.warning(format!("{problem} (skipped)"));
                Ok(None)
            }
            Err(problem) => Err(problem.into()),
        }
    }
}

/// A body made before [`Renderer::make`] takes it.
enum Ahead {
    /// Taken from the build cache; whether it links to other posts.
    Cached(Rendered, bool),
    /// Rendered from the post's file; whether rendering looked up other posts.
    Fresh(Result<Rendered, Problem>, bool),
}

/// `post` rendered from its file, on this thread.
fn render_fresh(post: &Post) -> Ahead {
    // Counted on this thread alone: posts rendered beside it on other
    // threads do not make it look like a body that links to posts.
    let lookups = crate::post::SiteContext::lookups_here();
    let result = posts_folder::read(&post.source).and_then(|text| post.render(&text));
    Ahead::Fresh(result, crate::post::SiteContext::lookups_here() != lookups)
}

/// `posts` rendered on every core ([`side_by_side`]): a cold build's
/// newest posts, which would otherwise be rendered one after the other
/// once the parse is done.
fn render_side_by_side(posts: &[&Post]) -> Vec<(PathBuf, Ahead)> {
    side_by_side(posts, |post| (post.source.clone(), render_fresh(post)))
}

/// `work` done on each of `items` on every core, this thread's too, each
/// thread taking the next item not taken (items differ in length): the
/// results in the order of `items`. One item is done here, no thread
/// started.
fn side_by_side<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = posts_folder::cores().min(items.len());
    if threads <= 1 {
        return items.iter().map(work).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let run = || {
        let mut made = Vec::new();
        loop {
            let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(at) else {
                return made;
            };
            made.push((at, work(item)));
        }
    };
    let mut made = std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads).map(|_| scope.spawn(run)).collect();
        let mut made = run();
        for worker in workers {
            made.extend(
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        made
    });
    made.sort_unstable_by_key(|(at, _)| *at);
    made.into_iter().map(|(_, result)| result).collect()
}

/// A channel of the newest `feed.limit` items from `posts` (newest first).
/// The absolute URL of the folder a channel's files are served from.
pub(super) fn feed_base(config: &Config, folder: &str) -> String {
    format!("{}/{}{folder}", config.site.url, config.feed.url_path)
}

/// A channel of the newest `limit` items of `posts`.
fn channel(
    config: &Config,
    folder: &str,
    title: &str,
    posts: &[Post],
    renderer: &mut Renderer,
    limit: usize,
) -> Result<Channel, Error> {
    let mut channel = empty_channel(config, folder, title, posts);
    let entry_author = entry_author(config);
    channel.items.reserve(limit.min(posts.len()));
    // The first `limit` posts are (nearly always) all the channel shows:
    // rendered side by side first, then taken in order below.
    let wholes = renderer.render_ahead(&posts[..limit.min(posts.len())]);
    for (at, post) in posts.iter().enumerate() {
        if channel.items.len() >= limit {
            break;
        }
        let post = match wholes.get(at) {
            Some(whole) => Cow::Borrowed(&**whole),
            None => renderer.whole(post)?,
        };
        let Some(body) = renderer.render(&post)? else {
            continue;
        };
        let room = limit - channel.items.len();
        let items = post_items(config, &post, body, &entry_author);
        channel.items.extend(items.into_iter().take(room));
    }
    Ok(channel)
}

/// The author of entries whose post names none.
fn entry_author(config: &Config) -> Person {
    Person::parse(feed::looked_up(&config.site.author, &config.site.authors))
        .or_else(|| Person::parse(&config.site.author))
        .unwrap_or_else(|| Person {
            name: config.site.title.clone(),
            email: None,
        })
}

/// The items of one post, newest first.
fn post_items(config: &Config, post: &Post, body: &Rendered, entry_author: &Person) -> Vec<Item> {
    let author = feed::author_of(post, entry_author, &config.site.authors);
    feed::items_for(post, body, config.feed.items, Some(&author))
}

/// A channel of `posts` (newest first) without its items.
fn empty_channel(config: &Config, folder: &str, title: &str, posts: &[Post]) -> Channel {
    Channel {
        title: title.to_string(),
        description: config.site.description.clone(),
        language: config.site.language.clone(),
        base_url: feed_base(config, folder),
        files: config.feed.files.clone(),
        home_url: format!("{}/", config.site.url),
        author: Person::parse(&config.site.author),
        items: Vec::new(),
        // With no post at all, the feed says when it was made.
        quiet_since: posts.first().map_or_else(
            || jiff::Timestamp::now().to_zoned_datetime(config.site.timezone.clone()),
            |post| post.date.clone(),
        ),
        hub: config.feed.websub_hub.clone(),
    }
}

/// The longest folder name most file systems take (`NAME_MAX`).
const MAX_FOLDER_NAME: usize = 255;

/// With per-tag feeds, the tags whose feed folder could not be made: found
/// by `check`, and by `build` before it writes anything.
pub(super) fn tag_problems(config: &Config, posts: &[Post]) -> Vec<Problem> {
    let mut problems = Vec::new();
    if !config.feed.per_tag {
        return problems;
    }
    for post in posts {
        for tag in &post.tags {
            let slug = crate::slug::slugify(tag);
            if slug.len() > MAX_FOLDER_NAME {
                problems.push(Problem::new(
                    Location::file(&post.source),
                    format!(
                        "tag {:?}… names a feed folder of {} bytes, over the {MAX_FOLDER_NAME} a file \
                         system takes; shorten it",
                        tag.chars().take(40).collect::<String>(),
                        slug.len()
                    ),
                ));
            }
        }
    }
    problems
}

/// Posts grouped by tag slug (Jekyll's default slugify), in slug order,
/// each group newest first; the first spelling seen names the tag.
pub(super) fn posts_by_tag(
    posts: &[Post],
    report: Report,
) -> BTreeMap<String, (String, Vec<Post>)> {
    let mut groups: BTreeMap<String, (String, Vec<Post>)> = BTreeMap::new();
    for post in posts {
        let mut slugs: Vec<String> = Vec::new();
        for tag in &post.tags {
            let slug = crate::slug::slugify(tag);
            if slug.is_empty() {
                report.warning(format!(
                    "{}: tag {tag:?} has no letters or digits to name a folder; it gets no feed",
                    post.source.display()
                ));
            } else if !slugs.contains(&slug) {
                slugs.push(slug.clone());
                groups
                    .entry(slug)
                    .or_insert_with(|| (tag.clone(), Vec::new()))
                    .1
                    .push(post.clone());
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_side_by_side_comes_back_in_the_order_of_its_items() {
        let items: Vec<usize> = (0..1000).collect();
        // Items of unequal cost, so that threads finish out of turn.
        let work = |&n: &usize| (0..n % 97 * 100).fold(n, |sum, k| sum ^ k);
        let done = side_by_side(&items, work);
        assert_eq!(done, items.iter().map(work).collect::<Vec<_>>());
        assert_eq!(side_by_side(&[7], |n| n + 1), vec![8]);
        assert!(side_by_side(&[] as &[usize], |n| *n).is_empty());
    }
}
