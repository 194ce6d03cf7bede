//! Liquid's standard filters, and those Jekyll adds: URLs (`absolute_url`,
//! `relative_url`), dates (`date_to_xmlschema`, `date_to_rfc822`,
//! `date_to_string`, `date_to_long_string`), escapes (`xml_escape`,
//! `cgi_escape`, `uri_escape`), `markdownify`, `jsonify`, `slugify`,
//! `group_by`, `number_of_words`, `normalize_whitespace`, and Jekyll's
//! array filters (`push`, `pop`, `shift`, `unshift`, `sort`,
//! `array_to_sentence_string`).

use std::fmt;

use liquid_core::model::{DateTime, Scalar};
use liquid_core::parser::FilterArguments;
use liquid_core::parser::ParameterReflection;
use liquid_core::{
    Expression, Filter, FilterReflection, Language, Object, ParseFilter, Result, Runtime, Value,
    ValueView,
};
use liquid_lib::{jekyll, stdlib};

use super::numbers;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a filter does: the input, its evaluated arguments, the runtime.
type Apply = fn(&dyn ValueView, &[Value], &dyn Runtime) -> Result<Value>;

/// Registers Liquid's filters, Jekyll's from liquid-lib, then ours.
pub(super) fn register(language: &mut Language) {
    for filter in library() {
        let name = filter.reflection().name().to_string();
        language.filters.register(name, filter);
    }
    for (name, apply) in jekylls().into_iter().chain(arithmetic()) {
        let filter = Simple {
            name: name.to_string(),
            apply,
        };
        language
            .filters
            .register(name.to_string(), Box::new(filter));
    }
}

/// liquid-lib's filters: Liquid's standard ones and Jekyll's array filters.
fn library() -> Vec<Box<dyn ParseFilter>> {
    vec![
        Box::new(stdlib::Append) as Box<dyn ParseFilter>,
        Box::new(stdlib::Capitalize),
        Box::new(stdlib::Compact),
        Box::new(stdlib::Concat),
        Box::new(stdlib::Date),
        Box::new(stdlib::Default),
        Box::new(stdlib::Downcase),
        Box::new(stdlib::Escape),
        Box::new(stdlib::EscapeOnce),
        Box::new(stdlib::First),
        Box::new(stdlib::Join),
        Box::new(stdlib::Last),
        Box::new(stdlib::Lstrip),
        Box::new(stdlib::Map),
        Box::new(stdlib::NewlineToBr),
        Box::new(stdlib::Prepend),
        Box::new(stdlib::Remove),
        Box::new(stdlib::RemoveFirst),
        Box::new(stdlib::Replace),
        Box::new(stdlib::ReplaceFirst),
        Box::new(stdlib::Reverse),
        Box::new(stdlib::Rstrip),
        Box::new(stdlib::Size),
        Box::new(stdlib::Slice),
        Box::new(stdlib::SortNatural),
        Box::new(stdlib::Split),
        Box::new(stdlib::Strip),
        Box::new(stdlib::StripHtml),
        Box::new(stdlib::StripNewlines),
        Box::new(stdlib::Truncate),
        Box::new(stdlib::TruncateWords),
        Box::new(stdlib::Uniq),
        Box::new(stdlib::Upcase),
        Box::new(stdlib::UrlDecode),
        Box::new(stdlib::UrlEncode),
        Box::new(stdlib::Where),
        // Jekyll's, as liquid-lib has them; its `sort` takes a property.
        Box::new(jekyll::Slugify),
        Box::new(SortAnything(jekyll::Sort)),
        Box::new(jekyll::Push),
        Box::new(jekyll::Pop),
        Box::new(jekyll::Shift),
        Box::new(jekyll::Unshift),
        Box::new(jekyll::ArrayToSentenceString),
    ]
}

/// Liquid's arithmetic, on numbers as Ruby's Liquid reads them; and the
/// filter a range with a variable bound counts through.
fn arithmetic() -> [(&'static str, Apply); 12] {
    [
        ("plus", |input, args, _| Ok(numbers::plus(input, args))),
        ("minus", |input, args, _| Ok(numbers::minus(input, args))),
        ("times", |input, args, _| Ok(numbers::times(input, args))),
        ("divided_by", |input, args, _| {
            numbers::divided_by(input, args)
        }),
        ("modulo", |input, args, _| numbers::modulo(input, args)),
        ("abs", |input, _, _| Ok(numbers::abs(input))),
        ("ceil", |input, _, _| Ok(numbers::ceil(input))),
        ("floor", |input, _, _| Ok(numbers::floor(input))),
        ("round", |input, args, _| Ok(numbers::round(input, args))),
        ("at_least", |input, args, _| {
            Ok(numbers::at_least(input, args))
        }),
        ("at_most", |input, args, _| {
            Ok(numbers::at_most(input, args))
        }),
        (super::markup::RANGE_FILTER, |input, args, _| {
            numbers::range(input, args)
        }),
    ]
}

/// The filters Jekyll adds to Liquid that liquid-lib does not have.
fn jekylls() -> [(&'static str, Apply); 14] {
    [
        ("absolute_url", |input, _, runtime| {
            Ok(text(absolute_url(input, runtime)))
        }),
        ("relative_url", |input, _, runtime| {
            Ok(text(relative_url(input, runtime)))
        }),
        ("date_to_xmlschema", |input, _, _| {
            Ok(date_format(input, "%Y-%m-%dT%H:%M:%S%:z"))
        }),
        ("date_to_rfc822", |input, _, _| {
            Ok(date_format(input, "%a, %d %b %Y %H:%M:%S %z"))
        }),
        ("date_to_string", |input, _, _| {
            Ok(date_format(input, "%d %b %Y"))
        }),
        ("date_to_long_string", |input, _, _| {
            Ok(date_format(input, "%d %B %Y"))
        }),
        ("xml_escape", |input, _, _| {
            Ok(text(xml_escape(&input.to_kstr())))
        }),
        ("cgi_escape", |input, _, _| {
            Ok(text(cgi_escape(&input.to_kstr())))
        }),
        ("uri_escape", |input, _, _| {
            Ok(text(uri_escape(&input.to_kstr())))
        }),
        ("markdownify", |input, _, _| {
            Ok(text(crate::post::markdown::to_raw_html(&input.to_kstr())))
        }),
        ("jsonify", |input, _, _| {
            Ok(text(super::json::to_json(input)))
        }),
        ("group_by", |input, args, _| Ok(group_by(input, args))),
        ("number_of_words", |input, _, _| {
            Ok(Value::scalar(
                i64::try_from(input.to_kstr().split_whitespace().count()).unwrap_or(i64::MAX),
            ))
        }),
        ("normalize_whitespace", |input, _, _| {
            Ok(text(
                input
                    .to_kstr()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            ))
        }),
    ]
}

fn text(value: impl Into<String>) -> Value {
    Value::scalar(value.into())
}

/// Jekyll's `sort`, which sorts an empty list into an empty list (where
/// liquid-lib's refuses it) and refuses nil, as Jekyll does.
#[derive(Clone)]
struct SortAnything(jekyll::Sort);

impl ParseFilter for SortAnything {
    fn parse(&self, arguments: FilterArguments<'_>) -> Result<Box<dyn Filter>> {
        Ok(Box::new(SortedAnything(self.0.parse(arguments)?)))
    }

    fn reflection(&self) -> &dyn FilterReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct SortedAnything(Box<dyn Filter>);

impl fmt::Display for SortedAnything {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Filter for SortedAnything {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<Value> {
        if input.is_nil() {
            return Err(liquid_core::Error::with_msg("Cannot sort a null object"));
        }
        if input.as_array().is_some_and(|array| array.size() == 0) {
            return Ok(Value::Array(Vec::new()));
        }
        self.0.evaluate(input, runtime)
    }
}

/// A filter that is one function of its input and positional arguments.
#[derive(Clone)]
struct Simple {
    name: String,
    apply: Apply,
}

impl FilterReflection for Simple {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &'static str {
        "a Jekyll filter"
    }

    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }

    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
}

impl ParseFilter for Simple {
    fn parse(&self, arguments: FilterArguments<'_>) -> Result<Box<dyn Filter>> {
        let mut args: Vec<Expression> = arguments.positional.collect();
        args.extend(arguments.keyword.map(|(_, value)| value));
        Ok(Box::new(Applied {
            name: self.name.clone(),
            apply: self.apply,
            args,
        }))
    }

    fn reflection(&self) -> &dyn FilterReflection {
        self
    }
}

struct Applied {
    name: String,
    apply: Apply,
    args: Vec<Expression>,
}

impl fmt::Debug for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)
    }
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)
    }
}

impl Filter for Applied {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<Value> {
        let args = self
            .args
            .iter()
            .map(|arg| arg.evaluate(runtime).map(|value| value.to_value()))
            .collect::<Result<Vec<Value>>>()?;
        (self.apply)(input, &args, runtime)
    }
}

/// `site.url` and `site.baseurl` from the runtime.
fn site_value(runtime: &dyn Runtime, key: &str) -> String {
    let path = [Scalar::new("site"), Scalar::new(key.to_string())];
    runtime
        .try_get(&path)
        .map(|value| value.to_kstr().to_string())
        .unwrap_or_default()
}

/// Jekyll's `relative_url`: the base path, then the input (an absolute URL stays).
fn relative_url(input: &dyn ValueView, runtime: &dyn Runtime) -> String {
    let input = input.to_kstr();
    if input.contains("://") || input.starts_with("//") {
        return input.to_string();
    }
    let base = site_value(runtime, "baseurl");
    let base = base.trim_end_matches('/');
    if input.starts_with('/') || input.is_empty() {
        format!("{base}{input}")
    } else {
        format!("{base}/{input}")
    }
}

/// Jekyll's `absolute_url`: `site.url`, the base path, then the input.
fn absolute_url(input: &dyn ValueView, runtime: &dyn Runtime) -> String {
    let raw = input.to_kstr();
    if raw.contains("://") || raw.starts_with("//") {
        return raw.to_string();
    }
    let url = site_value(runtime, "url");
    format!(
        "{}{}",
        url.trim_end_matches('/'),
        relative_url(input, runtime)
    )
}

fn date_format(input: &dyn ValueView, format: &str) -> Value {
    match input.as_scalar().and_then(|s| s.to_date_time()) {
        Some(date) => text(format_date(&date, format)),
        None => input.to_value(),
    }
}

/// strftime, with `%:z` (`+09:00`) besides liquid-rust's `%z`.
fn format_date(date: &DateTime, format: &str) -> String {
    let colon = format.contains("%:z");
    let format = format.replace("%:z", "%z");
    let Ok(mut out) = date.format(&format) else {
        return String::new();
    };
    if colon && out.len() >= 5 {
        let at = out.len() - 2;
        if out.is_char_boundary(at) {
            out.insert(at, ':');
        }
    }
    out
}

/// Ruby's `CGI.escapeHTML`, as Jekyll's `xml_escape`.
pub(super) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Ruby's `CGI.escape`: a form value, space as `+`.
fn cgi_escape(text: &str) -> String {
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'*')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b' ');
    utf8_percent_encode(text, KEEP)
        .to_string()
        .replace(' ', "+")
}

/// Jekyll's `uri_escape`: what a URL may not hold, percent-encoded; its
/// reserved characters kept.
fn uri_escape(text: &str) -> String {
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'!')
        .remove(b'$')
        .remove(b'&')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')')
        .remove(b'*')
        .remove(b'+')
        .remove(b',')
        .remove(b';')
        .remove(b'=')
        .remove(b':')
        .remove(b'@')
        .remove(b'/')
        .remove(b'?')
        .remove(b'#')
        .remove(b'[')
        .remove(b']')
        .remove(b'%');
    utf8_percent_encode(text, KEEP).to_string()
}

/// Jekyll's `group_by`: `[{name, items, size}]` by a property, in first-seen order.
fn group_by(input: &dyn ValueView, args: &[Value]) -> Value {
    let property = args.first().map(scalar_text).unwrap_or_default();
    let Some(array) = input.as_array() else {
        return Value::Array(Vec::new());
    };
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for item in array.values() {
        let name = item
            .as_object()
            .and_then(|object| object.get(&property))
            .map(|value| value.to_kstr().to_string())
            .unwrap_or_default();
        match groups.iter_mut().find(|(seen, _)| *seen == name) {
            Some((_, items)) => items.push(item.to_value()),
            None => groups.push((name, vec![item.to_value()])),
        }
    }
    Value::Array(
        groups
            .into_iter()
            .map(|(name, items)| {
                let mut group = Object::new();
                group.insert(
                    "size".into(),
                    Value::scalar(i64::try_from(items.len()).unwrap_or(i64::MAX)),
                );
                group.insert("name".into(), text(name));
                group.insert("items".into(), Value::Array(items));
                Value::Object(group)
            })
            .collect(),
    )
}

/// A scalar argument's text.
fn scalar_text(value: &Value) -> String {
    value
        .as_scalar()
        .map(|s| s.to_kstr().to_string())
        .unwrap_or_default()
}
