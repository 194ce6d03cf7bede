//! The delivery state (SPEC §5): an `SQLite` database recording, per post and
//! recipient, delivered or failed for good, committed as each message
//! completes; and the lock that keeps two runs from sending at once.
//!
//! rusqlite lives here (and in [`list`] and [`inbox`], the list's and the
//! inbox's tables) and nowhere else. The store stands on `config` and
//! `error` only: the mail, the list and the inbox build on it, never the
//! other way round.

pub(crate) mod inbox;
pub(crate) mod list;
pub(crate) mod weekly;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::error::{Error, Location, Problem, Transient};

/// The schema this program writes. Each entry of [`MIGRATIONS`] takes the
/// state from version `index` to `index + 1`.
pub(crate) const SCHEMA_VERSION: i64 = 10;

const MIGRATIONS: &[&str] = &[
    // 0 → 1: posts by identity (URL), one row per post and recipient.
    "CREATE TABLE posts (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        published_at TEXT NOT NULL,
        published_ts INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        completed_at TEXT
    );
    CREATE TABLE deliveries (
        post_id INTEGER NOT NULL REFERENCES posts(id),
        email TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('delivered', 'failed')),
        reply TEXT,
        at TEXT NOT NULL,
        PRIMARY KEY (post_id, email)
    );",
    // 1 → 2: each run that sends, for `status` and monitoring.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        exit_code INTEGER,
        summary TEXT
    );",
    // 2 → 3: the list the state serves (SPEC §5: one state, one list).
    "CREATE TABLE list (config TEXT NOT NULL);",
    // 3 → 4: the list's lifecycle: suppressions, sign-ups, soft bounces.
    list::MIGRATION,
    // 4 → 5: the inbox: messages acted on, messages left, its runs.
    inbox::MIGRATION,
    // 5 → 6: when a sign-up's confirmation went out.
    list::NOTIFIED_MIGRATION,
    // 6 → 7: where each message left for the owner is.
    inbox::PLACE_MIGRATION,
    // 7 → 8: the keys links were signed with; the confirmations' budget.
    list::KEYS_MIGRATION,
    // 8 → 9: each subscriber's cadence as they chose it.
    list::CADENCE_MIGRATION,
    // 9 → 10: the weekly roll-ups and their runs.
    weekly::MIGRATION,
];

/// One `mail` run that sent (or tried to), as the state records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Run {
    /// When it began, RFC 3339.
    pub started_at: String,
    /// When it ended; `None` if it never did (killed, or still going).
    pub ended_at: Option<String>,
    /// Its exit code (SPEC §2).
    pub exit_code: Option<i64>,
    /// Its summary's first line, or its error.
    pub summary: Option<String>,
}

/// How a recipient's message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The server accepted it.
    Delivered,
    /// The server refused it for good; its reply.
    Failed(String),
}

/// A post the state knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MailedPost {
    /// The state's id for it.
    pub id: i64,
    /// Its identity.
    pub url: String,
    /// Its title when it was first mailed.
    pub title: String,
    /// Its publication instant, RFC 3339.
    pub published_at: String,
    /// Its publication instant, seconds since the epoch.
    pub published_ts: i64,
    /// False while some recipients may still be owed it.
    pub completed: bool,
}

/// What the state says of one post's recipients, for `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    /// How many it was delivered to.
    pub delivered: usize,
    /// Each refused for good, by address key, with the server's reply; sorted.
    pub failed: Vec<(String, String)>,
}

/// How a recipient's message ended, without the server's words: what a
/// plan needs to know of a post already begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    Delivered,
    Failed,
}

/// What the state says of one post's recipients, for planning a run: each
/// address as a 128-bit fingerprint of its key (two `SipHash` keyed at
/// random per run), sorted. A post sent to a million costs 16 MB here
/// instead of every address and reply as strings; that any address of a
/// million is taken for another is about 2^-88 likely, and only by chance,
/// since nobody outside the run knows its keys.
#[derive(Debug, Default)]
pub(crate) struct Outcomes {
    delivered: Vec<u128>,
    failed: Vec<u128>,
}

impl Outcomes {
    /// Whether no recipient's outcome is known.
    pub(crate) fn is_empty(&self) -> bool {
        self.delivered.is_empty() && self.failed.is_empty()
    }

    /// How the message to the address with `key` ended, if it did.
    pub(crate) fn get(&self, key: &str) -> Option<Ended> {
        let print = fingerprint(key);
        if self.delivered.binary_search(&print).is_ok() {
            Some(Ended::Delivered)
        } else if self.failed.binary_search(&print).is_ok() {
            Some(Ended::Failed)
        } else {
            None
        }
    }

    /// The outcomes of `(key, outcome)` pairs, as [`State::outcomes`] reads them.
    #[cfg(test)]
    pub(crate) fn of<'k>(pairs: impl IntoIterator<Item = (&'k str, Ended)>) -> Outcomes {
        let mut outcomes = Outcomes::default();
        for (key, ended) in pairs {
            outcomes.add(key, ended);
        }
        outcomes.sort();
        outcomes
    }

    /// Adds one outcome (a test builds a history with it).
    #[cfg(test)]
    pub(crate) fn insert(&mut self, key: &str, ended: Ended) {
        self.add(key, ended);
        self.sort();
    }

    fn add(&mut self, key: &str, ended: Ended) {
        match ended {
            Ended::Delivered => self.delivered.push(fingerprint(key)),
            Ended::Failed => self.failed.push(fingerprint(key)),
        }
    }

    fn sort(&mut self) {
        self.delivered.sort_unstable();
        self.failed.sort_unstable();
        self.delivered.shrink_to_fit();
        self.failed.shrink_to_fit();
    }
}

/// 128 bits of `key`, from two hashers keyed at random once per process.
fn fingerprint(key: &str) -> u128 {
    use std::hash::BuildHasher;
    static KEYS: std::sync::LazyLock<[std::collections::hash_map::RandomState; 2]> =
        std::sync::LazyLock::new(Default::default);
    (u128::from(KEYS[0].hash_one(key)) << 64) | u128::from(KEYS[1].hash_one(key))
}

/// An open delivery state.
#[derive(Debug)]
pub(crate) struct State {
    conn: Connection,
    path: PathBuf,
    /// For a sending run: the state file itself, locked (see [`State::open`]).
    held: Option<File>,
}

fn unreadable(path: &Path, err: impl std::fmt::Display) -> Error {
    let text = err.to_string();
    // Not every failure to read is a damaged state: say what it is, and
    // keep the advice to restore it for a state that is damaged.
    if text.contains("database is locked") || text.contains("database is busy") {
        return Error::Transient(Transient::Unavailable(format!(
            "the delivery state {} is busy ({text}): another digest-feed held it longer than the wait; \
             nothing was changed, try again",
            path.display()
        )));
    }
    if text.contains("readonly database")
        || text.contains("unable to open database file")
        || text.contains("Permission denied")
    {
        return Problem::new(
            Location::file(path),
            format!(
                "the delivery state cannot be opened for writing ({text}); nothing was sent. Give the user \
                 running digest-feed write access to {} and its folder (SQLite writes beside it)",
                path.display()
            ),
        )
        .into();
    }
    Problem::new(
        Location::file(path),
        format!(
            "the delivery state cannot be read ({err}); nothing was sent. Restore it from a backup, \
             or move it aside only if every subscriber may get the newest post again"
        ),
    )
    .into()
}

/// A state (or its folder) this run may not write: what to fix, and
/// nothing that would mail anyone again.
fn unopenable(path: &Path, err: &std::io::Error) -> Error {
    if err.kind() == std::io::ErrorKind::PermissionDenied {
        return Problem::new(
            Location::file(path),
            format!(
                "the delivery state cannot be written here ({err}); nothing was sent. Give the user \
                 running digest-feed write access to {} and its folder (SQLite writes beside it)",
                path.display()
            ),
        )
        .into();
    }
    unreadable(path, err)
}

impl State {
    /// Opens the state for a run that sends, creating it (and its folder)
    /// when missing and upgrading an older schema in place.
    pub(crate) fn open(path: &Path) -> Result<State, Error> {
        State::open_writable(path, true)
    }

    /// Opens the state for a change to the list (`serve`, `inbox`,
    /// `subscribers`), as [`State::open`] does but without the run's file
    /// lock: these write while a `mail` run sends, each commit short, and
    /// `SQLite`'s own locks (with the busy timeout) keep them apart.
    pub(crate) fn open_beside_runs(path: &Path) -> Result<State, Error> {
        State::open_writable(path, false)
    }

    fn open_writable(path: &Path, hold_it: bool) -> Result<State, Error> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .map_err(|err| Error::io("cannot create folder", folder, err))?;
        }
        if !path.exists() {
            create(path)?;
        }
        let held = if hold_it { Some(hold(path)?) } else { None };
        // SQLite writes its WAL and index beside the state: a folder it
        // cannot write in fails every commit, so say so before the first.
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        tempfile::tempfile_in(folder).map_err(|err| unopenable(folder, &err))?;
        let mut state = State::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        state.held = held;
        let version = state.version()?;
        // WAL: each commit is one append, and a kill -9 loses at most the
        // transaction in flight. NORMAL skips the fsync per commit; a power
        // cut may lose the last commits, a crash of this process cannot.
        state
            .conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|err| unreadable(path, err))?;
        state.migrate(version)?;
        Ok(state)
    }

    /// Where the state is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the state read-only (for `--dry-run` and `status`); `None` when
    /// there is none yet.
    pub(crate) fn open_read_only(path: &Path) -> Result<Option<State>, Error> {
        if !path.exists() {
            return Ok(None);
        }
        let state = State::connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        state.version()?;
        Ok(Some(state))
    }

    /// Opens an existing file; never creates one, so that a state that
    /// vanished is not silently replaced by an empty one.
    fn connect(path: &Path, flags: OpenFlags) -> Result<State, Error> {
        let size = std::fs::metadata(path)
            .map_err(|err| unreadable(path, err))?
            .len();
        if size == 0 {
            return Err(unreadable(
                path,
                "the file is empty (0 bytes), so it remembers no one; delete it only if this site \
                 has never mailed anyone",
            ));
        }
        let flags = flags | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|err| unreadable(path, err))?;
        // `serve` and `inbox` write while a `mail` run may: wait for each other's commits.
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|err| unreadable(path, err))?;
        Ok(State {
            conn,
            path: path.to_path_buf(),
            held: None,
        })
    }

    /// The schema version of a file this program understands. Every state
    /// it creates has a version, so version 0 means some other file.
    fn version(&self) -> Result<i64, Error> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|err| unreadable(&self.path, err))?;
        if version > SCHEMA_VERSION {
            return Err(unreadable(
                &self.path,
                format!(
                    "it was written by a newer digest-feed (schema {version}; this one knows up to {SCHEMA_VERSION})"
                ),
            ));
        }
        if version == 0 {
            return Err(unreadable(
                &self.path,
                "it is an SQLite database, but not digest-feed's",
            ));
        }
        Ok(version)
    }

    /// Brings the schema from `version` up to [`SCHEMA_VERSION`], one
    /// committed step at a time.
    fn migrate(&self, version: i64) -> Result<(), Error> {
        let done = usize::try_from(version).unwrap_or(0);
        for (to, migration) in (1_i64..).zip(MIGRATIONS).skip(done) {
            let failed =
                |err| unreadable(&self.path, format!("upgrading it to schema {to}: {err}"));
            let transaction = self.immediate().map_err(failed)?;
            // Another process (`serve` beside a `mail` run) may have taken
            // this step since the version was read: look again, under the lock.
            let now_at: i64 = transaction
                .query_row("PRAGMA user_version", [], |row| row.get(0))
                .map_err(failed)?;
            if now_at < to {
                // Each statement on its own, so that a column there already
                // skips its own step only (no migration has a `;` in a string).
                let sql = migration
                    .split(';')
                    .filter(|statement| !statement.trim().is_empty())
                    .filter(|statement| !column_added_already(&transaction, statement))
                    .fold(String::new(), |sql, statement| sql + statement + ";");
                transaction
                    .execute_batch(&format!("{sql} PRAGMA user_version = {to};"))
                    .map_err(failed)?;
            }
            transaction.commit().map_err(failed)?;
        }
        Ok(())
    }

    /// Binds the state to the list of the config file at `config` (made
    /// absolute), on the run that first sends from it. A state that another
    /// config file still on disk serves is refused: its history is that
    /// list's, and this list would be told "nothing new" for ever. A config
    /// that moved (its old path gone) takes the state over.
    pub(crate) fn serve(&self, config: &Path) -> Result<(), Error> {
        let ours = absolute(config);
        match self.served()? {
            Some(theirs) if theirs == ours => Ok(()),
            Some(theirs) if Path::new(&theirs).exists() => Err(self.not_ours(&theirs, config)),
            Some(_) => self.bind(&ours, "UPDATE list SET config = ?1"),
            None => self.bind(&ours, "INSERT INTO list (config) VALUES (?1)"),
        }
    }

    /// [`State::serve`]'s refusal, for a run that only reads (a dry run).
    pub(crate) fn check_served(&self, config: &Path) -> Result<(), Error> {
        match self.served()? {
            Some(theirs) if theirs != absolute(config) && Path::new(&theirs).exists() => {
                Err(self.not_ours(&theirs, config))
            }
            _ => Ok(()),
        }
    }

    /// The config file the state serves; `None` before its first send (or
    /// in a state older than schema 3, read by a dry run).
    fn served(&self) -> Result<Option<String>, Error> {
        if self.version()? < 3 {
            return Ok(None);
        }
        self.conn
            .query_row("SELECT config FROM list LIMIT 1", [], |row| row.get(0))
            .optional()
            .map_err(|err| unreadable(&self.path, err))
    }

    fn bind(&self, config: &str, sql: &str) -> Result<(), Error> {
        self.conn
            .execute(sql, [config])
            .map(drop)
            .map_err(|err| self.write_error(&err))
    }

    fn not_ours(&self, theirs: &str, config: &Path) -> Error {
        Problem::new(
            Location::file(&self.path),
            format!(
                "this delivery state serves the list of {theirs}, not of {}: one state, one list. \
                 Give this config its own state ([email] state = \".digest-feed/another.db\"); if \
                 {theirs} is this list's old config, remove it and run again",
                config.display()
            ),
        )
        .into()
    }

    /// Every post the state knows, oldest first.
    pub(crate) fn posts(&self) -> Result<Vec<MailedPost>, Error> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, url, title, published_at, published_ts, completed_at IS NOT NULL
                 FROM posts ORDER BY published_ts, id",
            )
            .map_err(|err| unreadable(&self.path, err))?;

        statement
            .query_map([], |row| {
                Ok(MailedPost {
                    id: row.get(0)?,
                    url: row.get(1)?,
                    title: row.get(2)?,
                    published_at: row.get(3)?,
                    published_ts: row.get(4)?,
                    completed: row.get(5)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(|err| unreadable(&self.path, err))
    }

    /// Each recipient's row of the post with `url`, one at a time: its
    /// address keyed as the list keys an address now (a row an older
    /// version keyed by lower case alone, `a@bücher.de`, is the same person
    /// as `a@xn--bcher-kva.de`), and its outcome.
    fn each_delivery(&self, url: &str, mut each: impl FnMut(String, Outcome)) -> Result<(), Error> {
        let unreadable = |err| unreadable(&self.path, err);
        let mut statement = self
            .conn
            .prepare(
                "SELECT d.email, d.status, d.reply FROM deliveries d
                 JOIN posts p ON p.id = d.post_id WHERE p.url = ?1",
            )
            .map_err(unreadable)?;
        let mut rows = statement.query([url]).map_err(unreadable)?;
        while let Some(row) = rows.next().map_err(unreadable)? {
            let email: String = row.get(0).map_err(unreadable)?;
            let status: String = row.get(1).map_err(unreadable)?;
            let outcome = if status == "delivered" {
                Outcome::Delivered
            } else {
                let reply: Option<String> = row.get(2).map_err(unreadable)?;
                Outcome::Failed(reply.unwrap_or_default())
            };
            each(crate::address::key(&email), outcome);
        }
        Ok(())
    }

    /// How each recipient of the post with `url` ended (see [`Outcomes`]):
    /// only fingerprints are kept.
    pub(crate) fn outcomes(&self, url: &str) -> Result<Outcomes, Error> {
        self.outcomes_among(url, |_| true)
    }

    /// [`State::outcomes`] of the recipients whose address key `among`
    /// takes (a roll-up's weekly subscribers, say, out of a daily list).
    pub(crate) fn outcomes_among(
        &self,
        url: &str,
        among: impl Fn(&str) -> bool,
    ) -> Result<Outcomes, Error> {
        let mut outcomes = Outcomes::default();
        self.each_delivery(url, |key, outcome| {
            let ended = match outcome {
                Outcome::Delivered => Ended::Delivered,
                Outcome::Failed(_) => Ended::Failed,
            };
            if among(&key) {
                outcomes.add(&key, ended);
            }
        })?;
        outcomes.sort();
        Ok(outcomes)
    }

    /// How many recipients of the post with `url` it was delivered to, and
    /// who refused it for good with what reply: what `status` shows,
    /// without holding every delivered address.
    pub(crate) fn tally(&self, url: &str) -> Result<Tally, Error> {
        let mut delivered = Vec::new();
        let mut failed = HashMap::new();
        self.each_delivery(url, |key, outcome| match outcome {
            Outcome::Delivered => delivered.push(fingerprint(&key)),
            Outcome::Failed(reply) => {
                failed.insert(key, reply);
            }
        })?;
        delivered.sort_unstable();
        delivered.dedup();
        // An address recorded both ways (an older key beside today's) was
        // delivered, as a plan takes it.
        let mut failed: Vec<(String, String)> = failed
            .into_iter()
            .filter(|(key, _)| delivered.binary_search(&fingerprint(key)).is_err())
            .collect();
        failed.sort();
        Ok(Tally {
            delivered: delivered.len(),
            failed,
        })
    }

    /// Records that mailing a post has begun (once; later calls return the
    /// same id) and returns its id.
    pub(crate) fn start_post(
        &self,
        url: &str,
        title: &str,
        published_at: &str,
        published_ts: i64,
    ) -> Result<i64, Error> {
        self.conn
            .execute(
                "INSERT INTO posts (url, title, published_at, published_ts, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (url) DO NOTHING",
                params![url, title, published_at, published_ts, now()],
            )
            .map_err(|err| self.write_error(&err))?;
        self.conn
            .query_row("SELECT id FROM posts WHERE url = ?1", [url], |row| {
                row.get(0)
            })
            .map_err(|err| self.write_error(&err))
    }

    /// Records one recipient's outcome, committed before this returns.
    pub(crate) fn record(
        &self,
        post_id: i64,
        email_key: &str,
        outcome: &Outcome,
    ) -> Result<(), Error> {
        let (status, reply) = match outcome {
            Outcome::Delivered => ("delivered", None),
            Outcome::Failed(reply) => ("failed", Some(reply.as_str())),
        };
        self.conn
            .execute(
                "INSERT INTO deliveries (post_id, email, status, reply, at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (post_id, email) DO UPDATE SET status = excluded.status,
                 reply = excluded.reply, at = excluded.at",
                params![post_id, email_key, status, reply, now()],
            )
            .map(drop)
            .map_err(|err| self.write_error(&err))
    }

    /// Messages delivered in the last 24 hours, whatever the post (and the
    /// weekly roll-ups, one message each): what
    /// `max_per_day` has spent. Times are recorded in UTC to the second, so
    /// they compare as text.
    pub(super) fn delivered_in_a_day(&self) -> Result<u64, Error> {
        let since = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24);
        let since = since.round(jiff::Unit::Second).unwrap_or(since).to_string();
        let daily = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM deliveries WHERE status = 'delivered' AND at >= ?1",
                [&since],
                |row| row.get::<_, i64>(0),
            )
            .map(|count| u64::try_from(count).unwrap_or(0))
            .map_err(|err| unreadable(&self.path, err))?;
        Ok(daily + self.rollups_in_a_day(&since)?)
    }

    /// Records that a run has begun; its id.
    pub(crate) fn start_run(&self) -> Result<i64, Error> {
        self.conn
            .execute("INSERT INTO runs (started_at) VALUES (?1)", [now()])
            .map_err(|err| self.write_error(&err))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how a run ended.
    pub(crate) fn end_run(&self, id: i64, exit_code: i32, summary: &str) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE runs SET ended_at = ?2, exit_code = ?3, summary = ?4 WHERE id = ?1",
                params![id, now(), exit_code, summary],
            )
            .map(drop)
            .map_err(|err| self.write_error(&err))
    }

    /// The latest run, if any (a schema-1 state read without upgrading has none).
    pub(crate) fn last_run(&self) -> Result<Option<Run>, Error> {
        if self.version()? < 2 {
            return Ok(None);
        }
        self.latest_run("runs")
    }

    /// The latest run recorded in `table` (`runs`, `rollup_runs`).
    fn latest_run(&self, table: &str) -> Result<Option<Run>, Error> {
        let run = self.conn.query_row(
            &format!(
                "SELECT started_at, ended_at, exit_code, summary FROM {table} ORDER BY id DESC LIMIT 1"
            ),
            [],
            |row| {
                Ok(Run {
                    started_at: row.get(0)?,
                    ended_at: row.get(1)?,
                    exit_code: row.get(2)?,
                    summary: row.get(3)?,
                })
            },
        );
        match run {
            Ok(run) => Ok(Some(run)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(err) => Err(unreadable(&self.path, err)),
        }
    }

    /// Marks a post as sent to everyone it was owed to.
    pub(crate) fn complete_post(&self, post_id: i64) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE posts SET completed_at = ?2 WHERE id = ?1 AND completed_at IS NULL",
                params![post_id, now()],
            )
            .map(drop)
            .map_err(|err| self.write_error(&err))
    }

    /// A transaction that takes the write lock at once (waiting out the
    /// busy timeout), so it never fails half-way for another writer.
    fn immediate(&self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)
    }

    fn write_error(&self, err: &rusqlite::Error) -> Error {
        Error::Transient(Transient::Unavailable(format!(
            "cannot write the delivery state {}: {err}; what was recorded stands, a rerun continues",
            self.path.display()
        )))
    }
}

/// Whether `statement` is an `ALTER TABLE t ADD COLUMN c …` whose column
/// is there already: a state of schema 5 written by a build that added
/// `notified_at` within that step (between two commits of one session), or
/// a state set back to an older schema by hand, which has every column.
fn column_added_already(conn: &Connection, statement: &str) -> bool {
    let words: Vec<&str> = statement.split_whitespace().collect();
    let (table, column) = match words.as_slice() {
        ["ALTER", "TABLE", table, "ADD", "COLUMN", column, ..] => (*table, *column),
        _ => return false,
    };
    let Ok(mut statement) = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
    else {
        return false;
    };
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .is_ok_and(|names| names.flatten().any(|name| name == column))
}

/// Creates a new state at `path`: built beside it under a name of its own
/// and linked into place with its schema, so a kill never leaves a
/// half-made state that a later run would take for "nobody has been
/// mailed", and processes creating it at once (8 one-click POSTs to a
/// fresh `serve`) never undo each other: the first link wins, the others
/// find the state there and use it.
fn create(path: &Path) -> Result<(), Error> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fresh = tempfile::Builder::new()
        .prefix(".state-new-")
        .tempfile_in(folder)
        .map_err(|err| unopenable(folder, &err))?;
    // The default rollback journal: when the connection closes, everything
    // is in the one file that is linked.
    let conn = Connection::open(fresh.path()).map_err(|err| unreadable(fresh.path(), err))?;
    let state = State {
        conn,
        path: fresh.path().to_path_buf(),
        held: None,
    };
    state.migrate(0)?;
    state
        .conn
        .close()
        .map_err(|(_, err)| unreadable(fresh.path(), err))?;
    match fresh.persist_noclobber(path) {
        Ok(_) => Ok(()),
        // Another process made it meanwhile: theirs stands.
        Err(err) if err.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(Error::io("cannot create", path, err.error)),
    }
}

fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string()
}

/// Held while a run sends; released when dropped (or when the process dies).
#[derive(Debug)]
pub(crate) struct RunLock {
    _file: File,
}

/// `path` made absolute (and canonical, when it exists), to compare configs.
fn absolute(path: &Path) -> String {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Locks the state file itself for the run (an advisory `flock`, apart from
/// `SQLite`'s own locks). The lock file beside it can be deleted during a run,
/// and a second run would then lock a new one and send the same post; the
/// state cannot be deleted away without losing what it records, so a run
/// that holds this lock is the only one sending from this state.
fn hold(path: &Path) -> Result<File, Error> {
    let file = File::options()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|err| unopenable(path, &err))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(Error::Transient(Transient::Unavailable(format!(
                "another digest-feed mail run is sending from {} (its lock file was deleted or \
                 replaced during that run); nothing was sent by this one",
                path.display()
            ))))
        }
        Err(std::fs::TryLockError::Error(err)) => Err(Error::io("cannot lock", path, err)),
    }
}

/// Takes the lock beside the state at `state_path`, waiting up to `wait`
/// for a run that holds it to finish; `on_wait` hears of the wait once,
/// with the lock file's path, before it begins.
pub(crate) fn lock(
    state_path: &Path,
    wait: Duration,
    on_wait: impl FnOnce(&Path),
) -> Result<RunLock, Error> {
    lock_for(state_path, Locker::Mail, wait, on_wait)
}

/// The commands that hold a lock beside the state for as long as they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locker {
    /// `mail`: `state.db.lock`.
    Mail,
    /// `inbox`: `state.db.inbox.lock`. Apart from `mail`'s, as the two may
    /// run together (each commit is short); two `inbox` runs may not: both
    /// would read the same messages and mail the same confirmations.
    Inbox,
}

/// [`lock`] for `run`.
pub(crate) fn lock_for(
    state_path: &Path,
    run: Locker,
    wait: Duration,
    on_wait: impl FnOnce(&Path),
) -> Result<RunLock, Error> {
    let (suffix, who, what) = match run {
        Locker::Mail => (".lock", "mail", "nothing was sent by this one"),
        Locker::Inbox => (
            ".inbox.lock",
            "inbox",
            "this one read nothing; the next run reads what is left",
        ),
    };
    let mut lock_path = state_path.as_os_str().to_owned();
    lock_path.push(suffix);
    let lock_path = PathBuf::from(lock_path);
    if let Some(folder) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .map_err(|err| Error::io("cannot create folder", folder, err))?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|err| Error::io("cannot open the lock file", &lock_path, err))?;
    let deadline = Instant::now() + wait;
    let mut on_wait = Some(on_wait);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                if let Some(tell) = on_wait.take() {
                    tell(&lock_path);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Transient(Transient::Unavailable(format!(
                    "another digest-feed {who} run holds {} and did not finish within {} s; {what}",
                    lock_path.display(),
                    wait.as_secs()
                ))));
            }
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(Error::io("cannot lock", &lock_path, err));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/state.db");
        let state = State::open(&path).unwrap();
        let id = state
            .start_post(
                "https://e.org/a.html",
                "A",
                "2025-12-24T08:15:00+09:00",
                1_766_531_700,
            )
            .unwrap();
        assert_eq!(
            state
                .start_post("https://e.org/a.html", "A edited", "x", 0)
                .unwrap(),
            id,
            "a post is known by its URL"
        );
        state
            .record(id, "a@example.org", &Outcome::Delivered)
            .unwrap();
        state
            .record(
                id,
                "b@example.org",
                &Outcome::Failed("550 no such user".into()),
            )
            .unwrap();
        drop(state);

        let state = State::open_read_only(&path).unwrap().unwrap();
        let posts = state.posts().unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].title, "A");
        assert!(!posts[0].completed);
        assert_eq!(
            state.tally("https://e.org/a.html").unwrap(),
            Tally {
                delivered: 1,
                failed: vec![("b@example.org".into(), "550 no such user".into())]
            }
        );
        // What a plan reads: the same, by fingerprint, whatever the spelling.
        let outcomes = state.outcomes("https://e.org/a.html").unwrap();
        assert_eq!(outcomes.get("a@example.org"), Some(Ended::Delivered));
        assert_eq!(outcomes.get("b@example.org"), Some(Ended::Failed));
        assert_eq!(outcomes.get("c@example.org"), None);
        assert_eq!(
            state
                .outcomes("https://e.org/b.html")
                .unwrap()
                .get("a@example.org"),
            None
        );
        let some = state
            .outcomes_among("https://e.org/a.html", |key| key.starts_with('b'))
            .unwrap();
        assert_eq!(some.get("a@example.org"), None);
        assert_eq!(some.get("b@example.org"), Some(Ended::Failed));
    }

    #[test]
    fn an_address_recorded_under_an_older_key_and_todays_counts_once_as_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("state.db")).unwrap();
        let id = state
            .start_post("https://e.org/a.html", "A", "2025-12-24T08:15:00+09:00", 0)
            .unwrap();
        // An older version keyed by lower case alone; today's key is punycode.
        state
            .record(
                id,
                "a@bücher.de",
                &Outcome::Failed("452 mailbox full".into()),
            )
            .unwrap();
        state
            .record(id, "a@xn--bcher-kva.de", &Outcome::Delivered)
            .unwrap();
        let tally = state.tally("https://e.org/a.html").unwrap();
        assert_eq!((tally.delivered, tally.failed.len()), (1, 0));
        let outcomes = state.outcomes("https://e.org/a.html").unwrap();
        assert_eq!(outcomes.get("a@xn--bcher-kva.de"), Some(Ended::Delivered));
    }

    #[test]
    fn a_file_that_is_not_a_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        std::fs::write(&path, b"this is not a database, just some text").unwrap();
        let err = State::open(&path).unwrap_err().to_string();
        assert!(err.contains("the delivery state cannot be read"), "{err}");
        assert!(State::open_read_only(&path).is_err());

        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = State::open(&other).unwrap_err().to_string();
        assert!(err.contains("not digest-feed's"), "{err}");

        let newer = dir.path().join("newer.db");
        Connection::open(&newer)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        let err = State::open(&newer).unwrap_err().to_string();
        assert!(err.contains("newer digest-feed (schema 99"), "{err}");
    }

    #[test]
    fn an_empty_file_is_refused_not_taken_for_a_new_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        std::fs::write(&path, b"").unwrap();
        for err in [
            State::open(&path).unwrap_err(),
            State::open_read_only(&path).unwrap_err(),
        ] {
            assert_eq!(err.exit_code(), 2);
            assert!(
                err.to_string()
                    .contains("state.db: the delivery state cannot be read (the file is empty"),
                "{err}"
            );
        }
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "left as found");
    }

    #[test]
    fn a_new_state_appears_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(State::open(&path).unwrap());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| !n.to_string_lossy().starts_with(".state-new-")),
            "{names:?}"
        );
        let state = State::open_read_only(&path).unwrap().unwrap();
        assert_eq!(state.version().unwrap(), SCHEMA_VERSION);
        assert!(state.posts().unwrap().is_empty());
    }

    #[test]
    fn states_made_at_once_by_many_are_one_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fresh/state.db");
        let opened: Vec<Result<(), String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        let state = State::open_beside_runs(&path).map_err(|e| e.to_string())?;
                        state
                            .suppress("a@example.org", "unsubscribed", "", "serve")
                            .map(drop)
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(opened.iter().all(Result::is_ok), "{opened:?}");
        let state = State::open_read_only(&path).unwrap().unwrap();
        assert_eq!(state.suppressions().unwrap().len(), 1);
    }

    #[test]
    fn a_read_only_folder_is_no_damaged_state() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(State::open(&path).unwrap());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let err = State::open_beside_runs(&path)
            .and_then(|state| state.suppress("a@example.org", "manual", "", "test"));
        if let Err(err) = err {
            let text = err.to_string();
            assert!(!text.contains("Restore it from a backup"), "{text}");
        }
        let busy = unreadable(&path, "database is locked").to_string();
        assert!(
            busy.contains("is busy") && !busy.contains("backup"),
            "{busy}"
        );
        let readonly = unreadable(&path, "attempt to write a readonly database").to_string();
        assert!(
            readonly.contains("write access") && !readonly.contains("backup"),
            "{readonly}"
        );
    }

    #[test]
    fn a_second_lock_waits_then_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let held = lock(&path, Duration::ZERO, |_| {}).unwrap();
        let mut told = 0;
        let err = lock(&path, Duration::from_millis(300), |_| told += 1).unwrap_err();
        assert_eq!(told, 1, "the wait is announced once");
        assert_eq!(err.exit_code(), 3);
        assert!(
            err.to_string()
                .contains("another digest-feed mail run holds"),
            "{err}"
        );
        drop(held);
        lock(&path, Duration::ZERO, |_| panic!("no wait")).unwrap();
    }
}
