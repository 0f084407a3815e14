//! Bearer-token and API-key authentication, shared by the network receivers.
//!
//! Tokens are kept only as SHA-256 digests: a presented token is hashed and its
//! digest compared in constant time, so neither memory dumps of the config in use
//! nor response timing give the secret away. The authenticated subject handed to
//! processors is a short prefix of the digest: stable per token, not reversible.

use std::net::SocketAddr;
use std::sync::Arc;

use http::HeaderMap;
use sha2::{Digest, Sha256};
use weir_core::ClientInfo;

/// The configured tokens, by digest.
#[derive(Clone)]
pub(crate) struct Auth {
    tokens: Arc<[([u8; 32], Arc<str>)]>,
    /// Whether `X-API-Key: <token>` is taken as well as `Authorization: Bearer`
    /// (the Ledger SDK's other header).
    x_api_key: bool,
}

/// Why a request was not authenticated (the text is safe to send back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// No `authorization` header or metadata (nor `x-api-key` where taken).
    Missing,
    /// Not `Bearer <token>`.
    Malformed,
    /// A bearer token that is not configured.
    Unknown,
}

impl AuthError {
    pub(crate) fn message(self) -> &'static str {
        match self {
            AuthError::Missing => "missing `authorization: Bearer <token>`",
            AuthError::Malformed => "`authorization` is not `Bearer <token>`",
            AuthError::Unknown => "unknown bearer token",
        }
    }
}

impl Auth {
    /// Accepts `tokens` as `Authorization: Bearer <token>`, and as
    /// `X-API-Key: <token>` too when `x_api_key`.
    pub(crate) fn new(tokens: &[String], x_api_key: bool) -> Self {
        let tokens = tokens
            .iter()
            .map(|t| {
                let digest: [u8; 32] = Sha256::digest(t.as_bytes()).into();
                let alias = alias(&digest);
                (digest, alias)
            })
            .collect();
        Auth { tokens, x_api_key }
    }

    /// Checks the `authorization` header (else `x-api-key`, where taken) and
    /// gives the subject alias of its token.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<Arc<str>, AuthError> {
        let token = match headers.get(http::header::AUTHORIZATION) {
            Some(value) => {
                let value = value.to_str().map_err(|_| AuthError::Malformed)?;
                let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Malformed)?;
                if !scheme.eq_ignore_ascii_case("bearer") {
                    return Err(AuthError::Malformed);
                }
                token
            }
            None if self.x_api_key => headers
                .get("x-api-key")
                .ok_or(AuthError::Missing)?
                .to_str()
                .map_err(|_| AuthError::Malformed)?,
            None => return Err(AuthError::Missing),
        };
        let digest: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
        // Look at every token whatever matches, so timing says nothing either.
        let mut found = None;
        for (d, alias) in self.tokens.iter() {
            if ct_eq(d, &digest) {
                found = Some(alias);
            }
        }
        found.cloned().ok_or(AuthError::Unknown)
    }
}

/// Authenticates a request when `auth` is on, and says who sent it: one
/// small allocation per request, shared by the batch it becomes.
pub(crate) fn client_info(
    auth: Option<&Auth>,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Arc<ClientInfo>, AuthError> {
    let mut client = ClientInfo::from_addr(peer);
    if let Some(auth) = auth {
        client.subject = Some(auth.check(headers)?);
    }
    Ok(Arc::new(client))
}

/// `tok-` and the first 8 hex digits of the digest.
fn alias(digest: &[u8; 32]) -> Arc<str> {
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("tok-{hex}").into()
}

fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn accepts_configured_tokens_and_names_them_by_alias() {
        let auth = Auth::new(&["alpha".into(), "beta".into()], false);
        let a = auth.check(&headers("Bearer alpha")).unwrap();
        let b = auth.check(&headers("bearer beta")).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("tok-") && a.len() == 12, "{a}");
        assert!(!a.contains("alpha"));
        assert_eq!(
            auth.check(&headers("Bearer gamma")),
            Err(AuthError::Unknown)
        );
        assert_eq!(
            auth.check(&headers("Basic alpha")),
            Err(AuthError::Malformed)
        );
        assert_eq!(auth.check(&headers("alpha")), Err(AuthError::Malformed));
        assert_eq!(auth.check(&HeaderMap::new()), Err(AuthError::Missing));
        let mut key = HeaderMap::new();
        key.insert("x-api-key", "alpha".parse().unwrap());
        assert_eq!(auth.check(&key), Err(AuthError::Missing), "bearer only");
    }

    #[test]
    fn api_keys_come_as_bearer_or_x_api_key_and_alias_alike() {
        let auth = Auth::new(&["ledger_abc".into()], true);
        let mut key = HeaderMap::new();
        key.insert("x-api-key", "ledger_abc".parse().unwrap());
        let by_header = auth.check(&key).unwrap();
        assert_eq!(
            auth.check(&headers("Bearer ledger_abc")).unwrap(),
            by_header
        );
        key.insert("x-api-key", "other".parse().unwrap());
        assert_eq!(auth.check(&key), Err(AuthError::Unknown));
    }
}
