//! Reads and validates `config.toml` (SPEC §3) into typed settings every command shares.

use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Location, Problem};

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was read from, for messages.
    pub path: PathBuf,
    /// `[site]`.
    pub site: Site,
    /// `[posts]`.
    pub posts: Posts,
    /// `[feed]`.
    pub feed: Feed,
    /// `[email]`, kept as written until the mail commands read it.
    pub email: Email,
    /// `[smtp]`, kept as written until the mail commands read it.
    pub smtp: Smtp,
    /// `[[subscribers]]`.
    pub subscribers: Vec<Subscriber>,
    /// Where each line of the file starts, to turn a key's span into a line.
    line_starts: Vec<usize>,
}

/// `[site]`: what every feed and link is built from.
#[derive(Debug, Clone)]
pub struct Site {
    /// The site's name, the feeds' title.
    pub title: String,
    /// The absolute base of every link, without a trailing slash.
    pub url: String,
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
    /// Jekyll's permalink template for posts without their own.
    pub permalink: String,
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

/// `[feed]`.
#[derive(Debug, Clone)]
pub struct Feed {
    /// The output folder, resolved against the config file's folder.
    pub out: PathBuf,
    /// How many items each feed holds.
    pub limit: usize,
    /// Posts or papers.
    pub items: ItemKind,
    /// Whether to write feeds per tag under `tags/<slug>/`.
    pub per_tag: bool,
}

/// `[email]`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Email {
    /// The From header; only the user can know it.
    pub from: Option<Spanned<String>>,
    /// The Subject, a Tera template.
    pub subject: Spanned<String>,
    /// The folder with `email.html` and `email.txt`.
    pub templates: String,
    /// The List-Unsubscribe target: `mailto:` or an `https://` template.
    pub list_unsubscribe: Spanned<String>,
    /// The delivery state database.
    pub state: String,
    /// A CSV of subscribers with a header row `email,name,tags`.
    pub subscribers_file: Option<Spanned<String>>,
}

impl Default for Email {
    fn default() -> Self {
        Email {
            from: None,
            subject: Spanned::new(0..0, "{{ post.title }}".into()),
            templates: "templates".into(),
            list_unsubscribe: Spanned::new(0..0, String::new()),
            state: ".digest-feed/state.db".into(),
            subscribers_file: None,
        }
    }
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

/// `[smtp]`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Smtp {
    /// The server's host name.
    pub host: Spanned<String>,
    /// The server's port.
    pub port: u16,
    /// TLS mode.
    pub tls: Spanned<TlsMode>,
    /// The AUTH user; empty for no AUTH.
    pub username: String,
    /// The environment variable that holds the password.
    pub password_env: String,
    /// Pooled connections.
    pub connections: u32,
    /// Messages per second; 0 for no limit.
    pub rate_per_second: f64,
    /// Seconds before a network operation gives up.
    pub timeout_s: u64,
    /// Retries of a transient failure.
    pub retries: u32,
    /// A CA certificate (PEM) to trust besides the system's.
    pub ca_file: Option<String>,
}

impl Default for Smtp {
    fn default() -> Self {
        Smtp {
            host: Spanned::new(0..0, "localhost".into()),
            port: 587,
            tls: Spanned::new(0..0, TlsMode::Starttls),
            username: String::new(),
            password_env: "DIGEST_FEED_SMTP_PASSWORD".into(),
            connections: 4,
            rate_per_second: 0.0,
            timeout_s: 30,
            retries: 3,
            ca_file: None,
        }
    }
}

/// One `[[subscribers]]` entry, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscriber {
    /// The address.
    pub email: Spanned<String>,
    /// The name for the To header.
    #[serde(default)]
    pub name: String,
    /// Only posts with one of these tags; empty for every post.
    #[serde(default)]
    pub tags: Vec<String>,
}

// The file as written: spans kept where validation needs a line to point at.
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
    email: Email,
    #[serde(default)]
    smtp: Smtp,
    #[serde(default)]
    subscribers: Vec<Subscriber>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawSite {
    title: Option<String>,
    url: Option<Spanned<String>>,
    description: String,
    language: Option<String>,
    timezone: Option<Spanned<String>>,
    author: String,
    permalink: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPosts {
    dir: String,
    dates: DateRule,
}

impl Default for RawPosts {
    fn default() -> Self {
        RawPosts {
            dir: "_posts".into(),
            dates: DateRule::Jekyll,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawFeed {
    out: String,
    limit: Spanned<i64>,
    items: ItemKind,
    per_tag: bool,
}

impl Default for RawFeed {
    fn default() -> Self {
        RawFeed {
            out: "public".into(),
            limit: Spanned::new(0..0, 20),
            items: ItemKind::Posts,
            per_tag: false,
        }
    }
}

/// Jekyll's default post permalink (its `date` style).
pub const DEFAULT_PERMALINK: &str = "/:categories/:year/:month/:day/:title:output_ext";

impl Config {
    /// Reads and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(Problem::new(
                    Location::file(path),
                    "config file not found; pass --config FILE, or run `digest-feed init` to start a site",
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
        Config::parse(&text, path).map_err(Error::Invalid)
    }

    /// Parses and validates config text; `path` names the file in messages and
    /// anchors relative paths. Returns every problem found, not just the first.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Vec<Problem>> {
        let at = |span: std::ops::Range<usize>| Location::line(path, line_of(text, span.start));
        let raw: RawConfig = toml::from_str(text).map_err(|err| {
            let location = match err.span() {
                Some(span) => at(span),
                None => Location::file(path),
            };
            vec![Problem::new(location, err.message().trim_end().to_string())]
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut problems = Vec::new();

        let url = match &raw.site.url {
            None => {
                problems.push(Problem::new(
                    Location::file(path),
                    "[site] url is missing: set it to the blog's absolute address, e.g. url = \"https://example.org\"",
                ));
                String::new()
            }
            Some(url) => match validate_site_url(url.get_ref()) {
                Ok(url) => url,
                Err(message) => {
                    problems.push(Problem::new(at(url.span()), message));
                    String::new()
                }
            },
        };

        let (timezone, timezone_name) = match &raw.site.timezone {
            None => {
                let zone = TimeZone::system();
                let name = zone.iana_name().unwrap_or("UTC").to_string();
                (zone, name)
            }
            Some(name) => match TimeZone::get(name.get_ref()) {
                Ok(zone) => (zone, name.get_ref().clone()),
                Err(_) => {
                    problems.push(Problem::new(
                        at(name.span()),
                        format!(
                            "[site] timezone {:?} is not a time zone this machine knows; use an IANA name such as \"Asia/Seoul\" or \"UTC\"",
                            name.get_ref()
                        ),
                    ));
                    (TimeZone::UTC, "UTC".into())
                }
            },
        };

        let permalink = match &raw.site.permalink {
            None => DEFAULT_PERMALINK.to_string(),
            Some(permalink) => match crate::post::permalink::expand_style(permalink.get_ref()) {
                Ok(template) => template,
                Err(message) => {
                    problems.push(Problem::new(
                        at(permalink.span()),
                        format!("[site] permalink: {message}"),
                    ));
                    DEFAULT_PERMALINK.to_string()
                }
            },
        };

        let limit = match usize::try_from(*raw.feed.limit.get_ref()) {
            Ok(limit) if limit > 0 => limit,
            _ => {
                problems.push(Problem::new(
                    at(raw.feed.limit.span()),
                    format!(
                        "[feed] limit must be a whole number of at least 1, not {}",
                        raw.feed.limit.get_ref()
                    ),
                ));
                20
            }
        };

        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Config {
            path: path.to_path_buf(),
            site: Site {
                title: raw.site.title.unwrap_or_else(|| "Daily digest".into()),
                url,
                description: raw.site.description,
                language: raw.site.language.unwrap_or_else(|| "en".into()),
                timezone,
                timezone_name,
                author: raw.site.author,
                permalink,
            },
            posts: Posts {
                dir: base.join(&raw.posts.dir),
                dates: raw.posts.dates,
            },
            feed: Feed {
                out: base.join(&raw.feed.out),
                limit,
                items: raw.feed.items,
                per_tag: raw.feed.per_tag,
            },
            email: raw.email,
            smtp: raw.smtp,
            subscribers: raw.subscribers,
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(at, _)| at + 1))
                .collect(),
        })
    }
}

impl Config {
    /// The folder relative paths in the config are read from.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// Where a key whose value spans `span` is written: the file and its line,
    /// or just the file for a key that took its default.
    pub fn location(&self, span: std::ops::Range<usize>) -> Location {
        if span == (0..0) {
            return Location::file(&self.path);
        }
        let line = self
            .line_starts
            .partition_point(|&start| start <= span.start);
        Location::line(&self.path, line.max(1))
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

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Vec<String>> {
        Config::parse(text, Path::new("site/config.toml"))
            .map_err(|problems| problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn defaults_fill_everything_but_the_url() {
        let config =
            parse("[site]\nurl = \"https://example.org/\"\ntimezone = \"Asia/Seoul\"\n").unwrap();
        assert_eq!(config.site.url, "https://example.org");
        assert_eq!(config.posts.dir, Path::new("site/_posts"));
        assert_eq!(config.feed.out, Path::new("site/public"));
        assert_eq!(config.feed.limit, 20);
        assert_eq!(config.feed.items, ItemKind::Posts);
        assert_eq!(config.site.permalink, DEFAULT_PERMALINK);
        assert_eq!(config.smtp.port, 587);
        assert_eq!(config.email.subject.get_ref(), "{{ post.title }}");
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = parse("[site]\nurl = \"https://example.org\"\ntitel = \"x\"\n").unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(
            err[0].starts_with("site/config.toml:3: unknown field `titel`"),
            "{}",
            err[0]
        );
    }

    #[test]
    fn every_problem_is_listed() {
        let err = parse(
            "[site]\nurl = \"example.org\"\ntimezone = \"Mars/Olympus\"\n[feed]\nlimit = 0\n",
        )
        .unwrap_err();
        assert_eq!(err.len(), 3, "{err:?}");
        assert!(
            err[0].starts_with("site/config.toml:2: [site] url \"example.org\" is not an absolute"),
            "{}",
            err[0]
        );
        assert!(
            err[1].starts_with("site/config.toml:3: [site] timezone \"Mars/Olympus\""),
            "{}",
            err[1]
        );
        assert!(
            err[2].starts_with("site/config.toml:5: [feed] limit must be"),
            "{}",
            err[2]
        );
    }

    #[test]
    fn missing_url_is_explained() {
        let err = parse("").unwrap_err();
        assert_eq!(
            err[0],
            "site/config.toml: [site] url is missing: set it to the blog's absolute address, e.g. url = \"https://example.org\""
        );
    }

    #[test]
    fn bad_enum_value_names_the_line() {
        let err =
            parse("[site]\nurl = \"https://e.org\"\n[feed]\nitems = \"paper\"\n").unwrap_err();
        assert!(
            err[0].starts_with("site/config.toml:4: unknown variant `paper`"),
            "{}",
            err[0]
        );
    }

    #[test]
    fn permalink_styles_expand() {
        let config = parse("[site]\nurl = \"https://e.org\"\npermalink = \"pretty\"\n").unwrap();
        assert_eq!(
            config.site.permalink,
            "/:categories/:year/:month/:day/:title/"
        );
    }
}
