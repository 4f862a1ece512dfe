//! One Kura app per user: the first launch holds a lock and listens on a Unix socket; a second
//! launch asks it to bring its window forward and exits. Unlike tauri-plugin-single-instance on
//! Linux, this needs no D-Bus session (a headless login, a bare X session, a test under Xvfb).
//!
//! The folder is `$XDG_RUNTIME_DIR/kura` (the user's own, emptied at logout), else the log folder
//! (`~/.local/state/kura`), made private (0700) when missing. `desktop.lock` is held with
//! `flock` for as long as the app runs: the kernel lets go of it however the process ends, so of
//! two launches at the same moment exactly one wins, and a socket left behind by a crash is
//! replaced by the next launch.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tauri::{AppHandle, Manager};

/// How long a second launch waits for the first to answer (it may still be starting).
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

/// What a launch is.
pub enum Claim {
    /// The only one: serve the socket once the app is set up ([`Primary::serve`]).
    Primary(Primary),
    /// Another one runs; it was asked to show its window (unless this launch was `--hidden`).
    HandedOff,
}

/// The running app's lock and socket.
pub struct Primary {
    /// Held until the process ends.
    _lock: Option<File>,
    listener: Option<UnixListener>,
}

/// The lock, in the app's state: held as long as the app runs.
struct HeldLock(#[allow(dead_code)] Option<File>);

/// The folder of the lock and the socket.
fn folder() -> Option<PathBuf> {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
        .map(|p| p.join("kura"))
        .or_else(kura_api::logs::folder)
}

/// Takes the lock, or hands off to the app that holds it. `show`: ask it to show its window (a
/// launch at login with `--hidden` only needs to know it runs). When the folder cannot be made,
/// the app runs on its own, with a warning.
pub fn claim(show: bool) -> Result<Claim, String> {
    let Some(dir) = folder() else {
        tracing::warn!("no folder for the single-instance lock (no HOME); running on its own");
        return Ok(Claim::Primary(Primary::alone()));
    };
    if let Err(e) = kura_durable::create_private_dir_all(&dir) {
        tracing::warn!(
            "cannot make {} for the single-instance lock: {e}; running on its own",
            dir.display()
        );
        return Ok(Claim::Primary(Primary::alone()));
    }
    let lock_path = dir.join("desktop.lock");
    let socket = dir.join("desktop.sock");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => {
            // Whatever socket is there belongs to a process that is gone.
            let _ = std::fs::remove_file(&socket);
            let listener = match UnixListener::bind(&socket) {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(
                        "cannot listen on {}: {e}; a second launch will not find this one",
                        socket.display()
                    );
                    None
                }
            };
            Ok(Claim::Primary(Primary {
                _lock: Some(lock),
                listener,
            }))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            hand_off(&socket, show)?;
            Ok(Claim::HandedOff)
        }
        Err(std::fs::TryLockError::Error(e)) => {
            tracing::warn!(
                "cannot lock {}: {e}; running on its own",
                lock_path.display()
            );
            Ok(Claim::Primary(Primary::alone()))
        }
    }
}

/// Asks the app listening on `socket` to show its window (or, without `show`, whether it is
/// there), waiting while it starts.
fn hand_off(socket: &Path, show: bool) -> Result<(), String> {
    let deadline = Instant::now() + ANSWER_WITHIN;
    let stream = loop {
        match UnixStream::connect(socket) {
            Ok(s) => break s,
            // The lock is held, so the app is starting and has not bound its socket yet.
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => {
                return Err(format!(
                    "Kura is already running, but it does not answer on {}: {e}",
                    socket.display()
                ))
            }
        }
    };
    let ask = |mut stream: UnixStream| -> std::io::Result<String> {
        stream.set_read_timeout(Some(ANSWER_WITHIN))?;
        stream.write_all(if show { b"show\n" } else { b"ping\n" })?;
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer)?;
        Ok(answer)
    };
    match ask(stream) {
        Ok(answer) if answer.trim() == "ok" => Ok(()),
        Ok(answer) => Err(format!(
            "Kura is already running, but it answered {:?} on {}",
            answer.trim(),
            socket.display()
        )),
        Err(e) => Err(format!(
            "Kura is already running, but it did not answer on {}: {e}",
            socket.display()
        )),
    }
}

impl Primary {
    fn alone() -> Primary {
        Primary {
            _lock: None,
            listener: None,
        }
    }

    /// Answers later launches for as long as the app runs (`show` brings the window forward),
    /// and keeps the lock in the app's state until it exits.
    pub fn serve(self, app: &AppHandle) {
        let Primary { _lock, listener } = self;
        app.manage(HeldLock(_lock));
        let Some(listener) = listener else {
            return;
        };
        let app = app.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if let Err(e) = answer(&app, stream) {
                    tracing::warn!("a second launch of Kura could not be answered: {e}");
                }
            }
        });
    }
}

fn answer(app: &AppHandle, stream: UnixStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?;
    match line.trim() {
        "show" => {
            tracing::info!("a second launch asked for the window");
            crate::tray::show_main(app);
        }
        "ping" => {}
        other => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("unknown request {other:?}"),
            ))
        }
    }
    (&stream).write_all(b"ok\n")
}
