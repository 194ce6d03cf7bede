//! The state as one `inbox` run holds it: each message's change is
//! committed together with the message's fingerprint, so that a message a
//! crash left unflagged is recognised when it is read again and only
//! flagged then (SPEC §2: each message is acted on once, even across a
//! crash). A soft bounce counts once; a sign-up's confirmation goes out
//! once.

use super::{self as list, Reason};
use crate::address;
use crate::config::Config;
use crate::error::Error;
pub use crate::store::inbox::{InboxRun, Left};
use crate::store::{Locker, RunLock, State, lock_for};

/// What one message changes in the list.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// Suppress the address.
    Suppress {
        /// Whose.
        address: &'a str,
        /// Why.
        reason: Reason,
        /// The report's words, or empty.
        detail: &'a str,
    },
    /// Count a soft bounce; suppress as bounced once there were too many.
    SoftBounce {
        /// Whose.
        address: &'a str,
        /// The report's words.
        detail: &'a str,
    },
    /// Record a sign-up as pending, its confirmation mailed now.
    RequestSignup {
        /// Whose.
        address: &'a str,
        /// The name given.
        name: &'a str,
    },
    /// Confirm a pending sign-up.
    ConfirmSignup {
        /// Whose.
        address: &'a str,
    },
    /// Nothing: the message is done with (an automatic reply, a sign-up
    /// held back), and only that is recorded.
    Nothing,
}

/// How long an `inbox` run waits for another to finish.
const INBOX_WAIT: std::time::Duration = std::time::Duration::from_mins(2);

/// The state, open for one `inbox` run.
#[derive(Debug)]
pub struct Ledger {
    state: State,
    /// Soft bounces that suppress, and over how many days.
    soft_bounces: (u32, u32),
    /// The inbox's lock beside the state, held for the run.
    _lock: RunLock,
}

impl Ledger {
    /// Takes the inbox's lock beside the state (waiting a while for a run
    /// that holds it: two overlapping runs would read the same messages),
    /// then opens the state (making it when there is none), beside a `mail` run.
    pub fn open(config: &Config) -> Result<Ledger, Error> {
        let soft_bounces = config
            .list
            .as_ref()
            .map_or((3, 30), |list| (list.soft_bounces, list.soft_bounce_days));
        let lock = lock_for(
            &list::state_path(config)?,
            Locker::Inbox,
            INBOX_WAIT,
            |_| {},
        )?;
        Ok(Ledger {
            state: list::open(config)?,
            soft_bounces,
            _lock: lock,
        })
    }

    /// The messages earlier runs left for the owner, by where they are.
    pub fn left_by_place(&self) -> Result<std::collections::HashMap<String, Left>, Error> {
        self.state.left_by_place()
    }

    /// What the message with `fingerprint` was acted on for, if it was.
    pub fn acted_on(&self, fingerprint: &str) -> Result<Option<String>, Error> {
        self.state.acted_on(fingerprint)
    }

    /// Makes `change` and records the message as acted on, both or
    /// neither; `describe` says what was done from whether the change took
    /// effect (a new suppression, a soft bounce that suppressed, …).
    pub fn commit(
        &self,
        fingerprint: &str,
        change: Change,
        describe: impl FnOnce(bool) -> String,
    ) -> Result<String, Error> {
        let (limit, days) = self.soft_bounces;
        self.state.once(fingerprint, |state| {
            let took = match change {
                Change::Suppress {
                    address,
                    reason,
                    detail,
                } => state.suppress(&address::key(address), reason.as_str(), detail, "inbox")?,
                Change::SoftBounce { address, detail } => {
                    state.soft_bounce(&address::key(address), detail, limit, days)?
                }
                Change::RequestSignup { address, name } => {
                    let fresh =
                        state.request_signup(&address::key(address), name, "inbox", None)?;
                    state.notified(&address::key(address))?;
                    fresh
                }
                Change::ConfirmSignup { address } => {
                    state.confirm_signup(&address::key(address), "inbox")?
                }
                Change::Nothing => false,
            };
            Ok(describe(took))
        })
    }

    /// Whether a sign-up's confirmation may be mailed to `address` now.
    pub fn confirmation_gate(&self, address: &str) -> Result<list::Gate, Error> {
        self.state.confirmation_gate(&address::key(address))
    }

    /// Records the run's end: how many messages it acted on, and what it
    /// left unread for the owner.
    pub fn end_run(&self, acted: usize, left: &[Left]) -> Result<(), Error> {
        self.state.end_inbox_run(acted, left)
    }
}
