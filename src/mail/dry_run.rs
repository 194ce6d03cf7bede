//! `mail --dry-run`: every message rendered exactly as it would be sent,
//! one line each, optionally written as `.eml` files; nothing connects and
//! nothing is recorded.

use std::path::Path;

use super::plan::Delivery;
use super::{Observer, Setup, recipient, warn_if_clipped};
use crate::email::Recipient;
use crate::error::{Error, Location, Problem};
use crate::output;
use crate::text;

/// Renders every message of `plan`, byte for byte as the send would (Date,
/// boundary and DKIM timestamp aside): `salt` is the send's Message-ID salt.
pub(super) fn run(
    setup: &Setup,
    plan: &[Delivery],
    eml_dir: Option<&Path>,
    salt: &str,
    observer: &dyn Observer,
) -> Result<(), Error> {
    let mut count = 0;
    let mut bytes_total = 0;
    for delivery in plan {
        let post = delivery.post;
        let text = crate::posts_folder::read(&post.source)?;
        let prepared = setup.design.prepare(post, &post.render(&text)?)?;
        observer.result(&format!(
            "{}: {} to {}{}",
            post.source.display(),
            prepared.title(),
            text::count(delivery.recipients.len(), "recipient"),
            super::skipped_note(delivery.not_wanted)
        ));
        for (index, subscriber) in delivery.recipients.iter().enumerate() {
            let recipient = &recipient(subscriber, &setup.letterhead);
            let email = setup.design.personalise(&prepared, recipient)?;
            if index == 0 {
                warn_if_clipped(&email, post, observer);
            }
            let subject = email.subject.clone();
            let (_, bytes) = setup
                .letterhead
                .build(recipient, email, &format!("{}{salt}", post.url))
                .map_err(|message| Problem::new(Location::file(&post.source), message))?;
            observer.result(&format!(
                "  would send to {}: {:?} ({})",
                mailbox_text(recipient),
                subject,
                text::size(bytes.len())
            ));
            if let Some(dir) = eml_dir {
                let name = format!(
                    "{}-{}.eml",
                    post.date.strftime("%Y-%m-%d"),
                    file_safe(&recipient.email)
                );
                output::write_atomically(&dir.join(name), &bytes)?;
            }
            count += 1;
            bytes_total += bytes.len();
        }
    }
    observer.result(&format!(
        "Dry run: {}, {} in all; nothing was sent or recorded{}",
        text::count(count, "message"),
        text::size(bytes_total),
        eml_dir.map_or(String::new(), |dir| format!(
            "; .eml files in {}",
            dir.display()
        ))
    ));
    Ok(())
}

fn mailbox_text(recipient: &Recipient) -> String {
    if recipient.name.is_empty() {
        recipient.email.clone()
    } else {
        format!("{} <{}>", recipient.name, recipient.email)
    }
}

/// An address as a file name: letters, digits, `@`, `.`, `-`, `_`, `+` kept.
fn file_safe(address: &str) -> String {
    address
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@.-_+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
