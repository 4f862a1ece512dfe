// Generated from the shell's bindings (../bindings.ts) and the OpenAPI document
// (docs/api/openapi.json), joined by the service's catalog; do not edit.
// Regenerate: KURA_UPDATE_CALLS=1 cargo test -p kura-mcp --lib doors
//
// How the browser's transport sends each command of the window: its arguments in order,
// whether it is long (it takes a job id and a progress callback after them) or gives
// nothing, and the operations it may be sent as with the place of each argument in the
// request: `path:p`, `query:q`, `field:f` of the JSON body, the whole `body`, `queries`
// (its fields are the query), the place of each of its fields, or `absent` (the operation
// is the one for when it is null).

import type { OperationId } from "./routes";

export type Place = string | { readonly [field: string]: Place };

export type Call = {
  readonly args: readonly string[];
  readonly long: boolean;
  readonly nothing: boolean;
  readonly variants: readonly { readonly op: OperationId; readonly places: { readonly [arg: string]: Place } }[];
};

export const CALLS = {
  addBackupTarget: { args: ["target", "secrets", "useKeyring"], long: false, nothing: false, variants: [{ op: "addBackupTarget", places: { target: "field:target", secrets: "field:secrets", useKeyring: "field:use_keyring" } }] },
  archiveProject: { args: ["id"], long: true, nothing: false, variants: [{ op: "archiveProject", places: { id: "path:id" } }] },
  cancelBackup: { args: ["target"], long: false, nothing: false, variants: [{ op: "cancelBackup", places: { target: "path:target" } }] },
  cancelOperation: { args: ["jobId"], long: false, nothing: true, variants: [{ op: "cancelOperation", places: { jobId: "path:id" } }] },
  collectGarbage: { args: [], long: true, nothing: false, variants: [{ op: "collectGarbage", places: {} }] },
  createProject: { args: ["newProject"], long: false, nothing: false, variants: [{ op: "createProject", places: { newProject: "body" } }] },
  createWorkspace: { args: ["name"], long: false, nothing: false, variants: [{ op: "createWorkspace", places: { name: "field:name" } }] },
  deleteProject: { args: ["id"], long: false, nothing: true, variants: [{ op: "deleteProject", places: { id: "path:id" } }] },
  deleteWorkspace: { args: ["name", "moveTo"], long: false, nothing: true, variants: [{ op: "deleteWorkspace", places: { name: "path:name", moveTo: "query:move_to" } }] },
  diffVersions: { args: ["id", "request"], long: false, nothing: false, variants: [{ op: "diffVersions", places: { id: "path:id", request: "queries" } }] },
  editProject: { args: ["id", "edit"], long: false, nothing: false, variants: [{ op: "editProject", places: { id: "path:id", edit: "body" } }] },
  exportProject: { args: ["id", "version", "dest", "records"], long: true, nothing: false, variants: [{ op: "exportProject", places: { id: "path:id", version: "field:version", dest: "field:dest", records: "field:records" } }] },
  extractArchive: { args: ["archive", "dest"], long: true, nothing: false, variants: [{ op: "extractArchive", places: { archive: "path:archive", dest: "field:dest" } }] },
  getBackupContents: { args: ["target", "backup"], long: false, nothing: false, variants: [{ op: "getBackupContents", places: { target: "path:target", backup: "path:backup" } }] },
  getBackupSecretVariables: { args: ["name", "kind", "encrypt"], long: false, nothing: false, variants: [{ op: "getBackupSecretVariables", places: { name: "query:name", kind: "query:kind", encrypt: "query:encrypt" } }] },
  getBackupStatus: { args: [], long: false, nothing: false, variants: [{ op: "getBackupStatus", places: {} }] },
  getConfig: { args: [], long: false, nothing: false, variants: [{ op: "getConfig", places: {} }] },
  getGitLog: { args: ["id", "limit"], long: false, nothing: false, variants: [{ op: "getGitLog", places: { id: "path:id", limit: "query:limit" } }] },
  getGitStatus: { args: ["id"], long: false, nothing: false, variants: [{ op: "getGitStatus", places: { id: "path:id" } }] },
  getNextCleanup: { args: [], long: false, nothing: false, variants: [{ op: "getNextCleanup", places: {} }] },
  getProject: { args: ["id"], long: false, nothing: false, variants: [{ op: "getProject", places: { id: "path:id" } }] },
  getQuota: { args: [], long: false, nothing: false, variants: [{ op: "getQuota", places: {} }] },
  getStats: { args: [], long: false, nothing: false, variants: [{ op: "getStats", places: {} }] },
  getStatus: { args: [], long: false, nothing: false, variants: [{ op: "getStatus", places: {} }] },
  importArchive: { args: ["path", "options"], long: true, nothing: false, variants: [{ op: "importArchive", places: { path: "field:path", options: "field:options" } }] },
  importFolder: { args: ["path", "options"], long: true, nothing: false, variants: [{ op: "importFolder", places: { path: "field:path", options: "field:options" } }] },
  initGitRepository: { args: ["id"], long: false, nothing: true, variants: [{ op: "initGitRepository", places: { id: "path:id" } }] },
  listArchives: { args: [], long: false, nothing: false, variants: [{ op: "listArchives", places: {} }] },
  listBackupRuns: { args: ["target"], long: false, nothing: false, variants: [{ op: "listBackupRuns", places: { target: "query:target" } }] },
  listBackups: { args: ["target"], long: false, nothing: false, variants: [{ op: "listBackups", places: { target: "path:target" } }] },
  listCleanupRuns: { args: [], long: false, nothing: false, variants: [{ op: "listCleanupRuns", places: {} }] },
  listFiles: { args: ["id", "prefix"], long: false, nothing: false, variants: [{ op: "listFiles", places: { id: "path:id", prefix: "query:prefix" } }] },
  listProjects: { args: ["filter"], long: false, nothing: false, variants: [{ op: "listProjects", places: { filter: "queries" } }] },
  listShares: { args: ["project"], long: false, nothing: false, variants: [{ op: "listShares", places: { project: "query:project" } }] },
  listTemplates: { args: [], long: false, nothing: false, variants: [{ op: "listTemplates", places: {} }] },
  listVersions: { args: ["id", "request"], long: false, nothing: false, variants: [{ op: "listVersions", places: { id: "path:id", request: "queries" } }] },
  listWorkspaces: { args: [], long: false, nothing: false, variants: [{ op: "listWorkspaces", places: {} }] },
  moveArchivesToColdTier: { args: [], long: true, nothing: false, variants: [{ op: "moveArchivesToColdTier", places: {} }] },
  pauseBackups: { args: ["length"], long: false, nothing: true, variants: [{ op: "pauseBackups", places: { length: "field:length" } }] },
  planCommand: { args: ["input"], long: false, nothing: false, variants: [{ op: "planCommand", places: { input: "queries" } }] },
  planRestore: { args: ["id", "version"], long: false, nothing: false, variants: [{ op: "planRestore", places: { id: "path:id", version: "query:version" } }] },
  previewBackupRestore: { args: ["target", "backup", "project", "destination"], long: false, nothing: false, variants: [{ op: "previewBackupRestore", places: { target: "path:target", backup: "path:backup", project: "query:project", destination: "query:destination" } }] },
  previewFile: { args: ["id", "path"], long: false, nothing: false, variants: [{ op: "previewFile", places: { id: "path:id", path: "query:path" } }] },
  pruneBackups: { args: ["target", "dryRun"], long: true, nothing: false, variants: [{ op: "pruneBackups", places: { target: "path:target", dryRun: "field:dry_run" } }] },
  recordCollections: { args: ["project"], long: false, nothing: false, variants: [{ op: "listProjectCollections", places: { project: "path:id" } }, { op: "listVaultCollections", places: { project: "absent" } }] },
  recordConfigure: { args: ["project", "collection", "settings"], long: false, nothing: false, variants: [{ op: "configureProjectCollection", places: { project: "path:id", collection: "path:collection", settings: "body" } }, { op: "configureVaultCollection", places: { project: "absent", collection: "path:collection", settings: "body" } }] },
  recordDelete: { args: ["project", "del"], long: false, nothing: false, variants: [{ op: "deleteProjectRecord", places: { project: "path:id", del: { collection: "path:collection", if_rev: "query:if_rev", key: "path:key" } } }, { op: "deleteVaultRecord", places: { project: "absent", del: { collection: "path:collection", if_rev: "query:if_rev", key: "path:key" } } }] },
  recordGet: { args: ["project", "collection", "key"], long: false, nothing: false, variants: [{ op: "getProjectRecord", places: { project: "path:id", collection: "path:collection", key: "path:key" } }, { op: "getVaultRecord", places: { project: "absent", collection: "path:collection", key: "path:key" } }] },
  recordPut: { args: ["project", "put"], long: false, nothing: false, variants: [{ op: "putProjectRecord", places: { project: "path:id", put: { collection: "path:collection", if_rev: "query:if_rev", key: "path:key", ttl_secs: "query:ttl_secs", value: "body" } } }, { op: "putVaultRecord", places: { project: "absent", put: { collection: "path:collection", if_rev: "query:if_rev", key: "path:key", ttl_secs: "query:ttl_secs", value: "body" } } }] },
  recordQuery: { args: ["project", "collection", "query"], long: false, nothing: false, variants: [{ op: "queryProjectRecords", places: { project: "path:id", collection: "path:collection", query: "body" } }, { op: "queryVaultRecords", places: { project: "absent", collection: "path:collection", query: "body" } }] },
  removeBackupTarget: { args: ["target"], long: false, nothing: true, variants: [{ op: "removeBackupTarget", places: { target: "path:target" } }] },
  renameWorkspace: { args: ["name", "newName"], long: false, nothing: false, variants: [{ op: "renameWorkspace", places: { name: "path:name", newName: "field:new_name" } }] },
  restoreBackup: { args: ["target", "backup", "project", "destination"], long: true, nothing: false, variants: [{ op: "restoreBackup", places: { target: "path:target", backup: "path:backup", project: "field:project", destination: "field:destination" } }] },
  restoreProject: { args: ["id", "request"], long: true, nothing: false, variants: [{ op: "restoreProject", places: { id: "path:id", request: "body" } }] },
  revokeShare: { args: ["id"], long: false, nothing: false, variants: [{ op: "revokeShare", places: { id: "path:id" } }] },
  runBackup: { args: ["target"], long: false, nothing: true, variants: [{ op: "runBackup", places: { target: "path:target" } }] },
  runCleanup: { args: ["options"], long: true, nothing: false, variants: [{ op: "runCleanup", places: { options: "body" } }] },
  saveProjectAsTemplate: { args: ["id", "name"], long: false, nothing: false, variants: [{ op: "saveProjectAsTemplate", places: { id: "path:id", name: "field:name" } }] },
  setConfig: { args: ["key", "value"], long: false, nothing: false, variants: [{ op: "setConfig", places: { key: "field:key", value: "field:value" } }] },
  setProjectMetadata: { args: ["id", "changes"], long: false, nothing: false, variants: [{ op: "setProjectMetadata", places: { id: "path:id", changes: "field:changes" } }] },
  shareProject: { args: ["id", "options"], long: true, nothing: false, variants: [{ op: "shareProject", places: { id: "path:id", options: "body" } }] },
  snapshotChangedProjects: { args: [], long: true, nothing: false, variants: [{ op: "snapshotChangedProjects", places: {} }] },
  snapshotProject: { args: ["id", "request"], long: true, nothing: false, variants: [{ op: "snapshotProject", places: { id: "path:id", request: "body" } }] },
  switchWorkspace: { args: ["name"], long: false, nothing: false, variants: [{ op: "switchWorkspace", places: { name: "path:name" } }] },
  tagProject: { args: ["id", "add", "remove"], long: false, nothing: false, variants: [{ op: "tagProject", places: { id: "path:id", add: "field:add", remove: "field:remove" } }] },
  testBackupTarget: { args: ["target"], long: false, nothing: false, variants: [{ op: "testBackupTarget", places: { target: "path:target" } }] },
  trashProject: { args: ["id"], long: false, nothing: false, variants: [{ op: "trashProject", places: { id: "path:id" } }] },
  unarchiveProject: { args: ["reference"], long: true, nothing: false, variants: [{ op: "unarchiveProject", places: { reference: "body" } }] },
  untrashProject: { args: ["id"], long: false, nothing: false, variants: [{ op: "untrashProject", places: { id: "path:id" } }] },
  updateBackupTarget: { args: ["target", "changes"], long: false, nothing: false, variants: [{ op: "updateBackupTarget", places: { target: "path:target", changes: "body" } }] },
  uploadFiles: { args: ["id", "sources", "destDir"], long: true, nothing: false, variants: [{ op: "uploadFiles", places: { id: "path:id", sources: "field:sources", destDir: "field:dest_dir" } }] },
  verifyArchive: { args: ["archive"], long: true, nothing: false, variants: [{ op: "verifyArchive", places: { archive: "path:archive" } }] },
  verifyBackups: { args: ["target", "mode"], long: true, nothing: false, variants: [{ op: "verifyBackups", places: { target: "path:target", mode: "field:mode" } }] },
  verifyVault: { args: ["request"], long: true, nothing: false, variants: [{ op: "verifyVault", places: { request: "body" } }] },
} as const satisfies Record<string, Call>;

export type CallName = keyof typeof CALLS;
