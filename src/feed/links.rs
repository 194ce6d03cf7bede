//! Discovery: the `<link rel="alternate">` tags a blog's `<head>` names its
//! feeds with (jekyll-feed's `{% feed_meta %}`), and a page for people that
//! lists the feeds, says how to follow them, and shows the newest posts.
//! Browsers no longer style a feed (XSLT is going away), so people get HTML.

use std::fmt::Write;

use html_escape::{encode_double_quoted_attribute as attribute, encode_text as text};

use super::{ATOM_FILE, JSON_FILE, RSS_FILE};

/// One set of the three feeds: the site's, or a tag's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The feeds' title.
    pub title: String,
    /// The absolute URL of the folder they are served from, ending in `/`.
    pub base_url: String,
}

/// The three formats: MIME type, file, name for people. RSS and Atom
/// first: readers that take the first feed a page names (rss2email, and
/// others built on feedparser) cannot read JSON Feed.
const FORMATS: [(&str, &str, &str); 3] = [
    ("application/rss+xml", RSS_FILE, "RSS"),
    ("application/atom+xml", ATOM_FILE, "Atom"),
    ("application/feed+json", JSON_FILE, "JSON Feed"),
];

/// The `<link>` tags for every listed set, one per line.
pub fn tags(listed: &[Listed]) -> String {
    let mut out = String::new();
    for set in listed {
        for (mime, file, _) in FORMATS {
            let _ = writeln!(
                out,
                "<link rel=\"alternate\" type=\"{mime}\" title=\"{}\" href=\"{}\">",
                attribute(&set.title),
                attribute(&format!("{}{file}", set.base_url))
            );
        }
    }
    out
}

/// A post the page shows: title, URL, day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Newest {
    /// The title, plain text.
    pub title: String,
    /// Its absolute URL.
    pub url: String,
    /// `YYYY-MM-DD`.
    pub day: String,
}

/// What the page for people says.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// The site's title.
    pub title: &'a str,
    /// The site's home.
    pub home_url: &'a str,
    /// BCP 47 language, for `<html lang>`.
    pub language: &'a str,
    /// The site's feeds first, then each tag's.
    pub listed: &'a [Listed],
    /// The list's address, where a `subscribe` mail signs one up (what
    /// `inbox` reads), when the site has one.
    pub email: Option<&'a str>,
    /// The sign-up form (`serve`'s), when the list has one.
    pub signup: Option<&'a str>,
    /// The newest posts.
    pub newest: &'a [Newest],
}

/// The page, as HTML with no script and no outside resource.
pub fn page(page: &Page<'_>) -> String {
    let title = text(page.title);
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Follow {title}</title>\n{}</head>\n<body style=\"font-family: system-ui, sans-serif; \
         max-width: 40em; margin: 2em auto; padding: 0 1em; line-height: 1.5\">\n\
         <h1>Follow <a href=\"{}\">{title}</a></h1>\n\
         <p>Copy a feed's address into your feed reader (NetNewsWire, Feedly, Inoreader, \
         Thunderbird, …): it checks the blog for you and shows each new post. RSS and Atom \
         work in every reader (rss2email too); JSON Feed in the newer ones.</p>\n",
        attribute(page.language),
        tags(&page.listed[..page.listed.len().min(1)]),
        attribute(page.home_url),
    );
    for set in page.listed {
        let _ = write!(html, "<h2>{}</h2>\n<ul>\n", text(&set.title));
        for (_, file, name) in FORMATS {
            let url = format!("{}{file}", set.base_url);
            let _ = writeln!(
                html,
                "<li>{name}: <a href=\"{}\"><code>{}</code></a></li>",
                attribute(&url),
                text(&url)
            );
        }
        html.push_str("</ul>\n");
    }
    if page.email.is_some() || page.signup.is_some() {
        html.push_str("<h2>By email</h2>\n<p>Each new post can come to your inbox.</p>\n<ul>\n");
        if let Some(form) = page.signup {
            let _ = writeln!(
                html,
                "<li><a href=\"{}\">Sign up with your address</a>; a confirmation comes by mail.</li>",
                attribute(form)
            );
        }
        if let Some(address) = page.email {
            let _ = writeln!(
                html,
                "<li>Or write to <a href=\"mailto:{}?subject=subscribe\">{}</a> with the subject \
                 <em>subscribe</em>.</li>",
                attribute(address),
                text(address)
            );
        }
        html.push_str("</ul>\n");
    }
    if !page.newest.is_empty() {
        html.push_str("<h2>Newest posts</h2>\n<ul>\n");
        for post in page.newest {
            let _ = writeln!(
                html,
                "<li>{} <a href=\"{}\">{}</a></li>",
                text(&post.day),
                attribute(&post.url),
                text(&post.title)
            );
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> Vec<Listed> {
        vec![
            Listed {
                title: "Papers & \"More\"".into(),
                base_url: "https://e.org/blog/".into(),
            },
            Listed {
                title: "Papers — ml".into(),
                base_url: "https://e.org/blog/tags/ml/".into(),
            },
        ]
    }

    #[test]
    fn link_tags_name_every_feed_escaped() {
        let tags = tags(&listed());
        assert_eq!(tags.lines().count(), 6);
        assert_eq!(
            tags.lines().next().unwrap(),
            "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"Papers &amp; &quot;More&quot;\" href=\"https://e.org/blog/feed.xml\">"
        );
        assert!(tags.contains("href=\"https://e.org/blog/tags/ml/feed.json\""));
    }

    #[test]
    fn the_page_escapes_and_runs_nothing() {
        let newest = [Newest {
            title: "<script>alert(1)</script>".into(),
            url: "https://e.org/blog/x.html".into(),
            day: "2025-01-02".into(),
        }];
        let html = page(&Page {
            title: "Papers",
            home_url: "https://e.org/blog/",
            language: "ko",
            listed: &listed(),
            email: Some("papers@e.org"),
            signup: Some("https://e.org/list/subscribe"),
            newest: &newest,
        });
        assert!(!html.contains("<script"));
        assert!(
            html.contains("<a href=\"https://e.org/list/subscribe\">Sign up with your address</a>")
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("<html lang=\"ko\">"));
        assert!(html.contains("mailto:papers@e.org?subject=subscribe"));
        // RSS and Atom before JSON Feed, which rss2email cannot read.
        let at = |name: &str| html.find(name).unwrap();
        assert!(at("<li>RSS:") < at("<li>Atom:") && at("<li>Atom:") < at("<li>JSON Feed:"));
        // The page's own head names the site's feeds only, not every tag's.
        assert_eq!(html.matches("<link rel=\"alternate\"").count(), 3);
    }
}
