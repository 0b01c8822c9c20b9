// api.js: calls to the bridge's JSON API (docs/web-api.md). Every failure becomes an
// ApiError with the HTTP status, the machine code and the sentence to show.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// request sends one API request. auth is a bearer token (guest link or call token), or
// null for the panel's cookie.
export async function request(method, path, { auth = null, body = undefined, signal = undefined } = {}) {
  const headers = { 'X-Requested-With': 'telehealth' };
  if (auth) headers.Authorization = 'Bearer ' + auth;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let resp;
  try {
    resp = await fetch(path, {
      method, headers, signal, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', '');
  }
  let data = {};
  try { data = await resp.json(); } catch (e) { data = {}; }
  if (!resp.ok) {
    const err = new ApiError(resp.status, data.code || 'error', data.error || '');
    if (data.fields) err.fields = data.fields; // a refusal by field (a form's answers)
    throw err;
  }
  return data;
}

// follow calls onState with every new state of a long-polled resource (GET path?after=v)
// until stop() is called. Network errors are retried after a pause; an ApiError ends the loop
// and goes to onError.
export function follow(path, { auth = null, onState, onError }) {
  const ctrl = new AbortController();
  let stopped = false;
  (async () => {
    let version = 0;
    let failures = 0;
    while (!stopped) {
      try {
        const sep = path.includes('?') ? '&' : '?';
        const url = version ? `${path}${sep}after=${version}` : path;
        const state = await request('GET', url, { auth, signal: ctrl.signal });
        failures = 0;
        if (stopped) return;
        if (state.version !== version) {
          version = state.version;
          onState(state);
        }
      } catch (e) {
        if (stopped || e.name === 'AbortError') return;
        if (e instanceof ApiError && e.status !== 0 && e.status < 500) {
          onError(e);
          return;
        }
        failures++;
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * failures)));
      }
    }
  })();
  return () => { stopped = true; ctrl.abort(); };
}
