//! Jekyll's front matter defaults (`defaults:` in `_config.yml`) as they
//! reach a post, by Jekyll's own rules (`lib/jekyll/frontmatter_defaults.rb`,
//! `Document#merge_defaults`, 4.3):
//!
//! - A set applies to a post when its scope's `type` is absent or `posts`
//!   (`post`, the old name, too) and its `path` is absent, empty, or the
//!   start of the post's path in the blog (`_posts/2025-01-01-a.md`). The
//!   start of the text, not of folders: `_posts/a` covers `_posts/ab/`; and a
//!   leading `/` is kept, so `/_posts` covers nothing. A path with `*` is a
//!   glob: the set applies when the post, or a folder it is in, matches it.
//! - The sets that apply merge in the order written: each wins over those
//!   before it, unless the last winner's path is longer (a leading `/` not
//!   counted), or as long and typed where this one is not.
//! - The post's own front matter wins over them all, except that its
//!   `categories` join the defaults' (`merge_categories!`).
//!
//! Only the keys a post's model reads are checked here (their types, a
//! permalink's placeholders); the others (`layout`, `image`) are a theme's,
//! kept only as data for Liquid's `page.*`, as Jekyll keeps them.

use std::path::{Component, Path, PathBuf};

use super::Data;
use super::data::deep_merge;
use super::jekyll::{RawDefault, RawValue};
use crate::error::{Location, Problem};
use crate::permalink_style::check_template;

/// The front matter defaults of a blog's posts.
#[derive(Debug, Clone, Default)]
pub struct FrontMatterDefaults {
    /// The blog's folder, absolute: scope paths start there.
    root: PathBuf,
    /// The sets that may apply to a post, in the order written.
    sets: Vec<Set>,
}

/// One set of `defaults:` whose type is a post's.
#[derive(Debug, Clone)]
struct Set {
    /// `scope.path` as written; empty for every file.
    path: String,
    /// Whether the scope names a type (which is then `posts`).
    typed: bool,
    /// `values`, each key once.
    values: Vec<(String, Data)>,
}

/// What the defaults that apply to a post set, of the keys its model reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DefaultValues {
    /// `title`.
    pub title: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `excerpt`.
    pub excerpt: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `permalink`, its placeholders checked.
    pub permalink: Option<String>,
    /// `slug`.
    pub slug: Option<String>,
    /// `feed_id`.
    pub feed_id: Option<String>,
    /// `excerpt_separator`.
    pub excerpt_separator: Option<String>,
    /// `tags` (a list, or words split at white space).
    pub tags: Option<Vec<String>>,
    /// `tag` (kept whole).
    pub tag: Option<Vec<String>>,
    /// `categories` (a list, or words split at white space).
    pub categories: Option<Vec<String>>,
    /// `category` (kept whole).
    pub category: Option<Vec<String>>,
    /// `published`.
    pub published: Option<bool>,
    /// `draft`.
    pub draft: Option<bool>,
    /// `render_with_liquid`.
    pub render_with_liquid: Option<bool>,
    /// Every key, as Liquid's `page.*` shows it under the post's own.
    pub data: Vec<(String, Data)>,
}

/// Checks `defaults:` as read from `file`, whose folder is `root`. A set
/// Jekyll would skip or stop at (no `values`, a `scope` that is not a
/// mapping) is a problem here, and so is a value of the wrong kind for a
/// key a post's model reads, in a set that may apply to a post.
pub(super) fn read(
    raw: &[RawDefault],
    root: &Path,
    file: &Path,
) -> Result<FrontMatterDefaults, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut sets = Vec::new();
    for (number, entry) in raw.iter().enumerate() {
        let name = format!("defaults: entry {}", number + 1);
        let Some(values) = &entry.values else {
            problems.push(Problem::new(
                Location::line(file, entry.line),
                format!("{name} has no `values`; give it `values:` with front matter keys, like `author: Kim`"),
            ));
            continue;
        };
        match scope(entry) {
            Err((line, message)) => problems.push(Problem::new(
                Location::line(file, line),
                format!("{name}: `scope`{message}"),
            )),
            // Pages', drafts', another collection's: digest-feed reads none of it.
            Ok(None) => {}
            Ok(Some((path, typed))) => match checked(values, &name, file) {
                Ok(values) => sets.push(Set {
                    path,
                    typed,
                    values,
                }),
                Err(found) => problems.extend(found),
            },
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(FrontMatterDefaults {
        root: absolute(root),
        sets,
    })
}

/// A set's `values`, each key once, or a problem for each of the wrong kind.
fn checked(
    values: &[RawValue],
    name: &str,
    file: &Path,
) -> Result<Vec<(String, Data)>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut unique: Vec<(String, Data)> = Vec::new();
    for RawValue { key, line, value } in values {
        if let Err(message) = read_value(&mut DefaultValues::default(), key, value) {
            problems.push(Problem::new(
                Location::line(file, *line),
                format!("{name}: `{key}`: {message}"),
            ));
        }
        // The last of a repeated key wins, as in Ruby's hash.
        unique.retain(|(known, _)| known != key);
        unique.push((key.clone(), value.clone()));
    }
    if problems.is_empty() {
        Ok(unique)
    } else {
        Err(problems)
    }
}

/// An entry's scope: its path and whether it names a type; `None` when the
/// type is not a post's. The error is the line and the end of a message.
fn scope(entry: &RawDefault) -> Result<Option<(String, bool)>, (usize, String)> {
    let entries = match &entry.scope {
        None | Some((_, Data::Null)) => return Ok(Some((String::new(), false))),
        Some((_, Data::Map(entries))) => entries,
        Some((line, _)) => {
            return Err((
                *line,
                " must be a mapping, like `scope: {path: _posts, type: posts}`".into(),
            ));
        }
    };
    let line = entry.scope.as_ref().map_or(entry.line, |(line, _)| *line);
    let mut path = String::new();
    let mut typed = false;
    for (key, value) in entries {
        match (key.as_str(), value) {
            ("path", Data::Null) => {}
            ("path", Data::Text(text)) => path.clone_from(text),
            ("path", _) => return Err((line, "'s `path` must be text, like `_posts/news`".into())),
            ("type", Data::Text(kind)) if matches!(kind.as_str(), "posts" | "post") => typed = true,
            // Pages, drafts, another collection: never a post.
            ("type", Data::Text(_)) => return Ok(None),
            ("type", _) => return Err((line, "'s `type` must be a name, like `posts`".into())),
            _ => {}
        }
    }
    Ok(Some((path, typed)))
}

/// Reads `value` into `values` if `key` is one a post's model reads; what is
/// wrong with it, else. Other keys are a theme's: left alone.
fn read_value(values: &mut DefaultValues, key: &str, value: &Data) -> Result<(), String> {
    match key {
        "title" => values.title = text(value)?,
        "description" => values.description = text(value)?,
        "excerpt" => values.excerpt = text(value)?,
        "author" => values.author = text(value)?,
        "slug" => values.slug = text(value)?,
        "feed_id" => values.feed_id = text(value)?,
        "excerpt_separator" => values.excerpt_separator = text(value)?,
        "permalink" => {
            values.permalink = text(value)?;
            if let Some(template) = &values.permalink {
                check_template(template)?;
            }
        }
        "tags" => values.tags = Some(words(value, true)?),
        "categories" => values.categories = Some(words(value, true)?),
        "tag" => values.tag = Some(words(value, false)?),
        "category" => values.category = Some(words(value, false)?),
        "published" => values.published = boolean(value)?,
        "draft" => values.draft = boolean(value)?,
        "render_with_liquid" => values.render_with_liquid = boolean(value)?,
        // One date for every post in a folder would be a mistake, and one
        // digest-feed would copy: each post's dates are its own.
        "date" | "last_modified_at" => {
            return Err(
                "digest-feed does not read it from defaults; write it in each post's front matter"
                    .into(),
            );
        }
        _ => {}
    }
    Ok(())
}

fn text(value: &Data) -> Result<Option<String>, String> {
    match value {
        Data::Null => Ok(None),
        Data::List(_) | Data::Map(_) => Err("must be text".into()),
        scalar => Ok(Some(scalar.key_text())),
    }
}

/// A list of words, or a string: split at white space when `split` (Jekyll's
/// rule for `tags` and `categories`), kept whole for `tag` and `category`.
fn words(value: &Data, split: bool) -> Result<Vec<String>, String> {
    let wrong = || "must be a list like [a, b] or a space-separated string".to_string();
    match value {
        Data::Null => Ok(Vec::new()),
        Data::Text(text) if split => Ok(text.split_whitespace().map(str::to_string).collect()),
        Data::Text(text) if text.trim().is_empty() => Ok(Vec::new()),
        Data::List(items) => items
            .iter()
            .filter(|item| **item != Data::Null)
            .map(|item| match item {
                Data::List(_) | Data::Map(_) => Err(wrong()),
                scalar => Ok(scalar.key_text()),
            })
            .collect(),
        Data::Map(_) => Err(wrong()),
        scalar => Ok(vec![scalar.key_text()]),
    }
}

fn boolean(value: &Data) -> Result<Option<bool>, String> {
    match value {
        Data::Null => Ok(None),
        Data::Bool(value) => Ok(Some(*value)),
        // Jekyll compares with `false` itself: a quoted "false" publishes.
        _ => Err("must be true or false, unquoted".into()),
    }
}

impl FrontMatterDefaults {
    /// Whether `_config.yml` sets any default a post may get.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The defaults of the post at `source` (a path as the user gives it),
    /// merged as Jekyll's `FrontmatterDefaults#all` merges them.
    pub fn for_post(&self, source: &Path) -> DefaultValues {
        if self.sets.is_empty() {
            return DefaultValues::default();
        }
        let path = below(&self.root, source);
        let mut merged: Vec<(String, Data)> = Vec::new();
        let mut winner: Option<&Set> = None;
        for set in self.sets.iter().filter(|set| set.covers(path.as_deref())) {
            if winner.is_none_or(|old| set.outranks(old)) {
                deep_merge(&mut merged, set.values.clone());
                winner = Some(set);
            } else {
                let mut under = set.values.clone();
                deep_merge(&mut under, std::mem::take(&mut merged));
                merged = under;
            }
        }
        let mut values = DefaultValues::default();
        for (key, value) in &merged {
            // Every set's values were checked when read, and a merge keeps
            // each key's value whole: nothing here can be wrong.
            let _ = read_value(&mut values, key, value);
        }
        values.data = merged;
        values
    }
}

impl Set {
    /// Whether the set's path covers the post at `path` (below the blog's
    /// folder; `None` outside it, where only a set for every file applies).
    fn covers(&self, path: Option<&str>) -> bool {
        if self.path.is_empty() {
            return true;
        }
        let Some(path) = path else {
            return false;
        };
        if self.path.contains('*') {
            glob_covers(&self.path, path)
        } else {
            path.starts_with(&self.path)
        }
    }

    /// Jekyll's `has_precedence?(old, self)`: a longer path wins, and of two
    /// as long, a typed scope over an untyped one; else the later set.
    fn outranks(&self, old: &Set) -> bool {
        // Ruby's String#length: characters.
        let length = |set: &Set| {
            set.path
                .strip_prefix('/')
                .unwrap_or(&set.path)
                .chars()
                .count()
        };
        let (new_length, old_length) = (length(self), length(old));
        if new_length == old_length {
            self.typed || !old.typed
        } else {
            new_length > old_length
        }
    }
}

/// Whether a path Ruby's `Dir.glob` finds for `pattern` in the blog starts
/// `path`: whether a folder `path` is in, or `path` itself, matches it.
/// `*` and `?` match within a name, `**/` any number of folders; other
/// glob syntax (`[a-z]`, `{a,b}`) is read as itself.
fn glob_covers(pattern: &str, path: &str) -> bool {
    // Jekyll joins a pattern starting with `/` to the blog's folder as Ruby's
    // Pathname does: it then globs the machine's root, far from any post.
    if pattern.starts_with('/') {
        return false;
    }
    let folders_only = pattern.ends_with('/');
    let pattern: Vec<&str> = pattern
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    let parts: Vec<&str> = path.split('/').collect();
    let last = parts.len() - usize::from(folders_only);
    (1..=last).any(|count| glob_parts(&pattern, &parts[..count]))
}

fn glob_parts(pattern: &[&str], parts: &[&str]) -> bool {
    match pattern.split_first() {
        None => parts.is_empty(),
        Some((&"**", rest)) if !rest.is_empty() => {
            (0..=parts.len()).any(|skip| glob_parts(rest, &parts[skip..]))
        }
        Some((first, rest)) => parts
            .split_first()
            .is_some_and(|(part, others)| glob_name(first, part) && glob_parts(rest, others)),
    }
}

/// `*` and `?` against one name.
fn glob_name(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    // The last `*` seen, and where in `name` it started matching.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((at, from)) = star {
            // Let that `*` take one more character.
            star = Some((at, from + 1));
            p = at + 1;
            n = from + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// `source` below `root`, `/`-separated: Jekyll's `relative_path` of a post.
fn below(root: &Path, source: &Path) -> Option<String> {
    let source = absolute(source);
    let parts: Vec<String> = source
        .strip_prefix(root)
        .ok()?
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// `path` from the root, its `.` parts dropped and each `..` taking the part
/// before it away, by the text alone: Jekyll names a post by the path it
/// read it at, through any link.
fn absolute(path: &Path) -> PathBuf {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let whole = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for part in whole.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests;
