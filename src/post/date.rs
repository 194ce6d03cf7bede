//! Reads post dates the way Jekyll 4 does, so feeds agree with the blog's pages.
//!
//! Jekyll hands front matter to Ruby's YAML (Psych): an unquoted
//! `YYYY-MM-DD HH:MM:SS[.f][ offset]` is a YAML timestamp, which without an
//! offset is UTC. Jekyll then turns every date into text and back through
//! Ruby's `Time.parse` in the site's zone (`Utils.parse_date`), which is why
//! fractions of a second are lost, why a zone abbreviation Ruby does not know
//! (`KST`, `CET`) reads as the site's own time, and why an offset after a
//! date without a time (`2018-12-21 +0800`) is ignored. Both readings are
//! mirrored here, form by form, as Ruby 3.1 and Jekyll 4.3 give them; jiff
//! does the calendar arithmetic. `posts.dates = "local"` reads every time
//! without an offset in the site's zone instead, as Hugo does.

use std::sync::LazyLock;

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ZonedDateTime};
use regex::Regex;

use crate::config::DateRule;

/// Reads a front matter `date` value written without quotes (`DateRule::Jekyll`:
/// a YAML timestamp first, as Psych reads it) or as a string (`Local`: Ruby's
/// `Time.parse` alone). `None` when Jekyll would refuse it too.
pub(crate) fn parse_front_matter_date(
    text: &str,
    rule: DateRule,
    zone: &TimeZone,
) -> Option<ZonedDateTime> {
    let text = text.trim();
    if rule == DateRule::Jekyll
        && let Some(instant) = yaml_timestamp(text)
    {
        return Some(instant.to_zoned_datetime(zone.clone()));
    }
    time_parse(text, zone)
}

/// Psych's timestamp: the scalar forms YAML reads as a time, the instant
/// they are (UTC without an offset), to the second as Jekyll keeps it.
/// `None` when it is no timestamp, or one Psych gives up on (an hour of
/// 29, an offset of -80 hours): then it is a string, for `Time.parse`.
fn yaml_timestamp(text: &str) -> Option<Timestamp> {
    match plain_fields(text) {
        Some((fields, offset)) => instant(fields, offset),
        None => regex_timestamp(text),
    }
}

/// [`yaml_timestamp`] by the regex of Psych's timestamp forms.
fn regex_timestamp(text: &str) -> Option<Timestamp> {
    static TIME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt]|\s+)(\d{1,2}):(\d\d):(\d\d)(?:\.\d*)?(?:\s*(Z|([-+]\d{1,2}):?(\d\d)?))?$")
            .expect("valid regex")
    });
    let found = TIME.captures(text)?;
    let number = |i: usize| found.get(i).and_then(|m| m.as_str().parse::<i64>().ok());
    let fields = (
        number(1)?,
        number(2)?,
        number(3)?,
        (number(4)?, number(5)?, number(6)?),
    );
    let offset = match found.get(7).map(|m| m.as_str()) {
        None | Some("Z") => 0,
        Some(zone) => psych_offset(zone)?,
    };
    instant(fields, offset)
}

/// A date and time's fields: year, month, day, and hour, minute, second.
type Fields = (i64, i64, i64, (i64, i64, i64));

/// The number written in `digits` (ASCII digits only).
fn digits_number(digits: &[u8]) -> Option<i64> {
    digits.iter().all(u8::is_ascii_digit).then(|| {
        digits
            .iter()
            .fold(0, |number, &digit| number * 10 + i64::from(digit - b'0'))
    })
}

/// The date of `YYYY-MM-DD` at the start of `bytes`.
fn plain_date(bytes: &[u8]) -> Option<(i64, i64, i64)> {
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    Some((
        digits_number(&bytes[..4])?,
        digits_number(&bytes[5..7])?,
        digits_number(&bytes[8..10])?,
    ))
}

/// The fields and offset (in seconds) of the forms nearly every post
/// writes, `YYYY-MM-DD HH:MM:SS` (or with a `T`) then nothing, `Z`, or an
/// offset `+HH:MM` / `+HHMM` after at most one space, read without the
/// regex: every post pays this. `None` for another form (then the regex
/// reads it).
fn plain_fields(text: &str) -> Option<(Fields, i64)> {
    let bytes = text.as_bytes();
    let (year, month, day) = plain_date(bytes)?;
    let shape = bytes.len() >= 19
        && matches!(bytes[10], b' ' | b'T' | b't')
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !shape {
        return None;
    }
    let time = (
        digits_number(&bytes[11..13])?,
        digits_number(&bytes[14..16])?,
        digits_number(&bytes[17..19])?,
    );
    let zone = &text[19..];
    let zone = zone.strip_prefix(' ').unwrap_or(zone);
    let offset = match zone.as_bytes() {
        [] | [b'Z'] => 0,
        [b'+' | b'-', h1, h2, m1, m2] | [b'+' | b'-', h1, h2, b':', m1, m2]
            if [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()) =>
        {
            psych_offset(zone)?
        }
        _ => return None,
    };
    Some(((year, month, day, time), offset))
}

/// The instant of a timestamp's fields at `offset` seconds east of UTC
/// (Psych's reading: UTC without one; an offset of a day or more is none).
fn instant((year, month, day, time): Fields, offset: i64) -> Option<Timestamp> {
    let civil = ruby_civil(year, month, day, time)?;
    // Ruby's Time.new takes offsets within a day.
    if offset.abs() >= 86_400 {
        return None;
    }
    let offset = Offset::from_seconds(i32::try_from(offset).ok()?).ok()?;
    civil
        .to_zoned_datetime(TimeZone::fixed(offset))
        .ok()
        .map(|at| at.timestamp())
}

/// Psych's reading of a timestamp's offset: up to two digits of hours (as
/// many as there are: `-800` is -80 hours), then the minutes, in seconds.
fn psych_offset(zone: &str) -> Option<i64> {
    let (sign, digits) = zone.split_at(1);
    let hours_len = digits.bytes().take_while(u8::is_ascii_digit).count().min(2);
    let (hours, minutes) = digits.split_at(hours_len);
    let minutes = minutes.strip_prefix(':').unwrap_or(minutes);
    let hours: i64 = hours.parse().ok()?;
    let minutes: i64 = if minutes.is_empty() {
        0
    } else {
        minutes.parse().ok()?
    };
    let seconds = hours * 3600 + minutes * 60;
    Some(if sign == "-" { -seconds } else { seconds })
}

/// A civil time as Ruby's `Time.utc`/`Time.local` take their fields: a day
/// up to 31 runs on into the next month (`2025-02-30` is March 2nd), an
/// hour of 24 (at :00:00) and a second of 60 run on; anything else out of
/// range is an error.
fn ruby_civil(
    year: i64,
    month: i64,
    day: i64,
    (hour, minute, second): (i64, i64, i64),
) -> Option<DateTime> {
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(0..=24).contains(&hour)
        || !(0..=59).contains(&minute)
        || !(0..=60).contains(&second)
        || (hour == 24 && (minute, second) != (0, 0))
    {
        return None;
    }
    let year = i16::try_from(year).ok()?;
    let month = i8::try_from(month).ok()?;
    // A time within its day and month is itself (the common case, without span arithmetic).
    if hour < 24
        && second < 60
        && let Ok(civil) = DateTime::new(
            year,
            month,
            i8::try_from(day).ok()?,
            i8::try_from(hour).ok()?,
            i8::try_from(minute).ok()?,
            i8::try_from(second).ok()?,
            0,
        )
    {
        return Some(civil);
    }
    run_on(year, month, day, (hour, minute, second))
}

/// The time `day - 1` days and the hours, minutes and seconds after the
/// month's first midnight: Ruby's reading of fields that run past their range.
fn run_on(
    year: i16,
    month: i8,
    day: i64,
    (hour, minute, second): (i64, i64, i64),
) -> Option<DateTime> {
    let first = Date::new(year, month, 1).ok()?;
    let start = first.to_datetime(jiff::civil::Time::midnight());
    let span = jiff::Span::new()
        .days(day - 1)
        .hours(hour)
        .minutes(minute)
        .seconds(second);
    start.checked_add(span).ok()
}

/// What Ruby's `Date._parse` finds in a date string, as far as real posts
/// use it: a date, a time, and the zone written right after the time.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parts<'a> {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    zone: Option<&'a str>,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// `Date._parse`'s reading, for the forms Jekyll sites write: the time
/// (`H:MM[:SS[.f]]`, with `am`/`pm`) and the zone after it, then the date
/// (`Y-M-D`, `Y/M/D`, `9 Feb 2010`, `Feb 9, 2010`) in what is left.
fn date_parse(text: &str) -> Option<Parts<'_>> {
    plain_parts(text).or_else(|| regex_date_parse(text))
}

/// [`date_parse`] of `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` and
/// `YYYY-MM-DD HH:MM:SS`, the forms most posts write, without the
/// regexes; `None` for any other text.
fn plain_parts(text: &str) -> Option<Parts<'_>> {
    let bytes = text.as_bytes();
    let (year, month, day) = plain_date(bytes)?;
    let mut parts = Parts {
        year,
        month,
        day,
        ..Parts::default()
    };
    match bytes.len() {
        10 => {}
        16 | 19 if bytes[10] == b' ' && bytes[13] == b':' => {
            parts.hour = digits_number(&bytes[11..13])?;
            parts.minute = digits_number(&bytes[14..16])?;
            if bytes.len() == 19 {
                if bytes[16] != b':' {
                    return None;
                }
                parts.second = digits_number(&bytes[17..19])?;
            }
        }
        _ => return None,
    }
    Some(parts)
}

/// [`date_parse`] by the regexes of the forms Ruby reads.
fn regex_date_parse(text: &str) -> Option<Parts<'_>> {
    static TIME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?i)(\d+)\s*:\s*(\d+)(?:\s*:\s*(\d+)(?:[,.]\d*)?)?(?:\s*([ap])(?:m\b|\.m\.))?",
            r"(?:\s*((?:gmt|utc?)?[-+]\d+(?:[,.:]\d+(?::\d+)?)?|(?-i:[[:alpha:].\s]+)(?:standard|daylight)\stime\b|(?-i:[[:alpha:]]+)(?:\sdst)?\b))?",
        ))
        .expect("valid regex")
    });
    static ISO: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(\d+)-(\d+)-(\d+)").expect("valid regex"));
    static SLASH: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(\d{3,})/(\d+)/(\d+)").expect("valid regex"));
    static EU: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(\d+)[^-\d\s']*\s*(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[^-\d\s']*\s*(\d+)")
            .expect("valid regex")
    });
    static US: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[^-\d\s']*\s*(\d+)[^-\d\s']*\s*,?\s*(\d+)")
            .expect("valid regex")
    });
    let mut parts = Parts::default();
    let mut rest = std::borrow::Cow::Borrowed(text);
    if let Some(time) = TIME.captures(text) {
        let number = |i: usize| {
            time.get(i)
                .map_or(Some(0), |m| m.as_str().parse::<i64>().ok())
        };
        parts.hour = number(1)?;
        parts.minute = number(2)?;
        parts.second = number(3)?;
        if let Some(half) = time.get(4) {
            parts.hour %= 12;
            if half.as_str().eq_ignore_ascii_case("p") {
                parts.hour += 12;
            }
        }
        parts.zone = time.get(5).map(|m| m.as_str().trim());
        let span = time.get(0)?.range();
        rest = std::borrow::Cow::Owned(format!("{} {}", &text[..span.start], &text[span.end..]));
    }
    let month_number = |name: &str| {
        let name = name.to_ascii_lowercase();
        MONTHS
            .iter()
            .position(|m| *m == name)
            .and_then(|i| i64::try_from(i + 1).ok())
    };
    let number = |text: &str| text.parse::<i64>().ok();
    let (year, month, day) = if let Some(eu) = EU.captures(&rest) {
        (number(&eu[3])?, month_number(&eu[2])?, number(&eu[1])?)
    } else if let Some(us) = US.captures(&rest) {
        (number(&us[3])?, month_number(&us[1])?, number(&us[2])?)
    } else if let Some(iso) = ISO.captures(&rest) {
        (two_digit_year(&iso[1])?, number(&iso[2])?, number(&iso[3])?)
    } else if let Some(digits) = rest.trim().get(..8).filter(|_| rest.trim().len() == 8)
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        // `20100209` (YAML reads it as a number; Jekyll's `to_s` gives it back).
        (
            number(&digits[..4])?,
            number(&digits[4..6])?,
            number(&digits[6..])?,
        )
    } else {
        let slash = SLASH.captures(&rest)?;
        (number(&slash[1])?, number(&slash[2])?, number(&slash[3])?)
    };
    (parts.year, parts.month, parts.day) = (year, month, day);
    Some(parts)
}

/// A year of one or two digits is this century's or the last (Ruby's
/// completion: 69 and up are 19xx).
fn two_digit_year(text: &str) -> Option<i64> {
    let year = text.parse::<i64>().ok()?;
    Some(match (text.len(), year) {
        (..=2, 69..) => year + 1900,
        (..=2, _) => year + 2000,
        _ => year,
    })
}

/// Ruby's `Time.parse(text)` with `TZ` set to `zone`, as Jekyll reads
/// every date: a zone after the time is an offset Ruby knows (`+0900`,
/// `-05:00`, `-08`, `EST`...`PDT`, `UTC`, `GMT`, `Z`, military letters, the
/// site zone's own abbreviations), anything else is the site's time.
fn time_parse(text: &str, zone: &TimeZone) -> Option<ZonedDateTime> {
    let parts = date_parse(text)?;
    let civil = ruby_civil(
        parts.year,
        parts.month,
        parts.day,
        (parts.hour, parts.minute, parts.second),
    )?;
    match parts
        .zone
        .and_then(|name| zone_offset(name, parts.year, zone))
    {
        Some(offset) => civil
            .to_zoned_datetime(TimeZone::fixed(offset))
            .ok()
            .map(|at| at.timestamp().to_zoned_datetime(zone.clone())),
        None => civil.to_zoned_datetime(zone.clone()).ok(),
    }
}

/// Ruby's `Time.zone_offset`: the offset a zone name stands for, if Ruby knows it.
fn zone_offset(name: &str, year: i64, local: &TimeZone) -> Option<Offset> {
    static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^([+-])(\d\d)(:?)(\d\d)(?:(:?)(\d\d))?$").expect("valid regex")
    });
    let name = name.to_ascii_uppercase();
    let hours = |h: i32| Offset::from_hours(i8::try_from(h).ok()?).ok();
    if let Some(found) = NUMERIC.captures(&name) {
        // The seconds need the same separator as the minutes.
        if found.get(6).is_some()
            && found.get(5).map(|m| m.as_str()) != found.get(3).map(|m| m.as_str())
        {
            return None;
        }
        let number = |i: usize| {
            found
                .get(i)
                .map_or(0, |m| m.as_str().parse::<i32>().unwrap_or(0))
        };
        let seconds = (number(2) * 60 + number(4)) * 60 + number(6);
        let sign = if &found[1] == "-" { -1 } else { 1 };
        return Offset::from_seconds(sign * seconds).ok();
    }
    if name.len() == 3
        && name.starts_with(['+', '-'])
        && name[1..].bytes().all(|b| b.is_ascii_digit())
    {
        return hours(name.parse().ok()?);
    }
    let table = match name.as_str() {
        "UTC" | "Z" | "UT" | "GMT" => Some(0),
        "EDT" => Some(-4),
        "EST" | "CDT" => Some(-5),
        "CST" | "MDT" => Some(-6),
        "MST" | "PDT" => Some(-7),
        "PST" => Some(-8),
        military if military.len() == 1 => {
            let letter = military.as_bytes()[0];
            match letter {
                b'A'..=b'I' => Some(i32::from(letter - b'A') + 1),
                b'K'..=b'M' => Some(i32::from(letter - b'K') + 10),
                b'N'..=b'Y' => Some(-(i32::from(letter - b'N') + 1)),
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(table) = table {
        return hours(table);
    }
    // The site zone's own abbreviation, in January or July of that year.
    let year = i16::try_from(year).ok()?;
    [1, 7].into_iter().find_map(|month| {
        let at = Date::new(year, month, 1)
            .ok()?
            .to_zoned_datetime(local.clone())
            .ok()?;
        let info = local.to_offset_info(at.timestamp());
        info.abbreviation()
            .eq_ignore_ascii_case(&name)
            .then(|| info.offset())
    })
}

/// The date at the start of a post's file name, as Jekyll reads posts:
/// `Y-M-D-slug` with a year of two to four digits and a one- or two-digit
/// month and day (`2018-05-9-x.md`), read by `Time.parse` (so
/// `2025-02-30` is March 2nd): midnight in `zone`, and the slug after it.
/// `None` when the name has no such date (Jekyll does not read it as a
/// post); `Err` holds the date's text when Ruby refuses it.
pub(crate) fn file_name_date(
    stem: &str,
    zone: &TimeZone,
) -> Option<Result<(ZonedDateTime, String), String>> {
    let mut parts = stem.splitn(4, '-');
    let (year, month, day, slug) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let digits = |text: &str, range: std::ops::RangeInclusive<usize>| {
        range.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
    };
    if !(digits(year, 2..=4) && digits(month, 1..=2) && digits(day, 1..=2)) {
        return None;
    }
    let date_text = &stem[..year.len() + month.len() + day.len() + 2];
    // What `Time.parse` makes of `Y-M-D`, without its regexes: every post pays this.
    let date = two_digit_year(year)
        .zip(month.parse().ok())
        .zip(day.parse().ok())
        .and_then(|((year, month), day)| ruby_civil(year, month, day, (0, 0, 0)))
        .and_then(|civil| civil.to_zoned_datetime(zone.clone()).ok());
    Some(match date {
        Some(date) => Ok((date, slug.to_string())),
        None => Err(date_text.to_string()),
    })
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

    // Each expectation below is what Jekyll 4.3.1 printed for the same
    // front matter `date:` (unquoted unless the quotes are shown) with
    // `timezone: Asia/Seoul` (tests/python/test_jekyll_dates.py builds them all).
    const JEKYLL_SEOUL: &[(&str, &str)] = &[
        ("2025-12-24 23:30:00", "2025-12-25T08:30:00+09:00"),
        ("2025-12-24T23:30:00", "2025-12-25T08:30:00+09:00"),
        ("2025-12-24 23:30", "2025-12-24T23:30:00+09:00"),
        ("2025-12-24 23:30:00 +0900", "2025-12-24T23:30:00+09:00"),
        ("2025-12-24T23:30:00+09:00", "2025-12-24T23:30:00+09:00"),
        ("2025-12-24T14:30:00Z", "2025-12-24T23:30:00+09:00"),
        ("2025-12-24 23:30 +0100", "2025-12-25T07:30:00+09:00"),
        // Fractions are lost: Jekyll turns the date into text and back.
        ("2025-12-24 10:00:00.5", "2025-12-24T19:00:00+09:00"),
        ("2025-02-17T14:41:00.000Z", "2025-02-17T23:41:00+09:00"),
        ("2025-12-20", "2025-12-20T00:00:00+09:00"),
        // An offset after a date without a time is ignored.
        ("2018-12-21 +0800", "2018-12-21T00:00:00+09:00"),
        // ... and `+08:00` there is read as a time.
        ("2018-12-21 +08:00", "2018-12-21T08:00:00+09:00"),
        // jekyll/jekyll's 3.9.3 release post: a number before the offset
        // makes it no zone Ruby knows.
        (
            "2023-01-29 18:30:22 2023 -0800",
            "2023-01-29T18:30:22+09:00",
        ),
        ("2010-02-09 08:00:00 EST", "2010-02-09T22:00:00+09:00"),
        ("2010-02-09 08:00:00 est", "2010-02-09T22:00:00+09:00"),
        ("2010-06-09 08:00:00 EDT", "2010-06-09T21:00:00+09:00"),
        ("2010-02-09 08:00:00 CST", "2010-02-09T23:00:00+09:00"),
        ("2010-02-09 08:00:00 CDT", "2010-02-09T22:00:00+09:00"),
        ("2010-02-09 08:00:00 MST", "2010-02-10T00:00:00+09:00"),
        ("2010-02-09 08:00:00 MDT", "2010-02-09T23:00:00+09:00"),
        ("2010-02-09 08:00:00 PST", "2010-02-10T01:00:00+09:00"),
        ("2010-02-09 08:00:00 PDT", "2010-02-10T00:00:00+09:00"),
        ("2010-02-09 08:00:00 UTC", "2010-02-09T17:00:00+09:00"),
        ("2010-02-09 08:00:00 UT", "2010-02-09T17:00:00+09:00"),
        ("2010-02-09 08:00:00 GMT", "2010-02-09T17:00:00+09:00"),
        ("2010-02-09 08:00:00 Z", "2010-02-09T17:00:00+09:00"),
        ("2010-02-09 08:00:00 A", "2010-02-09T16:00:00+09:00"),
        // The site zone's own abbreviation; others Ruby does not know.
        ("2010-02-09 08:00:00 KST", "2010-02-09T08:00:00+09:00"),
        ("2010-02-09 08:00:00 JST", "2010-02-09T08:00:00+09:00"),
        ("2010-02-09 08:00:00 CET", "2010-02-09T08:00:00+09:00"),
        ("2010-02-09 08:00:00 AKST", "2010-02-09T08:00:00+09:00"),
        (
            "2010-02-09 08:00:00 America/New_York",
            "2010-02-09T08:00:00+09:00",
        ),
        ("2010-02-09 08:00:00.123 EST", "2010-02-09T22:00:00+09:00"),
        ("2010-02-09 08:00:00 -0500 EST", "2010-02-09T22:00:00+09:00"),
        ("2010-02-09 08:00:00 +05:30", "2010-02-09T11:30:00+09:00"),
        ("2010-02-09 08:00:00 -08", "2010-02-10T01:00:00+09:00"),
        // Offsets Ruby cannot read: the site's time.
        ("2025-10-05 12:00:00 + 0900", "2025-10-05T12:00:00+09:00"),
        ("2025-10-05 12:00:00 -800", "2025-10-05T12:00:00+09:00"),
        ("2025-10-05 12:00:00 +900", "2025-10-05T12:00:00+09:00"),
        ("2014-10-1 12:00:00", "2014-10-01T21:00:00+09:00"),
        ("2010-2-9 8:00:00", "2010-02-09T17:00:00+09:00"),
        ("2010-02-09 8:00", "2010-02-09T08:00:00+09:00"),
        ("2014-10-01 24:00:00", "2014-10-02T09:00:00+09:00"),
        ("2010-02-09 08:00:60", "2010-02-09T17:01:00+09:00"),
        ("2020-02-24 00:00 00:00:00", "2020-02-24T00:00:00+09:00"),
        ("2010-02-09 08:00:00 pm", "2010-02-09T20:00:00+09:00"),
        ("2010-02-09 12:00 am", "2010-02-09T00:00:00+09:00"),
        (
            "Tue, 09 Feb 2010 08:00:00 -0500",
            "2010-02-09T22:00:00+09:00",
        ),
        ("Feb 9, 2010", "2010-02-09T00:00:00+09:00"),
        ("2010/02/09 08:00", "2010-02-09T08:00:00+09:00"),
        ("20100209", "2010-02-09T00:00:00+09:00"),
        // Ruby's Time runs a day past the month's end on into the next.
        ("2025-02-30", "2025-03-02T00:00:00+09:00"),
    ];

    #[test]
    fn jekyll_reading() {
        for (written, jekyll) in JEKYLL_SEOUL {
            assert_eq!(
                read(written, DateRule::Jekyll).as_deref(),
                Some(*jekyll),
                "{written}"
            );
        }
    }

    #[test]
    fn the_plain_timestamp_is_the_regexs() {
        let mut texts = vec![
            "2025-12-24 08:15:00".to_string(),
            "2025-12-24T08:15:00".into(),
            "2025-12-24t08:15:00".into(),
            "2025-02-30 08:15:00".into(),
            "2024-02-29 23:59:59".into(),
            "2023-02-29 23:59:59".into(),
            "2025-12-31 24:00:00".into(),
            "2025-12-31 24:00:01".into(),
            "2016-12-31 23:59:60".into(),
            "2025-13-01 00:00:00".into(),
            "2025-00-10 00:00:00".into(),
            "2025-01-32 00:00:00".into(),
            "0000-01-01 00:00:00".into(),
            "9999-12-31 23:59:59".into(),
            "2025-12-24 25:00:00".into(),
            "2025-12-24 08:60:00".into(),
            "2025-12-24 08:15:61".into(),
            "2025-12-24\t08:15:00".into(),
            "2025-12-24x08:15:00".into(),
            "2025-1-24 08:15:000".into(),
            "20a5-12-24 08:15:00".into(),
            "2025-12-24 08:15:0Z".into(),
        ];
        for day in 0..=32 {
            for hour in [0, 12, 23, 24] {
                texts.push(format!("2024-02-{day:02} {hour:02}:00:00"));
            }
        }
        for text in &texts {
            for zone in [
                "", "Z", " Z", "+09:00", " +09:00", " -0530", "-05", " +9", "  +09:00", " +99:00",
                " +0900x", " UTC",
            ] {
                let text = format!("{text}{zone}");
                if let Some((fields, offset)) = plain_fields(&text) {
                    assert_eq!(instant(fields, offset), regex_timestamp(&text), "{text}");
                }
            }
        }
        for read in [
            "2025-12-24 08:15:00 +09:00",
            "2025-12-24T08:15:00Z",
            "2025-12-24 08:15:00 -0800",
            "2025-12-24 08:15:00",
        ] {
            assert!(plain_fields(read).is_some(), "{read}");
        }
    }

    #[test]
    fn a_time_within_its_month_is_what_running_on_gives() {
        for (year, month) in [
            (2023, 2),
            (2024, 2),
            (2025, 4),
            (2025, 12),
            (1900, 2),
            (2000, 2),
        ] {
            for day in 1..=31 {
                for time in [
                    (0, 0, 0),
                    (8, 15, 30),
                    (23, 59, 59),
                    (23, 59, 60),
                    (24, 0, 0),
                ] {
                    assert_eq!(
                        ruby_civil(i64::from(year), i64::from(month), day, time),
                        run_on(year, month, day, time),
                        "{year}-{month}-{day} {time:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn plain_parts_are_the_regexs() {
        for text in [
            "2025-12-24",
            "2025-12-24 08:15",
            "2025-12-24 08:15:30",
            "0025-01-01",
            "2025-02-30 24:00",
            "2025-12-24 99:99:99",
            "2025-12-24 08:15:3x",
            "2025-12-24 08-15",
            "2025-12-24T08:15",
            "2025-12-24 08:15:30 +0900",
            "2025-1-24",
            "20251224",
        ] {
            if let Some(parts) = plain_parts(text) {
                assert_eq!(Some(parts), regex_date_parse(text), "{text}");
            }
        }
        for read in ["2025-12-24", "2025-12-24 08:15", "2025-12-24 08:15:30"] {
            assert!(plain_parts(read).is_some(), "{read}");
        }
    }

    #[test]
    fn quoted_dates_are_ruby_strings() {
        // Quoted, a date is no YAML timestamp: no offset means the site's time.
        for (written, jekyll) in [
            ("2010-02-09 08:00:00", "2010-02-09T08:00:00+09:00"),
            ("2010-02-09 08:00:00.5", "2010-02-09T08:00:00+09:00"),
            ("2010-02-09 24:00", "2010-02-10T00:00:00+09:00"),
            ("2010-02-09 08:00:00 EST", "2010-02-09T22:00:00+09:00"),
        ] {
            assert_eq!(
                read(written, DateRule::Local).as_deref(),
                Some(jekyll),
                "{written}"
            );
        }
    }

    #[test]
    fn psych_reads_an_offset_ruby_would_not() {
        // `+9` is a YAML timestamp's offset, though Time.parse ignores it (Jekyll, UTC site).
        let utc = |text| {
            parse_front_matter_date(text, DateRule::Jekyll, &TimeZone::UTC).map(|d| rfc3339(&d))
        };
        assert_eq!(
            utc("2010-02-09 08:00:00 +9").as_deref(),
            Some("2010-02-08T23:00:00+00:00")
        );
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let read =
            |text| parse_front_matter_date(text, DateRule::Jekyll, &paris).map(|d| rfc3339(&d));
        // CET is Paris's January name: +01:00 even in July (Ruby's zone_offset).
        assert_eq!(
            read("2010-07-09 08:00:00 CET").as_deref(),
            Some("2010-07-09T09:00:00+02:00")
        );
        assert_eq!(
            read("2010-01-09 08:00:00 CEST").as_deref(),
            Some("2010-01-09T07:00:00+01:00")
        );
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
            "2025-13-01",
            "2025-12-32",
            "yesterday",
            "",
            // Jekyll stops the build on each of these ("hour out of range").
            "2025-12-24 25:00:00",
            "2014-10-01 29:00:00",
            "2010-02-09 24:30",
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
            file_name_date("2025-02-32-x", &seoul()),
            Some(Err("2025-02-32".into()))
        );
        assert_eq!(file_name_date("about", &seoul()), None);
        let (date, slug) = file_name_date("2018-05-9-x", &seoul()).unwrap().unwrap();
        assert_eq!(
            (rfc3339(&date).as_str(), slug.as_str()),
            ("2018-05-09T00:00:00+09:00", "x")
        );
        assert_eq!(file_name_date("2025-12-24", &seoul()), None);
        // Ruby's reading: two-digit years, a day past the month's end.
        let date = |stem| {
            file_name_date(stem, &seoul())
                .unwrap()
                .map(|(d, _)| rfc3339(&d))
        };
        assert_eq!(date("18-05-09-x"), Ok("2018-05-09T00:00:00+09:00".into()));
        assert_eq!(date("99-05-09-x"), Ok("1999-05-09T00:00:00+09:00".into()));
        assert_eq!(date("2025-02-30-x"), Ok("2025-03-02T00:00:00+09:00".into()));
        assert_eq!(date("2025-13-01-x"), Err("2025-13-01".into()));
    }

    #[test]
    fn rss_dates() {
        let date =
            parse_front_matter_date("2025-12-24 23:30:00", DateRule::Jekyll, &seoul()).unwrap();
        assert_eq!(rfc2822(&date), "Thu, 25 Dec 2025 08:30:00 +0900");
    }
}
