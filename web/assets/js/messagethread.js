// messagethread.js: a client's Messages thread (docs/web-api.md, /api/portal/messages and
// /api/panel/clients/{id}/messages), shown in an element: the messages oldest first, the newest
// at the bottom, followed live by long poll, and a send box. The portal's tab
// (portalmessages.js) and the panel's record view (panelmessages.js) both mount it.
//
// Every text goes in as textContent, direction-isolated, as in the in-call chat: markup shows
// as text, nothing becomes a link, and bidi controls show as �. No attachments.

import { request, ApiError } from './api.js';
import { h } from './dom.js';
import { locale } from './i18n.js';

function visible(text) {
  return String(text).replace(/[\u202A-\u202E\u2066-\u2069]/g, '\uFFFD');
}

// mountThread fills el with the thread at path and follows it until el leaves the page.
//   words(key, vars): the thread's words in the page's language;
//   seen: whether a read counts as the reader having read the thread (the portal: ?seen=1
//         while the page is in view);
// It returns stop().
export function mountThread(el, { path, words, seen = false }) {
  const list = h('ol', { class: 'chat-list thread-list', id: 'thread-list', 'aria-live': 'polite', 'aria-label': words('title') });
  // Hidden until the first answer: "No messages yet" only once the thread is known to be empty.
  const empty = h('p', { class: 'chat-empty', id: 'thread-empty', hidden: true }, words('empty'));
  const note = h('p', { class: 'hint thread-note', id: 'thread-note', hidden: true });
  const error = h('p', { class: 'error', id: 'thread-error', role: 'alert' });
  const input = h('textarea', { id: 'thread-input', rows: 3, maxlength: 2000, placeholder: words('placeholder'), 'aria-label': words('label') });
  const sendButton = h('button', { type: 'submit', class: 'primary', id: 'thread-send' }, words('send'));
  const form = h('form', { class: 'chat-form thread-form', onsubmit: (e) => { e.preventDefault(); send(); } },
    input, h('div', { class: 'chat-form-row' }, h('span', { class: 'hint' }, words('hint')), sendButton), error);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  el.replaceChildren(h('div', { class: 'thread' }, note, empty, list, form));

  const shown = new Set();
  let version = 0;
  let stopped = false;
  const ctrl = new AbortController();

  function item(m) {
    const at = new Date(m.ts);
    const time = at.toLocaleString(locale(), { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
    const text = h('p', { class: 'chat-text', dir: 'auto' });
    text.textContent = visible(m.text);
    return h('li', { class: 'chat-message' + (m.mine ? ' mine' : ''), 'data-id': m.id },
      h('div', { class: 'chat-meta' },
        h('bdi', { class: 'chat-name' }, m.mine ? words('you') : visible(m.name)),
        h('time', { class: 'chat-time', datetime: at.toISOString() }, time)),
      text);
  }

  function render(view) {
    if (view.max_length) input.maxLength = view.max_length;
    if (view.read_only) {
      note.textContent = words('readOnly');
      note.hidden = false;
      form.hidden = true;
    } else if (view.relayed) {
      note.textContent = words('relayed');
      note.hidden = false;
    }
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    for (const m of view.messages || []) {
      if (shown.has(m.id)) continue;
      shown.add(m.id);
      list.append(item(m));
    }
    empty.hidden = shown.size > 0;
    if (atBottom || shown.size === (view.messages || []).length) list.lastElementChild?.scrollIntoView({ block: 'end' });
  }

  const inView = () => seen && document.visibilityState === 'visible';
  const url = (after) => {
    const q = new URLSearchParams();
    if (after) q.set('after', String(after));
    if (inView()) q.set('seen', '1');
    const s = q.toString();
    return s ? path + (path.includes('?') ? '&' : '?') + s : path;
  };

  (async () => {
    let failures = 0;
    while (!stopped) {
      if (!el.isConnected && version) { stop(); return; }
      try {
        const view = await request('GET', url(version), { signal: ctrl.signal });
        failures = 0;
        if (stopped) return;
        if (view.version !== version || !version) {
          version = view.version;
          render(view);
        }
      } catch (e) {
        if (stopped || e.name === 'AbortError') return;
        if (e instanceof ApiError && e.status !== 0 && e.status < 500) {
          error.textContent = e.status === 401 ? words('signedOut') : words('unavailable');
          form.hidden = true;
          return;
        }
        failures++;
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * failures)));
      }
    }
  })();

  // Coming back to the page reads what arrived meanwhile.
  const onVisible = () => {
    if (inView() && version) request('GET', url(0)).catch(() => {});
  };
  document.addEventListener('visibilitychange', onVisible);

  async function send() {
    const text = input.value.trim();
    error.textContent = '';
    if (!text) return;
    if ([...text].length > input.maxLength) { error.textContent = words('tooLong', { n: input.maxLength }); return; }
    sendButton.disabled = true;
    try {
      await request('POST', path, { body: { text } });
      input.value = '';
    } catch (e) {
      const byCode = { bad_message: 'badMessage', rate_limited: 'tooFast', read_only: 'readOnly' };
      error.textContent = words((e instanceof ApiError && byCode[e.code]) || 'failed');
    } finally {
      sendButton.disabled = false;
      input.focus();
    }
  }

  function stop() {
    stopped = true;
    ctrl.abort();
    document.removeEventListener('visibilitychange', onVisible);
  }
  return stop;
}
