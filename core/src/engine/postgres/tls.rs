//! The connection string, and TLS through rustls as its `sslmode` asks.
//!
//! tokio-postgres reads libpq's keys but knows only `disable`, `prefer` and `require` for
//! `sslmode`, and no `sslrootcert`; both are taken out here and the rest is left to it.
//! As libpq:
//!
//! - no `sslmode`, `disable`, `allow`, `prefer`: a plain connection (the engine never
//!   tries TLS on its own);
//! - `require`: encrypted; the server's certificate is not checked, unless `sslrootcert`
//!   names the authorities to check it against (then as `verify-ca`);
//! - `verify-ca`: encrypted, and the certificate must chain to a trusted authority;
//! - `verify-full`: that, and the certificate must name the host connected to.
//!
//! Trusted authorities are those of the PEM file `sslrootcert` names, else (or with
//! `sslrootcert=system`) Mozilla's (webpki-roots).

use crate::error::{CpError, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::Arc;

/// How a connection string asks to be secured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SslMode {
    Plain,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A connection string with our keys taken out: what tokio-postgres parses, and how to
/// secure the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub config: String,
    pub mode: SslMode,
    pub root_cert: Option<String>,
    /// `pgbouncer=true`: the URL reaches the server through a pooler in transaction mode
    /// (see `PgOptions::pooler`).
    pub pooler: bool,
}

fn invalid(summary: String) -> CpError {
    CpError::new("INVALID_INPUT", summary, Some(serde_json::json!({ "field": "url" })))
}

/// Splits our keys (`sslmode`, `sslrootcert`, `pgbouncer`) out of a URL
/// (`postgres://...?sslmode=...`) or a key-value string (`host=... sslmode=...`).
pub fn parse_target(url: &str) -> Result<Target> {
    let mut mode = None;
    let mut root_cert = None;
    let mut pooler = false;
    let mut take = |key: &str, value: String| -> Result<bool> {
        match key {
            "pgbouncer" => {
                pooler = match value.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    other => return Err(invalid(format!("PostgreSQL: pgbouncer must be true or false, got {other:?}"))),
                };
                Ok(true)
            }
            "sslmode" => {
                mode = Some(match value.as_str() {
                    "disable" | "allow" | "prefer" => SslMode::Plain,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => return Err(invalid(format!("PostgreSQL: unknown sslmode {other:?}"))),
                });
                Ok(true)
            }
            "sslrootcert" => {
                root_cert = Some(value);
                Ok(true)
            }
            _ => Ok(false),
        }
    };
    let config = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_string(),
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    if !take(&percent_decode(key)?, percent_decode(value)?)? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let mut kept = Vec::new();
        for (key, value, text) in key_values(url)? {
            if !take(&key, value)? {
                kept.push(text);
            }
        }
        kept.join(" ")
    };
    let mode = match (mode, &root_cert) {
        (Some(SslMode::Require), Some(_)) => SslMode::VerifyCa,
        (Some(mode), _) => mode,
        (None, _) => SslMode::Plain,
    };
    Ok(Target { config, mode, root_cert, pooler })
}

fn percent_decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or_else(|| invalid(format!("PostgreSQL: a bad %-escape in the connection URL at {i}")))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid("PostgreSQL: the connection URL is not UTF-8 once decoded".into()))
}

/// The pairs of a key-value connection string, each with its own text (to pass on as
/// written): `key=value`, `key = 'quoted \' value'`.
fn key_values(text: &str) -> Result<Vec<(String, String, String)>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_space = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_space(&mut i);
        if i >= chars.len() {
            return Ok(out);
        }
        let start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        skip_space(&mut i);
        if chars.get(i) != Some(&'=') {
            return Err(invalid(format!("PostgreSQL: expected `=` after {key:?} in the connection string")));
        }
        i += 1;
        skip_space(&mut i);
        let mut value = String::new();
        if chars.get(i) == Some(&'\'') {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(invalid("PostgreSQL: an unterminated quote in the connection string".into())),
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        value.extend(chars.get(i + 1));
                        i += 2;
                    }
                    Some(&c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '\\' {
                    i += 1;
                }
                value.extend(chars.get(i));
                i += 1;
            }
        }
        out.push((key, value, chars[start..i.min(chars.len())].iter().collect()));
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// A TLS setting that cannot work (a file not read, a certificate refused): no retry fixes it.
fn unavailable(summary: String) -> CpError {
    super::errors::unavailable(summary, false)
}

/// The authorities to trust: the PEM file's, or Mozilla's.
fn roots(root_cert: Option<&str>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match root_cert {
        Some(path) if path != "system" => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| unavailable(format!("PostgreSQL: cannot read sslrootcert {path}: {e}")))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(unavailable(format!("PostgreSQL: sslrootcert {path} holds no certificate")));
            }
        }
        _ => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(roots)
}

/// The rustls configuration for a target that asks for TLS, `None` for a plain one.
pub fn client_config(target: &Target) -> Result<Option<ClientConfig>> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| unavailable(format!("PostgreSQL: TLS: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match target.mode {
        SslMode::Plain => return Ok(None),
        SslMode::Require => Arc::new(Unchecked(provider)),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots(target.root_cert.as_deref())?), provider)
                .build()
                .map_err(|e| unavailable(format!("PostgreSQL: TLS: {e}")))?;
            if target.mode == SslMode::VerifyCa {
                Arc::new(AnyName(webpki))
            } else {
                webpki
            }
        }
    };
    Ok(Some(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()))
}

/// `sslmode=require`: any certificate, as libpq (the handshake's signatures are still
/// checked, so the channel is encrypted to whoever holds the certificate's key).
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain is checked, the name in the certificate is not.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_keys_come_out_of_urls_and_key_value_strings() {
        let t = parse_target("postgres://u:p@h:5433/db?application_name=x&sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem").unwrap();
        assert_eq!(t.config, "postgres://u:p@h:5433/db?application_name=x");
        assert_eq!((t.mode, t.root_cert.as_deref()), (SslMode::VerifyFull, Some("/tmp/ca.pem")));
        let t = parse_target("postgresql://h/db?sslmode=require").unwrap();
        assert_eq!((t.config.as_str(), t.mode), ("postgresql://h/db", SslMode::Require));
        assert_eq!(parse_target("postgres://h/db?sslmode=require&sslrootcert=ca.pem").unwrap().mode, SslMode::VerifyCa);
        assert_eq!(parse_target("postgres://h/db").unwrap().mode, SslMode::Plain);
        assert_eq!(parse_target("postgres://h/db?sslmode=prefer").unwrap().mode, SslMode::Plain);
        let t = parse_target("host=h password='a \\' b' sslmode = verify-ca dbname=d").unwrap();
        assert_eq!(t.config, "host=h password='a \\' b' dbname=d");
        assert_eq!(t.mode, SslMode::VerifyCa);
        assert_eq!(parse_target("postgres://h/db?sslmode=bogus").unwrap_err().code, "INVALID_INPUT");
    }
}
