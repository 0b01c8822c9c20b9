// call.js: the call page for Matrix users and the clinician (/call/<id>#<token>), and the
// same page as an Element widget (/widget).
import { SessionPage } from './session.js';
import { widgetLogin } from './widget.js';
import { message } from './dom.js';
import { t } from './i18n.js';
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
      history.replaceState(null, '', location.pathname);
    }
    token = sessionStorage.getItem(key) || '';
  }
  if (!token) return message(t('title'), t('signedOut'));
  new SessionPage({ auth: token, guest: false }).start();
}

main();
