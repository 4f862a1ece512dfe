//! The storage under a target, through OpenDAL (local folders and S3-compatible buckets), run on
//! a small tokio runtime owned here so the rest of the crate stays synchronous.

use bytes::Bytes;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use kura_core::{Error, ErrorKind, Result};
use opendal::layers::HttpClientLayer;
use opendal::raw::HttpClient;
use opendal::Operator;

use crate::net::{use_ring_for_tls, TimedClient, TimedOut, Timeouts};
use crate::target::{secret, Location, SecretKind, Target};

/// Packs a run keeps in flight to a folder target while it fills the next: the disk takes them
/// about as fast one after another, and each holds its 16 MiB (a first backup of the docs vault
/// here peaked 25 MB higher with 2 than with 1, and 55 MB higher with 4 than with 2, in the same
/// time).
const FOLDER_UPLOADS: usize = 1;
/// Packs a restore reads at once from a folder target: each reader also writes the files its
/// pack's chunks belong to, and creating files takes a core (as fast with 2 as with 4 here, and
/// 50 MB lower at the peak).
const FOLDER_READS: usize = 2;
/// Packs uploaded or downloaded at once on an S3 target, where each waits on the network.
const S3_TRANSFERS: usize = 4;
/// Attempts of one upload before the run gives up on the target (with backoff between them).
pub(crate) const UPLOAD_ATTEMPTS: u32 = 5;
/// The first backoff delay; it doubles after each failed attempt.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Bytes asked for per request of a download.
const DOWNLOAD_PIECE: u64 = 8 << 20;
/// Requests for one piece of a download before it gives up.
const DOWNLOAD_TRIES: u32 = 4;
/// Files in a folder target's `.tmp/` (where OpenDAL writes before renaming into place) older than
/// this are debris of killed writes; a run removes them.
pub(crate) const TEMP_DEBRIS_AGE: Duration = Duration::from_secs(3600);

/// One object in a listing.
#[derive(Clone, Debug)]
pub(crate) struct Listed {
    /// Name relative to the listed folder.
    pub name: String,
    pub size: u64,
}

/// An open connection to a target's storage.
pub(crate) struct Store {
    rt: tokio::runtime::Runtime,
    op: Operator,
    /// The folder of a folder target (whose folders are fsynced after each write).
    folder: Option<PathBuf>,
    /// For messages: "target 'usb' (/media/usb/kura)".
    label: String,
    timeouts: Timeouts,
    /// Set once a call timed out.
    down: Arc<Down>,
}

/// Whether the target timed out in this command: then every later call fails at once with the
/// same message instead of waiting again (a retry, the lock's heartbeat and release, the
/// remaining packs of a restore or verify), so a silent target costs a command one timeout,
/// not one per call.
#[derive(Default)]
struct Down(Mutex<Option<String>>);

impl Down {
    /// The `unavailable` error of a call that timed out; later calls fail with it.
    fn record(&self, label: &str, timed_out: TimedOut, action: &str, path: &str) -> Error {
        let message = format!(
            "{label} {} ({action} {path}); check the server and the network and try again",
            timed_out.describe()
        );
        tracing::warn!("{message}");
        let mut first = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let message = first.get_or_insert(message).clone();
        Error::new(ErrorKind::Unavailable, message)
    }

    fn check(&self) -> Result<()> {
        match &*self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(message) => Err(Error::new(ErrorKind::Unavailable, message.clone())),
            None => Ok(()),
        }
    }

    fn is_down(&self) -> bool {
        self.check().is_err()
    }
}

/// Object `path` read whole into one buffer, each piece copied in as it arrives and then let go:
/// a pack costs its size once. (`Operator::read` keeps every piece until the last has come, and
/// joining them copies the whole again.)
async fn read_whole(op: &Operator, path: &str) -> opendal::Result<Vec<u8>> {
    let mut data = Vec::new();
    op.reader(path).await?.read_into(&mut data, ..).await?;
    Ok(data)
}

impl Store {
    /// How many packs a run keeps in flight while it fills the next.
    pub fn uploads_in_flight(&self) -> usize {
        match self.folder {
            Some(_) => FOLDER_UPLOADS,
            None => S3_TRANSFERS,
        }
    }

    /// How many packs a restore reads at once.
    pub fn reads_at_once(&self) -> usize {
        match self.folder {
            Some(_) => FOLDER_READS,
            None => S3_TRANSFERS,
        }
    }

    /// Opens the storage of `target`; a folder whose drive is absent is `unavailable`. Every
    /// call is bounded by `timeouts` (see [`Store::call`]).
    pub fn open(target: &Target, timeouts: Timeouts) -> Result<Store> {
        use_ring_for_tls();
        let label = format!("target '{}' ({})", target.name, target.location.describe());
        let folder = match &target.location {
            Location::Folder { path } => Some(path.clone()),
            Location::S3 { .. } => None,
        };
        let op = match &target.location {
            Location::Folder { path } => {
                if !path.is_dir() {
                    return Err(Error::new(
                        ErrorKind::Unavailable,
                        format!(
                            "{label} is unavailable: {} does not exist (is its drive connected?); the backup waits for it",
                            path.display()
                        ),
                    ));
                }
                let root = path.to_string_lossy().to_string();
                let tmp = path.join(".tmp");
                Operator::new(
                    opendal::services::Fs::default()
                        .root(&root)
                        .atomic_write_dir(&tmp.to_string_lossy()),
                )
                .map(|b| b.finish())
            }
            Location::S3 {
                endpoint,
                region,
                bucket,
                prefix,
                path_style,
            } => {
                let key_id = secret(&target.name, SecretKind::AccessKeyId)?;
                let secret_key = secret(&target.name, SecretKind::SecretAccessKey)?;
                let mut b = opendal::services::S3::default()
                    .endpoint(endpoint)
                    .region(region)
                    .bucket(bucket)
                    .root(&format!("/{}", prefix.trim_matches('/')))
                    .access_key_id(&key_id)
                    .secret_access_key(&secret_key)
                    .disable_config_load()
                    .disable_ec2_metadata();
                if !path_style {
                    b = b.enable_virtual_host_style();
                }
                let client = TimedClient::new(timeouts).map_err(|e| {
                    Error::new(
                        ErrorKind::Internal,
                        format!("cannot set up the HTTP client: {e}"),
                    )
                })?;
                Operator::new(b).map(|b| {
                    b.layer(HttpClientLayer::new(HttpClient::with(client)))
                        .finish()
                })
            }
        }
        .map_err(|e| Error::new(ErrorKind::InvalidInput, format!("{label}: {e}")))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("cannot start I/O threads: {e}"),
                )
            })?;
        Ok(Store {
            rt,
            op,
            folder,
            label,
            timeouts,
            down: Arc::default(),
        })
    }

    /// Runs one call to the target: refused at once when the target already timed out in this
    /// command (see [`Down`]), and bounded by the operation timeout (a hung drive or server ends
    /// `unavailable`, never hangs). Errors other than timeouts come back as OpenDAL's, for the
    /// caller to sort.
    fn call<T>(
        &self,
        f: impl Future<Output = opendal::Result<T>>,
        action: &str,
        path: &str,
    ) -> Result<opendal::Result<T>> {
        self.down.check()?;
        // The timer is made inside the runtime (it needs its clock).
        let limit = self.timeouts.operation;
        match self
            .rt
            .block_on(async { tokio::time::timeout(limit, f).await })
        {
            Ok(Err(e)) => match TimedOut::find(&e) {
                Some(t) => Err(self.down.record(&self.label, t, action, path)),
                None => Ok(Err(e)),
            },
            Ok(ok) => Ok(ok),
            Err(_) => Err(self.down.record(
                &self.label,
                TimedOut::Operation(self.timeouts.operation),
                action,
                path,
            )),
        }
    }

    fn block<T>(
        &self,
        f: impl Future<Output = opendal::Result<T>>,
        action: &str,
        path: &str,
    ) -> Result<T> {
        self.call(f, action, path)?
            .map_err(|e| classify(&e, &self.label, action, path))
    }

    /// Reads a whole object.
    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        self.block(read_whole(&self.op, path), "read", path)
    }

    /// Downloads object `path` into `out`: in pieces of [`DOWNLOAD_PIECE`], each one range request
    /// bounded by the operation timeout, so memory stays flat whatever the size. A piece that
    /// fails for a passing reason (a connection reset) is asked for again from where it stopped,
    /// up to [`DOWNLOAD_TRIES`] times; a target that stops answering ends it `unavailable`.
    /// `progress(done, total)` follows each piece; `check` can stop it (cancelled). The bytes
    /// written.
    pub fn download(
        &self,
        path: &str,
        out: &mut dyn std::io::Write,
        progress: &dyn Fn(u64, u64),
        check: &dyn Fn() -> Result<()>,
    ) -> Result<u64> {
        self.download_from(path, 0, out, progress, check)
    }

    /// [`Store::download`] from byte `start` on (to resume a download cut off before):
    /// `progress` counts from `start`; returns the object's size.
    pub fn download_from(
        &self,
        path: &str,
        start: u64,
        out: &mut dyn std::io::Write,
        progress: &dyn Fn(u64, u64),
        check: &dyn Fn() -> Result<()>,
    ) -> Result<u64> {
        let total = self.size_of(path)?;
        if start > total {
            return Err(Error::new(
                ErrorKind::Corrupt,
                format!(
                    "{}: {path} holds {total} bytes, fewer than the {start} already fetched",
                    self.label
                ),
            ));
        }
        let mut done = start;
        progress(done, total);
        while done < total {
            check()?;
            let end = (done + DOWNLOAD_PIECE).min(total);
            let mut tries = 0;
            let piece = loop {
                tries += 1;
                let range = async { self.op.read_with(path).range(done..end).await };
                match self.call(range, "read", path)? {
                    Ok(piece) => break piece,
                    Err(e) if e.is_temporary() && tries < DOWNLOAD_TRIES => {
                        tracing::info!(
                            path,
                            tries,
                            "a piece of the download failed, asking again: {e}"
                        );
                        std::thread::sleep(FIRST_BACKOFF * tries);
                    }
                    Err(e) => return Err(classify(&e, &self.label, "read", path)),
                }
            };
            if piece.is_empty() {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "{}: {path} ended after {done} of {total} bytes; try again",
                        self.label
                    ),
                ));
            }
            let bytes = piece.to_bytes();
            out.write_all(&bytes).map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot write what {path} holds: {e}"),
                )
            })?;
            done += bytes.len() as u64;
            progress(done, total);
        }
        Ok(done)
    }

    /// The size of object `path`.
    pub fn size_of(&self, path: &str) -> Result<u64> {
        Ok(self
            .block(self.op.stat(path), "read", path)?
            .content_length())
    }

    /// Reads an object, `None` when it does not exist.
    pub fn read_optional(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self.call(read_whole(&self.op, path), "read", path)? {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(classify(&e, &self.label, "read", path)),
        }
    }

    /// Writes a whole object (atomically: readers see the old object or the new one; on a folder
    /// target durably, see [`sync_folders`]).
    pub fn write(&self, path: &str, data: Vec<u8>) -> Result<()> {
        self.block(self.op.write(path, data), "write", path)?;
        if let Some(root) = &self.folder {
            sync_folders(root, path).map_err(|e| classify_io(&e, &self.label, path))?;
        }
        Ok(())
    }

    /// Starts writing objects in the background, one after the other (a pack before its index),
    /// each retried with exponential backoff while the failure is temporary; [`Store::wait`]
    /// gives the result.
    /// The bytes are shared, not copied: a retry or the caller's own copy costs nothing.
    pub fn write_in_background(&self, objects: Vec<(String, Bytes)>) -> Upload {
        let op = self.op.clone();
        let label = self.label.clone();
        let folder = self.folder.clone();
        let timeouts = self.timeouts;
        let down = self.down.clone();
        let handle = self.rt.spawn(async move {
            for (path, data) in objects {
                let mut delay = FIRST_BACKOFF;
                let mut attempt = 1;
                let first = tokio::time::Instant::now();
                loop {
                    down.check()?;
                    let err = match tokio::time::timeout(
                        timeouts.operation,
                        op.write(&path, data.clone()),
                    )
                    .await
                    {
                        Ok(Ok(_)) => {
                            if let Some(root) = folder.clone() {
                                let object = path.clone();
                                tokio::task::spawn_blocking(move || sync_folders(&root, &object))
                                    .await
                                    .map_err(|e| {
                                        Error::new(ErrorKind::Internal, format!("sync failed: {e}"))
                                    })?
                                    .map_err(|e| classify_io(&e, &label, &path))?;
                            }
                            break;
                        }
                        Ok(Err(e)) => match TimedOut::find(&e) {
                            Some(t) => down.record(&label, t, "write", &path),
                            None => classify(&e, &label, "write", &path),
                        },
                        Err(_) => down.record(
                            &label,
                            TimedOut::Operation(timeouts.operation),
                            "write",
                            &path,
                        ),
                    };
                    // Retries are bounded in number and in time: none starts once the
                    // operation timeout has passed since the first attempt, and none after the
                    // target went silent (every later call would wait for nothing).
                    if attempt >= UPLOAD_ATTEMPTS
                        || err.kind() != ErrorKind::Unavailable
                        || down.is_down()
                        || first.elapsed() + delay >= timeouts.operation
                    {
                        return Err(err);
                    }
                    tracing::warn!(%path, attempt, "upload failed, retrying: {err}");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
            }
            Ok(())
        });
        Upload { handle }
    }

    /// Waits for a background upload.
    pub fn wait(&self, upload: Upload) -> Result<()> {
        self.rt
            .block_on(upload.handle)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("upload task failed: {e}")))?
    }

    /// Uploads `len` bytes read from `from` as object `path`, in pieces of [`DOWNLOAD_PIECE`]
    /// (a multipart upload on S3), each bounded by the operation timeout; memory stays flat
    /// whatever the size. `progress(done)` follows each piece; `check` can stop it (cancelled),
    /// and then or on any error the partial upload is aborted. Returns the bytes sent.
    pub fn upload(
        &self,
        path: &str,
        from: &mut dyn std::io::Read,
        progress: &dyn Fn(u64),
        check: &dyn Fn() -> Result<()>,
    ) -> Result<u64> {
        let mut writer = self.block(
            async {
                self.op
                    .writer_with(path)
                    .chunk(DOWNLOAD_PIECE as usize)
                    .await
            },
            "write",
            path,
        )?;
        let mut sent = 0u64;
        let mut piece = vec![0u8; DOWNLOAD_PIECE as usize];
        let result = (|| loop {
            check()?;
            let n = read_full(from, &mut piece).map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot read what goes to {path}: {e}"),
                )
            })?;
            if n == 0 {
                return Ok(());
            }
            let bytes = Bytes::copy_from_slice(&piece[..n]);
            self.block(writer.write(bytes), "write", path)?;
            sent += n as u64;
            progress(sent);
        })();
        match result.and_then(|()| self.block(writer.close(), "write", path)) {
            Ok(_) => Ok(sent),
            Err(e) => {
                let _ = self.call(writer.abort(), "abort", path);
                Err(e)
            }
        }
    }

    /// A URL that downloads object `path` without credentials until `expire` has passed, with
    /// `file_name` as the name a browser saves it under. Only S3 targets can sign one.
    pub fn presign_read(&self, path: &str, expire: Duration, file_name: &str) -> Result<String> {
        if self.folder.is_some() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{} is a folder, which has no link to hand out; share through an S3 target",
                    self.label
                ),
            ));
        }
        let disposition = format!(
            "attachment; filename=\"{}\"",
            file_name.replace(['"', '\\'], "_")
        );
        let signed = self.block(
            async {
                self.op
                    .presign_read_with(path, expire)
                    .override_content_disposition(&disposition)
                    .await
            },
            "sign a link to",
            path,
        )?;
        Ok(signed.uri().to_string())
    }

    /// Deletes an object (a missing one is fine).
    pub fn delete(&self, path: &str) -> Result<()> {
        self.block(self.op.delete(path), "delete", path)
    }

    /// Makes the deletions in folder `dir` so far durable before any later one (a folder target
    /// fsyncs that folder; object stores need nothing).
    pub fn sync_deletions(&self, dir: &str) -> Result<()> {
        match &self.folder {
            Some(root) if root.join(dir).is_dir() => {
                sync_folder(&root.join(dir)).map_err(|e| classify_io(&e, &self.label, dir))
            }
            _ => Ok(()),
        }
    }

    /// Folder targets: removes files in `<folder>/.tmp/` (OpenDAL's temporary files) not written
    /// to for [`TEMP_DEBRIS_AGE`]: debris of writes that were killed. Returns how many.
    pub fn remove_temp_debris(&self) -> usize {
        let Some(root) = &self.folder else {
            return 0;
        };
        let tmp = root.join(".tmp");
        let Ok(entries) = std::fs::read_dir(&tmp) else {
            return 0;
        };
        let now = SystemTime::now();
        let mut removed = 0;
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > TEMP_DEBRIS_AGE);
            if old && entry.file_type().is_ok_and(|t| t.is_file()) {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(e) => {
                        tracing::warn!(path = %entry.path().display(), "cannot remove a leftover temporary file: {e}")
                    }
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, folder = %tmp.display(), "removed leftover temporary files of killed writes");
        }
        removed
    }

    /// Lists the objects under `dir` (recursively), with sizes.
    pub fn list(&self, dir: &str) -> Result<Vec<Listed>> {
        let entries = match self.call(
            async { self.op.list_with(dir).recursive(true).await },
            "list",
            dir,
        )? {
            Ok(entries) => entries,
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(classify(&e, &self.label, "list", dir)),
        };
        Ok(entries
            .into_iter()
            .filter(|e| e.metadata().is_file())
            .map(|e| {
                let name = e.path().strip_prefix(dir).unwrap_or(e.path()).to_string();
                Listed {
                    name,
                    size: e.metadata().content_length(),
                }
            })
            .collect())
    }
}

/// After `object` was renamed into place under `root`: fsyncs its folder and every folder above it
/// up to `root`, so the rename (and any folder created for it) survives a power cut.
fn sync_folders(root: &Path, object: &str) -> std::io::Result<()> {
    let mut folder = root.join(object);
    while folder.pop() && folder.starts_with(root) {
        sync_folder(&folder)?;
    }
    Ok(())
}

fn sync_folder(folder: &Path) -> std::io::Result<()> {
    kura_durable::sync_dir(folder).map_err(|f| f.source)
}

/// An error of the folder fsyncs, as [`classify`] words it.
/// Reads until `buf` is full or the input ends; the bytes read.
fn read_full(from: &mut dyn std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match from.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn classify_io(e: &std::io::Error, label: &str, path: &str) -> Error {
    if e.raw_os_error() == Some(28) {
        return Error::new(
            ErrorKind::DiskFull,
            format!("{label} is full: cannot write {path}; free space there or prune old backups (`kura backup prune`)"),
        );
    }
    Error::new(
        ErrorKind::Io,
        format!("{label}: cannot make {path} durable (fsync of its folder failed): {e}"),
    )
}

/// An upload running in the background.
pub(crate) struct Upload {
    handle: tokio::task::JoinHandle<Result<()>>,
}

/// Turns an OpenDAL error into the engine's: full disk, unreachable server (unavailable, to be
/// retried), refused credentials, missing object.
fn classify(e: &opendal::Error, label: &str, action: &str, path: &str) -> Error {
    let text = format!("{e:#}");
    tracing::debug!("{label}: cannot {action} {path}: {text}");
    let lower = text.to_ascii_lowercase();
    let said = describe(e, &text);
    if lower.contains("invalidobjectstate") {
        return Error::new(
            ErrorKind::Unavailable,
            format!("{label}: {path} is in a cold storage class (such as Glacier) and cannot be read until it is restored; ask the provider to restore it, then try again"),
        );
    }
    // rustls's words for a certificate it refused (an unknown issuer, another name, expired):
    // not a server that is down, and no retry will change it.
    if let Some(at) = said.find("invalid peer certificate") {
        return Error::new(
            ErrorKind::InvalidInput,
            format!("{label}: the server's TLS certificate is not trusted ({}), so nothing was sent; if your own authority signed it, add that authority to the system's certificates or point SSL_CERT_FILE at it", &said[at..]),
        );
    }
    if lower.contains("no space left")
        || lower.contains("os error 28")
        || lower.contains("quota exceeded")
    {
        return Error::new(
            ErrorKind::DiskFull,
            format!("{label} is full: cannot {action} {path}; free space there or prune old backups (`kura backup prune`)"),
        );
    }
    match e.kind() {
        opendal::ErrorKind::NotFound => Error::new(
            ErrorKind::NotFound,
            format!("{label}: {path} does not exist"),
        ),
        opendal::ErrorKind::PermissionDenied => Error::new(
            ErrorKind::InvalidInput,
            format!("{label} refused to {action} {path}: {said}; check the credentials and the bucket's permissions"),
        )
        .with_field("secrets"),
        _ if e.is_temporary()
            || lower.contains("connect")
            || lower.contains("connection")
            || lower.contains("timed out")
            || lower.contains("dns") =>
        {
            Error::new(
                ErrorKind::Unavailable,
                format!("{label} is unavailable: cannot {action} {path}: {said}; the failed uploads wait in the outbox and are retried at the next run"),
            )
        }
        _ => Error::new(ErrorKind::Io, format!("{label}: cannot {action} {path}: {said}")),
    }
}

/// An OpenDAL error in words for a person: its message and its cause, and the HTTP status of a
/// server's answer, without the rest of the context OpenDAL adds (the service, the path, the
/// answer's headers), on one line and at most [`DESCRIBED_CHARS`] long. A server's answer is part
/// of the message (an error page of a proxy in front of it, say) and goes to the run's record
/// and a desktop notification: its length is the server's choice. `full` is the error as OpenDAL
/// writes it.
fn describe(e: &opendal::Error, full: &str) -> String {
    let mut text = e.message().trim().to_string();
    if text.is_empty() {
        text = e.kind().to_string();
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    if let Some(status) = http_status(full) {
        text = format!("HTTP {status}: {text}");
    }
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(DESCRIBED_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// The status of the HTTP answer in an OpenDAL error's context (`response: Parts { status: 502,
/// … }`), if it has one.
fn http_status(full: &str) -> Option<&str> {
    let at = full.find("response: Parts { status: ")? + "response: Parts { status: ".len();
    let status = full.get(at..at + 3)?;
    status.bytes().all(|b| b.is_ascii_digit()).then_some(status)
}

/// The most characters of an OpenDAL error [`describe`] keeps.
const DESCRIBED_CHARS: usize = 400;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_described_by_its_message_and_cause_on_one_short_line() {
        let io = std::io::Error::from_raw_os_error(libc::EEXIST);
        let e = opendal::Error::new(opendal::ErrorKind::AlreadyExists, "entity already exists")
            .with_operation("write")
            .with_context("service", "fs")
            .with_context("path", "backups/1")
            .set_source(io);
        let err = classify(&e, "target 'usb' (/media/usb)", "write", "backups/1");
        assert_eq!(
            err.message(),
            "target 'usb' (/media/usb): cannot write backups/1: entity already exists: File exists (os error 17)"
        );

        // A proxy's error page of a megabyte, many lines long, in place of an S3 answer.
        let page = format!(
            "<html>\n<body>\n{}</body></html>",
            "Bad gateway. ".repeat(80_000)
        );
        let e = opendal::Error::new(opendal::ErrorKind::Unexpected, page).with_context(
            "response",
            "Parts { status: 502, version: HTTP/1.1, headers: {\"server\": \"proxy\"} }",
        );
        let err = classify(&e, "target 's3'", "read", "config");
        let message = err.message();
        assert!(
            message.starts_with(
                "target 's3': cannot read config: HTTP 502: <html> <body> Bad gateway."
            ),
            "{message}"
        );
        assert!(message.ends_with('…'), "{message}");
        assert!(message.chars().count() < 500, "{}", message.len());
        assert!(!message.contains('\n'));

        // An answer with no body at all still says what it was.
        let e = opendal::Error::new(opendal::ErrorKind::PermissionDenied, "").with_context(
            "response",
            "Parts { status: 403, version: HTTP/1.1, headers: {} }",
        );
        let err = classify(&e, "target 's3'", "write", "data/ab");
        assert_eq!(
            err.message(),
            "target 's3' refused to write data/ab: HTTP 403: PermissionDenied; check the credentials and the bucket's permissions"
        );
    }

    #[test]
    fn a_certificate_the_client_does_not_trust_is_said_so_not_retried() {
        // As reqwest and hyper wrap rustls's error for an HTTPS endpoint signed by an unknown
        // authority (the real thing is in the command line's tests, against `rclone serve s3`).
        let e = opendal::Error::new(opendal::ErrorKind::Unexpected, "send http request")
            .with_temporary(true)
            .set_source(std::io::Error::other(
                "error sending request for url (https://127.0.0.1:9000/kura/config): client error (Connect): invalid peer certificate: UnknownIssuer",
            ));
        let err = classify(&e, "target 's3'", "read", "config");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err.message());
        assert!(
            err.message().starts_with("target 's3': the server's TLS certificate is not trusted (invalid peer certificate: UnknownIssuer), so nothing was sent; "),
            "{}",
            err.message()
        );
        assert!(err.message().contains("SSL_CERT_FILE"));
        assert!(!err.message().contains("retried"));
    }

    #[test]
    fn an_object_in_a_cold_storage_class_is_said_so_not_taken_for_a_failure() {
        let e = opendal::Error::new(
            opendal::ErrorKind::Unexpected,
            "S3Error { code: \"InvalidObjectState\", message: \"The operation is not valid for the object's storage class\" }",
        );
        let err = classify(&e, "target 'cold'", "read", "archives/a.tar.zst");
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(
            err.message().contains("cold storage class"),
            "{}",
            err.message()
        );
        assert!(err.message().contains("ask the provider to restore it"));
    }
}
