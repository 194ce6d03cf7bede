//! Reads post dates the way Jekyll 4 does, so feeds agree with the blog's pages.
//!
//! Jekyll hands front matter to Ruby's YAML (Psych): an unquoted
//! `YYYY-MM-DD HH:MM:SS` is a YAML timestamp, which without an offset is UTC;
//! anything else (a bare date, a time without seconds, a quoted string) goes
//! through `Time.parse` in the site's zone. `posts.dates = "local"` reads every
//! time without an offset in the site's zone instead, as Hugo does.

use jiff::civil::{Date, DateTime};
use jiff::fmt::strtime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

use crate::config::DateRule;

/// Reads a front matter `date` value. `None` when it is not a date.
pub(crate) fn parse_front_matter_date(
    text: &str,
    rule: DateRule,
    zone: &TimeZone,
) -> Option<ZonedDateTime> {
    let text = text.trim();
    // jiff's Date parser would also accept a datetime and drop its time.
    let bare = !text.contains([' ', 'T', 't', ':']);
    if bare && let Ok(date) = text.parse::<Date>() {
        return midnight(date, zone);
    }
    if let Some(instant) = parse_with_offset(text) {
        return Some(instant.to_zoned_datetime(zone.clone()));
    }
    let Ok(civil) = text.parse::<DateTime>() else {
        return ruby_time_parse(text, zone);
    };
    let has_seconds = text
        .split([' ', 'T', 't'])
        .nth(1)
        .is_some_and(|time| time.matches(':').count() >= 2);
    match rule {
        DateRule::Jekyll if has_seconds => {
            let instant = civil.to_zoned_datetime(TimeZone::UTC).ok()?.timestamp();
            Some(instant.to_zoned_datetime(zone.clone()))
        }
        _ => civil.to_zoned_datetime(zone.clone()).ok(),
    }
}

/// The looser forms Ruby's `Time.parse` reads and real posts use, e.g.
/// `2023-01-29 18:30:22 2023 -0800` (a year repeated before the offset):
/// the first `YYYY-MM-DD`, the first `HH:MM[:SS]`, and an offset
/// (`+0900`, `+09:00`, `Z`, `UTC`, `GMT`); no offset means the site's zone.
/// As in Ruby, a number before the offset makes it part of a zone name
/// Ruby cannot read (`2023 -0800`), so the time is the site's (Jekyll
/// 4.3.1 read that post so).
fn ruby_time_parse(text: &str, zone: &TimeZone) -> Option<ZonedDateTime> {
    let mut words = text.split_whitespace();
    let date: Date = words.next()?.parse().ok()?;
    let mut time = jiff::civil::Time::midnight();
    let mut offset = None;
    let mut stray_number = false;
    for word in words {
        if word.contains(':') && word.starts_with(|c: char| c.is_ascii_digit()) {
            let parts: Vec<&str> = word.split(':').collect();
            let number = |i: usize| parts.get(i).map_or(Some(0), |p| p.parse::<i8>().ok());
            time = jiff::civil::Time::new(number(0)?, number(1)?, number(2)?, 0).ok()?;
        } else if matches!(word, "Z" | "UTC" | "GMT") {
            offset = Some(jiff::tz::Offset::UTC);
        } else if word.starts_with(['+', '-']) {
            let parsed = strtime::parse("%z", word)
                .or_else(|_| strtime::parse("%:z", word))
                .ok()?;
            offset = (!stray_number).then_some(parsed.offset()?);
        } else if word.bytes().all(|b| b.is_ascii_digit()) {
            stray_number = true;
        } else {
            return None;
        }
    }
    let civil = date.to_datetime(time);
    match offset {
        Some(offset) => civil
            .to_zoned_datetime(TimeZone::fixed(offset))
            .ok()
            .map(|at| at.timestamp().to_zoned_datetime(zone.clone())),
        None => civil.to_zoned_datetime(zone.clone()).ok(),
    }
}

/// An instant with an explicit offset: RFC 3339 (`Z`, `+09:00`, `+0900`) or
/// Jekyll's `YYYY-MM-DD HH:MM[:SS] +0900` with a space before the offset.
fn parse_with_offset(text: &str) -> Option<Timestamp> {
    const FORMATS: &[&str] = &[
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%d %H:%M:%S%.f %:z",
        "%Y-%m-%d %H:%M %z",
        "%Y-%m-%d %H:%M %:z",
        "%Y-%m-%dT%H:%M:%S%.f %z",
        "%Y-%m-%dT%H:%M:%S%.f %:z",
        "%Y-%m-%d %z",
        "%Y-%m-%d %:z",
    ];
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Some(instant);
    }
    FORMATS.iter().find_map(|format| {
        let parsed = strtime::parse(format, text).ok()?;
        if parsed.hour().is_none() {
            // A bare date with an offset is midnight at that offset (Ruby's Time.parse).
            let date = parsed.to_date().ok()?;
            let offset = parsed.offset()?;
            return date
                .to_datetime(jiff::civil::Time::midnight())
                .to_zoned_datetime(TimeZone::fixed(offset))
                .ok()
                .map(|z| z.timestamp());
        }
        parsed.to_timestamp().ok()
    })
}

/// The date at the start of a post's file name (`YYYY-MM-DD-slug.md`; as
/// in Jekyll, the month and day may have one digit: `2018-05-9-x.md`), as
/// midnight in `zone` and the slug after it; `Err` holds the date's text when
/// it is no real date.
pub(crate) fn file_name_date(
    stem: &str,
    zone: &TimeZone,
) -> Option<Result<(ZonedDateTime, String), String>> {
    let mut parts = stem.splitn(4, '-');
    let (year, month, day, slug) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let digits = |text: &str, range: std::ops::RangeInclusive<usize>| {
        range.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
    };
    if !(digits(year, 4..=4) && digits(month, 1..=2) && digits(day, 1..=2)) || slug.is_empty() {
        return None;
    }
    let date_text = &stem[..year.len() + month.len() + day.len() + 2];
    let date = Date::new(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    Some(match date.ok().and_then(|date| midnight(date, zone)) {
        Some(date) => Ok((date, slug.to_string())),
        None => Err(date_text.to_string()),
    })
}

fn midnight(date: Date, zone: &TimeZone) -> Option<ZonedDateTime> {
    date.to_zoned_datetime(zone.clone()).ok()
}

/// RFC 3339 with the date's own offset, e.g. `2025-12-25T08:30:00+09:00`.
pub(crate) fn rfc3339(date: &ZonedDateTime) -> String {
    date.timestamp()
        .display_with_offset(date.offset())
        .to_string()
}

/// RFC 2822, as RSS wants, e.g. `Thu, 25 Dec 2025 08:30:00 +0900`.
pub(crate) fn rfc2822(date: &ZonedDateTime) -> String {
    jiff::fmt::rfc2822::to_string(date).unwrap_or_else(|_| rfc3339(date))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seoul() -> TimeZone {
        TimeZone::get("Asia/Seoul").unwrap()
    }

    fn read(text: &str, rule: DateRule) -> Option<String> {
        parse_front_matter_date(text, rule, &seoul()).map(|d| rfc3339(&d))
    }

    // Each expectation below is what Jekyll 4.3.1 printed for the same value
    // with `timezone: Asia/Seoul`.
    #[test]
    fn jekyll_reading() {
        for (written, jekyll) in [
            ("2025-12-24 23:30:00", "2025-12-25T08:30:00+09:00"),
            ("2025-12-24T23:30:00", "2025-12-25T08:30:00+09:00"),
            ("2025-12-24 23:30", "2025-12-24T23:30:00+09:00"),
            ("2025-12-24 23:30:00 +0900", "2025-12-24T23:30:00+09:00"),
            ("2025-12-24T23:30:00+09:00", "2025-12-24T23:30:00+09:00"),
            ("2025-12-24T14:30:00Z", "2025-12-24T23:30:00+09:00"),
            ("2025-12-24 23:30 +0100", "2025-12-25T07:30:00+09:00"),
            ("2025-12-24 10:00:00.5", "2025-12-24T19:00:00.5+09:00"),
            ("2025-12-20", "2025-12-20T00:00:00+09:00"),
            ("2025-12-24 +0900", "2025-12-24T00:00:00+09:00"),
            // jekyll/jekyll's 3.9.3 release post; Jekyll read it so.
            (
                "2023-01-29 18:30:22 2023 -0800",
                "2023-01-29T18:30:22+09:00",
            ),
        ] {
            assert_eq!(
                read(written, DateRule::Jekyll).as_deref(),
                Some(jekyll),
                "{written}"
            );
        }
    }

    #[test]
    fn local_reading_is_hugos() {
        assert_eq!(
            read("2025-12-24 23:30:00", DateRule::Local).as_deref(),
            Some("2025-12-24T23:30:00+09:00")
        );
        assert_eq!(
            read("2025-12-24T14:30:00Z", DateRule::Local).as_deref(),
            Some("2025-12-24T23:30:00+09:00")
        );
    }

    #[test]
    fn impossible_dates_are_refused() {
        for text in [
            "2025-13-45",
            "2025-02-30",
            "yesterday",
            "",
            "2025-12-24 25:00:00",
            "12/24/2025",
        ] {
            assert_eq!(read(text, DateRule::Jekyll), None, "{text}");
        }
    }

    #[test]
    fn file_names() {
        let (date, slug) = file_name_date("2025-12-24-daily-papers", &seoul())
            .unwrap()
            .unwrap();
        assert_eq!(
            (rfc3339(&date).as_str(), slug.as_str()),
            ("2025-12-24T00:00:00+09:00", "daily-papers")
        );
        assert_eq!(
            file_name_date("2025-02-30-x", &seoul()),
            Some(Err("2025-02-30".into()))
        );
        assert_eq!(file_name_date("about", &seoul()), None);
        let (date, slug) = file_name_date("2018-05-9-x", &seoul()).unwrap().unwrap();
        assert_eq!(
            (rfc3339(&date).as_str(), slug.as_str()),
            ("2018-05-09T00:00:00+09:00", "x")
        );
        assert_eq!(file_name_date("2025-12-24", &seoul()), None);
    }

    #[test]
    fn rss_dates() {
        let date =
            parse_front_matter_date("2025-12-24 23:30:00", DateRule::Jekyll, &seoul()).unwrap();
        assert_eq!(rfc2822(&date), "Thu, 25 Dec 2025 08:30:00 +0900");
    }
}
