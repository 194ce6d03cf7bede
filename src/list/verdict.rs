//! What a refusal or a bounce says of the recipient's address: whether the
//! mailbox is gone for good (a hard bounce, which suppresses) or the failure
//! was for some other reason (spam, policy, rate, size, the sender, a full
//! mailbox, a delay), which must never drop a good address. One judge for
//! the replies `mail` gets at send time and the reports `inbox` reads.
//!
//! An RFC 3463 status code decides when it has one meaning; when it has
//! none (`5.0.0`, and the codes providers give a missing mailbox besides
//! other things), the words do: the words servers use for a missing
//! mailbox, unless the reply also speaks of the sender or of a policy.
//! Text is judged with its white space folded, so a reply a server wrapped
//! over two lines reads as one.

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

/// What a code alone says of the address: `Some(true)` bad for good (no
/// such mailbox 5.1.1, no such domain 5.1.2, moved 5.1.6, a domain that
/// takes no mail 5.1.10), `Some(false)` not (any 4.x.x; a policy, spam,
/// size or quota failure), `None` the words decide: the undefined 5.0.0,
/// the other address codes (Exchange's `5.1.351`, `GoDaddy`'s blocklist 5.1.3),
/// the disabled mailbox 5.2.1 that Gmail also gives a rate limit, and the
/// 5.4.1 and 5.5.0 Microsoft gives a missing mailbox.
fn code_says((class, subject, detail): (u8, u8, u16)) -> Option<bool> {
    if class != 5 {
        return Some(false);
    }
    match (subject, detail) {
        (1, 1 | 2 | 6 | 10) => Some(true),
        // The sender's address (bad syntax, bad system): not the recipient's.
        (1, 7 | 8) => Some(false),
        (_, 0) | (1, _) | (2 | 4, 1) | (4, 4) => None,
        _ => Some(false),
    }
}

/// The words of a missing (or closed) mailbox, as servers word it.
const MISSING_MAILBOX: &[&str] = &[
    "no such user",
    "user unknown",
    "unknown user",
    "user not found",
    "unknown recipient",
    "invalid recipient",
    "no such recipient",
    "recipient not found",
    "address not found",
    "unrouteable address",
    "no such mailbox",
    "invalid mailbox",
    "mailbox not found",
    "mailbox unavailable",
    "mailbox disabled",
    "account disabled",
    "account is disabled",
    "no mailbox here by that name",
    "does not exist",
    "doesn't have a",
    "recipient address rejected: access denied",
    "recipientnotfound",
    "dd requested mail action aborted",
    "host unknown",
    "no such domain",
    "domain not found",
    "host or domain name not found",
    "invalid domain",
];

/// Words that say a refusal is about the sender or a policy, whatever
/// else it says: such a refusal never suppresses on its words.
const NOT_THE_ADDRESS: &[&str] = &[
    "sender address",
    "sender rejected",
    "sender verify",
    "sender domain",
    "invalid sender",
    "unknown sender",
    "sender unknown",
    "policy",
    "spam",
    "blocked",
    "blacklist",
    "blocklist",
    "reputation",
    "rate limit",
    " at a rate ",
    "too many",
    "quota",
];

/// `text` lower-cased with each run of white space one space.
fn folded(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether folded `text`, with no code to decide, says the mailbox is gone.
fn words_say(text: &str) -> bool {
    MISSING_MAILBOX.iter().any(|words| text.contains(words)) && !vetoed(text)
}

/// Whether folded `text` speaks of the sender or a policy: then no code or
/// word in it suppresses (servers give 5.1.1 to a rate limit, too).
fn vetoed(text: &str) -> bool {
    NOT_THE_ADDRESS.iter().any(|words| text.contains(words))
}

/// Whether one reply (`550 5.1.1 <x>: User unknown`, a report's
/// Diagnostic-Code) says the mailbox does not exist.
pub fn no_such_user(reply: &str) -> bool {
    let text = folded(reply);
    let code = text.split(' ').find_map(enhanced_code);
    if let Some(Some(verdict)) = code.map(code_says) {
        return verdict && !vetoed(&text);
    }
    // The reply's own three digits: a 4xx is no verdict, whatever its words.
    let temporary = text
        .split(' ')
        .map(|word| word.trim_end_matches(['-', ':', ';']))
        .find(|word| word.len() == 3 && word.bytes().all(|b| b.is_ascii_digit()))
        .is_some_and(|code| code.starts_with('4'));
    !temporary && words_say(&text)
}

/// Whether a delivery report's `Status` (and its `Diagnostic-Code`) says
/// the address is bad for good.
/// The diagnostic is the remote server's own reply: its code, when it
/// gives one, outranks the Status the reporting server mapped it to.
pub fn report_says_bad_address(status: &str, diagnostic: &str) -> bool {
    let diagnosed = folded(diagnostic)
        .split(' ')
        .any(|word| enhanced_code(word).is_some());
    match enhanced_code(status).filter(|_| !diagnosed) {
        Some(code) => match code_says(code) {
            Some(verdict) => verdict && !vetoed(&folded(diagnostic)),
            None => no_such_user(diagnostic),
        },
        None => no_such_user(diagnostic),
    }
}

/// Whether a bounce in no standard form (qmail's, Sendmail's, old Exim's)
/// says the address is bad for good, line by line. Only its own words are
/// read: the lines before the copy of the message it returns, which may
/// say anything.
pub fn bounce_text_says_bad_address(text: &str) -> bool {
    text.lines()
        .take_while(|line| {
            let line = line.trim_start().to_ascii_lowercase();
            !(line.contains("copy of the message")
                || line.contains("original message")
                || line.starts_with("received:")
                || line.starts_with("return-path:"))
        })
        .any(no_such_user)
}

#[cfg(test)]
mod tests;
