// End-to-end tests of the real Kura window: the debug build of the desktop app, driven through
// tauri-driver and WebKitWebDriver under Xvfb (`npm run test:e2e` wraps this in xvfb-run, inside
// a private D-Bus session with an unlocked throwaway GNOME keyring: scripts/with-keyring.sh, so
// that backup secrets typed in the window go to a real OS keyring).
// Every session gets a fresh vault (KURA_HOME) and a scratch folder for imports.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const application = path.join(root, 'target/debug/kura-desktop');
let driver;

// Free ports for tauri-driver and the WebKit driver behind it, so that a second run on the same
// machine (another checkout's tests) cannot take them. The launcher picks them; its workers, which
// load this file again, inherit them through the environment.
process.env.KURA_E2E_DRIVER_PORT ||= String(await freePort());
process.env.KURA_E2E_NATIVE_PORT ||= String(await freePort());
const driverPort = Number(process.env.KURA_E2E_DRIVER_PORT);
const nativePort = Number(process.env.KURA_E2E_NATIVE_PORT);

function tauriDriver() {
  const local = path.join(os.homedir(), '.cargo/bin/tauri-driver');
  return fs.existsSync(local) ? local : 'tauri-driver';
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
    // The app and the `kura` CLI the specs check the vault with, in one build (one feature set,
    // so neither is rebuilt later).
    const r = spawnSync('cargo', ['build', '-p', 'kura-desktop', '-p', 'kura-cli', '--features', 'kura-desktop/custom-protocol'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('building the desktop app and the CLI failed');
  },

  async beforeSession() {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kura-e2e-'));
    process.env.KURA_E2E_SCRATCH = scratch;
    // A fresh vault, never the user's: KURA_E2E_VAULT names a prepared one (the screenshots').
    process.env.KURA_HOME = process.env.KURA_E2E_VAULT || path.join(scratch, 'vault');
    // Quick automatic versions keep the tests short.
    process.env.KURA_SNAPSHOTS_QUIET_PERIOD_SECS = '1';
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
    driver?.kill();
    driver = undefined;
    const scratch = process.env.KURA_E2E_SCRATCH;
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  },
};
