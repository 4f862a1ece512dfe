// A person's first start of the window (no per-user settings yet): a bar asks whether Kura
// should start at login, without covering anything; the answer writes the XDG autostart entry
// and is asked once. On this desktop no tray shows (no StatusNotifierWatcher on the bus), so the
// window then says once how to get one. Settings › App shows the entry's real state and turns it
// off and on, and keeps the theme, the notification switches and the editor; Settings › Logs
// shows the app's log.
import fs from 'node:fs';
import path from 'node:path';
import { go, press, root, testid } from '../window.mjs';

const entry = () => path.join(process.env.XDG_CONFIG_HOME, 'autostart/kura.desktop');
const shots = process.env.KURA_E2E_SHOTS;

describe('The first start of the window', () => {
  it('asks once whether to start at login, beside a working window', async () => {
    const banner = await testid('first-run-banner');
    await banner.waitForDisplayed({ timeout: 30000 });
    expect(await banner.getText()).toContain('Start Kura when you log in?');
    expect(await banner.getText()).toContain('Backups and automatic versions then run after a restart.');
    // It covers nothing: the view below is there and works.
    await $('h1=Dashboard').waitForDisplayed();
    await go('#/projects');
    await $('h1=Projects').waitForDisplayed();
    if (shots) await browser.saveScreenshot(path.join(shots, 'first-run-banner.png'));
    expect(fs.existsSync(entry())).toBe(false);
  });

  it('"Start at login" writes the autostart entry that starts this app hidden', async () => {
    await press(await $('button=Start at login'));
    await browser.waitUntil(() => fs.existsSync(entry()), { timeoutMsg: 'no autostart entry written' });
    const text = fs.readFileSync(entry(), 'utf8');
    expect(text).toContain(`\nExec=${path.join(root, 'target/debug/kura-desktop')} --hidden\n`);
    await (await testid('first-run-banner')).waitForDisplayed({ reverse: true });
    const settings = fs.readFileSync(path.join(process.env.XDG_CONFIG_HOME, 'kura/app.toml'), 'utf8');
    expect(settings).toContain('start_at_login_asked = true');
  });

  it('then says once how to get a tray, as this desktop shows none', async () => {
    const hint = await testid('tray-hint');
    await hint.waitForDisplayed();
    expect(await hint.getText()).toContain('gnome-shell-extension-appindicator');
    if (shots) await browser.saveScreenshot(path.join(shots, 'tray-hint.png'));
    await press(await hint.$('button=Got it'));
    await hint.waitForDisplayed({ reverse: true });
    await browser.waitUntil(() => fs.readFileSync(path.join(process.env.XDG_CONFIG_HOME, 'kura/app.toml'), 'utf8').includes('tray_hint_shown = true'), {
      timeoutMsg: 'the hint is not remembered',
    });
  });

  it('is not asked again when the window reloads', async () => {
    await browser.refresh();
    await $('h1=Projects').waitForDisplayed({ timeout: 30000 });
    await browser.pause(500);
    expect(await (await testid('first-run-banner')).isExisting()).toBe(false);
    expect(await (await testid('tray-hint')).isExisting()).toBe(false);
  });

  it('Settings › App shows the entry and turns it off and on', async () => {
    await go('#/settings');
    const section = await testid('settings-app');
    await section.waitForDisplayed();
    expect(await (await testid('start-at-login-state')).getText()).toBe('On');
    if (shots) {
      await browser.execute(() => document.getElementById('settings-app').scrollIntoView({ block: 'start' }));
      await browser.saveScreenshot(path.join(shots, 'settings-app.png'));
    }
    await press(await $('#start-at-login'));
    await browser.waitUntil(() => !fs.existsSync(entry()), { timeoutMsg: 'the entry is still there' });
    await browser.waitUntil(async () => (await (await testid('start-at-login-state')).getText()) === 'Off');
    // Turned off by hand in the desktop's own settings: the switch says so when it next reads it.
    await press(await $('#start-at-login'));
    await browser.waitUntil(() => fs.existsSync(entry()));
    fs.writeFileSync(entry(), fs.readFileSync(entry(), 'utf8').replace('X-GNOME-Autostart-enabled=true', 'X-GNOME-Autostart-enabled=false'));
    await browser.refresh();
    await go('#/settings');
    await browser.waitUntil(async () => (await (await testid('start-at-login-state')).getText()) === 'Off', {
      timeoutMsg: 'an entry turned off in the desktop still reads as on',
    });
  });

  it('Settings › App keeps the theme, the notifications and the editor in app.toml', async () => {
    const settings = () => fs.readFileSync(path.join(process.env.XDG_CONFIG_HOME, 'kura/app.toml'), 'utf8');
    const shown = () => browser.execute(() => document.documentElement.dataset.theme);
    await go('#/settings');
    await (await testid('settings-app')).waitForDisplayed();
    await press(await (await testid('theme')).$('label*=Dark'));
    await browser.waitUntil(() => settings().includes('theme = "dark"'), { timeoutMsg: 'the theme is not saved' });
    expect(await shown()).toBe('dark');
    if (shots) {
      await browser.execute(() => document.getElementById('settings-app').scrollIntoView({ block: 'start' }));
      await browser.saveScreenshot(path.join(shots, 'settings-app-dark.png'));
    }
    await press(await $('input[data-notice="quotas"]'));
    await browser.waitUntil(() => /\[notifications\][^[]*quotas = false/.test(settings()), { timeoutMsg: 'the notification switch is not saved' });
    await (await $('#editor')).selectByAttribute('value', 'system');
    await browser.waitUntil(() => settings().includes('editor = "system"'), { timeoutMsg: 'the editor is not saved' });
    // Read back from app.toml, not from what the page remembers.
    await browser.execute(() => localStorage.clear());
    await browser.refresh();
    await go('#/settings');
    await (await testid('settings-app')).waitForDisplayed({ timeout: 30000 });
    await browser.waitUntil(async () => (await shown()) === 'dark', { timeoutMsg: 'the saved theme is not shown' });
    expect(await (await $('input[data-notice="quotas"]')).isSelected()).toBe(false);
    expect(await (await $('input[data-notice="backups"]')).isSelected()).toBe(true);
    expect(await (await $('#editor')).getValue()).toBe('system');
    await press(await (await testid('theme')).$('label*=System'));
    await browser.waitUntil(() => settings().includes('theme = "system"'));
  });

  it('Settings › Logs shows the end of the app log and where it is', async () => {
    const logs = await testid('settings-logs');
    await browser.execute(() => document.getElementById('settings-logs').scrollIntoView({ block: 'start' }));
    expect(await logs.getText()).toContain(process.env.KURA_LOG_DIR);
    const lines = await testid('log-lines');
    await lines.waitForDisplayed();
    // The app logged turning start at login on and off (newest first).
    expect(await lines.getText()).toContain('start at login turned off');
    expect(await lines.getText()).toMatch(/just now|minute/);
    if (shots) await browser.saveScreenshot(path.join(shots, 'settings-logs.png'));
  });
});
