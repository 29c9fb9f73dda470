// django-celery-beat's admin: the periodic tasks with enable toggles, run now and delete (the
// create/edit form is periodic-form.js).
import { api, canWrite, flash, flashError, query } from './api.js';
import { confirmThen, fill, h, show, when } from './dom.js';

export function renderPeriodic(main) {
  const tbody = h('tbody');
  const more = h('div', { class: 'pager' });

  async function load(cursor, append = false) {
    try {
      const page = await api('GET', `/api/periodic-tasks${query({ cursor, limit: 50 })}`);
      if (!append) fill(tbody);
      tbody.append(...page.items.map((item) => row(item, () => load())));
      if (!tbody.children.length)
        tbody.append(h('tr', {}, h('td', { colspan: '8', class: 'muted' }, 'No periodic tasks yet.')));
      fill(
        more,
        page.cursor ? h('button', { type: 'button', onclick: () => load(page.cursor, true) }, 'More') : [],
      );
    } catch (error) {
      flashError(error);
    }
  }

  fill(
    main,
    h(
      'div',
      { class: 'toolbar' },
      h('h1', {}, 'Periodic tasks'),
      canWrite() ? h('a', { class: 'button primary', href: '#/periodic/new' }, 'Add periodic task') : [],
    ),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'periodic' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Enabled', 'Name', 'Task', 'Schedule', 'Next run', 'Last run', 'Runs', ''].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        tbody,
      ),
    ),
    more,
  );
  load();
}

function row(item, reload) {
  const name = encodeURIComponent(item.name);
  const act = async (what, method, path) => {
    try {
      const answer = await api(method, path);
      flash(answer?.taskId ? `${what}: task ${answer.taskId}` : `${what}: ${item.name}`);
      reload();
    } catch (error) {
      flashError(error);
    }
  };
  const toggle = h('input', {
    type: 'checkbox',
    class: 'write',
    checked: item.enabled,
    disabled: !canWrite(),
    'aria-label': `Enabled: ${item.name}`,
    onchange: (event) =>
      act(
        event.target.checked ? 'Enabled' : 'Disabled',
        'POST',
        `/api/periodic-tasks/${name}/${event.target.checked ? 'enable' : 'disable'}`,
      ),
  });
  return h(
    'tr',
    { 'data-name': item.name },
    h('td', {}, toggle),
    h('td', {}, canWrite() ? h('a', { href: `#/periodic/edit/${name}` }, item.name) : item.name),
    h('td', {}, show(item.task)),
    h('td', {}, show(item.schedule), item.error ? h('span', { class: 'field-error' }, ` ${item.error}`) : []),
    h('td', {}, when(item.nextRun)),
    h('td', {}, when(item.lastRunAt)),
    h('td', { class: 'num' }, show(item.totalRunCount)),
    h(
      'td',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'write',
          disabled: !canWrite(),
          onclick: () => act('Sent', 'POST', `/api/periodic-tasks/${name}/run`),
        },
        'Run now',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'write danger',
          disabled: !canWrite(),
          onclick: (event) =>
            confirmThen(event.target, `Delete ${item.name}?`, () =>
              act('Deleted', 'DELETE', `/api/periodic-tasks/${name}`),
            ),
        },
        'Delete',
      ),
    ),
  );
}
