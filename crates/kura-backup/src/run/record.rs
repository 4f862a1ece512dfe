//! Recording a run in the local state: started (runs an earlier process left open closed as
//! interrupted, refused while the target rests), then finished with its counts and its outcome,
//! which the target's circuit breaker counts.

use kura_core::{ErrorKind, Result};

use crate::manifest::BackupInfo;
use crate::state::{Counters, RunRecord, RunResult, State};
use crate::{crypto, resting, RunReport};

/// A run recorded as started.
pub(super) struct Started {
    /// The run's id.
    pub(super) id: String,
    /// When it started.
    pub(super) at: i64,
}

/// Records a run of target `name` as started at `now`, unless the target rests.
pub(super) fn start(state: &State, name: &str, now: i64) -> Result<Started> {
    state.close_interrupted(name, now)?;
    resting(name, &state.health(name)?, now)?;
    let run_id = hex::encode(crypto::random::<8>()?);
    state.start_run(&run_id, name, now)?;
    Ok(Started {
        id: run_id,
        at: now,
    })
}

/// Records how run `started` of target `name` ended at `finished`, and answers with its report.
pub(super) fn finish(
    state: &State,
    name: &str,
    started: Started,
    finished: i64,
    counters: &Counters,
    result: Result<BackupInfo>,
) -> Result<RunReport> {
    let Started {
        id: run_id,
        at: now,
    } = started;
    let mut record = RunRecord {
        id: run_id,
        target: name.into(),
        started: now,
        finished: Some(finished),
        result: RunResult::Ok,
        backup_id: None,
        files: counters.files,
        bytes_read: counters.bytes_read,
        bytes_sent: counters.bytes_sent,
        new_blobs: counters.new_blobs,
        error_code: None,
        error: None,
    };
    match &result {
        Ok(info) => record.backup_id = Some(info.id.clone()),
        Err(e) => {
            record.result = match e.kind() {
                ErrorKind::Unavailable => RunResult::Unavailable,
                ErrorKind::Cancelled => RunResult::Cancelled,
                _ => RunResult::Failed,
            };
            record.error_code = Some(e.kind().code().into());
            record.error = Some(e.message().into());
        }
    }
    state.finish_run(&record)?;
    state.record_outcome(name, finished, result.as_ref().err())?;
    Ok(RunReport {
        run: record,
        backup: result?,
    })
}
