//! The length of Python's `json.dumps(value)` with its defaults, computed
//! without building the string.
//!
//! Ledger limits `attributes` by `len(json.dumps(attributes))`. The defaults
//! that matter: separators `", "` and `": "`; `ensure_ascii=True`, so every
//! character outside space..`~` is escaped (`\n`, `\"` and friends take 2
//! characters, other control characters, DEL and everything above U+007F
//! take 6 as `\uXXXX`, and above U+FFFF a surrogate pair, 12); floats
//! written by `float.__repr__` (`1.0`, `1e+100`, `1e-05`); integers as they
//! are. With `ensure_ascii` the output is ASCII, so
//! its length in characters is also its length in bytes.
//!
//! One difference remains: `serde_json` reads an integer beyond the 64-bit
//! range as a float, which Python would print digit for digit.

use serde_json::{Map, Number, Value};

/// `len(json.dumps(value))` in Python.
pub fn dumps_len(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => number_len(n),
        Value::String(s) => str_len(s),
        Value::Array(items) => {
            if items.is_empty() {
                return 2;
            }
            2 + items.iter().map(dumps_len).sum::<usize>() + 2 * (items.len() - 1)
        }
        Value::Object(map) => object_len(map),
    }
}

/// `len(json.dumps(map))` in Python.
pub fn object_len(map: &Map<String, Value>) -> usize {
    if map.is_empty() {
        return 2;
    }
    let members: usize = map.iter().map(|(k, v)| str_len(k) + 2 + dumps_len(v)).sum();
    2 + members + 2 * (map.len() - 1)
}

/// Length of a JSON string literal with `ensure_ascii=True`, quotes included.
pub fn str_len(s: &str) -> usize {
    // Byte by byte: in UTF-8 a character's first byte tells its width, and
    // continuation bytes (0x80..=0xBF) add nothing of their own.
    let mut len = 2;
    for &b in s.as_bytes() {
        len += match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            // Python escapes everything outside space..tilde, DEL included.
            0x00..=0x1f | 0x7f => 6,
            0x20..=0x7e => 1,
            0x80..=0xbf => 0,
            0xc0..=0xef => 6,
            _ => 12,
        };
    }
    len
}

fn number_len(n: &Number) -> usize {
    if let Some(i) = n.as_i64() {
        return int_len(i.unsigned_abs()) + usize::from(i < 0);
    }
    if let Some(u) = n.as_u64() {
        return int_len(u);
    }
    float_len(n.as_f64().unwrap_or(0.0))
}

fn int_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

/// Length of `repr(f)` in Python 3: the shortest round-trip digits, in fixed
/// notation when the decimal exponent is in -4..16, else in scientific
/// notation with a signed exponent of at least two digits.
pub fn float_len(f: f64) -> usize {
    if f.is_nan() {
        return 3; // NaN
    }
    if f.is_infinite() {
        return if f < 0.0 { 9 } else { 8 }; // -Infinity / Infinity
    }
    // Rust's `{:e}` gives the same shortest round-trip digits as Python's repr.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).count();
    let sign = usize::from(f.is_sign_negative());
    // Position of the decimal point relative to the first digit.
    let decpt = exp + 1;
    let body = if decpt > -4 && decpt <= 16 {
        if decpt <= 0 {
            2 + (-decpt) as usize + digits // 0.000ddd
        } else if (decpt as usize) < digits {
            digits + 1 // dd.ddd
        } else {
            decpt as usize + 2 // ddd000.0
        }
    } else {
        let point = usize::from(digits > 1);
        let exp_digits = int_len(u64::from(exp.unsigned_abs())).max(2);
        digits + point + 2 + exp_digits // d.ddde+XX
    };
    sign + body
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn len(v: Value) -> usize {
        dumps_len(&v)
    }

    #[test]
    fn scalars() {
        assert_eq!(len(json!(null)), "null".len());
        assert_eq!(len(json!(true)), "true".len());
        assert_eq!(len(json!(false)), "false".len());
        assert_eq!(len(json!(0)), 1);
        assert_eq!(len(json!(-123)), 4);
        assert_eq!(len(json!(u64::MAX)), "18446744073709551615".len());
    }

    #[test]
    fn floats_as_python_repr() {
        // Python: repr(x) for each.
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (1e100, "1e+100"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e16, "1.2345e+16"),
            (123456789.125, "123456789.125"),
            (-2.5e-300, "-2.5e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
        ];
        for (f, py) in cases {
            assert_eq!(float_len(*f), py.len(), "{f} should print as {py}");
        }
    }

    #[test]
    fn strings_with_ensure_ascii() {
        // json.dumps("abc") == '"abc"'
        assert_eq!(str_len("abc"), 5);
        // json.dumps('a"b\\c\n') == '"a\\"b\\\\c\\n"'
        assert_eq!(str_len("a\"b\\c\n"), 11);
        // json.dumps("\x01\x7f~") == '"\\u0001\\u007f~"'
        assert_eq!(str_len("\u{1}\u{7f}~"), 15);
        // json.dumps("héllo") == '"h\\u00e9llo"'
        assert_eq!(str_len("héllo"), 12);
        // json.dumps("日本") == '"\\u65e5\\u672c"'
        assert_eq!(str_len("日本"), 14);
        // json.dumps("😀") == '"\\ud83d\\ude00"'
        assert_eq!(str_len("😀"), 14);
    }

    #[test]
    fn containers_with_default_separators() {
        // json.dumps({"a": 1, "b": [1, 2.0, None], "c": {}}) ==
        // '{"a": 1, "b": [1, 2.0, null], "c": {}}'
        let v = json!({"a": 1, "b": [1, 2.0, null], "c": {}});
        assert_eq!(len(v), r#"{"a": 1, "b": [1, 2.0, null], "c": {}}"#.len());
        assert_eq!(len(json!([])), 2);
        assert_eq!(len(json!({})), 2);
        // json.dumps({"é": ["😀", True]}) == '{"\\u00e9": ["\\ud83d\\ude00", true]}'
        let v = json!({"é": ["😀", true]});
        assert_eq!(len(v), r#"{"\u00e9": ["\ud83d\ude00", true]}"#.len());
    }
}
