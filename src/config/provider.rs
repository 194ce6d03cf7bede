//! `[smtp] provider`: presets for the relays people hand a list to, so that
//! `provider = "gmail"` alone gives the right host, port, TLS and the
//! provider's sending limits. Only defaults: a key set beside the provider
//! wins, which is how SES's region (its host) or a higher quota is given.

use super::TlsMode;

/// What a provider sets unless `[smtp]` says otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Preset {
    /// The value of `provider`.
    pub(super) name: &'static str,
    pub(super) host: &'static str,
    pub(super) port: u16,
    pub(super) tls: TlsMode,
    /// The login when the provider uses a fixed one (`SendGrid`'s `apikey`).
    pub(super) username: Option<&'static str>,
    /// Messages at once: a consumer relay throttles parallel sessions.
    pub(super) connections: u32,
    /// Messages a second; 0: no limit.
    pub(super) rate_per_second: f64,
    /// Messages in a rolling 24 hours; 0: no cap.
    pub(super) max_per_day: u64,
}

/// A relay on port 587 with STARTTLS, as all of these are.
const fn starttls(
    name: &'static str,
    host: &'static str,
    connections: u32,
    rate_per_second: f64,
    max_per_day: u64,
) -> Preset {
    Preset {
        name,
        host,
        port: 587,
        tls: TlsMode::Starttls,
        username: None,
        connections,
        rate_per_second,
        max_per_day,
    }
}

/// Every preset. The limits are the documented ones of the account a new
/// user has (Gmail's 500 a day, Workspace's 2,000, SES's sandbox: 200 a day
/// at one a second); an account with more sets `max_per_day` and
/// `rate_per_second` beside it. The others have no daily cap of their own.
const PRESETS: &[Preset] = &[
    starttls("gmail", "smtp.gmail.com", 2, 1.0, 500),
    starttls("workspace", "smtp.gmail.com", 2, 1.0, 2000),
    starttls("ses", "email-smtp.us-east-1.amazonaws.com", 1, 1.0, 200),
    // A newsletter is bulk mail: Postmark takes it on its Broadcast stream's
    // host, never the transactional one (`smtp.postmarkapp.com`).
    starttls("postmark", "smtp-broadcasts.postmarkapp.com", 4, 0.0, 0),
    starttls("mailgun", "smtp.mailgun.org", 4, 0.0, 0),
    Preset {
        username: Some("apikey"),
        ..starttls("sendgrid", "smtp.sendgrid.net", 4, 0.0, 0)
    },
];

/// The preset called `name` (without regard to case), or the message for an
/// unknown one: the known names, and the nearest one when it is a likely typo.
pub(super) fn preset(name: &str) -> Result<&'static Preset, String> {
    let wanted = name.trim().to_ascii_lowercase();
    if let Some(preset) = PRESETS.iter().find(|preset| preset.name == wanted) {
        return Ok(preset);
    }
    let names: Vec<&str> = PRESETS.iter().map(|preset| preset.name).collect();
    let nearest = names
        .iter()
        .map(|known| (strsim::levenshtein(&wanted, known), *known))
        .filter(|(distance, known)| *distance <= 2.max(known.len() / 3))
        .min();
    let hint = nearest.map_or(String::new(), |(_, known)| {
        format!("; did you mean \"{known}\"?")
    });
    Err(format!(
        "[smtp] provider {name:?} is not one digest-feed knows (it knows {}){hint} \
         For another relay, leave provider out and set host, port and tls",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_named_provider_has_its_relay_and_limits() {
        let gmail = preset("gmail").unwrap();
        assert_eq!(
            (gmail.host, gmail.port, gmail.max_per_day),
            ("smtp.gmail.com", 587, 500)
        );
        assert_eq!(preset("Workspace").unwrap().max_per_day, 2000);
        assert_eq!(
            preset("ses").unwrap().host,
            "email-smtp.us-east-1.amazonaws.com"
        );
        assert_eq!(preset("sendgrid").unwrap().username, Some("apikey"));
        for name in ["postmark", "mailgun"] {
            assert_eq!(preset(name).unwrap().tls, TlsMode::Starttls);
        }
    }

    #[test]
    fn an_unknown_provider_names_the_known_ones_and_the_nearest() {
        let message = preset("gmial").unwrap_err();
        assert!(message.contains("did you mean \"gmail\"?"), "{message}");
        assert!(
            message.contains("gmail, workspace, ses, postmark, mailgun, sendgrid"),
            "{message}"
        );
        let far = preset("exchange").unwrap_err();
        assert!(!far.contains("did you mean"), "{far}");
    }
}
