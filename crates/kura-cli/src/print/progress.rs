//! Progress bars on standard error, one per phase of a long job.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use kura_core::Job;

use crate::human;

/// A job that draws a progress bar on standard error.
pub fn progress_job() -> Job {
    progress_job_on(ProgressDrawTarget::stderr, true)
}

/// The bar on the screen and what it counts.
struct Bar {
    bar: ProgressBar,
    phase: &'static str,
    unit: &'static str,
    counted: bool,
}

/// A job that draws its progress on the targets `target` makes: a new bar for each phase, drawn
/// from its first frame with that phase's unit and total (files as files, bytes as bytes).
fn progress_job_on(
    target: impl Fn() -> ProgressDrawTarget + Send + Sync + 'static,
    tick: bool,
) -> Job {
    let shown: Arc<Mutex<Option<Bar>>> = Arc::new(Mutex::new(None));
    Job::with_progress(move |p| {
        let mut guard = shown.lock().unwrap_or_else(|e| e.into_inner());
        let counted = p.total.is_some();
        let same = guard
            .as_ref()
            .is_some_and(|b| b.phase == p.phase && b.unit == p.unit && b.counted == counted);
        if !same {
            if let Some(old) = guard.take() {
                old.bar.finish_and_clear();
            }
            let bar = ProgressBar::with_draw_target(p.total, target())
                .with_style(progress_style(p.unit, p.total))
                .with_message(p.phase)
                .with_position(p.done);
            if tick {
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            bar.tick();
            *guard = Some(Bar {
                bar,
                phase: p.phase,
                unit: p.unit,
                counted,
            });
        }
        let Some(shown) = guard.as_ref() else { return };
        if let Some(t) = p.total {
            shown.bar.set_length(t);
        }
        shown.bar.set_position(p.done);
        if p.total.is_some_and(|t| p.done >= t) && p.phase == "writing" {
            shown.bar.finish_and_clear();
        }
    })
}

/// "[=====>    ] 12/132 files 3s", "[==>       ] 1.5 MiB/3 MiB 2 MiB/s 1s": sizes in the one
/// rule of `human::bytes`, counts with their unit.
fn progress_style(unit: &'static str, total: Option<u64>) -> ProgressStyle {
    let template = match (total, unit) {
        (Some(_), "bytes") => {
            "{spinner} {msg:<10} [{bar:30}] {size_done}/{size_total} {size_rate} {eta}".to_string()
        }
        (Some(t), unit) => {
            // "0/1 file", "0/132 files".
            let unit = if t == 1 {
                unit.strip_suffix('s').unwrap_or(unit)
            } else {
                unit
            };
            format!(
                "{{spinner}} {{msg:<10}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} {{eta}}"
            )
        }
        (None, "bytes") => "{spinner} {msg}… {size_done}".to_string(),
        (None, _) => "{spinner} {msg}…".to_string(),
    };
    let style = ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .progress_chars("=> ");
    style
        .with_key(
            "size_done",
            |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&human::bytes(s.pos()));
            },
        )
        .with_key(
            "size_total",
            |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&human::bytes(s.len().unwrap_or(0)));
            },
        )
        .with_key(
            "size_rate",
            |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}/s", human::bytes(s.per_sec() as u64));
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kura_core::Progress;

    /// A terminal that keeps every line drawn on it.
    #[derive(Clone, Debug, Default)]
    struct Screen(Arc<Mutex<Vec<String>>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            if !s.trim().is_empty() {
                self.0.lock().unwrap().push(s.to_string());
            }
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn progress(
        phase: &'static str,
        done: u64,
        total: Option<u64>,
        unit: &'static str,
    ) -> Progress {
        Progress {
            phase,
            done,
            total,
            unit,
            item: None,
        }
    }

    #[test]
    fn bars_count_what_they_say_from_the_first_frame() {
        let screen = Screen::default();
        let drawn = screen.clone();
        let job = progress_job_on(
            move || ProgressDrawTarget::term_like(Box::new(drawn.clone())),
            false,
        );
        job.report(progress("copying", 0, Some(132), "files"));
        job.report(progress("copying", 12, Some(132), "files"));
        job.report(progress("storing", 0, Some(1), "files"));
        job.report(progress("writing", 1536 << 10, Some(3 << 20), "bytes"));
        job.report(progress("restoring", 49_562, None, "bytes"));
        let lines = screen.0.lock().unwrap().clone();
        let first = |phase: &str| {
            lines
                .iter()
                .find(|l| l.contains(phase))
                .unwrap_or_else(|| panic!("no frame of {phase} in {lines:#?}"))
                .clone()
        };
        let copying = first("copying");
        assert!(copying.contains(" 0/132 files"), "{copying}");
        assert!(!copying.contains(" B"), "a count is not bytes: {copying}");
        assert!(
            lines.iter().any(|l| l.contains(" 12/132 files")),
            "{lines:#?}"
        );
        let storing = first("storing");
        assert!(storing.contains(" 0/1 file "), "{storing}");
        let writing = first("writing");
        assert!(writing.contains(" 1.5 MiB/3 MiB "), "{writing}");
        let restoring = first("restoring");
        assert!(restoring.ends_with("restoring… 48.4 KiB"), "{restoring}");
    }
}
