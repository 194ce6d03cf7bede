//! Small rules about text that several stages share, kept once: white space
//! folded onto one line, repeats dropped, the UTF-8 byte order mark, and a
//! byte count as people read it. A leaf: it imports nothing of the crate.

/// The UTF-8 byte order mark some editors put first in a file.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Runs of white space (line breaks included) as one space, none at either
/// end: a title or name that can never start a second header line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` with every line ending CRLF, in one pass. lettre makes a body's
/// line endings CRLF itself, but by inserting each `\r` in place, which is
/// quadratic: a 1 MB table in a post took minutes per message.
pub(crate) fn crlf(text: String) -> String {
    // Line by line (the search for `\n` is memchr's), copying whole lines:
    // this runs on every message's two bodies.
    let bare = text
        .match_indices('\n')
        .any(|(at, _)| at == 0 || text.as_bytes()[at - 1] != b'\r');
    if !bare {
        return text;
    }
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut line_start = 0;
    for (at, _) in text.match_indices('\n') {
        let line = &text[line_start..at];
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
        out.push_str("\r\n");
        line_start = at + 1;
    }
    out.push_str(&text[line_start..]);
    out
}

/// The items in their first-seen order, each once.
pub(crate) fn unique(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// `1 subscriber`, `2 subscribers`: a count and its noun, in the right number.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `512 B`, `30.8 KB`, `1.5 MB` (binary units, as the mail clients that clip count).
pub(crate) fn size(bytes: usize) -> String {
    const KIB: usize = 1024;
    // Lossy above 2^52 bytes, far beyond any message.
    #[allow(clippy::cast_precision_loss)]
    let exact = bytes as f64;
    match bytes {
        b if b < KIB => format!("{bytes} B"),
        b if b < KIB * KIB => format!("{:.1} KB", exact / 1024.0),
        _ => format!("{:.1} MB", exact / (1024.0 * 1024.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(31_539), "30.8 KB");
        assert_eq!(size(3 * 1024 * 1024 / 2), "1.5 MB");
    }

    #[test]
    fn counts() {
        assert_eq!(count(1, "post"), "1 post");
        assert_eq!(count(0, "message"), "0 messages");
        assert_eq!(count(3, "recipient"), "3 recipients");
    }

    #[test]
    fn line_endings_become_crlf() {
        assert_eq!(crlf("a\nb\r\nc\n\n".into()), "a\r\nb\r\nc\r\n\r\n");
        assert_eq!(crlf("\nx".into()), "\r\nx");
        assert_eq!(crlf("no break".into()), "no break");
    }

    #[test]
    fn folding_and_repeats() {
        assert_eq!(one_line(" a\r\n b\tc "), "a b c");
        let items = ["x", "y", "x"].map(String::from).into_iter();
        assert_eq!(unique(items), ["x", "y"]);
    }
}
