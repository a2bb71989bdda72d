// Every rule id the kernel model can emit has a unit test named after it.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../../src/model/kernel');
const TESTS = import.meta.dirname;

// Rule ids built from a template in the source (area prefix + suffix, or a barmap rule re-homed to mmap).
const TEMPLATED = [
  'rdwr.bar.memory-disabled-eio', 'rdwr.bar.ok', 'rdwr.bar.reaches-disabled-device',
  'rdwr.rom.memory-disabled-eio', 'rdwr.rom.ok', 'rdwr.rom.reaches-disabled-device',
  'config.exp.flr', 'config.exp.flr-not-supported', 'config.af.flr', 'config.af.flr-not-supported',
  'mmap.barmap.request-ebusy', 'mmap.barmap.iomap-enomem', 'mmap.barmap.enable-time-error', 'mmap.barmap.concurrent-first-use-ebusy',
  'sysfs.bind.no-device', 'sysfs.bind.already-bound', 'sysfs.bind.override-mismatch', 'sysfs.bind.probes', 'sysfs.drivers-probe.probes',
];
const PREFIXES_ONLY = new Set(['rdwr.bar', 'rdwr.rom', 'sysfs.bind', 'sysfs.drivers-probe']);

function ruleIds(): string[] {
  const ids = new Set<string>(TEMPLATED);
  for (const f of readdirSync(SRC).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(join(SRC, f), 'utf8');
    for (const m of text.matchAll(/'((?:config|rdwr|fault|mem|mmap|core|dmabuf|intrs|ioeventfd|type1|container|group|kvm|proc|sysfs|iommufd|cdev|open|sriov)\.[a-z0-9.-]+)'/g)) {
      if (!PREFIXES_ONLY.has(m[1]!)) ids.add(m[1]!);
    }
  }
  return [...ids].sort();
}

it('every kernel-model rule has a test named after it', () => {
  const names = new Set<string>();
  for (const f of readdirSync(TESTS).filter((n) => n.endsWith('.test.ts'))) {
    for (const m of readFileSync(join(TESTS, f), 'utf8').matchAll(/\bit\('([^']+)'/g)) names.add(m[1]!);
  }
  const ids = ruleIds();
  expect(ids.length).toBeGreaterThan(150);
  expect(ids.filter((id) => !names.has(id))).toEqual([]);
});
