// From command-line selectors to the ordered list of version ids bisect walks.
//
// The kernel axis is not one line: releases are ordered (linux-5.7 < linux-5.8 < ...), and each
// patch series is a short branch off its base release (block-disabled-mmio v1..v3 on linux-5.7).
// A list therefore follows a path:
//
//   --series S                 base(S), S@v1 .. S@vlast
//   --kernel-range A..B        releases A .. B
//   --kernel-range A..S@vK     releases A .. base(S), then S@v1 .. S@vK (the path into the branch)
//   --kernel-range S@vJ..S@vK  S@vJ .. S@vK (inside one series)
//   --kernel-range A..B --series S
//                              releases A .. B with S@v1 .. S@vlast spliced right after base(S)
//                              ("5.7..5.8 plus the series": the series is what happened between)
//   --versions a,b,c           exactly these, in this order (`@vN` alone continues the previous
//                              id's series: `linux-7.0,barmap-at-enable@v1,@v2,@v5`)
//
// Stable branches (`linux-6.12.y`: the point releases the bug catalog names, off linux-6.12) are
// branches like a series: `--kernel-range linux-5.8..linux-5.10.50` walks 5.8 .. 5.10, then the
// 5.10.y points up to .50; `--series linux-5.10.y` walks 5.10 and its points.
// A range may enter a series but not leave one (S@v2..linux-7.2): a series version is not an
// ancestor of the next release, so that order would be invented; use --versions to say it.
// The VMM axis is one ordered list per family: --vmm-range A..B (same family), --vmm-family F.

import { UserError } from '../errors.js';
import type { Axis } from './types.js';

export interface SeriesInfo {
  name: string;
  base: string;
  /** Full ids, in order: `barmap-at-enable@v1`, ... */
  versions: readonly string[];
}

/** The version tables bisect needs, in the order bisect needs them. */
export interface VersionCatalog {
  releases: readonly string[];
  series: readonly SeriesInfo[];
  /** VMM families, each ordered oldest first. */
  vmmFamilies: ReadonlyMap<string, readonly string[]>;
}

export interface AxisSelectors {
  series?: string;
  versions?: string;
  kernelRange?: string;
  vmmRange?: string;
  vmmFamily?: string;
}

export interface AxisChoice {
  axis: Axis;
  ids: string[];
  /** How the list was chosen, for the report header (`series barmap-at-enable`, `range linux-5.7..linux-7.2`). */
  label: string;
}

const SERIES_SEP = '@';

/** The series or stable branch (`linux-6.12.y`) a version belongs to; undefined for a mainline release. */
function seriesOf(cat: VersionCatalog, id: string): SeriesInfo | undefined {
  return cat.series.find((x) => x.versions.includes(id));
}

function findSeries(cat: VersionCatalog, name: string): SeriesInfo {
  const s = cat.series.find((x) => x.name === name);
  if (s === undefined)
    throw new UserError(`unknown patch series '${name}' (known: ${cat.series.map((x) => x.name).join(', ')})`);
  return s;
}

export function isKernelId(cat: VersionCatalog, id: string): boolean {
  return cat.releases.includes(id) || seriesOf(cat, id) !== undefined;
}

export function vmmFamilyOf(cat: VersionCatalog, id: string): string | undefined {
  for (const [family, ids] of cat.vmmFamilies) if (ids.includes(id)) return family;
  return undefined;
}

function knownKernel(cat: VersionCatalog): string {
  return [...cat.releases, ...cat.series.map((s) => (s.name.endsWith('.y') ? s.versions.join(', ') : `${s.name}@v1..`))].join(', ');
}

function requireKernel(cat: VersionCatalog, id: string, flag: string): void {
  if (!isKernelId(cat, id)) throw new UserError(`${flag}: unknown kernel version '${id}' (known: ${knownKernel(cat)})`);
}

function splitRange(text: string, flag: string): [string, string] {
  const parts = text.split('..');
  if (parts.length !== 2 || parts[0].trim() === '' || parts[1].trim() === '')
    throw new UserError(`${flag}: expected FROM..TO, got '${text}'`);
  return [parts[0].trim(), parts[1].trim()];
}

function releaseSlice(cat: VersionCatalog, from: string, to: string, flag: string): string[] {
  const a = cat.releases.indexOf(from);
  const b = cat.releases.indexOf(to);
  if (a > b) throw new UserError(`${flag}: '${from}' comes after '${to}'; write the older version first`);
  return cat.releases.slice(a, b + 1);
}

export function kernelRange(cat: VersionCatalog, text: string, flag = '--kernel-range'): string[] {
  const [from, to] = splitRange(text, flag);
  requireKernel(cat, from, flag);
  requireKernel(cat, to, flag);
  const sFrom = seriesOf(cat, from);
  const sTo = seriesOf(cat, to);
  if (sFrom !== undefined) {
    if (sTo === undefined || sTo.name !== sFrom.name)
      throw new UserError(
        `${flag}: a range cannot leave patch series '${sFrom.name}' (a series version is not an ancestor of '${to}'); use --versions to give the order`,
      );
    const a = sFrom.versions.indexOf(from);
    const b = sFrom.versions.indexOf(to);
    if (a > b) throw new UserError(`${flag}: '${from}' comes after '${to}'; write the older version first`);
    return sFrom.versions.slice(a, b + 1);
  }
  if (sTo === undefined) return releaseSlice(cat, from, to, flag);
  if (cat.releases.indexOf(from) > cat.releases.indexOf(sTo.base))
    throw new UserError(`${flag}: '${to}' is based on ${sTo.base}, which comes before '${from}'`);
  return [...releaseSlice(cat, from, sTo.base, flag), ...sTo.versions.slice(0, sTo.versions.indexOf(to) + 1)];
}

function spliceSeries(cat: VersionCatalog, ids: string[], name: string): string[] {
  const s = findSeries(cat, name);
  const at = ids.indexOf(s.base);
  if (at < 0) throw new UserError(`--series ${name}: its base ${s.base} is not in the range (${ids[0]}..${ids[ids.length - 1]})`);
  return [...ids.slice(0, at + 1), ...s.versions, ...ids.slice(at + 1)];
}

function explicitList(cat: VersionCatalog, text: string): { axis: Axis; ids: string[] } {
  const raw = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (raw.length === 0) throw new UserError('--versions: expected a comma-separated list of version ids');
  const ids: string[] = [];
  for (const r of raw) {
    let id = r;
    if (r.startsWith(SERIES_SEP)) {
      const prev = ids.length > 0 ? seriesOf(cat, ids[ids.length - 1]) : undefined;
      if (prev === undefined) throw new UserError(`--versions: '${r}' needs a series version before it (e.g. barmap-at-enable@v1,${r})`);
      id = prev.name + r;
    }
    if (!isKernelId(cat, id) && vmmFamilyOf(cat, id) === undefined)
      throw new UserError(`--versions: unknown version '${id}' (kernel: ${knownKernel(cat)}; vmm: ${[...cat.vmmFamilies.values()].flat().join(', ')})`);
    if (ids.includes(id)) throw new UserError(`--versions: '${id}' is listed twice`);
    ids.push(id);
  }
  const kernel = ids.filter((id) => isKernelId(cat, id));
  if (kernel.length !== 0 && kernel.length !== ids.length)
    throw new UserError('--versions: mixes kernel and VMM versions; bisect one axis at a time (fix the other with --kernel/--vmm)');
  return { axis: kernel.length > 0 ? 'kernel' : 'vmm', ids };
}

function vmmRange(cat: VersionCatalog, text: string): string[] {
  const [from, to] = splitRange(text, '--vmm-range');
  const fa = vmmFamilyOf(cat, from);
  const fb = vmmFamilyOf(cat, to);
  const known = [...cat.vmmFamilies.values()].flat().join(', ');
  if (fa === undefined) throw new UserError(`--vmm-range: unknown VMM version '${from}' (known: ${known})`);
  if (fb === undefined) throw new UserError(`--vmm-range: unknown VMM version '${to}' (known: ${known})`);
  if (fa !== fb) throw new UserError(`--vmm-range: '${from}' (${fa}) and '${to}' (${fb}) are different VMMs; a range stays in one family`);
  const list = cat.vmmFamilies.get(fa) ?? [];
  const a = list.indexOf(from);
  const b = list.indexOf(to);
  if (a > b) throw new UserError(`--vmm-range: '${from}' comes after '${to}'; write the older version first`);
  return list.slice(a, b + 1);
}

/** Resolve the selectors to one ordered list. Exactly one axis may be chosen. */
export function chooseAxis(cat: VersionCatalog, sel: AxisSelectors): AxisChoice {
  const kernelSel = sel.series !== undefined || sel.kernelRange !== undefined;
  const vmmSel = sel.vmmRange !== undefined || sel.vmmFamily !== undefined;
  const given = [kernelSel, vmmSel, sel.versions !== undefined].filter(Boolean).length;
  if (given === 0)
    throw new UserError('say which versions to bisect: --series S, --kernel-range A..B, --versions a,b,c, --vmm-range A..B or --vmm-family F');
  if (given > 1 || (sel.vmmRange !== undefined && sel.vmmFamily !== undefined))
    throw new UserError('bisect walks one list: give --series/--kernel-range, or --versions, or --vmm-range/--vmm-family, not several');

  if (sel.versions !== undefined) {
    const { axis, ids } = explicitList(cat, sel.versions);
    return { axis, ids, label: `versions ${ids.join(',')}` };
  }
  if (kernelSel) {
    if (sel.kernelRange === undefined) {
      const s = findSeries(cat, sel.series as string);
      return { axis: 'kernel', ids: [s.base, ...s.versions], label: `series ${s.name} (base ${s.base})` };
    }
    let ids = kernelRange(cat, sel.kernelRange);
    let label = `range ${sel.kernelRange}`;
    if (sel.series !== undefined) {
      if (ids.some((id) => seriesOf(cat, id) !== undefined))
        throw new UserError('--series cannot be combined with a --kernel-range that already enters a series');
      ids = spliceSeries(cat, ids, sel.series);
      label += ` + series ${sel.series}`;
    }
    return { axis: 'kernel', ids, label };
  }
  if (sel.vmmFamily !== undefined) {
    const list = cat.vmmFamilies.get(sel.vmmFamily);
    if (list === undefined)
      throw new UserError(`--vmm-family: unknown VMM family '${sel.vmmFamily}' (known: ${[...cat.vmmFamilies.keys()].join(', ')})`);
    return { axis: 'vmm', ids: [...list], label: `vmm family ${sel.vmmFamily}` };
  }
  const ids = vmmRange(cat, sel.vmmRange as string);
  return { axis: 'vmm', ids, label: `vmm range ${sel.vmmRange}` };
}

/** Short form of an id after its predecessor: `barmap-at-enable@v3` after `barmap-at-enable@v2` is `@v3`. */
export function shortId(id: string, previous: string | null): string {
  if (previous === null) return id;
  const at = id.indexOf(SERIES_SEP);
  if (at < 0) return id;
  const pat = previous.indexOf(SERIES_SEP);
  return pat >= 0 && previous.slice(0, pat) === id.slice(0, at) ? id.slice(at) : id;
}
