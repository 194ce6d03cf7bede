//! `mail --wait-live`: before a post is mailed, its page is fetched until it
//! is there (HTTP 200, and the page holds the post's title), so no reader
//! clicks through to a 404 while the site is still being deployed. Not live
//! in time: nothing is sent, exit 3, and the next run waits again. Once live,
//! the WebSub hub (if any) is told of the changed feeds.

use std::time::{Duration, Instant};

use super::ping;
use super::report::Report;
use crate::config::Config;
use crate::error::{Error, Transient};
use crate::post::Post;
use crate::posts_folder;
use crate::web_client::{Answer, Client};

/// How much of a page is read to find the title: a post page's `<title>`
/// and heading come early; a server sending more is not read further.
const PAGE_LIMIT: u64 = 4 * 1024 * 1024;

/// The first wait between tries, doubled after each to at most `LONGEST_WAIT`.
const FIRST_WAIT: Duration = Duration::from_secs(2);
/// The longest wait between tries: a deploy that finishes is seen within it.
const LONGEST_WAIT: Duration = Duration::from_secs(15);
/// The longest one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// What the last request is given however little time is left: a slow
/// host's answer still counts (so SECONDS may be overrun by this much).
const SHORTEST_REQUEST: Duration = Duration::from_secs(5);

/// Which posts a `mail` run is about to send: `--post`'s (or, for a test
/// send, the newest), else those the state says are owed.
pub(super) fn posts_to_check(
    config: &Config,
    selector: Option<&str>,
    test_send: bool,
) -> Result<Vec<Post>, Error> {
    let posts = posts_folder::published(config)?;
    if let Some(selector) = selector {
        return Ok(vec![posts_folder::select(&posts, selector)?.clone()]);
    }
    if test_send {
        return Ok(posts.into_iter().take(1).collect());
    }
    let next = crate::outbox::status(config)?.next;
    Ok(posts
        .into_iter()
        .filter(|post| next.iter().any(|n| n.source == post.source))
        .collect())
}

/// Waits until every post in `posts` is live, at most `seconds` in all;
/// then pings the hub, if one is set. Exit 3 (try again later) when not.
pub(super) fn wait(
    config: &Config,
    posts: &[Post],
    seconds: u64,
    report: Report,
) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    for post in posts {
        report.detail(format!(
            "waiting up to {seconds} s for {} to be live",
            post.url
        ));
        let mut pause = FIRST_WAIT;
        let mut tries = 0;
        loop {
            tries += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            let client = Client::new(left.clamp(SHORTEST_REQUEST, REQUEST_TIMEOUT));
            let not_yet = match client.get(&post.url, PAGE_LIMIT) {
                Ok(answer) => not_live(&answer, &post.title),
                Err(err) => Some(format!("no answer ({})", err.reason)),
            };
            let Some(why) = not_yet else {
                report.result(format!(
                    "{} is live ({})",
                    post.url,
                    crate::text::count(tries, "request")
                ));
                break;
            };
            report.detail(format!("{}: {why}", post.url));
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Transient(Transient::Unavailable(format!(
                    "{} is not live after {seconds} s: {why} (last of {}); nothing was sent. \
                     Run `digest-feed mail --wait-live` again once the site is deployed",
                    post.url,
                    crate::text::count(tries, "request")
                ))));
            }
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(LONGEST_WAIT);
        }
    }
    if let Some(hub) = &config.feed.websub_hub
        && !posts.is_empty()
    {
        match ping::ping_changed(config, hub, report) {
            Ok(pinged) if pinged.told > 0 => report.result(format!(
                "Told {hub} of {}",
                crate::text::count(pinged.told, "changed feed")
            )),
            Ok(_) => {}
            Err(err) => report.warning(format!("cannot ping the WebSub hub: {err}")),
        }
    }
    Ok(())
}

/// Why `answer` is not the live page of the post titled `title`; `None` when it is.
fn not_live(answer: &Answer, title: &str) -> Option<String> {
    if answer.status != 200 {
        return Some(format!("HTTP {}", answer.status));
    }
    let page = collapse(&html_escape::decode_html_entities(&answer.body));
    if page.contains(&collapse(title)) {
        None
    } else {
        Some(format!(
            "HTTP 200, but the page does not hold the title {title:?} yet"
        ))
    }
}

/// Runs of whitespace as one space: a title wrapped over lines in the
/// page's HTML is still the title.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.into(),
        }
    }

    #[test]
    fn live_is_200_with_the_title_unescaped() {
        let title = "Papers & \"Notes\" — <Dec 24>";
        let page = "<title>Papers &amp; &quot;Notes&quot;\n  &mdash; &lt;Dec 24&gt;</title>";
        assert_eq!(not_live(&answer(200, page), title), None);
        assert_eq!(not_live(&answer(404, page), title), Some("HTTP 404".into()));
        let stale = not_live(&answer(200, "<title>Yesterday</title>"), title).unwrap();
        assert!(stale.contains("does not hold the title"), "{stale}");
    }
}
