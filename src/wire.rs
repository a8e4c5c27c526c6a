//! JSON as it arrives from the provider, the API, `config.json`, storage or another tab: read
//! with serde_json into `#[derive(Deserialize)]` types, under the rules the app has always
//! applied to it.
//!
//! - **The whole document is checked first** ([`check`]): well-formed (RFC 8259), nothing after
//!   the value, every string valid (no lone surrogates), every number finite, nesting within
//!   serde_json's 127 levels, and **no name twice in any object** — not only the names the app
//!   reads (serde's derive refuses those by itself), but also those it ignores: RFC 7519 §4
//!   lets a JWT parser refuse duplicate claim names, and refusing them everywhere leaves no room
//!   for two parsers to read one document differently. Linear time (the names of one object
//!   are kept in a `BTreeSet`, immune to hash flooding).
//! - **Objects are objects** ([`Object`]): serde's derived structs also accept a JSON array,
//!   read by position; every struct the app reads is wrapped so only an object will do.
//! - **Size is capped before parsing** ([`MAX_BODY_BYTES`]): each caller refuses a longer body
//!   with its own error.

use std::collections::BTreeSet;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{
    DeserializeOwned, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;

/// The longest answer read from the provider or the API, and the longest `config.json`.
/// Checked before serde_json runs.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Whether `body` is longer than [`MAX_BODY_BYTES`].
pub fn too_large(body: &str) -> bool {
    body.len() > MAX_BODY_BYTES
}

/// What a well-formed document holds at its top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Object,
    Other,
}

/// Checks the whole of `text` (the rules in the module's summary) without keeping anything.
pub fn check(text: &str) -> Result<Shape, serde_json::Error> {
    serde_json::from_str::<Checked>(text).map(|c| c.0)
}

/// Checks the whole of `text`, then reads it as a `T`.
pub fn read<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    check(text)?;
    serde_json::from_str(text)
}

/// Checks the whole of `text`, then reads it as a `T` that must be a JSON object.
pub fn read_object<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    read::<Object<T>>(text).map(|o| o.0)
}

/// One value, checked all the way down; `.0` says whether it is an object.
struct Checked(Shape);

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // `deserialize_any` makes serde_json decode every string and number, which
        // `IgnoredAny` would only skip over.
        d.deserialize_any(CheckVisitor).map(Checked)
    }
}

struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Shape::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut names = BTreeSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if !names.insert(name) {
                return Err(A::Error::custom("a name appears twice in one object"));
            }
            map.next_value::<Checked>()?;
        }
        Ok(Shape::Object)
    }
}

/// A `T` that must be a JSON object (a derived struct alone would also take an array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        d.deserialize_map(ObjectVisitor(PhantomData)).map(Object)
    }
}

/// `#[serde(deserialize_with = "crate::wire::object")]`: a struct field that must be an object.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Object::deserialize(d).map(|o| o.0)
}

/// `#[serde(deserialize_with = "crate::wire::objects")]`: a list whose items must be objects.
pub fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Vec::<Object<T>>::deserialize(d).map(|v| v.into_iter().map(|o| o.0).collect())
}

/// A member that should be an object, as found: the app decides what absent or wrong means
/// (`config.json` names the field at fault; a JWKS skips keys it can't use). Take it with
/// `#[serde(default)]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Member<T> {
    #[default]
    Absent,
    Object(T),
    /// Any other value, `null` included.
    Other,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Member<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MemberVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for MemberVisitor<T> {
            type Value = Member<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Member<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Member::Object)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Member::Other)
            }

            fn visit_bool<E>(self, _: bool) -> Result<Member<T>, E> {
                Ok(Member::Other)
            }

            fn visit_i64<E>(self, _: i64) -> Result<Member<T>, E> {
                Ok(Member::Other)
            }

            fn visit_u64<E>(self, _: u64) -> Result<Member<T>, E> {
                Ok(Member::Other)
            }

            fn visit_f64<E>(self, _: f64) -> Result<Member<T>, E> {
                Ok(Member::Other)
            }

            fn visit_str<E>(self, _: &str) -> Result<Member<T>, E> {
                Ok(Member::Other)
            }

            fn visit_unit<E>(self) -> Result<Member<T>, E> {
                Ok(Member::Other)
            }
        }

        d.deserialize_any(MemberVisitor(PhantomData))
    }
}

/// A member read as a string when it is one, and as `None` when it is absent or any other
/// value: for claims and key parameters whose wrong type means "not there". Take it with
/// `#[serde(default)]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_str<E>(self, s: &str) -> Result<Text, E> {
                Ok(Text(Some(s.to_owned())))
            }

            fn visit_string<E>(self, s: String) -> Result<Text, E> {
                Ok(Text(Some(s)))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }

            fn visit_bool<E>(self, _: bool) -> Result<Text, E> {
                Ok(Text(None))
            }

            fn visit_i64<E>(self, _: i64) -> Result<Text, E> {
                Ok(Text(None))
            }

            fn visit_u64<E>(self, _: u64) -> Result<Text, E> {
                Ok(Text(None))
            }

            fn visit_f64<E>(self, _: f64) -> Result<Text, E> {
                Ok(Text(None))
            }

            fn visit_unit<E>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
        }

        d.deserialize_any(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        a: u64,
        b: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Numbers {
        int: Option<u64>,
        small: Option<u32>,
        float: Option<f64>,
    }

    fn int(text: &str) -> Option<u64> {
        read_object::<Numbers>(&format!(r#"{{"int":{text}}}"#))
            .ok()?
            .int
    }

    fn float(text: &str) -> Option<f64> {
        read_object::<Numbers>(&format!(r#"{{"float":{text}}}"#))
            .ok()?
            .float
    }

    #[test]
    fn reads_every_kind_of_value() {
        let v: serde_json::Value =
            read(r#" {"a": [1, -2.5e3, true, false, null, "x"], "b": {}} "#).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": [1, -2500.0, true, false, null, "x"], "b": {}})
        );
        assert_eq!(check("[]").unwrap(), Shape::Other);
        assert_eq!(check(r#"{"a":1}"#).unwrap(), Shape::Object);
        assert_eq!(check("\"x\"").unwrap(), Shape::Other);
    }

    #[test]
    fn reads_escapes_unicode_and_surrogate_pairs() {
        let s = |t: &str| read::<String>(t).unwrap();
        assert_eq!(s(r#""q\"b\\s\/\b\f\n\r\t""#), "q\"b\\s/\u{8}\u{c}\n\r\t");
        assert_eq!(s(r#""\u00e9\u4E2D""#), "é中");
        assert_eq!(s(r#""\ud83d\ude00""#), "😀");
        assert_eq!(s("\"raw é 😀\""), "raw é 😀");
        assert_eq!(s(r#""\u0000""#), "\0");
    }

    #[test]
    fn refuses_bad_strings_even_where_nothing_reads_them() {
        for bad in [
            r#""\ud83d""#,       // lone high surrogate
            r#""\ud83d\u0041""#, // high surrogate without a low one
            r#""\ude00""#,       // lone low surrogate
            r#""\x""#,           // unknown escape
            r#""\u12""#,         // short hex
            r#""\u12g4""#,       // bad hex
            "\"tab\there\"",     // raw control character
            "\"unterminated",    // no closing quote
            r#""\"#,             // escape at the end
        ] {
            assert!(check(bad).is_err(), "{bad}");
            // Also inside a member that the type being read ignores.
            let hidden = format!(r#"{{"a":1,"ignored":[{bad}]}}"#);
            assert!(read_object::<Pair>(&hidden).is_err(), "{hidden}");
            let key = format!(r#"{{"a":1,{bad}:1}}"#);
            assert!(read_object::<Pair>(&key).is_err(), "{key}");
        }
    }

    #[test]
    fn reads_numbers_strictly() {
        assert_eq!(int("3600"), Some(3600));
        assert_eq!(int("3600.0"), None);
        assert_eq!(int("-1"), None);
        assert_eq!(int("1e3"), None);
        assert_eq!(float("1e3"), Some(1000.0));
        assert_eq!(float("1.5E+2"), Some(150.0));
        assert_eq!(float("-0.25e-2"), Some(-0.0025));
        assert_eq!(int("18446744073709551615"), Some(u64::MAX));
        // Beyond u64: still a number, not an integer.
        assert_eq!(int("18446744073709551616"), None);
        assert_eq!(float("18446744073709551616"), Some(18446744073709551616.0));
        assert_eq!(float("1e308"), Some(1e308));
        assert_eq!(int("0"), Some(0));
        assert!(read_object::<Numbers>(r#"{"small":4294967295}"#).is_ok());
        assert!(read_object::<Numbers>(r#"{"small":4294967296}"#).is_err());
        for bad in [
            "01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "1e400", "-1e400",
        ] {
            assert!(check(bad).is_err(), "{bad}");
            // Out of range is refused even where nothing reads the number.
            let hidden = format!(r#"{{"a":1,"ignored":{bad}}}"#);
            assert!(read_object::<Pair>(&hidden).is_err(), "{hidden}");
        }
    }

    #[test]
    fn refuses_trailing_garbage_and_bad_structure() {
        for bad in [
            "",
            " ",
            "{} x",
            "[1] [2]",
            "nul",
            "truex",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "{\"a\":}",
            "[1 2]",
            "{",
            "[",
            "'x'",
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refuses_duplicate_names_anywhere() {
        assert!(check(r#"{"a":1,"a":2}"#).is_err());
        assert!(check(r#"{"a":{"b":1,"b":1}}"#).is_err());
        assert!(check(r#"[{"b":1,"b":1}]"#).is_err());
        // Same name in different objects is fine.
        assert!(check(r#"{"a":{"b":1},"b":{"b":2}}"#).is_ok());
        // A duplicate of a field the type reads, and of one it ignores.
        assert!(read_object::<Pair>(r#"{"a":1,"a":1}"#).is_err());
        assert!(read_object::<Pair>(r#"{"a":1,"x":1,"x":2}"#).is_err());
        // serde_json with a derived type alone refuses only the first kind.
        assert!(serde_json::from_str::<Pair>(r#"{"a":1,"a":1}"#).is_err());
        assert!(serde_json::from_str::<Pair>(r#"{"a":1,"x":1,"x":2}"#).is_ok());
    }

    #[test]
    fn a_struct_is_only_read_from_an_object() {
        // What serde's derive alone would accept:
        assert!(serde_json::from_str::<Pair>(r#"[1, null]"#).is_ok());
        assert!(read_object::<Pair>(r#"[1, null]"#).is_err());
        assert_eq!(
            read_object::<Pair>(r#"{"b":"x","a":1,"unknown":[{}]}"#).unwrap(),
            Pair {
                a: 1,
                b: Some("x".into())
            }
        );
        #[derive(Deserialize)]
        struct Outer {
            #[serde(deserialize_with = "object")]
            one: Pair,
            #[serde(deserialize_with = "objects")]
            many: Vec<Pair>,
        }
        let outer = read_object::<Outer>(r#"{"one":{"a":1},"many":[{"a":2}]}"#).unwrap();
        assert_eq!((outer.one.a, outer.many[0].a), (1, 2));
        assert!(read_object::<Outer>(r#"{"one":[1,null],"many":[{"a":2}]}"#).is_err());
        assert!(read_object::<Outer>(r#"{"one":{"a":1},"many":[[2,null]]}"#).is_err());
    }

    #[test]
    fn members_and_texts_say_what_they_found() {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            section: Member<Pair>,
            #[serde(default)]
            text: Text,
        }
        let doc = |t: &str| read_object::<Doc>(t).unwrap();
        assert_eq!(doc("{}").section, Member::Absent);
        assert_eq!(doc(r#"{"section":null}"#).section, Member::Other);
        assert_eq!(doc(r#"{"section":[1,2]}"#).section, Member::Other);
        assert_eq!(doc(r#"{"section":"x"}"#).section, Member::Other);
        assert_eq!(
            doc(r#"{"section":{"a":3}}"#).section,
            Member::Object(Pair { a: 3, b: None })
        );
        // Inside an object, the type's own rules hold.
        assert!(read_object::<Doc>(r#"{"section":{"a":"3"}}"#).is_err());
        assert_eq!(doc("{}").text, Text(None));
        assert_eq!(doc(r#"{"text":"t"}"#).text, Text(Some("t".into())));
        for other in ["1", "-1", "1.5", "true", "null", "[\"t\"]", "{\"t\":1}"] {
            assert_eq!(doc(&format!(r#"{{"text":{other}}}"#)).text, Text(None));
        }
    }

    #[test]
    fn limits_nesting_depth() {
        // serde_json's limit: 127 levels.
        let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert!(check(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(check(&deep).is_err());
        // Far too deep must fail cleanly, not overflow the stack.
        assert!(check(&"[".repeat(100_000)).is_err());
        assert!(check(&"{\"a\":".repeat(100_000)).is_err());
    }

    #[test]
    fn caps_the_size() {
        assert!(!too_large(&"a".repeat(MAX_BODY_BYTES)));
        assert!(too_large(&"a".repeat(MAX_BODY_BYTES + 1)));
    }

    #[test]
    fn reports_the_line_and_column_of_an_error() {
        let e = check("{\n  \"a\": x\n}").unwrap_err();
        assert_eq!((e.line(), e.column()), (2, 8));
        let e = check("{\"a\":1,\n \"a\":2}").unwrap_err();
        assert_eq!(e.line(), 2);
    }

    #[test]
    fn writes_strings_with_correct_escapes() {
        let text =
            serde_json::to_string("q\"b\\s/\u{8}\u{c}\n\r\t\u{1}\u{1f} é 😀 \u{2028}").unwrap();
        assert_eq!(
            text,
            "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f é 😀 \u{2028}\""
        );
        // Everything written reads back the same.
        assert_eq!(
            read::<String>(&text).unwrap(),
            "q\"b\\s/\u{8}\u{c}\n\r\t\u{1}\u{1f} é 😀 \u{2028}"
        );
    }

    #[test]
    fn writes_compact_documents_in_field_order() {
        #[derive(Serialize)]
        struct Doc<'a> {
            a: &'a str,
            n: u64,
            list: (Option<u8>, bool),
        }
        assert_eq!(
            serde_json::to_string(&Doc {
                a: "x",
                n: 42,
                list: (None, true)
            })
            .unwrap(),
            r#"{"a":"x","n":42,"list":[null,true]}"#
        );
    }
}
