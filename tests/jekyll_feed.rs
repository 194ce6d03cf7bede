//! A blog moving from jekyll-feed: its readers keep their subscription
//! (Atom where jekyll-feed wrote it, `feed.xml` by default), and `check`
//! and `links` say what to take out of `plugins` and the `<head>`.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_digest-feed");

fn run(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A blog with one post and `config_yml` as its `_config.yml`.
fn blog(config_yml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("_config.yml"), config_yml).unwrap();
    fs::create_dir(dir.path().join("_posts")).unwrap();
    fs::write(
        dir.path().join("_posts/2026-01-05-first.md"),
        "---\ntitle: First\n---\nHello.\n",
    )
    .unwrap();
    dir
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

#[test]
fn a_blog_with_jekyll_feed_keeps_its_atom_feed_at_feed_xml_and_is_told_what_to_remove() {
    let blog = blog("title: Blog\nurl: https://e.org\nplugins:\n  - jekyll-feed\n");
    let dir = blog.path();
    let build = run(dir, &["build"]);
    let printed = String::from_utf8_lossy(&build.stdout);
    assert!(
        printed.contains("rss.xml") && printed.contains("feed.xml"),
        "{printed}"
    );
    let atom = read(dir, "feed.xml");
    assert!(
        atom.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""),
        "{atom}"
    );
    assert!(atom.contains("href=\"https://e.org/feed.xml\""), "{atom}");
    assert!(read(dir, "rss.xml").contains("<rss "));
    assert!(read(dir, "feed.json").contains("\"feed_url\": \"https://e.org/feed.json\""));
    assert!(!dir.join("atom.xml").exists());

    for command in ["check", "links"] {
        let output = run(dir, &[command]);
        let warning = String::from_utf8_lossy(&output.stderr);
        assert!(
            warning.contains("_config.yml: jekyll-feed is in `plugins`")
                && warning.contains("Remove jekyll-feed from `plugins`")
                && warning.contains("replace `{% feed_meta %}`")
                && warning.contains("atom = \"feed.xml\"")
                && warning.contains("rss = \"rss.xml\""),
            "{command}: {warning}"
        );
    }
    let links = String::from_utf8_lossy(&run(dir, &["links"]).stdout).into_owned();
    assert!(
        links.contains(
            "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Blog\" href=\"https://e.org/feed.xml\">"
        ),
        "{links}"
    );
    assert!(
        links
            .contains("type=\"application/rss+xml\" title=\"Blog\" href=\"https://e.org/rss.xml\""),
        "{links}"
    );

    // init's <head> include names the same files.
    run(dir, &["init"]);
    let include = read(dir, "_includes/digest-feed-links.html");
    assert!(
        include.contains("type=\"application/atom+xml\" title=\"{{ site.title | escape }}\" href=\"{{ '/feed.xml' | absolute_url }}\""),
        "{include}"
    );

    // Once jekyll-feed is gone, [feed] atom and rss keep the names, and nothing is said.
    fs::write(dir.join("_config.yml"), "title: Blog\nurl: https://e.org\n").unwrap();
    let config = read(dir, "_digest-feed/config.toml").replacen(
        "[feed]\n",
        "[feed]\natom = \"feed.xml\"\nrss = \"rss.xml\"\n",
        1,
    );
    fs::write(dir.join("_digest-feed/config.toml"), config).unwrap();
    let check = run(dir, &["check"]);
    assert!(
        !String::from_utf8_lossy(&check.stderr).contains("jekyll-feed"),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    run(dir, &["build"]);
    assert!(read(dir, "feed.xml").contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""));
}

#[test]
fn jekyll_feeds_own_path_is_kept_and_a_blog_without_it_gets_rss_at_feed_xml() {
    let moved = blog("url: https://e.org\ngems: [jekyll-feed]\nfeed:\n  path: /atom.xml\n");
    run(moved.path(), &["build"]);
    assert!(read(moved.path(), "atom.xml").contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""));
    assert!(read(moved.path(), "feed.xml").contains("<rss "));

    let plain = blog("url: https://e.org\nplugins: [jekyll-sitemap]\n");
    run(plain.path(), &["build"]);
    assert!(read(plain.path(), "feed.xml").contains("<rss "));
    assert!(read(plain.path(), "atom.xml").contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""));
    let check = run(plain.path(), &["check"]);
    assert!(!String::from_utf8_lossy(&check.stderr).contains("jekyll-feed"));
}

#[test]
fn feed_names_that_collide_or_hold_a_folder_are_refused_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("config.toml"),
        "[site]\nurl = \"https://e.org\"\n[feed]\nrss = \"a/feed.xml\"\natom = \"feed.json\"\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .arg("check")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("config.toml:4: [feed] rss must be a file name such as \"feed.xml\" (no folder; not feed.json), not \"a/feed.xml\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("config.toml:5: [feed] atom must be a file name"),
        "{stderr}"
    );
}
