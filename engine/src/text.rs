//! Text from servers and inventories, made safe for where it is shown: a terminal, a
//! message, an XML attribute. Everything a server or an inventory says passes through
//! here before anyone reads it.

/// Text from the wire, safe to print: control characters escaped, length capped.
pub fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches(['\r', '\n']);
    let mut out: String = text
        .chars()
        .take(255)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().count() > 255 {
        out.push('…');
    }
    out.replace("\\'", "'").replace("\\\"", "\"")
}

/// A name as messages show it: escaped, and cut at 40 characters.
pub fn shown(name: &str) -> String {
    name.chars()
        .take(40)
        .flat_map(char::escape_default)
        .collect()
}

/// A table cell for a terminal: control characters replaced, cut to `width` characters.
pub fn cell(text: &str, width: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if clean.chars().count() > width {
        let cut: String = clean.chars().take(width - 1).collect();
        format!("{cut}…")
    } else {
        clean
    }
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
            c if c.is_control() && !matches!(c, '\n' | '\t') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable(b"a\x1b[31mb\r\n"), "a\\u{1b}[31mb");
    }

    #[test]
    fn cells_lose_control_characters_and_fit() {
        assert_eq!(cell("a\x1b[31mb", 20), "a?[31mb");
        assert_eq!(cell("abcdef", 4), "abc…");
    }

    #[test]
    fn xml_escapes_everything_xml_cares_about() {
        assert_eq!(xml("a<b>&\"c'\u{1b}"), "a&lt;b&gt;&amp;&quot;c&apos;?");
    }
}
