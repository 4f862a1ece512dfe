//! The manual's two references that come from the code, never from a hand-kept copy: the
//! command line (`docs/src/reference/cli.md`, from the clap definitions the parser itself uses)
//! and `config.toml` (`docs/src/reference/configuration.md`, from `Config::known_keys`, the
//! defaults of `Config::default()` and the settings' doc comments, read through the utoipa
//! schemas the OpenAPI document is made of). The test fails when a committed page is not what
//! the code generates; `KURA_UPDATE_DOCS=1` rewrites both.

use std::path::PathBuf;

use clap::{Arg, Command, CommandFactory};
use kura_core::Config;
use serde_json::{Map, Value};

/// The command that rewrites both pages.
const REFRESH: &str = "KURA_UPDATE_DOCS=1 cargo test -p kura-cli --lib reference";

/// What writes a page.
type Generator = fn() -> String;

/// The pages, by path from the repository's root, with the function that writes each.
const PAGES: &[(&str, Generator)] = &[
    ("docs/src/reference/cli.md", cli),
    ("docs/src/reference/configuration.md", configuration),
];

/// The line that opens a page: what it is generated from, and how to refresh it.
fn generated_from(source: &str) -> String {
    format!(
        "<!-- Generated from {source} by crates/kura-cli/src/docs/reference.rs; do not edit. \
         Refresh: {REFRESH} -->\n\n"
    )
}

/// `text` made safe for Markdown outside code: `<`, `>` and `*` are literal (so `<PATH>` is not
/// taken for HTML, nor `*.swp` for emphasis); spans in backticks are left as they are.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => in_code = !in_code,
            '<' if !in_code => {
                out.push_str("&lt;");
                continue;
            }
            '>' if !in_code => {
                out.push_str("&gt;");
                continue;
            }
            '*' if !in_code => out.push('\\'),
            _ => {}
        }
        out.push(c);
    }
    out
}

/// `text`'s lines after the first indented by `n` spaces, to stay inside a list item.
fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .enumerate()
        .map(|(i, l)| match i {
            0 => l.to_string(),
            _ if l.is_empty() => String::new(),
            _ => format!("{pad}{l}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A sentence of help as written: ends with a full stop (clap drops the one of a summary).
fn sentence(text: &str) -> String {
    let text = escape(text.trim());
    match text.chars().last() {
        Some('.' | '?' | '!' | ':') | None => text,
        Some(_) => format!("{text}."),
    }
}

// The command line.

/// The CLI reference: the global options once, then one section per command, subcommands
/// nested under their command, in the order `kura --help` lists them.
fn cli() -> String {
    let mut root = crate::Cli::command();
    root.build();
    let mut md = generated_from("the clap definitions of `kura` (crates/kura-cli/src)");
    md.push_str("# Command-line reference\n\n");
    if let Some(about) = root.get_long_about().or(root.get_about()) {
        md.push_str(&format!("{}\n\n", sentence(&about.to_string())));
    }
    md.push_str(
        "Every command prints this help with `--help` (`kura backup run --help`), and `kura \
         manpages DIR` writes it as manual pages.\n\n",
    );
    md.push_str(&format!("```text\n{}\n```\n\n", usage(&mut root)));
    let (global, own): (Vec<&Arg>, Vec<&Arg>) = root
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .partition(|a| a.is_global_set());
    md.push_str("**Options**\n\n");
    own.iter().for_each(|a| md.push_str(&arg_item(a)));
    md.push('\n');
    md.push_str(&subcommand_list(&root, "kura"));
    md.push_str("## Global options\n\nThese go with every command, before or after its name.\n\n");
    global.iter().for_each(|a| md.push_str(&arg_item(a)));
    md.push('\n');
    let globals: Vec<String> = global.iter().map(|a| a.get_id().to_string()).collect();
    for sub in root.get_subcommands_mut().filter(|s| shown(s)) {
        let path = format!("kura {}", sub.get_name());
        command(&mut md, sub, &path, 2, &globals);
    }
    md.trim_end().to_string() + "\n"
}

/// Whether a subcommand belongs in the reference: not hidden, and not clap's own `help`.
fn shown(cmd: &Command) -> bool {
    !cmd.is_hide_set() && cmd.get_name() != "help"
}

/// The usage lines clap prints, without their `Usage:` label.
fn usage(cmd: &mut Command) -> String {
    let text = cmd.render_usage().to_string();
    let text = text.trim().strip_prefix("Usage:").unwrap_or(&text);
    text.lines().map(str::trim).collect::<Vec<_>>().join("\n")
}

/// One command's section, then its subcommands' one level down.
fn command(md: &mut String, cmd: &mut Command, path: &str, level: usize, globals: &[String]) {
    md.push_str(&format!("{} `{path}`\n\n", "#".repeat(level.min(6))));
    if let Some(about) = cmd.get_long_about().or(cmd.get_about()) {
        md.push_str(&format!("{}\n\n", sentence(&about.to_string())));
    }
    let aliases: Vec<String> = cmd
        .get_visible_aliases()
        .map(|a| format!("`{a}`"))
        .collect();
    if !aliases.is_empty() {
        md.push_str(&format!("Also: {}.\n\n", aliases.join(", ")));
    }
    md.push_str(&format!("```text\n{}\n```\n\n", usage(cmd)));
    let visible = |a: &&Arg| {
        !a.is_hide_set() && !globals.contains(&a.get_id().to_string()) && a.get_id() != "help"
    };
    let positionals: Vec<&Arg> = cmd.get_positionals().filter(visible).collect();
    if !positionals.is_empty() {
        md.push_str("**Arguments**\n\n");
        positionals.iter().for_each(|a| md.push_str(&arg_item(a)));
        md.push('\n');
    }
    let mut options: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_positional())
        .filter(visible)
        .collect();
    // In the order `--help` lists them.
    options.sort_by_key(|a| a.get_display_order());
    if !options.is_empty() {
        md.push_str("**Options**\n\n");
        options.iter().for_each(|a| md.push_str(&arg_item(a)));
        md.push('\n');
    }
    md.push_str(&subcommand_list(cmd, path));
    for sub in cmd.get_subcommands_mut().filter(|s| shown(s)) {
        let sub_path = format!("{path} {}", sub.get_name());
        command(md, sub, &sub_path, level + 1, globals);
    }
}

/// The subcommands of `cmd` as links to their sections, with their one-line summaries.
fn subcommand_list(cmd: &Command, path: &str) -> String {
    let subs: Vec<&Command> = cmd.get_subcommands().filter(|s| shown(s)).collect();
    if subs.is_empty() {
        return String::new();
    }
    let mut md = String::from("**Commands**\n\n");
    for sub in subs {
        let sub_path = format!("{path} {}", sub.get_name());
        let about = sub.get_about().map(|a| sentence(&a.to_string()));
        md.push_str(&format!(
            "- [`{sub_path}`](#{}){}\n",
            sub_path.replace(' ', "-"),
            about.map(|a| format!(": {a}")).unwrap_or_default()
        ));
    }
    md.push('\n');
    md
}

/// How an argument is written on the command line: `<PROJECT>`, `[PREFIX]`, `-n, --limit <N>`.
fn arg_synopsis(arg: &Arg) -> String {
    let names: Vec<String> = match arg.get_value_names() {
        Some(names) => names.iter().map(|n| n.to_string()).collect(),
        None => vec![arg.get_id().to_string().to_uppercase()],
    };
    let many = arg.get_num_args().is_some_and(|r| r.max_values() > 1);
    let dots = if many { "..." } else { "" };
    if arg.is_positional() {
        let (open, close) = if arg.is_required_set() {
            ('<', '>')
        } else {
            ('[', ']')
        };
        return format!("{open}{}{close}{dots}", names.join(" "));
    }
    let mut flags = Vec::new();
    if let Some(s) = arg.get_short() {
        flags.push(format!("-{s}"));
    }
    if let Some(l) = arg.get_long() {
        flags.push(format!("--{l}"));
    }
    let mut text = flags.join(", ");
    if arg.get_action().takes_values() {
        let values: Vec<String> = names.iter().map(|n| format!("<{n}>")).collect();
        text.push_str(&format!(" {}{dots}", values.join(" ")));
    }
    text
}

/// One argument as a list item: synopsis, help, then what clap knows of its values.
fn arg_item(arg: &Arg) -> String {
    let mut item = format!("- `{}`", arg_synopsis(arg));
    if let Some(help) = arg.get_long_help().or(arg.get_help()) {
        item.push_str(&format!(": {}", sentence(&help.to_string())));
    }
    let mut facts = Vec::new();
    if !arg.is_positional() && arg.is_required_set() {
        facts.push("Required.".to_string());
    }
    let takes_values = arg.get_action().takes_values();
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|d| match d.to_string_lossy() {
            d if d.is_empty() => "empty".to_string(),
            d => format!("`{d}`"),
        })
        .collect();
    if takes_values && !defaults.is_empty() && !arg.is_hide_default_value_set() {
        facts.push(format!("Default: {}.", defaults.join(", ")));
    }
    if let Some(d) = arg.get_value_delimiter() {
        facts.push(format!("Several values may be given separated by `{d}`."));
    }
    let mut possible = String::new();
    if takes_values && !arg.is_hide_possible_values_set() {
        let values: Vec<_> = arg
            .get_possible_values()
            .into_iter()
            .filter(|v| !v.is_hide_set())
            .collect();
        if values.iter().any(|v| v.get_help().is_some()) {
            possible.push_str("\n\n  Values:\n\n");
            for v in &values {
                let help = v
                    .get_help()
                    .map(|h| format!(": {}", sentence(&h.to_string())));
                possible.push_str(&format!(
                    "  - `{}`{}\n",
                    v.get_name(),
                    help.unwrap_or_default()
                ));
            }
        } else if !values.is_empty() {
            let names: Vec<String> = values
                .iter()
                .map(|v| format!("`{}`", v.get_name()))
                .collect();
            facts.push(format!("Values: {}.", names.join(", ")));
        }
    }
    if let (Some(env), false) = (arg.get_env(), arg.is_hide_env_set()) {
        facts.push(format!("Environment: `{}`.", env.to_string_lossy()));
    }
    if !facts.is_empty() {
        item.push_str(&format!(" {}", facts.join(" ")));
    }
    let mut item = indent(&item, 2);
    if possible.is_empty() {
        item.push('\n');
    } else {
        item.push_str(&possible);
    }
    item
}

// config.toml.

/// The configuration reference: every setting of `Config::known_keys`, by section, with its
/// default and the meaning its doc comment gives.
fn configuration() -> String {
    let mut named = Vec::new();
    <Config as utoipa::ToSchema>::schemas(&mut named);
    let schemas: Map<String, Value> = named
        .into_iter()
        .map(|(name, schema)| (name, json(&schema)))
        .collect();
    let root = json(&<Config as utoipa::PartialSchema>::schema());
    let resolve = |v: &Value| -> Value {
        match v["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
            Some(name) => schemas.get(name).cloned().unwrap_or(Value::Null),
            None => v.clone(),
        }
    };
    let defaults = toml::Table::try_from(Config::default()).expect("the defaults serialise");

    let mut md = generated_from(
        "`Config` in crates/kura-core/src/config.rs (its keys, defaults and doc comments)",
    );
    md.push_str("# Configuration reference\n\n");
    if let Some(about) = root["description"].as_str() {
        md.push_str(&format!("{}\n\n", sentence(about)));
    }
    md.push_str(
        "The settings live in `config.toml` in the vault folder (`kura config path` prints \
         where), one table per section; every key may be left out. `kura config show` prints \
         every setting in force, `kura config get KEY` one of them, and `kura config set KEY \
         VALUE` checks a new value and writes it to the file (so does the app's Settings \
         view).\n\n\
         **Environment overrides.** An environment variable named `KURA_` and the dotted key \
         with `_` for the dot (`KURA_STORAGE_COMPRESSION_LEVEL` for \
         `storage.compression_level`; the case of the part after `KURA_` does not matter) \
         overrides the file for the programs started with it, when they open the vault. Its \
         value is read as `kura config set` reads one: a whole number, `true`/`false` (or \
         `1`/`0`, `yes`/`no`, `on`/`off`), a list as comma-separated items, or text. `kura \
         config set` writes the file alone, never the overrides; `KURA_HOME` and `KURA_LOG` \
         are not settings.\n\n",
    );
    if let Some(sizes) = schemas
        .get("ByteSize")
        .and_then(|s| s["description"].as_str())
    {
        md.push_str(&format!("**Sizes.** {}\n\n", sentence(sizes)));
    }

    let mut section_done = String::new();
    for key in Config::known_keys() {
        let (section, name) = key.split_once('.').expect("keys are section.name");
        let section_prop = &root["properties"][section];
        let section_schema = resolve(section_prop);
        if section != section_done {
            md.push_str(&format!("## `[{section}]`\n\n"));
            let intro = section_schema["description"]
                .as_str()
                .or(section_prop["description"].as_str())
                .unwrap_or_else(|| panic!("section [{section}] has no doc comment"));
            md.push_str(&format!("{}\n\n", sentence(&one_paragraph(intro))));
            section_done = section.to_string();
        }
        let field = &section_schema["properties"][name];
        let meaning = field["description"]
            .as_str()
            .unwrap_or_else(|| panic!("setting {key} has no doc comment in config.rs"));
        let default = match defaults.get(section).and_then(|s| s.get(name)) {
            Some(v) => format!("`{v}`"),
            None => "not set".to_string(),
        };
        let env = format!("KURA_{}", key.replace('.', "_").to_uppercase());
        md.push_str(&format!("### `{key}`\n\n"));
        md.push_str(&format!("{}\n\n", sentence(&one_paragraph(meaning))));
        let values: Vec<String> = resolve(field)["enum"]
            .as_array()
            .map(|e| e.iter().map(|v| format!("`{v}`")).collect())
            .unwrap_or_default();
        if !values.is_empty() {
            md.push_str(&format!("- Values: {}\n", values.join(", ")));
        }
        md.push_str(&format!("- Default: {default}\n- Environment: `{env}`\n\n"));
    }
    md.trim_end().to_string() + "\n"
}

/// A utoipa schema as JSON.
fn json<T: serde::Serialize>(schema: &T) -> Value {
    serde_json::to_value(schema).expect("a schema is JSON")
}

/// A doc comment's lines joined into one paragraph per blank line (the schema keeps the
/// comment's line breaks).
fn one_paragraph(text: &str) -> String {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The repository's root, from this crate's folder.
fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Each generated page is committed as the code generates it; `KURA_UPDATE_DOCS=1` writes them.
#[test]
fn the_generated_references_are_current() {
    let update = std::env::var_os("KURA_UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    for (path, generate) in PAGES {
        let file = repo_root().join(path);
        let now = generate();
        if update {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &now).unwrap();
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(now.as_str()) {
            stale.push(*path);
        }
    }
    assert!(
        stale.is_empty(),
        "{} not what the code generates; run `{REFRESH}` and commit the result",
        match stale.as_slice() {
            [one] => format!("{one} is"),
            many => format!("{} are", many.join(" and ")),
        }
    );
}
