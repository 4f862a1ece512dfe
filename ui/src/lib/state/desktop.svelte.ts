// The app's own side, in the window only: whether Kura starts at login, the first-run question,
// whether a tray shows (and the hint about getting one), the preferences of Settings › App
// (theme, notifications, editor), and where the vault is. In a browser there is none
// (`available` is false) and nothing of it is shown but the theme, which the browser keeps.

import type { DesktopClient } from "../api/client";
import type { DesktopState, Preferences } from "../api/types";
import { applyTheme } from "../theme";

export class Desktop {
  state = $state<DesktopState | null>(null);
  error = $state<string | null>(null);
  /** The switch is being changed. */
  busy = $state(false);

  constructor(readonly client: DesktopClient | null) {}

  get available(): boolean {
    return this.client !== null;
  }

  async load() {
    if (!this.client) return;
    try {
      this.state = await this.client.state();
      applyTheme(this.state.preferences.theme ?? "system");
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  /** Saves `change` to the preferences (app.toml); the state shown is what was saved. */
  async setPreferences(change: Partial<Preferences>) {
    if (!this.client || !this.state) return;
    const preferences = { ...this.state.preferences, ...change };
    if (change.theme) applyTheme(change.theme);
    this.busy = true;
    try {
      this.state = await this.client.setPreferences(preferences);
      applyTheme(this.state.preferences.theme ?? "system");
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = false;
    }
  }

  /** Turns start at login on or off; the state shown is then read back from the entry. */
  async setStartAtLogin(on: boolean) {
    if (!this.client || !this.state) return;
    this.busy = true;
    try {
      const autostart = await this.client.setStartAtLogin(on);
      this.state = { ...this.state, autostart };
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = false;
    }
  }

  /** The first-run question's answer (asked once). */
  async answerStartAtLogin(start: boolean) {
    if (!this.client) return;
    this.busy = true;
    try {
      this.state = await this.client.answerStartAtLogin(start);
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = false;
    }
  }

  async dismissTrayHint() {
    if (!this.client || !this.state) return;
    this.state = { ...this.state, show_tray_hint: false };
    try {
      await this.client.dismissTrayHint();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }
}
