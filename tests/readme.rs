//! The README restates two tables operators rely on; they must be the ones the code has.

use prober_engine::Category;
use prober_engine::report::Record;

fn readme() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_category_table_is_the_generated_one() {
    let readme = readme();
    let (_, rest) = readme
        .split_once("<!-- categories: generated -->\n")
        .expect("the README marks its category table");
    let (copy, _) = rest
        .split_once("<!-- categories: end -->")
        .expect("the README marks the end of its category table");
    assert_eq!(
        copy,
        Category::markdown_table(prober_engine::Lang::En),
        "README.md's category table differs: regenerate it with `prober explain --list --format md --lang en`"
    );
    for c in Category::ALL {
        assert!(
            copy.contains(&format!("| `{}` |", c.id())),
            "README lacks {c}"
        );
    }
}

#[test]
fn the_record_fields_are_the_declared_ones_in_order() {
    let readme = readme();
    let start = readme
        .find("Each record has exactly these fields")
        .expect("the README lists the record's fields");
    let listed: Vec<&str> = readme[start..]
        .split_once(": `")
        .and_then(|(_, rest)| rest.split_once("`."))
        .expect("a `…` list after the sentence")
        .0
        .split(',')
        .map(|f| f.trim().trim_matches('`'))
        .collect();
    assert_eq!(listed, Record::FIELDS);
}
