//! One recipient's email as an RFC 5322 message: `multipart/alternative`
//! with the text and HTML parts, and the headers SPEC §4 names. lettre does
//! every encoding (RFC 2047 words, quoted-printable bodies, line folding).

use lettre::address::Envelope;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{MultiPart, SinglePart};
use sha2::{Digest, Sha256};

use crate::address::Mailbox;
use crate::email::{Email, Recipient};

/// What every message of a run shares.
#[derive(Debug, Clone)]
pub struct Letterhead {
    from: lettre::message::Mailbox,
    list_id: String,
    /// The domain after `@` in Message-IDs.
    id_domain: String,
}

impl Letterhead {
    /// The sender's address (the envelope's MAIL FROM).
    pub fn sender(&self) -> String {
        self.from.email.to_string()
    }

    /// The letterhead of a site's messages: `from` as the sender, and the
    /// List-Id from the site's title and host.
    pub fn new(from: &Mailbox, site_title: &str, site_url: &str) -> Result<Letterhead, String> {
        // The config parsed it with this same parser; a refusal here is a bug.
        let address: lettre::Address = from
            .email
            .parse()
            .map_err(|err| format!("[email] from {:?}: {err}", from.email))?;
        let from = lettre::message::Mailbox::new(from.name.clone(), address);
        let host = url::Url::parse(site_url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_string))
            .unwrap_or_else(|| from.email.domain().to_string());
        let slug = crate::post::permalink::slugify(site_title).to_lowercase();
        let slug = if slug.is_empty() {
            "digest".to_string()
        } else {
            slug
        };
        Ok(Letterhead {
            id_domain: from.email.domain().to_string(),
            list_id: format!("{site_title} <{slug}.{host}>"),
            from,
        })
    }

    /// The envelope sender's address.
    pub fn from_address(&self) -> &str {
        self.from.email.as_ref()
    }

    /// The message to `recipient`, as the bytes that go on the wire.
    ///
    /// `identity` is what makes the Message-ID: the same post to the same
    /// recipient gives the same Message-ID, so a message resent after a crash
    /// is recognisable as the same message by the receiving side.
    pub fn build(
        &self,
        recipient: &Recipient,
        email: Email,
        identity: &str,
    ) -> Result<(Envelope, Vec<u8>), String> {
        let address: lettre::Address = recipient
            .email
            .parse()
            .map_err(|err| format!("{:?} is not a valid address ({err})", recipient.email))?;
        let name = (!recipient.name.is_empty()).then(|| recipient.name.clone());
        let to = lettre::message::Mailbox::new(name, address);
        let digest = Sha256::digest(format!("{identity}\0{}", recipient.email.to_lowercase()));
        let hex = digest[..16]
            .iter()
            .fold(String::with_capacity(32), |mut hex, byte| {
                use std::fmt::Write;
                let _ = write!(hex, "{byte:02x}");
                hex
            });
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject)
            .date_now()
            .message_id(Some(format!("<{hex}@{}>", self.id_domain)))
            .raw_header(header("List-Id", &self.list_id));
        if !email.unsubscribe_url.is_empty() {
            builder = builder.raw_header(header(
                "List-Unsubscribe",
                &format!("<{}>", email.unsubscribe_url),
            ));
            if email.unsubscribe_url.starts_with("https://") {
                builder = builder.raw_header(header(
                    "List-Unsubscribe-Post",
                    "List-Unsubscribe=One-Click",
                ));
            }
        }
        let message = builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(email.text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(email.html),
                    ),
            )
            .map_err(|err| format!("cannot build the message: {err}"))?;
        Ok((message.envelope().clone(), message.formatted()))
    }
}

fn header(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email {
            subject: "Daily Papers — 2025-12-24".into(),
            html: "<p>안녕하세요</p>".into(),
            text: "안녕하세요".into(),
            unsubscribe_url: "https://papers.example.org/u?e=a%40example.org".into(),
        }
    }

    #[test]
    fn headers_are_encoded_and_ids_stable_per_recipient() {
        let letterhead = Letterhead::new(
            &Mailbox::parse("Daily Papers <papers@example.org>").unwrap(),
            "Daily Papers",
            "https://papers.example.org",
        )
        .unwrap();
        let recipient = Recipient {
            email: "a@example.org".into(),
            name: "김, \"Kim\"".into(),
        };
        let (envelope, bytes) = letterhead.build(&recipient, email(), "post-1").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(envelope.to()[0].to_string(), "a@example.org");
        assert!(text.contains("Subject: Daily Papers =?utf-8?b?"), "{text}");
        assert!(
            text.contains("List-Id: Daily Papers <daily-papers.papers.example.org>"),
            "{text}"
        );
        assert!(
            text.contains("List-Unsubscribe: <https://papers.example.org/u?e=a%40example.org>")
        );
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(text.contains("multipart/alternative"));
        let id = |text: &str| {
            text.lines()
                .find(|line| line.starts_with("Message-ID:"))
                .unwrap()
                .to_string()
        };
        let (_, again) = letterhead.build(&recipient, email(), "post-1").unwrap();
        assert_eq!(id(&text), id(&String::from_utf8(again).unwrap()));
        let other = Recipient {
            email: "b@example.org".into(),
            name: String::new(),
        };
        let (_, theirs) = letterhead.build(&other, email(), "post-1").unwrap();
        assert_ne!(id(&text), id(&String::from_utf8(theirs).unwrap()));
    }
}
