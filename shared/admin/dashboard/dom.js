// Every element is built with createElement and every value goes in as text: task arguments and
// results are untrusted, so nothing here ever parses a string as markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * An element: `h('button', { class: 'x', onclick: fn, disabled: true }, 'text', child)`.
 * Props starting with `on` are listeners; `true`/`false` set or omit an attribute; children that
 * are strings or numbers become text nodes.
 */
export function h(tag, props = {}, ...children) {
  return build(document.createElement(tag), props, children);
}

/** An SVG element, built the same way. */
export function s(tag, props = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

function build(el, props, children) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = String(value);
    else if (key === 'checked') el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Empties an element and fills it anew. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A value for a table cell or a detail line: "—" for nothing. */
export function show(value) {
  if (value === undefined || value === null || value === '') return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** JSON, indented, for a <pre>. */
export function pretty(value) {
  if (value === undefined) return '—';
  return JSON.stringify(value, null, 2);
}

/** An ISO time as the browser's local time, to the second; "—" for none. */
export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, { hour12: false });
}

/** Seconds between two ISO times, to the millisecond; "—" when either is missing. */
export function runtime(started, done) {
  if (!started || !done) return '—';
  const ms = new Date(done).getTime() - new Date(started).getTime();
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(3)} s` : '—';
}

/** A labelled form field: `<label>Text <input></label>` with a slot for its error. */
export function field(label, control, name) {
  return h(
    'label',
    { class: 'field', 'data-field': name },
    h('span', { class: 'label' }, label),
    control,
    h('span', { class: 'field-error', role: 'alert' }),
  );
}

/** Shows the 400 body's `field` (and each of `issues`) next to the form's matching field. */
export function showFieldErrors(form, error) {
  for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
  for (const marked of form.querySelectorAll('[aria-invalid]')) marked.removeAttribute('aria-invalid');
  const issues = error?.issues?.length ? error.issues : error?.field ? [error] : [];
  let shown = 0;
  for (const issue of issues) {
    const target = findField(form, issue.field);
    if (!target) continue;
    target.querySelector('.field-error').textContent = issue.message;
    target.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true');
    shown++;
  }
  return shown;
}

function findField(form, name) {
  // `crontab.minute` first, then its parents (`crontab`), so an error is shown as near as it can
  // be; then the same without leading parts, for a path named from further in (`calls[0].args.0`).
  const fields = [...form.querySelectorAll('[data-field]')];
  const parts = String(name ?? '').split('.');
  for (let start = 0; start < parts.length; start++) {
    for (let end = parts.length; end > start; end--) {
      const key = parts.slice(start, end).join('.');
      const found = fields.find((el) => el.dataset.field === key);
      if (found) return found;
    }
  }
  return undefined;
}

/** An inline "are you sure" in place of the button (no window.confirm: keyboard- and test-friendly). */
export function confirmThen(button, question, action) {
  const holder = h('span', { class: 'confirm' });
  const restore = () => holder.replaceWith(button);
  fill(
    holder,
    h('span', {}, question, ' '),
    h(
      'button',
      {
        type: 'button',
        class: 'danger',
        onclick: () => {
          restore();
          action();
        },
      },
      'Yes',
    ),
    h('button', { type: 'button', onclick: restore }, 'No'),
  );
  button.replaceWith(holder);
  holder.querySelector('button')?.focus();
}
