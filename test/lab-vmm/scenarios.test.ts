// Every lab scenario script must run to its end on an emulated e1000e (where nothing kills the VMM):
// a typo in a script would otherwise only show up as a `# error` line in a 20-minute lab run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without type declarations
import { DEVICES, SCENARIOS, VARIANTS, runName } from '../../lab/vmm/scenarios.mjs';
import { needsTool } from '../helpers/needs-tool.js';
import { runInner } from './inner-guest.js';

interface Scenario { name: string; what: string; script: string }
interface Device { qemuDevice: string; id: string; scenarios: Scenario[]; variants: string[] }

describe('lab/vmm scenarios', () => {
  it('have unique names and distinct run names per variant', () => {
    const names = (SCENARIOS as Scenario[]).flatMap((s) => (VARIANTS as string[]).map((v) => runName(s.name, v) as string));
    expect(new Set(names).size).toBe(names.length);
    expect(runName('d3hot-read', 'mmap')).toBe('d3hot-read');
    expect(runName('d3hot-read', 'no-mmap')).toBe('d3hot-read.no-mmap');
  });

  it('every device has scenarios, variants the outer init knows, and run names no other device uses', () => {
    const init = readFileSync(join(import.meta.dirname, '../../lab/vmm/outer-init.sh'), 'utf8');
    const all: string[] = [];
    for (const d of Object.values(DEVICES as Record<string, Device>)) {
      expect(d.scenarios.length).toBeGreaterThan(0);
      for (const v of d.variants.filter((x) => x !== 'mmap')) expect(init).toContain(`[ "$variant" = "${v}" ] && X=`);
      for (const s of d.scenarios) expect(s.script.startsWith(`find ${d.id};`)).toBe(true);
      all.push(...d.scenarios.flatMap((s) => d.variants.map((v) => runName(s.name, v) as string)));
    }
    expect(new Set(all).size).toBe(all.length);
  });

  // Each scenario boots the inner guest (gcc -m32, ld) on the host's QEMU.
  describe.runIf(needsTool('qemu-system-x86_64', 'gcc', 'ld'))('on an emulated e1000e', () => {
    for (const s of SCENARIOS as Scenario[]) {
      it(`${s.name} runs to the end`, () => {
        const r = runInner(s.script);
        expect(r.lines.filter((l) => l.startsWith('# error'))).toEqual([]);
        expect(r.lines[r.lines.length - 1]).toBe('# exit 0x0');
        expect(r.status).toBe(1);
        // Every access line carries its outcome (nothing died here).
        for (const l of r.lines) if (l.startsWith('guest-')) expect(l).toContain('=>');
      });
    }
    // The other devices' scenarios on the same device emulated on the host (nvme: BAR2 is not there, reads 0).
    for (const [name, d] of Object.entries(DEVICES as Record<string, Device>).filter(([n]) => n !== 'e1000e')) {
      for (const s of d.scenarios) {
        it(`${name} ${s.name} runs to the end`, () => {
          const r = runInner(s.script, d.qemuDevice);
          expect(r.lines.filter((l) => l.startsWith('# error'))).toEqual([]);
          expect(r.lines[r.lines.length - 1]).toBe('# exit 0x0');
          for (const l of r.lines) if (l.startsWith('guest-')) expect(l).toContain('=>');
        });
      }
    }
  });
});
