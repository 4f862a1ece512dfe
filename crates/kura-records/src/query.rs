//! Queries: filters on fields of the records' JSON, a sort, a limit and a cursor, turned into one
//! SQL statement.
//!
//! A field is named by a path (`status`, `owner.name`, `tags[0]`, or the same with a leading
//! `$.`). Paths are checked and written into the SQL as quoted JSON paths, always spelled the
//! same way, so that an index on a field (an index on that very expression) serves the query.
//! Values are bound as parameters. Comparisons are typed as JSON is: a range on a number only
//! matches numbers, one on a string only strings, and `true` never equals `1`.

use rusqlite::types::Value as Sql;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The most records one page holds.
pub const MAX_LIMIT: u32 = 1000;
/// Records on a page when no limit is given.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most conditions one query can hold.
pub const MAX_FILTERS: usize = 32;

/// One condition on a field; the comparisons given all have to hold (`gte` and `lt` together make
/// a range).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordFilter {
    /// The field: `status`, `owner.name`, `tags[0]` (a leading `$.` is allowed).
    #[cfg_attr(feature = "utoipa", schema(min_length = 1))]
    pub field: String,
    /// Equal to this string, number, boolean or `null`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub eq: Option<Value>,
    /// Greater than this number or string.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub gt: Option<Value>,
    /// Greater than or equal to this number or string.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub gte: Option<Value>,
    /// Less than this number or string.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub lt: Option<Value>,
    /// Less than or equal to this number or string.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub lte: Option<Value>,
    /// A string that starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// `true`: the field is present (even as `null`); `false`: it is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
}

/// A field that is there, even as `null`, is `Some` (serde's own `Option` reads `null` as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// What to find in a collection.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordQuery {
    /// Conditions that all have to hold.
    #[serde(default, rename = "where")]
    pub filters: Vec<RecordFilter>,
    /// Only keys that start with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    /// Sort by this field (records without it first); by key when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(min_length = 1))]
    pub sort: Option<String>,
    /// Sort from the highest value down.
    #[serde(default)]
    pub desc: bool,
    /// At most this many records (default 100, at most 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(minimum = 1, maximum = 1000))]
    pub limit: Option<u32>,
    /// Where the previous page ended (its `next`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(min_length = 1))]
    pub cursor: Option<String>,
}

/// A field path as SQLite's JSON functions read it: `$."a"."b"[0]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FieldPath(String);

impl FieldPath {
    /// Checks `field` and spells it the one way indexes and queries share.
    pub fn parse(field: &str) -> Result<FieldPath> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "'{field}' is not a field path ({why}); write fields as `status`, `owner.name` or `tags[0]`"
            ))
        };
        let body = field.strip_prefix("$.").unwrap_or(field);
        if body.is_empty() {
            return Err(bad("it is empty"));
        }
        if body.len() > 256 {
            return Err(bad("it is longer than 256 bytes"));
        }
        let mut out = String::from("$");
        for part in body.split('.') {
            let (name, mut rest) = match part.find('[') {
                Some(at) => (&part[..at], &part[at..]),
                None => (part, ""),
            };
            if name.is_empty() {
                return Err(bad("a name between dots is empty"));
            }
            if !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == ' ')
            {
                return Err(bad("names hold letters, digits, spaces, '_' and '-' only"));
            }
            out.push_str(&format!(".\"{name}\""));
            while !rest.is_empty() {
                let close = rest.find(']').ok_or_else(|| bad("a '[' is not closed"))?;
                let index = &rest[1..close];
                if index.is_empty() || index.len() > 9 || !index.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(bad("an array index is not a number"));
                }
                out.push_str(&format!(
                    "[{}]",
                    index
                        .parse::<u32>()
                        .map_err(|_| bad("an array index is too large"))?
                ));
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(bad("something follows ']'"));
                }
            }
        }
        Ok(FieldPath(out))
    }

    /// The path as written in SQL (a string literal; the path holds no `'`).
    pub fn literal(&self) -> String {
        format!("'{}'", self.0)
    }

    /// `json_extract(doc, '<path>')`: the expression an index on this field is built on.
    pub fn expr(&self) -> String {
        format!("json_extract(doc, {})", self.literal())
    }

    /// The name of the SQLite index on this field.
    pub fn index_name(&self) -> String {
        // FNV-1a: stable across builds, and short.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.0.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("records_field_{h:016x}")
    }

    /// The path as the user writes it (`owner.name`).
    pub fn display(&self) -> String {
        self.0
            .trim_start_matches('$')
            .replace("\".\"", ".")
            .replace(['"'], "")
            .trim_start_matches('.')
            .to_string()
    }
}

/// A comparable JSON scalar as SQL, with the JSON type it must have.
enum Scalar {
    Number(Sql),
    Text(String),
    Bool(bool),
    Null,
}

fn scalar(field: &str, op: &str, v: &Value) -> Result<Scalar> {
    Ok(match v {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Number(n) => Scalar::Number(match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Value::String(s) => Scalar::Text(s.clone()),
        Value::Array(_) | Value::Object(_) => {
            return Err(Error::invalid(format!(
                "the filter on '{field}' compares ({op}) with an array or object; filters compare strings, numbers, booleans and null"
            )))
        }
    })
}

/// The SQL of a query's conditions and its parameters.
pub(crate) struct Where {
    pub conditions: Vec<String>,
    pub params: Vec<Sql>,
}

impl Where {
    /// Adds a parameter; its placeholder (`?N`).
    pub fn bind(&mut self, v: Sql) -> String {
        self.params.push(v);
        format!("?{}", self.params.len())
    }
}

/// The first string after every string that starts with `prefix` (in UTF-8 byte order, which is
/// SQLite's text order); `None` when there is none.
pub(crate) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        while next <= char::MAX as u32 {
            if let Some(c) = char::from_u32(next) {
                chars.push(c);
                return Some(chars.into_iter().collect());
            }
            next += 1;
        }
    }
    None
}

/// Whether `filter` compares its field's value (so that an index on the field can serve it);
/// the better the index serves it, the higher: equality 2, a range or a prefix 1.
pub(crate) fn index_use(filter: &RecordFilter) -> u8 {
    if filter.eq.is_some() {
        2
    } else if filter.gt.is_some()
        || filter.gte.is_some()
        || filter.lt.is_some()
        || filter.lte.is_some()
        || filter.prefix.is_some()
    {
        1
    } else {
        0
    }
}

/// Adds the conditions of `filter` to `sql`.
pub(crate) fn add_filter(sql: &mut Where, filter: &RecordFilter) -> Result<()> {
    let path = FieldPath::parse(&filter.field)?;
    let expr = path.expr();
    let json_type = format!("json_type(doc, {})", path.literal());
    let mut any = false;
    if let Some(v) = &filter.eq {
        any = true;
        let cond = match scalar(&filter.field, "eq", v)? {
            // The expression is there too, so that an index on the field serves the query.
            Scalar::Null => format!("{expr} IS NULL AND {json_type} = 'null'"),
            Scalar::Bool(b) => format!("{expr} = {} AND {json_type} = '{b}'", i32::from(b)),
            Scalar::Number(n) => {
                let p = sql.bind(n);
                format!("{expr} = {p} AND {json_type} IN ('integer', 'real')")
            }
            Scalar::Text(s) => {
                let p = sql.bind(Sql::Text(s));
                format!("{expr} = {p}")
            }
        };
        sql.conditions.push(cond);
    }
    for (op, sym, v) in [
        ("gt", ">", &filter.gt),
        ("gte", ">=", &filter.gte),
        ("lt", "<", &filter.lt),
        ("lte", "<=", &filter.lte),
    ] {
        let Some(v) = v else { continue };
        any = true;
        let cond = match scalar(&filter.field, op, v)? {
            // Every number sorts before every string: a bound on the other side keeps the index
            // range to one type.
            Scalar::Number(n) => {
                let p = sql.bind(n);
                format!("{expr} {sym} {p} AND {expr} < '' AND {json_type} IN ('integer', 'real')")
            }
            Scalar::Text(s) => {
                let p = sql.bind(Sql::Text(s));
                format!("{expr} {sym} {p} AND {expr} >= '' AND {json_type} = 'text'")
            }
            Scalar::Bool(_) | Scalar::Null => {
                return Err(Error::invalid(format!(
                    "the filter on '{}' compares ({op}) with a boolean or null; ranges compare numbers or strings",
                    filter.field
                )))
            }
        };
        sql.conditions.push(cond);
    }
    if let Some(prefix) = &filter.prefix {
        any = true;
        let from = sql.bind(Sql::Text(prefix.clone()));
        let mut cond = format!("{expr} >= {from} AND {json_type} = 'text'");
        if let Some(end) = prefix_end(prefix) {
            let to = sql.bind(Sql::Text(end));
            cond.push_str(&format!(" AND {expr} < {to}"));
        }
        sql.conditions.push(cond);
    }
    if let Some(exists) = filter.exists {
        any = true;
        sql.conditions.push(format!(
            "{json_type} IS {}NULL",
            if exists { "NOT " } else { "" }
        ));
    }
    if !any {
        return Err(Error::invalid(format!(
            "the filter on '{}' says nothing to compare; give one of eq, gt, gte, lt, lte, prefix or exists",
            filter.field
        )));
    }
    Ok(())
}

/// Where a page ended: the sort value (when sorted by a field) and the key of its last record.
#[derive(Serialize, Deserialize)]
pub(crate) struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    pub key: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(text: &str) -> Result<Cursor> {
        hex::decode(text)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "'{text}' is not a cursor of this listing; pass the `next` of the page before"
                ))
            })
    }
}

/// A JSON value as SQL, the way `json_extract` gives it.
pub(crate) fn to_sql(v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Sql::Text(s.clone()),
        other => Sql::Text(other.to_string()),
    }
}

/// An SQL value back as JSON (for a cursor).
pub(crate) fn from_sql(v: Sql) -> Value {
    match v {
        Sql::Null => Value::Null,
        Sql::Integer(i) => Value::from(i),
        Sql::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Sql::Text(s) => Value::String(s),
        Sql::Blob(b) => Value::String(hex::encode(b)),
    }
}

/// The limit a page gets.
pub(crate) fn limit(asked: Option<u32>) -> Result<u32> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(Error::invalid("the limit must be at least 1")),
        Some(n) if n > MAX_LIMIT => Err(Error::invalid(format!(
            "the limit {n} is above the most one page holds ({MAX_LIMIT}); follow `next` for more"
        ))),
        Some(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_are_spelled_one_way_and_odd_ones_refused() {
        let spelled = |f: &str| FieldPath::parse(f).map(|p| p.0);
        assert_eq!(spelled("status").unwrap(), r#"$."status""#);
        assert_eq!(spelled("$.owner.name").unwrap(), r#"$."owner"."name""#);
        assert_eq!(spelled("tags[0]").unwrap(), r#"$."tags"[0]"#);
        assert_eq!(spelled("m[1][02].x").unwrap(), r#"$."m"[1][2]."x""#);
        assert_eq!(
            FieldPath::parse("owner.name").unwrap().display(),
            "owner.name"
        );
        for bad in [
            "",
            "a..b",
            "a'b",
            "a\"b",
            "a[x]",
            "a[0",
            "a[0]b",
            "a;DROP TABLE records",
            "$.",
        ] {
            assert!(FieldPath::parse(bad).is_err(), "{bad:?} was taken");
        }
    }

    #[test]
    fn the_end_of_a_prefix_range_is_the_next_string_after_every_match() {
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
    }

    #[test]
    fn a_cursor_comes_back_as_it_went_and_garbage_is_refused() {
        let c = Cursor {
            value: Some(Value::from(3)),
            key: "k/é".into(),
        };
        let back = Cursor::decode(&c.encode()).unwrap();
        assert_eq!(
            (back.value, back.key),
            (Some(Value::from(3)), "k/é".to_string())
        );
        assert!(Cursor::decode("zz").is_err());
        assert!(Cursor::decode("00").is_err());
    }
}
