//! One GET of weir's `/metrics`: a blocking HTTP/1.0 request over a plain
//! `TcpStream`. The endpoint is weir's own, plain HTTP, usually on 127.0.0.1;
//! an HTTP client crate (and an async runtime) would buy nothing here.

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Longest wait to connect, and for the whole answer.
const TIMEOUT: Duration = Duration::from_secs(5);
/// A `/metrics` page larger than this is not weir's.
const MAX_BODY: u64 = 64 << 20;

/// Where to scrape: `host:port` plus a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port`.
    pub authority: String,
    /// The path, `/metrics` unless the address named one.
    pub path: String,
}

impl Endpoint {
    /// Reads `127.0.0.1:8888`, `http://127.0.0.1:8888` or
    /// `http://host:port/some/path`.
    pub fn parse(address: &str) -> Result<Self, String> {
        let a = address.trim();
        if a.starts_with("https://") {
            return Err(format!(
                "`{address}`: weir serves its metrics over plain HTTP; use host:port"
            ));
        }
        let a = a.strip_prefix("http://").unwrap_or(a);
        let (authority, path) = match a.find('/') {
            Some(i) => (&a[..i], &a[i..]),
            None => (a, "/metrics"),
        };
        if authority.is_empty() || !authority.contains(':') {
            return Err(format!(
                "`{address}`: expected host:port, e.g. 127.0.0.1:8888"
            ));
        }
        Ok(Endpoint {
            authority: authority.to_string(),
            path: path.to_string(),
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path == "/metrics" {
            f.write_str(&self.authority)
        } else {
            write!(f, "{}{}", self.authority, self.path)
        }
    }
}

/// Why a scrape failed.
#[derive(Debug)]
pub enum ScrapeError {
    /// Nothing answered (refused, unreachable, timed out, bad host).
    Unreachable(String),
    /// Something answered, but not with a metrics page.
    BadAnswer(String),
}

impl fmt::Display for ScrapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScrapeError::Unreachable(m) | ScrapeError::BadAnswer(m) => f.write_str(m),
        }
    }
}

/// GETs the metrics page at `endpoint`.
pub fn fetch(endpoint: &Endpoint) -> Result<String, ScrapeError> {
    let unreachable = |e: &dyn fmt::Display| {
        ScrapeError::Unreachable(format!(
            "cannot reach weir at {endpoint}: {e}; is weir running, with \
             service.telemetry.metrics.address set to this address?"
        ))
    };
    let addrs = endpoint
        .authority
        .to_socket_addrs()
        .map_err(|e| unreachable(&e))?;
    let mut last = None;
    let mut stream = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, TIMEOUT) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let Some(mut stream) = stream else {
        return Err(match last {
            Some(e) => unreachable(&e),
            None => unreachable(&"the host name has no address"),
        });
    };
    let io = |e: std::io::Error| ScrapeError::BadAnswer(format!("reading {endpoint}: {e}"));
    stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
    // HTTP/1.0: the answer is never chunked and ends when the server closes.
    let request = format!(
        "GET {} HTTP/1.0\r\nHost: {}\r\nAccept: text/plain\r\n\r\n",
        endpoint.path, endpoint.authority
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    stream.take(MAX_BODY).read_to_end(&mut raw).map_err(io)?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| ScrapeError::BadAnswer(format!("{endpoint} did not answer with HTTP")))?;
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        let line = head.lines().next().unwrap_or("");
        return Err(ScrapeError::BadAnswer(format!(
            "{endpoint}{} answered `{line}`, not a metrics page",
            if endpoint.path == "/metrics" {
                "/metrics"
            } else {
                ""
            }
        )));
    }
    Ok(body.to_string())
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn addresses() {
        let e = Endpoint::parse("127.0.0.1:8888").unwrap();
        assert_eq!(e.authority, "127.0.0.1:8888");
        assert_eq!(e.path, "/metrics");
        let e = Endpoint::parse("http://localhost:9/x/metrics").unwrap();
        assert_eq!(e.authority, "localhost:9");
        assert_eq!(e.path, "/x/metrics");
        assert!(Endpoint::parse("https://a:1").is_err());
        assert!(Endpoint::parse("8888").is_err());
    }

    #[test]
    fn a_closed_port_is_unreachable_with_a_hint() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = fetch(&Endpoint::parse(&format!("127.0.0.1:{port}")).unwrap()).unwrap_err();
        assert!(matches!(e, ScrapeError::Unreachable(_)), "{e}");
        assert!(e.to_string().contains("cannot reach weir"), "{e}");
    }

    #[test]
    fn reads_the_body_of_a_200_and_refuses_other_answers() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            for answer in [
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nweir_x 1\n",
                "HTTP/1.0 404 Not Found\r\n\r\nno",
            ] {
                let (mut s, _) = listener.accept().unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.ends_with(b"\r\n\r\n") {
                    let n = s.read(&mut buf).unwrap();
                    assert!(n > 0, "the request ends with a blank line");
                    request.extend_from_slice(&buf[..n]);
                }
                assert!(request.starts_with(b"GET /metrics HTTP/1.0\r\n"));
                s.write_all(answer.as_bytes()).unwrap();
            }
        });
        let e = Endpoint::parse(&addr).unwrap();
        assert_eq!(fetch(&e).unwrap(), "weir_x 1\n");
        let err = fetch(&e).unwrap_err();
        assert!(matches!(err, ScrapeError::BadAnswer(_)), "{err}");
        assert!(err.to_string().contains("404"), "{err}");
        server.join().unwrap();
    }
}
