//! Records ([`kura_core::Records`]) for every door: a project named by name or id (`None`: the
//! vault's own records), and a `records.changed` event after each write, so that a view or an
//! agent following the event stream sees what changed (the collection, and up to
//! [`KEYS_IN_EVENT`] keys).

use kura_core::{
    CollectionInfo, CollectionSettings, Record, RecordDelete, RecordOp, RecordOpResult, RecordPage,
    RecordPut, RecordQuery,
};

use crate::error::{ApiResult, SubjectKind};
use crate::projects::project_error;
use crate::Api;

/// What a delete of records found, whichever door asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Deleted {
    /// Whether there was a record (for a whole collection: always).
    pub existed: bool,
    /// How many records went.
    pub records: u64,
}

/// At most this many keys are named in one `records.changed` event (`count` says how many
/// changed).
pub const KEYS_IN_EVENT: usize = 100;

impl Api {
    /// The scope of `project`'s records (its id), or the vault's.
    fn record_scope(&self, project: Option<&str>) -> ApiResult<String> {
        self.vault
            .records_scope(project)
            .map_err(|e| match project {
                Some(p) => project_error(e, p),
                None => e.into(),
            })
    }

    fn records_changed(&self, scope: &str, collection: &str, reason: &str, keys: Vec<&str>) {
        let project = (!scope.is_empty()).then_some(scope);
        let count = keys.len();
        let keys: Vec<&str> = keys.into_iter().take(KEYS_IN_EVENT).collect();
        self.events.emit(
            "records.changed",
            project,
            serde_json::json!({
                "project_id": project,
                "collection": collection,
                "reason": reason,
                "keys": keys,
                "count": count,
            }),
        );
    }

    /// The collections of `project`'s records (or the vault's), with counts and settings.
    pub fn record_collections(&self, project: Option<&str>) -> ApiResult<Vec<CollectionInfo>> {
        let scope = self.record_scope(project)?;
        Ok(self.vault.records()?.collections(&scope)?)
    }

    /// One record.
    pub fn record_get(
        &self,
        project: Option<&str>,
        collection: &str,
        key: &str,
    ) -> ApiResult<Record> {
        let scope = self.record_scope(project)?;
        Ok(self.vault.records()?.get(&scope, collection, key)?)
    }

    /// Writes one record.
    pub fn record_put(&self, project: Option<&str>, put: RecordPut) -> ApiResult<Record> {
        let scope = self.record_scope(project)?;
        let r = self.vault.records()?.put(&scope, put)?;
        self.records_changed(&scope, &r.collection, "put", vec![&r.key]);
        Ok(r)
    }

    /// Deletes one record; whether there was one.
    pub fn record_delete(&self, project: Option<&str>, delete: RecordDelete) -> ApiResult<Deleted> {
        let scope = self.record_scope(project)?;
        let (collection, key) = (delete.collection.clone(), delete.key.clone());
        let existed = self.vault.records()?.delete(&scope, delete)?;
        if existed {
            self.records_changed(&scope, &collection, "delete", vec![&key]);
        }
        Ok(Deleted {
            existed,
            records: u64::from(existed),
        })
    }

    /// Applies puts and deletes together, all or none.
    pub fn record_batch(
        &self,
        project: Option<&str>,
        ops: Vec<RecordOp>,
    ) -> ApiResult<Vec<RecordOpResult>> {
        let scope = self.record_scope(project)?;
        let done = self.vault.records()?.batch(&scope, ops)?;
        let mut by_collection: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for d in done.iter().filter(|d| d.rev > 0 || d.existed) {
            by_collection.entry(&d.collection).or_default().push(&d.key);
        }
        for (collection, keys) in by_collection {
            self.records_changed(&scope, collection, "batch", keys);
        }
        Ok(done)
    }

    /// A page of a collection by key.
    pub fn record_list(
        &self,
        project: Option<&str>,
        collection: &str,
        key_prefix: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> ApiResult<RecordPage> {
        let scope = self.record_scope(project)?;
        Ok(self
            .vault
            .records()?
            .list(&scope, collection, key_prefix, cursor, limit)?)
    }

    /// A page of the records of a collection that match a query.
    pub fn record_query(
        &self,
        project: Option<&str>,
        collection: &str,
        query: &RecordQuery,
    ) -> ApiResult<RecordPage> {
        let scope = self.record_scope(project)?;
        Ok(self.vault.records()?.query(&scope, collection, query)?)
    }

    /// Sets what a collection indexes and checks.
    pub fn record_configure(
        &self,
        project: Option<&str>,
        collection: &str,
        settings: CollectionSettings,
    ) -> ApiResult<CollectionInfo> {
        let scope = self.record_scope(project)?;
        let info = self
            .vault
            .records()?
            .configure(&scope, collection, settings)
            .map_err(|e| crate::ApiError::from(e).about(SubjectKind::Field, "settings"))?;
        self.records_changed(&scope, collection, "configured", Vec::new());
        Ok(info)
    }

    /// Deletes a collection: every record in it and its settings; how many records it held.
    pub fn record_drop_collection(
        &self,
        project: Option<&str>,
        collection: &str,
    ) -> ApiResult<Deleted> {
        let scope = self.record_scope(project)?;
        let n = self.vault.records()?.drop_collection(&scope, collection)?;
        self.records_changed(&scope, collection, "dropped", Vec::new());
        Ok(Deleted {
            existed: true,
            records: n,
        })
    }
}
