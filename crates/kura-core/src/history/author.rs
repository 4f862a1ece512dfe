//! Who made a version: the person at the keyboard, named as git would name them.
//!
//! The person's git identity (`user.name` and `user.email` from git's global and system
//! configuration, as `git commit` reads them) when it is set, else the operating-system account:
//! its full name from the password database (or the login name) and `login@host`.

use std::path::Path;

/// The person running this process, as a git author ("Name <email>").
pub fn person() -> String {
    let git = git2::Config::open_default().ok();
    let get = |key: &str| {
        git.as_ref()
            .and_then(|c| c.get_string(key).ok())
            .map(|v| clean(&v))
            .filter(|v| !v.is_empty())
    };
    let login = login();
    let name = get("user.name").unwrap_or_else(|| account_name(&login));
    let email = get("user.email").unwrap_or_else(|| format!("{login}@{}", host()));
    format!("{name} <{email}>")
}

/// An agent acting for the person: the agent's name with the person's email, so a history
/// shows both what wrote a version and for whom.
pub fn agent(name: &str) -> String {
    let person = person();
    let email = person
        .rsplit_once('<')
        .map(|(_, e)| e.trim_end_matches('>'))
        .unwrap_or("");
    format!("{} <{email}>", clean(name))
}

/// Drops what cannot stand in an author line (line breaks, angle brackets).
fn clean(s: &str) -> String {
    s.replace(['\n', '\r', '\0', '<', '>'], " ")
        .trim()
        .to_string()
}

/// The login name: `$USER` (`$LOGNAME`, `$USERNAME`), else "user".
fn login() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|v| clean(&v))
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "user".to_string())
}

/// The account's full name (the first field of its GECOS entry in `/etc/passwd`), else the
/// login name.
fn account_name(login: &str) -> String {
    account_name_in(Path::new("/etc/passwd"), login).unwrap_or_else(|| login.to_string())
}

fn account_name_in(passwd: &Path, login: &str) -> Option<String> {
    let text = std::fs::read_to_string(passwd).ok()?;
    text.lines().find_map(|line| {
        let mut f = line.split(':');
        if f.next()? != login {
            return None;
        }
        let gecos = f.nth(3)?;
        let full = clean(gecos.split(',').next().unwrap_or(""));
        (!full.is_empty()).then_some(full)
    })
}

/// The machine's host name, else "localhost".
fn host() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|v| clean(&v))
        .find(|v| !v.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().map(|v| clean(&v)))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_name_comes_from_the_account() {
        let dir = tempfile::tempdir().unwrap();
        let passwd = dir.path().join("passwd");
        std::fs::write(
            &passwd,
            "root:x:0:0:root:/root:/bin/sh\nada:x:1000:1000:Ada Lovelace,,,:/home/ada:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n",
        )
        .unwrap();
        assert_eq!(
            account_name_in(&passwd, "ada").as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(account_name_in(&passwd, "bob"), None);
        assert_eq!(account_name_in(&passwd, "eve"), None);
    }

    #[test]
    fn names_lose_what_would_break_an_author_line() {
        assert_eq!(clean(" Claude <Code>\n"), "Claude  Code");
    }
}
