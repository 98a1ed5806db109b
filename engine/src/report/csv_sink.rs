use std::io::{self, Write};

use super::{FIELDS, Record, Sink, Summary};

pub struct Csv {
    writer: csv::Writer<Box<dyn Write + Send>>,
}

impl Csv {
    pub fn new(out: Box<dyn Write + Send>) -> io::Result<Csv> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(FIELDS)?;
        Ok(Csv { writer })
    }
}

fn text<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

impl Sink for Csv {
    fn record(&mut self, r: &Record) -> io::Result<()> {
        let facts = match &r.facts {
            Some(facts) => serde_json::to_string(facts)?,
            None => String::new(),
        };
        self.writer.write_record([
            r.name.clone(),
            text(&r.system_user),
            r.host.clone(),
            text(&r.port),
            text(&r.ip),
            r.category.id().to_string(),
            r.stage.id().to_string(),
            r.message.clone(),
            r.hint.to_string(),
            text(&r.banner),
            text(&r.kex),
            text(&r.cipher),
            text(&r.host_key_alg),
            text(&r.host_key_fingerprint),
            r.auth_methods
                .as_ref()
                .map(|m| m.join(","))
                .unwrap_or_default(),
            text(&r.uid),
            text(&r.sudo),
            text(&r.python),
            facts,
            r.duration_ms.to_string(),
        ])?;
        self.writer.flush()
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.writer.flush()
    }
}
