//! `digest-feed init`: starts a site with a commented config, the default
//! templates to customise and an example post; never overwrites a file.
//! It also makes sure `.gitignore` names every private file it sets up.

use std::path::{Path, PathBuf};

use super::cli::InitArgs;
use super::report::Report;
use crate::config::FeedFiles;
use crate::email;
use crate::error::Error;
use crate::output::{self, Written};

/// The list's sections, commented, in both configs `init` writes.
/// The `[smtp]` lines both configs share: TLS and the login.
macro_rules! smtp_login {
    () => {
        r#"tls = "starttls"                       # "tls", "starttls" or "none" (none: loopback hosts only)
username = ""                          # empty: no login
password_env = "DIGEST_FEED_SMTP_PASSWORD"   # the variable holding the password, never the password
"#
    };
}

/// The example subscriber both configs end with.
macro_rules! example_subscriber {
    () => {
        r#"
[[subscribers]]
email = "reader@example.org"
name = "Reader"
tags = []                              # empty: every post
"#
    };
}

macro_rules! list_sections {
    () => {
        r#"
# The list (optional): one-click unsubscribe, sign-ups with double opt-in,
# bounces and complaints. `digest-feed serve` runs the endpoint behind your
# HTTPS proxy; `digest-feed inbox` reads the list's mailbox before `mail`.
# [list]
# public_url = "https://example.org/list"   # where serve is reached
# address = "list@example.org"         # unsubscribe and sign-up mails go here
# return_path = "bounces@example.org"  # the envelope sender; bounces come back tagged
# secret_file = ".digest-feed/secret"  # signs every link's token; made on first use, mode 0600
# [inbox]
# imap_host = "imap.example.org"       # port 993, TLS; or maildir = "/path/to/Maildir"
# username = "list@example.org"
# password_env = "DIGEST_FEED_IMAP_PASSWORD"
# [serve]
# listen = "127.0.0.1:8025"
"#
    };
}

/// The starting config: every key, its default, and what it does.
const CONFIG: &str = concat!(
    r#"# digest-feed configuration. Every key shown has the default written here,
# except site.url, email.from and the subscribers, which only you can know.
# Relative paths are read from this file's folder. `digest-feed check`
# validates it all.

[site]
title = "My Digest"
url = "https://example.org"            # the blog's absolute address: edit this
description = ""
language = "en"
# timezone = "Asia/Seoul"              # IANA name; default: this machine's zone, as Jekyll
author = ""                            # "Name <email>"
# permalink = "/:year/:month/:day/:title/"   # Jekyll's; default "date" style

[posts]
dir = "_posts"
dates = "jekyll"                       # or "local": times without offset in site.timezone (Hugo)

[feed]
out = "public"                         # feed.xml, atom.xml, feed.json; serve it at site.url
limit = 20
items = "posts"                        # or "papers": one item per `# N. [Title](URL)` section
per_tag = false                        # true: the same feeds per tag under tags/<slug>/
archive = false                        # true: atom.xml and feed.json page back through every post (archive/)
# websub_hub = "https://pubsubhubbub.appspot.com/"   # the feeds name it; `digest-feed ping` tells it

[email]
from = "My Digest <digest@example.org>"   # edit this before `digest-feed mail`
subject = "{{ post.title }}"           # a Tera template
templates = "templates"                # email.html and email.txt; built-in defaults if absent
# list_unsubscribe = "https://example.org/unsubscribe?address={{ subscriber.email | urlencode }}"
                                       # default: mailto:<from>?subject=unsubscribe
state = ".digest-feed/state.db"        # the delivery state (SQLite)
# subscribers_file = "subscribers.csv" # larger lists: CSV with a header row email,name,tags

# DKIM-sign every message (Gmail and Yahoo require it of bulk senders); then
# `digest-feed dns` prints the DNS records to publish.
# [email.dkim]
# domain = "example.org"               # the From domain
# selector = "digest"
# private_key_file = "dkim.pem"        # openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out dkim.pem
# algorithm = "rsa-sha256"             # or "ed25519-sha256"

[smtp]
host = "localhost"
port = 587
"#,
    smtp_login!(),
    r#"connections = 4
rate_per_second = 0                    # 0: no limit
timeout_s = 30
retries = 3
# ca_file = "relay-ca.pem"             # trust a private relay's CA as well as the system's
"#,
    list_sections!(),
    example_subscriber!()
);

/// The config `init` writes inside a Jekyll blog: the site's settings come
/// from `_config.yml`, so only what Jekyll does not know is here.
const JEKYLL_CONFIG: &str = concat!(
    r#"# digest-feed configuration, inside a Jekyll blog. The site (url, baseurl,
# title, description, author, lang, timezone, permalink) is read from the
# blog's _config.yml; set a key here only to override it. This folder starts
# with `_`, so `jekyll build` never publishes it: keep the subscribers, the
# templates and the delivery state in it. Relative paths are read from here.
# `digest-feed check` validates it all.

[feed]
# out = ".."                           # default: the blog's folder, so Jekyll serves the feeds at
                                       # /feed.xml, /atom.xml and /feed.json (GitHub Pages too)
limit = 20                             # default: _config.yml's feed.posts_limit (jekyll-feed), else 20
items = "posts"                        # or "papers": one item per numbered section
per_tag = false                        # true: the same feeds per tag under tags/<slug>/
archive = false                        # true: atom.xml and feed.json page back through every post (archive/)
# websub_hub = "https://pubsubhubbub.appspot.com/"   # the feeds name it; `digest-feed ping` tells it

[email]
from = "My Digest <digest@example.org>"   # edit this before `digest-feed mail`
subject = "{{ post.title }}"           # a Tera template
templates = "templates"                # email.html and email.txt; built-in defaults if absent
state = "state.db"                     # the delivery state (SQLite): keep it between runs
# subscribers_file = "subscribers.csv" # larger lists: CSV with a header row email,name,tags

[smtp]
host = "localhost"
port = 587
"#,
    smtp_login!(),
    r#""#,
    list_sections!(),
    example_subscriber!()
);

/// The include a Jekyll layout puts in its `<head>` (`{% include
/// digest-feed-links.html %}`): the feeds where `build` writes them by
/// default, under the names `files` gives (Atom at `feed.xml` in a blog
/// that used jekyll-feed). `digest-feed links` prints the same tags for any
/// other setup.
fn links_include(files: &FeedFiles) -> String {
    use std::fmt::Write;
    let mut include = String::new();
    for (mime, file) in [
        ("application/rss+xml", &files.rss),
        ("application/atom+xml", &files.atom),
        ("application/feed+json", &files.json),
    ] {
        let _ = writeln!(
            include,
            "<link rel=\"alternate\" type=\"{mime}\" title=\"{{{{ site.title | escape }}}}\" href=\"{{{{ '/{file}' | absolute_url }}}}\">"
        );
    }
    include
}

/// Runs `init` in `args.dir`, writing the config at `config` (relative to
/// the folder) or where digest-feed looks for it by default.
pub(super) fn run(args: &InitArgs, config: Option<&Path>, report: Report) -> Result<(), Error> {
    // In a Jekyll blog every file of ours goes in an `_` folder Jekyll never publishes.
    let in_blog = args.dir.join("_config.yml").is_file();
    let home = if in_blog {
        PathBuf::from(crate::config::JEKYLL_FOLDER)
    } else {
        PathBuf::new()
    };
    let config_file = config.map_or_else(|| home.join("config.toml"), Path::to_path_buf);
    let mut files = vec![
        (
            config_file.clone(),
            if in_blog { JEKYLL_CONFIG } else { CONFIG }.to_string(),
        ),
        (
            home.join("templates/email.html"),
            email::DEFAULT_HTML.to_string(),
        ),
        (
            home.join("templates/email.txt"),
            email::DEFAULT_TEXT.to_string(),
        ),
    ];
    // An example post starts a new site only: never one into a blog's posts,
    // and never again once the site has a posts folder (a second `init`
    // refreshes the templates; it must not put the example back).
    if !in_blog && !args.dir.join("_posts").exists() {
        let today = jiff::ZonedDateTime::now().strftime("%Y-%m-%d").to_string();
        files.push((
            PathBuf::from(format!("_posts/{today}-welcome.md")),
            example_post(&today),
        ));
    }
    for (relative, text) in &files {
        create(&args.dir.join(relative), text, report)?;
    }
    if in_blog {
        // The feeds' names as `build` will use them: from the config as init
        // leaves it (yours, if there was one) and the blog's _config.yml.
        let names = crate::config::Config::load(&args.dir.join(&config_file))
            .map_or_else(|_| FeedFiles::default(), |config| config.feed.files);
        let include = args.dir.join("_includes/digest-feed-links.html");
        create(&include, &links_include(&names), report)?;
    }
    ignore_private(&args.dir, &home, report)?;
    let dir = if args.dir == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", args.dir.display())
    };
    let flag = match config {
        Some(config) => format!(" --config {}", config.display()),
        None => String::new(),
    };
    let what = if in_blog {
        "email.from and the subscribers; the site comes from _config.yml"
    } else {
        "site.url, email.from, subscribers"
    };
    report.result(format!(
        "Next: edit {} ({what}), then `{dir}digest-feed{flag} build` and `{dir}digest-feed{flag} mail --dry-run`",
        config_file.display()
    ));
    Ok(())
}

/// Creates `path` unless it exists, and says which.
fn create(path: &Path, text: &str, report: Report) -> Result<(), Error> {
    match output::create_new(path, text.as_bytes())? {
        Written::Changed => report.result(format!("created {}", path.display())),
        Written::Unchanged => report.result(format!("kept {} (it exists)", path.display())),
    }
    Ok(())
}

/// What `init` makes private, as `.gitignore` lines from the site's folder:
/// the delivery state (and its WAL and lock), the list's secret key, a
/// subscribers CSV, a DKIM key, and `.digest-feed/` (state, secret and
/// preview by default). `home` is where the config lives (`_digest-feed`
/// in a blog, the site itself otherwise).
fn private_patterns(home: &Path) -> Vec<String> {
    let prefix = if home.as_os_str().is_empty() {
        "/".to_string()
    } else {
        format!("/{}/", home.display())
    };
    let mut patterns: Vec<String> = [
        "state.db*",
        // build's cache sits beside the state: not private, but no source either.
        "build-cache.json",
        ".digest-feed/",
        "secret",
        "subscribers.csv",
        "*.pem",
    ]
    .iter()
    .map(|name| format!("{prefix}{name}"))
    .collect();
    if !home.as_os_str().is_empty() {
        patterns.push("/.digest-feed/".to_string());
    }
    patterns
}

/// Writes `.gitignore` with [`private_patterns`], or appends to the one
/// there the lines it lacks (never rewriting a line of yours), so that
/// `git add -A` can never commit a subscriber's address or a key.
fn ignore_private(dir: &Path, home: &Path, report: Report) -> Result<(), Error> {
    let path = dir.join(".gitignore");
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(Error::io("cannot read", &path, err)),
    };
    let have: Vec<&str> = existing.lines().map(str::trim).collect();
    let missing: Vec<String> = private_patterns(home)
        .into_iter()
        .filter(|pattern| !have.contains(&pattern.as_str()))
        .collect();
    if missing.is_empty() {
        report.result(format!(
            "kept {} (it ignores every private file)",
            path.display()
        ));
        return Ok(());
    }
    let mut text = existing.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# digest-feed: private files (subscribers, the list's key, the delivery state), never to commit\n");
    for pattern in &missing {
        text.push_str(pattern);
        text.push('\n');
    }
    output::write_atomically(&path, text.as_bytes())?;
    if existing.is_empty() {
        report.result(format!("created {}", path.display()));
    } else {
        report.result(format!(
            "added {} line{} to {}",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            path.display()
        ));
    }
    Ok(())
}

fn example_post(today: &str) -> String {
    format!(
        "---\ntitle: \"Daily digest — {today}\"\ndate: {today}\ntags: [digest]\n---\n\n\
         # 1. [An interesting paper](https://arxiv.org/abs/2512.18099)\n\n\
         - Goal: one line on what it sets out to do.\n\
         - Method: how.\n\n\
         # 2. [Another one](https://example.org/another)\n\n\
         A paragraph about it. Each `# N. [Title](URL)` heading starts a paper.\n"
    )
}
