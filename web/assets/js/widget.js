// widget.js: the call page inside Element (a room widget). It speaks the Matrix widget API
// over postMessage with the client around it: it answers the client's capabilities request
// and asks for an OpenID token, which the bridge checks with the user's homeserver.
import { request } from './api.js';
import { setLocale, t } from './i18n.js';

const params = new URLSearchParams(location.search);
const widgetId = params.get('widgetId') || '';
// parentOrigin is the origin of the Matrix client around the widget (Element says it in
// parentUrl). Messages go to that origin only, never to '*' (any page framing the widget
// would read them), and only messages from it are heard. Without it the widget stays silent.
const parentOrigin = (() => {
  try {
    const origin = new URL(params.get('parentUrl') || '').origin;
    return origin && origin !== 'null' ? origin : null;
  } catch (e) { return null; }
})();

let nextRequest = 0;
const pending = new Map();
let openidWaiter = null;

function post(msg) {
  if (parentOrigin) window.parent.postMessage(msg, parentOrigin);
}

window.addEventListener('message', (ev) => {
  const msg = ev.data;
  if (!msg || typeof msg !== 'object' || !parentOrigin || ev.origin !== parentOrigin || ev.source !== window.parent) return;
  if (msg.api === 'fromWidget' && msg.response && pending.has(msg.requestId)) {
    pending.get(msg.requestId)(msg.response);
    pending.delete(msg.requestId);
    return;
  }
  if (msg.api !== 'toWidget') return;
  switch (msg.action) {
    case 'capabilities':
      post({ ...msg, response: { capabilities: [] } });
      break;
    case 'openid_credentials':
      post({ ...msg, response: {} });
      if (openidWaiter) openidWaiter(msg.data || {});
      break;
    default:
      post({ ...msg, response: {} });
  }
});

function ask(action, data = {}) {
  const requestId = 'telehealth-' + (++nextRequest);
  return new Promise((resolve) => {
    pending.set(requestId, resolve);
    post({ api: 'fromWidget', widgetId, requestId, action, data });
  });
}

// openID asks the client for an OpenID token (the user may have to allow it first).
async function openID() {
  const answer = await ask('get_openid');
  if (answer.state === 'allowed') return answer;
  if (answer.state === 'request') {
    const later = await new Promise((resolve) => { openidWaiter = resolve; });
    if (later.state === 'allowed') return later;
  }
  throw new Error(t('signedOut'));
}

// widgetLogin returns a call token for the session in the widget's address.
export async function widgetLogin() {
  if (params.get('lang')) setLocale(params.get('lang').slice(0, 2));
  const session = params.get('session') || '';
  const key = 'telehealth-widget:' + session;
  const kept = sessionStorage.getItem(key);
  if (kept) return kept;
  if (window.parent === window || !parentOrigin) throw new Error(t('signedOut'));
  const creds = await openID();
  const login = await request('POST', '/api/widget/login', {
    body: { access_token: creds.access_token, matrix_server_name: creds.matrix_server_name, session_id: session },
  });
  sessionStorage.setItem(key, login.call_token);
  return login.call_token;
}
