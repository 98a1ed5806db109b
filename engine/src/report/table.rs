use std::collections::BTreeSet;
use std::io::{self, Write};

use super::{Record, Sink, Summary};
use crate::address::authority;
use crate::category::{Category, Lang};
use crate::i18n::Text;
use crate::text::{cell, pad};

/// Fixed-width columns: rows are printed as assets finish, before widths could be known;
/// the category column fits every id. Widths are terminal columns, so Chinese names (two
/// columns a character) stay aligned.
pub struct Table {
    out: Box<dyn Write + Send>,
    lang: Lang,
    seen: BTreeSet<Category>,
}

const NAME: usize = 24;
const ADDRESS: usize = 24;

impl Table {
    pub fn new(mut out: Box<dyn Write + Send>, lang: Lang) -> io::Result<Table> {
        writeln!(
            out,
            "{} {} {} {}",
            pad(Text::TableName.get(lang), NAME),
            pad(Text::TableAddress.get(lang), ADDRESS),
            pad(Text::TableCategory.get(lang), Category::id_width()),
            Text::TableDetail.get(lang)
        )?;
        out.flush()?;
        Ok(Table {
            out,
            lang,
            seen: BTreeSet::new(),
        })
    }
}

impl Sink for Table {
    fn record(&mut self, r: &Record) -> io::Result<()> {
        self.seen.insert(r.category);
        let address = match r.port {
            Some(port) => authority(&r.host, port),
            None => r.host.clone(),
        };
        writeln!(
            self.out,
            "{} {} {} {}",
            pad(&cell(&r.display_name(), NAME), NAME),
            pad(&cell(&address, ADDRESS), ADDRESS),
            pad(r.category.id(), Category::id_width()),
            cell(&r.message, 400)
        )?;
        self.out.flush()
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        let to_fix: Vec<Category> = self
            .seen
            .iter()
            .copied()
            .filter(|c| c.needs_action())
            .collect();
        if !to_fix.is_empty() {
            writeln!(self.out, "\n{}", Text::HowToFix.get(self.lang))?;
            for category in to_fix {
                writeln!(
                    self.out,
                    "  {} {}",
                    pad(category.id(), Category::id_width()),
                    category.hint(self.lang)
                )?;
            }
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Stage;
    use crate::report::tests::Shared;
    use crate::text::width;

    fn record(name: &str, category: Category) -> Record {
        let stage = category.stage().unwrap_or(Stage::Done);
        Record::bare(
            name.into(),
            "10.0.0.1".into(),
            Some(22),
            category,
            stage,
            "detail".into(),
            Lang::Zh,
        )
    }

    /// Where each column starts, in terminal columns: after each run of spaces.
    fn starts(line: &str) -> Vec<usize> {
        let mut starts = vec![0];
        let mut column = 0;
        let mut after_space = false;
        for c in line.chars() {
            if c != ' ' && after_space {
                starts.push(column);
            }
            after_space = c == ' ';
            column += width(&c.to_string());
        }
        starts
    }

    #[test]
    fn chinese_names_headers_and_ascii_names_line_up_by_display_width() {
        let out = Shared::default();
        let mut table = Table::new(Box::new(out.clone()), Lang::Zh).unwrap();
        table
            .record(&record("数据库服务器-主", Category::TcpRefused))
            .unwrap();
        table.record(&record("web-1", Category::Ok)).unwrap();
        table.finish(&Summary::default()).unwrap();
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("名称 "), "{text}");
        let detail = NAME + ADDRESS + Category::id_width() + 3;
        let columns = [0, NAME + 1, NAME + ADDRESS + 2, detail];
        for line in &lines[..3] {
            assert_eq!(starts(line), columns, "{line:?} in\n{text}");
        }
        assert!(lines.contains(&"处理建议"), "{text}");
        assert!(text.contains(Category::TcpRefused.hint(Lang::Zh)), "{text}");
    }

    #[test]
    fn a_name_too_wide_is_cut_between_characters_and_keeps_the_row_aligned() {
        let out = Shared::default();
        let mut table = Table::new(Box::new(out.clone()), Lang::En).unwrap();
        let name = "华东区生产环境核心数据库服务器主节点";
        table.record(&record(name, Category::Ok)).unwrap();
        let text = out.text();
        let row = text.lines().nth(1).unwrap();
        assert!(row.starts_with("华东区生产环境核心数据…"), "{row}");
        assert_eq!(starts(row)[1], NAME + 1, "{row:?}");
    }
}
