//! Jekyll's `{% include %}`: a file of `_includes/` rendered in place, its
//! parameters as `include.*`. The arguments are read by Jekyll's rules, not
//! Liquid's grammar: `name="a \"b\""` (a quote escaped inside a quoted
//! value), `name='it\'s'`, `name=page.title` (a variable), and a file name
//! made of `{{ ... }}`. The include's own Liquid goes through the same look
//! as a post's ([`super::markup`]); what goes wrong in it is reported at the
//! include's file and line, with the line of the post that included it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use liquid_core::model::{KStringRef, Scalar, ScalarCow};
use liquid_core::runtime::{PartialStore, StackFrame};
use liquid_core::{
    Language, Object, ParseTag, Renderable, Result, Runtime, TagReflection, TagTokenIter, Template,
    Value, ValueView,
};

use super::{MAX_BLOCK_DEPTH, MAX_INCLUDE_DEPTH, explain, markup};
use crate::error::{Location, Problem};

/// What went wrong in includes during one render.
#[derive(Debug, Default)]
pub(super) struct Log {
    /// The first error, where it happened.
    pub(super) failure: Option<Failure>,
    /// Tags and filters of a plugin, at their include's file and line.
    pub(super) warnings: Vec<Problem>,
    /// Includes within includes, now.
    depth: usize,
    /// Each include's text as liquid-core read it, by name, to find the
    /// line of an error while rendering it.
    texts: HashMap<String, String>,
}

/// An error inside an include.
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) file: PathBuf,
    pub(super) line: Option<usize>,
    pub(super) message: String,
    /// The line of the post's `{% include %}` it happened under.
    pub(super) included_at: Option<usize>,
}

pub(super) type SharedLog = Arc<Mutex<Log>>;

fn lock(log: &SharedLog) -> std::sync::MutexGuard<'_, Log> {
    log.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records `failure` unless an earlier (inner) one is there.
fn fail(log: &SharedLog, file: &Path, line: Option<usize>, message: String) -> liquid_core::Error {
    let mut log = lock(log);
    if log.failure.is_none() {
        log.failure = Some(Failure {
            file: file.to_path_buf(),
            line,
            message: message.clone(),
            included_at: None,
        });
    }
    liquid_core::Error::with_msg(message)
}

/// The `include` tag: reads what [`markup`] passed on, `"ARGS" LINE`.
#[derive(Clone, Debug)]
pub(super) struct IncludeTag {
    pub(super) folder: PathBuf,
    pub(super) log: SharedLog,
}

impl TagReflection for IncludeTag {
    fn tag(&self) -> &'static str {
        "include"
    }

    fn description(&self) -> &'static str {
        "a file of _includes/, with parameters"
    }
}

impl ParseTag for IncludeTag {
    fn parse(
        &self,
        mut arguments: TagTokenIter<'_>,
        options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        let passed = arguments.expect_next("a file name expected")?;
        let passed = passed.as_str().trim_matches('"');
        let line = arguments
            .next()
            .and_then(|token| token.as_str().parse().ok())
            .unwrap_or(1);
        arguments.for_each(drop);
        let written = markup::passed_arguments(passed);
        let (file, params) = split_file(written.trim());
        let file = if file.contains("{{") {
            FileName::Rendered(Template::new(liquid_core::parser::parse(file, options)?))
        } else {
            FileName::Written(file.to_string())
        };
        let params = parameters(params).ok_or_else(|| {
            liquid_core::Error::with_msg(format!(
                "invalid syntax for include tag: `{}`; valid: {{% include file.ext param='value' param2=variable %}}",
                params.trim()
            ))
        })?;
        Ok(Box::new(Include {
            file,
            params,
            line,
            folder: self.folder.clone(),
            log: self.log.clone(),
        }))
    }

    fn reflection(&self) -> &dyn TagReflection {
        self
    }
}

#[derive(Debug)]
enum FileName {
    Written(String),
    /// `{{ page.widget }}.html`, rendered each time.
    Rendered(Template),
}

/// A parameter's value: quoted text, or a variable (or literal) to look up.
#[derive(Debug, Clone, PartialEq)]
enum Param {
    Text(String),
    Variable(String),
}

/// Jekyll's split of the markup: the file name (which may hold `{{ }}`
/// with spaces inside), then the parameters.
fn split_file(markup: &str) -> (&str, &str) {
    let mut in_variable = false;
    let bytes = markup.as_bytes();
    for (at, &byte) in bytes.iter().enumerate() {
        if markup[at..].starts_with("{{") {
            in_variable = true;
        } else if in_variable && markup[..=at].ends_with("}}") {
            in_variable = false;
        } else if !in_variable && byte.is_ascii_whitespace() {
            return (&markup[..at], &markup[at..]);
        }
    }
    (markup, "")
}

/// Jekyll's `VALID_SYNTAX`, all of the text or nothing:
/// `key="text"`, `key='text'` (a backslash escapes the quote), `key=word`.
fn parameters(text: &str) -> Option<Vec<(String, Param)>> {
    let mut params = Vec::new();
    let mut rest = text.trim_start();
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    while !rest.is_empty() {
        let key_len = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        if key_len == 0 {
            return None;
        }
        let key = &rest[..key_len];
        rest = rest[key_len..].trim_start().strip_prefix('=')?.trim_start();
        let value;
        if let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let mut text = String::new();
            let mut chars = rest[1..].char_indices();
            let mut end = None;
            while let Some((at, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, escaped)) if escaped == quote => text.push(quote),
                        Some((_, other)) => {
                            text.push('\\');
                            text.push(other);
                        }
                        None => text.push('\\'),
                    },
                    c if c == quote => {
                        end = Some(1 + at + 1);
                        break;
                    }
                    c => text.push(c),
                }
            }
            rest = &rest[end?..];
            value = Param::Text(text);
        } else {
            let len = rest
                .find(|c: char| !(is_word(c) || c == '.'))
                .unwrap_or(rest.len());
            if len == 0 {
                return None;
            }
            value = Param::Variable(rest[..len].to_string());
            rest = &rest[len..];
        }
        // A parameter ends at white space or the end.
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            return None;
        }
        rest = rest.trim_start();
        params.push((key.to_string(), value));
    }
    Some(params)
}

impl Param {
    /// The value, as Liquid's `context[word]` gives it.
    fn evaluate(&self, runtime: &dyn Runtime) -> Value {
        let word = match self {
            Param::Text(text) => return Value::scalar(text.clone()),
            Param::Variable(word) => word.as_str(),
        };
        match word {
            "true" => return Value::scalar(true),
            "false" => return Value::scalar(false),
            "nil" | "null" => return Value::Nil,
            _ => {}
        }
        if let Ok(whole) = word.parse::<i64>() {
            return Value::scalar(whole);
        }
        if let Ok(fraction) = word.parse::<f64>() {
            return Value::scalar(fraction);
        }
        let path: Vec<ScalarCow<'_>> = word
            .split('.')
            .map(|part| match part.parse::<i64>() {
                Ok(index) => Scalar::new(index),
                Err(_) => Scalar::new(part.to_string()),
            })
            .collect();
        runtime
            .try_get(&path)
            .map_or(Value::Nil, |value| value.to_value())
    }
}

#[derive(Debug)]
struct Include {
    file: FileName,
    params: Vec<(String, Param)>,
    /// The tag's line in the text that holds it.
    line: usize,
    folder: PathBuf,
    log: SharedLog,
}

impl Renderable for Include {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> Result<()> {
        let name = match &self.file {
            FileName::Written(name) => name.clone(),
            FileName::Rendered(template) => template.render(runtime)?.trim().to_string(),
        };
        let mut include = Object::new();
        for (key, param) in &self.params {
            include.insert(key.clone().into(), param.evaluate(runtime));
        }
        let include = Value::Object(include);
        let mut frame = HashMap::<KStringRef<'_>, &dyn ValueView>::new();
        frame.insert("include".into(), &include);
        let scope = StackFrame::new(runtime, &frame);
        {
            let mut log = lock(&self.log);
            if log.depth >= MAX_INCLUDE_DEPTH {
                drop(log);
                return Err(fail(
                    &self.log,
                    &self.folder.join(&name),
                    None,
                    format!("includes nest more than {MAX_INCLUDE_DEPTH} deep"),
                ));
            }
            log.depth += 1;
        }
        let result = scope
            .partials()
            .get(&name)
            .and_then(|partial| partial.render_to(writer, &scope));
        let mut log = lock(&self.log);
        log.depth -= 1;
        if let Err(err) = &result {
            if log.failure.is_none() {
                let line = log
                    .texts
                    .get(&name)
                    .and_then(|text| markup::locate(text, &err.to_string()));
                log.failure = Some(Failure {
                    file: self.folder.join(&name),
                    line,
                    message: explain(err).1,
                    included_at: None,
                });
            }
            if log.depth == 0
                && let Some(failure) = log.failure.as_mut()
                && failure.included_at.is_none()
            {
                failure.included_at = Some(self.line);
            }
        }
        result
    }
}

/// `_includes/`, read and parsed on first use, as `{% include %}` asks.
/// A name leaving the folder is refused, as Jekyll refuses it.
pub(super) struct Includes {
    folder: PathBuf,
    language: Language,
    parsed: RefCell<HashMap<String, Arc<dyn Renderable>>>,
    log: SharedLog,
}

impl Includes {
    pub(super) fn new(folder: PathBuf, language: Language, log: SharedLog) -> Includes {
        Includes {
            folder,
            language,
            parsed: RefCell::new(HashMap::new()),
            log,
        }
    }

    fn load(&self, name: &str) -> Result<Arc<dyn Renderable>> {
        if let Some(found) = self.parsed.borrow().get(name) {
            return Ok(found.clone());
        }
        let relative = Path::new(name);
        let path = self.folder.join(relative);
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(fail(
                &self.log,
                &path,
                None,
                format!("include {name:?} leaves the _includes folder"),
            ));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|err| fail(&self.log, &path, None, format!("cannot read it: {err}")))?;
        let prepared = markup::prepare(&text, &self.language);
        lock(&self.log).warnings.extend(
            prepared
                .unknown
                .iter()
                .map(|unknown| unknown.warning(Location::line(&path, unknown.line))),
        );
        if prepared.depth > MAX_BLOCK_DEPTH {
            return Err(fail(
                &self.log,
                &path,
                Some(1),
                format!("Liquid blocks nest more than {MAX_BLOCK_DEPTH} deep"),
            ));
        }
        if let Some(line) = prepared.huge_range {
            return Err(fail(
                &self.log,
                &path,
                Some(line),
                format!("a Liquid range counts past {} items", super::MAX_RANGE),
            ));
        }
        let parsed = liquid_core::parser::parse(&prepared.text, &self.language).map_err(|err| {
            let (line, message) = explain(&err);
            fail(&self.log, &path, Some(line), message)
        })?;
        lock(&self.log)
            .texts
            .insert(name.to_string(), prepared.text.into_owned());
        let template: Arc<dyn Renderable> = Arc::new(Template::new(parsed));
        self.parsed
            .borrow_mut()
            .insert(name.to_string(), template.clone());
        Ok(template)
    }
}

impl std::fmt::Debug for Includes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Includes({})", self.folder.display())
    }
}

impl PartialStore for Includes {
    fn contains(&self, name: &str) -> bool {
        self.folder.join(name).is_file()
    }

    fn names(&self) -> Vec<&str> {
        Vec::new()
    }

    fn try_get(&self, name: &str) -> Option<Arc<dyn Renderable>> {
        self.load(name).ok()
    }

    fn get(&self, name: &str) -> Result<Arc<dyn Renderable>> {
        self.load(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_as_jekyll_reads_them() {
        assert_eq!(
            parameters(r#" name="Richat" lat="21°07'26.4\"N" t='it\'s' n=page.n  "#),
            Some(vec![
                ("name".into(), Param::Text("Richat".into())),
                ("lat".into(), Param::Text("21°07'26.4\"N".into())),
                ("t".into(), Param::Text("it's".into())),
                ("n".into(), Param::Variable("page.n".into())),
            ])
        );
        assert_eq!(parameters(""), Some(vec![]));
        for wrong in ["name", "name=", "=x", "a=\"open", "a=\"x\"b=1"] {
            assert_eq!(parameters(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn a_file_name_may_be_a_variable() {
        assert_eq!(split_file("a.html x=1"), ("a.html", " x=1"));
        assert_eq!(
            split_file("{{ page.w }}.html x=1"),
            ("{{ page.w }}.html", " x=1")
        );
    }
}
