//! `kura record ...`: records of a project (`--project`) or of the vault, over the engine's
//! `Records`.

use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use kura_api::Api;
use kura_core::{
    CollectionSettings, Error, ErrorKind, Record, RecordDelete, RecordFilter, RecordOp, RecordPage,
    RecordPut, RecordQuery,
};
use serde_json::{json, Value};

use crate::print::Out;

#[derive(Args)]
pub struct RecordArgs {
    /// The project whose records these are (name or id); without it, the vault's own records.
    #[arg(long, short, global = true)]
    project: Option<String>,
    #[command(subcommand)]
    cmd: RecordCmd,
}

#[derive(Subcommand)]
enum RecordCmd {
    /// Print one record's document (`--json`: with its revision and times).
    Get {
        /// The collection.
        collection: String,
        /// The record's key.
        key: String,
    },
    /// Write a record; the document is JSON, given here or on standard input ("-" or absent).
    Put {
        /// The collection (created by its first record).
        collection: String,
        /// The record's key.
        key: String,
        /// The JSON document ("-" or absent: read it from standard input).
        value: Option<String>,
        /// Write only if the record is at this revision now (0: only if it does not exist).
        #[arg(long)]
        if_rev: Option<u64>,
        /// Write only if there is no such record yet (the same as --if-rev 0).
        #[arg(long, conflicts_with = "if_rev")]
        create: bool,
        /// Expire the record this many seconds after the write.
        #[arg(long, value_name = "SECS")]
        ttl: Option<u64>,
    },
    /// Delete a record.
    Delete {
        /// The collection.
        collection: String,
        /// The record's key.
        key: String,
        /// Delete only if the record is at this revision now.
        #[arg(long)]
        if_rev: Option<u64>,
    },
    /// List the collections, or the records of one by key.
    List {
        /// The collection (absent: list the collections).
        collection: Option<String>,
        /// Only keys that start with this.
        #[arg(long)]
        prefix: Option<String>,
        /// At most this many records (default 100, at most 1000).
        #[arg(long, short = 'n')]
        limit: Option<u32>,
        /// Go on from where a page ended (its `next`).
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Find records by their fields: `--where status=open --where 'priority>=2'`.
    Query {
        /// The collection.
        collection: String,
        /// A condition: FIELD=VALUE, FIELD>VALUE, >=, <, <=, FIELD^=PREFIX, FIELD? (present),
        /// !FIELD (absent). VALUE is JSON when it parses as JSON (3, true, null), else a string.
        #[arg(long = "where", short, value_name = "CONDITION")]
        conditions: Vec<String>,
        /// Sort by this field.
        #[arg(long)]
        sort: Option<String>,
        /// Highest first.
        #[arg(long)]
        desc: bool,
        /// At most this many records (default 100, at most 1000).
        #[arg(long, short = 'n')]
        limit: Option<u32>,
        /// Go on from where a page ended (its `next`).
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Apply puts and deletes together, all or none: a JSON array of operations
    /// (`{"op":"put","collection":..,"key":..,"value":..}`, `{"op":"delete",...}`), or one per
    /// line, from FILE or standard input.
    Batch {
        /// The file of operations ("-" or absent: standard input).
        file: Option<PathBuf>,
    },
    /// Set the fields a collection indexes and the JSON Schema its records must match.
    Settings {
        /// The collection.
        collection: String,
        /// A field to index (repeat for more); the indexes given replace the old ones.
        #[arg(long = "index", value_name = "FIELD")]
        indexes: Vec<String>,
        /// A file holding the JSON Schema records must match.
        #[arg(long, value_name = "FILE")]
        schema: Option<PathBuf>,
        /// Remove the schema.
        #[arg(long, conflicts_with = "schema")]
        no_schema: bool,
    },
    /// Delete a collection with every record in it.
    Drop {
        /// The collection.
        collection: String,
    },
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, message)
}

fn read_input(file: Option<&std::path::Path>) -> Result<String, Error> {
    let mut text = String::new();
    match file.filter(|f| f.as_os_str() != "-") {
        Some(f) => {
            text = std::fs::read_to_string(f).map_err(|e| {
                Error::new(ErrorKind::Io, format!("cannot read {}: {e}", f.display()))
            })?
        }
        None => {
            std::io::stdin().read_to_string(&mut text).map_err(|e| {
                Error::new(ErrorKind::Io, format!("cannot read standard input: {e}"))
            })?;
        }
    }
    Ok(text)
}

fn parse_json(text: &str, what: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| invalid(format!("{what} is not JSON: {e}")))
}

/// A value in a condition: JSON when it parses, else the text as a string.
fn loose_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// `status=open`, `priority>=2`, `title^=Fix`, `owner?`, `!owner`.
fn parse_condition(c: &str) -> Result<RecordFilter, Error> {
    let field = |f: &str| f.trim().to_string();
    if let Some(f) = c.strip_prefix('!') {
        return Ok(RecordFilter {
            field: field(f),
            exists: Some(false),
            ..Default::default()
        });
    }
    if let Some(f) = c.strip_suffix('?') {
        return Ok(RecordFilter {
            field: field(f),
            exists: Some(true),
            ..Default::default()
        });
    }
    for op in ["^=", ">=", "<=", "=", ">", "<"] {
        if let Some((f, v)) = c.split_once(op) {
            let mut filter = RecordFilter {
                field: field(f),
                ..Default::default()
            };
            match op {
                "^=" => filter.prefix = Some(v.to_string()),
                ">=" => filter.gte = Some(loose_value(v)),
                "<=" => filter.lte = Some(loose_value(v)),
                "=" => filter.eq = Some(loose_value(v)),
                ">" => filter.gt = Some(loose_value(v)),
                _ => filter.lt = Some(loose_value(v)),
            }
            return Ok(filter);
        }
    }
    Err(invalid(format!(
        "'{c}' is not a condition: write FIELD=VALUE, FIELD>=VALUE, FIELD^=PREFIX, FIELD? or !FIELD"
    )))
}

/// The operations of a batch: a JSON array, `{"ops": [...]}`, or one operation per line.
fn parse_ops(text: &str) -> Result<Vec<RecordOp>, Error> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with("{\"ops\"") {
        let v = parse_json(text, "the batch")?;
        let list = if v.is_array() { v } else { v["ops"].clone() };
        return serde_json::from_value(list).map_err(|e| invalid(format!("the batch: {e}")));
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| invalid(format!("line {} of the batch: {e}", i + 1)))
        })
        .collect()
}

fn one_line(v: &Value, width: usize) -> String {
    let text = v.to_string();
    if text.chars().count() <= width {
        text
    } else {
        let cut: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn page_text(page: &RecordPage) -> String {
    let mut text = String::new();
    let width = page
        .records
        .iter()
        .map(|r| r.key.chars().count())
        .max()
        .unwrap_or(3)
        .clamp(3, 40);
    for r in &page.records {
        let _ = writeln!(
            text,
            "{:<width$}  rev {:<6}  {}",
            r.key,
            r.rev,
            one_line(&r.value, 80)
        );
    }
    if page.records.is_empty() {
        text.push_str("No records.\n");
    }
    if let Some(next) = &page.next {
        let _ = writeln!(text, "More: --cursor {next}");
    }
    text
}

fn record_text(r: &Record) -> String {
    serde_json::to_string_pretty(&r.value).unwrap_or_default()
}

/// Through the service, which announces the writes (`records.changed`) as every other door's.
pub fn run(args: &RecordArgs, api: &Arc<Api>, out: &Out) -> Result<(), Error> {
    let project = args.project.as_deref();
    match &args.cmd {
        RecordCmd::Get { collection, key } => {
            let r = api.record_get(project, collection, key)?;
            out.done_json(&record_text(&r), json!(r));
        }
        RecordCmd::Put {
            collection,
            key,
            value,
            if_rev,
            create,
            ttl,
        } => {
            let text = match value.as_deref() {
                Some(v) if v != "-" => v.to_string(),
                _ => read_input(None)?,
            };
            let r = api.record_put(
                project,
                RecordPut {
                    collection: collection.clone(),
                    key: key.clone(),
                    value: parse_json(&text, "the document")?,
                    if_rev: if *create { Some(0) } else { *if_rev },
                    ttl_secs: *ttl,
                },
            )?;
            out.done_json(
                &format!(
                    "Wrote '{}' in '{}' (revision {})",
                    r.key, r.collection, r.rev
                ),
                json!(r),
            );
        }
        RecordCmd::Delete {
            collection,
            key,
            if_rev,
        } => {
            let existed = api.record_delete(
                project,
                RecordDelete {
                    collection: collection.clone(),
                    key: key.clone(),
                    if_rev: *if_rev,
                },
            )?;
            let text = if existed {
                format!("Deleted '{key}' from '{collection}'")
            } else {
                format!("There was no record '{key}' in '{collection}'")
            };
            out.done_json(&text, json!({"existed": existed}));
        }
        RecordCmd::List {
            collection: None, ..
        } => {
            let list = api.record_collections(project)?;
            let mut text = String::new();
            for c in &list {
                let _ = write!(text, "{:<24} {:>8} records", c.name, c.records);
                if !c.indexes.is_empty() {
                    let _ = write!(text, "  indexed: {}", c.indexes.join(", "));
                }
                if c.schema.is_some() {
                    text.push_str("  schema");
                }
                text.push('\n');
            }
            if list.is_empty() {
                text.push_str("No records yet.\n");
            }
            out.done_json(text.trim_end(), json!(list));
        }
        RecordCmd::List {
            collection: Some(collection),
            prefix,
            limit,
            cursor,
        } => {
            let page = api.record_list(
                project,
                collection,
                prefix.as_deref(),
                cursor.as_deref(),
                *limit,
            )?;
            out.done_json(page_text(&page).trim_end(), json!(page));
        }
        RecordCmd::Query {
            collection,
            conditions,
            sort,
            desc,
            limit,
            cursor,
        } => {
            let q = RecordQuery {
                filters: conditions
                    .iter()
                    .map(|c| parse_condition(c))
                    .collect::<Result<_, _>>()?,
                sort: sort.clone(),
                desc: *desc,
                limit: *limit,
                cursor: cursor.clone(),
                key_prefix: None,
            };
            let page = api.record_query(project, collection, &q)?;
            out.done_json(page_text(&page).trim_end(), json!(page));
        }
        RecordCmd::Batch { file } => {
            let ops = parse_ops(&read_input(file.as_deref())?)?;
            let done = api.record_batch(project, ops)?;
            out.done_json(&format!("Applied {} operations", done.len()), json!(done));
        }
        RecordCmd::Settings {
            collection,
            indexes,
            schema,
            no_schema,
        } => {
            let schema = match (schema, no_schema) {
                (Some(f), _) => Some(parse_json(&read_input(Some(f))?, "the schema")?),
                (None, true) => None,
                (None, false) => api
                    .record_collections(project)?
                    .into_iter()
                    .find(|c| c.name == *collection)
                    .and_then(|c| c.schema),
            };
            let info = api.record_configure(
                project,
                collection,
                CollectionSettings {
                    indexes: indexes.clone(),
                    schema,
                },
            )?;
            let text = format!(
                "'{}': {} records, indexed: {}, schema: {}",
                info.name,
                info.records,
                if info.indexes.is_empty() {
                    "nothing".to_string()
                } else {
                    info.indexes.join(", ")
                },
                if info.schema.is_some() { "yes" } else { "no" }
            );
            out.done_json(&text, json!(info));
        }
        RecordCmd::Drop { collection } => {
            let n = api.record_drop_collection(project, collection)?;
            out.done_json(
                &format!("Deleted collection '{collection}' ({n} records)"),
                json!({"records": n}),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_as_a_person_writes_them() {
        let f = parse_condition("priority>=2").unwrap();
        assert_eq!((f.field.as_str(), f.gte), ("priority", Some(json!(2))));
        let f = parse_condition("status=open").unwrap();
        assert_eq!(f.eq, Some(json!("open")));
        let f = parse_condition("done=true").unwrap();
        assert_eq!(f.eq, Some(json!(true)));
        let f = parse_condition("title^=Fix =x").unwrap();
        assert_eq!(f.prefix.as_deref(), Some("Fix =x"));
        assert_eq!(parse_condition("owner?").unwrap().exists, Some(true));
        assert_eq!(parse_condition("!owner").unwrap().exists, Some(false));
        assert!(parse_condition("owner").is_err());
    }

    #[test]
    fn a_batch_is_an_array_an_object_or_lines() {
        let line = r#"{"op":"put","collection":"c","key":"k","value":1}"#;
        assert_eq!(parse_ops(&format!("[{line}]")).unwrap().len(), 1);
        assert_eq!(
            parse_ops(&format!("{{\"ops\": [{line}, {line}]}}"))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(parse_ops(&format!("{line}\n\n{line}\n")).unwrap().len(), 2);
        let err = parse_ops(&format!("{line}\nnope")).unwrap_err();
        assert!(err.message().contains("line 2"), "{err}");
    }
}
