use std::collections::BTreeSet;
use std::io::{self, Write};

use super::{Record, Sink, Summary};
use crate::address::authority;
use crate::category::{Category, Lang};
use crate::text::cell;

/// Fixed-width columns: rows are printed as assets finish, before widths could be known.
pub struct Table {
    out: Box<dyn Write + Send>,
    lang: Lang,
    seen: BTreeSet<Category>,
}

const NAME: usize = 24;
const ADDRESS: usize = 24;
const CATEGORY: usize = 24;

impl Table {
    pub fn new(mut out: Box<dyn Write + Send>, lang: Lang) -> io::Result<Table> {
        writeln!(
            out,
            "{:<NAME$} {:<ADDRESS$} {:<CATEGORY$} DETAIL",
            "NAME", "ADDRESS", "CATEGORY"
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
            "{:<NAME$} {:<ADDRESS$} {:<CATEGORY$} {}",
            cell(&r.display_name(), NAME),
            cell(&address, ADDRESS),
            r.category.id(),
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
            writeln!(self.out, "\nHOW TO FIX")?;
            for category in to_fix {
                writeln!(
                    self.out,
                    "  {:<26} {}",
                    category.id(),
                    category.hint(self.lang)
                )?;
            }
        }
        self.out.flush()
    }
}
