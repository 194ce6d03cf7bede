//! What a run needs from the config, read and checked before anything is
//! sent: the email's design, the letterhead (sender, DKIM, the list's
//! tokens), the subscribers and who of them cannot be mailed, and where
//! the delivery state is.

use std::path::PathBuf;

use super::message::Letterhead;
use crate::config::Config;
use crate::email::Design;
use crate::error::{self, Error, Location, Problem};
use crate::list::subscribers::{self, Subscriber};

/// Everything a run needs that comes from the config, checked.
pub(crate) struct Setup {
    /// The email's templates.
    pub(crate) design: Design,
    /// Sender, DKIM and the list's tokens.
    pub(crate) letterhead: Letterhead,
    /// Every subscriber who can be mailed.
    pub(crate) subscribers: Vec<Subscriber>,
    /// Subscribers who cannot be mailed, each with why: warned about, skipped.
    pub(crate) skipped: Vec<Problem>,
    /// Rows that repeat an address listed before: warned about, mailed once.
    pub(crate) repeated: Vec<Problem>,
    /// The delivery state's file.
    pub(crate) state_path: PathBuf,
}

/// Reads and checks what the mail commands need: `[email]`, the templates
/// and the subscribers. Lists every problem.
pub(crate) fn setup(config: &Config) -> Result<Setup, Vec<Problem>> {
    let email = config.email()?;
    let (design, subscribers) = error::both(
        Design::load(config, email),
        subscribers::load_usable(config),
    )?;
    let subscribers::Usable {
        subscribers,
        skipped,
        repeated,
    } = subscribers;
    let letterhead = Letterhead::new(
        &email.from,
        &config.site.title,
        &config.site.url,
        email.dkim.as_ref(),
    )
    .map_err(|message| vec![Problem::new(Location::file(&config.path), message)])?;
    let letterhead = match &config.list {
        Some(list) => letterhead.with_list(
            list,
            crate::list::secret(config, list, false).map_err(|err| match err {
                Error::Invalid(problems) => problems,
                other => vec![Problem::new(
                    Location::file(&config.path),
                    other.to_string(),
                )],
            })?,
        ),
        None => letterhead,
    };
    Ok(Setup {
        design,
        letterhead,
        subscribers,
        skipped,
        repeated,
        state_path: email.state.clone(),
    })
}
