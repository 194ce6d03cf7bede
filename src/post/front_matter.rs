//! Splits a post into YAML front matter and body (Jekyll's rule) and reads the YAML.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Any front matter value, for Liquid's `page.*`: config's, which reads
/// the values of `_config.yml`'s front matter defaults too.
pub(crate) use crate::config::Data;
use crate::config::DefaultValues;
use crate::text::unique;

/// A post's text cut at its front matter fences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split<'a> {
    /// The YAML between the fences.
    pub yaml: &'a str,
    /// The body after the closing fence.
    pub body: &'a str,
    /// The 1-based line the body starts on.
    pub body_line: usize,
}

/// Why a post's text has no usable front matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// The file is empty or only white space.
    Empty,
    /// The first line is not `---`.
    Missing,
    /// The opening `---` has no closing `---` or `...`.
    Unclosed,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SplitError::Empty => {
                "the file is empty; a post starts with front matter between `---` lines holding at least a title"
            }
            SplitError::Missing => {
                "no front matter: a post must start with a `---` line, then YAML with at least a title, then `---`"
            }
            SplitError::Unclosed => "front matter opened here is never closed by a `---` line",
        })
    }
}

/// True for a fence line: `marker` followed only by white space (Jekyll's
/// `---\s*$`; Ruby's `\s` is ASCII white space).
fn is_fence(line: &[u8], marker: &[u8]) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.iter().all(u8::is_ascii_whitespace))
}

fn is_closing_fence(line: &[u8]) -> bool {
    is_fence(line, b"---") || is_fence(line, b"...")
}

/// Where the closing fence line ends in `bytes` (without a BOM), if they
/// start with an opening fence and hold a whole closing one: how much of a
/// post file its model needs. Works on bytes so that the body, which may
/// not even be read yet, is never looked at.
pub(crate) fn end_of_front_matter(bytes: &[u8]) -> Option<usize> {
    let mut lines = bytes.split_inclusive(|&b| b == b'\n');
    let first = lines.next()?;
    if !is_fence(first, b"---") {
        return None;
    }
    let mut end = first.len();
    for line in lines {
        if !line.ends_with(b"\n") {
            return None;
        }
        end += line.len();
        if is_closing_fence(line) {
            return Some(end);
        }
    }
    None
}

/// Cuts `text` (already without a BOM) at Jekyll's front matter fences: the
/// first line is `---`, the YAML runs to the next `---` or `...` line.
pub(crate) fn split(text: &str) -> Result<Split<'_>, SplitError> {
    if text.trim().is_empty() {
        return Err(SplitError::Empty);
    }
    let first_end = text.find('\n').map_or(text.len(), |i| i + 1);
    if !is_fence(&text.as_bytes()[..first_end], b"---") {
        return Err(SplitError::Missing);
    }
    let mut offset = first_end;
    let mut line_number = 2;
    while offset < text.len() {
        let end = text[offset..]
            .find('\n')
            .map_or(text.len(), |i| offset + i + 1);
        let line = &text[offset..end];
        if is_closing_fence(line.as_bytes()) {
            return Ok(Split {
                yaml: &text[first_end..offset],
                body: &text[end..],
                body_line: line_number + 1,
            });
        }
        offset = end;
        line_number += 1;
    }
    Err(SplitError::Unclosed)
}

/// A value as written plus the line of its key (1-based, within the YAML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Keyed<T> {
    /// The value.
    pub value: T,
    /// The line of the key, counted from the YAML's first line as 1.
    pub line: usize,
}

/// The front matter keys digest-feed reads, as written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct FrontMatter {
    /// `title`.
    pub title: Option<Keyed<String>>,
    /// `date`, the raw text.
    pub date: Option<Keyed<String>>,
    /// Whether `date` was written in quotes: then YAML reads a string, not a
    /// timestamp, and Jekyll reads its time in the site's zone.
    pub date_quoted: bool,
    /// `tags` (list or space-separated string).
    pub tags: Option<Vec<String>>,
    /// `tag` (Jekyll's singular form, which wins over `tags`).
    pub tag: Option<Vec<String>>,
    /// `categories` (list or space-separated string).
    pub categories: Option<Vec<String>>,
    /// `category` (singular form).
    pub category: Option<Vec<String>>,
    /// `description`.
    pub description: Option<String>,
    /// `excerpt`.
    pub excerpt: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `authors`: a list's names; a string is not a list (jekyll-feed's
    /// `post.authors[0]` reads nothing from it).
    pub authors: Vec<String>,
    /// `permalink`.
    pub permalink: Option<Keyed<String>>,
    /// `slug`.
    pub slug: Option<String>,
    /// `published` (YAML 1.1 booleans, so `no` is false, as in Jekyll).
    pub published: Option<bool>,
    /// `draft` (Hugo's).
    pub draft: Option<bool>,
    /// `last_modified_at`, the raw text (jekyll-feed's `updated`).
    pub last_modified_at: Option<Keyed<String>>,
    /// `feed_id`: the item's id, pinned.
    pub feed_id: Option<String>,
    /// `render_with_liquid` (Jekyll's; false leaves Liquid as text).
    pub render_with_liquid: Option<bool>,
    /// `excerpt_separator` (Jekyll's; default a blank line).
    pub excerpt_separator: Option<String>,
    /// Keys digest-feed does not read (layout and theme keys), with their lines.
    pub other_keys: Vec<Keyed<String>>,
    /// Keys written a second time, at the later line: the later value wins,
    /// as in Ruby's YAML.
    pub repeated_keys: Vec<Keyed<String>>,
}

impl FrontMatter {
    /// This front matter over the front matter defaults of its post: a key
    /// written here wins, but `categories` join the defaults' first, as
    /// Jekyll's `merge_categories!` joins them. A value taken from the
    /// defaults has line 0: it is written in `_config.yml`, not here.
    pub(crate) fn over(mut self, defaults: DefaultValues) -> FrontMatter {
        let keyed = |value: Option<String>| value.map(|value| Keyed { value, line: 0 });
        self.title = self.title.or_else(|| keyed(defaults.title));
        self.permalink = self.permalink.or_else(|| keyed(defaults.permalink));
        self.categories = match (defaults.categories, self.categories) {
            (Some(theirs), Some(own)) => Some(unique(theirs.into_iter().chain(own))),
            (theirs, own) => own.or(theirs),
        };
        self.tags = self.tags.or(defaults.tags);
        self.tag = self.tag.or(defaults.tag);
        self.category = self.category.or(defaults.category);
        self.description = self.description.or(defaults.description);
        self.excerpt = self.excerpt.or(defaults.excerpt);
        self.author = self.author.or(defaults.author);
        self.slug = self.slug.or(defaults.slug);
        self.published = self.published.or(defaults.published);
        self.draft = self.draft.or(defaults.draft);
        self.feed_id = self.feed_id.or(defaults.feed_id);
        self.render_with_liquid = self.render_with_liquid.or(defaults.render_with_liquid);
        self.excerpt_separator = self.excerpt_separator.or(defaults.excerpt_separator);
        self
    }
}

/// The keys that decide what is published and where: a near miss of one of
/// these is a typo worth stopping for (`publised: false` would publish a
/// draft). Other unknown keys (theme keys) are the theme's.
pub(crate) const GUARDED_KEYS: &[&str] = &["published", "draft", "date", "permalink"];

/// A front matter error: the YAML line (1-based) and key where known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    /// Line within the YAML, 1-based.
    pub line: Option<usize>,
    /// The key whose value was wrong.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Reads the YAML between the fences. Keys digest-feed does not know are
/// kept in `other_keys`; the caller decides which are typos.
pub(crate) fn parse(yaml: &str) -> Result<FrontMatter, YamlError> {
    let current_key = RefCell::new(None);
    let mut deserializer_input = yaml;
    // An all-comment or empty block is an empty mapping, as Jekyll treats it.
    if yaml
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
    {
        deserializer_input = "{}";
    }
    // A key written twice: the later value wins, as in Ruby's YAML; the
    // visitor sees both and notes the second.
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
    };
    let result = serde_saphyr::with_deserializer_from_str_with_options(
        deserializer_input,
        options,
        |deserializer| {
            FrontMatterSeed {
                current_key: &current_key,
            }
            .deserialize(deserializer)
        },
    );
    let mut result = result;
    if let Ok(fm) = &mut result
        && let Some(date) = &fm.date
    {
        fm.date_quoted = value_is_quoted(yaml, date.line, "date");
    }
    result.map_err(|err| {
        let err = err.without_snippet();
        let mut message = err.to_string();
        // saphyr appends the location; we print our own `file:line:` prefix.
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        if message.starts_with("budget breached") {
            message = "the YAML is too large or expands too far through anchors and aliases".into();
        }
        let key_at = current_key.borrow().clone();
        match key_at {
            // The value of this key was wrong: point at the key, not inside the value.
            Some((key, key_line)) => YamlError {
                line: Some(key_line),
                key: Some(key),
                message,
            },
            None => YamlError {
                line: err.location().map(|l| line_number(l.line())),
                key: None,
                message,
            },
        }
    })
}

/// Whether `key: value` on 1-based `line` of `yaml` has a quoted value.
fn value_is_quoted(yaml: &str, line: usize, key: &str) -> bool {
    yaml.lines()
        .nth(line.saturating_sub(1))
        .and_then(|text| text.trim_start().strip_prefix(key))
        .and_then(|rest| rest.trim_start().strip_prefix(':'))
        .is_some_and(|value| value.trim_start().starts_with(['"', '\'']))
}

struct FrontMatterSeed<'a> {
    current_key: &'a RefCell<Option<(String, usize)>>,
}

impl<'de> DeserializeSeed<'de> for FrontMatterSeed<'_> {
    type Value = FrontMatter;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<FrontMatter, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FrontMatterSeed<'_> {
    type Value = FrontMatter;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("front matter of `key: value` lines")
    }

    fn visit_unit<E: de::Error>(self) -> Result<FrontMatter, E> {
        Ok(FrontMatter::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FrontMatter, A::Error> {
        let mut fm = FrontMatter::default();
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let line = line_number(key.referenced.line());
            let name = key.value;
            if !seen.insert(name.clone()) {
                fm.repeated_keys.push(Keyed {
                    value: name.clone(),
                    line,
                });
                fm.other_keys.retain(|other| other.value != name);
            }
            *self.current_key.borrow_mut() = Some((name.clone(), line));
            let keyed = |value| Keyed { value, line };
            match name.as_str() {
                "title" => fm.title = map.next_value::<Option<String>>()?.map(keyed),
                "date" => fm.date = map.next_value::<Option<String>>()?.map(keyed),
                "permalink" => fm.permalink = map.next_value::<Option<String>>()?.map(keyed),
                "tags" => fm.tags = Some(map.next_value::<Words<true>>()?.0),
                "tag" => fm.tag = Some(map.next_value::<Words<false>>()?.0),
                "categories" => fm.categories = Some(map.next_value::<Words<true>>()?.0),
                "category" => fm.category = Some(map.next_value::<Words<false>>()?.0),
                "description" => fm.description = map.next_value()?,
                "excerpt" => fm.excerpt = map.next_value()?,
                "author" => fm.author = map.next_value()?,
                "authors" => {
                    if let Data::List(names) = map.next_value::<Data>()? {
                        fm.authors = names
                            .into_iter()
                            .filter_map(|name| match name {
                                Data::Text(name) => Some(name),
                                _ => None,
                            })
                            .collect();
                    }
                }
                "slug" => fm.slug = map.next_value()?,
                "published" => fm.published = Some(map.next_value::<Truthy>()?.0),
                // Hugo's; Jekyll ignores it: only YAML's true makes a draft.
                "draft" => fm.draft = Some(map.next_value::<Truthy>()?.1 == Some(true)),
                "last_modified_at" => {
                    fm.last_modified_at = map.next_value::<Option<String>>()?.map(keyed);
                }
                "feed_id" => fm.feed_id = map.next_value()?,
                "render_with_liquid" => fm.render_with_liquid = map.next_value()?,
                "excerpt_separator" => fm.excerpt_separator = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    fm.other_keys.push(Keyed { value: name, line });
                }
            }
            // A later error is not this key's: its value was read.
            *self.current_key.borrow_mut() = None;
        }
        *self.current_key.borrow_mut() = None;
        Ok(fm)
    }
}

/// The whole front matter as data, for Liquid's `page`; `Null` when it
/// does not read (the post's model already reported why).
pub(crate) fn data(yaml: &str) -> Data {
    if yaml.trim().is_empty() {
        return Data::Map(Vec::new());
    }
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
    };
    serde_saphyr::from_str_with_options(yaml, options).unwrap_or(Data::Null)
}

/// `published` as Jekyll tests it (`data.fetch("published", true)`): only
/// YAML's false (`false`, `no`, `off`) and an empty value unpublish; any
/// other value, the string `flase` too, publishes.
/// The second field is the value when it is a YAML boolean.
struct Truthy(bool, Option<bool>);

impl<'de> de::Deserialize<'de> for Truthy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TruthyVisitor)
    }
}

struct TruthyVisitor;

impl<'de> Visitor<'de> for TruthyVisitor {
    type Value = Truthy;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("true or false")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Truthy, E> {
        Ok(Truthy(value, Some(value)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Truthy, E> {
        Ok(Truthy(false, None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Truthy, E> {
        Ok(Truthy(false, None))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Truthy, E> {
        Ok(Truthy(true, None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Truthy, E> {
        Ok(Truthy(true, None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Truthy, E> {
        Ok(Truthy(true, None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Truthy, E> {
        Ok(Truthy(true, None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Truthy, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Truthy(true, None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Truthy, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Truthy(true, None))
    }
}

/// A list of words: a YAML list, or a string (split at white space when
/// `SPLIT`, Jekyll's rule for `tags`/`categories`, kept whole for `tag`/`category`).
struct Words<const SPLIT: bool>(Vec<String>);

impl<'de, const SPLIT: bool> de::Deserialize<'de> for Words<SPLIT> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WordsVisitor::<SPLIT>)
    }
}

struct WordsVisitor<const SPLIT: bool>;

impl<'de, const SPLIT: bool> Visitor<'de> for WordsVisitor<SPLIT> {
    type Value = Words<SPLIT>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list like [a, b] or a space-separated string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        if SPLIT {
            Ok(Words(
                value.split_whitespace().map(str::to_string).collect(),
            ))
        } else if value.trim().is_empty() {
            Ok(Words(Vec::new()))
        } else {
            Ok(Words(vec![value.to_string()]))
        }
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Words(vec![value.to_string()]))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Words(vec![value.to_string()]))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Words(vec![value.to_string()]))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Words(vec![value.to_string()]))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Words(Vec::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Words(Vec::new()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut words = Vec::new();
        while let Some(word) = seq.next_element::<Option<String>>()? {
            words.extend(word);
        }
        Ok(Words(words))
    }
}

/// A parser's 1-based line as an index; a line past `usize` cannot be in a 16 MiB post.
fn line_number(line: u64) -> usize {
    usize::try_from(line).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_jekyll_fences() {
        let split = split("---\ntitle: x\n---\nbody\n").unwrap();
        assert_eq!(split.yaml, "title: x\n");
        assert_eq!(split.body, "body\n");
        assert_eq!(split.body_line, 4);
        let dots = split_ok("---  \ntitle: x\n...\n");
        assert_eq!(dots.yaml, "title: x\n");
        assert_eq!(dots.body, "");
    }

    fn split_ok(text: &str) -> Split<'_> {
        split(text).unwrap()
    }

    #[test]
    fn the_front_matter_ends_where_split_says() {
        for text in [
            "---\ntitle: x\n---\nbody\n",
            "---  \ntitle: x\n...\n",
            "---\n---\n",
        ] {
            let body = split(text).unwrap().body;
            assert_eq!(
                end_of_front_matter(text.as_bytes()),
                Some(text.len() - body.len()),
                "{text:?}"
            );
        }
        for text in [
            "",
            "title: x\n---\n",
            "---\ntitle: x\n",
            "---\ntitle: x\n---",
        ] {
            assert_eq!(end_of_front_matter(text.as_bytes()), None, "{text:?}");
        }
    }

    #[test]
    fn split_errors() {
        assert_eq!(split(""), Err(SplitError::Empty));
        assert_eq!(split(" \n\n"), Err(SplitError::Empty));
        assert_eq!(split("title: x\n"), Err(SplitError::Missing));
        assert_eq!(split("---\ntitle: x\n"), Err(SplitError::Unclosed));
        assert_eq!(split("----\ntitle: x\n---\n"), Err(SplitError::Missing));
    }

    #[test]
    fn reads_every_form_of_tags_and_categories() {
        let fm =
            parse("title: x\ntags: one two\ncategories: [A, 2025]\ncategory: Big Data\n").unwrap();
        assert_eq!(fm.tags, Some(vec!["one".into(), "two".into()]));
        assert_eq!(fm.categories, Some(vec!["A".into(), "2025".into()]));
        assert_eq!(fm.category, Some(vec!["Big Data".into()]));
        assert_eq!(
            fm.title,
            Some(Keyed {
                value: "x".into(),
                line: 1
            })
        );
    }

    #[test]
    fn yaml_1_1_booleans_as_jekyll() {
        assert_eq!(parse("published: no\n").unwrap().published, Some(false));
        assert_eq!(parse("published: Off\n").unwrap().published, Some(false));
        assert_eq!(parse("draft: yes\n").unwrap().draft, Some(true));
    }

    #[test]
    fn published_is_false_only_when_yaml_says_false_or_nothing() {
        assert_eq!(parse("published: flase\n").unwrap().published, Some(true));
        assert_eq!(parse("published: \"no\"\n").unwrap().published, Some(true));
        assert_eq!(parse("published: 0\n").unwrap().published, Some(true));
        assert_eq!(parse("published:\n").unwrap().published, Some(false));
        assert_eq!(parse("draft: flase\n").unwrap().draft, Some(false));
    }

    #[test]
    fn a_key_written_twice_keeps_the_later_value_and_is_noted() {
        let fm = parse("title: first\nlayout: a\ntitle: second\nlayout: b\n").unwrap();
        assert_eq!(
            fm.title.unwrap(),
            Keyed {
                value: "second".into(),
                line: 3
            }
        );
        let repeated: Vec<_> = fm
            .repeated_keys
            .iter()
            .map(|k| (k.value.as_str(), k.line))
            .collect();
        assert_eq!(repeated, [("title", 3), ("layout", 4)]);
        assert_eq!(fm.other_keys.len(), 1);
        assert!(matches!(data("a: 1\na: 2\n"), Data::Map(m) if m.len() == 1));
    }

    #[test]
    fn scalars_stay_as_written() {
        let fm = parse("title: 1.10\ndate: 2025-12-24 08:15:00\n").unwrap();
        assert_eq!(fm.title.unwrap().value, "1.10");
        assert_eq!(
            fm.date.unwrap(),
            Keyed {
                value: "2025-12-24 08:15:00".into(),
                line: 2
            }
        );
    }

    #[test]
    fn quoted_dates_are_noticed() {
        assert!(
            parse("title: x\ndate: \"2025-12-24 08:15:00\"\n")
                .unwrap()
                .date_quoted
        );
        assert!(parse("date:  '2025-12-24'\n").unwrap().date_quoted);
        assert!(!parse("date: 2025-12-24 08:15:00\n").unwrap().date_quoted);
    }

    #[test]
    fn unknown_keys_are_kept_with_lines() {
        let fm = parse("layout: post\ntitle: x\ntittle: y\n").unwrap();
        let keys: Vec<_> = fm
            .other_keys
            .iter()
            .map(|k| (k.value.as_str(), k.line))
            .collect();
        assert_eq!(keys, [("layout", 1), ("tittle", 3)]);
    }

    #[test]
    fn wrong_type_names_key_and_line() {
        let err = parse("title: x\ntags:\n  a: 1\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("tags"));
        assert!(err.line.is_some_and(|line| line >= 2), "{err:?}");
        let err = parse("title: [a, b]\n").unwrap_err();
        assert_eq!((err.key.as_deref(), err.line), (Some("title"), Some(1)));
    }

    #[test]
    fn broken_yaml_has_a_line() {
        let err = parse("title: x\ndate: 2025-01-01\n  bad: : indent\n").unwrap_err();
        assert_eq!(err.line, Some(3), "{err:?}");
        let err = parse("title: 'unterminated\n").unwrap_err();
        assert_eq!(err.line, Some(1), "{err:?}");
    }

    #[test]
    fn alias_bombs_are_refused_plainly() {
        use std::fmt::Write;
        let mut yaml = String::from("title: x\na: &a [x,x,x,x,x,x,x,x,x]\n");
        for (name, prev) in [
            ("b", "a"),
            ("c", "b"),
            ("d", "c"),
            ("e", "d"),
            ("f", "e"),
            ("g", "f"),
        ] {
            let _ = writeln!(
                yaml,
                "{name}: &{name} [{}]",
                vec![format!("*{prev}"); 9].join(",")
            );
        }
        let err = parse(&yaml).unwrap_err();
        assert_eq!(
            err.message,
            "the YAML is too large or expands too far through anchors and aliases"
        );
    }

    #[test]
    fn empty_and_comment_only_front_matter_is_empty() {
        assert_eq!(parse("").unwrap(), FrontMatter::default());
        assert_eq!(parse("# just a comment\n").unwrap(), FrontMatter::default());
    }

    #[test]
    fn non_mapping_front_matter_is_an_error() {
        assert!(parse("- a\n- b\n").is_err());
        assert!(parse("just text\n").is_err());
    }
}
