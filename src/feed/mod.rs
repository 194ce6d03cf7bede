//! Feeds: a format-free model of a channel and its items, built from posts,
//! and rendered to RSS 2.0, Atom 1.0 and JSON Feed 1.1 as bytes.

pub mod archive;
mod atom;
mod json;
pub mod links;
mod rss;

use jiff::ZonedDateTime;

use crate::config::ItemKind;
use crate::error::Error;
use crate::post::{Post, Rendered};

/// One feed item: a post, or one paper of a post.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// A stable, unique id: the post's id as jekyll-feed gives it (or its
    /// `feed_id`); for a paper, the post's URL with `#paper-N`.
    pub id: String,
    /// Where the item links: the post's URL, or the paper's.
    pub url: String,
    /// The post's URL when the item links elsewhere (a paper).
    pub post_url: Option<String>,
    /// The title.
    pub title: String,
    /// The publication date, in the site's zone.
    pub date: ZonedDateTime,
    /// The last change (`last_modified_at`), when the post sets one.
    pub updated: Option<ZonedDateTime>,
    /// Plain-text summary.
    pub summary: String,
    /// Full HTML content, sanitized, links absolute.
    pub content_html: String,
    /// The post's tags then categories, without repeats.
    pub categories: Vec<String>,
    /// The post's author, when it names one.
    pub author: Option<String>,
}

/// A person as `Name <email>` splits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The name (or the address when there is no name).
    pub name: String,
    /// The address, when given.
    pub email: Option<String>,
}

impl Person {
    /// Reads `Name <email>`, `email` or `Name`.
    pub fn parse(text: &str) -> Option<Person> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if let Some((name, rest)) = text.split_once('<')
            && let Some(email) = rest.strip_suffix('>')
        {
            let name = name.trim().trim_matches('"').trim();
            let email = email.trim().to_string();
            let name = if name.is_empty() {
                email.clone()
            } else {
                name.to_string()
            };
            return Some(Person {
                name,
                email: Some(email),
            });
        }
        if text.contains('@') && !text.contains(' ') {
            return Some(Person {
                name: text.to_string(),
                email: Some(text.to_string()),
            });
        }
        Some(Person {
            name: text.to_string(),
            email: None,
        })
    }
}

/// A feed: what the three formats share.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// The feed's title.
    pub title: String,
    /// The feed's description.
    pub description: String,
    /// BCP 47 language.
    pub language: String,
    /// The site's home page.
    pub home_url: String,
    /// The absolute URL of the folder the feed files are served from, ending in `/`.
    pub base_url: String,
    /// The site's author.
    pub author: Option<Person>,
    /// The items, newest first.
    pub items: Vec<Item>,
    /// The WebSub hub the feed names (`<link rel="hub">`, JSON Feed `hubs`).
    pub hub: Option<String>,
}

impl Channel {
    /// The channel's last change: its newest item's date (or
    /// `last_modified_at`), never the build time, so the same posts give
    /// the same bytes.
    pub fn updated(&self) -> Option<&ZonedDateTime> {
        self.items
            .iter()
            .map(|item| {
                item.updated
                    .as_ref()
                    .filter(|u| **u > item.date)
                    .unwrap_or(&item.date)
            })
            .max()
    }

    fn self_url(&self, file: &str) -> String {
        format!("{}{file}", self.base_url)
    }
}

/// The file names of the three feeds.
pub const RSS_FILE: &str = "feed.xml";
/// Atom's file name.
pub const ATOM_FILE: &str = "atom.xml";
/// JSON Feed's file name.
pub const JSON_FILE: &str = "feed.json";

/// Renders the channel in all three formats: `(file name, bytes)`.
pub fn render_all(channel: &Channel) -> Result<Vec<(&'static str, Vec<u8>)>, Error> {
    Ok(vec![
        (RSS_FILE, rss::render(channel)?),
        (ATOM_FILE, atom::render(channel)?),
        (JSON_FILE, json::render(channel)?),
    ])
}

/// A written XML feed without the characters XML 1.0 forbids (C0 controls
/// but tab, LF and CR; U+FFFE, U+FFFF): one form feed pasted from a PDF into
/// a post would otherwise make the whole feed unreadable. Dropped from the
/// bytes, where every field (titles, tags, authors, config text) has landed,
/// and never part of the markup the XML writer adds.
fn xml_chars_only(bytes: Vec<u8>) -> Vec<u8> {
    // A pass over bytes first (one the compiler vectorises): a C0 control
    // other than tab, LF, CR, or 0xEF, the lead byte of U+FFFE and U+FFFF
    // (and of other characters, fullwidth punctuation among them). Only a
    // feed holding one of those is read as characters: a char-by-char scan
    // of every feed cost 3 % of a 10,000-post build.
    let suspect = bytes
        .iter()
        .map(|&b| u8::from((b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF))
        .fold(0, |seen, hit| seen | hit);
    if suspect == 0 {
        return bytes;
    }
    let forbidden = |c: char| matches!(c, '\0'..='\x08' | '\x0B' | '\x0C' | '\x0E'..='\x1F' | '\u{FFFE}' | '\u{FFFF}');
    match String::from_utf8(bytes) {
        Ok(text) if text.contains(forbidden) => text.replace(forbidden, "").into_bytes(),
        Ok(text) => text.into_bytes(),
        // The writers write UTF-8 from Rust strings; kept as is if not.
        Err(err) => err.into_bytes(),
    }
}

/// The items one post contributes: itself, or one per paper.
pub fn items_for(post: &Post, rendered: &Rendered, kind: ItemKind) -> Vec<Item> {
    let mut categories = post.tags.clone();
    for category in &post.categories {
        if !categories.contains(category) {
            categories.push(category.clone());
        }
    }
    match kind {
        ItemKind::Posts => vec![Item {
            id: post.id(),
            url: post.url.clone(),
            post_url: None,
            title: post.title.clone(),
            date: post.date.clone(),
            updated: post.updated.clone(),
            summary: post.summary(rendered),
            content_html: rendered.html.clone(),
            categories,
            author: post.author.clone(),
        }],
        ItemKind::Papers => rendered
            .papers
            .iter()
            .map(|paper| Item {
                id: format!("{}#paper-{}", post.url, paper.number),
                url: paper.url.clone(),
                post_url: Some(post.url.clone()),
                title: paper.title.clone(),
                date: post.date.clone(),
                updated: post.updated.clone(),
                summary: paper.summary.clone(),
                content_html: paper.html.clone(),
                categories: categories.clone(),
                author: post.author.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample_channel() -> Channel {
        let zone = jiff::tz::TimeZone::get("Asia/Seoul").unwrap();
        let date = |d: i8| {
            jiff::civil::date(2025, 12, d)
                .at(8, 0, 0, 0)
                .to_zoned_datetime(zone.clone())
                .unwrap()
        };
        let item = |n: i8, html: &str| Item {
            id: format!("https://e.org/2025/12/{n:02}/p.html"),
            url: format!("https://e.org/2025/12/{n:02}/p.html"),
            post_url: None,
            title: format!("Post <{n}> & \"more\""),
            date: date(n),
            updated: None,
            summary: "요약 & <summary>".into(),
            content_html: html.into(),
            categories: vec!["papers".into(), "A&B".into()],
            author: None,
        };
        Channel {
            title: "Daily Papers".into(),
            description: "Daily summaries".into(),
            language: "ko".into(),
            home_url: "https://e.org/".into(),
            base_url: "https://e.org/".into(),
            author: Person::parse("Papers Bot <papers@e.org>"),
            items: vec![
                item(25, "<p>x ]]&gt; y</p><pre><code>a ]]> b</code></pre>"),
                item(24, "<p>한글</p>"),
            ],
            hub: None,
        }
    }

    #[test]
    fn people() {
        assert_eq!(
            Person::parse("Papers Bot <papers@e.org>"),
            Some(Person {
                name: "Papers Bot".into(),
                email: Some("papers@e.org".into())
            })
        );
        assert_eq!(
            Person::parse("a@e.org").unwrap().email.as_deref(),
            Some("a@e.org")
        );
        assert_eq!(Person::parse("Just A Name").unwrap().email, None);
        assert_eq!(Person::parse("  "), None);
    }

    #[test]
    fn xml_forbidden_characters_are_dropped_from_xml_only() {
        let mut channel = sample_channel();
        channel.title = "Form\u{c}feed\u{1}".into();
        channel.items[0].summary = "a\u{fffe}b\u{ffff}c\td".into();
        channel.items[0].categories = vec!["t\u{1f}ag".into()];
        for (name, bytes) in render_all(&channel).unwrap() {
            let text = String::from_utf8(bytes).unwrap();
            if name == JSON_FILE {
                assert!(text.contains("\\f"), "{text}");
                continue;
            }
            assert!(
                text.contains("Formfeed") && text.contains("abc\td") && text.contains("tag"),
                "{name}: {text}"
            );
        }
    }

    #[test]
    fn the_rss_description_is_escaped_text() {
        let mut channel = sample_channel();
        channel.items[0].summary = "Why <img src=x onerror=alert(1)> & ]]>".into();
        let rss = String::from_utf8(rss::render(&channel).unwrap()).unwrap();
        assert!(
            rss.contains("<description><![CDATA[Why &lt;img src=x onerror=alert(1)&gt; &amp; ]]&gt;]]></description>"),
            "{rss}"
        );
    }

    #[test]
    fn updated_is_the_newest_item() {
        let channel = sample_channel();
        assert_eq!(
            crate::post::date::rfc3339(channel.updated().unwrap()),
            "2025-12-25T08:00:00+09:00"
        );
    }

    #[test]
    fn every_format_is_deterministic_and_escapes() {
        let channel = sample_channel();
        let first = render_all(&channel).unwrap();
        assert_eq!(first, render_all(&channel).unwrap());
        for (name, bytes) in &first {
            let text = String::from_utf8(bytes.clone()).unwrap();
            assert!(
                text.contains("Post &lt;25&gt; &amp;") || text.contains("Post <25> &"),
                "{name}: {text}"
            );
            assert!(
                !text.contains("<25>") || *name == JSON_FILE,
                "{name} leaks raw markup in a title"
            );
        }
    }
}
