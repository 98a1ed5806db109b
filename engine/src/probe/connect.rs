//! Stage 2: the TCP connection, trying each resolved address in turn.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};

use tokio::net::TcpStream;

use super::outcome::Failure;
use crate::category::Category;

pub async fn connect(addrs: &[IpAddr], port: u16) -> Result<(TcpStream, IpAddr), Failure> {
    let mut last = None;
    for &ip in addrs {
        match TcpStream::connect(SocketAddr::new(ip, port)).await {
            Ok(stream) => {
                // A probe is a chain of small round trips; Nagle would delay each.
                let _ = stream.set_nodelay(true);
                return Ok((stream, ip));
            }
            Err(e) => last = Some(classify(SocketAddr::new(ip, port), &e)),
        }
    }
    Err(last
        .unwrap_or_else(|| Failure::at_home(Category::TcpUnreachable, "no address to connect to")))
}

fn classify(addr: SocketAddr, error: &std::io::Error) -> Failure {
    let category = match error.kind() {
        ErrorKind::ConnectionRefused => Category::TcpRefused,
        ErrorKind::TimedOut => Category::TcpTimeout,
        _ => Category::TcpUnreachable,
    };
    Failure::at_home(category, format!("connect to {addr}: {error}"))
}
