//! The blog's own `_config.yml` (SPEC §1b): the keys digest-feed shares with
//! Jekyll, read so that the user types nothing twice. Jekyll's file holds
//! many keys for themes and plugins; every one not read here is ignored, as
//! Jekyll ignores keys it does not know.
//!
//! serde-saphyr reads it, as it reads front matter in `post/front_matter.rs`:
//! both are Jekyll's YAML, and no other module parses YAML. `defaults:` is
//! read here as written, with the lines a message names; `defaults.rs`
//! checks it.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::Data;

/// What `_config.yml` says, as far as digest-feed reads it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct JekyllConfig {
    pub(super) url: Option<String>,
    pub(super) baseurl: Option<String>,
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
    pub(super) author: Option<Author>,
    pub(super) lang: Option<String>,
    pub(super) timezone: Option<String>,
    pub(super) permalink: Option<String>,
    pub(super) collections: BTreeMap<String, Collection>,
    pub(super) excerpt_separator: Option<String>,
    pub(super) future: Option<bool>,
    /// jekyll-feed's settings.
    pub(super) feed: Option<FeedPlugin>,
    /// What `jekyll build` leaves out, besides `_` and `.` names.
    pub(super) exclude: Vec<String>,
    /// What it puts back in, of those.
    pub(super) include: Vec<String>,
    /// Front matter defaults, as written.
    pub(super) defaults: RawDefaults,
    /// Keys written a second time in one mapping (Ruby's YAML keeps the
    /// later value): each as its dotted path and the later one's line.
    #[serde(skip)]
    pub(super) repeated_keys: Vec<(String, usize)>,
}

/// `defaults:` as written: a list of sets of front matter values, each for
/// the files its `scope` names.
#[derive(Debug, Clone, Default)]
pub(super) struct RawDefaults(pub(super) Vec<RawDefault>);

/// One entry of `defaults:`, with the lines of what it holds.
#[derive(Debug, Clone, Default)]
pub(super) struct RawDefault {
    /// The entry's first line.
    pub(super) line: usize,
    /// `scope`, with the line of its key; what it holds is checked later.
    pub(super) scope: Option<(usize, Data)>,
    /// `values`; `None` when absent or empty.
    pub(super) values: Option<Vec<RawValue>>,
}

/// One key of an entry's `values`.
#[derive(Debug, Clone)]
pub(super) struct RawValue {
    /// The key.
    pub(super) key: String,
    /// Its line.
    pub(super) line: usize,
    /// Its value.
    pub(super) value: Data,
}

impl<'de> Deserialize<'de> for RawDefaults {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawDefaultsVisitor)
    }
}

struct RawDefaultsVisitor;

impl<'de> Visitor<'de> for RawDefaultsVisitor {
    type Value = RawDefaults;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`defaults`: a list of entries, each `- scope: {path: ..., type: posts}` with `values: {...}`")
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawDefaults, E> {
        Ok(RawDefaults::default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawDefaults, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = seq.next_element::<Spanned<RawDefault>>()? {
            let mut value = entry.value;
            value.line = line_number(entry.referenced.line());
            entries.push(value);
        }
        Ok(RawDefaults(entries))
    }
}

impl<'de> Deserialize<'de> for RawDefault {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `any`, not `map`: saphyr's message for another kind of value then
        // says what an entry is.
        deserializer.deserialize_any(RawDefaultVisitor)
    }
}

struct RawDefaultVisitor;

impl<'de> Visitor<'de> for RawDefaultVisitor {
    type Value = RawDefault;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a `defaults` entry: a mapping with `scope` and `values`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawDefault, A::Error> {
        let mut entry = RawDefault::default();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let line = line_number(key.referenced.line());
            // Jekyll reads no other key of an entry.
            match key.value.as_str() {
                "scope" => entry.scope = Some((line, map.next_value()?)),
                "values" => entry.values = map.next_value::<Values>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(entry)
    }
}

/// An entry's `values`: each key with its line; `None` when empty (`values:`).
struct Values(Option<Vec<RawValue>>);

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValuesVisitor)
    }
}

struct ValuesVisitor;

impl<'de> Visitor<'de> for ValuesVisitor {
    type Value = Values;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a `defaults` entry's `values`: a mapping of front matter keys, like `author: Kim`",
        )
    }

    fn visit_unit<E: de::Error>(self) -> Result<Values, E> {
        Ok(Values(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Values, A::Error> {
        let mut values = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Data>>()? {
            let line = line_number(key.referenced.line());
            values.push(RawValue {
                key: key.value.key_text(),
                line,
                value: map.next_value()?,
            });
        }
        Ok(Values(Some(values)))
    }
}

/// A parser's 1-based line as an index; a line past `usize` cannot be in a config file.
fn line_number(line: u64) -> usize {
    usize::try_from(line).unwrap_or(usize::MAX)
}

/// `author`: a name, or a mapping with one.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum Author {
    Name(String),
    Person {
        name: Option<String>,
        email: Option<String>,
    },
}

impl Author {
    /// As `site.author` is written in config.toml: `Name <email>` or a name.
    pub(super) fn text(&self) -> String {
        match self {
            Author::Name(name) => name.clone(),
            Author::Person { name, email } => match (name, email) {
                (Some(name), Some(email)) => format!("{name} <{email}>"),
                (Some(name), None) => name.clone(),
                (None, Some(email)) => email.clone(),
                (None, None) => String::new(),
            },
        }
    }
}

/// One entry of `collections`; only the posts' permalink matters here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct Collection {
    pub(super) permalink: Option<String>,
}

/// jekyll-feed's `feed:` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct FeedPlugin {
    pub(super) posts_limit: Option<i64>,
}

/// What a YAML file of Jekyll's says is wrong: its line when known, and saphyr's message.
pub(super) type YamlError = (Option<usize>, String);

/// Parses `_data/authors.yml` (jekyll-feed's `site.data.authors`): each
/// key's author as `Name <email>`; the error is saphyr's, with its line.
pub(super) fn parse_authors(text: &str) -> Result<Vec<(String, String)>, YamlError> {
    let authors: std::collections::BTreeMap<String, Author> = from_yaml(text)?;
    Ok(authors
        .into_iter()
        .map(|(key, author)| (key, author.text()))
        .collect())
}

/// Parses `_config.yml`; the error is saphyr's, with its line.
pub(super) fn parse(text: &str) -> Result<JekyllConfig, YamlError> {
    let mut config: JekyllConfig = from_yaml(text)?;
    config.repeated_keys = repeated_keys(text);
    Ok(config)
}

/// A YAML file of Jekyll's read as `T`; the error is saphyr's, with its line.
fn from_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    // An empty file, or one of comments only, is an empty mapping, as Jekyll reads it.
    let empty = text
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'));
    let text = if empty { "{}" } else { text };
    // A key written twice keeps the later value, as Ruby's YAML (Psych) does.
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
    };
    serde_saphyr::from_str_with_options::<T>(text, options).map_err(|err| {
        let err = err.without_snippet();
        let line = err
            .location()
            .and_then(|at| usize::try_from(at.line()).ok());
        let mut message = err.to_string();
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        (line, message)
    })
}

/// Every key written twice in one mapping of `text`, at any depth, with
/// the later one's line: read again with each repeat handed to the
/// visitor, which notes it. Empty when the YAML does not read so.
fn repeated_keys(text: &str) -> Vec<(String, usize)> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
    };
    let found = std::cell::RefCell::new(Vec::new());
    let seed = Repeats {
        path: String::new(),
        found: &found,
    };
    let read =
        serde_saphyr::with_deserializer_from_str_with_options(text, options, |deserializer| {
            de::DeserializeSeed::deserialize(seed, deserializer)
        });
    if read.is_err() {
        return Vec::new();
    }
    found.into_inner()
}

/// A value walked for repeated keys; `path` is where it sits (`a.b`).
struct Repeats<'a> {
    path: String,
    found: &'a std::cell::RefCell<Vec<(String, usize)>>,
}

impl<'de> de::DeserializeSeed<'de> for Repeats<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Repeats<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut at = 0;
        while seq
            .next_element_seed(Repeats {
                path: format!("{}[{at}]", self.path),
                found: self.found,
            })?
            .is_some()
        {
            at += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<Spanned<Data>>()? {
            let name = key.value.key_text();
            let path = if self.path.is_empty() {
                name.clone()
            } else {
                format!("{}.{name}", self.path)
            };
            if !seen.insert(name) {
                let line = line_number(key.referenced.line());
                self.found.borrow_mut().push((path.clone(), line));
            }
            map.next_value_seed(Repeats {
                path,
                found: self.found,
            })?;
        }
        Ok(())
    }
}

impl JekyllConfig {
    /// The posts' permalink: `collections.posts.permalink` wins over `permalink`, as in Jekyll.
    pub(super) fn posts_permalink(&self) -> Option<&str> {
        self.collections
            .get("posts")
            .and_then(|posts| posts.permalink.as_deref())
            .or(self.permalink.as_deref())
    }

    /// The permalinks of the collections other than posts, by name: each
    /// one's own, else Jekyll's `/:collection/:path` with the suffix the
    /// site's `permalink` style gives (`Utils.add_permalink_suffix`).
    pub(super) fn collection_permalinks(&self) -> BTreeMap<String, String> {
        let style = self.permalink.as_deref().unwrap_or("date");
        let suffix = match style {
            "pretty" => "/",
            "date" | "ordinal" | "none" => ":output_ext",
            custom if custom.ends_with('/') => "/",
            custom if custom.ends_with(":output_ext") => ":output_ext",
            _ => "",
        };
        self.collections
            .iter()
            .filter(|(name, _)| name.as_str() != "posts")
            .map(|(name, collection)| {
                let permalink = collection
                    .permalink
                    .clone()
                    .unwrap_or_else(|| format!("/:collection/:path{suffix}"));
                (name.clone(), permalink)
            })
            .collect()
    }

    /// Whether `jekyll build` copies the file at `relative` (a path inside the
    /// blog's folder, `/`-separated) into `_site`: not when a part of it
    /// starts with `_` or `.`, or it is excluded, unless `include` names it.
    pub(super) fn publishes(&self, relative: &str) -> bool {
        let listed = |list: &[String]| {
            list.iter().any(|entry| {
                let entry = entry.trim_matches('/');
                !entry.is_empty()
                    && (relative == entry || relative.starts_with(&format!("{entry}/")))
            })
        };
        if listed(&self.exclude) {
            return false;
        }
        let hidden = relative
            .split('/')
            .any(|part| part.starts_with('_') || part.starts_with('.'));
        !hidden || listed(&self.include)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_pages_blog() {
        let config = parse(
            "title: \"Daily AI\"\nurl: \"https://x.github.io\"\nbaseurl: \"/Daily-AI/\"\ntheme: minima\nplugins:\n  - jekyll-feed\nfeed:\n  posts_limit: 30\n",
        )
        .unwrap();
        assert_eq!(config.baseurl.as_deref(), Some("/Daily-AI/"));
        assert_eq!(config.feed.unwrap().posts_limit, Some(30));
        assert!(parse("# nothing\n").unwrap().url.is_none());
    }

    #[test]
    fn authors_data_reads_names_and_mappings() {
        let authors = parse_authors(
            "ray:\n  name: Ray Kim\n  email: ray@e.org\n  uri: https://e.org\ngom: Gom\n",
        )
        .unwrap();
        assert_eq!(
            authors,
            vec![
                ("gom".to_string(), "Gom".to_string()),
                ("ray".to_string(), "Ray Kim <ray@e.org>".to_string())
            ]
        );
        assert_eq!(parse_authors("# none yet\n").unwrap(), Vec::new());
        assert_eq!(parse_authors("- a\n- b\n").unwrap_err().0, Some(1));
    }

    #[test]
    fn other_collections_take_their_permalink_or_jekylls_default() {
        let config = parse(
            "permalink: pretty\ncollections:\n  posts:\n    output: true\n  docs:\n    permalink: /d/:path/\n  notes:\n    output: true\n",
        )
        .unwrap();
        let permalinks = config.collection_permalinks();
        assert_eq!(
            permalinks.into_iter().collect::<Vec<_>>(),
            [
                ("docs".to_string(), "/d/:path/".to_string()),
                ("notes".to_string(), "/:collection/:path/".to_string())
            ]
        );
        let config = parse("collections:\n  notes:\n    output: true\n").unwrap();
        assert_eq!(
            config.collection_permalinks()["notes"],
            "/:collection/:path:output_ext"
        );
    }

    #[test]
    fn collections_permalink_wins_and_authors_read_either_way() {
        let config = parse(
            "permalink: pretty\ncollections:\n  posts:\n    permalink: /news/:year/:title/\n    output: true\nauthor:\n  name: Kim\n  email: kim@e.org\n",
        )
        .unwrap();
        assert_eq!(config.posts_permalink(), Some("/news/:year/:title/"));
        assert_eq!(config.author.unwrap().text(), "Kim <kim@e.org>");
    }

    #[test]
    fn what_jekyll_publishes() {
        let config = parse("exclude: [config.toml, private/]\ninclude: [_headers]\n").unwrap();
        assert!(!config.publishes("config.toml"));
        assert!(!config.publishes("private/list.csv"));
        assert!(!config.publishes("_digest-feed/config.toml"));
        assert!(!config.publishes(".digest-feed/state.db"));
        assert!(config.publishes("_headers"));
        assert!(config.publishes("subscribers.csv"));
    }

    #[test]
    fn a_key_written_twice_keeps_the_later_value_and_is_found() {
        let config = parse(
            "title: A\nkramdown:\n  input: GFM\n  input: kramdown\ntitle: B\nlist: [{x: 1, x: 2}]\n",
        )
        .unwrap();
        assert_eq!(config.title.as_deref(), Some("B"));
        assert_eq!(
            config.repeated_keys,
            [
                ("kramdown.input".to_string(), 4),
                ("title".to_string(), 5),
                ("list[0].x".to_string(), 6)
            ]
        );
    }

    #[test]
    fn a_broken_file_names_its_line() {
        let (line, message) = parse("title: x\nurl: [\n").unwrap_err();
        assert!(line.is_some(), "{message}");
    }
}
