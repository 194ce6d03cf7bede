//! Splits a post into YAML front matter and body (Jekyll's rule) and reads the YAML.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Any front matter value, for Liquid's `page.*`: config's, which reads
/// the values of `_config.yml`'s front matter defaults too.
pub(crate) use crate::config::Data;
use crate::config::DefaultValues;
use crate::text::unique;

use super::usual_yaml;

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
    /// `published` (YAML 1.1 booleans, so `no` is false, as in Jekyll; a
    /// plain `y` or `n` is Jekyll's text, so true).
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
///
/// Most front matter has no alias (`*name`) and no merge key (`<<`): then
/// every key is written where it is read, and its line is counted from
/// where it lies in the text, which spares serde-saphyr's span of every
/// key and its table of the keys a merge could repeat. Other front matter
/// (and a key that is not a slice of the text, as an escaped quoted key)
/// is read with each key's span, as the parser reports it.
///
/// Front matter of the usual shape (see [`usual_yaml`]) is read first by
/// that small reader, through the same visitors; anything else, and every
/// error, is serde-saphyr's.
pub(crate) fn parse(yaml: &str) -> Result<FrontMatter, YamlError> {
    let mut result = read_usual(yaml).map_or_else(|| read_any(yaml), Ok);
    if let Ok(fm) = &mut result
        && let Some(date) = &fm.date
    {
        fm.date_quoted = value_is_quoted(yaml, date.line, "date");
    }
    result
}

/// `yaml` read by the reader of the usual shape; `None` when it is not of
/// that shape, or when a visitor refused a value (then serde-saphyr reads
/// it and says why).
fn read_usual(yaml: &str) -> Option<FrontMatter> {
    let document = usual_yaml::document(yaml)?;
    // The reader's keys are slices of `yaml`: their lines are counted there.
    let failed_key = RefCell::new(None);
    let misplaced = std::cell::Cell::new(false);
    FrontMatterSeed {
        text: yaml,
        lines: Some(KeyLines::new(yaml)),
        failed_key: &failed_key,
        misplaced: &misplaced,
    }
    .deserialize(document)
    .ok()
}

/// `yaml` read by serde-saphyr.
fn read_any(yaml: &str) -> Result<FrontMatter, YamlError> {
    // An all-comment or empty block is an empty mapping, as Jekyll treats it.
    let input = if yaml
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
    {
        "{}"
    } else {
        yaml
    };
    read_counted(input).unwrap_or_else(|| read_spanned(input))
}

/// `input` read with each key's line counted in it; `None` for a text
/// with an alias or a merge key, or when a key is not a slice of it (then
/// [`read_spanned`] reads it).
fn read_counted(input: &str) -> Option<Result<FrontMatter, YamlError>> {
    if input.contains('*') || input.contains("<<") {
        return None;
    }
    let (result, misplaced) = read(input, Some(KeyLines::new(input)));
    (!misplaced).then_some(result)
}

/// `input` read with each key's line taken from its span.
fn read_spanned(input: &str) -> Result<FrontMatter, YamlError> {
    read(input, None).0
}

/// One read of `input`, each key's line counted by `lines` (without, from
/// its span), and whether a key was not where `lines` could count it.
fn read(input: &str, lines: Option<KeyLines<'_>>) -> (Result<FrontMatter, YamlError>, bool) {
    let failed_key = RefCell::new(None);
    let misplaced = std::cell::Cell::new(false);
    // A key written twice: the later value wins, as in Ruby's YAML; the
    // visitor sees both and notes the second. Errors are reported without
    // serde-saphyr's snippet (the caller prints `file:line:`).
    let mut options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        with_snippet: false,
    };
    if lines.is_some() {
        // No `<<` in the text: no merge key to expand, so no table of the
        // keys seen for a merge to leave out.
        options.merge_keys = serde_saphyr::MergeKeyPolicy::AsOrdinary;
    }
    let result = serde_saphyr::with_deserializer_from_str_with_options(input, options, |de| {
        FrontMatterSeed {
            text: input,
            lines,
            failed_key: &failed_key,
            misplaced: &misplaced,
        }
        .deserialize(de)
    });
    let result = result.map_err(|err| {
        let err = err.without_snippet();
        let mut message = err.to_string();
        // saphyr appends the location; we print our own `file:line:` prefix.
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        if message.starts_with("budget breached") {
            message = "the YAML is too large or expands too far through anchors and aliases".into();
        }
        match failed_key.into_inner() {
            // The value of this key was wrong (or the key itself, when
            // unnamed): point at the key, not inside the value.
            Some((key, key_line)) => YamlError {
                line: Some(key_line),
                key,
                message,
            },
            None => YamlError {
                line: err.location().map(|l| line_number(l.line())),
                key: None,
                message,
            },
        }
    });
    (result, misplaced.get())
}

/// Whether `key: value` on 1-based `line` of `yaml` has a quoted value.
fn value_is_quoted(yaml: &str, line: usize, key: &str) -> bool {
    written_value(yaml, line, key).is_some_and(|value| value.starts_with(['"', '\'']))
}

/// The text after `key:` on 1-based `line` of `yaml`, from its first
/// character that is not white space: the value as written, where a
/// caller needs what YAML's reading does not keep (its quotes, its case).
fn written_value<'y>(yaml: &'y str, line: usize, key: &str) -> Option<&'y str> {
    yaml.lines()
        .nth(line.saturating_sub(1))
        .and_then(|text| text.trim_start().strip_prefix(key))
        .and_then(|rest| rest.trim_start().strip_prefix(':'))
        .map(str::trim_start)
}

/// Counts the lines of a YAML text up to each key, the keys coming in the
/// order they are written (no alias or merge key sends one back).
struct KeyLines<'y> {
    text: &'y str,
    /// Where the last key was found, and its 1-based line.
    at: usize,
    line: usize,
}

impl<'y> KeyLines<'y> {
    fn new(text: &'y str) -> Self {
        KeyLines {
            text,
            at: 0,
            line: 1,
        }
    }

    /// The line of `key`, a slice of the text at or after the last key;
    /// `None` for a key that is not.
    fn line_of(&mut self, key: &str) -> Option<usize> {
        let at = key.as_ptr().addr().checked_sub(self.text.as_ptr().addr())?;
        if at < self.at || at + key.len() > self.text.len() {
            return None;
        }
        // Each byte is counted once, up to the last key: no need for a faster count.
        #[allow(clippy::naive_bytecount)]
        let lines = self.text.as_bytes()[self.at..at]
            .iter()
            .filter(|&&byte| byte == b'\n')
            .count();
        self.line += lines;
        self.at = at;
        Some(self.line)
    }
}

/// A mapping key as written: borrowed from the text where the parser can
/// (a plain or simply quoted key), else owned; `None` for a null key
/// (`~:`, `null:`), which Jekyll keeps under a key no one reads.
struct Key<'de>(Option<Cow<'de, str>>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_option(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_none<E: de::Error>(self) -> Result<Key<'de>, E> {
        Ok(Key(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_str(self)
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Some(Cow::Borrowed(key))))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(Some(Cow::Owned(key.to_owned()))))
    }

    fn visit_string<E: de::Error>(self, key: String) -> Result<Key<'de>, E> {
        Ok(Key(Some(Cow::Owned(key))))
    }
}

/// The keys of one mapping seen so far: front matter has a handful, looked
/// through in a list; past [`Seen::LISTED`], a hash set keeps a file of
/// many keys linear.
#[derive(Default)]
struct Seen<'de> {
    listed: Vec<Cow<'de, str>>,
    hashed: std::collections::HashSet<Cow<'de, str>>,
}

impl<'de> Seen<'de> {
    const LISTED: usize = 16;

    /// Notes `key`; false when it was seen before.
    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        if self.listed.contains(&key) || self.hashed.contains(&key) {
            return false;
        }
        if self.listed.len() < Self::LISTED {
            self.listed.push(key);
        } else {
            self.hashed.insert(key);
        }
        true
    }
}

struct FrontMatterSeed<'a, 'y> {
    /// The text read, to see how a null key is written.
    text: &'y str,
    /// The lines of keys, counted in the text; `None` to take each key's span.
    lines: Option<KeyLines<'y>>,
    /// The key (and its line) whose value could not be read; no key for
    /// a key that could not be read itself.
    failed_key: &'a RefCell<Option<(Option<String>, usize)>>,
    /// Set when a key is not a slice of the text: read again with spans.
    misplaced: &'a std::cell::Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for FrontMatterSeed<'_, '_> {
    type Value = FrontMatter;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<FrontMatter, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FrontMatterSeed<'_, '_> {
    type Value = FrontMatter;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("front matter of `key: value` lines")
    }

    fn visit_unit<E: de::Error>(self) -> Result<FrontMatter, E> {
        Ok(FrontMatter::default())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<FrontMatter, A::Error> {
        let mut fm = FrontMatter::default();
        let mut seen = Seen::default();
        loop {
            let (name, line) = if let Some(lines) = &mut self.lines {
                let Some(Key(name)) = map.next_key::<Key<'de>>()? else {
                    break;
                };
                let Some(name) = name else {
                    // Whether Jekyll reads this null key depends on how it
                    // is written: read again with each key's span.
                    self.misplaced.set(true);
                    return Err(de::Error::custom("a null key is read with its span"));
                };
                let line = match &name {
                    Cow::Borrowed(key) => lines.line_of(key),
                    Cow::Owned(_) => None,
                };
                let Some(line) = line else {
                    self.misplaced.set(true);
                    return Err(de::Error::custom("a key is not where it is written"));
                };
                (name, line)
            } else {
                let Some(key) = map.next_key::<Spanned<Key<'de>>>()? else {
                    break;
                };
                let Some(name) = key.value.0 else {
                    if is_colon_without_key(self.text, key.referenced.span()) {
                        let line = line_number(key.referenced.line());
                        *self.failed_key.borrow_mut() = Some((None, line));
                        return Err(de::Error::custom(COLON_WITHOUT_KEY));
                    }
                    map.next_value::<IgnoredAny>()?;
                    continue;
                };
                (name, line_number(key.referenced.line()))
            };
            if !seen.insert(name.clone()) {
                fm.repeated_keys.push(Keyed {
                    value: name.to_string(),
                    line,
                });
            }
            if let Err(err) = read_value(&mut map, &mut fm, &name, line) {
                *self.failed_key.borrow_mut() = Some((Some(name.into_owned()), line));
                return Err(err);
            }
            if is_psych_text_flag(self.text, line, &name) {
                psych_text_flag(&mut fm, &name);
            }
        }
        if !fm.repeated_keys.is_empty() {
            fm.other_keys = last_of_each(std::mem::take(&mut fm.other_keys));
        }
        Ok(fm)
    }
}

/// What is wrong with a line that starts with `:` (Jekyll's YAML refuses it).
const COLON_WITHOUT_KEY: &str = "a `:` with no key before it; write `key: value`, \
     or join the text to the line above inside quotes, e.g. title: \"Papers: a colon\"";

/// Whether a null key at `span` of `text` is a `:` with nothing before it
/// (at a line's start, or after `{` or `,`), which Jekyll's YAML refuses,
/// rather than `~`, `null` or an explicit `?` with nothing after it, which
/// it reads as a null key (serde-saphyr reads all of them as one).
fn is_colon_without_key(text: &str, span: serde_saphyr::Span) -> bool {
    let Some(at) = span.byte_offset().and_then(|at| usize::try_from(at).ok()) else {
        return false;
    };
    if !span.is_empty() || !text.get(at..).is_some_and(|rest| rest.starts_with(':')) {
        return false;
    }
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let on_the_line = before[line_start..].trim_matches([' ', '\t']);
    if on_the_line.ends_with(['{', ',']) {
        return true;
    }
    on_the_line.is_empty()
        && !before[..line_start]
            .lines()
            .rev()
            .map(|line| line.trim_matches([' ', '\t']))
            .find(|line| !line.is_empty() && !line.starts_with('#'))
            .is_some_and(|line| line.starts_with('?'))
}

/// Whether the value of top-level key `name` on 1-based `line` of `text`
/// is a plain `y`, `Y`, `n` or `N`: YAML 1.1 (and serde-saphyr) reads a
/// boolean there, but Psych, Jekyll's YAML, reads text (its booleans are
/// only yes/no, true/false and on/off), and a string is true in Ruby.
fn is_psych_text_flag(text: &str, line: usize, name: &str) -> bool {
    if !matches!(name, "published" | "draft" | "render_with_liquid") {
        return false;
    }
    let Some(after) =
        written_value(text, line, name).and_then(|value| value.strip_prefix(['y', 'Y', 'n', 'N']))
    else {
        return false;
    };
    // Then only white space, or a comment after white space (`n#x` is
    // the text `n#x`, `no` a boolean).
    let rest = after.trim_start_matches([' ', '\t', '\r']);
    rest.is_empty() || (rest.starts_with('#') && rest.len() < after.len())
}

/// The flag `name` as Jekyll reads a text value there: `published: n`
/// publishes (only `false` keeps a post back), `render_with_liquid: n`
/// renders Liquid (only `false` turns it off), and Hugo's `draft: y` is no
/// draft (only YAML's true makes one).
fn psych_text_flag(fm: &mut FrontMatter, name: &str) {
    match name {
        "published" => fm.published = Some(true),
        "render_with_liquid" => fm.render_with_liquid = Some(true),
        "draft" => fm.draft = Some(false),
        _ => {}
    }
}

/// Each key once, at its last line (the later value wins), in the order of
/// those lines: once at the end, not at each repeat, so that a file of many
/// repeated keys stays linear.
fn last_of_each(keys: Vec<Keyed<String>>) -> Vec<Keyed<String>> {
    let mut later = std::collections::HashSet::new();
    let mut kept: Vec<_> = keys
        .into_iter()
        .rev()
        .filter(|key| later.insert(key.value.clone()))
        .collect();
    kept.reverse();
    kept
}

/// Reads the value of key `name` (on `line`) into `fm`.
fn read_value<'de, A: MapAccess<'de>>(
    map: &mut A,
    fm: &mut FrontMatter,
    name: &str,
    line: usize,
) -> Result<(), A::Error> {
    let keyed = |value| Keyed { value, line };
    match name {
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
            fm.other_keys.push(Keyed {
                value: name.to_owned(),
                line,
            });
        }
    }
    Ok(())
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
    use std::path::Path;

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
        let fm = parse("x: 1\ny: 2\nx: 3\nz: 4\ny: 5\nx: 6\n").unwrap();
        let others: Vec<_> = fm
            .other_keys
            .iter()
            .map(|k| (k.value.as_str(), k.line))
            .collect();
        assert_eq!(others, [("z", 4), ("y", 5), ("x", 6)]);
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

    /// Both reads of `yaml`: lines counted in the text (`None` when a key
    /// is not a slice of it) and lines from each key's span.
    fn both_reads(
        yaml: &str,
    ) -> (
        Option<Result<FrontMatter, YamlError>>,
        Result<FrontMatter, YamlError>,
    ) {
        (read_counted(yaml), read_spanned(yaml))
    }

    #[test]
    fn lines_counted_in_the_text_are_the_spans_lines() {
        let cases = [
            "title: x\ndate: 2025-01-01\n",
            "# a comment\n\nlayout: post\n\"title\": 'quoted key'\n  # indented comment\ntags: [a, b]\n",
            "title: first\nlayout: a\ntitle: second\nlayout: b\n",
            "{title: x, date: 2025-01-01,\n  tags: a b}\n",
            "description: |\n  one\n  two\nauthor: me\npublisd: false\n",
            "description: >-\n  folded\n\n  text\ndatee: 2025-01-01\n",
            "title: x\ntags:\n  a: 1\n",
            "title: [a, b]\n",
            "title: x\ndate: 2025-01-01\n  bad: : indent\n",
            "title: 'unterminated\n",
            "标题: 中文\ntitle: \"Ünïcödé\"\npermalink: /a/\n",
            "? title\n: explicit\n",
            "title: x\n---\nnext: document\n",
        ];
        for yaml in cases {
            let (counted, spanned) = both_reads(yaml);
            assert_eq!(counted, Some(spanned), "{yaml:?}");
        }
        // An alias or a merge key can send a key back: such a text is read with spans.
        for yaml in ["base: &b {title: x}\n<<: *b\n", "a: &k title\n*k : x\n"] {
            let (counted, spanned) = both_reads(yaml);
            assert_eq!(counted, None, "{yaml:?}");
            assert!(spanned.is_ok(), "{yaml:?}");
        }
        // A key the parser does not hand out as a slice of the text is read with spans.
        let (counted, spanned) = both_reads("\"ti\\x74le\": escaped\n");
        assert_eq!(counted, None);
        assert_eq!(spanned.unwrap().title.map(|t| t.line), Some(1));
    }

    /// The front matter of every post under `folders` (relative to the
    /// crate; a missing folder is skipped), with the post's path.
    fn front_matters(folders: &[&str]) -> Vec<(std::path::PathBuf, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut folders: Vec<_> = folders.iter().map(|folder| root.join(folder)).collect();
        while let Some(folder) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|ext| {
                    ["md", "markdown", "html"].contains(&&*ext.to_string_lossy())
                }) {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
            .into_iter()
            .filter_map(|path| {
                let text = std::fs::read_to_string(&path).ok()?.replace("\r\n", "\n");
                let yaml = split(&text).ok()?.yaml.to_owned();
                Some((path, yaml))
            })
            .collect()
    }

    #[test]
    fn every_fixture_and_real_blog_post_reads_the_same_both_ways() {
        let mut compared = 0;
        for (path, yaml) in front_matters(&["tests/fixtures", "../shared/real-blogs"]) {
            let (counted, spanned) = both_reads(&yaml);
            if let Some(counted) = counted {
                assert_eq!(counted, spanned, "{}", path.display());
                compared += 1;
            }
        }
        assert!(compared >= 80, "only {compared} front matters compared");
    }

    #[test]
    fn a_null_key_is_passed_over_as_jekyll_does() {
        for yaml in [
            "~: x\ntitle: t\n",
            "null: x\ntitle: t\n",
            "title: t\n~: [a, b]\n",
            "\"a\\x41\": 1\n~: x\ntitle: t\n",
        ] {
            let fm = parse(yaml).unwrap();
            assert_eq!(fm.title.unwrap().value, "t", "{yaml:?}");
            assert!(
                fm.other_keys
                    .iter()
                    .all(|key| key.value != "~" && key.value != "null")
            );
        }
        // How a null key is written is seen in its span.
        assert_eq!(both_reads("~: x\ntitle: t\n").0, None);
        assert_eq!(parse("~: x\ntitle: t\n").unwrap().title.unwrap().line, 2);
    }

    #[test]
    fn a_plain_y_or_n_flag_is_text_as_in_jekylls_yaml() {
        // Psych reads `y` and `n` as text, and a text is true: `published:
        // n` publishes in Jekyll; `no`, `off` and `false` are booleans there.
        type Flags = (Option<bool>, Option<bool>, Option<bool>);
        let flags = |fm: FrontMatter| -> Flags { (fm.published, fm.draft, fm.render_with_liquid) };
        for (yaml, want) in [
            ("published: n\n", (Some(true), None, None)),
            ("published: N # kept back?\n", (Some(true), None, None)),
            ("published: no\n", (Some(false), None, None)),
            ("published: false\n", (Some(false), None, None)),
            ("published: n\npublished: off\n", (Some(false), None, None)),
            ("published: off\npublished: n\n", (Some(true), None, None)),
            ("draft: y\n", (None, Some(false), None)),
            ("draft: Y\t\n", (None, Some(false), None)),
            ("draft: yes\n", (None, Some(true), None)),
            ("render_with_liquid: n\n", (None, None, Some(true))),
            ("render_with_liquid: off\n", (None, None, Some(false))),
            (
                "title: t\nrender_with_liquid: N\r\n",
                (None, None, Some(true)),
            ),
        ] {
            // The usual reader's way and serde-saphyr's come to the same.
            let read = flags(parse(yaml).unwrap());
            assert_eq!(read, want, "{yaml:?}");
            assert_eq!(flags(read_spanned(yaml).unwrap()), want, "{yaml:?}");
        }
    }

    #[test]
    fn a_colon_with_no_key_before_it_is_refused_as_jekyll_refuses_it() {
        // Jekyll's YAML: "did not find expected key"; serde-saphyr reads a null key.
        for (yaml, line) in [
            ("title: x\n: y\n", 2),
            (": y\ntitle: x\n", 1),
            ("title: x\n# c\n:\n", 3),
            ("{title: x, : y}\n", 1),
            ("\"a\\x41\": 1\n: y\n", 2),
        ] {
            let err = parse(yaml).unwrap_err();
            assert_eq!(
                (err.line, err.message.as_str()),
                (Some(line), COLON_WITHOUT_KEY),
                "{yaml:?}"
            );
        }
        // An explicit `?` with nothing after it is a null key to Jekyll too.
        for yaml in [
            "? \n: z\ntitle: t\n",
            "?\n# c\n: z\ntitle: t\n",
            "title: t\n? \n",
        ] {
            assert_eq!(parse(yaml).unwrap().title.unwrap().value, "t", "{yaml:?}");
        }
    }

    #[test]
    fn non_mapping_front_matter_is_an_error() {
        assert!(parse("- a\n- b\n").is_err());
        assert!(parse("just text\n").is_err());
    }

    /// The contract of the reader of the usual shape: what it reads is
    /// what serde-saphyr reads, to the line; where serde-saphyr fails or
    /// reads otherwise, it gives up. True when it read `yaml`.
    fn the_usual_reader_agrees(yaml: &str) -> bool {
        let Some(fast) = read_usual(yaml) else {
            return false;
        };
        assert_eq!(Ok(fast), read_any(yaml), "{yaml:?}");
        true
    }

    #[test]
    fn the_usual_reader_reads_real_posts_as_serde_saphyr_does() {
        let mut taken = 0;
        let posts = front_matters(&["../shared/real-blogs", "../shared/examples"]);
        for (_, yaml) in &posts {
            taken += usize::from(the_usual_reader_agrees(yaml));
        }
        // Without the real blogs, the example post alone.
        assert!(
            taken * 100 >= posts.len() * 99,
            "the usual reader took only {taken} of {} posts",
            posts.len()
        );
        for (_, yaml) in front_matters(&["tests/fixtures"]) {
            the_usual_reader_agrees(&yaml);
        }
    }

    /// Every key digest-feed reads, and two it does not.
    const KEYS: &[&str] = &[
        "title",
        "date",
        "permalink",
        "tags",
        "tag",
        "categories",
        "category",
        "description",
        "excerpt",
        "author",
        "authors",
        "slug",
        "published",
        "draft",
        "last_modified_at",
        "feed_id",
        "render_with_liquid",
        "excerpt_separator",
        "layout",
        "header-img",
    ];

    /// What may follow `key:`: every scalar form YAML 1.1 resolves, quotes,
    /// escapes, comments, colons, lists and maps, in and out of the shape.
    const VALUES: &[&str] = &[
        "",
        " ",
        "   ",
        " x",
        " x   ",
        " a  b",
        " ~",
        " ~x",
        " null",
        " Null",
        " NULL",
        " nULL",
        " true",
        " True",
        " TRUE",
        " tRUE",
        " yes",
        " Yes",
        " YES",
        " y",
        " Y",
        " n",
        " N",
        " no",
        " No",
        " on",
        " On",
        " off",
        " OFF",
        " false",
        " False",
        " yes please",
        " True story",
        " 0",
        " 00",
        " 1",
        " 012",
        " 2025",
        " 1.10",
        " -1",
        " +1",
        " -1.5",
        " 1.5",
        " 1e5",
        " 1E-5",
        " .5",
        " 5.",
        " .inf",
        " -.inf",
        " +.INF",
        " .nan",
        " -.nan",
        " .NaN",
        " nan",
        " NaN",
        " inf",
        " Infinity",
        " 0x1F",
        " 0X1F",
        " 0o17",
        " 0b101",
        " 1_000",
        " 1,000",
        " 1 000",
        " 99999999999999999999",
        " 18446744073709551615",
        " 18446744073709551616",
        " 9223372036854775808",
        " 1e999",
        " 2025-12-24",
        " 2025-12-24 08:15:00",
        " 2025-12-24 08:15:00 +0900",
        " 2025-12-24T08:15:00Z",
        " 2025-12-24T08:15:00+09:00",
        " 2025-12-24 08:15",
        " 2025-1-2",
        " 2025-12-24x",
        " 12:30",
        " 1:2",
        " 190:20:30",
        " 1.0.0",
        " 1.2.3.4",
        " 1..2",
        " 1-2",
        " 1e-2",
        " 1E+2",
        " 1.5e-3",
        " 0x1e-5",
        " 1-e5",
        " -1-2",
        " 1+2",
        " 1.e5",
        " 4.4.1",
        " v1.2",
        " 1.0.0-rc1",
        " \"x\"",
        " \"\"",
        " ''",
        " 'x'",
        " \"  pad  \"",
        " 'it''s'",
        " ''''",
        " 'a'b'",
        " \"a\\\"b\"",
        " \"a\\nb\"",
        " \"a\\\\b\"",
        " \"\\u00e9\"",
        " \"unterminated",
        " 'unterminated",
        " \"a\" # c",
        " 'a' b",
        " \"a\"   ",
        " a # c",
        " # c",
        " a#b",
        " C#",
        " a: b",
        " a:b",
        " a :b",
        " http://x.y/z?a=1#f",
        " a:",
        " 中文",
        " “curly”",
        " Ünïcödé",
        " \u{a0}nbsp\u{a0}",
        " é:x",
        " [a, b, 中文]",
        " []",
        " [ ]",
        " [a,b]",
        " [ a , b ]",
        " [Weekly Notes, AI/ML]",
        " [a, [b]]",
        " [a, {b: c}]",
        " [\"a\", 'b']",
        " [\"a,b\", 'c]']",
        " [a, ]",
        " [a,, b]",
        " [,a]",
        " [1, 2.5, true, null, ~, '']",
        " [a] x",
        " [a",
        " [a:b]",
        " [a #b]",
        " [-a, ?b]",
        " {a: b}",
        " {}",
        " &a x",
        " *a",
        " !!str 1",
        " !!int 1",
        " !x y",
        " |\n  block\n",
        " >\n  folded\n",
        "\n  - a\n  - b\n",
        "\n- a\n- b\n",
        "\n  - a\n    - b\n",
        "\n  - a\n - b\n",
        "\n  - a: 1\n    b: 2\n  - c\n",
        "\n  - a: 1\n   b: 2\n",
        "\n  - a:\n    - x\n",
        "\n  a: 1\n  b: [x]\n",
        "\n  a:\n    b: 1\n",
        "\n  - [a, b]\n",
        "\n  -\n",
        "\n  - \n",
        "\n  - - a\n",
        "\n  - ~\n  - ''\n  - null\n  - 2025\n",
        "\n  - yes\n  - 1.5\n",
        "\n  - 'q'\n  - \"d\"\n",
        "\n  # comment\n  - a\n",
        "\n# comment\n  - a\n",
        "\n\n  - a\n\n  - b\n",
        "\n  - a # c\n",
        "\n  - a: b: c\n",
        "\n  -  a: 1\n",
        "\n  name: x\n  url: y\n",
        "\n  null: x\n",
        "\n  y: 1\n  .inf: 2\n",
        " x\n  continued\n",
        " x\n\n  continued\n",
        "\t x",
        " x\t",
        " - a",
        " -a",
        " ? a",
        " % a",
        " @a",
        " `a`",
        " ,a",
        " a, b",
        " ]",
        " }",
        " .",
        " ..",
        " ...",
        " ---",
        "x",
        " \"a\"\"b\"",
        " 'a''''b'",
        " a & b",
        " a *b",
        " a !b",
        " a |b",
        " a > b",
        " a % b",
        " a @b",
        " a `b`",
        " a [b]",
        " a {b}",
        " a - b",
        " a ? b",
        " a: ",
        " a :",
        " x'y",
        " x\"y\"",
        " 🎮 game",
        " [C#, F#]",
        " [a,#b]",
        " [a, b #c]",
        " [🎮, é]",
        "   \n  - a\n",
        "\n  a: 1\n  a: 2\n",
        "\n- a:\n- b\n",
        "\n  - a: 1\n    a: 2\n",
        "\n  - a: [x, y]\n    b: 'q'\n",
        " /a/b/",
        " ./x",
        " a\u{3000}b",
        " \u{3000}",
        " 全角：コロン",
    ];

    /// Lines around the key under test, in and out of the shape.
    const OTHER_LINES: &[&str] = &[
        "title: t\n",
        "# comment\n",
        "\n",
        "Title: x\n",
        "title : x\n",
        "title:x\n",
        "ti tle: x\n",
        "_x: 1\n",
        "y: 1\n",
        "n: 2\n",
        "on: 3\n",
        "1: x\n",
        "~: x\n",
        "null: x\n",
        "-x: 1\n",
        "title: a\ntitle: b\n",
        "tags: a\ntags: [b]\n",
        "layout: a\nlayout: b\n",
        "  # indented comment\n",
        " \n",
        "---\n",
        "...\n",
        "- a\n",
        "  x: 1\n",
    ];

    #[test]
    fn the_usual_reader_reads_every_tricky_value_as_serde_saphyr_does() {
        let mut taken = 0;
        let mut tried = 0;
        for key in KEYS {
            for value in VALUES {
                let line = if value.ends_with('\n') {
                    format!("{key}:{value}")
                } else {
                    format!("{key}:{value}\n")
                };
                for yaml in [
                    line.clone(),
                    format!("title: t\n{line}date: 2025-12-24\n"),
                    format!("{line}{line}"),
                    line.trim_end_matches('\n').to_owned(),
                ] {
                    taken += usize::from(the_usual_reader_agrees(&yaml));
                    tried += 1;
                }
            }
        }
        for before in OTHER_LINES {
            for after in OTHER_LINES {
                let yaml = format!("{before}tags: [a]\n{after}");
                taken += usize::from(the_usual_reader_agrees(&yaml));
                tried += 1;
            }
        }
        // Long lines: YAML caps a simple key at 1,024 characters, not a value.
        for length in [1000, 1030, 5000] {
            let word = "a".repeat(length);
            for value in [
                word.clone(),
                format!("\"{word}\""),
                format!("[{word}, b]"),
                format!("\n  - {word}\n"),
                format!("\n  - x: {word}\n"),
            ] {
                for key in ["title", "tags", "authors", "other"] {
                    let yaml = format!("{key}: {value}\ndate: 2025-12-24\n");
                    taken += usize::from(the_usual_reader_agrees(&yaml));
                    tried += 1;
                }
            }
            let yaml = format!("{word}: x\ntitle: t\n");
            assert!(!the_usual_reader_agrees(&yaml));
        }
        // It takes the usual values, not only gives up: the benchmark's
        // shapes every time.
        for date in [
            "2025-12-24 08:15:00",
            "2025-12-24 08:15:00 +0900",
            "2025-12-24",
            "2025-12-24 08:15",
            "2025-12-24T08:15:00+09:00",
            "2025-12-24T08:15:00Z",
            "2025-12-24 08:15:00 +09:00",
        ] {
            for categories in [
                "[research, ml]",
                "research ml",
                "[]",
                "[Weekly Notes, AI/ML]",
            ] {
                let yaml = format!(
                    "layout: post\ntitle: \"Daily Papers — 2025-12-24 #7\"\ndate: {date}\n\
                     tags: [papers, llm]\ncategories: {categories}\n\
                     description: \"Digest 10: We propose: a model.\"\nauthor: Daily Papers Bot\n"
                );
                assert!(the_usual_reader_agrees(&yaml), "{yaml}");
            }
        }
        assert!(
            taken * 100 >= tried * 45,
            "the usual reader took only {taken} of {tried}"
        );
    }

    #[test]
    fn the_usual_reader_reads_booleans_and_nulls_in_every_letter_case_as_serde_saphyr_does() {
        let mut words = Vec::new();
        for word in ["true", "false", "yes", "no", "on", "off", "y", "n", "null"] {
            // Each letter lower or upper: `tRUE`, `nULL`, `oFf`...
            for mask in 0..1_u32 << word.len() {
                words.push(
                    word.chars()
                        .enumerate()
                        .map(|(i, c)| {
                            if mask >> i & 1 == 1 {
                                c.to_ascii_uppercase()
                            } else {
                                c
                            }
                        })
                        .collect::<String>(),
                );
            }
        }
        let mut taken = 0;
        for word in &words {
            for key in [
                "published",
                "draft",
                "render_with_liquid",
                "tags",
                "title",
                "other",
            ] {
                for yaml in [
                    format!("{key}: {word}\n"),
                    format!("{key}: [{word}, x]\n"),
                    format!("{key}:\n  - {word}\n"),
                    format!("{key}:\n  - a: {word}\n"),
                ] {
                    taken += usize::from(the_usual_reader_agrees(&yaml));
                }
            }
        }
        assert!(
            taken >= words.len() * 12,
            "the usual reader took only {taken}"
        );
    }

    /// A small seeded generator: the same mutations on every run.
    struct Mutations(u64);

    impl Mutations {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(self.0 >> 33).unwrap() % n.max(1)
        }

        /// One change at a random place: a piece put in, a few bytes
        /// taken out, or the line doubled.
        fn mutate(&mut self, text: &mut String, pieces: &[&str]) {
            let mut at = self.below(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match self.below(3) {
                0 => text.insert_str(at, pieces[self.below(pieces.len())]),
                1 => {
                    let mut end = (at + 1 + self.below(8)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, "");
                }
                _ => {
                    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                    let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
                    let line = text[start..end].to_owned();
                    text.insert_str(start, &line);
                }
            }
        }
    }

    #[test]
    fn the_usual_reader_agrees_on_mutated_front_matter() {
        const PIECES: &[&str] = &[
            " ",
            "  ",
            "\n",
            "\n  ",
            "- ",
            ":",
            ": ",
            "#",
            " #",
            "'",
            "\"",
            "\\",
            "[",
            "]",
            ",",
            "{",
            "}",
            "&",
            "*",
            "!",
            "|",
            ">",
            "?",
            "%",
            "~",
            "null",
            "yes",
            "0",
            "1.5",
            "-",
            ".inf",
            "\t",
            "中",
            "é",
            "2025-12-24",
            "key: v\n",
            "  - x\n",
            "tags:\n",
        ];
        let mut texts: Vec<String> = front_matters(&["../shared/real-blogs", "../shared/examples"])
            .into_iter()
            .step_by(7)
            .map(|(_, yaml)| yaml)
            .collect();
        texts.push(
            "layout: post\ntitle: \"Daily Papers — 2025-12-24 #3\"\ndate: 2025-12-24 08:15:00 +0900\n\
             tags: [papers, audio]\ncategories: research ml\nauthors:\n  - a\n  - b\n\
             links:\n- url: https://x.example/a\n  title: 'A'\n"
                .into(),
        );
        let mut random = Mutations(20_251_224);
        let mut taken = 0;
        for round in 0..4000 {
            let mut text = texts[round % texts.len()].clone();
            for _ in 0..=random.below(3) {
                random.mutate(&mut text, PIECES);
            }
            taken += usize::from(the_usual_reader_agrees(&text));
        }
        assert!(
            taken >= 1500,
            "the usual reader took only {taken} of 4000 mutations"
        );
    }
}
