//! What every network receiver shares: listening (TCP_NODELAY, TLS, graceful
//! shutdown), bearer-token and API-key authentication, reading request bodies
//! under a size limit, and admission (memory budget, acknowledgements).

pub(crate) mod admission;
pub(crate) mod auth;
pub(crate) mod body;
pub(crate) mod listen;
pub(crate) mod tls;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use weir_core::ConfigError;

/// Parses `host:port` where host is an IP address (IPv6 in brackets) or
/// `localhost`. Names are refused: resolving them is I/O, and a name that
/// resolves to several addresses would make "where do we listen" ambiguous.
pub(crate) fn parse_endpoint(s: &str, path: &str) -> Result<SocketAddr, ConfigError> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad = |why: &str| {
        ConfigError::at(
            path,
            format!("invalid endpoint `{s}`: {why} (expected e.g. `127.0.0.1:4317`)"),
        )
    };
    let (host, port) = s.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| bad("the port is not a number 0-65535"))?;
    let ip = match host {
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        h => h
            .parse::<IpAddr>()
            .map_err(|_| bad("the host must be an IP address or `localhost`"))?,
    };
    Ok(SocketAddr::new(ip, port))
}
