//! What one message in the list's mailbox asks for, read with mail-parser
//! (which lives here and nowhere else): an unsubscribe or a confirmation
//! (the token in its Subject), a sign-up (`subscribe` to the list's
//! address), a bounce (an RFC 3464 delivery report, or any message to a
//! VERP address `bounces+TAG@`), a complaint (an ARF report, RFC 5965).

use mail_parser::{Message, MessageParser, MimeHeaders};

use crate::list::token::TOKEN_CHARS;
use crate::list::verdict;

/// The most recipients read from one delivery report.
const MAX_RECIPIENTS: usize = 100;

/// What a message asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Request {
    /// `unsubscribe TOKEN` (the List-Unsubscribe mailto).
    Unsubscribe { token: String },
    /// `confirm TOKEN` (a reply to a sign-up's confirmation), from `from`.
    Confirm { token: String, from: String },
    /// `subscribe` to the list's address, from `from`.
    Subscribe { from: String, name: String },
    /// A bounce to a VERP address: its tag (which names the recipient; no
    /// address a report merely names is believed), whether the address is
    /// bad for good (RFC 3463's 5.1.x and 5.2.1), and the report's words.
    Bounce {
        tag: String,
        hard: bool,
        detail: String,
    },
    /// A complaint: the unsubscribe tokens and VERP tags of the original it
    /// quotes (secrets only the complainer's own copy holds).
    Complaint {
        tokens: Vec<String>,
        tags: Vec<String>,
        detail: String,
    },
    /// An automatic reply (out of office, a vacation notice): nothing to do,
    /// and nothing for the owner to read.
    AutoReply { from: String },
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
        Some("delivery-status") => return tag.map_or(Request::Other, |tag| bounce(&message, tag)),
        Some("feedback-report") => return complaint(&message, return_path),
        _ => {}
    }
    let (command, token) = command(&message);
    // An unsubscribe carries its proof (the token): whatever sent it, it
    // is honoured, automatic or not.
    if command == "unsubscribe"
        && let Some(token) = token.clone()
    {
        return Request::Unsubscribe { token };
    }
    if let Some(tag) = tag.filter(|_| bounce_like(&message)) {
        // A bounce in one of the formats before RFC 3464 (qmail, old Exim):
        // the VERP address says whose it is, its own words how bad.
        let text = message.body_text(0).unwrap_or_default().to_string();
        return Request::Bounce {
            tag,
            hard: verdict::bounce_text_says_bad_address(&text),
            detail: first_line_with_code(&text),
        };
    }
    if automatic(&message) {
        return Request::AutoReply {
            from: sender_address(&message),
        };
    }
    match (command.as_str(), token) {
        ("confirm", Some(token)) => Request::Confirm {
            token,
            from: sender_address(&message),
        },
        ("subscribe", _) if addressed_to(&message, list_address) => {
            match message.from().and_then(|from| from.first()) {
                Some(from) if from.address().is_some() => Request::Subscribe {
                    from: from.address().unwrap_or_default().to_string(),
                    name: from.name().unwrap_or_default().to_string(),
                },
                _ => Request::Other,
            }
        }
        _ => Request::Other,
    }
}

/// What mail clients put before a reply's subject: `Re:` and its
/// translations (German, Nordic, Dutch, French, Italian, Polish,
/// Portuguese, Finnish, Lithuanian, Turkish).
const REPLY_PREFIXES: &[&str] = &[
    "re:", "aw:", "sv:", "antw:", "vs:", "réf.:", "ref:", "rif:", "odp:", "res:", "vá:", "atb:",
    "ynt:",
];

/// The Subject's command (`unsubscribe`, `confirm`, `subscribe`, lower-
/// cased) after any reply or forward prefixes (`Re:`, `AW:`, `SV:`, …), and
/// the first token in it.
fn command(message: &Message) -> (String, Option<String>) {
    let subject = message.subject().unwrap_or_default().trim();
    let words: Vec<&str> = subject
        .split_whitespace()
        // Reply prefixes only (`Auto:` is a responder's, and must not pass).
        .skip_while(|word| REPLY_PREFIXES.contains(&word.to_lowercase().as_str()))
        .collect();
    let token = words
        .iter()
        .map(|word| {
            word.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        })
        .find(|word| word.len() == TOKEN_CHARS)
        .map(str::to_string);
    let command = words
        .first()
        .map(|word| word.to_ascii_lowercase())
        .unwrap_or_default();
    (command, token)
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
    candidates
        .iter()
        .find_map(|address| tag_of(address, return_path))
}

/// The TAG of `address` when it is the VERP form `user+TAG@domain` of
/// `return_path` (`user@domain`).
fn tag_of(address: &str, return_path: &str) -> Option<String> {
    let (user, domain) = return_path.rsplit_once('@')?;
    let prefix = format!("{}+", user.to_ascii_lowercase());
    let suffix = format!("@{}", domain.to_ascii_lowercase());
    let address = address.trim().trim_matches(['<', '>']);
    let lower = address.to_ascii_lowercase();
    let tag_end = lower.strip_suffix(&suffix)?.len();
    lower
        .starts_with(&prefix)
        .then(|| address[prefix.len()..tag_end].to_string())
        .filter(|tag| !tag.is_empty())
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

/// An RFC 3464 report to the VERP address `tag` came from: bad for good
/// when a recipient `failed` with a status (or, for `5.0.0`, a diagnostic)
/// that says the address is bad; any other failure (a policy block, 5.7.1)
/// is soft. A `delayed` report (a warning: the server still tries) is no
/// bounce at all: one slow message must not count against an address. A
/// report that names no failed or delayed recipient is left for the owner.
fn bounce(message: &Message, tag: String) -> Request {
    let mut delayed = false;
    let mut failed = false;
    let mut hard = false;
    let mut detail = String::new();
    for contents in parts_of(message, "delivery-status") {
        for block in field_blocks(contents).iter().skip(1) {
            let action = field(block, "action")
                .unwrap_or_default()
                .to_ascii_lowercase();
            delayed |= action == "delayed";
            if action != "failed" {
                continue;
            }
            failed = true;
            let status = field(block, "status").unwrap_or_default();
            let diagnostic = field(block, "diagnostic-code").unwrap_or_default();
            hard |= verdict::report_says_bad_address(status, diagnostic);
            if detail.is_empty() {
                // Folded: servers wrap long diagnostics over lines.
                detail = crate::text::one_line(&format!("{status} {}", typed_address(diagnostic)));
            }
        }
    }
    if !failed {
        return if delayed {
            Request::AutoReply {
                from: sender_address(message),
            }
        } else {
            Request::Other
        };
    }
    Request::Bounce { tag, hard, detail }
}

/// Whether a message to the VERP address looks like a bounce rather than
/// a person's (or a program's) reply: from the mailer daemon or the
/// postmaster, with the null sender, or with a bounce's subject.
fn bounce_like(message: &Message) -> bool {
    let from = sender_address(message).to_ascii_lowercase();
    let local = from.split('@').next().unwrap_or_default();
    let null_sender = message
        .header_raw("Return-Path")
        .is_some_and(|path| path.trim() == "<>");
    let subject = message.subject().unwrap_or_default().to_lowercase();
    // A vacation responder also sends with the null sender (RFC 3834), and
    // says so with Auto-Submitted; the mailer daemon is no responder.
    matches!(local, "mailer-daemon" | "postmaster" | "mail-daemon")
        || !automatic(message)
            && (null_sender
                || [
                    "undeliver",
                    "delivery status notification",
                    "delivery failure",
                    "failure notice",
                    "returned mail",
                    "mail delivery failed",
                    "could not be delivered",
                    "delivery has failed",
                ]
                .iter()
                .any(|words| subject.contains(words)))
}

/// Whether a message says it was sent by a program without a person
/// (RFC 3834's Auto-Submitted, and the headers responders use instead).
fn automatic(message: &Message) -> bool {
    let value = |name: &str| {
        message
            .header_raw(name)
            .map(|value| value.trim().to_ascii_lowercase())
    };
    value("Auto-Submitted").is_some_and(|v| v != "no")
        || value("X-Autoreply").is_some()
        || value("X-Autorespond").is_some()
        || value("Precedence").is_some_and(|v| matches!(v.as_str(), "auto_reply" | "bulk" | "junk"))
}

/// The address of the message's From, or empty.
fn sender_address(message: &Message) -> String {
    message
        .from()
        .and_then(|from| from.first())
        .and_then(|from| from.address())
        .unwrap_or_default()
        .to_string()
}

/// An ARF report: the List-Unsubscribe tokens of the original it quotes,
/// and the VERP tags of its envelope sender (Original-Mail-From, the
/// original's Return-Path). The addresses a report names are not believed:
/// anyone can write a report naming anyone.
fn complaint(message: &Message, return_path: Option<&str>) -> Request {
    let mut detail = String::from("abuse report");
    let mut senders = Vec::new();
    for contents in parts_of(message, "feedback-report") {
        if let Some(block) = field_blocks(contents).first() {
            if let Some(kind) = field(block, "feedback-type") {
                detail = format!("{kind} report");
            }
            if let Some(source) = field(block, "reported-domain").or(field(block, "user-agent")) {
                detail = format!("{detail} ({source})");
            }
            senders.extend(field(block, "original-mail-from").map(str::to_string));
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
        senders.extend(original.header_raw("Return-Path").map(str::to_string));
    }
    let tags = return_path.map_or_else(Vec::new, |path| {
        senders
            .iter()
            .filter_map(|sender| tag_of(sender, path))
            .collect()
    });
    Request::Complaint {
        tokens,
        tags,
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
                token: token.into(),
                from: "a@example.org".into()
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
                assert_eq!(tag, "AbCdEfGhIjKlMnOpQrStUv");
                assert!(hard);
                assert_eq!(
                    detail,
                    "Remote host said: 550 5.1.1 no mailbox here by that name"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_a_bad_address_is_a_hard_bounce() {
        let dsn = |status: &str| {
            format!(
                "From: MAILER-DAEMON@mx.example.org\nTo: bounces+AbCdEfGhIjKlMnOpQrStUv@example.org\n\
                 Subject: Undelivered\nMIME-Version: 1.0\n\
                 Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
                 --B\nContent-Type: text/plain\n\nno\n--B\nContent-Type: message/delivery-status\n\n\
                 Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; lee@example.org\n\
                 Action: failed\nStatus: {status}\n\n--B--\n"
            )
        };
        let hard = |text: &str| match classify_text(text) {
            Request::Bounce { hard, .. } => hard,
            other => panic!("{other:?}"),
        };
        assert!(hard(&dsn("5.1.1")));
        assert!(!hard(&dsn("5.7.1")), "blocked as spam: soft");
        assert!(
            matches!(
                classify_text(&dsn("4.4.7").replace("Action: failed", "Action: delayed")),
                Request::AutoReply { .. }
            ),
            "a delay warning is no bounce"
        );
        // A report not to a VERP address names no one we believe.
        assert_eq!(
            classify_text(&dsn("5.1.1").replace("bounces+AbCdEfGhIjKlMnOpQrStUv@", "list@")),
            Request::Other
        );
    }

    #[test]
    fn automatic_replies_are_no_bounce_and_no_confirmation() {
        let ooo = "From: Lee <lee@example.org>\nTo: bounces+AbCdEfGhIjKlMnOpQrStUv@example.org\n\
                   Subject: Auto: Daily Papers\nAuto-Submitted: auto-replied\n\nI am away until 5.12.2025.\n";
        assert_eq!(
            classify_text(ooo),
            Request::AutoReply {
                from: "lee@example.org".into()
            }
        );
        let confirm = "From: new@example.org\nTo: list@example.org\nX-Autoreply: yes\n\
                       Subject: Re: confirm AbCdEfGhIjKlMnOpQrStUv (your subscription)\n\nAway.\n";
        assert!(matches!(classify_text(confirm), Request::AutoReply { .. }));
        // A person's reply to the VERP address, not a bounce: left for the owner.
        let person = "From: Lee <lee@example.org>\nTo: bounces+AbCdEfGhIjKlMnOpQrStUv@example.org\n\
                      Subject: Re: Daily Papers\n\nThanks, user unknown to me.\n";
        assert_eq!(classify_text(person), Request::Other);
    }
}
