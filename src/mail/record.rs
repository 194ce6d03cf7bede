//! The recorder: the one way a send writes the delivery state. Each outcome
//! is committed before its worker takes the next recipient, so a kill loses
//! at most one accepted-but-unrecorded message per connection.

use std::sync::{Mutex, MutexGuard};

use super::Key;
use super::retry::SendError;
use crate::error::{Error, Summary, Transient};
use crate::list::subscribers::Subscriber;
use crate::store::{Outcome, State};

/// The state of a real send, shared by its workers.
#[derive(Debug)]
pub(super) struct Recorder {
    state: Mutex<State>,
    /// A `mail --weekly` run: its runs are the roll-up's.
    weekly: bool,
}

/// Where one item's outcomes go: the post's id in the state, or the posts
/// a roll-up holds.
#[derive(Debug, Clone, Copy)]
pub(super) enum Entry<'k> {
    Post(i64),
    Rollup(&'k [(String, i64)]),
}

impl Recorder {
    pub(super) fn new(state: State, weekly: bool) -> Self {
        Recorder {
            state: Mutex::new(state),
            weekly,
        }
    }

    /// Records that mailing the item `key` names has begun (a post gets
    /// its id in the state; a roll-up is recorded recipient by recipient).
    pub(super) fn start<'k>(&self, key: &'k Key) -> Result<Entry<'k>, Error> {
        match key {
            Key::Post(key) => self
                .locked()
                .start_post(&key.url, &key.title, &key.published_at, key.published_ts)
                .map(Entry::Post),
            Key::Rollup(posts) => Ok(Entry::Rollup(posts)),
        }
    }

    /// Records what the server said of one recipient's message: delivered,
    /// or refused for good. A deferral is not recorded: the recipient is
    /// owed the message, and the next run tries again.
    pub(super) fn record(
        &self,
        entry: Entry<'_>,
        subscriber: Subscriber<'_>,
        outcome: &Result<(), SendError>,
    ) -> Result<(), Error> {
        let outcome = match outcome {
            Ok(()) => Outcome::Delivered,
            // Over the relay's quota: owed, like a deferral.
            Err(SendError::Permanent(reply)) if reply.over_quota() => return Ok(()),
            Err(SendError::Permanent(reply)) => Outcome::Failed(reply.text.clone()),
            Err(SendError::Transient(_) | SendError::Fatal(_) | SendError::Misconfigured(_)) => {
                return Ok(());
            }
        };
        let state = self.locked();
        match entry {
            Entry::Post(post_id) => state.record(post_id, &subscriber.key(), &outcome)?,
            Entry::Rollup(posts) => state.record_rollup(&subscriber.key(), posts, &outcome)?,
        }
        // A mailbox that does not exist never will: suppressed, so later runs skip it.
        if let Outcome::Failed(reply) = &outcome
            && crate::list::verdict::no_such_user(reply)
        {
            state.suppress(&subscriber.key(), "bounced", reply, "mail")?;
        }
        Ok(())
    }

    /// Records that this run has begun sending; its id.
    pub(super) fn start_run(&self) -> Result<i64, Error> {
        if self.weekly {
            self.locked().start_rollup_run()
        } else {
            self.locked().start_run()
        }
    }

    /// Records how the run ended: its exit code and what it says.
    pub(super) fn end_run(&self, id: i64, result: &Result<Summary, Error>) -> Result<(), Error> {
        let (code, summary) = match result {
            Ok(summary) => (0, summary.headline()),
            Err(Error::SomeFailed(summary) | Error::Transient(Transient::Delivery(summary))) => {
                (result_code(result), summary.headline())
            }
            Err(err) => (result_code(result), err.to_string()),
        };
        if self.weekly {
            self.locked().end_rollup_run(id, code, &summary)
        } else {
            self.locked().end_run(id, code, &summary)
        }
    }

    /// Messages delivered in the last 24 hours (for `max_per_day`).
    pub(super) fn delivered_in_a_day(&self) -> Result<u64, Error> {
        self.locked().delivered_in_a_day()
    }

    /// Marks the post sent to everyone it was owed to (a roll-up's
    /// recipients are each recorded, with nothing more to mark).
    pub(super) fn complete(&self, entry: Entry<'_>) -> Result<(), Error> {
        match entry {
            Entry::Post(post_id) => self.locked().complete_post(post_id),
            Entry::Rollup(_) => Ok(()),
        }
    }

    /// The state, even if a worker panicked while holding it: every record
    /// is its own committed transaction, so there is no half-written one to fear.
    fn locked(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn result_code(result: &Result<Summary, Error>) -> i32 {
    result.as_ref().map_or_else(Error::exit_code, |_| 0)
}
