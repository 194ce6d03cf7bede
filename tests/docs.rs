//! The documentation against the code: the configuration reference lists
//! exactly the keys the config parser accepts (as the binary itself names
//! them when it meets an unknown key), and every relative link in the
//! README, ARCHITECTURE.md and the user guide resolves to a file (and a
//! heading, when it names one).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_digest-feed");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The reference page's tables: a heading such as ``## `[site]` ``, then rows such as ``| `url` | … |``.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let page = fs::read_to_string(Path::new(ROOT).join("docs/src/reference.md")).unwrap();
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current = None;
    for line in page.lines() {
        if let Some(heading) = line.strip_prefix("## `[") {
            let name = heading.trim_end_matches(['`', ']']).trim_start_matches('[');
            tables.entry(name.to_string()).or_default();
            current = Some(name.to_string());
        } else if let (Some(table), Some(row)) = (&current, line.strip_prefix("| `")) {
            let key = row.split('`').next().unwrap();
            tables.get_mut(table).unwrap().insert(key.to_string());
        }
    }
    tables
}

/// The keys the parser accepts in `table` (`""`: the top level), from its
/// own error for an unknown key: "expected one of `a`, `b`" (or "expected `a`").
fn accepted(table: &str) -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let text = match table {
        "" => "not_a_key_anywhere = 1\n".to_string(),
        "subscribers" => {
            "[[subscribers]]\nemail = \"a@example.org\"\nnot_a_key_anywhere = 1\n".to_string()
        }
        _ => format!("[{table}]\nnot_a_key_anywhere = 1\n"),
    };
    fs::write(dir.path().join("config.toml"), text).unwrap();
    let output = Command::new(BIN)
        .arg("check")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let expected = stderr
        .split_once("unknown field `not_a_key_anywhere`, expected ")
        .unwrap_or_else(|| panic!("[{table}]: no list of keys in {stderr}"))
        .1
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("one of ");
    expected
        .split(", ")
        .map(|key| key.trim_matches('`').to_string())
        .collect()
}

#[test]
fn the_config_reference_lists_exactly_the_keys_the_parser_accepts() {
    let documented = documented();
    let top: BTreeSet<String> = documented
        .keys()
        .filter_map(|name| name.split('.').next())
        .map(String::from)
        .collect();
    assert_eq!(
        accepted(""),
        top,
        "the reference's tables are not the config's"
    );
    for (table, keys) in &documented {
        // A sub-table (`[email.dkim]`) is a key of its parent.
        let mut expected = keys.clone();
        for other in documented.keys() {
            if let Some(child) = other.strip_prefix(&format!("{table}.")) {
                expected.insert(child.to_string());
            }
        }
        assert_eq!(
            accepted(table),
            expected,
            "docs/src/reference.md's [{table}] differs from what the parser accepts"
        );
    }
}

/// Every Markdown file a reader of the repository or the guide meets.
fn pages() -> Vec<PathBuf> {
    let root = Path::new(ROOT);
    let mut pages = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    let mut guide: Vec<PathBuf> = fs::read_dir(root.join("docs/src"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    guide.sort();
    pages.extend(guide);
    pages
}

/// The link targets of `text`: `](target)` and `](target "title")`, outside code.
fn links(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Inline code (`[Title](URL)`) holds examples, not links.
        let prose: String = line.split('`').step_by(2).collect();
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            let target = rest[..end].split_whitespace().next().unwrap_or("");
            targets.push(target.to_string());
            rest = &rest[end..];
        }
    }
    targets
}

/// GitHub's and mdBook's anchor of a heading: lower case, spaces to `-`,
/// punctuation but `-` and `_` dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let mut dead = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") || target.is_empty() {
                continue;
            }
            assert!(
                !target.contains("shared/"),
                "{}: links outside the repository: {target}",
                page.display()
            );
            // The book is built from docs/src alone: a link out of it is dead there.
            let in_guide = page.starts_with(Path::new(ROOT).join("docs/src"));
            assert!(
                !(in_guide && target.starts_with("../")),
                "{}: links out of the book: {target}",
                page.display()
            );
            let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !path.exists() {
                dead.push(format!("{}: {target}", page.display()));
                continue;
            }
            if !fragment.is_empty() && path.extension().is_some_and(|ext| ext == "md") {
                let body = fs::read_to_string(&path).unwrap();
                let found = body
                    .lines()
                    .filter_map(|line| line.strip_prefix('#'))
                    .any(|heading| anchor(heading.trim_start_matches('#')) == fragment);
                if !found {
                    dead.push(format!("{}: {target} (no such heading)", page.display()));
                }
            }
        }
    }
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
}

#[test]
fn the_guide_names_no_issue_and_no_outside_contract() {
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        for (number, line) in text.lines().enumerate() {
            let lower = line.to_lowercase();
            assert!(
                !lower.contains("spec.md") && !lower.contains("spec §") && !line.contains('§'),
                "{}:{}: names the spec: {line}",
                page.display(),
                number + 1
            );
            let names_issue = lower.match_indices("issue").any(|(at, _)| {
                lower[at + 5..]
                    .trim_start_matches([' ', '#'])
                    .starts_with(|c: char| c.is_ascii_digit())
            });
            assert!(
                !names_issue && !lower.contains("issues "),
                "{}:{}: names an issue: {line}",
                page.display(),
                number + 1
            );
        }
    }
}
