// A second launch of the app while the first runs (the tests of `instance.e2e.mjs`, with the
// D-Bus session the harness gives, and `instance-no-dbus.e2e.mjs`, with none): it hands off to
// the first and exits 0 at once, and the first keeps running with its window shown. The session
// starts with a socket a dead process left behind, which the first launch replaced.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root } from './window.mjs';

const application = path.join(root, 'target/debug/kura-desktop');

/** Runs the app again with the session's environment; resolves with its exit and output. */
function launchAgain(args = [], env = process.env) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(application, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    launched.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // A second app that did not hand off would run on: stop it after a while, as a failure.
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const launched = [];

export function describeSecondLaunch(title) {
  describe(title, () => {
    it('has one window on the vault', async () => {
      await $('h1=Dashboard').waitForDisplayed({ timeout: 30000 });
      // The harness left a dead process's socket in the folder; the app replaced it with its own.
      const socket = path.join(process.env.XDG_RUNTIME_DIR, 'kura/desktop.sock');
      expect(fs.statSync(socket).isSocket()).toBe(true);
    });

    it('a second launch brings it forward and exits 0 at once', async () => {
      const run = await launchAgain();
      expect({ code: run.code, signal: run.signal, stdout: run.stdout.trim() }).toEqual({
        code: 0,
        signal: null,
        stdout: 'Kura is already running; its window was brought forward',
      });
      expect(run.ms).toBeLessThan(5000);
      // The first one still answers, with its window shown.
      expect(await browser.execute(() => document.visibilityState)).toBe('visible');
      expect(await $('h1=Dashboard').isDisplayed()).toBe(true);
      const log = fs.readdirSync(process.env.KURA_LOG_DIR).map((f) => fs.readFileSync(path.join(process.env.KURA_LOG_DIR, f), 'utf8')).join('');
      expect(log).toContain('a second launch asked for the window');
    });

    it('a second launch at login (--hidden) leaves the window as it is and exits 0', async () => {
      const run = await launchAgain(['--hidden']);
      expect({ code: run.code, stdout: run.stdout.trim() }).toEqual({ code: 0, stdout: 'Kura is already running' });
      expect(await $('h1=Dashboard').isDisplayed()).toBe(true);
    });

    it('of two launches at the same moment, one runs and the other hands off to it', async () => {
      // Their own runtime folder and vault: neither sees the window above.
      const scratch = fs.mkdtempSync(path.join(process.env.KURA_E2E_SCRATCH, 'pair-'));
      const env = { ...process.env, XDG_RUNTIME_DIR: scratch, KURA_HOME: path.join(scratch, 'vault') };
      const runs = [launchAgain([], env), launchAgain([], env)];
      const first = await Promise.race(runs);
      expect({ code: first.code, stdout: first.stdout.trim() }).toEqual({
        code: 0,
        stdout: 'Kura is already running; its window was brought forward',
      });
      // The other is the app, and keeps running.
      await new Promise((r) => setTimeout(r, 1000));
      const running = launched.slice(-2).filter((c) => c.exitCode === null && c.signalCode === null);
      expect(running.length).toBe(1);
      running[0].kill('SIGTERM');
      await Promise.all(runs);
    });
  });
}
