// The app's transport: the Tauri shell's commands through the generated bindings, progress
// through a Tauri channel per call, the shell's events, the webview's drag-and-drop and the
// dialog plugin's pickers. The only file that knows about Tauri.
//
// Each command is passed through as the bindings declare it; a progress callback becomes a
// channel on the way. Nothing here names an operation, so a command the shell adds is a call of
// this transport without a line written here.

import { Channel } from "@tauri-apps/api/core";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open } from "@tauri-apps/plugin-dialog";
import { commands, events } from "../bindings";
import { SHELL_COMMANDS } from "./transport";
import type { DesktopTransport, DroppedFile, DropEvent, Operations, Reply, Transport, Unlisten } from "./transport";
import type { BackupStatus, RecordsChanged, UploadReport, VaultChanged } from "./types";

/** Every command, each function argument (a progress callback) sent as a channel. */
function calls(): Operations & DesktopTransport {
  const out: Record<string, unknown> = {};
  for (const [name, command] of Object.entries(commands)) {
    out[name] = (...args: unknown[]) =>
      (command as (...args: unknown[]) => unknown)(
        ...args.map((arg) => {
          if (typeof arg !== "function") return arg;
          const channel = new Channel<unknown>();
          channel.onmessage = arg as (message: unknown) => void;
          return channel;
        }),
      );
  }
  return out as Operations & DesktopTransport;
}

/** The window's transport. */
export function tauriTransport(): Transport {
  const all = calls();
  const desktop = Object.fromEntries(SHELL_COMMANDS.map((name) => [name, all[name]])) as DesktopTransport;
  return {
    ...all,
    desktop,
    scope: null,

    /** The window's drops carry paths (`uploadFiles`); it never has dropped bytes to send. */
    async uploadDropped(_id: string, files: DroppedFile[]): Reply<UploadReport> {
      const message = `The app uploads dropped files by their paths; ${files.length} file(s) came without one.`;
      return { status: "error", error: { code: "invalid_input", message, subject: null } };
    },

    async onBackupStatus(listener: (status: BackupStatus) => void): Promise<Unlisten> {
      return events.backupStatusChanged.listen((event) => listener(event.payload));
    },
    async onVaultChanged(listener: (event: VaultChanged) => void): Promise<Unlisten> {
      return events.vaultChanged.listen((event) => listener(event.payload));
    },
    async onRecordsChanged(listener: (event: RecordsChanged) => void): Promise<Unlisten> {
      return events.recordsChanged.listen((event) => listener(event.payload));
    },

    async onDrop(listener: (event: DropEvent) => void): Promise<Unlisten> {
      // Positions arrive in physical pixels; the UI works in CSS pixels.
      const scale = () => window.devicePixelRatio || 1;
      return getCurrentWebview().onDragDropEvent(({ payload }) => {
        switch (payload.type) {
          case "enter":
            listener({ type: "enter", paths: payload.paths, x: payload.position.x / scale(), y: payload.position.y / scale() });
            break;
          case "over":
            listener({ type: "over", x: payload.position.x / scale(), y: payload.position.y / scale() });
            break;
          case "drop":
            listener({ type: "drop", paths: payload.paths, x: payload.position.x / scale(), y: payload.position.y / scale() });
            break;
          default:
            listener({ type: "leave" });
        }
      });
    },

    async pickFolder(title: string): Promise<string | null> {
      const picked = await open({ directory: true, multiple: false, title });
      return typeof picked === "string" ? picked : null;
    },
    async pickFile(title: string, extensions: string[]): Promise<string | null> {
      const picked = await open({ directory: false, multiple: false, title, filters: [{ name: title, extensions }] });
      return typeof picked === "string" ? picked : null;
    },
  };
}
