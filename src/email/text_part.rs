//! The `text` filter: HTML as wrapped plain text with every link written
//! out, by html2text, each distinct input converted once per post.
//!
//! A post is rendered four times to find where each recipient's values go
//! (two placeholder spellings, with and without a name; see `slots`), and
//! a template may convert the same HTML more than once. html2text builds a
//! DOM and a render tree of the whole input, 25 to 400 bytes for each byte
//! of HTML: converting once per post takes a quarter of the time, and the
//! conversion's peak comes before any inlined HTML is held.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// How wide the text part's lines are.
const WIDTH: usize = 78;

/// Conversions already made for the post being rendered, by their input.
#[derive(Debug, Default)]
pub(super) struct TextCache {
    converted: Mutex<HashMap<String, String>>,
}

impl TextCache {
    /// `html` as plain text: converted now, or as it was for this post.
    pub(super) fn text(&self, html: &str) -> String {
        if let Some(text) = self.lock().get(html) {
            return text.clone();
        }
        // Converted without the lock: the send's workers may render at once
        // (templates that transform a recipient's value render per recipient).
        let text = html_to_text(html);
        self.lock().insert(html.to_string(), text.clone());
        text
    }

    /// Forgets every conversion: a new post is about to be rendered, and
    /// the last one's inputs and texts need not stay in memory.
    pub(super) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.converted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn html_to_text(html: &str) -> String {
    html2text::config::plain()
        .link_footnotes(true)
        .string_from_read(html.as_bytes(), WIDTH)
        .unwrap_or_else(|_| html.to_string())
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::TextCache;

    #[test]
    fn each_input_is_converted_once_until_cleared() {
        let cache = TextCache::default();
        let html = "<p>See <a href=\"https://example.org/\">this</a>.</p>";
        let text = cache.text(html);
        assert!(text.contains("https://example.org/"), "{text}");
        assert_eq!(cache.text(html), text);
        assert_eq!(cache.lock().len(), 1);
        cache.text("<p>Other</p>");
        assert_eq!(cache.lock().len(), 2);
        cache.clear();
        assert!(cache.lock().is_empty());
    }
}
