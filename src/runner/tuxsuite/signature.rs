//! TuxSuite's callback signatures: ECDSA on NIST P-256 with SHA-256, the
//! DER signature in the `x-tux-payload-signature` header as base64, checked
//! against the group's OpenSSH public key(s).
//!
//! Which bytes are signed changed over time, so both are accepted: first
//! the raw body; then, if the body is a JSON string literal, the UTF-8 bytes
//! of the string it contains (TuxSuite double-encoded its callbacks for a
//! while). Nothing here parses the payload itself or does any I/O.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-tux-payload-signature";

/// A P-256 public key ready to verify with.
#[derive(Debug, Clone)]
pub struct PublicKey {
    /// SEC1-encoded point, as ring wants it.
    point: Vec<u8>,
}

/// Which bytes the signature covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// The raw request body.
    Raw,
    /// The content of the JSON string that is the body.
    Inner,
}

/// Why a signature does not hold. The messages are safe to send back: they
/// never include the expected signature, a key or the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing x-tux-payload-signature header")]
    Missing,
    #[error("signature is not base64")]
    Encoding,
    #[error("signature does not match any configured key")]
    Mismatch,
}

impl PublicKey {
    /// Parses one OpenSSH public key line (`ecdsa-sha2-nistp256 AAAA...
    /// [comment]`).
    pub fn from_openssh(line: &str) -> Result<PublicKey, String> {
        let key = ssh_key::PublicKey::from_openssh(line.trim())
            .map_err(|e| format!("not an OpenSSH public key line ({e})"))?;
        match key.key_data().ecdsa() {
            Some(ec @ ssh_key::public::EcdsaPublicKey::NistP256(_)) => Ok(PublicKey {
                point: ec.as_sec1_bytes().to_vec(),
            }),
            _ => Err(format!(
                "a {} key; TuxSuite signs with ecdsa-sha2-nistp256",
                key.algorithm()
            )),
        }
    }

    /// Whether two keys are the same key, whatever their comments.
    pub fn same_as(&self, other: &PublicKey) -> bool {
        self.point == other.point
    }

    fn verifies(&self, message: &[u8], der: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.point)
            .verify(message, der)
            .is_ok()
    }
}

/// Decodes base64 in the URL-safe or the standard alphabet, with or without
/// padding.
/// The DER signature in a header value: base64 in either alphabet, with or
/// without padding, of a DER SEQUENCE no longer than a P-256 signature
/// can be.
pub fn decode(header: &[u8]) -> Option<Vec<u8>> {
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let header = header.trim_ascii();
    // A P-256 DER signature is at most 72 bytes: 96 characters of base64.
    if header.len() > 128 {
        return None;
    }
    [
        GeneralPurpose::new(&alphabet::URL_SAFE, config),
        GeneralPurpose::new(&alphabet::STANDARD, config),
    ]
    .iter()
    .find_map(|engine| engine.decode(header).ok())
    .filter(|der| (8..=72).contains(&der.len()) && der[0] == 0x30)
}

/// Verifies `body` against the signature header value with any of `keys`,
/// and says which form of the body was signed.
pub fn verify(
    keys: &[PublicKey],
    header: Option<&[u8]>,
    body: &[u8],
) -> Result<Signed, VerifyError> {
    let header = header
        .filter(|h| !h.trim_ascii().is_empty())
        .ok_or(VerifyError::Missing)?;
    let der = decode(header).ok_or(VerifyError::Encoding)?;
    if keys.iter().any(|k| k.verifies(body, &der)) {
        return Ok(Signed::Raw);
    }
    if let Some(inner) = inner_string(body) {
        if keys.iter().any(|k| k.verifies(inner.as_bytes(), &der)) {
            return Ok(Signed::Inner);
        }
    }
    Err(VerifyError::Mismatch)
}

/// The content of a body that is one JSON string literal, written exactly
/// as TuxSuite wrote it: Python's `json.dumps` of the inner document
/// (non-ASCII as `\uXXXX`), or the plain minimal encoding. Any other
/// spelling of the same string (extra escapes, whitespace) is refused, so
/// one captured callback cannot be re-wrapped into a different, larger
/// body that still verifies.
pub fn inner_string(body: &[u8]) -> Option<String> {
    if body.first() != Some(&b'"') {
        return None;
    }
    let inner = serde_json::from_slice::<String>(body).ok()?;
    let canonical = python_dumps(&inner).as_bytes() == body
        || serde_json::to_string(&inner).is_ok_and(|s| s.as_bytes() == body);
    canonical.then_some(inner)
}

/// A string as Python's `json.dumps` writes it with its defaults.
fn python_dumps(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

    /// A fresh key pair and its OpenSSH public line.
    pub fn keypair() -> (EcdsaKeyPair, String) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let ec =
            ssh_key::public::EcdsaPublicKey::from_sec1_bytes(pair.public_key().as_ref()).unwrap();
        let line = ssh_key::PublicKey::new(ec.into(), "test@kbridge")
            .to_openssh()
            .unwrap();
        (pair, line)
    }

    pub fn sign(pair: &EcdsaKeyPair, msg: &[u8], engine: &GeneralPurpose) -> String {
        let sig = pair.sign(&SystemRandom::new(), msg).unwrap();
        engine.encode(sig.as_ref())
    }

    const URL_SAFE_PADDED: GeneralPurpose = base64::engine::general_purpose::URL_SAFE;

    #[test]
    fn raw_body_signatures_verify_in_every_base64_form() {
        let (pair, line) = keypair();
        let key = PublicKey::from_openssh(&line).unwrap();
        let body = br#"{"kind": "test", "status": {"uid": "x"}}"#;
        for engine in [
            URL_SAFE_PADDED,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
        ] {
            let sig = sign(&pair, body, &engine);
            assert_eq!(
                verify(std::slice::from_ref(&key), Some(sig.as_bytes()), body),
                Ok(Signed::Raw)
            );
        }
    }

    #[test]
    fn double_encoded_bodies_verify_over_the_inner_string() {
        let (pair, line) = keypair();
        let key = PublicKey::from_openssh(&line).unwrap();
        let inner = r#"{"kind": "build", "status": {"uid": "y"}}"#;
        let body = serde_json::to_vec(inner).unwrap();
        let sig = sign(&pair, inner.as_bytes(), &URL_SAFE_PADDED);
        assert_eq!(
            verify(&[key], Some(sig.as_bytes()), &body),
            Ok(Signed::Inner)
        );
    }

    #[test]
    fn a_double_encoded_body_must_be_spelt_as_tuxsuite_spells_it() {
        let (pair, line) = keypair();
        let key = PublicKey::from_openssh(&line).unwrap();
        let inner =
            "{\"kind\": \"test\", \"status\": {\"uid\": \"y\", \"note\": \"d\u{e9}j\u{e0}\"}}";
        let sig = sign(&pair, inner.as_bytes(), &URL_SAFE_PADDED);
        // Python's json.dumps and the minimal encoding both verify.
        for body in [python_dumps(inner), serde_json::to_string(inner).unwrap()] {
            assert_eq!(
                verify(
                    std::slice::from_ref(&key),
                    Some(sig.as_bytes()),
                    body.as_bytes()
                ),
                Ok(Signed::Inner),
                "{body}"
            );
        }
        // The same string with gratuitous escapes, or padded, does not.
        let escaped = python_dumps(inner).replace("kind", "\\u006bind");
        let padded = format!("{}{}", python_dumps(inner), " ".repeat(100));
        for body in [escaped, padded, format!(" {}", python_dumps(inner))] {
            assert_eq!(
                verify(
                    std::slice::from_ref(&key),
                    Some(sig.as_bytes()),
                    body.as_bytes()
                ),
                Err(VerifyError::Mismatch),
                "{body}"
            );
        }
    }

    #[test]
    fn bad_signatures_are_rejected() {
        let (pair, line) = keypair();
        let (other, other_line) = keypair();
        let key = PublicKey::from_openssh(&line).unwrap();
        let body = b"{}";
        assert_eq!(
            verify(std::slice::from_ref(&key), None, body),
            Err(VerifyError::Missing)
        );
        assert_eq!(
            verify(std::slice::from_ref(&key), Some(b"  "), body),
            Err(VerifyError::Missing)
        );
        assert_eq!(
            verify(std::slice::from_ref(&key), Some(b"!!not base64!!"), body),
            Err(VerifyError::Encoding)
        );
        let over_other_bytes = sign(&pair, b"{ }", &URL_SAFE_PADDED);
        assert_eq!(
            verify(
                std::slice::from_ref(&key),
                Some(over_other_bytes.as_bytes()),
                body
            ),
            Err(VerifyError::Mismatch)
        );
        let by_other_key = sign(&other, body, &URL_SAFE_PADDED);
        assert_eq!(
            verify(
                std::slice::from_ref(&key),
                Some(by_other_key.as_bytes()),
                body
            ),
            Err(VerifyError::Mismatch)
        );
        // Rotation: with both keys configured, either verifies.
        let both = [key, PublicKey::from_openssh(&other_line).unwrap()];
        assert_eq!(
            verify(&both, Some(by_other_key.as_bytes()), body),
            Ok(Signed::Raw)
        );
    }

    #[test]
    fn only_p256_openssh_keys_are_accepted() {
        assert!(PublicKey::from_openssh("not a key").is_err());
        let ed =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG6bYhwzAUa3VUPZx3w0VsyHHJtFz6WsH1+b2mfr2i1J x";
        let err = PublicKey::from_openssh(ed).unwrap_err();
        assert!(err.contains("ecdsa-sha2-nistp256"), "{err}");
    }
}
