//! The file as written (toml, with spans where a message needs a line),
//! and its validation into the settings of [`super`].

use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;

use super::dkim::{self, RawDkim};
use super::jekyll::{Author, JekyllConfig};
use super::provider;
use super::{
    Certificate, Config, DateRule, Email, Feed, FeedFiles, ItemKind, PaperShape, Posts, Site, Smtp,
    SubscriberEntry, SubscriberSources, Template, TlsMode,
};
use crate::address::Mailbox;
use crate::error::{Location, Problem};
use crate::permalink_style::{DEFAULT_PERMALINK, expand_style};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    site: RawSite,
    #[serde(default)]
    posts: RawPosts,
    #[serde(default)]
    feed: RawFeed,
    #[serde(default)]
    email: RawEmail,
    #[serde(default)]
    smtp: RawSmtp,
    #[serde(default)]
    subscribers: Vec<RawSubscriber>,
    list: Option<super::list::RawList>,
    inbox: Option<super::list::RawInbox>,
    #[serde(default)]
    serve: super::list::RawServe,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawSite {
    title: Option<String>,
    url: Option<Spanned<String>>,
    baseurl: Option<String>,
    description: Option<String>,
    language: Option<String>,
    timezone: Option<Spanned<String>>,
    author: Option<String>,
    permalink: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPosts {
    dir: Option<String>,
    dates: DateRule,
    skip_invalid: bool,
}

impl Default for RawPosts {
    fn default() -> Self {
        RawPosts {
            dir: None,
            dates: DateRule::Jekyll,
            skip_invalid: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawFeed {
    out: Option<String>,
    limit: Option<Spanned<i64>>,
    items: ItemKind,
    papers: PaperShape,
    per_tag: bool,
    rss: Option<Spanned<String>>,
    atom: Option<Spanned<String>>,
    archive: bool,
    websub_hub: Option<Spanned<String>>,
}

impl Default for RawFeed {
    fn default() -> Self {
        RawFeed {
            out: None,
            limit: None,
            items: ItemKind::Posts,
            papers: PaperShape::Auto,
            per_tag: false,
            rss: None,
            atom: None,
            archive: false,
            websub_hub: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawEmail {
    from: Option<Spanned<String>>,
    subject: String,
    weekly_subject: String,
    templates: String,
    list_unsubscribe: Option<Spanned<String>>,
    state: String,
    subscribers_file: Option<Spanned<String>>,
    dkim: Option<Spanned<RawDkim>>,
}

impl Default for RawEmail {
    fn default() -> Self {
        RawEmail {
            from: None,
            subject: "{{ post.title }}".into(),
            weekly_subject: super::DEFAULT_WEEKLY_SUBJECT.into(),
            templates: "templates".into(),
            list_unsubscribe: None,
            state: ".digest-feed/state.db".into(),
            subscribers_file: None,
            dkim: None,
        }
    }
}

/// `[smtp]` as written: the keys a provider presets are `None` when unset,
/// so that a key set beside `provider` wins over the preset.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSmtp {
    provider: Option<Spanned<String>>,
    host: Option<Spanned<String>>,
    port: Option<u16>,
    tls: Option<Spanned<TlsMode>>,
    username: Option<String>,
    password_env: String,
    connections: Option<u32>,
    rate_per_second: Option<f64>,
    max_per_day: Option<u64>,
    timeout_s: u64,
    retries: u32,
    ca_file: Option<Spanned<String>>,
    /// `[[smtp.fallback]]`: further relays, with the same keys.
    fallback: Vec<RawSmtp>,
}

impl Default for RawSmtp {
    fn default() -> Self {
        RawSmtp {
            provider: None,
            host: None,
            port: None,
            tls: None,
            username: None,
            password_env: "DIGEST_FEED_SMTP_PASSWORD".into(),
            connections: None,
            rate_per_second: None,
            max_per_day: None,
            timeout_s: 30,
            retries: 3,
            ca_file: None,
            fallback: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubscriber {
    email: Spanned<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    cadence: super::Cadence,
}

/// Turns a key's byte span into the file and its line.
pub(super) struct Lines<'a> {
    pub(super) path: &'a Path,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(path: &'a Path, text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Lines { path, starts }
    }

    pub(super) fn at(&self, span: Range<usize>) -> Location {
        let line = self.starts.partition_point(|&start| start <= span.start);
        Location::line(self.path, line.max(1))
    }

    /// The key's line, or the file alone for a key left to its default.
    fn of<T>(&self, key: Option<&Spanned<T>>) -> Location {
        key.map_or_else(|| Location::file(self.path), |key| self.at(key.span()))
    }
}

/// A Jekyll blog the config sits in: its folder and its `_config.yml`, read.
#[derive(Debug, Clone)]
pub(super) struct Blog {
    /// The folder `_config.yml` is in.
    pub(super) root: PathBuf,
    /// `_config.yml` itself, for messages.
    pub(super) file: PathBuf,
    /// What it says.
    pub(super) config: JekyllConfig,
    /// Its `defaults:`, checked.
    pub(super) defaults: super::FrontMatterDefaults,
    /// Its `_data/authors.yml`: key, then `Name <email>`.
    pub(super) authors: Vec<(String, String)>,
}

impl Blog {
    fn location(&self) -> Location {
        Location::file(&self.file)
    }

    /// A warning for each key `_config.yml` writes twice.
    fn repeated_keys(&self) -> Vec<Problem> {
        self.config
            .repeated_keys
            .iter()
            .map(|(key, line)| {
                Problem::new(
                    Location::line(&self.file, *line),
                    format!("`{key}` is written twice; the later value is used, as Jekyll does"),
                )
            })
            .collect()
    }

    /// Whether `jekyll build` would publish `path`, a file or folder of the blog.
    pub(super) fn publishes(&self, path: &Path) -> bool {
        let Some(relative) = parts_below(path, &self.root) else {
            return false;
        };
        !relative.is_empty() && self.config.publishes(&relative.join("/"))
    }
}

/// Parses and validates config text; see [`Config::parse`]. `blog` is the
/// Jekyll blog around it, whose `_config.yml` fills what the text leaves out.
pub(super) fn parse(text: &str, path: &Path, blog: Option<&Blog>) -> Result<Config, Vec<Problem>> {
    let lines = Lines::new(path, text);
    let raw: RawConfig = toml::from_str(text).map_err(|err| {
        let location = match err.span() {
            Some(span) => lines.at(span),
            None => Location::file(path),
        };
        vec![Problem::new(
            location,
            with_a_suggestion(err.message().trim_end()),
        )]
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let out = feed_out(raw.feed.out.as_deref(), &base, blog);
    let mut problems = Vec::new();
    let mut warnings = blog.map(Blog::repeated_keys).unwrap_or_default();
    let site = site(raw.site, &lines, blog, &mut problems, &mut warnings);
    let feed = feed(&raw.feed, out, &lines, blog, &mut problems);
    let list = raw
        .list
        .map(|list| super::list::list(&list, &base, &lines, &mut problems));
    let inbox = raw
        .inbox
        .and_then(|inbox| super::list::inbox(inbox, &base, &lines, &mut problems));
    let serve = super::list::serve(&raw.serve, &lines, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let subscribers = SubscriberSources {
        entries: raw
            .subscribers
            .into_iter()
            .map(|entry| SubscriberEntry {
                location: lines.at(entry.email.span()),
                email: entry.email.into_inner(),
                name: entry.name,
                tags: entry.tags,
                cadence: entry.cadence,
            })
            .collect(),
        file: raw
            .email
            .subscribers_file
            .as_ref()
            .map(|file| (base.join(file.get_ref()), lines.of(Some(file)))),
    };
    Ok(Config {
        warnings,
        path: path.to_path_buf(),
        posts: Posts {
            dir: posts_dir(raw.posts.dir.as_deref(), &base, blog),
            dates: raw.posts.dates,
            future: blog.and_then(|b| b.config.future).unwrap_or(false),
            excerpt_separator: blog.and_then(|b| b.config.excerpt_separator.clone()),
            defaults: blog.map(|b| b.defaults.clone()).unwrap_or_default(),
            skip_invalid: raw.posts.skip_invalid,
        },
        feed,
        subscribers,
        names_a_sender: raw.email.from.is_some(),
        blog: blog.cloned(),
        email: email(raw.email, &base, &lines, list.as_ref()),
        smtp: smtp(raw.smtp, &base, &lines),
        list,
        inbox,
        serve,
        site,
    })
}

/// `[feed]`, checked: what a problem it finds goes into `problems`.
fn feed(
    raw: &RawFeed,
    out: PathBuf,
    lines: &Lines,
    blog: Option<&Blog>,
    problems: &mut Vec<Problem>,
) -> Feed {
    let limit = feed_limit(raw.limit.as_ref(), lines, blog, problems);
    let files = feed_files(raw, lines, blog, problems);
    let websub_hub = raw.websub_hub.as_ref().and_then(|hub| {
        validate_hub_url(hub.get_ref())
            .map_err(|message| problems.push(Problem::new(lines.at(hub.span()), message)))
            .ok()
    });
    Feed {
        url_path: feed_url_path(&out, blog),
        out,
        limit,
        items: raw.items,
        papers: raw.papers,
        per_tag: raw.per_tag,
        files,
        jekyll_feed_plugin: blog
            .filter(|blog| blog.config.jekyll_feed().is_some())
            .map(|blog| blog.file.clone()),
        archive: raw.archive,
        websub_hub,
    }
}

/// A setting from config.toml, else from `_config.yml`, with where it is written.
fn either<T: Clone>(
    ours: Option<&Spanned<T>>,
    theirs: Option<&T>,
    lines: &Lines,
    blog: Option<&Blog>,
) -> Option<(T, Location)> {
    match (ours, theirs, blog) {
        (Some(value), _, _) => Some((value.get_ref().clone(), lines.at(value.span()))),
        (None, Some(value), Some(blog)) => Some((value.clone(), blog.location())),
        _ => None,
    }
}

fn site(
    raw: RawSite,
    lines: &Lines,
    blog: Option<&Blog>,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) -> Site {
    let jekyll = blog.map(|blog| &blog.config);
    let (url, pages_baseurl) = site_url(raw.url.as_ref(), lines, blog, problems, warnings);
    let (timezone, timezone_name) =
        site_timezone(raw.timezone.as_ref(), lines, blog, problems, warnings);
    let theirs = jekyll.and_then(|j| j.posts_permalink().map(str::to_string));
    let permalink = match either(raw.permalink.as_ref(), theirs.as_ref(), lines, blog) {
        None => DEFAULT_PERMALINK.to_string(),
        Some((permalink, at)) => expand_style(&permalink).unwrap_or_else(|message| {
            problems.push(Problem::new(at, format!("[site] permalink: {message}")));
            DEFAULT_PERMALINK.to_string()
        }),
    };
    // `baseurl` joins `url` as Jekyll's `absolute_url` joins them.
    let baseurl = match (&raw.baseurl, jekyll) {
        (Some(ours), _) => base_path(ours),
        (None, Some(jekyll)) => base_path(
            jekyll
                .baseurl
                .as_deref()
                .filter(|base| !base.trim().is_empty())
                .or(pages_baseurl.as_deref())
                .unwrap_or(""),
        ),
        (None, None) => String::new(),
    };
    let text = |ours: Option<String>, theirs: Option<&String>| ours.or_else(|| theirs.cloned());
    Site {
        title: text(raw.title, jekyll.and_then(|j| j.title.as_ref()))
            .unwrap_or_else(|| "Daily digest".into()),
        root_url: url.clone(),
        url: format!("{url}{baseurl}"),
        baseurl,
        description: text(raw.description, jekyll.and_then(|j| j.description.as_ref()))
            .unwrap_or_default(),
        language: text(raw.language, jekyll.and_then(|j| j.lang.as_ref()))
            .unwrap_or_else(|| "en".into()),
        timezone,
        timezone_name,
        author: raw
            .author
            .or_else(|| jekyll.and_then(|j| j.author.as_ref()).map(Author::text))
            .unwrap_or_default(),
        authors: blog.map(|blog| blog.authors.clone()).unwrap_or_default(),
        permalink,
        collections: jekyll
            .map(JekyllConfig::collection_permalinks)
            .unwrap_or_default(),
    }
}

/// `site.url`: config.toml's, else `_config.yml`'s, else (in a blog that
/// sets none, or `url: ""`) GitHub Pages' address for it, with a warning;
/// and the base path GitHub Pages gives a project site.
fn site_url(
    ours: Option<&Spanned<String>>,
    lines: &Lines,
    blog: Option<&Blog>,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) -> (String, Option<String>) {
    let jekyll = blog.map(|blog| &blog.config);
    // `url: ""` is no address, as for Jekyll.
    let theirs = jekyll
        .and_then(|j| j.url.as_ref())
        .filter(|url| !url.trim().is_empty());
    let mut pages_baseurl = None;
    let url = match (either(ours, theirs, lines, blog), blog) {
        (Some((url, at)), _) => validate_site_url(&url).unwrap_or_else(|message| {
            problems.push(Problem::new(at, message));
            String::new()
        }),
        (None, Some(blog)) => {
            if let Some(pages) = super::pages::address(&blog.root) {
                warnings.push(Problem::new(
                    blog.location(),
                    format!(
                        "no `url`: using {}{}, as GitHub Pages does ({}); set `url` to say otherwise",
                        pages.url,
                        pages.baseurl.as_deref().unwrap_or(""),
                        pages.source
                    ),
                ));
                pages_baseurl = pages.baseurl;
                pages.url
            } else {
                problems.push(Problem::new(
                    blog.location(),
                    "no `url`, and no CNAME file or GitHub remote `origin` tells the blog's address: \
                     set `url` (e.g. url: \"https://example.org\"); without it jekyll-feed writes \
                     links a feed reader or a mail cannot follow",
                ));
                String::new()
            }
        }
        (None, None) => {
            problems.push(Problem::new(
                Location::file(lines.path),
                "[site] url is missing: set it to the blog's absolute address, e.g. url = \"https://example.org\"",
            ));
            String::new()
        }
    };
    (url, pages_baseurl)
}

/// `site.timezone`: config.toml's (an unknown zone is an error), else
/// `_config.yml`'s (one the system does not know is UTC, as for Jekyll,
/// with a warning), else the system's.
fn site_timezone(
    ours: Option<&Spanned<String>>,
    lines: &Lines,
    blog: Option<&Blog>,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) -> (TimeZone, String) {
    let jekyll = blog.map(|blog| &blog.config);
    let zone = jekyll.and_then(|j| j.timezone.as_ref());
    match either(ours, zone, lines, blog) {
        None => {
            let zone = TimeZone::system();
            let name = zone.iana_name().unwrap_or("UTC").to_string();
            (zone, name)
        }
        Some((name, at)) => {
            if let Ok(zone) = named_zone(&name) {
                (zone, name)
            } else if ours.is_none() {
                // Jekyll sets TZ to it, and a zone the system does not know is UTC.
                warnings.push(Problem::new(
                    at,
                    format!(
                        "timezone {name:?} is no time zone this machine knows; dates are read in UTC, as Jekyll reads them; use an IANA name such as \"Europe/Paris\""
                    ),
                ));
                (TimeZone::UTC, "UTC".into())
            } else {
                problems.push(Problem::new(
                    at,
                    format!(
                        "[site] timezone {name:?} is not a time zone this machine knows; use an IANA name such as \"Asia/Seoul\" or \"UTC\""
                    ),
                ));
                (TimeZone::UTC, "UTC".into())
            }
        }
    }
}

/// Where the system's zone database is: the first folder jiff looks in.
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// The IANA zone `name`, as [`TimeZone::get`] finds it. That lists every
/// zone of the database before it reads one (under a millisecond, but
/// every build pays it): a name the database holds as a file of that very
/// name is read from that one file instead. Any other (`TZDIR` set, a
/// name in other letter case, one that is no plain path) goes to jiff's
/// own look-up, and so does its error.
fn named_zone(name: &str) -> Result<TimeZone, jiff::Error> {
    // jiff's own special case, found in any letter case without a database.
    if name.eq_ignore_ascii_case("utc") {
        return Ok(TimeZone::UTC);
    }
    zone_file(name).map_or_else(|| TimeZone::get(name), Ok)
}

/// The zone `name` read from its file under [`ZONEINFO`], where jiff would
/// read it: `None` where jiff may look elsewhere or not find it there.
fn zone_file(name: &str) -> Option<TimeZone> {
    if std::env::var_os("TZDIR").is_some() {
        return None;
    }
    let plain = name.split('/').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"_+-".contains(&byte))
    });
    // jiff leaves these two folders of the database out.
    let first = name.split('/').next().unwrap_or_default();
    if !plain || first == "posix" || first == "right" {
        return None;
    }
    let bytes = std::fs::read(Path::new(ZONEINFO).join(name)).ok()?;
    TimeZone::tzif(name, &bytes).ok()
}

/// `baseurl` as a path prefix: empty, or `/name` without a trailing slash.
fn base_path(baseurl: &str) -> String {
    let trimmed = baseurl.trim().trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

/// `[posts] dir` from the config's folder; by default the blog's `_posts`,
/// or `_posts` beside the config.
fn posts_dir(dir: Option<&str>, base: &Path, blog: Option<&Blog>) -> PathBuf {
    match (dir, blog) {
        (Some(dir), _) => base.join(dir),
        (None, Some(blog)) => blog.root.join("_posts"),
        (None, None) => base.join("_posts"),
    }
}

/// `[feed] out` from the config's folder; by default, in a Jekyll blog, the
/// blog's own folder (Jekyll copies the feeds into `_site`, and GitHub Pages
/// serves them from the branch), else `public` beside the config.
fn feed_out(out: Option<&str>, base: &Path, blog: Option<&Blog>) -> PathBuf {
    match (out, blog) {
        (Some(out), _) => base.join(out),
        (None, Some(blog)) => blog.root.clone(),
        (None, None) => base.join("public"),
    }
}

/// Where the feeds are served below the site's home, for their self links:
/// in a Jekyll blog, `out`'s place in the blog (or in its `_site`); else the
/// home itself, wherever the web server maps `out`.
fn feed_url_path(out: &Path, blog: Option<&Blog>) -> String {
    let Some(blog) = blog else {
        return String::new();
    };
    let parts = parts_below(out, &blog.root.join("_site"))
        .or_else(|| parts_below(out, &blog.root))
        .unwrap_or_default();
    parts.iter().fold(String::new(), |mut path, part| {
        path.push_str(part);
        path.push('/');
        path
    })
}

/// The names of `path`'s parts below `folder` (`.` parts ignored in both);
/// `None` when it is not inside it.
fn parts_below(path: &Path, folder: &Path) -> Option<Vec<String>> {
    let relative = normal(path)
        .strip_prefix(normal(folder))
        .ok()?
        .to_path_buf();
    Some(
        relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect(),
    )
}

/// A path made absolute, without `.` parts and with each `..` taking the
/// part before it away, so that `./_site` and `_site` compare equal and
/// `_digest-feed/../subscribers.csv` is the `subscribers.csv` beside it
/// (which Jekyll publishes), `../Maildir` the folder beside the blog
/// (which it does not). Lexical, as the file may not exist yet.
fn normal(path: &Path) -> PathBuf {
    // An empty path is the current folder (a blog whose root is where we run).
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut normal = PathBuf::new();
    for part in absolute.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// The feeds' file names: `[feed] rss` and `atom` (each a plain file name,
/// not each other's, not `feed.json`), else the defaults of [`FeedFiles::choose`].
fn feed_files(
    raw: &RawFeed,
    lines: &Lines,
    blog: Option<&Blog>,
    problems: &mut Vec<Problem>,
) -> FeedFiles {
    let mut name = |key: &str, value: Option<&Spanned<String>>| {
        let value = value?;
        let text = value.get_ref().trim();
        let plain = !text.is_empty()
            && text != "."
            && text != ".."
            && !text.contains(['/', '\\'])
            && text != "feed.json";
        if plain {
            Some(text.to_string())
        } else {
            problems.push(Problem::new(
                lines.at(value.span()),
                format!("[feed] {key} must be a file name such as \"feed.xml\" (no folder; not feed.json), not {text:?}"),
            ));
            None
        }
    };
    let rss = name("rss", raw.rss.as_ref());
    let atom = name("atom", raw.atom.as_ref());
    // jekyll-feed's path with a folder cannot be one of these names: the standard ones then.
    let theirs = blog
        .and_then(|blog| blog.config.jekyll_feed())
        .filter(|path| !path.contains('/'));
    let files = FeedFiles::choose(rss.as_deref(), atom.as_deref(), theirs.as_deref());
    if files.rss == files.atom {
        let at = raw
            .rss
            .as_ref()
            .or(raw.atom.as_ref())
            .map_or_else(|| Location::file(lines.path), |key| lines.at(key.span()));
        problems.push(Problem::new(
            at,
            format!(
                "[feed] rss and atom are both {:?}: give each format its own file",
                files.rss
            ),
        ));
    }
    files
}

fn feed_limit(
    limit: Option<&Spanned<i64>>,
    lines: &Lines,
    blog: Option<&Blog>,
    problems: &mut Vec<Problem>,
) -> usize {
    // jekyll-feed's `feed: posts_limit`, so a blog that moves keeps its feed's length.
    let theirs = blog.and_then(|b| b.config.feed.as_ref()?.posts_limit);
    let Some((limit, at)) = either(limit, theirs.as_ref(), lines, blog) else {
        return 20;
    };
    match usize::try_from(limit) {
        Ok(value) if value > 0 => value,
        _ => {
            problems.push(Problem::new(
                at,
                format!("[feed] limit must be a whole number of at least 1, not {limit}"),
            ));
            20
        }
    }
}

/// `[email]`: the sender parsed, the unsubscribe target checked.
fn email(
    raw: RawEmail,
    base: &Path,
    lines: &Lines,
    list: Option<&super::ListSettings>,
) -> Result<Email, Vec<Problem>> {
    let mut problems = Vec::new();
    let from = match &raw.from {
        None => {
            problems.push(Problem::new(
                Location::file(lines.path),
                "[email] from is missing: set the sender, e.g. from = \"Daily Papers <papers@example.org>\"",
            ));
            None
        }
        Some(from) => match Mailbox::parse(from.get_ref()).and_then(sendable_sender) {
            Ok(mailbox) => Some(mailbox),
            Err(err) => {
                problems.push(Problem::new(
                    lines.at(from.span()),
                    format!(
                        "[email] from {:?} is not an address like \"Daily Papers <papers@example.org>\" ({err})",
                        from.get_ref()
                    ),
                ));
                None
            }
        },
    };
    let written = raw
        .list_unsubscribe
        .as_ref()
        .map_or("", |l| l.get_ref().trim());
    let list_unsubscribe =
        if let Some(target) = written.is_empty().then(|| list_target(list)).flatten() {
            target
        } else if written.is_empty() {
            // Every bulk sender needs one (Gmail and Yahoo require it); without a
            // setting, unsubscribe requests go to the sender's own address.
            from.as_ref()
                .map(|from| format!("mailto:{}?subject=unsubscribe", from.email))
                .unwrap_or_default()
        } else if written.starts_with("mailto:") || written.starts_with("https://") {
            written.to_string()
        } else {
            problems.push(Problem::new(
                lines.of(raw.list_unsubscribe.as_ref()),
                format!("[email] list_unsubscribe {written:?} must start with mailto: or https://"),
            ));
            String::new()
        };
    let dkim = raw.dkim.map(|dkim| {
        let location = lines.at(dkim.span());
        dkim::check(dkim.get_ref(), base).map_err(|message| {
            problems.push(Problem::new(location, message));
        })
    });
    let origin = |key: &str| format!("{} [email] {key}", lines.path.display());
    match from {
        Some(from) if problems.is_empty() => Ok(Email {
            from,
            subject: Template {
                origin: origin("subject"),
                text: raw.subject,
            },
            weekly_subject: Template {
                origin: origin("weekly_subject"),
                text: raw.weekly_subject,
            },
            templates: base.join(&raw.templates),
            list_unsubscribe: Template {
                origin: origin("list_unsubscribe"),
                text: list_unsubscribe,
            },
            state: base.join(&raw.state),
            dkim: dkim.and_then(Result::ok),
        }),
        _ => Err(problems),
    }
}

/// A sender every server takes: its domain has an ASCII (punycode) form, and
/// its local part is ASCII (anything else needs SMTPUTF8 on every hop, and
/// cannot be written in a Message-ID or a `mailto:` header at all).
fn sendable_sender(mailbox: Mailbox) -> Result<Mailbox, String> {
    let (local, domain) = mailbox.email.rsplit_once('@').unwrap_or(("", ""));
    if !local.is_ascii() {
        return Err(format!(
            "its local part {local:?} is not ASCII, which only servers with SMTPUTF8 accept; use an ASCII sender address"
        ));
    }
    if crate::address::ascii_domain(domain).is_none() {
        return Err(format!("its domain {domain:?} is not a valid domain name"));
    }
    Ok(mailbox)
}

/// With `[list]`, the unsubscribe target carries the recipient's token:
/// the one-click page when `serve` is reachable, else the list's mailto.
fn list_target(list: Option<&super::ListSettings>) -> Option<String> {
    let list = list?;
    match (&list.public_url, &list.address) {
        (Some(url), _) => Some(format!("{url}/unsubscribe/{{{{ subscriber.token }}}}")),
        (None, Some(address)) => Some(format!(
            "mailto:{address}?subject=unsubscribe%20{{{{ subscriber.token }}}}"
        )),
        (None, None) => None,
    }
}

/// `[smtp]`, checked without connecting; the CA file is read here, once.
fn smtp(mut raw: RawSmtp, base: &Path, lines: &Lines) -> Result<Smtp, Vec<Problem>> {
    let mut problems = Vec::new();
    let fallback = fallbacks(
        std::mem::take(&mut raw.fallback),
        base,
        lines,
        &mut problems,
    );
    let preset = preset(raw.provider.as_ref(), lines, &mut problems);
    let host = match (&raw.host, preset) {
        (Some(host), _) => host.get_ref().trim(),
        (None, Some(preset)) => preset.host,
        (None, None) => "localhost",
    };
    let tls = raw
        .tls
        .as_ref()
        .map(|t| *t.get_ref())
        .or(preset.map(|p| p.tls))
        .unwrap_or(TlsMode::Starttls);
    if host.is_empty() {
        problems.push(Problem::new(
            lines.of(raw.host.as_ref()),
            "[smtp] host is empty; name the mail server, e.g. host = \"smtp.example.org\"",
        ));
    } else if tls == TlsMode::None && !is_loopback(host) {
        problems.push(Problem::new(
            lines.of(raw.tls.as_ref()),
            format!(
                "[smtp] tls = \"none\" sends the password and every message in clear text, so it is \
                 allowed only for a server on this machine, not {host:?}; use \"starttls\" or \"tls\""
            ),
        ));
    }
    check_password_env(&raw.password_env, lines, &mut problems);
    let connections = raw
        .connections
        .or(preset.map(|p| p.connections))
        .unwrap_or(4);
    let connections = usize::try_from(connections)
        .ok()
        .and_then(NonZeroUsize::new);
    if connections.is_none() {
        problems.push(Problem::new(
            Location::file(lines.path),
            "[smtp] connections must be at least 1",
        ));
    }
    let rate = raw
        .rate_per_second
        .or(preset.map(|p| p.rate_per_second))
        .unwrap_or(0.0);
    let interval = interval(rate, lines, &mut problems);
    let ca = raw
        .ca_file
        .as_ref()
        .and_then(|file| read_ca(&base.join(file.get_ref()), lines, &mut problems));
    match (connections, interval) {
        (Some(connections), Ok(interval)) if problems.is_empty() => Ok(Smtp {
            host: host.to_string(),
            port: raw.port.or(preset.map(|p| p.port)).unwrap_or(587),
            tls,
            username: raw
                .username
                .or(preset.and_then(|p| p.username).map(String::from))
                .filter(|name| !name.is_empty()),
            password_env: raw.password_env,
            connections,
            interval,
            timeout: Duration::from_secs(raw.timeout_s.max(1)),
            retries: raw.retries,
            max_per_day: raw
                .max_per_day
                .or(preset.map(|p| p.max_per_day))
                .unwrap_or(0),
            ca,
            fallback,
            config_file: lines.path.to_path_buf(),
        }),
        _ => Err(problems),
    }
}

/// `[[smtp.fallback]]`, each checked as `[smtp]` is; one level only.
fn fallbacks(
    raw: Vec<RawSmtp>,
    base: &Path,
    lines: &Lines,
    problems: &mut Vec<Problem>,
) -> Vec<Smtp> {
    let mut relays = Vec::new();
    for relay in raw {
        if !relay.fallback.is_empty() {
            problems.push(Problem::new(
                Location::file(lines.path),
                "[[smtp.fallback]] cannot have fallbacks of its own: list every relay as \
                 [[smtp.fallback]], in the order to try them",
            ));
            continue;
        }
        match smtp(relay, base, lines) {
            Ok(relay) => relays.push(relay),
            Err(found) => problems.extend(found),
        }
    }
    relays
}

/// `[smtp] provider`'s preset; an unknown one is a problem at its line.
fn preset(
    name: Option<&Spanned<String>>,
    lines: &Lines,
    problems: &mut Vec<Problem>,
) -> Option<&'static provider::Preset> {
    let name = name?;
    provider::preset(name.get_ref())
        .map_err(|message| problems.push(Problem::new(lines.of(Some(name)), message)))
        .ok()
}

/// The least time between two messages at `rate_per_second`; a rate too
/// small to time is refused too.
fn interval(rate: f64, lines: &Lines, problems: &mut Vec<Problem>) -> Result<Option<Duration>, ()> {
    let interval = if rate == 0.0 {
        Ok(None)
    } else if rate > 0.0 && rate.is_finite() {
        Duration::try_from_secs_f64(1.0 / rate)
            .map(Some)
            .map_err(drop)
    } else {
        Err(())
    };
    if interval.is_err() {
        problems.push(Problem::new(
            Location::file(lines.path),
            "[smtp] rate_per_second must be 0 (no limit) or a positive number",
        ));
    }
    interval
}

/// `password_env` must name a variable; never echoed when it does not, as
/// what is written there is likely the password itself.
fn check_password_env(name: &str, lines: &Lines, problems: &mut Vec<Problem>) {
    let name_like = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if name.is_empty()
        || !name.chars().all(name_like)
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        problems.push(Problem::new(
            Location::file(lines.path),
            "[smtp] password_env must name an environment variable (letters, digits and _, such as \
             DIGEST_FEED_SMTP_PASSWORD), not hold the password; its value is not shown. Remove the \
             password from this file and export it in that variable",
        ));
    }
}

/// Reads `[smtp] ca_file` once, here, so a missing file is a config problem.
fn read_ca(path: &Path, lines: &Lines, problems: &mut Vec<Problem>) -> Option<Certificate> {
    match std::fs::read(path) {
        Ok(pem) => Some(Certificate {
            path: path.to_path_buf(),
            pem,
            location: Location::file(lines.path),
        }),
        Err(err) => {
            problems.push(Problem::new(
                Location::file(lines.path),
                format!("[smtp] ca_file {}: cannot read it: {err}", path.display()),
            ));
            None
        }
    }
}

/// toml's "unknown field `titel`, expected one of `title`, `url`, ..." with
/// the nearest known key suggested, as front matter does; likewise the
/// nearest value for "unknown variant `heading`, expected one of ...".
fn with_a_suggestion(message: &str) -> String {
    let Some((what, rest)) = ["field", "variant"].iter().find_map(|what| {
        message
            .strip_prefix(&format!("unknown {what} `"))
            .map(|rest| (what, rest))
    }) else {
        return message.to_string();
    };
    let Some((unknown, expected)) = rest.split_once("`, expected one of ") else {
        return message.to_string();
    };
    let nearest = expected
        .split(", ")
        .map(|key| key.trim_matches('`'))
        .map(|key| (strsim::levenshtein(unknown, key), key))
        .filter(|(distance, key)| *distance <= 2.max(key.len() / 3))
        .min();
    match (nearest, *what) {
        (Some((_, key)), "field") => format!("unknown field `{unknown}`; did you mean `{key}`?"),
        (Some((_, key)), _) => format!("{message}; did you mean `{key}`?"),
        (None, _) => message.to_string(),
    }
}

/// Checks `site.url` is an absolute http(s) address and returns it without a trailing slash.
fn validate_site_url(text: &str) -> Result<String, String> {
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(text.trim_end_matches('/').to_string())
        }
        _ => Err(format!(
            "[site] url {text:?} is not an absolute http(s) address such as \"https://example.org\""
        )),
    }
}

/// Checks `feed.websub_hub` is an absolute http(s) address: the hub is
/// told of changes by a POST there, and readers are sent there by the feeds.
fn validate_hub_url(text: &str) -> Result<String, String> {
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(text.to_string())
        }
        _ => Err(format!(
            "[feed] websub_hub {text:?} is not an absolute http(s) address such as \"https://pubsubhubbub.appspot.com/\""
        )),
    }
}

pub(super) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_zone_read_from_its_file_is_the_zone_jiffs_database_gives() {
        for name in [
            "Asia/Seoul",
            "America/New_York",
            "America/Argentina/Buenos_Aires",
            "Europe/Paris",
            "Etc/GMT+5",
            "UTC",
            "utc",
            "Etc/UTC",
            "asia/seoul",
        ] {
            let fast = super::named_zone(name).expect(name);
            let slow = jiff::tz::TimeZone::get(name).expect(name);
            assert_eq!(fast, slow, "{name}");
            assert_eq!(fast.iana_name(), slow.iana_name(), "{name}");
            let at: jiff::Timestamp = "2026-03-29T01:30:00Z".parse().unwrap();
            assert_eq!(
                at.to_zoned_datetime(fast).to_string(),
                at.to_zoned_datetime(slow).to_string(),
                "{name}"
            );
        }
        assert!(super::zone_file("Asia/Seoul").is_some() || std::env::var_os("TZDIR").is_some());
        for bad in [
            "Mars/Olympus",
            "fr",
            "",
            "../zoneinfo/Asia/Seoul",
            "posix/Asia/Seoul",
            "Asia",
            "zone.tab",
        ] {
            let fast = super::named_zone(bad)
                .map(|_| ())
                .map_err(|err| err.to_string());
            let slow = jiff::tz::TimeZone::get(bad)
                .map(|_| ())
                .map_err(|err| err.to_string());
            assert_eq!(fast, slow, "{bad}");
        }
    }

    use super::*;

    #[test]
    fn a_private_file_up_a_folder_is_where_jekyll_sees_it() {
        let below = |path: &str| parts_below(Path::new(path), Path::new("/blog"));
        assert_eq!(
            below("/blog/_digest-feed/../subscribers.csv"),
            Some(vec!["subscribers.csv".to_string()])
        );
        assert_eq!(
            below("/blog/../Maildir"),
            None,
            "beside the blog: never published"
        );
        assert_eq!(
            below("/blog/./_site/x"),
            Some(vec!["_site".to_string(), "x".to_string()])
        );
        // A blog whose root is where we run: its folder is "".
        assert_eq!(
            parts_below(Path::new("config.toml"), Path::new("")),
            Some(vec!["config.toml".to_string()])
        );
    }
}
