//! The weekly roll-up's side of the state (schema 10): which post went to
//! which weekly subscriber in a roll-up, and how, and each `mail --weekly`
//! run. Apart from the daily tables, so that the daily planning reads and
//! writes exactly what it did before.

use std::collections::HashMap;

use rusqlite::params;

use super::{Error, Outcome, Run, State, now, unreadable};

/// The schema that has the roll-up's tables.
const SINCE_SCHEMA: i64 = 10;

/// 9 → 10: one row per roll-up recipient and post (its publication instant
/// beside it, so a plan reads only the posts its window holds), and the
/// roll-up runs, as `runs` holds the daily ones. `IF NOT EXISTS`: a state
/// set back to an older version takes the step again unharmed.
pub(super) const MIGRATION: &str = "CREATE TABLE IF NOT EXISTS rollups (
        email TEXT NOT NULL,
        url TEXT NOT NULL,
        published_ts INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('delivered', 'failed')),
        reply TEXT,
        at TEXT NOT NULL,
        PRIMARY KEY (email, url)
    );
    CREATE INDEX IF NOT EXISTS rollups_by_published ON rollups (published_ts);
    CREATE TABLE IF NOT EXISTS rollup_runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        exit_code INTEGER,
        summary TEXT
    );";

/// Post URL → address key → the outcome of the roll-up that held it.
pub(crate) type Held = HashMap<String, HashMap<String, Outcome>>;

impl State {
    /// Address key → when (seconds since the epoch) its last roll-up was
    /// recorded, delivered or refused for good: one entry per address.
    pub(crate) fn last_rollups(&self) -> Result<HashMap<String, i64>, Error> {
        let mut last = HashMap::new();
        if self.version()? < SINCE_SCHEMA {
            return Ok(last);
        }
        let failed = |err| unreadable(&self.path, err);
        let mut statement = self
            .conn
            .prepare("SELECT email, MAX(at) FROM rollups GROUP BY email")
            .map_err(failed)?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(failed)?;
        for row in rows {
            let (email, at) = row.map_err(failed)?;
            if let Ok(at) = at.parse::<jiff::Timestamp>() {
                last.insert(crate::address::key(&email), at.as_second());
            }
        }
        Ok(last)
    }

    /// What the roll-ups did with each post published at or after
    /// `cutoff` (seconds since the epoch).
    pub(crate) fn rollups_since(&self, cutoff: i64) -> Result<Held, Error> {
        let mut held = Held::new();
        if self.version()? < SINCE_SCHEMA {
            return Ok(held);
        }
        let failed = |err| unreadable(&self.path, err);
        let mut statement = self
            .conn
            .prepare("SELECT email, url, status, reply FROM rollups WHERE published_ts >= ?1")
            .map_err(failed)?;
        let rows = statement
            .query_map([cutoff], |row| {
                let status: String = row.get(2)?;
                let outcome = if status == "delivered" {
                    Outcome::Delivered
                } else {
                    Outcome::Failed(row.get::<_, Option<String>>(3)?.unwrap_or_default())
                };
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, outcome))
            })
            .map_err(failed)?;
        for row in rows {
            let (email, url, outcome) = row.map_err(failed)?;
            held.entry(url)
                .or_default()
                .insert(crate::address::key(&email), outcome);
        }
        Ok(held)
    }

    /// Records one recipient's roll-up, holding `posts` (URL, publication
    /// instant in seconds), as one committed transaction: a kill leaves
    /// the whole roll-up recorded or none of it.
    pub(crate) fn record_rollup(
        &self,
        email_key: &str,
        posts: &[(String, i64)],
        outcome: &Outcome,
    ) -> Result<(), Error> {
        let (status, reply) = match outcome {
            Outcome::Delivered => ("delivered", None),
            Outcome::Failed(reply) => ("failed", Some(reply.as_str())),
        };
        let at = now();
        let write = || -> rusqlite::Result<()> {
            let transaction = self.immediate()?;
            {
                let mut insert = transaction.prepare(
                    "INSERT INTO rollups (email, url, published_ts, status, reply, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (email, url) DO UPDATE SET status = excluded.status,
                     reply = excluded.reply, at = excluded.at",
                )?;
                for (url, published_ts) in posts {
                    insert.execute(params![email_key, url, published_ts, status, reply, at])?;
                }
            }
            transaction.commit()
        };
        write().map_err(|err| self.write_error(&err))
    }

    /// Roll-up messages delivered in the last 24 hours (one per recipient
    /// and roll-up, however many posts it held): what they spent of
    /// `max_per_day`.
    pub(super) fn rollups_in_a_day(&self, since: &str) -> Result<u64, Error> {
        if self.version()? < SINCE_SCHEMA {
            return Ok(0);
        }
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM (SELECT DISTINCT email, at FROM rollups
                 WHERE status = 'delivered' AND at >= ?1)",
                [since],
                |row| row.get::<_, i64>(0),
            )
            .map(|count| u64::try_from(count).unwrap_or(0))
            .map_err(|err| unreadable(&self.path, err))
    }

    /// Records that a `mail --weekly` run has begun; its id.
    pub(crate) fn start_rollup_run(&self) -> Result<i64, Error> {
        self.conn
            .execute("INSERT INTO rollup_runs (started_at) VALUES (?1)", [now()])
            .map_err(|err| self.write_error(&err))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how a `mail --weekly` run ended.
    pub(crate) fn end_rollup_run(
        &self,
        id: i64,
        exit_code: i32,
        summary: &str,
    ) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE rollup_runs SET ended_at = ?2, exit_code = ?3, summary = ?4 WHERE id = ?1",
                params![id, now(), exit_code, summary],
            )
            .map(drop)
            .map_err(|err| self.write_error(&err))
    }

    /// The latest `mail --weekly` run, if any.
    pub(crate) fn last_rollup_run(&self) -> Result<Option<Run>, Error> {
        if self.version()? < SINCE_SCHEMA {
            return Ok(None);
        }
        self.latest_run("rollup_runs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posts() -> Vec<(String, i64)> {
        vec![
            ("https://e.org/a.html".into(), 1_000),
            ("https://e.org/b.html".into(), 2_000),
        ]
    }

    #[test]
    fn a_rollup_is_recorded_for_each_of_its_posts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let state = State::open(&path).unwrap();
        assert!(state.last_rollups().unwrap().is_empty());
        assert!(state.rollups_since(0).unwrap().is_empty());
        state
            .record_rollup("a@example.org", &posts(), &Outcome::Delivered)
            .unwrap();
        state
            .record_rollup(
                "b@example.org",
                &posts()[1..],
                &Outcome::Failed("550 no".into()),
            )
            .unwrap();
        drop(state);

        let state = State::open_read_only(&path).unwrap().unwrap();
        assert_eq!(state.last_rollups().unwrap().len(), 2);
        let all = state.rollups_since(0).unwrap();
        assert_eq!(
            all["https://e.org/a.html"],
            HashMap::from([("a@example.org".to_string(), Outcome::Delivered)])
        );
        assert_eq!(
            all["https://e.org/b.html"]["b@example.org"],
            Outcome::Failed("550 no".into())
        );
        // Only the posts published at or after the cutoff are read.
        let recent = state.rollups_since(1_500).unwrap();
        assert_eq!(recent.len(), 1);
        assert!(recent.contains_key("https://e.org/b.html"));
        // One message each, whatever it held; the refused one spent nothing.
        assert_eq!(state.rollups_in_a_day("1970-01-01T00:00:00Z").unwrap(), 1);
    }

    #[test]
    fn rollup_runs_are_apart_from_the_daily_runs() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("state.db")).unwrap();
        assert_eq!(state.last_rollup_run().unwrap(), None);
        let id = state.start_rollup_run().unwrap();
        state.end_rollup_run(id, 0, "2 sent").unwrap();
        let run = state.last_rollup_run().unwrap().unwrap();
        assert_eq!(run.exit_code, Some(0));
        assert_eq!(run.summary.as_deref(), Some("2 sent"));
        assert_eq!(
            state.last_run().unwrap(),
            None,
            "the daily runs know nothing of it"
        );
    }
}
