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
mod include;
mod json;
mod limits;
mod markup;
mod numbers;
mod tags;

use std::cell::Cell;
use std::sync::LazyLock;

use liquid_core::model::DateTime;
use liquid_core::runtime::RuntimeBuilder;
use liquid_core::{Language, Object, Template, Value};

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
/// Largest range a `for` may count over.
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
    let prepared = markup::prepare(body, &LANGUAGE);
    let mut warnings: Vec<Problem> = prepared
        .unknown
        .iter()
        .map(|unknown| unknown.warning(at(unknown.line)))
        .collect();
    if prepared.depth > MAX_BLOCK_DEPTH {
        warnings.push(Problem::new(
            at(1),
            format!("Liquid blocks nest more than {MAX_BLOCK_DEPTH} deep; the Liquid is left out"),
        ));
        return (markup::strip(body), warnings);
    }
    if let Some(line) = prepared.huge_range {
        warnings.push(Problem::new(
            at(line),
            format!("a Liquid range counts past {MAX_RANGE} items; the Liquid is left out"),
        ));
        return (markup::strip(body), warnings);
    }
    let log = include::SharedLog::default();
    let mut language = LANGUAGE.clone();
    let includes = site.root.join("_includes");
    tags::register_site(&mut language, &site);
    language.tags.register(
        "include".into(),
        Box::new(include::IncludeTag {
            folder: includes.clone(),
            log: log.clone(),
        }),
    );
    let partials = include::Includes::new(includes, language.clone(), log.clone());
    let result = run(
        &language,
        &partials,
        &globals(post, &site, data),
        &prepared.text,
    );
    let mut log = log
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    warnings.append(&mut log.warnings);
    match result {
        Ok(text) => (text, warnings),
        Err((line, message)) => {
            let problem = match log.failure.take() {
                Some(failure) => Problem::new(
                    Location {
                        file: failure.file,
                        line: failure.line,
                    },
                    format!(
                        "Liquid: {}; included at {}, whose Liquid is left out",
                        failure.message,
                        at(failure.included_at.unwrap_or(line)),
                    ),
                ),
                None => Problem::new(
                    at(line),
                    format!("Liquid: {message}; the Liquid is left out"),
                ),
            };
            warnings.push(problem);
            (markup::strip(body), warnings)
        }
    }
}

/// Parses and renders `body` within the bounds.
fn run(
    language: &Language,
    partials: &include::Includes,
    globals: &Object,
    body: &str,
) -> Result<String, (usize, String)> {
    let parsed = liquid_core::parser::parse(body, language).map_err(|err| explain(&err))?;
    let template = Template::new(parsed);
    let core = RuntimeBuilder::new()
        .set_globals(globals)
        .set_partials(partials)
        .build();
    let runtime = limits::Bounded {
        inner: core,
        iterations: Cell::new(0),
        exceeded: Cell::new(None),
    };
    let mut out = limits::Limited {
        bytes: Vec::new(),
        limit: MAX_OUTPUT,
    };
    let result = liquid_core::Renderable::render_to(&template, &mut out, &runtime);
    if let Some(why) = runtime.exceeded.get() {
        return Err((1, why.to_string()));
    }
    result.map_err(|err| {
        let (_, message) = explain(&err);
        let line = markup::locate(body, &err.to_string()).unwrap_or(1);
        (line, message)
    })?;
    String::from_utf8(out.bytes).map_err(|_| (1, "the output is not UTF-8".to_string()))
}

/// liquid-rust's error as a line of the body and one sentence: its syntax
/// errors run over lines (` --> 3:7`, the text, `= expected ...`).
pub(super) fn explain(err: &liquid_core::Error) -> (usize, String) {
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
    // Each collection `_config.yml` names is a list, as in Jekyll (`site.books
    // | sort: 'date'`); digest-feed reads none of their documents.
    for collection in rules
        .into_iter()
        .flat_map(|rules| rules.site.collections.keys())
    {
        site_object.insert(collection.clone().into(), Value::Array(Vec::new()));
    }

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

#[cfg(test)]
mod tests;
