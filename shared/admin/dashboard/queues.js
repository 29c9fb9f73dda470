// Flower's Broker and Workers (queue depths, in flight, DLQs; purge and redrive with a
// confirmation) and its Monitor (the registry and the stats as small charts).
import { api, canWrite, flash, flashError, registeredTasks } from './api.js';
import { pairedBars, stackedBars } from './charts.js';
import { confirmThen, fill, h, show, when } from './dom.js';

const REFRESH_MS = 5000;

export function renderQueues(main) {
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' });
  let timer;
  async function load() {
    try {
      const { items } = await api('GET', '/api/queues');
      fill(
        tbody,
        items.map((q) => row(q, load)),
      );
      note.textContent = `Updated ${new Date().toLocaleTimeString(undefined, { hour12: false })}. Oldest age needs CloudWatch (— locally).`;
    } catch (error) {
      flashError(error);
    }
  }
  const poll = () => load().finally(() => (timer = setTimeout(poll, REFRESH_MS)));
  const cols = ['Queue', 'Visible', 'In flight', 'Delayed', 'Scheduled', 'Oldest (s)', 'DLQ', 'Worker', ''];
  fill(
    main,
    h('h1', {}, 'Queues & workers'),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'queues' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            cols.map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        tbody,
      ),
    ),
    note,
  );
  poll();
  return () => clearTimeout(timer);
}

function row(q, reload) {
  const name = encodeURIComponent(q.queue);
  const w = q.worker;
  const act = async (what, path, body) => {
    try {
      const answer = await api('POST', path, body);
      flash(`${what} ${q.queue}: ${JSON.stringify(answer)}`);
      reload();
    } catch (error) {
      flashError(error);
    }
  };
  const purge = h(
    'button',
    {
      type: 'button',
      class: 'write danger',
      disabled: !canWrite(),
      onclick: () =>
        typeToConfirm(purge, q.queue, () => act('Purged', `/api/queues/${name}/purge`, { confirm: q.queue })),
    },
    'Purge…',
  );
  const redrive = h(
    'button',
    {
      type: 'button',
      class: 'write',
      disabled: !canWrite() || !q.dlq?.visible,
      onclick: () =>
        confirmThen(redrive, `Send ${q.dlq?.visible ?? 0} dead letter(s) back to ${q.queue}?`, () =>
          act('Redrove', `/api/queues/${name}/dlq/redrive`, {}),
        ),
    },
    'Redrive DLQ…',
  );
  return h(
    'tr',
    { 'data-queue': q.queue },
    h('th', { scope: 'row' }, q.queue),
    [q.visible, q.inFlight, q.delayed, q.scheduled, q.oldestAgeSeconds].map((n) =>
      h('td', { class: 'num' }, show(n)),
    ),
    h('td', { class: q.dlq?.visible ? 'num alert' : 'num' }, show(q.dlq?.visible)),
    h(
      'td',
      {},
      w
        ? `${show(w.functionName)} · batch ${show(w.batchSize)} · max ${show(w.maxConcurrency)} · ${show(w.timeoutSeconds)} s`
        : '—',
    ),
    h('td', { class: 'actions' }, purge, redrive),
  );
}

/** A purge deletes what nobody gets back: the queue's name is typed to confirm, as the API asks. */
function typeToConfirm(button, queue, action) {
  const input = h('input', { 'aria-label': `Type ${queue} to purge it`, placeholder: queue, size: '10' });
  const holder = h(
    'form',
    {
      class: 'confirm',
      onsubmit: (e) => {
        e.preventDefault();
        input.setCustomValidity('');
        if (input.value !== queue) {
          input.setCustomValidity(`Type ${queue}`);
          input.reportValidity();
          return;
        }
        holder.replaceWith(button);
        action();
      },
    },
    input,
    h('button', { type: 'submit', class: 'danger' }, 'Purge'),
    h('button', { type: 'button', onclick: () => holder.replaceWith(button) }, 'Cancel'),
  );
  button.replaceWith(holder);
  input.focus();
}

export function renderMonitor(main) {
  const charts = h('div', { class: 'charts' }, h('p', { class: 'muted' }, 'Loading…'));
  const registry = h('tbody');
  fill(
    main,
    h('h1', {}, 'Monitor'),
    charts,
    h('h2', {}, 'Registered tasks'),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'registry' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [
              'Name',
              'Queue',
              'Max retries',
              'Time limit (s)',
              'Soft limit (s)',
              'Rate limit',
              'Ignore result',
            ].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        registry,
      ),
    ),
  );
  registeredTasks()
    .then((items) =>
      fill(
        registry,
        items.map((t) =>
          h(
            'tr',
            {},
            h('td', { class: 'mono' }, t.name),
            [
              t.queue,
              t.maxRetries,
              t.timeLimit,
              t.softTimeLimit,
              t.rateLimit,
              t.ignoreResult ? 'yes' : 'no',
            ].map((v) => h('td', {}, show(v))),
          ),
        ),
      ),
    )
    .catch(flashError);
  api('GET', '/api/stats')
    .then((stats) => fill(charts, statsCharts(stats)))
    .catch(flashError);
}

const SEGMENTS = [
  ['SUCCESS', 'success'],
  ['FAILURE', 'failure'],
  ['RETRY', 'retry'],
  ['REVOKED', 'revoked'],
];

function statsCharts(stats) {
  const active = stats.tasks.filter((t) => t.day.total > 0);
  const rows = (window) =>
    active.map((t) => ({
      label: t.name,
      segments: SEGMENTS.map(([state, cls]) => ({ value: t[window].states[state] ?? 0, cls, title: state })),
    }));
  const rate = (w) => `${(100 * (stats.overall[w].failureRate ?? 0)).toFixed(1)} %`;
  return [
    h(
      'p',
      {},
      `As of ${when(stats.at)}: ${stats.overall.hour.total} task(s) in the last hour (failure rate ${rate('hour')}), ${stats.overall.day.total} in the last day (${rate('day')}).`,
    ),
    h(
      'ul',
      { class: 'legend' },
      SEGMENTS.map(([state, cls]) => h('li', { class: cls }, state)),
    ),
    active.length
      ? [
          h(
            'figure',
            {},
            h('figcaption', {}, 'Outcomes, last hour'),
            stackedBars(rows('hour'), { title: 'Outcomes per task, last hour' }),
          ),
          h(
            'figure',
            {},
            h('figcaption', {}, 'Outcomes, last day'),
            stackedBars(rows('day'), { title: 'Outcomes per task, last day' }),
          ),
          h(
            'figure',
            {},
            h('figcaption', {}, 'Runtime p50 / p95, last day'),
            pairedBars(
              active.map((t) => ({ label: t.name, a: t.day.runtimeMs?.p50, b: t.day.runtimeMs?.p95 })),
              { title: 'Runtime per task, last day' },
            ),
          ),
        ]
      : h('p', { class: 'muted' }, 'No finished tasks in the last day.'),
  ];
}
