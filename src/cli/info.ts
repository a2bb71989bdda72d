// `vfio-replay info t.pb`: what a trace holds, without printing it: the header, event counts by
// kind, and the fields this reader's schema did not know (a newer trace), streaming.
import type { Command } from 'commander';
import type { TraceEvent, TraceHeader } from '../trace/types.js';
import { openTrace } from '../trace/source.js';
import { totalUnknown } from '../trace/reader.js';
import { toJsonLine } from '../trace/json.js';

interface InfoFlags {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('info')
    .description('summarize a trace: header, event counts by kind, unknown-field counts')
    .argument('<trace>', 'trace file (.pb or .txt)')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  npx vfio-replay info traces/examples/e1000e-bringup.pb')
    .action(async (trace: string, flags: InfoFlags) => {
      await runInfo(trace, flags);
    });
}

/** Event kind for counting; ioctls by op, so `ioctl reset` and `ioctl get-info` count apart. */
function countKey(e: TraceEvent): string {
  return e.kind === 'ioctl' ? `ioctl ${e.op}` : e.kind;
}

/**
 * Header blocks described in full; the rest are only counted. A trace may hold any number of
 * header packets (each a few bytes): keeping them all ran `info` out of memory at 10 million.
 */
export const SHOWN_HEADERS = 16;

async function runInfo(path: string, flags: InfoFlags): Promise<void> {
  const src = await openTrace(path);
  const headers: TraceHeader[] = [];
  let headerCount = 0;
  const counts = new Map<string, number>();
  let firstSeq: bigint | undefined;
  let lastSeq: bigint | undefined;
  let observed = 0;
  for await (const p of src.packets) {
    if (p.type === 'header') {
      if (++headerCount <= SHOWN_HEADERS) headers.push(p.header);
      continue;
    }
    const k = countKey(p.event);
    counts.set(k, (counts.get(k) ?? 0) + 1);
    firstSeq ??= p.event.seq;
    lastSeq = p.event.seq;
    if (p.event.observed !== undefined) observed++;
  }
  const s = src.stats;
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (flags.json) {
    const summary = {
      file: path,
      format: src.text ? 'text' : 'binary',
      bytes: s.bytes,
      packets: s.packets,
      headers: headers.map((h) => ({ ...h, device: { ...h.device, config: undefined, configSize: h.device.config.length } })),
      headerCount,
      events: s.events,
      observed,
      seq: firstSeq === undefined ? null : { first: firstSeq, last: lastSeq },
      counts: Object.fromEntries(sorted),
      unknownEvents: s.unknownEvents,
      unknownFields: Object.fromEntries(s.unknownFields),
    };
    process.stdout.write(toJsonLine(summary) + '\n');
    return;
  }
  const lines: string[] = [];
  lines.push(`file      ${path} (${src.text ? 'text' : 'binary'}, ${s.bytes} bytes, ${s.packets} packets)`);
  headers.forEach((h, i) => {
    const d = h.device;
    const tag = headerCount > 1 ? ` #${i + 1}` : '';
    lines.push(`${('header' + tag).padEnd(9)} format ${h.formatVersion}, source ${h.source}, title ${JSON.stringify(h.title)}`);
    lines.push(`  kernel  ${h.kernelRelease || '-'}; vmm ${h.vmm.name || '-'} ${h.vmm.version || '-'} (${h.vmm.accel}${(h.vmm.options ?? []).map((o) => ' ' + o).join('')}); tracer ${h.tracerVersion || '-'}`);
    const bars = d.bars.map((b) => `bar${b.index} ${b.kind} 0x${b.size.toString(16)}`).join(', ');
    lines.push(`  device  ${d.bdf || '-'} ${d.vendorId.toString(16).padStart(4, '0')}:${d.deviceId.toString(16).padStart(4, '0')}, config ${d.config.length} bytes, ${bars || 'no BARs'}${d.romSize > 0n ? `, rom 0x${d.romSize.toString(16)}` : ''}`);
    lines.push(`  reset   ${d.resetMethods.join(' ') || '-'}; page size ${d.pageSize}; iommu group ${d.iommuGroup}`);
  });
  if (headers.length === 0) lines.push('header    none');
  if (headerCount > headers.length) lines.push(`header    ... ${headerCount - headers.length} more header blocks (the first ${SHOWN_HEADERS} are shown)`);
  const seq = firstSeq === undefined ? '' : `, seq ${firstSeq}..${lastSeq}`;
  lines.push(`events    ${s.events} (${observed} with observed outcomes${seq})`);
  const w = Math.max(0, ...sorted.map(([k]) => k.length));
  for (const [k, n] of sorted) lines.push(`  ${k.padEnd(w)}  ${n}`);
  const unknown = totalUnknown(s);
  lines.push(`unknown   ${unknown} fields, ${s.unknownEvents} events of unknown kinds${unknown > 0 ? ' (written by a newer schema; skipped)' : ''}`);
  for (const [k, n] of s.unknownFields) lines.push(`  ${k}  ${n}`);
  process.stdout.write(lines.join('\n') + '\n');
}
