// In a browser there is no native folder or file picker: the HTTP transport asks for a path on
// the machine Kura runs on through this prompt, which `PathPromptDialog` shows.

import type { PathRequest } from "../api/http";

export class PathPrompt {
  request = $state.raw<PathRequest | null>(null);
  private resolve: ((path: string | null) => void) | null = null;

  /** Shows the dialog; answers the path typed, or `null` when the person cancels. */
  ask(request: PathRequest): Promise<string | null> {
    this.resolve?.(null);
    this.request = request;
    return new Promise((resolve) => (this.resolve = resolve));
  }

  answer(path: string | null) {
    const resolve = this.resolve;
    this.resolve = null;
    this.request = null;
    resolve?.(path && path.trim() ? path.trim() : null);
  }
}

export const pathPrompt = new PathPrompt();
