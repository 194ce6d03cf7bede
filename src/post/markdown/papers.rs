//! Finds a digest's papers: the items a reader sees, in the structure the
//! post renders to (pulldown-cmark's events, after kramdown's extensions).
//! At the first of these shapes a post has:
//!
//! 1. numbered headings (`N.` or `N)`) at the shallowest level that has them;
//! 2. paragraphs that open with a bold number (`**1. Title**`);
//! 3. the items of top-level ordered lists whose every item holds a link
//!    to another page (a list of `#anchors` is a table of contents);
//! 4. headings whose text is one link (an emoji or mark beside it allowed),
//!    at the shallowest level that has two.
//!
//! Only blocks at the top of the post count: nothing in a blockquote, a
//! list (but shape 3's own items) or a footnote is an item. A section runs
//! to the next item, or to a heading that ends it (one at the items' level
//! or above), or to the footnotes.
//!
//! Pure: events in, each paper's number, title, link and the event ranges
//! of its parts out. [`super`] makes the HTML.

use std::ops::Range;

use pulldown_cmark::{Event, HeadingLevel, Tag, TagEnd};

use crate::config::PaperShape;

/// One paper, as ranges of the post's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Item {
    /// The number written before the title, else its place (1, 2, ...).
    pub number: u32,
    /// The title, plain text.
    pub title: String,
    /// Its own link (the heading's, the bold title's, the list item's
    /// first): `None` leaves it to the section's first link.
    pub url: Option<String>,
    /// The heading's id, for a paper with no link at all.
    pub anchor: Option<String>,
    /// The paper's section without its title.
    pub body: Range<usize>,
    /// The title was the start of a paragraph whose rest opens the body:
    /// the body's HTML reopens it.
    pub reopen: bool,
    /// All of the post this item takes: its title and body, and for the
    /// first and last item of a list, the list's own start and end.
    pub span: Range<usize>,
}

/// What a post's papers were found as.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Found {
    /// The shape, when any paper was found.
    pub shape: Option<PaperShape>,
    /// The papers, in order.
    pub items: Vec<Item>,
}

/// The papers of `events` in the shape `wanted` (or the first found, for `Auto`).
pub(super) fn find(events: &[Event<'_>], wanted: PaperShape) -> Found {
    let blocks = top_level_blocks(events);
    let order: &[PaperShape] = match wanted {
        PaperShape::Auto => &[
            PaperShape::Headings,
            PaperShape::Bold,
            PaperShape::List,
            PaperShape::Links,
        ],
        PaperShape::Headings => &[PaperShape::Headings],
        PaperShape::Bold => &[PaperShape::Bold],
        PaperShape::List => &[PaperShape::List],
        PaperShape::Links => &[PaperShape::Links],
    };
    for &shape in order {
        let items = match shape {
            PaperShape::Headings => numbered_headings(events, &blocks),
            PaperShape::Bold => bold_paragraphs(events, &blocks),
            PaperShape::List => list_items(events, &blocks),
            PaperShape::Links | PaperShape::Auto => link_headings(events, &blocks),
        };
        if !items.is_empty() {
            return Found {
                shape: Some(shape),
                items,
            };
        }
    }
    Found::default()
}

/// A block at the top of the post: its events, `start..end`.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: usize,
    end: usize,
    kind: Kind,
}

/// What a top-level block is, as far as finding papers goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Heading(HeadingLevel),
    Paragraph,
    /// An ordered list (`Some(first number)`) or a bullet list.
    List(Option<u64>),
    Footnote,
    Other,
}

/// The post's top-level blocks, in one pass. Events outside any block (a
/// rule, top-level HTML) are left out: they neither start nor end a paper.
fn top_level_blocks(events: &[Event<'_>]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut depth = 0usize;
    let mut open: Option<(usize, Kind)> = None;
    for (index, event) in events.iter().enumerate() {
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    let kind = match tag {
                        Tag::Heading { level, .. } => Kind::Heading(*level),
                        Tag::Paragraph => Kind::Paragraph,
                        Tag::List(first) => Kind::List(*first),
                        Tag::FootnoteDefinition(_) => Kind::Footnote,
                        _ => Kind::Other,
                    };
                    open = Some((index, kind));
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && let Some((start, kind)) = open.take()
                {
                    blocks.push(Block {
                        start,
                        end: index + 1,
                        kind,
                    });
                }
            }
            // kramdown's footnotes (see `kramdown::footnotes`): the notes
            // follow, at the top level, to the end of the post.
            Event::Html(html) if depth == 0 && html.starts_with(FOOTNOTES) => {
                blocks.push(Block {
                    start: index,
                    end: events.len(),
                    kind: Kind::Footnote,
                });
                break;
            }
            _ => {}
        }
    }
    blocks
}

/// How kramdown's footnotes open, as [`super::kramdown`] writes them.
const FOOTNOTES: &str = "<div class=\"footnotes\"";

/// Where the section of the item whose block starts at event `from` ends:
/// at `next_item` (the next item's first event), at a heading `ends` says
/// ends it, at the footnotes, else at the end of the post. Only the blocks
/// up to the next item are looked at, so finding every section is linear.
fn section_end(
    blocks: &[Block],
    from: usize,
    next_item: Option<usize>,
    ends: impl Fn(HeadingLevel) -> bool,
    total: usize,
) -> usize {
    let limit = next_item.unwrap_or(total);
    let after = blocks.partition_point(|block| block.start <= from);
    blocks[after..]
        .iter()
        .take_while(|block| block.start < limit)
        .find(|block| match block.kind {
            Kind::Heading(level) => ends(level),
            Kind::Footnote => true,
            _ => false,
        })
        .map_or(limit, |block| block.start)
}

/// Items made of whole headings (shapes 1 and 4): `picked` are the heading
/// blocks that are items, all at `level`, each with its number, title and link.
fn heading_items(
    events: &[Event<'_>],
    blocks: &[Block],
    picked: Vec<(Block, u32, String, Option<String>)>,
    level: HeadingLevel,
) -> Vec<Item> {
    let starts: Vec<usize> = picked.iter().map(|(block, ..)| block.start).collect();
    picked
        .into_iter()
        .enumerate()
        .map(|(at, (block, number, title, url))| {
            let end = section_end(
                blocks,
                block.start,
                starts.get(at + 1).copied(),
                |other| other <= level,
                events.len(),
            );
            let anchor = match &events[block.start] {
                Event::Start(Tag::Heading { id, .. }) => id.as_ref().map(ToString::to_string),
                _ => None,
            };
            Item {
                number,
                title,
                url,
                anchor,
                body: block.end..end,
                reopen: false,
                span: block.start..end,
            }
        })
        .collect()
}

/// Shape 1: `# 1. [Title](URL)`, `### 1. Title`, `## 2) Title`, at the
/// shallowest level that has any, so a paper's own numbered subsections
/// are not papers.
fn numbered_headings(events: &[Event<'_>], blocks: &[Block]) -> Vec<Item> {
    let numbered: Vec<(Block, HeadingLevel, u32, String, Option<String>)> = blocks
        .iter()
        .filter_map(|block| {
            let Kind::Heading(level) = block.kind else {
                return None;
            };
            let (number, title, url) = numbered(&events[block.start + 1..block.end - 1])?;
            Some((*block, level, number, title, url))
        })
        .collect();
    let Some(level) = numbered.iter().map(|(_, level, ..)| *level).min() else {
        return Vec::new();
    };
    let picked = numbered
        .into_iter()
        .filter(|(_, l, ..)| *l == level)
        .map(|(block, _, number, title, url)| (block, number, title, url))
        .collect();
    heading_items(events, blocks, picked, level)
}

/// Shape 4: `### 🎮 [Title](URL "Title")`, at the shallowest level that
/// has two, numbered in order.
fn link_headings(events: &[Event<'_>], blocks: &[Block]) -> Vec<Item> {
    let linked: Vec<(Block, HeadingLevel, String, String)> = blocks
        .iter()
        .filter_map(|block| {
            let Kind::Heading(level) = block.kind else {
                return None;
            };
            let (title, url) = one_link(&events[block.start + 1..block.end - 1])?;
            Some((*block, level, title, url))
        })
        .collect();
    let level = [
        HeadingLevel::H1,
        HeadingLevel::H2,
        HeadingLevel::H3,
        HeadingLevel::H4,
        HeadingLevel::H5,
        HeadingLevel::H6,
    ]
    .into_iter()
    .find(|level| linked.iter().filter(|(_, l, ..)| l == level).count() >= 2);
    let Some(level) = level else {
        return Vec::new();
    };
    let picked = linked
        .into_iter()
        .filter(|(_, l, ..)| *l == level)
        .zip(1..)
        .map(|((block, _, title, url), number)| (block, number, title, Some(url)))
        .collect();
    heading_items(events, blocks, picked, level)
}

/// Shape 2: paragraphs that open with a bold number, `**1. Title**` (or
/// `**1.** Title`), then links. A heading at the level of the one the
/// first paper sits under, or above, ends a section (any heading, when
/// no heading comes before the first paper).
fn bold_paragraphs(events: &[Event<'_>], blocks: &[Block]) -> Vec<Item> {
    let found: Vec<(usize, Block, u32, String, Option<String>, usize)> = blocks
        .iter()
        .enumerate()
        .filter(|(_, block)| block.kind == Kind::Paragraph)
        .filter_map(|(at, block)| {
            let (number, title, url, title_end) = bold_number(events, *block)?;
            Some((at, *block, number, title, url, title_end))
        })
        .collect();
    let Some((first, ..)) = found.first() else {
        return Vec::new();
    };
    let under = blocks[..*first]
        .iter()
        .rev()
        .find_map(|block| match block.kind {
            Kind::Heading(level) => Some(level),
            _ => None,
        });
    let starts: Vec<usize> = found.iter().map(|(_, block, ..)| block.start).collect();
    found
        .into_iter()
        .enumerate()
        .map(|(at, (_, block, number, title, url, title_end))| {
            let end = section_end(
                blocks,
                block.start,
                starts.get(at + 1).copied(),
                |level| under.is_none_or(|under| level <= under),
                events.len(),
            );
            // A paragraph that was only its title is not reopened, empty.
            let (body, reopen) = if title_end + 1 == block.end {
                (block.end..end, false)
            } else {
                (title_end..end, true)
            };
            Item {
                number,
                title,
                url,
                anchor: None,
                body,
                reopen,
                span: block.start..end,
            }
        })
        .collect()
}

/// A paragraph's bold number: the number, the title (in the bold text, or
/// after a bold `1.` to the end of the line), the bold text's link, and
/// the index of the first event after the title.
fn bold_number(events: &[Event<'_>], block: Block) -> Option<(u32, String, Option<String>, usize)> {
    if !matches!(events.get(block.start + 1), Some(Event::Start(Tag::Strong))) {
        return None;
    }
    let close = block.start
        + 2
        + events[block.start + 2..block.end]
            .iter()
            .position(|e| matches!(e, Event::End(TagEnd::Strong)))?;
    let inside = &events[block.start + 2..close];
    if let Some((number, title, url)) = numbered(inside) {
        return Some((number, title, url, close + 1));
    }
    // `**1.** Title`: the number alone is bold, the title follows on its line.
    let text = plain_text(inside);
    let (number, rest) = leading_number(&text)?;
    if !rest.trim().is_empty() {
        return None;
    }
    let line_end = close
        + 1
        + events[close + 1..block.end - 1]
            .iter()
            .position(|e| matches!(e, Event::SoftBreak | Event::HardBreak))
            .unwrap_or(block.end - 1 - (close + 1));
    let line = &events[close + 1..line_end];
    let title = plain_text(line).trim().to_string();
    (!title.is_empty()).then(|| (number, title, first_link(line), line_end))
}

/// Shape 3: the items of top-level ordered lists whose every item holds a
/// link, numbered as the lists number them (in order, never repeating).
fn list_items(events: &[Event<'_>], blocks: &[Block]) -> Vec<Item> {
    let mut items = Vec::new();
    let mut last_number = 0u32;
    for block in blocks {
        let Kind::List(Some(first)) = block.kind else {
            continue;
        };
        let spans = list_item_spans(events, *block);
        if spans.is_empty() || !spans.iter().all(|span| leads_out(&events[span.clone()])) {
            continue;
        }
        let count = spans.len();
        for (at, span) in spans.into_iter().enumerate() {
            let written = u32::try_from(first)
                .unwrap_or(u32::MAX)
                .saturating_add(u32::try_from(at).unwrap_or(u32::MAX));
            let number = if written > last_number {
                written
            } else {
                last_number.saturating_add(1)
            };
            last_number = number;
            let (title, url, title_end, reopen) = item_title(events, span.clone());
            let whole_start = if at == 0 { block.start } else { span.start };
            let whole_end = if at + 1 == count { block.end } else { span.end };
            items.push(Item {
                number,
                title,
                url,
                anchor: None,
                // The item's content, without `Start(Item)` and `End(Item)`.
                body: title_end..span.end - 1,
                reopen,
                span: whole_start..whole_end,
            });
        }
    }
    items
}

/// Whether `events` hold a link to another page: a list whose links only
/// lead to places in the post (`[Tip 1](#1-tip)`) is its table of
/// contents, not a digest.
fn leads_out(events: &[Event<'_>]) -> bool {
    events.iter().any(|event| {
        matches!(event, Event::Start(Tag::Link { dest_url, .. }) if !dest_url.starts_with('#'))
    })
}

/// Each item of the list `block`, `Start(Item)..=End(Item)`.
fn list_item_spans(events: &[Event<'_>], block: Block) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, event) in events
        .iter()
        .enumerate()
        .take(block.end - 1)
        .skip(block.start + 1)
    {
        match event {
            Event::Start(_) => {
                if depth == 0 {
                    start = index;
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    spans.push(start..index + 1);
                }
            }
            _ => {}
        }
    }
    spans
}

/// A list item's title: its bold opening, else its opening link, else its
/// first line; with that title's link, the index after the title, and
/// whether the title opened a paragraph (a loose item) the body reopens.
fn item_title(events: &[Event<'_>], span: Range<usize>) -> (String, Option<String>, usize, bool) {
    let mut at = span.start + 1;
    let in_paragraph = matches!(events.get(at), Some(Event::Start(Tag::Paragraph)));
    if in_paragraph {
        at += 1;
    }
    let inline_end = at
        + events[at..span.end]
            .iter()
            .position(|e| {
                matches!(
                    e,
                    Event::SoftBreak
                        | Event::HardBreak
                        | Event::End(TagEnd::Paragraph | TagEnd::Item)
                ) || matches!(e, Event::Start(tag) if is_block(tag))
            })
            .unwrap_or(span.end - at);
    let closing = match events.get(at) {
        Some(Event::Start(Tag::Strong)) => Some(TagEnd::Strong),
        Some(Event::Start(Tag::Link { .. })) => Some(TagEnd::Link),
        _ => None,
    };
    let title_end = closing
        .and_then(|closing| {
            events[at..inline_end]
                .iter()
                .position(|e| *e == Event::End(closing))
                .map(|offset| at + offset + 1)
        })
        .unwrap_or(inline_end);
    let title_events = &events[at..title_end];
    let title = plain_text(title_events).trim().to_string();
    // A paragraph that was only its title is not reopened, empty.
    if in_paragraph && matches!(events.get(title_end), Some(Event::End(TagEnd::Paragraph))) {
        return (title, first_link(title_events), title_end + 1, false);
    }
    (title, first_link(title_events), title_end, in_paragraph)
}

fn is_block(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Paragraph
            | Tag::Heading { .. }
            | Tag::BlockQuote(_)
            | Tag::CodeBlock(_)
            | Tag::HtmlBlock
            | Tag::List(_)
            | Tag::Item
            | Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::Table(_)
    )
}

/// `N.` or `N)` then white space, at the start of `text`: the number and the rest.
fn leading_number(text: &str) -> Option<(u32, &str)> {
    let text = text.trim_start();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let number: u32 = text[..digits].parse().ok()?;
    let rest = text[digits..].strip_prefix(['.', ')'])?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some((number, rest))
}

/// Inline events that open with a number (`1. Title`): the number, the
/// title after it, and their first link.
fn numbered(inline: &[Event<'_>]) -> Option<(u32, String, Option<String>)> {
    let text = plain_text(inline);
    let (number, rest) = leading_number(&text)?;
    let title = rest.trim();
    (!title.is_empty()).then(|| (number, title.to_string(), first_link(inline)))
}

/// Inline events that are one link, with nothing beside it but marks (an
/// emoji, a dash): its text and target.
fn one_link(inline: &[Event<'_>]) -> Option<(String, String)> {
    let mut url = None;
    let mut title = String::new();
    let mut depth = 0usize;
    for event in inline {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => {
                if url.is_some() {
                    return None;
                }
                url = Some(dest_url.to_string());
                depth += 1;
            }
            Event::End(TagEnd::Link) => depth = depth.saturating_sub(1),
            Event::Text(text) | Event::Code(text) if depth > 0 => title.push_str(text),
            Event::Text(text) | Event::Code(text) if text.chars().any(char::is_alphanumeric) => {
                return None;
            }
            _ => {}
        }
    }
    let title = title.trim();
    if title.is_empty() {
        return None;
    }
    url.map(|url| (title.to_string(), url))
}

/// The target of the first link in `events`.
pub(super) fn first_link(events: &[Event<'_>]) -> Option<String> {
    events.iter().find_map(|event| match event {
        Event::Start(Tag::Link { dest_url, .. }) => Some(dest_url.to_string()),
        _ => None,
    })
}

/// The text of inline events, breaks as spaces.
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

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::{Options, Parser};

    /// Each item's number, title and own link.
    type Listed = Vec<(u32, String, Option<String>)>;

    fn found(markdown: &str, wanted: PaperShape) -> (Option<PaperShape>, Listed) {
        let events: Vec<Event<'_>> = Parser::new_ext(markdown, Options::ENABLE_FOOTNOTES).collect();
        let found = find(&events, wanted);
        let items = found
            .items
            .into_iter()
            .map(|item| (item.number, item.title, item.url))
            .collect();
        (found.shape, items)
    }

    fn titles(markdown: &str) -> Vec<String> {
        found(markdown, PaperShape::Auto)
            .1
            .into_iter()
            .map(|(_, title, _)| title)
            .collect()
    }

    #[test]
    fn numbered_headings_at_the_shallowest_level() {
        let (shape, items) = found(
            "## 1. A\n\n[a](https://a)\n\n### 1. Sub\n\n## 2) B\n",
            PaperShape::Auto,
        );
        assert_eq!(shape, Some(PaperShape::Headings));
        assert_eq!(items, [(1, "A".into(), None), (2, "B".into(), None),]);
    }

    #[test]
    fn bold_numbers_open_paragraphs() {
        let (shape, items) = found(
            "Intro.\n\n**1. First**  \n[Read](https://p/1)\n\n**2.** Second one\nmore\n",
            PaperShape::Auto,
        );
        assert_eq!(shape, Some(PaperShape::Bold));
        assert_eq!(
            items,
            [(1, "First".into(), None), (2, "Second one".into(), None)]
        );
    }

    #[test]
    fn ordered_lists_whose_every_item_holds_a_link() {
        let list = "1. **Title A** - 👍 86\n   - [HF](https://hf/a)\n   - Abstract: a\n2. **Title B** - 👍 3\n   - [HF](https://hf/b)\n";
        let (shape, items) = found(list, PaperShape::Auto);
        assert_eq!(shape, Some(PaperShape::List));
        assert_eq!(
            items,
            [(1, "Title A".into(), None), (2, "Title B".into(), None)]
        );
        // A list with an item without a link is no digest, nor is a table of
        // contents; a link item's own link is its URL.
        assert!(titles("1. plain\n2. [b](https://b)\n").is_empty());
        assert!(titles("1. [Tip one](#1-tip-one)\n2. [Tip two](#2-tip-two)\n").is_empty());
        assert_eq!(
            found(
                "3. [A](https://a) - why\n4. [B](https://b)\n",
                PaperShape::Auto
            )
            .1,
            [
                (3, "A".into(), Some("https://a".into())),
                (4, "B".into(), Some("https://b".into()))
            ]
        );
    }

    #[test]
    fn headings_that_are_one_link() {
        let (shape, items) = found(
            "### 🎮 [Game](https://g \"Game\")\n\ntext\n\n### 📚 [Book](https://b)\n\n### [One](https://x) and [two](https://y)\n",
            PaperShape::Auto,
        );
        assert_eq!(shape, Some(PaperShape::Links));
        assert_eq!(
            items,
            [
                (1, "Game".into(), Some("https://g".into())),
                (2, "Book".into(), Some("https://b".into()))
            ]
        );
        // One such heading alone is no roundup.
        assert!(titles("## [Only](https://o)\n\ntext\n").is_empty());
    }

    #[test]
    fn nothing_in_a_blockquote_or_a_footnote_is_an_item() {
        assert!(titles("> **6. Parkinson's Law**\n> [x](https://x)\n").is_empty());
        assert!(titles("> ## 1. Quoted\n").is_empty());
        assert!(titles("Text[^n].\n\n[^n]: **1. Note** [x](https://x)\n").is_empty());
        assert_eq!(
            titles("**1. Real** [r](https://r)\n\n> **2. Quoted** [q](https://q)\n"),
            ["Real"]
        );
    }

    #[test]
    fn the_first_shape_wins_unless_one_is_forced() {
        let post = "## 1. Heading paper\n\n1. [a](https://a)\n2. [b](https://b)\n";
        assert_eq!(titles(post), ["Heading paper"]);
        let (shape, items) = found(post, PaperShape::List);
        assert_eq!(shape, Some(PaperShape::List));
        assert_eq!(items.len(), 2);
        assert_eq!(found(post, PaperShape::Links), (None, Vec::new()));
    }

    #[test]
    fn a_hundred_thousand_items_are_found_in_one_pass() {
        let post = "## 1. Paper\n\ntext\n\n".repeat(100_000);
        let events: Vec<Event<'_>> = Parser::new(&post).collect();
        let found = find(&events, PaperShape::Auto);
        assert_eq!(found.items.len(), 100_000);
        assert_eq!(found.items[99_999].span.end, events.len());
    }

    #[test]
    fn a_heading_at_the_items_level_or_above_ends_a_section() {
        let events: Vec<Event<'_>> =
            Parser::new("# Top\n\n## 1. A\n\n### Detail\n\n## 2. B\n\n## Closing\n\nBye.\n")
                .collect();
        let found = find(&events, PaperShape::Auto);
        let [first, second] = &found.items[..] else {
            panic!("{found:?}");
        };
        let html = |range: Range<usize>| {
            let mut out = String::new();
            pulldown_cmark::html::push_html(&mut out, events[range].iter().cloned());
            out
        };
        assert!(html(first.body.clone()).contains("Detail"));
        assert_eq!(first.span.end, second.span.start);
        assert!(!html(second.body.clone()).contains("Closing"));
        assert!(html(second.span.end..events.len()).contains("Bye."));
        assert_eq!(html(0..first.span.start), "<h1>Top</h1>\n");
    }
}
