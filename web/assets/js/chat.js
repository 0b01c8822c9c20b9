// chat.js: the in-call chat, the session room's thread (docs/web-api.md, /api/call/chat).
//
// It attaches itself to whatever call view the page shows: when a `nav.controls` bar appears
// inside `.call-layout`, it adds a Chat button (with an unread badge) to the bar and a chat
// panel to the layout, and follows the chat while that view lasts. The call page's own code
// knows nothing of it; installChat is the only call.
//
// Every text (names and messages, from guests or from any Matrix client) goes in as
// textContent, in its own direction-isolated element: markup shows as text, nothing is turned
// into a link, and bidi characters cannot reorder what surrounds them. Bidi embeddings,
// overrides and isolates (which the bridge refuses from the pages, but any Matrix client can
// send) show as �, so that "invoice\u202Egpj.exe" cannot pass for "invoice exe.jpg".

import { request, follow, ApiError } from './api.js';
import { h } from './dom.js';
import { locale } from './i18n.js';

// The chat's words live here, so that the module stays self-contained.
const words = {
  en: {
    chat: 'Chat',
    chatTitle: 'Chat',
    close: 'Close chat',
    unread: '{n} new',
    unreadLabel: 'Chat ({n} unread)',
    empty: 'No messages yet. Messages sent before you joined are not shown.',
    placeholder: 'Write a message',
    label: 'Message',
    send: 'Send',
    you: 'You',
    clinician: 'clinician',
    tooLong: 'This message is too long ({n} characters at most).',
    badMessage: 'This message cannot be sent: it contains invisible characters or is empty.',
    tooFast: 'You are sending messages too fast. Please wait a few seconds.',
    closed: 'The chat is closed: you are not in the session any more.',
    failed: 'The message was not sent. Please try again.',
    hint: 'Enter to send, Shift+Enter for a new line.',
  },
  fr: {
    chat: 'Discussion',
    chatTitle: 'Discussion',
    close: 'Fermer la discussion',
    unread: '{n} nouveau(x)',
    unreadLabel: 'Discussion ({n} non lu(s))',
    empty: 'Aucun message pour l’instant. Les messages envoyés avant votre arrivée ne sont pas affichés.',
    placeholder: 'Écrire un message',
    label: 'Message',
    send: 'Envoyer',
    you: 'Vous',
    clinician: 'praticien',
    tooLong: 'Ce message est trop long ({n} caractères au maximum).',
    badMessage: 'Ce message ne peut pas être envoyé : il est vide ou contient des caractères invisibles.',
    tooFast: 'Vous envoyez des messages trop vite. Veuillez patienter quelques secondes.',
    closed: 'La discussion est fermée : vous n’êtes plus dans la séance.',
    failed: 'Le message n’a pas été envoyé. Veuillez réessayer.',
    hint: 'Entrée pour envoyer, Maj+Entrée pour un retour à la ligne.',
  },
};

// visible replaces the characters that would reorder a text with a visible mark.
function visible(text) {
  return String(text).replace(/[\u202A-\u202E\u2066-\u2069]/g, '\uFFFD');
}

function w(key, vars = {}) {
  const s = (words[locale()] || words.en)[key] ?? words.en[key];
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

// installChat watches the page for call views. auth is the page's bearer token.
export function installChat({ auth }) {
  let chat = null;
  // Messages the person has had the chat open for, across call views (sent back, then let in
  // again): a new view does not count them as unread again.
  const read = new Set();
  const app = document.getElementById('app') || document.body;
  const check = () => {
    const controls = app.querySelector('.call-layout nav.controls');
    if (chat && (!controls || !chat.attachedTo(controls))) {
      chat.stop();
      chat = null;
    }
    if (controls && !chat) chat = new ChatPanel(auth, controls, read);
  };
  new MutationObserver(check).observe(app, { childList: true, subtree: true });
  check();
}

class ChatPanel {
  constructor(auth, controls, read) {
    this.auth = auth;
    this.read = read;
    this.controls = controls;
    this.seen = new Set();
    this.unread = 0;
    this.maxLength = 2000;
    this.badge = h('span', { class: 'chat-badge', id: 'chat-badge', hidden: true });
    this.button = h('button', { type: 'button', id: 'chat-toggle', 'aria-expanded': 'false', 'aria-controls': 'chat-panel', onclick: () => this.toggle() },
      w('chat'), this.badge);
    controls.append(this.button);
    this.list = h('ol', { class: 'chat-list', id: 'chat-list', 'aria-live': 'polite', 'aria-label': w('chatTitle') });
    this.empty = h('p', { class: 'chat-empty', id: 'chat-empty' }, w('empty'));
    this.error = h('p', { class: 'error', id: 'chat-error', role: 'alert' });
    this.input = h('textarea', { id: 'chat-input', rows: 2, maxlength: this.maxLength, placeholder: w('placeholder'), 'aria-label': w('label'), 'aria-describedby': 'chat-hint' });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.send(); }
    });
    this.sendButton = h('button', { type: 'submit', class: 'primary', id: 'chat-send' }, w('send'));
    const form = h('form', { class: 'chat-form', onsubmit: (e) => { e.preventDefault(); this.send(); } },
      this.input, h('div', { class: 'chat-form-row' }, h('span', { class: 'hint', id: 'chat-hint' }, w('hint')), this.sendButton), this.error);
    this.panel = h('aside', { class: 'chat-panel', id: 'chat-panel', hidden: true, 'aria-label': w('chatTitle') },
      h('div', { class: 'chat-header' }, h('h2', {}, w('chatTitle')),
        h('button', { type: 'button', class: 'chat-close', id: 'chat-close', 'aria-label': w('close'), onclick: () => this.toggle(false) }, '×')),
      this.empty, this.list, form);
    this.layout = controls.closest('.call-layout');
    this.layout.append(this.panel);
    this.follow(auth, 0);
  }

  // follow reads the chat as it changes. A guest let into the call as the clinician admits
  // them reaches the call a moment before the bridge has joined them to the session's room:
  // the chat's refusal then (not_in_session) is retried a few times before it counts.
  follow(auth, tries) {
    this.stopFollow = follow('/api/call/chat', {
      auth,
      onState: (chat) => this.render(chat),
      onError: (e) => {
        if (e instanceof ApiError && e.code === 'not_in_session' && tries < 40 && !this.stopped) {
          this.retry = setTimeout(() => { if (!this.stopped) this.follow(auth, tries + 1); }, 250);
          return;
        }
        this.closed(e);
      },
    });
  }

  attachedTo(controls) { return this.controls === controls && this.layout.isConnected && this.panel.isConnected; }

  stop() {
    this.stopped = true;
    clearTimeout(this.retry);
    if (this.stopFollow) this.stopFollow();
    this.button.remove();
    this.panel.remove();
  }

  get open() { return !this.panel.hidden; }

  toggle(open = !this.open) {
    this.panel.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
    if (open) {
      this.seen.forEach((id) => this.read.add(id));
      this.unread = 0;
      this.showBadge();
      this.list.lastElementChild?.scrollIntoView({ block: 'end' });
      this.input.focus();
    } else {
      this.button.focus();
    }
  }

  showBadge() {
    this.badge.hidden = this.unread === 0;
    this.badge.textContent = this.unread ? w('unread', { n: this.unread }) : '';
    if (this.unread) this.button.setAttribute('aria-label', w('unreadLabel', { n: this.unread }));
    else this.button.removeAttribute('aria-label');
  }

  render(chat) {
    if (chat.max_length) { this.maxLength = chat.max_length; this.input.maxLength = chat.max_length; }
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    for (const m of chat.messages || []) {
      if (this.seen.has(m.id)) continue;
      this.seen.add(m.id);
      this.list.append(this.item(m));
      if (this.open) this.read.add(m.id);
      else if (!m.mine && !this.read.has(m.id)) this.unread++;
    }
    this.empty.hidden = this.seen.size > 0;
    this.showBadge();
    if (this.open && atBottom) this.list.scrollTop = this.list.scrollHeight;
  }

  item(m) {
    const time = new Date(m.ts).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
    const name = m.mine ? w('you') : visible(m.name);
    const cls = ['chat-message', m.mine ? 'mine' : '', m.host ? 'host' : '', m.kind].filter(Boolean).join(' ');
    const text = h('p', { class: 'chat-text', dir: 'auto' });
    text.textContent = visible(m.kind === 'emote' ? `* ${m.name} ${m.text}` : m.text);
    return h('li', { class: cls, 'data-id': m.id },
      h('div', { class: 'chat-meta' },
        h('bdi', { class: 'chat-name' }, name),
        m.host && !m.mine ? h('span', { class: 'chat-role' }, ' · ' + w('clinician')) : null,
        h('time', { class: 'chat-time', datetime: new Date(m.ts).toISOString() }, time)),
      text);
  }

  async send() {
    const text = this.input.value.trim();
    this.error.textContent = '';
    if (!text) return;
    if ([...text].length > this.maxLength) { this.error.textContent = w('tooLong', { n: this.maxLength }); return; }
    this.sendButton.disabled = true;
    try {
      await request('POST', '/api/call/chat', { auth: this.auth, body: { text } });
      this.input.value = '';
    } catch (e) {
      const byCode = { bad_message: 'badMessage', rate_limited: 'tooFast', not_in_session: 'closed', session_over: 'closed' };
      this.error.textContent = w((e instanceof ApiError && byCode[e.code]) || 'failed');
    } finally {
      this.sendButton.disabled = false;
      this.input.focus();
    }
  }

  closed(e) {
    this.error.textContent = w(e instanceof ApiError && e.code === 'no_chat' ? 'failed' : 'closed');
    this.input.disabled = true;
    this.sendButton.disabled = true;
  }
}
