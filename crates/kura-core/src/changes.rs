//! Since when the vault changed: the seconds in which the catalog (through triggers, see
//! migration 7) or the records (through their writer) changed in a way a backup carries. A
//! target backed up "after every change" asks this to know whether, and since when, its last
//! backup is behind.

use serde::Serialize;

use crate::catalog::upkeep;
use crate::error::Result;
use crate::vault::VaultReader;

/// How long the change log remembers (both logs keep a week).
pub const CHANGE_LOG_SECS: i64 = kura_records::CHANGE_LOG_SECS;

/// Changes made at or after some time: the first and the last second that saw one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// The first second (Unix time) with a change.
    pub first: i64,
    /// The last second with a change.
    pub last: i64,
}

impl VaultReader {
    /// The changes made at or after `since` (Unix seconds) to projects, their versions, labels,
    /// metadata and archives, workspaces, and records; `None` when nothing changed. Reading,
    /// sizes being recounted and a project being opened are not changes. A `since` older than
    /// [`CHANGE_LOG_SECS`] sees only the changes of that last stretch.
    pub fn changes_since(&self, since: i64) -> Result<Option<Changes>> {
        let catalog = upkeep::changed_between(&self.db(), since)?;
        // A vault that never kept a record has no records database, and asking makes none.
        let records = if self.root().join("records.db").exists() {
            self.records_store()?.changes_since(since)?
        } else {
            None
        };
        let spans = catalog.0.zip(catalog.1).into_iter().chain(records);
        Ok(spans.fold(None, |acc: Option<Changes>, (first, last)| {
            Some(match acc {
                None => Changes { first, last },
                Some(c) => Changes {
                    first: c.first.min(first),
                    last: c.last.max(last),
                },
            })
        }))
    }
}
