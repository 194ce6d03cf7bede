//! The subscriber list: `[[subscribers]]` in the config plus the optional
//! `email.subscribers_file` CSV, every address checked and no one twice.

use std::collections::HashMap;
use std::path::Path;

use crate::address;
use crate::config::{Cadence, Config};
use crate::error::{Location, Problem};
use crate::text::{BOM, one_line};

/// The subscribers of a list, validated, held compactly: one string holds
/// every address and name back to back, and each subscriber is 12 bytes
/// pointing into it, so a list of a million costs about what its file does
/// (no allocation per subscriber, no copy of each address as a key). Sets
/// of tags are kept once however many subscribers share them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Subscribers {
    /// Each subscriber's address, then its name.
    text: String,
    rows: Vec<Row>,
    /// The distinct sets of tags; a row's `tags` is 1 + an index here.
    tag_sets: Vec<Box<[Box<str>]>>,
    /// Where each set of tags is in `tag_sets` (as many entries as sets).
    tag_index: HashMap<Box<[Box<str>]>, u32>,
}

/// One subscriber's place in [`Subscribers`].
#[derive(Debug, Clone, Copy)]
struct Row {
    /// Where its address starts in `text`; its name follows it.
    start: u32,
    email_len: u16,
    name_len: u16,
    /// The low 31 bits: 0 for no tags (every post), else 1 + the index of
    /// its set of tags; the top bit: weekly.
    tags_cadence: u32,
}

const WEEKLY: u32 = 1 << 31;

impl Row {
    fn tags(self) -> Option<usize> {
        (self.tags_cadence & !WEEKLY)
            .checked_sub(1)
            .map(|at| at as usize)
    }

    fn cadence(self) -> Cadence {
        if self.tags_cadence & WEEKLY == 0 {
            Cadence::Daily
        } else {
            Cadence::Weekly
        }
    }
}

/// One subscriber of a [`Subscribers`], borrowed from it.
#[derive(Clone, Copy)]
pub(crate) struct Subscriber<'a> {
    list: &'a Subscribers,
    at: u32,
}

impl Subscribers {
    /// How many subscribers there are.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The first one listed.
    pub(crate) fn first(&self) -> Option<Subscriber<'_>> {
        self.iter().next()
    }

    /// Every subscriber, in the order listed.
    pub(crate) fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            // `push` keeps the count within u32.
            at: 0..u32::try_from(self.rows.len()).unwrap_or(u32::MAX),
        }
    }

    /// Adds a subscriber (checked by the caller). Refused, with why, only
    /// for sizes no list reaches: an address or a name over 64 KiB, or a
    /// list whose addresses and names add up to 4 GiB.
    pub(crate) fn push(
        &mut self,
        email: &str,
        name: &str,
        tags: &[impl AsRef<str>],
        cadence: Cadence,
    ) -> Result<(), String> {
        let email_len = u16::try_from(email.len())
            .map_err(|_| format!("the address {email:.40}… is over 64 KiB long"))?;
        let name_len = u16::try_from(name.len())
            .map_err(|_| format!("subscriber {email}: the name is over 64 KiB long; shorten it"))?;
        let start = u32::try_from(self.text.len())
            .ok()
            .filter(|start| {
                start
                    .checked_add(u32::from(email_len) + u32::from(name_len))
                    .is_some()
                    && u32::try_from(self.rows.len()).is_ok_and(|count| count < u32::MAX)
            })
            .ok_or_else(|| {
                format!(
                    "subscriber {email}: the list's addresses and names pass 4 GiB; \
                     split it into lists of their own"
                )
            })?;
        let tags = self.tag_set(tags)?;
        self.text.push_str(email);
        self.text.push_str(name);
        self.rows.push(Row {
            start,
            email_len,
            name_len,
            tags_cadence: match cadence {
                Cadence::Daily => tags,
                Cadence::Weekly => tags | WEEKLY,
            },
        });
        Ok(())
    }

    /// The number `push` records for `tags`, adding the set when new.
    fn tag_set(&mut self, tags: &[impl AsRef<str>]) -> Result<u32, String> {
        if tags.is_empty() {
            return Ok(0);
        }
        let set: Box<[Box<str>]> = tags.iter().map(|tag| Box::from(tag.as_ref())).collect();
        if let Some(&at) = self.tag_index.get(&set) {
            return Ok(at);
        }
        let at = u32::try_from(self.tag_sets.len() + 1)
            .ok()
            .filter(|at| at & WEEKLY == 0)
            .ok_or_else(|| "the list has over 2 billion sets of tags".to_string())?;
        self.tag_sets.push(set.clone());
        self.tag_index.insert(set, at);
        Ok(at)
    }

    /// Keeps only the subscribers `keep` says yes to, in order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(Subscriber<'_>) -> bool) {
        let kept: Vec<bool> = self.iter().map(&mut keep).collect();
        let mut at = 0;
        self.rows.retain(|_| {
            at += 1;
            kept[at - 1]
        });
        self.rows.shrink_to_fit();
    }

    /// Sets each subscriber's cadence to what `cadence` says of them.
    pub(crate) fn set_cadences(&mut self, mut cadence: impl FnMut(Subscriber<'_>) -> Cadence) {
        let cadences: Vec<Cadence> = self.iter().map(&mut cadence).collect();
        for (row, cadence) in self.rows.iter_mut().zip(cadences) {
            row.tags_cadence = match cadence {
                Cadence::Daily => row.tags_cadence & !WEEKLY,
                Cadence::Weekly => row.tags_cadence | WEEKLY,
            };
        }
    }

    fn row(&self, at: u32) -> Row {
        self.rows[at as usize]
    }

    /// Gives back what growing left unused (the list is read, then only read).
    fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.rows.shrink_to_fit();
    }
}

/// The subscribers of a list, in order (see [`Subscribers::iter`]).
#[derive(Clone)]
pub(crate) struct Iter<'a> {
    list: &'a Subscribers,
    at: std::ops::Range<u32>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Subscriber<'a>;

    fn next(&mut self) -> Option<Subscriber<'a>> {
        let list = self.list;
        self.at.next().map(|at| Subscriber { list, at })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.at.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Subscribers {
    type Item = Subscriber<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> Subscriber<'a> {
    /// The address as written.
    pub(crate) fn email(self) -> &'a str {
        let row = self.list.row(self.at);
        let start = row.start as usize;
        &self.list.text[start..start + usize::from(row.email_len)]
    }

    /// The display name, on one line; empty for none.
    pub(crate) fn name(self) -> &'a str {
        let row = self.list.row(self.at);
        let start = row.start as usize + usize::from(row.email_len);
        &self.list.text[start..start + usize::from(row.name_len)]
    }

    /// Only posts with one of these tags; empty for every post.
    pub(crate) fn tags(self) -> &'a [Box<str>] {
        match self.list.row(self.at).tags() {
            Some(at) => &self.list.tag_sets[at],
            None => &[],
        }
    }

    /// Every post as `mail` sends it, or the week's in one roll-up.
    pub(crate) fn cadence(self) -> Cadence {
        self.list.row(self.at).cadence()
    }

    /// The address as the delivery state knows it: compared without case,
    /// as every real mail system does.
    pub(crate) fn key(self) -> String {
        address::key(self.email())
    }

    /// Whether this subscriber wants a post with `tags`.
    pub(crate) fn wants(self, tags: &[String]) -> bool {
        let wanted = self.tags();
        wanted.is_empty()
            || wanted
                .iter()
                .any(|wanted| tags.iter().any(|tag| tag.eq_ignore_ascii_case(wanted)))
    }
}

/// Some of a list's subscribers, in the list's order: who one post is owed
/// to. 4 bytes each (a `Vec<Subscriber>` would take 16), so a plan for a
/// million costs 4 MB.
#[derive(Debug, Clone)]
pub(crate) struct Selection<'a> {
    list: &'a Subscribers,
    picked: Vec<u32>,
}

impl<'a> Selection<'a> {
    /// None of `list` yet.
    pub(crate) fn new(list: &'a Subscribers) -> Selection<'a> {
        Selection {
            list,
            picked: Vec::new(),
        }
    }

    /// `subscribers`, each one of `list`.
    pub(crate) fn of(
        list: &'a Subscribers,
        subscribers: impl IntoIterator<Item = Subscriber<'a>>,
    ) -> Selection<'a> {
        let mut selection = Selection::new(list);
        selection.extend(subscribers);
        selection
    }

    /// Adds `subscriber`, one of this selection's list.
    pub(crate) fn push(&mut self, subscriber: Subscriber<'a>) {
        debug_assert!(std::ptr::eq(subscriber.list, self.list));
        self.picked.push(subscriber.at);
    }

    /// The first `count` of them (all when there are fewer).
    pub(crate) fn first(&self, count: usize) -> Part<'a, '_> {
        Part {
            list: self.list,
            picked: &self.picked[..count.min(self.picked.len())],
        }
    }

    /// All of them.
    pub(crate) fn all(&self) -> Part<'a, '_> {
        self.first(self.picked.len())
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        self.picked.len()
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.picked.is_empty()
    }

    /// Each, in order.
    pub(crate) fn iter(&self) -> Picked<'a, '_> {
        self.all().iter()
    }
}

impl<'a> Extend<Subscriber<'a>> for Selection<'a> {
    fn extend<I: IntoIterator<Item = Subscriber<'a>>>(&mut self, subscribers: I) {
        for subscriber in subscribers {
            self.push(subscriber);
        }
    }
}

/// A run of a [`Selection`], borrowed: what one relay is handed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part<'a, 's> {
    list: &'a Subscribers,
    picked: &'s [u32],
}

impl<'a, 's> Part<'a, 's> {
    /// None of the same list.
    pub(crate) fn none(self) -> Selection<'a> {
        Selection::new(self.list)
    }

    /// How many there are.
    pub(crate) fn len(self) -> usize {
        self.picked.len()
    }

    /// Each, in order.
    pub(crate) fn iter(self) -> Picked<'a, 's> {
        Picked {
            list: self.list,
            picked: self.picked.iter(),
        }
    }

    /// The same subscribers, held.
    pub(crate) fn to_selection(self) -> Selection<'a> {
        Selection {
            list: self.list,
            picked: self.picked.to_vec(),
        }
    }
}

/// The subscribers of a [`Part`], in order.
#[derive(Debug, Clone)]
pub(crate) struct Picked<'a, 's> {
    list: &'a Subscribers,
    picked: std::slice::Iter<'s, u32>,
}

impl<'a> Iterator for Picked<'a, '_> {
    type Item = Subscriber<'a>;

    fn next(&mut self) -> Option<Subscriber<'a>> {
        let list = self.list;
        self.picked.next().map(|&at| Subscriber { list, at })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.picked.size_hint()
    }
}

impl ExactSizeIterator for Picked<'_, '_> {}

impl std::fmt::Debug for Subscriber<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("email", &self.email())
            .field("name", &self.name())
            .field("tags", &self.tags())
            .field("cadence", &self.cadence())
            .finish()
    }
}

impl PartialEq for Subscriber<'_> {
    fn eq(&self, other: &Self) -> bool {
        (self.email(), self.name(), self.tags(), self.cadence())
            == (other.email(), other.name(), other.tags(), other.cadence())
    }
}

impl Eq for Subscriber<'_> {}

/// One row of the list as read, before it is checked and admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The address as written.
    pub email: String,
    /// The display name, on one line; empty for none.
    pub name: String,
    /// Only posts with one of these tags; empty for every post.
    pub tags: Vec<String>,
    /// Every post, or the week's in one roll-up.
    pub cadence: Cadence,
}

/// Where a subscriber was listed: a line of the config or of the
/// subscribers file.
#[derive(Debug, Clone, Copy)]
enum Origin {
    Config(usize),
    File(usize),
}

/// Every subscriber in the config and its CSV file; every problem found.
/// The file is read as a stream, each row checked as it comes.
pub(crate) fn load(config: &Config) -> Result<Subscribers, Vec<Problem>> {
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
    pub subscribers: Subscribers,
    /// The rows that cannot be mailed (a bad address, a name with a control
    /// character), each with why: a failure of every run until fixed.
    pub skipped: Vec<Problem>,
    /// The rows that repeat an address listed before (another case, Unicode
    /// form or spelling of its domain): that person is mailed once, at the
    /// first row, so a repeat is warned about and is no failure.
    pub repeated: Vec<Problem>,
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
    let mut skipped = Vec::new();
    for entry in &sources.entries {
        let origin = Origin::Config(entry.location.line.unwrap_or(0));
        let subscriber = Entry {
            email: entry.email.trim().to_string(),
            name: one_line(&entry.name),
            tags: entry.tags.clone(),
            cadence: entry.cadence,
        };
        if let Err(problem) = list.admit(origin, &subscriber, &locate) {
            skipped.push(problem);
        }
    }
    if let Some((path, location)) = &sources.file {
        match std::fs::File::open(path) {
            Ok(file) => {
                let read = read_csv(path, file, |line, row| {
                    let admitted = row.and_then(|subscriber| {
                        list.admit(Origin::File(line), &subscriber, &locate)
                    });
                    if let Err(problem) = admitted {
                        skipped.push(problem);
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
    let (subscribers, repeated) = list.without_repeats(&locate);
    if problems.is_empty() {
        Ok(Usable {
            subscribers,
            skipped,
            repeated,
        })
    } else {
        problems.append(&mut skipped);
        problems.extend(repeated);
        Err(problems)
    }
}

/// The subscribers admitted so far, and what finds a repeat among them.
///
/// Repeats are found once the list is read, not as each row comes: a table
/// of every address seen would cost more than the list. Each row's key hash
/// is kept (8 bytes); sorted, they show which hashes come more than once,
/// and only the rows with those hashes have their keys compared, so a clash
/// of hashes is never taken for a repeat.
struct List {
    subscribers: Subscribers,
    /// Each row's line, and how many of the first rows are the config's.
    lines: Vec<u32>,
    config_rows: usize,
    /// Each row's key hash, in order.
    hashes: Vec<u64>,
    /// [`key_hash`]; a test swaps in one that makes every key clash.
    hash: fn(&str) -> u64,
}

impl Default for List {
    fn default() -> Self {
        List {
            subscribers: Subscribers::default(),
            lines: Vec::new(),
            config_rows: 0,
            hashes: Vec::new(),
            hash: key_hash,
        }
    }
}

impl List {
    /// Adds a subscriber whose address is valid (repeats are found later).
    fn admit(
        &mut self,
        origin: Origin,
        subscriber: &Entry,
        locate: &impl Fn(Origin) -> Location,
    ) -> Result<(), Problem> {
        let unusable = |message: String| Problem::new(locate(origin), message);
        address::check(&subscriber.email)
            .map_err(|message| unusable(format!("subscriber: {message}")))?;
        if let Some(c) = subscriber.name.chars().find(|c| c.is_control()) {
            return Err(unusable(format!(
                "subscriber {}: the name holds a control character (U+{:04X}), which no header may carry",
                subscriber.email,
                u32::from(c)
            )));
        }
        let line = match origin {
            Origin::Config(line) | Origin::File(line) => u32::try_from(line).unwrap_or(u32::MAX),
        };
        self.subscribers
            .push(
                &subscriber.email,
                &subscriber.name,
                &subscriber.tags,
                subscriber.cadence,
            )
            .map_err(unusable)?;
        // Unicode forms of one address are one subscriber (see address::key).
        self.hashes
            .push((self.hash)(&address::key(&subscriber.email)));
        self.lines.push(line);
        if matches!(origin, Origin::Config(_)) {
            self.config_rows = self.lines.len();
        }
        Ok(())
    }

    fn origin(&self, at: usize) -> Origin {
        let line = self.lines[at] as usize;
        if at < self.config_rows {
            Origin::Config(line)
        } else {
            Origin::File(line)
        }
    }

    /// The list with each address once, at its first row, and a problem
    /// for each later row of it, in the order listed.
    fn without_repeats(
        mut self,
        locate: &impl Fn(Origin) -> Location,
    ) -> (Subscribers, Vec<Problem>) {
        let mut sorted = std::mem::take(&mut self.hashes);
        sorted.sort_unstable();
        let mut shared: std::collections::HashSet<u64> = sorted
            .windows(2)
            .filter(|pair| pair[0] == pair[1])
            .map(|pair| pair[0])
            .collect();
        drop(sorted);
        let mut repeated = Vec::new();
        if !shared.is_empty() {
            // Only the rows whose hash is shared: their keys, first row of each.
            let mut first: HashMap<String, usize> = HashMap::new();
            let mut repeats = std::collections::HashSet::new();
            for (at, subscriber) in self.subscribers.iter().enumerate() {
                let key = subscriber.key();
                if !shared.contains(&(self.hash)(&key)) {
                    continue;
                }
                match first.get(&key) {
                    Some(&earlier) => {
                        repeated.push(Problem::new(
                            locate(self.origin(at)),
                            format!(
                                "subscriber {} is listed twice (first at {}); remove one",
                                subscriber.email(),
                                locate(self.origin(earlier))
                            ),
                        ));
                        repeats.insert(at);
                    }
                    None => {
                        first.insert(key, at);
                    }
                }
            }
            shared.clear();
            let mut at = 0;
            self.subscribers.rows.retain(|_| {
                let keep = !repeats.contains(&at);
                at += 1;
                keep
            });
        }
        self.subscribers.shrink_to_fit();
        (self.subscribers, repeated)
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
    mut each: impl FnMut(usize, Result<Entry, Problem>),
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
                    .map(|cadence| Entry {
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

    #[test]
    fn a_file_row_repeating_a_config_subscriber_names_the_config_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("subs.csv"),
            "email,name\nb@example.org,B\nA@EXAMPLE.org,A again\nbad address,X\nb@Example.org,B again\n",
        )
        .unwrap();
        let config = Config::parse(
            "[site]\nurl = \"https://e.org\"\n[email]\nfrom = \"p@e.org\"\nsubscribers_file = \"subs.csv\"\n\
             [[subscribers]]\nemail = \"a@example.org\"\n",
            &dir.path().join("config.toml"),
        )
        .unwrap();
        let usable = load_usable(&config).unwrap();
        let at = |problems: &[Problem]| {
            problems
                .iter()
                .map(|p| {
                    p.to_string()
                        .replace(&format!("{}/", dir.path().display()), "")
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            at(&usable.repeated),
            [
                "subs.csv:3: subscriber A@EXAMPLE.org is listed twice (first at config.toml:7); remove one",
                "subs.csv:5: subscriber b@Example.org is listed twice (first at subs.csv:2); remove one",
            ]
        );
        assert_eq!(usable.skipped.len(), 1);
        let kept: Vec<(&str, &str)> = usable
            .subscribers
            .iter()
            .map(|s| (s.email(), s.name()))
            .collect();
        assert_eq!(kept, [("a@example.org", ""), ("b@example.org", "B")]);
    }

    fn rows(bytes: &[u8]) -> Result<Vec<(usize, Entry)>, Vec<Problem>> {
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
        let person = |email: &str| Entry {
            email: email.into(),
            name: String::new(),
            tags: Vec::new(),
            cadence: Cadence::Daily,
        };
        for (line, email) in [
            (2, "a@example.org"),
            (3, "b@example.org"),
            (4, "c@example.org"),
            (5, "B@Example.org"),
            (6, "A@example.org"),
        ] {
            list.admit(Origin::File(line), &person(email), &locate)
                .unwrap();
        }
        let (subscribers, repeated) = list.without_repeats(&locate);
        assert_eq!(
            repeated.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "subs.csv:5: subscriber B@Example.org is listed twice (first at subs.csv:3); remove one",
                "subs.csv:6: subscriber A@example.org is listed twice (first at subs.csv:2); remove one",
            ]
        );
        let kept: Vec<&str> = subscribers.iter().map(Subscriber::email).collect();
        assert_eq!(kept, ["a@example.org", "b@example.org", "c@example.org"]);
    }

    fn emails(part: Part) -> Vec<String> {
        part.iter().map(|s| s.email().to_string()).collect()
    }

    #[test]
    fn the_list_holds_each_field_as_given_and_each_set_of_tags_once() {
        let mut list = Subscribers::default();
        list.push("a@example.org", "Kim", &["ml", "papers"], Cadence::Weekly)
            .unwrap();
        list.push("b@example.org", "", &[] as &[&str], Cadence::Daily)
            .unwrap();
        list.push("김@예시.한국", "김철수", &["ml", "papers"], Cadence::Daily)
            .unwrap();
        let people: Vec<_> = list
            .iter()
            .map(|s| (s.email(), s.name(), s.tags().len(), s.cadence()))
            .collect();
        assert_eq!(
            people,
            [
                ("a@example.org", "Kim", 2, Cadence::Weekly),
                ("b@example.org", "", 0, Cadence::Daily),
                ("김@예시.한국", "김철수", 2, Cadence::Daily),
            ]
        );
        assert_eq!(list.tag_sets.len(), 1);
        assert_eq!(std::mem::size_of::<Row>(), 12);
        let long = format!("{}@example.org", "x".repeat(70_000));
        assert_eq!(
            list.push(&long, "", &[] as &[&str], Cadence::Daily)
                .unwrap_err(),
            format!("the address {long:.40}… is over 64 KiB long")
        );
        let mut picked = Selection::new(&list);
        picked.extend(list.iter().filter(|s| s.cadence() == Cadence::Daily));
        assert_eq!(emails(picked.all()), ["b@example.org", "김@예시.한국"]);
        assert_eq!(emails(picked.first(1)), ["b@example.org"]);
        assert_eq!(picked.first(5).len(), 2);
        assert_eq!(picked.all().to_selection().len(), 2);
        list.retain(|s| s.name() != "Kim");
        assert_eq!(list.len(), 2);
        assert_eq!(list.first().map(Subscriber::email), Some("b@example.org"));
        assert_eq!(list.first().map(Subscriber::cadence), Some(Cadence::Daily));
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
        let first = subscribers.first().unwrap();
        assert_eq!(first.name(), "Evil Bcc: x@example.org");
        assert!(first.wants(&["ml".into(), "papers".into()]));
        assert!(!first.wants(&["papers".into()]));
    }
}
