// The real Kura window on archives, cleanup and backups: archive a project from its page and
// open the archive with plain tar, unarchive it from the Archives view, preview and run a
// cleanup, add a folder backup target, back up, see the run and the dashboard follow, and
// restore a project through the wizard. Each step is checked on disk: with the `kura` CLI,
// `tar` and the restored files themselves.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dialogButton, go, kura, press, testid, typeInto } from '../window.mjs';

/** Every file under `dir` with its bytes, by relative path. */
function tree(dir) {
  const out = {};
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out[r] = fs.readFileSync(path.join(d, e.name)).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

describe('Archives, cleanup and backups in the real window', () => {
  let source;
  let project;

  before(async () => {
    source = path.join(process.env.KURA_E2E_SCRATCH, 'site');
    fs.mkdirSync(path.join(source, 'css'), { recursive: true });
    fs.writeFileSync(path.join(source, 'index.html'), '<h1>Archive me</h1>\n'.repeat(200));
    fs.writeFileSync(path.join(source, 'css/site.css'), 'body { margin: 0; }\n'.repeat(100));
    project = kura('project', 'import', source, '--name', 'site').project;
    await $('h1=Dashboard').waitForDisplayed({ timeout: 30000 });
  });

  it('archives a project from its page into a tar.zst that plain tar opens', async () => {
    await go(`#/project/${project.id}/files`);
    await $('h1=site').waitForDisplayed({ timeout: 30000 });
    await press(await testid('project-more'));
    await press(await testid('archive-project'));
    expect(await (await testid('archive-explanation')).getText()).toMatch(/unarchive/i);
    await press(await dialogButton('Archive'));
    await (await testid('archived-notice')).waitForDisplayed({ timeout: 30000 });
    expect(kura('project', 'show', 'site').status).toBe('archived');
    const [archive] = kura('archives');
    expect(archive.project_name).toBe('site');
    const listing = execFileSync('tar', ['--zstd', '-tf', archive.path], { encoding: 'utf8' });
    expect(listing).toContain('site/metadata.json');
    expect(listing).toContain('site/files/index.html');
    expect(listing).toContain('site/history.bundle');
  });

  it('lists the archive with its ratio and unarchives the project exactly', async () => {
    await go('#/archives');
    const row = await $('[data-testid="archive-row"][data-archive="site"]');
    await row.waitForDisplayed({ timeout: 20000 });
    expect(await (await row.$('[data-testid="archive-ratio"]')).getText()).toMatch(/^\d+(\.\d+)?×$/);
    await press(await row.$('button=Unarchive'));
    expect(await (await testid('unarchive-explanation')).getText()).toContain('removed');
    await press(await dialogButton('Unarchive'));
    await browser.waitUntil(() => kura('project', 'show', 'site').status === 'active', {
      timeout: 30000,
      timeoutMsg: 'the project did not come back',
    });
    await $('[data-testid="archive-row"]').waitForDisplayed({ reverse: true, timeout: 20000 });
    const back = kura('project', 'show', 'site');
    expect(tree(back.path)).toEqual(tree(source));
    expect(kura('archives')).toEqual([]);
  });

  it('previews a cleanup, runs it, and keeps both in the history', async () => {
    await go('#/cleanup');
    await press(await testid('cleanup-preview-button'));
    await (await testid('cleanup-preview')).waitForDisplayed({ timeout: 30000 });
    await press(await testid('cleanup-run-button'));
    expect(await (await testid('cleanup-confirm')).getText()).toContain('deleted for good');
    await press(await dialogButton('Clean up'));
    await (await testid('cleanup-result')).waitForDisplayed({ timeout: 60000 });
    const history = kura('cleanup', 'history');
    expect(history.map((r) => r.dry_run).sort()).toEqual([false, true]);
    await browser.waitUntil(async () => (await $$('[data-testid="cleanup-run"]')).length === 2, {
      timeoutMsg: 'the history does not show both runs',
    });
  });

  it('adds a folder target, backs up, and the runs and the dashboard follow', async () => {
    const drive = path.join(process.env.KURA_E2E_SCRATCH, 'drive');
    fs.mkdirSync(drive);
    await go('#/backups');
    await press(await testid('add-target'));
    await typeInto(await $('dialog[open] input[placeholder="usb-drive"]'), 'usb');
    await typeInto(await $('#target-path'), drive);
    await press(await dialogButton('Add and test'));
    await (await testid('add-target-result')).waitForDisplayed({ timeout: 30000 });
    await press(await dialogButton('Done'));
    expect(kura('backup', 'target', 'list').map((t) => t.name)).toEqual(['usb']);

    const card = await $('[data-testid="target-card"][data-target="usb"]');
    await press(await card.$('[data-testid="backup-now"]'));
    await $('[data-testid="run-row"][data-result="ok"]').waitForDisplayed({ timeout: 60000 });
    const backups = kura('backup', 'list', 'usb');
    expect(backups.length).toBe(1);
    expect(fs.readdirSync(path.join(drive, 'backups')).length).toBe(1);
    expect(await (await testid('backup-state')).getAttribute('data-state')).toBe('ok');

    await go('#/dashboard');
    const last = await testid('dashboard-last-backup');
    await last.waitForDisplayed();
    // A backup that finished moments ago, not "none yet".
    expect(await last.getText()).toMatch(/just now|minute/);
  });

  it('restores one project from the backup through the wizard', async () => {
    await go('#/backups');
    const card = await $('[data-testid="target-card"][data-target="usb"]');
    await press(await card.$('[data-testid="restore-target"]'));
    const wizard = await testid('restore-wizard');
    await wizard.waitForDisplayed();
    // Backup: the only one, newest first.
    await press(await $('dialog[open] [data-backup] input'));
    await press(await testid('restore-next'));
    await press(await $('dialog[open] [data-choice="site"] input'));
    await press(await testid('restore-next'));
    const dest = path.join(process.env.KURA_E2E_SCRATCH, 'restored-site');
    await typeInto(await $('#restore-destination'), dest);
    await press(await testid('restore-next'));
    await (await testid('restore-go')).waitForDisplayed();
    await press(await testid('restore-go'));
    await (await testid('restore-report')).waitForDisplayed({ timeout: 60000 });
    expect(tree(dest)).toEqual(tree(source));
  });
});
