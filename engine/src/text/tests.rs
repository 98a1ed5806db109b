use proptest::prelude::*;

use super::*;

#[test]
fn printable_escapes_control_characters() {
    assert_eq!(printable(b"a\x1b[31mb\r\n"), "a\\u{1b}[31mb");
}

#[test]
fn printable_and_shown_keep_chinese_and_cut_by_characters() {
    assert_eq!(shown("运维"), "运维");
    assert_eq!(printable("欢迎 \\ \"x\"".as_bytes()), "欢迎 \\ \"x\"");
    let long = "运".repeat(50);
    assert_eq!(shown(&long), format!("{}…", "运".repeat(40)));
    assert_eq!(
        shown(&"\x1b".repeat(41)),
        format!("{}…", "\\u{1b}".repeat(40))
    );
    assert_eq!(printable(&[b'a'; 300]).chars().count(), 256);
}

#[test]
fn safe_escapes_what_terminals_act_on_and_keeps_the_rest() {
    assert_eq!(safe("a\x1b]0;t\x07b\rc"), "a\\u{1b}]0;t\\u{7}b\\u{d}c");
    assert_eq!(
        safe("\u{9b}31m\u{7f}\u{202e}"),
        "\\u{9b}31m\\u{7f}\\u{202e}"
    );
    assert!(matches!(safe("主机-1 \\ \"x\""), Cow::Borrowed(_)));
}

#[test]
fn excerpts_fit_as_written_and_say_they_were_cut() {
    assert_eq!(excerpt("short", 10), "short");
    assert_eq!(excerpt("abcdefghij", 6), "abc…");
    // Quotes are written twice: four of them take eight bytes.
    assert_eq!(excerpt("\"\"\"\"", 7), "\"\"…");
    assert_eq!(excerpt(";=;=", 5), ";…");
    assert_eq!(excerpt("\x1b[2J", 64), "\\u{1b}[2J");
}

#[test]
fn lists_keep_their_first_names_and_count_the_rest() {
    let names: Vec<String> = (0..10).map(|i| format!("alg-{i}")).collect();
    assert_eq!(excerpt_list(&names, 3, 64), "alg-0,alg-1,alg-2,… (7 more)");
    assert_eq!(excerpt_list(&names[..2], 3, 64), "alg-0,alg-1");
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

#[test]
fn csv_cells_never_start_a_formula() {
    // OWASP's characters, at the start, behind spaces or quotes, and after a `;`.
    for (text, cell) in [
        (
            "=HYPERLINK(\"http://x\",\"y\")",
            "'=HYPERLINK(\"http://x\",\"y\")",
        ),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("  =1", "'  =1"),
        ("\"=1", "'\"=1"),
        ("'=1", "''=1"),
        ("a;=1;b; @x", "a;'=1;b;' @x"),
        ("\t=1", "\\u{9}=1"),
        ("\r\n", "\\u{d}\\u{a}"),
    ] {
        assert_eq!(csv_cell(text), cell, "{text:?}");
        assert_eq!(from_csv_cell(cell), safe(text), "{cell:?}");
    }
    for plain in ["ok", "web-1", "'quoted'", "a-b", "10.0.0.1", "主机"] {
        assert!(matches!(csv_cell(plain), Cow::Borrowed(_)), "{plain}");
        assert_eq!(from_csv_cell(plain), plain);
    }
}

/// Any text, heavy in what the escaping and the neutralisation care about.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("=".to_string()),
        Just("+".to_string()),
        Just("-".to_string()),
        Just("@".to_string()),
        Just(";".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just(" ".to_string()),
        Just("\\".to_string()),
        Just("\x1b[31m".to_string()),
        Just("\u{9b}".to_string()),
        Just("\r\n\t".to_string()),
        any::<char>().prop_map(String::from),
        "[a-z主机]{1,4}",
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn no_formula_piece(cell: &str) -> bool {
    cell.split(';').all(|piece| {
        !piece
            .trim_start_matches([' ', '"'])
            .starts_with(FORMULA_STARTS)
    })
}

proptest! {
    #[test]
    fn safe_text_has_nothing_unsafe_and_is_stable(text in hostile_text()) {
        let once = safe(&text);
        prop_assert!(!once.chars().any(is_unsafe));
        prop_assert_eq!(safe(&once), once.clone());
    }

    #[test]
    fn excerpts_are_bounded_and_stable(text in hostile_text(), max in 3usize..200) {
        let cut = excerpt(&text, max);
        let written = written(&cut);
        prop_assert!(written <= max, "{cut:?} takes {written} > {max}");
        prop_assert_eq!(excerpt(&cut, max), cut.clone());
        if !cut.ends_with('…') {
            prop_assert_eq!(cut, safe(&text));
        }
    }

    #[test]
    fn csv_cells_are_safe_and_read_back(text in hostile_text()) {
        let cell = csv_cell(&text);
        prop_assert!(!cell.chars().any(is_unsafe));
        prop_assert!(no_formula_piece(&cell), "{cell:?}");
        prop_assert_eq!(from_csv_cell(&cell), safe(&text));
    }
}
