// The usage dashboard's script: plain ES module, no build step. It reads the admin `/usage` and
// `/status` endpoints (same origin) and draws with uPlot. The admin key, when the listener needs
// one, is asked for once and kept in this tab's sessionStorage: it goes in the Authorization
// header, never in a URL (URLs end up in logs and history).
import uPlot from '/dashboard/uPlot.esm.js';

const KEY_ITEM = 'tollgate-admin-key';
/** At most this many subscriptions get their own series (one /usage query each). */
const MAX_SERIES = 8;
const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7b83', '#57606a'];

const $ = (id) => document.getElementById(id);
const charts = [];

class Unauthorized extends Error {}

async function getJson(path) {
  const headers = { accept: 'application/json' };
  const key = sessionStorage.getItem(KEY_ITEM);
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(path, { headers, cache: 'no-store' });
  if (res.status === 401) throw new Unauthorized('admin key needed');
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error(body?.error?.message ?? `${path}: HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

const int = (n) => Number(n).toLocaleString('en-US');
const usd = (n) => Number(n).toFixed(6);
const label = (key) => (key === null ? '(none)' : key);

function fillTable(id, rows, cells) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement('tr');
    for (const [text, cls] of cells(row)) {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    body.append(tr);
  }
}

/** Every UTC day of the period, oldest first (days without traffic are drawn as 0). */
function daysOf(range) {
  const back = { '24h': 1, '7d': 7, '30d': 30, '90d': 90 }[range] ?? 30;
  const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
  return Array.from({ length: back + 1 }, (_, i) => new Date(today - (back - i) * 86_400_000).toISOString().slice(0, 10));
}

function dayToSeconds(day) {
  return Date.parse(`${day}T00:00:00Z`) / 1000;
}

function drawChart(id, days, series, value, fmt) {
  const el = $(id);
  el.replaceChildren();
  const xs = days.map(dayToSeconds);
  const data = [xs, ...series.map((s) => days.map((d) => value(s.byDay.get(d))))];
  const opts = {
    width: Math.max(320, el.clientWidth - 16),
    height: 240,
    series: [{ label: 'Day', value: (_u, v) => (v == null ? '' : new Date(v * 1000).toISOString().slice(0, 10)) }, ...series.map((s, i) => ({ label: s.name, stroke: COLORS[i % COLORS.length], width: 2, points: { show: true, size: 6 }, value: (_u, v) => (v == null ? '' : fmt(v)) }))],
    axes: [{}, { values: (_u, vals) => vals.map(fmt), size: 80 }],
    scales: { x: { time: true }, y: { range: (_u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
  };
  charts.push(new uPlot(opts, data, el));
}

async function load() {
  $('message').hidden = true;
  const range = $('range').value;
  const q = `from=${encodeURIComponent(range)}`;
  let status;
  let bySub;
  let byDep;
  let byDay;
  try {
    [status, bySub, byDep, byDay] = await Promise.all([
      getJson('/status'),
      getJson(`/usage?groupBy=subscription&${q}`),
      getJson(`/usage?groupBy=deployment&${q}`),
      getJson(`/usage?groupBy=day&${q}`),
    ]);
  } catch (err) {
    if (err instanceof Unauthorized) {
      $('content').hidden = true;
      $('key-form').hidden = false;
      $('key').focus();
      return;
    }
    showMessage(err.status === 404 ? 'No usage ledger is configured: set ledger.store in the configuration.' : err.message);
    return;
  }
  $('key-form').hidden = true;

  const totals = bySub.rows.reduce(
    (t, r) => ({ requests: t.requests + r.requests, tokens: t.tokens + r.totalTokens, cost: t.cost + r.costUsd, hits: t.hits + r.cacheHits, throttled: t.throttled + r.throttled, errors: t.errors + r.serverErrors }),
    { requests: 0, tokens: 0, cost: 0, hits: 0, throttled: 0, errors: 0 },
  );
  $('t-requests').textContent = int(totals.requests);
  $('t-tokens').textContent = int(totals.tokens);
  $('t-cost').textContent = usd(totals.cost);
  $('t-cache').textContent = totals.requests === 0 ? '–' : `${((100 * totals.hits) / totals.requests).toFixed(1)} %`;
  $('t-429').textContent = int(totals.throttled);
  $('t-5xx').textContent = int(totals.errors);

  fillTable('subscriptions', bySub.rows, (r) => [[label(r.key)], [int(r.requests)], [int(r.promptTokens)], [int(r.completionTokens)], [int(r.totalTokens)], [usd(r.costUsd)], [int(r.cacheHits)], [int(r.throttled)], [int(r.serverErrors)]]);
  fillTable('deployments', byDep.rows.slice(0, 10), (r) => [[label(r.key)], [int(r.requests)], [int(r.totalTokens)], [usd(r.costUsd)], [int(r.cacheHits)], [int(r.throttled)], [int(r.serverErrors)]]);
  fillTable('backends', status.backends, (b) => [[b.id], [b.health.state, `state-${b.health.state}`], [int(b.health.recent.requests)], [int(b.health.recent.failures)], [int(b.health.trips)], [String(b.health.retryInSeconds)]]);

  // Per-subscription series: the biggest spenders (the rows come sorted by cost), one query each.
  const top = bySub.rows.filter((r) => r.key !== null).slice(0, MAX_SERIES);
  const perSub = await Promise.all(top.map((r) => getJson(`/usage?groupBy=day&${q}&subscription=${encodeURIComponent(r.key)}`)));
  const series = top.map((r, i) => ({ name: r.key, byDay: new Map(perSub[i].rows.map((d) => [d.key, d])) }));
  // The period's days; a day the ledger has outside them (a clock moved) is still drawn.
  const days = [...new Set([...daysOf(range), ...byDay.rows.map((r) => r.key)])].sort();
  for (const c of charts.splice(0)) c.destroy();
  $('content').hidden = false;
  drawChart('chart-tokens', days, series, (d) => (d === undefined ? 0 : d.totalTokens), int);
  drawChart('chart-cost', days, series, (d) => (d === undefined ? 0 : d.costUsd), (v) => Number(v).toFixed(4));
  $('updated').textContent = `updated ${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  document.body.dataset.ready = 'true';
}

function showMessage(text) {
  $('message').textContent = text;
  $('message').hidden = false;
}

function run() {
  document.body.dataset.ready = 'false';
  load().catch((err) => showMessage(err instanceof Unauthorized ? 'The admin key was refused.' : String(err.message ?? err)));
}

$('key-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const key = $('key').value.trim();
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  $('key').value = '';
  run();
});
$('range').addEventListener('change', run);
$('refresh').addEventListener('click', run);
run();
