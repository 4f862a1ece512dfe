//! A temp folder holding a fresh vault, and the `kura` binary run against it.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The binary under test.
pub const KURA: &str = env!("CARGO_BIN_EXE_kura");

/// A temp folder with a vault at `<tmp>/vault` (created by kura on first use).
pub struct Sandbox {
    dir: tempfile::TempDir,
    vault: PathBuf,
    /// Run kura as this user (through `runuser`), for tests that need an unprivileged user.
    user: Option<String>,
}

/// What one run of kura did.
#[derive(Debug)]
pub struct Run {
    /// The exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.text(),
                self.stderr
            )
        })
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("kura-cli-")
            .tempdir()
            .unwrap();
        let root = dir.path().canonicalize().unwrap();
        Sandbox {
            vault: root.join("vault"),
            dir,
            user: None,
        }
    }

    /// Like [`Sandbox::new`], with the vault at `vault` instead.
    pub fn with_vault(vault: PathBuf) -> Sandbox {
        let mut sb = Sandbox::new();
        sb.vault = vault;
        sb
    }

    /// Runs kura as `user` from now on (the caller makes the folders accessible to it).
    pub fn run_as(&mut self, user: &str) {
        self.user = Some(user.to_string());
    }

    /// The temp folder.
    pub fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    /// A path inside the temp folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Adds backup target `name`: a new folder `drive` in the temp folder, which it returns.
    pub fn folder_target(&self, name: &str) -> PathBuf {
        let drive = self.path("drive");
        std::fs::create_dir(&drive).unwrap();
        self.ok(&["backup", "target", "add", name, "--folder", s(&drive)]);
        drive
    }

    pub fn vault(&self) -> &Path {
        &self.vault
    }

    /// `kura --vault <vault> <args>`, with no `KURA_*` variables inherited.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = match &self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--", KURA]);
                c
            }
            None => Command::new(KURA),
        };
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("KURA_") {
                cmd.env_remove(k);
            }
        }
        cmd.arg("--vault").arg(&self.vault).args(args);
        cmd
    }

    fn finish(&self, out: Output, what: &str) -> Run {
        let run = Run {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !run.stderr.contains("panicked"),
            "kura panicked running `{what}`:\n{}",
            run.stderr
        );
        run
    }

    /// Runs kura and waits for it.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("cannot start kura");
        self.finish(out, &args.join(" "))
    }

    /// Runs kura with `input` on standard input.
    pub fn run_with_input(&self, args: &[&str], input: &[u8]) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start kura");
        let mut stdin = child.stdin.take().unwrap();
        let data = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        self.finish(out, &args.join(" "))
    }

    /// Runs `kura --json <args>`, expects exit code 0 and returns the parsed output.
    pub fn ok(&self, args: &[&str]) -> Value {
        let run = self.json_run(args);
        assert_eq!(
            run.code,
            Some(0),
            "`kura {}` failed:\nstdout: {}\nstderr: {}",
            args.join(" "),
            run.text(),
            run.stderr
        );
        run.json()
    }

    /// Runs `kura --json <args>`, expects exit code `code` and a JSON error; returns the error
    /// object (`code` and `message`).
    pub fn fails(&self, args: &[&str], code: i32) -> Value {
        let run = self.json_run(args);
        assert_eq!(
            run.code,
            Some(code),
            "`kura {}`: want exit code {code}\nstdout: {}\nstderr: {}",
            args.join(" "),
            run.text(),
            run.stderr
        );
        let v = run.json();
        let err = v["error"].clone();
        assert!(
            err["code"].is_string() && err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "not an error object: {v}"
        );
        err
    }

    /// Runs `kura --json <args>` whatever the outcome.
    pub fn json_run(&self, args: &[&str]) -> Run {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// Names of the projects `kura project list <args>` prints.
    pub fn project_names(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["project", "list"];
        all.extend_from_slice(args);
        names(&self.ok(&all))
    }

    /// Version ids of a project, newest first.
    pub fn version_ids(&self, project: &str) -> Vec<String> {
        self.ok(&["history", project])
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// Exports a version of a project into a new folder `<tmp>/<dest>` and returns that folder.
    pub fn export(&self, project: &str, version: &str, dest: &str) -> PathBuf {
        let out = self.path(dest);
        self.ok(&["project", "export", project, s(&out), "--version", version]);
        out
    }
}

/// The `name` fields of a JSON array.
pub fn names(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// A path as `&str` (temp paths are ASCII).
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `git <args>` and returns its output; panics when git cannot be started.
/// Runs a tool (tar, zstd, ...) that must succeed; returns its standard output.
pub fn tool(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run a tool");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn git(args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("cannot run git")
}

/// Clones the history of an archive unpacked at `top` with plain git, as the archives chapter
/// says: the files' contents into a bare repository first (the bundle leaves the latest
/// version's to `files/`), then the bundle fetched into it. Returns the bare repository.
pub fn git_clone_archive(top: &Path, clone: &Path) -> PathBuf {
    let bare = clone.with_extension("git");
    let ok = |out: Output, what: &str| assert!(out.status.success(), "{what}: {out:?}");
    ok(
        git(&["init", "-q", "--bare", "-b", "main", s(&bare)]),
        "git init",
    );
    ok(
        Command::new("sh")
            .arg("-c")
            .arg(r#"find files $(test -d history-blobs && echo history-blobs) -type f -exec git --git-dir="$1" hash-object -w --no-filters {} +"#)
            .arg("sh")
            .arg(&bare)
            .current_dir(top)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap(),
        "git hash-object of files/",
    );
    let bundle = top.join("history.bundle");
    ok(
        git(&[
            "--git-dir",
            s(&bare),
            "fetch",
            "-q",
            s(&bundle),
            "main:main",
        ]),
        "git fetch history.bundle",
    );
    ok(git(&["clone", "-q", s(&bare), s(clone)]), "git clone");
    bare
}

/// A test's precondition (root, a tmpfs mount, an unprivileged user) is missing: fails the test,
/// unless `KURA_TEST_ALLOW_SKIP=1` says skipping is fine here, in which case it prints
/// "skipped: <why>" and the caller returns.
pub fn precondition_missing(why: &str) {
    if std::env::var_os("KURA_TEST_ALLOW_SKIP").is_some_and(|v| v == "1") {
        eprintln!("skipped: {why}");
        return;
    }
    panic!("precondition missing: {why}; set KURA_TEST_ALLOW_SKIP=1 to skip");
}
