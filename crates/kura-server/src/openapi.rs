//! The OpenAPI 3.1 description of `/v1`, generated from the Rust types and the handlers'
//! annotations. Committed as `docs/api/openapi.json`; a test fails when it drifts.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::routes::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kura HTTP API",
        description = "The HTTP door of `kura serve`: every operation of the kura CLI. Authenticate with `Authorization: Bearer <token>` (`kura serve token --scope read|write|admin`) or a browser session cookie (`kura_session`, plus the `X-Kura-CSRF` header on requests other than GET). Errors are `{ code, message }`; switch on `code`. Long operations answer 202 with an Operation (see `/v1/operations/{id}`); `?wait=true` waits for the end.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        vault::health, vault::status, vault::openapi, vault::stats, vault::config, vault::set_config,
        vault::quota, vault::templates, vault::verify, vault::gc, vault::cleanup, vault::cleanup_runs,
        vault::next_cleanup, vault::command,
        workspaces::list, workspaces::create, workspaces::rename, workspaces::switch, workspaces::delete,
        projects::list, projects::get, projects::create, projects::import, projects::edit, projects::tag,
        projects::set_metadata, projects::trash, projects::untrash, projects::delete,
        projects::save_template, projects::export, projects::export_stream,
        files::list, files::preview, files::read_file, files::save_file, files::delete_file,
        files::rename, files::upload,
        history::snapshot, history::snapshot_changed, history::versions, history::diff,
        history::restore, history::restore_plan, history::git_status, history::git_log, history::git_init,
        archives::list, archives::archive, archives::unarchive, archives::extract, archives::verify,
        archives::import, archives::upload_archive, archives::cold,
        records::project_collections, records::project_batch, records::project_list,
        records::project_query, records::project_configure, records::project_drop,
        records::project_get, records::project_put, records::project_delete,
        records::vault_collections, records::vault_batch, records::vault_list, records::vault_query,
        records::vault_configure, records::vault_drop, records::vault_get, records::vault_put,
        records::vault_delete,
        shares::create, shares::list, shares::revoke, shares::prune,
        operations::list, operations::get, operations::cancel,
        events::events,
        backups::status, backups::add_target, backups::update_target, backups::remove_target,
        backups::test_target, backups::start, backups::cancel, backups::runs, backups::backups_at,
        backups::contents, backups::restore, backups::restore_preview, backups::secret_variables,
        backups::verify, backups::prune, backups::pause,
        browser::session, browser::sign_in, browser::new_link,
    ),
    components(schemas(
        crate::error::HttpError, crate::error::HttpErrorCode, crate::auth::Scope,
        kura_api::Operation, kura_api::OpState, kura_api::Event, kura_api::VaultChange,
        kura_core::Project, kura_core::Workspace, kura_core::Version, kura_core::FileEntry,
        kura_core::Stats, kura_core::SnapshotReport, kura_core::RestoreReport, kura_core::VerifyReport,
        kura_core::GcReport, kura_core::UploadReport, kura_core::ArchiveInfo,
        kura_core::ArchiveVerifyReport, kura_core::ExtractReport, kura_core::CleanupReport,
        kura_backup::RunReport, kura_backup::BackupRestoreReport, kura_backup::BackupVerifyReport,
        kura_backup::PruneReport, kura_backup::Share, kura_backup::ColdReport,
    )),
    modifiers(&Security),
    tags(
        (name = "vault", description = "The vault as a whole"),
        (name = "workspaces"), (name = "projects"), (name = "files"), (name = "versions"),
        (name = "git"), (name = "archives"), (name = "cleanup"), (name = "backups"),
        (name = "records", description = "JSON documents under keys, per project and for the vault, with queries"),
        (name = "shares", description = "Download links to a version, kept in an S3 target until they expire"),
        (name = "operations", description = "Long work: progress, wait, cancel"),
        (name = "events", description = "What happened, as a resumable stream"),
        (name = "browser", description = "Browser sessions and the UI"),
    )
)]
pub struct ApiDoc;

/// The bearer token and the session cookie; every operation may answer an error.
struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`kura serve token --scope read|write|admin`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("kura_session"))),
        );
        api.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
        let error = ResponseBuilder::new()
            .description("An error: `{ code, message }`; the status follows the code (404 not_found, 422 invalid_input, 409 conflict, 401 unauthorized, 403 forbidden, 421 misdirected, 413 payload_too_large, ...)")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("HttpError"))))
                    .build(),
            )
            .build();
        let long_error = ResponseBuilder::new()
            .description("An error (`{ code, message }`), or, with `?wait=true`, the operation that failed or was cancelled, with its error's status")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(
                        utoipa::openapi::schema::OneOfBuilder::new()
                            .item(utoipa::openapi::Ref::from_schema_name("HttpError"))
                            .item(utoipa::openapi::Ref::from_schema_name("Operation")),
                    ))
                    .build(),
            )
            .build();
        for item in api.paths.paths.values_mut() {
            let ops: [&mut Option<Operation>; 5] = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                // A long operation started with `?wait=true` answers 200 with the operation.
                if let Some(RefOr::T(mut r)) = op.responses.responses.get("202").cloned() {
                    r.description = "finished (`?wait=true`): the operation".into();
                    op.responses
                        .responses
                        .entry("200".to_string())
                        .or_insert(RefOr::T(r));
                    // With `?wait=true`, an operation that failed answers its error's status
                    // with the operation as the body.
                    op.responses
                        .responses
                        .entry("default".to_string())
                        .or_insert_with(|| RefOr::T(long_error.clone()));
                }
                op.responses
                    .responses
                    .entry("default".to_string())
                    .or_insert_with(|| RefOr::T(error.clone()));
            }
        }
    }
}

/// The OpenAPI document as pretty JSON (what `docs/api/openapi.json` holds).
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
        + "\n"
}
