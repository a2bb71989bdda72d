#!/usr/bin/env node
// Summarizes nested-QEMU captures for a human (and for lab/vmm/FINDINGS.md): per run, how the VMM
// ended, what the guest read, which BAR accesses reached the kernel (pread/pwrite on the device fd),
// the SIGBUS address located in the device's BAR mappings, QEMU's mapping / PM trace lines, and
// QEMU's error lines.
//
//   node lab/vmm/summarize.mjs traces/qemu/7.2 [traces/qemu/10.0 ...]   > markdown on stdout
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** strace -xx prints every string as \xNN escapes; turn them back into text. */
export function unhex(s) {
  return s.replace(/(?:\\x[0-9a-f]{2})+/g, (m) => Buffer.from(m.replace(/\\x/g, ''), 'hex').toString('latin1'));
}

const VFIO_SHIFT = 40n;

/** Host-side facts from an strace log: BAR-region preads/pwrites, device mmaps, the SIGBUS. */
export function readStrace(text) {
  const out = { barIo: [], mmaps: [], sigbus: null, killed: '' };
  for (const raw of text.split('\n')) {
    const line = unhex(raw);
    const io = /(pread64|pwrite64)\(\d+<anon_inode:\[vfio-device\]>, (".*?"|0x[0-9a-f]+), (\d+), (\d+)\) = (-?\d+)(?: (E[A-Z]+))?/.exec(line);
    if (io) {
      const off = BigInt(io[4]);
      const region = Number(off >> VFIO_SHIFT);
      if (region <= 5) {
        out.barIo.push({
          op: io[1] === 'pread64' ? 'read' : 'write',
          region,
          offset: off & ((1n << VFIO_SHIFT) - 1n),
          len: Number(io[3]),
          ret: Number(io[5]),
          errno: io[6] ?? '',
          data: io[2].startsWith('"') ? Buffer.from(io[2].slice(1, -1), 'latin1').toString('hex') : '',
        });
      }
      continue;
    }
    const mm = /mmap\((?:NULL|0x[0-9a-f]+), (\d+), [A-Z_|]+, [A-Z_|]+, \d+<anon_inode:\[vfio-device\]>, (0x[0-9a-f]+|0)\) = (0x[0-9a-f]+)/.exec(line);
    if (mm) {
      const off = BigInt(mm[2]);
      out.mmaps.push({ region: Number(off >> VFIO_SHIFT), offset: off & ((1n << VFIO_SHIFT) - 1n), length: BigInt(mm[1]), addr: BigInt(mm[3]) });
      continue;
    }
    const sb = /--- SIGBUS \{si_signo=SIGBUS, si_code=(\w+), si_addr=(0x[0-9a-f]+)\}/.exec(line);
    if (sb && !out.sigbus) out.sigbus = { code: sb[1], addr: BigInt(sb[2]), tid: Number(line.trim().split(/\s+/)[0]) };
    const k = /\+\+\+ killed by (SIG\w+)/.exec(line);
    if (k) out.killed = k[1];
  }
  if (out.sigbus) {
    const m = out.mmaps.find((x) => out.sigbus.addr >= x.addr && out.sigbus.addr < x.addr + x.length);
    if (m) out.sigbus.where = `bar${m.region}+0x${(out.sigbus.addr - m.addr + m.offset).toString(16)}`;
  }
  return out;
}

function read(p) {
  return existsSync(p) ? readFileSync(p, 'latin1') : '';
}

export function summarizeRun(dir) {
  const name = basename(dir);
  const status = read(join(dir, 'exit-status')).trim();
  const st = readStrace(read(join(dir, 'strace.log')));
  const serial = read(join(dir, 'serial.txt')).split('\n').filter((l) => l && !l.startsWith('# step') && !l.startsWith('# script') && !l.startsWith('# vfio-inner'));
  const qtrace = read(join(dir, 'qemu.log'))
    .split('\n')
    .filter((l) => /pci_update_mappings_(add|del) vfio-pci|pci_pm_(bad_)?transition|vfio_region_mmaps_set_enabled/.test(l))
    .map((l) => l.replace(/^\d+@\d+\.\d+:/, ''));
  const stderr = read(join(dir, 'stderr.txt')).trim();
  const lines = [`### ${name}`, '', `exit status ${status}${st.killed ? ` (killed by ${st.killed})` : ''}`];
  if (st.sigbus) lines.push(`SIGBUS ${st.sigbus.code} in tid ${st.sigbus.tid} at ${st.sigbus.where ?? '0x' + st.sigbus.addr.toString(16)}`);
  // Guest accesses after the setup (find, bars, placement, the first `mem 1`) are the interesting ones.
  const setupEnd = serial.findIndex((l) => /^guest-cfg-write 0x04 len=2 val=0x1[0-9a-f][2367] =>/.test(l));
  const tail = serial.slice(setupEnd + 1);
  lines.push('', 'guest (after the setup: find, BAR placement, MEM on):', '```', ...tail, '```');
  const barIo = st.barIo.map((x) => `${x.op} bar${x.region}+0x${x.offset.toString(16)} len=${x.len} => ${x.ret < 0 ? x.errno : x.data ? 'data=' + x.data : 'ok'}`);
  lines.push('', `BAR accesses that reached the kernel (pread/pwrite): ${barIo.length ? '' : 'none'}`);
  if (barIo.length) lines.push('```', ...barIo, '```');
  const late = qtrace.filter((l) => !/0xfe[bc][0-9a-f]{4}|0xc000\+/.test(l) || /pci_pm/.test(l));
  if (late.length) lines.push('', 'QEMU trace (mapping/PM):', '```', ...qtrace.slice(-16), '```');
  if (stderr) lines.push('', 'QEMU stderr:', '```', ...stderr.split('\n').slice(0, 8), '```');
  return lines.join('\n');
}

export function summarizeVersionDir(dir) {
  const runs = readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isDirectory() && existsSync(join(dir, n, 'exit-status')))
    .sort();
  return [`## QEMU ${basename(dir)}`, '', ...runs.map((r) => summarizeRun(join(dir, r)) + '\n')].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const d of process.argv.slice(2)) console.log(summarizeVersionDir(d));
}
