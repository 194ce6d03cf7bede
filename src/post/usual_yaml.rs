//! A reader for the usual shape of front matter: `key: value` lines, plain
//! or quoted scalars on one line, flow lists of words, block lists of
//! scalars or of small `key: value` groups, blank lines and whole-line
//! comments. Nearly every post is written so, and reading it here costs a
//! small part of what a full YAML parser costs for the same text.
//!
//! It is a `serde::Deserializer`, so the very visitors that read the full
//! parser's output read this one's, and the two cannot drift apart on what
//! a value means. It never reports an error of its own: anything outside
//! the shape, or any value whose meaning it has not been shown to resolve
//! exactly as the full parser does, is [`Unusual`], and the caller reads
//! the whole text with the full parser instead, whose result (and error
//! message) stands. What is "shown" is what the front matter's differential
//! test compares, over every real post and a long list of tricky values.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The text is not in the usual shape (or a visitor refused a value):
/// read it with the full parser, whose answer is the one that counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unusual;

impl fmt::Display for Unusual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not the usual shape of front matter")
    }
}

impl std::error::Error for Unusual {}

impl de::Error for Unusual {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Unusual
    }
}

/// A value of the usual shape, borrowed from the text where it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node<'t> {
    /// A plain scalar on one line, as written (trailing spaces cut); empty
    /// for a key with no value.
    Plain(&'t str),
    /// A single- or double-quoted scalar on one line: always a string.
    Quoted(Cow<'t, str>),
    /// A flow list `[a, b]` or a block list of `- item` lines.
    Seq(Vec<Node<'t>>),
    /// `key: value` lines, keys plain words.
    Map(Vec<(&'t str, Node<'t>)>),
}

/// Past this size the full parser's budgets (nodes, events, scalar bytes)
/// could start to refuse what this reader would take: leave it to them.
const MAX_TEXT: usize = 64 * 1024;
/// Nesting deeper than this is not the usual shape.
const MAX_DEPTH: usize = 8;
/// A key longer than this is not a usual key (YAML caps a simple key at 1024).
const MAX_KEY: usize = 64;

/// `text` as a mapping of the usual shape, or `None` when it is anything else.
pub(crate) fn document(text: &str) -> Option<Node<'_>> {
    if text.len() > MAX_TEXT || !has_usual_chars(text) {
        return None;
    }
    let mut lines = Lines { text, at: 0 };
    let entries = lines.block_map(0, None, 0).ok()?;
    // A map at column 0 stops only at the end (anything else is `Unusual`).
    lines.peek().is_none().then_some(Node::Map(entries))
}

/// Whether every character is one each scalar style takes as itself: no
/// tab (a YAML separator with rules of its own), no carriage return or
/// other line break but `\n`, no control (C0, DEL, C1) or non-printable
/// character, no byte order mark. Looked at byte by byte: in UTF-8 the C1
/// controls are `C2 80`..`C2 9F`, U+2028/2029 `E2 80 A8`/`A9`, the byte
/// order mark `EF BB BF`, U+FFFE/FFFF `EF BF BE`/`BF`.
fn has_usual_chars(text: &str) -> bool {
    let bytes = text.as_bytes();
    // First without a branch a byte, which the compiler can widen: a C0
    // control or DEL, and whether any byte leads one of those sequences.
    let (mut control, mut lead) = (false, false);
    for &b in bytes {
        control |= matches!(b, 0..=0x09 | 0x0B..=0x1F | 0x7F);
        lead |= matches!(b, 0xC2 | 0xE2 | 0xEF);
    }
    if control {
        return false;
    }
    !lead
        || bytes.iter().enumerate().all(|(i, &b)| match b {
            0xC2 => !matches!(bytes.get(i + 1), Some(0x80..=0x9F)),
            0xE2 => !matches!(bytes.get(i + 1..i + 3), Some([0x80, 0xA8 | 0xA9])),
            0xEF => !matches!(
                bytes.get(i + 1..i + 3),
                Some([0xBB, 0xBF] | [0xBF, 0xBE | 0xBF])
            ),
            _ => true,
        })
}

/// A line holding something: its indentation and what follows it.
#[derive(Clone, Copy)]
struct Line<'t> {
    indent: usize,
    /// The line after its indentation, without its line break.
    content: &'t str,
    /// Where the next line starts.
    end: usize,
}

/// The text, read line by line.
struct Lines<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Lines<'t> {
    /// The next line that holds something (not blank, not a whole-line
    /// comment), left unread.
    fn peek(&self) -> Option<Line<'t>> {
        let mut at = self.at;
        while at < self.text.len() {
            let rest = &self.text[at..];
            let (line, end) = rest
                .find('\n')
                .map_or((rest, self.text.len()), |i| (&rest[..i], at + i + 1));
            let indent = line.bytes().take_while(|&b| b == b' ').count();
            // Blank (only spaces), or a whole-line comment.
            let content = &line[indent..];
            if !(content.is_empty() || content.starts_with('#')) {
                return Some(Line {
                    indent,
                    content,
                    end,
                });
            }
            at = end;
        }
        None
    }

    /// The `key: value` lines at `indent`; `first` is the content of a
    /// first one already read (`- key: value` of a list item).
    fn block_map(
        &mut self,
        indent: usize,
        mut first: Option<&'t str>,
        depth: usize,
    ) -> Result<Vec<(&'t str, Node<'t>)>, Unusual> {
        // Room for the keys of a usual post without growing.
        let mut entries = Vec::with_capacity(if depth == 0 { 8 } else { 2 });
        loop {
            let content = match first.take() {
                Some(content) => content,
                None => match self.peek() {
                    Some(line) if line.indent == indent => {
                        self.at = line.end;
                        line.content
                    }
                    Some(line) if line.indent > indent => return Err(Unusual),
                    _ => break,
                },
            };
            let (key, rest) = key_line(content).ok_or(Unusual)?;
            let value = self.value(indent, rest, depth)?;
            entries.push((key, value));
        }
        Ok(entries)
    }

    /// The value of a key at `indent`, `rest` what follows its colon.
    fn value(&mut self, indent: usize, rest: &'t str, depth: usize) -> Result<Node<'t>, Unusual> {
        let rest = rest.trim_matches(' ');
        if !rest.is_empty() {
            return inline(rest);
        }
        match self.peek() {
            Some(line) if line.indent > indent => {
                if depth >= MAX_DEPTH {
                    return Err(Unusual);
                }
                if is_item(line.content) {
                    self.block_seq(line.indent, depth + 1).map(Node::Seq)
                } else {
                    self.block_map(line.indent, None, depth + 1).map(Node::Map)
                }
            }
            // `key:` then `- item` lines at the key's own column (only at the top).
            Some(line) if indent == 0 && line.indent == 0 && is_item(line.content) => {
                self.block_seq(0, depth + 1).map(Node::Seq)
            }
            _ => Ok(Node::Plain("")),
        }
    }

    /// The `- item` lines at `indent`.
    fn block_seq(&mut self, indent: usize, depth: usize) -> Result<Vec<Node<'t>>, Unusual> {
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent < indent || (line.indent == indent && !is_item(line.content)) {
                break;
            }
            if line.indent > indent {
                return Err(Unusual);
            }
            self.at = line.end;
            let after = &line.content[1..];
            let item = after.trim_matches(' ');
            if item.is_empty() {
                return Err(Unusual);
            }
            if key_line(item).is_some() {
                // `- key: value`, more `key: value` lines under it, two further in.
                if after.len() - after.trim_start_matches(' ').len() != 1 || depth >= MAX_DEPTH {
                    return Err(Unusual);
                }
                let map = self.block_map(indent + 2, Some(item), depth + 1)?;
                items.push(Node::Map(map));
            } else {
                items.push(inline(item)?);
            }
        }
        Ok(items)
    }
}

/// Whether a line's content starts a list item (`- x`, or a bare `-`).
fn is_item(content: &str) -> bool {
    content
        .strip_prefix('-')
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

/// `key: rest` (or `key:`) with a plain word for a key; `None` for any
/// other line. A key that YAML reads as null is not a usual key.
fn key_line(content: &str) -> Option<(&str, &str)> {
    let bytes = content.as_bytes();
    if !bytes.first()?.is_ascii_alphabetic() && bytes[0] != b'_' {
        return None;
    }
    let len = bytes
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        .unwrap_or(bytes.len());
    let key = &content[..len];
    let rest = content[len..].strip_prefix(':')?;
    let usual = len <= MAX_KEY
        && (rest.is_empty() || rest.starts_with(' '))
        && !matches!(key, "null" | "Null" | "NULL");
    usual.then_some((key, rest))
}

/// A value written on its key's line (or an item's), trimmed of spaces.
fn inline(text: &str) -> Result<Node<'_>, Unusual> {
    match text.as_bytes()[0] {
        b'"' | b'\'' => match quoted(text)? {
            (value, "") => Ok(Node::Quoted(value)),
            _ => Err(Unusual),
        },
        b'[' => flow_seq(&text[1..]),
        _ => plain(text),
    }
}

/// A plain scalar in a block: not starting with an indicator, holding no
/// `: ` (a mapping) and no ` #` (a comment), not ending with a colon.
fn plain(text: &str) -> Result<Node<'_>, Unusual> {
    let bytes = text.as_bytes();
    if b"-?:,[]{}#&*!|>'\"%@`".contains(&bytes[0]) {
        return Err(Unusual);
    }
    // One pass for `: `, a colon at the end, and ` #`.
    let usual = bytes.iter().enumerate().all(|(i, &b)| match b {
        b':' => bytes.get(i + 1).is_some_and(|&next| next != b' '),
        b'#' => i > 0 && bytes[i - 1] != b' ',
        _ => true,
    });
    if usual {
        Ok(Node::Plain(text))
    } else {
        Err(Unusual)
    }
}

/// A quoted scalar at the start of `text` and what follows it. A double-
/// quoted one has no backslash (no escapes to read); a single-quoted one
/// reads `''` as `'`. Both end on the line.
fn quoted(text: &str) -> Result<(Cow<'_, str>, &str), Unusual> {
    let inner = &text[1..];
    if text.starts_with('"') {
        let close = inner
            .bytes()
            .position(|b| b == b'"' || b == b'\\')
            .ok_or(Unusual)?;
        if inner.as_bytes()[close] == b'\\' {
            return Err(Unusual);
        }
        return Ok((Cow::Borrowed(&inner[..close]), &inner[close + 1..]));
    }
    let mut from = 0;
    let mut doubled = false;
    loop {
        let close = from + inner[from..].find('\'').ok_or(Unusual)?;
        if inner[close + 1..].starts_with('\'') {
            doubled = true;
            from = close + 2;
            continue;
        }
        let value = &inner[..close];
        let value = if doubled {
            Cow::Owned(value.replace("''", "'"))
        } else {
            Cow::Borrowed(value)
        };
        return Ok((value, &inner[close + 1..]));
    }
}

/// A flow list of scalars, `text` after its `[`: plain words (no flow
/// indicator, colon, quote or comment in them) or quoted scalars, between
/// commas, with nothing after the `]`.
fn flow_seq(text: &str) -> Result<Node<'_>, Unusual> {
    let mut items = Vec::new();
    let mut rest = text.trim_start_matches(' ');
    if let Some(after) = rest.strip_prefix(']') {
        return if after.is_empty() {
            Ok(Node::Seq(items))
        } else {
            Err(Unusual)
        };
    }
    loop {
        rest = rest.trim_start_matches(' ');
        let after = if rest.starts_with(['"', '\'']) {
            let (value, after) = quoted(rest)?;
            items.push(Node::Quoted(value));
            after
        } else {
            // One pass to the word's end, refusing what is not a plain word.
            let bytes = rest.as_bytes();
            let mut end = 0;
            loop {
                match bytes.get(end) {
                    Some(b',' | b']') => break,
                    Some(b'[' | b'{' | b'}' | b':' | b'"' | b'\'') | None => return Err(Unusual),
                    Some(b'#') if end == 0 || bytes[end - 1] == b' ' => return Err(Unusual),
                    Some(_) => end += 1,
                }
            }
            let word = rest[..end].trim_end_matches(' ');
            if word
                .as_bytes()
                .first()
                .is_none_or(|first| b"-?:,[]{}#&*!|>'\"%@`".contains(first))
            {
                return Err(Unusual);
            }
            items.push(Node::Plain(word));
            &rest[end..]
        };
        let after = after.trim_start_matches(' ');
        if let Some(next) = after.strip_prefix(',') {
            rest = next;
        } else if after == "]" {
            return Ok(Node::Seq(items));
        } else {
            return Err(Unusual);
        }
    }
}

/// What a plain scalar means where any value may stand, as the full
/// parser resolves it (YAML 1.1: null, booleans, integers, floats, else a
/// string), for the texts whose meaning is certain; `None` for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolved<'t> {
    Null,
    Bool(bool),
    Int(u64),
    Text(&'t str),
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// YAML 1.1's booleans, in any letter case.
fn boolean(text: &str) -> Option<bool> {
    let is = |words: [&str; 4]| words.iter().any(|word| text.eq_ignore_ascii_case(word));
    if is(["true", "yes", "y", "on"]) {
        Some(true)
    } else if is(["false", "no", "n", "off"]) {
        Some(false)
    } else {
        None
    }
}

/// Why each is certain: an integer (in any base) holds only a sign, digits,
/// `_`, a base's `0x`/`0o`/`0b` and hex digits, all starting with a sign or
/// a digit; a float holds only those and one `.`, `e`, a sign after it,
/// and the letters of `inf`/`nan`, which without a leading digit stay
/// text. So a text that starts with a letter or any non-ASCII character,
/// or holds a character outside `[0-9A-Za-z+._-]`, two dots (`1.0.0`), or
/// a sign neither first nor after an `e` (`2025-12-24`), is text once it
/// is no null and no boolean. Plain decimal digits without a leading zero
/// are an integer when they fit.
fn resolve(text: &str) -> Option<Resolved<'_>> {
    if is_null(text) {
        return Some(Resolved::Null);
    }
    if let Some(value) = boolean(text) {
        return Some(Resolved::Bool(value));
    }
    let bytes = text.as_bytes();
    let first = bytes[0];
    let numeric = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'_' | b'-');
    if first.is_ascii_alphabetic() || !first.is_ascii() || !bytes.iter().all(numeric) {
        return Some(Resolved::Text(text));
    }
    if bytes.iter().all(u8::is_ascii_digit) && (first != b'0' || bytes.len() == 1) {
        return text.parse().ok().map(Resolved::Int);
    }
    let two_dots = text
        .find('.')
        .is_some_and(|first| text[first + 1..].contains('.'));
    let inner_sign = bytes
        .windows(2)
        .any(|pair| matches!(pair[1], b'+' | b'-') && !matches!(pair[0], b'e' | b'E'));
    (two_dots || inner_sign).then_some(Resolved::Text(text))
}

/// Requests no front matter visitor makes: left to the full parser.
macro_rules! unusual {
    ($($name:ident($($arg:ty),*))*) => {
        $(fn $name<V: Visitor<'t>>(self, $(_: $arg,)* _: V) -> Result<V::Value, Unusual> {
            Err(Unusual)
        })*
    };
}

/// Each method gives the visitor what the full parser gives for the same
/// request, or [`Unusual`] where that is not certain.
impl<'t> Deserializer<'t> for Node<'t> {
    type Error = Unusual;

    fn deserialize_any<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Unusual> {
        match self {
            Node::Plain(text) => match resolve(text).ok_or(Unusual)? {
                Resolved::Null => visitor.visit_unit(),
                Resolved::Bool(value) => visitor.visit_bool(value),
                Resolved::Int(value) => visitor.visit_u64(value),
                Resolved::Text(text) => visitor.visit_borrowed_str(text),
            },
            Node::Quoted(Cow::Borrowed(text)) => visitor.visit_borrowed_str(text),
            Node::Quoted(Cow::Owned(text)) => visitor.visit_string(text),
            Node::Seq(items) => visitor.visit_seq(Items(items.into_iter())),
            Node::Map(entries) => visitor.visit_map(Entries {
                entries: entries.into_iter(),
                value: None,
            }),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Unusual> {
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Unusual> {
        match self {
            Node::Plain(text) if is_null(text) => visitor.visit_none(),
            node => visitor.visit_some(node),
        }
    }

    /// Any plain scalar but a null is its text, whatever it looks like.
    fn deserialize_str<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Unusual> {
        match self {
            Node::Plain(text) if !is_null(text) => visitor.visit_borrowed_str(text),
            Node::Quoted(Cow::Borrowed(text)) => visitor.visit_borrowed_str(text),
            Node::Quoted(Cow::Owned(text)) => visitor.visit_string(text),
            _ => Err(Unusual),
        }
    }

    fn deserialize_string<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Unusual> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bool<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Unusual> {
        match self {
            Node::Plain(text) => visitor.visit_bool(boolean(text).ok_or(Unusual)?),
            _ => Err(Unusual),
        }
    }

    fn deserialize_map<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Unusual> {
        match self {
            Node::Map(_) => self.deserialize_any(visitor),
            _ => Err(Unusual),
        }
    }

    fn deserialize_seq<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Unusual> {
        match self {
            Node::Seq(_) => self.deserialize_any(visitor),
            _ => Err(Unusual),
        }
    }

    unusual! {
        deserialize_i8() deserialize_i16() deserialize_i32() deserialize_i64()
        deserialize_i128() deserialize_u8() deserialize_u16() deserialize_u32()
        deserialize_u64() deserialize_u128() deserialize_f32() deserialize_f64()
        deserialize_char() deserialize_bytes() deserialize_byte_buf() deserialize_unit()
        deserialize_identifier() deserialize_unit_struct(&'static str)
        deserialize_newtype_struct(&'static str) deserialize_tuple(usize)
        deserialize_tuple_struct(&'static str, usize)
        deserialize_struct(&'static str, &'static [&'static str])
        deserialize_enum(&'static str, &'static [&'static str])
    }
}

/// A list's items, handed out in turn.
struct Items<'t>(std::vec::IntoIter<Node<'t>>);

impl<'t> SeqAccess<'t> for Items<'t> {
    type Error = Unusual;

    fn next_element_seed<T: DeserializeSeed<'t>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Unusual> {
        self.0.next().map(|item| seed.deserialize(item)).transpose()
    }
}

/// A mapping's entries, handed out in turn: a key, then its value.
struct Entries<'t> {
    entries: std::vec::IntoIter<(&'t str, Node<'t>)>,
    value: Option<Node<'t>>,
}

impl<'t> MapAccess<'t> for Entries<'t> {
    type Error = Unusual;

    fn next_key_seed<K: DeserializeSeed<'t>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Unusual> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(Node::Plain(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'t>>(&mut self, seed: V) -> Result<V::Value, Unusual> {
        seed.deserialize(self.value.take().ok_or(Unusual)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_shape() {
        let text = "layout: post\ntitle: \"Daily — #1\"\n# a comment\n\ntags: [a, 'b''s', \"c d\"]\nlist:\n- x\n  # inside\n- y\nlinks:\n  - url: https://a.example/x\n    title: 'T'\n  - url: b\ndate: 2025-12-24 08:15:00 +0900\n";
        let Some(Node::Map(entries)) = document(text) else {
            panic!("not read");
        };
        let keys: Vec<_> = entries.iter().map(|(key, _)| *key).collect();
        assert_eq!(keys, ["layout", "title", "tags", "list", "links", "date"]);
        assert_eq!(entries[1].1, Node::Quoted("Daily — #1".into()));
        assert_eq!(
            entries[2].1,
            Node::Seq(vec![
                Node::Plain("a"),
                Node::Quoted("b's".into()),
                Node::Quoted("c d".into())
            ])
        );
        assert_eq!(
            entries[3].1,
            Node::Seq(vec![Node::Plain("x"), Node::Plain("y")])
        );
        assert_eq!(
            entries[4].1,
            Node::Seq(vec![
                Node::Map(vec![
                    ("url", Node::Plain("https://a.example/x")),
                    ("title", Node::Quoted("T".into()))
                ]),
                Node::Map(vec![("url", Node::Plain("b"))]),
            ])
        );
        assert_eq!(entries[5].1, Node::Plain("2025-12-24 08:15:00 +0900"));
    }

    #[test]
    fn anything_else_is_left_to_the_full_parser() {
        for text in [
            "title: a # comment\n",
            "title: a: b\n",
            "title: &x a\n",
            "title: *x\n",
            "title: !tag a\n",
            "title: |\n  a\n",
            "title: >\n  a\n",
            "title: {a: b}\n",
            "title:\tx\n",
            "title: a\n  continued\n",
            "\"title\": x\n",
            "title: 'open\n",
            "title: \"a\\\"b\"\n",
            "? title\n: x\n",
            "%YAML 1.1\n---\ntitle: x\n",
            "<<: {a: b}\n",
            "\u{FEFF}title: x\n",
            "title: x\r\n",
            " title: x\n",
            "null: x\n",
            "tags:\n  - a\n - b\n",
            "tags: [a, , b]\n",
            "tags: [a: b]\n",
            "tags: [a] b\n",
            "tags:\n  -\n",
            "title: \"a\" b\n",
        ] {
            assert_eq!(document(text), None, "{text:?}");
        }
    }

    #[test]
    fn usual_characters_are_the_printable_ones_but_tab() {
        let mut buffer = [0; 4];
        for c in (0..=0x0010_FFFF).filter_map(char::from_u32) {
            let usual = c == '\n'
                || !(c.is_control()
                    || matches!(
                        c,
                        '\u{FEFF}' | '\u{2028}' | '\u{2029}' | '\u{FFFE}' | '\u{FFFF}'
                    ));
            assert_eq!(has_usual_chars(c.encode_utf8(&mut buffer)), usual, "{c:?}");
        }
    }

    #[test]
    fn only_certain_scalars_are_resolved() {
        assert_eq!(resolve("~"), Some(Resolved::Null));
        assert_eq!(resolve("Off"), Some(Resolved::Bool(false)));
        assert_eq!(resolve("2025"), Some(Resolved::Int(2025)));
        assert_eq!(resolve("2025-12-24"), Some(Resolved::Text("2025-12-24")));
        assert_eq!(resolve("1.5 GB"), Some(Resolved::Text("1.5 GB")));
        assert_eq!(resolve("nan"), Some(Resolved::Text("nan")));
        assert_eq!(resolve("1.0.0"), Some(Resolved::Text("1.0.0")));
        assert_eq!(resolve("1-2"), Some(Resolved::Text("1-2")));
        for unsure in [
            "1.5",
            ".inf",
            "0x1F",
            "012",
            "1_000",
            "-3",
            "+3",
            "1e5",
            "1e-5",
            "99999999999999999999",
        ] {
            assert_eq!(resolve(unsure), None, "{unsure}");
        }
    }
}
