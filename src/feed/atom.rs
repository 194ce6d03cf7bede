//! Atom 1.0 through `atom_syndication`: `summary` and `content` per entry.

use atom_syndication::{
    Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text, WriteConfig,
};
use jiff::ZonedDateTime;

use super::{ATOM_FILE, Channel, Item};
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

pub(super) fn render(channel: &Channel) -> Result<Vec<u8>, Error> {
    let site_author = channel.author.as_ref().map_or_else(
        || Person {
            name: channel.title.clone(),
            ..Person::default()
        },
        person,
    );
    let entries = channel.items.iter().map(entry).collect();
    let self_url = channel.self_url(ATOM_FILE);
    let feed = Feed {
        title: Text::plain(channel.title.clone()),
        id: self_url.clone(),
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
