// Screenshots of the dashboard, a project, its history and a diff, backups, archives, cleanup and
// the storage settings, for the README.
import path from 'node:path';
import { go, press } from '../window.mjs';

const out = path.resolve(import.meta.dirname, '../../../docs/screenshots');

async function shot(name) {
  // Let charts and lists settle, and the toasts fade.
  await browser.pause(800);
  await browser.saveScreenshot(path.join(out, `${name}.png`));
}

describe('README screenshots', () => {
  it('dashboard', async () => {
    await browser.setWindowSize(1400, 900);
    await $('h1=Dashboard').waitForDisplayed({ timeout: 30000 });
    await $('[data-testid="disk-gauge"]').waitForDisplayed();
    await shot('dashboard');
  });

  it('projects', async () => {
    await go('#/projects');
    await $('[data-project="storefront"]').waitForDisplayed();
    await shot('projects');
  });

  it('a project and its history, with a diff', async () => {
    await (await $('[data-project="storefront"]')).$('button=Open').click();
    await $('h1=storefront').waitForDisplayed();
    await $('[data-file="index.html"]').waitForDisplayed();
    await press(await $('[data-file="index.html"] button'));
    await browser.pause(500);
    await shot('project');
    await press(await $('button[role="tab"]*=History'));
    await browser.waitUntil(async () => (await $$('[data-version]')).length >= 3);
    const boxes = await $$('input[aria-label^="Compare version"]');
    await press(boxes[1]);
    await press(boxes[0]);
    await $('[role="region"][aria-label^="Changes in"]').waitForDisplayed();
    await shot('history-diff');
  });

  it('backups', async () => {
    await go('#/backups');
    await $('[data-testid="target-card"][data-target="usb-drive"]').waitForDisplayed();
    await $('[data-testid="run-row"]').waitForDisplayed();
    await shot('backups');
  });

  it('archives', async () => {
    await go('#/archives');
    await $('[data-testid="archive-row"][data-archive="old-landing"]').waitForDisplayed();
    await shot('archives');
  });

  it('cleanup', async () => {
    await go('#/cleanup');
    await press(await $('[data-testid="cleanup-preview-button"]'));
    await $('[data-testid="cleanup-preview"]').waitForDisplayed({ timeout: 30000 });
    await shot('cleanup');
  });

  it('settings', async () => {
    await go('#/settings/storage');
    await $('h1=Settings').waitForDisplayed();
    await $('#settings-storage').waitForDisplayed();
    await shot('settings');
  });
});
