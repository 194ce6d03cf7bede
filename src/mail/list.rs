//! The list as `mail` sees it (SPEC §2 `subscribers`, §5): the config's and
//! CSV's subscribers plus confirmed sign-ups, minus the suppressed. What
//! `serve`, `inbox` and `subscribers` change goes through here into the
//! state; notices (a sign-up's confirmation) go out over the same SMTP
//! transport as posts.

use std::collections::{HashMap, HashSet};

use super::state::State;
pub use super::state::list::{Gate, Signup, Suppression};
use super::transport::{SendError, Transport};
use crate::config::Config;
use crate::error::{Error, Location, Problem, Transient};
use crate::subscribers::{self, Subscriber, address_key};

/// Why an address is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// It asked to leave (one-click, the confirm page, a mail).
    Unsubscribed,
    /// Its mailbox does not exist (a hard bounce, or too many soft ones).
    Bounced,
    /// It reported a message as spam (ARF).
    Complained,
    /// The owner suppressed it (`subscribers suppress`).
    Manual,
}

impl Reason {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Reason::Unsubscribed => "unsubscribed",
            Reason::Bounced => "bounced",
            Reason::Complained => "complained",
            Reason::Manual => "manual",
        }
    }
}

/// One member of the list as `mail` sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Member {
    /// The address as written.
    pub email: String,
    /// The name, or empty.
    pub name: String,
    /// Where it is listed: `config` (config or CSV) or `sign-up`.
    pub source: &'static str,
    /// Its suppression, if it has one: then it is not mailed.
    pub suppressed: Option<Suppression>,
}

pub(super) fn state_path(config: &Config) -> Result<std::path::PathBuf, Error> {
    Ok(config.email().map_err(Error::Invalid)?.state.clone())
}

/// Opens the state for a change, making it when there is none; beside a
/// `mail` run that may be sending.
pub(super) fn open(config: &Config) -> Result<State, Error> {
    State::open_beside_runs(&state_path(config)?)
}

/// Every suppression, oldest first.
pub fn suppressions(config: &Config) -> Result<Vec<Suppression>, Error> {
    match State::open_read_only(&state_path(config)?)? {
        Some(state) => state.suppressions(),
        None => Ok(Vec::new()),
    }
}

/// Every sign-up, pending or confirmed.
pub fn signups(config: &Config) -> Result<Vec<Signup>, Error> {
    match State::open_read_only(&state_path(config)?)? {
        Some(state) => state.signups(),
        None => Ok(Vec::new()),
    }
}

/// Suppresses each address; for each, whether it was newly suppressed.
pub fn suppress(
    config: &Config,
    addresses: &[String],
    reason: Reason,
    detail: &str,
    source: &str,
) -> Result<Vec<bool>, Error> {
    let state = open(config)?;
    addresses
        .iter()
        .map(|address| state.suppress(&address_key(address), reason.as_str(), detail, source))
        .collect()
}

/// Lifts each address's suppression; for each, whether it had one.
pub fn unsuppress(config: &Config, addresses: &[String]) -> Result<Vec<bool>, Error> {
    let state = open(config)?;
    addresses
        .iter()
        .map(|address| state.unsuppress(&address_key(address)))
        .collect()
}

/// Records a sign-up request; `false` when the address had asked already.
pub fn request_signup(
    config: &Config,
    address: &str,
    name: &str,
    source: &str,
) -> Result<bool, Error> {
    open(config)?.request_signup(&address_key(address), name, source)
}

/// Whether `address` is on the list and mailed (not suppressed): a
/// sign-up of it needs no confirmation.
pub fn on_list(config: &Config, address: &str) -> Result<bool, Error> {
    Ok(members(config)?
        .iter()
        .any(|m| m.email.eq_ignore_ascii_case(address) && m.suppressed.is_none()))
}

/// The text of a sign-up's confirmation to `to`: who asked for what, `how`
/// to confirm (a sentence, then the link or nothing), and what to do if it
/// was not them. One wording for `serve`'s and `inbox`'s.
pub fn confirmation_text(config: &Config, to: &str, how: &str) -> String {
    let title = &config.site.title;
    format!(
        "Someone, we hope you, asked to receive {title} by email at {to}.\n\n{how}\
         If it was not you, ignore this message: you will not hear from us again.\n\n{}\n",
        config.site.url
    )
}

/// Records that `address`'s confirmation went out (or was refused for good).
pub fn notified(config: &Config, address: &str) -> Result<(), Error> {
    open(config)?.notified(&address_key(address))
}

/// Whether a sign-up's confirmation may be mailed to `address` now.
pub fn confirmation_gate(config: &Config, address: &str) -> Result<Gate, Error> {
    open(config)?.confirmation_gate(&address_key(address))
}

/// Confirms a pending sign-up; `false` when there was none.
pub fn confirm_signup(config: &Config, address: &str, by: &str) -> Result<bool, Error> {
    open(config)?.confirm_signup(&address_key(address), by)
}

/// The list: config and CSV subscribers, then confirmed sign-ups not
/// already listed, each with its suppression.
pub fn members(config: &Config) -> Result<Vec<Member>, Error> {
    let listed = subscribers::load(config).map_err(Error::Invalid)?;
    let state = State::open_read_only(&state_path(config)?)?;
    let (suppressions, signups) = match &state {
        Some(state) => (state.suppressions()?, state.signups()?),
        None => (Vec::new(), Vec::new()),
    };
    // By address: a list of 50,000 with 20,000 suppressed is read per request.
    let suppressions: HashMap<String, Suppression> = suppressions
        .into_iter()
        .map(|s| (s.email.clone(), s))
        .collect();
    let suppression = |email: &str| suppressions.get(&address_key(email)).cloned();
    let mut seen: HashSet<String> = listed.iter().map(Subscriber::key).collect();
    let mut members: Vec<Member> = listed
        .into_iter()
        .map(|s| Member {
            suppressed: suppression(&s.email),
            email: s.email,
            name: s.name,
            source: "config",
        })
        .collect();
    for signup in signups {
        if signup.confirmed_at.is_some() && seen.insert(signup.email.clone()) {
            members.push(Member {
                suppressed: suppression(&signup.email),
                email: signup.email,
                name: signup.name,
                source: "sign-up",
            });
        }
    }
    Ok(members)
}

/// Every address a token may name: the list (suppressed or not) and
/// pending sign-ups.
pub fn known_addresses(config: &Config) -> Result<Vec<String>, Error> {
    let mut addresses: Vec<String> = members(config)?.into_iter().map(|m| m.email).collect();
    addresses.extend(
        signups(config)?
            .into_iter()
            .filter(|s| s.confirmed_at.is_none())
            .map(|s| s.email),
    );
    Ok(addresses)
}

/// The subscribers a run mails: the listed ones and confirmed sign-ups,
/// minus the suppressed; and the sign-ups never mailed yet, owed the
/// newest post as a welcome.
pub(super) fn mailable(
    listed: &[Subscriber],
    state: Option<&State>,
) -> Result<(Vec<Subscriber>, HashSet<String>), Error> {
    let Some(state) = state else {
        return Ok((listed.to_vec(), HashSet::new()));
    };
    let suppressed = state.suppressed()?;
    let mut seen: HashSet<String> = listed.iter().map(Subscriber::key).collect();
    let mut mailable: Vec<Subscriber> = listed
        .iter()
        .filter(|s| !suppressed.contains(&s.key()))
        .cloned()
        .collect();
    let mut welcome = HashSet::new();
    for signup in state.signups()? {
        if signup.confirmed_at.is_none()
            || suppressed.contains(&signup.email)
            || !seen.insert(signup.email.clone())
        {
            continue;
        }
        if !state.ever_mailed(&signup.email)? {
            welcome.insert(signup.email.clone());
        }
        mailable.push(Subscriber {
            email: signup.email,
            name: signup.name,
            tags: Vec::new(),
        });
    }
    Ok((mailable, welcome))
}

/// How a notice ended, when the server answered for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The server accepted it.
    Sent,
    /// The server refused it for good (a 5xx); its reply. Trying again
    /// would be refused again: the request it answers is done with.
    Refused(String),
}

/// Sends one plain-text notice (a sign-up's confirmation) to `to` over
/// `[smtp]`, with the password from the environment. An error is one a
/// later try may not meet (no connection, a 4xx).
pub fn send_notice(config: &Config, to: &str, subject: &str, text: &str) -> Result<Notice, Error> {
    let email = config.email().map_err(Error::Invalid)?;
    let smtp = config.smtp().map_err(Error::Invalid)?;
    let reply_to = config
        .list
        .as_ref()
        .and_then(|list| list.address.as_deref());
    // A notice that cannot be made for this address never will be.
    let (envelope, bytes) = match super::message::notice(&email.from, (to, reply_to), subject, text)
    {
        Ok(built) => built,
        Err(message) => return Ok(Notice::Refused(message)),
    };
    let transport = Transport::new(smtp, smtp.password()?)?;
    // A setting to fix (a TLS mismatch, a refused login) is the owner's
    // (exit 2); anything else may pass (exit 3), and is tried again.
    let unavailable = |err: SendError| match err {
        SendError::Misconfigured(reason) => Error::from(Problem::new(
            Location::file(&config.path),
            format!("[smtp]: {reason}"),
        )),
        SendError::Permanent(reply) | SendError::Transient(reply) => {
            Error::Transient(Transient::Unavailable(format!(
                "cannot send the notice to {to} through {}: {}",
                smtp.server(),
                reply.text
            )))
        }
        SendError::Fatal(reason) => Error::Transient(Transient::Unavailable(format!(
            "cannot send the notice to {to} through {}: {reason}",
            smtp.server()
        ))),
    };
    let mut session = transport.session().map_err(unavailable)?;
    match session.send(&envelope, &bytes) {
        Ok(()) => Ok(Notice::Sent),
        Err(SendError::Permanent(reply)) => Ok(Notice::Refused(reply.text)),
        Err(err) => Err(unavailable(err)),
    }
}
