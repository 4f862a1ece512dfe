// End-to-end tests of the real Kura window: the debug build of the desktop app, driven through
// tauri-driver and WebKitWebDriver under Xvfb (`npm run test:e2e` wraps this in xvfb-run, inside
// a private D-Bus session with an unlocked throwaway GNOME keyring: scripts/with-keyring.sh, so
// that backup secrets typed in the window go to a real OS keyring).
// Every session gets a fresh vault (KURA_HOME), a scratch folder for imports, and its own
// per-user folders (XDG_CONFIG_HOME for the app's settings and the autostart entry,
// XDG_RUNTIME_DIR for the single-instance socket, KURA_LOG_DIR for the logs), so that it neither
// sees nor hands off to another Kura running on this machine. A few specs start from other
// settings (`sessionOf`).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ownName } from './dbus-name.mjs';
import { freePort, waitForPort } from './ports.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const application = path.join(root, 'target/debug/kura-desktop');
let driver;
let trayHost;

// Free ports for tauri-driver and the WebKit driver behind it, so that a second run on the same
// machine (another checkout's tests) cannot take them. The launcher picks them; its workers, which
// load this file again, inherit them through the environment.
process.env.KURA_E2E_DRIVER_PORT ||= String(await freePort());
process.env.KURA_E2E_NATIVE_PORT ||= String(await freePort());
const driverPort = Number(process.env.KURA_E2E_DRIVER_PORT);
const nativePort = Number(process.env.KURA_E2E_NATIVE_PORT);

// The runtime folders of the run's sessions (single-instance sockets), one each, private.
process.env.KURA_E2E_RUNTIME_ROOT ||= fs.mkdtempSync(path.join(os.tmpdir(), 'kura-e2e-runtime-'));
const runtimeRoot = process.env.KURA_E2E_RUNTIME_ROOT;

function tauriDriver() {
  const local = path.join(os.homedir(), '.cargo/bin/tauri-driver');
  return fs.existsSync(local) ? local : 'tauri-driver';
}

/**
 * What a spec's session starts from when it is not the default: `appSettings` (the text of
 * app.toml, `null` for none: a person's first start), `dbus: false` (no D-Bus session at all),
 * `kuraHome: false` (no KURA_HOME: the vault the settings name, or the default one),
 * `deadSocket: true` (a single-instance socket left behind by a killed app), `tray: true` (a
 * tray host on the session bus: the test owns `org.kde.StatusNotifierWatcher`), `args` (the
 * app's command line), `autostart` (the text of an autostart entry already there).
 */
function sessionOf(specs, scratch) {
  const name = path.basename(specs[0] ?? '');
  const sessions = {
    'first-run.e2e.mjs': { appSettings: null },
    'instance.e2e.mjs': { deadSocket: true },
    'instance-no-dbus.e2e.mjs': { dbus: false, deadSocket: true },
    // Started at login by an entry an older install wrote.
    'hidden-start.e2e.mjs': { tray: true, args: ['--hidden'], autostart: '[Desktop Entry]\nType=Application\nName=Kura\nExec=/opt/kura-old/kura-desktop --hidden\n' },
    'unreachable-vault.e2e.mjs': {
      appSettings: `start_at_login_asked = true\ntray_hint_shown = true\nvault = "${scratch}/nonexistent-mount/kura"\n`,
      kuraHome: false,
    },
  };
  return sessions[name] ?? {};
}

export const config = {
  runner: 'local',
  specs: ['./specs/**/*.mjs'],
  maxInstances: 1,
  hostname: '127.0.0.1',
  port: driverPort,
  capabilities: [{ maxInstances: 1, 'tauri:options': { application } }],
  logLevel: 'warn',
  waitforTimeout: 15000,
  connectionRetryCount: 2,
  framework: 'mocha',
  reporters: ['spec'],
  mochaOpts: { ui: 'bdd', timeout: 120000 },

  onPrepare() {
    // The app and the `kura` CLI the specs check the vault with, built with the features
    // `cargo test --workspace` unifies (all targets): after scripts/test.sh's `cargo test` only
    // the app's binary is linked, instead of a second build of the workspace.
    const r = spawnSync('cargo', ['build', '--workspace', '--all-targets', '--locked', '--features', 'kura-desktop/custom-protocol'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('building the desktop app and the CLI failed');
  },

  onComplete() {
    // The document portal of the D-Bus session (started when the app asks for a portal) mounts
    // `doc` in the runtime folder it was given and keeps it until the session ends: unmount it.
    for (const run of fs.readdirSync(runtimeRoot)) {
      const doc = path.join(runtimeRoot, run, 'doc');
      if (!fs.existsSync(doc)) continue;
      for (const tool of ['fusermount3', 'fusermount']) {
        if (spawnSync(tool, ['-uz', doc]).status === 0) break;
      }
    }
    try {
      fs.rmSync(runtimeRoot, { recursive: true, force: true });
    } catch (e) {
      console.warn(`cannot remove ${runtimeRoot}: ${e.message}`);
    }
  },

  async beforeSession(_config, capabilities, specs) {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kura-e2e-'));
    process.env.KURA_E2E_SCRATCH = scratch;
    // (The document portal of the D-Bus session may mount `doc` in the runtime folder until the
    // session ends: that folder is removed at the end of the run, not of the spec; onComplete.)
    process.env.XDG_RUNTIME_DIR = fs.mkdtempSync(path.join(runtimeRoot, 'run-'));
    for (const [name, dir] of [['XDG_CONFIG_HOME', 'config'], ['KURA_LOG_DIR', 'logs']]) {
      process.env[name] = path.join(scratch, dir);
      fs.mkdirSync(process.env[name], { mode: 0o700 });
    }
    // The per-user settings: the first-run question (start at login?) answered already, as a
    // person who said "Not now" would have, unless the spec's session says otherwise.
    const session = sessionOf(specs, scratch);
    const settings = session.appSettings === undefined ? 'start_at_login_asked = true\ntray_hint_shown = true\n' : session.appSettings;
    if (settings !== null) {
      fs.mkdirSync(path.join(scratch, 'config/kura'));
      fs.writeFileSync(path.join(scratch, 'config/kura/app.toml'), settings);
    }
    if (session.dbus === false) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    if (session.autostart) {
      fs.mkdirSync(path.join(scratch, 'config/autostart'));
      fs.writeFileSync(path.join(scratch, 'config/autostart/kura.desktop'), session.autostart);
    }
    if (session.tray) trayHost = await ownName('org.kde.StatusNotifierWatcher');
    if (session.args) capabilities['tauri:options'] = { ...capabilities['tauri:options'], args: session.args };
    if (session.deadSocket) {
      const dir = path.join(process.env.XDG_RUNTIME_DIR, 'kura');
      fs.mkdirSync(dir, { mode: 0o700 });
      const bound = spawnSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path.join(dir, 'desktop.sock')]);
      if (bound.status !== 0) throw new Error(`cannot leave a dead socket: ${bound.stderr}`);
    }
    // A fresh vault, never the user's: KURA_E2E_VAULT names a prepared one (the screenshots').
    process.env.KURA_HOME = process.env.KURA_E2E_VAULT || path.join(scratch, 'vault');
    if (session.kuraHome === false) delete process.env.KURA_HOME;
    driver = spawn(tauriDriver(), ['--port', String(driverPort), '--native-port', String(nativePort)], { stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
    await waitForPort(driverPort, 20000, 'tauri-driver');
  },

  async afterTest(test, _context, { passed }) {
    if (!passed) {
      const dir = path.join(root, 'tests/e2e/failures');
      fs.mkdirSync(dir, { recursive: true });
      await browser.saveScreenshot(path.join(dir, `${test.title.replace(/[^a-z0-9]+/gi, '-')}.png`));
    }
  },

  afterSession() {
    trayHost?.destroy();
    driver?.kill();
    driver = undefined;
    const scratch = process.env.KURA_E2E_SCRATCH;
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  },
};
