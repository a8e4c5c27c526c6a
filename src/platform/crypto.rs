//! The browser's WebCrypto: ID-token signature verification (`SubtleCrypto.importKey` +
//! `verify`, RSASSA-PKCS1-v1_5 with SHA-256; no RSA code in the bundle), and AES-256-GCM
//! `seal`/`open` for sessions shared between tabs (`auth::tabs`).

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

use crate::auth::jwks::RsaKey;

const ALGORITHM: &str = "RSASSA-PKCS1-v1_5";

fn object(pairs: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o
}

/// Whether `signature` over `data` verifies with `key` as RS256. `Err` when the browser can't
/// import the key or verify at all.
pub async fn verify_rs256(key: &RsaKey, data: &[u8], signature: &[u8]) -> Result<bool, ()> {
    let subtle = web_sys::window()
        .ok_or(())?
        .crypto()
        .map_err(|_| ())?
        .subtle();
    let jwk = object(&[
        ("kty", "RSA"),
        ("n", &key.n),
        ("e", &key.e),
        ("alg", "RS256"),
    ]);
    let _ = Reflect::set(&jwk, &JsValue::from_str("ext"), &JsValue::TRUE);
    let algorithm = object(&[("name", ALGORITHM), ("hash", "SHA-256")]);
    let usages = Array::of1(&JsValue::from_str("verify"));
    let imported = subtle
        .import_key_with_object("jwk", &jwk, &algorithm, false, &usages)
        .map_err(|_| ())?;
    let crypto_key: CryptoKey = JsFuture::from(imported)
        .await
        .map_err(|_| ())?
        .unchecked_into();
    let verified = subtle
        .verify_with_str_and_u8_array_and_u8_array(ALGORITHM, &crypto_key, signature, data)
        .map_err(|_| ())?;
    Ok(JsFuture::from(verified).await.map_err(|_| ())?.as_bool() == Some(true))
}

const AES_GCM: &str = "AES-GCM";

/// Imports a raw AES-256 key, not extractable, for `usage` only.
async fn aes_key(
    subtle: &web_sys::SubtleCrypto,
    key: &[u8; 32],
    usage: &str,
) -> Result<CryptoKey, ()> {
    let raw = js_sys::Uint8Array::from(&key[..]);
    let algorithm = object(&[("name", AES_GCM)]);
    let usages = Array::of1(&JsValue::from_str(usage));
    let imported = subtle
        .import_key_with_object("raw", &raw, &algorithm, false, &usages)
        .map_err(|_| ())?;
    Ok(JsFuture::from(imported)
        .await
        .map_err(|_| ())?
        .unchecked_into())
}

/// `{name: "AES-GCM", iv, additionalData}` (128-bit tag, the default).
fn gcm_params(nonce: &[u8], associated_data: &[u8]) -> Object {
    let params = object(&[("name", AES_GCM)]);
    let _ = Reflect::set(
        &params,
        &JsValue::from_str("iv"),
        &js_sys::Uint8Array::from(nonce),
    );
    let _ = Reflect::set(
        &params,
        &JsValue::from_str("additionalData"),
        &js_sys::Uint8Array::from(associated_data),
    );
    params
}

fn subtle() -> Result<web_sys::SubtleCrypto, ()> {
    Ok(web_sys::window()
        .ok_or(())?
        .crypto()
        .map_err(|_| ())?
        .subtle())
}

/// AES-256-GCM encryption (WebCrypto): ciphertext with its 16-byte tag.
pub async fn seal(
    key: &[u8; 32],
    nonce: &[u8; 12],
    associated_data: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, ()> {
    let subtle = subtle()?;
    let key = aes_key(&subtle, key, "encrypt").await?;
    let done = subtle
        .encrypt_with_object_and_u8_array(&gcm_params(nonce, associated_data), &key, plaintext)
        .map_err(|_| ())?;
    let buffer = JsFuture::from(done).await.map_err(|_| ())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// AES-256-GCM decryption (WebCrypto). `Err` when the tag doesn't verify: a wrong key, altered
/// bytes or other associated data.
pub async fn open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    associated_data: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, ()> {
    let subtle = subtle()?;
    let key = aes_key(&subtle, key, "decrypt").await?;
    let done = subtle
        .decrypt_with_object_and_u8_array(&gcm_params(nonce, associated_data), &key, ciphertext)
        .map_err(|_| ())?;
    let buffer = JsFuture::from(done).await.map_err(|_| ())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
