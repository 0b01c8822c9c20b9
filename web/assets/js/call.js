// call.js: the call page for Matrix users and the clinician (/call/<id>#<token>), and the
// same page as an Element widget (/widget).
import { SessionPage } from './session.js';
import { widgetLogin } from './widget.js';
import { message } from './dom.js';
import { t } from './i18n.js';
import { installChat } from './chat.js';
import { errorText } from './callwords.js';

async function main() {
  let token = '';
  const key = 'telehealth-call:' + location.pathname;
  if (location.pathname === '/widget') {
    try {
      token = await widgetLogin();
    } catch (e) {
      return message(t('title'), e.code ? errorText(e) : (e.message || t('error')));
    }
  } else {
    // The token arrives in the fragment (never sent to a server); keep it for reloads only.
    if (location.hash.length > 1) {
      sessionStorage.setItem(key, location.hash.slice(1));
      history.replaceState(null, '', location.pathname + location.search);
    }
    token = sessionStorage.getItem(key) || '';
  }
  if (!token) return message(t('title'), t('signedOut'));
  // The panel opens the call in its own language (?lang=fr); Element passes its own.
  const lang = new URLSearchParams(location.search).get('lang') || '';
  new SessionPage({ auth: token, guest: false, lang: lang.slice(0, 2) }).start();
  // The call view gets its chat panel, except in Element, which shows the room's own thread
  // beside the widget (and writing there is the person themselves, not relayed by the bot).
  if (location.pathname !== '/widget') installChat({ auth: token });
}

main();
