//! Name resolution for webhooks, behind one small trait so the SSRF rules are checked on
//! what a name resolves to at registration and again at the moment of connecting (against
//! DNS rebinding), and so tests can make a name change its answer between the two.

use crate::webhooks::address::refused;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;

/// Resolves a host name to socket addresses.
#[async_trait::async_trait]
pub trait Lookup: Send + Sync + 'static {
    /// Every address `host` resolves to, with `port`.
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

/// The system resolver (`getaddrinfo` through tokio).
pub struct SystemLookup;

#[async_trait::async_trait]
impl Lookup for SystemLookup {
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }
}

/// Resolves `host` and checks every address it resolves to; why it may not be sent to.
pub async fn check_resolves_public(
    lookup: &dyn Lookup,
    host: &str,
    port: u16,
) -> Result<(), String> {
    let addrs = lookup
        .lookup(host, port)
        .await
        .map_err(|e| format!("the host `{host}` does not resolve: {e}"))?;
    if addrs.is_empty() {
        return Err(format!("the host `{host}` does not resolve"));
    }
    for a in addrs {
        if let Some(why) = refused(a.ip()) {
            return Err(format!(
                "`{host}` resolves to {why} ({}); webhooks go to public addresses only",
                a.ip()
            ));
        }
    }
    Ok(())
}

/// The webhook client's resolver: keeps only public addresses, so a name that resolves to
/// private, loopback or link-local addresses when sending (say, after a DNS rebinding) is
/// not connected to, and the attempt fails saying which address was refused.
pub(super) struct PublicOnly(pub(super) Arc<dyn Lookup>);

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let (lookup, host) = (self.0.clone(), name.as_str().to_string());
        Box::pin(async move {
            let all = lookup.lookup(&host, 0).await?;
            let (public, refused_ones): (Vec<SocketAddr>, Vec<SocketAddr>) =
                all.into_iter().partition(|a| refused(a.ip()).is_none());
            if public.is_empty() {
                let why = refused_ones
                    .first()
                    .and_then(|a| refused(a.ip()).map(|why| format!("{why} ({})", a.ip())))
                    .unwrap_or_else(|| "nothing".into());
                return Err(format!(
                    "`{host}` now resolves to {why} and no public address: refused by the webhook address rules (DNS rebinding?)"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}
