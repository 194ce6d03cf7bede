//! Renders a post body to safe HTML (`CommonMark` plus tables, footnotes,
//! strikethrough and task lists), and finds its papers: each top-level
//! `# N. [Title](URL)` heading starts one.

mod kramdown;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::sync::LazyLock;

/// One `# N. [Title](URL)` section of a post.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Paper {
    /// The number written before the title.
    pub number: u32,
    /// The link text.
    pub title: String,
    /// The link target, absolute.
    pub url: String,
    /// The section's HTML, without its heading; sanitized, links absolute.
    pub html: String,
    /// The `Goal:` line, else the first paragraph, as plain text.
    pub summary: String,
}

/// A rendered post body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The whole body as sanitized HTML with absolute links.
    pub html: String,
    /// The first paragraph as plain text.
    pub first_paragraph: String,
    /// The papers, in order.
    pub papers: Vec<Paper>,
    /// Jekyll's excerpt as plain text: the first block (or up to
    /// `excerpt_separator`); empty when that is empty.
    pub excerpt: String,
    /// What rendering warned of (a Liquid tag from an unknown plugin, ...).
    pub warnings: Vec<crate::error::Problem>,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        // kramdown's: `# Title {#id .class}`, definition lists, `$$` math.
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_DEFINITION_LIST
        | Options::ENABLE_MATH
}

/// How deep elements may nest. The sanitizer's HTML parser takes time
/// quadratic in depth (100,000 levels: minutes), and no real post nests
/// more than a few dozen.
pub(crate) const MAX_NESTING: usize = 1000;

/// Renders `body`, resolving relative links and images against `base` (the
/// post's URL). Refuses a body nested deeper than [`MAX_NESTING`].
pub(crate) fn render(body: &str, base: &url::Url) -> Result<Rendered, String> {
    let (body, mut extensions) = kramdown::prepare(body);
    let events = kramdown::apply(Parser::new_ext(&body, options()).collect(), &mut extensions);
    let mut raw = String::new();
    pulldown_cmark::html::push_html(&mut raw, events.iter().cloned());
    let raw = kramdown::place(raw, &extensions);
    if nesting_exceeds(&raw, MAX_NESTING) {
        return Err(format!(
            "the post nests quotes, lists or HTML elements more than {MAX_NESTING} levels deep; flatten it"
        ));
    }
    let sanitizer = sanitizer(base);
    let headings = paper_headings(&events);
    let mut papers = Vec::with_capacity(headings.len());
    for (index, heading) in headings.iter().enumerate() {
        let end = headings
            .get(index + 1)
            .map_or(events.len(), |next| next.start);
        let section = &events[heading.body_start..end];
        let summary = text_blocks(section)
            .iter()
            .find_map(|block| {
                block
                    .text
                    .trim()
                    .strip_prefix("Goal:")
                    .map(|goal| goal.trim().to_string())
            })
            .or_else(|| first_paragraph(section))
            .unwrap_or_default();
        papers.push(Paper {
            number: heading.number,
            title: heading.title.clone(),
            url: base
                .join(&heading.url)
                .map_or_else(|_| heading.url.clone(), String::from),
            html: to_html(section, &sanitizer, &extensions),
            summary,
        });
    }
    Ok(Rendered {
        html: sanitizer.clean(&raw).to_string(),
        first_paragraph: first_paragraph(&events).unwrap_or_default(),
        papers,
        excerpt: String::new(),
        warnings: Vec::new(),
    })
}

/// An HTML post's body (`.html`): sanitized, links absolute; no papers.
pub(crate) fn render_html(body: &str, base: &url::Url) -> Result<Rendered, String> {
    if nesting_exceeds(body, MAX_NESTING) {
        return Err(format!(
            "the post nests HTML elements more than {MAX_NESTING} levels deep; flatten it"
        ));
    }
    let html = sanitizer(base).clean(body).to_string();
    Ok(Rendered {
        first_paragraph: String::new(),
        excerpt: plain_title(&html),
        html,
        papers: Vec::new(),
        warnings: Vec::new(),
    })
}

/// Markdown to HTML as it is, for Liquid's `markdownify` (the whole post
/// is sanitized afterwards).
pub(crate) fn to_raw_html(text: &str) -> String {
    let (text, mut extensions) = kramdown::prepare(text);
    let events = kramdown::apply(Parser::new_ext(&text, options()).collect(), &mut extensions);
    let mut raw = String::new();
    pulldown_cmark::html::push_html(&mut raw, events.into_iter());
    kramdown::place(raw, &extensions)
}

/// A linear over-estimate of element nesting: `<name` opens, `</` and `/>`
/// close, void elements open nothing. Only a guard before the real parser.
fn nesting_exceeds(html: &str, limit: usize) -> bool {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ];
    let bytes = html.as_bytes();
    let mut depth: usize = 0;
    for (at, _) in html.match_indices('<') {
        let rest = &bytes[at + 1..];
        match rest.first() {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let name_len = rest
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .count();
                let name = html[at + 1..at + 1 + name_len].to_ascii_lowercase();
                let tag_end = rest.iter().position(|&c| c == b'>').unwrap_or(rest.len());
                let self_closed = tag_end > 0 && rest[tag_end - 1] == b'/';
                if !VOID.contains(&name.as_str()) && !self_closed {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// A title as plain text: HTML tags stripped (a script's content with them),
/// entities decoded, white space folded, as jekyll-feed does with `strip_html`.
pub(crate) fn plain_title(title: &str) -> String {
    static STRIP: LazyLock<ammonia::Builder<'static>> = LazyLock::new(ammonia::Builder::empty);
    // Without `<` or `&` there is no tag or entity to undo (NUL aside, which
    // the HTML parser replaces): the common case, and it costs no HTML parse.
    if !title.contains(['<', '&', '\0']) {
        return crate::text::one_line(title);
    }
    let stripped = STRIP.clean(title).to_string();
    crate::text::one_line(&html_escape::decode_html_entities(&stripped))
}

fn sanitizer(base: &url::Url) -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()))
        // Task lists render as disabled checkboxes; footnotes and code use id/class.
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_generic_attributes(["id", "class"]);
    builder
}

fn to_html(
    events: &[Event<'_>],
    sanitizer: &ammonia::Builder<'_>,
    extensions: &kramdown::Kramdown,
) -> String {
    let mut raw = String::new();
    pulldown_cmark::html::push_html(&mut raw, events.iter().cloned());
    sanitizer
        .clean(&kramdown::place(raw, extensions))
        .to_string()
}

struct PaperHeading {
    start: usize,
    body_start: usize,
    number: u32,
    title: String,
    url: String,
}

/// Finds `# N. [Title](URL)` headings: an H1 holding only a number with a
/// dot, then one link.
fn paper_headings(events: &[Event<'_>]) -> Vec<PaperHeading> {
    let mut found = Vec::new();
    let mut index = 0;
    while index < events.len() {
        if let Event::Start(Tag::Heading {
            level: HeadingLevel::H1,
            ..
        }) = &events[index]
        {
            let close = events[index..]
                .iter()
                .position(|e| matches!(e, Event::End(TagEnd::Heading(HeadingLevel::H1))))
                .map(|offset| index + offset);
            if let Some(close) = close {
                if let Some((number, title, url)) = paper_heading(&events[index + 1..close]) {
                    found.push(PaperHeading {
                        start: index,
                        body_start: close + 1,
                        number,
                        title,
                        url,
                    });
                }
                index = close;
            }
        }
        index += 1;
    }
    found
}

fn paper_heading(inline: &[Event<'_>]) -> Option<(u32, String, String)> {
    let link_start = inline
        .iter()
        .position(|e| matches!(e, Event::Start(Tag::Link { .. })))?;
    let mut prefix = String::new();
    for event in &inline[..link_start] {
        match event {
            Event::Text(text) => prefix.push_str(text),
            _ => return None,
        }
    }
    let number: u32 = prefix.trim().strip_suffix('.')?.trim().parse().ok()?;
    let Event::Start(Tag::Link { dest_url, .. }) = &inline[link_start] else {
        return None;
    };
    let link_end = inline
        .iter()
        .rposition(|e| matches!(e, Event::End(TagEnd::Link)))?;
    let title = plain_text(&inline[link_start + 1..link_end]);
    let trailing_is_blank = inline[link_end + 1..]
        .iter()
        .all(|e| matches!(e, Event::Text(t) if t.trim().is_empty()));
    (trailing_is_blank && !title.trim().is_empty())
        .then(|| (number, title.trim().to_string(), dest_url.to_string()))
}

fn plain_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text
}

#[derive(Debug)]
struct TextBlock {
    paragraph: bool,
    text: String,
}

/// Paragraphs and list items as plain text, each holding only its own text
/// (a tight list item's text is not inside a paragraph).
fn text_blocks(events: &[Event<'_>]) -> Vec<TextBlock> {
    let mut open: Vec<TextBlock> = Vec::new();
    let mut done = Vec::new();
    for event in events {
        match event {
            Event::Start(Tag::Paragraph) => open.push(TextBlock {
                paragraph: true,
                text: String::new(),
            }),
            Event::Start(Tag::Item) => open.push(TextBlock {
                paragraph: false,
                text: String::new(),
            }),
            Event::End(TagEnd::Paragraph | TagEnd::Item) => done.extend(open.pop()),
            Event::Start(Tag::List(_)) => {
                // A nested list's text belongs to its own items, not the parent's.
                if let Some(parent) = open.pop() {
                    done.push(parent);
                }
                open.push(TextBlock {
                    paragraph: false,
                    text: String::new(),
                });
            }
            Event::End(TagEnd::List(_)) => {
                open.pop();
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(block) = open.last_mut() {
                    block.text.push_str(t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(block) = open.last_mut() {
                    block.text.push(' ');
                }
            }
            _ => {}
        }
    }
    done
}

fn first_paragraph(events: &[Event<'_>]) -> Option<String> {
    text_blocks(events)
        .into_iter()
        .find(|block| block.paragraph && !block.text.trim().is_empty())
        .map(|block| block.text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> url::Url {
        url::Url::parse("https://papers.example.org/2025/12/24/daily.html").unwrap()
    }

    #[test]
    fn extensions_render() {
        let out = render(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ text[^1]\n\n- [x] done\n\n[^1]: note\n",
            &base(),
        )
        .unwrap();
        assert!(out.html.contains("<table>"), "{}", out.html);
        assert!(out.html.contains("<del>old</del>"), "{}", out.html);
        assert!(out.html.contains("type=\"checkbox\""), "{}", out.html);
        assert!(out.html.contains("footnote"), "{}", out.html);
    }

    #[test]
    fn relative_links_become_absolute() {
        let out = render("[a](/about) ![i](img/x.png) [b](../c.html)", &base()).unwrap();
        assert!(
            out.html
                .contains("href=\"https://papers.example.org/about\""),
            "{}",
            out.html
        );
        assert!(
            out.html
                .contains("src=\"https://papers.example.org/2025/12/24/img/x.png\""),
            "{}",
            out.html
        );
        assert!(
            out.html
                .contains("href=\"https://papers.example.org/2025/12/c.html\""),
            "{}",
            out.html
        );
    }

    #[test]
    fn hostile_html_is_defused() {
        let body = "<script>alert(1)</script>\n\n<img src=x onerror=\"alert(2)\">\n\n[x](javascript:alert(3))\n\n<iframe src=\"https://evil\"></iframe>\n\n<style>p{}</style>\n\n<b onclick=\"x()\">bold</b>";
        let out = render(body, &base()).unwrap();
        for bad in [
            "<script",
            "alert(1)",
            "onerror",
            "javascript:",
            "<iframe",
            "<style",
            "onclick",
        ] {
            assert!(!out.html.contains(bad), "{bad} survived in {}", out.html);
        }
        assert!(out.html.contains("<b>bold</b>"), "{}", out.html);
    }

    #[test]
    fn papers_are_found_with_goal_summaries() {
        let body = "Intro paragraph.\n\n# 1. [First Paper](https://arxiv.org/abs/1)\n\n> [Alphaxiv](https://x)\n\n## Introduction\n- Goal: 첫 번째 목표.\n- Motivation: m\n\n# Not a paper\n\ntext\n\n# 2. [Second `Paper`](https://arxiv.org/abs/2)\n\nFirst para of two.\n\n## Method\nmore\n";
        let out = render(body, &base()).unwrap();
        assert_eq!(out.first_paragraph, "Intro paragraph.");
        assert_eq!(out.papers.len(), 2);
        let first = &out.papers[0];
        assert_eq!(
            (first.number, first.title.as_str(), first.url.as_str()),
            (1, "First Paper", "https://arxiv.org/abs/1")
        );
        assert_eq!(first.summary, "첫 번째 목표.");
        assert!(
            first.html.contains("Not a paper"),
            "a paper runs to the next paper heading"
        );
        assert!(
            !first.html.contains("First Paper"),
            "the heading is not in the paper's HTML"
        );
        let second = &out.papers[1];
        assert_eq!((second.number, second.title.as_str()), (2, "Second Paper"));
        assert_eq!(second.summary, "First para of two.");
    }

    #[test]
    fn headings_that_are_not_papers() {
        for body in [
            "# 1. Plain title\n",
            "## 1. [Deeper](https://x)\n",
            "# [No number](https://x)\n",
            "# 1. [A](https://x) and more\n",
        ] {
            assert!(render(body, &base()).unwrap().papers.is_empty(), "{body}");
        }
    }

    #[test]
    fn titles_are_plain_text() {
        assert_eq!(
            plain_title("Hostile <script>alert(1)</script> & <b>bold</b>  ]]>"),
            "Hostile & bold ]]>"
        );
        assert_eq!(
            plain_title("Daily Papers — 2025-12-24"),
            "Daily Papers — 2025-12-24"
        );
        assert_eq!(plain_title("a < b"), "a < b");
    }

    #[test]
    fn the_fast_title_path_equals_the_html_parse() {
        let strip = ammonia::Builder::empty();
        for title in [
            "Daily Papers — 2025-12-24",
            "  spaced\tout\r\nlines  ",
            "quotes \" and ' and > and ]]>",
            "nbsp\u{a0}here and\u{3000}ideographic",
            "한국어 제목: 논문 요약 #3",
            "",
        ] {
            let slow = crate::text::one_line(&html_escape::decode_html_entities(
                &strip.clean(title).to_string(),
            ));
            assert_eq!(plain_title(title), slow, "{title:?}");
        }
    }

    #[test]
    fn absurd_nesting_is_refused_quickly() {
        assert!(render(&(">".repeat(100_000) + " x\n"), &base()).is_err());
        assert!(render(&("<div>".repeat(100_000) + "x\n"), &base()).is_err());
        let fine = "<div>".repeat(50) + "x" + &"</div>".repeat(50) + &"<br>".repeat(5000);
        assert!(render(&fine, &base()).is_ok());
    }

    #[test]
    fn a_post_without_papers_is_fine() {
        let out = render("Just words.\n", &base()).unwrap();
        assert!(out.papers.is_empty());
        assert_eq!(out.html.trim(), "<p>Just words.</p>");
    }
}
