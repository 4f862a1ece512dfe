// The theme: light, dark, or as the system says (following its changes). The choice is kept in
// this browser's storage, so the first paint has it; in the window, Settings › App saves it with
// the app's settings (app.toml) as well, and what is saved there wins once it is read.

import type { Theme } from "./api/types";

const KEY = "kura.theme";
const dark = typeof window !== "undefined" ? window.matchMedia("(prefers-color-scheme: dark)") : null;
let chosen: Theme = "system";

function paint() {
  const isDark = chosen === "dark" || (chosen === "system" && dark?.matches === true);
  document.documentElement.dataset.theme = isDark ? "dark" : "light";
}

dark?.addEventListener("change", paint);

/** The theme chosen in this browser before (or "system"). */
export function savedTheme(): Theme {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(KEY);
  } catch {
    // Storage refused (a private window, say): the system's theme.
  }
  return saved === "light" || saved === "dark" ? saved : "system";
}

/** Shows `theme` now and remembers it in this browser. */
export function applyTheme(theme: Theme) {
  chosen = theme;
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    // Not remembered here; still shown.
  }
  paint();
}

/** The theme shown now. */
export function currentTheme(): Theme {
  return chosen;
}
