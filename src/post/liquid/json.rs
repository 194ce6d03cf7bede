//! Jekyll's `jsonify`: a Liquid value as JSON, written by `serde_json`.
//! Text stays text however it looks (`"007"`, `"inf"`, `"1e3"`); numbers,
//! booleans and nil are JSON's own; a date is its text, as Ruby's `to_json`
//! writes a `Time`.

use liquid_core::ValueView;

/// `value` as JSON. A map's keys come sorted (liquid-core keeps no order,
/// and the same page must give the same bytes every build); a number JSON
/// cannot hold (NaN, infinity) is `null`.
pub(super) fn to_json(value: &dyn ValueView) -> String {
    serde_json::to_value(value.to_value())
        .map_or_else(|_| "null".to_string(), |json| json.to_string())
}

#[cfg(test)]
mod tests {
    use liquid_core::{Object, Value};

    use super::*;

    #[test]
    fn text_numbers_lists_and_maps() {
        let mut object = Object::new();
        object.insert("title".into(), Value::scalar("007"));
        object.insert("n".into(), Value::scalar(7));
        object.insert(
            "list".into(),
            Value::Array(vec![Value::scalar("inf"), Value::Nil, Value::scalar(false)]),
        );
        assert_eq!(
            to_json(&Value::Object(object)),
            r#"{"list":["inf",null,false],"n":7,"title":"007"}"#
        );
    }
}
