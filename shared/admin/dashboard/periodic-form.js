// django-celery-beat's add/change form: crontab, interval, solar or clocked, a live preview of the
// next runs (debounced) and the API's field-level errors shown at their fields.
import { api, canWrite, flash, flashError, registeredTasks } from './api.js';
import { field, fill, h, showFieldErrors } from './dom.js';

const KINDS = ['crontab', 'interval', 'solar', 'clocked'];
const PERIODS = ['days', 'hours', 'minutes', 'seconds'];
const SOLAR = [
  'sunrise',
  'sunset',
  'solar_noon',
  'dawn_astronomical',
  'dawn_nautical',
  'dawn_civil',
  'dusk_astronomical',
  'dusk_nautical',
  'dusk_civil',
];
const PREVIEW_DELAY_MS = 300;

export function renderPeriodicForm(main, editing) {
  let timer;
  const preview = h(
    'section',
    { class: 'card preview', 'aria-live': 'polite', 'aria-label': 'Next runs' },
    h('h2', {}, 'Next runs'),
    h('p', { class: 'muted' }, '…'),
  );
  const form = periodicForm(editing, () => {
    clearTimeout(timer);
    timer = setTimeout(() => showPreview(form, preview), PREVIEW_DELAY_MS);
  });
  fill(
    main,
    h('p', {}, h('a', { href: '#/periodic' }, '← Periodic tasks')),
    h('h1', {}, editing ? `Edit ${editing}` : 'Add periodic task'),
    h('div', { class: 'split' }, form, preview),
  );
  if (editing) {
    api('GET', `/api/periodic-tasks/${encodeURIComponent(editing)}`)
      .then(({ definition }) => {
        setValues(form, definition);
        showPreview(form, preview);
      })
      .catch(flashError);
  } else {
    showPreview(form, preview);
  }
  return () => clearTimeout(timer);
}

function input(name, props = {}) {
  return h('input', { name, ...props });
}

function periodicForm(editing, changed) {
  const kind = h(
    'select',
    { name: 'kind' },
    KINDS.map((k) => h('option', { value: k }, k)),
  );
  const task = h('select', { name: 'task', required: true });
  registeredTasks()
    .then((items) => {
      const chosen = task.value;
      fill(
        task,
        items.map((t) => h('option', { value: t.name, selected: t.name === chosen }, t.name)),
      );
      if (task.dataset.want) task.value = task.dataset.want;
    })
    .catch(flashError);
  const groups = {
    crontab: h(
      'fieldset',
      { 'data-kind': 'crontab' },
      h('legend', {}, 'Crontab'),
      ['minute', 'hour', 'dayOfMonth', 'monthOfYear', 'dayOfWeek'].map((k) =>
        field(k, input(`crontab.${k}`, { value: '*', size: '6' }), `crontab.${k}`),
      ),
      field('timezone', input('crontab.timezone', { placeholder: 'UTC' }), 'crontab.timezone'),
    ),
    interval: h(
      'fieldset',
      { 'data-kind': 'interval' },
      h('legend', {}, 'Interval'),
      field('every', input('interval.every', { type: 'number', min: '1', value: '10' }), 'interval.every'),
      field(
        'period',
        h(
          'select',
          { name: 'interval.period' },
          PERIODS.map((p) => h('option', { value: p, selected: p === 'seconds' }, p)),
        ),
        'interval.period',
      ),
    ),
    solar: h(
      'fieldset',
      { 'data-kind': 'solar' },
      h('legend', {}, 'Solar'),
      field(
        'event',
        h(
          'select',
          { name: 'solar.event' },
          SOLAR.map((e) => h('option', { value: e }, e)),
        ),
        'solar.event',
      ),
      field(
        'latitude',
        input('solar.latitude', { type: 'number', step: 'any', value: '0' }),
        'solar.latitude',
      ),
      field(
        'longitude',
        input('solar.longitude', { type: 'number', step: 'any', value: '0' }),
        'solar.longitude',
      ),
    ),
    clocked: h(
      'fieldset',
      { 'data-kind': 'clocked' },
      h('legend', {}, 'Clocked'),
      field('at', input('clocked.clockedTime', { type: 'datetime-local', step: '1' }), 'clocked.clockedTime'),
    ),
  };
  const showKind = () => {
    for (const [k, group] of Object.entries(groups)) group.hidden = k !== kind.value;
  };
  kind.addEventListener('change', showKind);
  const form = h(
    'form',
    {
      class: 'card periodic-form',
      'aria-label': 'Periodic task',
      oninput: changed,
      onchange: changed,
      onsubmit: async (event) => {
        event.preventDefault();
        showFieldErrors(form, undefined);
        let body;
        try {
          body = readForm(form);
        } catch (error) {
          showFieldErrors(form, error);
          return;
        }
        try {
          if (editing) await api('PUT', `/api/periodic-tasks/${encodeURIComponent(editing)}`, body);
          else await api('POST', '/api/periodic-tasks', body);
          flash(`Saved ${body.name}.`);
          location.hash = '#/periodic';
        } catch (error) {
          if (!showFieldErrors(form, error)) flashError(error);
        }
      },
    },
    field(
      'Name',
      input('name', { required: true, readonly: Boolean(editing), value: editing ?? '' }),
      'name',
    ),
    field('Task', task, 'task'),
    field('Schedule', kind, 'schedule'),
    Object.values(groups),
    field('args (JSON array)', h('textarea', { name: 'args', rows: '2', placeholder: '[]' }), 'args'),
    field('kwargs (JSON object)', h('textarea', { name: 'kwargs', rows: '2', placeholder: '{}' }), 'kwargs'),
    field('Queue', input('queue', { placeholder: "the task's" }), 'queue'),
    field('Description', input('description'), 'description'),
    h('label', { class: 'inline' }, input('enabled', { type: 'checkbox', checked: true }), ' Enabled'),
    h('label', { class: 'inline' }, input('oneOff', { type: 'checkbox' }), ' One-off'),
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary write', disabled: !canWrite() }, 'Save'),
    ),
  );
  showKind();
  return form;
}

const value = (form, name) => form.elements.namedItem(name)?.value ?? '';

function json(form, name, fallback) {
  const text = value(form, name).trim();
  if (!text) return fallback;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw { field: name, message: `is not JSON (${error.message})` };
  }
}

/** The form as a definition, as `POST /api/periodic-tasks` takes it. */
function readForm(form) {
  const kind = value(form, 'kind');
  const schedule = {
    crontab: () => {
      const c = Object.fromEntries(
        ['minute', 'hour', 'dayOfMonth', 'monthOfYear', 'dayOfWeek'].map((k) => [
          k,
          value(form, `crontab.${k}`) || '*',
        ]),
      );
      const tz = value(form, 'crontab.timezone');
      return tz ? { ...c, timezone: tz } : c;
    },
    interval: () => ({
      every: Number(value(form, 'interval.every')),
      period: value(form, 'interval.period'),
    }),
    solar: () => ({
      event: value(form, 'solar.event'),
      latitude: Number(value(form, 'solar.latitude')),
      longitude: Number(value(form, 'solar.longitude')),
    }),
    clocked: () => {
      const at = value(form, 'clocked.clockedTime');
      return { clockedTime: at ? new Date(at).toISOString() : '' };
    },
  }[kind]();
  const queue = value(form, 'queue');
  return {
    name: value(form, 'name'),
    task: value(form, 'task'),
    [kind]: schedule,
    args: json(form, 'args', []),
    kwargs: json(form, 'kwargs', {}),
    ...(queue ? { queue } : {}),
    description: value(form, 'description'),
    enabled: form.elements.namedItem('enabled').checked,
    oneOff: form.elements.namedItem('oneOff').checked,
  };
}

function setValues(form, d) {
  const set = (name, v) => {
    const el = form.elements.namedItem(name);
    if (!el || v === undefined || v === null) return;
    if (el.type === 'checkbox') el.checked = Boolean(v);
    else el.value = typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  const task = form.elements.namedItem('task');
  task.dataset.want = d.task;
  if (![...task.options].some((o) => o.value === d.task)) task.append(h('option', { value: d.task }, d.task));
  set('task', d.task);
  for (const k of ['args', 'kwargs', 'queue', 'description', 'enabled', 'oneOff']) set(k, d[k]);
  const kind = KINDS.find((k) => d[k]);
  set('kind', kind);
  form.elements.namedItem('kind').dispatchEvent(new Event('change'));
  for (const [k, v] of Object.entries(d[kind] ?? {})) {
    set(`${kind}.${k}`, kind === 'clocked' ? String(v).slice(0, 19) : v);
  }
}

async function showPreview(form, section) {
  let draft;
  try {
    const {
      name: _n,
      task: _t,
      args: _a,
      kwargs: _k,
      queue: _q,
      description: _d,
      enabled: _e,
      oneOff: _o,
      ...schedule
    } = readForm(form);
    draft = schedule;
  } catch {
    return;
  }
  const list = section.querySelector('ol, p');
  try {
    const preview = await api('POST', '/api/periodic-tasks/preview', { ...draft, count: 5 });
    showFieldErrors(form, undefined);
    list.replaceWith(
      h(
        'ol',
        { class: 'runs' },
        preview.times.map((t, i) =>
          h(
            'li',
            {},
            h('time', { datetime: t }, preview.localTimes[i] ?? t),
            // UTC beside the schedule's own zone when they differ.
            preview.timezone === 'UTC' ? [] : h('span', { class: 'muted' }, ` (${t})`),
          ),
        ),
      ),
    );
    section.querySelector('h2').textContent = `Next runs — ${preview.schedule}`;
  } catch (error) {
    list.replaceWith(
      h('p', { class: 'field-error' }, error.field ? `${error.field}: ${error.message}` : error.message),
    );
    if (error.field) showFieldErrors(form, error);
  }
}
