// portalmessages.js: the portal's Messages tab, the signed-in client's thread with their
// professionals (messagethread.js). A client with their own Matrix account reads it here and
// answers from their Matrix app.
import { addPortalTab } from './portalhome.js';
import { t } from './i18n.js';
import { h } from './dom.js';
import { mountThread } from './messagethread.js';
import './portalmessageswords.js';

let stopThread = null;

function words(key, vars = {}) {
  return t('msg_' + key, vars);
}

function messagesTab() {
  if (stopThread) stopThread();
  const el = h('div', { class: 'my-messages', id: 'my-messages' });
  const out = h('div', {}, h('h2', {}, t('msg_title')), h('p', { class: 'hint' }, t('msg_intro')), el);
  stopThread = mountThread(el, { path: '/api/portal/messages', words, seen: true });
  return out;
}

// The home's summary (home.messages.unread, from the database) shows as a count beside the
// tab's name.
addPortalTab({
  id: 'messages', label: 'tabMessages', order: 25, render: messagesTab,
  badge: (home) => (home.messages && home.messages.unread ? String(home.messages.unread) : ''),
});

window.addEventListener('hashchange', () => {
  if (location.hash !== '#messages' && stopThread) { stopThread(); stopThread = null; }
});
