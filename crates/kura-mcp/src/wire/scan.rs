//! Cheap scans of a line's bytes, before parsing it or instead of it: how deep it nests, and the
//! `id` of a request whose line cannot be parsed (cut short, not UTF-8, too deep, too long), so
//! that the client can fail that one request instead of waiting for it.

use serde_json::Value;

/// Whether `line` nests arrays and objects more than `max` levels deep. Brackets inside strings
/// do not count; the scan stops at the first level over `max`, so an unclosed or endless nesting
/// costs no more than a closed one.
pub(super) fn nests_deeper_than(line: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            b'"' => i = string_end(line, i).unwrap_or(line.len()),
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    false
}

/// The `id` of the object `line` starts with, read without parsing the rest: a string, or a
/// number followed by what may follow a value (so a number cut at the end of the line is not
/// taken for a shorter one). `None` when there is no such member at the top level.
pub(super) fn recover_id(line: &[u8]) -> Option<Value> {
    let mut i = skip_whitespace(line, 0);
    if line.get(i) != Some(&b'{') {
        return None;
    }
    let mut depth = 0usize;
    while i < line.len() {
        match line[i] {
            b'"' => {
                let end = string_end(line, i)?;
                let key = &line[i + 1..end];
                i = end + 1;
                if depth == 1 && key == b"id" {
                    let colon = skip_whitespace(line, i);
                    if line.get(colon) == Some(&b':') {
                        return scalar(line, skip_whitespace(line, colon + 1));
                    }
                }
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return None;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The string or number value starting at `at`, if it is whole.
fn scalar(line: &[u8], at: usize) -> Option<Value> {
    match *line.get(at)? {
        b'"' => {
            let end = string_end(line, at)?;
            serde_json::from_slice::<String>(&line[at..=end])
                .ok()
                .map(Value::String)
        }
        b'-' | b'0'..=b'9' => {
            let len = line[at..]
                .iter()
                .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))?;
            let next = line[at + len];
            if !(next == b',' || next == b'}' || is_whitespace(next)) {
                return None;
            }
            serde_json::from_slice::<serde_json::Number>(&line[at..at + len])
                .ok()
                .map(Value::Number)
        }
        _ => None,
    }
}

/// The index of the quote that closes the string opening at `open`.
fn string_end(line: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while i < line.len() {
        match line[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn skip_whitespace(line: &[u8], from: usize) -> usize {
    from + line[from.min(line.len())..]
        .iter()
        .take_while(|b| is_whitespace(**b))
        .count()
}

/// JSON's whitespace (RFC 8259 §2): space, tab, line feed, carriage return.
pub(super) fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn depth_counts_brackets_outside_strings() {
        assert!(!nests_deeper_than(br#"{"a":[1,{"b":2}]}"#, 3));
        assert!(nests_deeper_than(br#"{"a":[1,{"b":2}]}"#, 2));
        assert!(!nests_deeper_than(br#"{"a":"[[[[\"[[[["}"#, 1));
        assert!(nests_deeper_than("[".repeat(100).as_bytes(), 64));
    }

    #[test]
    fn ids_are_recovered_from_the_top_level_only() {
        assert_eq!(
            recover_id(br#"{"jsonrpc":"2.0","id":3,"meth"#),
            Some(json!(3))
        );
        assert_eq!(recover_id(br#" { "id" : "a\"b" , "#), Some(json!("a\"b")));
        assert_eq!(recover_id(br#"{"params":{"id":4},"id":5}"#), Some(json!(5)));
        assert_eq!(recover_id(br#"{"params":{"id":4}}"#), None);
        assert_eq!(recover_id(br#"{"method":"id","x":1"#), None);
        assert_eq!(recover_id(br#"{"id":12"#), None, "a number cut short");
        assert_eq!(recover_id(br#"{"id":true,"#), None);
        assert_eq!(recover_id(br#"[{"id":1}]"#), None);
        assert_eq!(recover_id(b"{\"x\":\"\xff\",\"id\":7}"), Some(json!(7)));
    }
}
