//! The window's TypeScript bindings (`ui/src/lib/bindings.ts`): a function per command, a
//! listener per event, and every type they name. The types are written from their one
//! description, `utoipa::ToSchema`, which the HTTP door's OpenAPI document and the MCP tools'
//! schemas are made of too; a command's arguments and answer come from its declaration
//! (`calls.rs`, `desktop.rs`), as two structs of its own whose schemas name them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kura_api::declare::camel_case as camel;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, KnownFormat, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// Adds a command to the bindings `$b` from its declaration: its documentation, arguments and
/// answer become two structs of its own (`Args`, `Answer`), whose schemas are what TypeScript
/// is written from.
macro_rules! bind_command {
    ($b:ident, $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty, $long:expr) => {{
        $(#[$meta])*
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        struct Args {
            $($arg: $ty),*
        }
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        struct Answer {
            answer: $out,
        }
        $b.command::<Args, Answer>(
            stringify!($name),
            &[$(stringify!($arg)),*],
            stringify!($out) == "()",
            $long,
        );
    }};
}

/// Where the generated bindings live, relative to the repository root.
pub const BINDINGS_PATH: &str = "ui/src/lib/bindings.ts";

/// How to regenerate them, said at their top and when the drift test fails.
pub const REGENERATE: &str = "KURA_UPDATE_BINDINGS=1 cargo test -p kura-desktop --lib bindings";

/// Where OpenAPI keeps named schemas; a `$ref` names a type by what follows.
const REFS: &str = "#/components/schemas/";

/// Type names TypeScript has already, and what the bindings call the type instead.
const RENAMED: &[(&str, &str)] = &[("Record", "StoredRecord")];

/// The JSON value of `serde_json::Value` (a schema that allows anything).
const VALUE: &str =
    "export type Value = null | boolean | number | string | Value[] | { [key in string]: Value };";

/// One command of the window, as its declaration gives it.
pub struct Command {
    /// The name the shell registers it under (`list_files`).
    pub name: &'static str,
    /// What it does (its declaration's documentation).
    pub docs: String,
    /// Its arguments in order, by name, with their types.
    pub args: Vec<(&'static str, String)>,
    /// What it answers.
    pub answer: String,
    /// It runs as an operation: a job id and a progress channel follow its arguments.
    pub long: bool,
}

/// Everything the bindings name: the commands, the events and their types.
#[derive(Default)]
pub struct Bindings {
    commands: Vec<Command>,
    events: Vec<(&'static str, String)>,
    constants: Vec<(&'static str, String)>,
    types: BTreeMap<String, RefOr<Schema>>,
    /// The types a command's arguments name; the rest are only received.
    sent: Vec<String>,
    error: String,
}

impl Bindings {
    /// Bindings whose commands fail with an `E`.
    pub fn new<E: ToSchema>() -> Self {
        let mut b = Bindings {
            error: E::name().to_string(),
            ..Bindings::default()
        };
        b.add::<E>();
        b
    }

    /// Adds a command. `Args` is a struct of its arguments (declared in this order); `Answer` a
    /// struct of one field, `answer`, of what it answers (`nothing`: it answers `()`).
    pub fn command<Args: ToSchema, Answer: ToSchema>(
        &mut self,
        name: &'static str,
        args: &[&'static str],
        nothing: bool,
        long: bool,
    ) {
        let fields = self.fields::<Args>();
        let mut named = Vec::new();
        Args::schemas(&mut named);
        self.sent.extend(named.into_iter().map(|(name, _)| name));
        let docs = description(&Args::schema()).unwrap_or_default();
        let args = args
            .iter()
            .map(|arg| {
                let ty = fields.get(*arg).cloned();
                (
                    *arg,
                    ty.unwrap_or_else(|| panic!("{name}: no argument {arg}")),
                )
            })
            .collect();
        let answer = if nothing {
            "null".to_string()
        } else {
            let mut answer = self.fields::<Answer>();
            answer.remove("answer").expect("an answer")
        };
        self.commands.push(Command {
            name,
            docs,
            args,
            answer,
            long,
        });
    }

    /// Adds an event the shell emits under `name`, carrying a `T`.
    pub fn event<T: ToSchema>(&mut self, name: &'static str) {
        self.add::<T>();
        self.events.push((name, T::name().to_string()));
    }

    /// Adds a constant: `value` is its TypeScript text.
    pub fn constant(&mut self, name: &'static str, value: String) {
        self.constants.push((name, value));
    }

    /// Adds the named type `T` with every type it names.
    fn add<T: ToSchema>(&mut self) {
        let mut named = vec![(T::name().to_string(), T::schema())];
        T::schemas(&mut named);
        self.register(named);
    }

    /// Adds named types; one name is one type.
    fn register(&mut self, named: Vec<(String, RefOr<Schema>)>) {
        for (name, schema) in named {
            match self.types.get(&name) {
                Some(known) => assert!(
                    json(known) == json(&schema),
                    "two types are named {name}; the bindings need one name per type"
                ),
                None => {
                    self.types.insert(name, schema);
                }
            }
        }
    }

    /// The TypeScript type of each field of the struct `T`, every type they name added.
    fn fields<T: ToSchema>(&mut self) -> BTreeMap<String, String> {
        let mut named = Vec::new();
        T::schemas(&mut named);
        self.register(named);
        let RefOr::T(Schema::Object(object)) = T::schema() else {
            panic!("{} is not a struct", T::name());
        };
        object
            .properties
            .iter()
            .map(|(name, schema)| (name.clone(), View { received: false }.ts(schema)))
            .collect()
    }

    /// The bindings' text. `header` opens it.
    pub fn typescript(&self, header: &str) -> String {
        for name in self.types.keys() {
            assert!(
                !["Value", "Channel"].contains(&name.as_str()),
                "a type is named {name}, which the bindings use otherwise"
            );
        }
        let mut out = String::new();
        out.push_str(header);
        out.push_str("\n\nimport { invoke as __TAURI_INVOKE, Channel } from \"@tauri-apps/api/core\";\nimport * as __TAURI_EVENT from \"@tauri-apps/api/event\";\n\n");
        out.push_str("/** Commands */\nexport const commands = {\n");
        for command in &self.commands {
            out.push_str(&comment(&command.docs, "\t"));
            let mut params: Vec<String> = command
                .args
                .iter()
                .map(|(name, ty)| format!("{}: {ty}", camel(name)))
                .collect();
            let mut names: Vec<String> = command.args.iter().map(|(n, _)| camel(n)).collect();
            if command.long {
                params.push("jobId: string".into());
                params.push("onProgress: Channel<Progress>".into());
                names.extend(["jobId".into(), "onProgress".into()]);
            }
            let sent = if names.is_empty() {
                String::new()
            } else {
                format!(", {{ {} }}", names.join(", "))
            };
            let _ = writeln!(
                out,
                "\t{}: ({}) => typedError<{}, {}>(__TAURI_INVOKE(\"{}\"{sent})),",
                camel(command.name),
                params.join(", "),
                command.answer,
                self.error,
                command.name,
            );
        }
        out.push_str("};\n\n/** Events */\nexport const events = {\n");
        for (name, ty) in &self.events {
            let _ = writeln!(
                out,
                "\t{}: event<{ty}>(\"{name}\"),",
                camel(&name.replace('-', "_"))
            );
        }
        out.push_str("};\n\n/* Constants */\n");
        for (name, value) in &self.constants {
            let _ = writeln!(out, "export const {name} = {value} as const;");
        }
        out.push_str("\n/* Types */\n");
        let mut uses_value = false;
        for (name, schema) in &self.types {
            let view = View {
                received: !self.sent.contains(name),
            };
            let text = view.declaration(renamed(name), schema);
            uses_value |= text.contains("Value");
            out.push_str(&text);
            out.push('\n');
        }
        if uses_value {
            out.push_str(VALUE);
            out.push_str("\n\n");
        }
        out.push_str(RUNTIME);
        out
    }
}

/// How a command's answer and an event's listener are typed.
const RUNTIME: &str = r#"/* Runtime */
/** A command's answer: what it gives, or the service's error (a thrown `Error` is a bug). */
async function typedError<T, E>(result: Promise<T>): Promise<{ status: "ok"; data: T } | { status: "error"; error: E }> {
	try {
		return { status: "ok", data: await result };
	} catch (e) {
		if (e instanceof Error) throw e;
		return { status: "error", error: e as E };
	}
}

/** Listening to one of the shell's events. */
function event<T>(name: string) {
	return {
		listen: (cb: __TAURI_EVENT.EventCallback<T>) => __TAURI_EVENT.listen<T>(name, cb),
	};
}
"#;

fn renamed(name: &str) -> &str {
    RENAMED
        .iter()
        .find(|(from, _)| *from == name)
        .map_or(name, |(_, to)| to)
}

fn json(schema: &RefOr<Schema>) -> serde_json::Value {
    serde_json::to_value(schema).unwrap_or_default()
}

/// A doc comment of `text`, each line indented by `indent`; nothing for no text.
fn comment(text: &str, indent: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    if !text.contains('\n') {
        return format!("{indent}/** {text} */\n");
    }
    let mut out = format!("{indent}/**\n");
    for line in text.lines() {
        let _ = writeln!(out, "{indent} * {}", line.trim_end());
    }
    let _ = writeln!(out, "{indent} */");
    out
}

fn description(schema: &RefOr<Schema>) -> Option<String> {
    let text = match schema {
        RefOr::Ref(r) => Some(r.description.clone()),
        RefOr::T(Schema::Object(o)) => o.description.clone(),
        RefOr::T(Schema::Array(a)) => a.description.clone(),
        // `Option<T>` of a named `T`: one of `T` (which carries the field's words) and null.
        RefOr::T(Schema::OneOf(o)) => o
            .description
            .clone()
            .or_else(|| o.items.first().and_then(description)),
        RefOr::T(Schema::AllOf(a)) => a.description.clone(),
        RefOr::T(Schema::AnyOf(a)) => a.description.clone(),
        RefOr::T(_) => None,
    };
    text.filter(|t| !t.trim().is_empty())
}

/// How a type is written: as the window receives it (`received`: a field the service always
/// writes is there, as `null` when it is none), or as the window may send it too (such a field
/// may be left out).
struct View {
    received: bool,
}

impl View {
    /// `export type Name = ...;` with its documentation.
    fn declaration(&self, name: &str, schema: &RefOr<Schema>) -> String {
        let mut out = comment(&description(schema).unwrap_or_default(), "");
        match schema {
            RefOr::T(Schema::Object(o)) if is_struct(o) => {
                let _ = writeln!(out, "export type {name} = {{");
                for (field, schema) in &o.properties {
                    out.push_str(&comment(&description(schema).unwrap_or_default(), "\t"));
                    let _ = writeln!(out, "\t{}: {},", self.property(o, field), self.ts(schema));
                }
                out.push_str("};\n");
            }
            RefOr::T(Schema::OneOf(one)) if one.items.len() > 1 => {
                let _ = writeln!(out, "export type {name} =");
                for (i, variant) in one.items.iter().enumerate() {
                    out.push_str(&comment(&description(variant).unwrap_or_default(), "\t"));
                    let end = if i + 1 == one.items.len() { ";" } else { "" };
                    let _ = writeln!(out, "\t| {}{end}", self.ts(variant));
                }
            }
            RefOr::T(Schema::Object(o)) if o.enum_values.as_ref().is_some_and(|v| v.len() > 1) => {
                let _ = writeln!(out, "export type {name} =");
                let values = o.enum_values.as_deref().unwrap_or_default();
                for (i, value) in values.iter().enumerate() {
                    let end = if i + 1 == values.len() { ";" } else { "" };
                    let _ = writeln!(out, "\t| {value}{end}");
                }
            }
            _ => {
                let _ = writeln!(out, "export type {name} = {};", self.ts(schema));
            }
        }
        out
    }

    /// A field's name as TypeScript reads it: `name` when it is always there, `name?` when it
    /// may be missing. The schema requires a field a caller must send; of the others (an
    /// `Option`, a field with a default), those with a default in the schema may be left out
    /// either way, and the rest are there in what the window receives (the service writes
    /// every field, `None` as `null`) and may be left out of what it sends.
    fn property(&self, o: &utoipa::openapi::schema::Object, field: &str) -> String {
        let defaulted = match o.properties.get(field) {
            Some(RefOr::T(Schema::Object(f))) => f.default.is_some(),
            Some(RefOr::T(Schema::Array(f))) => f.default.is_some(),
            Some(RefOr::T(Schema::OneOf(f))) => f.default.is_some(),
            _ => false,
        };
        let required = o.required.iter().any(|r| r == field);
        if required || self.received && !defaulted {
            field.to_string()
        } else {
            format!("{field}?")
        }
    }

    /// The TypeScript type of `schema`, on one line.
    fn ts(&self, schema: &RefOr<Schema>) -> String {
        match schema {
            RefOr::Ref(r) => {
                let name = r.ref_location.trim_start_matches(REFS);
                renamed(name).to_string()
            }
            RefOr::T(Schema::Array(a)) if !a.prefix_items.is_empty() => {
                // A tuple: `[A, B]`.
                let items: Vec<String> = a
                    .prefix_items
                    .iter()
                    .map(|item| self.ts(&RefOr::T(item.clone())))
                    .collect();
                with_null(format!("[{}]", items.join(", ")), &a.schema_type)
            }
            RefOr::T(Schema::Array(a)) => {
                let item = match &a.items {
                    ArrayItems::RefOrSchema(item) => self.ts(item),
                    ArrayItems::False => "never".to_string(),
                };
                let item = if is_union(&item) {
                    format!("({item})")
                } else {
                    item
                };
                with_null(format!("{item}[]"), &a.schema_type)
            }
            RefOr::T(Schema::OneOf(one)) => union(one.items.iter().map(|item| self.ts(item))),
            RefOr::T(Schema::AnyOf(any)) => union(any.items.iter().map(|item| self.ts(item))),
            RefOr::T(Schema::AllOf(all)) => {
                let parts: Vec<String> = all.items.iter().map(|item| self.ts(item)).collect();
                parts.join(" & ")
            }
            RefOr::T(Schema::Object(o)) => self.object(o),
            RefOr::T(_) => "unknown".to_string(),
        }
    }

    /// An object schema: a struct's fields, a map, an enum of values, or a plain type.
    fn object(&self, o: &utoipa::openapi::schema::Object) -> String {
        if let Some(values) = &o.enum_values {
            let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            return with_null(values.join(" | "), &o.schema_type);
        }
        let types: Vec<Type> = match &o.schema_type {
            SchemaType::AnyValue => return "Value".to_string(),
            SchemaType::Type(t) => vec![t.clone()],
            SchemaType::Array(types) => types.clone(),
        };
        let binary = matches!(
            o.format,
            Some(SchemaFormat::KnownFormat(KnownFormat::Binary))
        );
        let texts: Vec<String> = types
            .iter()
            .map(|t| match t {
                Type::String if binary => "number[]".to_string(),
                Type::String => "string".to_string(),
                Type::Integer | Type::Number => "number".to_string(),
                Type::Boolean => "boolean".to_string(),
                Type::Null => "null".to_string(),
                Type::Array => "unknown[]".to_string(),
                Type::Object => self.fields(o),
            })
            .collect();
        texts.join(" | ")
    }

    /// An object's fields on one line (`{ kind: "x"; name: string }`), or a map's
    /// (`{ [key in string]: T }`).
    fn fields(&self, o: &utoipa::openapi::schema::Object) -> String {
        if o.properties.is_empty() {
            return match o.additional_properties.as_deref() {
                Some(AdditionalProperties::RefOr(value)) => {
                    format!("{{ [key in string]: {} }}", self.ts(value))
                }
                Some(AdditionalProperties::FreeForm(false)) => "Record<string, never>".to_string(),
                _ => "{ [key in string]: Value }".to_string(),
            };
        }
        let parts: Vec<String> = o
            .properties
            .iter()
            .map(|(field, schema)| format!("{}: {}", self.property(o, field), self.ts(schema)))
            .collect();
        format!("{{ {} }}", parts.join("; "))
    }
}

/// An object with fields of its own (not a map, not a free-form value).
fn is_struct(o: &utoipa::openapi::schema::Object) -> bool {
    !o.properties.is_empty()
        && matches!(
            o.additional_properties.as_deref(),
            None | Some(AdditionalProperties::FreeForm(false))
        )
}

/// Whether `ty` is a union or an intersection outside any brackets (`A | null`, not `[A | B]`).
fn is_union(ty: &str) -> bool {
    let mut depth = 0i32;
    for c in ty.chars() {
        match c {
            '[' | '{' | '(' | '<' => depth += 1,
            ']' | '}' | ')' | '>' => depth -= 1,
            '|' | '&' if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

/// `a | b | c`, each once.
fn union(parts: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for part in parts {
        if !seen.contains(&part) {
            seen.push(part);
        }
    }
    seen.join(" | ")
}

fn with_null(ty: String, types: &SchemaType) -> String {
    match types {
        SchemaType::Array(types) if types.contains(&Type::Null) => format!("{ty} | null"),
        _ => ty,
    }
}

#[cfg(test)]
mod tests {
    use super::Bindings;

    /// A named type a command takes.
    #[derive(utoipa::ToSchema)]
    #[allow(dead_code)]
    struct Asked {
        /// Always sent.
        name: String,
        /// May be left out.
        note: Option<String>,
        #[serde(default)]
        count: u32,
        pairs: Vec<(String, Option<String>)>,
    }

    /// A named type a command answers.
    #[derive(utoipa::ToSchema)]
    #[allow(dead_code)]
    struct Given {
        /// Written as `null` when there is none.
        head: Option<String>,
        asked: Asked,
        status: Status,
    }

    /// What state it is in.
    #[derive(utoipa::ToSchema)]
    #[allow(dead_code)]
    #[serde(rename_all = "snake_case")]
    enum Status {
        /// Running.
        Running,
        /// Done.
        Done,
    }

    /// A record, as TypeScript must not call it.
    #[derive(utoipa::ToSchema)]
    #[allow(dead_code)]
    struct Record {
        key: String,
    }

    /// The error commands fail with.
    #[derive(utoipa::ToSchema)]
    #[allow(dead_code)]
    struct Failure {
        message: String,
    }

    fn written() -> String {
        let mut b = Bindings::new::<Failure>();
        bind_command!(b,
            /// Looks something up.
            look_up(asked: Asked, new_name: Option<String>) -> Given, false);
        bind_command!(b, keep(record: Record) -> Vec<Record>, true);
        bind_command!(b, forget() -> (), false);
        b.typescript("// test")
    }

    #[test]
    fn commands_take_their_arguments_in_order_and_answer_their_type() {
        let ts = written();
        assert!(ts.contains("\t/** Looks something up. */\n\tlookUp: (asked: Asked, newName: string | null) => typedError<Given, Failure>(__TAURI_INVOKE(\"look_up\", { asked, newName })),"), "{ts}");
        assert!(ts.contains("\tkeep: (record: StoredRecord, jobId: string, onProgress: Channel<Progress>) => typedError<StoredRecord[], Failure>(__TAURI_INVOKE(\"keep\", { record, jobId, onProgress })),"), "{ts}");
        assert!(
            ts.contains("\tforget: () => typedError<null, Failure>(__TAURI_INVOKE(\"forget\")),"),
            "{ts}"
        );
    }

    #[test]
    fn what_the_window_sends_may_leave_out_what_it_receives_always_has() {
        let ts = written();
        // Sent (an argument names it): an `Option` or a default may be left out.
        assert!(ts.contains("export type Asked = {\n\t/** Always sent. */\n\tname: string,\n\t/** May be left out. */\n\tnote?: string | null,\n\tcount?: number,\n\tpairs: [string, string | null][],\n};"), "{ts}");
        // Only received: the service writes every field, `None` as null.
        assert!(ts.contains("\t/** Written as `null` when there is none. */\n\thead: string | null,\n\tasked: Asked,\n\tstatus: Status,\n};"), "{ts}");
        // A unit enum's schema is its values (utoipa keeps no words per value).
        assert!(
            ts.contains(
                "/** What state it is in. */\nexport type Status =\n\t| \"running\"\n\t| \"done\";"
            ),
            "{ts}"
        );
        assert!(ts.contains("export type StoredRecord = {"), "{ts}");
        assert!(!ts.contains("export type Record "), "{ts}");
        assert!(ts.contains("export type Failure = {"), "{ts}");
    }
}
