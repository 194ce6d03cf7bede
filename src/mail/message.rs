//! One recipient's email as an RFC 5322 message: `multipart/alternative`
//! with the text and HTML parts, and the headers SPEC §4 names, DKIM-signed
//! when `[email.dkim]` is set. lettre does the MIME and the encoding (RFC
//! 2047 words, each part in base64 or quoted-printable, whichever lettre
//! finds shorter: base64 for Korean text), email-encoding (lettre's own
//! encoder) the List-Id's phrase.
//!
//! A post's message is made once ([`Composed`]): each part encoded but for
//! the lines holding a recipient's values ([`super::body`]), under a
//! boundary fixed for the post. Per recipient, lettre makes the headers and
//! the MIME around a marker for each body, and the bodies are copied in:
//! the same bytes as lettre's whole message (unit tests compare). Templates
//! that transform a value are rendered and built whole per recipient.
//!
//! Every header is valid in any language: a domain goes out in its ASCII
//! (punycode) form wherever a header or the envelope needs one (From, To,
//! Message-ID, List-Id, `mailto:`), a URI is ASCII (punycode host,
//! percent-encoded path), and only phrases (names, the Subject, List-Id's
//! description) are RFC 2047 encoded words.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use email_encoding::body::Encoding;
pub(super) use lettre::address::Envelope;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, MultiPart, SinglePart};

use super::body::SharedBody;
use super::dkim::{BodyPrefix, SharedRun, Signer};
use crate::address::{Mailbox, ascii_domain};
use crate::config::{Dkim, ListSettings};
use crate::email::{Design, Email, Piece, Prepared, Recipient, Template, Values};
use crate::error::Problem;
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

    /// The message to `recipient`, as the bytes that go on the wire, made
    /// from `email` whole: for templates that do more with a recipient's
    /// values than print them (see [`Composed`] for the rest).
    ///
    /// `identity` is what makes the Message-ID: the same post to the same
    /// recipient gives the same Message-ID, so a message resent after a crash
    /// is recognisable as the same message by the receiving side.
    pub fn build(
        &self,
        recipient: &Recipient,
        email: Email,
        identity: &str,
    ) -> Result<(Envelope, Vec<u8>), Unmade> {
        self.build_whole(recipient, email, identity, None)
    }

    /// [`Letterhead::build`], with lettre's random boundary or `boundary`.
    fn build_whole(
        &self,
        recipient: &Recipient,
        email: Email,
        identity: &str,
        boundary: Option<&str>,
    ) -> Result<(Envelope, Vec<u8>), Unmade> {
        let head = self
            .head(recipient, email.subject, &email.unsubscribe_url, identity)
            .map_err(Unmade::Address)?;
        let mut parts = MultiPart::alternative();
        if let Some(boundary) = boundary {
            parts = parts.boundary(boundary);
        }
        let message = head
            .multipart(
                parts
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(Body::new(crate::text::crlf(email.text))),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(Body::new(crate::text::crlf(email.html))),
                    ),
            )
            .map_err(|err| Unmade::Message(format!("cannot build the message: {err}")))?;
        let envelope = self
            .envelope(message.envelope().clone(), recipient)
            .map_err(Unmade::Address)?;
        let mut bytes = message.formatted();
        self.sign(&mut bytes).map_err(Unmade::Message)?;
        Ok((envelope, bytes))
    }

    /// `bytes` with the DKIM signature first, when the run signs.
    fn sign(&self, bytes: &mut Vec<u8>) -> Result<(), String> {
        if let Some(signer) = &self.signer {
            let header = signer.header(bytes)?;
            bytes.splice(0..0, header.into_bytes());
        }
        Ok(())
    }

    /// A builder with the headers of the message to `recipient`, all but
    /// the MIME ones.
    fn head(
        &self,
        recipient: &Recipient,
        subject: String,
        unsubscribe_url: &str,
        identity: &str,
    ) -> Result<lettre::message::MessageBuilder, String> {
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
            .subject(subject)
            .date_now()
            .message_id(Some(format!("<{hex}@{}>", self.id_domain)))
            .raw_header(self.list_id.clone());
        let targets = self.unsubscribe_targets(recipient, unsubscribe_url);
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
        Ok(builder)
    }

    /// The message to `recipient` of the post `composed` holds, with
    /// `values` in its personal lines, written into `out` (what was there
    /// goes): the bytes [`Letterhead::build`] makes of the same email with
    /// the same boundary. `subject` is the template's, filled.
    ///
    /// lettre makes the headers and the MIME around each part's body, as
    /// for any message, with a marker for the body; the markers are then
    /// replaced by the bodies, their shared lines copied as encoded once.
    pub fn build_composed(
        &self,
        (recipient, values): (&Recipient, &Values<'_>),
        (composed, subject): (&Composed, String),
        identity: &str,
        out: &mut Vec<u8>,
    ) -> Result<Envelope, Unmade> {
        let text = composed
            .text
            .fill(|field| Cow::Borrowed(values.text(field)));
        let html = composed.html.fill(|field| values.html(field));
        let head = self
            .head(recipient, subject, &values.unsubscribe_url, identity)
            .map_err(Unmade::Address)?;
        let message = head
            .multipart(
                MultiPart::alternative()
                    .boundary(composed.boundary.as_str())
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(marker(TEXT_MARKER, text.encoding)),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(marker(HTML_MARKER, html.encoding)),
                    ),
            )
            .map_err(|err| Unmade::Message(format!("cannot build the message: {err}")))?;
        let envelope = self
            .envelope(message.envelope().clone(), recipient)
            .map_err(Unmade::Address)?;
        let frame = message.formatted();
        let (Some(text_at), Some(html_at)) = (find(&frame, TEXT_MARKER), find(&frame, HTML_MARKER))
        else {
            return Err(Unmade::Message(
                "cannot build the message: lettre's MIME lost a part".to_string(),
            ));
        };
        out.clear();
        out.reserve(frame.len() + composed.text.len_hint() + composed.html.len_hint());
        out.extend_from_slice(&frame[..text_at]);
        let (mut text_runs, mut html_runs) = (Vec::new(), Vec::new());
        composed.text.write(&text, out, &mut text_runs);
        out.extend_from_slice(&frame[text_at + TEXT_MARKER.len()..html_at]);
        composed.html.write(&html, out, &mut html_runs);
        out.extend_from_slice(&frame[html_at + HTML_MARKER.len()..]);
        if let Some(signer) = &self.signer {
            // The body starts with the MIME lines before the text part and
            // the text's shared head: the same bytes for every recipient
            // whose text takes this encoding, hashed once. After it, each
            // part's shared runs are canonicalised once.
            let body_start = find(&frame, b"\r\n\r\n").map_or(0, |at| at + 4);
            let prefix = composed
                .prefix(text.encoding, &frame[body_start.min(text_at)..text_at])
                .filter(|prefix| out[body_start..].starts_with(prefix.bytes()));
            let header = if body_start >= 2 {
                let rest = body_start + prefix.map_or(0, |prefix| prefix.bytes().len());
                let runs: Vec<(Range<usize>, &SharedRun)> = text_runs
                    .iter()
                    .zip(composed.runs(Part::Text, text.encoding))
                    .chain(
                        html_runs
                            .iter()
                            .zip(composed.runs(Part::Html, html.encoding)),
                    )
                    .filter_map(|(range, run)| {
                        let start = range.start.checked_sub(rest)?;
                        Some((start..start + range.len(), run.as_ref()?))
                    })
                    .collect();
                signer.header_after(&out[..body_start - 2], prefix, &out[rest..], &runs)
            } else {
                signer.header(out)
            }
            .map_err(Unmade::Message)?;
            out.splice(0..0, header.into_bytes());
        }
        Ok(envelope)
    }
}

/// One post's messages: made once for each kind of recipient (with a
/// name, without) where the templates only print their values.
#[derive(Debug)]
pub struct Letters<'p> {
    prepared: &'p Prepared,
    identity: &'p str,
    /// For recipients without a name, then with one.
    composed: [Option<(Template<'p>, Composed)>; 2],
}

/// Why one recipient's message was not made.
#[derive(Debug)]
pub enum Unmade {
    /// The templates failed: every message would.
    Template(Problem),
    /// This recipient's address cannot take one (the others can).
    Address(String),
    /// The message could not be put together or signed (lettre's MIME or
    /// the DKIM signer refused): no message of the run would be, so the
    /// run stops rather than count each recipient as refused.
    Message(String),
}

impl Letterhead {
    /// `prepared`'s messages for every recipient, made once as far as the
    /// templates allow. `identity` makes each Message-ID.
    pub fn letters<'p>(&self, prepared: &'p Prepared, identity: &'p str) -> Letters<'p> {
        let compose = |with_name| {
            prepared
                .template(with_name)
                .map(|template| (template, Composed::new(template, identity)))
        };
        Letters {
            prepared,
            identity,
            composed: [compose(false), compose(true)],
        }
    }

    /// The message of `letters` to `recipient`, written into `out`; its
    /// envelope and subject.
    pub fn letter(
        &self,
        design: &Design,
        letters: &Letters<'_>,
        recipient: &Recipient,
        out: &mut Vec<u8>,
    ) -> Result<(Envelope, String), Unmade> {
        let kind = usize::from(!recipient.name.is_empty());
        if let Some((template, composed)) = &letters.composed[kind] {
            let values = design
                .values(letters.prepared, recipient)
                .map_err(Unmade::Template)?;
            let subject = template.subject(&values);
            let envelope = self.build_composed(
                (recipient, &values),
                (composed, subject.clone()),
                letters.identity,
                out,
            )?;
            return Ok((envelope, subject));
        }
        let email = design
            .personalise(letters.prepared, recipient)
            .map_err(Unmade::Template)?;
        let subject = email.subject.clone();
        let (envelope, bytes) = self.build(recipient, email, letters.identity)?;
        *out = bytes;
        Ok((envelope, subject))
    }
}

/// A post's message for every recipient of one kind: see [`Composed::new`].
#[derive(Debug)]
pub struct Composed {
    boundary: String,
    text: SharedBody,
    html: SharedBody,
    /// For DKIM: the body's shared start, canonicalised and hashed once,
    /// for each encoding the text part may take (made when first needed).
    prefixes: [OnceLock<Option<BodyPrefix>>; 4],
    /// For DKIM: each part's shared runs canonicalised once, for each
    /// encoding the part may take (made when first needed).
    runs: [[OnceLock<Vec<Option<SharedRun>>>; 4]; 2],
}

/// One of the two parts of a message.
#[derive(Debug, Clone, Copy)]
enum Part {
    Text,
    Html,
}

/// Where the figures of an encoding go in an array of four.
fn encoding_index(encoding: Encoding) -> usize {
    match encoding {
        Encoding::SevenBit => 0,
        Encoding::EightBit => 1,
        Encoding::QuotedPrintable => 2,
        Encoding::Base64 => 3,
    }
}

impl Composed {
    /// A post's message made once for every recipient its `template` is
    /// for (those with a name, or those without): both parts rendered and
    /// encoded but for the lines that hold a recipient's values, and a
    /// multipart boundary of its own, the same for all of them (made from
    /// `identity` and the text), so that what they share is the same bytes.
    pub fn new(template: Template<'_>, identity: &str) -> Composed {
        Composed::of(template.text(), template.html(), identity)
    }

    /// [`Composed::new`] of a text part and an HTML part.
    fn of<'p>(
        text: impl Iterator<Item = Piece<'p>>,
        html: impl Iterator<Item = Piece<'p>>,
        identity: &str,
    ) -> Composed {
        let text = SharedBody::new(text);
        let html = SharedBody::new(html);
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        for piece in [
            identity.as_bytes(),
            b"\0",
            text.shared_text(),
            b"\0",
            html.shared_text(),
        ] {
            context.update(piece);
        }
        Composed {
            boundary: hex(&context.finish().as_ref()[..20]),
            text,
            html,
            prefixes: Default::default(),
            runs: Default::default(),
        }
    }

    /// The body's shared start for DKIM when the text part takes
    /// `encoding`: `mime` (the lines before the text part's body, the same
    /// for all) then the text's shared head.
    fn prefix(&self, encoding: Encoding, mime: &[u8]) -> Option<&BodyPrefix> {
        self.prefixes[encoding_index(encoding)]
            .get_or_init(|| Signer::prefix(&[mime, self.text.head(encoding)].concat()))
            .as_ref()
    }

    /// `part`'s shared runs in `encoding` for DKIM, in the order the
    /// part's body writes them.
    fn runs(&self, part: Part, encoding: Encoding) -> &[Option<SharedRun>] {
        let body = match part {
            Part::Text => &self.text,
            Part::Html => &self.html,
        };
        self.runs[part as usize][encoding_index(encoding)].get_or_init(|| {
            body.shared_runs(encoding)
                .into_iter()
                .map(Signer::shared_run)
                .collect()
        })
    }
}

/// Where each part's body goes in the MIME lettre makes: bytes no header
/// and no MIME line holds (lettre writes headers in ASCII, without NUL).
const TEXT_MARKER: &[u8] = b"\0digest-feed text part\0";
const HTML_MARKER: &[u8] = b"\0digest-feed html part\0";

/// A pre-encoded body that is only `marker`, declared as `encoding`.
fn marker(marker: &[u8], encoding: Encoding) -> Body {
    use lettre::message::header::ContentTransferEncoding;
    let encoding = match encoding {
        Encoding::QuotedPrintable => ContentTransferEncoding::QuotedPrintable,
        Encoding::Base64 => ContentTransferEncoding::Base64,
        Encoding::EightBit => ContentTransferEncoding::EightBit,
        Encoding::SevenBit => ContentTransferEncoding::SevenBit,
    };
    Body::dangerous_pre_encoded(marker.to_vec(), encoding)
}

/// Where `needle` starts in `haystack` (a scan for its first byte, a NUL
/// for the markers, which the headers before them never hold).
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(at) = haystack[from..].iter().position(|&byte| byte == first) {
        let at = from + at;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
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
        let mut bytes = message.formatted();
        self.sign(&mut bytes)?;
        Ok((envelope, bytes))
    }
}

fn header(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::Field;

    fn email() -> Email {
        Email {
            subject: "Daily Papers — 2025-12-24".into(),
            html: "<p>안녕하세요</p>".into(),
            text: "안녕하세요".into(),
            unsubscribe_url: "https://papers.example.org/u?e=a%40example.org".into(),
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

    /// `text` with `{email}`, `{name}` and `{unsubscribe}` as slots.
    fn pieces(text: &str) -> Vec<Piece<'_>> {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut at = 0;
        while let Some(open) = rest[at..].find('{').map(|open| at + open) {
            let close = rest[open..]
                .find('}')
                .map_or(rest.len(), |close| open + close);
            let field = match &rest[open + 1..close] {
                "email" => Field::Email,
                "name" => Field::Name,
                "unsubscribe" => Field::UnsubscribeUrl,
                _ => {
                    at = open + 1;
                    continue;
                }
            };
            if open > 0 {
                pieces.push(Piece::Text(&rest[..open]));
            }
            pieces.push(Piece::Slot(field));
            rest = &rest[close + 1..];
            at = 0;
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest));
        }
        pieces
    }

    /// `pieces` filled with `value`.
    fn filled<'v>(pieces: &[Piece<'_>], value: impl Fn(Field) -> Cow<'v, str>) -> String {
        pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => Cow::Borrowed(*text),
                Piece::Slot(field) => value(*field),
            })
            .collect()
    }

    /// Bodies (text, HTML) that take each encoding, with values at their
    /// start, middle and end, on lines of their own or inside long ones,
    /// and the chooser's edges: lines about 76 bytes long, a third of the
    /// bytes escaped, lone CRs, trailing spaces, no final line end.
    fn bodies() -> Vec<(String, String)> {
        let accents = "café = naïve résumé of the papers, ".repeat(6);
        let korean = "논문 요약과 링크입니다. ".repeat(20);
        let html = format!(
            "<!DOCTYPE html>\n<html><body>\n<p>{accents}</p>\n<p>{korean}</p>\n  \n\n\
             <p>You receive this at {{email}}. <a href=\"{{unsubscribe}}\">Unsubscribe</a></p>\n\
             {}\n</body></html>\n",
            "=".repeat(75)
        );
        vec![
            // Korean text (base64), values at the end; quoted-printable HTML.
            (
                format!(
                    "Daily Papers\n\n{korean}\n{korean}\n\nYou receive Daily Papers at {{email}}.\nUnsubscribe: {{unsubscribe}}"
                ),
                html.clone(),
            ),
            // Values first, in the middle and on the last line without a line end.
            (
                format!(
                    "Hello {{name}},\n{korean}\n{{email}} {{name}}\n{korean}\nbye {{unsubscribe}}"
                ),
                format!("{{name}}<p>{accents}{{email}}{accents}</p>\n{html}{{unsubscribe}}"),
            ),
            // Short ASCII lines: 7bit, unless a value makes a line too long or not ASCII.
            (
                format!(
                    "Hi {{name}}\n{}\n{}\nSee {{unsubscribe}}\n",
                    "x".repeat(60),
                    "y".repeat(74)
                ),
                "<p>Hi {name}</p>\n<p>{email}</p>".to_string(),
            ),
            // A third of the bytes escaped: a value tips it to base64 or back.
            (
                format!("{}\n{{name}} {{email}}\n", "가나a".repeat(40)),
                format!(
                    "{}\r\nx\r{{name}}\rz\r\n\t\r\n{}é\n",
                    "x".repeat(75),
                    "y".repeat(74)
                ),
            ),
            // Nothing personal, and a body that is only a value.
            ("Just text.\n".to_string(), "{email}".to_string()),
            (String::new(), "{name}\n\n{name}".to_string()),
        ]
    }

    /// Recipients of every kind: names with Hangul, commas, quotes, long
    /// and empty; addresses of varied lengths, one with a Korean domain.
    fn readers() -> Vec<(Recipient, String)> {
        let names = [
            "",
            "Kim",
            "김철수",
            "Lee, \"Jr.\"",
            "A Much Longer Name Than Any Line Should Hold, Really, Longer Than Seventy-Six",
            "Ünïcödé = Tab\tHere",
            "",
        ];
        let emails = [
            "a@b.org",
            "reader000001@example.org",
            "kim@예시.한국",
            &format!("{}@example.org", "long.local.part".repeat(4)),
            "x+tag@sub.example.org",
            "p@example.org",
            "last@example.org",
        ];
        names
            .iter()
            .zip(emails)
            .enumerate()
            .map(|(index, (name, email))| {
                let unsubscribe = if index == 6 {
                    String::new()
                } else {
                    format!(
                        "https://papers.example.org/u?e={}&n={index}",
                        email.replace('@', "%40")
                    )
                };
                (
                    Recipient {
                        email: email.to_string(),
                        name: (*name).to_string(),
                        token: String::new(),
                    },
                    unsubscribe,
                )
            })
            .collect()
    }

    /// The message without what differs between two builds a moment
    /// apart: the Date, and the DKIM signature's time and signature (its
    /// body hash stays). Every other byte, the body's included, is kept.
    fn normalised(bytes: &[u8]) -> String {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let mut out = Vec::new();
        let mut lines = text.split("\r\n").peekable();
        while let Some(line) = lines.next() {
            if line.starts_with("DKIM-Signature:") {
                let mut header = line.to_string();
                while let Some(next) = lines.next_if(|next| next.starts_with([' ', '\t'])) {
                    header.push_str("\r\n");
                    header.push_str(next);
                }
                out.push(super::super::dkim::tests::without_time_and_signature(
                    &header,
                ));
            } else if line.starts_with("Date: ") {
                out.push("Date: -".to_string());
            } else {
                out.push(line.to_string());
            }
        }
        out.join("\r\n")
    }

    /// `[email.dkim]` with a test key, and a list's key.
    fn test_keys() -> (Dkim, Secret) {
        let dir = std::env::temp_dir().join(format!("digest-feed-message-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("secret"), [7; 32]).unwrap();
        let secret = Secret::load_or_create(&dir.join("secret"), true).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        (super::super::dkim::tests::test_dkim(), secret)
    }

    #[test]
    fn composed_messages_are_lettres_whole_messages() {
        let from = Mailbox::parse("Daily Papers <papers@example.org>").unwrap();
        let plain = papers_letterhead();
        let (dkim, secret) = test_keys();
        let signed = Letterhead::new(
            &from,
            "Daily Papers",
            "https://papers.example.org",
            Some(&dkim),
        )
        .unwrap();
        let list = ListSettings {
            public_url: Some("https://papers.example.org".into()),
            return_path: Some("bounces@example.org".into()),
            address: Some("papers@example.org".into()),
            secret_file: "secret".into(),
            soft_bounces: 3,
            soft_bounce_days: 30,
        };
        let listed = Letterhead::new(&from, "Daily Papers", "https://papers.example.org", None)
            .unwrap()
            .with_list(&list, secret);
        let mut encodings = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for letterhead in [&plain, &signed, &listed] {
            for (text, html) in bodies() {
                let (text, html) = (pieces(&text), pieces(&html));
                let composed = Composed::of(text.iter().copied(), html.iter().copied(), "post-1");
                for (mut recipient, unsubscribe) in readers() {
                    recipient.token = letterhead.token(&recipient.email);
                    let values = Values::new(&recipient, unsubscribe);
                    let subject = format!("Daily Papers — {}", recipient.name);
                    let envelope = letterhead
                        .build_composed(
                            (&recipient, &values),
                            (&composed, subject.clone()),
                            "post-1",
                            &mut out,
                        )
                        .unwrap();
                    let email = Email {
                        subject,
                        text: filled(&text, |field| values.text(field).into()),
                        html: filled(&html, |field| values.html(field)),
                        unsubscribe_url: values.unsubscribe_url.clone(),
                    };
                    let (whole_envelope, whole) = letterhead
                        .build_whole(&recipient, email, "post-1", Some(&composed.boundary))
                        .unwrap();
                    assert_eq!(envelope, whole_envelope);
                    let composed_text = normalised(&out);
                    assert_eq!(composed_text, normalised(&whole), "to {recipient:?}");
                    encodings.extend(
                        composed_text
                            .split("\r\n")
                            .filter(|line| line.starts_with("Content-Transfer-Encoding:"))
                            .map(str::to_string),
                    );
                }
            }
        }
        // Every encoding lettre chooses was made.
        for encoding in ["7bit", "quoted-printable", "base64"] {
            assert!(
                encodings.contains(&format!("Content-Transfer-Encoding: {encoding}")),
                "{encodings:?}"
            );
        }
    }

    #[test]
    fn the_default_templates_letters_are_lettres_whole_messages() {
        // The example site's config and newest post, the built-in templates.
        let dir = std::env::temp_dir().join(format!("digest-feed-letters-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = crate::config::Config::parse(
            "[site]\ntitle = \"Daily Papers\"\nurl = \"https://papers.example.org\"\n\
             timezone = \"Asia/Seoul\"\n\n[email]\nfrom = \"Daily Papers <papers@example.org>\"\n\
             subscribers_file = \"subscribers.csv\"\n\
             list_unsubscribe = \"https://papers.example.org/u?e={{ subscriber.email | urlencode }}\"\n",
            &dir.join("config.toml"),
        )
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let design = Design::load(&config, config.email().unwrap()).unwrap();
        let text = include_str!("../../example/_posts/2025-12-24-daily-papers.md");
        let post = crate::post::parse(
            std::path::Path::new("_posts/2025-12-24-daily-papers.md"),
            text,
            &crate::post::Rules::from_config(&config),
        )
        .unwrap();
        let prepared = design.prepare(&post, &post.render(text).unwrap()).unwrap();
        assert!(prepared.is_fast());
        let letterhead = papers_letterhead();
        let letters = letterhead.letters(&prepared, "post-1");
        let mut out = Vec::new();
        let mut names = vec!["<Kim & Lee>".to_string()];
        names.extend(readers().into_iter().map(|(recipient, _)| recipient.name));
        for (name, (mut recipient, _)) in names.into_iter().zip(readers()) {
            recipient.name = name;
            let (envelope, subject) = letterhead
                .letter(&design, &letters, &recipient, &mut out)
                .unwrap();
            let email = design.personalise(&prepared, &recipient).unwrap();
            assert_eq!(subject, email.subject);
            let kind = usize::from(!recipient.name.is_empty());
            let boundary = &letters.composed[kind].as_ref().unwrap().1.boundary;
            let (whole_envelope, whole) = letterhead
                .build_whole(&recipient, email, "post-1", Some(boundary))
                .unwrap();
            assert_eq!(envelope, whole_envelope);
            assert_eq!(normalised(&out), normalised(&whole), "to {recipient:?}");
        }
    }

    #[test]
    fn a_posts_boundary_is_the_same_for_every_recipient_and_its_own() {
        let letterhead = papers_letterhead();
        let compose = |text: &str, identity| {
            Composed::of(
                pieces(text).into_iter(),
                pieces("<p>{email}</p>").into_iter(),
                identity,
            )
            .boundary
        };
        let first = compose("Hello {name}\nthe post\n", "post-1");
        assert_eq!(first.len(), 40);
        assert_eq!(first, compose("Hello {name}\nthe post\n", "post-1"));
        assert_ne!(first, compose("Hello {name}\nanother post\n", "post-1"));
        assert_ne!(first, compose("Hello {name}\nthe post\n", "post-2"));
        let mut out = Vec::new();
        let composed = Composed::of(
            pieces("Hello {name}\nthe post\n").into_iter(),
            pieces("<p>{email}</p>").into_iter(),
            "post-1",
        );
        for (recipient, unsubscribe) in readers() {
            let values = Values::new(&recipient, unsubscribe);
            letterhead
                .build_composed(
                    (&recipient, &values),
                    (&composed, "S".into()),
                    "post-1",
                    &mut out,
                )
                .unwrap();
            let text = String::from_utf8(out.clone()).unwrap();
            assert_eq!(text.matches(&composed.boundary).count(), 4, "{text}");
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
