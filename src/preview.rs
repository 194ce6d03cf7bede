//! `digest-feed preview`: one post's HTML email, written to a file to open in a browser.

use crate::cli::PreviewArgs;
use crate::config::Config;
use crate::email::Recipient;
use crate::error::Error;
use crate::mail;
use crate::output;
use crate::report::Report;

/// Runs `preview`: the email as the first subscriber would get it.
pub fn run(config: &Config, args: &PreviewArgs, report: Report) -> Result<(), Error> {
    let setup = mail::setup(config).map_err(Error::Invalid)?;
    let posts = mail::published_posts(config, None)?;
    let post = match &args.post {
        Some(selector) => mail::select(&posts, selector)?,
        None => match posts.first() {
            Some(post) => post,
            None => {
                report.result("No published post to preview.");
                return Ok(());
            }
        },
    };
    let recipient = setup
        .subscribers
        .first()
        .map(|s| Recipient {
            email: s.email.clone(),
            name: s.name.clone(),
        })
        .unwrap_or_else(|| Recipient {
            email: "reader@example.org".into(),
            name: "Reader".into(),
        });
    let (_, prepared) = mail::prepare(&setup, post)?;
    let email = setup
        .templates
        .personalise(&prepared, &recipient, &setup.sources)?;
    let out = args.out.clone().unwrap_or_else(|| {
        setup
            .state_path
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join("preview.html")
    });
    output::write_atomically(&out, email.html.as_bytes())?;
    report.result(out.display().to_string());
    Ok(())
}
