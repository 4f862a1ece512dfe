// The real Kura window, used as a person would: a workspace, an imported folder, a change, a
// version, the diff, a file restored, automatic versions, and the dashboard following along.
// What the window shows is checked against the vault on disk through the `kura` CLI.
import fs from 'node:fs';
import path from 'node:path';
import { go, kura, press, root, typeInto } from '../window.mjs';

describe('Kura in its real window', () => {
  let source;
  let project;

  before(() => {
    source = path.join(process.env.KURA_E2E_SCRATCH, 'site');
    fs.mkdirSync(path.join(source, 'css'), { recursive: true });
    fs.writeFileSync(path.join(source, 'index.html'), '<h1>Hello</h1>\n<p>First words.</p>\n');
    fs.writeFileSync(path.join(source, 'css/site.css'), 'body { margin: 0; }\n');
  });

  it('opens on the dashboard of an empty vault', async () => {
    await $('h1=Dashboard').waitForDisplayed({ timeout: 30000 });
    expect(await $('[data-testid="card-projects"]').getText()).toContain('0 active');
  });

  it('creates a workspace and switches to it', async () => {
    await go('#/workspaces');
    await typeInto('input[aria-label="New workspace name"]', 'clients');
    await $('button=Create workspace').click();
    await $('button=Switch to').waitForDisplayed();
    await $('button=Switch to').click();
    await browser.waitUntil(() => kura('workspace', 'current').name === 'clients', {
      timeoutMsg: 'the vault did not switch to the new workspace',
    });
  });

  it('creates a project from a template', async () => {
    await go('#/projects');
    await $('button*=New project').click();
    await typeInto('form#new-project input[name="name"]', 'notes');
    await $('form#new-project select').selectByAttribute('value', 'backend');
    await $('button=Create project').click();
    await $('h1=notes').waitForDisplayed({ timeout: 30000 });
    await $('[data-file="Cargo.toml"]').waitForDisplayed();
    const created = kura('project', 'show', 'notes');
    expect(created.workspace).toBe('clients');
    expect(created.languages).toEqual(['rust']);
    const history = kura('history', 'notes');
    expect(history.length).toBe(1);
    // The version names the door that made it, and a person rather than "kura@localhost".
    expect(history[0].trigger).toBe('desktop');
    expect(history[0].author).not.toContain('kura@localhost');
  });

  it('imports a folder as a project', async () => {
    await go('#/projects');
    await $('button=Import folder…').click();
    await typeInto('input[aria-label="Folder"]', source);
    // Linked in place: automatic versions are only on for managed folders by default, so the
    // versions below are the ones this test takes.
    await $('input[name="mode"][value="link"]').click();
    await $('button=Import').click();
    await browser.waitUntil(() => kura('project', 'list').length === 2, { timeout: 30000, timeoutMsg: 'the folder was not imported' });
    const listed = kura('project', 'list').filter((p) => p.name === 'site');
    expect(listed.length).toBe(1);
    expect(listed[0].workspace).toBe('clients');
    expect(listed[0].linked).toBe(true);
    project = listed[0];
    // Kura opens the imported project; its files are there.
    await $('h1=site').waitForDisplayed();
    await $('[data-file="index.html"]').waitForDisplayed();
  });

  it('lists the project with its languages', async () => {
    await go('#/projects');
    const row = await $('[data-project="site"]');
    await row.waitForDisplayed();
    expect(await row.getText()).toContain('html');
    await row.$('button=Open').click();
    await $('h1=site').waitForDisplayed();
    await $('[data-file="index.html"]').waitForDisplayed();
  });

  it("offers the project's folder in the file manager, an editor and a terminal, and the rest in a menu", async () => {
    for (const id of ['open-folder', 'open-editor', 'open-terminal']) {
      expect(await $(`[data-testid="${id}"]`).isDisplayed()).toBe(true);
    }
    const more = await $('[data-testid="project-more"]');
    await press(more);
    await $('[role="menu"]').waitForDisplayed();
    expect(await $('[role="menuitem"]=Archive…').isDisplayed()).toBe(true);
    const shots = path.join(root, 'tests/e2e/shots');
    fs.mkdirSync(shots, { recursive: true });
    await browser.saveScreenshot(path.join(shots, 'project-window-menu.png'));
    await browser.keys('Escape');
    await $('[role="menu"]').waitForDisplayed({ reverse: true });
  });

  it('versions a change, shows two versions and their diff', async () => {
    fs.writeFileSync(path.join(project.path, 'index.html'), '<h1>Hello</h1>\n<p>Better words.</p>\n');
    await browser.keys(['Control', 's']);
    const message = await $('form#snapshot input');
    await message.waitForDisplayed();
    await message.setValue('Better words');
    await browser.keys('Enter');
    await browser.waitUntil(() => kura('history', 'site').length === 2, { timeoutMsg: 'the snapshot made no version' });
    await press(await $('button[role="tab"]*=History'));
    await browser.waitUntil(async () => (await $$('[data-version]')).length === 2, { timeoutMsg: 'two versions expected in the timeline' });
    const history = kura('history', 'site');
    expect(history[0].message).toBe('Better words');
    const versions = await $$('[data-version]');
    expect(await versions[0].getAttribute('data-version')).toBe(history[0].short_id);
    const boxes = await $$('input[aria-label^="Compare version"]');
    await press(boxes[1]);
    await press(boxes[0]);
    const diff = await $('[role="region"][aria-label="Changes in index.html"]');
    await diff.waitForDisplayed();
    const text = await browser.execute((e) => e.textContent, diff);
    expect(text).toContain('Better words.');
    expect(text).toContain('First words.');
    expect(kura('history', 'site').length).toBe(2);
  });

  it('restores the file through the confirmation, keeping the unsaved edit as a version', async () => {
    fs.writeFileSync(path.join(project.path, 'index.html'), '<h1>Hello</h1>\n<p>Unsaved words.</p>\n');
    await press(await $('button[role="tab"]*=Files'));
    await press(await $('[data-file="index.html"] button'));
    await browser.waitUntil(async () => (await $$('.preview .history li')).length === 2, { timeoutMsg: 'the file has two versions' });
    // The oldest version of the file: the one imported.
    const restore = await (await $$('.preview .history li'))[1].$('button=Restore');
    await press(restore);
    const explanation = await $('[data-testid="restore-explanation"]');
    await explanation.waitForDisplayed();
    expect(await explanation.getText()).toContain('Kura first keeps the current state as a version');
    await press(await $('button=Restore file'));
    await browser.waitUntil(() => kura('history', 'site').length === 4, { timeoutMsg: 'the restore made no versions' });
    expect(fs.readFileSync(path.join(project.path, 'index.html'), 'utf8')).toBe('<h1>Hello</h1>\n<p>First words.</p>\n');
    const history = kura('history', 'site');
    expect(history.map((v) => v.trigger)).toEqual(['desktop', 'before_restore', 'desktop', 'desktop']);
    // The unsaved edit is in the version taken before the restore.
    const kept = path.join(process.env.KURA_E2E_SCRATCH, 'kept');
    kura('project', 'export', 'site', kept, '--version', history[1].id);
    expect(fs.readFileSync(path.join(kept, 'index.html'), 'utf8')).toContain('Unsaved words.');
  });

  it('takes automatic versions when the folder changes', async () => {
    await go('#/settings');
    const field = await $('[data-setting="snapshots.auto_snapshot"] select');
    await field.waitForDisplayed();
    await field.selectByAttribute('value', 'all');
    await browser.waitUntil(() => kura('config', 'get', 'snapshots.auto_snapshot').value === 'all', { timeoutMsg: 'setting not saved' });
    const before = kura('history', 'site').length;
    fs.writeFileSync(path.join(project.path, 'notes.md'), '# Notes\n');
    await browser.waitUntil(() => kura('history', 'site').length === before + 1, { timeout: 30000, timeoutMsg: 'no automatic version' });
    expect(kura('history', 'site')[0].trigger).toBe('automatic');
  });

  it('shows the new numbers on the dashboard', async () => {
    await go('#/');
    const card = await $('[data-testid="card-projects"]');
    await browser.waitUntil(async () => (await card.getText()).includes('2 active'), { timeoutMsg: 'dashboard did not count the projects' });
    const latest = await $('[data-testid="card-latest"]').getText();
    expect(latest).not.toContain('0 B');
  });

  it('takes a command typed in the command bar', async () => {
    await browser.keys(['Control', 'k']);
    const input = await $('[data-testid="command-input"]');
    await browser.waitUntil(async () => (await browser.execute(() => document.activeElement?.dataset.testid)) === 'command-input', {
      timeoutMsg: 'Ctrl+K did not focus the command bar',
    });
    // setValue types key by key (browser.keys would press every key down before releasing any).
    await input.setValue('create project from-the-bar');
    const preview = await $('[data-testid="command-preview"]');
    await browser.waitUntil(async () => (await preview.isExisting()) && (await preview.getText()).includes("Create the empty project 'from-the-bar'"), {
      timeoutMsg: 'the command bar did not preview the command',
    });
    await browser.keys('Enter');
    await browser.waitUntil(() => kura('project', 'list').some((p) => p.name === 'from-the-bar'), { timeoutMsg: 'the command did not create the project' });
    expect(await input.getValue()).toBe('');
  });
});
