// The dashboard's files, served by the agent itself (no CDN: the page works on a host with no
// way out, and loads nothing from anyone else): the page, its style, its script and uPlot. Read
// once when the listener starts, about 70 kB.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DASHBOARD_CSS, dashboardHtml } from './page.js';

export interface Asset {
  type: string;
  body: Buffer;
}

const require = createRequire(import.meta.url);

// The page's script is compiled TypeScript: from agent/dist/dashboard/ and from agent/src/dashboard/
// (the tests run the sources) alike, it is agent/dist/dashboard/client/app.js.
const APP_JS = fileURLToPath(new URL('../../dist/dashboard/client/app.js', import.meta.url));

export function loadAssets(): Record<string, Asset> {
  const file = (path: string, type: string): Asset => ({ type, body: readFileSync(path) });
  return {
    '/assets/app.js': file(APP_JS, 'text/javascript; charset=utf-8'),
    '/assets/uPlot.iife.min.js': file(require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'),
    '/assets/uPlot.min.css': file(require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'),
    '/assets/dashboard.css': { type: 'text/css; charset=utf-8', body: Buffer.from(DASHBOARD_CSS) },
  };
}

/** The page, its assets' addresses carrying the token (every path of the listener asks for it). */
export function page(token: string): Asset {
  return { type: 'text/html; charset=utf-8', body: Buffer.from(dashboardHtml(encodeURIComponent(token))) };
}
