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
/// quadratic: a 1 MB table in a post took minutes per message. A lone CR
/// (a file saved with old Mac line ends, a stray one in a template) ends a
/// line too: left alone it would be a bare CR in the message, which RFC
/// 5322 forbids and which DKIM verifiers read otherwise than mail-auth's
/// relaxed canonicalisation (it drops one), failing the body hash.
pub(crate) fn crlf(text: String) -> String {
    // Two searches for one byte each (memchr's), not one for either: this
    // runs on every message's bodies, nearly all already CRLF throughout.
    let bytes = text.as_bytes();
    let bare = text
        .match_indices('\n')
        .any(|(at, _)| at == 0 || bytes[at - 1] != b'\r')
        || text
            .match_indices('\r')
            .any(|(at, _)| bytes.get(at + 1) != Some(&b'\n'));
    if !bare {
        return text;
    }
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut rest = text.as_str();
    while let Some(at) = rest.find(['\r', '\n']) {
        out.push_str(&rest[..at]);
        out.push_str("\r\n");
        let end = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[at + end..];
    }
    out.push_str(rest);
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
    #[test]
    fn every_line_end_becomes_crlf_and_crlf_stays() {
        assert_eq!(
            crlf("a\nb\r\nc\rd\r\r\ne\n\rf".into()),
            "a\r\nb\r\nc\r\nd\r\n\r\ne\r\n\r\nf"
        );
        assert_eq!(crlf("\r".into()), "\r\n");
        assert_eq!(crlf("\n".into()), "\r\n");
        assert_eq!(crlf("x\r".into()), "x\r\n");
        assert_eq!(crlf("already\r\nfine\r\n".into()), "already\r\nfine\r\n");
        assert_eq!(crlf("가\r나".into()), "가\r\n나");
    }

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
