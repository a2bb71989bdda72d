import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { renderGolden } from '../../src/golden/generate.js';
import { replayMatchesGolden } from '../../src/vitest/index.js';

const trace = fileURLToPath(new URL('../../traces/seeds/004-mse-live-mappings/mse-live-mappings.pb', import.meta.url));

async function freshGolden(): Promise<string> {
  const g = join(mkdtempSync(join(tmpdir(), 'vfio-vitest-')), 'mse-live-mappings@linux-5.8.golden');
  writeFileSync(g, (await renderGolden(trace, g, { kernel: 'linux-5.8', vmm: null })).text);
  return g;
}

describe('vfio-replay/vitest', () => {
  test('toReplayAs passes on a matching golden', async () => {
    await expect(trace).toReplayAs(await freshGolden());
  });
  test('a mismatch explains itself: first difference, rule, unified diff, fix command', async () => {
    const g = await freshGolden();
    const text = readFileSync(g, 'utf8');
    writeFileSync(g, text.replace(/(#0007 host {2}region-read bar0\+0x8 len=4 +=> )-EIO \[[^\]]+\]/, '$1ok ret=4 [rdwr.bar.ok]'));
    const r = await replayMatchesGolden(trace, g);
    expect(r.pass).toBe(false);
    const msg = r.message();
    expect(msg).toContain('first difference at event #0007 (rule now rdwr.bar.memory-disabled-eio, golden had rdwr.bar.ok)');
    expect(msg).toContain('+#0007 host  region-read bar0+0x8 len=4');
    expect(msg).toContain(`fix (if the new outcome is right): npx vfio-replay check --update ${g}`);
    await expect(expect(trace).toReplayAs(g)).rejects.toThrow(/first difference at event #0007/);
  });
  test('a missing golden fails (and is not written) unless VFIO_REPLAY_UPDATE=1 outside CI', async () => {
    const g = join(mkdtempSync(join(tmpdir(), 'vfio-vitest-')), 'mse-live-mappings@linux-5.8.golden');
    const r = await replayMatchesGolden(trace, g);
    expect(r.pass).toBe(false);
    expect(r.message()).toContain('does not exist');
    expect(existsSync(g)).toBe(false);
  });
  test('a golden name without versions is refused', async () => {
    const r = await replayMatchesGolden(trace, '/tmp/nothing.golden');
    expect(r.pass).toBe(false);
    expect(r.message()).toContain('not a golden name');
  });
});
