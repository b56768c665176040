//! The input rules every context applies at its edge, public and internal RPCs alike: one rule
//! for every id and a bound on every text field. A value that passes can go anywhere (a row,
//! an event payload, a NATS header, a page, an error message) without breaking it: ids are
//! short and printable, texts are bounded and free of control characters, so the largest
//! valid row still fits every gateway and broker limit.
use crate::error::FieldViolation;

/// Longest id: a UUID (36) with room for a client's own scheme.
pub const ID_MAX: usize = 64;
/// Names, titles, labels, statuses: one line.
pub const NAME_MAX: usize = 200;
/// Free text (descriptions, reviews, comments): a few paragraphs.
pub const TEXT_MAX: usize = 2000;

const ID_RULE: &str = "must be 1 to 64 letters, digits, '-', '_' or '.' (not . or ..)";

/// True when `value` follows the one id rule. `.` and `..` are refused too: clients and
/// proxies collapse them in a path, so such a resource could never be addressed.
pub fn is_id(value: &str) -> bool {
    !value.is_empty()
        && value != "."
        && value != ".."
        && value.len() <= ID_MAX
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A required id (path ids, references to other aggregates, idempotency keys).
pub fn id(field: &str, value: &str) -> Result<String, FieldViolation> {
    if value.is_empty() {
        return Err(FieldViolation::new(field, "is required"));
    }
    if !is_id(value) {
        return Err(FieldViolation::new(field, ID_RULE));
    }
    Ok(value.to_owned())
}

/// An optional id: empty means "none" (a client-chosen id the server assigns otherwise, an
/// anonymous customer).
pub fn optional_id(field: &str, value: &str) -> Result<Option<String>, FieldViolation> {
    if value.is_empty() {
        Ok(None)
    } else {
        id(field, value).map(Some)
    }
}

/// Optional text of at most `max` characters, trimmed; tabs and newlines are the only
/// control characters allowed, and only in free text (`max > NAME_MAX`). Bidirectional
/// overrides and isolates count as control characters: they make a title read otherwise than
/// it is stored ("Trojan Source").
pub fn text(field: &str, value: &str, max: usize) -> Result<String, FieldViolation> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(FieldViolation::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    let multiline = max > NAME_MAX;
    let bad = |c: char| {
        (c.is_control() && !(multiline && matches!(c, '\n' | '\t' | '\r')))
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if value.chars().any(bad) {
        return Err(FieldViolation::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// Required text of at most `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, FieldViolation> {
    let value = text(field, value, max)?;
    if value.is_empty() {
        return Err(FieldViolation::new(field, "is required"));
    }
    Ok(value)
}

/// A count or amount that must be in `0..=max`.
pub fn bounded(field: &str, value: i64, max: i64) -> Result<i64, FieldViolation> {
    if !(0..=max).contains(&value) {
        return Err(FieldViolation::new(
            field,
            format!("must be between 0 and {max}"),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_one_rule() {
        assert_eq!(id("vod_id", "vod-1_a.b").unwrap(), "vod-1_a.b");
        for bad in [
            "",
            "x\r\ny",
            "a/b",
            "é",
            "a b",
            "%FF",
            &"a".repeat(65),
            "a\0",
        ] {
            let violation = id("vod_id", bad).unwrap_err();
            assert_eq!(violation.field, "vod_id", "{bad:?}");
            assert!(violation.description.len() < 100, "never echoes the value");
        }
        assert_eq!(optional_id("x", "").unwrap(), None);
        assert!(optional_id("x", "a\nb").is_err());
    }

    #[test]
    fn texts_are_bounded_and_printable() {
        assert_eq!(text("title", "  영화  ", NAME_MAX).unwrap(), "영화");
        assert_eq!(text("title", "", NAME_MAX).unwrap(), "");
        assert!(text("title", &"가".repeat(NAME_MAX), NAME_MAX).is_ok());
        assert!(text("title", &"가".repeat(NAME_MAX + 1), NAME_MAX).is_err());
        assert!(text("title", "a\nb", NAME_MAX).is_err());
        assert!(text("desc", "a\nb\tc", TEXT_MAX).is_ok());
        assert!(text("desc", "a\u{7}b", TEXT_MAX).is_err());
        assert!(text("title", "abc\u{202e}txt.exe", NAME_MAX).is_err());
        assert!(text("desc", "a\u{2066}b", TEXT_MAX).is_err());
        assert!(required_text("title", "  ", NAME_MAX).is_err());
    }

    #[test]
    fn amounts_are_bounded() {
        assert!(bounded("seats", 0, 10).is_ok());
        assert!(bounded("seats", -1, 10).is_err());
        assert!(bounded("seats", 11, 10).is_err());
    }
}
