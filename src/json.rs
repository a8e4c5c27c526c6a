//! A small, strict JSON (RFC 8259) reader and writer, and the typed field access the app needs:
//! config, discovery, JWKS, token responses, JWT headers and payloads, the weather API, and
//! what the app keeps in storage or tells other tabs. It replaces serde + serde_json, which
//! cost the bundle far more than this does.
//!
//! Policy: the whole input must be one value (trailing garbage is an error); nesting is limited
//! to [`MAX_DEPTH`] and input to [`MAX_LEN`] bytes; strings must be valid, with paired
//! surrogates; numbers must fit an `f64` (no infinities); a duplicate name in an object is an
//! error (RFC 7519 §4 lets a JWT parser reject duplicate claim names; accepting them opens the
//! door to parser differentials).

use std::fmt::Write as _;

/// Deepest nesting of arrays and objects accepted (serde_json's default limit).
pub const MAX_DEPTH: usize = 128;
/// Longest input accepted, in bytes (beyond sessionStorage's quota and any API answer).
pub const MAX_LEN: usize = 8 * 1024 * 1024;

/// A JSON value. Numbers keep their literal text, so integers are read exactly.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Value>),
    /// Members in document order, names unique.
    Object(Vec<(String, Value)>),
}

/// Where the input stopped being JSON (1-based line and byte column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub line: usize,
    pub column: usize,
}

impl Value {
    /// A member of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// A non-negative integer literal that fits a `u64` (`3600`, not `3600.0` or `-1`).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) if n.bytes().all(|b| b.is_ascii_digit()) => n.parse().ok(),
            _ => None,
        }
    }

    /// Any number, as the nearest `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// An object built from `(name, value)` pairs; `None` values are left out.
    pub fn object<const N: usize>(members: [(&str, Option<Value>); N]) -> Value {
        Value::Object(
            members
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_owned(), v?)))
                .collect(),
        )
    }

    /// Compact JSON text.
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self);
        out
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n.to_string())
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Number(n.to_string())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// Types the app writes as JSON.
pub trait ToJson {
    fn to_json(&self) -> Value;
}

/// Types the app reads from JSON; `None` when the value doesn't have their shape.
pub trait FromJson: Sized {
    fn from_json(v: &Value) -> Option<Self>;
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl FromJson for String {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_str().map(str::to_owned)
    }
}

impl ToJson for u64 {
    fn to_json(&self) -> Value {
        (*self).into()
    }
}

impl FromJson for u64 {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_u64()
    }
}

impl ToJson for u32 {
    fn to_json(&self) -> Value {
        (*self).into()
    }
}

impl FromJson for u32 {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_u64()?.try_into().ok()
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}

impl FromJson for bool {
    fn from_json(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl FromJson for f64 {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_f64()
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::to_json)
    }
}

/// `null` is `None`.
impl<T: FromJson> FromJson for Option<T> {
    fn from_json(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_json(v).map(Some),
        }
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(T::to_json).collect())
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_array()?.iter().map(T::from_json).collect()
    }
}

impl<T: ToJson + ?Sized> ToJson for Box<T> {
    fn to_json(&self) -> Value {
        (**self).to_json()
    }
}

impl<T: FromJson> FromJson for Box<T> {
    fn from_json(v: &Value) -> Option<Self> {
        T::from_json(v).map(Box::new)
    }
}

impl Value {
    /// A required member of an object, of type `T`.
    pub fn field<T: FromJson>(&self, key: &str) -> Option<T> {
        self.as_members()?;
        T::from_json(self.get(key)?)
    }

    /// An optional member: absent or `null` is `Some(None)`; the wrong type is `None`.
    pub fn opt_field<T: FromJson>(&self, key: &str) -> Option<Option<T>> {
        self.as_members()?;
        match self.get(key) {
            None => Some(None),
            Some(v) => Option::<T>::from_json(v),
        }
    }

    /// A member that takes its default when absent.
    pub fn field_or_default<T: FromJson + Default>(&self, key: &str) -> Option<T> {
        self.as_members()?;
        match self.get(key) {
            None => Some(T::default()),
            Some(v) => T::from_json(v),
        }
    }

    fn as_members(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
}

/// Parses JSON text into `T`.
pub fn from_str<T: FromJson>(text: &str) -> Option<T> {
    T::from_json(&parse(text).ok()?)
}

/// Writes `value` as compact JSON text.
pub fn to_string<T: ToJson + ?Sized>(value: &T) -> String {
    value.to_json().to_json_string()
}

/// Parses UTF-8 bytes (a decoded JWT segment).
pub fn parse_bytes(bytes: &[u8]) -> Result<Value, Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => Err(position(bytes, e.valid_up_to())),
    }
}

/// Parses one JSON value; nothing but whitespace may follow it.
pub fn parse(text: &str) -> Result<Value, Error> {
    let bytes = text.as_bytes();
    if bytes.len() > MAX_LEN {
        return Err(Error { line: 1, column: 1 });
    }
    let mut p = Parser { bytes, pos: 0 };
    let result = p.value(0).and_then(|v| {
        p.skip_ws();
        if p.pos == bytes.len() {
            Ok(v)
        } else {
            Err(())
        }
    });
    result.map_err(|()| position(bytes, p.pos))
}

fn position(bytes: &[u8], pos: usize) -> Error {
    let before = &bytes[..pos.min(bytes.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let column = 1 + before.iter().rev().take_while(|&&b| b != b'\n').count();
    Error { line, column }
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &[u8], v: Value) -> Result<Value, ()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(())
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ()> {
        self.skip_ws();
        match self.peek().ok_or(())? {
            b'n' => self.literal(b"null", Value::Null),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' | b'{' if depth >= MAX_DEPTH => Err(()),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.skip_ws();
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(());
                        }
                    }
                }
                Ok(Value::Array(items))
            }
            b'{' => {
                self.pos += 1;
                let mut members: Vec<(String, Value)> = Vec::new();
                self.skip_ws();
                if !self.eat(b'}') {
                    loop {
                        self.skip_ws();
                        if self.peek() != Some(b'"') {
                            return Err(());
                        }
                        let start = self.pos;
                        let key = self.string()?;
                        if members.iter().any(|(k, _)| *k == key) {
                            self.pos = start;
                            return Err(());
                        }
                        self.skip_ws();
                        if !self.eat(b':') {
                            return Err(());
                        }
                        let v = self.value(depth + 1)?;
                        members.push((key, v));
                        self.skip_ws();
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(());
                        }
                    }
                }
                Ok(Value::Object(members))
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(()),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, ()> {
        let start = self.pos;
        self.eat(b'-');
        if self.eat(b'0') {
            // No leading zeros.
        } else if self.digits() == 0 {
            return Err(());
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(());
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(());
            }
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).map_err(|_| ())?;
        // Out of f64's range is an error, not an infinity.
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Number(text.to_owned())),
            _ => {
                self.pos = start;
                Err(())
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ()> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(())?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16).ok_or(())?;
        }
        self.pos += 4;
        Ok(n)
    }

    fn string(&mut self) -> Result<String, ()> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            let start = self.pos;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            // The input is a &str and we stop only at ASCII bytes: always a char boundary.
            out.push_str(std::str::from_utf8(&self.bytes[start..self.pos]).map_err(|_| ())?);
            match self.peek().ok_or(())? {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let escaped = self.peek().ok_or(())?;
                    self.pos += 1;
                    let c = match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = match hi {
                                0xd800..=0xdbff => {
                                    if !(self.eat(b'\\') && self.eat(b'u')) {
                                        return Err(());
                                    }
                                    let lo = self.hex4()?;
                                    if !(0xdc00..=0xdfff).contains(&lo) {
                                        return Err(());
                                    }
                                    0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                                }
                                0xdc00..=0xdfff => return Err(()),
                                c => c,
                            };
                            char::from_u32(code).ok_or(())?
                        }
                        _ => return Err(()),
                    };
                    out.push(c);
                }
                // A raw control character.
                _ => return Err(()),
            }
        }
    }
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// A JSON string: `"` and `\` escaped, control characters as short escapes or `\u00XX`.
fn write_string(out: &mut String, s: &str) {
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
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn reads_every_kind_of_value() {
        let v = parse(r#" {"a": [1, -2.5e3, true, false, null, "x"], "b": {}} "#).unwrap();
        assert_eq!(
            v,
            Value::Object(vec![
                (
                    "a".into(),
                    Value::Array(vec![
                        Value::Number("1".into()),
                        Value::Number("-2.5e3".into()),
                        Value::Bool(true),
                        Value::Bool(false),
                        Value::Null,
                        s("x"),
                    ])
                ),
                ("b".into(), Value::Object(vec![])),
            ])
        );
        assert_eq!(parse("[]").unwrap(), Value::Array(vec![]));
    }

    #[test]
    fn reads_escapes_unicode_and_surrogate_pairs() {
        assert_eq!(
            parse(r#""q\"b\\s\/\b\f\n\r\t""#).unwrap(),
            s("q\"b\\s/\u{8}\u{c}\n\r\t")
        );
        assert_eq!(parse(r#""\u00e9\u4E2D""#).unwrap(), s("é中"));
        assert_eq!(parse(r#""\ud83d\ude00""#).unwrap(), s("😀"));
        assert_eq!(parse("\"raw é 😀\"").unwrap(), s("raw é 😀"));
        assert_eq!(parse(r#""\u0000""#).unwrap(), s("\0"));
    }

    #[test]
    fn refuses_bad_strings() {
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
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse_bytes(b"\"\xff\"").is_err());
    }

    #[test]
    fn reads_numbers_strictly() {
        let n = |t: &str| parse(t).unwrap();
        assert_eq!(n("3600").as_u64(), Some(3600));
        assert_eq!(n("3600.0").as_u64(), None);
        assert_eq!(n("-1").as_u64(), None);
        assert_eq!(n("1e3").as_u64(), None);
        assert_eq!(n("1e3").as_f64(), Some(1000.0));
        assert_eq!(n("1.5E+2").as_f64(), Some(150.0));
        assert_eq!(n("-0.25e-2").as_f64(), Some(-0.0025));
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        // Beyond u64: still a number, not an integer.
        assert_eq!(n("18446744073709551616").as_u64(), None);
        assert_eq!(
            n("18446744073709551616").as_f64(),
            Some(18446744073709551616.0)
        );
        assert_eq!(n("1e308").as_f64(), Some(1e308));
        assert_eq!(n("0").as_u64(), Some(0));
        for bad in [
            "01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "1e400", "-1e400",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
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
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refuses_duplicate_names() {
        assert!(parse(r#"{"a":1,"a":2}"#).is_err());
        assert!(parse(r#"{"a":{"b":1,"b":1}}"#).is_err());
        // Same name in different objects is fine.
        assert!(parse(r#"{"a":{"b":1},"b":{"b":2}}"#).is_ok());
    }

    #[test]
    fn limits_nesting_depth() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).is_err());
        // Far too deep must fail cleanly, not overflow the stack.
        assert!(parse(&"[".repeat(100_000)).is_err());
        assert!(parse(&"{\"a\":".repeat(100_000)).is_err());
    }

    #[test]
    fn limits_input_size() {
        let big = format!("\"{}\"", "a".repeat(MAX_LEN));
        assert!(parse(&big).is_err());
    }

    #[test]
    fn reports_the_line_and_column_of_an_error() {
        assert_eq!(parse("{\n  \"a\": x\n}"), Err(Error { line: 2, column: 8 }));
        assert_eq!(parse("[1,\n2,\n"), Err(Error { line: 3, column: 1 }));
    }

    #[test]
    fn writes_strings_with_correct_escapes() {
        let text = s("q\"b\\s/\u{8}\u{c}\n\r\t\u{1}\u{1f} é 😀 \u{2028}").to_json_string();
        assert_eq!(
            text,
            "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f é 😀 \u{2028}\""
        );
        // Everything written reads back the same.
        assert_eq!(
            parse(&text).unwrap(),
            s("q\"b\\s/\u{8}\u{c}\n\r\t\u{1}\u{1f} é 😀 \u{2028}")
        );
    }

    #[test]
    fn writes_compact_documents() {
        let v = Value::object([
            ("a", Some(Value::from("x"))),
            ("skipped", None),
            ("n", Some(Value::from(42u64))),
            (
                "list",
                Some(Value::Array(vec![Value::Null, Value::Bool(true)])),
            ),
        ]);
        assert_eq!(v.to_json_string(), r#"{"a":"x","n":42,"list":[null,true]}"#);
        assert_eq!(parse(&v.to_json_string()).unwrap(), v);
    }

    #[test]
    fn typed_fields_follow_their_rules() {
        let v = parse(r#"{"s":"x","n":7,"z":null,"b":true,"bad":1}"#).unwrap();
        assert_eq!(v.field::<String>("s"), Some("x".into()));
        assert_eq!(v.field::<String>("missing"), None);
        assert_eq!(v.field::<String>("bad"), None);
        assert_eq!(v.field::<u32>("n"), Some(7));
        assert_eq!(v.opt_field::<String>("z"), Some(None));
        assert_eq!(v.opt_field::<String>("missing"), Some(None));
        assert_eq!(v.opt_field::<String>("s"), Some(Some("x".into())));
        assert_eq!(v.opt_field::<String>("bad"), None);
        assert_eq!(v.field_or_default::<bool>("missing"), Some(false));
        assert_eq!(v.field_or_default::<bool>("b"), Some(true));
        assert_eq!(v.field_or_default::<bool>("z"), None);
        assert_eq!(parse("[1]").unwrap().field::<u32>("n"), None);
        assert_eq!(from_str::<Vec<u64>>("[1,2]"), Some(vec![1, 2]));
        assert_eq!(from_str::<Vec<u64>>("[1,\"2\"]"), None);
        assert_eq!(from_str::<u32>("4294967296"), None);
    }
}
