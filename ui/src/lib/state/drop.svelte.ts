// Files dragged from the desktop: the overlay while dragging, and where a drop goes. The view
// on screen registers what a drop onto it means (import on the projects list, upload on a
// project page).

import type { Client } from "../api/client";

export type DropTarget = {
  /** What the overlay says, e.g. "Drop to upload into src/". */
  label: string;
  accept: (paths: string[]) => void;
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
        case "drop":
          this.dragging = false;
          this.paths = [];
          if (event.paths.length > 0) this.target?.accept(event.paths);
          break;
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
