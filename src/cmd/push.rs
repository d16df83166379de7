//! `validate --push URL`: PUT the metrics to a Prometheus Pushgateway, over plain HTTP/1.1 on a
//! `std::net::TcpStream`.
//!
//! One request, no redirects, no TLS: the Pushgateway's API is a single `PUT
//! /metrics/job/<job>/instance/<instance>` with the text exposition as its body (PUT replaces
//! every metric of that group, so gauges of a backup no longer validated do not linger;
//! prometheus/pushgateway README "PUT method"). A label value that is not a plain path segment
//! is sent base64url-encoded as `<label>@base64/<value>` (README "URL"), an empty one as `=`.
//! `https://` is refused before anything runs: a hand-written client without TLS would send
//! the metrics in clear to a server the user believes is encrypted.

use super::Error;
use base64::Engine as _;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long connecting, sending and waiting for the answer may each take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How long to wait for `100 Continue` before sending the body anyway.
const CONTINUE_WAIT: Duration = Duration::from_secs(2);

/// Reads until the end of a response head (`\r\n\r\n`), at most 64 KiB, into `buf`.
fn read_head(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

/// A parsed `http://host[:port][/path]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// The path prefix, without a trailing `/` (`""` for the root).
    pub prefix: String,
}

/// Parses `--push URL`. Only `http://`; no user info, query or fragment.
pub fn parse_url(url: &str) -> Result<Target, Error> {
    let refuse = |why: &str| Error::new(format!("--push {url}: {why}"));
    if url.len() >= 8 && url[..8].eq_ignore_ascii_case("https://") {
        return Err(refuse(
            "https is not supported (the built-in client speaks plain HTTP only); push to an http:// address, e.g. the Pushgateway's in-cluster Service, or through a local TLS proxy",
        ));
    }
    let rest = match url.get(..7) {
        Some(s) if s.eq_ignore_ascii_case("http://") => &url[7..],
        _ => return Err(refuse("not an http:// URL (e.g. http://pushgateway:9091)")),
    };
    if rest.contains(['?', '#', '@']) || rest.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(refuse(
            "give only http://host[:port][/path] (no user, query or fragment)",
        ));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (host, port) = if let Some(h) = authority.strip_prefix('[') {
        // [IPv6]:port
        let (h, after) = h
            .split_once(']')
            .ok_or_else(|| refuse("unclosed [ in host"))?;
        (format!("[{h}]"), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(refuse("no host"));
    }
    let port = match port {
        None => 80,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| refuse("the port is not a number from 1 to 65535"))?,
    };
    Ok(Target {
        host,
        port,
        prefix: path.trim_end_matches('/').to_string(),
    })
}

/// One label of the grouping key as a path part.
fn segment(label: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
    if plain {
        format!("{label}/{value}")
    } else if value.is_empty() {
        format!("{label}@base64/=")
    } else {
        format!(
            "{label}@base64/{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
        )
    }
}

/// The request path for `job` and `instance`.
pub fn path(t: &Target, job: &str, instance: &str) -> String {
    format!(
        "{}/metrics/{}/{}",
        t.prefix,
        segment("job", job),
        segment("instance", instance)
    )
}

/// This machine's name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`): in a pod, the pod name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// PUTs `body` (text exposition) to the group `job`/`instance`. An answer other than 2xx is an
/// error naming the status and the start of the gateway's explanation.
pub fn push(url: &str, job: &str, instance: &str, body: &str) -> Result<(), Error> {
    let t = parse_url(url)?;
    let fail = |what: String| Error::new(format!("--push {url}: {what}"));
    let addrs: Vec<_> = (t.host.trim_start_matches('[').trim_end_matches(']'), t.port)
        .to_socket_addrs()
        .map_err(|e| fail(format!("cannot resolve {}: {e}", t.host)))?
        .collect();
    let mut stream = None;
    let mut last = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, TIMEOUT) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(format!("{a}: {e}")),
        }
    }
    let mut s = stream.ok_or_else(|| {
        fail(format!(
            "cannot connect: {}",
            last.unwrap_or_else(|| "no address".into())
        ))
    })?;
    let io = |e: std::io::Error| fail(e.to_string());
    s.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    s.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
    let host = if t.port == 80 {
        t.host.clone()
    } else {
        format!("{}:{}", t.host, t.port)
    };
    // `Expect: 100-continue` (RFC 9110 §10.1.1): a gateway that refuses the request (a wrong
    // path, 404) answers before the body is sent, instead of closing on an unread body, which
    // resets the connection and loses its answer.
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: etcd-autopsy/{}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        path(&t, job, instance),
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    s.write_all(head.as_bytes()).map_err(io)?;
    s.flush().map_err(io)?;
    // Wait a little for `100 Continue` or the final answer; a server that ignores the
    // expectation gets the body after the wait (RFC 9110 allows sending it anyway).
    s.set_read_timeout(Some(CONTINUE_WAIT)).map_err(io)?;
    let mut answer = Vec::new();
    let early = read_head(&mut s, &mut answer);
    s.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    let interim = match early {
        Ok(()) => answer.starts_with(b"HTTP/1.1 100") || answer.starts_with(b"HTTP/1.0 100"),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            true
        }
        Err(e) => return Err(io(e)),
    };
    if interim {
        answer.clear();
        s.write_all(body.as_bytes()).map_err(io)?;
        s.flush().map_err(io)?;
    }
    // The status line and a little of the body are all we need; never read without bound. A
    // reset after the answer arrived keeps what was read.
    if let Err(e) = (&mut s).take(64 * 1024).read_to_end(&mut answer) {
        if answer.is_empty() {
            return Err(io(e));
        }
    }
    let text = String::from_utf8_lossy(&answer);
    let status_line = text.lines().next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let (proto, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let reason = parts.next().unwrap_or("").trim();
    if !proto.starts_with("HTTP/1.") || code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(fail(format!(
            "not an HTTP answer: {}",
            crate::sanitize::capped(status_line, 80)
        )));
    }
    if code.starts_with('2') {
        return Ok(());
    }
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b).trim();
    let said = if body.is_empty() {
        String::new()
    } else {
        format!(": {}", crate::sanitize::capped(body, 200))
    };
    Err(fail(format!(
        "the Pushgateway answered HTTP {code} {reason}{said}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = parse_url("http://pushgateway.monitoring:9091/").unwrap();
        assert_eq!(
            t,
            Target {
                host: "pushgateway.monitoring".into(),
                port: 9091,
                prefix: String::new()
            }
        );
        assert_eq!(
            path(&t, "etcd-autopsy-validate", "master-0"),
            "/metrics/job/etcd-autopsy-validate/instance/master-0"
        );
        // Values that are not plain path segments go base64url (Pushgateway README "URL").
        assert_eq!(
            path(&t, "a/b", ""),
            "/metrics/job@base64/YS9i/instance@base64/="
        );
        let t = parse_url("http://[::1]:8080/pg").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.prefix.as_str()),
            ("[::1]", 8080, "/pg")
        );
        assert_eq!(parse_url("http://h").unwrap().port, 80);
        let e = parse_url("https://pg:9091").unwrap_err().to_string();
        assert!(e.contains("https is not supported"), "{e}");
        for bad in [
            "pg:9091",
            "http://",
            "http://h:0",
            "http://h:x",
            "http://u@h",
            "http://h/?a",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
