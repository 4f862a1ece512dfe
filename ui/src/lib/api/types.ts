// The types that cross from the engine to the UI, as the shell's generated bindings define them
// (`../bindings`, tauri-specta; field names are the engine's snake_case). Only what the bindings
// do not name is written here.

export type {
  AppInfo,
  AutoSnapshot,
  ByteSize,
  Change,
  ChangeCounts,
  Config,
  Diff,
  FileDiff,
  FileEntry,
  FilePreview,
  FileState,
  FolderGitChange,
  FolderGitCommit,
  FolderGitStatus,
  GcReport,
  ImportOptions,
  IpcError,
  LargeFile,
  Layer,
  LayerUsage,
  NewProject,
  PathsConfig,
  PreviewKind,
  Problem,
  Progress,
  Project,
  ProjectFilter,
  ProjectSort,
  ProjectStatus,
  RestoreReport,
  SkippedFile,
  SnapshotConfig,
  SnapshotReport,
  Stats,
  StatusCounts,
  StorageConfig,
  Template,
  Trigger,
  TypeUsage,
  UploadReport,
  Usage,
  UsageSample,
  VaultChanged,
  VerifyReport,
  Version,
  Workspace,
} from "../bindings";

import type { PathsConfig, SnapshotConfig, StorageConfig } from "../bindings";

/** The codes an `IpcError` carries (the engine's `ErrorKind`); the UI switches on these. */
export type ErrorCode =
  | "not_found"
  | "invalid_input"
  | "already_exists"
  | "conflict"
  | "path_escape"
  | "quota_exceeded"
  | "disk_full"
  | "corrupt"
  | "busy"
  | "cancelled"
  | "io"
  | "internal";

/** What every command returns (the generated commands' result shape). */
export type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

/** The settings as the engine always sends them: every section and key filled in. */
export type FullConfig = {
  paths: PathsConfig;
  storage: Required<StorageConfig>;
  snapshots: Required<SnapshotConfig>;
};
