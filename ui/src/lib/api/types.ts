// The types that cross from the engine to the UI, as the shell's generated bindings define them
// (`../bindings`, tauri-specta; field names are the engine's snake_case). Only what the bindings
// do not name is written here.

export type {
  AppInfo,
  ArchiveConfig,
  ArchiveInfo,
  ArchiveVerifyReport,
  AutoSnapshot,
  BackupContents,
  BackupInfo,
  BackupProject,
  BackupRestoreReport,
  BackupState,
  BackupStatus,
  BackupVerifyReport,
  ByteSize,
  Change,
  ChangeCounts,
  CleanupCategory,
  CleanupCategoryReport,
  CleanupConfig,
  CleanupItem,
  CleanupOptions,
  CleanupReport,
  Config,
  Diff,
  ExtractReport,
  FileDiff,
  FileEntry,
  FilePreview,
  FileState,
  FolderGitChange,
  FolderGitCommit,
  FolderGitStatus,
  GcReport,
  HealthState,
  ImportArchiveOptions,
  ImportOptions,
  ApiError,
  ErrorCode,
  Subject,
  SubjectKind,
  LargeFile,
  Layer,
  LayerUsage,
  Location,
  NewProject,
  PathsConfig,
  Pause,
  PauseLength,
  PreviewKind,
  Problem,
  Progress,
  Project,
  ProjectFilter,
  ProjectSort,
  ProjectStatus,
  PruneReport,
  QuotaConfig,
  QuotaLevel,
  QuotaStatus,
  QuotaUsage,
  RestoreReport,
  Retention,
  RetentionConfig,
  RunRecord,
  RunResult,
  SkippedFile,
  SnapshotConfig,
  SnapshotReport,
  Stats,
  StatusCounts,
  StorageConfig,
  Target,
  TargetChanges,
  TargetHealth,
  TargetSecrets,
  TargetStatus,
  Template,
  TestReport,
  Trigger,
  TypeUsage,
  UploadReport,
  Usage,
  UsageSample,
  VaultChanged,
  VerifyMode,
  VerifyProblem,
  VerifyReport,
  Version,
  Workspace,
} from "../bindings";

import type {
  ArchiveConfig,
  CleanupConfig,
  NetworkConfig,
  PathsConfig,
  QuotaConfig,
  RetentionConfig,
  SnapshotConfig,
  StorageConfig,
} from "../bindings";

/** What every command returns (the generated commands' result shape). */
export type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

/** The settings as the engine always sends them: every section and key filled in. */
export type FullConfig = {
  paths: PathsConfig;
  storage: Required<StorageConfig>;
  snapshots: Required<SnapshotConfig>;
  archive: Required<ArchiveConfig>;
  quota: Required<QuotaConfig>;
  cleanup: Required<CleanupConfig>;
  versions: Required<RetentionConfig>;
  network: Required<NetworkConfig>;
};
