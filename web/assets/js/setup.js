// setup.js: "Test my setup" (/g/<token>/setup), reachable from the guest's link page before the
// session, and the page for browsers that cannot join a call at all.
// The setup page tries each part on its own: the camera (a preview), the microphone (record
// 3 seconds and hear them back), the speakers (a test sound), and the connection to the
// clinic's call server (a call of the person's own: signalling, then ICE to the media port or
// through TURN).
import { request } from './api.js';
import { h, show } from './dom.js';
import { t, setLocale, addStrings } from './i18n.js';
import { errorText } from './callwords.js';
import { deviceProblem, probeMedia } from './devices.js';

addStrings({
  en: {
    setupTitle: 'Test my setup',
    setupIntro: 'Check each part before your session. Nothing here is sent to anyone.',
    setupCamera: 'Camera',
    setupMicrophone: 'Microphone',
    setupRecord: 'Record 3 seconds',
    setupRecording: 'Recording… speak now.',
    setupPlayback: 'Listen to your recording below. If you hear yourself, your microphone works.',
    setupSpeaker: 'Speakers',
    setupPlaySound: 'Play a test sound',
    setupSoundPlayed: 'Did you hear a tone? If not, turn the volume up or choose other speakers.',
    setupConnection: 'Connection to the clinic',
    setupCheck: 'Check the connection',
    setupChecking: 'Checking…',
    setupConnectionOK: 'Your browser connects to the clinic\'s call server directly: video calls will work from here.',
    setupConnectionRelay: 'Your browser connects to the clinic\'s call server through its relay: video calls will work from here.',
    setupConnectionFailed: 'Your browser could not reach the clinic\'s call server. Try another network (for example your phone\'s), or contact your clinic.',
    setupWorks: 'Works',
    setupBack: 'Back to my session',
    testSetup: 'Test my setup',
    unsupportedTitle: 'This browser cannot join the video call',
    unsupportedIntro: 'Open this link in one of these browsers:',
    unsupportedBrowsers: ['Chrome, Edge or Firefox on a computer or an Android phone', 'Safari on an iPhone, iPad or Mac', 'not inside another app (such as a messaging or e-mail app): open the link in the browser itself'],
    copyLink: 'Copy the link',
    linkCopied: 'Link copied. Paste it in one of these browsers.',
  },
  fr: {
    setupTitle: 'Tester mon équipement',
    setupIntro: 'Vérifiez chaque élément avant votre séance. Rien n\'est envoyé à personne.',
    setupCamera: 'Caméra',
    setupMicrophone: 'Micro',
    setupRecord: 'Enregistrer 3 secondes',
    setupRecording: 'Enregistrement… parlez maintenant.',
    setupPlayback: 'Écoutez votre enregistrement ci-dessous. Si vous vous entendez, votre micro fonctionne.',
    setupSpeaker: 'Haut-parleurs',
    setupPlaySound: 'Jouer un son d\'essai',
    setupSoundPlayed: 'Avez-vous entendu un son ? Sinon, montez le volume ou choisissez d\'autres haut-parleurs.',
    setupConnection: 'Connexion au cabinet',
    setupCheck: 'Vérifier la connexion',
    setupChecking: 'Vérification…',
    setupConnectionOK: 'Votre navigateur se connecte directement au serveur d\'appel du cabinet : les appels vidéo fonctionneront d\'ici.',
    setupConnectionRelay: 'Votre navigateur se connecte au serveur d\'appel du cabinet par son relais : les appels vidéo fonctionneront d\'ici.',
    setupConnectionFailed: 'Votre navigateur n\'a pas pu joindre le serveur d\'appel du cabinet. Essayez un autre réseau (par exemple celui de votre téléphone) ou contactez votre cabinet.',
    setupWorks: 'Fonctionne',
    setupBack: 'Retour à ma séance',
    testSetup: 'Tester mon équipement',
    unsupportedTitle: 'Ce navigateur ne permet pas de rejoindre l\'appel vidéo',
    unsupportedIntro: 'Ouvrez ce lien dans l\'un de ces navigateurs :',
    unsupportedBrowsers: ['Chrome, Edge ou Firefox sur un ordinateur ou un téléphone Android', 'Safari sur un iPhone, un iPad ou un Mac', 'pas à l\'intérieur d\'une autre application (messagerie, e-mail) : ouvrez le lien dans le navigateur lui-même'],
    copyLink: 'Copier le lien',
    linkCopied: 'Lien copié. Collez-le dans l\'un de ces navigateurs.',
  },
});

// callSupported says whether this browser can take part in a call: WebRTC and camera access,
// outside the in-app browsers of messaging apps (which often refuse the camera).
export function callSupported() {
  const inApp = /FBAN|FBAV|Instagram|Line\/|MicroMessenger|Snapchat|; wv\)/.test(navigator.userAgent);
  return !!(window.RTCPeerConnection && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) && !inApp;
}

// unsupportedPage says which browsers work, with a button to copy the link (the address of
// this page, which holds the guest's link) to open it in one of them.
export function unsupportedPage(link) {
  const status = h('p', { id: 'copy-status', role: 'status', class: 'hint' });
  const field = h('input', { id: 'link-to-copy', type: 'text', readonly: true, value: link, 'aria-label': t('copyLink') });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
    } catch (e) {
      field.select(); // no clipboard access: the link is selected, ready to copy by hand
      document.execCommand && document.execCommand('copy');
    }
    status.textContent = t('linkCopied');
  };
  show(h('main', { class: 'card unsupported' },
    h('h1', {}, t('unsupportedTitle')),
    h('p', {}, t('unsupportedIntro')),
    h('ul', { id: 'browsers' }, t('unsupportedBrowsers').map((b) => h('li', {}, b))),
    link ? h('div', { class: 'field' }, field) : null,
    link ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', id: 'copy-link', onclick: copy }, t('copyLink'))) : null,
    status));
}

// setupPage is "Test my setup" for the guest whose token the address holds.
export async function setupPage(token) {
  let state;
  try {
    state = await request('GET', '/api/call/state', { auth: token });
  } catch (e) {
    return show(h('main', { class: 'card' }, h('h1', {}, t('setupTitle')), h('p', { id: 'message' }, errorText(e))));
  }
  setLocale(state.me.locale);
  document.title = t('setupTitle');
  const back = location.pathname.replace(/\/setup$/, '');
  if (!callSupported()) return unsupportedPage(location.origin + back);

  const camBox = h('div', { class: 'setup-result', id: 'camera-result' });
  const micBox = h('div', { class: 'setup-result', id: 'mic-result' });
  const soundBox = h('p', { class: 'setup-result', id: 'speaker-result', role: 'status' });
  const netBox = h('p', { class: 'setup-result', id: 'connection-result', role: 'status' });
  const section = (title, ...rest) => h('section', { class: 'setup-part' }, h('h2', {}, title), ...rest);
  show(h('main', { class: 'card setup' },
    h('h1', {}, t('setupTitle')),
    h('p', {}, t('setupIntro')),
    section(t('setupCamera'), camBox),
    section(t('setupMicrophone'), micBox),
    section(t('setupSpeaker'), h('button', { type: 'button', id: 'play-sound', onclick: () => playTone(soundBox) }, t('setupPlaySound')), soundBox),
    section(t('setupConnection'), h('button', { type: 'button', id: 'check-connection', onclick: () => checkConnection(netBox, token) }, t('setupCheck')), netBox),
    h('p', {}, h('a', { href: back, id: 'setup-back' }, t('setupBack')))));

  const probe = await probeMedia();
  const stream = probe.stream;
  const problem = deviceProblem(probe);
  if (stream.getVideoTracks().length) {
    const video = h('video', { id: 'setup-preview', class: 'preview', autoplay: true, muted: true, playsinline: true });
    video.srcObject = new MediaStream(stream.getVideoTracks());
    camBox.replaceChildren(video);
  } else {
    camBox.replaceChildren(h('p', { class: 'error' }, ...problem.lines.filter((l) => l.includes(t('device_camera'))), problem.help ? ' ' + problem.help : ''));
  }
  if (stream.getAudioTracks().length) {
    const status = h('p', { id: 'record-status', role: 'status' });
    const player = h('audio', { id: 'setup-playback', controls: true, hidden: true });
    const button = h('button', { type: 'button', id: 'record', onclick: () => record(stream, button, status, player) }, t('setupRecord'));
    micBox.replaceChildren(button, status, player);
  } else {
    micBox.replaceChildren(h('p', { class: 'error' }, ...problem.lines.filter((l) => l.includes(t('device_microphone'))), problem.help ? ' ' + problem.help : ''));
  }
}

// record records 3 seconds of the microphone and plays them back.
function record(stream, button, status, player) {
  const recorder = new MediaRecorder(new MediaStream(stream.getAudioTracks()));
  const chunks = [];
  recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
  recorder.onstop = () => {
    player.src = URL.createObjectURL(new Blob(chunks, { type: recorder.mimeType }));
    player.hidden = false;
    player.play().catch(() => { /* the controls let them play it */ });
    status.textContent = t('setupPlayback');
    button.disabled = false;
  };
  button.disabled = true;
  status.textContent = t('setupRecording');
  recorder.start();
  setTimeout(() => recorder.stop(), 3000);
}

// playTone plays a one-second tone on the default speakers.
function playTone(box) {
  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  osc.frequency.value = 440;
  osc.connect(ctx.destination);
  osc.start();
  osc.stop(ctx.currentTime + 1);
  osc.onended = () => ctx.close();
  box.textContent = t('setupSoundPlayed');
  box.dataset.played = 'true';
}

// checkConnection joins a call of the person's own on the clinic's call server (POST
// /api/call/check): the signalling socket must answer and ICE must connect to the server's media
// port, directly or through its TURN server. It says which.
async function checkConnection(box, token) {
  box.textContent = t('setupChecking');
  box.dataset.result = 'checking';
  let result = 'failed';
  try {
    const access = await request('POST', '/api/call/check', { auth: token, body: {} });
    result = await iceCheck(access);
  } catch (e) {
    result = 'failed';
  }
  box.textContent = result === 'failed' ? t('setupConnectionFailed') : t(result === 'relay' ? 'setupConnectionRelay' : 'setupConnectionOK');
  box.dataset.result = result === 'failed' ? 'failed' : 'ok';
  box.dataset.path = result;
}

// iceCheck answers the SFU's offer without sending anything and waits (10 s at most) for ICE to
// connect; it resolves to 'direct', 'relay' (through TURN) or 'failed'.
function iceCheck(access) {
  return new Promise((resolve) => {
    const pc = new RTCPeerConnection({ iceServers: (access.ice_servers || []).map((s) => ({ urls: s.urls, username: s.username, credential: s.credential })) });
    const ws = new WebSocket(access.ws_url);
    let done = false;
    const finish = async (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      let path = ok ? 'direct' : 'failed';
      if (ok) {
        try {
          const stats = await pc.getStats();
          stats.forEach((r) => {
            if (r.type === 'candidate-pair' && r.state === 'succeeded' && r.nominated) {
              const local = stats.get(r.localCandidateId);
              if (local && local.candidateType === 'relay') path = 'relay';
            }
          });
        } catch (e) { /* the path stays direct */ }
      }
      try { ws.send(JSON.stringify({ type: 'leave' })); ws.close(1000, 'checked'); } catch (e) { /* closed */ }
      pc.close();
      resolve(path);
    };
    const timer = setTimeout(() => finish(false), 10000);
    pc.onicecandidate = (e) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null }));
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') finish(true);
      if (pc.connectionState === 'failed') finish(false);
    };
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', session: access.session, credential: access.credential }));
    ws.onclose = () => { if (!done) finish(false); };
    ws.onmessage = async (ev) => {
      const msg = JSON.parse(ev.data);
      try {
        if (msg.type === 'offer') {
          await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          ws.send(JSON.stringify({ type: 'answer', sdp: answer.sdp }));
        } else if (msg.type === 'candidate') {
          await pc.addIceCandidate(msg.candidate || null);
        }
      } catch (e) { /* a late candidate; the timer decides */ }
    };
  });
}
