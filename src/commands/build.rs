//! `digest-feed build`: posts in, three feeds (and per-tag feeds) out.

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

/// Runs `build`.
pub(super) fn run(config: &Config, args: &BuildArgs, report: Report) -> Result<(), Error> {
    let started = std::time::Instant::now();
    // With --json the one JSON object is the result; warnings still go to stderr.
    let text_report = if args.json { report.quieter() } else { report };
    let posts_dir = args
        .posts
        .clone()
        .unwrap_or_else(|| config.posts.dir.clone());
    let out_dir = args.out.clone().unwrap_or_else(|| config.feed.out.clone());
    let skip_invalid = args.skip_invalid || config.posts.skip_invalid;
    let (posts, skipped, store) = load(config, &posts_dir, skip_invalid, !args.no_cache, report)?;
    report.detail(format!(
        "{} published posts in {}",
        posts.len(),
        posts_dir.display()
    ));

    let mut renderer = Renderer::new(skip_invalid, report, store, &posts);
    let mut outputs: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let main = main_feeds(config, &posts, &out_dir, &mut renderer, &mut outputs)?;
    let mut listed = vec![Listed {
        title: main.title.clone(),
        base_url: main.base_url.clone(),
        files: main.files.clone(),
    }];
    let (tag_feeds, tags_without_items) = if config.feed.per_tag {
        let outputs = &mut outputs;
        per_tag(
            config,
            &posts,
            &out_dir,
            &mut renderer,
            outputs,
            &mut listed,
        )?
    } else {
        (0, Vec::new())
    };
    if let Some(page) = people_page(config, &out_dir, &listed, &posts, report) {
        outputs.push(page);
    }

    // Every output was rendered before the first is written: a failure above
    // leaves all of the previous outputs in place.
    if main.items.is_empty() && config.feed.items == ItemKind::Papers && !posts.is_empty() {
        report.warning(no_papers(renderer.cache.len()));
    }
    let tags = config.feed.per_tag.then(|| out_dir.join("tags"));
    let changed = write_all(&outputs, tags.as_deref(), &config.feed.files, report)?;
    if config.feed.archive {
        remove_old_pages(&out_dir, &outputs, report)?;
    }
    report.detail(format!(
        "rendered {} of {} posts",
        renderer.cache.len(),
        posts.len()
    ));
    if renderer.store.is_some() {
        report.detail(format!(
            "{} of them taken from the build cache",
            renderer.cache.len() - renderer.fresh
        ));
    }
    save_cache(renderer);
    let built = Built {
        out: shown(&out_dir),
        items: main.items.len(),
        kind: match config.feed.items {
            ItemKind::Posts => "posts",
            ItemKind::Papers => "papers",
        },
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
    Ok(())
}

/// The main feeds, into `outputs`; their channel, of the newest
/// `feed.limit` items. Archived feeds page back through every item, so
/// they are made of them all.
fn main_feeds(
    config: &Config,
    posts: &[Post],
    out_dir: &Path,
    renderer: &mut Renderer,
    outputs: &mut Vec<(PathBuf, Vec<u8>)>,
) -> Result<Channel, Error> {
    let limit = config.feed.limit;
    if !config.feed.archive {
        let main = channel(config, "", &config.site.title, posts, renderer, limit)?;
        for (name, bytes) in feed::render_all(&main)? {
            outputs.push((out_dir.join(name), bytes));
        }
        return Ok(main);
    }
    let mut main = channel(config, "", &config.site.title, posts, renderer, usize::MAX)?;
    for (name, bytes) in feed::archive::render(&main, limit)? {
        outputs.push((out_dir.join(name), bytes));
    }
    main.items.truncate(limit);
    Ok(main)
}

/// How many archive pages (each an Atom and a JSON file) `outputs` puts in `pages`.
fn pages_in(pages: &Path, outputs: &[(PathBuf, Vec<u8>)]) -> usize {
    outputs
        .iter()
        .filter(|(path, _)| path.parent() == Some(pages))
        .count()
        / 2
}

/// Removes the archive pages an earlier build wrote and this one did not
/// (posts unpublished since): a reader paging back finds no stale page.
fn remove_old_pages(
    out_dir: &Path,
    outputs: &[(PathBuf, Vec<u8>)],
    report: Report,
) -> Result<(), Error> {
    let pages = out_dir.join(feed::archive::ARCHIVE_DIR);
    let kept: Vec<PathBuf> = outputs.iter().map(|(path, _)| path.clone()).collect();
    for path in output::remove_unkept(&pages, &kept, feed::archive::is_page_name)? {
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
    report: Report,
) -> Option<(PathBuf, Vec<u8>)> {
    let page_path = out_dir.join(super::links::PAGE_FILE);
    if super::links::is_ours(&page_path) {
        let page = super::links::page(config, listed, posts);
        Some((page_path, page.into_bytes()))
    } else {
        report.warning(format!(
            "{} is not digest-feed's: left as it is (the page for people is written there otherwise)",
            page_path.display()
        ));
        None
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
    use_cache: bool,
    report: Report,
) -> Result<LoadedPosts, Error> {
    let rules = Rules::from_config(config);
    let started = build_cache::now();
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
    let cache = use_cache.then(|| {
        let (cache, note) = build_cache::read(&file, &key);
        if let Some(note) = note {
            report.warning(note);
        }
        cache
    });
    let posts_folder::Loaded {
        posts,
        problems,
        files,
        read,
        cache_entries,
        ..
    } = posts_folder::load_published_cached(
        posts_dir,
        &rules,
        posts_folder::cutoff(config),
        cache.as_ref(),
    )?;
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
        CacheRun {
            models_unchanged: read == 0 && old.len() == cache_entries.len(),
            file,
            key,
            started,
            old,
            entries: cache_entries,
        }
    });
    let skipped = problems.iter().map(ToString::to_string).collect();
    Ok((posts, skipped, run))
}

/// The published posts, the invalid ones skipped (as `file:line: message`),
/// and the build cache.
type LoadedPosts = (Vec<Post>, Vec<String>, Option<CacheRun>);

/// This build's cache: the one read, and what the next build gets.
struct CacheRun {
    /// `build-cache.json`.
    file: PathBuf,
    /// The key of the models.
    key: String,
    /// When this build began.
    started: i128,
    /// The cache as this build found it.
    old: build_cache::Cache,
    /// Every valid post, for the next build.
    entries: Vec<build_cache::Entry>,
    /// Every post was taken from the cache, and none is gone.
    models_unchanged: bool,
}

/// Writes the cache for the next build, each post with the body this build
/// rendered (or the cache's, still good); a cache that would be the same
/// stays as it is. A cache that cannot be written costs the next build
/// time, not this one its feeds: a warning.
fn save_cache(renderer: Renderer) {
    let Some(mut run) = renderer.store else {
        return;
    };
    let render_key = renderer.render_key.unwrap_or_default();
    let site_key = renderer.site_key;
    if run.models_unchanged
        && renderer.fresh == 0
        && run.old.render_key() == render_key
        && run.old.site_key() == site_key
    {
        return;
    }
    for entry in &mut run.entries {
        (entry.rendered, entry.links_posts) = match renderer.cache.get(&entry.path) {
            Some(Some(body)) => (
                Some(body.clone()),
                renderer.links_posts.get(&entry.path) == Some(&true),
            ),
            _ if render_key.is_empty() => (None, false),
            _ => run
                .old
                .rendered(&entry.path, entry.stamp, &render_key, site_key)
                .map_or((None, false), |(body, links)| (Some(body.clone()), links)),
        };
    }
    if let Err(err) = build_cache::write(
        &run.file,
        &run.key,
        &render_key,
        site_key,
        run.started,
        run.entries,
    ) {
        renderer
            .report
            .warning(format!("{err}; the next build reads every post"));
    }
}

/// The feeds of each tag, into `outputs`, each listed in `listed`: how
/// many tags have feeds, and the tags that get none for want of items.
fn per_tag(
    config: &Config,
    posts: &[Post],
    out_dir: &Path,
    renderer: &mut Renderer,
    outputs: &mut Vec<(PathBuf, Vec<u8>)>,
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
            outputs.push((out_dir.join(&folder).join(name), bytes));
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
/// unpublished post's full text. How many files changed.
fn write_all(
    outputs: &[(PathBuf, Vec<u8>)],
    tags: Option<&Path>,
    files: &FeedFiles,
    report: Report,
) -> Result<usize, Error> {
    let mut changed = 0;
    let all = output::write_all_or_none(outputs)?;
    if let Some(tags) = tags {
        let kept: Vec<PathBuf> = outputs
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
    for ((path, _), &written) in outputs.iter().zip(&all) {
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
    Ok(changed)
}

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
    /// The site the posts were read in: its count of look-ups tells
    /// whether a body links to other posts.
    site: Option<std::sync::Arc<crate::post::SiteContext>>,
    /// Whether each body rendered (or taken from the cache) links to posts.
    links_posts: HashMap<PathBuf, bool>,
    /// Each valid post file's stamp, as this build saw it.
    stamps: HashMap<PathBuf, build_cache::Stamp>,
    /// How many posts were rendered, not taken from the cache.
    fresh: usize,
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
        let stamps = store.as_ref().map_or_else(HashMap::new, |store| {
            store
                .entries
                .iter()
                .map(|entry| (entry.path.clone(), entry.stamp))
                .collect()
        });
        Renderer {
            skip_invalid,
            report,
            cache: HashMap::new(),
            store,
            render_key,
            site_key,
            site,
            links_posts: HashMap::new(),
            stamps,
            fresh: 0,
        }
    }

    /// The body the build cache holds for `post`, if still good.
    fn cached(&self, post: &Post) -> Option<(Rendered, bool)> {
        let store = self.store.as_ref()?;
        let stamp = self.stamps.get(&post.source)?;
        let (body, links_posts) = store.old.rendered(
            &post.source,
            *stamp,
            self.render_key.as_deref()?,
            self.site_key,
        )?;
        Some((body.clone(), links_posts))
    }

    /// How many look-ups of other posts rendering has made.
    fn lookups(&self) -> usize {
        self.site.as_ref().map_or(0, |site| site.lookups())
    }

    /// The rendered post; `None` when it failed and `--skip-invalid` skips it.
    fn render(&mut self, post: &Post) -> Result<Option<&Rendered>, Error> {
        if !self.cache.contains_key(&post.source) {
            let lookups = self.lookups();
            let result = if let Some((body, links_posts)) = self.cached(post) {
                self.links_posts.insert(post.source.clone(), links_posts);
                Ok(body)
            } else {
                self.fresh += 1;
                let result = posts_folder::read(&post.source).and_then(|text| post.render(&text));
                let links_posts = self.lookups() != lookups;
                self.links_posts.insert(post.source.clone(), links_posts);
                result
            };
            let rendered = match result {
                Ok(rendered) => {
                    for warning in &rendered.warnings {
                        self.report.warning(warning.to_string());
                    }
                    Some(rendered)
                }
                Err(problem) if self.skip_invalid => {
                    self.report.warning(format!("{problem} (skipped)"));
                    None
                }
                Err(problem) => return Err(problem.into()),
            };
            self.cache.insert(post.source.clone(), rendered);
        }
        Ok(self.cache[&post.source].as_ref())
    }
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
    let site_author = Person::parse(&config.site.author);
    let entry_author = Person::parse(feed::looked_up(&config.site.author, &config.site.authors))
        .or_else(|| site_author.clone())
        .unwrap_or_else(|| Person {
            name: config.site.title.clone(),
            email: None,
        });
    let mut items: Vec<Item> = Vec::with_capacity(limit.min(posts.len()));
    for post in posts {
        if items.len() >= limit {
            break;
        }
        let Some(body) = renderer.render(post)? else {
            continue;
        };
        let author = feed::author_of(post, &entry_author, &config.site.authors);
        items.extend(
            feed::items_for(post, body, config.feed.items, Some(&author))
                .into_iter()
                .take(limit - items.len()),
        );
    }
    let home_url = format!("{}/", config.site.url);
    Ok(Channel {
        title: title.to_string(),
        description: config.site.description.clone(),
        language: config.site.language.clone(),
        base_url: feed_base(config, folder),
        files: config.feed.files.clone(),
        home_url,
        author: site_author,
        items,
        // With no post at all, the feed says when it was made.
        quiet_since: posts.first().map_or_else(
            || jiff::Timestamp::now().to_zoned_datetime(config.site.timezone.clone()),
            |post| post.date.clone(),
        ),
        hub: config.feed.websub_hub.clone(),
    })
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
