/**
 * The usage dashboard's static files on the admin listener: `/dashboard` (the page), its script
 * and style sheet (src/admin/dashboard/), and uPlot (the chart library, from node_modules, MIT).
 * No build step: the page is plain HTML and one ES module that reads `/usage` and `/status`.
 *
 * These files hold no data, so they are served before the admin key check (a browser cannot send
 * a header when it opens a page); every number the page shows comes from `/usage` and `/status`,
 * which the script fetches with the admin key the user typed (kept in sessionStorage, never in a
 * URL). A strict CSP (`default-src 'self'`, no inline script or style) goes with every file.
 * The set of files is fixed and read once, on first use: nothing here takes a path from the request.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';

const HERE = join(dirname(fileURLToPath(import.meta.url)), 'dashboard');
const UPLOT_DIST = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

const FILES: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/dashboard': { file: join(HERE, 'index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard/': { file: join(HERE, 'index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: join(HERE, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard/style.css': { file: join(HERE, 'style.css'), type: 'text/css; charset=utf-8' },
  '/dashboard/uPlot.esm.js': { file: join(UPLOT_DIST, 'uPlot.esm.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard/uPlot.min.css': { file: join(UPLOT_DIST, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** The page's CSP: its own files only; `/usage` and `/status` are same-origin fetches. */
export const DASHBOARD_CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const cache = new Map<string, Buffer>();

/** True for the dashboard's static paths (served without an admin key: they hold no data). */
export function isDashboardPath(path: string): boolean {
  return Object.hasOwn(FILES, path);
}

/** Serves one of the dashboard's files (the caller checked `isDashboardPath`). */
export function serveDashboard(path: string, head: boolean, res: ServerResponse): void {
  const entry = FILES[path];
  if (entry === undefined) return;
  let body = cache.get(path);
  if (body === undefined) {
    try {
      body = readFileSync(entry.file);
    } catch {
      const msg = JSON.stringify({ error: { message: 'The dashboard files are missing from this installation.', code: 'GW_ERR_INTERNAL' } });
      res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(msg) });
      res.end(msg);
      return;
    }
    cache.set(path, body);
  }
  res.writeHead(200, {
    'content-type': entry.type,
    'content-length': body.length,
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  });
  res.end(head ? undefined : body);
}
