//! Archived feeds (RFC 5005) and JSON Feed paging: `atom.xml` and
//! `feed.json` hold the newest `limit` items as always, and link back
//! (`prev-archive`, `next_url`) to pages under `archive/` that together hold
//! every older item exactly once.
//!
//! The pages are numbered from the oldest: page 1 holds the oldest `limit`
//! items, page 2 the next, and so on. Only the newest page is unfinished
//! (it holds fewer than `limit` items, possibly none); every other page is
//! full and never changes again, whatever is published after it: a new post
//! enters `atom.xml`, and the item it pushes out of `atom.xml` joins the
//! unfinished page. When that page fills, it gains its `next-archive` link to
//! a new, empty unfinished page, and from then on stays as it is. So a full
//! page's `next-archive` always names a page that exists, and adding a post
//! rewrites `atom.xml`, `feed.json` and the unfinished page only.

// Renamed: `rss` alone reads as the crate to tests/architecture.rs.
use super::rss as rss_feed;
use super::{Channel, Place, atom, json};
use crate::error::Error;

/// Files as `(file below the feeds' folder, bytes)`.
type Files = Vec<(String, Vec<u8>)>;

/// The folder of the archive pages, below the feeds' folder.
pub const ARCHIVE_DIR: &str = "archive";

/// The file of archive page `number` (from 1) with extension `ext`.
fn page_file(number: usize, ext: &str) -> String {
    format!("{ARCHIVE_DIR}/{number}.{ext}")
}

/// How `total` items split: how many stay in the subscription feed, and
/// the archive pages (oldest first) as ranges into the items taken oldest
/// first. Pure arithmetic, so the rules above are tested on their own;
/// [`Pager`] pages by them as the items come.
#[cfg(test)]
fn split(total: usize, limit: usize) -> (usize, Vec<std::ops::Range<usize>>) {
    let limit = limit.max(1);
    if total <= limit {
        return (total, Vec::new());
    }
    let older = total - limit;
    // Every full page, then the unfinished one (empty when the last filled).
    let pages = older / limit + 1;
    let ranges = (0..pages)
        .map(|page| page * limit..((page + 1) * limit).min(older))
        .collect();
    (limit, ranges)
}

/// Every file of an archived main feed, as `(file below the feeds'
/// folder, bytes)`: `channel` holds every item, newest first. What
/// [`Pager`] makes, all at once.
#[cfg(test)]
fn render(channel: &Channel, limit: usize) -> Result<Files, Error> {
    let mut pager = Pager::new(channel.clone_empty(), limit);
    let mut files = Vec::new();
    for item in channel.items.iter().rev() {
        files.extend(pager.push(item.clone())?);
    }
    let (rest, _) = pager.finish()?;
    files.extend(rest);
    Ok(files)
}

/// The archived main feed made as its items come, oldest first, so that
/// only two pages' worth of items are held at once, whatever the number
/// of posts: a page is rendered (and can be written and dropped) as soon
/// as enough newer items follow it for it to be full. Page `k` (from 0,
/// the oldest) is full once `limit` newer items follow it: those are at
/// least the subscription feed's.
pub struct Pager {
    /// The channel without its items: what every page shares.
    channel: Channel,
    limit: usize,
    /// The items not on a full page yet, oldest first.
    window: std::collections::VecDeque<super::Item>,
    /// Full pages made so far.
    full: usize,
    /// The date of the newest item on a full page: when an empty
    /// unfinished page last changed.
    before: Option<jiff::ZonedDateTime>,
}

impl Pager {
    /// A pager for `channel` (its items are ignored), `limit` items a page.
    pub fn new(mut channel: Channel, limit: usize) -> Pager {
        channel.items = Vec::new();
        Pager {
            channel,
            limit: limit.max(1),
            window: std::collections::VecDeque::new(),
            full: 0,
            before: None,
        }
    }

    /// Takes the next item (each older than the ones after it): the files
    /// of the page it completes, if any.
    pub fn push(&mut self, item: super::Item) -> Result<Files, Error> {
        self.window.push_back(item);
        if self.window.len() < self.limit.saturating_mul(2) {
            return Ok(Vec::new());
        }
        let oldest_first: Vec<_> = self.window.drain(..self.limit).collect();
        self.full += 1;
        let number = self.full;
        // Full pages always have a newer one: the unfinished page, at least.
        let files = self.page(number, oldest_first, true)?;
        Ok(files)
    }

    /// The page `number` of `oldest_first`, in Atom and JSON Feed.
    fn page(
        &mut self,
        number: usize,
        mut items: Vec<super::Item>,
        has_newer: bool,
    ) -> Result<Files, Error> {
        let newest = items.last().map(|item| item.date.clone());
        items.reverse();
        let mut page = self.channel.clone_empty();
        page.items = items;
        // An empty unfinished page was last changed with the newest post before it.
        if let Some(before) = &self.before {
            page.quiet_since = before.clone();
        }
        if let Some(newest) = newest {
            self.before = Some(newest);
        }
        let mut files = Vec::with_capacity(2);
        for ext in ["xml", "json"] {
            let place = Place {
                file: page_file(number, ext),
                archived: true,
                older: (number > 1).then(|| page_file(number - 1, ext)),
                newer: has_newer.then(|| page_file(number + 1, ext)),
            };
            files.push((place.file.clone(), render_as(&page, &place, ext)?));
        }
        Ok(files)
    }

    /// The rest, once every item was pushed: `feed.xml` (the newest
    /// `limit` items; RSS has no paging readers follow), `atom.xml` and
    /// `feed.json` (the same items, linking back), and the unfinished page;
    /// and the newest items, newest first.
    pub fn finish(mut self) -> Result<(Files, Vec<super::Item>), Error> {
        let total = self.full * self.limit + self.window.len();
        let older = self.window.len().saturating_sub(self.limit);
        let mut newest: Vec<_> = self.window.drain(older..).collect();
        newest.reverse();
        let mut files = Vec::with_capacity(5);
        let last = if total > self.limit {
            let unfinished: Vec<_> = self.window.drain(..).collect();
            let number = self.full + 1;
            files.extend(self.page(number, unfinished, false)?);
            number
        } else {
            0
        };
        let mut current = self.channel.clone_empty();
        current.items = newest;
        let names = &self.channel.files;
        files.push((names.rss.clone(), rss_feed::render(&current)?));
        for (file, ext) in [(names.atom.as_str(), "xml"), (names.json.as_str(), "json")] {
            let place = Place {
                older: (last > 0).then(|| page_file(last, ext)),
                ..Place::subscription(file)
            };
            files.push((file.to_string(), render_as(&current, &place, ext)?));
        }
        Ok((files, current.items))
    }
}

/// The page at `place` in the format `ext` names.
fn render_as(channel: &Channel, place: &Place, ext: &str) -> Result<Vec<u8>, Error> {
    if ext == "xml" {
        atom::render_at(channel, place)
    } else {
        json::render_at(channel, place)
    }
}

/// Whether `name` (a file in the archive folder) is a page this module
/// writes: `N.xml` or `N.json`. What a build removes once no page has it.
pub fn is_page_name(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(number, ext)| {
        matches!(ext, "xml" | "json")
            && !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit())
    })
}

impl Channel {
    /// The channel's fields without its items: what every page shares.
    fn clone_empty(&self) -> Channel {
        Channel {
            title: self.title.clone(),
            description: self.description.clone(),
            language: self.language.clone(),
            home_url: self.home_url.clone(),
            base_url: self.base_url.clone(),
            author: self.author.clone(),
            items: Vec::new(),
            hub: self.hub.clone(),
            quiet_since: self.quiet_since.clone(),
            files: self.files.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::tests::sample_channel;

    #[test]
    fn a_short_feed_has_no_pages() {
        assert_eq!(split(0, 3), (0, vec![]));
        assert_eq!(split(3, 3), (3, vec![]));
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // a list of one page, not the numbers in it
    fn pages_fill_from_the_oldest_and_only_the_newest_is_unfinished() {
        assert_eq!(split(4, 3), (3, vec![0..1]));
        assert_eq!(split(8, 3), (3, vec![0..3, 3..5]));
        // The last page just filled: a new, empty one follows it.
        assert_eq!(split(9, 3), (3, vec![0..3, 3..6, 6..6]));
        assert_eq!(split(10, 3), (3, vec![0..3, 3..6, 6..7]));
    }

    fn channel_of(count: i8) -> Channel {
        let sample = sample_channel();
        let mut channel = sample.clone_empty();
        for n in (1..=count).rev() {
            let mut item = sample.items[0].clone();
            item.id = format!("https://e.org/{n}");
            item.url.clone_from(&item.id);
            item.date = item.date.checked_add(jiff::Span::new().days(n)).unwrap();
            channel.items.push(item);
        }
        channel
    }

    #[test]
    fn adding_an_item_changes_no_full_page() {
        for count in 4..12 {
            let before = render(&channel_of(count), 3).unwrap();
            let after = render(&channel_of(count + 1), 3).unwrap();
            let full = (usize::try_from(count).unwrap() - 3) / 3;
            for number in 1..=full {
                for ext in ["xml", "json"] {
                    let name = page_file(number, ext);
                    let find = |files: &[(String, Vec<u8>)]| {
                        files.iter().find(|(file, _)| *file == name).cloned()
                    };
                    assert!(find(&before).is_some(), "{count}: {name}");
                    assert_eq!(find(&before), find(&after), "{count}: {name} changed");
                }
            }
        }
    }

    #[test]
    fn pages_link_back_and_forth() {
        let files = render(&channel_of(8), 3).unwrap();
        let text = |name: &str| {
            let (_, bytes) = files.iter().find(|(file, _)| file == name).unwrap();
            String::from_utf8(bytes.clone()).unwrap()
        };
        let atom = text("atom.xml");
        assert!(
            atom.contains(r#"href="https://e.org/archive/2.xml" rel="prev-archive""#),
            "{atom}"
        );
        assert!(!atom.contains("fh:archive"), "{atom}");
        let full = text("archive/1.xml");
        assert!(
            full.contains(r#"xmlns:fh="http://purl.org/syndication/history/1.0""#),
            "{full}"
        );
        assert!(full.contains("<fh:archive"), "{full}");
        assert!(
            full.contains(r#"href="https://e.org/archive/2.xml" rel="next-archive""#),
            "{full}"
        );
        assert!(
            full.contains(r#"href="https://e.org/atom.xml" rel="current""#),
            "{full}"
        );
        assert!(!full.contains("prev-archive"), "{full}");
        let unfinished = text("archive/2.xml");
        assert!(!unfinished.contains("next-archive"), "{unfinished}");
        assert!(text("feed.json").contains(r#""next_url": "https://e.org/archive/2.json""#));
        assert!(text("archive/2.json").contains(r#""next_url": "https://e.org/archive/1.json""#));
        assert!(!text("archive/1.json").contains("next_url"));
    }

    #[test]
    fn page_names() {
        assert!(is_page_name("12.xml") && is_page_name("1.json"));
        assert!(!is_page_name(".xml") && !is_page_name("a.xml") && !is_page_name("1.html"));
    }
}
