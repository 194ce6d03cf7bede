//! What a refusal or a bounce says of the recipient's address: whether the
//! mailbox is gone for good (a hard bounce, which suppresses) or the failure
//! was for some other reason (spam, policy, size, the sender, a full
//! mailbox, a delay), which must never drop a good address. One judge for
//! the replies `mail` gets at send time and the reports `inbox` reads.
//!
//! An RFC 3463 status code decides when there is one that means something;
//! without one (or with the "undefined" `X.0.0`), the words servers use for
//! a missing mailbox, never words about the sender.

/// An RFC 3463 status code `class.subject.detail` in a word (`5.1.1`,
/// `#5.1.1`, `(5.1.10)`): a class of 4 or 5, a subject of one digit, a
/// detail of one to three. `5.12.2025` (a date) and `2.1.0` (a version)
/// are none.
pub fn enhanced_code(word: &str) -> Option<(u8, u8, u16)> {
    let word = word.trim_matches(|c: char| !c.is_ascii_digit());
    let mut parts = word.split('.');
    let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |part: &str, most: usize| {
        !part.is_empty() && part.len() <= most && part.bytes().all(|b| b.is_ascii_digit())
    };
    if parts.next().is_some() || !digits(class, 1) || !digits(subject, 1) || !digits(detail, 3) {
        return None;
    }
    let code = (
        class.parse().ok()?,
        subject.parse().ok()?,
        detail.parse().ok()?,
    );
    matches!(code.0, 4 | 5).then_some(code)
}

/// Whether a code says the address itself is bad, for good: no such
/// mailbox (5.1.1), no such domain (5.1.2), a bad address (5.1.3), moved
/// (5.1.6), a domain that takes no mail (5.1.10), a disabled mailbox
/// (5.2.1). `None`: the code alone does not say (`5.0.0`, and the codes
/// large providers give a missing mailbox besides another meaning).
fn code_says((class, subject, detail): (u8, u8, u16)) -> Option<bool> {
    if class != 5 {
        return Some(false);
    }
    match (subject, detail) {
        (1, 1 | 2 | 3 | 6 | 10) | (2, 1) => Some(true),
        // Undefined detail; Microsoft 365's "5.4.1 Recipient address
        // rejected: Access denied" and Outlook.com's "5.5.0 … mailbox
        // unavailable" are their missing mailbox: the words decide.
        (_, 0) | (4, 1) => None,
        _ => Some(false),
    }
}

/// The words of a missing mailbox, as servers word it.
const MISSING_MAILBOX: &[&str] = &[
    "no such user",
    "user unknown",
    "unknown user",
    "no such mailbox",
    "mailbox not found",
    "no mailbox here by that name",
    "does not exist",
    "recipient address rejected: access denied",
    "mailbox unavailable",
    "recipientnotfound",
];

/// Whether one reply (`550 5.1.1 <x>: User unknown`, a report's
/// Diagnostic-Code) says the mailbox does not exist.
pub fn no_such_user(reply: &str) -> bool {
    let lower = reply.to_lowercase();
    if lower.contains("sender") {
        return false;
    }
    // The code right after the reply's three digits, as servers write it.
    let code = lower.split_whitespace().take(3).find_map(enhanced_code);
    match code.and_then(code_says) {
        Some(verdict) => verdict,
        None if code.is_some_and(|(class, _, _)| class != 5) => false,
        None => MISSING_MAILBOX.iter().any(|words| lower.contains(words)),
    }
}

/// Whether a delivery report's `Status` (and its `Diagnostic-Code`) says
/// the address is bad for good.
pub fn report_says_bad_address(status: &str, diagnostic: &str) -> bool {
    match enhanced_code(status).map(|code| (code, code_says(code))) {
        Some((_, Some(verdict))) => verdict,
        Some(((5, _, _), None)) | None => no_such_user(diagnostic),
        Some(_) => false,
    }
}

/// Whether a bounce in no standard form (qmail's, old Exim's) says the
/// address is bad for good. Only its own words are read: the lines up to
/// the copy of the message it returns, which may say anything.
pub fn bounce_text_says_bad_address(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .take_while(|line| {
            !(line.starts_with("---")
                || line.starts_with("Received:")
                || line.starts_with("Return-Path:"))
        })
        .any(no_such_user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_strictly() {
        assert_eq!(enhanced_code("#5.1.1)"), Some((5, 1, 1)));
        assert_eq!(enhanced_code("(5.1.10)"), Some((5, 1, 10)));
        assert_eq!(enhanced_code("5.12.2025"), None, "a date");
        assert_eq!(enhanced_code("5.12."), None);
        assert_eq!(enhanced_code("v2.1.0"), None, "a version");
    }

    #[test]
    fn only_a_missing_mailbox_is_no_such_user() {
        for gone in [
            "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown",
            "550 No such user here",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound",
            "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
            "550 5.5.0 Requested action not taken: mailbox unavailable",
            "smtp; 550 User unknown",
        ] {
            assert!(no_such_user(gone), "{gone}");
        }
        for not in [
            "554 5.7.1 Relay access denied",
            "552 5.2.2 Mailbox full",
            "553 5.1.0 <bounces@example.org>: Sender address rejected: User unknown in local recipient table",
            "554 5.7.1 <kim@example.org>: Recipient address rejected: Access denied",
            "550 Sender address rejected: user unknown",
            "450 4.1.1 <x@example.org>: Recipient address rejected: User unknown (try later)",
            "550 5.4.1 Message rejected: host unreachable",
        ] {
            assert!(!no_such_user(not), "{not}");
        }
    }

    #[test]
    fn reports_and_old_bounces() {
        assert!(report_says_bad_address("5.1.1", ""));
        assert!(report_says_bad_address("5.0.0", "smtp; 550 User unknown"));
        assert!(!report_says_bad_address(
            "5.7.1",
            "smtp; 550 5.7.1 spam; user unknown"
        ));
        assert!(!report_says_bad_address("4.4.7", "delivery time expired"));
        let qmail = "Hi. This is the qmail-send program.\n<gone@example.net>:\n\
                     Sorry, no mailbox here by that name. (#5.1.1)\n\
                     --- Below this line is a copy of the message.\n";
        assert!(bounce_text_says_bad_address(qmail));
        let quoting = "<lee@example.org>:\n550 5.7.1 blocked\n\
                       --- Below this line is a copy of the message.\n\
                       This paper's user unknown to the reviewers does not exist.\n";
        assert!(
            !bounce_text_says_bad_address(quoting),
            "the quoted copy says nothing"
        );
        assert!(!bounce_text_says_bad_address("I am away until 5.12.2025."));
    }
}
