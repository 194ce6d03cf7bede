//! `digest-feed preview`: one post's HTML email (or a week's roll-up), written to a file to open in a browser.

use super::cli::PreviewArgs;
use super::report::Report;
use crate::config::Config;
use crate::email::{Design, Recipient};
use crate::error::{self, Error};
use crate::list::subscribers;
use crate::output;
use crate::posts_folder;

/// Runs `preview`: the email as the first subscriber would get it.
pub(super) fn run(config: &Config, args: &PreviewArgs, report: Report) -> Result<(), Error> {
    let email = config.email().map_err(Error::Invalid)?;
    let (design, subscribers) = error::both(Design::load(config, email), subscribers::load(config))
        .map_err(Error::Invalid)?;
    let posts = posts_folder::published(config)?;
    let post = match &args.post {
        Some(selector) => posts_folder::select(&posts, selector)?,
        None => {
            if let Some(post) = posts.first() {
                post
            } else {
                report.result("No published post to preview.");
                return Ok(());
            }
        }
    };
    let recipient = subscribers.first().map_or_else(
        || Recipient {
            email: "reader@example.org".into(),
            name: "Reader".into(),
            token: String::new(),
        },
        |s| Recipient {
            email: s.email().to_string(),
            name: s.name().to_string(),
            token: String::new(),
        },
    );
    let html = if args.weekly {
        // The seven days up to the chosen post, as its week's roll-up holds them.
        let end = post.date.timestamp().as_second();
        let mut week = Vec::new();
        for post in posts.iter().filter(|p| {
            let at = p.date.timestamp().as_second();
            at <= end && at > end - 7 * 86_400
        }) {
            let text = posts_folder::read(&post.source)?;
            week.push((post, crate::email::render_body(post, &text)?));
        }
        let week: Vec<_> = week
            .iter()
            .map(|(post, rendered)| (*post, rendered))
            .collect();
        design.rollup_html(&week, &recipient)?
    } else {
        let text = posts_folder::read(&post.source)?;
        design.html(post, &crate::email::render_body(post, &text)?, &recipient)?
    };
    let out = args.out.clone().unwrap_or_else(|| {
        email
            .state
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join("preview.html")
    });
    output::write_atomically(&out, html.as_bytes())?;
    report.result(out.display().to_string());
    Ok(())
}
