//! End-to-end tests of `init` and `completions`: a started site works as it is.

use std::fs;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_digest-feed");

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn init_starts_a_site_that_builds_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("blog");
    let first = run(dir.path(), &["init", "blog"]);
    assert!(first.status.success(), "{}", text(&first));
    for file in ["config.toml", "templates/email.html", "templates/email.txt"] {
        assert!(site.join(file).is_file(), "{file}");
        assert!(
            text(&first).contains(&format!("created blog/{file}")),
            "{}",
            text(&first)
        );
    }
    let posts: Vec<_> = fs::read_dir(site.join("_posts")).unwrap().collect();
    assert_eq!(posts.len(), 1);

    // The started site is valid as it is: check, build and a dry run pass.
    let check = run(&site, &["check"]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(
        text(&check).contains("email templates compile; 1 subscriber\n"),
        "{}",
        text(&check)
    );
    let build = run(&site, &["build"]);
    assert!(build.status.success(), "{}", text(&build));
    assert!(site.join("public/feed.xml").is_file());
    let dry = run(&site, &["mail", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(
        text(&dry).contains("would send to Reader <reader@example.org>"),
        "{}",
        text(&dry)
    );

    // A second init keeps every file, edited or not.
    fs::write(site.join("config.toml"), "# mine\n").unwrap();
    let second = run(dir.path(), &["init", "blog"]);
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        text(&second).contains("kept blog/config.toml (it exists)"),
        "{}",
        text(&second)
    );
    assert_eq!(
        fs::read_to_string(site.join("config.toml")).unwrap(),
        "# mine\n"
    );
    // The example post, once deleted, is never put back: the next cron run would mail it.
    for post in fs::read_dir(site.join("_posts")).unwrap() {
        fs::remove_file(post.unwrap().path()).unwrap();
    }
    assert!(run(dir.path(), &["init", "blog"]).status.success());
    assert_eq!(fs::read_dir(site.join("_posts")).unwrap().count(), 0);
}

#[test]
fn init_writes_the_config_that_config_names() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["--config", "my.toml", "init"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(dir.path().join("my.toml").is_file());
    assert!(!dir.path().join("config.toml").exists());
    assert!(
        text(&output).contains("`digest-feed --config my.toml build`"),
        "{}",
        text(&output)
    );
    let check = run(dir.path(), &["--config", "my.toml", "check"]);
    assert!(check.status.success(), "{}", text(&check));
}

#[test]
fn completions_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let output = run(dir.path(), &["completions", shell]);
        assert!(output.status.success(), "{shell}: {}", text(&output));
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("preview"),
            "{shell}"
        );
    }
    let bad = run(dir.path(), &["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// What bash offers for the words typed so far, from the script `completions bash` prints.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("digest-feed.bash");
    let output = run(dir.path(), &["completions", "bash"]);
    fs::write(&script, &output.stdout).unwrap();
    let line = words.join(" ");
    let program = format!(
        "source {script}; COMP_WORDS=({line}); COMP_CWORD={last}; \
         _digest__feed digest-feed {cur} {prev}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script = script.display(),
        last = words.len() - 1,
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let output = Command::new("bash")
        .args(["-c", &program])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn bash_completes_options_after_a_subcommand() {
    assert_eq!(
        bash_completes(&["digest-feed", "mail", "--d"]),
        ["--dry-run"]
    );
    assert_eq!(
        bash_completes(&["digest-feed", "build", "--sk"]),
        ["--skip-invalid"]
    );
    assert!(bash_completes(&["digest-feed", "li"]).contains(&"links".to_string()));
    assert!(bash_completes(&["digest-feed", "completions", "f"]).contains(&"fish".to_string()));
}

/// A Jekyll blog: its `_config.yml` and an empty `_posts`, kept in git.
fn jekyll_blog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("_config.yml"),
        "title: Blog\nurl: https://e.org\n",
    )
    .unwrap();
    fs::create_dir(dir.path().join("_posts")).unwrap();
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(git.success());
    dir
}

/// `init` makes private files (the delivery state, the list's key, a
/// subscribers CSV, a DKIM key): its `.gitignore` keeps each out of `git
/// add -A`, and a `.gitignore` of the blog's own only gains the lines it
/// lacks.
#[test]
fn init_ignores_every_private_file_and_keeps_the_blogs_gitignore() {
    let dir = jekyll_blog();
    let blog = dir.path();
    fs::write(blog.join(".gitignore"), "_site\n/_digest-feed/secret\n").unwrap();
    let first = run(blog, &["init"]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("added 6 lines to ./.gitignore"),
        "{}",
        text(&first)
    );
    let ignore = fs::read_to_string(blog.join(".gitignore")).unwrap();
    assert!(
        ignore.starts_with("_site\n/_digest-feed/secret\n# digest-feed: "),
        "{ignore}"
    );
    assert_eq!(
        ignore.matches("/_digest-feed/secret").count(),
        1,
        "{ignore}"
    );

    let again = run(blog, &["init"]);
    assert!(
        text(&again).contains("kept ./.gitignore (it ignores every private file)"),
        "{}",
        text(&again)
    );
    assert_eq!(fs::read_to_string(blog.join(".gitignore")).unwrap(), ignore);

    // What git itself makes of it: every private file ignored, the config and templates not.
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(blog)
            .output()
            .unwrap()
    };
    for private in [
        "_digest-feed/state.db",
        "_digest-feed/state.db-wal",
        "_digest-feed/state.db.lock",
        "_digest-feed/secret",
        "_digest-feed/.digest-feed/secret",
        "_digest-feed/subscribers.csv",
        "_digest-feed/dkim.pem",
        ".digest-feed/preview.html",
        // Not private, but build's cache is no source to commit either.
        "_digest-feed/build-cache.json",
    ] {
        let check = git(&["check-ignore", "-q", private]);
        assert!(
            check.status.success(),
            "{private} is not ignored:\n{ignore}"
        );
    }
    for public in [
        "_digest-feed/config.toml",
        "_digest-feed/templates/email.html",
        "feed.xml",
    ] {
        let check = git(&["check-ignore", "-q", public]);
        assert!(!check.status.success(), "{public} is ignored:\n{ignore}");
    }
}

/// In a blog kept in git, `[[subscribers]]` in the committed config would
/// publish every address: `check` says so, naming the line, and where to
/// move them; a CSV (ignored by init's `.gitignore`) silences it.
#[test]
fn check_warns_of_subscribers_in_a_config_committed_with_the_blog() {
    let dir = jekyll_blog();
    let blog = dir.path();
    assert!(run(blog, &["init"]).status.success());
    let check = run(blog, &["check"]);
    assert!(check.status.success(), "{}", text(&check));
    let config = fs::read_to_string(blog.join("_digest-feed/config.toml")).unwrap();
    let line = config
        .lines()
        .position(|line| line == "email = \"reader@example.org\"")
        .unwrap()
        + 1;
    assert!(
        text(&check).contains(&format!(
            "warning: _digest-feed/config.toml:{line}: [[subscribers]] in the config are committed with the blog"
        )),
        "{}",
        text(&check)
    );

    let start = config.find("\n[[subscribers]]").unwrap();
    let moved = config[..start].replace("# subscribers_file", "subscribers_file");
    fs::write(blog.join("_digest-feed/config.toml"), moved).unwrap();
    fs::write(
        blog.join("_digest-feed/subscribers.csv"),
        "email,name,tags\nreader@example.org,Reader,\n",
    )
    .unwrap();
    let check = run(blog, &["check"]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(
        !text(&check).contains("[[subscribers]]"),
        "{}",
        text(&check)
    );
    let ignored = Command::new("git")
        .args(["check-ignore", "-q", "_digest-feed/subscribers.csv"])
        .current_dir(blog)
        .status()
        .unwrap();
    assert!(ignored.success());
}
