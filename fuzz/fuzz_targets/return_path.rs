//! Post-sign-in return paths: arbitrary text into `sanitize_return_path`.
//!
//! Properties: the result is `/` or the input unchanged; a kept input starts with `/` but not
//! `//` or `/\`, has no ASCII control character, whitespace or backslash, and its path (the
//! part before the first `?` or `#`), percent-decoded, neither starts with `//` nor contains
//! `\`, `:` or a control character — so no browser can read it as another origin or a scheme.
//! Sanitising is idempotent. Decoding twice is deliberately not checked: `/%252F%252Fx` is
//! kept and only a second decode makes it `//x`, which matters only where a path is decoded
//! twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus::url::sanitize_return_path;
use nimbus_fuzz::{allow_known, percent_decode_lossy};

fuzz_target!(|input: &str| {
    let out = sanitize_return_path(input);
    assert_eq!(
        sanitize_return_path(&out),
        out,
        "not idempotent for {input:?}"
    );
    if out == "/" {
        return;
    }
    assert_eq!(out, input, "neither \"/\" nor the input");
    assert!(out.starts_with('/'), "{out:?}");
    assert!(!out.starts_with("//") && !out.starts_with("/\\"), "{out:?}");
    assert!(
        !out.bytes()
            .any(|b| b.is_ascii_control() || b.is_ascii_whitespace() || b == b'\\'),
        "{out:?} has a control character, whitespace or a backslash"
    );
    assert!(
        !out.chars().any(char::is_whitespace),
        "{out:?} has Unicode whitespace"
    );
    // Its path, percent-decoded once (leniently: a stray `%` stays, bad UTF-8 is replaced).
    let path = &out[..out.find(['?', '#']).unwrap_or(out.len())];
    let decoded = percent_decode_lossy(path);
    assert!(!decoded.starts_with("//"), "{out:?} decodes to {decoded:?}");
    assert!(!decoded.contains('\\'), "{out:?} decodes to {decoded:?}");
    assert!(
        !decoded.contains(':') || allow_known("return-path-encoded-colon"),
        "{out:?} decodes to {decoded:?}"
    );
    assert!(
        !decoded.chars().any(char::is_control),
        "{out:?} decodes to {decoded:?}"
    );
});
