//! End-to-end tests of `build` and `check`: the built binary on fixture posts.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

const BIN: &str = env!("CARGO_BIN_EXE_digest-feed");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A site in a temporary folder: a config and a posts folder holding the good fixtures.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("_posts")).unwrap();
        fs::write(
            dir.path().join("config.toml"),
            "[site]\ntitle = \"Test\"\nurl = \"https://papers.example.org\"\ntimezone = \"Asia/Seoul\"\n\n[feed]\nper_tag = true\n",
        )
        .unwrap();
        let site = Site { dir };
        site.add(&fixtures().join("good/2025-12-20-good.md"));
        site
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn add(&self, fixture: &Path) {
        fs::copy(
            fixture,
            self.path()
                .join("_posts")
                .join(fixture.file_name().unwrap()),
        )
        .unwrap();
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .current_dir(self.path())
            .args(args)
            .output()
            .unwrap()
    }

    /// Every file under public/, with its bytes.
    fn outputs(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        let mut pending = vec![self.path().join("public")];
        while let Some(dir) = pending.pop() {
            for entry in fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    files.push((path.clone(), fs::read(&path).unwrap()));
                }
            }
        }
        files.sort();
        files
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn build_writes_three_feeds_and_says_where() {
    let site = Site::new();
    let output = site.run(&["build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("public/feed.xml")
            && stdout.contains("public/atom.xml")
            && stdout.contains("public/feed.json"),
        "{stdout}"
    );
    let names: Vec<String> = site
        .outputs()
        .iter()
        .map(|(p, _)| p.strip_prefix(site.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "public/atom.xml",
            "public/feed.json",
            "public/feed.xml",
            "public/feeds.html",
            "public/tags/papers/atom.xml",
            "public/tags/papers/feed.json",
            "public/tags/papers/feed.xml",
        ]
    );
}

#[test]
fn same_posts_same_bytes_and_untouched_mtimes() {
    let site = Site::new();
    site.add(&fixtures().join("good/2025-12-21-hostile.md"));
    assert!(site.run(&["build"]).status.success());
    let first = site.outputs();
    // Every output dated an hour back, so that a rewrite shows in its mtime
    // whatever the file system's timestamp granularity.
    let an_hour_ago = SystemTime::now() - Duration::from_hours(1);
    for (path, _) in &first {
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
    }
    let mtimes: Vec<_> = first
        .iter()
        .map(|(p, _)| fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    let output = site.run(&["build"]);
    assert!(output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("0 of 10 files changed"),
        "{output:?}"
    );
    let second = site.outputs();
    assert_eq!(
        first, second,
        "a rebuild of the same posts gives identical bytes"
    );
    let mtimes_after: Vec<_> = second
        .iter()
        .map(|(p, _)| fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    assert_eq!(mtimes, mtimes_after, "unchanged files are not rewritten");
}

/// Each bad fixture: (file, line it must name, what the message must say).
/// What Jekyll publishes (no front matter or no title, an empty file, an
/// unclosed front matter, `2025-02-30` in a name) is no longer here: see
/// tests/fixtures/jekyll-census, built by real Jekyll and by digest-feed.
const BAD: &[(&str, Option<usize>, &str)] = &[
    ("2025-12-24-broken-yaml.md", Some(2), "front matter"),
    (
        "2025-12-24-impossible-date.md",
        Some(3),
        "front matter: invalid date \"2025-13-45\"",
    ),
    (
        "no-date.md",
        Some(1),
        "front matter: `date` is missing and the file name does not start with YYYY-MM-DD-",
    ),
    (
        "2025-12-24-non-utf8.md",
        Some(2),
        "the file is not valid UTF-8 (byte 0xE9 at column 19); save it as UTF-8",
    ),
    (
        "2025-12-24-tags-wrong-type.md",
        Some(4),
        "front matter: `tags`:",
    ),
    (
        "2025-12-24-typo-key.md",
        Some(3),
        "front matter: unknown key `publised`; did you mean `published`?",
    ),
    (
        "2025-12-24-deep-nesting.md",
        None,
        "the post nests quotes, lists or HTML elements more than 1000 levels deep",
    ),
    (
        "2025-12-24-stray-end-tags.md",
        None,
        "the post nests quotes, lists or HTML elements more than 1000 levels deep",
    ),
];

#[test]
fn every_bad_input_is_named_exits_2_and_leaves_outputs_alone() {
    for (name, line, message) in BAD {
        let site = Site::new();
        assert!(site.run(&["build"]).status.success());
        let before = site.outputs();
        site.add(&fixtures().join("bad").join(name));

        let output = site.run(&["build"]);
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
        let location = match line {
            Some(line) => format!("_posts/{name}:{line}: "),
            None => format!("_posts/{name}: "),
        };
        let err = stderr(&output);
        let expected_start = format!("{location}{message}");
        assert!(
            err.lines().any(|l| l.contains(&expected_start)),
            "{name}: expected {expected_start:?} in:\n{err}"
        );
        assert_eq!(
            site.outputs(),
            before,
            "{name}: a failed build leaves every output as it was"
        );

        let output = site.run(&["check"]);
        assert_eq!(output.status.code(), Some(2), "{name}: check");
        assert!(
            stderr(&output).contains(&expected_start),
            "{name}: check says the same"
        );

        let output = site.run(&["build", "--skip-invalid"]);
        assert!(
            output.status.success(),
            "{name}: --skip-invalid builds from the rest: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("warning: ")
                && stderr(&output).contains(name.trim_end_matches(".md")),
            "{name}"
        );
    }
}

/// Builds `site` (two posts) with `feed.limit = 1`: it must succeed having
/// rendered only the newest post.
fn build_with_a_feed_of_one(site: &Site) {
    fs::write(
        site.path().join("config.toml"),
        "[site]\nurl = \"https://e.org\"\n[feed]\nlimit = 1\n",
    )
    .unwrap();
    let output = site.run(&["build", "-v"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("rendered 1 of 2 posts"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn only_the_posts_in_a_feed_are_rendered() {
    let site = Site::new();
    site.add(&fixtures().join("good/2025-12-21-hostile.md"));
    build_with_a_feed_of_one(&site);
}

#[test]
fn build_reads_old_posts_only_to_their_front_matter_and_check_reads_them_whole() {
    let site = Site::new();
    // An old post with a good front matter and a body that is not UTF-8.
    let mut old = b"---\ntitle: Old\ndate: 2020-01-01\n---\n\nBody ".to_vec();
    old.extend_from_slice(b"\xFF\xFE broken\n");
    fs::write(site.path().join("_posts/2020-01-01-old.md"), &old).unwrap();
    build_with_a_feed_of_one(&site);

    let output = site.run(&["check"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "_posts/2020-01-01-old.md:6: the file is not valid UTF-8 (byte 0xFF at column 6); save it as UTF-8"
        ),
        "{}",
        stderr(&output)
    );

    // The same bytes inside the front matter fail the build too.
    let mut bad = b"---\ntitle: Bad \xFF\ndate: 2020-01-02\n---\nBody\n".to_vec();
    bad.extend_from_slice(b"more\n");
    fs::write(site.path().join("_posts/2020-01-02-bad.md"), &bad).unwrap();
    let output = site.run(&["build"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "_posts/2020-01-02-bad.md:2: the file is not valid UTF-8 (byte 0xFF at column 12)"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_huge_file_is_refused() {
    let site = Site::new();
    let huge = site.path().join("_posts/2025-12-24-huge.md");
    let mut text = String::from("---\ntitle: Huge\n---\n");
    text.push_str(&"x".repeat(17 * 1024 * 1024));
    fs::write(&huge, text).unwrap();
    let output = site.run(&["build"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(
            "_posts/2025-12-24-huge.md: the file is 17.0 MiB, over the 16 MiB a post may be"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_lists_every_problem() {
    let site = Site::new();
    for (name, _, _) in BAD {
        site.add(&fixtures().join("bad").join(name));
    }
    let output = site.run(&["check"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    for (name, _, _) in BAD {
        assert!(
            err.contains(&format!("_posts/{name}")),
            "{name} missing from:\n{err}"
        );
    }
    // `check` lists problems: it has nothing to write, and says only how many.
    assert!(
        err.ends_with(&format!("\n{} problems\n", err.lines().count() - 1)),
        "{err}"
    );
}

#[test]
fn check_passes_on_the_bundled_example() {
    let output = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("are valid"));
}

#[test]
fn config_errors_name_the_key_and_line() {
    let site = Site::new();
    fs::write(
        site.path().join("config.toml"),
        "[site]\nurl = \"https://e.org\"\n\n[feed]\nlimt = 5\n",
    )
    .unwrap();
    let output = site.run(&["build"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("config.toml:5: unknown field `limt`"),
        "{}",
        stderr(&output)
    );

    let output = site.run(&["--config", "missing.toml", "build"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("missing.toml: config file not found"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn hostile_content_never_reaches_a_feed_in_executable_form() {
    let site = Site::new();
    site.add(&fixtures().join("good/2025-12-21-hostile.md"));
    assert!(site.run(&["build"]).status.success());
    let json: String =
        String::from_utf8(fs::read(site.path().join("public/feed.json")).unwrap()).unwrap();
    for bad in [
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "<iframe",
        "style=\\\"color",
    ] {
        assert!(!json.contains(bad), "{bad} in feed.json");
    }
    assert!(
        json.contains("https://papers.example.org/2025/12/about/"),
        "relative link made absolute"
    );
    assert!(
        json.contains("https://papers.example.org/2025/12/21/img/pic.png"),
        "relative image made absolute"
    );
    let rss = String::from_utf8(fs::read(site.path().join("public/feed.xml")).unwrap()).unwrap();
    // Raw `<script` may appear only escaped inside CDATA-wrapped code text.
    assert!(!rss.contains("<script>alert"), "script element in feed.xml");
}

#[cfg(unix)]
#[test]
fn the_posts_walk_ends_on_link_cycles_and_skips_what_is_not_a_file() {
    use std::os::unix::fs::symlink;
    let site = Site::new();
    let posts = site.path().join("_posts");
    symlink(".", posts.join("a")).unwrap();
    symlink("..", posts.join("b")).unwrap();
    symlink("/", posts.join("root")).unwrap();
    fs::create_dir(posts.join("real")).unwrap();
    symlink("../real", posts.join("real/again")).unwrap();
    symlink(
        fixtures().join("good/2025-12-21-hostile.md"),
        posts.join("real/linked.md"),
    )
    .unwrap();
    let fifo = Command::new("mkfifo")
        .arg(posts.join("2025-12-22-fifo.md"))
        .status();
    assert!(fifo.unwrap().success());
    // Ending at all is the point: a walk that followed the cycles, or
    // opened the FIFO, would never end, and the harness's own time limit
    // fails it; no clock of ours decides.
    for command in ["build", "check"] {
        let output = site.run(&[command]);
        assert!(output.status.success(), "{command}: {}", stderr(&output));
    }
    let output = site.run(&["-v", "build"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    // The good post and the linked one, each once.
    assert!(stdout.contains("(2 posts;"), "{stdout}");
}

#[test]
fn text_the_html_serializer_would_take_minutes_over_is_refused_at_once() {
    // 100,000 `&` before a megabyte of text without a tag: html5ever's
    // serializer (under ammonia, css-inline and html2text) searches that
    // megabyte again after each `&` (minutes). Such a post is refused, fast,
    // naming why; the same text with tags between is fine.
    let site = Site::new();
    let body = "&".repeat(100_000) + &"x".repeat(1_000_000);
    fs::write(
        site.path().join("_posts/2025-12-22-ampersands.md"),
        format!("---\ntitle: Ampersands\n---\n\n{body}\n"),
    )
    .unwrap();
    // Before the refusal this took minutes: that it ends, with this
    // message, is the test (a hang fails the harness's time limit).
    let output = site.run(&["build"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "_posts/2025-12-22-ampersands.md: 100000 `&` or no-break spaces in one stretch of text \
             without markup"
        ),
        "{}",
        stderr(&output)
    );
    let paragraphs = "&&&& x\n\n".repeat(50_000);
    fs::write(
        site.path().join("_posts/2025-12-22-ampersands.md"),
        format!("---\ntitle: Ampersands\n---\n\n{paragraphs}"),
    )
    .unwrap();
    let output = site.run(&["build"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_long_post_is_mailed_in_linear_time() {
    // 250,000 lines (500 KB, under the 512 KB an email carries): lettre made
    // each LF a CRLF by inserting in place, one shift of the whole body per
    // line (minutes); bodies are CRLF before it.
    let site = Site::new();
    let config = fs::read_to_string(site.path().join("config.toml")).unwrap();
    fs::write(
        site.path().join("config.toml"),
        config
            + "\n[email]\nfrom = \"papers@example.org\"\n\n[[subscribers]]\nemail = \"reader@example.org\"\n",
    )
    .unwrap();
    let body = format!("```\n{}```\n", "a\n".repeat(250_000));
    fs::write(
        site.path().join("_posts/2025-12-22-lines.md"),
        format!("---\ntitle: Lines\n---\n\n{body}"),
    )
    .unwrap();
    // Quadratic, this took minutes; linear, it ends and says so (a hang
    // fails the harness's time limit, not a clock of ours).
    let output = site.run(&["mail", "--dry-run"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("would send to reader@example.org"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn a_build_that_fails_replaces_no_output() {
    let site = Site::new();
    assert!(site.run(&["build"]).status.success());
    let before = site.outputs();
    // A new post changes the main feeds, and its tag's folder cannot be made
    // (a file is in the way): the main feeds must not be replaced either.
    site.add(&fixtures().join("good/2025-12-21-hostile.md"));
    fs::write(site.path().join("public/tags/security"), "in the way").unwrap();
    let output = site.run(&["build"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("public/tags/security"),
        "{}",
        stderr(&output)
    );
    fs::remove_file(site.path().join("public/tags/security")).unwrap();
    assert_eq!(site.outputs(), before, "no output replaced");
    assert!(
        fs::read_dir(site.path().join("public"))
            .unwrap()
            .all(|entry| !entry
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".digest-feed-")),
        "no temporary file left"
    );

    // A tag too long for a folder name: refused by check and by build, before any write.
    let tag = "t".repeat(256);
    fs::write(
        site.path().join("_posts/2025-12-23-long-tag.md"),
        format!("---\ntitle: Long tag\ntags: [{tag}]\n---\n\nBody.\n"),
    )
    .unwrap();
    for command in ["check", "build"] {
        let output = site.run(&[command]);
        assert_eq!(output.status.code(), Some(2), "{command}");
        assert!(
            stderr(&output).contains("names a feed folder of 256 bytes, over the 255"),
            "{command}: {}",
            stderr(&output)
        );
    }
    assert_eq!(site.outputs(), before, "no output replaced");
}

#[test]
fn a_tag_whose_posts_are_all_unpublished_loses_its_feeds() {
    let site = Site::new();
    site.add(&fixtures().join("good/2025-12-21-hostile.md"));
    assert!(site.run(&["build"]).status.success());
    let security = site.path().join("public/tags/security");
    assert!(security.join("feed.xml").exists());
    let post = site.path().join("_posts/2025-12-21-hostile.md");
    let text = fs::read_to_string(&post).unwrap();
    fs::write(
        &post,
        text.replacen("tags: [security]", "tags: [security]\npublished: false", 1),
    )
    .unwrap();
    let output = site.run(&["build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        !security.exists(),
        "tags/security still serves the unpublished post"
    );
    assert!(site.path().join("public/tags/papers/feed.xml").exists());
}

/// A Jekyll blog (no config.toml) in a temporary folder, its posts dated
/// two days ago on disk, so that a build's cache may trust them.
fn cached_blog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("_posts")).unwrap();
    fs::create_dir_all(dir.path().join("_includes")).unwrap();
    fs::write(
        dir.path().join("_config.yml"),
        "title: Cached\nurl: https://e.org\ndefaults:\n  - scope: {path: \"\"}\n    values: {author: Ann}\n",
    )
    .unwrap();
    fs::write(dir.path().join("_includes/note.html"), "included words\n").unwrap();
    for day in 1..=3 {
        write_old(
            &dir.path().join(format!("_posts/2024-01-0{day}-p{day}.md")),
            &format!(
                "---\ntitle: Post {day}\n---\nBody {day}. {{% include note.html %}}{}\n",
                if day == 3 {
                    " [two]({% link _posts/2024-01-02-p2.md %})"
                } else {
                    ""
                }
            ),
        );
    }
    dir
}

/// Writes `text` to `path` with a modification time two days ago.
fn write_old(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    set_modified(path, SystemTime::now() - Duration::from_hours(48));
}

fn set_modified(path: &Path, time: SystemTime) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

/// `build -v` in `dir`: its stderr, and the JSON Feed it wrote.
fn cached_build(dir: &Path, args: &[&str]) -> (String, String) {
    let output = Command::new(BIN)
        .current_dir(dir)
        .args(["build", "-v"])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    (
        stderr(&output),
        fs::read_to_string(dir.join("feed.json")).unwrap(),
    )
}

/// The bytes of every feed file a build of `dir` wrote.
fn feed_bytes(dir: &Path) -> Vec<Vec<u8>> {
    ["feed.xml", "feed.json", "rss.xml"]
        .iter()
        .filter_map(|name| fs::read(dir.join(name)).ok())
        .collect()
}

#[test]
fn a_warm_build_reads_only_the_new_post_and_writes_the_same_bytes_as_a_cold_one() {
    let blog = cached_blog();
    let dir = blog.path();
    let (said, _) = cached_build(dir, &[]);
    assert!(said.contains("read 3 of 3 post files"), "{said}");
    assert!(dir.join(".digest-feed/build-cache.json").is_file());
    let cold = feed_bytes(dir);
    let (said, _) = cached_build(dir, &[]);
    assert!(said.contains("read 0 of 3 post files"), "{said}");
    assert!(
        said.contains("3 of them taken from the build cache"),
        "{said}"
    );
    assert_eq!(feed_bytes(dir), cold);

    write_old(
        &dir.join("_posts/2024-01-04-p4.md"),
        "---\ntitle: Post 4\n---\nBody 4.\n",
    );
    let (said, json) = cached_build(dir, &[]);
    assert!(said.contains("read 1 of 4 post files"), "{said}");
    // Post 3 links to another post: a new post may change what that link
    // finds, so its body is rendered again; posts 1 and 2 are not.
    assert!(
        said.contains("rendered 4 of 4 posts\n2 of them taken from the build cache"),
        "{said}"
    );
    assert!(json.contains("Post 4"), "{json}");
    let warm = feed_bytes(dir);

    // Without the cache, and with it removed: the same feeds; --no-cache
    // neither reads nor writes it.
    fs::remove_dir_all(dir.join(".digest-feed")).unwrap();
    let (said, _) = cached_build(dir, &["--no-cache"]);
    assert!(!said.contains("build cache"), "{said}");
    assert!(!dir.join(".digest-feed").exists());
    assert_eq!(feed_bytes(dir), warm);
    let (said, _) = cached_build(dir, &[]);
    assert!(said.contains("read 4 of 4 post files"), "{said}");
    assert_eq!(feed_bytes(dir), warm);
}

#[test]
fn a_corrupt_build_cache_is_noted_and_rebuilt() {
    let blog = cached_blog();
    let dir = blog.path();
    cached_build(dir, &[]);
    let cold = feed_bytes(dir);
    fs::write(
        dir.join(".digest-feed/build-cache.json"),
        "{\"format\": 1, \"key\"",
    )
    .unwrap();
    let (said, _) = cached_build(dir, &[]);
    assert!(
        said.contains("build-cache.json: not a cache this version reads"),
        "{said}"
    );
    assert!(said.contains("read 3 of 3 post files"), "{said}");
    assert_eq!(feed_bytes(dir), cold);
    let (said, _) = cached_build(dir, &[]);
    assert!(said.contains("read 0 of 3 post files"), "{said}");
}

#[test]
fn the_build_cache_is_not_fooled() {
    let blog = cached_blog();
    let dir = blog.path();
    let post = dir.join("_posts/2024-01-02-p2.md");
    cached_build(dir, &[]);

    // The same size and the same modification time, in (here after) the
    // second the last build began: read again.
    let meta = fs::metadata(&post).unwrap();
    let racy = SystemTime::now() + Duration::from_hours(24);
    fs::write(
        &post,
        "---\ntitle: Post X\n---\nBody 2. {% include note.html %}\n",
    )
    .unwrap();
    set_modified(&post, racy);
    cached_build(dir, &[]);
    fs::write(
        &post,
        "---\ntitle: Post Y\n---\nBody 2. {% include note.html %}\n",
    )
    .unwrap();
    set_modified(&post, racy);
    assert_eq!(fs::metadata(&post).unwrap().len(), meta.len());
    let (_, json) = cached_build(dir, &[]);
    assert!(
        json.contains("Post Y") && !json.contains("Post X"),
        "{json}"
    );

    // Another post's URL, which a cached body links to, changes: the body
    // is rendered again.
    fs::write(
        &post,
        "---\ntitle: Post Y\npermalink: /moved/\n---\nBody 2. {% include note.html %}\n",
    )
    .unwrap();
    let (_, json) = cached_build(dir, &[]);
    assert!(
        json.contains("href=\\\"/moved/\\\"") || json.contains("/moved/\\\""),
        "{json}"
    );

    // A renamed file: same inode, size and time, another path and URL.
    fs::rename(
        dir.join("_posts/2024-01-01-p1.md"),
        dir.join("_posts/2024-01-01-renamed.md"),
    )
    .unwrap();
    let (_, json) = cached_build(dir, &[]);
    assert!(json.contains("/2024/01/01/renamed.html"), "{json}");
    assert!(!json.contains("/2024/01/01/p1.html"), "{json}");

    // A changed default in _config.yml: every post read again.
    let config = fs::read_to_string(dir.join("_config.yml")).unwrap();
    fs::write(dir.join("_config.yml"), config.replace("Ann", "Bob")).unwrap();
    let (said, json) = cached_build(dir, &[]);
    assert!(said.contains("read 3 of 3 post files"), "{said}");
    assert!(json.contains("Bob") && !json.contains("Ann"), "{json}");

    // A changed include: the feeds show it.
    fs::write(dir.join("_includes/note.html"), "other words\n").unwrap();
    let (_, json) = cached_build(dir, &[]);
    assert!(
        json.contains("other words") && !json.contains("included words"),
        "{json}"
    );

    // A deleted post leaves the feeds.
    fs::remove_file(dir.join("_posts/2024-01-03-p3.md")).unwrap();
    let (said, json) = cached_build(dir, &[]);
    assert!(said.contains("of 2 post files"), "{said}");
    assert!(!json.contains("Post 3"), "{json}");
}

/// A cached blog, built once: its first post, that post's metadata, and
/// its text with "Post 1" made `title` (the same length).
fn built_and_retitled(title: &str) -> (tempfile::TempDir, PathBuf, fs::Metadata, String) {
    let blog = cached_blog();
    let post = blog.path().join("_posts/2024-01-01-p1.md");
    cached_build(blog.path(), &[]);
    let before = fs::metadata(&post).unwrap();
    let text = fs::read_to_string(&post).unwrap();
    let other = text.replace("Post 1", title);
    assert_eq!(other.len(), text.len());
    (blog, post, before, other)
}

/// The build after a post was given `title` in another file of its size
/// and time: it reads that post again and the feeds show the new title.
fn read_again_as(dir: &Path, title: &str) {
    let (said, json) = cached_build(dir, &[]);
    assert!(said.contains("read 1 of 3 post files"), "{said}");
    assert!(json.contains(title) && !json.contains("Post 1"), "{json}");
}

#[test]
fn a_file_rewritten_in_place_with_its_time_put_back_is_read_again() {
    // `touch -r`, `cp -p` onto the file, a sync tool keeping times: the same
    // path, inode, size and modification time; only the change time shows it.
    let (blog, post, before, other) = built_and_retitled("Post W");
    fs::write(&post, &other).unwrap();
    set_modified(&post, before.modified().unwrap());
    let after = fs::metadata(&post).unwrap();
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            (after.ino(), after.len(), after.modified().unwrap()),
            (before.ino(), before.len(), before.modified().unwrap())
        );
    }
    read_again_as(blog.path(), "Post W");
}

#[test]
fn a_file_saved_by_rename_with_the_same_size_and_time_is_read_again() {
    // An editor that saves by writing a new file and renaming it over the
    // old one gives the post a new inode; its size and time may be the old
    // ones (a time copied back, a clock that did not move).
    let (blog, post, before, other) = built_and_retitled("Post Z");
    let staged = blog.path().join("_posts/.p1.md.swp");
    fs::write(&staged, &other).unwrap();
    set_modified(&staged, before.modified().unwrap());
    fs::rename(&staged, &post).unwrap();
    let after = fs::metadata(&post).unwrap();
    assert_eq!(
        (after.len(), after.modified().unwrap()),
        (before.len(), before.modified().unwrap())
    );
    read_again_as(blog.path(), "Post Z");
}

#[test]
fn a_cache_cut_short_is_noted_and_rebuilt() {
    let blog = cached_blog();
    let dir = blog.path();
    cached_build(dir, &[]);
    let cold = feed_bytes(dir);
    let file = dir.join(".digest-feed/build-cache.json");
    let bytes = fs::read(&file).unwrap();
    // Every cut, from inside the header to just before its last line.
    for cut in [10, bytes.len() / 2, bytes.len() - 3] {
        fs::write(&file, &bytes[..cut]).unwrap();
        let (said, _) = cached_build(dir, &[]);
        assert!(
            said.contains("build-cache.json: not a cache this version reads"),
            "{cut}: {said}"
        );
        assert!(said.contains("read 3 of 3 post files"), "{cut}: {said}");
        assert_eq!(feed_bytes(dir), cold, "{cut}");
    }
}

/// A site whose feeds are archived, two items a page, with `count` posts
/// dated two days back on disk.
fn archived_site(count: u32) -> Site {
    let site = Site::new();
    fs::remove_dir_all(site.path().join("_posts")).unwrap();
    fs::create_dir(site.path().join("_posts")).unwrap();
    fs::write(
        site.path().join("config.toml"),
        "[site]\ntitle = \"Test\"\nurl = \"https://papers.example.org\"\ntimezone = \"Asia/Seoul\"\n\n[feed]\nlimit = 2\narchive = true\n",
    )
    .unwrap();
    for day in 1..=count {
        add_day(&site, day);
    }
    site
}

fn add_day(site: &Site, day: u32) {
    write_old(
        &site.path().join(format!("_posts/2025-11-{day:02}-day.md")),
        &format!("---\ntitle: Day {day}\n---\nWords of day {day}.\n"),
    );
}

#[test]
fn an_archived_build_with_the_cache_writes_the_bytes_of_one_without() {
    let site = archived_site(9);
    let build = |args: &[&str]| {
        let output = site.run(&[&["build", "-v"], args].concat());
        assert!(output.status.success(), "{}", stderr(&output));
        stderr(&output)
    };
    build(&[]);
    let cache = site.path().join(".digest-feed/build-cache.json");
    let cold = site.outputs();
    // Nine posts, two a page: atom.xml holds two, pages 1-3 are full, 4 holds one.
    assert!(
        cold.iter().any(|(path, _)| path.ends_with("archive/4.xml")),
        "{:?}",
        cold.iter().map(|(path, _)| path).collect::<Vec<_>>()
    );
    assert!(!cold.iter().any(|(path, _)| path.ends_with("archive/5.xml")));
    let said = build(&[]);
    assert!(said.contains("read 0 of 9 post files"), "{said}");
    // The older pages' posts too: their bodies were kept, not rendered again.
    assert!(
        said.contains("rendered 9 of 9 posts\n9 of them taken from the build cache"),
        "{said}"
    );
    assert_eq!(site.outputs(), cold);
    // Nothing changed: the cache is left as it is.
    let kept = fs::metadata(&cache).unwrap().modified().unwrap();
    build(&[]);
    assert_eq!(fs::metadata(&cache).unwrap().modified().unwrap(), kept);

    // A new post: only the subscription feeds and the newest pages change.
    add_day(&site, 10);
    let said = build(&[]);
    assert!(said.contains("read 1 of 10 post files"), "{said}");
    let warm = site.outputs();
    let changed: Vec<&PathBuf> = warm
        .iter()
        .filter(|file| !cold.contains(file))
        .map(|(path, _)| path)
        .collect();
    let names: Vec<String> = changed
        .iter()
        .map(|path| {
            path.strip_prefix(site.path().join("public"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    // Page 4 fills (it gains its link to 5), page 5 is new and empty;
    // pages 1 to 3 are as they were.
    for name in &names {
        assert!(
            [
                "atom.xml",
                "feed.json",
                "feed.xml",
                "feeds.html",
                "archive/4.xml",
                "archive/4.json",
                "archive/5.xml",
                "archive/5.json",
            ]
            .contains(&name.as_str()),
            "{name} changed: {names:?}"
        );
    }
    assert!(names.contains(&"archive/5.xml".to_string()), "{names:?}");
    fs::remove_dir_all(site.path().join("public")).unwrap();
    build(&["--no-cache"]);
    assert_eq!(site.outputs(), warm);
}

/// A site of `count` posts dated two days back on disk, two items a feed,
/// no per-tag feeds nor archive: a build with the cache reads whole only
/// the newest ten (those the page for people lists).
fn newest_site(count: u32, items: &str) -> Site {
    let site = Site::new();
    fs::remove_dir_all(site.path().join("_posts")).unwrap();
    fs::create_dir(site.path().join("_posts")).unwrap();
    fs::write(
        site.path().join("config.toml"),
        format!("[site]\ntitle = \"Test\"\nurl = \"https://papers.example.org\"\ntimezone = \"Asia/Seoul\"\n\n[feed]\nlimit = 2\nitems = \"{items}\"\n"),
    )
    .unwrap();
    for day in 1..=count {
        add_day(&site, day);
    }
    site
}

/// `site`'s feeds (made by [`newest_site`] with 2) hold `limit` items.
fn with_limit(site: &Site, limit: u32) {
    let config = fs::read_to_string(site.path().join("config.toml")).unwrap();
    fs::write(
        site.path().join("config.toml"),
        config.replace("limit = 2", &format!("limit = {limit}")),
    )
    .unwrap();
}

/// `build -v` of `site`, which must succeed: its stderr.
fn build_said(site: &Site, args: &[&str]) -> String {
    let output = site.run(&[&["build", "-v"], args].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stderr(&output);
    // Every cache a build writes, the next one reads.
    assert!(!said.contains("not a cache this version reads"), "{said}");
    said
}

/// Whether the build that said `said` took the quick way; then, that its
/// outputs are byte for byte those of a build without the cache.
fn quick_and_as_without(site: &Site, said: &str) -> bool {
    let warm = site.outputs();
    fs::remove_dir_all(site.path().join("public")).unwrap();
    build_said(site, &["--no-cache"]);
    assert_eq!(site.outputs(), warm, "{said}");
    said.contains("the others known from the build cache") && !said.contains("every post read")
}

#[test]
fn a_build_from_the_cache_reads_only_what_changed_and_writes_the_bytes_of_one_without() {
    let site = newest_site(14, "posts");
    let posts = site.path().join("_posts");
    build_said(&site, &[]);
    let said = build_said(&site, &[]);
    assert!(said.contains("read 0 of 14 post files"), "{said}");
    assert!(quick_and_as_without(&site, &said), "{said}");

    // Two new posts.
    add_day(&site, 15);
    add_day(&site, 16);
    let said = build_said(&site, &[]);
    assert!(said.contains("read 2 of 16 post files"), "{said}");
    assert!(
        said.contains("the newest 10 of 16 posts read whole"),
        "{said}"
    );
    assert!(quick_and_as_without(&site, &said), "{said}");
    let json = fs::read_to_string(site.path().join("public/feed.json")).unwrap();
    assert!(json.contains("Day 16") && json.contains("Day 15"), "{json}");

    // One file written, then a build the quick way that reads it alone.
    let one_written = |name: &str, text: &str| {
        write_old(&posts.join(name), text);
        let said = build_said(&site, &[]);
        assert!(said.contains("read 1 of 17 post files"), "{said}");
        assert!(quick_and_as_without(&site, &said), "{said}");
    };
    // A new post dated before every other.
    one_written("2025-10-30-late.md", "---\ntitle: Late\n---\nLate words.\n");
    // A post edited in place: what it says now.
    one_written(
        "2025-11-16-day.md",
        "---\ntitle: Day 16 edited\n---\nNew words.\n",
    );
    let json = fs::read_to_string(site.path().join("public/feed.json")).unwrap();
    assert!(json.contains("Day 16 edited"), "{json}");

    // A post removed: the next newest takes its place.
    fs::remove_file(posts.join("2025-11-16-day.md")).unwrap();
    let said = build_said(&site, &[]);
    assert!(said.contains("read 0 of 16 post files"), "{said}");
    assert!(quick_and_as_without(&site, &said), "{said}");
    let json = fs::read_to_string(site.path().join("public/feed.json")).unwrap();
    assert!(
        !json.contains("Day 16") && json.contains("Day 14"),
        "{json}"
    );

    // A new post at an older post's URL: every post is read, as the
    // shared-URL check needs, and Jekyll's order and ids still hold.
    write_old(
        &posts.join("2025-11-20-clash.md"),
        "---\ntitle: Clash\npermalink: /2025/11/15/day.html\n---\nClash.\n",
    );
    let said = build_said(&site, &[]);
    assert!(!quick_and_as_without(&site, &said), "{said}");
    // And so does the build after it: its posts share a URL.
    let said = build_said(&site, &[]);
    assert!(said.contains("read 0 of 17 post files"), "{said}");
    assert!(!quick_and_as_without(&site, &said), "{said}");
}

#[test]
fn a_build_from_the_cache_finds_its_files_however_the_posts_folder_is_spelled() {
    // The cache's files are looked up by their names in the open posts
    // folder: each spelling of the folder, with a post in a folder, one
    // through a linked folder and one whose name is not UTF-8.
    use std::os::unix::ffi::OsStrExt;
    let site = newest_site(12, "posts");
    let posts = site.path().join("_posts");
    let post = |title: &str| format!("---\ntitle: {title}\n---\nWords.\n");
    fs::create_dir(posts.join("2025")).unwrap();
    write_old(&posts.join("2025/2025-10-01-folder.md"), &post("Folder"));
    let elsewhere = site.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    write_old(&elsewhere.join("2025-10-02-linked.md"), &post("Linked"));
    std::os::unix::fs::symlink(&elsewhere, posts.join("linked")).unwrap();
    let latin1 = std::ffi::OsStr::from_bytes(b"2025-10-03-caf\xe9.md");
    write_old(&posts.join(latin1), &post("Latin-1"));
    let absolute = posts.to_str().unwrap().to_string();
    let slashed = format!("{absolute}/");
    let spellings = [
        "_posts", "_posts/", "./_posts", "_posts//", &absolute, &slashed,
    ];
    let mut files = 15;
    for (day, spelling) in (20..).zip(spellings) {
        // Another spelling is another cache: every post read once.
        build_said(&site, &["--posts", spelling]);
        let said = build_said(&site, &["--posts", spelling]);
        assert!(
            said.contains(&format!("read 0 of {files} post files")),
            "{spelling}: {said}"
        );
        files += 1;
        write_old(&posts.join(format!("2025-11-{day}-new.md")), &post("New"));
        let said = build_said(&site, &["--posts", spelling]);
        assert!(
            said.contains(&format!("read 1 of {files} post files")),
            "{spelling}: {said}"
        );
        assert!(quick_and_as_without(&site, &said), "{spelling}: {said}");
    }
}

#[test]
fn newest_posts_that_do_not_fill_the_feeds_are_built_again_from_every_post() {
    // Papers feeds of posts without papers: the newest ten give no item.
    let site = newest_site(14, "papers");
    build_said(&site, &[]);
    add_day(&site, 15);
    let said = build_said(&site, &[]);
    assert!(
        said.contains("the newest posts do not fill the feeds: every post read"),
        "{said}"
    );
    assert!(!quick_and_as_without(&site, &said), "{said}");
}

#[test]
fn a_damaged_model_in_the_build_cache_is_rebuilt_not_a_stop() {
    let site = newest_site(3, "posts");
    build_said(&site, &[]);
    // Damaged where the summary does not look: the newest post's title.
    let cache = site.path().join(".digest-feed/build-cache.json");
    let mut bytes = fs::read(&cache).unwrap();
    let (title, number) = (b"\"title\":\"Day 3\"", b"\"title\":1234567");
    // The same length, so that the table's offsets still hold.
    let at = bytes
        .windows(title.len())
        .position(|window| window == title)
        .unwrap();
    bytes[at..at + title.len()].copy_from_slice(number);
    fs::write(&cache, &bytes).unwrap();
    let said = build_said(&site, &[]);
    assert!(
        said.contains(
            "does not read (the file is damaged); every post read again and the cache rebuilt"
        ),
        "{said}"
    );
    assert_eq!(said.matches("warning:").count(), 1, "{said}");
    let json = fs::read_to_string(site.path().join("public/feed.json")).unwrap();
    assert!(json.contains("Day 3"), "{json}");
    // Rebuilt: the next build reads no post and warns of nothing.
    let said = build_said(&site, &[]);
    assert!(said.contains("read 0 of 3 post files"), "{said}");
    assert!(!said.contains("warning:"), "{said}");
    assert!(quick_and_as_without(&site, &said), "{said}");
}

#[test]
fn a_post_dated_before_1678_keeps_its_place_in_a_build_from_the_cache() {
    let site = newest_site(2, "posts");
    with_limit(&site, 5);
    write_old(
        &site.path().join("_posts/1600-01-01-old.md"),
        "---\ntitle: Old\n---\nOld words.\n",
    );
    build_said(&site, &[]);
    let said = build_said(&site, &[]);
    let json = fs::read_to_string(site.path().join("public/feed.json")).unwrap();
    assert!(json.contains("Old words"), "{said}\n{json}");
    // And byte for byte what a build without the cache writes.
    quick_and_as_without(&site, &said);
}

#[test]
fn a_fifo_where_the_build_cache_goes_is_not_waited_on() {
    let site = newest_site(2, "posts");
    fs::create_dir_all(site.path().join(".digest-feed")).unwrap();
    let cache = site.path().join(".digest-feed/build-cache.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&cache)
        .status()
        .unwrap();
    assert!(made.success());
    let said = build_said(&site, &[]);
    assert!(
        said.contains("not a plain file, ignored and rebuilt"),
        "{said}"
    );
    // The build put a cache file in its place, which the next build reads.
    assert!(fs::metadata(&cache).unwrap().is_file());
    let said = build_said(&site, &[]);
    assert!(said.contains("read 0 of 2 post files"), "{said}");
}

#[test]
fn a_cache_that_cannot_be_written_costs_a_warning_that_says_what_the_next_build_reads() {
    // The cache is replaced whole or not at all: when it cannot be, the
    // one before stays (here there is none), and the build still succeeds.
    let site = newest_site(2, "posts");
    fs::create_dir_all(site.path().join(".digest-feed/build-cache.json/in-the-way")).unwrap();
    let said = build_said(&site, &[]);
    assert!(
        said.contains("build-cache.json: it is a folder")
            && said.contains("the build cache was not updated, so the next build reads again the posts this one read"),
        "{said}"
    );
    assert!(site.path().join("public/feed.xml").is_file(), "{said}");
    let said = build_said(&site, &[]);
    assert!(said.contains("the build cache was not updated"), "{said}");
}

#[test]
fn a_build_that_starts_again_the_slow_way_warns_once() {
    // The quick way renders the new post (and warns), finds the feeds
    // unfilled and starts again: the warning and the -v lines of the
    // abandoned attempt are not told.
    let site = newest_site(14, "papers");
    build_said(&site, &[]);
    write_old(
        &site.path().join("_posts/2025-11-15-day.md"),
        "---\ntitle: Day 15\n---\nWords. {% nonsense_tag %}\n",
    );
    let said = build_said(&site, &[]);
    assert!(
        said.contains("the newest posts do not fill the feeds: every post read"),
        "{said}"
    );
    assert_eq!(said.matches("nonsense_tag").count(), 1, "{said}");
    assert_eq!(said.matches(" published posts in ").count(), 1, "{said}");
}

#[test]
fn posts_rendered_side_by_side_warn_newest_first_and_only_those_the_feeds_show() {
    let site = newest_site(0, "posts");
    with_limit(&site, 6);
    for day in 1..=8 {
        write_old(
            &site.path().join(format!("_posts/2025-11-{day:02}-day.md")),
            &format!("---\ntitle: Day {day}\n---\nWords of day {day}. {{% nonsense_{day} %}}\n"),
        );
    }
    // The files each warning names, in the order the build printed them.
    let warned = |said: &str| -> Vec<String> {
        said.lines()
            .filter(|line| line.contains("nonsense_"))
            .map(|line| line[line.find("2025-11-").unwrap()..][..10].to_string())
            .collect()
    };
    let cold = build_said(&site, &[]);
    let newest_six: Vec<String> = (3..=8)
        .rev()
        .map(|day| format!("2025-11-{day:02}"))
        .collect();
    assert_eq!(warned(&cold), newest_six, "{cold}");
    let rendered = site.outputs();
    fs::remove_dir_all(site.path().join("public")).unwrap();
    let without = build_said(&site, &["--no-cache"]);
    assert_eq!(warned(&without), newest_six, "{without}");
    assert_eq!(site.outputs(), rendered);
}

#[test]
fn a_build_from_the_cache_tells_its_outputs_in_order_and_leaves_a_cache_the_next_reads() {
    // The main feeds are made, and every output staged, while the next
    // build's cache is written beside them: the outputs still come in
    // their order, and the cache is whole.
    let blog = cached_blog();
    let dir = blog.path();
    cached_build(dir, &[]);
    write_old(
        &dir.join("_posts/2024-01-04-p4.md"),
        "---\ntitle: Post 4\n---\nBody 4.\n",
    );
    let (told, _) = cached_build(dir, &[]);
    assert!(told.contains("read 1 of 4 post files"), "{told}");
    let outputs: Vec<&str> = told
        .lines()
        .filter_map(|line| line.split_once("wrote ").map(|(_, path)| path))
        .collect();
    let names: Vec<&str> = outputs
        .iter()
        .filter_map(|path| Path::new(path).file_name()?.to_str())
        .collect();
    assert_eq!(
        names,
        ["feed.xml", "atom.xml", "feed.json", "feeds.html"],
        "{told}"
    );
    let (again, _) = cached_build(dir, &[]);
    assert!(again.contains("read 0 of 4 post files"), "{again}");
    assert!(!again.contains("wrote "), "{again}");
}

#[test]
fn a_folder_where_a_later_output_goes_replaces_no_output_before_it() {
    // The quick way from the cache (no per-tag feeds) and the slow way:
    // the feeds are replaced one after another at the end, and a folder
    // where the third goes must stop the build before the first is.
    for per_tag in [false, true] {
        let site = newest_site(4, "posts");
        if per_tag {
            let config = fs::read_to_string(site.path().join("config.toml")).unwrap();
            fs::write(
                site.path().join("config.toml"),
                config.replace("[feed]\n", "[feed]\nper_tag = true\n"),
            )
            .unwrap();
        }
        build_said(&site, &[]);
        let json = site.path().join("public/feed.json");
        fs::remove_file(&json).unwrap();
        fs::create_dir(&json).unwrap();
        let before = site.outputs();
        add_day(&site, 5);
        let output = site.run(&["build"]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("cannot replace public/feed.json: it is a folder"),
            "{}",
            stderr(&output)
        );
        assert_eq!(
            site.outputs(),
            before,
            "no output replaced (per_tag {per_tag})"
        );
        // With the folder gone, the next build writes every output, and
        // from the cache the bytes of a build without it.
        fs::remove_dir(&json).unwrap();
        let said = build_said(&site, &[]);
        let written = fs::read_to_string(&json).unwrap();
        assert!(written.contains("Day 5"), "{written}");
        if !per_tag {
            assert!(quick_and_as_without(&site, &said), "{said}");
        }
    }
}

/// The staged files (`.digest-feed-…`) in `dir`.
fn staged_in(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".digest-feed-"))
        .collect()
}

/// `build` in `site` under a file size limit of `kib` KiB, at which the
/// kernel kills it (SIGXFSZ) as it writes a file bigger than that.
fn build_killed_at(site: &Site, kib: u32, args: &str) {
    let bin = BIN;
    let killed = Command::new("bash")
        .current_dir(site.path())
        .args(["-c", &format!("ulimit -f {kib}; exec {bin} build {args}")])
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), None, "{}", stderr(&killed));
}

#[test]
fn the_files_a_killed_build_staged_are_removed_by_the_next() {
    // Killed as it stages its first feed (no cache written beside it).
    let site = newest_site(12, "posts");
    with_limit(&site, 10);
    build_said(&site, &[]);
    add_day(&site, 13);
    build_killed_at(&site, 1, "--no-cache");
    let public = site.path().join("public");
    assert!(
        !staged_in(&public).is_empty(),
        "the kill left a staged file"
    );
    let said = build_said(&site, &[]);
    assert_eq!(staged_in(&public), Vec::<String>::new(), "{said}");
    let json = fs::read_to_string(public.join("feed.json")).unwrap();
    assert!(json.contains("Day 13"), "{json}");
    assert!(quick_and_as_without(&site, &said), "{said}");

    // Killed as it writes the next build's cache, the one file past 8 KiB.
    let site = newest_site(28, "posts");
    with_limit(&site, 1);
    let state = site.path().join(".digest-feed");
    fs::create_dir_all(&state).unwrap();
    build_killed_at(&site, 8, "");
    assert!(
        !staged_in(&state).is_empty(),
        "the kill left a staged cache"
    );
    let said = build_said(&site, &[]);
    assert_eq!(staged_in(&state), Vec::<String>::new(), "{said}");
    assert_eq!(staged_in(&site.path().join("public")), Vec::<String>::new());
    let said = build_said(&site, &[]);
    assert!(quick_and_as_without(&site, &said), "{said}");
}

#[test]
fn a_fifo_where_an_output_goes_is_not_waited_on() {
    // Read to compare with the new bytes, a FIFO would block the build
    // until something wrote to it: it is replaced as a changed file is.
    let site = newest_site(2, "posts");
    build_said(&site, &[]);
    let json = site.path().join("public/feed.json");
    let before = fs::read(&json).unwrap();
    fs::remove_file(&json).unwrap();
    let made = Command::new("mkfifo").arg(&json).status().unwrap();
    assert!(made.success());
    let said = build_said(&site, &[]);
    assert!(said.contains("wrote public/feed.json"), "{said}");
    assert!(fs::metadata(&json).unwrap().is_file());
    assert_eq!(fs::read(&json).unwrap(), before);
    let said = build_said(&site, &[]);
    assert!(said.contains("unchanged public/feed.json"), "{said}");
}

#[test]
fn a_fifo_in_the_includes_is_not_waited_on_by_the_build_cache() {
    // Every file of `_includes/` is read for the key of the bodies kept: a
    // FIFO there would wait for a writer for good. No body is kept then.
    let blog = cached_blog();
    let dir = blog.path();
    let made = Command::new("mkfifo")
        .arg(dir.join("_includes/pipe.html"))
        .status()
        .unwrap();
    assert!(made.success());
    let (_, cold) = cached_build(dir, &["--no-cache"]);
    let (said, warm) = cached_build(dir, &[]);
    assert_eq!(warm, cold, "{said}");
    let (said, warm) = cached_build(dir, &[]);
    assert_eq!(warm, cold, "{said}");
    assert!(said.contains("read 0 of 3 post files"), "{said}");
}
