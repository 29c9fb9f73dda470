// One task's page (Flower's task detail) and the task actions: apply, revoke, retry, bulk replay.
import { api, canWrite, flash, flashError, registeredTasks } from './api.js';
import { field, fill, h, pretty, runtime, show, showFieldErrors, when } from './dom.js';

const FINISHED = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
const FOLLOW_MS = 2000;

export function renderTaskDetail(main, id) {
  let timer;
  const body = h('div');

  async function load() {
    try {
      const task = await api('GET', `/api/tasks/${encodeURIComponent(id)}`);
      fill(body, detail(task, load));
      // Until it finishes, follow it as Flower does.
      if (!FINISHED.has(task.status)) timer = setTimeout(load, FOLLOW_MS);
    } catch (error) {
      if (error.status !== 404) return flashError(error);
      // Sent but not yet claimed by a worker: no row yet. Celery calls that PENDING; keep looking.
      fill(
        body,
        h('p', { class: 'muted' }, 'PENDING: no worker has recorded this task yet (or the id is unknown).'),
      );
      timer = setTimeout(load, FOLLOW_MS);
    }
  }

  fill(main, h('p', {}, h('a', { href: '#/tasks' }, '← Tasks')), h('h1', { class: 'mono' }, id), body);
  load();
  return () => clearTimeout(timer);
}

function detail(task, reload) {
  const line = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
  const json = (label, value) => [
    h('dt', {}, label),
    h('dd', {}, h('pre', { class: 'json' }, pretty(value))),
  ];
  const act = async (what, path) => {
    try {
      const answer = await api('POST', path);
      flash(answer.newTaskId ? `${what}: new task ${answer.newTaskId}` : `${what}: done`);
      reload();
    } catch (error) {
      flashError(error);
    }
  };
  const id = encodeURIComponent(task.taskId);
  return [
    h(
      'div',
      { class: 'toolbar' },
      h(
        'button',
        {
          type: 'button',
          class: 'write',
          disabled: !canWrite() || FINISHED.has(task.status),
          onclick: () => act('Revoked', `/api/tasks/${id}/revoke`),
        },
        'Revoke',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'write',
          disabled: !canWrite() || task.status !== 'FAILURE' || Boolean(task.replayedAs),
          onclick: () => act('Retried', `/api/tasks/${id}/retry`),
        },
        'Retry',
      ),
    ),
    h(
      'dl',
      { class: 'detail' },
      line('Name', show(task.taskName)),
      line('State', h('span', { class: `state ${String(task.status).toLowerCase()}` }, show(task.status))),
      json('args', task.args),
      json('kwargs', task.kwargs),
      json('Result', task.result),
      line('Error', show(task.errorType)),
      task.traceback
        ? [h('dt', {}, 'Traceback'), h('dd', {}, h('pre', { class: 'traceback' }, task.traceback))]
        : [],
      line('Received', when(task.dateCreated)),
      line('Started', when(task.dateStarted)),
      line('Finished', when(task.dateDone)),
      line('Runtime', runtime(task.dateStarted, task.dateDone)),
      line('ETA', when(task.eta)),
      line('Retries', show(task.retries)),
      line('Queue', show(task.queue)),
      line('Worker', show(task.worker)),
      line('Origin', show(task.origin)),
      line('Periodic task', show(task.periodicTask)),
      line(
        'Replayed as',
        task.replayedAs
          ? h('a', { href: `#/tasks/${encodeURIComponent(task.replayedAs)}` }, task.replayedAs)
          : '—',
      ),
      task.scheduled ? json('Scheduled', task.scheduled) : [],
    ),
  ];
}

/** Parses a JSON field of a form; a mistake is shown at the field, as the API's 400s are. */
function parseJson(form, name, text, fallback) {
  if (!text.trim()) return fallback;
  try {
    return JSON.parse(text);
  } catch (error) {
    showFieldErrors(form, { field: name, message: `is not JSON (${error.message})` });
    throw error;
  }
}

/** Flower's async-apply: a registered task by name, its args and kwargs as JSON, when and where. */
export function applyForm(done) {
  const task = h('select', { name: 'task', required: true });
  registeredTasks()
    .then((items) =>
      fill(
        task,
        items.map((t) => h('option', { value: t.name }, t.name)),
      ),
    )
    .catch(flashError);
  const args = h('textarea', { name: 'args', rows: '2', placeholder: '[]' });
  const kwargs = h('textarea', { name: 'kwargs', rows: '2', placeholder: '{}' });
  const countdown = h('input', { name: 'countdown', type: 'number', min: '0', step: '1' });
  const eta = h('input', { name: 'eta', type: 'datetime-local', step: '1' });
  const queue = h('input', { name: 'queue', placeholder: "the task's" });
  const form = h(
    'form',
    {
      class: 'card apply',
      'aria-label': 'Apply a task',
      onsubmit: async (event) => {
        event.preventDefault();
        showFieldErrors(form, undefined);
        try {
          const body = {
            task: task.value,
            args: parseJson(form, 'args', args.value, undefined),
            kwargs: parseJson(form, 'kwargs', kwargs.value, undefined),
            countdown: countdown.value ? Number(countdown.value) : undefined,
            eta: eta.value ? new Date(eta.value).toISOString() : undefined,
            queue: queue.value || undefined,
          };
          const sent = await api('POST', '/api/tasks', body);
          flash(`Applied ${sent.task}: ${sent.taskId} (queue ${sent.queue}, via ${sent.via})`);
          form.remove();
          done(sent);
        } catch (error) {
          if (error instanceof SyntaxError) return;
          if (!showFieldErrors(form, error)) flashError(error);
        }
      },
    },
    h('h2', {}, 'Apply a task'),
    field('Task', task, 'task'),
    field('args (JSON array)', args, 'args'),
    field('kwargs (JSON object)', kwargs, 'kwargs'),
    field('Countdown (s)', countdown, 'countdown'),
    field('ETA', eta, 'eta'),
    field('Queue', queue, 'queue'),
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Apply'),
      h('button', { type: 'button', onclick: () => form.remove() }, 'Cancel'),
    ),
  );
  return form;
}

/** Bulk replay of the FAILUREs matching the list's filter: count first, then confirm that count. */
export function replayPanel(filter, done) {
  const { state: _state, ...rest } = filter;
  const body = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  const text = h('p', {}, 'Counting the failures that match the filter…');
  const buttons = h('div', { class: 'buttons' });
  const panel = h(
    'section',
    { class: 'card replay', 'aria-label': 'Replay failures' },
    h('h2', {}, 'Replay failures'),
    text,
    buttons,
  );
  const cancel = h('button', { type: 'button', onclick: () => panel.remove() }, 'Cancel');
  api('POST', '/api/tasks/replay', { ...body, dryRun: true })
    .then((count) => {
      if (!count.count) {
        fill(text, 'No failures match the filter (failures already re-sent are left out).');
        fill(buttons, cancel);
        return;
      }
      fill(text, `${count.count}${count.more ? '+' : ''} failed task(s) match the filter. Re-send them?`);
      const confirm = h(
        'button',
        {
          type: 'button',
          class: 'primary danger',
          onclick: async () => {
            confirm.disabled = true;
            try {
              const sent = await api('POST', '/api/tasks/replay', { ...body, confirm: count.confirm });
              flash(
                `Replayed ${sent.sent} failed task(s)${sent.skipped.length ? `, ${sent.skipped.length} skipped` : ''}.`,
              );
              panel.remove();
              done(sent);
            } catch (error) {
              flashError(error);
              confirm.disabled = false;
            }
          },
        },
        `Replay ${count.count}`,
      );
      fill(buttons, confirm, cancel);
    })
    .catch((error) => {
      flashError(error);
      panel.remove();
    });
  return panel;
}
