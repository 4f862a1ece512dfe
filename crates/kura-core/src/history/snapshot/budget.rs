//! The budget that bounds the bytes in flight between the readers and the pack writer: the
//! files being read or waiting for the pack, and the namesakes read again as delta bases.

use super::tunables::READ_BUDGET;

/// The bytes in flight between the readers and the pack writer (see [`READ_BUDGET`]).
#[derive(Default)]
pub(super) struct ReadBudget {
    state: std::sync::Mutex<State>,
    freed: std::sync::Condvar,
}

#[derive(Default)]
struct State {
    /// Bytes in flight.
    taken: u64,
    /// Whether the writer has stopped taking files.
    closed: bool,
    /// Readers waiting for room: bytes given back wake them, and only then (a wake is a
    /// system call, and bytes are given back after every file).
    waiting: u32,
}

impl ReadBudget {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `n` more bytes fit (or nothing is in flight), then counts them.
    pub(super) fn take(&self, n: u64) {
        let mut s = self.lock();
        while !s.closed && s.taken > 0 && s.taken + n > READ_BUDGET {
            s.waiting += 1;
            s = self.freed.wait(s).unwrap_or_else(|e| e.into_inner());
            s.waiting -= 1;
        }
        s.taken += n;
    }

    /// Counts `n` more bytes if they fit now, without waiting; says whether they did.
    pub(super) fn try_take(&self, n: u64) -> bool {
        let mut s = self.lock();
        let fits = s.taken + n <= READ_BUDGET;
        if fits {
            s.taken += n;
        }
        fits
    }

    pub(super) fn give(&self, n: u64) {
        let wake = {
            let mut s = self.lock();
            s.taken = s.taken.saturating_sub(n);
            s.waiting > 0
        };
        if wake {
            self.freed.notify_all();
        }
    }

    /// The writer stopped (done, or failed): no reader waits any more.
    fn close(&self) {
        self.lock().closed = true;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Starts a reader taking `n` bytes; the receiver hears when it has them.
    fn reader(budget: &std::sync::Arc<ReadBudget>, n: u64) -> mpsc::Receiver<()> {
        let (tx, rx) = mpsc::channel();
        let budget = std::sync::Arc::clone(budget);
        std::thread::spawn(move || {
            budget.take(n);
            let _ = tx.send(());
        });
        rx
    }

    #[test]
    fn a_reader_waits_for_room_and_is_woken_when_bytes_are_given_back_or_the_writer_stops() {
        let budget = std::sync::Arc::new(ReadBudget::default());
        budget.take(READ_BUDGET);
        let waiting = reader(&budget, 1);
        assert!(waiting.recv_timeout(Duration::from_millis(200)).is_err());
        // Bytes given back that do not make room leave it waiting.
        budget.give(0);
        assert!(waiting.recv_timeout(Duration::from_millis(200)).is_err());
        budget.give(1);
        waiting
            .recv_timeout(Duration::from_secs(60))
            .expect("woken once there is room");

        let waiting = reader(&budget, 1);
        assert!(waiting.recv_timeout(Duration::from_millis(200)).is_err());
        budget.close();
        waiting
            .recv_timeout(Duration::from_secs(60))
            .expect("woken when the writer stops");
    }
}
