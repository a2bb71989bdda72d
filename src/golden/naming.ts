// How the corpus is laid out on disk (documented in docs/ci.md "Adding a trace to the corpus"):
//
//   traces/<folder>/NAME.txt                       the text twin (reviewable source)
//   traces/<folder>/NAME.pb                        the binary trace (what is replayed)
//   traces/<folder>/NAME.versions                  the listing: one model version a line, each
//                                                  `KERNEL` or `KERNEL+VMM`; `#` comments
//   traces/<folder>/NAME@KERNEL[+VMM].golden       one golden per listed line
//
// A trace is "listed for checking" exactly when NAME.versions names it. NAME may not contain '@';
// version ids may contain '@' (series versions like `barmap-at-enable@v3`) but never '+'.

import { basename, dirname, join } from 'node:path';
import type { ModelSelection } from '../replay/engine.js';

export const GOLDEN_EXT = '.golden';
export const LISTING_EXT = '.versions';

export function selectionToken(sel: ModelSelection): string {
  return sel.vmm === null ? sel.kernel : `${sel.kernel}+${sel.vmm}`;
}

/** `linux-6.19+openvmm-3609` -> selection; null when malformed. */
export function parseSelectionToken(token: string): ModelSelection | null {
  const t = token.trim();
  if (t === '' || /\s/.test(t)) return null;
  const plus = t.indexOf('+');
  if (plus < 0) return { kernel: t, vmm: null };
  const kernel = t.slice(0, plus);
  const vmm = t.slice(plus + 1);
  if (kernel === '' || vmm === '' || vmm.includes('+')) return null;
  return { kernel, vmm };
}

/** NAME of a trace file path (without .pb / .txt). */
export function traceName(tracePath: string): string {
  return basename(tracePath).replace(/\.(pb|txt)$/, '');
}

export function goldenPathFor(dir: string, name: string, sel: ModelSelection): string {
  return join(dir, `${name}@${selectionToken(sel)}${GOLDEN_EXT}`);
}

export function listingPathFor(dir: string, name: string): string {
  return join(dir, `${name}${LISTING_EXT}`);
}

/** Split a golden path into its folder, trace NAME and selection token; null if not a golden name. */
export function parseGoldenPath(path: string): { dir: string; name: string; token: string } | null {
  const file = basename(path);
  if (!file.endsWith(GOLDEN_EXT)) return null;
  const stem = file.slice(0, -GOLDEN_EXT.length);
  const at = stem.indexOf('@');
  if (at <= 0 || at === stem.length - 1) return null;
  return { dir: dirname(path), name: stem.slice(0, at), token: stem.slice(at + 1) };
}
