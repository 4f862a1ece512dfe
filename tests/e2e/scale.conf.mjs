// Render timings of the real window on a generated vault of 10,000 projects (bench/ui.sh makes
// it and names it in KURA_E2E_VAULT).
import { config as base } from './wdio.conf.mjs';

export const config = { ...base, specs: ['./scale/**/*.mjs'] };
