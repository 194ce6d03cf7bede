//! Jekyll's `slugify`, in its default and "pretty" modes: a post's URL
//! (its title, its categories) and the email's `List-Id` label make their
//! slugs here. A leaf: it imports nothing of the crate.

use std::sync::LazyLock;

use regex::Regex;

static PRETTY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[^\p{M}\p{L}\p{Nd}._~!$&'()+,;=@]+").expect("valid regex"));
static DEFAULT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[^\p{M}\p{L}\p{Nd}]+").expect("valid regex"));

/// Jekyll's `slugify(mode: "pretty", cased: true)`: runs of characters other
/// than letters, marks, digits and `._~!$&'()+,;=@` become one `-`.
pub(crate) fn slugify_pretty(text: &str) -> String {
    if text.is_ascii() {
        let keep = |b: u8| b.is_ascii_alphanumeric() || b"._~!$&'()+,;=@".contains(&b);
        return trim_one_dash(&dash_runs(text, keep)).to_string();
    }
    trim_one_dash(&PRETTY.replace_all(text, "-")).to_string()
}

/// Jekyll's default `slugify`: letters, marks and digits only, lower case.
/// Used for per-tag folders.
pub(crate) fn slugify(text: &str) -> String {
    if text.is_ascii() {
        return trim_one_dash(&dash_runs(text, |b| b.is_ascii_alphanumeric())).to_lowercase();
    }
    trim_one_dash(&DEFAULT.replace_all(text, "-")).to_lowercase()
}

/// For ASCII text, the slug regexes without the regex engine (the common
/// case, and a third of a build's time with it): each run of bytes `keep`
/// refuses becomes one `-`. In ASCII, `\p{L}` and `\p{Nd}` are letters and
/// digits, and there are no marks.
fn dash_runs(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for &b in text.as_bytes() {
        if keep(b) {
            out.push(char::from(b));
            in_run = false;
        } else if !in_run {
            out.push('-');
            in_run = true;
        }
    }
    out
}

fn trim_one_dash(text: &str) -> &str {
    let text = text.strip_prefix('-').unwrap_or(text);
    text.strip_suffix('-').unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Machine Learning"), "machine-learning");
        assert_eq!(slugify("한국어 NLP"), "한국어-nlp");
        assert_eq!(slugify("!!!"), "");
        assert_eq!(slugify_pretty("-a b-"), "a-b");
    }

    #[test]
    fn the_ascii_slug_path_equals_the_regexes() {
        // Every ASCII character, alone, doubled, and between letters.
        let mut inputs = vec![
            String::new(),
            "--a--b--".into(),
            "Hello, World! (v2.0)".into(),
        ];
        for b in 0u8..128 {
            let c = char::from(b);
            inputs.extend([
                c.to_string(),
                format!("{c}{c}"),
                format!("a{c}b"),
                format!("{c}a{c}"),
            ]);
        }
        for input in &inputs {
            let pretty = trim_one_dash(&PRETTY.replace_all(input, "-")).to_string();
            let default = trim_one_dash(&DEFAULT.replace_all(input, "-")).to_lowercase();
            assert_eq!(slugify_pretty(input), pretty, "{input:?}");
            assert_eq!(slugify(input), default, "{input:?}");
        }
    }
}
