import { describe, expect, it } from 'vitest';
import { DASHBOARD_CSP, DASHBOARD_FILES } from '../../shared/admin/static.ts';
import { pathOf, useAdminApi } from '../support/admin.ts';

const api = useAdminApi();

/**
 * Generated from the route list (`servedRoutes()`: every route file's, and the OpenAPI document),
 * so a route added anywhere is covered without touching this file.
 */
describe('every admin route asks for a bearer token, and writes ask for the admin one', () => {
  it('has routes to check', () => {
    expect(api().routes.length).toBeGreaterThan(10);
    expect(api().routes.some((r) => r.path === '/api/openapi.json')).toBe(true);
  });

  it("leaves the dashboard's files out of the list: they are served without a token, with a strict CSP", async () => {
    expect(api().routes.every((r) => r.path.startsWith('/api/'))).toBe(true);
    for (const path of Object.keys(DASHBOARD_FILES)) {
      expect(api().routes.some((r) => r.path === path)).toBe(false);
      const response = await api().app.request(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-security-policy'), path).toBe(DASHBOARD_CSP);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('referrer-policy'), path).toBe('no-referrer');
    }
    // Not a way around the check: an API path next to them still needs the token.
    expect((await api().app.request('/api/app.js')).status).toBe(401);
  });

  it('answers 401 with WWW-Authenticate: Bearer to no token, a wrong one, or another scheme', async () => {
    for (const route of api().routes) {
      const path = pathOf(route);
      const what = `${route.method} ${route.path}`;
      const none = await api().request(route.method, path, { token: null, body: {} });
      expect(none.status, what).toBe(401);
      expect(none.headers.get('www-authenticate'), what).toMatch(/^Bearer/);
      expect(none.body.error.type, what).toBe('Unauthorized');

      const wrong = await api().request(route.method, path, { token: `${api().tokens.admin}x`, body: {} });
      expect(wrong.status, what).toBe(401);
      expect(wrong.headers.get('www-authenticate'), what).toContain('invalid_token');

      const basic = await api().request(route.method, path, {
        token: null,
        headers: { authorization: `Basic ${Buffer.from(`admin:${api().tokens.admin}`).toString('base64')}` },
        body: {},
      });
      expect(basic.status, what).toBe(401);
    }
  });

  it('answers 403 to the viewer token on every route that writes, before reading its input', async () => {
    const writes = api().routes.filter((r) => r.role === 'admin');
    expect(writes.length).toBeGreaterThan(5);
    for (const route of writes) {
      const response = await api().request(route.method, pathOf(route), {
        token: api().tokens.viewer,
        body: {},
      });
      expect(response.status, `${route.method} ${route.path}`).toBe(403);
      expect(response.body.error.type).toBe('Forbidden');
    }
  });

  it('lets the viewer token through every read (whatever the read then answers, never 401 or 403)', async () => {
    for (const route of api().routes.filter((r) => r.role === 'viewer')) {
      const response = await api().request(route.method, pathOf(route), {
        token: api().tokens.viewer,
        body: {},
      });
      expect([401, 403], `${route.method} ${route.path}`).not.toContain(response.status);
    }
  });

  it('sends no CORS header to a cross-origin request', async () => {
    for (const route of api().routes) {
      const response = await api().request(route.method, pathOf(route), {
        token: api().tokens.viewer,
        headers: { origin: 'https://evil.example' },
      });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
    const preflight = await api().request('OPTIONS', '/api/periodic-tasks', {
      token: null,
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});
