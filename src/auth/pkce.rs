//! PKCE (RFC 7636) with the S256 method only, and the random values of a sign-in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::secret::{Nonce, PkceVerifier, Secret, State};

/// base64url without padding (RFC 7636 Appendix A; RFC 7515 §2).
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The verifier from 32 random bytes: 43 characters of base64url (RFC 7636 §4.1).
pub fn verifier_from_bytes(random: &[u8; 32]) -> PkceVerifier {
    PkceVerifier::new(b64url(random))
}

/// `BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2, S256).
pub fn challenge_s256(verifier: &PkceVerifier) -> String {
    b64url(&Sha256::digest(verifier.expose().as_bytes()))
}

/// The fresh single-use values one sign-in needs, made from 96 random bytes.
pub struct SignInSecrets {
    pub verifier: PkceVerifier,
    pub state: State,
    pub nonce: Nonce,
}

impl SignInSecrets {
    pub fn from_random(random: &[u8; 96]) -> Self {
        let mut v = [0u8; 32];
        v.copy_from_slice(&random[..32]);
        Self {
            verifier: verifier_from_bytes(&v),
            state: State::new(b64url(&random[32..64])),
            nonce: Nonce::new(b64url(&random[64..96])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn matches_the_rfc_7636_appendix_b_vector() {
        let bytes: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = verifier_from_bytes(&bytes);
        assert_eq!(
            verifier.expose(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        assert_eq!(
            challenge_s256(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn sign_in_values_are_distinct_and_url_safe() {
        let mut random = [0u8; 96];
        for (i, b) in random.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        let s = SignInSecrets::from_random(&random);
        assert_eq!(s.verifier.expose().len(), 43);
        assert_ne!(s.state.expose(), s.nonce.expose());
        for v in [s.verifier.expose(), s.state.expose(), s.nonce.expose()] {
            assert!(v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }
}
