// Flower's Tasks page: the results newest first, filtered, a page at a time by cursor, refreshed
// every few seconds while the first page is shown (pausable), with apply and bulk replay.
import { api, canWrite, flashError, query, registeredTasks } from './api.js';
import { field, fill, h, runtime, show, when } from './dom.js';
import { applyForm, replayPanel } from './task-actions.js';

// Celery's six, then PROGRESS: the custom state Celery's docs give `update_state` (ctx.updateState);
// another custom state the filter already names (from the address) is offered too.
export const STATES = ['PENDING', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED', 'PROGRESS'];
const REFRESH_MS = 5000;

/** The filter and paging, kept while the user opens a task and comes back. */
const view = {
  filter: { state: '', name: '', periodicTask: '', since: '', until: '', timeField: 'dateCreated' },
  /** Cursors of the pages before this one (the first page's is undefined). */
  cursors: [undefined],
  auto: true,
};

/** A datetime-local value as an instant in the browser's zone, as the API wants it. */
const instant = (local) => (local ? new Date(local).toISOString() : undefined);

/** The filter as the API's query (and replay's body) takes it. */
export function apiFilter(filter = view.filter) {
  return {
    state: filter.state || undefined,
    name: filter.name || undefined,
    periodicTask: filter.periodicTask || undefined,
    since: instant(filter.since),
    until: instant(filter.until),
    timeField: filter.timeField === 'dateDone' ? 'dateDone' : undefined,
  };
}

export function renderTasks(main) {
  const tbody = h('tbody');
  const status = h('p', { class: 'muted', 'aria-live': 'polite' });
  const older = h('button', { type: 'button' }, 'Older →');
  const newer = h('button', { type: 'button' }, '← Newer');
  const actions = h('div', { class: 'panel' });
  let timer;
  let nextCursor;

  async function load() {
    const cursor = view.cursors.at(-1);
    try {
      const page = await api('GET', `/api/tasks${query({ ...apiFilter(), cursor, limit: 25 })}`);
      nextCursor = page.cursor;
      fill(tbody, page.items.length ? page.items.map(row) : emptyRow());
      older.disabled = !nextCursor;
      newer.disabled = view.cursors.length <= 1;
      status.textContent = `Page ${view.cursors.length} · updated ${new Date().toLocaleTimeString(undefined, { hour12: false })}`;
    } catch (error) {
      flashError(error);
    }
  }

  function schedule() {
    clearTimeout(timer);
    // Only the first page moves (new tasks arrive at the top); later pages stay still to be read.
    if (view.auto && view.cursors.length === 1)
      timer = setTimeout(() => load().finally(schedule), REFRESH_MS);
  }

  older.addEventListener('click', () => {
    if (!nextCursor) return;
    view.cursors.push(nextCursor);
    load().then(schedule);
  });
  newer.addEventListener('click', () => {
    if (view.cursors.length > 1) view.cursors.pop();
    load().then(schedule);
  });

  const filters = filterForm(() => {
    view.cursors = [undefined];
    load().then(schedule);
  });
  const auto = h('input', {
    type: 'checkbox',
    id: 'auto-refresh',
    checked: view.auto,
    onchange: (event) => {
      view.auto = event.target.checked;
      schedule();
    },
  });

  fill(
    main,
    h(
      'div',
      { class: 'toolbar' },
      h('h1', {}, 'Tasks'),
      h('label', { class: 'inline' }, auto, ' Auto-refresh (5 s)'),
      writeButton('Apply a task…', () => fill(actions, applyForm(load))),
      writeButton('Replay failures…', () => fill(actions, replayPanel(apiFilter(), load))),
    ),
    filters,
    actions,
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'tasks' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Name', 'UUID', 'State', 'Received', 'Started', 'Runtime', 'Retries', 'Queue', 'Origin'].map(
              (t) => h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        tbody,
      ),
    ),
    h('div', { class: 'pager' }, newer, status, older),
  );
  load().then(schedule);
  return () => clearTimeout(timer);
}

/** A button for admins (hidden from a viewer by the page's style, and disabled besides). */
function writeButton(label, onclick) {
  return h('button', { type: 'button', class: 'write', disabled: !canWrite(), onclick }, label);
}

function row(task) {
  return h(
    'tr',
    { 'data-task-id': task.taskId, 'data-state': task.status },
    h('td', {}, show(task.taskName)),
    h('td', {}, h('a', { href: `#/tasks/${encodeURIComponent(task.taskId)}`, class: 'mono' }, task.taskId)),
    h(
      'td',
      { class: 'nowrap' },
      stateBadge(task.status),
      task.replayedAs ? h('span', { class: 'muted', title: `replayed as ${task.replayedAs}` }, ' ↻') : [],
    ),
    h('td', { class: 'time' }, when(task.dateCreated)),
    h('td', { class: 'time' }, when(task.dateStarted)),
    h('td', {}, runtime(task.dateStarted, task.dateDone)),
    h('td', { class: 'num' }, show(task.retries)),
    h('td', {}, show(task.queue)),
    h('td', {}, show(task.periodicTask ? `beat: ${task.periodicTask}` : task.origin)),
  );
}

const emptyRow = () => h('tr', {}, h('td', { colspan: '9', class: 'muted' }, 'No tasks match.'));

export function stateBadge(state) {
  return h('span', { class: `state ${String(state ?? '').toLowerCase()}` }, show(state));
}

function filterForm(apply) {
  const f = view.filter;
  const input = (key, props) =>
    h('input', { ...props, name: key, value: f[key], oninput: (e) => (f[key] = e.target.value) });
  const names = h('datalist', { id: 'task-names' });
  registeredTasks()
    .then((items) =>
      fill(
        names,
        items.map((t) => h('option', { value: t.name })),
      ),
    )
    .catch(() => {});
  return h(
    'form',
    {
      class: 'filters',
      role: 'search',
      onsubmit: (event) => {
        event.preventDefault();
        apply();
      },
    },
    field(
      'State',
      h(
        'select',
        { name: 'state', onchange: (e) => (f.state = e.target.value) },
        h('option', { value: '' }, 'any'),
        [...STATES, ...(f.state && !STATES.includes(f.state) ? [f.state] : [])].map((s) =>
          h('option', { value: s, selected: f.state === s }, s),
        ),
      ),
      'state',
    ),
    field('Task name', input('name', { list: 'task-names', placeholder: 'any' }), 'name'),
    names,
    field('Periodic task', input('periodicTask', { placeholder: 'any' }), 'periodicTask'),
    field('From', input('since', { type: 'datetime-local', step: '1' }), 'since'),
    field('Until', input('until', { type: 'datetime-local', step: '1' }), 'until'),
    field(
      'Time of',
      h(
        'select',
        { name: 'timeField', onchange: (e) => (f.timeField = e.target.value) },
        h('option', { value: 'dateCreated', selected: f.timeField !== 'dateDone' }, 'received'),
        h('option', { value: 'dateDone', selected: f.timeField === 'dateDone' }, 'finished'),
      ),
      'timeField',
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Filter'),
  );
}
