//! `digest-feed ping`: tells the WebSub hub (`feed.websub_hub`) of each feed
//! whose bytes changed since the hub last heard of it, so readers subscribed
//! through the hub get a post in seconds instead of at their next poll.
//!
//! What the hub was last told is a small file beside the delivery state
//! (`state.db.websub`): one line per feed, `SHA-256 URL`, written
//! atomically after the pings. A feed is pinged when its bytes on disk hash
//! differently; a ping the hub does not accept (no answer, or not 2xx) is a
//! warning and its line is left as it was, so the next run pings it again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::build::feed_base;
use super::report::Report;
use crate::config::Config;
use crate::error::{Error, Location, Problem};
use crate::output;
use crate::text;
use crate::web_client::Client;

/// What the record's name adds to the delivery state's: `state.db.websub`,
/// so whatever keeps `state.db*` between runs keeps it too.
const RECORD_SUFFIX: &str = ".websub";

/// How long one ping may take: a hub answers a publish ping at once.
const PING_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `ping`.
pub(super) fn run(config: &Config, report: Report) -> Result<(), Error> {
    let Some(hub) = config.feed.websub_hub.as_deref() else {
        return Err(Problem::new(
            Location::file(&config.path),
            "[feed] websub_hub is not set, so there is no hub to ping; set it, e.g. \
             websub_hub = \"https://pubsubhubbub.appspot.com/\"",
        )
        .into());
    };
    let pinged = ping_changed(config, hub, report)?;
    report.result(format!(
        "Told {hub} of {} ({} unchanged since the last ping{})",
        text::count(pinged.told, "changed feed"),
        pinged.unchanged,
        match pinged.failed {
            0 => String::new(),
            n => format!(
                "; {} failed, tried again on the next run",
                text::count(n, "ping")
            ),
        }
    ));
    Ok(())
}

/// What one round of pings did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pinged {
    /// Feeds the hub accepted a ping for.
    pub(super) told: usize,
    /// Feeds whose bytes the hub has already been told of.
    pub(super) unchanged: usize,
    /// Pings the hub did not accept; tried again next time.
    pub(super) failed: usize,
}

/// Pings `hub` for each written feed whose bytes changed since its last
/// accepted ping, and records the ones accepted.
pub(super) fn ping_changed(config: &Config, hub: &str, report: Report) -> Result<Pinged, Error> {
    let record_path = record_path(config);
    let before = read_record(&record_path)?;
    let mut record = before.clone();
    let client = Client::new(PING_TIMEOUT);
    let mut unreachable = false;
    let mut pinged = Pinged {
        told: 0,
        unchanged: 0,
        failed: 0,
    };
    let mut found = Vec::new();
    for (url, path) in written_feeds(config) {
        let Ok(bytes) = std::fs::read(&path) else {
            // Not built (yet): nothing for the hub to fetch.
            continue;
        };
        found.push(url.clone());
        let hash = hex(sha256(&bytes).as_ref());
        if record.get(&url) == Some(&hash) {
            pinged.unchanged += 1;
            continue;
        }
        if unreachable {
            // One hub that gives no answer gives none to the next ping
            // either: each would wait out its timeout. Kept for next time.
            pinged.failed += 1;
            continue;
        }
        let fields = [("hub.mode", "publish"), ("hub.url", url.as_str())];
        let refused = match client.post_form(hub, &fields) {
            Ok(status) if (200..300).contains(&status) => None,
            Ok(status) => Some(format!("the hub answered HTTP {status}")),
            Err(err) => {
                unreachable = true;
                Some(err.reason)
            }
        };
        if let Some(why) = refused {
            report.warning(format!(
                "cannot ping the WebSub hub {hub} for {url}: {why}; the next `digest-feed ping` tries again"
            ));
            pinged.failed += 1;
        } else {
            report.detail(format!("pinged {hub} for {url}"));
            record.insert(url, hash);
            pinged.told += 1;
        }
    }
    if found.is_empty() {
        report.warning(format!(
            "no feed in {} to ping the hub for: run `digest-feed build` first",
            config.feed.out.display()
        ));
    }
    // A feed no longer written (a tag gone) is forgotten.
    record.retain(|url, _| found.contains(url));
    if record != before {
        output::write_atomically(&record_path, format_record(&record).as_bytes())?;
    }
    Ok(pinged)
}

/// Where the record of pings is kept: beside the delivery state, named
/// after it (by default `.digest-feed/state.db.websub` beside the config,
/// also for a site that only builds feeds and has no `[email]`).
fn record_path(config: &Config) -> PathBuf {
    let config_dir = config.path.parent().unwrap_or_else(|| Path::new("."));
    let state = config.email().map_or_else(
        |_| config_dir.join(".digest-feed").join("state.db"),
        |email| email.state.clone(),
    );
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(RECORD_SUFFIX);
    state.with_file_name(name)
}

/// Every feed readers subscribe to (the hub is named in these only; the
/// archive pages never change once full), as `(URL, file)`.
fn written_feeds(config: &Config) -> Vec<(String, PathBuf)> {
    let names = config.feed.files.all();
    let mut folders = vec![String::new()];
    if config.feed.per_tag
        && let Ok(entries) = std::fs::read_dir(config.feed.out.join("tags"))
    {
        let mut tags: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().is_dir())
            .filter_map(|entry| entry.file_name().into_string().ok())
            .map(|slug| format!("tags/{slug}/"))
            .collect();
        tags.sort();
        folders.extend(tags);
    }
    folders
        .iter()
        .flat_map(|folder| {
            names.iter().map(move |name| {
                (
                    format!("{}{name}", feed_base(config, folder)),
                    config.feed.out.join(folder).join(name),
                )
            })
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> ring::digest::Digest {
    ring::digest::digest(&ring::digest::SHA256, bytes)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// The record as read: URL → hash of the bytes last pinged. A missing file
/// is an empty record (nothing pinged yet); a line not in the form is
/// skipped, so its feed is pinged again.
fn read_record(path: &Path) -> Result<BTreeMap<String, String>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(err) => return Err(Error::io("cannot read", path, err)),
    };
    Ok(parse_record(&text))
}

fn parse_record(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(hash, url)| hash.len() == 64 && !url.is_empty())
        .map(|(hash, url)| (url.to_string(), hash.to_string()))
        .collect()
}

fn format_record(record: &BTreeMap<String, String>) -> String {
    use std::fmt::Write;
    record.iter().fold(String::new(), |mut text, (url, hash)| {
        let _ = writeln!(text, "{hash} {url}");
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_reads_back_what_it_wrote_and_skips_damage() {
        let hash = hex(sha256(b"feed").as_ref());
        let record: BTreeMap<_, _> = [("https://e.org/atom.xml".to_string(), hash.clone())].into();
        let text = format_record(&record);
        assert_eq!(text, format!("{hash} https://e.org/atom.xml\n"));
        assert_eq!(parse_record(&text), record);
        assert_eq!(
            parse_record("short https://e.org/feed.xml\n\nnonsense"),
            BTreeMap::new()
        );
    }
}
