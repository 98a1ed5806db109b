//! A jump host as `-J` and `ProxyJump` write it: `[user@]host[:port]` or
//! `ssh://[user@]host[:port]`.

use crate::inventory::fields;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpSpec {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl std::str::FromStr for JumpSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<JumpSpec, String> {
        let text = text.trim();
        let rest = text.strip_prefix("ssh://").unwrap_or(text);
        let (user, address) = match rest.rsplit_once('@') {
            Some((user, address)) => (Some(user), address),
            None => (None, rest),
        };
        if let Some(user) = user
            && (user.is_empty() || user.chars().any(|c| c.is_control() || c.is_whitespace()))
        {
            return Err(format!(
                "{text:?}: the user before @ is empty or not a name"
            ));
        }
        if text.contains(',') {
            return Err(format!(
                "{text:?}: one jump host only (a chain of them is not supported)"
            ));
        }
        let (host, port) = fields::host_and_port(address).map_err(|e| format!("{text:?}: {e}"))?;
        Ok(JumpSpec {
            user: user.map(str::to_string),
            host,
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_host_and_port_as_ssh_writes_them() {
        let spec: JumpSpec = "ops@bastion:2222".parse().unwrap();
        assert_eq!(
            spec,
            JumpSpec {
                user: Some("ops".into()),
                host: "bastion".into(),
                port: Some(2222)
            }
        );
        let plain: JumpSpec = "ssh://[::1]".parse().unwrap();
        assert_eq!(
            (plain.user, plain.host, plain.port),
            (None, "::1".into(), None)
        );
        assert!("@bastion".parse::<JumpSpec>().is_err());
        assert!("a,b".parse::<JumpSpec>().is_err());
        assert!("ops@".parse::<JumpSpec>().is_err());
    }
}
