// The seam between the UI and whatever answers its calls: the Tauri shell in the app
// (`tauri.ts`), `kura serve`'s HTTP API in a browser (`http.ts`).
//
// The calls are not listed here: they are the shell's commands as the generated bindings declare
// them (`commands` in ../bindings.ts, one per operation of the service's catalog, named as the
// catalog names it), with progress through a plain callback instead of a Tauri channel. A command
// added to the shell is a call every transport must answer, or the type check fails.

import type { Channel } from "@tauri-apps/api/core";
import type { commands } from "../bindings";
import type { Scope } from "./access";
import type { ApiError, BackupStatus, Progress, RecordsChanged, Result, UploadReport, VaultChanged } from "./types";

export type Reply<T> = Promise<Result<T, ApiError>>;
export type OnProgress = (progress: Progress) => void;
export type Unlisten = () => void;

/** A file dropped into a browser page: its bytes, and its path relative to what was dropped. */
export type DroppedFile = { path: string; file: File };

/**
 * A drag-and-drop of files from the desktop, in CSS pixels of the window. The app's window
 * knows the dropped paths on this machine; a browser page only gets the files' bytes.
 */
export type DropEvent =
  | { type: "enter"; paths: string[]; x: number; y: number }
  | { type: "over"; x: number; y: number }
  | { type: "drop"; paths: string[]; x: number; y: number }
  | { type: "drop"; files: DroppedFile[]; x: number; y: number }
  | { type: "leave" };

/** The commands of the shell, by name. */
type Commands = typeof commands;

/** A command's arguments with each progress channel as a plain callback. */
type Callbacks<Args extends unknown[]> = { [K in keyof Args]: Args[K] extends Channel<infer P> ? (progress: P) => void : Args[K] };

/** A command as a transport answers it. */
type Call<F> = F extends (...args: infer Args) => infer Answer ? (...args: Callbacks<Args>) => Answer : never;

/**
 * What only the app's window does: the app itself rather than the vault (start at login, its
 * first-run question, the tray, its log, another vault folder, quitting). A transport without it
 * (a browser on `kura serve`) does not offer these, and the UI does not show them. The shell's
 * door test (`src-tauri/lib.rs`) lists the same commands as the window's own.
 */
export const SHELL_COMMANDS = [
  "desktop",
  "setStartAtLogin",
  "setPreferences",
  "answerStartAtLogin",
  "dismissTrayHint",
  "appLog",
  "openProjectWith",
  "openLogFolder",
  "openVaultFolder",
  "quit",
] as const satisfies readonly (keyof Commands)[];

export type ShellCommand = (typeof SHELL_COMMANDS)[number];

export type DesktopTransport = { [Name in ShellCommand]: Call<Commands[Name]> };

/** Every operation of the service the window calls, as the shell's commands name and type them. */
export type Operations = { [Name in Exclude<keyof Commands, ShellCommand>]: Call<Commands[Name]> };

export interface Transport extends Operations {
  /** The app's own side, when this transport is the app's window. */
  readonly desktop?: DesktopTransport;
  /**
   * The scope of the browser's session (what it may do, see access.ts); null in the app's
   * window, which may do everything, and while a browser's is not known.
   */
  readonly scope: Scope | null;

  /** Uploads files dropped into a browser page (their bytes) into `destDir` of the project. */
  uploadDropped(id: string, files: DroppedFile[], destDir: string, jobId: string, onProgress: OnProgress): Reply<UploadReport>;

  /** State changed in the vault (by this window, another window, the CLI or the watcher). */
  onVaultChanged(listener: (event: VaultChanged) => void): Promise<Unlisten>;
  /** Records were written or deleted (by this window, an agent over HTTP or MCP, the watcher). */
  onRecordsChanged(listener: (event: RecordsChanged) => void): Promise<Unlisten>;
  /** Files dragged over and dropped onto the window. */
  onDrop(listener: (event: DropEvent) => void): Promise<Unlisten>;
  /** The backup status changed (a run started, progressed or ended; a pause; a target). */
  onBackupStatus(listener: (status: BackupStatus) => void): Promise<Unlisten>;
  /** Asks the person for a folder (a path on the machine Kura runs on); `null` when they cancel. */
  pickFolder(title: string): Promise<string | null>;
  /** Asks the person for a file with one of `extensions` (without dots); `null` when they cancel. */
  pickFile(title: string, extensions: string[]): Promise<string | null>;
}
