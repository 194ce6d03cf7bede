//! The inbox's side of the state (schema 5, SPEC §2 `inbox`): each message
//! acted on, known by its fingerprint and recorded in the same transaction
//! as what it asked for, so that a message a crash left unflagged is only
//! flagged when it is read again, never acted on twice; the messages left
//! for the owner, with when they arrived, for `status` to say which have
//! waited longer than the two days a request to leave may take; and when
//! the inbox was last read.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::{Error, State, now, unreadable};

/// 6 → 7: where each message left for the owner is (a Maildir name, an
/// IMAP UID under its UIDVALIDITY), so that the next run passes over it
/// without fetching it again: a mailbox of 10,000 unread junk mails is read
/// once, and what arrives after them is reached.
pub(super) const PLACE_MIGRATION: &str = "ALTER TABLE inbox_left ADD COLUMN place TEXT;";

/// The inbox's tables.
pub(super) const MIGRATION: &str = "CREATE TABLE inbox_messages (
        fingerprint TEXT PRIMARY KEY,
        action TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE inbox_left (
        fingerprint TEXT PRIMARY KEY,
        sender TEXT NOT NULL,
        subject TEXT NOT NULL,
        received_ts INTEGER NOT NULL,
        present INTEGER NOT NULL
    );
    CREATE TABLE inbox_runs (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        acted INTEGER NOT NULL,
        left_unread INTEGER NOT NULL
    );";

/// A message `inbox` left unread for the owner: mail to the list that asks
/// for nothing it can do (a person writing "please take me off", say).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Left {
    /// The message's fingerprint (or, for one too large to read, its place).
    #[serde(skip)]
    pub fingerprint: String,
    /// Its From, as written.
    pub sender: String,
    /// Its Subject.
    pub subject: String,
    /// When the mailbox received it (IMAP's INTERNALDATE, the Maildir
    /// file's time), seconds since the epoch.
    pub received_ts: i64,
    /// Where it is in the mailbox; empty when not known.
    #[serde(skip)]
    pub place: String,
}

/// One `inbox` run, as the state records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InboxRun {
    /// When it ended, RFC 3339.
    pub at: String,
    /// Messages acted on.
    pub acted: i64,
    /// Messages left for the owner.
    pub left_unread: i64,
}

impl State {
    /// What the message with `fingerprint` was acted on for, if it was.
    pub(in crate::mail) fn acted_on(&self, fingerprint: &str) -> Result<Option<String>, Error> {
        if self.version()? < 5 {
            return Ok(None);
        }
        self.conn
            .query_row(
                "SELECT action FROM inbox_messages WHERE fingerprint = ?1",
                [fingerprint],
                |row| row.get(0),
            )
            .optional()
            .map_err(|err| unreadable(&self.path, err))
    }

    /// Runs `change` and records the message as acted on, in one
    /// transaction: both are committed, or neither. `change` returns the
    /// line that says what was done.
    pub(in crate::mail) fn once(
        &self,
        fingerprint: &str,
        change: impl FnOnce(&State) -> Result<String, Error>,
    ) -> Result<String, Error> {
        let transaction = self.immediate().map_err(|err| self.write_error(&err))?;
        // Under the write lock: another run that read the same message
        // first has acted on it, and this one only hears what it did.
        let earlier: Option<String> = transaction
            .query_row(
                "SELECT action FROM inbox_messages WHERE fingerprint = ?1",
                [fingerprint],
                |row| row.get(0),
            )
            .optional()
            .map_err(|err| self.write_error(&err))?;
        if let Some(action) = earlier {
            return Ok(action);
        }
        let action = change(self)?;
        transaction
            .execute(
                "INSERT INTO inbox_messages (fingerprint, action, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (fingerprint) DO NOTHING",
                params![fingerprint, action, now()],
            )
            .map_err(|err| self.write_error(&err))?;
        transaction.commit().map_err(|err| self.write_error(&err))?;
        Ok(action)
    }

    /// The messages earlier runs left for the owner, by where they are
    /// (see [`PLACE_MIGRATION`]).
    pub(in crate::mail) fn left_by_place(&self) -> Result<HashMap<String, Left>, Error> {
        if self.version()? < 7 {
            return Ok(HashMap::new());
        }
        Ok(self
            .left_unread()?
            .into_iter()
            .filter(|left| !left.place.is_empty())
            .map(|left| (left.place.clone(), left))
            .collect())
    }

    /// Records the end of a run: what it left unread replaces what earlier
    /// runs left (a message the owner has read since is no longer waiting),
    /// keeping each message's first sighting.
    pub(in crate::mail) fn end_inbox_run(&self, acted: usize, left: &[Left]) -> Result<(), Error> {
        let write = |err: rusqlite::Error| self.write_error(&err);
        let transaction = self.immediate().map_err(write)?;
        transaction
            .execute("UPDATE inbox_left SET present = 0", [])
            .map_err(write)?;
        for message in left {
            transaction
                .execute(
                    "INSERT INTO inbox_left (fingerprint, sender, subject, received_ts, present, place)
                     VALUES (?1, ?2, ?3, ?4, 1, ?5)
                     ON CONFLICT (fingerprint) DO UPDATE SET present = 1, place = excluded.place",
                    params![
                        message.fingerprint,
                        message.sender,
                        message.subject,
                        message.received_ts,
                        message.place
                    ],
                )
                .map_err(write)?;
        }
        transaction
            .execute("DELETE FROM inbox_left WHERE present = 0", [])
            .map_err(write)?;
        transaction
            .execute(
                "INSERT INTO inbox_runs (at, acted, left_unread) VALUES (?1, ?2, ?3)",
                params![
                    now(),
                    i64::try_from(acted).unwrap_or(i64::MAX),
                    i64::try_from(left.len()).unwrap_or(i64::MAX)
                ],
            )
            .map_err(write)?;
        transaction.commit().map_err(write)
    }

    /// The messages the last run left unread, oldest first.
    pub(in crate::mail) fn left_unread(&self) -> Result<Vec<Left>, Error> {
        if self.version()? < 5 {
            return Ok(Vec::new());
        }
        let mut statement = self
            .conn
            .prepare(
                "SELECT fingerprint, sender, subject, received_ts, IFNULL(place, '') FROM inbox_left
                 ORDER BY received_ts, fingerprint",
            )
            .map_err(|err| unreadable(&self.path, err))?;
        statement
            .query_map([], |row| {
                Ok(Left {
                    fingerprint: row.get(0)?,
                    sender: row.get(1)?,
                    subject: row.get(2)?,
                    received_ts: row.get(3)?,
                    place: row.get(4)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(|err| unreadable(&self.path, err))
    }

    /// The latest `inbox` run that read the whole mailbox.
    pub(in crate::mail) fn last_inbox_run(&self) -> Result<Option<InboxRun>, Error> {
        if self.version()? < 5 {
            return Ok(None);
        }
        self.conn
            .query_row(
                "SELECT at, acted, left_unread FROM inbox_runs ORDER BY id DESC LIMIT 1",
                [],
                |row| {
                    Ok(InboxRun {
                        at: row.get(0)?,
                        acted: row.get(1)?,
                        left_unread: row.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|err| unreadable(&self.path, err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> (tempfile::TempDir, State) {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("state.db")).unwrap();
        (dir, state)
    }

    #[test]
    fn a_change_and_its_message_commit_together() {
        let (_dir, state) = fresh();
        let done = state
            .once("m1", |state| {
                state.suppress("kim@example.org", "unsubscribed", "", "inbox")?;
                Ok("unsubscribed kim@example.org".to_string())
            })
            .unwrap();
        assert_eq!(done, "unsubscribed kim@example.org");
        assert_eq!(
            state.acted_on("m1").unwrap().as_deref(),
            Some(done.as_str())
        );
        assert_eq!(state.acted_on("m2").unwrap(), None);

        // A change that fails records nothing, not even its first statement.
        let failed = state.once("m2", |state| {
            state.suppress("lee@example.org", "bounced", "", "inbox")?;
            Err(Error::Transient(crate::error::Transient::Unavailable(
                "the SMTP server went away".to_string(),
            )))
        });
        assert!(failed.is_err());
        assert_eq!(state.acted_on("m2").unwrap(), None);
        let suppressed = state.suppressed().unwrap();
        assert!(suppressed.contains("kim@example.org"));
        assert!(!suppressed.contains("lee@example.org"));
    }

    #[test]
    fn what_is_left_is_what_the_last_run_left() {
        let (_dir, state) = fresh();
        let left = |fingerprint: &str, received_ts| Left {
            fingerprint: fingerprint.to_string(),
            sender: "Fan <fan@example.org>".to_string(),
            subject: "please take me off".to_string(),
            received_ts,
            place: String::new(),
        };
        assert_eq!(state.last_inbox_run().unwrap(), None);
        state
            .end_inbox_run(2, &[left("b", 200), left("a", 100)])
            .unwrap();
        let first = state.left_unread().unwrap();
        assert_eq!(first, vec![left("a", 100), left("b", 200)]);
        // The owner read "a"; "c" came.
        state
            .end_inbox_run(0, &[left("b", 999), left("c", 300)])
            .unwrap();
        assert_eq!(
            state.left_unread().unwrap(),
            vec![left("b", 200), left("c", 300)],
            "b keeps the time it first arrived"
        );
        let run = state.last_inbox_run().unwrap().unwrap();
        assert_eq!((run.acted, run.left_unread), (0, 2));
    }
}
