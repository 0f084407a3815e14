//! TLS for both listeners: rustls with the ring provider, PEM files read at start.

use std::path::PathBuf;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use weir_core::ComponentError;

use schemars::JsonSchema;
use serde::Deserialize;

/// ALPN for the gRPC listener: HTTP/2 only.
pub(crate) const ALPN_GRPC: &[&[u8]] = &[b"h2"];
/// ALPN for the HTTP listener: HTTP/2 preferred, HTTP/1.1 too.
pub(crate) const ALPN_HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];

/// TLS settings, shared by every listener of a receiver.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the certificate chain, leaf first; read when the receiver
    /// starts (a missing file fails the run, not `weir validate`).
    pub cert_file: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1); read when the
    /// receiver starts.
    pub key_file: PathBuf,
}

/// The certificate chain and key, read once and shared by both listeners.
pub(crate) struct Identity {
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// Reads the PEM files; errors name the file.
    pub(crate) fn load(config: &TlsConfig) -> Result<Self, ComponentError> {
        let cert_path = config.cert_file.display();
        let certs = CertificateDer::pem_file_iter(&config.cert_file)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                ComponentError::new(format!(
                    "cannot read TLS certificates from {cert_path}: {e}"
                ))
            })?;
        if certs.is_empty() {
            return Err(ComponentError::new(format!(
                "no PEM certificate in {cert_path}"
            )));
        }
        let key = PrivateKeyDer::from_pem_file(&config.key_file).map_err(|e| {
            ComponentError::new(format!(
                "cannot read the TLS private key from {}: {e}",
                config.key_file.display()
            ))
        })?;
        Ok(Identity { certs, key })
    }

    /// An acceptor offering `alpn` protocols.
    pub(crate) fn acceptor(&self, alpn: &[&[u8]]) -> Result<TlsAcceptor, ComponentError> {
        let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .and_then(|b| {
                b.with_no_client_auth()
                    .with_single_cert(self.certs.clone(), self.key.clone_key())
            })
            .map_err(|e| ComponentError::new(format!("invalid TLS certificate or key: {e}")))?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}
