//! The one look digest-feed takes at a text's Liquid markup before
//! liquid-core parses it (a post's body or an include): it finds what
//! Jekyll's Liquid reads and liquid-core would refuse, and rewrites it so
//! that liquid-core renders it as Jekyll does.
//!
//! - a tag or filter no plugin of ours knows (a Jekyll plugin's) is taken
//!   out, whatever its arguments look like, and reported once, at its line;
//! - the paths of `link` and `post_url` are quoted (Jekyll reads them as
//!   words: `_docs/history.md`, `logo@2x.svg`);
//! - an `include`'s arguments are passed on as written, to be read by
//!   Jekyll's own rules there (`\"` inside a quoted value, `{{ var }}.html`);
//! - a `for` or `tablerow` over a range with a variable bound counts through
//!   a filter that reads the bounds as Ruby does and refuses a huge range;
//! - how deep blocks nest, and literal ranges too long to count over.
//!
//! Every rewrite keeps the text's line breaks where they were, so a line
//! liquid-core names is the line of the text as written.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write;

use liquid_core::Language;

use super::MAX_RANGE;

/// Line numbers of byte offsets in a text, in logarithmic time each.
pub(super) struct LineIndex {
    /// The offset just after each `\n`.
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(text: &str) -> LineIndex {
        LineIndex {
            starts: text.match_indices('\n').map(|(at, _)| at + 1).collect(),
        }
    }

    /// The 1-based line holding byte `offset`.
    pub(super) fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset) + 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    Tag,
    Filter,
}

impl Kind {
    pub(super) fn word(self) -> &'static str {
        match self {
            Kind::Tag => "tag",
            Kind::Filter => "filter",
        }
    }
}

/// A tag or filter no plugin of ours knows, and its first line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unknown {
    pub(super) kind: Kind,
    pub(super) name: String,
    pub(super) line: usize,
}

impl Unknown {
    /// The warning, at `location` (this line, in its file).
    pub(super) fn warning(&self, location: crate::error::Location) -> crate::error::Problem {
        crate::error::Problem::new(
            location,
            format!(
                "Liquid {} `{}` is from a Jekyll plugin digest-feed does not know; it is left out",
                self.kind.word(),
                self.name
            ),
        )
    }
}

/// A text ready for liquid-core, and what the look at it found.
#[derive(Debug)]
pub(super) struct Prepared<'a> {
    pub(super) text: Cow<'a, str>,
    /// In the order of their lines, each name once.
    pub(super) unknown: Vec<Unknown>,
    /// How deep blocks nest.
    pub(super) depth: usize,
    /// The line of the first literal range longer than [`MAX_RANGE`].
    pub(super) huge_range: Option<usize>,
}

/// The filter a rewritten range counts through: `start | NAME: end`.
pub(super) const RANGE_FILTER: &str = "digest_feed_range";
/// The tag an `include` is rewritten to name: `{% include "ARGS" LINE %}`.
const ARGUMENTS_ESCAPED: &[char] = &['%', '"', '{', '}', '\n', '\r'];

/// What the look has found so far.
#[derive(Default)]
struct Look {
    seen: BTreeSet<(Kind, String)>,
    unknown: Vec<Unknown>,
    depth: usize,
    deepest: usize,
    huge_range: Option<usize>,
    /// Ranges rewritten so far, to name each one's variable.
    ranges: usize,
    /// `{% comment %}` blocks open: what is inside is never reported.
    comments: usize,
}

impl Look {
    fn report(&mut self, kind: Kind, name: &str, line: usize) {
        if self.comments == 0 && self.seen.insert((kind, name.to_string())) {
            self.unknown.push(Unknown {
                kind,
                name: name.to_string(),
                line,
            });
        }
    }

    /// What a tag (not `raw`) becomes, if not itself.
    fn tag(&mut self, tag: &Markup<'_>, line: usize, language: &Language) -> Option<String> {
        let name = tag.name;
        match name {
            "comment" => self.comments += 1,
            "endcomment" => self.comments = self.comments.saturating_sub(1),
            _ => {}
        }
        if language.blocks.get(name).is_some() {
            self.depth += 1;
            self.deepest = self.deepest.max(self.depth);
        } else if let Some(block) = name.strip_prefix("end")
            && language.blocks.get(block).is_some()
        {
            self.depth = self.depth.saturating_sub(1);
        } else if !name.is_empty() && !is_known_tag(name, language) {
            self.report(Kind::Tag, name, line);
            return Some(String::new());
        }
        match name {
            "link" | "post_url" => quote_path(tag),
            "include" => Some(pass_arguments(tag, line)),
            "for" | "tablerow" => match range(tag.arguments)? {
                Range::Literal(from, to) => {
                    if self.huge_range.is_none() && to.saturating_sub(from) > MAX_RANGE {
                        self.huge_range = Some(line);
                    }
                    None
                }
                Range::Variable { at, len, from, to } => {
                    self.ranges += 1;
                    Some(count_through_filter(tag, at, len, from, to, self.ranges))
                }
            },
            _ => None,
        }
    }
}

/// Looks at `text`'s markup outside `{% raw %}` and rewrites what needs it
/// (see the module's documentation).
pub(super) fn prepare<'a>(text: &'a str, language: &Language) -> Prepared<'a> {
    let lines = LineIndex::new(text);
    let mut out = String::new();
    let mut copied = 0;
    let mut look = Look::default();
    let mut in_raw = false;
    for (start, markup) in markup(text) {
        let tag = Markup::read(markup);
        if in_raw {
            in_raw = !(tag.is_tag && tag.name == "endraw");
            continue;
        }
        if tag.is_tag && tag.name == "raw" {
            in_raw = true;
            continue;
        }
        let line = lines.line(start);
        let mut rewritten = if tag.is_tag {
            look.tag(&tag, line, language)
        } else {
            None
        };
        if rewritten.is_none() {
            let kept = without_unknown_filters(tag.arguments, language, |name| {
                look.report(Kind::Filter, name, line);
            });
            if let Cow::Owned(kept) = kept {
                rewritten = Some(tag.with_arguments(&kept));
            }
        }
        if let Some(mut new) = rewritten {
            // The markup's line breaks stay, inside markup that renders nothing.
            let breaks = markup.matches('\n').count();
            if new.is_empty() && breaks > 0 {
                new = format!("{{{{ ''{} }}}}", "\n".repeat(breaks));
            }
            out.push_str(&text[copied..start]);
            out.push_str(&new);
            copied = start + markup.len();
        }
    }
    let text = if copied == 0 {
        Cow::Borrowed(text)
    } else {
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    };
    Prepared {
        text,
        unknown: look.unknown,
        depth: look.deepest,
        huge_range: look.huge_range,
    }
}

/// One `{% ... %}` or `{{ ... }}` of the text, cut up.
struct Markup<'a> {
    is_tag: bool,
    /// `{%-` or `{%`, `{{-` or `{{`.
    open: &'a str,
    /// `-%}` or `%}`, ...
    close: &'a str,
    /// The tag's name (empty for `{{ }}`).
    name: &'a str,
    /// What follows the name, up to the close (for `{{ }}`: all inside).
    arguments: &'a str,
}

impl<'a> Markup<'a> {
    fn read(markup: &'a str) -> Markup<'a> {
        let is_tag = markup.starts_with("{%");
        let open_len = if markup[2..].starts_with('-') { 3 } else { 2 };
        let open = &markup[..open_len];
        let close_len = if markup.ends_with("-%}") || markup.ends_with("-}}") {
            3
        } else if markup.ends_with("%}") || markup.ends_with("}}") {
            2
        } else {
            0 // not closed before the end of the text
        };
        let close_len = close_len.min(markup.len() - open_len);
        let close = &markup[markup.len() - close_len..];
        let inner = &markup[open_len..markup.len() - close_len];
        let (name, arguments) = if is_tag {
            let trimmed = inner.trim_start();
            let len = trimmed
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(trimmed.len());
            (&trimmed[..len], &trimmed[len..])
        } else {
            ("", inner)
        };
        Markup {
            is_tag,
            open,
            close,
            name,
            arguments,
        }
    }

    /// The markup again, with other arguments.
    fn with_arguments(&self, arguments: &str) -> String {
        format!(
            "{}{}{}{}{}",
            self.open,
            if self.is_tag { " " } else { "" },
            self.name,
            arguments,
            self.close
        )
    }
}

fn is_known_tag(name: &str, language: &Language) -> bool {
    language.tags.get(name).is_some()
        || [
            "else", "elsif", "when", "endraw", "link", "post_url", "include",
        ]
        .contains(&name)
}

/// Each `{{ ... }}` and `{% ... %}` of `text` with its byte offset.
pub(super) fn markup(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let open = text[at..].find('{').map(|i| at + i)?;
            let rest = &text[open..];
            let close = if rest.starts_with("{{") {
                "}}"
            } else if rest.starts_with("{%") {
                "%}"
            } else {
                at = open + 1;
                continue;
            };
            let end = rest[2..]
                .find(close)
                .map_or(text.len(), |i| open + 2 + i + 2);
            at = end;
            return Some((open, &text[open..end]));
        }
    })
}

/// Each `|` outside quotes in `text`, and the filter segment it starts
/// (up to the next such `|`), with the filter's name.
fn filter_segments(text: &str) -> Vec<(usize, usize, &str)> {
    let mut bars = Vec::new();
    let mut quote = None;
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, '|') => bars.push(at),
            _ => {}
        }
    }
    let ends = bars
        .iter()
        .skip(1)
        .copied()
        .chain(std::iter::once(text.len()));
    bars.iter()
        .zip(ends)
        .map(|(&start, end)| {
            let rest = text[start + 1..end].trim_start();
            let len = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len());
            (start, end, &rest[..len])
        })
        .collect()
}

/// `arguments` without the filters `language` lacks: each one's input
/// passes through, as if it were not there. `report` hears each name.
fn without_unknown_filters<'a>(
    arguments: &'a str,
    language: &Language,
    mut report: impl FnMut(&str),
) -> Cow<'a, str> {
    let segments = filter_segments(arguments);
    let unknown: Vec<_> = segments
        .iter()
        .filter(|(_, _, name)| !name.is_empty() && language.filters.get(name).is_none())
        .collect();
    if unknown.is_empty() {
        return Cow::Borrowed(arguments);
    }
    let mut out = String::with_capacity(arguments.len());
    let mut copied = 0;
    for &&(start, end, name) in &unknown {
        report(name);
        out.push_str(&arguments[copied..start]);
        // Line breaks inside the segment stay.
        out.push_str(&"\n".repeat(arguments[start..end].matches('\n').count()));
        copied = end;
    }
    out.push_str(&arguments[copied..]);
    Cow::Owned(out)
}

/// A `for` or `tablerow`'s `(from..to)`.
enum Range<'a> {
    Literal(i64, i64),
    /// A bound is a variable: the range's offset and length in the
    /// arguments, and its two bounds as written.
    Variable {
        at: usize,
        len: usize,
        from: &'a str,
        to: &'a str,
    },
}

/// The range a loop's arguments count over (`i in (1..n) limit: 3`), if any.
fn range(arguments: &str) -> Option<Range<'_>> {
    let open = arguments.find('(')?;
    let close = open + arguments[open..].find(')')?;
    let (from, to) = arguments[open + 1..close].split_once("..")?;
    Some(
        match (from.trim().parse::<i64>(), to.trim().parse::<i64>()) {
            (Ok(from), Ok(to)) => Range::Literal(from, to),
            _ => Range::Variable {
                at: open,
                len: close + 1 - open,
                from: from.trim(),
                to: to.trim(),
            },
        },
    )
}

/// `{% for i in (a..n) %}` as `{% assign R = a | digest_feed_range: n %}{% for i in R %}`.
fn count_through_filter(
    tag: &Markup<'_>,
    at: usize,
    len: usize,
    from: &str,
    to: &str,
    number: usize,
) -> String {
    let variable = format!("digest_feed_range_{number}");
    let breaks = "\n".repeat(tag.arguments[at..at + len].matches('\n').count());
    let arguments = format!(
        "{}{variable}{breaks}{}",
        &tag.arguments[..at],
        &tag.arguments[at + len..]
    );
    format!(
        "{{% assign {variable} = {from} | {RANGE_FILTER}: {to} %}}{}",
        tag.with_arguments(&arguments)
    )
}

/// `{% link a/b.md %}` as `{% link "a/b.md" %}`.
fn quote_path(tag: &Markup<'_>) -> Option<String> {
    let words: Vec<&str> = tag.arguments.split_whitespace().collect();
    let path = words.join(" ");
    if path.is_empty() || path.starts_with(['"', '\'', '{']) {
        return None;
    }
    let breaks = "\n".repeat(tag.arguments.matches('\n').count());
    Some(tag.with_arguments(&format!(" \"{path}\"{breaks} ")))
}

/// `{% include ARGS %}` as `{% include "ARGS" LINE %}`, `ARGS`
/// percent-encoded where liquid-core's string could not hold it.
fn pass_arguments(tag: &Markup<'_>, line: usize) -> String {
    let mut encoded = String::with_capacity(tag.arguments.len());
    for c in tag.arguments.trim().chars() {
        if ARGUMENTS_ESCAPED.contains(&c) {
            let _ = write!(encoded, "%{:02X}", u32::from(c));
        } else {
            encoded.push(c);
        }
    }
    let breaks = "\n".repeat(tag.arguments.matches('\n').count());
    tag.with_arguments(&format!(" \"{encoded}\" {line}{breaks} "))
}

/// An include's arguments as written, from what [`pass_arguments`] made.
pub(super) fn passed_arguments(encoded: &str) -> String {
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8_lossy()
        .into_owned()
}

/// The line of `text` a liquid-core error while rendering comes from, when
/// it can be told: liquid-core keeps no lines then, but its error names the
/// filter that failed (`filter=divided_by`) and the tags it was inside
/// (`from: {% if x %}`). The first of those that one markup alone matches
/// gives the line; none, and the line is not known.
pub(super) fn locate(text: &str, error: &str) -> Option<usize> {
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let marks: Vec<(usize, Markup<'_>)> = markup(text)
        .map(|(at, markup)| (at, Markup::read(markup)))
        .collect();
    let only = |found: Vec<usize>| match found[..] {
        [at] => Some(LineIndex::new(text).line(at)),
        _ => None,
    };
    for line in error.lines().map(str::trim) {
        let found: Vec<usize> = if let Some(name) = line.strip_prefix("filter=") {
            marks
                .iter()
                .filter(|(_, mark)| {
                    filter_segments(mark.arguments)
                        .iter()
                        .any(|&(_, _, filter)| filter == name)
                })
                .map(|(at, _)| *at)
                .collect()
        } else if let Some(traced) = line.strip_prefix("from: ")
            && traced.starts_with('{')
        {
            let traced = Markup::read(traced);
            let want = words(&format!("{} {}", traced.name, traced.arguments));
            marks
                .iter()
                .filter(|(_, mark)| {
                    mark.is_tag == traced.is_tag
                        && words(&format!("{} {}", mark.name, mark.arguments)) == want
                })
                .map(|(at, _)| *at)
                .collect()
        } else {
            continue;
        };
        if let Some(line) = only(found) {
            return Some(line);
        }
    }
    None
}

/// `text` with its Liquid markup taken out (`{% raw %}` content kept),
/// for a text whose Liquid could not be rendered.
pub(super) fn strip(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut in_raw = false;
    for (start, markup) in markup(text) {
        let tag = Markup::read(markup);
        if in_raw && !(tag.is_tag && tag.name == "endraw") {
            continue;
        }
        out.push_str(&text[copied..start]);
        copied = start + markup.len();
        if tag.is_tag {
            in_raw = tag.name == "raw";
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_come_from_an_index() {
        let index = LineIndex::new("a\nbc\n\nd");
        let lines: Vec<usize> = (0..7).map(|at| index.line(at)).collect();
        assert_eq!(lines, [1, 1, 2, 2, 2, 3, 4]);
    }

    #[test]
    fn a_plugins_tag_in_a_comment_is_dropped_unreported() {
        let language = super::super::LANGUAGE.clone();
        let prepared = prepare(
            "{% comment %}{% gist 1 %}{{ x | shout }}{% endcomment %}{% gist 2 %}",
            &language,
        );
        assert_eq!(prepared.text, "{% comment %}{{ x }}{% endcomment %}");
        let names: Vec<&str> = prepared.unknown.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["gist"]);
        assert_eq!(prepared.unknown[0].line, 1);
    }

    #[test]
    fn rewrites_keep_every_line_break() {
        let language = super::super::LANGUAGE.clone();
        let text = "{% gist\n1 %}\n{{ x |\n shout }}\n{% include a.html\n x=\"1\" %}\n{% link\n_docs/a.md %}\n{% for i in (1..\nn) %}{% endfor %}";
        let prepared = prepare(text, &language);
        assert_eq!(
            prepared.text.matches('\n').count(),
            text.matches('\n').count(),
            "{}",
            prepared.text
        );
        let lines: Vec<usize> = prepared.unknown.iter().map(|u| u.line).collect();
        assert_eq!(lines, [1, 3]);
    }
}
