// callmedia.js: the call itself. One RTCPeerConnection to the bridge's SFU and one WebSocket
// for signalling (docs/signalling.md). The SFU makes every offer; this page only answers, so
// adding a screen or restarting ICE is a request and never collides with the SFU's offers.

import { connectLiveKit } from './livekitmedia.js';

// connectCall joins the call with the access from POST /api/call/join and the local camera
// and microphone. handlers: onJoined(msg), onRemoteTrack(track, stream, info),
// onRemoteGone(trackId), onPeer(userId, present, host), onMute(userId, kind, muted),
// onLobby(msg), onError(text), onClosed(reason, code, leaving). resume carries a previous
// connection's state over a reconnection: {audioMuted, cameraOff, screen (a MediaStream)}; or
// {waiting: true} with the access from POST /api/call/prepare: the connection comes up while
// the person waits, sending nothing and receiving nothing, until enter(handlers) once let in.
// On the LiveKit backend (access.livekit: the server's URL and a token), the same call goes
// through livekit-client instead (livekitmedia.js), with the same face.
export function connectCall(access, session, localStream, handlers, resume = {}) {
  if (access.livekit) return connectLiveKit(access, localStream, handlers, resume);
  return new Call(access, session, localStream, handlers, resume);
}

class Call {
  constructor(access, session, localStream, handlers, resume) {
    this.backend = 'embedded';
    this.h = handlers;
    this.local = { audio: localStream.getAudioTracks()[0] || null, camera: localStream.getVideoTracks()[0] || null, screen: null };
    // A device the person joined without counts as muted, so the others see it at once.
    this.muted = { audio: !this.local.audio || !!resume.audioMuted, camera: !this.local.camera || !!resume.cameraOff };
    this.resumeScreen = resume.screen || null;
    // Waiting: the senders stay empty (no packet leaves the page) until the SFU says joined.
    this.waiting = !!resume.waiting;
    this.preconnected = this.waiting;
    if (this.waiting) {
      // The page shows no call while waiting: what the connection hears is held for the call's
      // handlers (enter), but being let in (onAdmitted) and closing.
      this.held = [];
      this.h = new Proxy(handlers, {
        get: (own, name) => (name === 'onClosed' || name === 'onAdmitted' ? own[name] : (...args) => this.held.push([name, args])),
      });
    }
    this.senders = {};
    this.infos = new Map();
    this.closed = false;
    this.pc = new RTCPeerConnection({
      bundlePolicy: 'max-bundle',
      iceServers: (access.ice_servers || []).map((s) => ({ urls: s.urls, username: s.username, credential: s.credential })),
    });
    this.pc.ontrack = (e) => {
      const info = this.infos.get(e.track.id) || { user_id: '', label: e.track.kind === 'audio' ? 'audio' : 'camera' };
      this.h.onRemoteTrack(e.track, e.streams[0] || new MediaStream([e.track]), info);
    };
    this.pc.onicecandidate = (e) => this.send({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
    this.pc.onconnectionstatechange = () => {
      const s = this.pc.connectionState;
      if ((s === 'failed' || s === 'disconnected') && !this.closed) this.restart();
    };
    window.addEventListener('online', this.onOnline = () => this.restart());
    this.ws = new WebSocket(access.ws_url);
    this.ws.onopen = () => this.send({ type: 'join', session, credential: access.credential });
    this.ws.onmessage = (e) => this.receive(JSON.parse(e.data)).catch((err) => this.h.onError(String(err)));
    this.ws.onclose = (e) => this.finish(this.closeReason || e.reason || '', e.code);
  }

  send(msg) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  async receive(msg) {
    switch (msg.type) {
      case 'joined':
        if (this.waiting) {
          this.waiting = false;
          // Start sending at once; the offer that follows adds the others' tracks.
          await Promise.all([this.refresh('audio'), this.refresh('camera')]);
        }
        if (this.muted.audio) this.send({ type: 'mute', kind: 'audio', muted: true });
        if (this.muted.camera) this.send({ type: 'mute', kind: 'video', muted: true });
        if (this.resumeScreen) this.startScreenShare(this.resumeScreen);
        this.h.onJoined(msg);
        for (const p of msg.peers || []) this.h.onPeer(p.user_id, true, p.host, p);
        // Let in by the bridge while the page still shows the waiting room.
        if (this.h.onAdmitted) this.h.onAdmitted();
        break;
      case 'offer':
        await this.answer(msg);
        break;
      case 'candidate':
        try { await this.pc.addIceCandidate(msg.candidate || null); } catch (e) { /* a late candidate */ }
        break;
      case 'track':
        this.infos.set(msg.track_id, { user_id: msg.user_id, label: msg.label, stream_id: msg.stream_id });
        break;
      case 'track_ended':
        this.infos.delete(msg.track_id);
        this.h.onRemoteGone(msg.track_id);
        break;
      case 'peer_joined':
        this.h.onPeer(msg.user_id, true, msg.host);
        break;
      case 'peer_left':
        this.h.onPeer(msg.user_id, false, false);
        break;
      case 'mute':
        this.h.onMute(msg.user_id, msg.kind, msg.muted);
        break;
      case 'lobby':
        this.h.onLobby(msg);
        break;
      case 'error':
        this.h.onError(msg.message, msg.command);
        break;
      case 'closed':
        this.closeReason = msg.reason;
        break;
    }
  }

  // answer takes the SFU's offer: the m-lines labelled audio, camera and screen carry this
  // page's tracks; the others bring the other participants'.
  async answer(msg) {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    for (const tr of this.pc.getTransceivers()) {
      const label = (msg.labels || {})[tr.mid];
      if (label === 'audio' || label === 'camera' || label === 'screen') {
        tr.direction = 'sendonly';
        this.senders[label] = tr.sender;
        await tr.sender.replaceTrack(this.outgoing(label));
      }
    }
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.send({ type: 'answer', sdp: answer.sdp });
  }

  // enter makes a waiting connection the call, once the person is let in: handlers replace
  // the waiting page's and get what was held for them.
  enter(handlers) {
    const held = this.held || [];
    this.held = null;
    this.h = handlers;
    for (const [name, args] of held) if (handlers[name]) handlers[name](...args);
    // Not let in by the bridge yet (it normally is by now): ask.
    if (this.waiting) this.send({ type: 'enter' });
    return this;
  }

  // outgoing is what a sender sends: nothing while waiting, muted or off.
  outgoing(label) {
    if (this.waiting) return null;
    if (label === 'audio' && this.muted.audio) return null;
    if (label === 'camera' && this.muted.camera) return null;
    return this.local[label];
  }

  async refresh(label) {
    if (this.senders[label]) await this.senders[label].replaceTrack(this.outgoing(label));
  }

  // setMuted stops sending the microphone (no packets at all, not silence).
  async setMuted(muted) {
    this.muted.audio = muted;
    await this.refresh('audio');
    this.send({ type: 'mute', kind: 'audio', muted });
  }

  async setCameraOff(off) {
    this.muted.camera = off;
    await this.refresh('camera');
    this.send({ type: 'mute', kind: 'video', muted: off });
  }

  // replaceTrack switches a device during the call.
  async replaceTrack(kind, track) {
    const label = kind === 'audio' ? 'audio' : 'camera';
    this.local[label] = track;
    await this.refresh(label);
  }

  startScreenShare(stream) {
    this.local.screen = stream.getVideoTracks()[0];
    if (this.senders.screen) this.refresh('screen');
    this.send({ type: 'publish', label: 'screen' });
  }

  async stopScreenShare() {
    this.local.screen = null;
    await this.refresh('screen');
    this.send({ type: 'unpublish', label: 'screen' });
  }

  // hostCommand sends the clinician's command over the signalling (LiveKit's calls have none:
  // the page uses the API).
  hostCommand(cmd) {
    this.send({ type: 'host', ...cmd });
  }

  restart() {
    const now = Date.now();
    if (this.lastRestart && now - this.lastRestart < 3000) return;
    this.lastRestart = now;
    this.send({ type: 'restart' });
  }

  finish(reason, code = 1000) {
    if (this.closed) return;
    this.closed = true;
    window.removeEventListener('online', this.onOnline);
    this.pc.close();
    this.h.onClosed(reason, code, !!this.leaving);
  }

  close() {
    this.leaving = true;
    this.send({ type: 'leave' });
    this.closeReason = this.closeReason || 'left';
    try { this.ws.close(1000, 'left'); } catch (e) { /* already closed */ }
    this.finish('left');
  }

  // dropSignalling cuts the WebSocket as a network would, without saying goodbye (tests).
  dropSignalling() {
    try { this.ws.close(3000, 'dropped'); } catch (e) { /* already closed */ }
  }

  // stats sums up the connection for the page's tests: decoded frames, audio sent.
  async stats() {
    const out = { framesDecoded: 0, inboundVideo: 0, videoPacketsReceived: 0, keyFramesDecoded: 0, pliSent: 0, nackSent: 0, audioPacketsReceived: 0, audioPacketsSent: 0, audioBytesSent: 0, videoPacketsSent: 0, screenTracks: 0 };
    if (this.closed) return out;
    const report = await this.pc.getStats();
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.framesDecoded += s.framesDecoded || 0; out.inboundVideo++;
        out.videoPacketsReceived += s.packetsReceived || 0; out.keyFramesDecoded += s.keyFramesDecoded || 0;
        out.pliSent += s.pliCount || 0; out.nackSent += s.nackCount || 0;
      }
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPacketsReceived += s.packetsReceived || 0;
      if (s.type === 'outbound-rtp' && s.kind === 'audio') { out.audioPacketsSent += s.packetsSent || 0; out.audioBytesSent += s.bytesSent || 0; }
      if (s.type === 'outbound-rtp' && s.kind === 'video') out.videoPacketsSent += s.packetsSent || 0;
    });
    for (const info of this.infos.values()) if (info.label === 'screen') out.screenTracks++;
    return out;
  }
}
