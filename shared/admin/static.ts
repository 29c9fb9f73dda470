import { readFileSync } from 'node:fs';

/**
 * The dashboard's files, served as they are from `shared/admin/dashboard/` (plain ES modules, no
 * build step). They are read next to this module: in the repository (tsx, vitest) that is
 * `shared/admin/dashboard/`; in the admin Lambda's bundle, `dashboard/` beside `index.mjs`, where
 * the admin construct copies them (`assets` of `celerityFunction`). They hold no data, so they
 * need no token; every `/api` route still does.
 */
export const DASHBOARD_DIR = 'dashboard';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** path → file in the dashboard folder; nothing else is served (no directory walking). */
export const DASHBOARD_FILES: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.css': 'app.css',
  '/app.js': 'app.js',
  '/api.js': 'api.js',
  '/dom.js': 'dom.js',
  '/tasks.js': 'tasks.js',
  '/task-actions.js': 'task-actions.js',
  '/periodic.js': 'periodic.js',
  '/periodic-form.js': 'periodic-form.js',
  '/queues.js': 'queues.js',
  '/charts.js': 'charts.js',
};

/**
 * No inline script or style, nothing from elsewhere: a task's arguments that hold markup can at
 * worst be shown, never run. `connect-src 'self'` is the API on the same origin.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const cache = new Map<string, string>();

function read(file: string): string {
  let text = cache.get(file);
  if (text === undefined) {
    text = readFileSync(new URL(`./${DASHBOARD_DIR}/${file}`, import.meta.url), 'utf8');
    cache.set(file, text);
  }
  return text;
}

/** The response for one of the dashboard's paths, or undefined for any other path. */
export function dashboardResponse(path: string): Response | undefined {
  const file = DASHBOARD_FILES[path];
  if (file === undefined) return undefined;
  const type = TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
  return new Response(read(file), {
    headers: {
      ...SECURITY_HEADERS,
      'content-type': type,
      // Revalidated each load: a deploy's new page is picked up at once, without hashed names.
      'cache-control': 'no-cache',
    },
  });
}
