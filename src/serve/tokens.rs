//! The subscriber a token names, from a [`token::Index`] kept in memory:
//! each known address's token for each purpose `serve` reads. Reading the
//! list and signing every address per request would make a flood of forged
//! links a flood of list reads; the kept index makes a request cost one
//! `stat`, one indexed query and one map lookup.
//!
//! The index is rebuilt only when the set of addresses it names may have
//! changed: when the subscribers CSV no longer looks as it did when the
//! index was built, or a sign-up was added to the state (its largest rowid
//! moved; see [`list::SignupsWatch`]). Nothing else the state records (an
//! unsubscribe, a confirmation, a delivery, `SQLite`'s own `-wal` file
//! coming and going) changes who a token may name, so none of it costs a
//! rebuild: replaying a used link is a lookup. The config is read once at
//! start, so its `[[subscribers]]` only change on a restart. What `serve`
//! itself records is added at once ([`Tokens::add`]). The index is built
//! before the first request ([`Tokens::warm`]).

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::config::{Cadence, Config};
use crate::error::Error;
use crate::list;
use crate::list::token::{self, Purpose, Secret};

/// The purposes of the links `serve` answers; a token of any other is
/// no good here.
const PURPOSES: [Purpose; 2] = [Purpose::Unsubscribe, Purpose::Confirm];

/// How long after a file's last change its timestamps are trusted. A
/// filesystem stamps times in ticks (a few ms on Linux, 1 s on ext3 or
/// HFS+, 2 s on FAT): a write later in the tick the index was built in
/// would look the same, size and all, so an index built that close to a
/// change is built once more after this much time.
const SETTLE: Duration = Duration::from_secs(2);

/// How one watched file looked: enough to tell that it changed. `None`
/// is a file that was not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    /// Device and inode: a file replaced by a rename is another file.
    file: (u64, u64),
    len: u64,
    /// Not the inode's change time: `SQLite` changes that of the `-wal`
    /// file on every read (seen when run as root, which sets the file's
    /// owner again), and every request would then be a change.
    modified: SystemTime,
}

impl Look {
    fn of(metadata: &std::fs::Metadata) -> Look {
        Look {
            file: (metadata.dev(), metadata.ino()),
            len: metadata.len(),
            modified: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }
}

/// The watched files as they looked at `taken`, and the state's sign-ups mark.
#[derive(Debug)]
struct Stamp {
    looks: Vec<Option<Look>>,
    signups: i64,
    taken: SystemTime,
}

impl Stamp {
    /// How `paths` look now. A file that cannot be examined counts as
    /// missing: reading the list then fails and says why.
    fn take(paths: &[PathBuf], signups: i64) -> Stamp {
        let taken = SystemTime::now();
        let looks = paths
            .iter()
            .map(|path| std::fs::metadata(path).ok().map(|m| Look::of(&m)))
            .collect();
        Stamp {
            looks,
            signups,
            taken,
        }
    }

    /// From when this stamp's times are trusted: [`SETTLE`] after the
    /// latest change it saw.
    fn trusted_from(&self) -> SystemTime {
        let latest = self.looks.iter().flatten().map(|look| look.modified).max();
        latest.map_or(SystemTime::UNIX_EPOCH, |time| time + SETTLE)
    }

    /// Whether an index built from what was read after this stamp still
    /// holds, now that the files look as `now` says. Any difference makes it
    /// stale. The same looks make it stale too when the index was built too
    /// soon after a change to trust them and that time has now passed: one
    /// more build then, never one per request.
    fn still_holds(&self, now: &Stamp) -> bool {
        let trusted_from = self.trusted_from();
        self.looks == now.looks
            && self.signups == now.signups
            && (self.taken >= trusted_from || now.taken < trusted_from)
    }
}

/// The index of [`PURPOSES`]' tokens, and how the list's files looked
/// when it was built.
#[derive(Debug)]
struct Index {
    stamp: Stamp,
    tokens: token::Index,
    /// The keys of the addresses mailed weekly when it was built (their
    /// row's cadence, or their choice), for the confirm page's offer of the
    /// other one. A choice made since is read from the state: choices are
    /// only ever replaced, never removed, so the state's wins.
    weekly: HashSet<String>,
}

/// The index and what it is built from and checked against.
#[derive(Debug)]
pub(super) struct Tokens {
    secret: Secret,
    /// The files the list is read from, besides the config and the state:
    /// the subscribers CSV.
    watched: Vec<PathBuf>,
    /// `None` until built. Held while a build runs: other requests wait
    /// for it rather than build the same index again.
    index: Mutex<Watched>,
}

/// The index and the watch on the state's sign-ups, under one lock.
#[derive(Debug)]
struct Watched {
    index: Option<Index>,
    signups: list::SignupsWatch,
}

impl Tokens {
    /// An index of the list `config` names, signed with `secret`; built
    /// by [`Tokens::warm`] or when the first token comes.
    pub(super) fn new(config: &Config, secret: Secret) -> Result<Tokens, Error> {
        let watched = config
            .subscribers
            .file
            .as_ref()
            .map(|(p, _)| p.clone())
            .into_iter()
            .collect();
        Ok(Tokens {
            secret,
            watched,
            index: Mutex::new(Watched {
                index: None,
                signups: list::SignupsWatch::new(config)?,
            }),
        })
    }

    /// Builds the index now, so that the first request finds it made.
    pub(super) fn warm(&self, config: &Config) -> Result<(), Error> {
        self.find(config, Purpose::Unsubscribe, "").map(drop)
    }

    /// The address `token` names for `purpose`, if it names one. Blocks:
    /// it may read the whole list.
    pub(super) fn find(
        &self,
        config: &Config,
        purpose: Purpose,
        token: &str,
    ) -> Result<Option<String>, Error> {
        let mut watched = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        // Taken before the list is read: a change made while it is read
        // then shows as a difference next time, and is read then.
        let now = Stamp::take(&self.watched, watched.signups.mark()?);
        if !watched
            .index
            .as_ref()
            .is_some_and(|i| i.stamp.still_holds(&now))
        {
            // A list that cannot be read fails the request, as it did before
            // the index; the old index stays, stale, and the next request
            // tries again.
            watched.index = Some(self.build(config, now)?);
        }
        // A purpose not in PURPOSES (a bounce's tag) was never added: no good here.
        Ok(watched
            .index
            .as_ref()
            .and_then(|i| i.tokens.find(purpose, token))
            .map(ToString::to_string))
    }

    /// The cadence `address` (one [`Tokens::find`] returned) had when the
    /// index was built; daily when unknown.
    pub(super) fn cadence(&self, address: &str) -> Cadence {
        let watched = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        let weekly = watched
            .index
            .as_ref()
            .is_some_and(|i| i.weekly.contains(&crate::address::key(address)));
        if weekly {
            Cadence::Weekly
        } else {
            Cadence::Daily
        }
    }

    /// Adds an address `serve` has just recorded (a sign-up), so that its
    /// links work at once, whatever the next look finds.
    pub(super) fn add(&self, address: &str) {
        let mut watched = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(index) = watched.index.as_mut() {
            index.tokens.add(&self.secret, &PURPOSES, address);
        }
    }

    /// How many times the index was built: for the tests that it is not
    /// built again for what cannot change it.
    #[cfg(test)]
    fn built_at(&self) -> Option<SystemTime> {
        let watched = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        watched.index.as_ref().map(|index| index.stamp.taken)
    }

    fn build(&self, config: &Config, stamp: Stamp) -> Result<Index, Error> {
        let mut index = Index {
            stamp,
            tokens: token::Index::default(),
            weekly: HashSet::new(),
        };
        for (address, cadence) in list::known_cadences(config)? {
            index.tokens.add(&self.secret, &PURPOSES, &address);
            if cadence == Cadence::Weekly {
                index.weekly.insert(crate::address::key(&address));
            }
        }
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(len: u64, modified: SystemTime) -> Look {
        Look {
            file: (1, 2),
            len,
            modified,
        }
    }

    fn stamp(looks: Vec<Option<Look>>, taken: SystemTime) -> Stamp {
        Stamp {
            looks,
            signups: 0,
            taken,
        }
    }

    #[test]
    fn an_index_is_rebuilt_when_a_file_changes_or_once_its_times_settle() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let second = Duration::from_secs(1);
        let built = stamp(vec![Some(look(10, t)), None], t + 5 * second);
        // Long after the last change: the same looks hold, whenever asked.
        assert!(built.still_holds(&stamp(built.looks.clone(), t + 6 * second)));
        assert!(built.still_holds(&stamp(built.looks.clone(), t + 600 * second)));
        // Any difference does not: a length, a time, a file come or gone, replaced.
        let changed = |looks: Vec<Option<Look>>| !built.still_holds(&stamp(looks, t + 6 * second));
        assert!(changed(vec![Some(look(11, t)), None]));
        assert!(changed(vec![Some(look(10, t + second)), None]));
        assert!(changed(vec![Some(look(10, t)), Some(look(0, t))]));
        assert!(changed(vec![None, None]));
        let mut replaced = built.looks.clone();
        replaced[0].as_mut().unwrap().file = (1, 3);
        assert!(changed(replaced));

        // Built in the tick of a change: a later write in that tick would
        // look the same, so the index holds until the times settle, and is
        // built once more after.
        let racy = stamp(vec![Some(look(10, t)), None], t + second);
        assert!(racy.still_holds(&stamp(racy.looks.clone(), t + second)));
        assert!(!racy.still_holds(&stamp(racy.looks.clone(), t + SETTLE)));
        let rebuilt = stamp(racy.looks.clone(), t + SETTLE);
        assert!(rebuilt.still_holds(&stamp(racy.looks.clone(), t + 60 * second)));
        // No files at all: nothing to wait for.
        let empty = stamp(vec![None, None], t);
        assert!(empty.still_holds(&stamp(vec![None, None], t + 60 * second)));
    }

    /// A site in `dir` listing `kim` in its CSV, and its tokens' index.
    fn site(dir: &std::path::Path) -> (Config, Tokens) {
        std::fs::write(dir.join("subscribers.csv"), "email\nkim@example.org\n").unwrap();
        let text = "[site]\nurl = \"https://e.org\"\n\
                    [email]\nfrom = \"p@example.org\"\nsubscribers_file = \"subscribers.csv\"\n";
        let config = Config::parse(text, &dir.join("config.toml")).unwrap();
        let tokens = Tokens::new(
            &config,
            Secret::load_or_create(&dir.join("secret"), false).unwrap(),
        );
        (config, tokens.unwrap())
    }

    #[test]
    fn tokens_find_the_list_as_it_is_now() {
        let dir = tempfile::tempdir().unwrap();
        let (config, tokens) = site(dir.path());
        let find = |purpose, address: &str| {
            let token = tokens.secret.token(purpose, address);
            tokens.find(&config, purpose, &token).unwrap()
        };
        let kim = Some("kim@example.org".to_string());
        assert_eq!(find(Purpose::Unsubscribe, "Kim@Example.org"), kim);
        assert_eq!(find(Purpose::Confirm, "kim@example.org"), kim);
        assert_eq!(find(Purpose::Bounce, "kim@example.org"), None);
        assert_eq!(find(Purpose::Unsubscribe, "lee@example.org"), None);
        let token = tokens.secret.token(Purpose::Unsubscribe, "kim@example.org");
        let wrong = tokens.find(&config, Purpose::Confirm, &token).unwrap();
        assert_eq!(
            wrong, None,
            "a token for one purpose is no good for another"
        );

        let csv = dir.path().join("subscribers.csv");
        std::fs::write(&csv, "email\nkim@example.org\nlee@example.org\n").unwrap();
        let lee = Some("lee@example.org".to_string());
        assert_eq!(find(Purpose::Unsubscribe, "lee@example.org"), lee);
        // A sign-up recorded here shows at once, however close to the last build.
        list::request_signup(&config, "new@example.org", "", "test", None).unwrap();
        tokens.add("new@example.org");
        let new = Some("new@example.org".to_string());
        assert_eq!(find(Purpose::Confirm, "new@example.org"), new);
    }

    #[test]
    fn the_index_knows_each_address_cadence_as_the_list_says_it() {
        let dir = tempfile::tempdir().unwrap();
        let (config, tokens) = site(dir.path());
        let csv = dir.path().join("subscribers.csv");
        std::fs::write(
            &csv,
            "email,cadence\nkim@example.org,weekly\nlee@example.org,\n",
        )
        .unwrap();
        tokens.warm(&config).unwrap();
        assert_eq!(tokens.cadence("Kim@Example.org"), Cadence::Weekly);
        assert_eq!(tokens.cadence("lee@example.org"), Cadence::Daily);
        assert_eq!(tokens.cadence("nobody@example.org"), Cadence::Daily);
        // A choice recorded when the index is built is in it too.
        list::choose_cadence(&config, "lee@example.org", Cadence::Weekly, "serve").unwrap();
        std::fs::write(
            &csv,
            "email,cadence\nkim@example.org,daily\nlee@example.org,\n",
        )
        .unwrap();
        let lee = tokens.secret.token(Purpose::Unsubscribe, "lee@example.org");
        assert!(
            tokens
                .find(&config, Purpose::Unsubscribe, &lee)
                .unwrap()
                .is_some()
        );
        assert_eq!(
            tokens.cadence("kim@example.org"),
            Cadence::Daily,
            "the CSV changed"
        );
        assert_eq!(
            tokens.cadence("lee@example.org"),
            Cadence::Weekly,
            "the choice"
        );
    }

    #[test]
    fn what_does_not_change_who_a_token_names_never_rebuilds_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let (config, tokens) = site(dir.path());
        // The CSV written long ago: its times are trusted at once.
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("subscribers.csv"))
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_mins(1))
            .unwrap();
        list::request_signup(&config, "new@example.org", "", "test", None).unwrap();
        tokens.warm(&config).unwrap();
        let built = tokens.built_at();
        assert!(built.is_some(), "built before the first request");
        let kim = tokens.secret.token(Purpose::Unsubscribe, "kim@example.org");
        // Replaying a used one-click link: an unsubscribe recorded again and again.
        for _ in 0..20 {
            list::suppress(
                &config,
                &["kim@example.org".to_string()],
                list::Reason::Unsubscribed,
                "",
                "serve",
            )
            .unwrap();
            list::confirm_signup(&config, "new@example.org", "test").unwrap();
            assert!(
                tokens
                    .find(&config, Purpose::Unsubscribe, &kim)
                    .unwrap()
                    .is_some()
            );
        }
        assert_eq!(tokens.built_at(), built, "not rebuilt");
        // A new sign-up is.
        list::request_signup(&config, "newer@example.org", "", "test", None).unwrap();
        let newer = tokens.secret.token(Purpose::Confirm, "newer@example.org");
        assert_eq!(
            tokens.find(&config, Purpose::Confirm, &newer).unwrap(),
            Some("newer@example.org".to_string())
        );
        assert_ne!(tokens.built_at(), built);
    }
}
