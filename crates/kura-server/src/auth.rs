//! Who may call: bearer tokens with a scope, kept in a 0600 file in the vault, compared in
//! constant time; browser sessions made from a one-time link or a pasted token; and a growing,
//! bounded delay after failed attempts.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::error::{HttpError, HttpErrorCode, HttpResult};

/// What a token allows. Each scope includes the ones before it.
#[derive(
    Serialize, Deserialize, ToSchema, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read anything: every `GET`, and what only looks (a records query, verifying).
    Read,
    /// Change what stays recoverable, but not destroy what nothing else holds (hard delete,
    /// restoring over the folder, deleting files or records, cleanup or prune that are not dry
    /// runs), nor set up or keep up the vault or the server (settings, backup targets, deleting
    /// a workspace, sign-in links, gc); and no paths on the server's machine (copy from,
    /// import, export, extract or restore to a folder there). Each operation's need follows from
    /// what the service declares it does (`kura_api::catalog::Declared::access`).
    Write,
    /// Everything, paths on the server's machine included.
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// One token as kept in the file.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Token {
    pub scope: Scope,
    pub token: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
}

#[derive(Serialize, Deserialize, Default)]
struct TokenFile {
    tokens: Vec<Token>,
}

/// 32 random bytes as hex.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system's random source works");
    hex::encode(bytes)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The token file of a vault: `<vault>/api/tokens.json`, folder 0700, file 0600. Re-read when it
/// changes, so a rotation takes effect in a running server at once.
pub struct Tokens {
    path: PathBuf,
    cache: Mutex<Option<(SystemTime, Vec<Token>)>>,
}

impl Tokens {
    /// The token file of the vault at `vault_root`.
    pub fn of_vault(vault_root: &Path) -> Tokens {
        Tokens::at(vault_root.join("api").join("tokens.json"))
    }

    pub fn at(path: PathBuf) -> Tokens {
        Tokens {
            path,
            cache: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> std::io::Result<Vec<Token>> {
        match fs::read(&self.path) {
            Ok(data) => serde_json::from_slice::<TokenFile>(&data)
                .map(|f| f.tokens)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", self.path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    fn write(&self, tokens: &[Token]) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        let tmp = dir.join(".tokens.json.tmp");
        let _ = fs::remove_file(&tmp);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let body = serde_json::to_vec_pretty(&TokenFile {
            tokens: tokens.to_vec(),
        })
        .map_err(std::io::Error::other)?;
        f.write_all(&body)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &self.path)?;
        fs::File::open(dir)?.sync_all()?;
        *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// The tokens now in force.
    pub fn all(&self) -> std::io::Result<Vec<Token>> {
        let modified = fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, tokens)) = cache.as_ref() {
            if *at == modified && modified != SystemTime::UNIX_EPOCH {
                return Ok(tokens.clone());
            }
        }
        let tokens = self.read()?;
        *cache = Some((modified, tokens.clone()));
        Ok(tokens)
    }

    /// The token of `scope`, made (and saved) when there is none.
    pub fn get_or_create(&self, scope: Scope) -> std::io::Result<String> {
        let mut tokens = self.read()?;
        if let Some(t) = tokens.iter().find(|t| t.scope == scope) {
            return Ok(t.token.clone());
        }
        let token = make_token(scope);
        tokens.push(Token {
            scope,
            token: token.clone(),
            created_at: now_secs(),
        });
        self.write(&tokens)?;
        Ok(token)
    }

    /// Replaces the tokens of `scope` (every scope when `None`) with new ones; the old ones stop
    /// working at once, in running servers too. Returns the new tokens.
    pub fn rotate(&self, scope: Option<Scope>) -> std::io::Result<Vec<Token>> {
        let old = self.read()?;
        let scopes: Vec<Scope> = match scope {
            Some(s) => vec![s],
            None => {
                let mut s: Vec<Scope> = old.iter().map(|t| t.scope).collect();
                if s.is_empty() {
                    s.push(Scope::Admin);
                }
                s.sort();
                s.dedup();
                s
            }
        };
        let mut tokens: Vec<Token> = old
            .into_iter()
            .filter(|t| !scopes.contains(&t.scope))
            .collect();
        let fresh: Vec<Token> = scopes
            .iter()
            .map(|&scope| Token {
                scope,
                token: make_token(scope),
                created_at: now_secs(),
            })
            .collect();
        tokens.extend(fresh.iter().cloned());
        self.write(&tokens)?;
        Ok(fresh)
    }

    /// The scope of `presented`, compared in constant time with every token kept.
    pub fn scope_of(&self, presented: &str) -> std::io::Result<Option<Scope>> {
        let mut found = None;
        for t in self.all()? {
            let same: bool = t.token.as_bytes().ct_eq(presented.as_bytes()).into();
            if same {
                found = found.max(Some(t.scope));
            }
        }
        Ok(found)
    }
}

/// `kura_<scope>_<64 hex digits>`: 256 random bits, with the scope readable by people.
fn make_token(scope: Scope) -> String {
    format!("kura_{}_{}", scope.as_str(), random_hex())
}

/// How long a one-time session link stays valid.
pub const SESSION_LINK_TTL: Duration = Duration::from_secs(600);

/// A browser session.
#[derive(Clone, Debug)]
pub struct Session {
    pub scope: Scope,
    pub csrf: String,
}

/// One-time links and browser sessions (in memory: a restart signs browsers out).
#[derive(Default)]
pub struct Sessions {
    links: Mutex<HashMap<String, (Scope, Instant)>>,
    sessions: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// A new one-time link token giving a session of `scope`.
    pub fn new_link(&self, scope: Scope) -> String {
        let token = random_hex();
        lock(&self.links).insert(token.clone(), (scope, Instant::now()));
        token
    }

    /// Uses up a one-time link token: the new session's id and the session.
    pub fn open(&self, link: &str) -> Option<(String, Session)> {
        let mut links = lock(&self.links);
        links.retain(|_, (_, at)| at.elapsed() < SESSION_LINK_TTL);
        let key = links
            .keys()
            .find(|k| bool::from(k.as_bytes().ct_eq(link.as_bytes())))
            .cloned()?;
        let (scope, _) = links.remove(&key)?;
        drop(links);
        Some(self.start(scope))
    }

    /// Starts a session of `scope` (from a link, or a token pasted in the sign-in page): its id
    /// and the session.
    pub fn start(&self, scope: Scope) -> (String, Session) {
        let id = random_hex();
        let session = Session {
            scope,
            csrf: random_hex(),
        };
        lock(&self.sessions).insert(id.clone(), session.clone());
        (id, session)
    }

    pub fn get(&self, id: &str) -> Option<Session> {
        let sessions = lock(&self.sessions);
        sessions
            .iter()
            .find(|(k, _)| bool::from(k.as_bytes().ct_eq(id.as_bytes())))
            .map(|(_, s)| s.clone())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The longest a failed attempt is held back.
pub const MAX_FAILURE_DELAY: Duration = Duration::from_secs(5);
/// Failures older than this are forgotten.
const FAILURE_MEMORY: Duration = Duration::from_secs(300);

/// Failed attempts, per client and overall. Each failure makes the next answer to that client
/// (and, more gently, to everyone) wait longer: 100 ms doubling, at most [`MAX_FAILURE_DELAY`].
#[derive(Default)]
pub struct Failures {
    by_client: Mutex<HashMap<String, (u32, Instant)>>,
    global: Mutex<(u32, Option<Instant>)>,
}

fn backoff(n: u32) -> Duration {
    if n == 0 {
        return Duration::ZERO;
    }
    let ms = 100u64.saturating_mul(1u64 << n.saturating_sub(1).min(16));
    Duration::from_millis(ms).min(MAX_FAILURE_DELAY)
}

impl Failures {
    /// Records a failure from `client`; returns how long to hold its answer back.
    pub fn failed(&self, client: &str) -> Duration {
        let n = {
            let mut map = lock(&self.by_client);
            map.retain(|_, (_, at)| at.elapsed() < FAILURE_MEMORY);
            let e = map.entry(client.to_string()).or_insert((0, Instant::now()));
            e.0 = e.0.saturating_add(1);
            e.1 = Instant::now();
            e.0
        };
        let g = {
            let mut g = lock(&self.global);
            if g.1.is_some_and(|at| at.elapsed() >= FAILURE_MEMORY) {
                g.0 = 0;
            }
            g.0 = g.0.saturating_add(1);
            g.1 = Some(Instant::now());
            g.0
        };
        // Everyone slows down a little when many fail (a spread-out guessing attack).
        backoff(n).max(backoff(g / 10))
    }

    /// A client that got in is forgiven.
    pub fn succeeded(&self, client: &str) {
        lock(&self.by_client).remove(client);
    }
}

/// The 401 answer.
pub fn unauthorized(message: &str) -> HttpError {
    HttpError::new(HttpErrorCode::Unauthorized, message)
}

/// Checks `have` allows `need`.
pub fn require(have: Scope, need: Scope) -> HttpResult<()> {
    if have >= need {
        Ok(())
    } else {
        Err(HttpError::forbidden(format!(
            "this needs a token of scope '{}'; this one is '{}' (see `kura serve token --scope {}`)",
            need.as_str(),
            have.as_str(),
            need.as_str()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert_eq!(backoff(0), Duration::ZERO);
        assert!(backoff(2) > backoff(1));
        assert_eq!(backoff(40), MAX_FAILURE_DELAY);
    }

    #[test]
    fn rotation_replaces_only_the_scope_asked() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = Tokens::of_vault(dir.path());
        let admin = tokens.get_or_create(Scope::Admin).unwrap();
        let read = tokens.get_or_create(Scope::Read).unwrap();
        assert_eq!(tokens.get_or_create(Scope::Read).unwrap(), read);
        let fresh = tokens.rotate(Some(Scope::Read)).unwrap();
        assert_eq!(tokens.scope_of(&read).unwrap(), None);
        assert_eq!(tokens.scope_of(&fresh[0].token).unwrap(), Some(Scope::Read));
        assert_eq!(tokens.scope_of(&admin).unwrap(), Some(Scope::Admin));
    }
}
