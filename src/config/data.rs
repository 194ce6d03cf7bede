//! Any YAML value as data, for what digest-feed does not read as a typed
//! setting but must carry: the front matter Liquid's `page.*` shows, and
//! the values of Jekyll's front matter defaults. Deserialized through serde
//! alone, so `post/front_matter.rs` and `jekyll.rs` both read it with the
//! one YAML parser, and no YAML type leaves either.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// Any YAML value as data: a post's front matter for Liquid's `page.*`,
/// and the values of `_config.yml`'s front matter defaults.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// `~`, `null` or nothing.
    Null,
    /// `true`, `yes`, ...
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text (and timestamps, as written).
    Text(String),
    /// A sequence.
    List(Vec<Data>),
    /// A mapping, in order; keys as text.
    Map(Vec<(String, Data)>),
}

impl Data {
    /// The text of a scalar key or value.
    pub(super) fn key_text(&self) -> String {
        match self {
            Data::Null => String::new(),
            Data::Bool(b) => b.to_string(),
            Data::Int(i) => i.to_string(),
            Data::Float(f) => f.to_string(),
            Data::Text(t) => t.clone(),
            Data::List(_) | Data::Map(_) => "?".into(),
        }
    }
}

/// Written as the plain value it is (what [`DataVisitor`] reads back), for
/// the build cache. A float that is not finite has no JSON form and is
/// refused rather than written as `null`, which would read back as another
/// value: the cache is then not written, never wrong.
impl serde::Serialize for Data {
    fn serialize<S: serde::Serializer>(&self, to: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap, SerializeSeq};
        match self {
            Data::Null => to.serialize_unit(),
            Data::Bool(value) => to.serialize_bool(*value),
            Data::Int(value) => to.serialize_i64(*value),
            Data::Float(value) if value.is_finite() => to.serialize_f64(*value),
            Data::Float(value) => Err(S::Error::custom(format!("{value} has no JSON form"))),
            Data::Text(text) => to.serialize_str(text),
            Data::List(items) => {
                let mut seq = to.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Data::Map(entries) => {
                let mut map = to.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> de::Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Data, E> {
        Ok(Data::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Data, E> {
        Ok(Data::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Data, E> {
        Ok(i64::try_from(v).map_or_else(|_| Data::Text(v.to_string()), Data::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Data, E> {
        Ok(Data::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Data, E> {
        Ok(Data::Text(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Data, D::Error> {
        de::Deserialize::deserialize(deserializer)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Data::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Data, Data>()? {
            let key = key.key_text();
            // A key written twice keeps its place and its later value, as a Ruby Hash does.
            match entries.iter_mut().find(|(known, _)| *known == key) {
                Some((_, old)) => *old = value,
                None => entries.push((key, value)),
            }
        }
        Ok(Data::Map(entries))
    }
}

/// Jekyll's `Utils.deep_merge_hashes(master, other)` on two mappings' entries:
/// `other`'s value wins for each key, except that two mappings merge, key by
/// key, in turn. A key new to `master` is added after its own.
pub(crate) fn deep_merge(master: &mut Vec<(String, Data)>, other: Vec<(String, Data)>) {
    for (key, value) in other {
        match master.iter_mut().find(|(known, _)| *known == key) {
            Some((_, Data::Map(mine))) if matches!(value, Data::Map(_)) => {
                let Data::Map(theirs) = value else {
                    unreachable!("matched as a mapping")
                };
                deep_merge(mine, theirs);
            }
            Some((_, mine)) => *mine = value,
            None => master.push((key, value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Data {
        Data::Text(value.into())
    }

    #[test]
    fn mappings_merge_key_by_key_and_the_rest_is_replaced() {
        let mut master = vec![
            ("layout".into(), text("post")),
            ("tags".into(), Data::List(vec![text("a")])),
            (
                "author".into(),
                Data::Map(vec![
                    ("name".into(), text("Kim")),
                    ("uri".into(), text("k.org")),
                ]),
            ),
        ];
        let other = vec![
            ("tags".into(), Data::List(vec![text("b")])),
            (
                "author".into(),
                Data::Map(vec![("name".into(), text("Lee"))]),
            ),
            ("image".into(), Data::Null),
        ];
        deep_merge(&mut master, other);
        assert_eq!(
            master,
            vec![
                ("layout".into(), text("post")),
                ("tags".into(), Data::List(vec![text("b")])),
                (
                    "author".into(),
                    Data::Map(vec![
                        ("name".into(), text("Lee")),
                        ("uri".into(), text("k.org"))
                    ])
                ),
                ("image".into(), Data::Null),
            ]
        );
    }
}
