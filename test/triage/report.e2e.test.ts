// `vfio-replay report` end to end: the built CLI writes the page, a real headless Chromium opens it
// from file://, and the test checks what is rendered, clicks through, navigates by keyboard, and
// saves a screenshot: to its temp dir by default, to docs/img/report-seed002.png (the one
// docs/triage.md shows) only with UPDATE_SCREENSHOTS=1, so a test run leaves the worktree clean.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repo, run } from '../e2e/cli.js';
import { needsTool } from '../helpers/needs-tool.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

const seed2 = 'traces/seeds/002-guest-d3hot-mmio/guest-d3hot-mmio.pb';
describe.runIf(needsTool('chromium'))('report in headless Chromium (built CLI)', { timeout: 180_000 }, () => {
  let ctx: BrowserContext;
  let page: Page;
  const dir = mkdtempSync(join(tmpdir(), 'vfio-report-'));
  const html = join(dir, 'seed002.html');
  const requests: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    assertBuilt();
    const r = run(['report', seed2, '--vmm', 'openvmm-3336', '--compare', 'openvmm-3609', '-o', html], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*seed002\.html \(9 events\)\n$/);
    ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'vfio-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
    });
    page = await ctx.newPage();
    page.on('request', (q) => requests.push(q.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(pathToFileURL(html).href);
  }, 120_000);

  afterAll(async () => {
    await ctx?.close();
  });

  it('is self-contained: one file, no request but the page itself, no script error', () => {
    expect(requests).toEqual([pathToFileURL(html).href]);
    expect(errors).toEqual([]);
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('renders the timeline with outcome badges, both selections side by side, and the lanes', async () => {
    expect(await page.title()).toBe('vfio-replay report: seed 002: guest PMCSR D3hot, then guest MMIO');
    expect(await page.locator('#summary').innerText()).toContain(
      'linux-6.19+openvmm-3336 compared with linux-6.19+openvmm-3609 · 9 events, 0 divergences from the observation, 6 events differ under linux-6.19+openvmm-3609',
    );
    expect(await page.locator('#events tbody tr').count()).toBe(9);
    const row4 = page.locator('#events tbody tr[data-i="4"]');
    expect(await row4.locator('.badge').allInnerTexts()).toEqual(['vmm-exit KVM_RUN -EFAULT', 'unassigned val=0xffffffff']);
    expect(await row4.locator('.badge.k-vmm-exit').count()).toBe(1);
    expect(await page.locator('#events tbody tr.diff').count()).toBe(6);
    const lanes = page.locator('svg.lanes');
    expect(await lanes.count()).toBe(2);
    const names = await lanes.first().locator('.lane-name').allTextContents();
    expect(names).toEqual(['power', 'MEM decode', 'IO decode', 'BAR0 mmap', 'BAR1 mmap', 'BAR3 mmap', 'guest BAR0']);
    // Under #3336 BAR0 is zapped at the D3hot write and stays so; under #3609 the guest mapping goes.
    const titles = await lanes.first().locator('rect.run title').allTextContents();
    expect(titles).toContain('power: D3hot (#3..#8)');
    expect(titles).toContain('BAR0 mmap: zapped (#3..#8)');
    const other = await lanes.nth(1).locator('rect.run title').allTextContents();
    expect(other).toContain('guest BAR0: unmapped (#3..#4)');
  });

  it('keyboard and clicks: n goes to each difference, a click shows the rule and the switches behind it', async () => {
    // The page opens on the first marked event; n walks the marks in order and wraps.
    expect(await page.locator('tr.sel').getAttribute('data-i')).toBe('3');
    await page.keyboard.press('n');
    expect(await page.locator('tr.sel').getAttribute('data-i')).toBe('4');
    await page.keyboard.press('p');
    expect(await page.locator('tr.sel').getAttribute('data-i')).toBe('3');
    await page.keyboard.press('j');
    expect(await page.locator('#where').innerText()).toBe('#4 of 9');
    await page.locator('#events tbody tr[data-i="4"]').click();
    const detail = page.locator('#detail');
    const text = await detail.innerText();
    expect(text).toContain('Event #4 (linux-6.19+openvmm-3336)');
    expect(await detail.locator('dd.rule').first().innerText()).toBe('vmm.direct-map-stale');
    expect(text).toContain('vmm: since openvmm-3336 (under openvmm-3248: all-ones len=4 [vmm.trapped.error-all-ones])');
    expect(text).toContain('directMapBars: false -> true');
    expect(text).toContain('kernel: since linux-5.19');
    expect(text).toContain('d3hotBlocksAccess: false -> true');
    expect(text).toContain('Differs under (linux-6.19+openvmm-3609)');
    expect(text).toContain('vmm: since openvmm-3609');
    expect(text).toContain('unmapWhenNotD0: false -> true');
    // A click on a lane selects that event's column.
    const svg = page.locator('svg.lanes').first();
    const box = (await svg.boundingBox())!;
    const data = JSON.parse(await page.locator('#report-data').textContent() ?? '{}') as { col: number; laneX: number };
    await page.mouse.click(box.x + data.laneX + data.col * 7.5, box.y + box.height / 2);
    expect(await page.locator('tr.sel').getAttribute('data-i')).toBe('7');
    expect(await page.locator('rect.cursor').first().getAttribute('x')).toBe(String(data.laneX + 7 * data.col));
    await page.locator('#events tbody tr[data-i="4"]').click();
    const shot = process.env.UPDATE_SCREENSHOTS === '1' ? join(repo, 'docs/img/report-seed002.png') : join(dir, 'report-seed002.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
  });

  it('bad input: one located line, exit 2, nothing written', () => {
    const out = join(dir, 'bad.html');
    const cases: [string[], RegExp][] = [
      [['report', seed2, '-o', join(dir, 'x.txt')], /-o wants an \.html path/],
      [['report', seed2, '--compare', 'linux-9', '-o', out], /--compare wants a kernel version, a VMM version or KERNEL\+VMM: "linux-9" is unknown kernel/],
      [['report', seed2, '--kernel', 'linux-1', '-o', out], /unknown kernel version "linux-1"/],
      [['report', join(dir, 'none.pb'), '-o', out], /none\.pb: /],
    ];
    for (const [args, msg] of cases) {
      const r = run(args, { cwd: repo });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n').filter((l) => !l.includes('warning:'))).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
    expect(() => readFileSync(out)).toThrow();
  });
});
