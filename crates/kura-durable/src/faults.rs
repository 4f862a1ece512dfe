//! The process-wide fault hook: tests replace the real disk with a [`FailingDisk`] that fails the
//! Nth call of one durable step, and read how many calls of each step a run made.
//!
//! In-process tests call [`install`]; the `kura` binary reads `KURA_FAULT` once, at its first
//! durable step, so CLI tests can fault a real run:
//!
//! - `KURA_FAULT=<op>:<n>:<errno>` fails the `n`th (1-based) call of `op` (`write`, `sync_file`,
//!   `rename` (a swap of names counts as one), `sync_dir`, `create_dir`) with `errno` (`ENOSPC`, `EIO`, or a number);
//! - `KURA_FAULT=count` fails nothing and only counts.
//!
//! With no fault installed the check on each step is one uncontended atomic load.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once, RwLock};

use crate::{Disk, OsDisk};

/// `ENOSPC` on Linux and the BSDs: no space left on device.
pub const ENOSPC: i32 = 28;
/// `EIO`: an I/O error of the device.
pub const EIO: i32 = 5;

/// The environment variable the `kura` binary reads its fault plan from.
pub const ENV: &str = "KURA_FAULT";

/// One durable step of the [`Disk`] seam.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Write,
    SyncFile,
    Rename,
    SyncDir,
    CreateDir,
}

impl Op {
    pub const ALL: [Op; 5] = [
        Op::Write,
        Op::SyncFile,
        Op::Rename,
        Op::SyncDir,
        Op::CreateDir,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Write => "write",
            Op::SyncFile => "sync_file",
            Op::Rename => "rename",
            Op::SyncDir => "sync_dir",
            Op::CreateDir => "create_dir",
        }
    }

    pub fn parse(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Which call to fail, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultPlan {
    pub op: Op,
    /// 1-based: the `nth` call of `op` fails; 0 fails none.
    pub nth: u64,
    /// The OS error number the failed call returns ([`ENOSPC`], [`EIO`]).
    pub errno: i32,
}

impl FaultPlan {
    /// A plan that fails nothing: install it to count the calls of each step.
    pub fn count_only() -> FaultPlan {
        FaultPlan {
            op: Op::Write,
            nth: 0,
            errno: EIO,
        }
    }

    /// Parses `count` or `<op>:<n>:<errno>` (errno `ENOSPC`, `EIO` or a number).
    pub fn parse(text: &str) -> Result<FaultPlan, String> {
        let text = text.trim();
        if text == "count" {
            return Ok(FaultPlan::count_only());
        }
        let bad = || {
            format!("{ENV}={text}: expected `count` or `<op>:<n>:<errno>`, e.g. `rename:3:ENOSPC`")
        };
        let mut parts = text.split(':');
        let (Some(op), Some(n), Some(errno), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let op = Op::parse(op).ok_or_else(bad)?;
        let nth = n.parse().map_err(|_| bad())?;
        let errno = match errno {
            "ENOSPC" => ENOSPC,
            "EIO" => EIO,
            other => other.parse().map_err(|_| bad())?,
        };
        Ok(FaultPlan { op, nth, errno })
    }
}

/// Calls of each durable step so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts(pub [u64; 5]);

impl Counts {
    pub fn get(&self, op: Op) -> u64 {
        self.0[op.index()]
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, op) in Op::ALL.into_iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}={}", op.name(), self.get(op))?;
        }
        Ok(())
    }
}

/// The real disk, except that the `nth` call of one step fails with an OS error (without doing
/// the step). Counts every call.
#[derive(Debug)]
pub struct FailingDisk {
    plan: FaultPlan,
    calls: [AtomicU64; 5],
    failed: AtomicBool,
}

impl FailingDisk {
    pub fn new(plan: FaultPlan) -> FailingDisk {
        FailingDisk {
            plan,
            calls: Default::default(),
            failed: AtomicBool::new(false),
        }
    }

    /// Counts the call; the error to return when it is the planned one.
    fn step(&self, op: Op) -> io::Result<()> {
        let n = self.calls[op.index()].fetch_add(1, Ordering::SeqCst) + 1;
        if op == self.plan.op && n == self.plan.nth {
            self.failed.store(true, Ordering::SeqCst);
            return Err(io::Error::from_raw_os_error(self.plan.errno));
        }
        Ok(())
    }

    pub fn counts(&self) -> Counts {
        Counts(std::array::from_fn(|i| {
            self.calls[i].load(Ordering::SeqCst)
        }))
    }

    /// Whether the planned fault happened.
    pub fn fired(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }
}

impl Disk for FailingDisk {
    fn write(
        &self,
        out: &mut dyn Write,
        fill: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        self.step(Op::Write)?;
        OsDisk.write(out, fill)
    }

    fn sync_file(&self, file: &File) -> io::Result<()> {
        self.step(Op::SyncFile)?;
        OsDisk.sync_file(file)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.step(Op::Rename)?;
        OsDisk.rename(from, to)
    }

    fn exchange(&self, a: &Path, b: &Path) -> io::Result<()> {
        // A swap is the rename of a save that reuses an inode.
        self.step(Op::Rename)?;
        OsDisk.exchange(a, b)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.step(Op::SyncDir)?;
        OsDisk.sync_dir(dir)
    }

    fn create_dir(&self, dir: &Path) -> io::Result<()> {
        self.step(Op::CreateDir)?;
        OsDisk.create_dir(dir)
    }
}

static INSTALLED: AtomicBool = AtomicBool::new(false);
static DISK: RwLock<Option<Arc<FailingDisk>>> = RwLock::new(None);
static FROM_ENV: Once = Once::new();

/// Replaces the disk of every durable step in this process with a [`FailingDisk`] following
/// `plan`; returns it, to read its counts.
pub fn install(plan: FaultPlan) -> Arc<FailingDisk> {
    FROM_ENV.call_once(|| {});
    let disk = Arc::new(FailingDisk::new(plan));
    *DISK.write().unwrap_or_else(|e| e.into_inner()) = Some(disk.clone());
    INSTALLED.store(true, Ordering::Release);
    disk
}

/// Puts the real disk back.
pub fn uninstall() {
    INSTALLED.store(false, Ordering::Release);
    *DISK.write().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The installed failing disk, if any (after reading [`ENV`] the first time).
pub fn current() -> Option<Arc<FailingDisk>> {
    installed()
}

pub(crate) fn installed() -> Option<Arc<FailingDisk>> {
    FROM_ENV.call_once(install_from_env);
    if !INSTALLED.load(Ordering::Acquire) {
        return None;
    }
    DISK.read().unwrap_or_else(|e| e.into_inner()).clone()
}

fn install_from_env() {
    let Some(text) = std::env::var_os(ENV) else {
        return;
    };
    match FaultPlan::parse(&text.to_string_lossy()) {
        Ok(plan) => {
            let disk = Arc::new(FailingDisk::new(plan));
            *DISK.write().unwrap_or_else(|e| e.into_inner()) = Some(disk);
            INSTALLED.store(true, Ordering::Release);
        }
        // A test's typo must not pass as a clean run.
        Err(e) => panic!("{e}"),
    }
}

/// The counts of the failing disk installed from [`ENV`], as a line for standard error
/// (`kura-fault: write=3 sync_file=3 ... fired=false`); `None` when none is installed. The `kura`
/// binary prints it at exit so that CLI tests can count the steps of a clean run.
pub fn report() -> Option<String> {
    let disk = installed()?;
    Some(format!(
        "kura-fault: {} fired={}",
        disk.counts(),
        disk.fired()
    ))
}
