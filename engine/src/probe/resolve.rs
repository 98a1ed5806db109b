//! Stage 1: host name to addresses, with hickory and either the system's resolver
//! configuration or `--nameserver`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;

use super::outcome::Failure;
use crate::category::Category;

pub struct Resolver {
    inner: Result<TokioResolver, String>,
}

impl Resolver {
    /// The system configuration (/etc/resolv.conf, /etc/hosts). If it cannot be read, IP
    /// literals still work and names fail with `dns_error` saying why.
    pub fn system(timeout: Duration) -> Resolver {
        let inner = TokioResolver::builder_tokio()
            .map(|mut builder| {
                tune(builder.options_mut(), timeout);
                builder
            })
            .and_then(|builder| builder.build())
            .map_err(|e| format!("cannot use the system's DNS configuration: {e}"));
        Resolver { inner }
    }

    /// Only `server`, over UDP with TCP fallback; no search domains.
    pub fn nameserver(server: SocketAddr, timeout: Duration) -> Resolver {
        let mut udp = ConnectionConfig::udp();
        udp.port = server.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = server.port();
        let config = ResolverConfig::from_name_servers(vec![NameServerConfig::new(
            server.ip(),
            true,
            vec![udp, tcp],
        )]);
        let mut builder =
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        tune(builder.options_mut(), timeout);
        let inner = builder
            .build()
            .map_err(|e| format!("cannot use nameserver {server}: {e}"));
        Resolver { inner }
    }

    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, Failure> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let resolver = self
            .inner
            .as_ref()
            .map_err(|e| Failure::at_home(Category::DnsError, e.clone()))?;
        match resolver.lookup_ip(host).await {
            Ok(lookup) => {
                let addrs: Vec<IpAddr> = lookup.iter().collect();
                if addrs.is_empty() {
                    Err(no_records(host))
                } else {
                    Ok(addrs)
                }
            }
            Err(e) => Err(classify(host, &e)),
        }
    }
}

/// Two tries inside the stage budget, so one lost UDP packet does not fail the lookup.
fn tune(options: &mut ResolverOpts, timeout: Duration) {
    options.timeout = timeout / 2;
    options.attempts = 2;
}

fn no_records(host: &str) -> Failure {
    Failure::at_home(
        Category::DnsNoRecords,
        format!("{host} exists in DNS but has no A or AAAA record"),
    )
}

fn classify(host: &str, error: &NetError) -> Failure {
    if error.is_nx_domain() {
        return Failure::at_home(
            Category::DnsNxdomain,
            format!("{host} does not exist in DNS (NXDOMAIN)"),
        );
    }
    match error {
        NetError::Dns(DnsError::NoRecordsFound(records))
            if records.response_code == ResponseCode::NoError =>
        {
            no_records(host)
        }
        NetError::Timeout => Failure::at_home(
            Category::DnsTimeout,
            format!("no DNS answer for {host} in time"),
        ),
        NetError::Dns(DnsError::ResponseCode(code)) => Failure::at_home(
            Category::DnsError,
            format!("DNS lookup of {host} failed: {code}"),
        ),
        other => Failure::at_home(
            Category::DnsError,
            format!("DNS lookup of {host} failed: {other}"),
        ),
    }
}
