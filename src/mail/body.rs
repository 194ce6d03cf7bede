//! A part's body (the text or the HTML of a post's email) encoded once for
//! every recipient, but for the lines that hold their values.
//!
//! The encoded body is what lettre's `Body::new` makes of the CRLF text,
//! byte for byte (unit tests compare): email-encoding's chooser picks 7bit,
//! quoted-printable or base64 from figures of the whole text, then that
//! encoding runs over it. All three are made of lines:
//! - the chooser's figures are sums over lines (ASCII or not, bytes to
//!   escape) and a maximum (a line of 76 bytes or more);
//! - quoted-printable starts afresh after each CRLF, so the encoding of a
//!   run of whole lines does not depend on what comes before or after;
//! - base64 encodes 57 bytes to a line, so the text up to a multiple of 57
//!   bytes encodes to the same lines whatever follows it.
//!
//! So the text is cut into segments of whole lines: shared ones, the same
//! for every recipient, figured and encoded in every encoding when the post
//! is prepared; and personal ones, the lines that hold a slot, filled,
//! figured and encoded per recipient. Base64 shares the text up to the
//! first personal byte, cut at a 57-byte line; the rest is encoded per
//! recipient (a post's values sit in its footer, so the rest is short).

use std::borrow::Cow;
use std::ops::Range;

use email_encoding::body::Encoding;

use crate::email::{Field, Piece};

/// Bytes base64 encodes to one 76-character line.
const BASE64_LINE: usize = 57;

/// One part's body for every recipient of a post.
#[derive(Debug)]
pub(super) struct SharedBody {
    /// The shared segments' text (CRLF line ends), one after another.
    plain: Vec<u8>,
    /// The shared segments' quoted-printable, one after another.
    quoted: Vec<u8>,
    segments: Vec<Segment>,
    /// The shared segments' figures together.
    shared: Figures,
    /// `plain[..head_len]` in base64: the text before the first personal
    /// segment, cut at a whole base64 line.
    base64_head: String,
    head_len: usize,
}

/// A run of whole lines of the body.
#[derive(Debug)]
enum Segment {
    /// Lines every recipient shares: where they are in `plain` and `quoted`.
    Shared {
        plain: Range<usize>,
        quoted: Range<usize>,
    },
    /// Lines holding a recipient's values: the text and slots they are made
    /// of, from a line's start to a line's end (or the body's).
    Personal(Vec<Hole>),
}

#[derive(Debug)]
enum Hole {
    Text(String),
    Slot(Field),
}

/// What email-encoding's chooser counts in a run of whole lines.
#[derive(Debug, Clone, Copy)]
struct Figures {
    ascii: bool,
    /// Bytes quoted-printable escapes, as the chooser counts them.
    escaped: usize,
    /// A line as long as the chooser finds too long for 7bit.
    too_long: bool,
    len: usize,
}

impl Figures {
    const NONE: Figures = Figures {
        ascii: true,
        escaped: 0,
        too_long: false,
        len: 0,
    };

    /// The figures of `bytes`, whole lines; `at_start` when they begin the
    /// body. The chooser measures a line from the LF before it (so one byte
    /// more than its own), the first line of the body from its start.
    fn of(bytes: &[u8], at_start: bool) -> Figures {
        let mut too_long = false;
        let mut start = 0;
        let mut before = usize::from(!at_start);
        for end in bytes
            .iter()
            .enumerate()
            .filter_map(|(at, &byte)| (byte == b'\n').then_some(at))
        {
            too_long |= end - start + before >= 76;
            start = end + 1;
            before = 1;
        }
        if start < bytes.len() {
            too_long |= bytes.len() - start + before >= 76;
        }
        Figures {
            ascii: bytes.is_ascii(),
            escaped: escaped(bytes),
            too_long,
            len: bytes.len(),
        }
    }

    fn and(self, other: Figures) -> Figures {
        Figures {
            ascii: self.ascii && other.ascii,
            escaped: self.escaped + other.escaped,
            too_long: self.too_long || other.too_long,
            len: self.len + other.len,
        }
    }

    /// email-encoding's choice for a text with these figures (what
    /// `Body::new` asks of it, for mail without SMTPUTF8).
    fn encoding(self) -> Encoding {
        if self.ascii && !self.too_long {
            Encoding::SevenBit
        } else if self.escaped <= self.len / 3 {
            Encoding::QuotedPrintable
        } else {
            Encoding::Base64
        }
    }
}

/// Bytes of `text` quoted-printable escapes, as email-encoding's chooser
/// counts them.
pub(super) fn escaped(text: &[u8]) -> usize {
    text.iter()
        .filter(|&&byte| !matches!(byte, b'\t' | b' '..=b'~'))
        .count()
}

/// One recipient's personal segments, filled (CRLF line ends), and the
/// encoding their body takes.
#[derive(Debug)]
pub(super) struct Filled {
    personal: Vec<Vec<u8>>,
    /// The encoding of the whole body.
    pub(super) encoding: Encoding,
}

impl SharedBody {
    /// The body of `pieces` (the rendered part with its slots).
    pub(super) fn new<'p>(pieces: impl Iterator<Item = Piece<'p>>) -> SharedBody {
        let mut cut = Cutter::default();
        for piece in pieces {
            match piece {
                Piece::Text(text) => cut.text(text),
                Piece::Slot(field) => cut.slot(field),
            }
        }
        cut.end()
    }

    /// The shared text (CRLF), for a boundary made from it: the same for
    /// every recipient, different from post to post.
    pub(super) fn shared_text(&self) -> &[u8] {
        &self.plain
    }

    /// The personal segments filled with `value` (escaped as this part
    /// needs), and the encoding of the body they make.
    pub(super) fn fill<'v>(&self, value: impl Fn(Field) -> Cow<'v, str>) -> Filled {
        let mut figures = self.shared;
        let mut personal = Vec::new();
        for (index, segment) in self.segments.iter().enumerate() {
            let Segment::Personal(holes) = segment else {
                continue;
            };
            let mut text = String::new();
            for hole in holes {
                match hole {
                    Hole::Text(piece) => text.push_str(piece),
                    Hole::Slot(field) => text.push_str(&value(*field)),
                }
            }
            let bytes = crate::text::crlf(text).into_bytes();
            figures = figures.and(Figures::of(&bytes, index == 0));
            personal.push(bytes);
        }
        Filled {
            personal,
            encoding: figures.encoding(),
        }
    }

    /// The start of the encoded body that is the same for every recipient
    /// whose body takes `encoding`: what precedes the first personal
    /// segment (in base64, its whole lines).
    pub(super) fn head(&self, encoding: Encoding) -> &[u8] {
        let leading = self
            .segments
            .iter()
            .map_while(|segment| match segment {
                Segment::Shared { plain, quoted } => Some((plain.end, quoted.end)),
                Segment::Personal(_) => None,
            })
            .last()
            .unwrap_or((0, 0));
        match encoding {
            Encoding::Base64 => self.base64_head.as_bytes(),
            Encoding::QuotedPrintable => &self.quoted[..leading.1],
            Encoding::SevenBit | Encoding::EightBit => &self.plain[..leading.0],
        }
    }

    /// How long the encoded body will be, about (for a buffer's capacity).
    pub(super) fn len_hint(&self) -> usize {
        self.quoted.len().max(self.base64_head.len() * 2) + 1024
    }

    /// The runs of bytes this body writes the same for every recipient
    /// whose body takes `encoding`, in the order [`SharedBody::write`]
    /// writes them: each shared segment encoded, or in base64 the shared
    /// head.
    pub(super) fn shared_runs(&self, encoding: Encoding) -> Vec<&[u8]> {
        match encoding {
            Encoding::Base64 => vec![self.base64_head.as_bytes()],
            Encoding::QuotedPrintable => self
                .shared_segments()
                .map(|(_, quoted)| &self.quoted[quoted])
                .collect(),
            Encoding::SevenBit | Encoding::EightBit => self
                .shared_segments()
                .map(|(plain, _)| &self.plain[plain])
                .collect(),
        }
    }

    /// Where each shared segment is in `plain` and in `quoted`.
    fn shared_segments(&self) -> impl Iterator<Item = (Range<usize>, Range<usize>)> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Shared { plain, quoted } => Some((plain.clone(), quoted.clone())),
            Segment::Personal(_) => None,
        })
    }

    /// The encoded body of `filled` (its personal segments) onto `out`;
    /// where each of [`SharedBody::shared_runs`] went in `out` onto `runs`.
    pub(super) fn write(&self, filled: &Filled, out: &mut Vec<u8>, runs: &mut Vec<Range<usize>>) {
        let mut personal = filled.personal.iter();
        let mut copy = |out: &mut Vec<u8>, bytes: &[u8]| {
            runs.push(out.len()..out.len() + bytes.len());
            out.extend_from_slice(bytes);
        };
        match filled.encoding {
            Encoding::Base64 => self.write_base64(filled, out, copy),
            Encoding::QuotedPrintable => {
                for segment in &self.segments {
                    match segment {
                        Segment::Shared { quoted, .. } => copy(out, &self.quoted[quoted.clone()]),
                        Segment::Personal(_) => out.extend_from_slice(&quoted_printable::encode(
                            personal.next().map_or(&[][..], Vec::as_slice),
                        )),
                    }
                }
            }
            // 7bit (8bit is never chosen without SMTPUTF8): the text itself.
            _ => {
                for segment in &self.segments {
                    match segment {
                        Segment::Shared { plain, .. } => copy(out, &self.plain[plain.clone()]),
                        Segment::Personal(_) => {
                            out.extend_from_slice(personal.next().map_or(&[][..], Vec::as_slice));
                        }
                    }
                }
            }
        }
    }

    /// Base64: the shared head as encoded once, then the rest of the text
    /// encoded, on the line after.
    fn write_base64(
        &self,
        filled: &Filled,
        out: &mut Vec<u8>,
        mut copy: impl FnMut(&mut Vec<u8>, &[u8]),
    ) {
        let mut rest = Vec::new();
        let mut at = 0;
        let mut personal = filled.personal.iter();
        for segment in &self.segments {
            let bytes = match segment {
                Segment::Shared { plain, .. } => &self.plain[plain.clone()],
                Segment::Personal(_) => personal.next().map_or(&[][..], Vec::as_slice),
            };
            let skip = self.head_len.saturating_sub(at).min(bytes.len());
            rest.extend_from_slice(&bytes[skip..]);
            at += bytes.len();
        }
        copy(out, self.base64_head.as_bytes());
        if rest.is_empty() {
            return;
        }
        if !self.base64_head.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
        let mut encoded =
            String::with_capacity(email_encoding::body::base64::encoded_len(rest.len()));
        // Writing to a String cannot fail.
        let _ = email_encoding::body::base64::encode(&rest, &mut encoded);
        out.extend_from_slice(encoded.as_bytes());
    }
}

/// Cuts a part's pieces into segments of whole lines as they come.
#[derive(Debug, Default)]
struct Cutter {
    body: Vec<Segment>,
    plain: Vec<u8>,
    quoted: Vec<u8>,
    shared: Option<Figures>,
    /// Shared text not yet in a segment.
    pending: String,
    /// The personal segment being made, while its last line has not ended.
    personal: Option<Vec<Hole>>,
}

impl Cutter {
    fn text(&mut self, text: &str) {
        match &mut self.personal {
            None => self.pending.push_str(text),
            Some(holes) => match text.find('\n') {
                // The personal segment ends with the line its last slot is on.
                Some(at) => {
                    holes.push(Hole::Text(text[..=at].to_string()));
                    let holes = std::mem::take(holes);
                    self.personal = None;
                    self.body.push(Segment::Personal(holes));
                    self.pending.push_str(&text[at + 1..]);
                }
                None => holes.push(Hole::Text(text.to_string())),
            },
        }
    }

    fn slot(&mut self, field: Field) {
        if self.personal.is_none() {
            // The line the slot is on starts the personal segment.
            let line_start = self.pending.rfind('\n').map_or(0, |at| at + 1);
            let line = self.pending.split_off(line_start);
            self.flush_shared();
            self.personal = Some(if line.is_empty() {
                Vec::new()
            } else {
                vec![Hole::Text(line)]
            });
        }
        if let Some(holes) = &mut self.personal {
            holes.push(Hole::Slot(field));
        }
    }

    /// The pending shared text as a segment of its own.
    fn flush_shared(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let bytes = crate::text::crlf(std::mem::take(&mut self.pending)).into_bytes();
        let figures = Figures::of(&bytes, self.body.is_empty());
        self.shared = Some(self.shared.unwrap_or(Figures::NONE).and(figures));
        let plain = self.plain.len()..self.plain.len() + bytes.len();
        let encoded = quoted_printable::encode(&bytes);
        let quoted = self.quoted.len()..self.quoted.len() + encoded.len();
        self.plain.extend_from_slice(&bytes);
        self.quoted.extend_from_slice(&encoded);
        self.body.push(Segment::Shared { plain, quoted });
    }

    fn end(mut self) -> SharedBody {
        if let Some(holes) = self.personal.take() {
            self.body.push(Segment::Personal(holes));
        }
        self.flush_shared();
        // The text before the first personal segment, in whole base64 lines.
        let before = self
            .body
            .iter()
            .take_while(|segment| matches!(segment, Segment::Shared { .. }))
            .map(|segment| match segment {
                Segment::Shared { plain, .. } => plain.len(),
                Segment::Personal(_) => 0,
            })
            .sum::<usize>();
        let head_len = before / BASE64_LINE * BASE64_LINE;
        let mut base64_head =
            String::with_capacity(email_encoding::body::base64::encoded_len(head_len));
        // Writing to a String cannot fail.
        let _ = email_encoding::body::base64::encode(&self.plain[..head_len], &mut base64_head);
        self.plain.shrink_to_fit();
        self.quoted.shrink_to_fit();
        SharedBody {
            plain: self.plain,
            quoted: self.quoted,
            segments: self.body,
            shared: self.shared.unwrap_or(Figures::NONE),
            base64_head,
            head_len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// lettre's body of `text` (as the whole-message path makes it) and ours.
    fn both(pieces: &[Piece<'_>], value: &str) -> ((Encoding, Vec<u8>), (Encoding, Vec<u8>)) {
        let text: String = pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => *text,
                Piece::Slot(_) => value,
            })
            .collect();
        let whole = lettre::message::Body::new(crate::text::crlf(text));
        let whole_encoding = match whole.encoding() {
            lettre::message::header::ContentTransferEncoding::SevenBit => Encoding::SevenBit,
            lettre::message::header::ContentTransferEncoding::QuotedPrintable => {
                Encoding::QuotedPrintable
            }
            lettre::message::header::ContentTransferEncoding::Base64 => Encoding::Base64,
            _ => Encoding::EightBit,
        };
        let body = SharedBody::new(pieces.iter().copied());
        let filled = body.fill(|_| Cow::Borrowed(value));
        let (mut out, mut runs) = (Vec::new(), Vec::new());
        body.write(&filled, &mut out, &mut runs);
        // The shared runs are where the body says, whole.
        let shared = body.shared_runs(filled.encoding);
        assert_eq!(runs.len(), shared.len());
        for (range, run) in runs.iter().zip(shared) {
            assert_eq!(&out[range.clone()], run);
        }
        ((filled.encoding, out), (whole_encoding, whole.into_vec()))
    }

    #[test]
    fn bodies_cut_at_their_personal_lines_are_lettres_whole_bodies() {
        let mut texts: Vec<String> = vec![
            String::new(),
            "\n".into(),
            "end without a line end".into(),
            "trailing space \ntrailing tab\t\n\n".into(),
            format!(
                "{}\n{}\n{}\n",
                "x".repeat(75),
                "x".repeat(76),
                "x".repeat(77)
            ),
            format!(
                "{} \n{}=\n{}é\n",
                "x".repeat(75),
                "x".repeat(74),
                "x".repeat(74)
            ),
            "lone\rcarriage\r\r\nreturns\r".into(),
            format!("{}\n", "= é\t".repeat(40)),
            format!("{}\n{}", "가나다라 ".repeat(30), "끝".repeat(20)),
        ];
        // The chooser's edges: lines about 76 long first, between and last.
        for len in 73..79 {
            let line = "x".repeat(len);
            texts.extend([
                line.clone(),
                format!("{line}\nshort"),
                format!("short\n{line}\n"),
            ]);
        }
        for ascii in 0..12 {
            texts.push(format!("{}{}\n", "가".repeat(4), "a".repeat(ascii)));
        }
        let long = "v".repeat(80);
        let values = ["", "Kim", "김철수", long.as_str(), "a\nb", "\r", "x\r\n"];
        let mut seen = std::collections::BTreeSet::new();
        for text in &texts {
            // A slot at every few bytes, and a second one further on.
            let cuts: Vec<usize> = (0..=text.len())
                .filter(|&at| text.is_char_boundary(at))
                .step_by(7)
                .chain([text.len()])
                .collect();
            for &cut in &cuts {
                for value in values {
                    let mut pieces = vec![Piece::Text(&text[..cut]), Piece::Slot(Field::Name)];
                    let second = usize::midpoint(cut, text.len());
                    let second = (second..=text.len())
                        .find(|&at| text.is_char_boundary(at))
                        .unwrap_or(text.len());
                    pieces.extend([
                        Piece::Text(&text[cut..second]),
                        Piece::Slot(Field::Email),
                        Piece::Text(&text[second..]),
                    ]);
                    let (ours, lettres) = both(&pieces, value);
                    assert_eq!(ours, lettres, "{text:?} cut at {cut}, value {value:?}");
                    seen.insert(format!("{:?}", ours.0));
                }
            }
        }
        assert_eq!(seen.len(), 3, "{seen:?}");
    }

    #[test]
    fn base64_shares_the_text_up_to_the_line_before_the_first_value() {
        let text = format!("{}\nYou receive this at ", "가나다라마바사".repeat(50));
        let body = SharedBody::new([Piece::Text(&text), Piece::Slot(Field::Email)].into_iter());
        assert_eq!(body.head_len, text.len() / BASE64_LINE * BASE64_LINE);
        assert!(body.base64_head.len() > 1000);
        let filled = body.fill(|_| Cow::Borrowed("kim@example.org"));
        assert_eq!(filled.encoding, Encoding::Base64);
    }
}
