#!/usr/bin/env bash
# Draws the tray icon's backup states from icons/kura.svg: the logo with a badge in its lower
# right corner. Writes icons/tray/<state>.png (64x64), which src-tauri/tray.rs embeds.
set -euo pipefail
cd "$(dirname "$0")/.."
out=icons/tray
mkdir -p "$out"
badge() { # state, colour, the badge's inner drawing (coordinates of a 1024 canvas)
  local tmp
  tmp=$(mktemp --suffix=.svg)
  sed '$d' icons/kura.svg >"$tmp" # everything but the closing </svg>
  cat >>"$tmp" <<SVG
  <circle cx="770" cy="770" r="250" fill="$2" stroke="#ffffff" stroke-width="56"/>
  $3
</svg>
SVG
  rsvg-convert -w 64 -h 64 "$tmp" -o "$out/$1.png"
  rm -f "$tmp"
}
white='fill="none" stroke="#ffffff" stroke-width="70" stroke-linecap="round" stroke-linejoin="round"'
badge ok '#2e9e5b' "<path d=\"M660 775 L740 855 L890 690\" $white/>"
badge running '#3566d6' "<path d=\"M770 890 V660 M680 745 L770 655 L860 745\" $white/>"
badge failed '#d23c3c' "<path d=\"M770 650 V800\" $white/><circle cx=\"770\" cy=\"885\" r=\"42\" fill=\"#ffffff\"/>"
badge overdue '#d98a12' "<path d=\"M770 660 V775 L855 830\" $white/>"
badge paused '#6b7280' "<path d=\"M715 665 V875 M825 665 V875\" $white/>"
echo "wrote $(ls "$out" | wc -l) icons to $out"
