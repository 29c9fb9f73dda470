// The API client: the token is asked once per browser tab (sessionStorage) and sent as a bearer
// token on every call; a 401 forgets it and asks again.

const TOKEN_KEY = 'celerity.token';

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.type = error?.type;
    this.field = error?.field;
    this.issues = error?.issues ?? [];
  }
}

/** Who holds the token: `{ name, role }` once signed in. */
export const session = { name: undefined, role: undefined };

let onUnauthorized = () => {};

/** What to do when the token is refused (the app shows the sign-in form again). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export const canWrite = () => session.role === 'admin';

/** One call: JSON in and out; an error body becomes an ApiError with its status, type and field. */
export async function api(method, path, body) {
  const headers = { authorization: `Bearer ${token() ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    credentials: 'omit',
    cache: 'no-store',
  });
  let json;
  try {
    json = await response.json();
  } catch {
    json = undefined;
  }
  if (response.status === 401) {
    setToken(undefined);
    session.role = undefined;
    onUnauthorized();
  }
  if (!response.ok) throw new ApiError(response.status, json?.error);
  return json;
}

/** A query string from the defined, non-empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The registry's task names, read once per page load. */
let registry;
export async function registeredTasks() {
  registry ??= api('GET', '/api/registry').then(
    (r) => r.items,
    (error) => {
      registry = undefined; // asked again next time, not failed for the page's life
      throw error;
    },
  );
  return registry;
}

/** One line at the top: what just happened, or what went wrong (a 403 said plainly). */
export function flash(message, kind = 'info') {
  const line = document.getElementById('flash');
  if (!line) return;
  line.className = `flash ${kind}`;
  line.textContent = message;
}

/** An error as the user should read it. */
export function flashError(error) {
  if (error instanceof ApiError && error.status === 403) {
    flash(`Not allowed: ${error.message}`, 'error');
  } else if (error instanceof ApiError && error.status === 401) {
    flash('Your token was refused: sign in again.', 'error');
  } else {
    flash(error instanceof Error ? error.message : String(error), 'error');
  }
}
