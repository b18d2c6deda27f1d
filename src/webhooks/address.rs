//! Where webhooks may go (SSRF rules): `https://` to a public address only. Private,
//! loopback, link-local, unique-local, CGNAT, multicast, unspecified, documentation and
//! reserved addresses are refused, at registration and again for each address a name
//! resolves to at send time (against DNS rebinding). `http://127.0.0.1` and `http://[::1]`
//! are allowed only when the `webhook_allow_loopback_http` setting is on (tests, local
//! development).

use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address may not be sent to, or `None` when it may.
pub fn refused(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => "an unspecified address",
        (127, ..) => "a loopback address",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "a private address",
        (169, 254, _) => "a link-local address",
        (100, 64..=127, _) => "a shared (CGNAT) address",
        (224..=239, ..) => "a multicast address",
        (240..=255, ..) => "a reserved address",
        (192, 0, 0) | (198, 18..=19, _) => "a reserved address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        _ => return None,
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refused_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return refused_v4(Ipv4Addr::new(a, b, c, d));
    }
    Some(match s[0] {
        _ if ip.is_unspecified() => "an unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a site-local address",
        0xfc00..=0xfdff => "a unique-local address",
        0xff00..=0xffff => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        // ::/96 (IPv4-compatible) and the rest of ::/8 are reserved.
        0x0000..=0x00ff => "a reserved address",
        _ => return None,
    })
}

/// A URL that passed [`check_url`]: https to a host name, or loopback http when allowed.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `https://` to a name, to be resolved (and each address checked) when sending.
    Named(Url),
    /// `http://127.0.0.1` or `http://[::1]` under `webhook_allow_loopback_http`.
    Loopback(Url),
}

/// Checks the shape of a webhook URL; the names it leaves are resolved and checked by the
/// caller ([`refused`] for each address).
pub fn check_url(raw: &str, allow_loopback_http: bool) -> Result<Target, String> {
    let url = Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; authenticate with the signature".into());
    }
    if url.fragment().is_some() {
        return Err("must not carry a fragment".into());
    }
    let host = url.host_str().ok_or("must name a host")?;
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    match (url.scheme(), literal) {
        ("http", Some(ip)) if allow_loopback_http && ip.is_loopback() => Ok(Target::Loopback(url)),
        ("https", None) => {
            let name = url.host_str().unwrap_or_default().trim_end_matches('.');
            if name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
            {
                return Err("must not point at this machine (localhost)".into());
            }
            Ok(Target::Named(url))
        }
        ("https", Some(ip)) => Err(match refused(ip) {
            Some(why) => format!("must not point at {why} ({ip})"),
            None => format!("must name a host, not an IP address ({ip})"),
        }),
        _ => Err("must be an https:// URL".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused_and_public_ones_are_not() {
        for ip in [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(refused(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
        ] {
            assert!(refused(ip.parse().unwrap()).is_none(), "{ip}");
        }
    }

    #[test]
    fn only_https_to_names_and_allowed_loopback_http_pass() {
        assert!(matches!(
            check_url("https://hooks.example.com/x", false),
            Ok(Target::Named(_))
        ));
        assert!(check_url("http://example.com/x", true).is_err());
        assert!(check_url("https://10.0.0.1/x", true).is_err());
        assert!(check_url("https://169.254.169.254/", true).is_err());
        assert!(check_url("https://localhost/", true).is_err());
        assert!(check_url("https://user:pw@example.com/", false).is_err());
        assert!(check_url("http://127.0.0.1:8080/x", false).is_err());
        assert!(matches!(
            check_url("http://127.0.0.1:8080/x", true),
            Ok(Target::Loopback(_))
        ));
        assert!(matches!(
            check_url("http://[::1]:8080/x", true),
            Ok(Target::Loopback(_))
        ));
    }
}
