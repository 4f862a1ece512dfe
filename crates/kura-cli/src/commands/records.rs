//! `kura record ...`: records of a project (`--project`) or of the vault, over the engine's
//! `Records`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use kura_api::{calls, Api};
use kura_core::{
    CollectionSettings, Error, ErrorKind, RecordDelete, RecordFilter, RecordOp, RecordPut,
    RecordQuery,
};
use serde_json::Value;

use super::invalid;
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
#[command(defer = true)]
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

/// The document of a put: given on the command line, or read from standard input ("-" or
/// absent).
fn document(value: Option<&str>) -> Result<Value, Error> {
    let text = match value {
        Some(v) if v != "-" => v.to_string(),
        _ => read_input(None)?,
    };
    parse_json(&text, "the document")
}

/// The conditions of a query, each as [`parse_condition`] reads it.
fn parse_conditions(conditions: &[String]) -> Result<Vec<RecordFilter>, Error> {
    conditions.iter().map(|c| parse_condition(c)).collect()
}

/// The JSON Schema a collection has now, if any.
fn current_schema(
    api: &Arc<Api>,
    project: Option<&str>,
    collection: &str,
) -> Result<Option<Value>, Error> {
    Ok(api
        .record_collections(project)?
        .into_iter()
        .find(|c| c.name == collection)
        .and_then(|c| c.schema))
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

/// Through the service, which announces the writes (`records.changed`) as every other door's.
/// Longer than 100 lines only for its 8 subcommands' fields: each arm takes them, calls one
/// operation of the service and hands the result to the printer.
pub fn run(args: &RecordArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let project = args.project.as_deref();
    let scope = || args.project.clone();
    match &args.cmd {
        RecordCmd::Get { collection, key } => {
            out.record(&calls::record_get(
                api,
                scope(),
                collection.clone(),
                key.clone(),
            )?);
        }
        RecordCmd::Put {
            collection,
            key,
            value,
            if_rev,
            create,
            ttl,
        } => {
            let put = RecordPut {
                collection: collection.clone(),
                key: key.clone(),
                value: document(value.as_deref())?,
                if_rev: if *create { Some(0) } else { *if_rev },
                ttl_secs: *ttl,
            };
            out.record_written(&calls::record_put(api, scope(), put)?);
        }
        RecordCmd::Delete {
            collection,
            key,
            if_rev,
        } => {
            let deleted = calls::record_delete(
                api,
                scope(),
                RecordDelete {
                    collection: collection.clone(),
                    key: key.clone(),
                    if_rev: *if_rev,
                },
            )?;
            out.record_deleted(collection, key, deleted.existed);
        }
        RecordCmd::List {
            collection: None, ..
        } => {
            out.record_collections(&calls::record_collections(api, scope())?);
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
            out.record_page(&page);
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
                filters: parse_conditions(conditions)?,
                sort: sort.clone(),
                desc: *desc,
                limit: *limit,
                cursor: cursor.clone(),
                key_prefix: None,
            };
            out.record_page(&calls::record_query(api, scope(), collection.clone(), q)?);
        }
        RecordCmd::Batch { file } => {
            let ops = parse_ops(&read_input(file.as_deref())?)?;
            let done = api.record_batch(project, ops)?;
            out.records_applied(&done);
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
                // Neither: the schema stays as it is.
                (None, false) => current_schema(api, project, collection)?,
            };
            let info = calls::record_configure(
                api,
                scope(),
                collection.clone(),
                CollectionSettings {
                    indexes: indexes.clone(),
                    schema,
                },
            )?;
            out.record_collection(&info);
        }
        RecordCmd::Drop { collection } => {
            let dropped = api.record_drop_collection(project, collection)?;
            out.collection_dropped(collection, dropped.records);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
