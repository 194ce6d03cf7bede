//! `digest-feed init`: starts a site with a commented config, the default
//! templates to customise and an example post; never overwrites a file.

use std::path::Path;

use super::cli::InitArgs;
use super::report::Report;
use crate::email;
use crate::error::Error;
use crate::output::{self, Written};

/// The starting config: every key, its default, and what it does.
const CONFIG: &str = r#"# digest-feed configuration. Every key shown has the default written here,
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

[email]
from = "My Digest <digest@example.org>"   # edit this before `digest-feed mail`
subject = "{{ post.title }}"           # a Tera template
templates = "templates"                # email.html and email.txt; built-in defaults if absent
# list_unsubscribe = "https://example.org/unsubscribe?email={{ subscriber.email | urlencode }}"
                                       # default: mailto:<from>?subject=unsubscribe
state = ".digest-feed/state.db"        # the delivery state (SQLite)
# subscribers_file = "subscribers.csv" # larger lists: CSV with a header row email,name,tags

[smtp]
host = "localhost"
port = 587
tls = "starttls"                       # "tls", "starttls" or "none" (none: loopback hosts only)
username = ""                          # empty: no login
password_env = "DIGEST_FEED_SMTP_PASSWORD"   # the variable holding the password, never the password
connections = 4
rate_per_second = 0                    # 0: no limit
timeout_s = 30
retries = 3
# ca_file = "relay-ca.pem"             # trust a private relay's CA as well as the system's

[[subscribers]]
email = "reader@example.org"
name = "Reader"
tags = []                              # empty: every post
"#;

/// Runs `init`.
pub(super) fn run(args: &InitArgs, report: Report) -> Result<(), Error> {
    let today = jiff::ZonedDateTime::now().strftime("%Y-%m-%d").to_string();
    let post = format!(
        "---\ntitle: \"Daily digest — {today}\"\ndate: {today}\ntags: [digest]\n---\n\n\
         # 1. [An interesting paper](https://arxiv.org/abs/2512.18099)\n\n\
         - Goal: one line on what it sets out to do.\n\
         - Method: how.\n\n\
         # 2. [Another one](https://example.org/another)\n\n\
         A paragraph about it. Each `# N. [Title](URL)` heading starts a paper.\n"
    );
    let files = [
        ("config.toml".to_string(), CONFIG.to_string()),
        (
            "templates/email.html".to_string(),
            email::DEFAULT_HTML.to_string(),
        ),
        (
            "templates/email.txt".to_string(),
            email::DEFAULT_TEXT.to_string(),
        ),
        (format!("_posts/{today}-welcome.md"), post),
    ];
    for (relative, text) in &files {
        let path = args.dir.join(relative);
        match output::create_new(&path, text.as_bytes())? {
            Written::Changed => report.result(format!("created {}", path.display())),
            Written::Unchanged => report.result(format!("kept {} (it exists)", path.display())),
        }
    }
    let dir = if args.dir == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", args.dir.display())
    };
    report.result(format!(
        "Next: edit config.toml (site.url, email.from, subscribers), then `{dir}digest-feed build` and `{dir}digest-feed mail --dry-run`"
    ));
    Ok(())
}
