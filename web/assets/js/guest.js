// guest.js: the page of a web-link guest, /g/<token>[/sessions].
import { SessionPage } from './session.js';
import { mySessions } from './mysessions.js';
import { setupPage } from './setup.js';

const parts = location.pathname.split('/').filter(Boolean);
const token = decodeURIComponent(parts[1] || '');
if (parts[2] === 'sessions') {
  mySessions(token);
} else if (parts[2] === 'setup') {
  setupPage(token);
} else {
  new SessionPage({ auth: token, guest: true }).start();
}
