//! The list's side of the state (schema 4, SPEC §5): suppressions with
//! their reason and time, sign-ups with the time and source of consent,
//! and soft bounces counted over a window.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, params};

use super::{Error, State, now, unreadable};
use crate::config::Cadence;

/// 5 → 6: when each sign-up's confirmation was last mailed, the throttle
/// `inbox` and `serve` share.
pub(super) const NOTIFIED_MIGRATION: &str = "ALTER TABLE signups ADD COLUMN notified_at TEXT;";

/// 7 → 8: which keys signed the links this state's list mailed (each by a
/// fingerprint that reveals nothing of it), so that a lost key is noticed
/// instead of made anew; and sign-ups by when their confirmation went out,
/// for the hour's budget of confirmations.
pub(super) const KEYS_MIGRATION: &str = "CREATE TABLE IF NOT EXISTS keys (
        fingerprint TEXT PRIMARY KEY,
        at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS signups_by_notified ON signups (notified_at);";

/// 8 → 9: the cadence a reader chose (daily or weekly), which wins over
/// the config's or CSV's row as a suppression does: on the sign-up form
/// (kept with the sign-up, `NULL` when none was offered, as by mail, and
/// recorded as chosen once confirmed), or by a switch on `serve`'s pages.
/// One row per address key, the latest choice.
pub(super) const CADENCE_MIGRATION: &str = "CREATE TABLE IF NOT EXISTS cadences (
        email TEXT PRIMARY KEY,
        cadence TEXT NOT NULL CHECK (cadence IN ('daily', 'weekly')),
        source TEXT NOT NULL,
        at TEXT NOT NULL
    );
    ALTER TABLE signups ADD COLUMN cadence TEXT CHECK (cadence IN ('daily', 'weekly'));";

/// Confirmations mailed in any hour, by `serve` and `inbox` together: a
/// flood of forged sign-ups (one address each, by web or by mail) mails at
/// most this many strangers an hour.
pub const CONFIRMATIONS_PER_HOUR: i64 = 50;

/// The list's tables.
pub(super) const MIGRATION: &str = "CREATE TABLE suppressions (
        email TEXT PRIMARY KEY,
        reason TEXT NOT NULL CHECK (reason IN ('unsubscribed', 'bounced', 'complained', 'manual')),
        detail TEXT NOT NULL,
        source TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE signups (
        email TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        confirmed_at TEXT,
        confirmed_by TEXT
    );
    CREATE TABLE soft_bounces (
        email TEXT NOT NULL,
        at_ts INTEGER NOT NULL,
        detail TEXT NOT NULL
    );";

/// How long before a pending sign-up's confirmation may be mailed again.
const CONFIRM_AGAIN_AFTER: i64 = 24 * 3600;

/// Whether a sign-up's confirmation may be mailed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Yes.
    Open,
    /// No: [`CONFIRMATIONS_PER_HOUR`] went out within the last hour.
    OverBudget,
    /// No: the address bounced, complained or was suppressed by hand.
    Suppressed,
    /// No: one went to it within the last day.
    Recently,
}

impl Gate {
    /// Why a confirmation is held back, as the end of a sentence about the
    /// address; `None` when it is not.
    pub fn held_back(self) -> Option<&'static str> {
        match self {
            Gate::Open => None,
            Gate::Suppressed => {
                Some("is suppressed (bounced, complained or by hand): no confirmation is mailed")
            }
            Gate::Recently => Some("was mailed a confirmation within the last day: not again yet"),
            Gate::OverBudget => Some(
                "was not mailed a confirmation: the hour's budget of confirmations is spent (a flood of sign-ups?); ask again later",
            ),
        }
    }
}

/// One suppressed address, as the state keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Suppression {
    /// The address, lower-cased.
    pub email: String,
    /// `unsubscribed`, `bounced`, `complained` or `manual`.
    pub reason: String,
    /// The server's reply, the report's status, or empty.
    pub detail: String,
    /// Where it came from: `serve`, `inbox`, `mail`, `subscribers suppress`.
    pub source: String,
    /// When, RFC 3339.
    pub at: String,
}

/// One sign-up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Signup {
    /// The address, lower-cased.
    pub email: String,
    /// The name given, or empty.
    pub name: String,
    /// Where it was asked for: `serve` (with the client) or `inbox`.
    pub source: String,
    /// When it was asked for.
    pub requested_at: String,
    /// When it was confirmed (double opt-in), and how; `None` while pending.
    pub confirmed_at: Option<String>,
    /// The cadence chosen on the sign-up form; `None` when none was
    /// offered (a sign-up by mail, or one older than the choice).
    pub cadence: Option<Cadence>,
}

impl State {
    /// Suppresses `email` (lower-cased) unless it already is; whether it was new.
    pub(crate) fn suppress(
        &self,
        email: &str,
        reason: &str,
        detail: &str,
        source: &str,
    ) -> Result<bool, Error> {
        self.conn
            .execute(
                "INSERT INTO suppressions (email, reason, detail, source, at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (email) DO NOTHING",
                params![email, reason, detail, source, now()],
            )
            .map(|changed| changed > 0)
            .map_err(|err| self.write_error(&err))
    }

    /// Lifts `email`'s suppression; whether there was one.
    pub(crate) fn unsuppress(&self, email: &str) -> Result<bool, Error> {
        self.conn
            .execute("DELETE FROM suppressions WHERE email = ?1", [email])
            .map(|changed| changed > 0)
            .map_err(|err| self.write_error(&err))
    }

    /// Every suppression, oldest first (none in a state older than schema 4).
    pub(crate) fn suppressions(&self) -> Result<Vec<Suppression>, Error> {
        if self.version()? < 4 {
            return Ok(Vec::new());
        }
        let mut statement = self
            .conn
            .prepare(
                "SELECT email, reason, detail, source, at FROM suppressions ORDER BY at, email",
            )
            .map_err(|err| unreadable(&self.path, err))?;
        statement
            .query_map([], |row| {
                Ok(Suppression {
                    email: row.get(0)?,
                    reason: row.get(1)?,
                    detail: row.get(2)?,
                    source: row.get(3)?,
                    at: row.get(4)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(|err| unreadable(&self.path, err))
    }

    /// The suppressed addresses.
    pub(crate) fn suppressed(&self) -> Result<HashSet<String>, Error> {
        Ok(self.suppressions()?.into_iter().map(|s| s.email).collect())
    }

    /// Records a sign-up request; `false` when the address had asked
    /// already. A confirmed sign-up asked for again (the person unsubscribed
    /// since) is pending again: its consent is the new one, given when this
    /// is confirmed.
    pub(crate) fn request_signup(
        &self,
        email: &str,
        name: &str,
        source: &str,
        cadence: Option<Cadence>,
    ) -> Result<bool, Error> {
        // Every way in (the form, a mail's From, the CLI) stores a name that
        // can never break a header or a terminal.
        let name = crate::address::display_name(name);
        let name = name.as_str();
        let now = now();
        let cadence = cadence.map(Cadence::as_str);
        let fresh = self
            .conn
            .execute(
                "INSERT INTO signups (email, name, source, requested_at, cadence) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (email) DO NOTHING",
                params![email, name, source, now, cadence],
            )
            .map_err(|err| self.write_error(&err))?;
        if fresh == 0 {
            // The newest request's choice is the one confirmed. A request
            // that offered none (by mail) keeps the choice of a request still
            // pending, and drops a confirmed one's: that was recorded when it
            // was confirmed, and may have been switched since.
            self.conn
                .execute(
                    "UPDATE signups SET name = ?3, source = ?4,
                         cadence = CASE WHEN ?5 IS NOT NULL THEN ?5
                                        WHEN confirmed_at IS NULL THEN cadence END,
                         confirmed_at = NULL,
                         confirmed_by = NULL,
                         requested_at = CASE WHEN confirmed_at IS NULL THEN requested_at ELSE ?2 END
                     WHERE email = ?1",
                    params![email, now, name, source, cadence],
                )
                .map_err(|err| self.write_error(&err))?;
        }
        Ok(fresh > 0)
    }

    /// Records that a sign-up's confirmation went out now (the server took
    /// it, or refused it for good): the next waits a day. A confirmation that
    /// was only deferred is not recorded, so that asking again works.
    pub(crate) fn notified(&self, email: &str) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE signups SET notified_at = ?2 WHERE email = ?1",
                params![email, now()],
            )
            .map(drop)
            .map_err(|err| self.write_error(&err))
    }

    /// Whether a sign-up's confirmation may be mailed to `email` now: not
    /// to a mailbox that bounced, whose owner complained, or that the owner
    /// suppressed by hand; and not twice within [`CONFIRM_AGAIN_AFTER`]
    /// seconds, so a forged sign-up repeated is no mail bomb. Someone who
    /// unsubscribed may sign up again.
    pub(crate) fn confirmation_gate(&self, email: &str) -> Result<Gate, Error> {
        if self.version()? < 6 {
            return Ok(Gate::Open);
        }
        let read = |err| unreadable(&self.path, err);
        let reason: Option<String> = self
            .conn
            .query_row(
                "SELECT reason FROM suppressions WHERE email = ?1",
                [email],
                |row| row.get(0),
            )
            .optional()
            .map_err(read)?;
        if reason.is_some_and(|reason| reason != "unsubscribed") {
            return Ok(Gate::Suppressed);
        }
        let now = jiff::Timestamp::now();
        let since = now
            .checked_sub(jiff::SignedDuration::from_secs(CONFIRM_AGAIN_AFTER))
            .unwrap_or(now)
            .round(jiff::Unit::Second)
            .unwrap_or(now)
            .to_string();
        let recent: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM signups WHERE email = ?1 AND notified_at > ?2",
                params![email, since],
                |row| row.get(0),
            )
            .map_err(read)?;
        if recent > 0 {
            return Ok(Gate::Recently);
        }
        let hour_ago = now
            .checked_sub(jiff::SignedDuration::from_secs(3600))
            .unwrap_or(now)
            .round(jiff::Unit::Second)
            .unwrap_or(now)
            .to_string();
        let this_hour: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM signups WHERE notified_at > ?1",
                [hour_ago],
                |row| row.get(0),
            )
            .map_err(read)?;
        Ok(if this_hour >= CONFIRMATIONS_PER_HOUR {
            Gate::OverBudget
        } else {
            Gate::Open
        })
    }

    /// What changes whenever an address is added to the sign-ups (the
    /// largest rowid: a sign-up is never deleted, and asked for again it
    /// keeps its row), and nothing else: an unsubscribe, a delivery or a
    /// confirmation leaves it as it was. One index lookup, at any size.
    pub(crate) fn signups_mark(&self) -> Result<i64, Error> {
        if self.version()? < 4 {
            return Ok(0);
        }
        self.conn
            .query_row("SELECT IFNULL(MAX(rowid), 0) FROM signups", [], |row| {
                row.get(0)
            })
            .map_err(|err| unreadable(&self.path, err))
    }

    /// Whether links signed with some key went out from this state's list.
    pub(crate) fn keys_used(&self) -> Result<bool, Error> {
        let version = self.version()?;
        if version < 4 {
            return Ok(false);
        }
        if version < 8 {
            // An older state, which kept no keys: the list's own records
            // (a sign-up, an unsubscribe by link or mail) show links went out.
            return self
                .conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM signups)
                         OR EXISTS (SELECT 1 FROM suppressions WHERE source IN ('serve', 'inbox'))",
                    [],
                    |row| row.get(0),
                )
                .map_err(|err| unreadable(&self.path, err));
        }
        self.conn
            .query_row("SELECT EXISTS (SELECT 1 FROM keys)", [], |row| row.get(0))
            .map_err(|err| unreadable(&self.path, err))
    }

    /// Records that links signed with the key `fingerprint` go out.
    pub(crate) fn key_used(&self, fingerprint: &str) -> Result<(), Error> {
        self.conn
            .execute(
                "INSERT INTO keys (fingerprint, at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![fingerprint, now()],
            )
            .map(drop)
            .map_err(|err| self.write_error(&err))
    }

    /// Confirms a pending sign-up (and lifts an unsubscribe: the person
    /// asked again); `false` when there was none to confirm. A cadence
    /// chosen on the form becomes the address's choice, over any earlier
    /// one: it is the newest thing the person said. Recorded first (an
    /// `inbox` run calls this inside its own transaction, so none is begun
    /// here): a stop before the confirmation leaves a choice the person made
    /// and a sign-up still pending, never a confirmed one without its choice.
    pub(crate) fn confirm_signup(&self, email: &str, by: &str) -> Result<bool, Error> {
        let now = now();
        self.conn
            .execute(
                "INSERT INTO cadences (email, cadence, source, at)
                 SELECT email, cadence, 'sign-up', ?2 FROM signups
                 WHERE email = ?1 AND cadence IS NOT NULL AND confirmed_at IS NULL
                 ON CONFLICT (email) DO UPDATE SET cadence = excluded.cadence,
                     source = excluded.source, at = excluded.at",
                params![email, now],
            )
            .map_err(|err| self.write_error(&err))?;
        let changed = self
            .conn
            .execute(
                "UPDATE signups SET confirmed_at = ?2, confirmed_by = ?3
                 WHERE email = ?1 AND confirmed_at IS NULL",
                params![email, now, by],
            )
            .map_err(|err| self.write_error(&err))?;
        if changed > 0 {
            self.conn
                .execute(
                    "DELETE FROM suppressions WHERE email = ?1 AND reason = 'unsubscribed'",
                    [email],
                )
                .map_err(|err| self.write_error(&err))?;
        }
        Ok(changed > 0)
    }

    /// Records `email`'s choice of `cadence` (`source`: where it was made),
    /// over any earlier one.
    pub(crate) fn choose_cadence(
        &self,
        email: &str,
        cadence: Cadence,
        source: &str,
    ) -> Result<(), Error> {
        self.conn
            .execute(
                "INSERT INTO cadences (email, cadence, source, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (email) DO UPDATE SET cadence = excluded.cadence,
                     source = excluded.source, at = excluded.at",
                params![email, cadence.as_str(), source, now()],
            )
            .map(drop)
            .map_err(|err| self.write_error(&err))
    }

    /// The cadence `email` chose, if it chose one (one indexed lookup).
    pub(crate) fn chosen_cadence(&self, email: &str) -> Result<Option<Cadence>, Error> {
        if self.version()? < 9 {
            return Ok(None);
        }
        let chosen: Option<String> = self
            .conn
            .query_row(
                "SELECT cadence FROM cadences WHERE email = ?1",
                [email],
                |row| row.get(0),
            )
            .optional()
            .map_err(|err| unreadable(&self.path, err))?;
        Ok(chosen.and_then(|text| Cadence::parse(&text).ok()))
    }

    /// Every chosen cadence, by address key (none before schema 9).
    pub(crate) fn cadence_choices(&self) -> Result<HashMap<String, Cadence>, Error> {
        if self.version()? < 9 {
            return Ok(HashMap::new());
        }
        let mut statement = self
            .conn
            .prepare("SELECT email, cadence FROM cadences")
            .map_err(|err| unreadable(&self.path, err))?;
        let rows: Vec<(String, String)> = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(|err| unreadable(&self.path, err))?;
        // The table's CHECK admits nothing else; a row that still is
        // (written by hand) is no choice.
        Ok(rows
            .into_iter()
            .filter_map(|(email, text)| Some((email, Cadence::parse(&text).ok()?)))
            .collect())
    }

    /// Every sign-up, oldest first (none before schema 4).
    pub(crate) fn signups(&self) -> Result<Vec<Signup>, Error> {
        if self.version()? < 4 {
            return Ok(Vec::new());
        }
        // A state older than the choice, read without upgrading (a dry run).
        let cadence = if self.version()? < 9 {
            "NULL"
        } else {
            "cadence"
        };
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT email, name, source, requested_at, confirmed_at, {cadence} FROM signups
                 ORDER BY requested_at, email"
            ))
            .map_err(|err| unreadable(&self.path, err))?;
        statement
            .query_map([], |row| {
                Ok(Signup {
                    email: row.get(0)?,
                    // Cleaned on the way out too: a row an older version
                    // stored, or one written by hand, is no header injection.
                    name: crate::address::display_name(&row.get::<_, String>(1)?),
                    source: row.get(2)?,
                    requested_at: row.get(3)?,
                    confirmed_at: row.get(4)?,
                    cadence: row
                        .get::<_, Option<String>>(5)?
                        .and_then(|text| Cadence::parse(&text).ok()),
                })
            })
            .and_then(Iterator::collect)
            .map_err(|err| unreadable(&self.path, err))
    }

    /// Whether `email` has ever been sent a post (delivered or not).
    pub(crate) fn ever_mailed(&self, email: &str) -> Result<bool, Error> {
        self.conn
            .query_row(
                "SELECT 1 FROM deliveries WHERE email = ?1 LIMIT 1",
                [email],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(|err| unreadable(&self.path, err))
    }

    /// Counts a soft bounce; suppresses `email` as bounced once `limit`
    /// have come within `window_days`. Whether it is suppressed now.
    pub(crate) fn soft_bounce(
        &self,
        email: &str,
        detail: &str,
        limit: u32,
        window_days: u32,
    ) -> Result<bool, Error> {
        let now_ts = jiff::Timestamp::now().as_second();
        let since = now_ts - i64::from(window_days) * 86_400;
        self.conn
            .execute(
                "INSERT INTO soft_bounces (email, at_ts, detail) VALUES (?1, ?2, ?3)",
                params![email, now_ts, detail],
            )
            .map_err(|err| self.write_error(&err))?;
        let count: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM soft_bounces WHERE email = ?1 AND at_ts >= ?2",
                params![email, since],
                |row| row.get(0),
            )
            .map_err(|err| unreadable(&self.path, err))?;
        if count >= i64::from(limit) {
            let detail = format!("{count} soft bounces in {window_days} days; the last: {detail}");
            self.suppress(email, "bounced", &detail, "inbox")?;
            return Ok(true);
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_choice_of_cadence_stands_and_a_pending_one_is_none_yet() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("state.db")).unwrap();
        let (a, b) = ("a@example.org", "b@example.org");
        state
            .request_signup(a, "", "serve", Some(Cadence::Weekly))
            .unwrap();
        assert_eq!(state.signups().unwrap()[0].cadence, Some(Cadence::Weekly));
        assert_eq!(
            state.chosen_cadence(a).unwrap(),
            None,
            "not chosen until confirmed"
        );
        assert!(state.confirm_signup(a, "serve").unwrap());
        assert_eq!(state.chosen_cadence(a).unwrap(), Some(Cadence::Weekly));
        // A switch on the confirm page replaces it.
        state.choose_cadence(a, Cadence::Daily, "serve").unwrap();
        assert_eq!(state.chosen_cadence(a).unwrap(), Some(Cadence::Daily));
        // Confirming again changes nothing; signing up again (after leaving)
        // with another choice makes that one the choice once confirmed.
        assert!(!state.confirm_signup(a, "serve").unwrap());
        assert_eq!(state.chosen_cadence(a).unwrap(), Some(Cadence::Daily));
        state
            .request_signup(a, "", "serve", Some(Cadence::Weekly))
            .unwrap();
        assert_eq!(state.chosen_cadence(a).unwrap(), Some(Cadence::Daily));
        state.confirm_signup(a, "serve").unwrap();
        assert_eq!(state.chosen_cadence(a).unwrap(), Some(Cadence::Weekly));
        // A sign-up that offered no choice (by mail) leaves the latest
        // choice as it is, a switch made since the form's included.
        state.choose_cadence(a, Cadence::Daily, "serve").unwrap();
        state.request_signup(a, "", "inbox", None).unwrap();
        state.confirm_signup(a, "inbox").unwrap();
        assert_eq!(state.chosen_cadence(a).unwrap(), Some(Cadence::Daily));
        // ... and keeps the form's choice of a sign-up still pending.
        let c = "c@example.org";
        state
            .request_signup(c, "", "serve", Some(Cadence::Weekly))
            .unwrap();
        state.request_signup(c, "", "inbox", None).unwrap();
        state.confirm_signup(c, "inbox").unwrap();
        assert_eq!(state.chosen_cadence(c).unwrap(), Some(Cadence::Weekly));
        state.request_signup(b, "", "inbox", None).unwrap();
        state.confirm_signup(b, "inbox").unwrap();
        assert_eq!(state.chosen_cadence(b).unwrap(), None);
        assert_eq!(
            state.cadence_choices().unwrap(),
            HashMap::from([
                (a.to_string(), Cadence::Daily),
                (c.to_string(), Cadence::Weekly)
            ])
        );
    }

    #[test]
    fn a_state_older_than_the_choice_reads_as_no_choice_and_is_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let state = State::open(&path).unwrap();
        state
            .request_signup("a@example.org", "A", "serve", None)
            .unwrap();
        state
            .conn
            .execute_batch(
                "DROP TABLE cadences; ALTER TABLE signups DROP COLUMN cadence; PRAGMA user_version = 8;",
            )
            .unwrap();
        drop(state);
        // A dry run reads it as it is.
        let old = State::open_read_only(&path).unwrap().unwrap();
        assert_eq!(old.signups().unwrap()[0].cadence, None);
        assert_eq!(old.chosen_cadence("a@example.org").unwrap(), None);
        assert!(old.cadence_choices().unwrap().is_empty());
        drop(old);
        let state = State::open(&path).unwrap();
        assert_eq!(state.version().unwrap(), super::super::SCHEMA_VERSION);
        state
            .choose_cadence("a@example.org", Cadence::Weekly, "serve")
            .unwrap();
        assert_eq!(
            state.chosen_cadence("a@example.org").unwrap(),
            Some(Cadence::Weekly)
        );
        // Set back to schema 8 by hand with every column there: the step is taken again, whole.
        state
            .conn
            .execute_batch("PRAGMA user_version = 8;")
            .unwrap();
        drop(state);
        let state = State::open(&path).unwrap();
        assert_eq!(state.version().unwrap(), super::super::SCHEMA_VERSION);
        assert_eq!(state.cadence_choices().unwrap().len(), 1);
    }
}
