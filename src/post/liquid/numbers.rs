//! Numbers as Jekyll's Liquid (Ruby's Liquid 4) reads them: the arithmetic
//! filters take any input, nil and text included (`nil | minus: 1` is -1,
//! `"3.5" | plus: 1` is 4.5, `"12abc" | times: 2` is 24), integer division
//! and remainder round toward minus infinity as Ruby's do, and a range's
//! bounds are whole numbers or an error.

use liquid_core::{Result, Value, ValueView};

use super::MAX_RANGE;

/// A number as Ruby's Liquid holds one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    Whole(i64),
    Fraction(f64),
}

impl Number {
    /// Liquid's `Utils.to_number`: a number stays, text is read as Ruby's
    /// `to_i` reads it (or as a decimal when it is one), anything else is 0.
    fn of(value: &dyn ValueView) -> Number {
        let Some(scalar) = value.as_scalar() else {
            return Number::Whole(0);
        };
        match value.type_name() {
            "whole number" => scalar.to_integer().map_or(Number::Whole(0), Number::Whole),
            "fractional number" => scalar.to_float().map_or(Number::Whole(0), Number::Fraction),
            "string" => Number::of_text(&scalar.to_kstr()),
            _ => Number::Whole(0),
        }
    }

    fn of_text(text: &str) -> Number {
        let text = text.trim();
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if let Some((whole, fraction)) = text.strip_prefix('-').unwrap_or(text).split_once('.')
            && digits(whole)
            && digits(fraction)
            && let Ok(number) = text.parse::<f64>()
        {
            return Number::Fraction(number);
        }
        // Ruby's `to_i`: a sign, then digits (`_` between them), up to the first other character.
        let (sign, rest) = match text.as_bytes().first() {
            Some(b'-') => (-1, &text[1..]),
            Some(b'+') => (1, &text[1..]),
            _ => (1, text),
        };
        let mut whole: i64 = 0;
        let mut previous_digit = false;
        for c in rest.chars() {
            match c {
                '0'..='9' => {
                    whole = whole
                        .saturating_mul(10)
                        .saturating_add(i64::from(c as u8 - b'0'));
                    previous_digit = true;
                }
                '_' if previous_digit => previous_digit = false,
                _ => break,
            }
        }
        Number::Whole(sign * whole)
    }

    fn float(self) -> f64 {
        match self {
            #[allow(clippy::cast_precision_loss)] // as Ruby's Integer#to_f
            Number::Whole(i) => i as f64,
            Number::Fraction(f) => f,
        }
    }

    fn value(self) -> Value {
        match self {
            Number::Whole(i) => Value::scalar(i),
            Number::Fraction(f) => Value::scalar(f),
        }
    }
}

/// One of Ruby's operators on two numbers: whole numbers stay whole
/// (past `i64`, they become fractions rather than wrap).
fn operate(
    input: &dyn ValueView,
    operand: Option<&Value>,
    whole: fn(i64, i64) -> Option<i64>,
    fraction: fn(f64, f64) -> f64,
) -> Value {
    let left = Number::of(input);
    let right = operand.map_or(Number::Whole(0), |value| Number::of(value));
    match (left, right) {
        (Number::Whole(a), Number::Whole(b)) => match whole(a, b) {
            Some(result) => Number::Whole(result).value(),
            None => Number::Fraction(fraction(left.float(), right.float())).value(),
        },
        _ => Number::Fraction(fraction(left.float(), right.float())).value(),
    }
}

/// Ruby raises for a whole or decimal division by zero, and so does Jekyll.
fn refuse_zero(operand: Option<&Value>) -> Result<()> {
    let zero = operand.map_or(Number::Whole(0), |value| Number::of(value));
    if zero.float() == 0.0 {
        return Err(liquid_core::Error::with_msg("divided by 0"));
    }
    Ok(())
}

pub(super) fn plus(input: &dyn ValueView, args: &[Value]) -> Value {
    operate(input, args.first(), i64::checked_add, |a, b| a + b)
}

pub(super) fn minus(input: &dyn ValueView, args: &[Value]) -> Value {
    operate(input, args.first(), i64::checked_sub, |a, b| a - b)
}

pub(super) fn times(input: &dyn ValueView, args: &[Value]) -> Value {
    operate(input, args.first(), i64::checked_mul, |a, b| a * b)
}

pub(super) fn divided_by(input: &dyn ValueView, args: &[Value]) -> Result<Value> {
    refuse_zero(args.first())?;
    Ok(operate(input, args.first(), floor_div, |a, b| a / b))
}

pub(super) fn modulo(input: &dyn ValueView, args: &[Value]) -> Result<Value> {
    refuse_zero(args.first())?;
    Ok(operate(input, args.first(), floor_mod, |a, b| {
        a - b * (a / b).floor()
    }))
}

pub(super) fn abs(input: &dyn ValueView) -> Value {
    match Number::of(input) {
        Number::Whole(i) => Number::Whole(i.saturating_abs()).value(),
        Number::Fraction(f) => Number::Fraction(f.abs()).value(),
    }
}

/// `ceil` and `floor`: a whole number, as Ruby's `to_number(x).ceil.to_i`.
pub(super) fn ceil(input: &dyn ValueView) -> Value {
    whole(Number::of(input), f64::ceil)
}

pub(super) fn floor(input: &dyn ValueView) -> Value {
    whole(Number::of(input), f64::floor)
}

fn whole(number: Number, round: fn(f64) -> f64) -> Value {
    match number {
        Number::Whole(i) => Value::scalar(i),
        // Saturating, as `as` casts from a float are.
        #[allow(clippy::cast_possible_truncation)]
        Number::Fraction(f) => Value::scalar(round(f) as i64),
    }
}

/// `round: n`: to `n` decimals (a whole number when `n` is 0).
pub(super) fn round(input: &dyn ValueView, args: &[Value]) -> Value {
    let digits = args
        .first()
        .map_or(Number::Whole(0), |value| Number::of(value));
    let digits = match digits {
        Number::Whole(n) => n,
        #[allow(clippy::cast_possible_truncation)]
        Number::Fraction(f) => f as i64,
    };
    match Number::of(input) {
        Number::Whole(i) => Value::scalar(i),
        Number::Fraction(f) if digits <= 0 => whole(Number::Fraction(f), f64::round),
        Number::Fraction(f) => {
            let scale = 10f64.powi(i32::try_from(digits.min(15)).unwrap_or(15));
            Value::scalar((f * scale).round() / scale)
        }
    }
}

/// `at_least` and `at_most`: the larger or the smaller of input and argument.
pub(super) fn at_least(input: &dyn ValueView, args: &[Value]) -> Value {
    bound(input, args, |input, limit| limit > input)
}

pub(super) fn at_most(input: &dyn ValueView, args: &[Value]) -> Value {
    bound(input, args, |input, limit| limit < input)
}

fn bound(input: &dyn ValueView, args: &[Value], take_limit: fn(f64, f64) -> bool) -> Value {
    let input = Number::of(input);
    let limit = args
        .first()
        .map_or(Number::Whole(0), |value| Number::of(value));
    if take_limit(input.float(), limit.float()) {
        limit.value()
    } else {
        input.value()
    }
}

/// Ruby's `Integer#/`: rounds toward minus infinity.
fn floor_div(a: i64, b: i64) -> Option<i64> {
    let quotient = a.checked_div(b)?;
    Some(if (a % b != 0) && ((a < 0) != (b < 0)) {
        quotient - 1
    } else {
        quotient
    })
}

/// Ruby's `Integer#%`: the sign of the divisor.
fn floor_mod(a: i64, b: i64) -> Option<i64> {
    let remainder = a.checked_rem(b)?;
    Some(if remainder != 0 && ((remainder < 0) != (b < 0)) {
        remainder + b
    } else {
        remainder
    })
}

/// `(from..to)` with a variable bound, as Liquid 4's `RangeLookup` counts
/// it: each bound a whole number (text holding one included), else an
/// error; from past to is no item at all. Refuses more than [`MAX_RANGE`].
pub(super) fn range(from: &dyn ValueView, args: &[Value]) -> Result<Value> {
    let bound = |value: Option<&dyn ValueView>| -> Result<i64> {
        let text = value
            .map(|v| v.to_kstr().trim().to_string())
            .unwrap_or_default();
        match value.map(ValueView::type_name) {
            Some("whole number") => value.and_then(|v| v.as_scalar()?.to_integer()),
            _ => text.parse::<i64>().ok(),
        }
        .ok_or_else(|| liquid_core::Error::with_msg("invalid integer"))
    };
    let from = bound(Some(from))?;
    let to = bound(args.first().map(|v| v as &dyn ValueView))?;
    if to.saturating_sub(from) > MAX_RANGE {
        return Err(liquid_core::Error::with_msg(format!(
            "a range counts past {MAX_RANGE} items"
        )));
    }
    Ok(Value::Array((from..=to).map(Value::scalar).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reads_as_rubys_to_i() {
        for (text, number) in [
            ("12abc", Number::Whole(12)),
            (" -3 ", Number::Whole(-3)),
            ("1_000", Number::Whole(1000)),
            ("abc", Number::Whole(0)),
            ("", Number::Whole(0)),
            ("-2.50", Number::Fraction(-2.5)),
            ("1e3", Number::Whole(1)),
        ] {
            assert_eq!(Number::of_text(text), number, "{text:?}");
        }
    }

    #[test]
    fn division_rounds_as_ruby_does() {
        assert_eq!(floor_div(-7, 2), Some(-4));
        assert_eq!(floor_div(7, 2), Some(3));
        assert_eq!(floor_mod(-7, 3), Some(2));
        assert_eq!(floor_mod(7, -3), Some(-2));
        assert_eq!(floor_div(i64::MIN, -1), None);
    }
}
