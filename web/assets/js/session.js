// session.js: the participant's and the clinician's way through a session, shared by the
// guest page and the call page: overview, pre-join, waiting room, call, and the pages at the
// end. Where someone is comes from the bridge (GET /api/call/state, long-polled), so a reload
// resumes at the right step.

import { request, follow, ApiError } from './api.js';
import { h, show, message } from './dom.js';
import { t, setLocale, stateName } from './i18n.js';
import { openMedia, probeMedia, deviceProblem, LevelMeter, devicePicker, currentDevice } from './devices.js';
import { errorText } from './callwords.js';
import { callSupported, unsupportedPage } from './setup.js';
import { connectCall } from './callmedia.js';
import { AttendeesPanel, confirmDialog } from './lobby.js';
import './portalhomewords.js';
import { paymentBox } from './paybox.js';
import { sessionDocuments } from './sessiondocuments.js';

// Call extensions: modules that add to the call page (the in-call chat). Each registers with
// addCallExtension({ mount(ctx) }) before the page starts; mount gets
// {panel, addControl(button), state, auth, guest} when the call is drawn and may return
// {update(state), unmount()}: update runs with every new state (the lobby, people let in),
// unmount when the person leaves the call. An extension that throws is left out; the call goes on.
const extensions = [];
export function addCallExtension(ext) { extensions.push(ext); }

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
    this.frame();
    // A connection made while waiting goes when they no longer wait (the SFU closes it too).
    if (!['waiting', 'admitted', 'in_session'].includes(me.state) || ['ended', 'cancelled'].includes(session.status)) this.dropPreparedCall();
    if (session.status === 'ended' || session.status === 'cancelled') {
      if (this.call) this.call.close();
      this.call = null;
      this.unmountExtensions();
      return this.goto('over', () => this.endPage(session.status === 'ended' ? 'ended' : 'cancelled'));
    }
    if (this.view === 'call') {
      // A connection made while waiting may be let in by the SFU before the state says so
      // (admitted: the bridge joins a guest to the session right after).
      const ahead = this.call && !this.call.closed && this.call.preconnected && ['waiting', 'admitted'].includes(me.state);
      if (!me.can_join_call && !me.host && !ahead) return this.leaveCall(me.state);
      else if (me.host && this.panel) this.panel.render(this.state.lobby || [], session.lobby_message);
      this.nameTiles();
      this.showPresence();
      this.updateExtensions();
      return;
    }
    if (this.view === 'prejoin') return;
    if (!callSupported() && !['denied', 'removed', 'left'].includes(me.state)) {
      // A guest's link is this page's address; a call page's token is not in it.
      return this.goto('unsupported', () => unsupportedPage(this.guest ? location.href : ''));
    }
    if (me.host || me.can_join_call) {
      // Let in while waiting: straight into the call with the devices checked before.
      if (this.stream) return this.enterCall();
      return this.goto('prejoin-call', () => this.prejoin());
    }
    switch (me.state) {
      case 'waiting': case 'admitted':
        this.goto('waiting:' + me.state + ':' + (me.payment ? me.payment.status : ''), () => this.waiting());
        this.prepareCall();
        return this.showLobbyMessage();
      // The key holds can_knock: Join again shows as soon as they may ask again.
      case 'denied': return this.goto('denied:' + me.can_knock, () => this.endPage('denied', ...this.rejoinButton()));
      case 'removed': return this.goto('removed', () => this.endPage('removed'));
      case 'left': return this.goto('left:' + me.can_knock, () => this.endPage('left', ...this.rejoinButton()));
    }
    if (!this.guest) {
      this.goto('waiting-matrix', () => this.waiting());
      return this.showLobbyMessage();
    }
    if (session.kind === 'phone') return this.phoneOverview();
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
    this.view = 'error';
    message(t('title'), errorText(e, this.opensVars()));
  }

  // frame shows a client the clinic, their clinician and whom to contact, above and below
  // every page but the call itself (which fills the screen).
  frame() {
    const header = document.getElementById('clinic-header');
    const footer = document.getElementById('help-line');
    if (!header || !footer) return;
    const { clinic, session, me } = this.state;
    const shown = !me.host && !!clinic && !!clinic.name && this.view !== 'call';
    header.hidden = footer.hidden = !shown;
    // A page at the end says whom to contact in its own words: not twice.
    if (document.getElementById('contact')) footer.hidden = true;
    if (!shown) return;
    header.replaceChildren(h('strong', { class: 'clinic-name' }, clinic.name),
      session.clinician_name ? h('span', { class: 'clinician-name' }, t('withClinician', { name: session.clinician_name })) : null);
    footer.replaceChildren(this.contactLine());
  }

  // contactLine is whom to contact, with the clinic's phone as a link when there is one.
  contactLine() {
    const { clinic } = this.state;
    if (!clinic || !clinic.name) return '';
    if (!clinic.phone) return t('contactNoPhone', { clinic: clinic.name });
    const [before, after] = t('contactPhone', { clinic: clinic.name, phone: '\u0000' }).split('\u0000');
    return h('span', {}, before, h('a', { href: 'tel:' + clinic.phone }, clinic.phone), after);
  }

  // endPage is a page at the end (ended, cancelled, removed, denied, left): what happened, whom
  // to contact, and for a guest their other sessions.
  endPage(key, ...actions) {
    const { me } = this.state;
    show(h('main', { class: 'card end', role: 'main' },
      h('h1', {}, t('title')),
      h('p', { id: 'message', class: 'message' }, t(key)),
      me.host ? null : h('p', { id: 'contact', class: 'contact' }, this.contactLine()),
      h('div', { class: 'actions' }, ...actions,
        this.guest ? h('a', { class: 'button', id: 'my-sessions', href: location.pathname.replace(/\/sessions$/, '') + '/sessions' }, t('mySessions')) : null,
        this.portalLink('button'),
        me.host && location.pathname !== '/widget' ? h('a', { class: 'button', id: 'back-to-panel', href: '/panel' }, t('backToPanel')) : null)));
    this.frame();
  }

  // opensVars fill the refusals that say when the waiting room opens.
  opensVars() {
    return { opens: this.state && this.state.session ? this.state.session.local.opens : '' };
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

  // phoneOverview: a telephone session has no Join and asks for no camera: it says who calls
  // which number (masked), and when.
  phoneOverview() {
    const { me, session } = this.state;
    const key = `phone:${session.lobby_message}:${session.start}`;
    if (this.view === key) return;
    this.view = key;
    const time = session.local.start;
    show(h('main', { class: 'card' },
      h('h1', {}, t('phoneSession')),
      h('p', { id: 'when', class: 'when' }, this.sessionLine()),
      h('p', { id: 'phone-call', class: 'phone-call' }, me.phone_masked ? t('phoneCallAt', { phone: me.phone_masked, time }) : t('phoneCallAtNoNumber', { time })),
      h('p', {}, t('phoneNoApp')),
      this.lobbyMessage(),
      h('p', {}, h('a', { href: location.pathname.replace(/\/sessions$/, '') + '/sessions', id: 'my-sessions' }, t('mySessions'))),
      this.portalLink()));
  }

  // showLobbyMessage puts the clinician's latest message on an open waiting page as it comes,
  // without redrawing the page (the focus stays where it is).
  showLobbyMessage() {
    const box = document.getElementById('lobby-message-box');
    if (!box) return;
    const text = this.state.session.lobby_message || '';
    if (box.dataset.text === text) return;
    box.dataset.text = text;
    box.replaceChildren(...[this.lobbyMessage()].filter(Boolean));
  }

  // overview: the session's time and the Join button, live from the opening of the window.
  overview() {
    const { me, session } = this.state;
    const key = `overview:${me.can_knock}:${session.lobby_message}:${session.start}:${me.payment ? me.payment.status : ''}`;
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
      this.guest ? paymentBox(me.payment, this.auth) : null,
      this.guest ? sessionDocuments(this.auth) : null,
      h('div', { class: 'actions' }, join),
      this.guest ? h('p', { class: 'links' },
        h('a', { href: location.pathname + '/setup', id: 'test-setup' }, t('testSetup')), ' · ',
        h('a', { href: location.pathname.replace(/\/sessions$/, '') + '/sessions', id: 'my-sessions' }, t('mySessions'))) : null,
      this.portalLink()));
  }

  // portalLink: a client signed in to the portal, on a link of their own, is offered their
  // portal, open on this session.
  portalLink(cls = '') {
    const { me, session } = this.state;
    if (!this.guest || !me.in_portal) return null;
    const href = '/portal?' + new URLSearchParams({ session: session.id }) + '#sessions';
    const a = h('a', { id: 'portal-link', href, class: cls }, t('inThePortal'));
    return cls ? a : h('p', { class: 'links' }, a);
  }

  // prejoin: permission, preview, level meter, device pickers and the name. Guests then knock;
  // the clinician and participants let in enter the call.
  async prejoin(retry = false) {
    const { me } = this.state;
    const entering = me.host || me.can_join_call;
    this.view = 'prejoin';
    // Two columns on a laptop (the preview beside the choices, the button in sight), one on a
    // phone.
    const body = { media: h('div', { class: 'prejoin-media' }), devices: h('div', { class: 'prejoin-devices' }) };
    const nameInput = h('input', { id: 'name', type: 'text', minlength: 2, maxlength: 64, required: true, value: me.name || '', autocomplete: 'name', 'aria-describedby': 'name-hint name-error' });
    const nameError = h('p', { id: 'name-error', class: 'error', role: 'alert' });
    // The button is live once the browser answered for the camera and microphone.
    const go = h('button', { type: 'submit', class: 'primary', id: 'accept', disabled: true }, entering ? t('enterCall') : t('acceptAndJoin'));
    const form = h('form', { class: 'card prejoin', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.accept(nameInput.value, nameError, go); } },
      h('h1', {}, t('prejoinTitle')),
      h('p', {}, t('prejoinIntro')),
      h('div', { class: 'prejoin-grid' },
        body.media,
        h('div', { class: 'prejoin-side' },
          body.devices,
          this.guest && !entering ? h('div', { class: 'field' },
            h('label', { for: 'name' }, t('yourName')), nameInput, h('p', { id: 'name-hint', class: 'hint' }, t('nameHint')), nameError) : null,
          h('div', { class: 'actions' }, go))));
    show(form);
    await this.setupDevices(body, retry, go);
  }

  // setupDevices opens the camera and microphone (again on retry). What did not open is said
  // with how to allow it; the person may go on with what they have: audio only, video only,
  // or neither (to listen).
  async setupDevices(body, retry, go) {
    if (!this.stream || retry) {
      if (this.stream) this.stream.getTracks().forEach((tr) => tr.stop());
      this.probe = await probeMedia();
      this.stream = this.probe.stream;
    }
    await this.renderDevices(body, go);
  }

  async renderDevices(body, go) {
    const hasVideo = this.stream.getVideoTracks().length > 0;
    const hasAudio = this.stream.getAudioTracks().length > 0;
    const problem = deviceProblem({ camera: hasVideo ? 'ok' : this.probe.camera, microphone: hasAudio ? 'ok' : this.probe.microphone });
    if (this.meter) { this.meter.stop(); this.meter = null; }
    const parts = [];
    const side = [];
    if (hasVideo) {
      const preview = h('video', { id: 'preview', class: 'preview', autoplay: true, muted: true, playsinline: true });
      preview.srcObject = this.stream;
      parts.push(preview);
    }
    if (hasAudio) {
      this.meter = new LevelMeter(this.stream);
      side.push(h('div', { class: 'field' }, h('span', { class: 'label' }, t('micLevel')), this.meter.el));
    }
    if (problem) {
      parts.push(h('div', { class: 'permission', id: 'device-problem', role: 'alert' },
        problem.lines.map((line) => h('p', { class: 'device-line' }, line)),
        problem.help ? h('p', { id: 'device-help' }, problem.help) : null,
        h('p', { class: 'hint', id: 'device-note' }, !hasVideo && !hasAudio ? t('listenOnlyNote') : !hasVideo ? t('audioOnlyNote') : t('noMicNote')),
        h('button', { type: 'button', id: 'retry-devices', onclick: () => this.prejoin(true) }, t('tryAgain'))));
    }
    const pickers = h('div', { class: 'pickers' });
    side.push(pickers);
    body.media.replaceChildren(...parts);
    body.devices.replaceChildren(...side);
    if (go) {
      const { me } = this.state;
      const entering = me.host || me.can_join_call;
      go.textContent = !problem ? (entering ? t('enterCall') : t('acceptAndJoin'))
        : !hasVideo && !hasAudio ? t('joinToListen') : !hasVideo ? t('continueWithoutCamera') : t('continueWithoutMic');
      go.disabled = false;
    }
    await this.fillPickers(pickers, async (camera, microphone) => {
      this.stream.getTracks().forEach((tr) => tr.stop());
      this.probe = await probeMedia({ camera, microphone });
      this.stream = this.probe.stream;
      this.renderDevices(body, go);
    });
  }

  async fillPickers(box, reopen) {
    const cam = currentDevice(this.stream, 'video');
    const mic = currentDevice(this.stream, 'audio');
    const items = await Promise.all([
      // A device the browser refused has no usable list (no labels, no IDs): Try again instead.
      cam ? devicePicker('videoinput', t('camera'), cam, (id) => reopen(id, mic)) : null,
      mic ? devicePicker('audioinput', t('microphone'), mic, (id) => reopen(cam, id)) : null,
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
      if (e.code === 'bad_name' || e.code === 'too_early') { nameError.textContent = errorText(e, this.opensVars()); return; }
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
      h('div', { id: 'lobby-message-box', 'aria-live': 'polite' }, this.lobbyMessage()),
      this.guest ? paymentBox(me.payment, this.auth) : null,
      this.guest && me.state === 'waiting' ? h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => this.leave() }, t('leaveWaiting'))) : null));
  }

  // prepareCall connects a person who waits to the call ahead (POST /api/call/prepare): ICE
  // and DTLS are done when they are let in, which then costs one renegotiation. The
  // connection sends and receives nothing while they wait; the SFU closes it if they are
  // denied or removed. Without devices opened (a Matrix user's waiting page), there is nothing
  // to send yet: they connect when let in.
  async prepareCall() {
    const { me, session } = this.state;
    if (this.pre || this.preparing || !this.stream || !me.can_prepare_call) return;
    this.preparing = true;
    try {
      const access = await request('POST', '/api/call/prepare', { auth: this.auth, body: {} });
      if (!this.view.startsWith('waiting')) return;
      const pre = connectCall(access, session.id, this.stream, {
        onJoined() {}, onRemoteTrack() {}, onRemoteGone() {}, onPeer() {}, onMute() {}, onLobby() {}, onError() {},
        onClosed: () => { if (this.pre === pre) this.pre = null; },
        // The SFU let them in (the bridge told it): into the call without waiting for the
        // state to say so.
        onAdmitted: () => {
          this.routing = (this.routing || Promise.resolve())
            .then(() => (this.pre === pre && this.view.startsWith('waiting') ? this.enterCall() : null))
            .catch((e) => this.fail(e));
        },
      }, { waiting: true });
      this.pre = pre;
    } catch (e) {
      // Not waiting any more, or the network: the call connects when they are let in.
    } finally {
      this.preparing = false;
    }
  }

  dropPreparedCall() {
    if (this.pre) { this.pre.close(); this.pre = null; }
  }

  async enterCall() {
    if (this.meter) { this.meter.stop(); this.meter = null; }
    this.view = 'call';
    const pre = this.pre;
    this.pre = null;
    if (pre && !pre.closed) {
      // Connected while waiting: only the tracks are left to add.
      this.renderCall();
      this.connect(null, {}, pre);
      return;
    }
    let access;
    try {
      access = await request('POST', '/api/call/join', { auth: this.auth, body: {} });
    } catch (e) {
      this.view = '';
      if (e.code === 'not_admitted') return this.routeNow();
      return this.fail(e);
    }
    this.renderCall();
    this.connect(access);
  }

  // connect opens one connection to the call; resume carries the previous one's state over a
  // reconnection (mute, camera off, a shared screen). pre is a connection made while waiting,
  // which enters the call instead.
  connect(access, resume = {}, pre = null) {
    let call = null;
    const handlers = {
      onJoined: () => { this.joined = true; this.setConnection('online'); this.showPresence(); },
      onRemoteTrack: (track, stream, info) => this.addRemote(track, stream, info),
      onRemoteGone: (trackId) => this.removeRemote(trackId),
      onPeer: (userId, present, host, p) => this.onPeer(userId, present, host, p),
      onMute: (userId, kind, muted) => this.onMute(userId, kind, muted),
      onLobby: (msg) => { if (this.panel) this.panel.render(msg.participants || [], msg.lobby_message); },
      // Refusals of the clinician's commands come in English from the SFU; a client never
      // sends one, so anything else they could see here is the generic sentence in their language.
      onError: (text, command) => {
        this.setStatus(this.state.me.host ? text : t('error'));
        if (this.panel) this.panel.status.textContent = text;
        // An admission refused for payment from the call: the clinician is asked, as on the panel.
        if (command === 'admit' && this.panel && text.includes('has not paid') && !text.includes('does not admit')) this.panel.askUnpaid();
      },
      onClosed: (reason, code, leaving) => this.onCallClosed(call, reason, code, leaving),
      // LiveKit resumes a dropped connection by itself: the page says so meanwhile.
      onConnection: (state) => { if (this.call === call) this.setConnection(state); },
    };
    call = pre ? pre.enter(handlers) : connectCall(access, this.state.session.id, this.stream, handlers, resume);
    this.call = call;
    // For tests and support: what the connection receives and sends.
    this.calls = (this.calls || 0) + 1;
    window.telehealthCall = {
      generation: this.calls,
      // 'embedded' (the bridge's SFU) or 'livekit'.
      backend: call.backend,
      stats: () => (this.call === call ? call.stats() : null),
      state: () => this.state,
      dropSignalling: () => call.dropSignalling(),
      // Ends the shared screen as the browser's own Stop sharing does.
      endScreenCapture: () => { if (this.screen) this.screen.getTracks().forEach((tr) => { tr.stop(); tr.dispatchEvent(new Event('ended')); }); },
      // The devices the call sends from (a switch in Settings shows here).
      devices: () => ({
        audio: call.local.audio ? call.local.audio.getSettings().deviceId : '',
        camera: call.local.camera ? call.local.camera.getSettings().deviceId : '',
      }),
    };
  }

  // setConnection shows whether the page is connected to the call: 'connecting', 'online' or
  // 'offline' (retrying).
  setConnection(state) {
    if (this.callMain) this.callMain.dataset.connection = state;
    this.setStatus(state === 'offline' ? t('offline') : state === 'connecting' ? t('connecting') : '');
  }

  // reconnect gets a new credential and connection after the signalling dropped, retrying
  // with a growing pause while the network is away; the call resumes as it was. A refusal
  // (no longer let in, session over) stops it: the state moves the page.
  async reconnect(previous) {
    if (this.reconnecting) return;
    this.reconnecting = true;
    this.setConnection('offline');
    const resume = { audioMuted: previous.muted.audio, cameraOff: previous.muted.camera, screen: previous.local.screen ? this.screen : null };
    let pause = 500;
    try {
      while (this.view === 'call' && this.call === previous) {
        try {
          const access = await request('POST', '/api/call/join', { auth: this.auth, body: {} });
          if (this.view !== 'call' || this.call !== previous) return;
          this.resetTiles();
          this.connect(access, resume);
          return;
        } catch (e) {
          if (e instanceof ApiError && e.status > 0 && e.status < 500 && e.code !== 'rate_limited') {
            this.setStatus(errorText(e));
            return;
          }
        }
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(5000, pause * 2);
      }
    } finally {
      this.reconnecting = false;
    }
  }

  // resetTiles empties the grid before a new connection tells again who is there.
  resetTiles() {
    for (const r of this.remotes.values()) if (r.el) r.el.remove();
    for (const tile of this.tiles.values()) tile.remove();
    this.remotes.clear();
    this.tiles.clear();
    this.hosts = {};
    this.joined = false;
  }

  renderCall() {
    const { me } = this.state;
    this.hosts = {};
    this.remotes = new Map();
    this.tiles = new Map();
    this.joined = false;
    this.grid = h('div', { class: 'remote-grid', id: 'remotes', 'aria-live': 'polite' });
    this.self = h('video', { id: 'self', class: 'self-view', autoplay: true, muted: true, playsinline: true });
    this.self.srcObject = this.stream;
    this.self.hidden = this.stream.getVideoTracks().length === 0;
    this.statusLine = h('p', { class: 'status', role: 'status', id: 'call-status' }, t('connecting'));
    // Said in place of an empty screen while the clinician is not in the call.
    this.presence = h('p', { class: 'presence', id: 'presence', role: 'status', hidden: true });
    // toggle is an on/off button; its set(on) shows a state that changed by itself (the
    // browser's own Stop sharing, a share refused) without acting again.
    const toggle = (id, offLabel, onLabel, f) => {
      let on = false;
      const b = h('button', { type: 'button', id, 'aria-pressed': 'false' }, offLabel);
      b.set = (value) => {
        on = value;
        b.textContent = on ? onLabel : offLabel;
        b.setAttribute('aria-pressed', String(on));
      };
      b.addEventListener('click', async () => {
        b.set(!on);
        await f(on);
      });
      return b;
    };
    const missing = (id, label) => h('button', { type: 'button', id, disabled: true, 'aria-pressed': 'true' }, label);
    const controls = h('nav', { class: 'controls', 'aria-label': t('settings') },
      this.stream.getAudioTracks().length ? toggle('mute', t('mute'), t('unmute'), (on) => this.call.setMuted(on)) : missing('mute', t('noMic')),
      this.stream.getVideoTracks().length ? toggle('camera', t('cameraOff'), t('cameraOn'), (on) => this.call.setCameraOff(on)) : missing('camera', t('noCamera')),
      toggle('hide-self', t('hideSelf'), t('showSelf'), (on) => { this.self.hidden = on; }),
      // No Share screen where the browser cannot share (phones, most tablets).
      navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia ? toggle('share', t('shareScreen'), t('stopShare'), (on) => this.toggleShare(on)) : null,
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
    this.callMain = h('main', { class: 'call', 'data-connection': 'connecting' },
      h('h1', { class: 'visually-hidden' }, t('title')), this.statusLine, this.presence, this.grid, this.self, controls);
    // The extensions' panels (the chat) sit between the call and the clinician's panel.
    const slot = h('div', { class: 'call-extensions', id: 'call-extensions' });
    show(h('div', { class: 'call-layout' }, this.callMain, slot, aside));
    this.frame();
    this.mountExtensions(slot, controls);
  }

  // mountExtensions gives each call extension its place: a panel in slot, a button among the
  // controls (before Leave), and what it needs to reach the bridge.
  mountExtensions(slot, controls) {
    this.unmountExtensions();
    const leave = controls.querySelector('#leave');
    this.mounted = extensions.map((ext) => {
      const panel = h('div', { class: 'call-extension' });
      slot.append(panel);
      try {
        const handle = ext.mount({
          panel,
          addControl: (button) => controls.insertBefore(button, leave),
          state: this.state,
          auth: this.auth,
          guest: this.guest,
        }) || {};
        return handle;
      } catch (e) {
        console.error('call extension failed', e);
        return {};
      }
    });
  }

  updateExtensions() {
    for (const m of this.mounted || []) if (m.update) m.update(this.state);
  }

  unmountExtensions() {
    for (const m of this.mounted || []) if (m.unmount) m.unmount();
    this.mounted = [];
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
    if (info.label === 'screen') {
      const video = h('video', { autoplay: true, playsinline: true, muted: true });
      video.srcObject = new MediaStream([track]);
      const caption = h('figcaption', {});
      const tile = h('figure', { class: 'tile screen', 'data-user': info.user_id, 'data-label': 'screen' }, video, caption);
      tile.caption = caption;
      this.grid.append(tile);
      this.remotes.set(track.id, { el: tile, user: info.user_id, screen: true });
      this.nameTiles();
      track.addEventListener('ended', () => this.removeRemote(track.id));
      return;
    }
    const tile = this.tileFor(info.user_id);
    tile.video.srcObject = new MediaStream([track]);
    tile.hasVideo = true;
    this.remotes.set(track.id, { tile, user: info.user_id });
    this.paintTile(tile);
    track.addEventListener('ended', () => this.removeRemote(track.id));
  }

  // tileFor is a person's tile: their camera, or their initials when it is off or absent; their
  // name; a sign when their microphone or camera is off. One per person, from when they join
  // the call, so someone without a camera is seen too.
  tileFor(userId) {
    let tile = this.tiles.get(userId);
    if (tile) return tile;
    const video = h('video', { autoplay: true, playsinline: true, muted: true });
    const avatar = h('div', { class: 'avatar', 'aria-hidden': 'true' });
    const name = h('span', { class: 'name' });
    const micOff = h('span', { class: 'badge mic-off', role: 'img', 'aria-label': t('micOffBadge'), title: t('micOffBadge') }, icon('mic-off'));
    const camOff = h('span', { class: 'badge cam-off', role: 'img', 'aria-label': t('camOffBadge'), title: t('camOffBadge') }, icon('cam-off'));
    tile = h('figure', { class: 'tile camera', 'data-user': userId, 'data-label': 'camera' }, video, avatar, h('figcaption', {}, name, micOff, camOff));
    Object.assign(tile, { video, avatar, nameEl: name, userId, hasVideo: false, audioMuted: false, videoMuted: false });
    this.tiles.set(userId, tile);
    this.grid.prepend(tile);
    this.paintTile(tile);
    return tile;
  }

  // paintTile shows a tile's state: the video only while the camera sends (never a frozen
  // frame), the initials otherwise, and the name.
  paintTile(tile) {
    const name = this.nameOf(tile.userId);
    const off = tile.videoMuted || !tile.hasVideo;
    tile.nameEl.textContent = name;
    tile.avatar.textContent = initials(name);
    tile.video.hidden = off;
    tile.avatar.hidden = !off;
    tile.dataset.name = name;
    tile.dataset.videoOff = String(off);
    tile.dataset.audioMuted = String(tile.audioMuted);
    tile.querySelector('.mic-off').hidden = !tile.audioMuted;
    tile.querySelector('.cam-off').hidden = !off;
  }

  // nameOf is a person's display name from the state's people; '' until it is known.
  nameOf(userId) {
    const person = (this.state.people || []).find((p) => p.user_id === userId);
    if (person && person.name) return person.name;
    return this.hosts && this.hosts[userId] ? (this.state.session.clinician_name || '') : '';
  }

  // nameTiles names every tile again from the latest state (someone let in since).
  nameTiles() {
    if (!this.tiles) return;
    for (const tile of this.tiles.values()) this.paintTile(tile);
    for (const r of this.remotes.values()) {
      if (r.screen) r.el.caption.textContent = t('screenOf', { name: this.nameOf(r.user) });
    }
  }

  onPeer(userId, present, host, info) {
    if (!present) {
      this.removePeer(userId);
    } else {
      // LiveKit does not say who hosts (null): the state's people do.
      this.hosts[userId] = host ?? (this.state.people || []).some((p) => p.user_id === userId && p.host);
      const tile = this.tileFor(userId);
      if (info) {
        tile.audioMuted = !!info.audio_muted;
        tile.videoMuted = !!info.video_muted;
      }
      this.paintTile(tile);
    }
    this.showPresence();
  }

  onMute(userId, kind, muted) {
    const tile = this.tileFor(userId);
    if (kind === 'audio') tile.audioMuted = muted;
    else tile.videoMuted = muted;
    this.paintTile(tile);
  }

  // showPresence tells a participant let in before the clinician that they are in, and that
  // the clinician will come, instead of an empty screen; and the clinician who opened the call
  // before its window that nobody can join yet.
  showPresence() {
    if (!this.presence) return;
    const { me, session } = this.state;
    let text = '';
    if (me.host && session.status === 'scheduled') {
      text = t('rehearsal', { opens: session.local.opens });
    } else if (!me.host && this.joined && !Object.values(this.hosts).some(Boolean)) {
      text = t('clinicianSoon', { name: session.clinician_name || '' });
    }
    this.presence.textContent = text;
    this.presence.hidden = !text;
  }

  removeRemote(trackId) {
    const r = this.remotes && this.remotes.get(trackId);
    if (!r) return;
    this.remotes.delete(trackId);
    if (r.tile) {
      r.tile.hasVideo = false;
      r.tile.video.srcObject = null;
      this.paintTile(r.tile);
    } else {
      r.el.remove();
    }
  }

  removePeer(userId) {
    for (const [id, r] of this.remotes || []) if (r.user === userId) this.removeRemote(id);
    const tile = this.tiles && this.tiles.get(userId);
    if (tile) { tile.remove(); this.tiles.delete(userId); }
    if (this.hosts) delete this.hosts[userId];
  }

  async toggleShare(on) {
    const button = document.getElementById('share');
    if (!on) return this.stopShare();
    try {
      this.screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
    } catch (e) {
      // Refused or cancelled in the browser's picker: nothing is shared, the button says so.
      if (button) button.set(false);
      return;
    }
    // The browser's own Stop sharing ends the track: the call and the button follow.
    this.screen.getVideoTracks()[0].addEventListener('ended', () => {
      if (button) button.set(false);
      this.stopShare();
    });
    this.call.startScreenShare(this.screen);
  }

  // stopShare stops sending the screen and stops capturing it.
  async stopShare() {
    if (this.screen) { this.screen.getTracks().forEach((tr) => tr.stop()); this.screen = null; }
    if (this.call && !this.call.closed) await this.call.stopScreenShare();
  }

  async settings() {
    const box = h('div', { class: 'pickers' });
    const dialog = h('dialog', { class: 'settings', 'aria-label': t('settings') },
      h('h2', {}, t('settings')), box,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => { dialog.close(); dialog.remove(); } }, t('close'))));
    document.body.append(dialog);
    dialog.showModal();
    await this.fillPickers(box, async (camera, microphone) => {
      const fresh = (await probeMedia({ camera, microphone })).stream;
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
  // the same way, and a refusal as an error message. A call without signalling of the bridge's
  // (LiveKit), or no call, uses the API; the lobby then comes with the state.
  async hostAction(action, participant, text) {
    if (this.call && !this.call.closed && this.call.hostCommand) {
      this.call.hostCommand({ command: action, participant, text });
      return;
    }
    this.state = await request('POST', `/api/call/host/${action}`, { auth: this.auth, body: { participant, text } });
    if (this.panel) this.panel.render(this.state.lobby || [], this.state.session.lobby_message);
  }

  async endForAll() {
    if (!(await confirmDialog(t('endConfirm'), t('endForAll')))) return;
    if (await this.endNow()) this.backToPanel();
  }

  async endNow() {
    try {
      await request('POST', '/api/call/host/end', { auth: this.auth, body: {} });
      return true;
    } catch (e) {
      this.setStatus(errorText(e));
      return false;
    }
  }

  // backToPanel takes the clinician back to their panel once they left or ended the call (in
  // Element's widget there is no panel: the page says they left).
  backToPanel() {
    this.view = 'left';
    this.unmountExtensions();
    if (this.call && !this.call.closed) this.call.close();
    this.call = null;
    window.telehealthCall = null;
    if (this.stream) { this.stream.getTracks().forEach((tr) => tr.stop()); this.stream = null; }
    if (this.screen) { this.screen.getTracks().forEach((tr) => tr.stop()); this.screen = null; }
    if (location.pathname === '/widget') return this.endPage(this.state.session.status === 'ended' ? 'ended' : 'left');
    location.assign('/panel');
  }

  async leave() {
    if (this.state.me.host && this.view === 'call') {
      // The clinician leaves, then ends the meeting for all (or leaves it going).
      const choice = await chooseDialog(t('leaveTitle'), [
        { value: 'end', label: t('endForAll'), cls: 'danger', action: 'end-for-all' },
        { value: 'leave', label: t('leaveOnly'), action: 'leave-only' },
        { value: '', label: t('cancel'), action: 'cancel' },
      ]);
      if (choice === 'end' && await this.endNow()) this.backToPanel();
      else if (choice === 'leave') this.backToPanel();
      return;
    }
    if (this.call) this.call.close();
    this.dropPreparedCall();
    try {
      this.state = await request('POST', '/api/call/leave', { auth: this.auth, body: {} });
    } catch (e) { /* the page says they left either way */ }
    this.view = '';
    await this.leaveCall('left');
  }

  async leaveCall(state) {
    this.unmountExtensions();
    if (this.call && !this.call.closed) this.call.close();
    this.call = null;
    this.panel = null;
    window.telehealthCall = null;
    if (this.screen) { this.screen.getTracks().forEach((tr) => tr.stop()); this.screen = null; }
    // Sent back to the waiting room, they keep their camera for when they are let in again.
    if (this.stream && state !== 'booked') { this.stream.getTracks().forEach((tr) => tr.stop()); this.stream = null; }
    this.view = '';
    if (this.state.session.status === 'ended') { this.view = 'over'; return this.endPage('ended'); }
    if (state === 'booked') {
      // Sent back to the waiting room: a guest asks again at once, under the same name.
      if (this.guest && this.state.me.can_knock) return this.knockAgain();
      return this.routeNow();
    }
    const pages = { left: 'left', removed: 'removed', denied: 'denied' };
    if (pages[state]) {
      this.view = state;
      return this.endPage(pages[state], ...this.rejoinButton());
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

  // onCallClosed: a connection the SFU closed on purpose (taken out, the session over, opened
  // elsewhere, refused) is said in the page's language, and the state moves the page; any other
  // close (the network, a proxy, the SFU restarting) is retried.
  onCallClosed(call, reason, code, leaving) {
    if (this.view !== 'call' || call !== this.call || leaving) return;
    // A connection made while waiting that the SFU would not let in (the admission changed
    // meanwhile): a fresh join says why, or gets in.
    if (code === 4403 && call.preconnected && !this.joined) return this.reconnect(call);
    if (code === 4000 || code === 4001 || code === 4403) {
      this.setStatus(t('close_' + code));
      return;
    }
    this.reconnect(call);
  }
}

// chooseDialog asks a question with several answers in a modal dialog and resolves to the
// value of the one chosen ('' when closed with Escape).
function chooseDialog(question, choices) {
  return new Promise((resolve) => {
    const done = (value) => { dialog.close(); dialog.remove(); resolve(value); };
    const dialog = h('dialog', { class: 'confirm', id: 'leave-dialog', 'aria-label': question },
      h('h2', {}, question),
      h('div', { class: 'actions' }, choices.map((c) =>
        h('button', { type: 'button', class: c.cls || '', 'data-action': c.action, onclick: () => done(c.value) }, c.label))));
    dialog.addEventListener('cancel', () => { dialog.remove(); resolve(''); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// initials are the first letters of a name's first two words ("Jane Doe" → "JD").
function initials(name) {
  return (name || '').split(/\s+/).filter(Boolean).slice(0, 2).map((w) => [...w][0].toUpperCase()).join('');
}

// icon draws a small crossed-out microphone or camera (SVG, no image file, nothing inline to run).
function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '18');
  svg.setAttribute('height', '18');
  svg.setAttribute('aria-hidden', 'true');
  const shapes = name === 'mic-off'
    ? ['M12 3a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z', 'M6 11a6 6 0 0 0 12 0', 'M12 17v4', 'M4 4l16 16']
    : ['M3 7h11a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1z', 'M15 11l6-3v8l-6-3', 'M2 3l19 18'];
  for (const d of shapes) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '2');
    path.setAttribute('stroke-linecap', 'round');
    svg.append(path);
  }
  return svg;
}

export { stateName };
