// What the window tests share: the `kura` CLI on the test's vault, and the few gestures every
// spec makes in the real window (WebdriverIO's `browser` and `$` are globals of the runner).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The repository's root. */
export const root = path.resolve(import.meta.dirname, '../..');

/** `kura --json ARGS` on the test's vault, parsed. */
export function kura(...args) {
  const bin = path.join(root, 'target/debug/kura');
  const out = execFileSync(bin, ['--vault', process.env.KURA_HOME, '--json', ...args], { encoding: 'utf8' });
  return JSON.parse(out);
}

/** Shows a view by its route. */
export async function go(hash) {
  await browser.execute((h) => { window.location.hash = h; }, hash);
}

/** Clicks through the element's own handler (a toast passing over it must not make a test flaky). */
export async function press(el) {
  await el.waitForDisplayed();
  await browser.execute((e) => e.click(), el);
}

/** Replaces the text of a field, given as an element or a selector. */
export async function typeInto(field, text) {
  const el = typeof field === 'string' ? await $(field) : field;
  await el.waitForDisplayed();
  await el.clearValue();
  await el.setValue(text);
}

/** The element of a `data-testid`. */
export const testid = (id) => $(`[data-testid="${id}"]`);

/** A button of the open dialog, by its text. */
export const dialogButton = (text) => $('dialog[open]').$(`button=${text}`);
