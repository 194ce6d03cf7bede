//! Email addresses, read with lettre's parser: what the config and the
//! subscriber list accept is exactly what the message builder can send.
//! A leaf: the config, the subscriber list and `mail` all read it.

/// A parsed mailbox: `Name <user@example.org>` or a bare address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name, when one was given.
    pub name: Option<String>,
    /// The address, `user@domain`.
    pub email: String,
}

impl Mailbox {
    /// Parses `text`; the error is the parser's reason, for a message.
    pub fn parse(text: &str) -> Result<Mailbox, String> {
        let mailbox: lettre::message::Mailbox =
            text.trim().parse().map_err(|err| format!("{err}"))?;
        Ok(Mailbox {
            name: mailbox.name,
            email: mailbox.email.to_string(),
        })
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.email.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

/// A domain in the ASCII form DNS, SMTP and every header take
/// (`예시.한국` → `xn--vv4b11d.xn--3e0b707e`), by IDNA (the url crate's);
/// `None` when it is no domain name.
pub(crate) fn ascii_domain(domain: &str) -> Option<String> {
    match url::Host::parse(domain.trim().trim_end_matches('.')) {
        Ok(url::Host::Domain(ascii)) if ascii.contains('.') || ascii == "localhost" => Some(ascii),
        _ => None,
    }
}

/// Checks one bare address; the message says what is wrong with it. Some
/// addresses lettre's parser takes cannot be sent to by its message
/// builder (a quoted local part, a domain literal): refused here too, so
/// that `check` names them instead of `mail` failing on them.
pub(crate) fn check(email: &str) -> Result<(), String> {
    email
        .parse::<lettre::Address>()
        .map_err(|err| format!("{email:?} is not a valid email address ({err})"))?;
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    if local.starts_with('"') {
        return Err(format!(
            "{email:?}: a quoted local part cannot be mailed; write the address without quotes"
        ));
    }
    if domain.starts_with('[') {
        return Err(format!(
            "{email:?}: an address at an IP literal cannot be mailed; use a domain name"
        ));
    }
    Ok(())
}

/// The longest display name kept, in characters: a name, not a letter.
pub(crate) const NAME_CHARS: usize = 100;

/// A display name as every header and terminal may carry it, whatever it
/// came from (a web form, an RFC 2047 word in a mail's From, a row of the
/// state): white space (line breaks included) folded into single spaces,
/// every other control or format character (ESC, BEL, NUL, bidi overrides)
/// dropped, cut to [`NAME_CHARS`]. The one cleaner of names on the way in.
pub(crate) fn display_name(raw: &str) -> String {
    let kept: String = raw
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !is_format(*c))
        .collect();
    kept.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(NAME_CHARS)
        .collect()
}

/// Unicode's invisible format characters that reorder or hide text on a
/// terminal or in a mail client: bidi embeddings, overrides and isolates,
/// zero-width marks, the BOM.
fn is_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Whether mailing `email` needs a server that offers SMTPUTF8 (RFC 6531).
pub(crate) fn needs_smtputf8(email: &str) -> bool {
    !email.is_ascii()
}

/// The address as people mean it, for finding one person listed twice:
/// the local part in Unicode compatibility form (NFKC: NFC and NFD `josé`,
/// fullwidth letters) without case, the domain in its IDNA (punycode) form,
/// so `a@bücher.de` and `a@xn--bcher-kva.de` are one address.
pub(crate) fn identity(email: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let email = email.trim();
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let local: String = local.nfkc().collect::<String>().to_lowercase();
    let domain: String = domain.nfkc().collect::<String>().to_lowercase();
    let domain = ascii_domain(&domain).unwrap_or(domain);
    format!("{local}@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_and_an_address() {
        let mailbox = Mailbox::parse(" Daily Papers <papers@example.org> ").unwrap();
        assert_eq!(mailbox.name.as_deref(), Some("Daily Papers"));
        assert_eq!(mailbox.email, "papers@example.org");
        assert_eq!(mailbox.domain(), "example.org");
    }

    #[test]
    fn domains_become_ascii() {
        assert_eq!(
            ascii_domain("예시.한국").as_deref(),
            Some("xn--vv4b11d.xn--3e0b707e")
        );
        assert_eq!(ascii_domain("Example.ORG").as_deref(), Some("example.org"));
        assert_eq!(ascii_domain("not a domain"), None);
    }

    #[test]
    fn addresses_the_builder_cannot_send_to_are_refused() {
        assert!(
            check("\"a/../b\"@example.org")
                .unwrap_err()
                .contains("quoted local part")
        );
        assert!(check("x@[127.0.0.1]").unwrap_err().contains("IP literal"));
        assert!(check("김@example.org").is_ok());
        assert!(needs_smtputf8("김@example.org") && !needs_smtputf8("kim@example.org"));
    }

    #[test]
    fn one_person_whatever_the_unicode_form() {
        let same = |a: &str, b: &str| assert_eq!(identity(a), identity(b), "{a} / {b}");
        same("jos\u{e9}@example.org", "jose\u{301}@example.org");
        same("a@bücher.de", "a@xn--bcher-kva.de");
        same("ＡＢ@example.org", "ab@example.org");
        same("Kim@Example.ORG", "kim@example.org");
        assert_ne!(identity("a@example.org"), identity("b@example.org"));
    }

    #[test]
    fn a_name_from_anywhere_can_never_start_a_header() {
        assert_eq!(
            display_name("Evil\r\nBcc: x@example.org"),
            "Evil Bcc: x@example.org"
        );
        assert_eq!(
            display_name("\u{1b}[31mRed\u{7} \0Kim\u{202E}"),
            "[31mRed Kim"
        );
        assert_eq!(display_name(&"가".repeat(500)).chars().count(), NAME_CHARS);
        assert_eq!(display_name("  "), "");
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            check("not an address").unwrap_err(),
            "\"not an address\" is not a valid email address (Missing domain or user)"
        );
        assert!(Mailbox::parse("nobody").is_err());
    }
}
