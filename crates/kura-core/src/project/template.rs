//! Project templates: four built in (empty, backend, frontend, fullstack) and any project saved
//! as a template (a folder under `<vault>/templates/<name>/`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::fs::durable;
use crate::job::Job;
use crate::project::workspace::check_name;
use crate::vault::Vault;
use crate::vault::VaultReader;

/// A template a project can start from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Template {
    /// Its name.
    pub name: String,
    /// Built into Kura, or saved from a project.
    pub builtin: bool,
    /// What it gives.
    pub description: String,
    /// Files it holds.
    pub file_count: u64,
}

/// Where a template's files come from.
pub(crate) enum Source {
    Builtin(&'static [(&'static str, &'static str)]),
    Folder(PathBuf),
}

const GITIGNORE: &str = "node_modules/\ntarget/\ndist/\n.venv/\n__pycache__/\n.env\n";

const BACKEND: &[(&str, &str)] = &[
    ("README.md", "# Backend\n\nA small HTTP service in Rust.\n\n```sh\ncargo run\ncurl http://127.0.0.1:8080/health\n```\n"),
    (".gitignore", GITIGNORE),
    ("Cargo.toml", "[package]\nname = \"backend\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n"),
    (
        "src/main.rs",
        "use std::io::{Read, Write};\nuse std::net::TcpListener;\n\nfn main() -> std::io::Result<()> {\n    let listener = TcpListener::bind(\"127.0.0.1:8080\")?;\n    println!(\"listening on http://127.0.0.1:8080\");\n    for stream in listener.incoming() {\n        let mut stream = stream?;\n        let mut buf = [0u8; 1024];\n        let n = stream.read(&mut buf)?;\n        let request = String::from_utf8_lossy(&buf[..n]);\n        let (status, body) = if request.starts_with(\"GET /health \") {\n            (\"200 OK\", \"{\\\"status\\\":\\\"ok\\\"}\")\n        } else {\n            (\"404 Not Found\", \"{\\\"error\\\":\\\"not found\\\"}\")\n        };\n        write!(\n            stream,\n            \"HTTP/1.1 {status}\\r\\ncontent-type: application/json\\r\\ncontent-length: {}\\r\\n\\r\\n{body}\",\n            body.len()\n        )?;\n    }\n    Ok(())\n}\n",
    ),
];

const FRONTEND: &[(&str, &str)] = &[
    ("README.md", "# Frontend\n\nA static web page with a little script.\n\n```sh\nnpx vite\n```\n"),
    (".gitignore", GITIGNORE),
    ("package.json", "{\n  \"name\": \"frontend\",\n  \"private\": true,\n  \"type\": \"module\",\n  \"scripts\": { \"dev\": \"vite\", \"build\": \"vite build\" },\n  \"devDependencies\": { \"vite\": \"^7.0.0\" }\n}\n"),
    ("index.html", "<!doctype html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\" />\n    <title>Frontend</title>\n    <link rel=\"stylesheet\" href=\"/src/style.css\" />\n  </head>\n  <body>\n    <main id=\"app\"></main>\n    <script type=\"module\" src=\"/src/main.js\"></script>\n  </body>\n</html>\n"),
    ("src/main.js", "const app = document.querySelector('#app');\napp.innerHTML = '<h1>Hello</h1><p>Edit src/main.js to start.</p>';\n"),
    ("src/style.css", "body {\n  font-family: system-ui, sans-serif;\n  margin: 2rem;\n}\n"),
];

const FULLSTACK: &[(&str, &str)] = &[
    ("README.md", "# Fullstack\n\n- `server/`: a Rust HTTP service (`cargo run`)\n- `web/`: a static front end (`npx vite`)\n"),
    (".gitignore", GITIGNORE),
    ("server/Cargo.toml", "[package]\nname = \"server\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n"),
    ("server/src/main.rs", "use std::io::{Read, Write};\nuse std::net::TcpListener;\n\nfn main() -> std::io::Result<()> {\n    let listener = TcpListener::bind(\"127.0.0.1:8080\")?;\n    for stream in listener.incoming() {\n        let mut stream = stream?;\n        let mut buf = [0u8; 1024];\n        stream.read(&mut buf)?;\n        let body = \"{\\\"message\\\":\\\"hello from the server\\\"}\";\n        write!(stream, \"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\naccess-control-allow-origin: *\\r\\ncontent-length: {}\\r\\n\\r\\n{body}\", body.len())?;\n    }\n    Ok(())\n}\n"),
    ("web/package.json", "{\n  \"name\": \"web\",\n  \"private\": true,\n  \"type\": \"module\",\n  \"scripts\": { \"dev\": \"vite\" },\n  \"devDependencies\": { \"vite\": \"^7.0.0\" }\n}\n"),
    ("web/index.html", "<!doctype html>\n<html lang=\"en\">\n  <head><meta charset=\"utf-8\" /><title>Fullstack</title></head>\n  <body>\n    <main id=\"app\">Loading…</main>\n    <script type=\"module\" src=\"/main.js\"></script>\n  </body>\n</html>\n"),
    ("web/main.js", "const res = await fetch('http://127.0.0.1:8080/');\nconst { message } = await res.json();\ndocument.querySelector('#app').textContent = message;\n"),
];

/// A template's files: (path, content).
type Files = &'static [(&'static str, &'static str)];

/// Built-in templates: (name, description, files).
const BUILTIN: &[(&str, &str, Files)] = &[
    ("empty", "An empty folder", &[]),
    ("backend", "A small Rust HTTP service", BACKEND),
    ("frontend", "A static web page with Vite", FRONTEND),
    ("fullstack", "A Rust server and a web front end", FULLSTACK),
];

/// Writes a template's files into `dest` (which exists and is empty).
pub(crate) fn write_into(source: &Source, dest: &Path) -> Result<()> {
    match source {
        Source::Builtin(files) => {
            for (rel, text) in files.iter() {
                durable::write_file(&dest.join(rel), text.as_bytes())?;
            }
            Ok(())
        }
        Source::Folder(dir) => {
            let left_out = crate::files::copy_tree(
                dir,
                dest,
                &crate::config::Config::default(),
                &Job::default(),
            )?;
            // A project made from a template holds all of it, or is not made.
            match left_out.first() {
                None => Ok(()),
                Some(s) => Err(Error::invalid(format!(
                    "the template's '{}' cannot be copied: {}",
                    s.path, s.reason
                ))),
            }
        }
    }
}

impl VaultReader {
    /// All templates: built-in first, then saved ones by name.
    pub fn templates(&self) -> Result<Vec<Template>> {
        let mut out: Vec<Template> = BUILTIN
            .iter()
            .map(|(name, desc, files)| Template {
                name: name.to_string(),
                builtin: true,
                description: desc.to_string(),
                file_count: files.len() as u64,
            })
            .collect();
        let dir = self.templates_dir();
        let mut saved = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                if !e.path().is_dir() {
                    continue;
                }
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let count = walkdir::WalkDir::new(e.path())
                    .into_iter()
                    .filter_map(|x| x.ok())
                    .filter(|x| !x.file_type().is_dir())
                    .count() as u64;
                saved.push(Template {
                    name,
                    builtin: false,
                    description: "Saved from a project".into(),
                    file_count: count,
                });
            }
        }
        saved.sort_by(|a, b| a.name.cmp(&b.name));
        out.extend(saved);
        Ok(out)
    }

    pub(crate) fn template(&self, name: &str) -> Result<Source> {
        if let Some((_, _, files)) = BUILTIN.iter().find(|(n, _, _)| *n == name) {
            return Ok(Source::Builtin(files));
        }
        let name = check_name("template", name)?;
        let dir = self.templates_dir().join(&name);
        if dir.is_dir() {
            return Ok(Source::Folder(dir));
        }
        Err(Error::not_found(format!(
            "there is no template '{name}'; `kura template list` shows them"
        )))
    }
}

impl Vault {
    /// Saves the latest version of a project as a template that new projects can start from.
    pub fn save_template(&self, reference: &str, name: &str) -> Result<Template> {
        let name = check_name("template", name)?;
        if BUILTIN.iter().any(|(n, _, _)| *n == name) || self.templates_dir().join(&name).exists() {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("a template named '{name}' already exists"),
            ));
        }
        let staging = self.templates_dir().join(format!(".saving-{name}"));
        let _ = std::fs::remove_dir_all(&staging);
        let res = self.export_version(reference, None, &staging, &Job::default());
        if let Err(e) = res {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        let dest = self.templates_dir().join(&name);
        durable::rename(&staging, &dest)?;
        self.templates()?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| Error::internal("the saved template vanished"))
    }
}
