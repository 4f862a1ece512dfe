// A vault folder chosen earlier on a drive that is not connected (the harness's app settings name
// <scratch>/nonexistent-mount/kura, and no KURA_HOME is set): the window says so and offers
// "Try again", "Choose another folder" and "Create it here"; creating it opens the vault, whose
// schedules then run, and `kura` opens the same one.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { press, root, testid } from '../window.mjs';

const shots = process.env.KURA_E2E_SHOTS;

describe('A configured vault that cannot be reached', () => {
  const vault = () => path.join(process.env.KURA_E2E_SCRATCH, 'nonexistent-mount/kura');

  it('is explained, with what to do', async () => {
    const screen = await testid('vault-unreachable');
    await screen.waitForDisplayed({ timeout: 30000 });
    expect(await screen.getText()).toContain('Kura cannot open the vault');
    expect(await screen.getText()).toContain('is its drive connected?');
    for (const label of ['Try again', 'Choose another folder', 'Create it here']) {
      expect(await screen.$(`button=${label}`).isDisplayed()).toBe(true);
    }
    if (shots) await browser.saveScreenshot(path.join(shots, 'vault-unreachable.png'));
    // Trying again changes nothing while the drive is away.
    await press(await screen.$('button=Try again'));
    await browser.pause(300);
    expect(await testid('vault-unreachable').isDisplayed()).toBe(true);
    expect(fs.existsSync(path.dirname(vault()))).toBe(false);
  });

  it('"Create it here" makes the folders and opens the vault', async () => {
    await press(await $('button=Create it here'));
    await $('h1=Dashboard').waitForDisplayed({ timeout: 20000 });
    expect(fs.existsSync(path.join(vault(), 'catalog.db'))).toBe(true);
    // The vault's schedules run in this window now.
    await browser.waitUntil(
      () => fs.readdirSync(process.env.KURA_LOG_DIR).some((f) => fs.readFileSync(path.join(process.env.KURA_LOG_DIR, f), 'utf8').includes("this process runs the vault's schedules")),
      { timeoutMsg: 'the scheduler did not start for the new vault' },
    );
    // `kura`, with the same per-user settings, opens the same vault.
    const status = JSON.parse(
      execFileSync(path.join(root, 'target/debug/kura'), ['--json', 'status'], {
        encoding: 'utf8',
        env: { ...process.env, HOME: process.env.KURA_E2E_SCRATCH },
      }),
    );
    expect(JSON.stringify(status)).toContain(vault());
  });

  it('opens another folder, as "Choose another folder" does with the folder picked, and remembers it', async () => {
    // The picker is the desktop's own dialog; what the button does with the folder is this call.
    const picked = path.join(process.env.KURA_E2E_SCRATCH, 'Documents');
    fs.mkdirSync(picked);
    fs.writeFileSync(path.join(picked, 'letter.txt'), 'Dear Kura\n');
    const info = await browser.executeAsync((folder, done) => {
      window.__TAURI_INTERNALS__.invoke('open_vault_folder', { path: folder, create: false }).then(done, (e) => done({ error: e }));
    }, picked);
    // The folder holds the person's files: the vault goes into a kura folder inside it.
    expect(info.vault).toBe(path.join(picked, 'kura'));
    expect(fs.readdirSync(picked).sort()).toEqual(['kura', 'letter.txt']);
    const settings = fs.readFileSync(path.join(process.env.XDG_CONFIG_HOME, 'kura/app.toml'), 'utf8');
    expect(settings).toContain(`vault = "${path.join(picked, 'kura')}"`);
    await browser.refresh();
    await $('h1=Dashboard').waitForDisplayed({ timeout: 20000 });
    expect(await $('nav.sidebar .vault').getAttribute('title')).toBe(path.join(picked, 'kura'));
  });
});
