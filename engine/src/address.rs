//! How a host and port are written: in messages and URLs (`[v6]:port`), and in
//! known_hosts (`host` on 22, `[host]:port` otherwise).

/// `host:port` as URLs and messages write it, an IPv6 address in brackets.
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The name known_hosts files use for a host and port.
pub fn known_hosts_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_in_brackets() {
        assert_eq!(authority("10.0.0.1", 22), "10.0.0.1:22");
        assert_eq!(authority("::1", 2222), "[::1]:2222");
        assert_eq!(known_hosts_name("::1", 22), "::1");
        assert_eq!(known_hosts_name("::1", 2222), "[::1]:2222");
        assert_eq!(known_hosts_name("web", 2222), "[web]:2222");
    }
}
