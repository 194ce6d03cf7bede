//! kramdown's extensions, as Jekyll's kramdown (GFM input) renders them, on
//! top of pulldown-cmark's `CommonMark`:
//!
//! - attribute lists: a block IAL on its own line (`{: .center #top
//!   width="750px"}`) applies to the block before it (or, after a blank
//!   line, the block after it); a span IAL (`![x](y){: width="40%"}`) to the
//!   image, link or emphasis it follows; ALDs (`{:ref: .class}`) are
//!   referenced by name. The attributes are placed on the element's tag,
//!   and the sanitizer keeps those it allows.
//! - `{:toc}` on a list: the table of contents kramdown makes
//!   (`ul#markdown-toc`); `{:.no_toc}` headings stay out of it.
//! - header ids as kramdown's GFM parser makes them (`## Hello World` is
//!   `id="hello-world"`); footnotes as kramdown writes them (`#fn:1`,
//!   `#fnref:1`); abbreviations (`*[HTML]: ...`) as `<abbr>`;
//! - `$$...$$` math kept for `MathJax` as kramdown emits it: `\[...\]` for a
//!   block of its own, `\(...\)` inline; `$...$` stays text.
//! - `{::comment}`, `{::options}` and other extensions are dropped.
//! - fenced code as kramdown reads it ([`blocks`]); a link title runs to
//!   the last quote before `)` (`[t](url ""Title")` has the title
//!   `"Title`), and a link target may hold spaces (`](a b.png)`).
//!
//! Nothing of that syntax is left as text.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;

use pulldown_cmark::{CowStr, Event, Tag, TagEnd};

mod blocks;

/// What the text pass found, for the event pass and the HTML.
#[derive(Debug, Default)]
pub(super) struct Kramdown {
    /// Block IALs, by marker number: attributes, and whether they apply to
    /// the block after (a blank line before the IAL).
    blocks: Vec<(Attributes, bool)>,
    /// Attribute lists by name (ALDs).
    definitions: HashMap<String, Attributes>,
    /// Abbreviations: the word and its title.
    abbreviations: Vec<(String, String)>,
    /// Rendered attributes, by placeholder number: `<!--kda:N-->` before a tag.
    placed: Vec<String>,
}

/// An attribute list: id, classes, other attributes, and references.
#[derive(Debug, Default, Clone)]
struct Attributes {
    id: Option<String>,
    classes: Vec<String>,
    pairs: Vec<(String, String)>,
    names: Vec<String>,
}

const MARKER: &str = "<!--kd:";
const PLACED: &str = "<!--kda:";

/// The text pass: IAL, ALD, abbreviation and extension lines out of the
/// body (outside fenced code), each IAL line replaced by a marker the
/// event pass finds. Returns the body unchanged when it has none.
pub(super) fn prepare(body: &str) -> (Cow<'_, str>, Kramdown) {
    match blocks::fences(body) {
        Cow::Borrowed(body) => prepare_lines(body),
        Cow::Owned(body) => {
            let (text, kramdown) = prepare_lines(&body);
            (Cow::Owned(text.into_owned()), kramdown)
        }
    }
}

/// [`prepare`], after the fences are kramdown's.
fn prepare_lines(body: &str) -> (Cow<'_, str>, Kramdown) {
    let mut kramdown = Kramdown::default();
    if !body.contains("{:") && !body.contains("*[") && !body.contains('<') && !body.contains("](") {
        return (Cow::Borrowed(body), kramdown);
    }
    let mut out = String::with_capacity(body.len());
    let mut fence: Option<String> = None;
    let mut previous_blank = true;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(open) = &fence {
            if trimmed.starts_with(open.as_str()) {
                fence = None;
            }
            out.push_str(line);
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(trimmed[..3].to_string());
        } else if let Some(inner) = block_ial(trimmed) {
            kramdown.block_line(inner, previous_blank, &mut out);
            continue;
        } else if let Some((word, title)) = abbreviation(trimmed) {
            kramdown
                .abbreviations
                .push((word.to_string(), title.to_string()));
            continue;
        }
        if previous_blank && starts_with_span_tag(trimmed) {
            // kramdown reads `<br>` or `<img ...>` starting a line as text of
            // a paragraph; CommonMark would make the lines up to the next
            // blank one raw HTML. The sentinel keeps them a paragraph.
            out.push(SENTINEL);
        }
        previous_blank = trimmed.is_empty();
        out.push_str(&link_targets(line));
    }
    (Cow::Owned(out), kramdown)
}

/// Put before a line to keep it text; taken out of the text again.
const SENTINEL: char = '\u{E000}';

/// Whether `line` starts with an HTML tag kramdown reads as span-level.
fn starts_with_span_tag(line: &str) -> bool {
    const SPAN: &[&str] = &[
        "a", "abbr", "acronym", "b", "big", "bdo", "br", "button", "cite", "code", "del", "dfn",
        "em", "i", "img", "input", "ins", "kbd", "label", "q", "s", "samp", "select", "small",
        "span", "strike", "strong", "sub", "sup", "tt", "u", "var", "font", "mark",
    ];
    let Some(rest) = line.strip_prefix('<') else {
        return false;
    };
    let name: String = rest
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let after = rest[name.len()..].chars().next();
    SPAN.contains(&name.to_ascii_lowercase().as_str())
        && after.is_some_and(|c| c == '>' || c == '/' || c.is_whitespace())
}

/// A line's inline link targets as kramdown reads them, written so that
/// `CommonMark` reads them alike: `](a b.png)` (spaces in the target) as
/// `](<a b.png>)`, and a title holding its own quote (kramdown's title runs
/// to the last quote before `)`: `""Title"` is `"Title`) with that quote
/// escaped. Targets inside a code span stay as written.
fn link_targets(line: &str) -> Cow<'_, str> {
    if !line.contains("](") {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 4);
    let mut rest = line;
    let mut ticks = 0;
    let mut changed = false;
    while let Some(at) = rest.find("](") {
        ticks += rest[..at].matches('`').count();
        out.push_str(&rest[..at + 2]);
        rest = &rest[at + 2..];
        if ticks % 2 == 1 {
            continue;
        }
        if let Some((written, used)) = quoted_title(rest) {
            out.push_str(&written);
            rest = &rest[used..];
            changed = true;
            continue;
        }
        let Some(close) = rest.find(')') else { break };
        let target = &rest[..close];
        if target.trim().contains(' ') && !target.contains(['"', '\'', '<', '(', '[']) {
            out.push('<');
            out.push_str(target.trim());
            out.push('>');
            rest = &rest[close..];
            changed = true;
        }
    }
    if !changed {
        return Cow::Borrowed(line);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `url "title")` where the title holds its own quote: the target and
/// title with that quote escaped, and the bytes of `rest` they took (up to
/// the `)`, which stays in `rest`).
fn quoted_title(rest: &str) -> Option<(String, usize)> {
    let url_end = rest.find(|c: char| c.is_whitespace() || c == ')')?;
    let after = &rest[url_end..];
    let spaces = after.len() - after.trim_start_matches([' ', '\t']).len();
    let quote = after[spaces..]
        .chars()
        .next()
        .filter(|c| *c == '"' || *c == '\'')?;
    let start = url_end + spaces + 1;
    // kramdown's `(["'])(.+?)\1\s*\)`: the first quote (one character in,
    // at least) followed by `)`.
    let end = rest[start..]
        .char_indices()
        .skip(1)
        .filter(|&(_, c)| c == quote)
        .map(|(at, _)| start + at)
        .find(|&at| {
            rest[at + 1..]
                .trim_start_matches([' ', '\t'])
                .starts_with(')')
        })?;
    let title = &rest[start..end];
    if !title.contains(quote) {
        return None;
    }
    let escaped = title.replace(quote, &format!("\\{quote}"));
    let close =
        end + 1 + (rest[end + 1..].len() - rest[end + 1..].trim_start_matches([' ', '\t']).len());
    Some((
        format!("{} {quote}{escaped}{quote}", &rest[..url_end]),
        close,
    ))
}

impl Kramdown {
    /// One `{:...}` line: an ALD, an extension, or an IAL (a marker line).
    fn block_line(&mut self, inner: &str, previous_blank: bool, out: &mut String) {
        if inner.starts_with(':') || inner.starts_with('/') {
            return; // `{::comment}`, `{::options .../}`, `{:/}`: extensions, dropped.
        }
        if let Some((name, rest)) = inner.split_once(':')
            && !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
            && !rest.starts_with('/')
        {
            self.definitions
                .insert(name.to_string(), parse_attributes(rest));
            return;
        }
        let _ = writeln!(out, "\n{MARKER}{}-->\n", self.blocks.len());
        self.blocks.push((parse_attributes(inner), previous_blank));
    }

    /// Attributes with their ALD references filled in, as HTML.
    fn render(&self, attributes: &Attributes) -> String {
        let mut merged = Attributes::default();
        for name in &attributes.names {
            if let Some(defined) = self.definitions.get(name) {
                merge(&mut merged, defined);
            }
        }
        merge(&mut merged, attributes);
        let mut html = String::new();
        let escape = |text: &str| html_escape::encode_double_quoted_attribute(text).into_owned();
        if let Some(id) = &merged.id {
            let _ = write!(html, " id=\"{}\"", escape(id));
        }
        if !merged.classes.is_empty() {
            let _ = write!(html, " class=\"{}\"", escape(&merged.classes.join(" ")));
        }
        for (key, value) in &merged.pairs {
            if key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                let _ = write!(html, " {key}=\"{}\"", escape(value));
            }
        }
        html
    }

    /// Remembers attributes for a tag; the placeholder event to put before it.
    fn place(&mut self, attributes: &Attributes) -> Event<'static> {
        self.placed.push(self.render(attributes));
        Event::Html(CowStr::from(format!(
            "{PLACED}{}-->",
            self.placed.len() - 1
        )))
    }
}

fn merge(into: &mut Attributes, from: &Attributes) {
    if from.id.is_some() {
        into.id.clone_from(&from.id);
    }
    into.classes.extend(from.classes.iter().cloned());
    into.pairs.extend(from.pairs.iter().cloned());
}

/// The inside of a line that is only `{: ...}` or `{:...}`.
fn block_ial(line: &str) -> Option<&str> {
    line.strip_prefix("{:")?.strip_suffix('}')
}

/// `*[HTML]: Hyper Text Markup Language`.
fn abbreviation(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("*[")?;
    let (word, title) = rest.split_once("]:")?;
    (!word.is_empty()).then_some((word, title.trim()))
}

/// `.class #id key="value" key='v' key=v name` into attributes.
fn parse_attributes(text: &str) -> Attributes {
    let mut attributes = Attributes::default();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let end = token_end(rest);
        let token = &rest[..end];
        rest = rest[end..].trim_start();
        if let Some(class) = token.strip_prefix('.') {
            attributes.classes.push(class.to_string());
        } else if let Some(id) = token.strip_prefix('#') {
            attributes.id = Some(id.to_string());
        } else if let Some((key, value)) = token.split_once('=') {
            let value = value.trim_matches(|c| c == '"' || c == '\'');
            attributes.pairs.push((key.to_string(), value.to_string()));
        } else if !token.is_empty() {
            attributes.names.push(token.to_string());
        }
    }
    attributes
}

/// Where the first token of `text` ends: at white space outside quotes.
fn token_end(text: &str) -> usize {
    let mut quote = None;
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, c) if c.is_whitespace() => return at,
            _ => {}
        }
    }
    text.len()
}

/// The event pass: block IAL markers applied, span IALs taken out of the
/// text and applied, header ids, footnotes, math, abbreviations, `{:toc}`.
pub(super) fn apply<'a>(events: Vec<Event<'a>>, kramdown: &mut Kramdown) -> Vec<Event<'a>> {
    let events = merge_text(events);
    let headed = header_ids(events);
    let events = math(&headed);
    // Freed now, not at the end: a list of events is some 60 bytes each,
    // tens of MB for a big post, and each pass below makes a new one.
    drop(headed);
    let events = spans(events, kramdown);
    let events = blocks(events, kramdown);
    let events = abbreviations(events, kramdown);
    footnotes(events)
}

/// Adjacent text events as one, so an IAL is never split across two.
fn merge_text(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out: Vec<Event<'_>> = Vec::with_capacity(events.len());
    for mut event in events {
        if let Event::Text(text) = &event
            && text.contains(SENTINEL)
        {
            event = Event::Text(CowStr::from(text.replace(SENTINEL, "")));
        }
        if let (Event::Text(next), Some(Event::Text(last))) = (&event, out.last_mut()) {
            *last = CowStr::from(format!("{last}{next}"));
        } else {
            out.push(event);
        }
    }
    out
}

/// kramdown's GFM header ids: lower case, only word characters, `-` and
/// spaces (each space a `-`), a `-N` for a repeat. A heading with its own
/// id (`{#id}`) keeps it.
fn header_ids(mut events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut index = 0;
    while index < events.len() {
        if let Event::Start(Tag::Heading { id: None, .. }) = &events[index] {
            let text = heading_text(&events[index + 1..]);
            let mut id: String = text
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' ' | '\t'))
                .map(|c| if c == ' ' || c == '\t' { '-' } else { c })
                .collect();
            let count = counts.entry(id.clone()).or_insert(0);
            *count += 1;
            if *count > 1 {
                let _ = write!(id, "-{}", *count - 1);
            }
            if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[index] {
                *slot = Some(CowStr::from(id));
            }
        }
        index += 1;
    }
    events
}

/// A heading's text, up to its end.
fn heading_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::End(TagEnd::Heading(_)) => break,
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                text.push_str(t);
            }
            _ => {}
        }
    }
    text
}

/// `$$x$$` alone in a paragraph: `\[x\]`; within text: `\(x\)`; `$x$`: text.
fn math<'a>(events: &[Event<'a>]) -> Vec<Event<'a>> {
    let mut out = Vec::with_capacity(events.len());
    let mut index = 0;
    while index < events.len() {
        if let (
            Event::Start(Tag::Paragraph),
            Some(Event::DisplayMath(math)),
            Some(Event::End(TagEnd::Paragraph)),
        ) = (&events[index], events.get(index + 1), events.get(index + 2))
        {
            let escaped = html_escape::encode_text(math.as_ref()).into_owned();
            out.push(Event::Html(CowStr::from(format!("\\[{escaped}\\]\n"))));
            index += 3;
            continue;
        }
        out.push(match &events[index] {
            Event::DisplayMath(math) => Event::Text(CowStr::from(format!("\\({math}\\)"))),
            Event::InlineMath(math) => Event::Text(CowStr::from(format!("${math}$"))),
            other => other.clone(),
        });
        index += 1;
    }
    out
}

/// Span IALs: `{: ...}` in text, applied to the span element just closed
/// before it (image, link, emphasis, code), and taken out of the text.
fn spans<'a>(events: Vec<Event<'a>>, kramdown: &mut Kramdown) -> Vec<Event<'a>> {
    let mut out: Vec<Event<'a>> = Vec::with_capacity(events.len());
    let mut open: Vec<usize> = Vec::new();
    let mut last_closed: Option<usize> = None;
    let mut in_code = false;
    for event in events {
        match &event {
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => in_code = false,
            Event::Start(_) => open.push(out.len()),
            Event::End(_) => last_closed = open.pop(),
            Event::Code(_) => last_closed = Some(out.len()),
            Event::Text(text) if !in_code && text.contains("{:") => {
                let mut rest: &str = text;
                let mut kept = String::new();
                while let Some(at) = rest.find("{:") {
                    let Some(close) = rest[at..].find('}') else {
                        break;
                    };
                    let before = &rest[..at];
                    let attributes =
                        parse_attributes(rest[at + 2..at + close].trim_start_matches(':'));
                    if before.is_empty()
                        && kept.is_empty()
                        && let Some(target) = last_closed
                    {
                        let placeholder = kramdown.place(&attributes);
                        out.insert(target, placeholder);
                        open.iter_mut()
                            .filter(|i| **i >= target)
                            .for_each(|i| *i += 1);
                    }
                    kept.push_str(before);
                    rest = &rest[at + close + 1..];
                }
                kept.push_str(rest);
                last_closed = None;
                if !kept.is_empty() {
                    out.push(Event::Text(CowStr::from(kept)));
                }
                continue;
            }
            _ => last_closed = None,
        }
        out.push(event);
    }
    out
}

/// Block IAL markers: placed before the block they apply to; `{:toc}` on
/// a list makes it the table of contents.
fn blocks<'a>(events: Vec<Event<'a>>, kramdown: &mut Kramdown) -> Vec<Event<'a>> {
    let mut out: Vec<Event<'a>> = Vec::with_capacity(events.len());
    let mut open: Vec<usize> = Vec::new();
    let mut last_closed: Option<usize> = None;
    let mut pending: Option<Attributes> = None;
    let toc = table_of_contents(&events, kramdown);
    for event in events {
        if let Event::Html(html) = &event
            && let Some(number) = html
                .trim()
                .strip_prefix(MARKER)
                .and_then(|rest| rest.strip_suffix("-->"))
        {
            let Some((attributes, after)) = number
                .parse::<usize>()
                .ok()
                .and_then(|n| kramdown.blocks.get(n))
                .cloned()
            else {
                continue;
            };
            if attributes.names.iter().any(|name| name == "toc") {
                if let Some(start) = last_closed {
                    out.truncate(start);
                    out.push(Event::Html(CowStr::from(toc.clone())));
                }
            } else if after || last_closed.is_none() {
                pending = Some(attributes);
            } else if let Some(start) = last_closed {
                let placeholder = kramdown.place(&attributes);
                out.insert(start, placeholder);
            }
            continue;
        }
        match &event {
            Event::Start(_) => {
                if let Some(attributes) = pending.take() {
                    let placeholder = kramdown.place(&attributes);
                    out.push(placeholder);
                }
                open.push(out.len());
            }
            Event::End(_) => last_closed = open.pop(),
            _ => {}
        }
        out.push(event);
    }
    out
}

/// kramdown's table of contents of every heading without `.no_toc`.
fn table_of_contents(events: &[Event<'_>], kramdown: &Kramdown) -> String {
    let mut html = String::from("<ul id=\"markdown-toc\">\n");
    let mut levels: Vec<usize> = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let Event::Start(Tag::Heading {
            level, id, classes, ..
        }) = event
        else {
            continue;
        };
        if classes.iter().any(|c| c.as_ref() == "no_toc")
            || heading_has_no_toc(events, index, kramdown)
        {
            continue;
        }
        let level = *level as usize;
        while levels.last().is_some_and(|open| *open > level) {
            levels.pop();
            html.push_str("</li></ul>\n");
        }
        if levels.last() == Some(&level) {
            html.push_str("</li>\n");
        } else if !levels.is_empty() {
            html.push_str("\n<ul>\n");
            levels.push(level);
        } else {
            levels.push(level);
        }
        let id = id.as_deref().unwrap_or("");
        let text = html_escape::encode_text(&heading_text(&events[index + 1..])).into_owned();
        let _ = write!(
            html,
            "<li><a href=\"#{id}\" id=\"markdown-toc-{id}\">{text}</a>"
        );
    }
    for _ in 1..levels.len() {
        html.push_str("</li></ul>\n");
    }
    if !levels.is_empty() {
        html.push_str("</li>\n");
    }
    html.push_str("</ul>\n");
    html
}

/// Whether the block IAL right after the heading at `start` says `.no_toc`.
fn heading_has_no_toc(events: &[Event<'_>], start: usize, kramdown: &Kramdown) -> bool {
    let Some(Event::Html(html)) = events[start..]
        .iter()
        .skip_while(|e| !matches!(e, Event::End(TagEnd::Heading(_))))
        .skip(1)
        .find(|e| !matches!(e, Event::Start(Tag::HtmlBlock)))
    else {
        return false;
    };
    html.trim()
        .strip_prefix(MARKER)
        .and_then(|rest| rest.strip_suffix("-->"))
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| kramdown.blocks.get(n))
        .is_some_and(|(attributes, after)| {
            !after && attributes.classes.iter().any(|c| c == "no_toc")
        })
}

/// Abbreviations: each whole word in text becomes `<abbr title>`.
fn abbreviations<'a>(events: Vec<Event<'a>>, kramdown: &Kramdown) -> Vec<Event<'a>> {
    if kramdown.abbreviations.is_empty() {
        return events;
    }
    let mut out = Vec::with_capacity(events.len());
    let mut in_code = false;
    for event in events {
        match &event {
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => in_code = false,
            Event::Text(text) if !in_code => {
                out.extend(split_abbreviations(text, &kramdown.abbreviations));
                continue;
            }
            _ => {}
        }
        out.push(event);
    }
    out
}

fn split_abbreviations<'a>(text: &str, abbreviations: &[(String, String)]) -> Vec<Event<'a>> {
    let mut events = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for (word, title) in abbreviations {
            let boundary_before = plain.chars().last().is_none_or(|c| !c.is_alphanumeric());
            if boundary_before
                && rest.starts_with(word.as_str())
                && rest[word.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric())
            {
                if !plain.is_empty() {
                    events.push(Event::Text(CowStr::from(std::mem::take(&mut plain))));
                }
                let title = html_escape::encode_double_quoted_attribute(title);
                let shown = html_escape::encode_text(word);
                events.push(Event::InlineHtml(CowStr::from(format!(
                    "<abbr title=\"{title}\">{shown}</abbr>"
                ))));
                rest = &rest[word.len()..];
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        plain.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !plain.is_empty() {
        events.push(Event::Text(CowStr::from(plain)));
    }
    events
}

/// Footnotes as kramdown writes them: `<sup id="fnref:x"><a href="#fn:x"
/// class="footnote">N</a></sup>`, numbered by first reference, and the
/// notes at the end in a `div.footnotes`, each with a link back.
fn footnotes(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    if !events
        .iter()
        .any(|e| matches!(e, Event::FootnoteReference(_)))
    {
        return events;
    }
    let mut body = Vec::with_capacity(events.len());
    let mut notes: HashMap<String, Vec<Event<'_>>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut current: Option<(String, Vec<Event<'_>>)> = None;
    for event in events {
        match event {
            Event::Start(Tag::FootnoteDefinition(label)) => {
                current = Some((label.to_string(), Vec::new()));
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                if let Some((label, events)) = current.take() {
                    notes.entry(label).or_insert(events);
                }
            }
            Event::FootnoteReference(label) => {
                let label = label.to_string();
                let number = order.iter().position(|l| *l == label).unwrap_or_else(|| {
                    order.push(label.clone());
                    order.len() - 1
                }) + 1;
                let label = html_escape::encode_double_quoted_attribute(&label).into_owned();
                let html = format!(
                    "<sup id=\"fnref:{label}\" role=\"doc-noteref\"><a href=\"#fn:{label}\" class=\"footnote\" rel=\"footnote\">{number}</a></sup>"
                );
                match &mut current {
                    Some((_, events)) => events.push(Event::InlineHtml(CowStr::from(html))),
                    None => body.push(Event::InlineHtml(CowStr::from(html))),
                }
            }
            other => match &mut current {
                Some((_, events)) => events.push(other),
                None => body.push(other),
            },
        }
    }
    body.push(Event::Html(CowStr::from(
        "<div class=\"footnotes\" role=\"doc-endnotes\">\n<ol>\n",
    )));
    for label in &order {
        let Some(mut note) = notes.remove(label) else {
            continue;
        };
        let label = html_escape::encode_double_quoted_attribute(label).into_owned();
        body.push(Event::Html(CowStr::from(format!(
            "<li id=\"fn:{label}\" role=\"doc-endnote\">\n"
        ))));
        let back = Event::InlineHtml(CowStr::from(format!(
            " <a href=\"#fnref:{label}\" class=\"reversefootnote\" role=\"doc-backlink\">&#8617;</a>"
        )));
        match note
            .iter()
            .rposition(|e| matches!(e, Event::End(TagEnd::Paragraph)))
        {
            Some(at) => note.insert(at, back),
            None => note.push(back),
        }
        body.extend(note);
        body.push(Event::Html(CowStr::from("</li>\n")));
    }
    body.push(Event::Html(CowStr::from("</ol>\n</div>\n")));
    body
}

/// The HTML with each placeholder's attributes put on the tag after it.
pub(super) fn place(html: String, kramdown: &Kramdown) -> String {
    if !html.contains(PLACED) {
        return html;
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(at) = rest.find(PLACED) {
        out.push_str(&rest[..at]);
        let after = &rest[at + PLACED.len()..];
        let Some(end) = after.find("-->") else {
            rest = after;
            continue;
        };
        let attributes = after[..end]
            .parse::<usize>()
            .ok()
            .and_then(|n| kramdown.placed.get(n));
        rest = &after[end + 3..];
        let gap = rest.len() - rest.trim_start().len();
        let next = &rest[gap..];
        let name_len = next
            .chars()
            .skip(1)
            .take_while(char::is_ascii_alphanumeric)
            .count();
        if let (Some(attributes), true) = (attributes, next.starts_with('<') && name_len > 0) {
            out.push_str(&next[..=name_len]);
            out.push_str(attributes);
            rest = &next[name_len + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    fn html(body: &str) -> String {
        super::super::render(body, &url::Url::parse("https://e.org/p/").unwrap())
            .unwrap()
            .html
    }

    #[test]
    fn a_title_holding_its_own_quote_is_kramdowns() {
        assert_eq!(
            html(
                r#"Read [this](https://e.org/a ""The Right Way") and [that](https://e.org/b 'it's') and `[x](y ""z")`."#
            ),
            "<p>Read <a href=\"https://e.org/a\" title=\"&quot;The Right Way\" rel=\"noopener noreferrer\">this</a> and \
             <a href=\"https://e.org/b\" title=\"it's\" rel=\"noopener noreferrer\">that</a> and <code>[x](y \"\"z\")</code>.</p>\n"
        );
    }

    #[test]
    fn a_fence_in_a_list_item_closes_where_kramdown_closes_it() {
        let out =
            html("1. Do:\n\t```\n\tline1\nline2\n```\n\n<p id=\"after\">After.</p>\n\nEnd.\n");
        assert_eq!(
            out,
            "<ol>\n<li>Do:\n<pre><code> line1\nline2\n</code></pre>\n</li>\n</ol>\n<p id=\"after\">After.</p>\n<p>End.</p>\n"
        );
    }
}
