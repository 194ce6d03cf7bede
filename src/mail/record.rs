//! The recorder: the one way a send writes the delivery state. Each outcome
//! is committed before its worker takes the next recipient, so a kill loses
//! at most one accepted-but-unrecorded message per connection.

use std::sync::{Mutex, MutexGuard};

use super::Key;
use super::transport::SendError;
use crate::error::{Error, Summary, Transient};
use crate::list::subscribers::Subscriber;
use crate::store::{Outcome, State};

/// The state of a real send, shared by its workers.
#[derive(Debug)]
pub(super) struct Recorder {
    state: Mutex<State>,
}

impl Recorder {
    pub(super) fn new(state: State) -> Self {
        Recorder {
            state: Mutex::new(state),
        }
    }

    /// Records that mailing the post `key` names has begun; its id in the state.
    pub(super) fn start(&self, key: &Key) -> Result<i64, Error> {
        self.locked()
            .start_post(&key.url, &key.title, &key.published_at, key.published_ts)
    }

    /// Records what the server said of one recipient's message: delivered,
    /// or refused for good. A deferral is not recorded: the recipient is
    /// owed the message, and the next run tries again.
    pub(super) fn record(
        &self,
        post_id: i64,
        subscriber: &Subscriber,
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
        state.record(post_id, &subscriber.key(), &outcome)?;
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
        self.locked().start_run()
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
        self.locked().end_run(id, code, &summary)
    }

    /// Messages delivered in the last 24 hours (for `max_per_day`).
    pub(super) fn delivered_in_a_day(&self) -> Result<u64, Error> {
        self.locked().delivered_in_a_day()
    }

    /// Marks the post sent to everyone it was owed to.
    pub(super) fn complete(&self, post_id: i64) -> Result<(), Error> {
        self.locked().complete_post(post_id)
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
