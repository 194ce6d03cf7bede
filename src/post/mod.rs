//! A digest post: read from its file's text into a model (front matter,
//! date, URL), and rendered to HTML with its papers only when an output needs it.

pub(crate) mod date;
pub(crate) mod front_matter;
pub(crate) mod liquid;
pub(crate) mod markdown;
pub(crate) mod permalink;
mod usual_yaml;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::ZonedDateTime;
use jiff::tz::TimeZone;

use crate::config::{Config, Data, DateRule, FrontMatterDefaults, PaperShape};
use crate::error::{Location, Problem};
use crate::text::{BOM, unique};
pub use markdown::{Paper, Rendered};

/// The settings that decide a post's date and URL.
#[derive(Debug, Clone)]
pub struct Rules {
    /// `site.url`, without a trailing slash.
    pub site_url: String,
    /// `site.timezone`.
    pub zone: TimeZone,
    /// The permalink template for posts without their own.
    pub permalink: String,
    /// How times without an offset are read.
    pub dates: DateRule,
    /// What Liquid's `site.*` shows besides the URL.
    pub site: SiteInfo,
}

/// `[site]` as Liquid's `site.*` shows it, and what the blog's `_config.yml`
/// gives posts that do not say otherwise.
#[derive(Debug, Clone, Default)]
pub struct SiteInfo {
    /// `site.title`.
    pub title: String,
    /// `site.description`.
    pub description: String,
    /// `site.author`.
    pub author: String,
    /// `site.lang`.
    pub language: String,
    /// `site.timezone`, the IANA name.
    pub timezone: String,
    /// The blog's `excerpt_separator` (its `_config.yml`), for posts without their own.
    pub excerpt_separator: Option<String>,
    /// The blog's front matter defaults (its `_config.yml`'s `defaults:`).
    pub defaults: FrontMatterDefaults,
    /// The shape papers are looked for in (`feed.papers`).
    pub papers: PaperShape,
    /// The permalinks of the blog's other collections, for `{% link %}`.
    pub collections: std::collections::BTreeMap<String, String>,
    /// Whether the posts folder is a Jekyll blog's `_posts`: then, as in
    /// Jekyll, only files named `Y-M-D-title.ext` are posts.
    pub dated_names_only: bool,
}

impl Rules {
    /// The rules a config sets.
    pub fn from_config(config: &Config) -> Self {
        Rules {
            site_url: config.site.url.clone(),
            zone: config.site.timezone.clone(),
            permalink: config.site.permalink.clone(),
            dates: config.posts.dates,
            site: SiteInfo {
                title: config.site.title.clone(),
                description: config.site.description.clone(),
                author: config.site.author.clone(),
                language: config.site.language.clone(),
                timezone: config.site.timezone_name.clone(),
                excerpt_separator: config.posts.excerpt_separator.clone(),
                defaults: config.posts.defaults.clone(),
                papers: config.feed.papers,
                collections: config.site.collections.clone(),
                dated_names_only: config.is_jekyll_blog(),
            },
        }
    }
}

/// What rendering a post may look up beyond the post: the site's settings,
/// its folder (for `_includes/`), and every post read, for `{% post_url %}`
/// and `{% link %}`. Shared by all the posts of one read; the look-up table
/// is made the first time a post asks, so a build whose posts link to no
/// other post never pays for it.
#[derive(Debug, Default)]
pub struct SiteContext {
    /// The rules the posts were read with.
    pub rules: Option<Rules>,
    /// The site's folder: the posts folder's parent.
    pub root: PathBuf,
    /// The posts folder.
    posts_dir: PathBuf,
    /// The path of `site.url` (Jekyll's `baseurl`), before each post's path.
    base: String,
    /// Each post's file and URL path, in the order they were read: given,
    /// or made by `load` on first use.
    posts: std::sync::OnceLock<Files>,
    /// What makes `posts` when they were not given.
    load: LoadFiles,
    /// How many posts, and the sum of their [`file_hash`]es.
    count: usize,
    files_hash: u64,
    /// `posts` by name, made on first use.
    index: std::sync::OnceLock<HashMap<String, usize>>,
}

thread_local! {
    /// [`SiteContext::lookups_here`].
    static LOOKUPS_HERE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Each post's file and URL path.
type Files = Vec<(PathBuf, String)>;

/// What makes [`Files`] the first time a look-up needs them.
#[derive(Default)]
struct LoadFiles(std::sync::Mutex<Option<Box<dyn FnOnce() -> Files + Send>>>);

impl std::fmt::Debug for LoadFiles {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        out.write_str("LoadFiles")
    }
}

/// A post's part of [`SiteContext::fingerprint`]: its file and URL path.
/// The same within one binary.
pub fn file_hash(source: &Path, path: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    // The file as its bytes: hashing a `Path` walks its components.
    source.as_os_str().hash(&mut hasher);
    path.hash(&mut hasher);
    hasher.finish()
}

impl SiteContext {
    /// The context of `posts`, read from `posts_dir` with `rules`.
    pub fn new(posts: &[Post], posts_dir: &Path, rules: &Rules) -> SiteContext {
        let files = posts
            .iter()
            .map(|post| (post.source.clone(), post.path.clone()))
            .collect();
        SiteContext::of_files(files, posts_dir, rules)
    }

    /// The context of the posts whose files and URL paths are `files`, in
    /// the order they were read: what [`SiteContext::new`] takes of each
    /// post, for a build that holds most posts only as the build cache's.
    pub fn of_files(files: Files, posts_dir: &Path, rules: &Rules) -> SiteContext {
        // On every core (a wrapping sum: the same in any order).
        let files_hash = on_threads(&files, |(source, path)| file_hash(source, path))
            .into_iter()
            .fold(0u64, u64::wrapping_add);
        let context = SiteContext::made_later(files.len(), files_hash, posts_dir, rules, Vec::new);
        let _ = context.posts.set(files);
        context
    }

    /// The context of `count` posts whose [`file_hash`]es add up (wrapping)
    /// to `files_hash`, their files and URL paths made by `load` only if a
    /// post looks another up: a build that holds most posts only as the
    /// build cache's rows.
    pub fn made_later(
        count: usize,
        files_hash: u64,
        posts_dir: &Path,
        rules: &Rules,
        load: impl FnOnce() -> Files + Send + 'static,
    ) -> SiteContext {
        let base = url::Url::parse(&rules.site_url)
            .map(|url| url.path().trim_end_matches('/').to_string())
            .unwrap_or_default();
        SiteContext {
            rules: Some(rules.clone()),
            root: posts_dir.parent().unwrap_or(Path::new("")).to_path_buf(),
            posts_dir: posts_dir.to_path_buf(),
            base,
            posts: std::sync::OnceLock::new(),
            load: LoadFiles(std::sync::Mutex::new(Some(Box::new(load)))),
            count,
            files_hash,
            index: std::sync::OnceLock::new(),
        }
    }

    /// Each post's file and URL path.
    fn posts(&self) -> &Files {
        self.posts.get_or_init(|| {
            let load = self.load.0.lock().ok().and_then(|mut load| load.take());
            load.map_or_else(Vec::new, |load| load())
        })
    }

    /// How many look-ups of other posts this thread has made, of any
    /// site: a body rendered without one does not depend on the other
    /// posts (the build cache keeps it across new posts). Counted per
    /// thread: posts rendered side by side each tell by this count, before
    /// and after, whether their own rendering looked another post up.
    pub fn lookups_here() -> usize {
        LOOKUPS_HERE.with(std::cell::Cell::get)
    }

    /// A fingerprint of what a post's rendering may look up besides its own
    /// file and the rules: every post's file and URL path (`{% post_url %}`,
    /// `{% link %}`) and the base path. The same within one binary; another
    /// binary's differs at worst, which costs a render, never a wrong one.
    /// The posts count through the sum of their [`file_hash`]es, which a
    /// build from the cache adds up from its rows without the files.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.base.hash(&mut hasher);
        self.root.hash(&mut hasher);
        self.posts_dir.hash(&mut hasher);
        self.count.hash(&mut hasher);
        self.files_hash.hash(&mut hasher);
        hasher.finish()
    }

    /// The URL path of the post `name` names: its path from the site's
    /// folder (`_posts/2018-06-03-x.md`, as `{% link %}` writes it), or its
    /// name without the extension, with or without its folders below the
    /// posts folder (`2018-06-03-x`, as `{% post_url %}` writes it).
    pub fn post_path(&self, name: &str) -> Option<String> {
        LOOKUPS_HERE.with(|here| here.set(here.get() + 1));
        let posts = self.posts();
        let index = self.index.get_or_init(|| {
            let mut index = HashMap::with_capacity(posts.len() * 3);
            for (at, (source, _)) in posts.iter().enumerate() {
                if let Ok(relative) = source.strip_prefix(&self.root) {
                    index.insert(relative.to_string_lossy().into_owned(), at);
                }
                if let Ok(below) = source.strip_prefix(&self.posts_dir) {
                    index.insert(below.with_extension("").to_string_lossy().into_owned(), at);
                }
                if let Some(stem) = source.file_stem() {
                    index.insert(stem.to_string_lossy().into_owned(), at);
                }
            }
            index
        });
        index
            .get(name)
            .map(|&at| format!("{}{}", self.base, posts[at].1))
    }
}

/// A post's model: everything but its rendered body. Serialisable so that
/// a build can keep it between runs (the build cache).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Post {
    /// The file, as the user would name it.
    pub source: PathBuf,
    /// `title`.
    pub title: String,
    /// When it is published, in the site's zone.
    #[serde(with = "zoned_text")]
    pub date: ZonedDateTime,
    /// The site-relative URL path, e.g. `/2025/12/24/daily-papers.html`.
    pub path: String,
    /// The absolute URL: its identity in feeds and mail.
    pub url: String,
    /// Tags, as written, without repeats.
    pub tags: Vec<String>,
    /// Categories, as written, without repeats (Jekyll's merge of `category` and `categories`).
    pub categories: Vec<String>,
    /// `description`, else `excerpt`.
    pub description: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `authors`, when a list: jekyll-feed names the first when there is no `author`.
    pub authors: Vec<String>,
    /// False for `published: false` and `draft: true`.
    pub published: bool,
    /// The slug as written (`slug`, else the file name's), for its id.
    pub slug: String,
    /// `feed_id`, when set.
    pub feed_id: Option<String>,
    /// `last_modified_at`, when set: the item's updated time.
    #[serde(with = "zoned_text_or_none")]
    pub updated: Option<ZonedDateTime>,
    /// `excerpt_separator`, when set.
    pub excerpt_separator: Option<String>,
    /// False for `render_with_liquid: false`.
    pub liquid: bool,
    /// The front matter defaults that apply to it, every key, for Liquid's
    /// `page.*` under its own front matter.
    pub defaults: Vec<(String, Data)>,
    /// The site it was read in; `None` for a post read on its own.
    #[serde(skip)]
    pub site: Option<Arc<SiteContext>>,
    /// What `check` notes about it that does not stop it (a key written
    /// twice, a URL it shares with other posts).
    pub notes: Vec<Problem>,
    /// For a post whose URL an older post has too (Jekyll writes one page
    /// over the other), that older post's file: then its key in the
    /// delivery state is its own, made from its file name.
    pub shares_url_with: Option<PathBuf>,
    /// Whether an older post has the id jekyll-feed would give this one
    /// (the same folder and slug, as every `daily-papers.md` at
    /// `/daily-papers-DATE`): then its id is its own, made from its file name.
    pub shares_id: bool,
    /// Its identity in the delivery state and its messages' ids: its URL,
    /// or, for a post sharing its URL with an older one, the URL and its
    /// file's name after a `#`.
    pub key: String,
}

/// A time as RFC 9557 text (`2025-12-24T08:00:00+01:00[Europe/Paris]`),
/// which keeps its zone: the build cache's form of a post's dates.
mod zoned_text {
    use jiff::ZonedDateTime;

    pub(super) fn serialize<S: serde::Serializer>(
        time: &ZonedDateTime,
        to: S,
    ) -> Result<S::Ok, S::Error> {
        to.collect_str(time)
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        from: D,
    ) -> Result<ZonedDateTime, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(from)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// [`zoned_text`] for a time that may be absent.
mod zoned_text_or_none {
    use jiff::ZonedDateTime;

    #[allow(clippy::ref_option)] // serde's `with` hands a reference to the field
    pub(super) fn serialize<S: serde::Serializer>(
        time: &Option<ZonedDateTime>,
        to: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => to.collect_str(time),
            None => to.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        from: D,
    ) -> Result<Option<ZonedDateTime>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>> as serde::Deserialize>::deserialize(from)?;
        text.map(|text| text.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// The largest post file read; a bigger one is surely not a digest post.
pub const MAX_POST_BYTES: u64 = 16 * 1024 * 1024;

/// Turns a file's bytes into text: UTF-8 required, a BOM dropped, CRLF read as LF.
pub fn decode<'a>(source: &Path, bytes: &'a [u8]) -> Result<Cow<'a, str>, Problem> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let good = &bytes[..err.valid_up_to()];
        // Counted once, on an error only: no need for a faster count.
        #[allow(clippy::naive_bytecount)]
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = good.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        Problem::new(
            Location::line(source, line),
            format!(
                "the file is not valid UTF-8 (byte 0x{:02X} at column {column}); save it as UTF-8",
                bytes[err.valid_up_to()]
            ),
        )
    })?;
    Ok(if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(text)
    })
}

/// Reads a post's model from its text. Returns every problem found in it.
pub fn parse(source: &Path, text: &str, rules: &Rules) -> Result<Post, Vec<Problem>> {
    let at = |line: usize| Location::line(source, line);
    // Without front matter (none, or never closed), Jekyll still reads a
    // dated post: the whole file is its body, its title from the file name.
    let split = front_matter::split(text);
    let yaml = split.as_ref().map_or("", |split| split.yaml);
    // The YAML starts on line 2, after the opening `---`.
    let file_line = |yaml_line: usize| yaml_line + 1;
    let fm = front_matter::parse(yaml).map_err(|err| {
        let line = err.line.map_or(1, file_line);
        let message = match err.key {
            Some(key) => format!("front matter: `{key}`: {}", err.message),
            None => format!(
                "front matter is not valid YAML: {}{}",
                err.message,
                quoting_hint(&err.message)
            ),
        };
        vec![Problem::new(at(line), message)]
    })?;
    let notes = front_matter_notes(source, &fm, split.err());
    let mut defaults = rules.site.defaults.for_post(source);
    let page_defaults = std::mem::take(&mut defaults.data);
    let fm = fm.over(defaults);

    let mut problems = typos(source, &fm);

    let stem = source
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let from_file_name = date::file_name_date(&stem, &rules.zone);
    let file_slug = match &from_file_name {
        Some(Ok((_, slug))) => slug.clone(),
        _ => stem.clone(),
    };
    // Jekyll's title: the front matter's, else the file name's slug titleized.
    let title = match &fm.title {
        Some(title) => markdown::plain_title(&title.value),
        None => titleize_slug(&file_slug),
    };
    let date = post_date(source, &fm, from_file_name, rules, &mut problems);
    let updated = fm.last_modified_at.as_ref().and_then(|written| {
        let parsed = date::parse_front_matter_date(&written.value, DateRule::Local, &rules.zone);
        if parsed.is_none() {
            problems.push(Problem::new(
                at(file_line(written.line)),
                format!(
                    "front matter: invalid last_modified_at {:?} (write a date as for `date`)",
                    written.value
                ),
            ));
        }
        parsed
    });

    if let Some(permalink) = &fm.permalink
        && let Err(message) = crate::permalink_style::check_template(&permalink.value)
    {
        problems.push(Problem::new(
            at(file_line(permalink.line)),
            format!("front matter: `permalink`: {message}"),
        ));
    }

    let (Some(date), true) = (date, problems.is_empty()) else {
        return Err(problems);
    };

    let mut post = assemble(source, fm, title, date, file_slug, rules);
    post.updated = updated;
    post.notes = notes;
    post.defaults = page_defaults;
    Ok(post)
}

/// The model of a post whose front matter is valid.
fn assemble(
    source: &Path,
    fm: front_matter::FrontMatter,
    title: String,
    date: ZonedDateTime,
    file_slug: String,
    rules: &Rules,
) -> Post {
    let plural = fm.categories.unwrap_or_default();
    let singular = fm.category.unwrap_or_else(|| plural.clone());
    let categories = unique(plural.into_iter().chain(singular));
    let tags = unique(fm.tag.or(fm.tags).unwrap_or_default().into_iter());
    let slug_source = fm
        .slug
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(file_slug);
    let published = fm.published != Some(false) && fm.draft != Some(true);
    let template = fm
        .permalink
        .as_ref()
        .map_or(rules.permalink.as_str(), |p| p.value.as_str());
    let path = permalink::url_path(
        template,
        &permalink::Placeholders {
            date: &date,
            title: &slug_source,
            categories: &categories,
        },
    );
    let mut url = String::with_capacity(rules.site_url.len() + path.len());
    url.push_str(&rules.site_url);
    if permalink::is_plain(&path) {
        url.push_str(&path);
    } else {
        url.push_str(&permalink::absolute_path(&path));
    }
    Post {
        source: source.to_path_buf(),
        url: url.clone(),
        slug: slug_source,
        feed_id: fm.feed_id.filter(|id| !id.trim().is_empty()),
        updated: None,
        excerpt_separator: fm.excerpt_separator,
        liquid: fm.render_with_liquid != Some(false),
        defaults: Vec::new(),
        site: None,
        notes: Vec::new(),
        shares_url_with: None,
        shares_id: false,
        key: url,
        path,
        title,
        date,
        tags,
        categories,
        // Plain text like the title (jekyll-feed strips it too): markup in
        // front matter reaches no reader as markup.
        description: fm
            .description
            .or(fm.excerpt)
            .map(|d| markdown::plain_title(&d))
            .filter(|d| !d.is_empty()),
        author: fm.author.filter(|a| !a.trim().is_empty()),
        authors: fm.authors,
        published,
    }
}

impl Post {
    /// Its URL at `anchor` (a heading's id) when there is one, the fragment
    /// percent-encoded as URLs need: where a paper of it is on its page.
    pub fn url_at(&self, anchor: Option<&str>) -> String {
        match (url::Url::parse(&self.url), anchor) {
            (Ok(mut url), Some(anchor)) if !anchor.is_empty() => {
                url.set_fragment(Some(anchor));
                url.to_string()
            }
            _ => self.url.clone(),
        }
    }

    /// Its file's name without the extension.
    fn file_stem(&self) -> String {
        self.source
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// A hash (FNV-1a) of [`Post::id`]'s bytes, made without making the
    /// id as text when no part of it needs escaping (the usual case):
    /// the shared-id check hashes every post's id, and making each as
    /// text was a tenth of a build from the cache. Equal ids hash equal.
    pub(crate) fn id_hash(&self) -> u64 {
        const START: u64 = 0xcbf2_9ce4_8422_2325;
        let feed = |hash: u64, bytes: &[u8]| {
            bytes.iter().fold(hash, |hash, &byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            })
        };
        let (folder, slug) = self.id_folder_and_slug();
        // The parts `id` puts together when `absolute_path` returns each as it is.
        let plain = self.feed_id.is_none()
            && !self.shares_id
            && permalink::is_plain(&self.path)
            && permalink::is_plain(folder)
            && permalink::is_plain(slug);
        if !plain {
            return feed(START, self.id().as_bytes());
        }
        let site_url = self
            .url
            .strip_suffix(self.path.as_str())
            .unwrap_or(&self.url);
        [site_url, folder, "/", slug]
            .iter()
            .fold(START, |hash, part| feed(hash, part.as_bytes()))
    }

    /// The folder of its URL and its slug as written, trailing dots
    /// dropped: what jekyll-feed's id is made of.
    fn id_folder_and_slug(&self) -> (&str, &str) {
        let folder = self.path.trim_end_matches('/');
        let folder = folder.rfind('/').map_or("", |at| &folder[..at]);
        (folder, self.slug.trim_end_matches('.'))
    }

    /// Its id in feeds: the front matter's `feed_id`, else the id
    /// jekyll-feed gives it: Jekyll's `Document#id` (the URL's folder, then
    /// the slug as written, trailing dots dropped) through `absolute_url`.
    pub fn id(&self) -> String {
        if let Some(id) = &self.feed_id {
            return id.clone();
        }
        let site_url = self
            .url
            .strip_suffix(&permalink::absolute_path(&self.path))
            .unwrap_or(&self.url);
        let (folder, slug) = self.id_folder_and_slug();
        // jekyll-feed gives posts with one folder and slug one id: a
        // reader would see one item. The oldest keeps it; each later one
        // has its file's name in place of the slug.
        let stem;
        let slug = if self.shares_id {
            stem = self.file_stem();
            stem.as_str()
        } else {
            slug
        };
        format!(
            "{site_url}{}",
            permalink::absolute_path(&format!("{folder}/{slug}"))
        )
    }
}

/// Jekyll's `Utils.titleize_slug`: each `-`-separated word capitalized
/// (its first letter upper case, the rest lower case, as Ruby's
/// `capitalize`), joined with spaces. The slug loses its trailing dots first.
fn titleize_slug(slug: &str) -> String {
    slug.trim_end_matches('.')
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The post's date: its front matter's, else its file name's. Jekyll's
/// rules: a quoted date is a string, read in the site's zone.
fn post_date(
    source: &Path,
    fm: &front_matter::FrontMatter,
    from_file_name: Option<Result<(ZonedDateTime, String), String>>,
    rules: &Rules,
    problems: &mut Vec<Problem>,
) -> Option<ZonedDateTime> {
    let at = |line: usize| Location::line(source, line);
    match (&fm.date, from_file_name) {
        (Some(written), _) => {
            // A quoted date is a YAML string: Jekyll reads its time in the site's zone.
            let rule = if fm.date_quoted {
                DateRule::Local
            } else {
                rules.dates
            };
            let parsed = date::parse_front_matter_date(&written.value, rule, &rules.zone);
            if parsed.is_none() {
                problems.push(Problem::new(
                    at(written.line + 1),
                    format!(
                        "front matter: invalid date {:?} (write YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or RFC 3339, with an optional offset like +09:00)",
                        written.value
                    ),
                ));
            }
            parsed
        }
        (None, Some(Ok((date, _)))) => Some(date),
        (None, Some(Err(text))) => {
            problems.push(Problem::new(
                Location::file(source),
                format!("the date in the file name, {text:?}, is not a real date"),
            ));
            None
        }
        (None, None) => {
            problems.push(Problem::new(
                at(1),
                "front matter: `date` is missing and the file name does not start with YYYY-MM-DD-",
            ));
            None
        }
    }
}

/// What `check` notes of a post's front matter that does not stop it: a
/// key written twice, a front matter never closed.
fn front_matter_notes(
    source: &Path,
    fm: &front_matter::FrontMatter,
    split: Option<front_matter::SplitError>,
) -> Vec<Problem> {
    let at = |line: usize| Location::line(source, line);
    // The YAML starts on line 2, after the opening `---`.
    let file_line = |yaml_line: usize| yaml_line + 1;
    let mut notes: Vec<Problem> = fm
        .repeated_keys
        .iter()
        .map(|key| {
            Problem::new(
                at(file_line(key.line)),
                format!(
                    "front matter: `{}` is written twice; the later value is used, as Jekyll does",
                    key.value
                ),
            )
        })
        .collect();
    if split == Some(front_matter::SplitError::Unclosed) {
        notes.push(Problem::new(
            at(1),
            format!(
                "{}: Jekyll reads the whole file as the post's text, titled from the file name",
                front_matter::SplitError::Unclosed
            ),
        ));
    }
    notes
}

/// A problem for each unknown key close to one that changes what is published.
fn typos(source: &Path, fm: &front_matter::FrontMatter) -> Vec<Problem> {
    fm.other_keys
        .iter()
        .filter_map(|key| {
            let known = likely_typo(&key.value)?;
            Some(Problem::new(
                // The YAML starts on line 2, after the opening `---`.
                Location::line(source, key.line + 1),
                format!(
                    "front matter: unknown key `{}`; did you mean `{known}`?",
                    key.value
                ),
            ))
        })
        .collect()
}

/// What YAML's most common surprise needs: a value holding `: ` (a title
/// like `Papers: a list`) must be quoted.
fn quoting_hint(message: &str) -> &'static str {
    if message.contains("mapping values are not allowed") {
        "; a value with `: ` in it needs quotes, e.g. title: \"Papers: a colon\""
    } else {
        ""
    }
}

/// A key close enough to one that decides what is published, and where, to
/// be a typo of it (SPEC §1b). Other unknown keys (`authors`, theme keys)
/// belong to the Jekyll theme and are left alone.
fn likely_typo(key: &str) -> Option<&'static str> {
    // Keys Jekyll themes use that are near a known key but never a typo of it.
    if ["layout", "image", "sitemap", "comments", "toc"].contains(&key) {
        return None;
    }
    let allowed = if key.chars().count() <= 4 { 1 } else { 2 };
    front_matter::GUARDED_KEYS
        .iter()
        .map(|known| (strsim::levenshtein(key, known), *known))
        .filter(|(distance, _)| *distance <= allowed)
        .min()
        .map(|(_, known)| known)
}

impl Post {
    /// Renders the body of `text` (this post's file text) to HTML and papers.
    pub fn render(&self, text: &str) -> Result<Rendered, Problem> {
        self.render_checked(text, |_| Ok(()))
    }

    /// [`Post::render`], with `check` run on the body after Liquid and
    /// before Markdown: a caller's limit on what is worth rendering, applied
    /// before the renderers' memory is spent on it (Liquid alone may write
    /// 16 MB from a few lines).
    pub fn render_checked(
        &self,
        text: &str,
        check: impl FnOnce(&str) -> Result<(), Problem>,
    ) -> Result<Rendered, Problem> {
        // No front matter: the whole file is the body, as Jekyll reads it.
        let (yaml, body, body_line) = front_matter::split(text).map_or(("", text, 1), |split| {
            (split.yaml, split.body, split.body_line)
        });
        // The URL was built from `site.url`, which the config checked; a
        // post whose URL still does not parse renders with no base at all.
        let Ok(base) = url::Url::parse(&self.url) else {
            return Err(Problem::new(
                Location::file(&self.source),
                format!("its URL {:?} is not a valid address", self.url),
            ));
        };
        // Liquid first, as Jekyll: only where the body holds any.
        let (body, warnings) = if self.liquid && (body.contains("{{") || body.contains("{%")) {
            let (text, warnings) = liquid::render(self, self.page_data(yaml), body, body_line);
            (Cow::Owned(text), warnings)
        } else {
            (Cow::Borrowed(body), Vec::new())
        };
        check(&body)?;
        let fail = |message| Problem::new(Location::file(&self.source), message);
        if self.is_html() {
            let mut rendered = markdown::render_html(&body, &base).map_err(fail)?;
            rendered.warnings = warnings;
            return Ok(rendered);
        }
        let papers = self
            .site
            .as_ref()
            .and_then(|site| site.rules.as_ref())
            .map_or(PaperShape::Auto, |rules| rules.site.papers);
        let mut rendered = markdown::render_finding(&body, &base, papers).map_err(fail)?;
        rendered.excerpt = self.excerpt(&body, &base);
        rendered.warnings = warnings;
        Ok(rendered)
    }

    /// Liquid's `page.*`: the front matter `yaml`, over the defaults that apply.
    fn page_data(&self, yaml: &str) -> Data {
        match front_matter::data(yaml) {
            Data::Map(own) if !self.defaults.is_empty() => {
                let mut merged = self.defaults.clone();
                crate::config::deep_merge(&mut merged, own);
                Data::Map(merged)
            }
            own => own,
        }
    }

    /// Whether the post is HTML (`.html`): Liquid, but no Markdown.
    fn is_html(&self) -> bool {
        self.source
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("html") || ext.eq_ignore_ascii_case("htm"))
    }

    /// Jekyll's excerpt as plain text: the body up to the first
    /// `excerpt_separator` (the front matter's, else the blog's, else a
    /// blank line), rendered; the whole body when it has no separator.
    fn excerpt(&self, body: &str, base: &url::Url) -> String {
        let site = self.site.as_ref().and_then(|site| site.rules.as_ref());
        let separator = self
            .excerpt_separator
            .as_deref()
            .or_else(|| site.and_then(|rules| rules.site.excerpt_separator.as_deref()))
            .unwrap_or("\n\n");
        let head = if separator.is_empty() {
            body
        } else {
            body.split_once(separator).map_or(body, |(head, _)| head)
        };
        if head.trim().is_empty() {
            return String::new();
        }
        markdown::render(head, base)
            .map(|rendered| markdown::plain_title(&rendered.html))
            .unwrap_or_default()
    }

    /// The summary feeds and mail show: `description` or `excerpt`, else
    /// Jekyll's excerpt (as jekyll-feed's summary), else the paper titles,
    /// else the first paragraph.
    pub fn summary(&self, rendered: &Rendered) -> String {
        if let Some(description) = &self.description {
            return description.trim().to_string();
        }
        if !rendered.excerpt.is_empty() {
            return rendered.excerpt.clone();
        }
        if !rendered.papers.is_empty() {
            let titles: Vec<&str> = rendered.papers.iter().map(|p| p.title.as_str()).collect();
            return titles.join(" · ");
        }
        rendered.first_paragraph.clone()
    }
}

/// The groups of two or more of `posts` with the same non-empty `key`,
/// each newest first (as `posts` are), in a stable order.
fn sharing<'a>(posts: &'a [Post], key: impl Fn(&'a Post) -> Cow<'a, str>) -> Vec<Vec<usize>> {
    // Borrowed where the key is a field: no copy of every post's URL.
    let mut by_key: HashMap<Cow<'a, str>, Vec<usize>> = HashMap::with_capacity(posts.len());
    for (at, post) in posts.iter().enumerate() {
        let key = key(post);
        if !key.is_empty() {
            by_key.entry(key).or_default().push(at);
        }
    }
    let mut groups: Vec<Vec<usize>> = by_key
        .into_values()
        .filter(|group| group.len() > 1)
        .collect();
    groups.sort_unstable();
    groups
}

/// `work` done on every item of `paths`, in order, on as many threads as the machine
/// has cores (one below a few hundred paths, where a thread costs more
/// than it saves).
pub(crate) fn on_threads<I: Sync, T: Send>(paths: &[I], work: impl Fn(&I) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(paths.len().div_ceil(256))
        .max(1);
    if threads == 1 {
        return paths.iter().map(work).collect();
    }
    let chunk = paths.len().div_ceil(threads);
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(chunk)
            .map(|chunk| scope.spawn(move || chunk.iter().map(work).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// The groups of two or more of `posts` with the same [`Post::id`] (but
/// those with a `feed_id`), as [`sharing`] gives them. Posts are grouped
/// on a hash of their id first ([`Post::id_hash`]), which makes no id
/// as text for most posts; only posts whose hashes meet have their ids
/// made and compared.
fn sharing_ids(posts: &[Post]) -> Vec<Vec<usize>> {
    let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::with_capacity(posts.len());
    // The hashes on every core: a tenth of the main thread's part of a
    // cold build's reading, all before the feeds can begin.
    let hashes = on_threads(posts, |post| post.feed_id.is_none().then(|| post.id_hash()));
    for (at, hash) in hashes.into_iter().enumerate() {
        if let Some(hash) = hash {
            by_hash.entry(hash).or_default().push(at);
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for candidates in by_hash.into_values().filter(|group| group.len() > 1) {
        // In order, so each exact group is in order too.
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        for at in candidates {
            exact.entry(posts[at].id()).or_default().push(at);
        }
        groups.extend(exact.into_values().filter(|group| group.len() > 1));
    }
    groups.sort_unstable();
    groups
}

/// The posts readers see, newest first: published, not dated after `now`.
/// Posts sharing a URL are all kept, as Jekyll builds them all (and writes
/// one page over the others): each later one is marked with the oldest's
/// file, which gets a note naming them all, as Jekyll's "Conflict" warning.
pub fn published(posts: Vec<Post>, now: jiff::Timestamp) -> Vec<Post> {
    let mut visible: Vec<Option<Post>> = posts
        .into_iter()
        .filter(|post| post.published && post.date.timestamp() <= now)
        .map(Some)
        .collect();
    // Jekyll's order: date, then path; newest first. The order is found
    // on the dates and places, then the posts moved once: a post is large,
    // and a sort moves each many times.
    let mut order: Vec<(jiff::Timestamp, usize)> = visible
        .iter()
        .enumerate()
        .filter_map(|(at, post)| Some((post.as_ref()?.date.timestamp(), at)))
        .collect();
    let source = |at: usize| visible[at].as_ref().map(|post| &post.source);
    order.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| source(b.1).cmp(&source(a.1))));
    let mut visible: Vec<Post> = order
        .into_iter()
        .filter_map(|(_, at)| visible[at].take())
        .collect();
    for sharing in sharing(&visible, |post| Cow::Borrowed(post.url.as_str())) {
        // Newest first: the oldest is the last.
        let Some((&oldest, later)) = sharing.split_last() else {
            continue;
        };
        let first = visible[oldest].source.clone();
        for &at in later {
            let post = &mut visible[at];
            post.shares_url_with = Some(first.clone());
            post.key = format!("{}#{}", post.url, post.file_stem());
        }
        let files: Vec<String> = sharing
            .iter()
            .rev()
            .map(|&at| visible[at].source.display().to_string())
            .collect();
        let note = Problem::new(
            Location::file(&first),
            format!(
                "Conflict: the URL {} is shared by {} posts ({}); Jekyll writes one page over the others. \
                 Each is in the feeds with its own id and mailed once; give each a `permalink` or `slug` of its own",
                visible[oldest].url,
                sharing.len(),
                files.join(", ")
            ),
        );
        visible[oldest].notes.push(note);
    }
    for sharing in sharing_ids(&visible) {
        let Some((&oldest, later)) = sharing.split_last() else {
            continue;
        };
        let id = visible[oldest].id();
        for &at in later {
            visible[at].shares_id = true;
        }
        // Posts at one URL have had their note ("Conflict").
        if later
            .iter()
            .all(|&at| visible[at].url == visible[oldest].url)
        {
            continue;
        }
        let note = Problem::new(
            Location::file(&visible[oldest].source),
            format!(
                "jekyll-feed gives {} posts the id {id} (the same folder and slug), so a feed reader \
                 shows one of them; this, the oldest, keeps it, and each later one has an id of its own, \
                 made from its file name (the first: {})",
                sharing.len(),
                visible[later[later.len() - 1]].id()
            ),
        );
        visible[oldest].notes.push(note);
    }
    visible
}

/// The rules of a plain test site (`https://papers.example.org`, Seoul
/// time, Jekyll's default permalink), for the tests of any module.
#[cfg(test)]
pub(crate) fn test_rules() -> Rules {
    Rules {
        site_url: "https://papers.example.org".into(),
        zone: TimeZone::get("Asia/Seoul").unwrap(),
        permalink: crate::permalink_style::DEFAULT_PERMALINK.into(),
        dates: DateRule::Jekyll,
        site: crate::post::SiteInfo::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        test_rules()
    }

    fn parse_text(name: &str, text: &str) -> Result<Post, Vec<String>> {
        parse(&Path::new("_posts").join(name), text, &rules())
            .map_err(|problems| problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn the_example_post() {
        let text = include_str!("../../example/_posts/2025-12-24-daily-papers.md");
        let post = parse_text("2025-12-24-daily-papers.md", text).unwrap();
        assert_eq!(post.title, "Daily Papers — 2025-12-24");
        assert_eq!(
            post.url,
            "https://papers.example.org/2025/12/24/daily-papers.html"
        );
        assert_eq!(date::rfc3339(&post.date), "2025-12-24T17:15:00+09:00");
        assert_eq!(post.tags, ["papers", "hugginface"]);
        let rendered = post.render(text).unwrap();
        assert_eq!(rendered.papers.len(), 3);
        assert_eq!(rendered.papers[2].url, "https://arxiv.org/abs/2512.19823");
        assert!(rendered.papers[0].summary.starts_with("본 연구는 텍스트"));
    }

    #[test]
    fn late_evening_utc_moves_the_url_to_the_next_day() {
        let post = parse_text(
            "2025-12-24-late.md",
            "---\ntitle: Late\ndate: 2025-12-24 23:30:00\n---\n",
        )
        .unwrap();
        assert_eq!(post.path, "/2025/12/25/late.html");
        assert_eq!(date::rfc3339(&post.date), "2025-12-25T08:30:00+09:00");
    }

    #[test]
    fn a_quoted_time_is_local_as_in_jekyll() {
        let post = parse_text(
            "2025-12-24-q.md",
            "---\ntitle: q\ndate: \"2025-12-24 23:30:00\"\n---\n",
        )
        .unwrap();
        assert_eq!(date::rfc3339(&post.date), "2025-12-24T23:30:00+09:00");
        assert_eq!(post.path, "/2025/12/24/q.html");
    }

    #[test]
    fn categories_merge_as_jekyll() {
        let post = parse_text(
            "2025-12-24-x.md",
            "---\ntitle: x\ncategory: One\ncategories: [Two]\n---\n",
        )
        .unwrap();
        assert_eq!(post.categories, ["Two", "One"]);
        assert_eq!(post.path, "/two/one/2025/12/24/x.html");
    }

    #[test]
    fn slug_and_permalink_from_front_matter() {
        let post = parse_text("2025-12-24-x.md", "---\ntitle: x\nslug: My Slug\n---\n").unwrap();
        assert_eq!(post.path, "/2025/12/24/My-Slug.html");
        let post = parse_text(
            "2025-12-24-x.md",
            "---\ntitle: x\npermalink: /papers/:year/:title/\n---\n",
        )
        .unwrap();
        assert_eq!(post.path, "/papers/2025/x/");
    }

    #[test]
    fn drafts_and_unpublished() {
        assert!(
            !parse_text("2025-12-24-x.md", "---\ntitle: x\npublished: no\n---\n")
                .unwrap()
                .published
        );
        assert!(
            !parse_text("2025-12-24-x.md", "---\ntitle: x\ndraft: true\n---\n")
                .unwrap()
                .published
        );
        assert!(
            parse_text("2025-12-24-x.md", "---\ntitle: x\n---\n")
                .unwrap()
                .published
        );
    }

    #[test]
    fn undated_file_name_uses_front_matter() {
        let post = parse_text("notes.md", "---\ntitle: n\ndate: 2025-01-02\n---\n").unwrap();
        assert_eq!(post.path, "/2025/01/02/notes.html");
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let err =
            parse_text("2025-12-24-x.md", "---\ntitle: x\ndate: 2025-13-45\n---\n").unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(
            err[0]
                .starts_with("_posts/2025-12-24-x.md:3: front matter: invalid date \"2025-13-45\""),
            "{}",
            err[0]
        );

        let err = parse_text("notes.md", "---\nlayout: post\n---\n").unwrap_err();
        assert_eq!(
            err,
            [
                "_posts/notes.md:1: front matter: `date` is missing and the file name does not start with YYYY-MM-DD-"
            ]
        );

        let err =
            parse_text("2025-12-24-x.md", "---\ntitle: x\npublised: false\n---\n").unwrap_err();
        assert_eq!(
            err,
            [
                "_posts/2025-12-24-x.md:3: front matter: unknown key `publised`; did you mean `published`?"
            ]
        );

        let err = parse_text("2025-12-24-x.md", "---\ntitle: x\ntags: {a: 1}\n---\n").unwrap_err();
        assert!(
            err[0].starts_with("_posts/2025-12-24-x.md:3: front matter: `tags`:"),
            "{}",
            err[0]
        );

        let err = parse_text("2025-02-32-x.md", "---\ntitle: x\n---\n").unwrap_err();
        assert_eq!(
            err,
            [
                "_posts/2025-02-32-x.md: the date in the file name, \"2025-02-32\", is not a real date"
            ]
        );
    }

    #[test]
    fn theme_keys_are_not_typos() {
        let text = "---\ntitle: x\nlayout: post\ntoc: true\nimage: a.png\ncomments: true\nmath: true\nlang: ko\n---\n";
        assert!(parse_text("2025-12-24-x.md", text).is_ok());
    }

    #[test]
    fn ids_are_jekyll_feeds_unless_pinned() {
        let post = parse_text("2025-12-24-a post.md", "---\ntitle: x\n---\n").unwrap();
        assert_eq!(
            post.url,
            "https://papers.example.org/2025/12/24/a-post.html"
        );
        assert_eq!(post.id(), "https://papers.example.org/2025/12/24/a%20post");
        let text = "---\ntitle: x\npermalink: /news/:title/\nslug: Given\n---\n";
        let post = parse_text("2025-12-24-a.md", text).unwrap();
        assert_eq!(post.id(), "https://papers.example.org/news/Given");
        let pinned = parse_text(
            "2025-12-24-a.md",
            "---\ntitle: x\nfeed_id: tag:e.org,2025:1\n---\n",
        );
        assert_eq!(pinned.unwrap().id(), "tag:e.org,2025:1");
    }

    #[test]
    fn theme_keys_near_unguarded_keys_are_fine() {
        let text = "---\ntitle: x\nauthors: [kim]\ntag: a\ncategory: b\n---\n";
        assert!(parse_text("2025-12-24-x.md", text).is_ok());
        let err = parse_text("2025-12-24-x.md", "---\ntitle: x\npermalnk: /x/\n---\n").unwrap_err();
        assert_eq!(
            err,
            [
                "_posts/2025-12-24-x.md:3: front matter: unknown key `permalnk`; did you mean `permalink`?"
            ]
        );
    }

    #[test]
    fn liquid_html_posts_and_excerpts() {
        let text = "---\ntitle: x\n---\n{{ page.title | upcase }} first.\n\nSecond.\n";
        let post = parse_text("2025-12-24-x.md", text).unwrap();
        let rendered = post.render(text).unwrap();
        assert_eq!(rendered.html, "<p>X first.</p>\n<p>Second.</p>\n");
        assert_eq!(post.summary(&rendered), "X first.");
        let text = "---\ntitle: x\nrender_with_liquid: false\nexcerpt_separator: <!--more-->\n---\nKept {{ as }} text\n\nstill<!--more-->after\n";
        let post = parse_text("2025-12-24-x.md", text).unwrap();
        let rendered = post.render(text).unwrap();
        assert!(
            rendered.html.contains("Kept {{ as }} text"),
            "{}",
            rendered.html
        );
        assert_eq!(post.summary(&rendered), "Kept {{ as }} text still");
        let text = "---\ntitle: x\n---\n<p>{{ 'a' | append: 'b' }} <script>x()</script><a href=\"/y\">y</a></p>\n";
        let post = parse_text("2025-12-24-x.html", text).unwrap();
        let rendered = post.render(text).unwrap();
        assert_eq!(
            rendered.html,
            "<p>ab <a href=\"https://papers.example.org/y\" rel=\"noopener noreferrer\">y</a></p>\n"
        );
    }

    #[test]
    fn published_orders_filters_and_keeps_posts_sharing_a_url() {
        let post = |name: &str, front: &str| {
            parse_text(name, &format!("---\ntitle: t\n{front}---\n")).unwrap()
        };
        let posts = vec![
            post("2025-12-23-a.md", ""),
            post("2025-12-25-b.md", ""),
            post("2025-12-24-c.md", "draft: true\n"),
            post("2099-01-01-future.md", ""),
            post("2025-12-22-d.md", "permalink: /2025/12/23/a.html\n"),
        ];
        let now = jiff::Timestamp::from_second(1_780_000_000).unwrap();
        let visible = published(posts, now);
        let names: Vec<_> = visible
            .iter()
            .map(|p| p.source.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["2025-12-25-b.md", "2025-12-23-a.md", "2025-12-22-d.md"]
        );
        // The oldest of the two keeps its URL as its key and id, and the note.
        let (a, d) = (&visible[1], &visible[2]);
        assert_eq!(a.url, d.url);
        assert_eq!(d.key, d.url);
        assert_eq!(
            a.key,
            "https://papers.example.org/2025/12/23/a.html#2025-12-23-a"
        );
        assert_eq!(d.id(), "https://papers.example.org/2025/12/23/d");
        // Their ids differ already (their slugs do): jekyll-feed's.
        assert_eq!(a.id(), "https://papers.example.org/2025/12/23/a");
        assert!(a.notes.is_empty());
        assert_eq!(
            d.notes[0].to_string(),
            "_posts/2025-12-22-d.md: Conflict: the URL https://papers.example.org/2025/12/23/a.html is shared by 2 posts \
             (_posts/2025-12-22-d.md, _posts/2025-12-23-a.md); Jekyll writes one page over the others. \
             Each is in the feeds with its own id and mailed once; give each a `permalink` or `slug` of its own"
        );
    }

    /// The ids of `posts` in the feeds' order, all of them published.
    fn published_ids(posts: Vec<Post>) -> Vec<String> {
        let now = jiff::Timestamp::from_second(1_780_000_000).unwrap();
        published(posts, now).iter().map(Post::id).collect()
    }

    #[test]
    fn posts_jekyll_feed_gives_one_id_each_get_their_own() {
        let post = |name: &str, permalink: &str| {
            let text = format!("---\ntitle: t\npermalink: {permalink}\n---\n");
            parse_text(name, &text).unwrap()
        };
        let posts = vec![
            post("2025-12-20-daily-papers.md", "/daily-papers-2025-12-20"),
            post("2025-12-21-daily-papers.md", "/daily-papers-2025-12-21"),
            post("2025-12-22-other.md", "/other"),
        ];
        assert_eq!(
            published_ids(posts),
            [
                "https://papers.example.org/other",
                "https://papers.example.org/2025-12-21-daily-papers",
                "https://papers.example.org/daily-papers",
            ]
        );
    }

    #[test]
    fn ids_the_same_once_escaped_or_folded_are_shared() {
        // The shared-id check hashes most ids from their parts; a slug
        // that is escaped or folded (full-width `ａ` is `a`) is made whole.
        let post = |name: &str, slug: &str| {
            let text = format!("---\ntitle: t\npermalink: /news/:title/\nslug: {slug}\n---\n");
            parse_text(name, &text).unwrap()
        };
        let posts = vec![
            post("2025-12-20-one.md", "a"),
            post("2025-12-21-two.md", "ａ"),
            post("2025-12-22-three.md", "b c"),
            post("2025-12-23-four.md", "b%20c"),
        ];
        assert_eq!(
            published_ids(posts),
            [
                "https://papers.example.org/news/2025-12-23-four",
                "https://papers.example.org/news/b%20c",
                "https://papers.example.org/news/2025-12-21-two",
                "https://papers.example.org/news/a",
            ]
        );
    }

    #[test]
    fn every_post_jekyll_publishes_is_read() {
        // No front matter: the title from the file name, Jekyll's titleize.
        let post = parse_text("2025-12-24-daily-papers.MD-notes.md", "Just text.\n").unwrap();
        assert_eq!(post.title, "Daily Papers.md Notes");
        assert_eq!(
            post.render("Just text.\n").unwrap().html,
            "<p>Just text.</p>\n"
        );
        // No title: the same; `published: flase` is a string, so published.
        let post = parse_text(
            "2025-12-24-LLM-notes..md",
            "---\npublished: flase\n---\nx\n",
        )
        .unwrap();
        assert_eq!((post.title.as_str(), post.published), ("Llm Notes", true));
        // A key twice: the later wins, with a note at its line.
        let post = parse_text("2025-12-24-x.md", "---\ntitle: a\ntitle: b\n---\n").unwrap();
        assert_eq!(post.title, "b");
        assert_eq!(
            post.notes[0].to_string(),
            "_posts/2025-12-24-x.md:3: front matter: `title` is written twice; the later value is used, as Jekyll does"
        );
    }

    #[test]
    fn front_matter_defaults_fill_what_a_post_leaves_out() {
        let jekyll = concat!(
            "url: https://e.org\n",
            "defaults:\n",
            "  - scope: {path: _posts}\n",
            "    values: {author: Kim, categories: [news], tags: [a], layout: post}\n",
            "  - scope: {path: _posts/notes, type: posts}\n",
            "    values: {permalink: '/notes/:title/', render_with_liquid: false, excerpt_separator: '<!--more-->'}\n",
            "  - scope: {path: _posts/drafts}\n",
            "    values: {published: false}\n",
        );
        let config = Config::parse_in_blog(
            "",
            Path::new("blog/_digest-feed/config.toml"),
            jekyll,
            Path::new("blog/_config.yml"),
        )
        .unwrap();
        let rules = Rules::from_config(&config);
        let parse = |name: &str, front: &str| {
            let text =
                format!("---\ntitle: t\n{front}---\n{{{{ page.layout }}}} {{{{ page.author }}}}\n");
            let post = parse(&Path::new("blog/_posts").join(name), &text, &rules).unwrap();
            let html = post.render(&text).unwrap().html;
            (post, html)
        };
        let (post, html) = parse("2025-01-02-a.md", "");
        assert_eq!(post.path, "/news/2025/01/02/a.html");
        assert_eq!(
            (post.author.as_deref(), post.tags.as_slice()),
            (Some("Kim"), ["a".to_string()].as_slice())
        );
        assert_eq!(html, "<p>post Kim</p>\n");
        // The post's own keys win; its categories join the defaults'.
        let (post, html) = parse(
            "2025-01-02-a.md",
            "author: Lee\ncategories: ml\ntags: [b]\nlayout: page\n",
        );
        assert_eq!(post.categories, ["news", "ml"]);
        assert_eq!(
            (post.author.as_deref(), post.tags.as_slice()),
            (Some("Lee"), ["b".to_string()].as_slice())
        );
        assert_eq!(html, "<p>page Lee</p>\n");
        let (post, html) = parse("notes/2025-01-02-b.md", "");
        assert_eq!(post.path, "/notes/b/");
        assert!(!post.liquid && post.excerpt_separator.as_deref() == Some("<!--more-->"));
        assert_eq!(html, "<p>{{ page.layout }} {{ page.author }}</p>\n");
        assert!(!parse("drafts/2025-01-02-c.md", "").0.published);
        assert!(
            parse("drafts/2025-01-02-c.md", "published: true\n")
                .0
                .published
        );
    }

    #[test]
    fn decoding() {
        let path = Path::new("_posts/x.md");
        assert_eq!(
            decode(path, b"\xEF\xBB\xBF---\r\ntitle: x\r\n---\r\n").unwrap(),
            "---\ntitle: x\n---\n"
        );
        let err = decode(path, b"---\ntitle: \xFF\n---\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "_posts/x.md:2: the file is not valid UTF-8 (byte 0xFF at column 8); save it as UTF-8"
        );
    }
}
