//! One recipient's email as an RFC 5322 message: `multipart/alternative`
//! with the text and HTML parts, and the headers SPEC §4 names, DKIM-signed
//! when `[email.dkim]` is set. lettre does the MIME and the encoding (RFC
//! 2047 words, each part in base64 or quoted-printable, whichever lettre
//! finds shorter: base64 for Korean text), email-encoding (lettre's own
//! encoder) the List-Id's phrase.
//!
//! Every header is valid in any language: a domain goes out in its ASCII
//! (punycode) form wherever a header or the envelope needs one (From, To,
//! Message-ID, List-Id, `mailto:`), a URI is ASCII (punycode host,
//! percent-encoded path), and only phrases (names, the Subject, List-Id's
//! description) are RFC 2047 encoded words.

use lettre::address::Envelope;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{MultiPart, SinglePart};

use super::dkim::Signer;
use crate::address::{Mailbox, ascii_domain};
use crate::config::{Dkim, ListSettings};
use crate::email::{Email, Recipient};
use crate::list::token::{Purpose, Secret};

/// What every message of a run shares.
#[derive(Debug)]
pub struct Letterhead {
    from: lettre::message::Mailbox,
    /// The List-Id header as it goes on the wire: `phrase <id>`.
    list_id: HeaderValue,
    /// The domain after `@` in Message-IDs, ASCII.
    id_domain: String,
    /// The run's DKIM signer, made once.
    signer: Option<Signer>,
    /// `[list]`: its key and addresses, for tokens, the mailto and VERP.
    list: Option<ListHeads>,
}

/// What `[list]` adds to each message.
#[derive(Debug)]
struct ListHeads {
    secret: Secret,
    /// Where unsubscribe mails go: `mailto:` it with the token.
    address: Option<String>,
    /// The envelope sender, tagged per recipient: `bounces+TOKEN@example.org`.
    return_path: Option<String>,
}

impl Letterhead {
    /// The sender's address (the envelope's MAIL FROM).
    pub fn sender(&self) -> String {
        self.from.email.to_string()
    }

    /// The letterhead of a site's messages: `from` as the sender, the
    /// List-Id from the site's title and host, and `dkim`'s signer.
    pub fn new(
        from: &Mailbox,
        site_title: &str,
        site_url: &str,
        dkim: Option<&Dkim>,
    ) -> Result<Letterhead, String> {
        // The config parsed it with this same parser and checked its domain;
        // a refusal here is a bug.
        let address = ascii_address(&from.email)
            .map_err(|err| format!("[email] from {:?}: {err}", from.email))?;
        let from = lettre::message::Mailbox::new(from.name.clone(), address);
        let signer = dkim.map(Signer::new).transpose()?;
        Ok(Letterhead {
            id_domain: from.email.domain().to_string(),
            list_id: list_id(site_title, site_url, from.email.domain()),
            signer,
            from,
            list: None,
        })
    }

    /// The same letterhead for a list: every message carries its
    /// recipient's tokens, signed with `secret`.
    #[must_use]
    pub fn with_list(mut self, list: &ListSettings, secret: Secret) -> Letterhead {
        self.list = Some(ListHeads {
            secret,
            address: list.address.clone(),
            return_path: list.return_path.clone(),
        });
        self
    }

    /// The fingerprint of the key the list's links are signed with.
    pub fn key_id(&self) -> Option<String> {
        self.list.as_ref().map(|list| list.secret.id())
    }

    /// `email`'s unsubscribe token; empty without a list.
    pub fn token(&self, email: &str) -> String {
        self.list
            .as_ref()
            .map(|list| list.secret.token(Purpose::Unsubscribe, email))
            .unwrap_or_default()
    }

    /// `List-Unsubscribe`'s targets: the configured one (the one-click
    /// https URL with a list), then the list's mailto with the token.
    fn unsubscribe_targets(&self, recipient: &Recipient, configured: &str) -> Vec<String> {
        let mailto = self.list.as_ref().and_then(|list| {
            let address = list.address.as_ref()?;
            (!recipient.token.is_empty())
                .then(|| format!("mailto:{address}?subject=unsubscribe%20{}", recipient.token))
        });
        let mut targets: Vec<String> =
            [ascii_uri(configured), mailto.as_deref().and_then(ascii_uri)]
                .into_iter()
                .flatten()
                .collect();
        targets.dedup();
        targets
    }

    /// The envelope: to the recipient, from the list's VERP address when
    /// `[list] return_path` is set, so that a bounce names whom it is about.
    fn envelope(&self, envelope: Envelope, recipient: &Recipient) -> Result<Envelope, String> {
        let Some((list, return_path)) = self
            .list
            .as_ref()
            .and_then(|list| Some((list, list.return_path.as_ref()?)))
        else {
            return Ok(envelope);
        };
        let (user, domain) = return_path.rsplit_once('@').unwrap_or((return_path, ""));
        let tag = list.secret.token(Purpose::Bounce, &recipient.email);
        let verp = ascii_address(&format!("{user}+{tag}@{domain}"))
            .map_err(|err| format!("[list] return_path {return_path:?}: {err}"))?;
        Envelope::new(Some(verp), envelope.to().to_vec()).map_err(|err| err.to_string())
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
        self.build_with(recipient, email, identity, part_body)
    }

    /// [`Letterhead::build`] with `body` making each part's encoded body
    /// (a test passes lettre's own, whole, to compare the bytes).
    fn build_with(
        &self,
        recipient: &Recipient,
        email: Email,
        identity: &str,
        body: fn(String, Part) -> lettre::message::Body,
    ) -> Result<(Envelope, Vec<u8>), String> {
        let address = ascii_address(&recipient.email)
            .map_err(|err| format!("{:?} is not a valid address ({err})", recipient.email))?;
        // Cleaned here as well as on the way in: no name, however it was
        // stored, can break the To header (lettre would panic on a line break).
        let name = crate::address::display_name(&recipient.name);
        let name = (!name.is_empty()).then_some(name);
        let to = lettre::message::Mailbox::new(name, address);
        let digest = sha256(&format!("{identity}\0{}", recipient.email.to_lowercase()));
        let hex = hex(&digest.as_ref()[..16]);
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject)
            .date_now()
            .message_id(Some(format!("<{hex}@{}>", self.id_domain)))
            .raw_header(self.list_id.clone());
        let targets = self.unsubscribe_targets(recipient, &email.unsubscribe_url);
        if !targets.is_empty() {
            let value: Vec<String> = targets.iter().map(|target| format!("<{target}>")).collect();
            builder = builder.raw_header(header("List-Unsubscribe", &value.join(", ")));
            // RFC 8058 wants https; config allows http only for a loopback host (a test).
            if targets.iter().any(|target| target.starts_with("http")) {
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
                            .body(body(email.text, Part::Text)),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(body(email.html, Part::Html)),
                    ),
            )
            .map_err(|err| format!("cannot build the message: {err}"))?;
        let envelope = self.envelope(message.envelope().clone(), recipient)?;
        let bytes = message.formatted();
        match &self.signer {
            Some(signer) => Ok((envelope, signer.sign(&bytes)?)),
            None => Ok((envelope, bytes)),
        }
    }
}

/// Which of a message's two parts a body is: each keeps its own memory.
#[derive(Debug, Clone, Copy)]
enum Part {
    Text = 0,
    Html = 1,
}

/// A part's body as lettre's `Body::new` makes it (email-encoding's
/// chooser picks 7bit, quoted-printable or base64; the body goes in it),
/// from what the same thread made of the body before.
///
/// A post's body is the same for every recipient but for the few lines
/// that hold their values (name, address, unsubscribe link), and both the
/// chooser's figures and quoted-printable are line by line: a line's
/// encoding depends only on that line (the encoder starts afresh after each
/// CRLF). So a line equal to the same line of the body made before is not
/// scanned or encoded again: its figures and its encoded bytes are copied,
/// and only the personal lines are worked out. The bytes are those of
/// `Body::new` (unit tests compare); base64, where a value shifts every
/// later byte, is encoded whole.
fn part_body(text: String, part: Part) -> lettre::message::Body {
    let text = crate::text::crlf(text);
    REMEMBERED.with_borrow_mut(|memory| memory[part as usize].body(text))
}

thread_local! {
    /// Each thread's last bodies of each part (the workers build messages
    /// in parallel, each from its own memory).
    static REMEMBERED: std::cell::RefCell<[Remembered; 2]> =
        std::cell::RefCell::new([Remembered::default(), Remembered::default()]);
}

/// Bodies recently made, line by line: at most [`Remembered::KEPT`], so
/// that recipients with and without a name (whose bodies may differ in
/// their number of lines) each find theirs.
#[derive(Debug, Default)]
struct Remembered {
    bodies: Vec<Lines>,
}

/// One body with where each line ends (after its LF), each line's figures
/// for the chooser, and its quoted-printable encoding when that was chosen.
#[derive(Debug)]
struct Lines {
    plain: String,
    plain_ends: Vec<usize>,
    figures: Vec<Figures>,
    /// The encoded body and where each line's encoding ends.
    encoded: Option<(Vec<u8>, Vec<usize>)>,
}

/// What the chooser counts in one line.
#[derive(Debug, Clone, Copy)]
struct Figures {
    ascii: bool,
    /// Bytes quoted-printable escapes, as the chooser counts them.
    escaped: usize,
}

impl Figures {
    fn of(line: &[u8]) -> Figures {
        Figures {
            ascii: line.is_ascii(),
            escaped: line
                .iter()
                .filter(|&&byte| !matches!(byte, b'\t' | b' '..=b'~'))
                .count(),
        }
    }
}

impl Lines {
    /// Where line `index` starts and ends in `ends`.
    fn range(ends: &[usize], index: usize) -> std::ops::Range<usize> {
        index.checked_sub(1).map_or(0, |before| ends[before])..ends[index]
    }

    /// Line `index`, plain.
    fn line(&self, index: usize) -> Option<&[u8]> {
        (index < self.plain_ends.len())
            .then(|| &self.plain.as_bytes()[Self::range(&self.plain_ends, index)])
    }

    /// Line `index`, encoded (when this body was quoted-printable).
    fn encoded(&self, index: usize) -> Option<&[u8]> {
        let (encoded, ends) = self.encoded.as_ref()?;
        (index < ends.len()).then(|| &encoded[Self::range(ends, index)])
    }
}

impl Remembered {
    const KEPT: usize = 2;

    /// `text` (CRLF line ends) as lettre's `Body::new(text)`.
    fn body(&mut self, text: String) -> lettre::message::Body {
        use email_encoding::body::Encoding;
        let mut plain_ends: Vec<usize> = text.match_indices('\n').map(|(at, _)| at + 1).collect();
        if plain_ends
            .last()
            .map_or(!text.is_empty(), |&end| end < text.len())
        {
            plain_ends.push(text.len());
        }
        let same_shape = self
            .bodies
            .iter()
            .position(|lines| lines.plain_ends.len() == plain_ends.len());
        let earlier = same_shape
            .or(self.bodies.len().checked_sub(1))
            .map(|at| &self.bodies[at]);
        // Which lines the earlier body had, byte for byte (a memcmp each).
        let known: Vec<bool> = (0..plain_ends.len())
            .map(|index| {
                let line = &text.as_bytes()[Lines::range(&plain_ends, index)];
                earlier.and_then(|lines| lines.line(index)) == Some(line)
            })
            .collect();
        let figures: Vec<Figures> = known
            .iter()
            .enumerate()
            .map(|(index, &known)| match earlier {
                Some(lines) if known => lines.figures[index],
                _ => Figures::of(&text.as_bytes()[Lines::range(&plain_ends, index)]),
            })
            .collect();
        let encoding = choose(text.as_bytes(), &plain_ends, &figures);
        let encoded = (encoding == Encoding::QuotedPrintable).then(|| {
            let mut encoded = Vec::with_capacity(text.len() + text.len() / 8);
            let mut encoded_ends = Vec::with_capacity(plain_ends.len());
            for (index, &known) in known.iter().enumerate() {
                match earlier.and_then(|lines| lines.encoded(index)) {
                    Some(bytes) if known => encoded.extend_from_slice(bytes),
                    _ => encoded.extend_from_slice(&quoted_printable::encode(
                        &text.as_bytes()[Lines::range(&plain_ends, index)],
                    )),
                }
                encoded_ends.push(encoded.len());
            }
            (encoded, encoded_ends)
        });
        let body = wrapped(&text, encoding, encoded.as_ref().map(|(bytes, _)| bytes));
        let lines = Lines {
            plain: text,
            plain_ends,
            figures,
            encoded,
        };
        if let Some(at) = same_shape {
            self.bodies[at] = lines;
        } else {
            if self.bodies.len() == Self::KEPT {
                self.bodies.remove(0);
            }
            self.bodies.push(lines);
        }
        body
    }
}

/// `text` in `encoding`, as lettre's `Body::new` puts it: `encoded` is its
/// quoted-printable encoding when that is the one chosen.
fn wrapped(
    text: &str,
    encoding: email_encoding::body::Encoding,
    encoded: Option<&Vec<u8>>,
) -> lettre::message::Body {
    use email_encoding::body::Encoding;
    use lettre::message::Body;
    use lettre::message::header::ContentTransferEncoding;
    match (encoded, encoding) {
        (Some(encoded), _) => {
            Body::dangerous_pre_encoded(encoded.clone(), ContentTransferEncoding::QuotedPrintable)
        }
        (None, Encoding::SevenBit) => {
            Body::dangerous_pre_encoded(text.as_bytes().to_vec(), ContentTransferEncoding::SevenBit)
        }
        (None, Encoding::Base64) => {
            let mut out =
                String::with_capacity(email_encoding::body::base64::encoded_len(text.len()));
            match email_encoding::body::base64::encode(text.as_bytes(), &mut out) {
                Ok(()) => {
                    Body::dangerous_pre_encoded(out.into_bytes(), ContentTransferEncoding::Base64)
                }
                Err(_) => Body::new(text.to_string()),
            }
        }
        (None, _) => Body::new(text.to_string()),
    }
}

/// email-encoding's choice for `text` (what `Body::new` asks of it, mail
/// without SMTPUTF8), from each line's figures: 7bit for ASCII without a
/// line of 76 or more, else quoted-printable when at most a third of the
/// bytes need escaping, else base64. Line lengths are measured as that
/// chooser measures them, from one LF to the next.
fn choose(text: &[u8], ends: &[usize], figures: &[Figures]) -> email_encoding::body::Encoding {
    use email_encoding::body::Encoding;
    let mut last = 0;
    let line_too_long = ends
        .iter()
        .map(|&end| end - 1)
        .filter(|&at| text[at] == b'\n')
        .any(|at| (at - std::mem::replace(&mut last, at)) >= 76)
        || (text.len() - last) >= 76;
    if figures.iter().all(|line| line.ascii) && !line_too_long {
        return Encoding::SevenBit;
    }
    let escaped: usize = figures.iter().map(|line| line.escaped).sum();
    if escaped <= text.len() / 3 {
        Encoding::QuotedPrintable
    } else {
        Encoding::Base64
    }
}

/// The SHA-256 of `text` (ring's, as everywhere in digest-feed).
fn sha256(text: &str) -> ring::digest::Digest {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
}

/// `bytes` in lower-case hexadecimal, for a Message-ID's unique part.
fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut hex, byte| {
            use std::fmt::Write;
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// `user@domain` with the domain in its ASCII form.
fn ascii_address(email: &str) -> Result<lettre::Address, String> {
    let (user, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let domain = ascii_domain(domain).unwrap_or_else(|| domain.to_string());
    lettre::Address::new(user, domain).map_err(|err| err.to_string())
}

/// `List-Id: <site title> <slug.host>` (RFC 2919): the id is ASCII
/// whatever the title's language (a slug that is not ASCII becomes its
/// punycode label), and only the title is encoded, as a phrase.
fn list_id(site_title: &str, site_url: &str, sender_domain: &str) -> HeaderValue {
    use email_encoding::headers::writer::EmailWriter;
    let host = url::Url::parse(site_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_string))
        .and_then(|host| ascii_domain(&host))
        .unwrap_or_else(|| sender_domain.to_string());
    let slug = crate::slug::slugify(site_title).to_lowercase();
    let label = ascii_domain(&format!("{slug}.x"))
        .and_then(|ascii| ascii.strip_suffix(".x").map(str::to_string))
        .filter(|label| !label.is_empty() && label.len() <= 63)
        .unwrap_or_else(|| "digest".to_string());
    let id = format!("<{label}.{host}>");
    let title = crate::text::one_line(site_title);
    if title.is_empty() {
        return header("List-Id", &id);
    }
    // Words of atext (RFC 5322 §3.2.3) are a phrase as they are, as in
    // RFC 2919's own examples; anything else is quoted or encoded.
    let atoms = title.split(' ').all(|word| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
    });
    if atoms {
        return header("List-Id", &format!("{title} {id}"));
    }
    let mut encoded = String::new();
    {
        let mut writer = EmailWriter::new(&mut encoded, "List-Id: ".len(), 0, false);
        let written =
            email_encoding::headers::quoted_string::encode(&title, &mut writer).and_then(|()| {
                writer.space();
                std::fmt::Write::write_str(&mut writer, &id)
            });
        if written.is_err() {
            return header("List-Id", &id);
        }
    }
    HeaderValue::dangerous_new_pre_encoded(
        HeaderName::new_from_ascii_str("List-Id"),
        format!("{title} {id}"),
        encoded,
    )
}

/// A `List-Unsubscribe` target as the ASCII URI a header must hold: the
/// host (or a `mailto:` domain) in punycode, everything else not ASCII
/// percent-encoded. `None` when there is none, or it is no URI.
fn ascii_uri(target: &str) -> Option<String> {
    let target = target.trim();
    let target = match target.strip_prefix("mailto:") {
        Some(rest) => {
            let (to, query) = rest
                .split_once('?')
                .map_or((rest, None), |(to, q)| (to, Some(q)));
            let to = match to.rsplit_once('@') {
                Some((user, domain)) => {
                    format!(
                        "{user}@{}",
                        ascii_domain(domain).unwrap_or_else(|| domain.to_string())
                    )
                }
                None => to.to_string(),
            };
            match query {
                Some(query) => format!("mailto:{to}?{query}"),
                None => format!("mailto:{to}"),
            }
        }
        None => target.to_string(),
    };
    let uri = url::Url::parse(&target).ok()?;
    Some(uri.as_str().to_string())
}

/// Why a notice is sent, for its `Auto-Submitted` header (RFC 3834): a
/// responder never answers it, a mailbox never bounces a vacation notice
/// back to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompted {
    /// An answer to a message (a sign-up by mail): `auto-replied`.
    ByMail,
    /// Sent on a web request (the sign-up form): `auto-generated`.
    ByWeb,
}

impl Letterhead {
    /// A plain-text notice from the list (a sign-up's confirmation) to
    /// `to`, made as posts are: From, To, Subject, Date, a unique
    /// Message-ID, MIME-Version, `Auto-Submitted`, and the DKIM signature
    /// when `[email.dkim]` is set. Replies go to `reply_to` (the list's
    /// address, which `inbox` reads).
    pub fn notice(
        &self,
        (to, reply_to): (&str, Option<&str>),
        (subject, text): (&str, &str),
        prompted: Prompted,
    ) -> Result<(Envelope, Vec<u8>), String> {
        let address =
            ascii_address(to).map_err(|err| format!("{to:?} is not a valid address ({err})"))?;
        // Unique per message: the instant to the nanosecond, the process
        // and the recipient, hashed (no address shows in the id).
        let digest = sha256(&format!(
            "{}\0{}\0{to}",
            jiff::Timestamp::now().as_nanosecond(),
            std::process::id()
        ));
        let id = hex(&digest.as_ref()[..16]);
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(lettre::message::Mailbox::new(None, address))
            .subject(subject)
            .date_now()
            .message_id(Some(format!("<notice.{id}@{}>", self.id_domain)))
            .raw_header(header(
                "Auto-Submitted",
                match prompted {
                    Prompted::ByMail => "auto-replied",
                    Prompted::ByWeb => "auto-generated",
                },
            ));
        if let Some(reply_to) = reply_to {
            let reply_to = ascii_address(reply_to)
                .map_err(|err| format!("[list] address {reply_to:?}: {err}"))?;
            builder = builder.reply_to(lettre::message::Mailbox::new(None, reply_to));
        }
        let message = builder
            .singlepart(SinglePart::plain(crate::text::crlf(text.to_string())))
            .map_err(|err| format!("cannot build the message: {err}"))?;
        let envelope = message.envelope().clone();
        let bytes = message.formatted();
        match &self.signer {
            Some(signer) => Ok((envelope, signer.sign(&bytes)?)),
            None => Ok((envelope, bytes)),
        }
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

    /// A part as the per-recipient path made it before: lettre's chooser
    /// and encoder over the whole body.
    fn whole(text: String, _: Part) -> lettre::message::Body {
        lettre::message::Body::new(crate::text::crlf(text))
    }

    /// `bytes` with what differs between any two builds of the same
    /// message made the same: the Date and the multipart boundary.
    fn normalised(bytes: &[u8]) -> String {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let boundary = text
            .split("boundary=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_string();
        text.replace(&boundary, "BOUNDARY")
            .split("\r\n")
            .map(|line| {
                if line.starts_with("Date: ") {
                    "Date: -"
                } else {
                    line
                }
            })
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    /// A post's email for `name`: long lines of mostly ASCII with a few
    /// accents (quoted-printable), the recipient's values inside them.
    fn personal_email(name: &str, address: &str, korean: bool) -> Email {
        let url = format!(
            "https://papers.example.org/u?e={}",
            address.replace('@', "%40")
        );
        let words = if korean {
            "논문 요약과 링크 "
        } else {
            "café = naïve résumé of the papers, "
        };
        let long = words.repeat(12);
        let greeting = if name.is_empty() {
            "Hello,".to_string()
        } else {
            format!("Hello {name},\nthanks for reading")
        };
        let html = format!(
            "<html><body>\n<p>{greeting}</p>\n<p>{long}</p>  \n\n<p>{long}<a href=\"{url}\">unsubscribe</a> {long}</p>\n\t\r\n<p>x=y\rz</p>\n{}\n</body></html>",
            "=".repeat(75)
        );
        let text = format!(
            "{greeting}\n\n{long}\n{long} {url} {long}\n{}  \nend",
            "a".repeat(76)
        );
        Email {
            subject: "Daily Papers — 2025-12-24".into(),
            html,
            text,
            unsubscribe_url: url,
        }
    }

    /// The letterhead of the example site, unsigned.
    fn papers_letterhead() -> Letterhead {
        Letterhead::new(
            &Mailbox::parse("Daily Papers <papers@example.org>").unwrap(),
            "Daily Papers",
            "https://papers.example.org",
            None,
        )
        .unwrap()
    }

    #[test]
    fn messages_are_the_bytes_of_the_per_recipient_encoding() {
        let letterhead = papers_letterhead();
        let people = [
            ("Kim", "kim@example.org"),
            ("", "plain@example.org"),
            ("김철수", "hangul@example.org"),
            (
                "A Much Longer Name Than The Others",
                "long.name.reader@example.org",
            ),
            ("", "p@example.org"),
            ("Lee", "lee@example.org"),
        ];
        let mut encodings = std::collections::BTreeSet::new();
        // Twice over: the second round finds every body in memory.
        for korean in [false, true, false, true] {
            for (name, address) in people {
                let recipient = Recipient {
                    email: address.into(),
                    name: name.into(),
                    token: String::new(),
                };
                let email = personal_email(name, address, korean);
                let (_, fast) = letterhead
                    .build(&recipient, email.clone(), "post-1")
                    .unwrap();
                let (_, reference) = letterhead
                    .build_with(&recipient, email, "post-1", whole)
                    .unwrap();
                let fast = normalised(&fast);
                assert_eq!(fast, normalised(&reference), "to {address}");
                encodings.extend(
                    fast.split("\r\n")
                        .filter(|line| line.starts_with("Content-Transfer-Encoding:"))
                        .map(str::to_string),
                );
            }
        }
        // Both of lettre's choices were made: the line-by-line one and the whole one.
        assert!(
            encodings.contains("Content-Transfer-Encoding: quoted-printable"),
            "{encodings:?}"
        );
        assert!(
            encodings.contains("Content-Transfer-Encoding: base64"),
            "{encodings:?}"
        );
    }

    #[test]
    fn bodies_made_line_by_line_are_lettres_whole_bodies() {
        let tricky = [
            String::new(),
            "\r\n".into(),
            "end without a line end".into(),
            "trailing space \r\ntrailing tab\t\r\n\r\n".into(),
            format!(
                "{}\r\n{}\r\n{}\r\n",
                "x".repeat(75),
                "x".repeat(76),
                "x".repeat(77)
            ),
            format!(
                "{} \r\n{}=\r\n{}é\r\n",
                "x".repeat(75),
                "x".repeat(74),
                "x".repeat(74)
            ),
            "lone\rcarriage\r\r\nreturns\r".into(),
            format!("{}\r\n", "= é\t".repeat(40)),
        ];
        // The chooser's edges: lines about 76 long first, between and last,
        // with and without a final LF; escaped bytes about a third.
        let mut edges = Vec::new();
        for len in 73..79 {
            let line = "x".repeat(len);
            edges.extend([
                line.clone(),
                format!("{line}\r\nshort"),
                format!("short\r\n{line}"),
                format!("short\r\n{line}\r\n"),
                format!("{line}\n"),
            ]);
        }
        for ascii in 0..12 {
            edges.push(format!("{}{}\r\n", "가".repeat(4), "a".repeat(ascii)));
        }
        let mut memory = Remembered::default();
        for round in 0..2 {
            for text in tricky.iter().chain(&edges) {
                for changed in [
                    text.clone(),
                    format!("{text}\r\nsecond {round}\r\n"),
                    format!("first\r\n{text}"),
                ] {
                    let changed = crate::text::crlf(changed);
                    let fast = memory.body(changed.clone());
                    let whole = lettre::message::Body::new(changed.clone());
                    assert_eq!(fast.encoding(), whole.encoding(), "{changed:?}");
                    assert_eq!(fast.as_ref(), whole.as_ref(), "{changed:?}");
                }
            }
        }
    }

    #[test]
    fn headers_are_encoded_and_ids_stable_per_recipient() {
        let letterhead = papers_letterhead();
        let recipient = Recipient {
            email: "a@example.org".into(),
            name: "김, \"Kim\"".into(),
            token: String::new(),
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
            token: String::new(),
        };
        let (_, theirs) = letterhead.build(&other, email(), "post-1").unwrap();
        assert_ne!(id(&text), id(&String::from_utf8(theirs).unwrap()));
    }

    #[test]
    fn headers_are_ascii_for_a_korean_title_and_an_idn_sender() {
        let letterhead = Letterhead::new(
            &Mailbox::parse("데일리 페이퍼 <papers@예시.한국>").unwrap(),
            "데일리 페이퍼",
            "https://예시.한국/blog",
            None,
        )
        .unwrap();
        let recipient = Recipient {
            email: "kim@예시.한국".into(),
            name: "김철수".into(),
            token: String::new(),
        };
        let mut email = email();
        email.unsubscribe_url = "mailto:papers@예시.한국?subject=unsubscribe".into();
        let (envelope, bytes) = letterhead.build(&recipient, email, "post-1").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let head = &text[..text.find("\r\n\r\n").unwrap()];
        assert!(head.is_ascii(), "{head}");
        assert_eq!(
            envelope.from().unwrap().to_string(),
            "papers@xn--vv4b11d.xn--3e0b707e"
        );
        assert_eq!(envelope.to()[0].to_string(), "kim@xn--vv4b11d.xn--3e0b707e");
        let line = |name: &str| {
            head.lines()
                .find(|line| line.starts_with(name))
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            line("List-Id:").ends_with(" <xn----v18es3ni2pcb184mtfa.xn--vv4b11d.xn--3e0b707e>"),
            "{head}"
        );
        assert!(line("List-Id: =?utf-8?b?").len() > 20, "{head}");
        assert!(
            line("Message-ID:").ends_with("@xn--vv4b11d.xn--3e0b707e>"),
            "{head}"
        );
        assert_eq!(
            line("List-Unsubscribe:"),
            "List-Unsubscribe: <mailto:papers@xn--vv4b11d.xn--3e0b707e?subject=unsubscribe>"
        );
    }
}
