//! The bad values, shared by the gRPC and REST cases: sizes up to past every limit (the
//! mesh's input bounds, the gateway's, NATS's 1 MiB payload), control characters, multibyte
//! text, path-ish ids.
use mediamesh_mesh::input::{ID_MAX, NAME_MAX, TEXT_MAX};

use super::judge::Expect;

/// The rules of issue 6 the cases check, as a failure names them.
pub const ID_RULE: &str = "every id passes the one id rule";
pub const BOUND: &str = "every text field has a length limit";
pub const UNDECODABLE: &str = "malformed protobuf is INVALID_ARGUMENT, not INTERNAL";
pub const PATH_ID: &str = "a non-UTF-8 or NUL path id is a 400";
pub const NOT_A_REQUEST: &str = "bad input is a 4xx";

pub const ID_MAX_CHARS: &str = "ID_MAX chars";
pub const NAME_MAX_CHARS: &str = "NAME_MAX 4-byte chars";
pub const TEXT_MAX_CHARS: &str = "TEXT_MAX 4-byte chars";
/// The largest-valid kinds above, largest first.
pub const LARGEST: [&str; 3] = [TEXT_MAX_CHARS, NAME_MAX_CHARS, ID_MAX_CHARS];

/// Bad strings (and the largest valid ones), by what a person calls them.
pub fn strings() -> Vec<(&'static str, String)> {
    vec![
        ("empty", String::new()),
        ("CR/LF", "a\r\nb".into()),
        ("NUL", "a\0b".into()),
        ("control chars", "a\u{7}\u{1b}[31m\u{7f}\u{85}b".into()),
        ("100 KB", "a".repeat(100_000)),
        ("1.1 MB", "a".repeat(1_100_000)),
        ("300 multibyte chars", "가".repeat(300)),
        // The largest valid values, and one past: rows this large must still fit every
        // event, page and gateway limit.
        (ID_MAX_CHARS, "i".repeat(ID_MAX)),
        (NAME_MAX_CHARS, "😀".repeat(NAME_MAX)),
        ("NAME_MAX + 1 chars", "n".repeat(NAME_MAX + 1)),
        (TEXT_MAX_CHARS, "😀".repeat(TEXT_MAX)),
        ("TEXT_MAX + 1 chars", "t".repeat(TEXT_MAX + 1)),
        ("../x", "../x".into()),
        ("a/b", "a/b".into()),
        ("%2F", "%2F".into()),
    ]
}

/// What a string field set to the value named `kind` must get back.
pub fn expect(field: &str, kind: &str) -> Expect {
    if field.ends_with("_id") && !matches!(kind, "empty" | ID_MAX_CHARS) {
        Expect::Refused(ID_RULE)
    } else if matches!(kind, "100 KB" | "1.1 MB" | "TEXT_MAX + 1 chars")
        || kind == OVER_MESSAGE_KIND
    {
        Expect::Refused(BOUND)
    } else {
        Expect::NoFault
    }
}

/// Past the 4 MiB message limit of gRPC and of the gateway's transcoder: one string of it per
/// RPC and route (per field it would be hundreds of MB for no more coverage).
pub const OVER_MESSAGE_LIMIT: usize = 5 * 1024 * 1024;
pub const OVER_MESSAGE_KIND: &str = "5 MiB (past the 4 MiB message limit)";

/// Not UTF-8: a proto3 string must be, and JSON cannot carry it.
pub const NON_UTF8: &[u8] = b"a\xff\xfeb";

pub fn ints() -> Vec<(&'static str, i32)> {
    vec![("-1", -1), ("i32::MIN", i32::MIN), ("i32::MAX", i32::MAX)]
}

/// Bad path segments, already percent-encoded as they go on the wire.
pub fn segments() -> Vec<(&'static str, String)> {
    vec![
        ("%0D%0A", "%0D%0A".into()),
        ("a%0D%0Ab", "a%0D%0Ab".into()),
        ("%00", "%00".into()),
        ("a%00b", "a%00b".into()),
        ("%FF%FE", "%FF%FE".into()),
        ("%C0%AF (overlong)", "%C0%AF".into()),
        ("%zz (bad escape)", "%zz".into()),
        ("100 KB", "a".repeat(100_000)),
        ("..%2Fx", "..%2Fx".into()),
        ("a%2Fb", "a%2Fb".into()),
        ("%2F", "%2F".into()),
        ("%20", "a%20b".into()),
        ("300 multibyte chars", encode(&"가".repeat(300))),
    ]
}

/// Bad query values for string fields, percent-encoded.
pub fn query_strings() -> Vec<(&'static str, String)> {
    vec![
        ("%00", "a%00b".into()),
        ("%0D%0A", "a%0D%0Ab".into()),
        ("%FF%FE", "%FF%FE".into()),
        ("100 KB", "a".repeat(100_000)),
        ("..%2Fx", "..%2Fx".into()),
    ]
}

/// Bad query values for integer fields.
pub fn query_ints() -> Vec<(&'static str, &'static str)> {
    vec![
        ("not a number", "abc"),
        ("-1", "-1"),
        ("2^31", "2147483648"),
        ("1.5", "1.5"),
        ("empty", ""),
    ]
}

/// Percent-encodes every byte outside RFC 3986's unreserved set.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// At most `n` characters of `s`, for readable reports.
pub fn clip(s: &str, n: usize) -> String {
    let s = s.replace(['\r', '\n'], " ");
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}
