//! Bearer-token authentication, shared by both protocols.
//!
//! Tokens are kept only as SHA-256 digests: a presented token is hashed and its
//! digest compared in constant time, so neither memory dumps of the config in use
//! nor response timing give the secret away. The authenticated subject handed to
//! processors is a short prefix of the digest: stable per token, not reversible.

use std::sync::Arc;

use http::HeaderMap;
use sha2::{Digest, Sha256};

use super::config::AuthConfig;

/// The configured tokens, by digest.
#[derive(Clone)]
pub(crate) struct Auth {
    tokens: Arc<[([u8; 32], Arc<str>)]>,
}

/// Why a request was not authenticated (the text is safe to send back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// No `authorization` header or metadata.
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
    pub(crate) fn new(config: &AuthConfig) -> Self {
        let tokens = config
            .bearer_tokens
            .iter()
            .map(|t| {
                let digest: [u8; 32] = Sha256::digest(t.as_bytes()).into();
                let alias = alias(&digest);
                (digest, alias)
            })
            .collect();
        Auth { tokens }
    }

    /// Checks the `authorization` header and gives the subject alias of its token.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<Arc<str>, AuthError> {
        let value = headers
            .get(http::header::AUTHORIZATION)
            .ok_or(AuthError::Missing)?;
        let value = value.to_str().map_err(|_| AuthError::Malformed)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Malformed);
        }
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
        let auth = Auth::new(&AuthConfig {
            bearer_tokens: vec!["alpha".into(), "beta".into()],
        });
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
    }
}
