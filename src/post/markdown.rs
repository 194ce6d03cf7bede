//! Renders a post body to safe HTML (`CommonMark` plus tables, footnotes,
//! strikethrough and task lists, and kramdown's extensions: [`kramdown`]),
//! and cuts it into its papers where [`papers`] finds them: the intro, each
//! paper's section, and the closing words.

mod kramdown;
mod papers;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::borrow::Cow;
use std::sync::LazyLock;

use crate::config::PaperShape;
use papers::first_link;

/// One paper of a digest post: an item a reader sees (a numbered heading's
/// section, a bold-numbered paragraph's, an ordered list's item, a heading
/// that is one link).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// What lies between this paper's section and the next paper (a
    /// heading that ended the section, and what follows it), as HTML;
    /// empty mostly, and always for the last paper (see `outro`).
    pub after: String,
    /// The heading's id on the post's page, when it has one.
    pub anchor: Option<String>,
}

/// A rendered post body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rendered {
    /// The whole body as sanitized HTML with absolute links.
    pub html: String,
    /// The first paragraph as plain text.
    pub first_paragraph: String,
    /// The papers, in order.
    pub papers: Vec<Paper>,
    /// The shape the papers were found in; `None` when there are none.
    pub paper_shape: Option<PaperShape>,
    /// What comes before the first paper (an intro, an image, a chart), as
    /// HTML; empty when the post has no papers (`html` holds it all).
    pub intro: String,
    /// What comes after the last paper's section (closing words, the
    /// footnotes), as HTML; empty when the post has no papers.
    pub outro: String,
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
/// post's URL), with its papers in whichever shape it has
/// (`feed.papers = "auto"`). Refuses a body nested deeper than [`MAX_NESTING`].
pub(crate) fn render(body: &str, base: &url::Url) -> Result<Rendered, String> {
    render_finding(body, base, PaperShape::Auto)
}

/// [`render`], finding papers in the shape `papers` asks for.
pub(crate) fn render_finding(
    body: &str,
    base: &url::Url,
    papers: PaperShape,
) -> Result<Rendered, String> {
    let (body, mut extensions) = kramdown::prepare(body);
    let events = kramdown::apply(Parser::new_ext(&body, options()).collect(), &mut extensions);
    let events = task_states(events);
    let mut raw = String::new();
    pulldown_cmark::html::push_html(&mut raw, events.iter().cloned());
    let raw = kramdown::place(raw, &extensions);
    if nesting_exceeds(&raw, MAX_NESTING) {
        return Err(format!(
            "the post nests quotes, lists or HTML elements more than {MAX_NESTING} levels deep; flatten it"
        ));
    }
    refuse_slow_escaping(&raw)?;
    let sanitizer = sanitizer(base);
    let found = papers::find(&events, papers);
    let html_of = |range: std::ops::Range<usize>| {
        if range.is_empty() {
            String::new()
        } else {
            to_html(&events[range], &sanitizer, &extensions)
        }
    };
    let mut papers = Vec::with_capacity(found.items.len());
    for (index, item) in found.items.iter().enumerate() {
        let section = &events[item.body.clone()];
        // A paper is read at its link: its own, else the section's first,
        // else its place in the post.
        let url = item
            .url
            .clone()
            .or_else(|| first_link(section))
            .unwrap_or_else(|| format!("#{}", item.anchor.as_deref().unwrap_or_default()));
        let section = body_events(section, item.reopen);
        let after = found
            .items
            .get(index + 1)
            .map_or(0..0, |next| item.span.end..next.span.start);
        papers.push(Paper {
            number: item.number,
            title: item.title.clone(),
            // A link that is not http(s) or mailto (`javascript:`, `data:`…,
            // however encoded) would run in every email and feed reader: the
            // paper links to its post instead.
            url: safe_link(base, &url).unwrap_or_else(|| base.to_string()),
            html: to_html(&section, &sanitizer, &extensions),
            summary: paper_summary(&section),
            after: html_of(after),
            anchor: item.anchor.clone(),
        });
    }
    let (intro, outro) = match (found.items.first(), found.items.last()) {
        (Some(first), Some(last)) => (
            html_of(0..first.span.start),
            html_of(last.span.end..events.len()),
        ),
        _ => (String::new(), String::new()),
    };
    Ok(Rendered {
        html: sanitizer.clean(&raw).to_string(),
        first_paragraph: first_paragraph(&events).unwrap_or_default(),
        papers,
        paper_shape: found.shape,
        intro,
        outro,
        excerpt: String::new(),
        warnings: Vec::new(),
    })
}

/// A paper's body events: the paragraph its title opened reopened, and
/// what separated the title from the rest (` - `, `: `) dropped, so the
/// body reads on its own. Borrowed when there is nothing to change.
fn body_events<'s, 'a>(section: &'s [Event<'a>], reopen: bool) -> Cow<'s, [Event<'a>]> {
    let leading_text = matches!(section.first(), Some(Event::Text(_)));
    if !reopen && !leading_text {
        return Cow::Borrowed(section);
    }
    let mut events = Vec::with_capacity(section.len() + 1);
    if reopen {
        events.push(Event::Start(Tag::Paragraph));
    }
    let mut rest = section.iter();
    if let Some(Event::Text(text)) = section.first() {
        rest.next();
        let trimmed = text.trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, '-' | '–' | '—' | ':' | '|' | '·')
        });
        if !trimmed.is_empty() {
            events.push(Event::Text(trimmed.to_string().into()));
        }
    }
    events.extend(rest.cloned());
    Cow::Owned(events)
}

/// A task list item's state as a character (`- [x]` ☑, `- [ ]` ☐), not an
/// `<input>`: feed readers and mail clients drop form elements, and with
/// them whether the task is done.
fn task_states(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    events
        .into_iter()
        .map(|event| match event {
            Event::TaskListMarker(done) => Event::Text(if done { "☑ " } else { "☐ " }.into()),
            other => other,
        })
        .collect()
}

/// How much escaping work html5ever's serializer (under ammonia, css-inline
/// and html2text) may be given: it looks ahead to the next `<` or `>` again
/// after every `&` or no-break space it escapes, so a stretch of text costs
/// its length times their number. 10^10 is about a tenth of a second here
/// (1.6 million `&` in a row took 20 s); a real post needs a millionth of it.
const ESCAPING_BUDGET: u128 = 10_000_000_000;

/// Refuses HTML whose text would take the serializer minutes: counted in one
/// linear pass, stretch by stretch between `<` and `>`.
fn refuse_slow_escaping(html: &str) -> Result<(), String> {
    let mut cost: u128 = 0;
    let mut worst = 0;
    for stretch in html.as_bytes().split(|&b| b == b'<' || b == b'>') {
        // `&` starts every entity, `&amp;` and `&nbsp;` included; 0xC2 starts
        // a raw no-break space (U+00A0), which the serializer escapes too.
        let escaped = stretch.iter().filter(|&&b| b == b'&' || b == 0xC2).count();
        cost += escaped as u128 * stretch.len() as u128;
        worst = worst.max(escaped);
    }
    if cost > ESCAPING_BUDGET {
        return Err(format!(
            "{worst} `&` or no-break spaces in one stretch of text without markup would take the HTML \
             writer minutes; break the text up (paragraphs, lines of a list)"
        ));
    }
    Ok(())
}

/// An HTML post's body (`.html`): sanitized, links absolute; no papers.
pub(crate) fn render_html(body: &str, base: &url::Url) -> Result<Rendered, String> {
    if nesting_exceeds(body, MAX_NESTING) {
        return Err(format!(
            "the post nests HTML elements more than {MAX_NESTING} levels deep; flatten it"
        ));
    }
    refuse_slow_escaping(body)?;
    let html = sanitizer(base).clean(body).to_string();
    Ok(Rendered {
        first_paragraph: String::new(),
        excerpt: plain_title(&html),
        html,
        papers: Vec::new(),
        paper_shape: None,
        intro: String::new(),
        outro: String::new(),
        warnings: Vec::new(),
    })
}

/// Markdown to HTML as it is, for Liquid's `markdownify` (the whole post
/// is sanitized afterwards).
pub(crate) fn to_raw_html(text: &str) -> String {
    let (text, mut extensions) = kramdown::prepare(text);
    let events = kramdown::apply(Parser::new_ext(&text, options()).collect(), &mut extensions);
    let mut raw = String::new();
    pulldown_cmark::html::push_html(&mut raw, task_states(events).into_iter());
    kramdown::place(raw, &extensions)
}

/// The tree depth an HTML parser would build from `html`, over-estimated
/// in linear time: a start tag opens an element, an end tag closes the
/// innermost open element of its name and those inside it (as the HTML
/// parser does), an end tag that matches no open element closes nothing
/// (`<div></x>` nests like `<div>`). Void and self-closed tags open nothing,
/// nor do the elements the parser closes by themselves when the next one
/// starts (`<li>`, `<p>`, `<td>`…), which never nest without a parent that
/// counts. Only a guard before the real parser.
fn nesting_exceeds(html: &str, limit: usize) -> bool {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ];
    const SELF_CLOSING: &[&str] = &[
        "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb", "rt", "rtc", "rp",
        "thead", "tbody", "tfoot", "colgroup", "caption",
    ];
    let bytes = html.as_bytes();
    let name_at = |start: usize| {
        let len = bytes[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        html[start..start + len].to_ascii_lowercase()
    };
    let mut open: Vec<String> = Vec::new();
    let mut open_by_name: std::collections::HashMap<String, usize> =
        std::collections::HashMap::new();
    for (at, _) in html.match_indices('<') {
        match bytes.get(at + 1) {
            Some(b'/') => {
                let name = name_at(at + 2);
                if open_by_name.get(&name).is_some_and(|&count| count > 0) {
                    // Each element is popped once: linear over the whole body.
                    while let Some(inner) = open.pop() {
                        *open_by_name.entry(inner.clone()).or_default() -= 1;
                        if inner == name {
                            break;
                        }
                    }
                }
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let name = name_at(at + 1);
                let rest = &bytes[at + 1..];
                // The scan stops at the next `<` too: `<a<a<a…` without a `>`
                // would otherwise be read to its end once per `<`.
                let tag_end = rest
                    .iter()
                    .position(|&c| c == b'>' || c == b'<')
                    .unwrap_or(rest.len());
                let self_closed =
                    rest.get(tag_end) == Some(&b'>') && tag_end > 0 && rest[tag_end - 1] == b'/';
                if self_closed
                    || VOID.contains(&name.as_str())
                    || SELF_CLOSING.contains(&name.as_str())
                {
                    continue;
                }
                *open_by_name.entry(name.clone()).or_default() += 1;
                open.push(name);
                if open.len() > limit {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// A title as plain text: HTML tags stripped (a script's content with them),
/// entities decoded, white space folded, as jekyll-feed does with
/// `strip_html` and `normalize_whitespace`.
pub(crate) fn plain_title(title: &str) -> String {
    static STRIP: LazyLock<ammonia::Builder<'static>> = LazyLock::new(ammonia::Builder::empty);
    // Without `<` or `&` there is no tag or entity to undo (NUL aside, which
    // the HTML parser replaces): the common case, and it costs no HTML parse.
    if !title.contains(['<', '&', '\0']) {
        return normalize_whitespace(title);
    }
    let stripped = STRIP.clean(title).to_string();
    normalize_whitespace(&html_escape::decode_html_entities(&stripped))
}

/// Jekyll's `normalize_whitespace`: runs of Ruby's `\s` (ASCII white space
/// only) as one space, none at either end. A no-break space (U+00A0,
/// `&nbsp;`) or an ideographic one stays what it is, as in Jekyll's titles.
fn normalize_whitespace(text: &str) -> String {
    let bytes = text.as_bytes();
    // Already so (single spaces inside, none at the ends): every usual title.
    if bytes.first().is_none_or(|&b| b != b' ')
        && bytes.last().is_none_or(|&b| b != b' ')
        && !bytes.windows(2).any(|pair| pair == b"  ")
        && !bytes
            .iter()
            .any(|&b| b != b' ' && (b.is_ascii_whitespace() || b == 0x0b))
    {
        return text.to_string();
    }
    fold_whitespace(text)
}

/// [`normalize_whitespace`] by splitting at every run.
fn fold_whitespace(text: &str) -> String {
    text.split(|c: char| c.is_ascii_whitespace() || c == '\u{b}')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The schemes a link may have anywhere a reader sees it: ammonia's default
/// list also lets through schemes (`ssh:`, `sms:`, `magnet:`…) that hand
/// the reader to another program.
const LINK_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// `href` resolved against `base`, when it is an http(s) or mailto link. The
/// URL parser undoes what hides a scheme (case, tabs, entities are already
/// decoded by the Markdown parser), so what it reads is what a browser reads.
pub(crate) fn safe_link(base: &url::Url, href: &str) -> Option<String> {
    let url = base.join(href).ok()?;
    LINK_SCHEMES
        .contains(&url.scheme())
        .then(|| String::from(url))
}

fn sanitizer(base: &url::Url) -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    let cite_base = base.clone();
    builder
        .url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()))
        .url_schemes(LINK_SCHEMES.into())
        // ammonia keeps `cite` (on blockquote, q, ins, del) as text, not as a
        // URL it checks: checked here like any link.
        .attribute_filter(move |_, attribute, value| {
            if attribute == "cite" {
                safe_link(&cite_base, value).map(std::borrow::Cow::Owned)
            } else {
                Some(value.into())
            }
        })
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

/// A paper's summary: its `Goal:` line, else its first paragraph that is
/// more than a link (a digest's `[Read Paper](URL)` line is not a summary).
fn paper_summary(section: &[Event<'_>]) -> String {
    if let Some(goal) = text_blocks(section).iter().find_map(|block| {
        block
            .text
            .trim()
            .strip_prefix("Goal:")
            .map(|goal| goal.trim().to_string())
    }) {
        return goal;
    }
    let mut kept: Vec<Event<'_>> = Vec::with_capacity(section.len());
    let mut index = 0;
    while index < section.len() {
        if let Event::Start(Tag::Paragraph) = section[index]
            && let Some(Event::Start(Tag::Link { .. })) = section.get(index + 1)
            && let Some(end) = section[index..]
                .iter()
                .position(|e| matches!(e, Event::End(TagEnd::Paragraph)))
            && matches!(section[index + end - 1], Event::End(TagEnd::Link))
        {
            index += end + 1;
            continue;
        }
        kept.push(section[index].clone());
        index += 1;
    }
    first_paragraph(&kept).unwrap_or_default()
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
        assert!(out.html.contains("<li>☑ done</li>"), "{}", out.html);
        assert!(out.html.contains("footnote"), "{}", out.html);
    }

    #[test]
    fn task_states_stay_as_text_readers_keep() {
        let out = render(
            "- [x] fixed
- [ ] open
",
            &base(),
        )
        .unwrap();
        assert!(!out.html.contains("<input"), "{}", out.html);
        assert!(
            out.html.contains("<li>☑ fixed</li>") && out.html.contains("<li>☐ open</li>"),
            "{}",
            out.html
        );
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
    fn only_http_and_mailto_become_links() {
        let body = "# 1. [a](&#106;avascript&#58;alert(1))\n\n# 2. [b][r]\n\n# 3. [c](mailto:x@e.org)\n\n\
            [d](data:text/html,x) [e](vbscript:x) [f](ssh://h) <a href=\"  JaVa&#x09;Script:x\">g</a>\n\n\
            <blockquote cite=\"javascript:x\">q</blockquote><q cite=\"/src\">s</q>\n\n[r]: JAVASCRIPT:alert(2)\n";
        let out = render(body, &base()).unwrap();
        let urls: Vec<&str> = out.papers.iter().map(|p| p.url.as_str()).collect();
        let post = base().to_string();
        assert_eq!(urls, [post.as_str(), post.as_str(), "mailto:x@e.org"]);
        let html = out.html.to_ascii_lowercase();
        for bad in ["javascript", "data:", "vbscript", "ssh:"] {
            assert!(!html.contains(bad), "{bad} survived in {html}");
        }
        assert!(
            html.contains("<q cite=\"https://papers.example.org/src\">"),
            "{html}"
        );
        assert!(html.contains("<blockquote>q</blockquote>"), "{html}");
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
            !first.html.contains("Not a paper") && first.after.contains("Not a paper"),
            "a heading at the papers' level ends a paper's section"
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
            "# [No number](https://x)\n",
            "## 1.5 Results\n\n[x](https://x)\n",
            "## 2024 in review\n\n[x](https://x)\n",
        ] {
            assert!(render(body, &base()).unwrap().papers.is_empty(), "{body}");
        }
    }

    #[test]
    fn the_numbered_sections_of_real_digests_are_papers() {
        // yupengtang/Daily-AI-Trend-Reporter's shape: `### N. Title`, then the link.
        let body = "Keywords: a, b\n\n---\n\n### 1. EnvHarness: Static Worlds\n\n[Read Paper](https://huggingface.co/papers/1)\n\nEnvHarness reshapes environments.\n\n### 2. FACET\n\n[Read Paper](https://huggingface.co/papers/2)\n\nFACET builds tasks.\n";
        let out = render(body, &base()).unwrap();
        let found: Vec<_> = out
            .papers
            .iter()
            .map(|p| {
                (
                    p.number,
                    p.title.as_str(),
                    p.url.as_str(),
                    p.summary.as_str(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    1,
                    "EnvHarness: Static Worlds",
                    "https://huggingface.co/papers/1",
                    "EnvHarness reshapes environments."
                ),
                (
                    2,
                    "FACET",
                    "https://huggingface.co/papers/2",
                    "FACET builds tasks."
                ),
            ]
        );
        // `## 2) Title`, a paper's own numbered subsections, and bold numbers.
        let out = render(
            "## 1) A\n\n[a](https://a)\n\n### 1. Sub\n\n## 2) B\n\n[b](https://b)\n",
            &base(),
        )
        .unwrap();
        assert_eq!(
            out.papers
                .iter()
                .map(|p| p.url.as_str())
                .collect::<Vec<_>>(),
            ["https://a/", "https://b/"]
        );
        let out = render("**1. Bold Title**  \n[Read Paper](https://p/1)\n\n**2. Next**  \n[Read Paper](https://p/2)\n", &base()).unwrap();
        assert_eq!(
            out.papers
                .iter()
                .map(|p| p.title.as_str())
                .collect::<Vec<_>>(),
            ["Bold Title", "Next"]
        );
        // A numbered section without a link is read at its place in the post.
        let out = render("## 1. Week Overview\n\ntext\n\n## 2. Trends\n", &base()).unwrap();
        assert_eq!(
            out.papers[1].url,
            "https://papers.example.org/2025/12/24/daily.html#2-trends"
        );
    }

    #[test]
    fn the_post_is_cut_into_intro_papers_and_outro_footnotes_never_a_paper() {
        let body = "Today we collected **2 papers**.[^n] ![chart](/assets/chart.png)\n\n\
            **1. First** [r](https://r/1)\n\nWhy it matters.\n\n**2. Second** [r](https://r/2)\n\n\
            ## Closing\n\nSee you.\n\n[^n]: **7. A note** [x](https://x)\n";
        let out = render(body, &base()).unwrap();
        let titles: Vec<_> = out.papers.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["First", "Second"]);
        assert_eq!(out.paper_shape, Some(PaperShape::Bold));
        assert!(out.intro.contains("Today we collected"), "{}", out.intro);
        assert!(
            out.intro
                .contains("src=\"https://papers.example.org/assets/chart.png\""),
            "{}",
            out.intro
        );
        assert!(out.papers[0].html.contains("Why it matters."));
        assert!(!out.papers[1].html.contains("Closing"));
        assert!(out.outro.contains("Closing") && out.outro.contains("See you."));
        assert!(out.outro.contains("A note"), "the footnotes close the post");
        // A forced shape the post does not have finds nothing, and keeps the post whole.
        let none = render_finding(body, &base(), PaperShape::Links).unwrap();
        assert!(none.papers.is_empty() && none.intro.is_empty() && none.outro.is_empty());
        assert_eq!(none.html, out.html);
    }

    #[test]
    fn kramdown_attribute_lists_are_applied_never_shown() {
        let body = "![x](/a.png){: width=\"750px\" .center-image }\n\nA paragraph.\n{: .note #first style=\"color: red\"}\n\n[out](https://x.org){:target=\"_blank\"}\n\n{:.lead}\nNext block.\n\n{:ref: .shared}\nUses a reference.\n{: ref}\n";
        let out = render(body, &base()).unwrap();
        assert!(!out.html.contains("{:"), "{}", out.html);
        for expected in [
            "<img class=\"center-image\" width=\"750px\" src=\"https://papers.example.org/a.png\" alt=\"x\">",
            "<p id=\"first\" class=\"note\">A paragraph.</p>",
            "<p class=\"lead\">Next block.</p>",
            "<p class=\"shared\">Uses a reference.</p>",
        ] {
            assert!(
                out.html.contains(expected),
                "{expected} not in {}",
                out.html
            );
        }
    }

    #[test]
    fn kramdown_toc_ids_footnotes_abbreviations_definitions_and_math() {
        let body = "* TOC\n{:toc}\n\n## Hello World\n\n## Hello World\n\n### Not listed\n{:.no_toc}\n\nText[^n] on HTML.\n\n*[HTML]: Hyper Text Markup Language\n\n[^n]: The note.\n\nTerm\n: Its definition.\n\n$$a_1 < b$$\n\nInline $$x^2$$ and $5 and $6.\n";
        let out = render(body, &base()).unwrap();
        let html = &out.html;
        for expected in [
            "<ul id=\"markdown-toc\">",
            "<a href=\"https://papers.example.org/2025/12/24/daily.html#hello-world\" id=\"markdown-toc-hello-world\"",
            "<h2 id=\"hello-world-1\">Hello World</h2>",
            "<a href=\"https://papers.example.org/2025/12/24/daily.html#fn:n\" class=\"footnote\"",
            "<li id=\"fn:n\">",
            "<abbr title=\"Hyper Text Markup Language\">HTML</abbr>",
            "<dt>Term</dt>",
            "\\[a_1 &lt; b\\]",
            "Inline \\(x^2\\) and $5 and $6.",
        ] {
            assert!(html.contains(expected), "{expected} not in {html}");
        }
        assert!(!html.contains("markdown-toc-not-listed"), "{html}");
        assert!(!html.contains("*[HTML]"), "{html}");
    }

    #[test]
    fn kramdown_reads_span_html_lines_and_spaced_targets_as_text() {
        let out = render(
            "<br>\nSee [the jobs](https://x.org/jobs) and ![a](/a b.png).\n",
            &base(),
        )
        .unwrap();
        assert!(
            out.html.contains("<a href=\"https://x.org/jobs\""),
            "{}",
            out.html
        );
        assert!(
            out.html
                .contains("src=\"https://papers.example.org/a%20b.png\""),
            "{}",
            out.html
        );
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
        // Jekyll folds ASCII white space only: a no-break space stays.
        assert_eq!(
            plain_title(" Weekend\u{a0}Reading &nbsp;— 2020\t\n"),
            "Weekend\u{a0}Reading \u{a0}— 2020"
        );
    }

    #[test]
    fn a_title_already_normal_is_what_folding_gives() {
        let mut titles = vec![
            String::new(),
            " ".into(),
            "a".into(),
            "a b".into(),
            "a  b".into(),
        ];
        for c in [
            ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{a0}', '\u{3000}', 'x',
        ] {
            titles.extend([
                format!("{c}a"),
                format!("a{c}"),
                format!("a{c}b"),
                format!("a {c}b"),
                format!("a{c} b"),
            ]);
        }
        for title in &titles {
            assert_eq!(
                normalize_whitespace(title),
                fold_whitespace(title),
                "{title:?}"
            );
        }
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
            let slow = normalize_whitespace(&html_escape::decode_html_entities(
                &strip.clean(title).to_string(),
            ));
            assert_eq!(plain_title(title), slow, "{title:?}");
        }
    }

    #[test]
    fn absurd_nesting_is_refused_quickly() {
        assert!(render(&(">".repeat(100_000) + " x\n"), &base()).is_err());
        assert!(render(&("<div>".repeat(100_000) + "x\n"), &base()).is_err());
        // An end tag that closes nothing does not undo a level.
        assert!(render(&("<div></x>".repeat(12_000) + "x\n"), &base()).is_err());
        assert!(render(&("<div></DIV></span>".repeat(12_000) + "x\n"), &base()).is_ok());
        let fine = "<div>".repeat(50) + "x" + &"</div>".repeat(50) + &"<br>".repeat(5000);
        assert!(render(&fine, &base()).is_ok());
        let lists = "<ul><li>a<li>b".repeat(400) + &"<p>x".repeat(5000);
        assert!(render(&lists, &base()).is_ok());
        // Tags that never end: linear, not once per `<` to the end. Once per
        // `<` it would be 10^12 steps, which never ends: no clock needed.
        assert!(!nesting_exceeds(&"<br".repeat(2_000_000), MAX_NESTING));
    }

    #[test]
    fn a_post_without_papers_is_fine() {
        let out = render("Just words.\n", &base()).unwrap();
        assert!(out.papers.is_empty());
        assert_eq!(out.html.trim(), "<p>Just words.</p>");
    }
}
