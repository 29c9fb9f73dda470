import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../shared/admin/app.ts';
import { useAdminApi } from '../support/admin.ts';

const api = useAdminApi();
const BASE = '/api/periodic-tasks';
const TASK = 'apps.demo.tasks.add';
const at = (name: string) => `${BASE}/${encodeURIComponent(name)}`;

const crontabTask = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  task: TASK,
  args: [1, 2],
  crontab: { minute: '30', hour: '9', dayOfWeek: 'mon-fri', timezone: 'Europe/London' },
  ...extra,
});

describe('periodic tasks over the admin API', () => {
  it('creates (201), reads back with its next run, and refuses the same name again (409)', async () => {
    const created = await api().request('POST', BASE, { body: crontabTask('api create') });
    expect(created.status).toBe(201);
    expect(created.body.definition).toMatchObject({ name: 'api create', task: TASK, enabled: true });
    expect(created.body.row.nextRun).toMatch(/^\d{4}-\d\d-\d\dT(08|09):30:00\.000Z$/);
    const got = await api().request('GET', at('api create'), { token: api().tokens.viewer });
    expect(got.status).toBe(200);
    expect(got.body.definition.crontab).toMatchObject({ minute: '30', hour: '9', timezone: 'Europe/London' });
    const again = await api().request('POST', BASE, { body: crontabTask('api create') });
    expect(again.status).toBe(409);
    expect(again.body.error.type).toBe('Conflict');
  });

  it.each([
    [{ ...crontabTask('bad minute'), crontab: { minute: '61' } }, 'crontab.minute'],
    [{ name: 'no schedule', task: TASK }, 'schedule'],
    [{ ...crontabTask('bad task'), task: 'apps.nope.tasks.missing' }, 'task'],
    [{ ...crontabTask('bad zone'), crontab: { minute: '0', timezone: 'Mars/Olympus' } }, 'crontab.timezone'],
    [{ ...crontabTask('unknown field'), colour: 'red' }, 'colour'],
    [{ ...crontabTask('bad args'), args: 'x' }, 'args'],
  ])('refuses a bad definition with 400 naming the field (%#)', async (body, field) => {
    const response = await api().request('POST', BASE, { body });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'ValidationError', field });
  });

  it('lists by name across three pages with an opaque cursor, and refuses a forged cursor', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `page ${i}`);
    for (const name of names) {
      expect((await api().request('POST', BASE, { body: crontabTask(name) })).status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await api().request('GET', BASE, {
        token: api().tokens.viewer,
        query: { limit: '3', ...(cursor ? { cursor } : {}) },
      });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((row: { name: string }) => row.name));
      for (const row of page.body.items) expect(row).toHaveProperty('enabled');
      cursor = page.body.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen.filter((n) => n.startsWith('page '))).toEqual(names);
    expect(new Set(seen).size).toBe(seen.length);
    const forged = Buffer.from(JSON.stringify({ name: 1 })).toString('base64url');
    for (const bad of [forged, 'not-a-cursor', Buffer.from('[]').toString('base64url')]) {
      const response = await api().request('GET', BASE, { query: { cursor: bad } });
      expect(response.status, bad).toBe(400);
      expect(response.body.error.field).toBe('cursor');
    }
    const limit = await api().request('GET', BASE, { query: { limit: '0' } });
    expect(limit.body.error).toMatchObject({ field: 'limit' });
  });

  it('replaces (PUT: left-out fields back to defaults, run count kept) and patches (null clears)', async () => {
    const name = 'api edit';
    await api().request('POST', BASE, {
      body: crontabTask(name, { description: 'first', queue: 'default' }),
    });
    const put = await api().request('PUT', at(name), {
      body: { task: TASK, interval: { every: 10, period: 'minutes' } },
    });
    expect(put.status).toBe(200);
    expect(put.body.definition).toMatchObject({ name, description: '', args: [], interval: { every: 10 } });
    expect(put.body.definition.crontab).toBeUndefined();
    expect(put.body.definition.queue).toBeUndefined();
    const renamed = await api().request('PUT', at(name), { body: { ...crontabTask('other name') } });
    expect(renamed.status).toBe(400);
    expect(renamed.body.error.field).toBe('name');
    const patch = await api().request('PATCH', at(name), { body: { description: 'second', args: [5, 5] } });
    expect(patch.status).toBe(200);
    expect(patch.body.definition).toMatchObject({
      description: 'second',
      args: [5, 5],
      interval: { every: 10 },
    });
    const cleared = await api().request('PATCH', at(name), { body: { description: null } });
    expect(cleared.body.definition.description).toBe('');
    const badPatch = await api().request('PATCH', at(name), {
      body: { interval: { every: 0, period: 'minutes' } },
    });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.error.field).toBe('interval.every');
  });

  it('disables and enables, runs now (202, one message on the queue), deletes, then 404s', async () => {
    const name = 'api lifecycle';
    await api().request('POST', BASE, { body: crontabTask(name) });
    const disabled = await api().request('POST', `${at(name)}/disable`);
    expect(disabled.body.definition.enabled).toBe(false);
    expect(disabled.body.row.enabled).toBe(false);
    const enabled = await api().request('POST', `${at(name)}/enable`);
    expect(enabled.body.definition.enabled).toBe(true);

    const queue = api().ctx.config.queues[api().ctx.config.defaultQueue];
    const depth = async () =>
      Number(
        (
          await api().ctx.clients.sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: String(queue?.url),
              AttributeNames: ['ApproximateNumberOfMessages'],
            }),
          )
        ).Attributes?.ApproximateNumberOfMessages,
      );
    const before = await depth();
    const run = await api().request('POST', `${at(name)}/run`);
    expect(run.status).toBe(202);
    expect(run.body.taskId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await depth()).toBe(before + 1);

    expect((await api().request('DELETE', at(name))).body).toEqual({ name, removed: true });
    for (const [method, path] of [
      ['GET', at(name)],
      ['DELETE', at(name)],
      ['POST', `${at(name)}/run`],
      ['POST', `${at(name)}/enable`],
      ['PATCH', at(name)],
    ] as const) {
      const response = await api().request(
        method,
        path,
        method === 'PATCH' ? { body: { description: 'x' } } : {},
      );
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.error.type).toBe('NotFound');
    }
  });

  it("previews an unsaved definition's next runs in its zone and in UTC, as `beat preview` does", async () => {
    const response = await api().request('POST', `${BASE}/preview`, {
      token: api().tokens.viewer,
      body: { crontab: { minute: '0', hour: '9', timezone: 'America/New_York' }, count: 3 },
    });
    expect(response.status).toBe(200);
    expect(response.body.timezone).toBe('America/New_York');
    expect(response.body.times).toHaveLength(3);
    expect(response.body.localTimes).toHaveLength(3);
    for (const [i, local] of response.body.localTimes.entries()) {
      expect(local).toMatch(/T09:00:00-0[45]:00$/);
      expect(Date.parse(local)).toBe(Date.parse(response.body.times[i]));
    }
    const bad = await api().request('POST', `${BASE}/preview`, { body: { crontab: { hour: '25' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('crontab.hour');
    const none = await api().request('POST', `${BASE}/preview`, { body: {} });
    expect(none.body.error.field).toBe('schedule');
  });

  it('takes any name in the path, percent-encoded: slashes, question marks, spaces, accents', async () => {
    for (const name of ['reports/daily', 'what? #1', 'Café täglich', '100%']) {
      expect((await api().request('POST', BASE, { body: crontabTask(name) })).status, name).toBe(201);
      const got = await api().request('GET', at(name));
      expect(got.status, name).toBe(200);
      expect(got.body.definition.name).toBe(name);
      expect((await api().request('POST', `${at(name)}/disable`)).body.definition.enabled, name).toBe(false);
      expect((await api().request('DELETE', at(name))).status, name).toBe(200);
    }
  });

  it('lists the registry with each task’s options', async () => {
    const response = await api().request('GET', '/api/registry', { token: api().tokens.viewer });
    expect(response.status).toBe(200);
    const add = response.body.items.find((t: { name: string }) => t.name === TASK);
    expect(add).toMatchObject({ name: TASK, queue: expect.any(String), maxRetries: expect.any(Number) });
  });
});

describe('the router', () => {
  it('answers 413 over the body limit, 400 for malformed JSON, 404 JSON for an unknown route', async () => {
    const huge = JSON.stringify({ ...crontabTask('huge'), description: 'x'.repeat(MAX_BODY_BYTES) });
    const tooBig = await api().request('POST', BASE, { rawBody: huge });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.type).toBe('PayloadTooLarge');
    const malformed = await api().request('POST', BASE, { rawBody: '{"name": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.field).toBe('body');
    const unknown = await api().request('GET', '/api/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.type).toBe('NotFound');
  });

  it('serves an OpenAPI document of every route, from the request schemas', async () => {
    const response = await api().request('GET', '/api/openapi.json', { token: api().tokens.viewer });
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    for (const route of api().routes) {
      expect(
        response.body.paths[route.path]?.[route.method.toLowerCase()],
        `${route.method} ${route.path}`,
      ).toBeDefined();
    }
    const create = response.body.paths[BASE].post;
    expect(create.requestBody.content['application/json'].schema.properties).toHaveProperty('crontab');
    expect(response.body.info.description).toContain('64 KiB');
    const list = response.body.paths[BASE].get.responses['200'].content['application/json'].schema;
    expect(list.properties.items.items.properties).toHaveProperty('nextRun');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('writes one audit line per write (who, what, ids, when, status) and never the token', async () => {
    const before = api().logLines().length;
    await api().request('POST', BASE, { body: crontabTask('audited') });
    await api().request('DELETE', at('audited'), { token: api().tokens.viewer });
    const lines = api()
      .logLines()
      .slice(before)
      .filter((l) => l.audit === true);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ who: { role: 'admin' }, method: 'POST', path: BASE, status: 201 });
    expect(lines[1]).toMatchObject({
      who: { role: 'viewer' },
      method: 'DELETE',
      ids: { name: 'audited' },
      status: 403,
    });
    expect(typeof lines[0]?.at).toBe('string');
    const all = JSON.stringify(api().logLines());
    expect(all).not.toContain(api().tokens.admin);
    expect(all).not.toContain(api().tokens.viewer);
  });
});
