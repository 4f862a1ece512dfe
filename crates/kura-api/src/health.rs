//! Changes of state a person wants to hear about, announced once per change as events in the
//! vault's log, so every door sees them (the window turns them into desktop notifications, an
//! agent reads them from `/v1/events` or `kura events`):
//!
//! - `backup.health` `{ target, failing, message }`: a target's backups fail, or work again
//!   ([`Api::after_backup`](crate::Api)).
//! - `autoversion.health` `{ project, failing, message }`: an automatic version of a project could
//!   not be made, or one was made again after that.
//! - `disk.health` `{ low, free, reserve, message }`: the disk that holds the vault has less free
//!   than `archive.unpack_free_reserve`, or has enough again.
//! - `quota.health` `{ quota, name, reached, used, limit, message }`: a quota is reached (the
//!   vault's `total_quota`, or a project's `max_project_size`), or is no longer.
//!
//! A state is announced when it changes from what this process last saw; the first look
//! announces only trouble. The disk and the quotas are looked at by the process that runs the
//! schedules, at each of its ticks.

use std::collections::HashMap;
use std::sync::Mutex;

use kura_core::ByteSize;

use crate::backups::lock;
use crate::Api;

/// The last state seen of each thing watched, by key (`backup:<target>`, `disk`, ...).
#[derive(Default)]
pub(crate) struct Health(Mutex<HashMap<String, bool>>);

impl Health {
    /// Records that `key` is now in trouble (`bad`) or not; true when that is news: a change
    /// from the last state recorded, or trouble the first time.
    pub(crate) fn changed(&self, key: &str, bad: bool) -> bool {
        match lock(&self.0).insert(key.to_string(), bad) {
            Some(was) => was != bad,
            None => bad,
        }
    }
}

impl Api {
    /// Records whether the automatic versions of project `id` (named `name`) work; announces a
    /// change as `autoversion.health`.
    pub(crate) fn automatic_version_health(&self, id: &str, name: &str, error: Option<&str>) {
        if !self
            .health
            .changed(&format!("autoversion:{id}"), error.is_some())
        {
            return;
        }
        let message = match error {
            Some(e) => format!("An automatic version of {name} could not be made: {e}"),
            None => format!("Automatic versions of {name} are made again."),
        };
        self.events.emit(
            "autoversion.health",
            Some(id),
            serde_json::json!({ "project": name, "failing": error.is_some(), "message": message }),
        );
    }

    /// Looks at the free space of the vault's disk and at the quotas; announces what changed.
    pub(crate) fn check_disk_and_quotas(&self) {
        match self.vault.disk_space() {
            Ok(disk) => {
                if self.health.changed("disk", disk.low) {
                    let message = if disk.low {
                        format!(
                            "The disk that holds the vault has {} free, less than the {} Kura keeps free (archive.unpack_free_reserve): imports and unarchives are refused until you free some space.",
                            ByteSize(disk.free),
                            ByteSize(disk.reserve)
                        )
                    } else {
                        format!(
                            "The disk that holds the vault has {} free again.",
                            ByteSize(disk.free)
                        )
                    };
                    self.events.emit(
                        "disk.health",
                        None,
                        serde_json::json!({
                            "low": disk.low,
                            "free": disk.free,
                            "reserve": disk.reserve,
                            "message": message,
                        }),
                    );
                }
            }
            Err(e) => tracing::warn!("cannot read the free space of the vault's disk: {e}"),
        }
        let status = match self.vault.quota_status() {
            Ok(status) => status,
            Err(e) => {
                tracing::warn!("cannot read the quotas: {e}");
                return;
            }
        };
        for usage in std::iter::once(&status.total).chain(&status.projects) {
            let reached = usage.limit > 0 && usage.used >= usage.limit;
            let (key, quota, what) = match &usage.project_id {
                None => (
                    "quota:vault".to_string(),
                    "quota.total_quota",
                    "The vault".to_string(),
                ),
                Some(id) => (
                    format!("quota:{id}"),
                    "quota.max_project_size",
                    format!("Project {}", usage.name),
                ),
            };
            if !self.health.changed(&key, reached) {
                continue;
            }
            let message = if reached {
                format!(
                    "{what} has reached its quota: {} of {} ({quota}). Writes that add to it are refused; free space or raise the quota in Settings.",
                    ByteSize(usage.used),
                    ByteSize(usage.limit)
                )
            } else {
                format!(
                    "{what} is under its quota again: {} of {}.",
                    ByteSize(usage.used),
                    ByteSize(usage.limit)
                )
            };
            self.events.emit(
                "quota.health",
                usage.project_id.as_deref(),
                serde_json::json!({
                    "quota": quota,
                    "name": usage.name,
                    "reached": reached,
                    "used": usage.used,
                    "limit": usage.limit,
                    "message": message,
                }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::testing::Scene;
    use crate::Api;

    /// The data of every `kind` event logged so far.
    fn announced(api: &Api, kind: &str) -> Vec<serde_json::Value> {
        api.events()
            .since(0, &[kind.to_string()], 100)
            .unwrap()
            .events
            .into_iter()
            .map(|e| e.data)
            .collect()
    }

    #[test]
    fn a_quota_reached_is_announced_once_and_again_when_it_is_no_longer() {
        let s = Scene::new();
        s.tick();
        assert!(announced(&s.api, "quota.health").is_empty(), "all is well");
        // The project holds 15 bytes.
        s.api.set_config("quota.max_project_size", "10 B").unwrap();
        s.tick();
        s.tick();
        let events = announced(&s.api, "quota.health");
        assert_eq!(events.len(), 1, "once per change: {events:?}");
        assert_eq!(events[0]["reached"], true);
        assert_eq!(events[0]["name"], "site");
        assert_eq!(events[0]["quota"], "quota.max_project_size");
        assert_eq!(
            events[0]["message"],
            "Project site has reached its quota: 15 B of 10 B (quota.max_project_size). Writes that add to it are refused; free space or raise the quota in Settings."
        );
        s.api.set_config("quota.max_project_size", "1 MiB").unwrap();
        s.tick();
        let events = announced(&s.api, "quota.health");
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[1]["reached"], false);
        assert_eq!(
            events[1]["message"],
            "Project site is under its quota again: 15 B of 1 MiB."
        );
    }

    #[test]
    fn a_disk_below_the_free_space_reserve_is_announced_once_and_when_it_is_not_any_more() {
        let s = Scene::new();
        s.tick();
        assert!(announced(&s.api, "disk.health").is_empty(), "all is well");
        let free = s.api.vault().disk_space().unwrap().free;
        // A reserve larger than the disk's free space: as if the disk had filled up.
        s.api
            .set_config("archive.unpack_free_reserve", &format!("{}", free * 2))
            .unwrap();
        s.tick();
        s.tick();
        let events = announced(&s.api, "disk.health");
        assert_eq!(events.len(), 1, "once per change: {events:?}");
        assert_eq!(events[0]["low"], true);
        assert_eq!(events[0]["reserve"], free * 2);
        assert!(events[0]["message"]
            .as_str()
            .unwrap()
            .contains("imports and unarchives are refused"));
        s.api
            .set_config("archive.unpack_free_reserve", "0 B")
            .unwrap();
        s.tick();
        let events = announced(&s.api, "disk.health");
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[1]["low"], false);
    }

    #[test]
    fn an_automatic_version_that_fails_is_announced_and_so_is_the_next_that_works() {
        let s = Scene::new();
        s.api
            .set_config("snapshots.quiet_period_secs", "1")
            .unwrap();
        let p = s.api.vault().project("site").unwrap();
        let auto = crate::AutoSnapshots::start(&s.api);
        assert!(auto.watched().contains(&p.path));
        let wait_for = |n: usize| {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let events = announced(&s.api, "autoversion.health");
                if events.len() >= n {
                    return events;
                }
                assert!(Instant::now() < deadline, "{n} announcements: {events:?}");
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        // The history cannot take a new pack: where its packs go is a file.
        let packs = s
            .api
            .vault()
            .root()
            .join("histories")
            .join(format!("{}.git", p.id))
            .join("objects/pack");
        let aside = packs.with_file_name("pack-aside");
        std::fs::rename(&packs, &aside).unwrap();
        std::fs::write(&packs, "not a folder").unwrap();
        std::fs::write(p.path.join("index.html"), "<h1>changed</h1>\n").unwrap();
        let events = wait_for(1);
        assert_eq!(events[0]["failing"], true);
        assert_eq!(events[0]["project"], "site");
        assert!(events[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("An automatic version of site could not be made: "));
        // Mended: the next change makes a version, and that is announced once.
        std::fs::remove_file(&packs).unwrap();
        std::fs::rename(&aside, &packs).unwrap();
        std::fs::write(p.path.join("index.html"), "<h1>changed again</h1>\n").unwrap();
        let events = wait_for(2);
        assert_eq!(events[1]["failing"], false);
        assert_eq!(
            events[1]["message"],
            "Automatic versions of site are made again."
        );
        std::fs::write(p.path.join("index.html"), "<h1>and again</h1>\n").unwrap();
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(announced(&s.api, "autoversion.health").len(), 2);
    }
}
