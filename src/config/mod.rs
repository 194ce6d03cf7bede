//! `config.toml` (SPEC §3), validated into plain typed settings every stage
//! stands on: durations, non-zero counts, a loaded CA, a parsed sender, the
//! expanded permalink template. Nothing else in the program checks a key.
//!
//! toml lives in [`file`] and nowhere else; no toml type leaves this module.
//! `[email]` and `[smtp]` are checked when the file is read, but their
//! problems are handed out only to the commands that mail: a feeds-only site
//! never hears of them.

mod data;
mod defaults;
mod dkim;
mod file;
mod jekyll;
mod list;
mod pages;
mod provider;

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::address::Mailbox;
use crate::error::{Error, Location, Problem};
pub use data::Data;
pub(crate) use data::deep_merge;
pub use defaults::{DefaultValues, FrontMatterDefaults};
pub use dkim::{Algorithm as DkimAlgorithm, Dkim, Key as DkimKey};

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// What is odd in the config but does not stop a command (a key
    /// `_config.yml` writes twice, an address filled in as GitHub Pages
    /// fills it): each command prints them.
    pub warnings: Vec<Problem>,
    /// The file this was read from, for messages.
    pub path: PathBuf,
    /// `[site]`.
    pub site: Site,
    /// `[posts]`.
    pub posts: Posts,
    /// `[feed]`.
    pub feed: Feed,
    /// `[[subscribers]]` and `[email] subscribers_file`, for the subscriber list to read.
    pub subscribers: SubscriberSources,
    /// `[email]`, or what is wrong with it.
    email: Result<Email, Vec<Problem>>,
    /// `[smtp]`, or what is wrong with it.
    smtp: Result<Smtp, Vec<Problem>>,
    /// `[list]`, when the config has the section.
    pub list: Option<ListSettings>,
    /// `[inbox]`, when the config has the section.
    pub inbox: Option<Inbox>,
    /// `[serve]`.
    pub serve: Serve,
    /// Whether `[email] from` is written: the site means to mail.
    names_a_sender: bool,
    /// The Jekyll blog the config sits in, if it does.
    blog: Option<file::Blog>,
}

/// `[site]`: what every feed and link is built from.
#[derive(Debug, Clone)]
pub struct Site {
    /// The site's name, the feeds' title.
    pub title: String,
    /// The absolute base of every link, without a trailing slash: `url`
    /// and `baseurl` joined, as Jekyll's `absolute_url` joins them.
    pub url: String,
    /// `url` alone (Jekyll's `site.url`), without `baseurl`.
    pub root_url: String,
    /// `baseurl`: empty, or `/name` without a trailing slash (GitHub project pages).
    pub baseurl: String,
    /// The feeds' description.
    pub description: String,
    /// A BCP 47 language tag, e.g. `ko`.
    pub language: String,
    /// The zone that dates without an offset, and URLs, are read in.
    pub timezone: TimeZone,
    /// The zone's IANA name as written (or the system's).
    pub timezone_name: String,
    /// The feeds' author, `Name <email>` or a name.
    pub author: String,
    /// The blog's `_data/authors.yml`: a key a post names as its author,
    /// and that author as `Name <email>` or a name.
    pub authors: Vec<(String, String)>,
    /// Jekyll's permalink template for posts without their own, styles expanded.
    pub permalink: String,
    /// The permalink templates `_config.yml` gives collections other than
    /// posts (`docs: /:collection/:path/`), by collection name.
    pub collections: std::collections::BTreeMap<String, String>,
}

/// How a time without an offset is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateRule {
    /// Jekyll's: a full YAML timestamp without an offset is UTC.
    Jekyll,
    /// Hugo's: every time without an offset is in `site.timezone`.
    Local,
}

/// `[posts]`.
#[derive(Debug, Clone)]
pub struct Posts {
    /// The posts folder, resolved against the config file's folder.
    pub dir: PathBuf,
    /// How times without an offset are read.
    pub dates: DateRule,
    /// Jekyll's `future`: posts dated later than now are published too.
    pub future: bool,
    /// Jekyll's `excerpt_separator`, when the blog sets one.
    pub excerpt_separator: Option<String>,
    /// Jekyll's front matter defaults for posts (`defaults:` in `_config.yml`).
    pub defaults: FrontMatterDefaults,
    /// Whether `build` and `mail` leave out an invalid post (with a warning)
    /// instead of stopping (`skip_invalid`, or `--skip-invalid`).
    pub skip_invalid: bool,
}

/// What one feed item stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// One item per post.
    Posts,
    /// One item per paper (`# N. [Title](URL)` section).
    Papers,
}

/// Which of the shapes a digest writes its papers in is looked for
/// (`feed.papers`): each post's first shape found, or one shape only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PaperShape {
    /// Each post's first shape, in the order below.
    #[default]
    Auto,
    /// Numbered headings: `## 1. Title`, `# 2) [Title](URL)`.
    Headings,
    /// Paragraphs that open with a bold number: `**1. Title**`.
    Bold,
    /// The items of ordered lists whose every item holds a link.
    List,
    /// Headings whose text is one link: `### 🎮 [Title](URL)`.
    Links,
}

/// `[feed]`.
#[derive(Debug, Clone)]
pub struct Feed {
    /// The output folder, resolved against the config file's folder.
    pub out: PathBuf,
    /// Where `out` is served below the site's home (`""`, or `feeds/`), for
    /// the feeds' self links.
    pub url_path: String,
    /// How many items each feed holds.
    pub limit: usize,
    /// Posts or papers.
    pub items: ItemKind,
    /// The shape papers are looked for in.
    pub papers: PaperShape,
    /// Whether to write feeds per tag under `tags/<slug>/`.
    pub per_tag: bool,
    /// The feeds' file names in `out` (and in each tag's folder).
    pub files: FeedFiles,
    /// The blog's `_config.yml` when it still loads jekyll-feed, whose feed
    /// these replace: `check` and `links` say what to remove.
    pub jekyll_feed_plugin: Option<PathBuf>,
    /// Whether `atom.xml` and `feed.json` page back through every post in
    /// archive documents under `archive/` (RFC 5005, JSON Feed `next_url`).
    pub archive: bool,
    /// The WebSub hub the feeds name and `ping` tells of changes.
    pub websub_hub: Option<String>,
}

/// The file name of each feed format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedFiles {
    /// RSS 2.0: `feed.xml`, or `rss.xml` when Atom is there.
    pub rss: String,
    /// Atom 1.0: `atom.xml`, or jekyll-feed's `feed.xml` in a blog that used it.
    pub atom: String,
    /// JSON Feed 1.1: `feed.json`.
    pub json: String,
}

impl Default for FeedFiles {
    /// digest-feed's own names: `feed.xml` (RSS), `atom.xml`, `feed.json`.
    fn default() -> Self {
        FeedFiles::choose(None, None, None)
    }
}

impl FeedFiles {
    /// The names to use: those `[feed] rss` and `atom` set; else, for a blog
    /// whose `_config.yml` loads jekyll-feed, Atom where jekyll-feed wrote it
    /// (`jekyll_feed`), so its readers keep their subscription, and RSS at
    /// `feed.xml` or, when Atom is there, `rss.xml`; else `feed.xml` (RSS)
    /// and `atom.xml`.
    pub(crate) fn choose(rss: Option<&str>, atom: Option<&str>, jekyll_feed: Option<&str>) -> Self {
        let atom = atom.or(jekyll_feed).unwrap_or("atom.xml").to_string();
        let rss = rss.map_or_else(
            || {
                if atom == "feed.xml" {
                    "rss.xml"
                } else {
                    "feed.xml"
                }
                .to_string()
            },
            str::to_string,
        );
        FeedFiles {
            rss,
            atom,
            json: "feed.json".to_string(),
        }
    }

    /// The three, RSS, Atom, JSON.
    pub fn all(&self) -> [&str; 3] {
        [&self.rss, &self.atom, &self.json]
    }
}

/// `[email] weekly_subject` when the config sets none: the site and the
/// day the roll-up's first post was published.
pub const DEFAULT_WEEKLY_SUBJECT: &str = "{{ site.title }}: the week of {{ week.start }}";

/// `[email]`, checked.
#[derive(Debug, Clone)]
pub struct Email {
    /// The From header.
    pub from: Mailbox,
    /// The Subject, a Tera template.
    pub subject: Template,
    /// The weekly roll-up's Subject (`mail --weekly`), a Tera template.
    pub weekly_subject: Template,
    /// The folder with `email.html` and `email.txt`.
    pub templates: PathBuf,
    /// The List-Unsubscribe target: `mailto:` or an `https://` template;
    /// the sender's own address when the config names none.
    pub list_unsubscribe: Template,
    /// The delivery state database.
    pub state: PathBuf,
    /// `[email.dkim]`: sign every message; `None` leaves it to the relay.
    pub dkim: Option<Dkim>,
}

/// `[list]`, checked: the subscriber lifecycle (tokens, one-click, bounces).
#[derive(Debug, Clone)]
pub struct ListSettings {
    /// Where `serve` is reachable from outside, without a trailing slash;
    /// `None`: no one-click URL, the mailto alone.
    pub public_url: Option<String>,
    /// The envelope sender, `bounces@example.org`; each message's is
    /// `bounces+TOKEN@example.org` (VERP), so a bounce names its recipient.
    pub return_path: Option<String>,
    /// Where unsubscribe and sign-up mails go (`mailto:`).
    pub address: Option<String>,
    /// The key that signs every token (made on first use, mode 0600).
    pub secret_file: PathBuf,
    /// Soft bounces within `soft_bounce_days` that suppress an address.
    pub soft_bounces: u32,
    /// The window soft bounces are counted in, in days.
    pub soft_bounce_days: u32,
}

/// `[inbox]`, checked.
#[derive(Debug, Clone)]
pub struct Inbox {
    /// Where the list's mail is read from.
    pub source: InboxSource,
}

/// The list's mailbox.
#[derive(Debug, Clone)]
pub enum InboxSource {
    /// A local Maildir (`new/`, `cur/`, `tmp/`).
    Maildir(PathBuf),
    /// An IMAP server, over TLS.
    Imap {
        /// Its host name.
        host: String,
        /// Its port (993).
        port: u16,
        /// The login.
        username: String,
        /// The environment variable holding the password.
        password_env: String,
        /// A CA certificate (PEM) to trust besides the system's.
        ca_file: Option<PathBuf>,
    },
}

/// `[serve]`.
#[derive(Debug, Clone)]
pub struct Serve {
    /// The address and port `serve` listens on.
    pub listen: SocketAddr,
}

/// A template written in the config: its text, and the name messages give it.
#[derive(Debug, Clone)]
pub struct Template {
    /// `config.toml [email] subject`, for a template error.
    pub origin: String,
    /// The template text.
    pub text: String,
}

/// How to talk TLS to the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain, then STARTTLS (port 587).
    Starttls,
    /// No TLS: loopback hosts only.
    None,
}

/// `[smtp]`, checked.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// The server's host name.
    pub host: String,
    /// The server's port.
    pub port: u16,
    /// TLS mode; `None` only for a loopback host.
    pub tls: TlsMode,
    /// The AUTH user; `None` for no AUTH.
    pub username: Option<String>,
    /// The environment variable that holds the password.
    pub password_env: String,
    /// Connections, one sending thread each.
    pub connections: NonZeroUsize,
    /// The least time between two messages (`rate_per_second`); `None` for no limit.
    pub interval: Option<Duration>,
    /// How long a network operation may take before it gives up.
    pub timeout: Duration,
    /// Retries of a transient failure.
    pub retries: u32,
    /// Messages in a rolling 24 hours (`max_per_day`, or the provider's); 0: no cap.
    pub max_per_day: u64,
    /// A CA certificate (PEM) to trust besides the system's.
    pub ca: Option<Certificate>,
    /// `[[smtp.fallback]]`: relays tried in order for what this one could
    /// not take (unreachable, login refused, quota spent).
    pub fallback: Vec<Smtp>,
    /// Where a missing password is reported.
    config_file: PathBuf,
}

/// A CA certificate read from `[smtp] ca_file`.
#[derive(Debug, Clone)]
pub struct Certificate {
    /// The file, resolved against the config's folder.
    pub path: PathBuf,
    /// Its PEM text.
    pub pem: Vec<u8>,
    /// Where `ca_file` is written.
    pub location: Location,
}

impl Smtp {
    /// `host:port`, for messages.
    pub fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The config file, for a problem found when the settings are used.
    pub fn location(&self) -> Location {
        Location::file(&self.config_file)
    }

    /// The password from the environment variable `password_env` names;
    /// `None` when no username is set. A missing variable is a problem.
    pub fn password(&self) -> Result<Option<String>, Problem> {
        let Some(_) = &self.username else {
            return Ok(None);
        };
        std::env::var(&self.password_env).map(Some).map_err(|_| {
            Problem::new(
                self.location(),
                format!(
                    "[smtp] username is set but the environment variable {} that password_env names is not; \
                     export it with the SMTP password",
                    self.password_env
                ),
            )
        })
    }
}

/// Where the subscriber list comes from.
#[derive(Debug, Clone, Default)]
pub struct SubscriberSources {
    /// `[[subscribers]]`, in order.
    pub entries: Vec<SubscriberEntry>,
    /// `[email] subscribers_file`, resolved, with where the key is written.
    pub file: Option<(PathBuf, Location)>,
}

impl SubscriberSources {
    /// Whether the config lists anyone at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.file.is_none()
    }
}

/// One `[[subscribers]]` entry, as written.
#[derive(Debug, Clone)]
pub struct SubscriberEntry {
    /// The address, as written.
    pub email: String,
    /// The name for the To header.
    pub name: String,
    /// Only posts with one of these tags; empty for every post.
    pub tags: Vec<String>,
    /// Each post as it comes, or one roll-up a week.
    pub cadence: Cadence,
    /// Where the entry's `email` is written.
    pub location: Location,
}

/// How often a subscriber is mailed: each post as `mail` sends it, or the
/// week's posts in one roll-up sent by `mail --weekly`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cadence {
    /// Every post, by `mail` (the default).
    #[default]
    Daily,
    /// One roll-up a week, by `mail --weekly`.
    Weekly,
}

impl Cadence {
    /// Reads `daily` or `weekly` (any case; empty is daily), as a CSV cell
    /// or a form field spells it; the error says what is accepted.
    pub fn parse(text: &str) -> Result<Cadence, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "daily" => Ok(Cadence::Daily),
            "weekly" => Ok(Cadence::Weekly),
            _ => Err(format!("cadence {text:?} is neither `daily` nor `weekly`")),
        }
    }

    /// Its name as the config, the CSV and `status` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
        }
    }
}

impl Config {
    /// The config a command reads when `--config` names none: `config.toml`
    /// here, else `_digest-feed/config.toml` (where `init` puts it in a
    /// Jekyll blog, so that `jekyll build` never publishes it).
    pub fn default_path() -> PathBuf {
        let here = PathBuf::from("config.toml");
        let in_blog = Path::new(JEKYLL_FOLDER).join("config.toml");
        if !here.exists() && in_blog.exists() {
            in_blog
        } else {
            here
        }
    }

    /// Reads and validates the config file at `path`, and the Jekyll blog's
    /// `_config.yml` around it; in a Jekyll blog the config file may be absent.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let blog = find_blog(path)?;
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && blog.is_some() => {
                String::new()
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(Problem::new(
                    Location::file(path),
                    "config file not found, and no Jekyll _config.yml here; pass --config FILE, or run `digest-feed init` to start a site",
                )
                .into());
            }
            Err(err) if err.kind() == std::io::ErrorKind::InvalidData => {
                return Err(
                    Problem::new(Location::file(path), "config file is not valid UTF-8").into(),
                );
            }
            Err(err) => return Err(Error::io("cannot read config file", path, err)),
        };
        file::parse(&text, path, blog.as_ref()).map_err(Error::Invalid)
    }

    /// Parses and validates config text; `path` names the file in messages and
    /// anchors relative paths. Returns every problem found, not just the first.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Vec<Problem>> {
        file::parse(text, path, None)
    }

    /// [`Config::parse`] for a config in a Jekyll blog whose `_config.yml`
    /// at `jekyll_path` holds `jekyll_text`.
    pub fn parse_in_blog(
        text: &str,
        path: &Path,
        jekyll_text: &str,
        jekyll_path: &Path,
    ) -> Result<Config, Vec<Problem>> {
        let blog = read_blog(jekyll_text, jekyll_path)?;
        file::parse(text, path, Some(&blog))
    }

    /// The folder relative paths in the config are read from.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// `[email]`, for a command that mails: every problem in it, and a
    /// missing `from`, are errors here.
    pub fn email(&self) -> Result<&Email, Vec<Problem>> {
        self.email.as_ref().map_err(Clone::clone)
    }

    /// `[smtp]`, for a command that connects.
    pub fn smtp(&self) -> Result<&Smtp, Vec<Problem>> {
        self.smtp.as_ref().map_err(Clone::clone)
    }

    /// The files of digest-feed's that only the owner may see (this config,
    /// the subscribers, the templates, the delivery state, the CA, the list's
    /// secret key and Maildir) which
    /// `jekyll build` would copy into the public site, by the blog's
    /// `_config.yml` (its `exclude` and `include`, and Jekyll skipping names
    /// that start with `_` or `.`).
    pub fn published_private_files(&self) -> Vec<PathBuf> {
        let Some(blog) = &self.blog else {
            return Vec::new();
        };
        let mut private = vec![self.path.clone()];
        private.extend(self.subscribers.file.as_ref().map(|(path, _)| path.clone()));
        if let Ok(email) = &self.email {
            private.push(email.templates.clone());
            private.push(email.state.clone());
        }
        if let Ok(Smtp { ca: Some(ca), .. }) = &self.smtp {
            private.push(ca.path.clone());
        }
        if let Some(list) = &self.list {
            private.push(list.secret_file.clone());
        }
        if let Some(Inbox {
            source: InboxSource::Maildir(dir),
        }) = &self.inbox
        {
            private.push(dir.clone());
        }
        private
            .into_iter()
            .filter(|path| path.exists() && blog.publishes(path))
            .collect()
    }

    /// The Jekyll blog's folder, when the config sits in one.
    pub fn blog_root(&self) -> Option<&Path> {
        self.blog.as_ref().map(|blog| blog.root.as_path())
    }

    /// Whether the config sits in a Jekyll blog (a `_config.yml` beside it).
    pub fn is_jekyll_blog(&self) -> bool {
        self.blog.is_some()
    }

    /// Whether the site mails at all: it names a sender or subscribers.
    /// A feeds-only site sets none of `[email]`.
    pub fn mails(&self) -> bool {
        self.names_a_sender || !self.subscribers.is_empty()
    }
}

/// The folder `init` keeps digest-feed's files in, inside a Jekyll blog:
/// Jekyll skips names that start with `_`, so nothing in it is published.
pub const JEKYLL_FOLDER: &str = "_digest-feed";

/// The Jekyll blog a config at `path` belongs to: `_config.yml` beside it,
/// or one folder up for a config in an `_`-folder (`_digest-feed/config.toml`).
fn find_blog(path: &Path) -> Result<Option<file::Blog>, Error> {
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut candidates = vec![folder.join("_config.yml")];
    let in_underscore = folder
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with('_'));
    if in_underscore && let Some(parent) = folder.parent() {
        candidates.push(parent.join("_config.yml"));
    }
    for candidate in candidates {
        match std::fs::read_to_string(&candidate) {
            Ok(text) => return Ok(Some(read_blog(&text, &candidate).map_err(Error::Invalid)?)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(Error::io("cannot read", &candidate, err)),
        }
    }
    Ok(None)
}

fn read_blog(text: &str, path: &Path) -> Result<file::Blog, Vec<Problem>> {
    let mut config = jekyll::parse(text).map_err(|(line, message)| {
        let location = match line {
            Some(line) => Location::line(path, line),
            None => Location::file(path),
        };
        vec![Problem::new(
            location,
            format!("Jekyll's config: {message}"),
        )]
    })?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let authors = read_authors(&root)?;
    // Checked, the defaults as written are not needed again.
    let written = std::mem::take(&mut config.defaults);
    let defaults = defaults::read(&written.0, &root, path)?;
    Ok(file::Blog {
        root,
        file: path.to_path_buf(),
        config,
        defaults,
        authors,
    })
}

/// The blog's `_data/authors.yml` (jekyll-feed looks a post's author up
/// there), when it has one.
fn read_authors(root: &Path) -> Result<Vec<(String, String)>, Vec<Problem>> {
    let path = root.join("_data").join("authors.yml");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => {
            return Err(vec![Problem::new(
                Location::file(&path),
                format!("cannot read it: {err}"),
            )]);
        }
    };
    jekyll::parse_authors(&text).map_err(|(line, message)| {
        let location =
            line.map_or_else(|| Location::file(&path), |line| Location::line(&path, line));
        vec![Problem::new(
            location,
            format!("Jekyll's authors data: {message} (each key: a name, or `name:` and `email:`)"),
        )]
    })
}

#[cfg(test)]
mod tests;
