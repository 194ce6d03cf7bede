//! The config's messages, as the user reads them.

use std::path::Path;

use super::*;
use crate::permalink_style::DEFAULT_PERMALINK;

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
    assert_eq!(config.smtp().unwrap().port, 587);
    assert!(!config.mails());
    assert!(config.email().is_err());
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let err = parse("[site]\nurl = \"https://example.org\"\ntitel = \"x\"\n").unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(
        err[0],
        "site/config.toml:3: unknown field `titel`; did you mean `title`?"
    );
    // Nothing near: toml's list of the keys it knows.
    let err = parse("[site]\nurl = \"https://example.org\"\nbanana = 1\n").unwrap_err();
    assert!(
        err[0].starts_with("site/config.toml:3: unknown field `banana`, expected one of `title`"),
        "{}",
        err[0]
    );
}

#[test]
fn every_problem_is_listed() {
    let err =
        parse("[site]\nurl = \"example.org\"\ntimezone = \"Mars/Olympus\"\n[feed]\nlimit = 0\n")
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
    let err = parse("[site]\nurl = \"https://e.org\"\n[feed]\nitems = \"paper\"\n").unwrap_err();
    assert!(
        err[0].starts_with("site/config.toml:4: unknown variant `paper`"),
        "{}",
        err[0]
    );
}

#[test]
fn the_papers_shape_is_read_and_a_misspelt_one_is_named() {
    let config = parse("[site]\nurl = \"https://e.org\"\n").unwrap();
    assert_eq!(config.feed.papers, PaperShape::Auto);
    let config = parse("[site]\nurl = \"https://e.org\"\n[feed]\npapers = \"list\"\n").unwrap();
    assert_eq!(config.feed.papers, PaperShape::List);
    let err = parse("[site]\nurl = \"https://e.org\"\n[feed]\npapers = \"heading\"\n").unwrap_err();
    assert_eq!(
        err[0],
        "site/config.toml:4: unknown variant `heading`, expected one of `auto`, `headings`, \
         `bold`, `list`, `links`; did you mean `headings`?"
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

#[test]
fn loopback_hosts() {
    for host in ["localhost", "127.0.0.1", "::1", "[::1]", "127.0.0.53"] {
        assert!(file::is_loopback(host), "{host}");
    }
    for host in ["smtp.example.org", "10.0.0.1", "localhost.example.org"] {
        assert!(!file::is_loopback(host), "{host}");
    }
}

#[test]
fn tls_none_is_refused_for_a_remote_host() {
    let config = parse(
        "[site]\nurl = \"https://e.org\"\n[smtp]\nhost = \"smtp.example.org\"\ntls = \"none\"\n",
    )
    .unwrap();
    let problems = config.smtp().unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .to_string()
            .starts_with("site/config.toml:5: [smtp] tls = \"none\" sends the password"),
        "{}",
        problems[0]
    );
}

#[test]
fn a_provider_presets_the_relay_and_keys_beside_it_win() {
    let config = parse(
        "[site]\nurl = \"https://e.org\"\n[smtp]\nprovider = \"ses\"\nhost = \"email-smtp.eu-west-1.amazonaws.com\"\nmax_per_day = 50000\n",
    )
    .unwrap();
    let smtp = config.smtp().unwrap();
    assert_eq!(smtp.server(), "email-smtp.eu-west-1.amazonaws.com:587");
    assert_eq!(smtp.max_per_day, 50_000);
    assert_eq!(smtp.interval, Some(std::time::Duration::from_secs(1)));
    let gmail = parse("[site]\nurl = \"https://e.org\"\n[smtp]\nprovider = \"gmail\"\n").unwrap();
    let gmail = gmail.smtp().unwrap();
    assert_eq!(
        (gmail.server(), gmail.max_per_day),
        ("smtp.gmail.com:587".to_string(), 500)
    );
    let plain = parse("[site]\nurl = \"https://e.org\"\n").unwrap();
    assert_eq!(plain.smtp().unwrap().max_per_day, 0);
}

#[test]
fn an_unknown_provider_is_named_with_its_line_and_the_nearest_one() {
    let config =
        parse("[site]\nurl = \"https://e.org\"\n[smtp]\nprovider = \"sendgird\"\n").unwrap();
    let [problem] = config.smtp().unwrap_err().try_into().unwrap();
    let said = problem.to_string();
    assert!(
        said.starts_with("site/config.toml:4: [smtp] provider \"sendgird\" is not one"),
        "{said}"
    );
    assert!(said.contains("did you mean \"sendgrid\"?"), "{said}");
}

#[test]
fn fallback_relays_are_read_in_order_one_level_deep() {
    let config = parse(
        "[site]\nurl = \"https://e.org\"\n[smtp]\nprovider = \"gmail\"\n\
         [[smtp.fallback]]\nprovider = \"postmark\"\n[[smtp.fallback]]\nhost = \"127.0.0.1\"\ntls = \"none\"\n",
    )
    .unwrap();
    let servers: Vec<String> = config
        .smtp()
        .unwrap()
        .fallback
        .iter()
        .map(Smtp::server)
        .collect();
    assert_eq!(
        servers,
        ["smtp-broadcasts.postmarkapp.com:587", "127.0.0.1:587"]
    );
    let nested =
        parse("[site]\nurl = \"https://e.org\"\n[[smtp.fallback]]\n[[smtp.fallback.fallback]]\n")
            .unwrap();
    let [problem] = nested.smtp().unwrap_err().try_into().unwrap();
    assert!(
        problem
            .to_string()
            .contains("cannot have fallbacks of its own"),
        "{problem}"
    );
}

#[test]
fn smtp_settings_are_typed() {
    let config = parse(
        "[site]\nurl = \"https://e.org\"\n[smtp]\nrate_per_second = 4.0\ntimeout_s = 0\nconnections = 2\n",
    )
    .unwrap();
    let smtp = config.smtp().unwrap();
    assert_eq!(smtp.interval, Some(std::time::Duration::from_millis(250)));
    assert_eq!(smtp.timeout, std::time::Duration::from_secs(1));
    assert_eq!(smtp.connections.get(), 2);
    assert_eq!(smtp.username, None);
}

#[test]
fn bad_smtp_and_email_settings_wait_for_a_command_that_mails() {
    let config = parse(
        "[site]\nurl = \"https://e.org\"\n[email]\nfrom = \"nobody\"\nlist_unsubscribe = \"http://x\"\n[smtp]\nconnections = 0\nrate_per_second = -1.0\n",
    )
    .unwrap();
    assert!(config.mails());
    let email: Vec<String> = config
        .email()
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(email.len(), 2, "{email:?}");
    assert!(
        email[0].starts_with("site/config.toml:4: [email] from \"nobody\" is not an address"),
        "{}",
        email[0]
    );
    assert_eq!(
        email[1],
        "site/config.toml:5: [email] list_unsubscribe \"http://x\" must start with mailto: or https://"
    );
    let smtp: Vec<String> = config
        .smtp()
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        smtp,
        [
            "site/config.toml: [smtp] connections must be at least 1",
            "site/config.toml: [smtp] rate_per_second must be 0 (no limit) or a positive number",
        ]
    );
}

#[test]
fn the_default_unsubscribe_is_the_sender() {
    let config =
        parse("[site]\nurl = \"https://e.org\"\n[email]\nfrom = \"P <p@e.org>\"\n").unwrap();
    let email = config.email().unwrap();
    assert_eq!(
        email.list_unsubscribe.text,
        "mailto:p@e.org?subject=unsubscribe"
    );
    assert_eq!(email.subject.origin, "site/config.toml [email] subject");
    assert_eq!(email.state, Path::new("site/.digest-feed/state.db"));
}

#[test]
fn list_inbox_and_serve_are_checked() {
    let config = parse(
        "[site]\nurl = \"https://example.org\"\n[list]\npublic_url = \"https://example.org/list/\"\n\
         return_path = \"bounces@example.org\"\naddress = \"list@example.org\"\n\
         [inbox]\nmaildir = \"Maildir\"\n[serve]\nlisten = \"127.0.0.1:9000\"\n",
    )
    .unwrap();
    let list = config.list.unwrap();
    assert_eq!(list.public_url.as_deref(), Some("https://example.org/list"));
    assert_eq!(list.return_path.as_deref(), Some("bounces@example.org"));
    assert_eq!(list.secret_file, Path::new("site/.digest-feed/secret"));
    assert!(
        matches!(config.inbox.unwrap().source, InboxSource::Maildir(dir) if dir == Path::new("site/Maildir"))
    );
    assert_eq!(config.serve.listen.port(), 9000);
    let loopback = parse(
        "[site]\nurl = \"https://example.org\"\n[list]\npublic_url = \"http://127.0.0.1:8025\"\n",
    );
    assert!(loopback.is_ok());

    let err = parse(
        "[site]\nurl = \"https://example.org\"\n[list]\npublic_url = \"http://example.org/list\"\n\
         address = \"not an address\"\n[inbox]\n[serve]\nlisten = \"everywhere\"\n",
    )
    .unwrap_err();
    assert_eq!(err.len(), 4, "{err:?}");
    assert!(
        err[0].starts_with(
            "site/config.toml:4: [list] public_url \"http://example.org/list\" must be https://"
        ),
        "{}",
        err[0]
    );
    assert!(
        err[1].starts_with(
            "site/config.toml:5: [list] address: \"not an address\" is not a valid email address"
        ),
        "{}",
        err[1]
    );
    assert_eq!(
        err[2],
        "site/config.toml: [inbox] needs maildir = \"/path/to/Maildir\" or imap_host = \"imap.example.org\""
    );
    assert_eq!(
        err[3],
        "site/config.toml:8: [serve] listen \"everywhere\" is not an address and port such as \"127.0.0.1:8025\""
    );
    let err =
        parse("[site]\nurl = \"https://example.org\"\n[list]\nsecret_fil = \"x\"\n").unwrap_err();
    assert!(
        err[0].starts_with(
            "site/config.toml:4: unknown field `secret_fil`; did you mean `secret_file`?"
        ),
        "{}",
        err[0]
    );
}

/// A blog in a temporary folder with `_config.yml` holding `jekyll` and
/// the files `extra` names, read with no config.toml.
fn blog(jekyll: &str, extra: &[(&str, &str)]) -> (tempfile::TempDir, Result<Config, Vec<String>>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("_config.yml"), jekyll).unwrap();
    for (name, text) in extra {
        std::fs::create_dir_all(dir.path().join(name).parent().unwrap()).unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let config = Config::load(&dir.path().join("config.toml")).map_err(|err| vec![err.to_string()]);
    (dir, config)
}

fn warnings(config: &Config, dir: &tempfile::TempDir) -> Vec<String> {
    let root = format!("{}/", dir.path().display());
    config
        .warnings
        .iter()
        .map(|w| w.to_string().replace(&root, ""))
        .collect()
}

#[test]
fn a_blog_config_with_a_key_twice_keeps_the_later_value() {
    let (dir, config) = blog(
        "url: https://a.org\ntitle: A\nkramdown:\n  input: GFM\ntitle: B\n",
        &[],
    );
    let config = config.unwrap();
    assert_eq!(config.site.title, "B");
    assert_eq!(
        warnings(&config, &dir),
        ["_config.yml:5: `title` is written twice; the later value is used, as Jekyll does"]
    );
}

#[test]
fn a_blog_without_url_gets_github_pages_address() {
    let (dir, config) = blog("url: \"\"\ntitle: A\n", &[("CNAME", "blog.example.org\n")]);
    let config = config.unwrap();
    assert_eq!(config.site.url, "https://blog.example.org");
    assert_eq!(
        warnings(&config, &dir),
        [
            "_config.yml: no `url`: using https://blog.example.org, as GitHub Pages does (from CNAME); set `url` to say otherwise"
        ]
    );
    let remote = "[remote \"origin\"]\n\turl = git@github.com:kim/notes.git\n";
    let (_dir, config) = blog("title: A\n", &[(".git/config", remote)]);
    let config = config.unwrap();
    assert_eq!(config.site.url, "https://kim.github.io/notes");
    assert_eq!(config.site.baseurl, "/notes");
}

#[test]
fn a_blog_with_no_address_anywhere_is_told_where_to_set_it() {
    let (dir, config) = blog("title: A\n", &[]);
    let root = format!("{}/", dir.path().display());
    let message = config.unwrap_err()[0].replace(&root, "");
    assert!(
        message.starts_with("_config.yml: no `url`, and no CNAME file or GitHub remote `origin` tells the blog's address"),
        "{message}"
    );
    assert!(!message.contains("config.toml"), "{message}");
}

#[test]
fn a_blog_timezone_jekyll_reads_as_utc_is_utc() {
    let (dir, config) = blog("url: https://a.org\ntimezone: fr\n", &[]);
    let config = config.unwrap();
    assert_eq!(config.site.timezone_name, "UTC");
    assert_eq!(
        warnings(&config, &dir),
        [
            "_config.yml: timezone \"fr\" is no time zone this machine knows; dates are read in UTC, as Jekyll reads them; use an IANA name such as \"Europe/Paris\""
        ]
    );
}

#[test]
fn a_websub_hub_must_be_a_web_address_named_with_its_line() {
    let site = "[site]\nurl = \"https://example.org\"\n[feed]\narchive = true\n";
    let config = parse(&format!(
        "{site}websub_hub = \"https://hub.example.org/\"\n"
    ))
    .unwrap();
    assert!(config.feed.archive);
    assert_eq!(
        config.feed.websub_hub.as_deref(),
        Some("https://hub.example.org/")
    );
    assert_eq!(parse(site).unwrap().feed.websub_hub, None);
    let err = parse(&format!("{site}websub_hub = \"hub.example.org\"\n")).unwrap_err();
    assert_eq!(
        err,
        [
            "site/config.toml:5: [feed] websub_hub \"hub.example.org\" is not an absolute http(s) address such as \"https://pubsubhubbub.appspot.com/\""
        ]
    );
}
