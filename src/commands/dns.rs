//! `digest-feed dns` (SPEC §2): the DNS records the sending domain needs,
//! as zone-file lines with one comment each on what they do: DKIM (from
//! `[email.dkim]`'s key), and SPF and DMARC to start from.

use std::fmt::Write as _;

use super::report::Report;
use crate::address::ascii_domain;
use crate::config::{Config, Dkim};
use crate::error::{Error, Location, Problem};

/// Runs `dns`.
pub(super) fn run(config: &Config, report: Report) -> Result<(), Error> {
    let email = config.email().map_err(Error::Invalid)?;
    let from_domain = ascii_domain(email.from.domain()).ok_or_else(|| {
        Problem::new(
            Location::file(&config.path),
            format!(
                "[email] from {:?} has no domain to publish records for",
                email.from.email
            ),
        )
    })?;
    let smtp_host = config.smtp().ok().map(|smtp| smtp.host.clone());
    report.result(records(
        &from_domain,
        email.dkim.as_ref(),
        smtp_host.as_deref(),
    ));
    Ok(())
}

/// The records, as zone-file text with comments.
fn records(domain: &str, dkim: Option<&Dkim>, smtp_host: Option<&str>) -> String {
    let mut out = String::new();
    match dkim {
        Some(dkim) => {
            let bits = dkim
                .key
                .bits
                .map_or(String::new(), |bits| format!(", {bits} bits"));
            let _ = writeln!(
                out,
                "; DKIM: receivers check each message's signature against this public key \
                 (selector {:?}, {}{bits}; from {}).",
                dkim.selector,
                dkim.algorithm.name(),
                dkim.key_file.display()
            );
            let _ = writeln!(
                out,
                "{}. 3600 IN TXT {}",
                dkim.record_name(),
                txt_strings(&dkim.record())
            );
            if !aligned(&dkim.domain, domain) {
                let _ = writeln!(
                    out,
                    "; warning: [email.dkim] domain {} is not the sender's domain {domain} nor its parent, \
                     so DMARC will not count the signature; sign with {domain}.",
                    dkim.domain
                );
            }
        }
        None => {
            let _ = write!(
                out,
                "; DKIM: no [email.dkim] in the config, so messages go out unsigned unless the relay signs them.\n\
             ; Make a key with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out dkim.pem`, add\n\
             ; [email.dkim] with domain = \"{domain}\", selector = \"digest\" and private_key_file = \"dkim.pem\",\n\
             ; and run `digest-feed dns` again for the record.\n"
            );
        }
    }
    let senders = match smtp_host {
        Some(host) if !is_local(host) => format!("a:{host} mx"),
        _ => "mx".to_string(),
    };
    let _ = write!(
        out,
        "; SPF: names the servers allowed to send mail from {domain}; add your relay's include: if it asks for one.\n\
         {domain}. 3600 IN TXT \"v=spf1 {senders} ~all\"\n"
    );
    let _ = write!(
        out,
        "; DMARC: asks receivers to check that SPF or DKIM matches the From domain and to send reports;\n\
         ; start with p=none, and move to p=quarantine once the reports show only your own mail.\n\
         _dmarc.{domain}. 3600 IN TXT \"v=DMARC1; p=none; rua=mailto:postmaster@{domain}; adkim=r; aspf=r\""
    );
    out
}

/// A TXT value as quoted strings of at most 255 bytes each (RFC 1035), in
/// parentheses when it takes more than one.
fn txt_strings(value: &str) -> String {
    let chunks: Vec<String> = value
        .as_bytes()
        .chunks(255)
        .map(|chunk| format!("\"{}\"", String::from_utf8_lossy(chunk)))
        .collect();
    if chunks.len() == 1 {
        chunks.concat()
    } else {
        format!("( {} )", chunks.join(" "))
    }
}

/// Whether a signature by `signing` counts for mail from `from` under
/// DMARC's relaxed alignment (the same domain or a parent; the public
/// suffix list is not consulted).
fn aligned(signing: &str, from: &str) -> bool {
    from == signing || from.ends_with(&format!(".{signing}"))
}

fn is_local(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.starts_with("127.") || host == "::1"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_records_are_split_into_strings() {
        let value = "p=".to_string() + &"A".repeat(400);
        let text = txt_strings(&value);
        assert!(text.starts_with("( \"p=AAA"), "{text}");
        assert_eq!(text.matches('"').count(), 4);
    }

    #[test]
    fn without_a_key_the_records_say_how_to_make_one() {
        let text = records("example.org", None, Some("smtp.example.org"));
        assert!(text.contains("openssl genpkey -algorithm RSA"), "{text}");
        assert!(text.contains("example.org. 3600 IN TXT \"v=spf1 a:smtp.example.org mx ~all\""));
        assert!(text.contains("_dmarc.example.org. 3600 IN TXT \"v=DMARC1; p=none;"));
        assert!(aligned("example.org", "news.example.org"));
        assert!(!aligned("example.net", "example.org"));
    }
}
