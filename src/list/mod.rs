//! The mailing list (SPEC §2 `subscribers`, §5): the config's and CSV's
//! subscribers ([`subscribers`]) plus confirmed sign-ups, minus the
//! suppressed. What `serve`, `inbox` and `subscribers` change goes through
//! here into the store. Its rooms: [`subscribers`] reads the listed ones,
//! [`token`] signs the list's links, [`verdict`] judges a bounce, [`ledger`]
//! holds the store for one `inbox` run. The notices the list sends go out
//! through `mail` (`mail::notice`), which builds on the list, never the
//! other way round.

pub mod ledger;
pub(crate) mod subscribers;
pub mod token;
pub mod verdict;

use std::collections::{HashMap, HashSet};

use crate::address;
use crate::config::{Cadence, Config};
use crate::error::{Error, Location, Problem};
use crate::store::State;
pub use crate::store::list::{CONFIRMATIONS_PER_HOUR, Gate, Signup, Suppression};
use subscribers::Subscriber;
use token::Secret;

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
    pub(crate) fn as_str(self) -> &'static str {
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
    /// How often it is mailed: its own choice when it made one, else its row's.
    pub cadence: Cadence,
}

pub(crate) fn state_path(config: &Config) -> Result<std::path::PathBuf, Error> {
    Ok(config.email().map_err(Error::Invalid)?.state.clone())
}

/// Opens the state for a change, making it when there is none; beside a
/// `mail` run that may be sending.
pub(crate) fn open(config: &Config) -> Result<State, Error> {
    State::open_beside_runs(&state_path(config)?)
}

/// The list's key (see [`Secret::load_or_create`]): made on first use,
/// an error when it is lost after links signed with it went out. With
/// `record`, the state remembers that links signed with it go out now.
pub fn secret(
    config: &Config,
    list: &crate::config::ListSettings,
    record: bool,
) -> Result<Secret, Error> {
    let path = state_path(config)?;
    let used = match State::open_read_only(&path)? {
        Some(state) => state.keys_used()?,
        None => false,
    };
    let secret = Secret::load_or_create(&list.secret_file, used)?;
    if record {
        open(config)?.key_used(&secret.id())?;
    }
    Ok(secret)
}

/// Warnings for the list's private files that other users can read: the
/// secret key, the DKIM key.
pub fn exposures(config: &Config) -> Vec<String> {
    let secret = config
        .list
        .as_ref()
        .and_then(|list| Secret::exposure(&list.secret_file));
    let dkim = config
        .email()
        .ok()
        .and_then(|email| email.dkim.as_ref())
        .and_then(|dkim| {
            token::readable_by_others(
                &dkim.key_file,
                "the DKIM private key (whoever reads it can sign mail as your domain)",
            )
        });
    secret.into_iter().chain(dkim).collect()
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
        .map(|address| state.suppress(&address::key(address), reason.as_str(), detail, source))
        .collect()
}

/// Lifts each address's suppression; for each, whether it had one.
pub fn unsuppress(config: &Config, addresses: &[String]) -> Result<Vec<bool>, Error> {
    let state = open(config)?;
    addresses
        .iter()
        .map(|address| state.unsuppress(&address::key(address)))
        .collect()
}

/// Records a sign-up request, with the cadence chosen on the form (`None`
/// where none was offered); `false` when the address had asked already.
pub fn request_signup(
    config: &Config,
    address: &str,
    name: &str,
    source: &str,
    cadence: Option<Cadence>,
) -> Result<bool, Error> {
    open(config)?.request_signup(&address::key(address), name, source, cadence)
}

/// Records that `address` chose `cadence` (on `serve`'s page: `source`);
/// it wins over the config's or CSV's row, as a suppression does.
pub fn choose_cadence(
    config: &Config,
    address: &str,
    cadence: Cadence,
    source: &str,
) -> Result<(), Error> {
    open(config)?.choose_cadence(&address::key(address), cadence, source)
}

/// The cadence `address` chose, if it chose one: one lookup in the state,
/// never a read of the list.
pub fn chosen_cadence(config: &Config, address: &str) -> Result<Option<Cadence>, Error> {
    match State::open_read_only(&state_path(config)?)? {
        Some(state) => state.chosen_cadence(&address::key(address)),
        None => Ok(None),
    }
}

/// Whether `address` is on the list and mailed (not suppressed): a
/// sign-up of it needs no confirmation. Any spelling of the address counts.
pub fn on_list(config: &Config, address: &str) -> Result<bool, Error> {
    let key = address::key(address);
    Ok(members(config)?
        .iter()
        .any(|m| address::key(&m.email) == key && m.suppressed.is_none()))
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
    open(config)?.notified(&address::key(address))
}

/// Whether a sign-up's confirmation may be mailed to `address` now.
pub fn confirmation_gate(config: &Config, address: &str) -> Result<Gate, Error> {
    open(config)?.confirmation_gate(&address::key(address))
}

/// Confirms a pending sign-up; `false` when there was none.
pub fn confirm_signup(config: &Config, address: &str, by: &str) -> Result<bool, Error> {
    open(config)?.confirm_signup(&address::key(address), by)
}

/// The list: config and CSV subscribers, then confirmed sign-ups not
/// already listed, each with its suppression. A row of the config or CSV
/// that cannot be mailed (a bad address, a repeat) is left out, as `mail`
/// leaves it out: it never stops an unsubscribe, a sign-up or the inbox.
pub fn members(config: &Config) -> Result<Vec<Member>, Error> {
    Ok(roster(config)?.0)
}

/// [`members`], and the rows of the config or CSV left out, each with why.
pub fn roster(config: &Config) -> Result<(Vec<Member>, Vec<Problem>), Error> {
    let usable = subscribers::load_usable(config).map_err(Error::Invalid)?;
    let left_out: Vec<Problem> = usable.skipped.into_iter().chain(usable.repeated).collect();
    let listed = usable.subscribers;
    let state = State::open_read_only(&state_path(config)?)?;
    let (suppressions, signups, choices) = match &state {
        Some(state) => (
            state.suppressions()?,
            state.signups()?,
            state.cadence_choices()?,
        ),
        None => (Vec::new(), Vec::new(), HashMap::new()),
    };
    // By address: a list of 50,000 with 20,000 suppressed is read per request.
    let suppressions: HashMap<String, Suppression> = suppressions
        .into_iter()
        .map(|s| (address::key(&s.email), s))
        .collect();
    let suppression = |email: &str| suppressions.get(&address::key(email)).cloned();
    let mut seen: HashSet<String> = listed.iter().map(Subscriber::key).collect();
    let mut members: Vec<Member> = listed
        .into_iter()
        .map(|s| Member {
            suppressed: suppression(&s.email),
            cadence: effective_cadence(&choices, &s.key(), s.cadence),
            email: s.email,
            name: s.name,
            source: "config",
        })
        .collect();
    for signup in signups {
        let key = address::key(&signup.email);
        if signup.confirmed_at.is_some() && seen.insert(key.clone()) {
            members.push(Member {
                suppressed: suppression(&signup.email),
                cadence: effective_cadence(&choices, &key, signup.cadence.unwrap_or_default()),
                email: signup.email,
                name: signup.name,
                source: "sign-up",
            });
        }
    }
    Ok((members, left_out))
}

/// Tells `serve` when the addresses a token may name can have changed in
/// the state: a sign-up added (see `State::signups_mark`). Holds one
/// read-only connection, so a look costs one query, never an open (each
/// open and close of the last connection makes and deletes `state.db-wal`).
#[derive(Debug)]
pub struct SignupsWatch {
    path: std::path::PathBuf,
    /// The open state and the file it was opened on (device, inode): a
    /// state replaced (restored from a backup) is opened anew.
    state: Option<(State, (u64, u64))>,
}

impl SignupsWatch {
    /// A watch on `config`'s state; opened at the first look.
    pub fn new(config: &Config) -> Result<SignupsWatch, Error> {
        Ok(SignupsWatch {
            path: state_path(config)?,
            state: None,
        })
    }

    /// A number that differs whenever a sign-up was added since it was last
    /// read (0 while there is no state).
    pub fn mark(&mut self) -> Result<i64, Error> {
        use std::os::unix::fs::MetadataExt;
        let Ok(metadata) = std::fs::metadata(&self.path) else {
            self.state = None;
            return Ok(0);
        };
        let file = (metadata.dev(), metadata.ino());
        if self.state.as_ref().is_none_or(|(_, open)| *open != file) {
            self.state = State::open_read_only(&self.path)?.map(|state| (state, file));
        }
        match &self.state {
            Some((state, _)) => state.signups_mark(),
            None => Ok(0),
        }
    }
}

/// The cadence of the subscriber keyed `key` whose row says `listed`: its
/// own choice wins, as a suppression wins over the row.
fn effective_cadence(choices: &HashMap<String, Cadence>, key: &str, listed: Cadence) -> Cadence {
    choices.get(key).copied().unwrap_or(listed)
}

/// Every address a token may name: the list (suppressed or not) and
/// pending sign-ups.
pub fn known_addresses(config: &Config) -> Result<Vec<String>, Error> {
    Ok(known_cadences(config)?
        .into_iter()
        .map(|(address, _)| address)
        .collect())
}

/// [`known_addresses`], each with its cadence now (a pending sign-up's is
/// daily until confirmed).
pub fn known_cadences(config: &Config) -> Result<Vec<(String, Cadence)>, Error> {
    let mut addresses: Vec<(String, Cadence)> = members(config)?
        .into_iter()
        .map(|m| (m.email, m.cadence))
        .collect();
    addresses.extend(
        signups(config)?
            .into_iter()
            .filter(|s| s.confirmed_at.is_none())
            .map(|s| (s.email, Cadence::Daily)),
    );
    Ok(addresses)
}

/// Who a run mails, as [`mailable`] finds them.
#[derive(Debug, Default)]
pub(crate) struct Mailable {
    /// The listed ones and confirmed sign-ups, minus the suppressed.
    pub(crate) subscribers: Vec<Subscriber>,
    /// The keys of the sign-ups never mailed yet, owed the newest post as a welcome.
    pub(crate) welcome: HashSet<String>,
    /// Sign-ups the state holds that no message can be made for (an
    /// address that is no address: a row written by hand or by an older
    /// version), each named: skipped, and the run goes on.
    pub(crate) skipped: Vec<Problem>,
}

/// The subscribers a run mails (see [`Mailable`]), each with the cadence
/// it chose where it chose one (on the sign-up form, or by a switch on
/// `serve`'s page), else its row's.
///
/// Takes the listed subscribers over rather than copying them: a list of a
/// million is held once, not twice.
pub(crate) fn mailable(listed: Vec<Subscriber>, state: Option<&State>) -> Result<Mailable, Error> {
    let Some(state) = state else {
        return Ok(Mailable {
            subscribers: listed,
            ..Mailable::default()
        });
    };
    let suppressed: HashSet<String> = state
        .suppressed()?
        .iter()
        .map(|e| address::key(e))
        .collect();
    let choices = state.cadence_choices()?;
    let mut seen: HashSet<String> = listed.iter().map(Subscriber::key).collect();
    let mut listed = listed;
    listed.retain(|s| !suppressed.contains(&s.key()));
    if !choices.is_empty() {
        for subscriber in &mut listed {
            subscriber.cadence = effective_cadence(&choices, &subscriber.key(), subscriber.cadence);
        }
    }
    let mut mailable = Mailable {
        subscribers: listed,
        ..Mailable::default()
    };
    for signup in state.signups()? {
        let key = address::key(&signup.email);
        if signup.confirmed_at.is_none() || suppressed.contains(&key) || !seen.insert(key.clone()) {
            continue;
        }
        if let Err(why) = crate::address::check(&signup.email) {
            mailable.skipped.push(Problem::new(
                Location::file(state.path()),
                format!(
                    "sign-up: {why}; not mailed. Remove it with `digest-feed subscribers suppress`"
                ),
            ));
            continue;
        }
        let cadence = effective_cadence(&choices, &key, signup.cadence.unwrap_or_default());
        if !state.ever_mailed(&key)? {
            mailable.welcome.insert(key);
        }
        mailable.subscribers.push(Subscriber {
            cadence,
            email: signup.email,
            name: signup.name,
            tags: Vec::new(),
        });
    }
    Ok(mailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(email: &str, cadence: Cadence) -> Subscriber {
        Subscriber {
            email: email.to_string(),
            name: String::new(),
            tags: Vec::new(),
            cadence,
        }
    }

    #[test]
    fn every_subscriber_mailed_carries_the_cadence_it_chose_over_its_row() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("state.db")).unwrap();
        state
            .choose_cadence("kim@example.org", Cadence::Weekly, "serve")
            .unwrap();
        state
            .choose_cadence("lee@example.org", Cadence::Daily, "serve")
            .unwrap();
        state
            .request_signup("new@example.org", "", "serve", Some(Cadence::Weekly))
            .unwrap();
        state.confirm_signup("new@example.org", "serve").unwrap();
        state
            .request_signup("old@example.org", "", "inbox", None)
            .unwrap();
        state.confirm_signup("old@example.org", "inbox").unwrap();
        let rows = vec![
            // Any spelling of the address is the one who chose.
            listed("Kim@Example.org", Cadence::Daily),
            listed("lee@example.org", Cadence::Weekly),
            listed("park@example.org", Cadence::Weekly),
        ];
        let mailable = mailable(rows, Some(&state)).unwrap();
        let cadences: Vec<(&str, Cadence)> = mailable
            .subscribers
            .iter()
            .map(|s| (s.email.as_str(), s.cadence))
            .collect();
        assert_eq!(
            cadences,
            [
                ("Kim@Example.org", Cadence::Weekly),
                ("lee@example.org", Cadence::Daily),
                ("park@example.org", Cadence::Weekly),
                ("new@example.org", Cadence::Weekly),
                ("old@example.org", Cadence::Daily),
            ]
        );
        // Without a state, the rows say.
        let rows = vec![listed("kim@example.org", Cadence::Weekly)];
        assert_eq!(
            mailable_cadences(rows),
            [("kim@example.org".to_string(), Cadence::Weekly)]
        );
    }

    fn mailable_cadences(rows: Vec<Subscriber>) -> Vec<(String, Cadence)> {
        mailable(rows, None)
            .unwrap()
            .subscribers
            .into_iter()
            .map(|s| (s.email, s.cadence))
            .collect()
    }
}
