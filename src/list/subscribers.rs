//! The subscriber list: `[[subscribers]]` in the config plus the optional
//! `email.subscribers_file` CSV, every address checked and no one twice.

use std::collections::HashMap;
use std::path::Path;

use crate::address;
use crate::config::{Cadence, Config};
use crate::error::{Location, Problem};
use crate::text::{BOM, one_line};

/// One subscriber, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subscriber {
    /// The address as written.
    pub email: String,
    /// The display name, on one line; empty for none.
    pub name: String,
    /// Only posts with one of these tags; empty for every post.
    pub tags: Vec<String>,
    /// Every post as `mail` sends it, or the week's in one roll-up.
    pub cadence: Cadence,
}

impl Subscriber {
    /// The address as the delivery state knows it: compared without case,
    /// as every real mail system does.
    pub(crate) fn key(&self) -> String {
        address::key(&self.email)
    }

    /// Whether this subscriber wants a post with `tags`.
    pub(crate) fn wants(&self, tags: &[String]) -> bool {
        self.tags.is_empty()
            || self
                .tags
                .iter()
                .any(|wanted| tags.iter().any(|tag| tag.eq_ignore_ascii_case(wanted)))
    }
}

/// Where a subscriber was listed: a line of the config or of the
/// subscribers file. Kept small (no path per row), so that a list of
/// 100,000 costs little more than the addresses themselves.
#[derive(Debug, Clone, Copy)]
enum Origin {
    Config(usize),
    File(usize),
}

/// Every subscriber in the config and its CSV file; every problem found.
/// The file is read as a stream, each row checked as it comes.
pub(crate) fn load(config: &Config) -> Result<Vec<Subscriber>, Vec<Problem>> {
    let usable = load_usable(config)?;
    if usable.skipped.is_empty() && usable.repeated.is_empty() {
        Ok(usable.subscribers)
    } else {
        Err(usable.skipped.into_iter().chain(usable.repeated).collect())
    }
}

/// The list as every command that uses it reads it: one bad row is named
/// and skipped, never a reason to mail no one, answer no one or read no
/// mail.
#[derive(Debug, Default)]
pub(crate) struct Usable {
    /// The subscribers that can be mailed, each once.
    pub subscribers: Vec<Subscriber>,
    /// The rows that cannot be mailed (a bad address, a name with a control
    /// character), each with why: a failure of every run until fixed.
    pub skipped: Vec<Problem>,
    /// The rows that repeat an address listed before (another case, Unicode
    /// form or spelling of its domain): that person is mailed once, at the
    /// first row, so a repeat is warned about and is no failure.
    pub repeated: Vec<Problem>,
}

/// Why a row was not admitted.
enum Refusal {
    Unusable(Problem),
    Repeat(Problem),
}

/// The subscribers that can be mailed, and the problem of each row that
/// cannot (see [`Usable`]). Only a list that cannot be read at all is an error.
pub(crate) fn load_usable(config: &Config) -> Result<Usable, Vec<Problem>> {
    let sources = &config.subscribers;
    let file_path = sources.file.as_ref().map(|(path, _)| path.as_path());
    let locate = |origin: Origin| match origin {
        Origin::Config(line) => Location::line(&config.path, line),
        Origin::File(line) => Location::line(file_path.unwrap_or(Path::new("")), line),
    };
    let mut list = List::default();
    let mut problems = Vec::new();
    let mut usable = Usable::default();
    let mut refused = |refusal| match refusal {
        Refusal::Unusable(problem) => usable.skipped.push(problem),
        Refusal::Repeat(problem) => usable.repeated.push(problem),
    };
    for entry in &sources.entries {
        let origin = Origin::Config(entry.location.line.unwrap_or(0));
        let subscriber = Subscriber {
            email: entry.email.trim().to_string(),
            name: one_line(&entry.name),
            tags: entry.tags.clone(),
            cadence: entry.cadence,
        };
        if let Err(refusal) = list.admit(origin, subscriber, &locate) {
            refused(refusal);
        }
    }
    if let Some((path, location)) = &sources.file {
        match std::fs::File::open(path) {
            Ok(file) => {
                let read = read_csv(path, file, |line, row| {
                    let admitted = match row {
                        Ok(subscriber) => list.admit(Origin::File(line), subscriber, &locate),
                        Err(problem) => Err(Refusal::Unusable(problem)),
                    };
                    if let Err(refusal) = admitted {
                        refused(refusal);
                    }
                });
                if let Err(mut more) = read {
                    problems.append(&mut more);
                }
            }
            Err(err) => problems.push(Problem::new(
                location.clone(),
                format!(
                    "[email] subscribers_file {}: cannot read it: {err}",
                    path.display()
                ),
            )),
        }
    }
    if problems.is_empty() {
        usable.subscribers = list.subscribers;
        Ok(usable)
    } else {
        problems.append(&mut usable.skipped);
        problems.append(&mut usable.repeated);
        Err(problems)
    }
}

/// The subscribers admitted so far, and what finds a duplicate among them.
struct List {
    subscribers: Vec<Subscriber>,
    origins: Vec<Origin>,
    /// Key hash → index: no second copy of every address. `clashes` holds
    /// the keys whose hash an earlier, different key already took.
    first_seen: HashMap<u64, usize>,
    clashes: HashMap<String, usize>,
    /// [`key_hash`]; a test swaps in one that makes every key clash.
    hash: fn(&str) -> u64,
}

impl Default for List {
    fn default() -> Self {
        List {
            subscribers: Vec::new(),
            origins: Vec::new(),
            first_seen: HashMap::new(),
            clashes: HashMap::new(),
            hash: key_hash,
        }
    }
}

impl List {
    /// Adds a subscriber whose address is valid and not listed yet.
    fn admit(
        &mut self,
        origin: Origin,
        subscriber: Subscriber,
        locate: &impl Fn(Origin) -> Location,
    ) -> Result<(), Refusal> {
        if let Err(message) = address::check(&subscriber.email) {
            return Err(Refusal::Unusable(Problem::new(
                locate(origin),
                format!("subscriber: {message}"),
            )));
        }
        if let Some(c) = subscriber.name.chars().find(|c| c.is_control()) {
            return Err(Refusal::Unusable(Problem::new(
                locate(origin),
                format!(
                    "subscriber {}: the name holds a control character (U+{:04X}), which no header may carry",
                    subscriber.email,
                    u32::from(c)
                ),
            )));
        }
        // Unicode forms of one address are one subscriber (see address::key).
        let key = address::key(&subscriber.email);
        let hash = (self.hash)(&key);
        let earlier = match self.first_seen.get(&hash) {
            Some(&at) if address::key(&self.subscribers[at].email) == key => Some(at),
            Some(_) => self.clashes.get(&key).copied(),
            None => None,
        };
        if let Some(at) = earlier {
            return Err(Refusal::Repeat(Problem::new(
                locate(origin),
                format!(
                    "subscriber {} is listed twice (first at {}); remove one",
                    subscriber.email,
                    locate(self.origins[at])
                ),
            )));
        }
        let at = self.subscribers.len();
        match self.first_seen.entry(hash) {
            std::collections::hash_map::Entry::Occupied(_) => {
                self.clashes.insert(key, at);
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(at);
            }
        }
        self.origins.push(origin);
        self.subscribers.push(subscriber);
        Ok(())
    }
}

fn key_hash(key: &str) -> u64 {
    use std::hash::BuildHasher;
    static STATE: std::sync::LazyLock<std::collections::hash_map::RandomState> =
        std::sync::LazyLock::new(Default::default);
    STATE.hash_one(key)
}

/// Reads a subscribers CSV: a header row naming `email` and optionally
/// `name` and `tags` (tags separated by spaces), in any order. Hands each
/// row to `each` with its line, as it is read.
pub(crate) fn read_csv(
    path: &Path,
    input: impl std::io::Read,
    mut each: impl FnMut(usize, Result<Subscriber, Problem>),
) -> Result<(), Vec<Problem>> {
    let mut input = std::io::BufReader::new(input);
    if std::io::BufRead::fill_buf(&mut input).is_ok_and(|start| start.starts_with(BOM)) {
        std::io::BufRead::consume(&mut input, BOM.len());
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input);
    let header_problem = |message: String| vec![Problem::new(Location::line(path, 1), message)];
    let headers = reader
        .headers()
        .map_err(|err| header_problem(format!("cannot read the header row: {err}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let Some(email_at) = column("email") else {
        return Err(header_problem(
            "the header row has no `email` column; start the file with `email,name,tags`".into(),
        ));
    };
    let (name_at, tags_at, cadence_at) = (column("name"), column("tags"), column("cadence"));
    let mut problems = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| line_number(p.line()));
                let cell = |at: Option<usize>| at.and_then(|at| record.get(at)).unwrap_or("");
                let row = Cadence::parse(cell(cadence_at))
                    .map(|cadence| Subscriber {
                        email: cell(Some(email_at)).to_string(),
                        name: one_line(cell(name_at)),
                        tags: cell(tags_at).split_whitespace().map(String::from).collect(),
                        cadence,
                    })
                    .map_err(|message| {
                        Problem::new(
                            Location::line(path, line),
                            format!("subscriber {}: {message}", cell(Some(email_at))),
                        )
                    });
                each(line, row);
            }
            Err(err) => {
                let line = err.position().map_or(1, |p| line_number(p.line()));
                let message = match err.kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        "the row is not valid UTF-8; save the file as UTF-8".to_string()
                    }
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!(
                        "the row has {len} fields but the header has {expected_len}; quote a field that holds a comma"
                    ),
                    _ => format!("cannot read the row: {err}"),
                };
                problems.push(Problem::new(Location::line(path, line), message));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The csv reader's 1-based line as an index.
fn line_number(line: u64) -> usize {
    usize::try_from(line).unwrap_or(usize::MAX)
}

/// Rows as CSV (RFC 4180, quoted where needed), for `subscribers export`.
/// Every cell is [`inert`]: the file is opened in a spreadsheet, and a
/// sign-up's name is a stranger's.
pub(crate) fn to_csv(header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).map_err(|err| err.to_string())?;
    for row in rows {
        writer
            .write_record(row.iter().map(|cell| inert(cell).into_owned()))
            .map_err(|err| err.to_string())?;
    }
    writer.into_inner().map_err(|err| err.to_string())
}

/// A cell no spreadsheet takes for a formula (OWASP's rule for CSV
/// injection): one that starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return gets a `'` before it, which spreadsheets show as text and hide.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("site/config.toml")).unwrap()
    }

    fn problems(config: &Config) -> Vec<String> {
        load(config)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn bad_and_duplicate_addresses_name_their_lines() {
        let config = config(
            "[site]\nurl = \"https://e.org\"\n\
             [[subscribers]]\nemail = \"a@example.org\"\n\
             [[subscribers]]\nemail = \"not an address\"\n\
             [[subscribers]]\nemail = \"A@Example.org\"\n",
        );
        assert_eq!(
            problems(&config),
            [
                "site/config.toml:6: subscriber: \"not an address\" is not a valid email address (Missing domain or user)",
                "site/config.toml:8: subscriber A@Example.org is listed twice (first at site/config.toml:4); remove one",
            ]
        );
    }

    fn rows(bytes: &[u8]) -> Result<Vec<(usize, Subscriber)>, Vec<Problem>> {
        let mut rows = Vec::new();
        let mut refused = Vec::new();
        read_csv(Path::new("subs.csv"), bytes, |line, row| match row {
            Ok(s) => rows.push((line, s)),
            Err(problem) => refused.push(problem),
        })?;
        if !refused.is_empty() {
            return Err(refused);
        }
        Ok(rows)
    }

    #[test]
    fn a_cadence_column_sets_who_gets_the_weekly_roll_up() {
        let rows =
            rows(b"email,cadence\na@example.org,Weekly\nb@example.org,\nc@example.org,daily\n")
                .unwrap();
        let cadences: Vec<_> = rows.iter().map(|(_, s)| s.cadence).collect();
        assert_eq!(cadences, [Cadence::Weekly, Cadence::Daily, Cadence::Daily]);
        let refused = rows_refused(b"email,cadence\na@example.org,monthly\n");
        assert_eq!(
            refused,
            [
                "subs.csv:2: subscriber a@example.org: cadence \"monthly\" is neither `daily` nor `weekly`"
            ]
        );
    }

    fn rows_refused(bytes: &[u8]) -> Vec<String> {
        rows(bytes)
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn duplicates_are_found_even_when_every_hash_clashes() {
        let mut list = List {
            hash: |_| 7,
            ..List::default()
        };
        let locate = |origin: Origin| match origin {
            Origin::Config(line) | Origin::File(line) => Location::line("subs.csv", line),
        };
        let person = |email: &str| Subscriber {
            email: email.into(),
            name: String::new(),
            tags: Vec::new(),
            cadence: Cadence::Daily,
        };
        let mut outcomes = Vec::new();
        for (line, email) in [
            (2, "a@example.org"),
            (3, "b@example.org"),
            (4, "c@example.org"),
            (5, "B@Example.org"),
            (6, "A@example.org"),
        ] {
            outcomes.push(
                list.admit(Origin::File(line), person(email), &locate)
                    .map_err(|refusal| match refusal {
                        Refusal::Repeat(problem) => problem.to_string(),
                        Refusal::Unusable(problem) => format!("unusable: {problem}"),
                    }),
            );
        }
        assert_eq!(
            outcomes,
            [
                Ok(()),
                Ok(()),
                Ok(()),
                Err("subs.csv:5: subscriber B@Example.org is listed twice (first at subs.csv:3); remove one".into()),
                Err("subs.csv:6: subscriber A@example.org is listed twice (first at subs.csv:2); remove one".into()),
            ]
        );
        assert_eq!(list.subscribers.len(), 3);
    }

    #[test]
    fn csv_rows_are_read_with_lines() {
        let rows = rows(
            b"\xEF\xBB\xBFemail,name,tags\nkim@example.org,\"Kim, \"\"the reader\"\"\",papers ml\nlee@example.org,,\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.name, "Kim, \"the reader\"");
        assert_eq!(rows[0].1.tags, ["papers", "ml"]);
        assert_eq!(rows[1].1.name, "");
        assert!(rows[1].1.tags.is_empty());
    }

    #[test]
    fn exported_cells_are_never_formulas() {
        let rows = vec![vec![
            "=1+cmd@example.org".to_string(),
            "=HYPERLINK(\"https://evil.example\",\"x\")".to_string(),
            "+1".to_string(),
            "-2".to_string(),
            "@SUM(A1)".to_string(),
            "\tx".to_string(),
            "Kim".to_string(),
        ]];
        let csv = String::from_utf8(to_csv(&["a", "b", "c", "d", "e", "f", "g"], &rows).unwrap())
            .unwrap();
        assert_eq!(
            csv.lines().nth(1).unwrap(),
            "'=1+cmd@example.org,\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"x\"\")\",'+1,'-2,'@SUM(A1),'\tx,Kim"
        );
    }

    #[test]
    fn csv_problems_name_their_lines() {
        let err = rows(b"mail,name\nx@example.org,X\n").unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "subs.csv:1: the header row has no `email` column; start the file with `email,name,tags`"
        );
        let err = rows(b"email,name\nx@example.org,X,extra\n").unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "subs.csv:2: the row has 3 fields but the header has 2; quote a field that holds a comma"
        );
    }

    #[test]
    fn names_stay_on_one_line_and_tags_filter() {
        let config = config(
            "[site]\nurl = \"https://e.org\"\n[[subscribers]]\nemail = \"a@example.org\"\nname = \"Evil\\r\\nBcc: x@example.org\"\ntags = [\"ML\"]\n",
        );
        let subscribers = load(&config).unwrap();
        assert_eq!(subscribers[0].name, "Evil Bcc: x@example.org");
        assert!(subscribers[0].wants(&["ml".into(), "papers".into()]));
        assert!(!subscribers[0].wants(&["papers".into()]));
    }
}
