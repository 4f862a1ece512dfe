//! The tools written from their call's one declaration ([`kura_api::for_each_call!`]): an entry
//! that says `mcp(...)` after its operation is a tool of that name, with no code of its own here.
//!
//! ```text
//! /// Its documentation: the tool's description (and the window's, and the document's).
//! fn archive_project(#[path] id: String) -> kura_core::ArchiveInfo {
//!     writes()...;
//!     http(post, "/v1/projects/{id}/archive", tag = "archives");
//!     mcp("archive_project", title = "Archive a project", id = project);
//!     long "archive" |api, job| api.archive_project(&id, job)
//! }
//! ```
//!
//! The tool's arguments are the call's, named as the call names them, each with its `///`
//! documentation; a struct the HTTP door spreads over the query or takes as the whole body
//! (`#[queries]`, `#[body]`) has its fields among the tool's (flattened), and a `#[default]` one
//! may be left out. `id = project` names the call's `id` `project` (the project's name or id, as
//! every tool calls it). `list = "archives"` answers a list as `{"archives": [...]}`, since a
//! tool's structured content is an object. A long call reports progress when the request has a
//! progress token and stops when the request is cancelled. The tool's hints (`readOnlyHint`,
//! `destructiveHint`) are its operation's declared effect, and `kura mcp` hides it by that effect
//! as it hides the hand-written tools.
//!
//! The tools whose shape is the agent's rather than the call's (several calls in one, a
//! version's author taken from the client, a result with more than the call gives) are written by
//! hand beside this (`tools/*.rs`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use kura_api::calls;
use kura_api::declare::Effect;
use rmcp::handler::server::router::tool::ToolRoute;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use rmcp::service::RequestContext;
use rmcp::RoleServer;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::reply::{blocking, long_job, Reply};
use crate::server::KuraMcp;

/// What a tool's handler gives back: its answer, later.
type Answer<'a> = Pin<Box<dyn Future<Output = Reply> + Send + 'a>>;

/// The item type of a list a call answers.
pub(crate) trait Listed {
    type Item;
}

impl<T> Listed for Vec<T> {
    type Item = T;
}

/// The description of tool `name`: its call's documentation, one paragraph a blank line. A
/// tool without one is a mistake every test that lists the tools finds.
fn description(name: &str, lines: &[&str]) -> String {
    assert!(
        !lines.is_empty(),
        "the tool {name} is written from a call with no documentation; document the call"
    );
    let mut text = String::new();
    for line in lines {
        let line = line.strip_prefix(' ').unwrap_or(line);
        if line.is_empty() {
            text.push_str("\n\n");
        } else {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push(' ');
            }
            text.push_str(line);
        }
    }
    text
}

/// The hints of tool `name`: its title, what its operation is declared to do, and the hints its
/// entry adds (`hints(idempotent)`: calling it again changes nothing more; `hints(open_world)`: it
/// reaches beyond the vault, to a bucket).
fn annotations(name: &str, title: &str, hints: &[&str]) -> ToolAnnotations {
    let effect = kura_api::catalog::of_tool(name)
        .map(|d| d.effect)
        .max()
        .unwrap_or_else(|| panic!("the tool {name} carries out no declared operation"));
    let mut annotations = ToolAnnotations::with_title(title).read_only(effect == Effect::Reads);
    if effect != Effect::Reads {
        annotations = annotations.destructive(effect == Effect::Destroys);
    }
    for hint in hints {
        annotations = match *hint {
            "idempotent" => annotations.idempotent(true),
            "open_world" => annotations.open_world(true),
            other => panic!("the tool {name} has a hint no tool has: {other}"),
        };
    }
    annotations
}

/// `value`, or `{key: value}` when the tool answers a list under `key`.
fn shaped(value: impl serde::Serialize, key: &[&str]) -> kura_api::ApiResult<Value> {
    let value = serde_json::to_value(value)
        .map_err(|e| kura_api::ApiError::internal(format!("cannot encode the result: {e}")))?;
    Ok(match key {
        [key] => json!({ *key: value }),
        _ => value,
    })
}

macro_rules! mcp_tools {
    // The tool of an entry that says `mcp(...)`; nothing for the others.
    (@call [$($doc:literal)*] $name:ident $args:tt [$out:ty] {
        $declared:expr; $(http($($http:tt)*);)?
        mcp($tool:literal, title = $title:literal $(, list = $list:literal)? $(, id = $id:ident)?
            $(, hints($($hint:ident),*))?);
        $($run:tt)*
    }) => {
        mcp_tools!(@split
            [[$($doc)*] $name [$out] [$tool $title [$($list)?] [$($($hint)*)?]] [$($run)*]]
            [$($id)?] [] [] [] $args);
    };
    (@call $($rest:tt)*) => {};

    // The tool's arguments, in the call's order, each with its documentation.
    (@split $ctx:tt $id:tt $all:tt $fields:tt $doc:tt []) => {
        mcp_tools!(@make $ctx $all $fields);
    };
    (@split $ctx:tt $id:tt $all:tt $fields:tt [$($doc:tt)*]
        [#[doc = $d:literal] $($rest:tt)*]) => {
        mcp_tools!(@split $ctx $id $all $fields [$($doc)* #[doc = $d]] [$($rest)*]);
    };
    (@split $ctx:tt [$as:ident] [$($all:ident)*] [$($f:tt)*] $doc:tt
        [#[path] id : $t:ty $(, $($rest:tt)*)?]) => {
        mcp_tools!(@split $ctx [$as] [$($all)* $as] [$($f)*
            {#[doc = " The project's name or id."]}
            $as: $t,] [] [$($($rest)*)?]);
    };
    (@split $ctx:tt $id:tt [$($all:ident)*] [$($f:tt)*] $doc:tt
        [#[queries] $a:ident : $t:ty $(, $($rest:tt)*)?]) => {
        mcp_tools!(@split $ctx $id [$($all)* $a] [$($f)* {#[serde(flatten)]} $a: $t,] []
            [$($($rest)*)?]);
    };
    (@split $ctx:tt $id:tt [$($all:ident)*] [$($f:tt)*] $doc:tt
        [#[body] $a:ident : $t:ty $(, $($rest:tt)*)?]) => {
        mcp_tools!(@split $ctx $id [$($all)* $a] [$($f)* {#[serde(flatten)]} $a: $t,] []
            [$($($rest)*)?]);
    };
    (@split $ctx:tt $id:tt [$($all:ident)*] [$($f:tt)*] [$($doc:tt)*]
        [#[default] $a:ident : $t:ty $(, $($rest:tt)*)?]) => {
        mcp_tools!(@split $ctx $id [$($all)* $a]
            [$($f)* {$($doc)* #[serde(default)]} $a: $t,] [] [$($($rest)*)?]);
    };
    (@split $ctx:tt $id:tt [$($all:ident)*] [$($f:tt)*] [$($doc:tt)*]
        [$(#[$place:ident])? $a:ident : $t:ty $(, $($rest:tt)*)?]) => {
        mcp_tools!(@split $ctx $id [$($all)* $a] [$($f)* {$($doc)*} $a: $t,] []
            [$($($rest)*)?]);
    };

    // The tool: its arguments, its description, schemas and hints, and its handler.
    (@make [[$($doc:literal)*] $name:ident [$out:ty]
            [$tool:literal $title:literal [$($list:literal)?] [$($hint:ident)*]] [$($run:tt)*]]
        [$($all:ident)*] [$({$(#[$fm:meta])*} $fa:ident : $ft:ty,)*]) => {
        #[doc = concat!("The tool `", $tool, "`.")]
        pub(crate) mod $name {
            use super::*;

            /// The tool's arguments.
            #[derive(Deserialize, ToSchema)]
            #[schema(as = $name::Arguments)]
            pub(crate) struct Arguments {
                $($(#[$fm])* pub $fa: $ft,)*
            }

            crate::output::inputs!(Arguments);

            pub(crate) fn route() -> ToolRoute<KuraMcp> {
                let description = description($tool, &[$($doc),*]);
                let tool = Tool::new($tool, description, Arc::new(JsonObject::new()))
                    .with_input_schema::<Arguments>()
                    .with_raw_output_schema(mcp_tools!(@output $out [$($list)?]))
                    .annotate(annotations($tool, $title, &[$(stringify!($hint)),*]));
                ToolRoute::new(tool, call)
            }

            fn call(
                server: &KuraMcp,
                Parameters(Arguments { $($fa),* }): Parameters<Arguments>,
                ctx: RequestContext<RoleServer>,
            ) -> Answer<'_> {
                let api = server.api.clone();
                Box::pin(async move {
                    let _ = &ctx;
                    mcp_tools!(@work [api ctx] $name [$($all)*] [$($list)?] $($run)*)
                })
            }
        }
    };

    (@output $out:ty []) => {
        crate::output::schema_of::<$out>()
    };
    (@output $out:ty [$list:literal]) => {
        crate::output::schema(crate::output::object([(
            $list,
            crate::output::list(crate::output::of::<<$out as Listed>::Item>()),
        )]))
    };

    (@work [$api:ident $ctx:ident] $name:ident [$($all:ident)*] [$($list:literal)?]
        long $kind:literal |$a:ident, $j:ident| $body:expr) => {
        long_job(&$api, &$ctx, move |api, job| {
            shaped(calls::$name(api, $($all,)* job)?, &[$($list)?])
        })
        .await
    };
    (@work [$api:ident $ctx:ident] $name:ident [$($all:ident)*] [$($list:literal)?]
        |$a:ident| $body:expr) => {
        blocking(&$api, move |api| shaped(calls::$name(api, $($all),*)?, &[$($list)?])).await
    };

    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident ($($args:tt)*) -> $out:ty { $($body:tt)* }
    )*) => {
        $(mcp_tools!(@call [$($doc)*] $name [$($args)*] [$out] { $($body)* });)*

        /// The tools written from their calls' declarations.
        pub(crate) fn call_tools() -> ToolRouter<KuraMcp> {
            let router = ToolRouter::new();
            $(let router = mcp_tools!(@route router $name { $($body)* });)*
            router
        }
    };

    (@route $router:ident $name:ident {
        $declared:expr; $(http($($http:tt)*);)? mcp($($mcp:tt)*); $($rest:tt)*
    }) => {
        $router.with_route($name::route())
    };
    (@route $router:ident $name:ident { $($rest:tt)* }) => {
        $router
    };
}

kura_api::for_each_call!(mcp_tools);
