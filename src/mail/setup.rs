//! What a run needs from the config, read and checked before anything is
//! sent: the email's design, the letterhead (sender, DKIM, the list's
//! tokens), the subscribers and who of them cannot be mailed; and the
//! delivery state, opened as the run needs it.

use std::path::PathBuf;

use super::message::Letterhead;
use crate::config::Config;
use crate::email::Design;
use crate::error::{self, Error, Location, Problem};
use crate::list::subscribers::{self, Subscribers};
use crate::store::State;

/// Everything a run needs that comes from the config, checked.
pub(super) struct Setup {
    pub(super) design: Design,
    pub(super) letterhead: Letterhead,
    pub(super) subscribers: Subscribers,
    /// Subscribers who cannot be mailed, each with why: warned about, skipped.
    pub(super) skipped: Vec<Problem>,
    /// Rows that repeat an address listed before: warned about, mailed once.
    pub(super) repeated: Vec<Problem>,
    pub(super) state_path: PathBuf,
}

/// Reads and checks what the mail commands need: `[email]`, the templates
/// and the subscribers. Lists every problem.
pub(super) fn setup(config: &Config) -> Result<Setup, Vec<Problem>> {
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

/// The state a run plans from: read-only for a dry run (`None` before the
/// first send), else opened (made if missing) and bound to this config's list.
pub(super) fn open_state(
    state_path: &std::path::Path,
    config_path: &std::path::Path,
    dry_run: bool,
) -> Result<Option<State>, Error> {
    if dry_run {
        let state = State::open_read_only(state_path)?;
        if let Some(state) = &state {
            state.check_served(config_path)?;
        }
        Ok(state)
    } else {
        let state = State::open(state_path)?;
        state.serve(config_path)?;
        Ok(Some(state))
    }
}
