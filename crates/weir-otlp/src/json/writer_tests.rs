//! Checks of the scalar writers and the object writer.

use super::*;

fn string(s: &str) -> String {
    let mut out = Vec::new();
    write_str(&mut out, s);
    String::from_utf8(out).unwrap()
}

#[test]
fn strings_are_escaped_exactly_where_needed() {
    assert_eq!(string(""), r#""""#);
    assert_eq!(
        string("plain text, long enough for words"),
        r#""plain text, long enough for words""#
    );
    assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
    assert_eq!(string("l1\nl2\r\t\u{8}\u{c}"), r#""l1\nl2\r\t\b\f""#);
    assert_eq!(string("\u{0}\u{1f}\u{7f}"), "\"\\u0000\\u001f\u{7f}\"");
    assert_eq!(string("héllo ✓ 𝄞"), "\"héllo ✓ 𝄞\"");
    // Escapes at every offset within and across 8-byte words.
    for pos in 0..20 {
        let mut s = "x".repeat(20);
        s.replace_range(pos..pos + 1, "\"");
        let parsed: String = serde_json::from_str(&string(&s)).unwrap();
        assert_eq!(parsed, s);
    }
    let all: String = (0u8..0x80).map(char::from).collect();
    let parsed: String = serde_json::from_str(&string(&all)).unwrap();
    assert_eq!(parsed, all);
}

#[test]
fn numbers_follow_proto3_json() {
    let mut out = Vec::new();
    write_u64_string(&mut out, u64::MAX);
    out.push(b' ');
    write_i64_string(&mut out, i64::MIN);
    out.push(b' ');
    for v in [
        1.5,
        0.1,
        -2.0,
        1e300,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        write_f64(&mut out, v);
        out.push(b' ');
    }
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#""18446744073709551615" "-9223372036854775808" 1.5 0.1 -2.0 1e300 "NaN" "Infinity" "-Infinity" "#
    );
}

#[test]
fn hex_and_base64() {
    let mut out = Vec::new();
    write_hex(&mut out, &[0x00, 0xab, 0x1f]);
    for input in [
        &b""[..],
        b"f",
        b"fo",
        b"foo",
        b"foob",
        b"fooba",
        b"foobar",
        &[0xff, 0xfe],
    ] {
        write_base64(&mut out, input);
    }
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#""00ab1f""""Zg==""Zm8=""Zm9v""Zm9vYg==""Zm9vYmE=""Zm9vYmFy""//4=""#
    );
}

#[test]
fn object_writer_omits_defaults() {
    let mut out = Vec::new();
    let mut o = ObjectWriter::new(&mut out);
    o.str_field("a", "");
    o.u64_field("b", 0);
    o.int_field("c", 0i32);
    o.f64_field("d", 0.0);
    o.bool_field("e", false);
    o.hex_field("f", &[]);
    o.list_field::<u8>("g", &[], |_, _| {});
    o.message_field::<u8>("h", None, |_, _| {});
    o.opt_f64_field("i", None);
    o.end();
    assert_eq!(out, b"{}");

    let mut out = Vec::new();
    let mut o = ObjectWriter::new(&mut out);
    o.str_field("a", "x");
    o.u64_field("b", 7);
    o.int_field("c", -3i32);
    o.opt_f64_field("i", Some(0.0));
    o.f64_field("d", -0.0);
    o.end();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"a":"x","b":"7","c":-3,"i":0.0,"d":-0.0}"#
    );
}
