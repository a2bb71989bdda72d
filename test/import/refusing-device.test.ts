// A plain capture of a device that refuses D3hot (the lab's i82559er on a real 6.12 kernel:
// traces/lab/6.12/i82559er/pm-mse.strace + .ioctl-args, the guest's dmesg of that run) imported
// WITHOUT the lab's device traits: the dmesg lines "Refused to change power state" are what tell
// the importer the trait (header device-traits pm-refuses, source dmesg), and the import then
// replays with 0 divergences; without the dmesg, the model assumes a spec-compliant device.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTrace } from '../../src/import/importer.js';
import { replayFile } from '../../src/replay/run.js';
import { encodeTrace, loadTrace } from '../../src/trace/codec.js';
import { repo } from './helpers.js';

const dir = join(repo, 'traces/lab/6.12/i82559er');
const dmesg = join(repo, 'test/fixtures/import/refusing-device/dmesg-6.12-i82559er.txt');
const scratch = mkdtempSync(join(tmpdir(), 'refusing-'));

async function replayed(withDmesg: boolean) {
  const lab = await loadTrace(join(dir, 'pm-mse.pb'));
  const { traits: _lab, ...plain } = lab.header.device; // what a plain capture's snapshot has
  const { trace } = importTrace({
    strace: join(dir, 'pm-mse.strace'),
    ioctlArgs: join(dir, 'pm-mse.ioctl-args'),
    header: { ...lab.header, device: plain },
    ...(withDmesg ? { kernelLog: dmesg } : {}),
    tracerVersion: 't',
  });
  const out = join(scratch, `pm-mse-${withDmesg}.pb`);
  writeFileSync(out, encodeTrace(trace));
  return { trace, sum: await replayFile(out, {}, { event: () => undefined }) };
}

describe('an imported plain capture of a device that refuses D3hot', { timeout: 60_000 }, () => {
  it('replays with 0 divergences once its dmesg is attached: the refusal becomes a header trait', async () => {
    const { trace, sum } = await replayed(true);
    expect(trace.header.device.traits).toMatchObject({ pmRefuses: ['D3hot', 'D1', 'D2'], source: 'dmesg' });
    expect(sum.divergences).toBe(0);
    expect(sum.unsupported).toBe(0);
  });
  it('diverges without it (the model assumes the device reaches D3hot)', async () => {
    const { trace, sum } = await replayed(false);
    expect(trace.header.device.traits).toBeUndefined();
    expect(sum.divergences + sum.deviceNotes).toBeGreaterThan(0);
  });
});
