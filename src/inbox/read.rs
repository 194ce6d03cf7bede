//! What one message in the list's mailbox asks for, read with mail-parser
//! (which lives here and nowhere else): an unsubscribe or a confirmation
//! (the token in its Subject), a sign-up (`subscribe` to the list's
//! address), a bounce (an RFC 3464 delivery report, or any message to a
//! VERP address `bounces+TAG@`), a complaint (an ARF report, RFC 5965).

use mail_parser::{Message, MessageParser, MimeHeaders};

use crate::token::TOKEN_CHARS;

/// The most recipients read from one delivery report.
const MAX_RECIPIENTS: usize = 100;

/// What a message asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Request {
    /// `unsubscribe TOKEN` (the List-Unsubscribe mailto).
    Unsubscribe { token: String },
    /// `confirm TOKEN` (a reply to a sign-up's confirmation).
    Confirm { token: String },
    /// `subscribe` to the list's address, from `from`.
    Subscribe { from: String, name: String },
    /// A bounce: the VERP tag it was sent to, the recipients it names,
    /// whether it is for good (5.x.x), and the report's words.
    Bounce {
        tag: Option<String>,
        recipients: Vec<String>,
        hard: bool,
        detail: String,
    },
    /// A complaint: the unsubscribe tokens and recipients of the original.
    Complaint {
        tokens: Vec<String>,
        recipients: Vec<String>,
        detail: String,
    },
    /// Nothing for the list (a person's mail): left for the owner.
    Other,
}

/// What `bytes` asks for; `return_path` and `list_address` are `[list]`'s.
pub(super) fn classify(
    bytes: &[u8],
    return_path: Option<&str>,
    list_address: Option<&str>,
) -> Request {
    let Some(message) = MessageParser::default().parse(bytes) else {
        return Request::Other;
    };
    let tag = return_path.and_then(|path| verp_tag(&message, path));
    match report_type(&message).as_deref() {
        Some("delivery-status") => return bounce(&message, tag),
        Some("feedback-report") => return complaint(&message),
        _ => {}
    }
    if tag.is_some() {
        // A bounce in one of the formats before RFC 3464 (qmail, old Exim):
        // the VERP address says whose it is, the words say how bad.
        let text = message.body_text(0).unwrap_or_default().to_string();
        return Request::Bounce {
            tag,
            recipients: Vec::new(),
            hard: hard_words(&text),
            detail: first_line_with_code(&text),
        };
    }
    let subject = message.subject().unwrap_or_default().trim();
    let words: Vec<&str> = subject
        .split_whitespace()
        .filter(|word| !word.eq_ignore_ascii_case("re:"))
        .collect();
    let token = || {
        words
            .iter()
            .map(|word| {
                word.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            })
            .find(|word| word.len() == TOKEN_CHARS)
            .map(str::to_string)
    };
    match words
        .first()
        .map(|word| word.to_ascii_lowercase())
        .as_deref()
    {
        Some("unsubscribe") => {
            if let Some(token) = token() {
                return Request::Unsubscribe { token };
            }
        }
        Some("confirm") => {
            if let Some(token) = token() {
                return Request::Confirm { token };
            }
        }
        Some("subscribe") if addressed_to(&message, list_address) => {
            if let Some(from) = message.from().and_then(|from| from.first())
                && let Some(address) = from.address()
            {
                return Request::Subscribe {
                    from: address.to_string(),
                    name: from.name().unwrap_or_default().to_string(),
                };
            }
        }
        _ => {}
    }
    Request::Other
}

/// The most characters of a From or Subject the state keeps for `status`.
const MAX_HEADLINE: usize = 200;

/// A message's From and Subject as `status` shows a message left for the
/// owner: one line each, control characters gone, cut to a sane length.
pub(super) fn headline(bytes: &[u8]) -> (String, String) {
    let Some(message) = MessageParser::default().parse_headers(bytes) else {
        return (String::new(), String::new());
    };
    let sender = message
        .from()
        .and_then(|from| from.first())
        .map(|from| match (from.name(), from.address()) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (None, Some(address)) => address.to_string(),
            (Some(name), None) => name.to_string(),
            (None, None) => String::new(),
        })
        .unwrap_or_default();
    let subject = message.subject().unwrap_or_default();
    (shown(&sender), shown(subject))
}

fn shown(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_HEADLINE)
        .collect();
    crate::text::one_line(&clean)
}

/// `multipart/report`'s `report-type`, lower-cased.
fn report_type(message: &Message) -> Option<String> {
    let content_type = message.content_type()?;
    (content_type.ctype().eq_ignore_ascii_case("multipart")
        && content_type
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report")))
    .then(|| content_type.attribute("report-type"))
    .flatten()
    .map(str::to_ascii_lowercase)
}

/// Whether the message went to the list's address (To or Cc).
fn addressed_to(message: &Message, list_address: Option<&str>) -> bool {
    let Some(list) = list_address else {
        return false;
    };
    message
        .to()
        .into_iter()
        .chain(message.cc())
        .flat_map(mail_parser::Address::iter)
        .filter_map(|addr| addr.address())
        .any(|address| address.eq_ignore_ascii_case(list))
}

/// The tag of a VERP address `user+TAG@domain` the message was delivered
/// to, found in Delivered-To, X-Original-To or To.
fn verp_tag(message: &Message, return_path: &str) -> Option<String> {
    let (user, domain) = return_path.rsplit_once('@')?;
    let prefix = format!("{}+", user.to_ascii_lowercase());
    let suffix = format!("@{}", domain.to_ascii_lowercase());
    let mut candidates: Vec<String> = ["Delivered-To", "X-Original-To"]
        .iter()
        .flat_map(|name| message.header_values(*name))
        .filter_map(|value| value.as_text().map(str::to_string))
        .collect();
    candidates.extend(
        message
            .to()
            .into_iter()
            .flat_map(mail_parser::Address::iter)
            .filter_map(|addr| addr.address().map(str::to_string)),
    );
    candidates.iter().find_map(|address| {
        let address = address.trim().trim_matches(['<', '>']);
        let lower = address.to_ascii_lowercase();
        let tag_end = lower.strip_suffix(&suffix)?.len();
        lower
            .starts_with(&prefix)
            .then(|| address[prefix.len()..tag_end].to_string())
    })
}

/// The fields of a `message/delivery-status` or `message/feedback-report`
/// part: blocks of header fields, read by mail-parser's header parser.
fn field_blocks(contents: &[u8]) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut rest = contents.to_vec();
    while blocks.len() <= MAX_RECIPIENTS {
        let Some(block) = MessageParser::default().parse(&rest[..]) else {
            break;
        };
        let fields: Vec<(String, String)> = block
            .headers_raw()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        let body = block.body_text(0).map(std::borrow::Cow::into_owned);
        if fields.is_empty() {
            break;
        }
        blocks.push(fields);
        match body {
            Some(body) if !body.trim().is_empty() => rest = body.into_bytes(),
            _ => break,
        }
    }
    blocks
}

fn field<'a>(block: &'a [(String, String)], name: &str) -> Option<&'a str> {
    block
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// `rfc822; user@example.org` → `user@example.org`.
fn typed_address(value: &str) -> String {
    let address = value.split_once(';').map_or(value, |(_, address)| address);
    address.trim().trim_matches(['<', '>']).to_string()
}

/// The parts of `message` (at any depth) whose type is `message/<subtype>`.
fn parts_of<'m>(message: &'m Message<'m>, subtype: &str) -> Vec<&'m [u8]> {
    message
        .parts
        .iter()
        .filter(|part| {
            part.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("message")
                    && ct
                        .subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case(subtype))
            })
        })
        .map(mail_parser::MessagePart::contents)
        .collect()
}

/// An RFC 3464 report: each recipient whose Action is `failed` (hard with
/// a 5.x.x Status) or `delayed` (soft).
fn bounce(message: &Message, tag: Option<String>) -> Request {
    let mut recipients = Vec::new();
    let mut hard = false;
    let mut detail = String::new();
    for contents in parts_of(message, "delivery-status") {
        for block in field_blocks(contents).iter().skip(1) {
            let action = field(block, "action")
                .unwrap_or_default()
                .to_ascii_lowercase();
            if action != "failed" && action != "delayed" {
                continue;
            }
            let status = field(block, "status").unwrap_or_default();
            hard |= action == "failed" && status.starts_with('5');
            if let Some(recipient) =
                field(block, "final-recipient").or(field(block, "original-recipient"))
            {
                recipients.push(typed_address(recipient));
            }
            if detail.is_empty() {
                let diagnostic = field(block, "diagnostic-code").map(typed_address);
                detail = format!("{status} {}", diagnostic.unwrap_or_default())
                    .trim()
                    .to_string();
            }
        }
    }
    Request::Bounce {
        tag,
        recipients,
        hard,
        detail,
    }
}

/// An ARF report: the original's List-Unsubscribe tokens, and the
/// recipients the report names (Original-Rcpt-To) or the original's To.
fn complaint(message: &Message) -> Request {
    let mut recipients = Vec::new();
    let mut detail = String::from("abuse report");
    for contents in parts_of(message, "feedback-report") {
        if let Some(block) = field_blocks(contents).first() {
            if let Some(kind) = field(block, "feedback-type") {
                detail = format!("{kind} report");
            }
            if let Some(source) = field(block, "reported-domain").or(field(block, "user-agent")) {
                detail = format!("{detail} ({source})");
            }
            recipients.extend(
                block
                    .iter()
                    .filter(|(k, _)| k == "original-rcpt-to")
                    .map(|(_, v)| typed_address(v)),
            );
        }
    }
    let mut tokens = Vec::new();
    let originals = message.parts.iter().filter_map(|part| {
        let headers_only = part.content_type().is_some_and(|ct| {
            ct.subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))
        });
        match part.message() {
            Some(original) => Some(original.raw_message().to_vec()),
            None if headers_only => Some(part.contents().to_vec()),
            None => None,
        }
    });
    for raw in originals.collect::<Vec<_>>() {
        let Some(original) = MessageParser::default().parse(&raw[..]) else {
            continue;
        };
        if let Some(unsubscribe) = original.header_raw("List-Unsubscribe") {
            tokens.extend(tokens_in(unsubscribe));
        }
        recipients.extend(
            original
                .to()
                .into_iter()
                .flat_map(mail_parser::Address::iter)
                .filter_map(|addr| addr.address().map(str::to_string)),
        );
    }
    Request::Complaint {
        tokens,
        recipients,
        detail,
    }
}

/// The tokens in a List-Unsubscribe value: the last path segment of its
/// https URL, the last word of its mailto's subject.
fn tokens_in(value: &str) -> Vec<String> {
    value
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|word| word.len() == TOKEN_CHARS)
        .map(str::to_string)
        .collect()
}

/// Whether a bounce's words say the mailbox is gone for good.
fn hard_words(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.split_whitespace().any(|word| {
        let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '.');
        (word.starts_with("5.") && word.len() >= 5)
            || word == "550"
            || word == "551"
            || word == "553"
    }) && !lower.contains("mailbox full")
}

fn first_line_with_code(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|line| line.contains("5.") || line.contains("550") || line.contains("4."))
        .unwrap_or("a bounce without a report")
        .chars()
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETURN_PATH: Option<&str> = Some("bounces@example.org");
    const LIST: Option<&str> = Some("list@example.org");

    fn classify_text(text: &str) -> Request {
        classify(text.replace('\n', "\r\n").as_bytes(), RETURN_PATH, LIST)
    }

    #[test]
    fn requests_by_subject_and_address() {
        let token = "AbCdEfGhIjKlMnOpQrStUv";
        assert_eq!(
            classify_text(&format!(
                "From: a@example.org\nTo: list@example.org\nSubject: Re: unsubscribe {token}\n\nx\n"
            )),
            Request::Unsubscribe {
                token: token.into()
            }
        );
        assert_eq!(
            classify_text(&format!(
                "From: a@example.org\nSubject: RE: confirm {token} (your subscription)\n\nx\n"
            )),
            Request::Confirm {
                token: token.into()
            }
        );
        assert_eq!(
            classify_text(
                "From: Ann <ann@example.org>\nTo: list@example.org\nSubject: Subscribe\n\n\n"
            ),
            Request::Subscribe {
                from: "ann@example.org".into(),
                name: "Ann".into()
            }
        );
        // A sign-up only to the list's own address; an unsubscribe only with a token.
        assert_eq!(
            classify_text("From: a@example.org\nTo: other@example.org\nSubject: subscribe\n\n\n"),
            Request::Other
        );
        assert_eq!(
            classify_text("From: a@example.org\nSubject: unsubscribe\n\nplease\n"),
            Request::Other
        );
        assert_eq!(
            classify(b"\xff\xfe not mail at all", RETURN_PATH, LIST),
            Request::Other
        );
    }

    #[test]
    fn a_bounce_without_a_report_is_judged_by_its_words() {
        let qmail = "From: MAILER-DAEMON@mx.example.org\nTo: bounces+AbCdEfGhIjKlMnOpQrStUv@example.org\n\
                     Subject: failure notice\n\nHi. This is the qmail-send program.\n\
                     <gone@example.net>:\nRemote host said: 550 5.1.1 no mailbox here by that name\n";
        match classify_text(qmail) {
            Request::Bounce {
                tag, hard, detail, ..
            } => {
                assert_eq!(tag.as_deref(), Some("AbCdEfGhIjKlMnOpQrStUv"));
                assert!(hard);
                assert_eq!(
                    detail,
                    "Remote host said: 550 5.1.1 no mailbox here by that name"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(!hard_words("452 4.2.2 Mailbox full, try again later"));
    }
}
