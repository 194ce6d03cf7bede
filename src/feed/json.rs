//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>) through `serde_json`.

use serde::Serialize;

use super::{Channel, Place};
use crate::error::Error;
use crate::post::date::rfc3339;

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    language: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
    /// The next older page (JSON Feed's paging), when archived.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    items: Vec<JsonItem<'a>>,
}

/// A WebSub hub, as JSON Feed 1.1 names one.
#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    /// The item's page on the site (a paper's: its post, at its heading).
    url: &'a str,
    /// Where the item links off the site (a paper's own page).
    #[serde(skip_serializing_if = "Option::is_none")]
    external_url: Option<&'a str>,
    title: &'a str,
    content_html: &'a str,
    summary: &'a str,
    date_published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_modified: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
}

pub(super) fn render(channel: &Channel) -> Result<Vec<u8>, Error> {
    render_at(channel, &Place::subscription(&channel.files.json))
}

/// The JSON Feed at `place`: `feed_url` is always feed.json's, the feed
/// every page belongs to; only that one names the hub.
pub(super) fn render_at(channel: &Channel, place: &Place) -> Result<Vec<u8>, Error> {
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &channel.title,
        home_page_url: &channel.home_url,
        feed_url: channel.self_url(&channel.files.json),
        description: &channel.description,
        language: &channel.language,
        authors: channel
            .author
            .iter()
            .map(|person| Author { name: &person.name })
            .collect(),
        next_url: place.older.as_ref().map(|file| channel.self_url(file)),
        hubs: channel
            .hub
            .iter()
            .filter(|_| !place.archived)
            .map(|url| Hub {
                kind: "WebSub",
                url,
            })
            .collect(),
        items: channel
            .items
            .iter()
            .map(|item| JsonItem {
                id: &item.id,
                url: item.post_url.as_deref().unwrap_or(&item.url),
                external_url: item.post_url.as_ref().map(|_| item.url.as_str()),
                title: &item.title,
                content_html: &item.content_html,
                summary: &item.summary,
                date_published: rfc3339(&item.date),
                date_modified: item.updated.as_ref().map(rfc3339),
                tags: item.categories.iter().map(String::as_str).collect(),
                authors: item
                    .author
                    .iter()
                    .map(|person| Author { name: &person.name })
                    .collect(),
            })
            .collect(),
    };
    let mut bytes =
        serde_json::to_vec_pretty(&feed).map_err(|err| Error::render("JSON Feed", err))?;
    bytes.push(b'\n');
    Ok(bytes)
}
