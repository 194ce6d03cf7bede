//! Builds a post's URL exactly as Jekyll 4 does: permalink styles, placeholders,
//! "pretty" slugs, lower-cased categories and Jekyll's path escaping.

use std::fmt::Write;

use jiff::ZonedDateTime;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::permalink_style::{placeholders, resolve_name};
use crate::slug::{slugify, slugify_pretty};
use crate::text::unique;

/// The values a permalink template can use.
#[derive(Debug, Clone)]
pub(crate) struct Placeholders<'a> {
    /// The post's date in the site's zone.
    pub date: &'a ZonedDateTime,
    /// The slug from the file name or front matter, not yet slugified.
    pub title: &'a str,
    /// The post's categories as written.
    pub categories: &'a [String],
}

// Jekyll escapes all but unreserved, sub-delims, ':', '@' and '/'.
const PATH_UNSAFE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

// Addressable's `normalize` keeps a path segment's pchar (unreserved,
// sub-delims, ':' and '@') and escapes everything else.
const PCHAR_SYMBOLS: &[u8] = b"-._~!$&'()*+,;=:@";
const NOT_PCHAR: &AsciiSet = &all_but(percent_encoding::NON_ALPHANUMERIC, PCHAR_SYMBOLS);

/// `set` without `bytes`.
const fn all_but(base: &AsciiSet, bytes: &[u8]) -> AsciiSet {
    // `add` copies the set (NUL is in every set this takes already).
    let mut set = base.add(0);
    let mut at = 0;
    while at < bytes.len() {
        set = set.remove(bytes[at]);
        at += 1;
    }
    set
}

// A query keeps '/' and '?' too, but escapes '&' and ';' inside a pair.
const NOT_QUERY: &AsciiSet = &NOT_PCHAR.remove(b'/').remove(b'?').add(b'&').add(b';');
const NOT_FRAGMENT: &AsciiSet = &NOT_PCHAR.remove(b'/').remove(b'?');

/// A site-relative URL (`/2025/12/24/kv深入：显存.html`) as Jekyll's
/// `absolute_url` writes it after the site's address: Addressable's
/// `normalize`, which decodes each part, folds it to Unicode NFKC (so
/// full-width `：` is `:` and `？` is an escaped `?`) and escapes what a
/// path may not hold (`/csp/Data compression` is `/csp/Data%20compression`).
/// An ASCII URL that needs none of that is returned as it is.
pub(crate) fn absolute_path(url: &str) -> String {
    if is_plain(url) {
        return url.to_string();
    }
    let (rest, fragment) = match url.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (url, None),
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let mut out = path
        .split('/')
        .map(|segment| normalize_component(segment, NOT_PCHAR))
        .collect::<Vec<_>>()
        .join("/");
    // Addressable drops an empty query or fragment.
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| normalize_component(pair, NOT_QUERY))
            .collect();
        out.push_str(&pairs.join("&"));
    }
    if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
        out.push('#');
        out.push_str(&normalize_component(fragment, NOT_FRAGMENT));
    }
    out
}

/// Whether [`absolute_path`] returns `url` as it is: ASCII that needs
/// no escaping or folding.
pub(crate) fn is_plain(url: &str) -> bool {
    url.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'/' || PCHAR_SYMBOLS.contains(&b))
}

/// Addressable's `normalize_component`: decode, NFKC, escape what `unsafe` names.
fn normalize_component(text: &str, unsafe_bytes: &'static AsciiSet) -> String {
    use unicode_normalization::UnicodeNormalization;
    let decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
    let folded: String = decoded.nfkc().collect();
    utf8_percent_encode(&folded, unsafe_bytes).to_string()
}

/// The site-relative URL path (`/2025/12/25/daily-papers.html`) for `template`.
pub(crate) fn url_path(template: &str, values: &Placeholders<'_>) -> String {
    let mut filled = String::with_capacity(template.len() + 32);
    let mut copied = 0;
    for (span, raw) in placeholders(template) {
        filled.push_str(&template[copied..span.start]);
        match resolve_name(raw) {
            Some(name) => {
                match number_of(name, values.date) {
                    // Digits need no escaping.
                    Some((number, width)) => {
                        let _ = write!(filled, "{number:0width$}");
                    }
                    // Nothing in it to escape.
                    None if name == "output_ext" => filled.push_str(".html"),
                    None => {
                        filled.extend(utf8_percent_encode(&value_of(name, values), PATH_UNSAFE));
                    }
                }
                if name != raw {
                    filled.push('_');
                }
            }
            None => filled.push_str(&template[span.clone()]),
        }
        copied = span.end;
    }
    filled.push_str(&template[copied..]);
    sanitize(&filled)
}

/// The value of a numeric placeholder and the digits it is padded to, as
/// [`value_of`] writes it (jiff's `%Y`, `%m`, `%-d`...), made without a
/// format string: every post's URL has three of them.
fn number_of(name: &str, date: &ZonedDateTime) -> Option<(i32, usize)> {
    Some(match name {
        // `%Y` pads to four digits; a year outside them is left to jiff.
        "year" => (i32::from(date.year()), 4),
        "month" => (i32::from(date.month()), 2),
        "day" => (i32::from(date.day()), 2),
        "hour" => (i32::from(date.hour()), 2),
        "minute" => (i32::from(date.minute()), 2),
        "second" => (i32::from(date.second()), 2),
        "i_day" => (i32::from(date.day()), 0),
        "i_month" => (i32::from(date.month()), 0),
        _ => return None,
    })
    .filter(|(number, _)| (0..=9999).contains(number))
}

fn value_of(name: &str, values: &Placeholders<'_>) -> String {
    let date = values.date;
    let format = |spec: &str| jiff::fmt::strtime::format(spec, date).unwrap_or_default();
    match name {
        "year" => format("%Y"),
        "month" => format("%m"),
        "day" => format("%d"),
        "hour" => format("%H"),
        "minute" => format("%M"),
        "second" => format("%S"),
        "i_day" => format("%-d"),
        "i_month" => format("%-m"),
        "short_month" => format("%b"),
        "long_month" => format("%B"),
        "short_year" => format("%y"),
        "w_year" => format("%G"),
        "week" => format("%V"),
        "w_day" => format("%u"),
        "short_day" => format("%a"),
        "long_day" => format("%A"),
        "y_day" => format("%j"),
        "title" | "name" => slugify_pretty(values.title),
        "slug" => slugify(values.title),
        "categories" => unique(values.categories.iter().map(|c| c.to_lowercase())).join("/"),
        "slugified_categories" => unique(values.categories.iter().map(|c| slugify(c))).join("/"),
        "output_ext" => ".html".to_string(),
        _ => String::new(),
    }
}

// Jekyll's URL#sanitize_url: a leading '/', no "..", no "./", no "//".
fn sanitize(path: &str) -> String {
    // The usual URL has no ".." or "./" to replace (and, with its
    // categories, no "//" to fold): it is left as it is.
    let joined = if path.contains("..") || path.contains("./") {
        format!("/{path}").replace("..", "/").replace("./", "")
    } else if path.starts_with('/') {
        path.to_string()
    } else {
        let mut joined = String::with_capacity(path.len() + 1);
        joined.push('/');
        joined.push_str(path);
        joined
    };
    if !joined.contains("//") {
        return joined;
    }
    let mut out = String::with_capacity(joined.len());
    for c in joined.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permalink_style::expand_style;
    use jiff::tz::TimeZone;
    use regex::Regex;

    fn date() -> ZonedDateTime {
        jiff::civil::date(2025, 12, 24)
            .at(8, 15, 0, 0)
            .to_zoned_datetime(TimeZone::get("Asia/Seoul").unwrap())
            .unwrap()
    }

    fn path(template: &str, title: &str, categories: &[&str]) -> String {
        let categories: Vec<String> = categories
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        url_path(
            template,
            &Placeholders {
                date: &date(),
                title,
                categories: &categories,
            },
        )
    }

    // Expectations are what Jekyll 4.3.1 built for the same posts.
    #[test]
    fn numbers_are_written_as_jiffs_format_writes_them() {
        let zone = TimeZone::get("Asia/Seoul").unwrap();
        for (year, month, day, hour) in [
            (2025, 12, 24, 8),
            (1, 1, 2, 0),
            (999, 2, 9, 23),
            (9999, 12, 30, 23),
        ] {
            let date = jiff::civil::date(year, month, day)
                .at(hour, 5, 9, 0)
                .to_zoned_datetime(zone.clone())
                .unwrap();
            let values = Placeholders {
                date: &date,
                title: "x",
                categories: &[],
            };
            for name in [
                "year", "month", "day", "hour", "minute", "second", "i_day", "i_month",
            ] {
                let (number, width) = number_of(name, &date).unwrap();
                assert_eq!(
                    format!("{number:0width$}"),
                    value_of(name, &values),
                    "{name} of {date}"
                );
            }
        }
    }

    #[test]
    fn jekyll_default_pattern() {
        let default = crate::permalink_style::DEFAULT_PERMALINK;
        assert_eq!(
            path(default, "daily-papers", &[]),
            "/2025/12/24/daily-papers.html"
        );
        assert_eq!(
            path(default, "x", &["Foo", "bar", "FOO", "Hello World"]),
            "/foo/bar/hello%20world/2025/12/24/x.html"
        );
        assert_eq!(
            path(default, "x", &["Foo Bar"]),
            "/foo%20bar/2025/12/24/x.html"
        );
        assert_eq!(
            path(default, "Hello World! é 한글 (x)", &[]),
            "/2025/12/24/Hello-World!-%C3%A9-%ED%95%9C%EA%B8%80-(x).html"
        );
        assert_eq!(
            path(default, "My Custom_Slug!!", &[]),
            "/2025/12/24/My-Custom_Slug!!.html"
        );
    }

    #[test]
    fn styles_and_placeholders() {
        assert_eq!(
            path(&expand_style("pretty").unwrap(), "a", &["X"]),
            "/x/2025/12/24/a/"
        );
        assert_eq!(
            path(&expand_style("ordinal").unwrap(), "a", &[]),
            "/2025/358/a.html"
        );
        assert_eq!(
            path("/:year/:i_month/:i_day/:slug/", "Big Day", &[]),
            "/2025/12/24/big-day/"
        );
        assert!(
            expand_style("/:year/:nope/")
                .unwrap_err()
                .contains("`:nope`")
        );
    }

    #[test]
    fn placeholders_are_read_as_the_regex_read_them() {
        let regex = Regex::new(r":([a-z_]+)").unwrap();
        for template in [
            "/:a::year/x:/:title_:Up/:",
            "",
            ":",
            "::",
            "/:categories/:year/:title:output_ext",
        ] {
            let by_regex: Vec<_> = regex
                .captures_iter(template)
                .map(|c| (c.get(0).unwrap().range(), c.get(1).unwrap().as_str()))
                .collect();
            assert_eq!(
                placeholders(template).collect::<Vec<_>>(),
                by_regex,
                "{template:?}"
            );
        }
        assert_eq!(
            placeholders("/:a::year/x:/:title_:Up/:").collect::<Vec<_>>(),
            vec![(1..3, "a"), (4..9, "year"), (13..20, "title_")]
        );
    }

    // Each is what Jekyll 4.3's `absolute_url` (Addressable 2.8.1's
    // `normalize`) gave for the same path.
    #[test]
    fn absolute_urls_are_addressables() {
        for (path, jekyll) in [
            ("/2025/12/24/a.html", "/2025/12/24/a.html"),
            ("/csp/Data compression", "/csp/Data%20compression"),
            (
                "/llm/llm-067-kv-cache深入：显存与速度的平衡",
                "/llm/llm-067-kv-cache%E6%B7%B1%E5%85%A5:%E6%98%BE%E5%AD%98%E4%B8%8E%E9%80%9F%E5%BA%A6%E7%9A%84%E5%B9%B3%E8%A1%A1",
            ),
            ("/a%EF%BC%9Ab", "/a:b"),
            ("/x，y（z）？", "/x,y(z)%3F"),
            ("/a%20b/", "/a%20b/"),
            ("/c#", "/c"),
            ("/what?", "/what"),
            ("/50%", "/50%25"),
            ("/é", "/%C3%A9"),
            ("/e\u{301}", "/%C3%A9"),
            (
                "/a[b]|c^d`e{f}\"g<h>",
                "/a%5Bb%5D%7Cc%5Ed%60e%7Bf%7D%22g%3Ch%3E",
            ),
            ("/q?a=b c&d;e", "/q?a=b%20c&d%3Be"),
            ("/f#frag ment?x", "/f#frag%20ment?x"),
            ("/%7Ex~", "/~x~"),
        ] {
            assert_eq!(absolute_path(path), jekyll, "{path}");
        }
    }

    #[test]
    fn sanitizes_like_jekyll() {
        assert_eq!(sanitize("a//b/../c"), "/a/b/c");
        for path in [
            "/a/b.html",
            "a/b",
            "",
            "/",
            "//a",
            "a/./b",
            "./a",
            "a..b",
            "/a/b/",
        ] {
            let slow = format!("/{path}").replace("..", "/").replace("./", "");
            let mut folded = String::new();
            for c in slow.chars() {
                if !(c == '/' && folded.ends_with('/')) {
                    folded.push(c);
                }
            }
            assert_eq!(sanitize(path), folded, "{path:?}");
        }
    }
}
