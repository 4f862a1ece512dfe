//! Languages (from file types) and frameworks (from manifests) of a project folder.

use std::collections::HashMap;
use std::path::Path;

use crate::model::file_type_of;

/// What was detected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Detected {
    pub languages: Vec<String>,
    pub frameworks: Vec<String>,
}

pub(crate) fn language_of(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "rs" => "rust",
        "py" | "pyi" => "python",
        "js" | "mjs" | "cjs" | "jsx" => "javascript",
        "ts" | "tsx" | "mts" | "cts" => "typescript",
        "go" => "go",
        "java" => "java",
        "kt" | "kts" => "kotlin",
        "scala" => "scala",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => "c++",
        "cs" => "c#",
        "rb" => "ruby",
        "php" => "php",
        "swift" => "swift",
        "m" | "mm" => "objective-c",
        "dart" => "dart",
        "ex" | "exs" => "elixir",
        "erl" | "hrl" => "erlang",
        "hs" => "haskell",
        "ml" | "mli" => "ocaml",
        "clj" | "cljs" | "cljc" => "clojure",
        "lua" => "lua",
        "zig" => "zig",
        "nim" => "nim",
        "r" => "r",
        "jl" => "julia",
        "sh" | "bash" | "zsh" => "shell",
        "ps1" => "powershell",
        "sql" => "sql",
        "html" | "htm" => "html",
        "css" | "scss" | "sass" | "less" => "css",
        "vue" => "vue",
        "svelte" => "svelte",
        "sol" => "solidity",
        "tf" => "terraform",
        _ => return None,
    })
}

/// Markup and styling count as languages only when there is no programming language.
const MINOR: &[&str] = &["html", "css", "shell", "sql"];

/// Detects languages by bytes per file type (those with at least 5% of the code, most first) and
/// frameworks from the manifests at the top two levels of the folder.
pub(crate) fn detect<'a>(root: &Path, files: impl IntoIterator<Item = (&'a str, u64)>) -> Detected {
    let mut bytes: HashMap<&'static str, u64> = HashMap::new();
    let mut manifests: Vec<&str> = Vec::new();
    for (rel, size) in files {
        let depth = rel.matches('/').count();
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if depth <= 1 && MANIFESTS.contains(&name) && !rel.contains("node_modules") {
            manifests.push(rel);
        }
        let ext = file_type_of(rel);
        if let Some(lang) = language_of(&ext) {
            *bytes.entry(lang).or_default() += size.max(1);
        }
    }
    let total: u64 = bytes.values().sum();
    let mut langs: Vec<(&str, u64)> = bytes
        .into_iter()
        .filter(|(_, b)| total > 0 && *b * 20 >= total)
        .collect();
    langs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let has_major = langs.iter().any(|(l, _)| !MINOR.contains(l));
    let mut languages: Vec<String> = langs
        .iter()
        .filter(|(l, _)| !has_major || !MINOR.contains(l) || *l == "html" && langs.len() <= 3)
        .map(|(l, _)| l.to_string())
        .collect();
    let mut frameworks = Vec::new();
    for m in manifests {
        let Ok(text) = std::fs::read_to_string(root.join(m)) else {
            continue;
        };
        let name = m.rsplit('/').next().unwrap_or(m);
        let deps = dependencies(name, &text);
        for (manifest, dep, framework) in FRAMEWORKS {
            if *manifest == name && deps.iter().any(|d| d == dep) {
                frameworks.push(framework.to_string());
            }
        }
        // A manifest also tells the language when no source file did yet.
        let lang = match name {
            "Cargo.toml" => Some("rust"),
            "go.mod" => Some("go"),
            "pyproject.toml" | "requirements.txt" | "setup.py" => Some("python"),
            "package.json" => Some("javascript"),
            "Gemfile" => Some("ruby"),
            "composer.json" => Some("php"),
            "pom.xml" | "build.gradle" => Some("java"),
            _ => None,
        };
        if let Some(l) = lang {
            if languages.is_empty() {
                languages.push(l.to_string());
            }
        }
    }
    frameworks.sort();
    frameworks.dedup();
    Detected {
        languages,
        frameworks,
    }
}

/// The dependency names a manifest declares (lower case). Go modules are named by path.
fn dependencies(manifest: &str, text: &str) -> Vec<String> {
    match manifest {
        "package.json" | "composer.json" => json_dependencies(text),
        "Cargo.toml" | "pyproject.toml" => toml_dependencies(text),
        "requirements.txt" => text.lines().filter_map(requirement_name).collect(),
        "go.mod" => go_modules(text),
        "Gemfile" => gem_names(text),
        "pom.xml" | "build.gradle" if text.contains("spring-boot") => vec!["spring-boot".into()],
        _ => Vec::new(),
    }
}

/// The dependencies of a `package.json` or `composer.json`: the keys of its dependency
/// sections, of npm and of Composer. Nothing when the text is not JSON.
fn json_dependencies(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        for s in [
            "dependencies",
            "devDependencies",
            "peerDependencies",
            "require",
            "require-dev",
        ] {
            if let Some(obj) = v.get(s).and_then(|d| d.as_object()) {
                out.extend(obj.keys().map(|k| k.to_ascii_lowercase()));
            }
        }
    }
    out
}

/// The dependencies of a `Cargo.toml` or `pyproject.toml`: the keys of its dependency tables
/// (Cargo's, a Cargo workspace's and Poetry's), then the names in the `project.dependencies`
/// list of PEP 621. Nothing when the text is not TOML.
fn toml_dependencies(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(t) = text.parse::<toml::Table>() {
        for path in [
            &["dependencies"][..],
            &["dev-dependencies"],
            &["workspace", "dependencies"],
            &["tool", "poetry", "dependencies"],
        ] {
            let mut table = Some(&t);
            for p in path {
                table = table.and_then(|c| c.get(*p)).and_then(|v| v.as_table());
            }
            if let Some(table) = table {
                out.extend(table.keys().map(|k| k.to_ascii_lowercase()));
            }
        }
        if let Some(list) = t
            .get("project")
            .and_then(|p| p.get("dependencies"))
            .and_then(|d| d.as_array())
        {
            out.extend(
                list.iter()
                    .filter_map(|v| v.as_str())
                    .filter_map(requirement_name),
            );
        }
    }
    out
}

/// The bare name of a Python requirement, lower case: "django>=4.2", "torch[cuda]==2" and
/// "Flask" give "django", "torch" and "flask". Nothing for an empty line, a comment or an option
/// (`-r other.txt`).
fn requirement_name(line: &str) -> Option<String> {
    let l = line.trim();
    if l.is_empty() || l.starts_with('#') || l.starts_with('-') {
        return None;
    }
    let end = l
        .find(|c: char| !(c.is_alphanumeric() || "-_.".contains(c)))
        .unwrap_or(l.len());
    (end > 0).then(|| l[..end].to_ascii_lowercase())
}

/// The modules a `go.mod` requires, by path: each with a major version suffix is named both
/// with and without it.
fn go_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim().trim_start_matches("require").trim();
        if let Some(module) = l.split_whitespace().next() {
            if module.contains('/') {
                // github.com/labstack/echo/v4 → also github.com/labstack/echo
                let base = module
                    .trim_end_matches(|c: char| c.is_ascii_digit())
                    .trim_end_matches("/v");
                out.push(base.to_string());
                out.push(module.to_string());
            }
        }
    }
    out
}

/// The gems a `Gemfile` names on its `gem` lines.
fn gem_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.trim().strip_prefix("gem ") {
            out.push(
                rest.trim()
                    .trim_matches(|c| c == '\'' || c == '"')
                    .split(['\'', '"'])
                    .next()
                    .unwrap_or("")
                    .to_string(),
            );
        }
    }
    out
}

const MANIFESTS: &[&str] = &[
    "package.json",
    "Cargo.toml",
    "pyproject.toml",
    "requirements.txt",
    "go.mod",
    "Gemfile",
    "composer.json",
    "pom.xml",
    "build.gradle",
];

const FRAMEWORKS: &[(&str, &str, &str)] = &[
    ("package.json", "react", "react"),
    ("package.json", "next", "next.js"),
    ("package.json", "vue", "vue"),
    ("package.json", "nuxt", "nuxt"),
    ("package.json", "svelte", "svelte"),
    ("package.json", "@sveltejs/kit", "sveltekit"),
    ("package.json", "@angular/core", "angular"),
    ("package.json", "express", "express"),
    ("package.json", "fastify", "fastify"),
    ("package.json", "vite", "vite"),
    ("package.json", "electron", "electron"),
    ("package.json", "@tauri-apps/api", "tauri"),
    ("Cargo.toml", "tauri", "tauri"),
    ("Cargo.toml", "axum", "axum"),
    ("Cargo.toml", "actix-web", "actix-web"),
    ("Cargo.toml", "rocket", "rocket"),
    ("Cargo.toml", "tokio", "tokio"),
    ("Cargo.toml", "bevy", "bevy"),
    ("Cargo.toml", "leptos", "leptos"),
    ("pyproject.toml", "django", "django"),
    ("pyproject.toml", "flask", "flask"),
    ("pyproject.toml", "fastapi", "fastapi"),
    ("pyproject.toml", "torch", "pytorch"),
    ("requirements.txt", "django", "django"),
    ("requirements.txt", "flask", "flask"),
    ("requirements.txt", "fastapi", "fastapi"),
    ("requirements.txt", "torch", "pytorch"),
    ("go.mod", "github.com/gin-gonic/gin", "gin"),
    ("go.mod", "github.com/labstack/echo", "echo"),
    ("go.mod", "github.com/gofiber/fiber", "fiber"),
    ("Gemfile", "rails", "rails"),
    ("composer.json", "laravel/framework", "laravel"),
    ("composer.json", "symfony/symfony", "symfony"),
    ("pom.xml", "spring-boot", "spring"),
    ("build.gradle", "spring-boot", "spring"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_and_frameworks_from_files_and_manifests() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"dependencies": {"react": "^18", "vite": "5"}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[dependencies]\ntokio = \"1\"\naxum = { version = \"0.7\" }\n",
        )
        .unwrap();
        let files = vec![
            ("package.json", 50),
            ("Cargo.toml", 60),
            ("src/main.rs", 5000),
            ("web/app.tsx", 3000),
            ("web/index.html", 100),
        ];
        let d = detect(dir.path(), files);
        assert_eq!(d.languages, vec!["rust", "typescript"]);
        assert_eq!(d.frameworks, vec!["axum", "react", "tokio", "vite"]);
    }

    #[test]
    fn dependency_names_are_read_from_each_manifest_kind() {
        assert_eq!(
            dependencies("package.json", r#"{"dependencies":{"reactive-lib":"1"}}"#),
            vec!["reactive-lib"]
        );
        assert_eq!(
            dependencies("requirements.txt", "# web\nDjango>=4.2\ntorch[cuda]==2\n"),
            vec!["django", "torch"]
        );
        assert!(dependencies(
            "go.mod",
            "module x\nrequire (\n\tgithub.com/labstack/echo/v4 v4.1.0\n)\n"
        )
        .contains(&"github.com/labstack/echo".to_string()));
        assert_eq!(
            dependencies("Gemfile", "source 'x'\ngem 'rails', '~> 7'\n"),
            vec!["rails"]
        );
        assert_eq!(
            dependencies(
                "pyproject.toml",
                "[project]\ndependencies = [\"fastapi>=0.1\"]\n"
            ),
            vec!["fastapi"]
        );
    }
}
