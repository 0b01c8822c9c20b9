// guest.js: the page of a web-link guest, /g/<token>[/sessions].
import { SessionPage } from './session.js';
import { mySessions } from './mysessions.js';
import { installChat } from './chat.js';
import { setupPage } from './setup.js';

const parts = location.pathname.split('/').filter(Boolean);
const token = decodeURIComponent(parts[1] || '');
if (parts[2] === 'sessions') {
  mySessions(token);
} else if (parts[2] === 'setup') {
  setupPage(token);
} else {
  new SessionPage({ auth: token, guest: true }).start();
  installChat({ auth: token }); // the call view gets its chat panel

}
