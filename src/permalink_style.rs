//! Jekyll's permalink styles and placeholders: what `site.permalink` may
//! say. A leaf that both the config (which checks the setting) and the post
//! model (which fills the template) read, so neither imports the other.

/// Jekyll's default post permalink (its `date` style).
pub(crate) const DEFAULT_PERMALINK: &str = "/:categories/:year/:month/:day/:title:output_ext";

const PLACEHOLDERS: &[&str] = &[
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "i_day",
    "i_month",
    "short_month",
    "long_month",
    "short_year",
    "w_year",
    "week",
    "w_day",
    "short_day",
    "long_day",
    "y_day",
    "title",
    "slug",
    "name",
    "categories",
    "slugified_categories",
    "output_ext",
];

/// Turns a `site.permalink` value into a template: Jekyll's named styles
/// (`date`, `pretty`, `ordinal`, `weekdate`, `none`) or a template whose
/// placeholders are all known.
pub(crate) fn expand_style(style: &str) -> Result<String, String> {
    let template = match style {
        "date" => "/:categories/:year/:month/:day/:title:output_ext",
        "pretty" => "/:categories/:year/:month/:day/:title/",
        "ordinal" => "/:categories/:year/:y_day/:title:output_ext",
        "weekdate" => "/:categories/:year/W:week/:short_day/:title:output_ext",
        "none" => "/:categories/:title:output_ext",
        other => other,
    };
    check_template(template)?;
    Ok(template.to_string())
}

/// Refuses a template with a placeholder Jekyll would not know.
pub(crate) fn check_template(template: &str) -> Result<(), String> {
    for (_, name) in placeholders(template) {
        if resolve_name(name).is_none() {
            return Err(format!(
                "unknown placeholder `:{name}`; use :year, :month, :day, :title, :categories and the others Jekyll documents"
            ));
        }
    }
    Ok(())
}

/// The `:name` placeholders of a template (`:` then `[a-z_]+`, as Jekyll
/// reads them), each with the byte range of `:name`.
pub(crate) fn placeholders(template: &str) -> impl Iterator<Item = (std::ops::Range<usize>, &str)> {
    let bytes = template.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let start = at;
            at += 1;
            if bytes[start] == b':' {
                let name_len = bytes[at..]
                    .iter()
                    .take_while(|&&b| b.is_ascii_lowercase() || b == b'_')
                    .count();
                at += name_len;
                if name_len > 0 {
                    return Some((start..at, &template[start + 1..at]));
                }
            }
        }
        None
    })
}

// Jekyll allows `:title_` so a template can put a letter straight after a
// placeholder; the trailing underscore is dropped when no such key exists.
pub(crate) fn resolve_name(name: &str) -> Option<&str> {
    if PLACEHOLDERS.contains(&name) {
        Some(name)
    } else {
        name.strip_suffix('_').filter(|n| PLACEHOLDERS.contains(n))
    }
}
