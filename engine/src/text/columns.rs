//! Text in columns on a terminal, where a character takes one column or two (CJK, fullwidth
//! forms) or none (combining marks): cells are measured, cut and padded by display width,
//! so a Chinese asset name keeps its row in line.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::is_unsafe;

const MORE: char = '…';

/// The columns `text` takes on a terminal.
pub fn width(text: &str) -> usize {
    text.width()
}

/// `text` and spaces after it up to `columns` columns; wider text is left as it is.
pub fn pad(text: &str, columns: usize) -> String {
    let fill = columns.saturating_sub(width(text));
    let mut out = String::with_capacity(text.len() + fill);
    out.push_str(text);
    out.extend(std::iter::repeat_n(' ', fill));
    out
}

/// A table cell for a terminal: unsafe characters replaced, cut to at most `columns`
/// columns, ending in `…` when cut. Whole characters only: a two-column character that
/// would cross the edge is left out, so the cut may be a column short.
pub fn cell(text: &str, columns: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if is_unsafe(c) { '?' } else { c })
        .collect();
    if width(&clean) <= columns {
        return clean;
    }
    let room = columns.saturating_sub(MORE.width().unwrap_or(1));
    let mut used = 0;
    let mut out = String::new();
    for c in clean.chars() {
        used += c.width().unwrap_or(0);
        if used > room {
            break;
        }
        out.push(c);
    }
    if columns > 0 {
        out.push(MORE);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_takes_two_columns_and_pads_to_the_same_edge() {
        assert_eq!(width("数据库-1"), 8);
        assert_eq!(pad("数据库", 8), "数据库  ");
        assert_eq!(pad("db", 8), "db      ");
        assert_eq!(width(&pad("数据库", 8)), width(&pad("db", 8)));
        assert_eq!(pad("数据库服务器", 4), "数据库服务器", "never cut");
    }

    #[test]
    fn cells_are_cut_by_width_between_characters() {
        assert_eq!(cell("abcdef", 4), "abc…");
        assert_eq!(cell("数据库服务器", 12), "数据库服务器");
        // 5 columns: two characters (4) and the ellipsis; the third would cross the edge.
        assert_eq!(cell("数据库服务器", 5), "数据…");
        assert_eq!(cell("数据库服务器", 6), "数据…");
        assert_eq!(cell("数据库服务器", 7), "数据库…");
        for columns in 1..14 {
            let cut = cell("数a据b库c服d务e器", columns);
            assert!(width(&cut) <= columns, "{cut:?} in {columns}");
        }
    }
}
