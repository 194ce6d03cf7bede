//! Feeds: a format-free model of a channel and its items, built from posts,
//! and rendered to RSS 2.0, Atom 1.0 and JSON Feed 1.1 as bytes.

pub mod archive;
mod atom;
mod json;
pub mod links;
mod rss;

use jiff::ZonedDateTime;

use crate::config::{FeedFiles, ItemKind};
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
    /// For a paper: its place on the site, the post's URL with the paper's
    /// heading as the fragment when it has one.
    pub post_url: Option<String>,
    /// The title.
    pub title: String,
    /// The publication date, in the site's zone.
    pub date: ZonedDateTime,
    /// The last change, when later than `date`.
    pub updated: Option<ZonedDateTime>,
    /// Plain-text summary.
    pub summary: String,
    /// Full HTML content, sanitized, links absolute.
    pub content_html: String,
    /// The post's tags then categories, without repeats.
    pub categories: Vec<String>,
    /// Who wrote it, by jekyll-feed's rule (see [`author_of`]).
    pub author: Option<Person>,
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

/// The author of a post as jekyll-feed names it: `author`, else the first
/// of `authors`, else the site's (`site`: the site's author, or for a site
/// without one its title, where jekyll-feed writes an empty name). A name
/// that is a key of the blog's `_data/authors.yml` (`data`: key, then
/// `Name <email>`) is that author.
pub fn author_of(post: &Post, site: &Person, data: &[(String, String)]) -> Person {
    post.author
        .as_deref()
        .or(post.authors.first().map(String::as_str))
        .and_then(|key| Person::parse(looked_up(key, data)).or_else(|| Person::parse(key)))
        .unwrap_or_else(|| site.clone())
}

/// The author `key` names in the blog's authors data, else `key` itself.
pub fn looked_up<'a>(key: &'a str, data: &'a [(String, String)]) -> &'a str {
    data.iter()
        .find(|(name, _)| name == key)
        .map_or(key, |(_, author)| author.as_str())
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
    /// Each format's file name in that folder.
    pub files: FeedFiles,
    /// The site's author.
    pub author: Option<Person>,
    /// The items, newest first.
    pub items: Vec<Item>,
    /// The channel's last change when it has no item: its newest post's
    /// date (a papers feed of posts without papers), never the epoch.
    pub quiet_since: ZonedDateTime,
    /// The WebSub hub the feed names (`<link rel="hub">`, JSON Feed `hubs`).
    pub hub: Option<String>,
}

impl Channel {
    /// The channel's last change: its newest item's date (or
    /// `last_modified_at`), never the build time, so the same posts give
    /// the same bytes.
    pub fn updated(&self) -> &ZonedDateTime {
        self.items
            .iter()
            .map(|item| item.updated.as_ref().unwrap_or(&item.date))
            .max()
            .unwrap_or(&self.quiet_since)
    }

    fn self_url(&self, file: &str) -> String {
        format!("{}{file}", self.base_url)
    }
}

/// Where one document sits among a feed's pages (see [`archive`]), as its
/// links say it: what `atom.rs` and `json.rs` add to a channel's document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// The document's file below the channel's `base_url`: `atom.xml`, `archive/3.xml`.
    pub(crate) file: String,
    /// An archive page (`<fh:archive/>`, a `current` link), not the feed readers subscribe to.
    pub(crate) archived: bool,
    /// The next older page (Atom `prev-archive`, JSON Feed `next_url`), below `base_url`.
    pub(crate) older: Option<String>,
    /// The next newer page (Atom `next-archive`), set once this page is full.
    pub(crate) newer: Option<String>,
}

impl Place {
    /// The feed readers subscribe to, with no pages behind it.
    pub(crate) fn subscription(file: &str) -> Place {
        Place {
            file: file.to_string(),
            archived: false,
            older: None,
            newer: None,
        }
    }
}

/// Renders the channel in all three formats: `(file name, bytes)`.
pub fn render_all(channel: &Channel) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let files = &channel.files;
    Ok(vec![
        (files.rss.clone(), rss::render(channel)?),
        (files.atom.clone(), atom::render(channel)?),
        (files.json.clone(), json::render(channel)?),
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

/// The items one post contributes: itself, or one per paper. `author`
/// is the post's ([`author_of`]).
pub fn items_for(
    post: &Post,
    rendered: &Rendered,
    kind: ItemKind,
    author: Option<&Person>,
) -> Vec<Item> {
    let mut categories = post.tags.clone();
    for category in &post.categories {
        if !categories.contains(category) {
            categories.push(category.clone());
        }
    }
    // A `last_modified_at` before `date` is a slip: the post cannot change
    // before it exists, and readers would date it so.
    let updated = post.updated.clone().filter(|updated| *updated > post.date);
    match kind {
        ItemKind::Posts => vec![Item {
            id: post.id(),
            url: post.url.clone(),
            post_url: None,
            title: post.title.clone(),
            date: post.date.clone(),
            updated,
            summary: post.summary(rendered),
            content_html: rendered.html.clone(),
            categories,
            author: author.cloned(),
        }],
        ItemKind::Papers => rendered
            .papers
            .iter()
            .zip(0_i64..)
            .map(|(paper, position)| {
                // Each paper one second before the one above it: distinct
                // times (Atom wants them) that keep the post's order when a
                // reader sorts by date, and never later than the post.
                let earlier = |date: &ZonedDateTime| {
                    date.checked_sub(jiff::Span::new().seconds(position))
                        .unwrap_or_else(|_| date.clone())
                };
                Item {
                    id: format!("{}#paper-{}", post.url, paper.number),
                    url: paper.url.clone(),
                    post_url: Some(post.url_at(paper.anchor.as_deref())),
                    title: paper.title.clone(),
                    date: earlier(&post.date),
                    updated: updated.as_ref().map(earlier),
                    summary: paper.summary.clone(),
                    content_html: paper.html.clone(),
                    categories: categories.clone(),
                    author: author.cloned(),
                }
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
            quiet_since: date(20),
            title: "Daily Papers".into(),
            description: "Daily summaries".into(),
            language: "ko".into(),
            home_url: "https://e.org/".into(),
            base_url: "https://e.org/".into(),
            files: FeedFiles::default(),
            author: Person::parse("Papers Bot <papers@e.org>"),
            items: vec![
                item(25, "<p>x ]]&gt; y</p><pre><code>a ]]> b</code></pre>"),
                item(24, "<p>한글</p>"),
            ],
            hub: None,
        }
    }

    fn post(front: &str, body: &str) -> (Post, Rendered) {
        let rules = crate::post::Rules {
            site_url: "https://e.org".into(),
            zone: jiff::tz::TimeZone::get("Asia/Seoul").unwrap(),
            permalink: crate::permalink_style::DEFAULT_PERMALINK.into(),
            dates: crate::config::DateRule::Jekyll,
            site: crate::post::SiteInfo::default(),
        };
        let text =
            format!("---\ntitle: Digest\ndate: 2025-12-24 08:00:00 +09:00\n{front}---\n{body}");
        let post = crate::post::parse(
            std::path::Path::new("_posts/2025-12-24-d.md"),
            &text,
            &rules,
        )
        .unwrap();
        let rendered = post.render(&text).unwrap();
        (post, rendered)
    }

    #[test]
    fn papers_are_a_second_apart_in_order_and_point_back_to_their_heading() {
        let (post, rendered) = post(
            "last_modified_at: 2025-12-25 08:00:00 +09:00\n",
            "# 1. [A](https://arxiv.org/abs/1)\n\nOne.\n\n# 2. [B](https://arxiv.org/abs/2)\n\nTwo.\n",
        );
        let site = Person::parse("Site <s@e.org>").unwrap();
        let items = items_for(&post, &rendered, ItemKind::Papers, Some(&site));
        let times: Vec<String> = items
            .iter()
            .map(|item| {
                let updated = item.updated.as_ref().unwrap();
                format!("{} {}", item.date.strftime("%T"), updated.strftime("%d %T"))
            })
            .collect();
        assert_eq!(times, ["08:00:00 25 08:00:00", "07:59:59 25 07:59:59"]);
        assert_eq!(items[1].url, "https://arxiv.org/abs/2");
        assert_eq!(
            items[1].post_url.as_deref(),
            Some("https://e.org/2025/12/24/d.html#2-b")
        );
        assert_eq!(items[0].author, Some(site));
    }

    #[test]
    fn a_change_dated_before_the_post_is_no_change() {
        let (post, rendered) = post("last_modified_at: 2025-12-23 08:00:00 +09:00\n", "Text.\n");
        let items = items_for(&post, &rendered, ItemKind::Posts, None);
        assert_eq!(items[0].updated, None);
    }

    #[test]
    fn the_author_is_author_then_the_first_of_authors_then_the_sites() {
        let site = Person::parse("Site").unwrap();
        let data = [("ray".to_string(), "Ray Kim <ray@e.org>".to_string())];
        let name = |front: &str| author_of(&post(front, "x\n").0, &site, &data).name;
        assert_eq!(name("author: lee\nauthors: [ray]\n"), "lee");
        assert_eq!(name("authors: [ray, gom]\n"), "Ray Kim");
        assert_eq!(name("authors: \"Dao et al.\"\n"), "Site");
        assert_eq!(name(""), "Site");
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
            if name == "feed.json" {
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
    fn the_atom_summary_is_html_that_shows_the_text_as_written() {
        let mut channel = sample_channel();
        channel.items[1].summary = String::new();
        let atom = String::from_utf8(atom::render(&channel).unwrap()).unwrap();
        // Text escaped once to be HTML, then once more by the XML writer.
        assert!(
            atom.contains(
                "<summary type=\"html\">요약 &amp;amp; &amp;lt;summary&amp;gt;</summary>"
            ),
            "{atom}"
        );
        assert_eq!(atom.matches("<summary").count(), 1, "no empty summary");
    }

    #[test]
    fn updated_is_the_newest_item() {
        let channel = sample_channel();
        assert_eq!(
            crate::post::date::rfc3339(channel.updated()),
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
                !text.contains("<25>") || name == "feed.json",
                "{name} leaks raw markup in a title"
            );
        }
    }
}
