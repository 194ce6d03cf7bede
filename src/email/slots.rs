//! Rendered text with holes where a recipient's values go, so that a post's
//! email is rendered (and its CSS inlined) once, not once per recipient.
//!
//! The templates are rendered with placeholders (Unicode private-use
//! characters around a name) as the recipient's values; the output is split
//! at the placeholders; each recipient's values are filled in. A template
//! that transforms a value (`upper`, `truncate`, a comparison) changes or
//! loses its placeholder, which [`Slotted::parse`] or the two-variant check
//! in the caller notices, and the caller renders such templates per recipient.

use std::borrow::Cow;
use std::ops::Range;

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// A recipient's value the templates can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `subscriber.email`.
    Email,
    /// `subscriber.name`.
    Name,
    /// `unsubscribe_url`.
    UnsubscribeUrl,
}

const FIELDS: [Field; 3] = [Field::Email, Field::Name, Field::UnsubscribeUrl];

/// Two spellings of every placeholder, of different lengths, so that a
/// template whose output depends on a value's length or content renders
/// the two differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Variant {
    /// The short spelling.
    Short,
    /// The long spelling.
    Long,
}

/// The placeholder that stands for `field` in `variant`.
pub(super) fn placeholder(field: Field, variant: Variant) -> String {
    let name = match field {
        Field::Email => "email",
        Field::Name => "name",
        Field::UnsubscribeUrl => "unsubscribe",
    };
    match variant {
        Variant::Short => format!("{OPEN}{name}{CLOSE}"),
        Variant::Long => format!("{OPEN}{name}-{name}-{name}{CLOSE}"),
    }
}

/// A piece of rendered text, in order: text every recipient shares, or
/// where one of their values goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text as rendered.
    Text(&'a str),
    /// A recipient's value.
    Slot(Field),
}

/// One piece of a [`Slotted`]: a byte range of the rendered text, or a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(Range<usize>),
    Slot(Field),
}

/// Text split at the placeholders. The rendered text is kept whole and the
/// parts are ranges of it: a post's body can be megabytes, and a copy of it
/// per part list was one more body held for the whole send.
#[derive(Debug, Clone)]
pub(super) struct Slotted {
    rendered: String,
    parts: Vec<Part>,
}

impl Slotted {
    /// Splits `rendered` at the placeholders of `variant`. `None` when it
    /// holds a placeholder character that is not part of a whole placeholder
    /// (a template cut or changed one, or the post itself uses those characters).
    pub(super) fn parse(rendered: String, variant: Variant) -> Option<Slotted> {
        let placeholders: Vec<(String, Field)> = FIELDS
            .iter()
            .map(|&field| (placeholder(field, variant), field))
            .collect();
        let mut parts = Vec::new();
        let mut at = 0;
        while let Some(found) = rendered[at..].find([OPEN, CLOSE]) {
            let start = at + found;
            let (field, len) = placeholders
                .iter()
                .find(|(text, _)| rendered[start..].starts_with(text.as_str()))
                .map(|(text, field)| (*field, text.len()))?;
            if start > at {
                parts.push(Part::Text(at..start));
            }
            parts.push(Part::Slot(field));
            at = start + len;
        }
        if at < rendered.len() {
            parts.push(Part::Text(at..rendered.len()));
        }
        // Kept for the whole send: without the spare capacity a growing
        // buffer leaves (up to as much again as the text).
        let mut rendered = rendered;
        rendered.shrink_to_fit();
        Some(Slotted { rendered, parts })
    }

    /// The text with each slot filled by `value` (escaped as the text needs).
    pub(super) fn fill<'v>(&self, value: impl Fn(Field) -> Cow<'v, str>) -> String {
        let mut out = String::with_capacity(self.len_hint());
        for piece in self.pieces() {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Slot(field) => out.push_str(&value(field)),
            }
        }
        out
    }

    /// The text and the slots, in order.
    pub(super) fn pieces(&self) -> impl Iterator<Item = Piece<'_>> {
        self.parts.iter().map(|part| match part {
            Part::Text(range) => Piece::Text(&self.rendered[range.clone()]),
            Part::Slot(field) => Piece::Slot(*field),
        })
    }

    fn len_hint(&self) -> usize {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(range) => range.len(),
                Part::Slot(_) => 64,
            })
            .sum()
    }
}

/// Equal when the same text lies between the same slots: two renders with
/// different placeholder spellings compare equal if the values only passed
/// through the templates.
impl PartialEq for Slotted {
    fn eq(&self, other: &Self) -> bool {
        self.parts.len() == other.parts.len()
            && self.parts.iter().zip(&other.parts).all(|pair| match pair {
                (Part::Text(mine), Part::Text(theirs)) => {
                    self.rendered[mine.clone()] == other.rendered[theirs.clone()]
                }
                (Part::Slot(mine), Part::Slot(theirs)) => mine == theirs,
                _ => false,
            })
    }
}

impl Eq for Slotted {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_slot() {
        let text = format!(
            "Hi {}, <{}> {}",
            placeholder(Field::Name, Variant::Short),
            placeholder(Field::Email, Variant::Short),
            placeholder(Field::Name, Variant::Short)
        );
        let slotted = Slotted::parse(text, Variant::Short).unwrap();
        let filled = slotted.fill(|field| {
            html_escape::encode_quoted_attribute(match field {
                Field::Name => "Kim & Lee",
                Field::Email => "k@example.org",
                Field::UnsubscribeUrl => "",
            })
        });
        assert_eq!(filled, "Hi Kim &amp; Lee, <k@example.org> Kim &amp; Lee");
    }

    #[test]
    fn a_changed_placeholder_is_refused() {
        let upper = placeholder(Field::Name, Variant::Short).to_uppercase();
        assert!(Slotted::parse(format!("Hi {upper}"), Variant::Short).is_none());
        let cut: String = placeholder(Field::Email, Variant::Long)
            .chars()
            .take(4)
            .collect();
        assert!(Slotted::parse(format!("x {cut}"), Variant::Long).is_none());
        // The other variant's placeholder does not count as this one's.
        let other = placeholder(Field::Email, Variant::Long);
        assert!(Slotted::parse(other, Variant::Short).is_none());
    }

    #[test]
    fn text_without_placeholders_is_one_part() {
        let slotted = Slotted::parse("plain".into(), Variant::Short).unwrap();
        assert_eq!(slotted.fill(|_| Cow::Borrowed("")), "plain");
    }

    #[test]
    fn the_two_variants_compare_by_their_text_and_slots() {
        let render = |variant| {
            format!(
                "<p>{}</p>{}",
                placeholder(Field::Name, variant),
                placeholder(Field::Email, variant)
            )
        };
        let short = Slotted::parse(render(Variant::Short), Variant::Short).unwrap();
        let long = Slotted::parse(render(Variant::Long), Variant::Long).unwrap();
        assert_eq!(short, long);
        // A template that printed the value's length gives different text.
        let counted = format!("<p>{}</p>9", placeholder(Field::Name, Variant::Long));
        let counted = Slotted::parse(counted, Variant::Long).unwrap();
        assert_ne!(short, counted);
    }
}
