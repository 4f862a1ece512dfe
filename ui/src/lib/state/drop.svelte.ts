// Files dragged from the desktop: the overlay while dragging, and where a drop goes. The view
// on screen registers what a drop onto it means (import on the projects list, upload on a
// project page).

import type { Client } from "../api/client";
import type { DroppedFile } from "../api/transport";

/** What was dropped: paths on this machine (the app's window) or files' bytes (a browser page). */
export type Dropped = { kind: "paths"; paths: string[] } | { kind: "files"; files: DroppedFile[] };

export type DropTarget = {
  /** What the overlay says, e.g. "Drop to upload into src/". */
  label: string;
  accept: (dropped: Dropped) => void;
};

export class DropZone {
  dragging = $state(false);
  paths = $state<string[]>([]);
  target = $state.raw<DropTarget | null>(null);

  async start(client: Client) {
    return client.onDrop((event) => {
      switch (event.type) {
        case "enter":
          this.dragging = true;
          this.paths = event.paths;
          break;
        case "over":
          this.dragging = true;
          break;
        case "drop": {
          this.dragging = false;
          this.paths = [];
          const dropped: Dropped = "files" in event ? { kind: "files", files: event.files } : { kind: "paths", paths: event.paths };
          const count = dropped.kind === "files" ? dropped.files.length : dropped.paths.length;
          if (count > 0) this.target?.accept(dropped);
          break;
        }
        case "leave":
          this.dragging = false;
          this.paths = [];
      }
    });
  }

  /** Makes `target` receive drops until the returned function is called. */
  register(target: DropTarget): () => void {
    this.target = target;
    return () => {
      if (this.target === target) this.target = null;
    };
  }
}
