//! Liquid in post bodies, rendered before Markdown as Jekyll renders it:
//! liquid-rust's tags and filters, Jekyll's (`raw`, `highlight`, `link`,
//! `post_url`, `include` from `_includes/` with parameters, and filters such
//! as `absolute_url`, `relative_url`, `date_to_xmlschema`, `xml_escape`,
//! `markdownify`, `jsonify`, `group_by`) added through its plugin API, and
//! `site.*` and `page.*` from the config and the front matter.
//!
//! liquid-rust (`liquid-core`, `liquid-lib`) lives here and nowhere else.
//! A tag or filter digest-feed does not know (a Jekyll plugin's) is a warning
//! naming the file and line, and renders as nothing (a tag) or as its input
//! (a filter): never as text. Any other Liquid error is a warning too, and
//! the body is then rendered with its Liquid markup removed.
//!
//! Every render is bounded whatever the input: at most [`MAX_ITERATIONS`]
//! loop iterations, [`MAX_OUTPUT`] bytes written or held in one variable,
//! [`MAX_INCLUDE_DEPTH`] nested includes, [`MAX_BLOCK_DEPTH`] nested blocks.

mod filters;
mod tags;

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, LazyLock};

use liquid_core::model::{DateTime, KString, ScalarCow, ValueCow};
use liquid_core::runtime::{Interrupt, InterruptRegister, PartialStore, Registers, RuntimeBuilder};
use liquid_core::{Language, Object, Renderable, Runtime, Template, Value, ValueView};

use super::front_matter::Data;
use super::{Post, SiteContext};
use crate::error::{Location, Problem};

/// Loop iterations one render may run, all loops together.
pub(crate) const MAX_ITERATIONS: u64 = 1_000_000;
/// Bytes one render may write, and the most one variable may hold.
pub(crate) const MAX_OUTPUT: usize = 16 * 1024 * 1024;
/// Includes within includes.
pub(crate) const MAX_INCLUDE_DEPTH: usize = 16;
/// Blocks (`if`, `for`, ...) within blocks: the parser recurses per level.
pub(crate) const MAX_BLOCK_DEPTH: usize = 100;
/// Largest range a `for` may count over (`(1..n)` is made whole first).
pub(crate) const MAX_RANGE: i64 = 100_000;

/// Liquid's and Jekyll's tags and filters; each render adds the ones that
/// need the post's site (`link`, `post_url`, `include`) to a copy.
static LANGUAGE: LazyLock<Language> = LazyLock::new(|| {
    let mut language = Language::default();
    tags::register(&mut language);
    filters::register(&mut language);
    language
});

/// Renders the Liquid of `body` (the text after the front matter, starting
/// on line `first_line`). Returns the text and the warnings; the text never
/// holds Liquid markup that was not meant as text.
pub(crate) fn render(
    post: &Post,
    data: Data,
    body: &str,
    first_line: usize,
) -> (String, Vec<Problem>) {
    let site = post.site.clone().unwrap_or_default();
    let at = |line: usize| Location::line(&post.source, first_line + line - 1);
    let scan = scan(body, &LANGUAGE);
    let mut warnings: Vec<Problem> = scan
        .unknown
        .iter()
        .map(|unknown| {
            Problem::new(
                at(unknown.line),
                format!(
                    "Liquid {} `{}` is from a Jekyll plugin digest-feed does not know; it is left out",
                    unknown.kind.word(),
                    unknown.name
                ),
            )
        })
        .collect();
    if scan.depth > MAX_BLOCK_DEPTH {
        warnings.push(Problem::new(
            at(1),
            format!("Liquid blocks nest more than {MAX_BLOCK_DEPTH} deep; the Liquid is left out"),
        ));
        return (strip_markup(body), warnings);
    }
    if let Some(line) = scan.huge_range {
        warnings.push(Problem::new(
            at(line),
            format!("a Liquid range counts past {MAX_RANGE} items; the Liquid is left out"),
        ));
        return (strip_markup(body), warnings);
    }
    let mut language = LANGUAGE.clone();
    tags::register_site(&mut language, &site);
    for unknown in &scan.unknown {
        match unknown.kind {
            Kind::Tag => tags::register_ignored(&mut language, &unknown.name),
            Kind::Filter => filters::register_identity(&mut language, &unknown.name),
        }
    }
    match run(
        &language,
        &site,
        &globals(post, &site, data),
        &quote_paths(body),
    ) {
        Ok(text) => (text, warnings),
        Err((line, message)) => {
            warnings.push(Problem::new(
                at(line),
                format!("Liquid: {message}; the Liquid is left out"),
            ));
            (strip_markup(body), warnings)
        }
    }
}

/// Parses and renders `body` within the bounds.
fn run(
    language: &Language,
    site: &Arc<SiteContext>,
    globals: &Object,
    body: &str,
) -> Result<String, (usize, String)> {
    let parsed = liquid_core::parser::parse(body, language).map_err(|err| explain(&err))?;
    let template = Template::new(parsed);
    let partials = tags::Includes::new(site.root.join("_includes"), language.clone());
    let core = RuntimeBuilder::new()
        .set_globals(globals)
        .set_partials(&partials)
        .build();
    let runtime = Bounded {
        inner: core,
        iterations: Cell::new(0),
        exceeded: Cell::new(None),
    };
    let mut out = Limited {
        bytes: Vec::new(),
        limit: MAX_OUTPUT,
    };
    let result = template.render_to(&mut out, &runtime);
    if let Some(why) = runtime.exceeded.get() {
        return Err((1, why.to_string()));
    }
    result.map_err(|err| explain(&err))?;
    String::from_utf8(out.bytes).map_err(|_| (1, "the output is not UTF-8".to_string()))
}

/// liquid-rust's error as a line of the body and one sentence: its syntax
/// errors run over lines (` --> 3:7`, the text, `= expected ...`).
fn explain(err: &liquid_core::Error) -> (usize, String) {
    let text = err.to_string();
    let line = text
        .split_once("--> ")
        .and_then(|(_, rest)| rest.split(':').next())
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or(1);
    let message = text
        .lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("= "))
        .or_else(|| {
            text.lines()
                .map(str::trim)
                .find(|line| !line.is_empty() && !line.starts_with("-->"))
        })
        .unwrap_or("a syntax error");
    let message = message.trim_start_matches("liquid: ").trim_end_matches('.');
    (line, message.to_string())
}

/// `site` and `page`, as Jekyll gives them to a post.
fn globals(post: &Post, site: &SiteContext, data: Data) -> Object {
    let rules = site.rules.as_ref();
    let info = rules.map(|rules| &rules.site);
    let url = rules.map_or(String::new(), |rules| rules.site_url.clone());
    let (origin, baseurl) = split_base(&url);
    let mut site_object = Object::new();
    let text = |value: &str| Value::scalar(value.to_string());
    site_object.insert("url".into(), text(&origin));
    site_object.insert("baseurl".into(), text(&baseurl));
    site_object.insert("title".into(), text(info.map_or("", |i| i.title.as_str())));
    site_object.insert(
        "description".into(),
        text(info.map_or("", |i| i.description.as_str())),
    );
    site_object.insert(
        "author".into(),
        text(info.map_or("", |i| i.author.as_str())),
    );
    site_object.insert(
        "lang".into(),
        text(info.map_or("", |i| i.language.as_str())),
    );
    site_object.insert(
        "timezone".into(),
        text(info.map_or("", |i| i.timezone.as_str())),
    );
    site_object.insert("posts".into(), Value::Array(Vec::new()));
    site_object.insert("pages".into(), Value::Array(Vec::new()));

    let mut page = match to_value(data) {
        Value::Object(object) => object,
        _ => Object::new(),
    };
    let written = super::date::rfc3339(&post.date);
    let page_date =
        DateTime::from_str(&jiff_to_liquid(&written)).map_or_else(|| text(&written), Value::scalar);
    page.insert("date".into(), page_date);
    page.insert("title".into(), text(&post.title));
    page.insert("url".into(), text(&post.path));
    page.insert(
        "id".into(),
        text(post.id().strip_prefix(&origin).unwrap_or(&post.id())),
    );
    page.insert(
        "path".into(),
        text(
            &post
                .source
                .strip_prefix(&site.root)
                .unwrap_or(&post.source)
                .to_string_lossy(),
        ),
    );
    let list = |words: &[String]| Value::Array(words.iter().map(|w| text(w)).collect());
    page.insert("tags".into(), list(&post.tags));
    page.insert("categories".into(), list(&post.categories));
    let mut globals = Object::new();
    globals.insert("site".into(), Value::Object(site_object));
    globals.insert("page".into(), Value::Object(page));
    globals
}

/// `2025-12-24T08:15:00+09:00` as liquid-rust reads a date: `2025-12-24 08:15:00 +0900`.
fn jiff_to_liquid(rfc3339: &str) -> String {
    let (date, time) = rfc3339
        .split_once('T')
        .unwrap_or((rfc3339, "00:00:00+00:00"));
    let split = time.rfind(['+', '-']).unwrap_or(time.len());
    let clock = time[..split].split('.').next().unwrap_or("00:00:00");
    let offset = time[split..].replace(':', "");
    let offset = if offset.is_empty() {
        "+0000".to_string()
    } else {
        offset
    };
    format!("{date} {clock} {offset}")
}

/// `https://host/base` as Jekyll's `url` (`https://host`) and `baseurl` (`/base`).
pub(crate) fn split_base(url: &str) -> (String, String) {
    match url::Url::parse(url) {
        Ok(parsed) => {
            let path = parsed.path().trim_end_matches('/').to_string();
            let origin = url
                .strip_suffix(&path)
                .unwrap_or(url)
                .trim_end_matches('/')
                .to_string();
            (origin, path)
        }
        Err(_) => (url.trim_end_matches('/').to_string(), String::new()),
    }
}

fn to_value(data: Data) -> Value {
    match data {
        Data::Null => Value::Nil,
        Data::Bool(b) => Value::scalar(b),
        Data::Int(i) => Value::scalar(i),
        Data::Float(f) => Value::scalar(f),
        Data::Text(t) => Value::scalar(t),
        Data::List(items) => Value::Array(items.into_iter().map(to_value).collect()),
        Data::Map(entries) => {
            let mut object = Object::new();
            for (key, value) in entries {
                object.insert(key.into(), to_value(value));
            }
            Value::Object(object)
        }
    }
}

/// A writer that refuses to grow past `limit`.
struct Limited {
    bytes: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.limit {
            return Err(std::io::Error::other(format!(
                "the Liquid output passes {} MiB",
                self.limit / (1024 * 1024)
            )));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The runtime every render runs in: liquid-rust's, with a budget. Each
/// loop iteration ends by asking for the registers, so they count the
/// iterations; past the budget every loop is told to break. Every
/// `assign` and `capture` goes through `set_global`, which refuses a value
/// past [`MAX_OUTPUT`].
struct Bounded<R> {
    inner: R,
    iterations: Cell<u64>,
    exceeded: Cell<Option<&'static str>>,
}

impl<R: Runtime> Bounded<R> {
    fn exceed(&self, why: &'static str) {
        if self.exceeded.get().is_none() {
            self.exceeded.set(Some(why));
        }
    }
}

impl<R: Runtime> Runtime for Bounded<R> {
    fn partials(&self) -> &dyn PartialStore {
        self.inner.partials()
    }

    fn name(&self) -> Option<liquid_core::model::KStringRef<'_>> {
        self.inner.name()
    }

    fn roots(&self) -> std::collections::BTreeSet<liquid_core::model::KStringCow<'_>> {
        self.inner.roots()
    }

    fn try_get(&self, path: &[ScalarCow<'_>]) -> Option<ValueCow<'_>> {
        self.inner.try_get(path)
    }

    fn get(&self, path: &[ScalarCow<'_>]) -> liquid_core::Result<ValueCow<'_>> {
        // Jekyll's Liquid is lax: a variable that is not there is nil.
        Ok(self
            .inner
            .try_get(path)
            .unwrap_or(ValueCow::Owned(Value::Nil)))
    }

    fn set_global(&self, name: KString, val: Value) -> Option<Value> {
        if weight(&val, MAX_OUTPUT) > MAX_OUTPUT {
            self.exceed("a Liquid variable grows past 16 MiB");
            self.inner
                .registers()
                .get_mut::<InterruptRegister>()
                .set(Interrupt::Break);
            return self.inner.set_global(name, Value::Nil);
        }
        self.inner.set_global(name, val)
    }

    fn set_index(&self, name: KString, val: Value) -> Option<Value> {
        self.inner.set_index(name, val)
    }

    fn get_index<'a>(&'a self, name: &str) -> Option<ValueCow<'a>> {
        self.inner.get_index(name)
    }

    fn registers(&self) -> &Registers {
        let registers = self.inner.registers();
        let count = self.iterations.get() + 1;
        self.iterations.set(count);
        if count > MAX_ITERATIONS {
            self.exceed("Liquid loops run past a million iterations");
            registers
                .get_mut::<InterruptRegister>()
                .set(Interrupt::Break);
        }
        registers
    }
}

/// A value's size in bytes, roughly, counted no further than `budget`.
fn weight(value: &dyn ValueView, budget: usize) -> usize {
    if let Some(array) = value.as_array() {
        let mut total = 16;
        for item in array.values() {
            total += weight(item, budget - total.min(budget));
            if total > budget {
                break;
            }
        }
        total
    } else if let Some(object) = value.as_object() {
        let mut total = 16;
        for (key, item) in object.iter() {
            total += key.len() + weight(item, budget - total.min(budget));
            if total > budget {
                break;
            }
        }
        total
    } else {
        value.to_kstr().len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Tag,
    Filter,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Tag => "tag",
            Kind::Filter => "filter",
        }
    }
}

/// A tag or filter name no plugin of ours knows, and its first line (1-based, in the body).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unknown {
    kind: Kind,
    name: String,
    line: usize,
}

/// What a look over the body's Liquid found before parsing it.
#[derive(Debug, Default)]
struct Scan {
    unknown: Vec<Unknown>,
    depth: usize,
    huge_range: Option<usize>,
}

/// Finds, outside `{% raw %}`, the tags and filters `language` lacks, how
/// deep blocks nest, and ranges too long to count over.
fn scan(body: &str, language: &Language) -> Scan {
    let mut scan = Scan::default();
    let mut seen = BTreeMap::new();
    let mut depth: usize = 0;
    let mut in_raw = false;
    for (start, markup) in markup(body) {
        let line = body[..start].matches('\n').count() + 1;
        let inner = markup
            .trim_start_matches(['{', '%', '-'])
            .trim_end_matches(['}', '%', '-'])
            .trim();
        let is_tag = markup.starts_with("{%");
        let name: String = inner
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if in_raw {
            in_raw = !(is_tag && name == "endraw");
            continue;
        }
        if is_tag {
            if name == "raw" {
                in_raw = true;
                continue;
            }
            if language.blocks.get(&name).is_some() {
                depth += 1;
                scan.depth = scan.depth.max(depth);
            } else if let Some(block) = name.strip_prefix("end")
                && language.blocks.get(block).is_some()
            {
                depth = depth.saturating_sub(1);
            } else if !name.is_empty() && !is_known_tag(&name, language) {
                seen.entry((Kind::Tag, name.clone())).or_insert(line);
            }
            if scan.huge_range.is_none() && range_too_long(inner) {
                scan.huge_range = Some(line);
            }
        }
        let filters = if is_tag {
            inner.split_once(' ').map_or("", |(_, rest)| rest)
        } else {
            inner
        };
        for filter in filter_names(filters) {
            if language.filters.get(filter).is_none() {
                seen.entry((Kind::Filter, filter.to_string()))
                    .or_insert(line);
            }
        }
    }
    scan.unknown = seen
        .into_iter()
        .map(|((kind, name), line)| Unknown { kind, name, line })
        .collect();
    scan.unknown.sort_by_key(|unknown| unknown.line);
    scan
}

fn is_known_tag(name: &str, language: &Language) -> bool {
    language.tags.get(name).is_some()
        || [
            "else", "elsif", "when", "endraw", "link", "post_url", "include",
        ]
        .contains(&name)
}

/// Each `{{ ... }}` and `{% ... %}` of `text` with its byte offset.
fn markup(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let open = text[at..].find('{').map(|i| at + i)?;
        let rest = &text[open..];
        let close = if rest.starts_with("{{") {
            "}}"
        } else if rest.starts_with("{%") {
            "%}"
        } else {
            at = open + 1;
            return Some((open, ""));
        };
        let end = rest[2..]
            .find(close)
            .map_or(text.len(), |i| open + 2 + i + 2);
        at = end;
        Some((open, &text[open..end]))
    })
    .filter(|(_, markup)| !markup.is_empty())
}

/// The names after each `|` outside quotes.
fn filter_names(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut quote = None;
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, '|') => {
                let rest = text[at + 1..].trim_start();
                let len = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(rest.len());
                if len > 0 {
                    names.push(&rest[..len]);
                }
            }
            _ => {}
        }
    }
    names
}

/// Whether a tag's `(a..b)` range counts past [`MAX_RANGE`], or over a
/// bound that is not a number (it could be anything when the loop runs).
fn range_too_long(tag: &str) -> bool {
    let Some(open) = tag.find('(') else {
        return false;
    };
    let Some((start, end)) = tag[open + 1..].split_once("..") else {
        return false;
    };
    let end = end.split(')').next().unwrap_or(end);
    match (start.trim().parse::<i64>(), end.trim().parse::<i64>()) {
        (Ok(start), Ok(end)) => end.saturating_sub(start) > MAX_RANGE,
        _ => true,
    }
}

/// The body with the paths of `link`, `post_url` and `include` quoted:
/// Jekyll reads them as words (`_docs/history.md`, `2018-06-03-x`,
/// `logo@2x.svg`), which Liquid's grammar would split or refuse.
fn quote_paths(body: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut in_raw = false;
    for (start, markup) in markup(body) {
        if !markup.starts_with("{%") {
            continue;
        }
        let inner = markup.trim_start_matches(['{', '%', '-']).trim_start();
        let name = inner.split_whitespace().next().unwrap_or("");
        if in_raw || name == "raw" {
            in_raw = name != "endraw";
            continue;
        }
        let args = inner[name.len()..].trim_end_matches(['}', '%', '-']).trim();
        let quoted = match name {
            "link" | "post_url" => args.split_whitespace().collect::<Vec<_>>().join(" "),
            "include" => args.split_whitespace().next().unwrap_or("").to_string(),
            _ => continue,
        };
        if quoted.is_empty() || quoted.starts_with(['"', '\'', '{']) {
            continue;
        }
        let rest = if name == "include" {
            args[args.find(&quoted).map_or(0, |at| at + quoted.len())..].trim()
        } else {
            ""
        };
        out.push_str(&body[copied..start]);
        let _ = write!(out, "{{% {name} \"{quoted}\" {rest} %}}");
        copied = start + markup.len();
    }
    if copied == 0 {
        return Cow::Borrowed(body);
    }
    out.push_str(&body[copied..]);
    Cow::Owned(out)
}

/// The body with its Liquid markup taken out (`{% raw %}` content kept),
/// for a body whose Liquid could not be rendered.
fn strip_markup(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut copied = 0;
    let mut in_raw = false;
    for (start, markup) in markup(body) {
        let name = markup.trim_start_matches(['{', '%', '-']).trim_start();
        if in_raw && !(markup.starts_with("{%") && name.starts_with("endraw")) {
            continue;
        }
        out.push_str(&body[copied..start]);
        copied = start + markup.len();
        if markup.starts_with("{%") {
            in_raw = name.starts_with("raw");
        }
    }
    out.push_str(&body[copied..]);
    out
}

/// A value as Jekyll's `jsonify` writes it.
pub(crate) fn json(value: &dyn ValueView, out: &mut String) {
    if let Some(array) = value.as_array() {
        out.push('[');
        for (i, item) in array.values().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json(item, out);
        }
        out.push(']');
    } else if let Some(object) = value.as_object() {
        out.push('{');
        for (i, (key, item)) in object.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string(&key, out);
            out.push(':');
            json(item, out);
        }
        out.push('}');
    } else if value.is_nil() {
        out.push_str("null");
    } else if let Some(scalar) = value.as_scalar() {
        match scalar.to_integer().map(|i| i.to_string()).or_else(|| {
            scalar
                .to_float()
                .filter(|_| scalar.to_bool().is_none())
                .map(|f| f.to_string())
        }) {
            Some(number) if scalar.to_kstr().parse::<f64>().is_ok() => out.push_str(&number),
            _ => match scalar.to_bool() {
                Some(b) if matches!(scalar.to_kstr().as_str(), "true" | "false") => {
                    out.push_str(if b { "true" } else { "false" });
                }
                _ => json_string(&scalar.to_kstr(), out),
            },
        }
    } else {
        json_string(&value.to_kstr(), out);
    }
}

fn json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A scalar argument's text.
fn scalar_text(value: &Value) -> String {
    value
        .as_scalar()
        .map(|s| s.to_kstr().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
