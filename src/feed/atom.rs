//! Atom 1.0 through `atom_syndication`: `summary` and `content` per entry.

use atom_syndication::extension::Extension;
use atom_syndication::{
    Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text, WriteConfig,
};
use jiff::ZonedDateTime;

use super::{Channel, Item, Place};
use crate::error::Error;

// atom_syndication speaks chrono; this is the one place dates cross over.
fn chrono_date(date: &ZonedDateTime) -> FixedDateTime {
    let offset = chrono::FixedOffset::east_opt(date.offset().seconds())
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset is valid"));
    let utc = chrono::DateTime::from_timestamp(
        date.timestamp().as_second(),
        // Negative only before 1970, where a post never has a fraction of a second.
        u32::try_from(date.timestamp().subsec_nanosecond()).unwrap_or(0),
    )
    .unwrap_or_default();
    utc.with_timezone(&offset)
}

fn link(href: &str, rel: &str, mime_type: Option<&str>) -> Link {
    Link {
        href: href.into(),
        rel: rel.into(),
        mime_type: mime_type.map(Into::into),
        ..Link::default()
    }
}

fn person(person: &super::Person) -> Person {
    Person {
        name: person.name.clone(),
        email: person.email.clone(),
        ..Person::default()
    }
}

/// One item as an Atom entry.
fn entry(item: &Item) -> Entry {
    let mut links = vec![link(&item.url, "alternate", Some("text/html"))];
    if let Some(post_url) = &item.post_url {
        links.push(link(post_url, "related", Some("text/html")));
    }
    Entry {
        title: Text::plain(item.title.clone()),
        id: item.id.clone(),
        updated: chrono_date(item.updated.as_ref().unwrap_or(&item.date)),
        published: Some(chrono_date(&item.date)),
        authors: item.author.iter().map(person).collect(),
        links,
        categories: item
            .categories
            .iter()
            .map(|term| Category {
                term: term.clone(),
                ..Category::default()
            })
            .collect(),
        // HTML, as jekyll-feed declares it: a summary of unknown type is
        // read as text, and rss2email mails such a summary in place of the
        // content. The summary is text, so escaped once to be HTML; none
        // when empty, as jekyll-feed writes none.
        summary: (!item.summary.trim().is_empty())
            .then(|| Text::html(html_escape::encode_text(&item.summary))),
        content: Some(Content {
            value: Some(item.content_html.clone()),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

/// RFC 5005's namespace, for `<fh:archive/>`.
const HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";

/// The links `place` adds: the hub (W3C WebSub) on the feed readers
/// subscribe to; `prev-archive`, `next-archive`, `current` and
/// `<fh:archive/>` (RFC 5005) on the pages. An archive page names no
/// generator version, so an upgrade leaves its bytes as they were.
fn paging(channel: &Channel, place: &Place, feed: &mut Feed) {
    let atom = Some("application/atom+xml");
    if let Some(hub) = channel.hub.as_ref().filter(|_| !place.archived) {
        feed.links.push(link(hub, "hub", None));
    }
    if let Some(older) = &place.older {
        feed.links
            .push(link(&channel.self_url(older), "prev-archive", atom));
    }
    if let Some(newer) = &place.newer {
        feed.links
            .push(link(&channel.self_url(newer), "next-archive", atom));
    }
    if place.archived {
        feed.links.push(link(
            &channel.self_url(&channel.files.atom),
            "current",
            atom,
        ));
        feed.generator = None;
        feed.namespaces.insert("fh".into(), HISTORY_NS.into());
        let archive = Extension {
            name: "fh:archive".into(),
            ..Extension::default()
        };
        let by_name = std::iter::once(("archive".to_string(), vec![archive])).collect();
        feed.extensions.insert("fh".into(), by_name);
    }
}

pub(super) fn render(channel: &Channel) -> Result<Vec<u8>, Error> {
    render_at(channel, &Place::subscription(&channel.files.atom))
}

/// The Atom document at `place`: the feed readers subscribe to, or an archive page.
pub(super) fn render_at(channel: &Channel, place: &Place) -> Result<Vec<u8>, Error> {
    let site_author = channel.author.as_ref().map_or_else(
        || Person {
            name: channel.title.clone(),
            ..Person::default()
        },
        person,
    );
    let entries = channel.items.iter().map(entry).collect();
    let self_url = channel.self_url(&place.file);
    let mut feed = Feed {
        title: Text::plain(channel.title.clone()),
        // Every page of one feed is that feed: the same id as atom.xml.
        id: channel.self_url(&channel.files.atom),
        updated: chrono_date(channel.updated()),
        authors: vec![site_author],
        links: vec![
            link(&channel.home_url, "alternate", Some("text/html")),
            link(&self_url, "self", Some("application/atom+xml")),
        ],
        subtitle: (!channel.description.is_empty())
            .then(|| Text::plain(channel.description.clone())),
        generator: Some(Generator {
            value: "digest-feed".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
            ..Generator::default()
        }),
        lang: Some(channel.language.clone()),
        entries,
        ..Feed::default()
    };
    paging(channel, place, &mut feed);
    let config = WriteConfig {
        write_document_declaration: true,
        indent_size: Some(2),
    };
    let mut bytes = Vec::new();
    feed.write_with_config(&mut bytes, config)
        .map_err(|err| Error::render("Atom feed", err))?;
    bytes.push(b'\n');
    Ok(super::xml_chars_only(bytes))
}
