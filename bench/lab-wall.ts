// The lab's wall time for one kernel's scenario set, from the lab's own records, for the
// model-vs-lab row. In order of preference:
//   1. traces/lab/<k>/timing.json `guestWallMs` (written by lab/run.mjs): milliseconds the QEMU
//      guest ran to execute the scenario set (boot, then every scenario plain and under strace).
//      `totalWallMs` there adds the kernel fetch and the initramfs build; the smaller guest time
//      is used, so the ratio is conservative;
//   2. traces/lab/<k>/kernel.json `wallMs`, the same measure under the name first asked for;
//   3. lab/work/<k>/console.log: the guest's printk timestamp at "reboot: Power down", i.e. the
//      guest's uptime from kernel start to the end of every scenario run. It leaves out QEMU
//      start-up, so it is a LOWER bound of the lab's wall time;
//   4. nothing: the reason is returned instead.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type LabWall = { ms: number; source: string } | { ms: null; reason: string };

export function labWallTime(root: string, kernel: string): LabWall {
  const timing = join(root, 'traces', 'lab', kernel, 'timing.json');
  if (existsSync(timing)) {
    const t = JSON.parse(readFileSync(timing, 'utf8')) as { guestWallMs?: unknown; totalWallMs?: unknown; scenarios?: unknown };
    if (typeof t.guestWallMs === 'number' && t.guestWallMs > 0) {
      const total = typeof t.totalWallMs === 'number' ? `; ${(t.totalWallMs / 1000).toFixed(1)} s with kernel fetch and initramfs build` : '';
      return { ms: t.guestWallMs, source: `traces/lab/${kernel}/timing.json guestWallMs (${String(t.scenarios ?? '?')} scenarios${total})` };
    }
  }
  const meta = join(root, 'traces', 'lab', kernel, 'kernel.json');
  if (existsSync(meta)) {
    const j = JSON.parse(readFileSync(meta, 'utf8')) as { wallMs?: unknown };
    if (typeof j.wallMs === 'number' && j.wallMs > 0) return { ms: j.wallMs, source: `traces/lab/${kernel}/kernel.json wallMs` };
  }
  const consoleLog = join(root, 'lab', 'work', kernel, 'console.log');
  if (existsSync(consoleLog)) {
    const text = readFileSync(consoleLog, 'utf8');
    // The last printk timestamp, preferably the power-down line written after the last scenario.
    const off = /\[\s*(\d+\.\d+)\]\s+reboot: Power down/.exec(text);
    let seconds = off === null ? null : Number(off[1]);
    if (seconds === null) {
      const all = [...text.matchAll(/^\[\s*(\d+\.\d+)\]/gm)];
      if (all.length > 0) seconds = Number(all[all.length - 1][1]);
    }
    if (seconds !== null && text.includes('@@LAB end')) {
      return { ms: seconds * 1000, source: `guest uptime at power-off, lab/work/${kernel}/console.log (lower bound)` };
    }
    return { ms: null, reason: `lab/work/${kernel}/console.log has no complete run with printk timestamps` };
  }
  return { ms: null, reason: `no timing.json guestWallMs, no kernel.json wallMs, no lab/work/${kernel}/console.log` };
}

/**
 * One row per kernel for the random differential campaign (`npm run lab -- --random`), from its
 * merged summaries traces/lab/random/<k>/<device>.json: sequences, events, disagreements found,
 * and how many distinct findings are fixed, explained as emulation artefacts, or left.
 */
export function randomCampaignRows(root: string): { what: string; value: string; target: string; verdict: string }[] {
  const dir = join(root, 'traces', 'lab', 'random');
  if (!existsSync(dir)) return [];
  const rows: { what: string; value: string; target: string; verdict: string }[] = [];
  for (const k of readdirSync(dir).sort()) {
    const kdir = join(dir, k);
    if (!statSync(kdir).isDirectory()) continue;
    let sequences = 0;
    let events = 0;
    let bad = 0;
    let findings = 0;
    let fixed = 0;
    let emu = 0;
    let wall = 0;
    const devices: string[] = [];
    for (const f of readdirSync(kdir).filter((x) => x.endsWith('.json')).sort()) {
      const s = JSON.parse(readFileSync(join(kdir, f), 'utf8')) as {
        device: string;
        sequences: number;
        events: number;
        disagreeingEvents: number;
        guestWallMs: number;
        findings: { status?: string }[];
      };
      devices.push(s.device);
      sequences += s.sequences;
      events += s.events;
      bad += s.disagreeingEvents;
      wall += s.guestWallMs;
      findings += s.findings.length;
      fixed += s.findings.filter((x) => x.status === 'fixed').length;
      emu += s.findings.filter((x) => x.status === 'emu').length;
    }
    const left = findings - fixed - emu;
    rows.push({
      what: `lab random ${k} (${devices.join(', ')})`,
      value: `${sequences} sequences, ${events} events in ${(wall / 60000).toFixed(1)} min of guest time; ${bad} disagreeing events, ${findings} distinct: ${fixed} fixed, ${emu} emulation artefacts, ${left} left`,
      target: '>= 2000 sequences, 0 left',
      verdict: sequences >= 2000 && left === 0 ? 'ok' : 'MISS',
    });
  }
  return rows;
}
