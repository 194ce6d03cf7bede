//! kramdown's rules for fenced code, where they differ from `CommonMark`,
//! as one pass over the lines before pulldown-cmark reads them:
//!
//! - a fence's own indentation stays in its code: kramdown takes the lines
//!   between the fences as they are (after a list item's indentation), where
//!   `CommonMark` takes the fence's indentation off each. The opening fence
//!   is moved to its container's column instead, which keeps the code's.
//! - a fence right after a line of a list item opens in that item, however
//!   little it is indented (kramdown takes it as a lazy line of the item).
//! - a blank line inside such a block keeps its white space whole.
//! - a fenced block opened in a list item runs to its closing fence even
//!   when lines inside it (or the closing fence) are less indented than the
//!   item: kramdown keeps such lines in the item (lazy lines, after a line
//!   that is not blank), where `CommonMark` ends the item and leaves the
//!   fence open to the end of the post. They are indented to the item's
//!   column.
//!
//! - a closing fence may be followed by tabs (pulldown-cmark then leaves the
//!   block open); they are taken off.
//!
//! - indented code (outside lists) as kramdown reads it: lines that start
//!   with a tab or four spaces, then every line up to a blank one (a text
//!   line right after the code joins the code's last line after a space);
//!   each line loses one tab or four spaces, not four columns. It is
//!   written as a fenced block, which `CommonMark` takes as it is.
//!
//! Tabs in the indentation of a list item's lines count to the next
//! multiple of four columns, as both kramdown and `CommonMark` count them;
//! those lines are written with spaces so the columns above are exact.

use std::borrow::Cow;

/// An open fence: its character, its length, and the column of the list
/// item (or 0) it was opened in.
struct Fence {
    mark: char,
    len: usize,
    column: usize,
}

/// The body with its fences as kramdown reads them (see the module's
/// documentation); unchanged when it has no fenced or indented code.
pub(super) fn fences(body: &str) -> Cow<'_, str> {
    if !body.contains("```")
        && !body.contains("~~~")
        && !body.contains("\n\t")
        && !body.contains("\n    ")
    {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len() + 64);
    let mut items: Vec<usize> = Vec::new();
    let mut fence: Option<Fence> = None;
    let mut previous_blank = true;
    let mut changed = false;
    let lines: Vec<&str> = body.split_inclusive('\n').collect();
    let mut next = 0;
    while let Some(&line) = lines.get(next) {
        next += 1;
        // Indented code starts a block: after a blank line or a heading.
        let after_heading = next >= 2 && heading(lines[next - 2]);
        if fence.is_none()
            && items.is_empty()
            && (previous_blank || after_heading)
            && code_indent(line).is_some()
        {
            let end = indented_code_end(&lines, next - 1);
            out.push_str(&indented_code(&lines[next - 1..end]));
            changed = true;
            next = end;
            previous_blank = false;
            continue;
        }
        let (indent, rest) = indentation(line);
        let blank = rest.trim().is_empty();
        let container = items.last().copied().unwrap_or(0);
        let written: Cow<'_, str> = if let Some(open) = &fence {
            let (written, closing) = fenced_line(line, open, previous_blank);
            if closing {
                fence = None;
            }
            written
        } else if blank {
            Cow::Borrowed(line)
        } else {
            if indent < container && previous_blank {
                items.retain(|&column| column <= indent);
            }
            if let Some(content) = list_item(indent, rest) {
                items.retain(|&column| column <= indent);
                items.push(content);
            }
            let container = items.last().copied().unwrap_or(0);
            // A fence right after a line of the item is in the item however
            // little it is indented (a lazy line); else it must reach the item.
            let lazy = !items.is_empty() && !previous_blank;
            match opens(rest) {
                Some((mark, len))
                    if (indent >= container || lazy) && indent.saturating_sub(container) < 4 =>
                {
                    fence = Some(Fence {
                        mark,
                        len,
                        column: container,
                    });
                    Cow::Owned(format!("{}{rest}", " ".repeat(container)))
                }
                _ if !items.is_empty() && line.starts_with([' ', '\t']) => {
                    Cow::Owned(format!("{}{rest}", " ".repeat(indent)))
                }
                _ => Cow::Borrowed(line),
            }
        };
        changed |= written != line;
        out.push_str(&written);
        previous_blank = blank;
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(body)
    }
}

/// A line inside `open`, written for `CommonMark`, and whether it closes it.
fn fenced_line<'a>(line: &'a str, open: &Fence, previous_blank: bool) -> (Cow<'a, str>, bool) {
    let (indent, rest) = indentation(line);
    let blank = rest.trim().is_empty();
    let column = open.column;
    let closing = !blank && closes(rest, open) && (indent >= column || !previous_blank);
    let written = if closing && rest.trim_end().len() < rest.trim_end_matches(['\n', '\r']).len() {
        // kramdown closes on a fence with a tab after it; pulldown-cmark does not.
        let ended = if line.ends_with('\n') { "\n" } else { "" };
        Cow::Owned(format!(
            "{}{}{ended}",
            " ".repeat(indent.max(column)),
            rest.trim_end()
        ))
    } else if !blank && indent < column && !previous_blank {
        Cow::Owned(format!("{}{rest}", " ".repeat(column)))
    } else if blank && column > 0 {
        // kramdown keeps a list item's blank line whole, white space and all.
        Cow::Owned(format!("{}{line}", " ".repeat(column)))
    } else if column > 0 {
        Cow::Owned(format!("{}{rest}", " ".repeat(indent)))
    } else {
        Cow::Borrowed(line)
    };
    (written, closing)
}

/// An ATX heading: up to three spaces, one to six `#`, then a space or the end.
fn heading(line: &str) -> bool {
    let rest = line.trim_start_matches(' ');
    let marks = rest.chars().take_while(|c| *c == '#').count();
    line.len() - rest.len() < 4
        && (1..=6).contains(&marks)
        && rest[marks..].starts_with([' ', '\t', '\n', '\r'])
}

/// kramdown's `INDENT`: a tab or four spaces, then text; the length taken off.
fn code_indent(line: &str) -> Option<usize> {
    let len = if line.starts_with('\t') {
        1
    } else if line.starts_with("    ") {
        4
    } else {
        return None;
    };
    (!line[len..].trim().is_empty()).then_some(len)
}

/// Where the indented code block starting at `lines[start]` ends, as
/// kramdown reads it: every line up to a blank one (an unindented line right
/// after the code is the code's too), and on past blank lines while the
/// next line is indented again.
fn indented_code_end(lines: &[&str], start: usize) -> usize {
    let mut end = start;
    loop {
        while lines
            .get(end)
            .is_some_and(|line| !line.trim().is_empty() && !line.trim_start().starts_with("{:"))
        {
            end += 1;
        }
        let mut after = end;
        while lines.get(after).is_some_and(|line| line.trim().is_empty()) {
            after += 1;
        }
        match lines.get(after) {
            Some(line) if after > end && code_indent(line).is_some() => end = after,
            _ => return end,
        }
    }
}

/// kramdown's indented code as a fenced block `CommonMark` takes as it is:
/// a line that is not indented joins the line before it after a space,
/// then each line loses one tab or four spaces.
fn indented_code(lines: &[&str]) -> String {
    let mut code = String::new();
    for (at, line) in lines.iter().enumerate() {
        let (indent, rest) = indentation(line);
        let lazy = at > 0
            && indent < 4
            && !line.trim().is_empty()
            && line.starts_with(|c: char| c != '\t')
            && !line[..line.len() - rest.len()].contains('\t');
        if lazy && code.ends_with('\n') {
            code.pop();
            code.push(' ');
            code.push_str(rest);
        } else {
            // kramdown's `gsub(INDENT, '')`: a tab or four spaces, blank lines too.
            let cut = if line.starts_with('\t') {
                1
            } else if line.starts_with("    ") {
                4
            } else {
                0
            };
            code.push_str(&line[cut..]);
        }
    }
    if !code.ends_with('\n') {
        code.push('\n');
    }
    let longest = code
        .lines()
        .map(|line| line.trim_start().chars().take_while(|c| *c == '~').count())
        .max()
        .unwrap_or(0);
    let fence = "~".repeat((longest + 1).max(3));
    format!("{fence}\n{code}{fence}\n")
}

/// A line's indentation in columns (a tab to the next multiple of four)
/// and the rest of the line.
fn indentation(line: &str) -> (usize, &str) {
    let mut column = 0;
    for (at, c) in line.char_indices() {
        match c {
            ' ' => column += 1,
            '\t' => column += 4 - column % 4,
            _ => return (column, &line[at..]),
        }
    }
    (column, &line[line.len()..])
}

/// A list item's marker at the start of `rest` (`-`, `*`, `+`, `1.`,
/// `1)`), or a footnote's (`[^1]:`): the column its content starts at.
fn list_item(indent: usize, rest: &str) -> Option<usize> {
    // A footnote's definition holds blocks indented by four, as an item does.
    if rest.starts_with("[^") && rest.find("]:").is_some_and(|at| !rest[2..at].contains(']')) {
        return Some(indent + 4);
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let marker = match rest.as_bytes().first()? {
        b'-' | b'*' | b'+' => 1,
        _ if (1..=9).contains(&digits)
            && matches!(rest.as_bytes().get(digits), Some(b'.' | b')')) =>
        {
            digits + 1
        }
        _ => return None,
    };
    let after = &rest[marker..];
    if !(after.starts_with([' ', '\t']) || after.trim().is_empty()) {
        return None;
    }
    // A thematic break (`- - -`, `***`) is no item.
    if marker == 1
        && rest
            .trim()
            .chars()
            .all(|c| c == rest.as_bytes()[0] as char || c == ' ')
    {
        let count = rest.matches(char::from(rest.as_bytes()[0])).count();
        if count >= 3 {
            return None;
        }
    }
    let (spaces, _) = indentation(after);
    let start = indent + marker;
    // Five or more spaces after the marker: the content starts after one,
    // the rest is indented code.
    Some(start + if (1..=4).contains(&spaces) { spaces } else { 1 })
}

/// A fence opening at the start of `rest`: its character and length.
fn opens(rest: &str) -> Option<(char, usize)> {
    let mark = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = rest.chars().take_while(|c| *c == mark).count();
    // A backtick fence's info string holds no backtick.
    (len >= 3 && !(mark == '`' && rest[len..].contains('`'))).then_some((mark, len))
}

/// Whether `rest` closes `fence`: its character, as many or more, nothing after.
fn closes(rest: &str, fence: &Fence) -> bool {
    let len = rest.chars().take_while(|c| *c == fence.mark).count();
    len >= fence.len && rest[len..].trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_lines_and_a_closing_fence_stay_in_the_list_item() {
        assert_eq!(
            fences("1. Do:\n\t```\n\tline1\nline2\n```\n\nAfter.\n"),
            "1. Do:\n   ```\n    line1\n   line2\n   ```\n\nAfter.\n"
        );
    }

    #[test]
    fn a_fence_on_a_lazy_line_opens_in_the_item() {
        assert_eq!(
            fences("* item\ntext\n```\ndef a:\n    b\n```\n\nAfter.\n"),
            "* item\ntext\n  ```\n  def a:\n    b\n  ```\n\nAfter.\n"
        );
        assert_eq!(
            fences("1. a\n   ```\n   x\n     \n   y\n   ```\n"),
            "1. a\n   ```\n   x\n        \n   y\n   ```\n"
        );
    }

    #[test]
    fn indented_code_is_kramdowns() {
        assert_eq!(
            fences("Text.\n\n\tint a;\n  \tb;\n    c;\nwget x\n\n\td;\n\nAfter.\n"),
            "Text.\n\n~~~\nint a;\n  \tb;\nc; wget x\n\nd;\n~~~\n\nAfter.\n"
        );
        assert_eq!(fences("# Title\n\tcode\n"), "# Title\n~~~\ncode\n~~~\n");
        // Inside a list or a footnote, or right after a paragraph line, it is no code block.
        for text in ["- a\n\n    b\n", "para\n    more\n", "[^1]: a\n\n    b\n"] {
            assert_eq!(fences(text), text, "{text:?}");
        }
    }

    #[test]
    fn a_closing_fence_may_end_in_tabs() {
        assert_eq!(
            fences("```\ncode\n```\t \n\nText.\n"),
            "```\ncode\n```\n\nText.\n"
        );
    }

    #[test]
    fn a_fences_indentation_stays_in_its_code() {
        assert_eq!(fences("  ```\n  code\n  ```\n"), "```\n  code\n  ```\n");
        assert_eq!(
            fences("- a\n\t~~~\n\tcode\n\t~~~\n- b\n"),
            "- a\n  ~~~\n    code\n    ~~~\n- b\n"
        );
    }

    #[test]
    fn indented_code_and_text_are_left_alone() {
        for text in [
            "- Do:\n\n\t\t```\n\t\tline1\n\t\t```\n",
            "Some `code` and ```inline``` text.\n",
            "```\nplain\n```\n",
            "* * *\n```\nx\n```\n",
        ] {
            // Only the tabs of the list item's lines become spaces.
            assert_eq!(fences(text), text.replace('\t', "    "), "{text:?}");
        }
    }
}
