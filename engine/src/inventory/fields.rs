//! Parsing of single inventory values, shared by every inventory style.

use std::net::IpAddr;

use crate::text;

/// The longest excerpt of a cell that a message or an invalid row copies, in bytes as
/// written ([`text::excerpt`]).
pub const EXCERPT: usize = 200;

/// A cell as messages quote it: [`text::excerpt`] of [`EXCERPT`] bytes. A bad cell can be
/// as long as a row; what it says is clear from its start.
pub fn excerpt(text: &str) -> String {
    text::excerpt(text, EXCERPT).into_owned()
}

pub fn port(value: &str) -> Result<u16, String> {
    match value.trim().parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        Ok(p) => Err(format!("port {p} is out of range 1-65535")),
        Err(_) => Err(format!(
            "port \"{}\" is not a number",
            excerpt(value.trim())
        )),
    }
}

/// JumpServer writes `True`/`False`; people write anything else on this list.
pub fn active(value: &str) -> Result<bool, String> {
    match value.trim().to_lowercase().as_str() {
        "" | "true" | "yes" | "y" | "1" | "on" | "是" | "激活" => Ok(true),
        "false" | "no" | "n" | "0" | "off" | "否" | "未激活" => Ok(false),
        other => Err(format!(
            "\"{}\" is not a boolean (true/false)",
            excerpt(other)
        )),
    }
}

/// What a JumpServer protocols cell says about SSH: `["ssh/22","sftp/22"]` (3.x+),
/// `ssh/22 rdp/3389` (2.x) or a bare `ssh` (1.4, with the port in its own column).
#[derive(Debug, PartialEq, Eq)]
pub enum SshProtocol {
    Port(u16),
    DefaultPort,
    Absent(String),
}

pub fn ssh_protocol(value: &str) -> Result<SshProtocol, String> {
    let cleaned: String = value
        .chars()
        .map(|c| {
            if matches!(c, '[' | ']' | '"' | '\'' | ',') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let entries: Vec<&str> = cleaned.split_whitespace().collect();
    if entries.is_empty() {
        return Ok(SshProtocol::DefaultPort);
    }
    for entry in &entries {
        let (name, port_text) = entry.split_once('/').unwrap_or((entry, ""));
        if name.eq_ignore_ascii_case("ssh") {
            return if port_text.is_empty() {
                Ok(SshProtocol::DefaultPort)
            } else {
                port(port_text).map(SshProtocol::Port)
            };
        }
    }
    Ok(SshProtocol::Absent(excerpt(&entries.join(" "))))
}

/// JumpServer 3.x exports related objects as `name(uuid)`; we want the name.
pub fn object_name(value: &str) -> &str {
    let value = value.trim();
    if let Some(open) = value.rfind('(')
        && value.ends_with(')')
    {
        let inner = &value[open + 1..value.len() - 1];
        if inner.len() >= 32 && inner.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return value[..open].trim_end();
        }
    }
    value
}

/// Lists in one cell, separated by `;`, `,` or `|`.
pub fn list(value: &str) -> Vec<String> {
    value
        .split([';', ',', '|'])
        .map(|item| object_name(item).to_string())
        .filter(|item| !item.is_empty())
        .collect()
}

/// An address as the inventory gave it: an IP literal or a DNS host name. Anything else is
/// refused here, so nothing odd ever reaches a resolver, a known_hosts line or a report
/// consumer's shell.
pub fn host(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("host is empty".into());
    }
    let unbracketed = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(value);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Ok(ip.to_string());
    }
    if value.len() > 253 {
        return Err(format!(
            "host name is {} characters long (at most 253)",
            value.len()
        ));
    }
    let name = value.strip_suffix('.').unwrap_or(value);
    for label in name.split('.') {
        let valid = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(format!(
                "\"{}\" is neither an IP address nor a valid host name",
                excerpt(value)
            ));
        }
    }
    Ok(value.to_string())
}

/// `host`, `host:port`, `[v6]:port` or a bare IPv6 address, as in plain host lists.
pub fn host_and_port(value: &str) -> Result<(String, Option<u16>), String> {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("\"{}\": missing ']'", excerpt(value)))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(port(p)?),
            None if after.is_empty() => None,
            None => return Err(format!("\"{}\": unexpected text after ']'", excerpt(value))),
        };
        return Ok((host(addr)?, port));
    }
    if value.parse::<IpAddr>().is_ok() {
        return Ok((host(value)?, None));
    }
    match value.rsplit_once(':') {
        Some((h, p)) => Ok((host(h)?, Some(port(p)?))),
        None => Ok((host(value)?, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_in_every_export_style() {
        assert_eq!(
            ssh_protocol(r#"["ssh/2222","sftp/22"]"#),
            Ok(SshProtocol::Port(2222))
        );
        assert_eq!(ssh_protocol("rdp/3389 ssh/22"), Ok(SshProtocol::Port(22)));
        assert_eq!(ssh_protocol("ssh"), Ok(SshProtocol::DefaultPort));
        assert_eq!(
            ssh_protocol(r#"["rdp/3389"]"#),
            Ok(SshProtocol::Absent("rdp/3389".into()))
        );
        assert!(ssh_protocol("ssh/0").is_err());
    }

    #[test]
    fn object_names_lose_their_uuid_only() {
        assert_eq!(
            object_name("ops-root(6b8d0f6c-2b1e-4f5e-9d55-0c8c1c7e2a11)"),
            "ops-root"
        );
        assert_eq!(object_name("web (prod)"), "web (prod)");
    }

    #[test]
    fn hostile_hosts_are_refused() {
        for bad in [
            "a;reboot",
            "$(id)",
            "../x",
            "-oProxyCommand=x",
            "a b",
            "",
            &"a".repeat(300),
        ] {
            assert!(host(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            host("web-1.example.internal").unwrap(),
            "web-1.example.internal"
        );
        assert_eq!(host("[::1]").unwrap(), "::1");
    }

    #[test]
    fn plain_list_entries() {
        assert_eq!(
            host_and_port("10.0.0.5:2222").unwrap(),
            ("10.0.0.5".into(), Some(2222))
        );
        assert_eq!(host_and_port("[::1]:22").unwrap(), ("::1".into(), Some(22)));
        assert_eq!(host_and_port("fe80::1").unwrap(), ("fe80::1".into(), None));
        assert_eq!(host_and_port("db").unwrap(), ("db".into(), None));
        assert!(host_and_port("db:99999").is_err());
    }

    #[test]
    fn messages_quote_an_excerpt_of_a_long_cell() {
        let long = "x".repeat(10_000);
        for message in [
            port(&long).unwrap_err(),
            active(&long).unwrap_err(),
            host(&format!("{long}!")).unwrap_err(),
            host_and_port(&format!("[{long}")).unwrap_err(),
        ] {
            assert!(message.len() < 2 * EXCERPT, "{message}");
        }
        assert_eq!(excerpt("短い\u{1b}"), "短い\\u{1b}");
        let cut = excerpt(&"é".repeat(101));
        assert!(cut.len() <= EXCERPT && cut.ends_with("é…"), "{cut}");
    }

    #[test]
    fn booleans_and_ports() {
        assert_eq!(active("False"), Ok(false));
        assert_eq!(active("是"), Ok(true));
        assert!(active("maybe").is_err());
        assert!(port("0").is_err());
        assert!(port("22x").is_err());
    }
}
