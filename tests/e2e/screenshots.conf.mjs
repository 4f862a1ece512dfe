// Takes the README's screenshots of the real window on the demo vault that
// scripts/screenshots.sh makes (KURA_E2E_VAULT names it).
import { config as base } from './wdio.conf.mjs';

export const config = { ...base, specs: ['./screenshots/**/*.mjs'] };
