//! Signature verification with the browser's WebCrypto (`SubtleCrypto.importKey` + `verify`,
//! RSASSA-PKCS1-v1_5 with SHA-256): no RSA code in the bundle.

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
