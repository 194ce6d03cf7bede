//! `digest-feed links`: the `<link rel="alternate">` tags of the feeds (and
//! tag feeds) for the blog's `<head>`; and the page for people `build` writes.

use std::path::Path;

use super::build::{feed_base, posts_by_tag};
use super::report::Report;
use crate::config::{Config, ItemKind};
use crate::error::Error;
use crate::feed::links::{self, Listed, Newest, Page};
use crate::post::Post;
use crate::posts_folder;

/// The page for people, beside the feeds.
pub(super) const PAGE_FILE: &str = "feeds.html";

/// A marker in the page, so a later build knows the file is its own to replace.
const GENERATOR: &str = "<meta name=\"generator\" content=\"digest-feed\">";

/// How many posts the page shows.
pub(super) const NEWEST: usize = 10;

/// Runs `links`.
pub(super) fn run(config: &Config, report: Report) -> Result<(), Error> {
    let posts = posts_folder::published(config)?;
    let listed = listed(config, &posts, report);
    report.result(links::tags(&listed).trim_end());
    if let Some(advice) = jekyll_feed_advice(config) {
        report.warning(advice);
    }
    Ok(())
}

/// What a blog that still loads jekyll-feed should change, for `check` and
/// `links`: digest-feed keeps jekyll-feed's Atom feed where it was, but
/// jekyll-feed's `{% feed_meta %}` would go on naming it in every page.
pub(super) fn jekyll_feed_advice(config: &Config) -> Option<String> {
    let file = config.feed.jekyll_feed_plugin.as_ref()?;
    let files = &config.feed.files;
    Some(format!(
        "{}: jekyll-feed is in `plugins`, and digest-feed now writes the feeds: Atom at {} as \
         jekyll-feed did, so its readers keep their subscription, RSS at {}, JSON Feed at {}. Remove \
         jekyll-feed from `plugins` (and from the Gemfile), replace `{{% feed_meta %}}` in the layout's \
         <head> with `{{% include digest-feed-links.html %}}` (or the lines `digest-feed links` prints), \
         and put `atom = \"{}\"` and `rss = \"{}\"` under [feed] in {} to keep these names once \
         jekyll-feed is gone",
        file.display(),
        files.atom,
        files.rss,
        files.json,
        files.atom,
        files.rss,
        config.path.display()
    ))
}

/// The site's feeds, then each tag's when `per_tag` is on.
fn listed(config: &Config, posts: &[Post], report: Report) -> Vec<Listed> {
    let mut listed = vec![Listed {
        title: config.site.title.clone(),
        base_url: feed_base(config, ""),
        files: config.feed.files.clone(),
    }];
    if config.feed.per_tag {
        let mut has_papers = std::collections::HashMap::new();
        for (slug, (tag, tagged)) in posts_by_tag(posts, report) {
            // `build` writes no feed for a tag whose posts have no papers.
            if config.feed.items == ItemKind::Papers
                && !tagged.iter().any(|post| {
                    *has_papers
                        .entry(post.source.clone())
                        .or_insert_with(|| shows_papers(post))
                })
            {
                continue;
            }
            listed.push(Listed {
                title: format!("{} — {tag}", config.site.title),
                base_url: feed_base(config, &format!("tags/{slug}/")),
                files: config.feed.files.clone(),
            });
        }
    }
    listed
}

/// Whether a post renders with papers; one that fails to render has none
/// (`build` says why).
fn shows_papers(post: &Post) -> bool {
    posts_folder::read(&post.source)
        .and_then(|text| post.render(&text))
        .is_ok_and(|rendered| !rendered.papers.is_empty())
}

/// Whether the page at `path` may be written: absent, or written by us.
pub(super) fn is_ours(path: &Path) -> bool {
    match std::fs::read_to_string(path) {
        Ok(text) => text.contains(GENERATOR),
        Err(err) => err.kind() == std::io::ErrorKind::NotFound,
    }
}

/// The page for people: the feeds, how to follow them, the newest posts.
pub(super) fn page(config: &Config, listed: &[Listed], posts: &[Post]) -> String {
    let newest: Vec<Newest> = posts
        .iter()
        .take(NEWEST)
        .map(|post| Newest {
            title: post.title.clone(),
            url: post.url.clone(),
            day: post.date.strftime("%Y-%m-%d").to_string(),
        })
        .collect();
    // The list's own address (which `inbox` reads), never the sender's
    // (`[email] from` is often a no-reply, or the placeholder `init` wrote);
    // and `serve`'s form.
    let list = config.list.as_ref();
    let address = list
        .and_then(|list| list.address.as_deref())
        .filter(|_| config.inbox.is_some());
    let signup = list
        .and_then(|list| list.public_url.as_deref())
        .map(|url| format!("{}/subscribe", url.trim_end_matches('/')));
    let html = links::page(&Page {
        title: &config.site.title,
        home_url: &format!("{}/", config.site.url),
        language: &config.site.language,
        listed,
        email: address,
        signup: signup.as_deref(),
        newest: &newest,
    });
    html.replacen(
        "<meta charset=\"utf-8\">",
        &format!("<meta charset=\"utf-8\">\n{GENERATOR}"),
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_the_lists_address_and_form_never_the_sender() {
        let text = "[site]\nurl = \"https://e.org\"\ntitle = \"Papers\"\n\
                    [email]\nfrom = \"Papers <no-reply@e.org>\"\n\
                    [[subscribers]]\nemail = \"a@e.org\"\n\
                    [list]\npublic_url = \"https://e.org/list\"\naddress = \"list@e.org\"\n\
                    [inbox]\nmaildir = \"Maildir\"\n";
        let config = Config::parse(text, Path::new("site/config.toml")).unwrap();
        let html = page(&config, &[], &[]);
        assert!(
            html.contains("mailto:list@e.org?subject=subscribe"),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://e.org/list/subscribe\""),
            "{html}"
        );
        assert!(!html.contains("no-reply@e.org"), "{html}");
    }
}
