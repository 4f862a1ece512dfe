//! Records: one record's document, pages of records, collections, and what a write did.

use std::fmt::Write as _;

use kura_core::{CollectionInfo, Record, RecordOpResult, RecordPage};
use serde_json::{json, Value};

use super::Out;

impl Out {
    /// One record: its document, pretty; `--json`: with its revision and times.
    pub fn record(&self, r: &Record) {
        self.done_json(&record_text(r), json!(r));
    }

    pub fn record_written(&self, r: &Record) {
        self.done_json(
            &format!(
                "Wrote '{}' in '{}' (revision {})",
                r.key, r.collection, r.rev
            ),
            json!(r),
        );
    }

    pub fn record_deleted(&self, collection: &str, key: &str, existed: bool) {
        let text = if existed {
            format!("Deleted '{key}' from '{collection}'")
        } else {
            format!("There was no record '{key}' in '{collection}'")
        };
        self.done_json(&text, json!({"existed": existed}));
    }

    pub fn record_collections(&self, list: &[CollectionInfo]) {
        let mut text = String::new();
        for c in list {
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
        self.done_json(text.trim_end(), json!(list));
    }

    /// A page of records, by key, with where the next page starts.
    pub fn record_page(&self, page: &RecordPage) {
        self.done_json(page_text(page).trim_end(), json!(page));
    }

    pub fn records_applied(&self, done: &[RecordOpResult]) {
        self.done_json(&format!("Applied {} operations", done.len()), json!(done));
    }

    /// A collection's settings after a change.
    pub fn record_collection(&self, info: &CollectionInfo) {
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
        self.done_json(&text, json!(info));
    }

    pub fn collection_dropped(&self, collection: &str, records: u64) {
        self.done_json(
            &format!("Deleted collection '{collection}' ({records} records)"),
            json!({"records": records}),
        );
    }
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
