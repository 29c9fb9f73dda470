// The dashboard's shell: sign-in, the tabs, the hash router and the status line. Each view is a
// module whose `render(main, params)` fills `main` and returns a function that stops its timers.
import { ApiError, api, flash, session, setToken, token, whenUnauthorized } from './api.js';
import { fill, h } from './dom.js';
import { renderPeriodic } from './periodic.js';
import { renderPeriodicForm } from './periodic-form.js';
import { renderMonitor, renderQueues } from './queues.js';
import { renderTaskDetail } from './task-actions.js';
import { renderTasks } from './tasks.js';

const TABS = [
  ['#/tasks', 'Tasks'],
  ['#/periodic', 'Periodic tasks'],
  ['#/queues', 'Queues & workers'],
  ['#/monitor', 'Monitor'],
];

const ROUTES = [
  [/^#\/tasks\/(.+)$/, renderTaskDetail],
  [/^#\/tasks$/, renderTasks],
  [/^#\/periodic\/new$/, renderPeriodicForm],
  [/^#\/periodic\/edit\/(.+)$/, renderPeriodicForm],
  [/^#\/periodic$/, renderPeriodic],
  [/^#\/queues$/, renderQueues],
  [/^#\/monitor$/, renderMonitor],
];

const root = document.getElementById('app');
let stopView = () => {};

function signIn(message) {
  stopView();
  stopView = () => {};
  const input = h('input', {
    type: 'password',
    id: 'token',
    name: 'token',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'token-help',
  });
  const error = h('p', { class: 'flash error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    {
      class: 'signin card',
      onsubmit: async (event) => {
        event.preventDefault();
        setToken(input.value.trim());
        try {
          Object.assign(session, await api('GET', '/api/session'));
          shell();
        } catch (e) {
          error.textContent =
            e instanceof ApiError && e.status === 401 ? 'That token was refused.' : e.message;
        }
      },
    },
    h('h1', {}, 'Celerity'),
    h('label', { for: 'token' }, 'Admin or viewer token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'muted' },
      'Kept for this browser tab only. `npm run dev` prints both tokens.',
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    error,
  );
  fill(root, form);
  input.focus();
}

function shell() {
  const nav = h(
    'nav',
    { 'aria-label': 'Views' },
    TABS.map(([href, label]) => h('a', { href, 'data-tab': href }, label)),
  );
  const header = h(
    'header',
    {},
    h('a', { class: 'brand', href: '#/tasks' }, 'Celerity'),
    nav,
    h(
      'span',
      { class: 'who' },
      h('span', { class: `role ${session.role}`, title: 'Your token' }, session.role ?? ''),
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          onclick: () => {
            setToken(undefined);
            signIn('Signed out.');
          },
        },
        'Sign out',
      ),
    ),
  );
  const main = h('main', { id: 'main', tabindex: '-1' });
  fill(root, header, h('p', { id: 'flash', class: 'flash', role: 'status', 'aria-live': 'polite' }), main);
  document.body.classList.toggle('viewer', session.role !== 'admin');
  route();
}

function route() {
  const main = document.getElementById('main');
  if (!main) return;
  const hash = location.hash || '#/tasks';
  stopView();
  stopView = () => {};
  for (const link of document.querySelectorAll('nav a')) {
    const current = hash.startsWith(link.dataset.tab);
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  flash('');
  for (const [pattern, render] of ROUTES) {
    const match = pattern.exec(hash);
    if (match) {
      const params = match.slice(1).map((part) => decodeURIComponent(part));
      stopView = render(fill(main), ...params) ?? (() => {});
      return;
    }
  }
  location.hash = '#/tasks';
}

// A refused token mid-session shows the sign-in form; on the form itself, it says so there.
whenUnauthorized(() => {
  if (!document.querySelector('.signin')) signIn('Your token was refused: sign in again.');
});
window.addEventListener('hashchange', route);

async function start() {
  if (!token()) return signIn();
  try {
    Object.assign(session, await api('GET', '/api/session'));
    shell();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) signIn(error.message);
  }
}

start();
