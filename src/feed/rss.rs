//! RSS 2.0 through the `rss` crate: summary in `description`, full HTML in
//! `content:encoded`, `atom:link rel="self"`.

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel as RssChannel, Guid, Item as RssItem};

use super::{Channel, Person};
use crate::error::Error;
use crate::post::date::rfc2822;

pub(super) fn render(channel: &Channel) -> Result<Vec<u8>, Error> {
    let items = channel
        .items
        .iter()
        .map(|item| RssItem {
            title: Some(item.title.clone()),
            link: Some(item.url.clone()),
            // Readers render an RSS description as HTML; the summary is text.
            description: Some(html_escape::encode_text(&item.summary).into_owned()),
            content: Some(item.content_html.clone()),
            pub_date: Some(rfc2822(&item.date)),
            guid: Some(Guid {
                value: item.id.clone(),
                permalink: item.id == item.url,
            }),
            categories: item
                .categories
                .iter()
                .map(|name| Category {
                    name: name.clone(),
                    domain: None,
                })
                .collect(),
            comments: item.post_url.clone(),
            // RSS 2.0's `author` is an address; a name alone goes in `dc:creator`.
            author: item.author.as_ref().and_then(mailbox),
            dublin_core_ext: item
                .author
                .as_ref()
                .filter(|person| person.email.is_none())
                .map(|person| DublinCoreExtension {
                    creators: vec![person.name.clone()],
                    ..DublinCoreExtension::default()
                }),
            ..RssItem::default()
        })
        .collect();
    let managing_editor = channel.author.as_ref().and_then(mailbox);
    let rss = RssChannel {
        title: channel.title.clone(),
        link: channel.home_url.clone(),
        description: channel.description.clone(),
        language: Some(channel.language.clone()),
        managing_editor,
        last_build_date: Some(rfc2822(channel.updated())),
        pub_date: Some(rfc2822(channel.updated())),
        generator: Some(format!("digest-feed {}", env!("CARGO_PKG_VERSION"))),
        atom_ext: Some(AtomExtension {
            links: std::iter::once(Link {
                href: channel.self_url(&channel.files.rss),
                rel: "self".into(),
                mime_type: Some("application/rss+xml".into()),
                ..Link::default()
            })
            .chain(channel.hub.iter().map(|hub| Link {
                href: hub.clone(),
                rel: "hub".into(),
                ..Link::default()
            }))
            .collect(),
        }),
        items,
        ..RssChannel::default()
    };
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail for I/O reasons, and every string the rss
    // crate writes is escaped by it; a failure here would be a bug in it,
    // reported rather than written as an empty feed.
    rss.pretty_write_to(&mut bytes, b' ', 2)
        .map_err(|err| Error::render("RSS feed", err))?;
    bytes.push(b'\n');
    Ok(super::xml_chars_only(bytes))
}

/// A person as RSS 2.0 writes an address: `email (Name)`.
fn mailbox(person: &Person) -> Option<String> {
    let email = person.email.as_ref()?;
    Some(if person.name == *email {
        email.clone()
    } else {
        format!("{email} ({})", person.name)
    })
}
