import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminServer, startAdminServer } from '../../localstack/lambda/admin-server.ts';
import { type LocalCloud, startLocalCloud } from '../../localstack/local-cloud.ts';
import { useEmulator } from '../support/emulator.ts';

/** Debian's Chromium (`apt-get install -y chromium`; `.ci/run` installs it). */
const CHROMIUM = process.env.CELERITY_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-output', 'screenshots');
const haveChromium = existsSync(CHROMIUM);
/** Up to a minute for what the local cloud does (a worker run, a refresh of the list). */
const WAIT = { timeout: 60_000 };

const { endpoint } = useEmulator();
let cloud: LocalCloud | undefined;
let server: AdminServer | undefined;
let browser: Browser | undefined;
let page: Page;
const dialogs: string[] = [];

describe('the dashboard, in Chromium, against the local cloud', () => {
  if (!haveChromium) {
    // In CI a missing browser is a failure (the must-show would silently vanish); elsewhere a skip.
    if (process.env.CI === 'true') {
      it('has Chromium', () => {
        expect.fail(`Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or set CELERITY_CHROMIUM)`);
      });
    } else {
      it.skip(`needs Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CELERITY_CHROMIUM)`);
    }
    return;
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    cloud = await startLocalCloud({ endpoint, logLevel: 'silent', overrides: { waitTimeSeconds: 1 } });
    server = await startAdminServer({
      resources: cloud.resources,
      clients: cloud.clients,
      stateDir: mkdtempSync(join(tmpdir(), 'celerity-dashboard-')),
      env: {},
      port: 0,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await cloud?.stop();
  });

  const url = () => server?.url ?? '';
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const flash = () => page.locator('#flash');

  it('serves the page with a strict CSP and no token, and signs in with the admin token', async () => {
    const response = await page.goto(url());
    expect(response?.status()).toBe(200);
    const headers = response?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    await page.locator('#token').waitFor();
    await shot('signin');
    await page.fill('#token', 'not-the-token-at-all-not-the-token');
    await page.click('button[type=submit]');
    await page.getByText('That token was refused.').waitFor();
    await page.fill('#token', server?.tokens.admin ?? '');
    await page.click('button[type=submit]');
    await page.locator('nav a[aria-current=page]', { hasText: 'Tasks' }).waitFor();
    expect(await page.locator('.role').textContent()).toBe('admin');
  });

  it('creates a crontab periodic task in the form, with its preview and field errors, disables it, edits it', async () => {
    await page.goto(`${url()}/#/periodic/new`);
    await page.fill('input[name=name]', 'dashboard-nightly');
    await page.selectOption('select[name=task]', 'apps.demo.tasks.noop');
    await page.fill('input[name="crontab.minute"]', '61');
    await page.locator('.periodic-form .field-error:not(:empty)').first().waitFor(WAIT);
    await page.fill('input[name="crontab.minute"]', '30');
    await page.fill('input[name="crontab.hour"]', '4');
    await page.locator('ol.runs li').nth(4).waitFor(WAIT);
    const runs = await page.locator('ol.runs time').allTextContents();
    expect(runs).toHaveLength(5);
    for (const run of runs) expect(run).toMatch(/04:30/);
    await shot('periodic-form');
    await page.click('.periodic-form button[type=submit]');
    const row = page.locator('tr[data-name="dashboard-nightly"]');
    await row.waitFor(WAIT);
    expect(await row.textContent()).toContain('apps.demo.tasks.noop');
    const toggle = row.locator('input[type=checkbox]');
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await page.getByText('Disabled: dashboard-nightly').waitFor(WAIT);
    const stored = await fetch(`${url()}/api/periodic-tasks/dashboard-nightly`, {
      headers: { authorization: `Bearer ${server?.tokens.viewer}` },
    });
    expect(((await stored.json()) as { definition: { enabled: boolean } }).definition.enabled).toBe(false);
    await shot('periodic');

    // Edit: the form comes back filled in; a new hour is previewed and saved, the rest kept.
    await row.getByRole('link', { name: 'dashboard-nightly' }).click();
    await expect.poll(() => page.inputValue('input[name="crontab.minute"]'), WAIT).toBe('30');
    await page.fill('input[name="crontab.hour"]', '5');
    await expect.poll(() => page.locator('ol.runs time').first().textContent(), WAIT).toMatch(/05:30/);
    await page.click('.periodic-form button[type=submit]');
    await row.waitFor(WAIT);
    const edited = await fetch(`${url()}/api/periodic-tasks/dashboard-nightly`, {
      headers: { authorization: `Bearer ${server?.tokens.viewer}` },
    });
    const { definition } = (await edited.json()) as {
      definition: { enabled: boolean; task: string; crontab: { hour: string; minute: string } };
    };
    expect(definition).toMatchObject({ enabled: false, task: 'apps.demo.tasks.noop' });
    expect(definition.crontab).toMatchObject({ minute: '30', hour: '5' });
  });

  /** Applies a task through the Tasks view's form; the id from the status line. */
  async function apply(task: string, args: string): Promise<string> {
    await page.goto(`${url()}/#/tasks`);
    await page.getByRole('button', { name: 'Apply a task…' }).click();
    await page.selectOption('.apply select[name=task]', task);
    await page.fill('.apply textarea[name=args]', args);
    await page.click('.apply button[type=submit]');
    await flash().filter({ hasText: 'Applied' }).waitFor(WAIT);
    const id = /: ([^\s]+) \(queue/.exec((await flash().textContent()) ?? '')?.[1];
    if (!id) throw new Error(`no task id in ${await flash().textContent()}`);
    return id;
  }

  it('applies a task, watches it reach SUCCESS in the list, and opens its detail', async () => {
    const id = await apply('apps.demo.tasks.add', '[2, 3]');
    // The list refreshes itself every 5 s: no reload here.
    await page.locator(`tr[data-task-id="${id}"][data-state=SUCCESS]`).waitFor(WAIT);
    await shot('tasks');
    await page.locator(`tr[data-task-id="${id}"] a`).click();
    await page.locator('dl.detail').waitFor();
    const detail = (await page.locator('dl.detail').textContent()) ?? '';
    expect(detail).toContain('SUCCESS');
    expect(detail).toMatch(/Result\s*5/);
    expect(detail).toContain('admin:admin');
    expect(await page.locator('dl.detail pre.json').first().textContent()).toBe('[\n  2,\n  3\n]');
    await shot('task-detail');
  });

  it('shows arguments and a result holding markup as text and runs none of it', async () => {
    const payload = '<script>alert(1)</script>';
    // `slow` sleeps NaN seconds for a string (at once) and echoes it back: markup in args and result.
    const id = await apply('apps.demo.tasks.slow', JSON.stringify([payload]));
    await page.goto(`${url()}/#/tasks/${id}`);
    await page.locator('dl.detail .state.success').waitFor(WAIT);
    const [args, , result] = await page.locator('dl.detail pre.json').allTextContents();
    expect(args).toContain(payload);
    expect(result).toContain(payload);
    // Text, not elements: no script was made from the arguments or the result.
    expect(await page.locator('main script').count()).toBe(0);
    await shot('task-markup');
    await page.goto(`${url()}/#/tasks`);
    await page.locator(`tr[data-task-id="${id}"]`).waitFor(WAIT);
    expect(dialogs).toEqual([]);
  });

  it('refuses arguments the task does not take, at the field', async () => {
    await page.goto(`${url()}/#/tasks`);
    await page.getByRole('button', { name: 'Apply a task…' }).click();
    await page.selectOption('.apply select[name=task]', 'apps.demo.tasks.add');
    await page.fill('.apply textarea[name=args]', '["<img src=x onerror=alert(2)>", 1]');
    await page.click('.apply button[type=submit]');
    await page.locator('.apply [data-field=args] .field-error:not(:empty)').waitFor(WAIT);
    expect(await page.locator('main img').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('bulk-replays the two failed tasks matching a filter: a dry-run count, then confirm', async () => {
    // Ten seconds of sleep under a two-second soft limit: FAILURE.
    for (const id of [
      await apply('apps.demo.tasks.slow', '[10]'),
      await apply('apps.demo.tasks.slow', '[11]'),
    ]) {
      await page.goto(`${url()}/#/tasks/${id}`);
      await page.locator('dl.detail .state.failure').waitFor(WAIT);
    }
    await page.goto(`${url()}/#/tasks`);
    await page.selectOption('.filters select[name=state]', 'FAILURE');
    await page.fill('.filters input[name=name]', 'apps.demo.tasks.slow');
    await page.click('.filters button[type=submit]');
    await expect.poll(() => page.locator('tr[data-state=FAILURE]').count(), WAIT).toBe(2);
    await page.getByRole('button', { name: 'Replay failures…' }).click();
    await page.getByText('2 failed task(s) match the filter').waitFor(WAIT);
    await shot('replay');
    await page.getByRole('button', { name: 'Replay 2' }).click();
    await flash().filter({ hasText: 'Replayed 2 failed task(s)' }).waitFor(WAIT);
    expect(dialogs).toEqual([]);
    // The re-sent two are new tasks (their origin the admin token), listed with the rest.
    await page.selectOption('.filters select[name=state]', '');
    await page.fill('.filters input[name=name]', '');
    await page.click('.filters button[type=submit]');
    await expect.poll(() => page.locator('tbody tr[data-task-id]').count(), WAIT).toBe(6);
    await shot('tasks-all');
  });

  it('lists a task reporting PROGRESS under that state, with how far it got, until it ends', async () => {
    // One step a second, each said with ctx.updateState({ state: 'PROGRESS', meta }).
    const id = await apply('apps.demo.tasks.progress', '[20]');
    await page.selectOption('.filters select[name=state]', 'PROGRESS');
    await page.click('.filters button[type=submit]');
    await page.locator(`tr[data-task-id="${id}"][data-state=PROGRESS]`).waitFor(WAIT);
    await page.goto(`${url()}/#/tasks/${id}`);
    await page.locator('dl.detail .state').filter({ hasText: 'PROGRESS' }).waitFor(WAIT);
    expect((await page.locator('dl.detail').textContent()) ?? '').toMatch(/"total": 20/);
    await shot('task-progress');
    // The page follows a running task (every 2 s, as Flower does) to its end.
    await page.locator('dl.detail .state.success').waitFor(WAIT);
    expect((await page.locator('dl.detail').textContent()) ?? '').toContain('20 steps done');
  });

  it('shows the queues, the registry and the stats charts', async () => {
    await page.goto(`${url()}/#/queues`);
    const row = page.locator('tr[data-queue=default]');
    await row.waitFor(WAIT);
    // No CloudWatch locally: the oldest message's age is unknown, shown as a dash.
    expect(await row.locator('td').nth(4).textContent()).toBe('—');
    await shot('queues');
    await page.goto(`${url()}/#/monitor`);
    await page.locator('svg.chart').first().waitFor(WAIT);
    expect(await page.locator('table.registry').textContent()).toContain('apps.demo.tasks.add');
    await shot('monitor');
  });

  it('shows a viewer no write buttons, on a phone-sized screen', async () => {
    const phone = await browser?.newPage({ viewport: { width: 390, height: 844 } });
    if (!phone) throw new Error('no browser');
    await phone.goto(url());
    // By keyboard: the token field has the focus, Enter signs in.
    await phone.locator('#token:focus').waitFor();
    await phone.keyboard.type(server?.tokens.viewer ?? '');
    await phone.keyboard.press('Enter');
    await phone.locator('table.tasks').waitFor(WAIT);
    expect(await phone.locator('.role').textContent()).toBe('viewer');
    expect(await phone.getByRole('button', { name: 'Apply a task…' }).isVisible()).toBe(false);
    await phone.screenshot({ path: join(SHOTS, 'tasks-phone.png'), fullPage: true });
    // A write the viewer gets past the page anyway is refused by the API, and said so plainly.
    // (A string, so vitest leaves its import() alone: it runs in the page.)
    await phone.evaluate(
      "import('/api.js').then(({ api, flashError }) => api('POST', '/api/tasks', { task: 'apps.demo.tasks.noop' }).catch(flashError))",
    );
    await phone
      .locator('#flash.error', { hasText: 'Not allowed: POST /api/tasks needs the admin token' })
      .waitFor();
    await phone.close();
  });
});
