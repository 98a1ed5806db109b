//! Which asset (or system user of an asset) a result is about, the same way for resume,
//! `--from` and `diff`: name, host and port as the inventory gave them, and the system user
//! for a system user's result. The name alone is not enough (two rows may share it), nor
//! the address (one host may be listed under several names, or ports).

use std::fmt;

use crate::report::Record;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    pub name: String,
    pub host: String,
    /// `None` for a row that had no valid port.
    pub port: Option<u16>,
    /// `None` for the asset's own result.
    pub system_user: Option<String>,
}

impl Identity {
    pub fn new(name: &str, host: &str, port: Option<u16>, system_user: Option<&str>) -> Identity {
        Identity {
            name: name.to_string(),
            host: host.to_string(),
            port,
            system_user: system_user.map(str::to_string),
        }
    }

    pub fn of(record: &Record) -> Identity {
        Identity::new(
            &record.name,
            &record.host,
            record.port,
            record.system_user.as_deref(),
        )
    }

    /// The asset's own identity, for a system user's.
    pub fn asset(&self) -> Identity {
        Identity {
            system_user: None,
            ..self.clone()
        }
    }

    /// `name (user)`, or the name alone for the asset's own result; not escaped.
    pub fn subject(&self) -> String {
        crate::report::subject(&self.name, self.system_user.as_deref())
    }

    /// `host:port`, IPv6 in brackets; the host alone without a port.
    pub fn address(&self) -> String {
        match self.port {
            Some(port) => crate::address::authority(&self.host, port),
            None => self.host.clone(),
        }
    }
}

/// `name (user) at host:port`, as people read it; the text is not escaped.
impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.subject(), self.address())
    }
}
