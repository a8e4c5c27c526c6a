//! `form_encode` then `parse_query` gives the pairs back (or `Duplicate` when a name repeats);
//! `with_query` keeps the base and adds exactly the pairs; the encoders emit only unreserved
//! characters and `%XX`, and `decode_component` undoes them.
//!
//! Input: strings separated by the byte 0xFF (never part of UTF-8), read as name, value,
//! name, value, ... (each lossily decoded), so seeds can be written by hand.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus::url::{
    decode_component, encode_component, encode_path_segment, form_encode, parse_query, with_query,
    QueryError,
};

fn only_unreserved_or_escapes(s: &str, keep: &[u8]) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            assert!(
                b.len() > i + 2
                    && b[i + 1..i + 3]
                        .iter()
                        .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)),
                "bad escape in {s:?}"
            );
            i += 3;
        } else {
            assert!(
                b[i].is_ascii_alphanumeric() || keep.contains(&b[i]),
                "{s:?}"
            );
            i += 1;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let strings: Vec<String> = data
        .split(|b| *b == 0xFF)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    let pairs: Vec<(String, String)> = strings
        .chunks(2)
        .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_default()))
        .collect();
    let unique = pairs
        .iter()
        .enumerate()
        .all(|(i, (k, _))| pairs[..i].iter().all(|(e, _)| e != k));
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let encoded = form_encode(refs.iter().copied());
    only_unreserved_or_escapes(&encoded, b".-_~=&");
    // Pairs whose name is empty and value is empty encode to "=", which reads back as ("", "").
    let parsed = parse_query(&encoded);
    if unique {
        assert_eq!(parsed.as_ref(), Ok(&pairs), "round trip of {encoded:?}");
        let url = with_query("https://api.example/w?x=1", refs.iter().copied());
        let (base, q) = url.split_once('?').expect("a query");
        assert_eq!(base, "https://api.example/w");
        let back = parse_query(q);
        if pairs.iter().all(|(k, _)| k != "x") {
            let mut want = vec![("x".to_owned(), "1".to_owned())];
            want.extend(pairs.iter().cloned());
            assert_eq!(back, Ok(want));
        }
    } else {
        assert!(
            matches!(parsed, Err(QueryError::Duplicate(_))),
            "repeated names accepted: {encoded:?} -> {parsed:?}"
        );
    }
    for (k, v) in &pairs {
        let e = encode_component(k);
        only_unreserved_or_escapes(&e, b".-_~");
        assert_eq!(decode_component(&e).as_deref(), Some(k.as_str()));
        let p = encode_path_segment(v);
        only_unreserved_or_escapes(&p, b"-_~");
        assert!(p != "." && p != ".." && !p.contains('/'));
        assert_eq!(decode_component(&p).as_deref(), Some(v.as_str()));
    }
});
