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

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// A recipient's value the templates can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
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

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Slot(Field),
}

/// Text split at the placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Slotted {
    parts: Vec<Part>,
}

impl Slotted {
    /// Splits `rendered` at the placeholders of `variant`. `None` when it
    /// holds a placeholder character that is not part of a whole placeholder
    /// (a template cut or changed one, or the post itself uses those characters).
    pub(super) fn parse(rendered: &str, variant: Variant) -> Option<Slotted> {
        let placeholders: Vec<(String, Field)> = FIELDS
            .iter()
            .map(|&field| (placeholder(field, variant), field))
            .collect();
        let mut parts = Vec::new();
        let mut rest = rendered;
        while let Some(start) = rest.find([OPEN, CLOSE]) {
            let (field, len) = placeholders
                .iter()
                .find(|(text, _)| rest[start..].starts_with(text.as_str()))
                .map(|(text, field)| (*field, text.len()))?;
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            parts.push(Part::Slot(field));
            rest = &rest[start + len..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Some(Slotted { parts })
    }

    /// The text with each slot filled by `value`, passed through `escape`.
    pub(super) fn fill<'v>(
        &self,
        value: impl Fn(Field) -> &'v str,
        escape: impl Fn(&'v str) -> Cow<'v, str>,
    ) -> String {
        let mut out = String::with_capacity(self.len_hint());
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Slot(field) => out.push_str(&escape(value(*field))),
            }
        }
        out
    }

    fn len_hint(&self) -> usize {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.len(),
                Part::Slot(_) => 64,
            })
            .sum()
    }
}

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
        let slotted = Slotted::parse(&text, Variant::Short).unwrap();
        let filled = slotted.fill(
            |field| match field {
                Field::Name => "Kim & Lee",
                Field::Email => "k@example.org",
                Field::UnsubscribeUrl => "",
            },
            |s| html_escape::encode_quoted_attribute(s),
        );
        assert_eq!(filled, "Hi Kim &amp; Lee, <k@example.org> Kim &amp; Lee");
    }

    #[test]
    fn a_changed_placeholder_is_refused() {
        let upper = placeholder(Field::Name, Variant::Short).to_uppercase();
        assert!(Slotted::parse(&format!("Hi {upper}"), Variant::Short).is_none());
        let cut: String = placeholder(Field::Email, Variant::Long)
            .chars()
            .take(4)
            .collect();
        assert!(Slotted::parse(&format!("x {cut}"), Variant::Long).is_none());
        // The other variant's placeholder does not count as this one's.
        let other = placeholder(Field::Email, Variant::Long);
        assert!(Slotted::parse(&other, Variant::Short).is_none());
    }

    #[test]
    fn text_without_placeholders_is_one_part() {
        let slotted = Slotted::parse("plain", Variant::Short).unwrap();
        assert_eq!(slotted.fill(|_| "", Cow::Borrowed), "plain");
    }
}
