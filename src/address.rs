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

/// Checks one bare address; the message says what is wrong with it.
pub(crate) fn check(email: &str) -> Result<(), String> {
    email
        .parse::<lettre::Address>()
        .map(drop)
        .map_err(|err| format!("{email:?} is not a valid email address ({err})"))
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
    fn refusals_say_why() {
        assert_eq!(
            check("not an address").unwrap_err(),
            "\"not an address\" is not a valid email address (Missing domain or user)"
        );
        assert!(Mailbox::parse("nobody").is_err());
    }
}
