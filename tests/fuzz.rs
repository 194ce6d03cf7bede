//! A mutation fuzzer over whole posts (front matter and Markdown body): the
//! fixtures and the example posts, mutated with byte flips, hostile tokens,
//! long repeats and splices, given to the built binary's `check`, `build`
//! (posts and papers items, tag feeds) and `mail --dry-run`. Each run must
//! end within its CPU-time cap and under a memory cap, with exit 0, 1 or 2 and
//! no panic; the XML feeds must hold no character XML forbids, nor a script.
//!
//! In the suite it runs [`CASES`] sites from the fixed seed [`SEED`]: the same
//! sites on every run, so a failure in CI is one anybody can replay. Asked
//! for, it goes further (see docs/src/fuzzing.md): `DIGEST_FEED_FUZZ_RANDOM=1`
//! starts from a random seed, `DIGEST_FEED_FUZZ_CASES=N` runs N sites, and
//! `DIGEST_FEED_FUZZ_SECONDS=600 cargo test --release --test fuzz` runs for
//! that long instead. `DIGEST_FEED_FUZZ_SEED` replays one seed; a failing
//! site is kept and named.

use std::fs;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_digest-feed");
/// CPU seconds per command (`ulimit -t`): work done, not time passed, so a
/// busy machine never fails a case; a debug build's case takes well under
/// one. Past it the kernel ends the command (SIGXCPU), which is reported.
const CPU_LIMIT_SECONDS: u64 = 60;
/// Virtual memory per command, in KiB (`ulimit -v`): past it an allocation
/// fails and the process aborts, which the fuzzer reports.
const MEMORY_LIMIT_KIB: u64 = 4 * 1024 * 1024;
const POSTS_PER_SITE: usize = 6;
/// The first seed of a run nobody asked to be random.
const SEED: u64 = 2_816_212_710;
/// Sites in a run nobody asked to be longer: a few seconds in a debug build.
const CASES: u64 = 20;
const MAX_POST_BYTES: usize = 512 * 1024;

/// Pieces that break parsers: Markdown and HTML structure, YAML syntax,
/// links with schemes, and the characters XML forbids.
const TOKENS: &[&str] = &[
    "<div>",
    "</x>",
    "</div>",
    "&",
    "&amp;",
    "&#0;",
    "&#x1;",
    "[^1]",
    "[^1]: note\n",
    "| a | b |\n",
    "|---|---|\n",
    "---\n",
    "...\n",
    "\n",
    "\r\n",
    "> ",
    "- ",
    "1. ",
    "# 1. [T](javascript:x)\n",
    "# 2. [T](https://e.org/)\n",
    "*",
    "_",
    "`",
    "```\n",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"javascript:x\">",
    "<blockquote cite=\"javascript:x\">",
    "{{ site.title }}",
    "{% raw %}",
    "\u{c}",
    "\u{1}",
    "\u{fffe}",
    "\u{ffff}",
    "\u{0}",
    "]]>",
    "[a]: javascript:x\n",
    "title: ",
    "date: ",
    "tags: ",
    "&a ",
    "*a",
    "!!binary ",
    "? ",
    "{",
    "[",
    "\"",
    "'",
    ": ",
    "    ",
    "\t",
    "é",
    "\u{a0}",
    "·",
    "김",
    "<table>",
    "<tr><td>",
    "<svg onload=x>",
];

fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds = Vec::new();
    for dir in [
        "tests/fixtures/good",
        "tests/fixtures/bad",
        "tests/fixtures/hostile",
        "tests/fixtures/jekyll/_posts",
        "example/_posts",
    ] {
        let mut paths: Vec<PathBuf> = fs::read_dir(root.join(dir))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.is_file())
            .collect();
        paths.sort();
        seeds.extend(paths.iter().map(|path| fs::read(path).unwrap()));
    }
    seeds
}

/// One mutation of `post` in place.
fn mutate(rng: &mut fastrand::Rng, post: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let at = rng.usize(..=post.len());
    match rng.u8(..6) {
        0 if !post.is_empty() => {
            let at = rng.usize(..post.len());
            post[at] = rng.u8(..);
        }
        1 => {
            let token = TOKENS[rng.usize(..TOKENS.len())].as_bytes();
            post.splice(at..at, token.iter().copied());
        }
        2 => {
            // A token or a slice of the post repeated: nesting and blow-ups.
            let piece: Vec<u8> = if rng.bool() || post.is_empty() {
                TOKENS[rng.usize(..TOKENS.len())].as_bytes().to_vec()
            } else {
                let start = rng.usize(..post.len());
                post[start..post.len().min(start + rng.usize(1..64))].to_vec()
            };
            let times = [2, 10, 100, 1_000, 20_000][rng.usize(..5)];
            let repeated = piece.repeat(times.min(MAX_POST_BYTES / piece.len().max(1)));
            post.splice(at..at, repeated);
        }
        3 => post.truncate(at),
        4 => {
            let other = &seeds[rng.usize(..seeds.len())];
            let from = rng.usize(..=other.len());
            post.truncate(at);
            post.extend_from_slice(&other[from..]);
        }
        _ => {
            let end = (at + rng.usize(..256)).min(post.len());
            post.drain(at..end);
        }
    }
    post.truncate(MAX_POST_BYTES);
}

/// Runs `digest-feed ARGS` in `site` under the limits: a description of what
/// went wrong, if anything did.
fn run(site: &Path, args: &[&str]) -> Option<String> {
    let command = format!(
        "ulimit -v {MEMORY_LIMIT_KIB}; ulimit -t {CPU_LIMIT_SECONDS}; exec \"$0\" \"$@\" >/dev/null 2>stderr.txt"
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .arg(BIN)
        .args(args)
        .current_dir(site)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    // SIGXCPU, or SIGKILL at the hard limit: the command worked past its cap.
    if matches!(status.signal(), Some(24 | 9)) {
        return Some(format!(
            "`{}` worked past {CPU_LIMIT_SECONDS} CPU seconds ({status})",
            args.join(" ")
        ));
    }
    let stderr = fs::read_to_string(site.join("stderr.txt")).unwrap_or_default();
    let known = matches!(status.code(), Some(0..=2));
    (!known || stderr.contains("panicked")).then(|| {
        format!(
            "`{}` ended with {status}: {}",
            args.join(" "),
            stderr.chars().take(2000).collect::<String>()
        )
    })
}

/// What is wrong with the XML feeds written, if anything.
fn audit_feeds(site: &Path) -> Option<String> {
    let mut pending = vec![site.join("public")];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "xml") {
                continue;
            }
            let text = fs::read_to_string(&path).unwrap();
            let forbidden = |c: char| matches!(c, '\0'..='\x08' | '\x0B' | '\x0C' | '\x0E'..='\x1F' | '\u{FFFE}' | '\u{FFFF}');
            if text.contains(forbidden) {
                return Some(format!("{} holds a character XML forbids", path.display()));
            }
            if text.to_ascii_lowercase().contains("<script") {
                return Some(format!("{} holds a <script", path.display()));
            }
        }
    }
    None
}

fn write_site(site: &Path, posts: &[Vec<u8>], papers: bool) {
    let _ = fs::remove_dir_all(site);
    fs::create_dir_all(site.join("_posts")).unwrap();
    let items = if papers { "papers" } else { "posts" };
    fs::write(
        site.join("config.toml"),
        format!(
            "[site]\ntitle = \"Fuzz\"\nurl = \"https://papers.example.org\"\ntimezone = \"Asia/Seoul\"\n\n\
             [feed]\nlimit = 1000\nitems = \"{items}\"\nper_tag = true\n\n\
             [email]\nfrom = \"papers@example.org\"\n\n[[subscribers]]\nemail = \"reader@example.org\"\n"
        ),
    )
    .unwrap();
    for (index, post) in posts.iter().enumerate() {
        fs::write(
            site.join("_posts")
                .join(format!("2025-12-{:02}-fuzz-{index}.md", index + 1)),
            post,
        )
        .unwrap();
    }
}

/// One seed's site: every command, then the feeds' audit.
fn one_case(seed: u64, seeds: &[Vec<u8>], site: &Path) -> Option<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let posts: Vec<Vec<u8>> = (0..POSTS_PER_SITE)
        .map(|_| {
            let mut post = seeds[rng.usize(..seeds.len())].clone();
            for _ in 0..rng.usize(1..8) {
                mutate(&mut rng, &mut post, seeds);
            }
            post
        })
        .collect();
    write_site(site, &posts, rng.bool());
    for args in [&["check"][..], &["build", "--skip-invalid"]] {
        if let Some(problem) = run(site, args) {
            return Some(problem);
        }
    }
    if let Some(problem) = audit_feeds(site) {
        return Some(problem);
    }
    // `mail` stops at any invalid post: one post alone, for the email's path.
    let kept = rng.usize(..POSTS_PER_SITE);
    write_site(site, &posts[kept..=kept], false);
    for args in [&["mail", "--dry-run"][..], &["preview"]] {
        if let Some(problem) = run(site, args) {
            return Some(problem);
        }
    }
    None
}

#[test]
fn mutated_posts_never_crash_hang_or_leak_script() {
    let number = |name: &str| -> Option<u64> { std::env::var(name).ok()?.parse().ok() };
    let seconds = number("DIGEST_FEED_FUZZ_SECONDS").map(Duration::from_secs);
    let wanted = number("DIGEST_FEED_FUZZ_CASES").unwrap_or(CASES);
    let only = number("DIGEST_FEED_FUZZ_SEED");
    let random = std::env::var_os("DIGEST_FEED_FUZZ_RANDOM").is_some_and(|v| v != "0");
    let seeds = seeds();
    let work = tempfile::tempdir().unwrap();
    let site = work.path().join("site");
    let started = Instant::now();
    let first = only.unwrap_or_else(|| {
        if random {
            fastrand::u64(..1 << 32)
        } else {
            SEED
        }
    });
    let mut cases = 0;
    let mut seed = first;
    loop {
        if let Some(problem) = one_case(seed, &seeds, &site) {
            let kept = std::env::temp_dir().join(format!("digest-feed-fuzz-{seed}"));
            let _ = fs::remove_dir_all(&kept);
            fs::rename(&site, &kept).unwrap();
            panic!(
                "seed {seed} (replay: DIGEST_FEED_FUZZ_SEED={seed}); the site is kept in {}: {problem}",
                kept.display()
            );
        }
        cases += 1;
        seed += 1;
        let enough = match seconds {
            Some(seconds) => started.elapsed() > seconds,
            None => wanted <= seed - first,
        };
        if only.is_some() || enough {
            break;
        }
    }
    eprintln!(
        "fuzz: {cases} sites of {POSTS_PER_SITE} posts (seeds {first}..{seed}) in {:.0?}, no failure",
        started.elapsed()
    );
}
