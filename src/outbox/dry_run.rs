//! `mail --dry-run`: every message of the prepared plan built exactly as
//! `mail` would send it (its bytes from `mail`'s letterhead), one line
//! each, optionally written here as `.eml` files through `output`; nothing
//! connects and nothing is recorded.

use std::path::Path;

use super::Chosen;
use crate::email::Recipient;
use crate::error::Error;
use crate::mail::{self, Observer, Setup};
use crate::output;
use crate::text;

/// Renders every message of `plan`, byte for byte as the send would (Date
/// and DKIM timestamp aside, and the boundary where templates transform a
/// value), and writes each to `eml_dir` if given.
pub(super) fn run(
    setup: &Setup,
    plan: &[Chosen<'_>],
    eml_dir: Option<&Path>,
    observer: &dyn Observer,
) -> Result<(), Error> {
    let mut count = 0;
    let mut bytes_total = 0;
    for Chosen { item, day } in plan {
        observer.result(&format!(
            "{}: {} to {}{}",
            item.label,
            item.prepared.title(),
            text::count(item.recipients.len(), "recipient"),
            item.note
        ));
        if let Some(first) = item.recipients.iter().next() {
            let (_, email) = setup.personalise(&item.prepared, first)?;
            mail::warn_if_clipped(&email, &item.label, observer);
        }
        let letters = setup.letters(&item.prepared, &item.identity);
        // One buffer for every message: each is written over the last.
        let mut bytes = Vec::new();
        for subscriber in item.recipients.iter() {
            let (recipient, subject) = match setup.build(&letters, subscriber, &mut bytes)? {
                Ok(built) => built,
                Err(message) => {
                    // This address only: `check` names it, the rest still go.
                    observer.warning(&format!(
                        "{}: skipped {}: {message}",
                        item.label,
                        subscriber.email()
                    ));
                    continue;
                }
            };
            observer.result(&format!(
                "  would send to {}: {:?} ({})",
                mailbox_text(&recipient),
                subject,
                text::size(bytes.len())
            ));
            if let Some(dir) = eml_dir {
                output::write_atomically(&dir.join(eml_name(day, &recipient.email)), &bytes)?;
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

/// `<date>-<address>.eml` when the address is made only of letters, digits,
/// `@`, `.`, `-`, `_`, `+` and fits a file name; else those characters of it
/// (others as `_`, at most 64) then `~` and 16 hex digits of its SHA-256, so
/// that `ü@x` and `ö@x`, or a 300-byte address, each get a file of their own.
fn eml_name(date: &str, address: &str) -> String {
    let safe_char = |c: char| c.is_ascii_alphanumeric() || "@.-_+".contains(c);
    if address.chars().all(safe_char) && address.len() <= 200 {
        return format!("{date}-{address}.eml");
    }
    let safe: String = address
        .chars()
        .map(|c| if safe_char(c) { c } else { '_' })
        .take(64)
        .collect();
    let digest = ring::digest::digest(&ring::digest::SHA256, address.as_bytes());
    let hex = digest.as_ref()[..8]
        .iter()
        .fold(String::with_capacity(16), |mut hex, byte| {
            use std::fmt::Write;
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    format!("{date}-{safe}~{hex}.eml")
}

#[cfg(test)]
mod tests {
    use super::eml_name;

    #[test]
    fn every_address_gets_its_own_file_name() {
        assert_eq!(
            eml_name("2025-12-24", "a.b+c@e.org"),
            "2025-12-24-a.b+c@e.org.eml"
        );
        let names: Vec<String> = ["ü@e.org", "ö@e.org", "_@e.org", "?@e.org"]
            .iter()
            .map(|address| eml_name("2025-12-24", address))
            .collect();
        let unique: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        let long = format!("{}@e.org", "x".repeat(300));
        assert!(eml_name("2025-12-24", &long).len() < 100);
    }
}
