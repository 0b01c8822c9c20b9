// session.js: the participant's and the clinician's way through a session, shared by the
// guest page and the call page: overview, pre-join, waiting room, call, and the pages at the
// end. Where someone is comes from the bridge (GET /api/call/state, long-polled), so a reload
// resumes at the right step.

import { request, follow, ApiError } from './api.js';
import { h, show, message } from './dom.js';
import { t, setLocale, stateName } from './i18n.js';
import { openMedia, mediaError, LevelMeter, devicePicker, currentDevice } from './devices.js';
import { connectCall } from './callmedia.js';
import { AttendeesPanel, confirmDialog } from './lobby.js';

export class SessionPage {
  // auth: the bearer token; guest: a web-link guest (who knocks from the page).
  // lang: the page's language (?lang=), for a clinician, who has no booked one.
  constructor({ auth, guest, lang = '' }) {
    this.auth = auth;
    this.guest = guest;
    this.statePath = '/api/call/state' + (lang ? '?lang=' + encodeURIComponent(lang) : '');
    this.state = null;
    this.stream = null;
    this.view = '';
    this.stopFollow = null;
  }

  async start() {
    try {
      this.state = await request('GET', this.statePath, { auth: this.auth });
    } catch (e) {
      return this.fail(e);
    }
    setLocale(this.state.me.locale);
    document.title = t('title');
    this.stopFollow = follow(this.statePath, {
      auth: this.auth,
      onState: (s) => this.update(s),
      onError: (e) => this.fail(e),
    });
    this.route();
  }

  update(state) {
    this.state = state;
    this.route();
  }

  // route moves the page to the step the state calls for. Steps run one at a time: a state
  // that arrives while the page is entering the call is looked at once it is in.
  route() {
    this.routing = (this.routing || Promise.resolve()).then(() => this.routeNow()).catch((e) => this.fail(e));
    return this.routing;
  }

  // routeNow keeps the current step when it still fits (a waiting room stays while the lobby
  // changes around it).
  async routeNow() {
    const { session, me } = this.state;
    if (session.status === 'ended' || session.status === 'cancelled') {
      if (this.call) this.call.close();
      return this.goto('over', () => message(t('title'), t(session.status === 'ended' ? 'ended' : 'cancelled')));
    }
    if (this.view === 'call') {
      if (!me.can_join_call && !me.host) return this.leaveCall(me.state);
      else if (me.host && this.panel) this.panel.render(this.state.lobby || [], session.lobby_message);
      return;
    }
    if (this.view === 'prejoin') return;
    if (me.host || me.can_join_call) {
      // Let in while waiting: straight into the call with the devices checked before.
      if (this.stream) return this.enterCall();
      return this.goto('prejoin-call', () => this.prejoin());
    }
    switch (me.state) {
      case 'waiting': case 'admitted': return this.goto('waiting', () => this.waiting());
      case 'denied': return this.goto('denied', () => message(t('title'), t('denied'), ...this.rejoinButton()));
      case 'removed': return this.goto('removed', () => message(t('title'), t('removed')));
      case 'left': return this.goto('left', () => message(t('title'), t('left'), ...this.rejoinButton()));
    }
    if (!this.guest) return this.goto('waiting-matrix', () => this.waiting());
    return this.overview();
  }

  goto(view, render) {
    if (this.view === view) return;
    this.view = view;
    render();
  }

  rejoinButton() {
    const { me } = this.state;
    return me.can_knock || me.host || me.can_join_call
      ? [h('button', { type: 'button', class: 'primary', id: 'rejoin', onclick: () => this.goto('prejoin', () => this.prejoin()) }, t('rejoin'))]
      : [];
  }

  fail(e) {
    if (this.stopFollow) this.stopFollow();
    const byCode = { forged_link: 'forged', link_revoked: 'revoked', link_expired: 'expired', rate_limited: 'rateLimited', signed_out: 'signedOut' };
    const key = e instanceof ApiError ? byCode[e.code] : '';
    this.view = 'error';
    message(t('title'), key ? t(key) : (e.message || t('error')));
  }

  sessionLine() {
    const l = this.state.session.local;
    return t('sessionAt', { date: l.date, start: l.start, end: l.end, zone: l.zone });
  }

  lobbyMessage() {
    const text = this.state.session.lobby_message;
    return text ? h('aside', { class: 'lobby-message', 'aria-label': t('messageFromClinician') },
      h('strong', {}, t('messageFromClinician') + ': '), h('span', { id: 'lobby-message-text' }, text)) : null;
  }

  // overview: the session's time and the Join button, live from the opening of the window.
  overview() {
    const { me, session } = this.state;
    const key = `overview:${me.can_knock}:${session.lobby_message}:${session.start}`;
    if (this.view === key) return;
    this.view = key;
    const join = me.can_knock
      ? h('button', { type: 'button', class: 'primary', id: 'join', onclick: () => this.goto('prejoin', () => this.prejoin()) }, t('join'))
      : h('button', { type: 'button', id: 'join', disabled: true }, t('joinOpensAt', { time: session.local.opens }));
    show(h('main', { class: 'card' },
      h('h1', {}, t('yourSession')),
      h('p', { id: 'when', class: 'when' }, this.sessionLine()),
      me.can_knock ? null : h('p', { id: 'opens' }, t('opensAt', { time: session.local.opens, zone: session.local.zone })),
      this.lobbyMessage(),
      h('div', { class: 'actions' }, join),
      this.guest ? h('p', {}, h('a', { href: location.pathname.replace(/\/sessions$/, '') + '/sessions', id: 'my-sessions' }, t('mySessions'))) : null));
  }

  // prejoin: permission, preview, level meter, device pickers and the name. Guests then knock;
  // the clinician and participants let in enter the call.
  async prejoin(retry = false) {
    const { me } = this.state;
    const entering = me.host || me.can_join_call;
    this.view = 'prejoin';
    const body = h('div', { class: 'prejoin-media' });
    const nameInput = h('input', { id: 'name', type: 'text', minlength: 2, maxlength: 64, required: true, value: me.name || '', autocomplete: 'name', 'aria-describedby': 'name-hint name-error' });
    const nameError = h('p', { id: 'name-error', class: 'error', role: 'alert' });
    // The button is live once the camera and microphone are open.
    const go = h('button', { type: 'submit', class: 'primary', id: 'accept', disabled: true }, entering ? t('enterCall') : t('acceptAndJoin'));
    const form = h('form', { class: 'card prejoin', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.accept(nameInput.value, nameError, go); } },
      h('h1', {}, t('prejoinTitle')),
      h('p', {}, t('prejoinIntro')),
      body,
      this.guest && !entering ? h('div', { class: 'field' },
        h('label', { for: 'name' }, t('yourName')), nameInput, h('p', { id: 'name-hint', class: 'hint' }, t('nameHint')), nameError) : null,
      h('div', { class: 'actions' }, go));
    show(form);
    await this.setupDevices(body, retry);
    go.disabled = !this.stream;
  }

  async setupDevices(body, retry) {
    if (this.stream && !retry) return this.renderDevices(body);
    try {
      this.stream = await openMedia();
    } catch (err) {
      this.stream = null;
      const [what, help] = mediaError(err);
      body.replaceChildren(h('div', { class: 'permission', role: 'alert' },
        h('p', { id: 'permission-error' }, what), help ? h('p', {}, help) : null,
        h('button', { type: 'button', onclick: () => this.prejoin(true) }, t('tryAgain'))));
      return;
    }
    this.renderDevices(body);
  }

  async renderDevices(body) {
    const preview = h('video', { id: 'preview', class: 'preview', autoplay: true, muted: true, playsinline: true });
    preview.srcObject = this.stream;
    if (this.meter) this.meter.stop();
    this.meter = new LevelMeter(this.stream);
    const pickers = h('div', { class: 'pickers' });
    body.replaceChildren(preview, h('div', { class: 'field' }, h('span', { class: 'label' }, t('micLevel')), this.meter.el), pickers);
    await this.fillPickers(pickers, async (camera, microphone) => {
      this.stream.getTracks().forEach((tr) => tr.stop());
      this.stream = await openMedia({ camera, microphone });
      this.renderDevices(body);
    });
  }

  async fillPickers(box, reopen) {
    const cam = currentDevice(this.stream, 'video');
    const mic = currentDevice(this.stream, 'audio');
    const items = await Promise.all([
      devicePicker('videoinput', t('camera'), cam, (id) => reopen(id, mic)),
      devicePicker('audioinput', t('microphone'), mic, (id) => reopen(cam, id)),
      'setSinkId' in HTMLMediaElement.prototype ? devicePicker('audiooutput', t('speaker'), this.sink || '', (id) => { this.sink = id; }) : null,
    ]);
    box.replaceChildren(...items.filter(Boolean));
  }

  async accept(name, nameError, button) {
    const { me } = this.state;
    if (!this.stream) return;
    if (me.host || me.can_join_call) return this.enterCall();
    if (name.trim().length < 2) {
      nameError.textContent = t('nameTooShort');
      return;
    }
    button.disabled = true;
    try {
      this.state = await request('POST', '/api/call/knock', { auth: this.auth, body: { name } });
    } catch (e) {
      button.disabled = false;
      if (e.code === 'bad_name') { nameError.textContent = e.message; return; }
      if (e.code === 'too_early') { nameError.textContent = e.message; return; }
      return this.fail(e);
    }
    this.view = '';
    this.route();
  }

  // waiting: the waiting room, until the clinician lets them in (route moves on).
  waiting() {
    const { me } = this.state;
    show(h('main', { class: 'card waiting' },
      h('h1', {}, t('waitingTitle')),
      h('p', { id: 'when', class: 'when' }, this.sessionLine()),
      h('p', { id: 'waiting', class: 'status', role: 'status' }, this.guest ? t('waiting') : t('waitingMatrix')),
      this.lobbyMessage(),
      this.guest && me.state === 'waiting' ? h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => this.leave() }, t('leaveWaiting'))) : null));
  }

  async enterCall() {
    if (this.meter) { this.meter.stop(); this.meter = null; }
    this.view = 'call';
    let access;
    try {
      access = await request('POST', '/api/call/join', { auth: this.auth, body: {} });
    } catch (e) {
      this.view = '';
      if (e.code === 'not_admitted') return this.routeNow();
      return this.fail(e);
    }
    this.renderCall();
    this.call = connectCall(access, this.state.session.id, this.stream, {
      onJoined: () => { this.setStatus(''); },
      onRemoteTrack: (track, stream, info) => this.addRemote(track, stream, info),
      onRemoteGone: (trackId) => this.removeRemote(trackId),
      onPeer: (userId, present, host) => { if (!present) this.removePeer(userId); else this.hosts[userId] = host; },
      onMute: () => {},
      onLobby: (msg) => { if (this.panel) this.panel.render(msg.participants || [], msg.lobby_message); },
      onError: (text) => { this.setStatus(text); if (this.panel) this.panel.status.textContent = text; },
      onClosed: (reason) => this.onCallClosed(reason),
    });
    // For tests and support: what the connection receives and sends.
    this.calls = (this.calls || 0) + 1;
    const call = this.call;
    window.telehealthCall = { generation: this.calls, stats: () => (this.call === call ? call.stats() : null), state: () => this.state };
  }

  renderCall() {
    const { me } = this.state;
    this.hosts = {};
    this.remotes = new Map();
    this.grid = h('div', { class: 'remote-grid', id: 'remotes', 'aria-live': 'polite' });
    this.self = h('video', { id: 'self', class: 'self-view', autoplay: true, muted: true, playsinline: true });
    this.self.srcObject = this.stream;
    this.statusLine = h('p', { class: 'status', role: 'status', id: 'call-status' }, t('connecting'));
    const toggle = (id, offLabel, onLabel, f) => {
      let on = false;
      const b = h('button', { type: 'button', id, 'aria-pressed': 'false' }, offLabel);
      b.addEventListener('click', async () => {
        on = !on;
        b.textContent = on ? onLabel : offLabel;
        b.setAttribute('aria-pressed', String(on));
        await f(on);
      });
      return b;
    };
    const controls = h('nav', { class: 'controls', 'aria-label': t('settings') },
      toggle('mute', t('mute'), t('unmute'), (on) => this.call.setMuted(on)),
      toggle('camera', t('cameraOff'), t('cameraOn'), (on) => this.call.setCameraOff(on)),
      toggle('hide-self', t('hideSelf'), t('showSelf'), (on) => { this.self.hidden = on; }),
      toggle('share', t('shareScreen'), t('stopShare'), (on) => this.toggleShare(on)),
      h('button', { type: 'button', id: 'settings', onclick: () => this.settings() }, t('settings')),
      h('button', { type: 'button', id: 'leave', class: 'danger', onclick: () => this.leave() }, t('leave')),
      me.host ? h('button', { type: 'button', id: 'end-for-all', class: 'danger', onclick: () => this.endForAll() }, t('endForAll')) : null);
    this.panel = null;
    let aside = null;
    if (me.host) {
      this.panel = new AttendeesPanel((action, participant, text) => this.hostAction(action, participant, text));
      this.panel.render(this.state.lobby || [], this.state.session.lobby_message);
      aside = h('aside', { class: 'host-panel', id: 'attendees' }, this.panel.el);
    }
    show(h('div', { class: 'call-layout' },
      h('main', { class: 'call' }, h('h1', { class: 'visually-hidden' }, t('title')), this.statusLine, this.grid, this.self, controls),
      aside));
  }

  setStatus(text) {
    if (this.statusLine) this.statusLine.textContent = text;
  }

  addRemote(track, stream, info) {
    if (track.kind === 'audio') {
      const audio = h('audio', { autoplay: true, 'data-user': info.user_id });
      audio.srcObject = new MediaStream([track]);
      if (this.sink && audio.setSinkId) audio.setSinkId(this.sink);
      this.grid.append(audio);
      this.remotes.set(track.id, { el: audio, user: info.user_id });
      return;
    }
    const name = this.hosts[info.user_id] ? t('clinician') : t('participant');
    const video = h('video', { autoplay: true, playsinline: true, muted: true });
    video.srcObject = new MediaStream([track]);
    const tile = h('figure', { class: 'tile ' + info.label, 'data-user': info.user_id, 'data-label': info.label },
      video, h('figcaption', {}, info.label === 'screen' ? t('screenOf', { name }) : name));
    this.grid.append(tile);
    this.remotes.set(track.id, { el: tile, user: info.user_id });
    track.addEventListener('ended', () => this.removeRemote(track.id));
  }

  removeRemote(trackId) {
    const r = this.remotes && this.remotes.get(trackId);
    if (r) { r.el.remove(); this.remotes.delete(trackId); }
  }

  removePeer(userId) {
    for (const [id, r] of this.remotes || []) if (r.user === userId) this.removeRemote(id);
  }

  async toggleShare(on) {
    if (!on) return this.call.stopScreenShare();
    try {
      this.screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
      this.screen.getVideoTracks()[0].addEventListener('ended', () => this.call.stopScreenShare());
      this.call.startScreenShare(this.screen);
    } catch (e) {
      this.setStatus(t('error'));
    }
  }

  async settings() {
    const box = h('div', { class: 'pickers' });
    const dialog = h('dialog', { class: 'settings', 'aria-label': t('settings') },
      h('h2', {}, t('settings')), box,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => { dialog.close(); dialog.remove(); } }, t('close'))));
    document.body.append(dialog);
    dialog.showModal();
    await this.fillPickers(box, async (camera, microphone) => {
      const fresh = await openMedia({ camera, microphone });
      for (const kind of ['audio', 'video']) {
        const track = kind === 'audio' ? fresh.getAudioTracks()[0] : fresh.getVideoTracks()[0];
        const old = kind === 'audio' ? this.stream.getAudioTracks()[0] : this.stream.getVideoTracks()[0];
        if (track && old && track.getSettings().deviceId !== old.getSettings().deviceId) {
          await this.call.replaceTrack(kind, track);
          this.stream.removeTrack(old);
          old.stop();
          this.stream.addTrack(track);
        } else if (track) {
          track.stop();
        }
      }
      this.self.srcObject = this.stream;
    });
  }

  // hostAction sends the clinician's command over the call's signalling; the lobby comes back
  // the same way, and a refusal as an error message.
  async hostAction(action, participant, text) {
    if (this.call && !this.call.closed) {
      this.call.hostCommand({ command: action, participant, text });
      return;
    }
    this.state = await request('POST', `/api/call/host/${action}`, { auth: this.auth, body: { participant, text } });
    if (this.panel) this.panel.render(this.state.lobby || [], this.state.session.lobby_message);
  }

  async endForAll() {
    if (!(await confirmDialog(t('endConfirm'), t('endForAll')))) return;
    try {
      await request('POST', '/api/call/host/end', { auth: this.auth, body: {} });
    } catch (e) {
      this.setStatus(e.message || t('error'));
    }
  }

  async leave() {
    if (this.call) this.call.close();
    try {
      this.state = await request('POST', '/api/call/leave', { auth: this.auth, body: {} });
    } catch (e) { /* the page says they left either way */ }
    this.view = '';
    await this.leaveCall('left');
  }

  async leaveCall(state) {
    if (this.call && !this.call.closed) this.call.close();
    this.call = null;
    this.panel = null;
    window.telehealthCall = null;
    if (this.screen) { this.screen.getTracks().forEach((tr) => tr.stop()); this.screen = null; }
    // Sent back to the waiting room, they keep their camera for when they are let in again.
    if (this.stream && state !== 'booked') { this.stream.getTracks().forEach((tr) => tr.stop()); this.stream = null; }
    this.view = '';
    if (this.state.session.status === 'ended') return message(t('title'), t('ended'));
    if (state === 'booked') {
      // Sent back to the waiting room: a guest asks again at once, under the same name.
      if (this.guest && this.state.me.can_knock) return this.knockAgain();
      return this.routeNow();
    }
    const pages = { left: 'left', removed: 'removed', denied: 'denied' };
    if (pages[state]) {
      this.view = state;
      return message(t('title'), t(pages[state]), ...this.rejoinButton());
    }
    return this.routeNow();
  }

  async knockAgain() {
    try {
      this.state = await request('POST', '/api/call/knock', { auth: this.auth, body: { name: this.state.me.name } });
    } catch (e) {
      return this.fail(e);
    }
    return this.routeNow();
  }

  onCallClosed(reason) {
    if (this.view !== 'call') return;
    // The state tells why (removed, sent back, ended); the next poll moves the page.
    this.setStatus(reason === 'left' ? '' : reason);
  }
}

export { stateName };
