/**
 * The usage dashboard (`/dashboard` on the admin listener) in headless Chromium (Debian's
 * `/usr/bin/chromium`, installed by scripts/ensure-chromium.sh, driven by playwright-core): a
 * ledger seeded through real requests to the gateway in front of the simulator (two
 * subscriptions, two deployments, a 429 and two 5xx that trip the backend's circuit), then the
 * page must draw its charts and show the same numbers as `/usage` and `/status`. With admin keys,
 * the page asks for the key, keeps it out of the URL, and shows nothing before it has it.
 * Set TOLLGATE_DASHBOARD_SCREENSHOT=1 to (re)write docs/dashboard.png from this run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TEAM_B_KEY = 'tg-team-b-key-0123456789abcdef';
const ADMIN_KEY = 'tg-admin-key-for-the-dashboard-test';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tollgate-dashboard-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface UsageRow {
  key: string | null;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
  cacheHits: number;
  throttled: number;
  serverErrors: number;
}

async function startSeeded(admin: Record<string, unknown>): Promise<TestGateway> {
  const t = await startTestGateway({
    logLevel: 'warn',
    extraNamedValues: { 'team-b-key': { value: TEAM_B_KEY, secret: true }, 'admin-key': { value: ADMIN_KEY, secret: true } },
    backend: { circuitBreaker: { rules: [{ failureCondition: { count: 2, interval: 'PT10M', statusCodeRanges: [{ min: 500, max: 599 }] }, tripDuration: 'PT10M' }] } },
    config: {
      admin: { listen: '127.0.0.1:0', ...admin },
      ledger: { store: 'sqlite', path: join(tempDir(), 'ledger.sqlite'), flushIntervalMs: 20 },
      subscriptions: {
        'team-a': { product: 'starter', keys: ['{{team-key}}'] },
        'team-b': { product: 'starter', keys: ['{{team-b-key}}'] },
      },
    },
  });
  const send = async (key: string, model: string, extra: Record<string, string> = {}): Promise<number> => {
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': key, 'content-type': 'application/json', ...extra },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'What does a toll gate do?' }] }),
    });
    await res.arrayBuffer();
    return res.status;
  };
  try {
    for (let i = 0; i < 3; i++) assert.equal(await send(TEST_KEY, 'gpt-4o', { 'x-sim-completion-tokens': String(40 + i) }), 200);
    for (let i = 0; i < 2; i++) assert.equal(await send(TEAM_B_KEY, 'gpt-4o-mini', { 'x-sim-completion-tokens': '25' }), 200);
    assert.equal(await send(TEST_KEY, 'gpt-4o', { 'x-sim-fail': '429' }), 429);
    // A refused key: a row without a subscription, shown as "(none)".
    assert.equal(await send('tg-wrong-key-000000000000', 'gpt-4o'), 401);
    // Two 5xx: the backend's circuit opens (count 2).
    for (let i = 0; i < 2; i++) assert.equal(await send(TEAM_B_KEY, 'gpt-4o-mini', { 'x-sim-fail': '500' }), 500);
    await t.gw.ledger?.writer.flush();
  } catch (err) {
    await t.close();
    throw err;
  }
  return t;
}

async function openBrowser(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir(), { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1200, height: 900 } });
}

/** Page errors and console errors (a CSP violation is one): the page must have none. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return errors;
}

async function cellsOf(page: Page, table: string): Promise<string[][]> {
  const rows = page.locator(`#${table} tbody tr`);
  const out: string[][] = [];
  for (let i = 0; i < (await rows.count()); i++) out.push(await rows.nth(i).locator('td').allTextContents());
  return out;
}
const num = (text: string | undefined): number => Number((text ?? '').replace(/,/g, ''));

describe('usage dashboard on an open loopback admin listener', () => {
  let t: TestGateway;
  let ctx: BrowserContext;
  before(async () => {
    t = await startSeeded({});
    ctx = await openBrowser();
  });
  after(async () => {
    await ctx?.close();
    await t?.close();
  });

  test('draws tokens and cost per subscription and shows the numbers /usage and /status give', async () => {
    const admin = t.gw.adminUrl as string;
    const usage = async (q: string): Promise<UsageRow[]> => ((await (await fetch(`${admin}/usage?${q}`)).json()) as { rows: UsageRow[] }).rows;
    const bySub = await usage('groupBy=subscription&from=30d');
    const byDep = await usage('groupBy=deployment&from=30d');
    assert.deepEqual(bySub.map((r) => r.key).sort(), [null, 'team-a', 'team-b'].sort());

    const page = await ctx.newPage();
    const errors = watchErrors(page);
    const res = await page.goto(`${admin}/dashboard`);
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'self'/);
    await page.waitForSelector('body[data-ready="true"]');

    // Two charts, each a canvas with one legend entry per subscription.
    assert.equal(await page.locator('#chart-tokens canvas').count(), 1);
    assert.equal(await page.locator('#chart-cost canvas').count(), 1);
    const legend = await page.locator('#chart-tokens .u-legend .u-series .u-label').allTextContents();
    assert.deepEqual(legend.filter((l) => l?.startsWith('team-')).sort(), ['team-a', 'team-b']);
    // The canvas has been painted (not a blank bitmap).
    // (A string: the test compiles without the DOM library.)
    const painted = Number(
      await page.evaluate<number>(`(() => {
        const c = document.querySelector('#chart-tokens canvas');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
        return n;
      })()`),
    );
    assert.ok(painted > 100, `chart canvas painted (${painted} pixels)`);

    // The subscriptions table is /usage?groupBy=subscription, row for row.
    const subs = await cellsOf(page, 'subscriptions');
    assert.equal(subs.length, bySub.length);
    for (const r of bySub) {
      const row = subs.find((c) => c[0] === (r.key ?? '(none)'));
      assert.ok(row, `row for ${r.key}`);
      assert.deepEqual(
        [num(row[1]), num(row[2]), num(row[3]), num(row[4]), row[5], num(row[6]), num(row[7]), num(row[8])],
        [r.requests, r.promptTokens, r.completionTokens, r.totalTokens, r.costUsd.toFixed(6), r.cacheHits, r.throttled, r.serverErrors],
      );
    }
    const teamA = bySub.find((r) => r.key === 'team-a') as UsageRow;
    const teamB = bySub.find((r) => r.key === 'team-b') as UsageRow;
    assert.deepEqual([teamA.requests, teamA.throttled, teamB.requests, teamB.serverErrors], [4, 1, 4, 2]);
    assert.ok(teamA.costUsd > 0 && teamA.totalTokens > 0);

    const deps = await cellsOf(page, 'deployments');
    assert.deepEqual(deps.map((c) => [c[0], num(c[1]), num(c[2])]), byDep.map((r) => [r.key ?? '(none)', r.requests, r.totalTokens]));

    // Tiles: totals over /usage, cache hit rate, 429s, 5xx.
    assert.equal(num(await page.textContent('#t-requests') ?? ''), bySub.reduce((a, r) => a + r.requests, 0));
    assert.equal(num(await page.textContent('#t-429') ?? ''), 1);
    assert.equal(num(await page.textContent('#t-5xx') ?? ''), 2);
    assert.equal(await page.textContent('#t-cache'), '0.0 %');

    // Backend circuits from /status: the simulator's circuit opened after the two 5xx.
    const backends = await cellsOf(page, 'backends');
    assert.deepEqual(backends.find((c) => c[0] === 'sim')?.[1], 'open');

    const shot = process.env['TOLLGATE_DASHBOARD_SCREENSHOT'] === '1' ? join(import.meta.dirname, '..', '..', 'docs', 'dashboard.png') : join(tempDir(), 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('GET /usage?subscription= narrows to one subscription (the per-subscription series); a bad one is 400', async () => {
    const admin = t.gw.adminUrl as string;
    const get = async (q: string): Promise<UsageRow[]> => ((await (await fetch(`${admin}/usage?${q}`)).json()) as { rows: UsageRow[] }).rows;
    const teamB = (await get('groupBy=subscription')).find((r) => r.key === 'team-b') as UsageRow;
    const days = await get('groupBy=day&subscription=team-b');
    assert.equal(days.reduce((a, r) => a + r.totalTokens, 0), teamB.totalTokens);
    assert.equal(days.reduce((a, r) => a + r.serverErrors, 0), 2);
    assert.deepEqual(await get('groupBy=day&subscription=nobody'), []);
    const bad = await fetch(`${admin}/usage?subscription=`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { param: string } }).error.param, 'subscription');
  });

  test('serves the page, its script and uPlot with a strict CSP and no inline script', async () => {
    const admin = t.gw.adminUrl as string;
    const html = await fetch(`${admin}/dashboard`);
    const text = await html.text();
    assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.doesNotMatch(text, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    for (const [path, type] of [
      ['/dashboard/app.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/uPlot.esm.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/style.css', 'text/css; charset=utf-8'],
      ['/dashboard/uPlot.min.css', 'text/css; charset=utf-8'],
    ] as const) {
      const r = await fetch(`${admin}${path}`);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('content-type'), type, path);
      assert.match(r.headers.get('content-security-policy') ?? '', /^default-src 'self'/);
      assert.ok((await r.text()).length > 100, path);
    }
    // Only the fixed files: nothing else under /dashboard/, and no way out of the folder.
    for (const path of ['/dashboard/nope.js', '/dashboard/../package.json', '/dashboard/%2e%2e/server.ts']) {
      assert.equal((await fetch(`${admin}${path}`)).status, 404, path);
    }
  });
});

describe('usage dashboard behind admin keys', () => {
  let t: TestGateway;
  let ctx: BrowserContext;
  before(async () => {
    t = await startSeeded({ keys: ['{{admin-key}}'] });
    ctx = await openBrowser();
  });
  after(async () => {
    await ctx?.close();
    await t?.close();
  });

  test('asks for the admin key, shows no data before it, and never puts the key in a URL', async () => {
    const admin = t.gw.adminUrl as string;
    assert.equal((await fetch(`${admin}/usage`)).status, 401);
    const bySub = ((await (await fetch(`${admin}/usage?groupBy=subscription&from=30d`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as { rows: UsageRow[] }).rows;

    const page = await ctx.newPage();
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${admin}/dashboard`);
    await page.waitForSelector('#key-form:not([hidden])');
    assert.equal(await page.isHidden('#content'), true);

    await page.fill('#key', 'tg-wrong-admin-key');
    await page.click('#key-form button[type="submit"]');
    await page.waitForSelector('#key-form:not([hidden])');
    assert.equal(await page.isHidden('#content'), true);

    await page.fill('#key', ADMIN_KEY);
    await page.click('#key-form button[type="submit"]');
    await page.waitForSelector('body[data-ready="true"]');
    const subs = await cellsOf(page, 'subscriptions');
    assert.equal(num(subs.find((c) => c[0] === 'team-a')?.[4]), bySub.find((r) => r.key === 'team-a')?.totalTokens);
    assert.ok(urls.length > 5);
    for (const u of urls) assert.ok(!u.includes(ADMIN_KEY) && !u.includes('wrong-admin'), `key in a URL: ${u}`);
    // Kept for this tab only.
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tollgate-admin-key')), ADMIN_KEY);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    await page.close();
  });
});
