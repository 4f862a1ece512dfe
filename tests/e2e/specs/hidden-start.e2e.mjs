// Started at login (`kura-desktop --hidden`) on a desktop with a tray (the harness owns
// `org.kde.StatusNotifierWatcher` on the session bus, as a tray host does), by an entry an older
// install wrote: the app runs with its window hidden in the tray, its schedules running, and
// points the entry at itself; opening Kura again (a second launch, as from the application menu)
// shows the window.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root } from '../window.mjs';

describe('Kura started at login', () => {
  it('runs with its window hidden in the tray', async () => {
    await browser.waitUntil(() => browser.execute(() => document.readyState === 'complete'), { timeout: 30000 });
    await browser.waitUntil(
      () => fs.readdirSync(process.env.KURA_LOG_DIR).some((f) => fs.readFileSync(path.join(process.env.KURA_LOG_DIR, f), 'utf8').includes("this process runs the vault's schedules")),
      { timeoutMsg: 'the schedules did not start' },
    );
    expect(await browser.execute(() => document.visibilityState)).toBe('hidden');
  });

  it('points the start-at-login entry of an older install at itself', () => {
    const entry = fs.readFileSync(path.join(process.env.XDG_CONFIG_HOME, 'autostart/kura.desktop'), 'utf8');
    expect(entry).toContain(`\nExec=${path.join(root, 'target/debug/kura-desktop')} --hidden\n`);
  });

  it('shows its window when Kura is opened again', async () => {
    const second = spawnSync(path.join(root, 'target/debug/kura-desktop'), { env: process.env, encoding: 'utf8', timeout: 15000 });
    expect({ status: second.status, stdout: second.stdout.trim() }).toEqual({
      status: 0,
      stdout: 'Kura is already running; its window was brought forward',
    });
    await browser.waitUntil(() => browser.execute(() => document.visibilityState === 'visible'), {
      timeoutMsg: 'the window stayed hidden',
    });
    await $('h1=Dashboard').waitForDisplayed();
  });
});
