//! Group commit of folder fsyncs: writers that renamed files into one folder at the same time
//! share one fsync of it, as databases share a log flush between concurrent commits.
//!
//! A writer takes a ticket after its rename. An fsync that *starts* after a ticket was taken
//! covers that writer's rename, so when one is already under way the writer waits for the next,
//! which one of the waiters runs for all of them. A failed fsync is reported to every writer it
//! was meant to cover, never turned into a success by a retry.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Failures remembered for writers that have not looked yet (a disk failing this often has
/// bigger news to give than which write it refused).
const FAILURES_KEPT: usize = 64;

#[derive(Default)]
struct State {
    /// The last ticket handed out.
    taken: u64,
    /// Every ticket up to this one is settled (synced, or failed).
    settled: u64,
    running: bool,
    /// Tickets `(from, through)` whose fsync failed, with its error.
    failed: Vec<(u64, u64, io::ErrorKind, String)>,
}

#[derive(Default)]
struct Group {
    state: Mutex<State>,
    settled: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Group {
    fn sync(&self, fsync: &dyn Fn() -> io::Result<()>) -> io::Result<()> {
        let mut st = lock(&self.state);
        st.taken += 1;
        let ticket = st.taken;
        loop {
            if st.settled >= ticket {
                return match st.failed.iter().find(|f| f.0 <= ticket && ticket <= f.1) {
                    Some((_, _, kind, message)) => Err(io::Error::new(*kind, message.clone())),
                    None => Ok(()),
                };
            }
            if !st.running {
                st.running = true;
                let (from, through) = (st.settled + 1, st.taken);
                drop(st);
                let result = fsync();
                st = lock(&self.state);
                st.running = false;
                st.settled = through;
                if let Err(e) = &result {
                    if st.failed.len() == FAILURES_KEPT {
                        st.failed.remove(0);
                    }
                    st.failed.push((from, through, e.kind(), e.to_string()));
                }
                self.settled.notify_all();
                if ticket <= through {
                    return result;
                }
                continue;
            }
            st = self.settled.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

static GROUPS: Mutex<Option<HashMap<PathBuf, Arc<Group>>>> = Mutex::new(None);

/// Runs `fsync` (of folder `dir`) for this writer, or shares one that starts after this call
/// with other writers to the same folder.
pub(crate) fn sync_dir(dir: &Path, fsync: &dyn Fn() -> io::Result<()>) -> io::Result<()> {
    let group = lock(&GROUPS)
        .get_or_insert_with(HashMap::new)
        .entry(dir.to_path_buf())
        .or_default()
        .clone();
    let result = group.sync(fsync);
    let mut groups = lock(&GROUPS);
    // Only the map and this writer hold it: nobody waits on this folder any more.
    if Arc::strong_count(&group) == 2 {
        if let Some(map) = groups.as_mut() {
            map.remove(dir);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Barrier;
    use std::time::Duration;

    use super::*;

    #[test]
    fn writers_at_the_same_time_share_fsyncs_and_each_is_covered_by_one_that_started_after_it() {
        let group = Group::default();
        let fsyncs = AtomicU32::new(0);
        let barrier = Barrier::new(8);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    barrier.wait();
                    group
                        .sync(&|| {
                            fsyncs.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(30));
                            Ok(())
                        })
                        .unwrap();
                });
            }
        });
        let n = fsyncs.load(Ordering::SeqCst);
        assert!((1..8).contains(&n), "8 writers, {n} fsyncs");
        assert_eq!(lock(&group.state).settled, 8);
    }

    #[test]
    fn a_failed_fsync_fails_every_writer_it_covered_and_the_next_one_succeeds() {
        let group = Group::default();
        let calls = AtomicU32::new(0);
        let barrier = Barrier::new(4);
        let results: Vec<io::Result<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        group.sync(&|| {
                            std::thread::sleep(Duration::from_millis(30));
                            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                                Err(io::Error::other("the disk went away"))
                            } else {
                                Ok(())
                            }
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let failed = results.iter().filter(|r| r.is_err()).count();
        assert!(
            failed >= 1,
            "the first fsync failed: its writer hears of it"
        );
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.to_string(), "the disk went away");
        }
        // Those the failed fsync did not cover were covered by a later one, which succeeded.
        if failed < 4 {
            assert!(calls.load(Ordering::SeqCst) >= 2);
        }
        assert!(group.sync(&|| Ok(())).is_ok());
    }

    #[test]
    fn the_folders_map_forgets_a_folder_once_nobody_syncs_it() {
        let dir = Path::new("/kura-durable-test/forgotten");
        sync_dir(dir, &|| Ok(())).unwrap();
        assert!(!lock(&GROUPS).as_ref().unwrap().contains_key(dir));
    }
}
