//! The budget that bounds the bytes in flight between the readers and the pack writer: the
//! files being read or waiting for the pack, and the namesakes read again as delta bases.

use super::tunables::READ_BUDGET;

/// The bytes in flight between the readers and the pack writer (see [`READ_BUDGET`]).
#[derive(Default)]
pub(super) struct ReadBudget {
    /// Bytes in flight, and whether the writer has stopped taking files.
    state: std::sync::Mutex<(u64, bool)>,
    freed: std::sync::Condvar,
}

impl ReadBudget {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `n` more bytes fit (or nothing is in flight), then counts them.
    pub(super) fn take(&self, n: u64) {
        let mut s = self.lock();
        while !s.1 && s.0 > 0 && s.0 + n > READ_BUDGET {
            s = self.freed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.0 += n;
    }

    /// Counts `n` more bytes if they fit now, without waiting; says whether they did.
    pub(super) fn try_take(&self, n: u64) -> bool {
        let mut s = self.lock();
        let fits = s.0 + n <= READ_BUDGET;
        if fits {
            s.0 += n;
        }
        fits
    }

    pub(super) fn give(&self, n: u64) {
        {
            let mut s = self.lock();
            s.0 = s.0.saturating_sub(n);
        }
        self.freed.notify_all();
    }

    /// The writer stopped (done, or failed): no reader waits any more.
    fn close(&self) {
        self.lock().1 = true;
        self.freed.notify_all();
    }
}

/// Closes a [`ReadBudget`] when the writer's loop ends, however it ends.
pub(super) struct CloseOnDrop<'a>(pub(super) &'a ReadBudget);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}
