//! The man pages: `digest-feed(1)` and one per command (`digest-feed-mail(1)`,
//! ...), made from the command line's own definition by `clap_mangen`, and the
//! sections a man page needs that clap does not know (exit status, config
//! keys, files, environment, examples), written with roff. `docs/man/` ships
//! them; the test below writes them (`UPDATE_MAN=1`) and fails when they are
//! stale. Compiled for tests only: `clap_mangen` and `roff` are dev-dependencies,
//! so nothing of the man pages is in the installed binary.

use clap::CommandFactory;
use roff::{Roff, bold, italic, roman};

use super::cli::Cli;

/// Every page: its file name and its roff.
pub(super) fn pages() -> Result<Vec<(String, Vec<u8>)>, std::io::Error> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut pages = Vec::new();
    let mut top = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut top)?;
    top.extend(sections().render().into_bytes());
    pages.push(("digest-feed.1".to_string(), top));
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        let man = clap_mangen::Man::new(sub.clone());
        let mut page = Vec::new();
        man.render(&mut page)?;
        let mut more = Roff::new();
        more.control("SH", ["EXIT STATUS"]);
        more.text([
            roman("As for every command: see "),
            bold("digest-feed"),
            roman("(1)."),
        ]);
        more.control("SH", ["SEE ALSO"]);
        more.text([bold("digest-feed"), roman("(1)")]);
        page.extend(more.render().into_bytes());
        pages.push((man.get_filename(), page));
    }
    Ok(pages)
}

/// Sections of `digest-feed(1)` that are a list of terms: title, then (term, text).
const LISTS: &[(&str, &[(&str, &str)])] = &[
    (
        "EXIT STATUS",
        &[
            ("0", "Done."),
            (
                "1",
                "Some recipients were refused for good (each is listed with the server's reply); the rest were delivered.",
            ),
            (
                "2",
                "Bad input: the config, a post or a template. Nothing was written or sent; every problem is listed as file:line: message.",
            ),
            (
                "3",
                "The mail server could not be reached, or transient failures outlasted the retries. What was delivered is recorded; run again to continue.",
            ),
        ],
    ),
    (
        "CONFIGURATION",
        &[
            (
                "[site]",
                "title, url, baseurl, description, language, timezone, author, permalink.",
            ),
            (
                "[posts]",
                "dir (default _posts), dates (jekyll or local), skip_invalid (true: build and mail leave out an invalid post, with a warning).",
            ),
            (
                "[feed]",
                "out, limit, items (posts or papers), papers (auto, headings, bold, list or links: the shape papers are found in), per_tag, rss and atom (the file names: feed.xml and atom.xml; in a blog that loads jekyll-feed, Atom stays at its feed.xml and RSS goes to rss.xml).",
            ),
            (
                "[email]",
                "from, subject, templates, list_unsubscribe, state, subscribers_file.",
            ),
            (
                "[email.dkim]",
                "domain, selector (default digest), private_key_file (PEM: RSA PKCS#8 or PKCS#1, or Ed25519 PKCS#8), algorithm (rsa-sha256 or ed25519-sha256). digest-feed dns prints the records to publish.",
            ),
            (
                "[smtp]",
                "provider (gmail, workspace, ses, postmark, mailgun, sendgrid: presets the rest), host, port, tls (tls, starttls, none), username, password_env, connections, rate_per_second, max_per_day, timeout_s, retries, ca_file; [[smtp.fallback]] relays, with the same keys, tried in order.",
            ),
            (
                "[[subscribers]]",
                "email, name, tags (empty: every post; else only posts with one of them).",
            ),
            (
                "[list]",
                "public_url (where digest-feed serve is reached, https), address (the list's mailbox), return_path (the envelope sender; bounces come back to bounces+TAG@...), secret_file (default .digest-feed/secret: the key every link's token is signed with; keep it, never publish it), soft_bounces (default 3), soft_bounce_days (default 30).",
            ),
            (
                "[inbox]",
                "The list's mailbox, read by digest-feed inbox: imap_host, imap_port (default 993, TLS), username, password_env (default DIGEST_FEED_IMAP_PASSWORD), ca_file; or maildir, a local Maildir with new/, cur/ and tmp/.",
            ),
            (
                "[serve]",
                "listen (default 127.0.0.1:8025): where digest-feed serve listens, behind the blog's HTTPS proxy.",
            ),
        ],
    ),
    (
        "FILES",
        &[
            (
                "config.toml",
                "The config, read from the current folder; else _digest-feed/config.toml, where init puts it in a Jekyll blog (Jekyll never publishes a folder starting with _).",
            ),
            (
                "_config.yml",
                "The Jekyll blog's config, read beside the config file (or one folder up from _digest-feed/).",
            ),
            (
                "templates/email.html, templates/email.txt",
                "The email's templates (Tera); the built-in ones when absent.",
            ),
            (
                ".digest-feed/state.db",
                "The delivery state (SQLite): who has had which post, each run, the list's suppressions and sign-ups. Keep it between runs and never publish it; state.db.lock is held while a run sends.",
            ),
            (
                ".digest-feed/secret",
                "The list's secret key ([list] secret_file): 32 bytes, made on first use. Never publish it, never replace it: every link already mailed is signed with it.",
            ),
            (
                ".gitignore",
                "digest-feed init adds the private files above to it (never removing a line).",
            ),
            (
                "feed.xml, atom.xml, feed.json, feeds.html",
                "What build writes into [feed] out: RSS 2.0, Atom 1.0, JSON Feed 1.1, and a page for people.",
            ),
            (
                "archive/N.xml, archive/N.json",
                "With [feed] archive: the pages atom.xml and feed.json link back to, page 1 the oldest; a full page never changes.",
            ),
            (
                ".digest-feed/state.db.websub",
                "Each feed's SHA-256 when the WebSub hub last accepted a ping for it: ping tells the hub of the others.",
            ),
        ],
    ),
    (
        "ENVIRONMENT",
        &[
            (
                "DIGEST_FEED_SMTP_PASSWORD",
                "The SMTP password, when [smtp] username is set (the variable [smtp] password_env names).",
            ),
            (
                "DIGEST_FEED_IMAP_PASSWORD",
                "The list mailbox's IMAP password, for digest-feed inbox (the variable [inbox] password_env names).",
            ),
            (
                "TZ",
                "The zone of dates without an offset when neither config names a timezone, as for Jekyll.",
            ),
        ],
    ),
];

/// What the configuration section says before its list.
const CONFIGURATION: &str = "config.toml (or the file --config names) holds what Jekyll does not know; in a Jekyll blog the site's settings come from its _config.yml, and a key in config.toml overrides them. `digest-feed init` writes every key with its default and what it does. The tables:";

/// `EXAMPLES`: what, then the command line.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "Start in a Jekyll blog, then check everything:",
        "digest-feed init && digest-feed check",
    ),
    (
        "Write the feeds, and the tags for the blog's <head>:",
        "digest-feed build && digest-feed links",
    ),
    (
        "See every message the next run would send, without sending:",
        "digest-feed mail --dry-run --eml-dir /tmp/eml",
    ),
    (
        "Every morning at 7 from cron: read the list's mailbox, rebuild the feeds, mail the new post:",
        "0 7 * * * cd /srv/blog && { $HOME/.cargo/bin/digest-feed -q inbox; $HOME/.cargo/bin/digest-feed -q build && $HOME/.cargo/bin/digest-feed -q mail; }",
    ),
    (
        "What the state says, for monitoring:",
        "digest-feed status --json",
    ),
];

/// What `man digest-feed` says beyond the options.
fn sections() -> Roff {
    let mut roff = Roff::new();
    for (title, entries) in LISTS {
        roff.control("SH", [*title]);
        if *title == "CONFIGURATION" {
            roff.text([roman(CONFIGURATION)]);
        }
        for (term, text) in *entries {
            roff.control("TP", [] as [&str; 0]);
            roff.text([bold(*term)]);
            roff.text([roman(*text)]);
        }
    }
    roff.control("SH", ["EXAMPLES"]);
    for (what, line) in EXAMPLES {
        roff.text([roman(*what)]);
        roff.control("RS", ["4"]);
        roff.text([italic(*line)]);
        roff.control("RE", [] as [&str; 0]);
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut see = Vec::new();
    for name in [
        "build",
        "check",
        "preview",
        "mail",
        "status",
        "links",
        "init",
        "dns",
        "serve",
        "inbox",
        "subscribers",
        "completions",
    ] {
        if !see.is_empty() {
            see.push(roman(", "));
        }
        see.push(bold(format!("digest-feed-{name}")));
        see.push(roman("(1)"));
    }
    roff.text(see);
    roff
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped man pages are the ones this command line makes; run
    /// `UPDATE_MAN=1 cargo test man_page` after changing it.
    #[test]
    fn man_pages_are_up_to_date() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man");
        let pages = pages().unwrap();
        if std::env::var_os("UPDATE_MAN").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            for (name, page) in &pages {
                std::fs::write(dir.join(name), page).unwrap();
            }
        }
        let mut shipped: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        shipped.sort();
        let mut made: Vec<String> = pages.iter().map(|(name, _)| name.clone()).collect();
        made.sort();
        assert_eq!(
            shipped, made,
            "docs/man is stale: run UPDATE_MAN=1 cargo test man_page"
        );
        for (name, page) in &pages {
            let on_disk = std::fs::read(dir.join(name)).unwrap_or_default();
            assert!(
                &on_disk == page,
                "docs/man/{name} is stale: run UPDATE_MAN=1 cargo test man_page"
            );
        }
        let top = String::from_utf8(pages[0].1.clone()).unwrap();
        for section in [
            "EXIT STATUS",
            "CONFIGURATION",
            "FILES",
            "ENVIRONMENT",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            assert!(
                top.contains(&format!(".SH \"{section}\""))
                    || top.contains(&format!(".SH {section}")),
                "{section}"
            );
        }
        assert!(pages.iter().any(|(name, _)| name == "digest-feed-mail.1"));
        // Every table of the config, and every variable digest-feed reads.
        for term in [
            "[site]",
            "[posts]",
            "[feed]",
            "[email]",
            "[email.dkim]",
            "[smtp]",
            "[[subscribers]]",
            "[list]",
            "[inbox]",
            "[serve]",
            "DIGEST_FEED_SMTP_PASSWORD",
            "DIGEST_FEED_IMAP_PASSWORD",
            "TZ",
        ] {
            assert!(top.contains(&format!("\\fB{term}\\fR")), "{term}");
        }
    }
}
