// The settings: the current config, and saving one setting at a time through the engine's
// validation, with its message shown at the field it belongs to.

import { KuraError, type Client, type SettingKey } from "../api/client";
import type { Config } from "../api/types";

export class SettingsState {
  config = $state<Config | null>(null);
  errors = $state<Partial<Record<SettingKey, string>>>({});
  saving = $state<SettingKey | null>(null);
  savedKey = $state<SettingKey | null>(null);
  loadError = $state<string | null>(null);

  constructor(private readonly client: Client) {}

  async load() {
    try {
      this.config = await this.client.getConfig();
      this.loadError = null;
    } catch (e) {
      this.loadError = (e as Error).message;
    }
  }

  /** Saves one setting; true when the engine took it. */
  async save(key: SettingKey, value: string): Promise<boolean> {
    this.saving = key;
    this.savedKey = null;
    try {
      this.config = await this.client.setConfig(key, value);
      delete this.errors[key];
      this.savedKey = key;
      return true;
    } catch (e) {
      const err = e instanceof KuraError ? e : new KuraError("internal", String(e));
      this.errors[key] = err.message;
      return false;
    } finally {
      this.saving = null;
    }
  }
}

/** The text a setting shows in its field. */
export function settingText(config: Config, key: SettingKey): string {
  const [section, name] = key.split(".") as [keyof Config, string];
  const value = ((config[section] ?? {}) as Record<string, unknown>)[name];
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}
