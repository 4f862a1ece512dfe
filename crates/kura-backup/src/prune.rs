//! Retention and prune: which backups to keep, then delete the others' manifests and every pack
//! no kept backup needs.
//!
//! Packs partly used by kept backups are kept whole (no repacking: nothing is rewritten at the
//! target, so a prune killed at any moment loses nothing; the cost is some unused bytes until
//! every backup using such a pack is gone). Deletion order: manifests, then pack indexes, then
//! packs, each step made durable before the next; packs left without an index by a killed run or
//! prune are deleted by the next prune. Prune holds the target's lock: it refuses to start while a
//! backup is running there, and no backup starts while it runs.

use std::collections::{BTreeSet, HashSet};

use chrono::{Datelike, TimeZone, Timelike};
use kura_core::{Job, Progress, Result};
use serde::Serialize;

use crate::lock::Heartbeat;
use crate::repo;
use crate::session::Session;
use crate::target::Retention;

/// What prune did (or would do, with `dry_run`).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PruneReport {
    /// The target.
    pub target: String,
    /// Backups kept.
    pub kept: Vec<String>,
    /// Backups removed.
    pub removed: Vec<String>,
    /// Packs deleted.
    pub packs_deleted: u64,
    /// Bytes those packs took.
    pub bytes_freed: u64,
    /// Whether nothing was actually deleted.
    pub dry_run: bool,
}

/// The backups `policy` keeps among `backups` (id, start time) at `now`. Hours, days, weeks and
/// months are those of the clock in `tz` (prune uses the local time zone: the newest backup of
/// each day is that of the person's day, not of UTC's).
pub fn select_kept<Tz: TimeZone>(
    backups: &[(String, i64)],
    policy: &Retention,
    now: i64,
    tz: &Tz,
) -> BTreeSet<String> {
    let mut sorted: Vec<&(String, i64)> = backups.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    if policy.keeps_all() {
        return sorted.iter().map(|b| b.0.clone()).collect();
    }
    let mut kept = BTreeSet::new();
    for b in sorted.iter().take(policy.keep_last as usize) {
        kept.insert(b.0.clone());
    }
    let period = |t: i64, kind: u8| -> (i32, u32) {
        // A timestamp always has one local time (only local times can be ambiguous).
        let d = tz.timestamp_opt(t, 0).earliest().unwrap_or_else(|| {
            tz.timestamp_opt(0, 0)
                .earliest()
                .expect("the epoch has a local time")
        });
        match kind {
            0 => (d.year(), d.ordinal() * 24 + d.hour()),
            1 => (d.year(), d.ordinal()),
            2 => (d.iso_week().year(), d.iso_week().week()),
            _ => (d.year(), d.month()),
        }
    };
    for (kind, count) in [
        (0u8, policy.hourly),
        (1, policy.daily),
        (2, policy.weekly),
        (3, policy.monthly),
    ] {
        let mut seen = HashSet::new();
        for b in &sorted {
            if seen.len() >= count as usize {
                break;
            }
            if seen.insert(period(b.1, kind)) {
                kept.insert(b.0.clone());
            }
        }
    }
    if policy.retention_days > 0 {
        let oldest = now - policy.retention_days as i64 * 86_400;
        for b in sorted.iter().filter(|b| b.1 < oldest) {
            kept.remove(&b.0);
        }
        if policy.keep_last == 0
            && policy.hourly == 0
            && policy.daily == 0
            && policy.weekly == 0
            && policy.monthly == 0
        {
            kept.extend(sorted.iter().filter(|b| b.1 >= oldest).map(|b| b.0.clone()));
        }
    }
    if let Some(newest) = sorted.first() {
        kept.insert(newest.0.clone());
    }
    kept
}

pub(crate) fn prune(
    session: &Session,
    now: i64,
    dry_run: bool,
    job: &Job,
    heartbeat: &Heartbeat,
) -> Result<(PruneReport, Vec<String>)> {
    let step = |phase: &'static str, done: usize, total: usize, unit: &'static str| {
        job.report(Progress {
            phase,
            done: done as u64,
            total: Some(total as u64),
            unit,
            item: None,
        })
    };
    let ids = session.backup_ids()?;
    let mut manifests = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        step("reading backups", n, ids.len(), "backups");
        job.check()?;
        manifests.push(session.read_manifest(id)?);
    }
    let times: Vec<(String, i64)> = manifests
        .iter()
        .map(|m| (m.info.id.clone(), m.info.started))
        .collect();
    let kept = select_kept(&times, &session.target.retention, now, &chrono::Local);
    let mut used = HashSet::new();
    for m in manifests.iter().filter(|m| kept.contains(&m.info.id)) {
        for e in &m.entries {
            used.extend(e.chunk_ids()?);
        }
    }
    let removed: Vec<String> = ids.iter().filter(|i| !kept.contains(*i)).cloned().collect();
    let indexed: HashSet<String> = session.indexed_packs()?.into_iter().collect();
    let mut doomed = Vec::new();
    for (n, pack) in indexed.iter().enumerate() {
        step("reading pack indexes", n, indexed.len(), "packs");
        job.check()?;
        let index = session.read_index(pack)?;
        if !index.blobs.iter().any(|b| used.contains(&b.id)) {
            doomed.push(pack.clone());
        }
    }
    let listed = session.store.list("data/")?;
    let mut bytes_freed = 0;
    let mut packs_deleted = 0;
    let mut orphans = Vec::new();
    for l in &listed {
        let pack = l.name.rsplit('/').next().unwrap_or_default().to_string();
        if doomed.contains(&pack) || !indexed.contains(&pack) {
            bytes_freed += l.size;
            packs_deleted += 1;
            if !indexed.contains(&pack) {
                orphans.push(pack);
            }
        }
    }
    if !dry_run {
        // What was read above is only true while no backup could start.
        heartbeat.ensure_held()?;
        // Backups first, then the indexes, then the packs: an interrupted prune leaves packs
        // no backup refers to (the next prune deletes them), never a backup missing data.
        let total = removed.len() + doomed.len() * 2 + orphans.len();
        let mut done = 0;
        let mut delete = |path: String| -> Result<()> {
            step("deleting", done, total, "objects");
            job.check()?;
            session.store.delete(&path)?;
            done += 1;
            Ok(())
        };
        for id in &removed {
            delete(repo::backup_path(id))?;
        }
        session.store.sync_deletions("backups")?;
        for pack in &doomed {
            delete(repo::index_path(pack))?;
        }
        session.store.sync_deletions("index")?;
        for pack in doomed.iter().chain(&orphans) {
            delete(repo::pack_path(pack))?;
        }
        step("deleting", done, total, "objects");
    }
    Ok((
        PruneReport {
            target: session.target.name.clone(),
            kept: kept.into_iter().collect(),
            removed,
            packs_deleted,
            bytes_freed,
            dry_run,
        },
        doomed,
    ))
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, Utc};

    use super::*;

    const DAY: i64 = 86_400;

    fn hourly_for(days: i64) -> Vec<(String, i64)> {
        (0..days * 24)
            .map(|h| (format!("b{h:05}"), 1_700_000_000 + h * 3600))
            .collect()
    }

    #[test]
    fn keep_last_and_daily_pick_the_newest_of_each_day() {
        let backups = hourly_for(10);
        let now = backups.last().unwrap().1;
        let kept = select_kept(
            &backups,
            &Retention {
                keep_last: 3,
                daily: 5,
                ..Default::default()
            },
            now,
            &Utc,
        );
        // 3 newest, plus the newest of 5 days (the first of which is the newest overall).
        assert_eq!(kept.len(), 3 + 4);
        assert!(kept.contains(&backups.last().unwrap().0));
    }

    #[test]
    fn max_age_removes_old_backups_but_never_the_newest() {
        let backups = hourly_for(10);
        let now = backups.last().unwrap().1 + 100 * DAY;
        let kept = select_kept(
            &backups,
            &Retention {
                retention_days: 2,
                ..Default::default()
            },
            now,
            &Utc,
        );
        assert_eq!(
            kept.into_iter().collect::<Vec<_>>(),
            vec![backups.last().unwrap().0.clone()]
        );
        let now = backups.last().unwrap().1;
        let kept = select_kept(
            &backups,
            &Retention {
                retention_days: 1,
                ..Default::default()
            },
            now,
            &Utc,
        );
        assert_eq!(kept.len(), 25);
    }

    #[test]
    fn no_rule_keeps_everything() {
        let backups = hourly_for(2);
        assert_eq!(
            select_kept(&backups, &Retention::default(), 0, &Utc).len(),
            48
        );
    }

    #[test]
    fn days_are_those_of_the_time_zone_given() {
        // 2023-11-13 13:00 UTC, then 2023-11-14 14:00 and 16:00 UTC: in UTC the last two share
        // a day; nine hours east they are 23:00 on the 14th and 01:00 on the 15th.
        let day13 = 1_699_880_400;
        let backups: Vec<(String, i64)> = [
            ("a", day13),
            ("b", day13 + DAY + 3600),
            ("c", day13 + DAY + 3 * 3600),
        ]
        .iter()
        .map(|(id, t)| (id.to_string(), *t))
        .collect();
        let policy = Retention {
            daily: 2,
            ..Default::default()
        };
        let now = backups[2].1;
        let names = |kept: BTreeSet<String>| kept.into_iter().collect::<Vec<_>>();
        assert_eq!(names(select_kept(&backups, &policy, now, &Utc)), ["a", "c"]);
        let tokyo = FixedOffset::east_opt(9 * 3600).unwrap();
        assert_eq!(
            names(select_kept(&backups, &policy, now, &tokyo)),
            ["b", "c"]
        );
    }
}
