// `vfio-replay versions [--json]`: every modeled kernel version (releases, then each patch series
// on its base, stable branches on theirs), the kernel-bug catalog and every VMM version, with the behavior switches and where each comes from.
import type { Command } from 'commander';
import { Out } from './output.js';
import { KERNEL_BUGS } from '../model/versions/kernel-bugs.js';
import { LIVE_WRITE, VFIO_PCI_MODULE_PARAMS } from '../model/versions/module-params.js';
import { CMDLINE_ITEMS } from '../model/kernel/host-config.js';
import { PAGE_SIZE_RULES, PAGE_SIZES } from '../model/versions/page-sizes.js';
import { isAncestorOrSelf } from '../model/versions/lineage.js';
import {
  KERNEL_SERIES,
  KERNEL_VERSIONS,
  VMM_VERSIONS,
  switchSource,
  unknownSwitches,
  type KernelVersion,
  type SwitchName,
} from '../model/versions.js';

interface VersionsFlags {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('versions')
    .description('list every modeled kernel and VMM version with its behavior switches and sources')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  npx vfio-replay versions\n  npx vfio-replay versions --json')
    .action(async (flags: VersionsFlags) => {
      // Out stops quietly when the reader goes away (`versions | head`).
      const out = new Out();
      await out.write(flags.json ? JSON.stringify(versionsJson(), null, 2) + '\n' : versionsText());
      await out.flush();
    });
}

function kernelEntry(v: KernelVersion): Record<string, unknown> {
  const switches: Record<string, unknown> = {};
  for (const name of Object.keys(v.switches) as SwitchName[]) {
    const src = switchSource(v.id, name);
    switches[name] = { value: v.switches[name], setBy: src.version, ...(src.source ? { source: src.source } : {}) };
  }
  return {
    id: v.id,
    axis: v.axis,
    ...(v.base ? { base: v.base } : {}),
    ...(v.derivesFrom ? { derivesFrom: v.derivesFrom } : {}),
    title: v.title,
    unknown: unknownSwitches(v),
    switches,
  };
}

export function versionsJson(): Record<string, unknown> {
  return {
    kernel: {
      releases: KERNEL_VERSIONS.filter((v) => v.axis === 'release').map((v) => v.id),
      series: KERNEL_SERIES,
      versions: KERNEL_VERSIONS.map(kernelEntry),
      bugs: KERNEL_BUGS,
      moduleParams: VFIO_PCI_MODULE_PARAMS.map((p) => ({ ...p, releases: releasesWith(p.since) })),
      moduleParamLiveWrite: LIVE_WRITE,
      kernelCmdline: CMDLINE_ITEMS,
      pageSizes: { rules: PAGE_SIZE_RULES, sizes: PAGE_SIZES },
    },
    vmm: VMM_VERSIONS.map((v) => ({ id: v.id, family: v.family, title: v.title, source: v.source, switches: v.switches, notes: v.notes })),
  };
}

/** The modeled releases that descend from `since` (have the parameter). */
function releasesWith(since: string): string[] {
  const baseOf = (id: string): string | undefined => KERNEL_VERSIONS.find((v) => v.id === id)?.base;
  return KERNEL_VERSIONS.filter((v) => v.axis === 'release' && isAncestorOrSelf(since, v.id, baseOf)).map((v) => v.id);
}

function moduleParamLines(): string[] {
  const out = ['vfio-pci module parameters (trace header `module-params vfio_pci.NAME=VALUE`, or `vfio_pci.NAME=` on `kernel-cmdline`):'];
  for (const p of VFIO_PCI_MODULE_PARAMS) {
    const rel = releasesWith(p.since);
    out.push(`${p.name} (mode ${p.mode}; ${rel.length === KERNEL_VERSIONS.filter((v) => v.axis === 'release').length ? 'every modeled release' : `${rel[0]} and later`}): ${p.effect}`);
    out.push(`  rules: ${p.rules === '' ? '(recorded, not read by the model)' : p.rules}  <- [${p.source.evidence}] ${p.source.ref}`);
  }
  out.push(`A run-time write to a 0644 parameter takes effect up to ${LIVE_WRITE.until} only  <- [${LIVE_WRITE.source.evidence}] ${LIVE_WRITE.source.ref}`);
  out.push('Kernel command line words (trace header `kernel-cmdline`):');
  for (const c of CMDLINE_ITEMS) out.push(`  ${c.word}: ${c.effect}${c.modeled ? '' : ' (recorded, not modeled)'}`);
  return out;
}

function fmt(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function versionsText(): string {
  const out: string[] = [];
  out.push('Kernel releases: ' + KERNEL_VERSIONS.filter((v) => v.axis === 'release').map((v) => v.id).join(' < '));
  for (const [name, ids] of Object.entries(KERNEL_SERIES)) out.push(`Series ${name}: ${ids.join(' < ')}`);
  out.push('');
  for (const v of KERNEL_VERSIONS) {
    out.push(`${v.id}${v.base ? ` (on ${v.base})` : ''}: ${v.title}`);
    for (const name of Object.keys(v.switches) as SwitchName[]) {
      const src = switchSource(v.id, name);
      const own = src.version === v.id && src.source !== undefined;
      const where = src.source ? `[${src.source.evidence}] ${src.source.ref}${src.source.note ? ` (${src.source.note})` : ''}` : 'baseline';
      if (own || v.switches[name] === 'unknown') out.push(`  ${name} = ${fmt(v.switches[name])}  <- ${where}`);
    }
    const unknown = unknownSwitches(v);
    if (unknown.length > 0) out.push(`  unknown in this version: ${unknown.join(', ')} (events hinging on them replay as unsupported)`);
  }
  out.push('');
  out.push(...moduleParamLines());
  out.push('');
  out.push(`Host page sizes (trace header \`page-size=\`; rules: ${PAGE_SIZE_RULES}):`);
  for (const p of PAGE_SIZES) out.push(`${p.bytes / 1024}K (${p.where})  <- [${p.evidence}] ${p.note}`);
  out.push('');
  out.push('Kernel-bug catalog (switch = true while the bug is in the kernel; evidence S/P/M):');
  for (const b of KERNEL_BUGS) {
    out.push(`${b.switch} (${b.slug}): ${b.title}`);
    out.push(`  introduced by ${b.introducedBy.commit === '' ? '(no commit: a posted version)' : b.introducedBy.commit} "${b.introducedBy.subject}" [${b.introducedBy.evidence}]`);
    out.push(`  fixed by ${b.fixedBy.commit} "${b.fixedBy.subject}" [${b.fixedBy.evidence}]${b.fixedBy.note ? ` (${b.fixedBy.note})` : ''}`);
    out.push(`  in: ${b.introducedIn.map((p) => `${p.version} [${p.evidence}]`).join(', ')}; fixed in: ${b.fixedIn.map((p) => `${p.version} [${p.evidence}]${p.note ? ` (${p.note})` : ''}`).join(', ')}`);
    out.push(`  trigger: ${b.trigger}`);
    out.push(`  outcome: ${b.outcome}`);
    out.push(`  report: ${b.report}`);
    out.push(`  trace: traces/bugs/${b.fixedBy.commit}-${b.slug}/`);
  }
  out.push('');
  out.push('VMM versions:');
  for (const v of VMM_VERSIONS) {
    out.push(`${v.id} (${v.family}): ${v.title}`);
    out.push(`  source: ${v.source}`);
    for (const [name, value] of Object.entries(v.switches)) {
      const note = v.notes[name as keyof typeof v.notes];
      out.push(`  ${name} = ${fmt(value)}${note ? `  <- ${note}` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}
