//! Text from servers and inventories, made safe for where it is shown: a terminal, a
//! message, an XML attribute, a spreadsheet. Everything a server or an inventory says
//! passes through here before anyone reads it.

mod columns;

use std::borrow::Cow;
use std::fmt::Write as _;

pub use columns::{cell, pad, width};

/// Text from the wire, safe to print: [`safe`], trailing line ends dropped, cut at 255
/// characters.
pub fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    cut(text.trim_end_matches(['\r', '\n']), 255)
}

/// A name as messages show it: [`safe`], and cut at 40 characters.
pub fn shown(name: &str) -> String {
    cut(name, 40)
}

/// `text` made [`safe`] and cut at `max` characters (counted before escaping, so an
/// escape is never split), ending in `…` when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", safe(&text[..end])),
        None => safe(text).into_owned(),
    }
}

/// What a terminal must not receive raw: control characters (C0, DEL and C1, whose
/// ESC and CSI start escape sequences) and the bidirectional overrides that reorder
/// what is shown around them.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` as any terminal shows it faithfully: unsafe characters written as `\u{1b}`
/// escapes, everything else (Chinese names included) kept. Safe text stays as it is, so
/// applying this twice changes nothing.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The most bytes `c` takes once written in a JSON string or a CSV cell: JSON doubles a
/// quote or a backslash, CSV a quote, and [`csv_cell`] may put a `'` after a `;`.
fn written_len(c: char) -> usize {
    c.len_utf8() + usize::from(matches!(c, '"' | '\\' | ';'))
}

/// The most bytes `text` takes once written in a JSON string or a CSV cell.
pub fn written(text: &str) -> usize {
    text.chars().map(written_len).sum()
}

/// `text` made [`safe`] and cut so it takes at most `max` bytes once written, ending
/// in `…` when cut. Cutting what fits changes nothing, so this too is idempotent.
pub fn excerpt(text: &str, max: usize) -> Cow<'_, str> {
    const MORE: char = '…';
    let text = safe(text);
    if written(&text) <= max {
        return text;
    }
    let room = max.saturating_sub(MORE.len_utf8());
    let mut out = String::with_capacity(room + MORE.len_utf8());
    let mut used = 0;
    for c in text.chars() {
        used += written_len(c);
        if used > room {
            break;
        }
        out.push(c);
    }
    if max >= MORE.len_utf8() {
        out.push(MORE);
    }
    Cow::Owned(out)
}

/// A list from a server as a message shows it: the first `max_items` names, each an
/// [`excerpt`] of at most `max_name` bytes, then how many more there were.
pub fn excerpt_list<S: AsRef<str>>(items: &[S], max_items: usize, max_name: usize) -> String {
    let mut shown: Vec<String> = items
        .iter()
        .take(max_items)
        .map(|item| excerpt(item.as_ref(), max_name).into_owned())
        .collect();
    if items.len() > max_items {
        shown.push(more(items.len() - max_items));
    }
    shown.join(",")
}

/// What stands at the end of a list cut short: how many items are left out.
pub fn more(left_out: usize) -> String {
    format!("… ({left_out} more)")
}

/// Whether a list's item is [`more`]'s note, not an item.
pub fn is_more(item: &str) -> bool {
    item.strip_prefix("… (")
        .and_then(|rest| rest.strip_suffix(" more)"))
        .is_some_and(|n| n.parse::<usize>().is_ok())
}

/// Text for XML content and attributes.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry other control characters at all.
            c if is_unsafe(c) && !matches!(c, '\n' | '\t') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r', '\n'];

/// Where a spreadsheet may start a cell inside our text: at its start, and after a `;`,
/// the separator of spreadsheets in locales whose decimal mark is a comma, which do not
/// split at our commas but do at a `;` inside a cell.
const CELL_SPLIT: char = ';';

/// Whether a piece of a cell would start a formula: OWASP's characters, also behind
/// leading spaces or quotes, which some spreadsheets skip.
fn starts_formula(piece: &str) -> bool {
    piece
        .trim_start_matches([' ', '\'', '"'])
        .starts_with(FORMULA_STARTS)
}

/// A CSV cell no spreadsheet reads as a formula, following OWASP's "CSV Injection":
/// the text made [`safe`] (so no tab, CR or LF is left), and a `'` put before every
/// piece (the cell, and what follows each `;` in it) that would start a formula.
/// [`from_csv_cell`] undoes it exactly.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    let text = safe(text);
    if !text.split(CELL_SPLIT).any(starts_formula) {
        return text;
    }
    let pieces: Vec<Cow<'_, str>> = text
        .split(CELL_SPLIT)
        .map(|piece| {
            if starts_formula(piece) {
                Cow::Owned(format!("'{piece}"))
            } else {
                Cow::Borrowed(piece)
            }
        })
        .collect();
    Cow::Owned(pieces.join(";"))
}

/// A cell as [`csv_cell`] wrote it, back to the text it was given (once safe). A piece
/// that would start a formula always got its `'`, even one starting with `'` already,
/// so taking one off such pieces is exact.
pub fn from_csv_cell(cell: &str) -> Cow<'_, str> {
    let marked = |piece: &str| piece.starts_with('\'') && starts_formula(piece);
    if !cell.split(CELL_SPLIT).any(marked) {
        return Cow::Borrowed(cell);
    }
    let pieces: Vec<&str> = cell
        .split(CELL_SPLIT)
        .map(|piece| if marked(piece) { &piece[1..] } else { piece })
        .collect();
    Cow::Owned(pieces.join(";"))
}

#[cfg(test)]
mod tests;
