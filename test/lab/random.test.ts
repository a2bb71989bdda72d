// The random campaign's machinery, without the lab: the grammar is deterministic per (seed, index)
// and only emits what the runner executes, shards partition the sequences, results merge, and
// ddmin finds a 1-minimal failing subsequence with batched tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { parseText } from '../../src/trace/text-parse.js';
import { printText } from '../../src/trace/text-print.js';
import { toOpScript } from '../../src/lab/op-script.js';
import { generateSequence, generateEvents } from '../../src/lab/random/generate.js';
import { ddmin } from '../../src/lab/random/ddmin.js';
import { mergeResults, parseShard, shardIndices, type ShardResult } from '../../src/lab/random/campaign.js';
import { mixSeed, Rng } from '../../src/lab/random/rng.js';
import { profileOf } from '../../src/lab/random/profile.js';
import type { DeviceSnapshot } from '../../src/trace/types.js';

const ROOT = join(import.meta.dirname, '../..');

function device(name: string): DeviceSnapshot {
  const text = `vfio-trace 1\nsource hand-written\nkernel -\nvmm - - unknown\ntracer -\ntitle "d"\n${readFileSync(join(ROOT, 'traces/devices', `${name}.txt`), 'utf8')}`;
  return parseText(text, `${name}.txt`).header.device;
}

const E1000E = device('e1000e');

describe('rng', () => {
  test('the same (seed, index) gives the same numbers; neighbours differ', () => {
    const a = new Rng(mixSeed(1, 7));
    const b = new Rng(mixSeed(1, 7));
    const xs = Array.from({ length: 8 }, () => a.u32());
    expect(Array.from({ length: 8 }, () => b.u32())).toEqual(xs);
    expect(mixSeed(1, 7)).not.toBe(mixSeed(1, 8));
    expect(mixSeed(1, 7)).not.toBe(mixSeed(2, 7));
  });
});

describe('generate', () => {
  test('sequence (seed, index) is the same trace on every call, and its text round-trips', () => {
    const a = printText(generateSequence(E1000E, { seed: 1, index: 42 }));
    expect(printText(generateSequence(E1000E, { seed: 1, index: 42 }))).toBe(a);
    expect(printText(generateSequence(E1000E, { seed: 1, index: 43 }))).not.toBe(a);
    expect(printText(parseText(a, 'r.txt'))).toBe(a);
  });

  test('pinned: seed 1, index 0 on the e1000e', () => {
    // A change of the grammar changes every campaign's sequences: this pins it on purpose.
    const ev = generateEvents(E1000E, { seed: 1, index: 0 });
    expect(ev[0]).toEqual({ kind: 'open' });
    expect(ev.length).toMatchInlineSnapshot(`22`);
    expect(ev.map((e) => e.kind + ('op' in e ? `:${e.op}` : '')).join(' ')).toMatchInlineSnapshot(`"open mmap mmap ioctl:low-power mmap cfg-write cfg-write cfg-write munmap cfg-read cfg-write cfg-write mmap mmap cfg-write munmap mmap ioctl:reset munmap mmap mem-write cfg-read"`);
  });

  test.each(['e1000e', 'rtl8139', 'nvme', 'virtio-net-pci', 'i82559er'])('every event of 300 %s sequences is an op the runner performs', (name) => {
    const dev = device(name);
    for (let i = 0; i < 300; i++) {
      const t = generateSequence(dev, { seed: 5, index: i });
      const s = toOpScript(t);
      expect(s.skipped).toEqual([]);
      expect(t.events[0].kind).toBe('open');
      expect(t.events.length).toBeGreaterThanOrEqual(7);
      expect(t.events.length).toBeLessThanOrEqual(32);
    }
  });

  test('the grammar covers every kind of operation the brief lists', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      for (const e of generateEvents(E1000E, { seed: 3, index: i })) {
        if (e.kind === 'ioctl') seen.add(e.op === 'low-power' ? `low-power:${e.request}` : e.op);
        else if (e.kind === 'cfg-write') seen.add(`cfg-write:${e.offset === 0xcc || e.offset === 0xcd ? 'pmcsr' : e.offset <= 0x05 ? 'command' : e.offset >= 0xa0 && e.offset < 0xa4 ? 'msix' : 'bar'}:${e.data.length}`);
        else seen.add(e.kind);
      }
    }
    for (const k of ['open', 'close', 'cfg-read', 'mmap', 'munmap', 'mem-read', 'mem-write', 'region-read', 'region-write', 'dmabuf',
      'reset', 'hot-reset', 'get-hot-reset-info', 'low-power:entry', 'low-power:entry-with-wakeup', 'low-power:exit', 'dma-buf',
      'get-info', 'get-region-info', 'get-irq-info', 'set-irqs', 'cfg-write:command:1', 'cfg-write:command:2', 'cfg-write:command:4',
      'cfg-write:pmcsr:1', 'cfg-write:pmcsr:2', 'cfg-write:bar:4', 'cfg-write:bar:2', 'cfg-write:bar:1', 'cfg-write:msix:2', 'cfg-write:msix:1'])
      expect(seen, k).toContain(k);
  });

  test('writes through mappings and pwrites into a BAR hit only the scratch register or nothing', () => {
    for (let i = 0; i < 500; i++) {
      for (const e of generateEvents(E1000E, { seed: 9, index: i })) {
        if (e.kind === 'mem-write') expect([e.bar, e.offset]).toEqual([0, 0x2800n]);
        if (e.kind === 'region-write' && e.region === 0 && e.offset < 0x20000n) expect(e.offset).toBe(0x2800n);
        if (e.kind === 'region-write' && e.region === 2) expect(e.offset).toBeGreaterThanOrEqual(0x20n);
      }
    }
  });

  test('the profile finds the e1000e capabilities and a conventional device has none', () => {
    const p = profileOf(E1000E);
    expect([p.pm, p.msi, p.msix?.cap, p.msix?.tableBar, p.msix?.pbaOffset, p.configSize]).toEqual([0xc8, 0xd0, 0xa0, 3, 0x2000, 256]);
    const r = profileOf(device('rtl8139'));
    expect([r.pm, r.msi, r.msix]).toEqual([null, null, null]);
  });
});

describe('shards', () => {
  test('parseShard accepts i/n and refuses the rest with one line', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'x', '1-2', ''])
      expect(() => parseShard(bad)).toThrow(/--shard must be i\/n/);
  });

  test('the shards of any split partition the sequences', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 9 }), (total, n) => {
        const all = Array.from({ length: n }, (_, i) => shardIndices(total, { index: i + 1, count: n })).flat().sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: total }, (_, i) => i));
      }),
    );
  });

  const shard = (seed: number, shardText: string, seqs: [number, string[]][]): ShardResult => ({
    kernel: '6.1',
    release: '6.1.0-57-amd64',
    device: 'e1000e',
    seed,
    total: 10,
    shard: shardText,
    boots: 1,
    guestWallMs: 1000,
    sequences: seqs.map(([index, sigs]) => ({
      index,
      events: 10,
      executed: 9,
      problems: 1,
      disagreements: sigs.map((s, i) => ({ index: i, signature: s, event: 'x', rule: 'r', predicted: 'p', observed: 'o' })),
    })),
  });

  test('results merge: totals add up, a sequence run twice counts once, findings grouped by signature', () => {
    const s = mergeResults([
      shard(1, '1/2', [[0, []], [2, ['A']]]),
      shard(1, '2/2', [[1, ['A', 'B']], [3, []]]),
      shard(1, '2/2', [[1, ['A', 'B']], [3, []]]),
      shard(2, '1/1', [[0, ['B']]]),
    ]);
    expect([s.sequences, s.events, s.executed, s.disagreeingEvents, s.disagreeingSequences, s.boots, s.seeds]).toEqual([5, 50, 45, 4, 3, 4, [1, 2]]);
    expect(s.findings).toEqual([
      { signature: 'A', events: 2, first: '1/1', index: 0 },
      { signature: 'B', events: 2, first: '1/1', index: 1 },
    ]);
    expect(() => mergeResults([shard(1, '1/1', []), { ...shard(1, '1/1', []), kernel: '7.2' }])).toThrow(/cannot merge/);
  });
});

describe('ddmin', () => {
  test('finds the two items a synthetic failure needs, testing each round as one batch', async () => {
    const items = Array.from({ length: 40 }, (_, i) => i);
    const batches: number[] = [];
    const fails = (c: number[]): boolean => c.includes(7) && c.includes(31);
    const r = await ddmin(items, async (cands) => {
      batches.push(cands.length);
      return cands.map(fails);
    });
    expect(r.items).toEqual([7, 31]);
    expect(r.rounds).toBe(batches.length);
    expect(r.tested).toBe(batches.reduce((a, b) => a + b, 0));
    expect(batches.every((n) => n >= 2)).toBe(true);
  });

  test('the result is 1-minimal and keeps order for random monotone failures', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength: 4 }), async (need) => {
        const fails = (c: number[]): boolean => need.every((x) => c.includes(x));
        const r = await ddmin(Array.from({ length: 60 }, (_, i) => i), async (cands) => cands.map(fails));
        expect(r.items).toEqual([...need].sort((a, b) => a - b));
      }),
      { numRuns: 50 },
    );
  });

  test('an order-dependent failure (b after a) shrinks to exactly that pair', async () => {
    const fails = (c: string[]): boolean => {
      const a = c.indexOf('a');
      return a >= 0 && c.indexOf('b', a) > a;
    };
    const items = ['x', 'b', 'y', 'a', 'z', 'w', 'b', 'v'];
    expect((await ddmin(items, async (cands) => cands.map(fails))).items).toEqual(['a', 'b']);
  });

  test('maxRounds bounds the boots and returns the best sequence so far', async () => {
    const r = await ddmin(Array.from({ length: 64 }, (_, i) => i), async (cands) => cands.map((c) => c.includes(5)), { maxRounds: 2 });
    expect(r.rounds).toBe(2);
    expect(r.items).toContain(5);
    expect(r.items.length).toBe(16);
  });
});

describe('device traits from the lab probe', () => {
  const probe = (dev: string) => {
    const p = join(ROOT, 'traces/lab/6.1', dev, 'probe.txt');
    return parseText(readFileSync(p, 'utf8'), p);
  };
  test('i82559er: PMC claims D1/D2/D3hot, every PMCSR request reads back D0 (refused); nvme: FLR, NoSoftRst+, nothing refused', async () => {
    const { deviceTraits, traitsLine } = await import('../../src/lab/traits.js');
    const e = probe('i82559er');
    const t = deviceTraits(e.header.device, e, 'x Refused to change power state from D0 to D3hot\n');
    expect([t.dStates, t.pmRefuses, t.refusedMessages, t.noSoftReset, t.configSize]).toEqual([['D0', 'D1', 'D2', 'D3hot'], ['D1', 'D2', 'D3hot'], 1, false, 256]);
    // The ROM image size comes from the romfile (src/lab/rom-image.ts); only a short one is a trait.
    expect(deviceTraits(e.header.device, e, '', 0x12600).romImage).toBe(0x12600);
    expect(deviceTraits(e.header.device, e, '', Number(e.header.device.romSize)).romImage).toBe(0);
    const n = probe('nvme');
    expect(traitsLine(deviceTraits(n.header.device, n, ''))).toBe(
      'device-traits config-size=4096 pcie=yes pm=yes d-states=D0,D3hot pm-refuses=- refused-msgs=0 no-soft-reset=yes flr=yes reset-methods=flr reset-clears=no msi=no msix=65 rom-image=-',
    );
  });
});
