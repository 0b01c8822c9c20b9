// livekitmedia.js: the call through a LiveKit server (media.backend: livekit), with the same
// face as callmedia.js's connection to the bridge's SFU: the page's handlers, mute, camera,
// screen, device switch, stats. Only the transport differs: livekit-client (vendored under
// /assets/vendor, loaded on the first LiveKit call only) connects with the LiveKit URL and
// token POST /api/call/join gave. The clinician's commands go over the API (POST
// /api/call/host/...) and the lobby comes with the page's state, not over the call.

const LIBRARY = '/assets/vendor/livekit-client/livekit-client.umd.js';
let loading = null;

// loadLiveKit loads livekit-client once (a classic script: its UMD build sets
// window.LivekitClient).
function loadLiveKit() {
  if (window.LivekitClient) return Promise.resolve(window.LivekitClient);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = LIBRARY;
      script.onload = () => (window.LivekitClient ? resolve(window.LivekitClient) : reject(new Error('livekit-client did not load')));
      script.onerror = () => { loading = null; reject(new Error('livekit-client did not load')); };
      document.head.append(script);
    });
  }
  return loading;
}

// connectLiveKit joins the call's LiveKit room; handlers and resume are connectCall's.
export function connectLiveKit(access, localStream, handlers, resume = {}) {
  return new LiveKitCall(access, localStream, handlers, resume);
}

class LiveKitCall {
  constructor(access, localStream, handlers, resume) {
    this.backend = 'livekit';
    this.h = handlers;
    // local holds the page's own tracks (the self-view, the level meter, Settings read them);
    // LiveKit gets clones, so that its mute (which disables the track it holds) never blanks
    // the self-view.
    this.local = { audio: localStream.getAudioTracks()[0] || null, camera: localStream.getVideoTracks()[0] || null, screen: null };
    this.muted = { audio: !this.local.audio || !!resume.audioMuted, camera: !this.local.camera || !!resume.cameraOff };
    // sending is the page's track whose clone LiveKit sends, per label (a device switched while
    // LiveKit was reconnecting is caught up once it is back).
    this.sending = {};
    this.closed = false;
    this.preconnected = false;
    // Connections per Matrix user: Element Call on a phone and this page may both be in.
    this.present = new Map();
    this.start(access, resume).catch((err) => {
      // Refused (no longer let in, a bad token) is final; anything else is retried.
      const refused = !!(this.LK && err instanceof this.LK.ConnectionError && err.reason === this.LK.ConnectionErrorReason.NotAllowed);
      this.finish(refused ? 'refused' : String(err && err.message || err), refused ? 4403 : 1006);
    });
  }

  async start(access, resume) {
    const LK = await loadLiveKit();
    if (this.closed) return;
    this.LK = LK;
    // Two peer connections (publisher, subscriber), LiveKit's classic mode: the single one that
    // livekit-client 2.23 tries first took 6 s to set up against LiveKit 1.13.5 and timed out
    // negotiating on a loaded machine, where two connected in about 2 s.
    const room = new LK.Room({ adaptiveStream: false, dynacast: false, stopLocalTrackOnUnpublish: true, disconnectOnPageLeave: true, singlePeerConnection: false });
    this.room = room;
    room
      .on(LK.RoomEvent.ParticipantConnected, (p) => this.peer(p, true))
      .on(LK.RoomEvent.ParticipantDisconnected, (p) => this.peer(p, false))
      .on(LK.RoomEvent.TrackSubscribed, (track, pub, p) => this.remoteTrack(track, pub, p))
      .on(LK.RoomEvent.TrackUnsubscribed, (track) => this.h.onRemoteGone(track.mediaStreamTrack.id))
      .on(LK.RoomEvent.TrackMuted, (pub, p) => this.mute(pub, p, true))
      .on(LK.RoomEvent.TrackUnmuted, (pub, p) => this.mute(pub, p, false))
      .on(LK.RoomEvent.TrackPublished, (pub, p) => this.mute(pub, p, pub.isMuted))
      .on(LK.RoomEvent.TrackUnpublished, (pub, p) => this.mute(pub, p, true))
      .on(LK.RoomEvent.Reconnecting, () => this.connection('offline'))
      .on(LK.RoomEvent.SignalReconnecting, () => this.connection('offline'))
      .on(LK.RoomEvent.Reconnected, () => this.reconnected())
      .on(LK.RoomEvent.LocalTrackPublished, (pub) => this.published(pub))
      .on(LK.RoomEvent.Disconnected, (reason) => this.disconnected(reason));
    await room.connect(access.livekit.url, access.livekit.token, { autoSubscribe: true });
    if (this.closed) { room.disconnect(); return; }
    await Promise.all([this.publish('audio'), this.publish('camera')]);
    if (resume.screen) await this.startScreenShare(resume.screen);
    this.joined = true;
    this.h.onJoined({});
    for (const p of room.remoteParticipants.values()) this.peer(p, true);
  }

  // userOf is the Matrix user of a participant: the attribute the bridge's tokens carry (Element
  // Call's identities are hashes), else the identity (the bridge's pages use the user ID).
  userOf(p) {
    return (p.attributes && p.attributes.matrix_user_id) || p.identity;
  }

  label(pub) {
    const S = this.LK.Track.Source;
    if (pub.source === S.ScreenShare) return 'screen';
    return pub.kind === 'audio' ? 'audio' : 'camera';
  }

  peer(p, present) {
    if (!this.joined) return; // those already in are told once the page is in
    const user = this.userOf(p);
    const ids = this.present.get(user) || new Set();
    if (present) ids.add(p.identity); else ids.delete(p.identity);
    if (ids.size) this.present.set(user, ids); else this.present.delete(user);
    if (!present && ids.size) return; // still in on another device
    if (!present) return this.h.onPeer(user, false, false);
    const S = this.LK.Track.Source;
    const mic = p.getTrackPublication(S.Microphone);
    const cam = p.getTrackPublication(S.Camera);
    // The host flag comes from the page's state (null: the page knows who the clinician is).
    this.h.onPeer(user, true, null, { audio_muted: !mic || mic.isMuted, video_muted: !cam || cam.isMuted });
  }

  remoteTrack(track, pub, p) {
    const info = { user_id: this.userOf(p), label: this.label(pub) };
    this.h.onRemoteTrack(track.mediaStreamTrack, new MediaStream([track.mediaStreamTrack]), info);
  }

  mute(pub, p, muted) {
    if (!this.joined || !p || p === this.room.localParticipant || this.label(pub) === 'screen') return;
    this.h.onMute(this.userOf(p), pub.kind === 'audio' ? 'audio' : 'video', muted);
  }

  connection(state) {
    if (this.h.onConnection) this.h.onConnection(state);
  }

  // pub is the current publication of the microphone, the camera or the screen, looked up each
  // time: LiveKit's full reconnect unpublishes and republishes every track, and the old
  // publications lose their track.
  pub(label) {
    if (!this.room) return null;
    const S = this.LK.Track.Source;
    return this.room.localParticipant.getTrackPublication({ audio: S.Microphone, camera: S.Camera, screen: S.ScreenShare }[label]) || null;
  }

  // published keeps a muted device quiet from the moment LiveKit (re)publishes it. A full
  // reconnect republishes every track on a new sender, which sends the disabled track (silence)
  // until told otherwise; Reconnected comes only after the whole restart, too late.
  published(pub) {
    const label = this.label(pub);
    if (label === 'screen' || !this.muted[label] || !pub.track || this.closed) return;
    const quiet = pub.track.isUpstreamPaused ? this.hush(pub) : this.quiet(label, true);
    quiet.catch(() => {}); // the next (re)publication tries again
  }

  // reconnected follows a resume or a full reconnect. A full reconnect republishes the tracks
  // on new senders that send whatever the track holds: a muted device is paused again (no
  // packets, as before), and a device switched meanwhile is caught up.
  async reconnected() {
    try {
      for (const label of ['audio', 'camera']) {
        if (this.closed || !this.local[label]) continue;
        const pub = this.pub(label);
        if (!pub || !pub.track) {
          await this.publish(label);
          continue;
        }
        if (this.sending[label] !== this.local[label]) await this.replaceTrack(label === 'audio' ? 'audio' : 'video', this.local[label]);
        const quiet = pub.track.isMuted && pub.track.isUpstreamPaused;
        if (this.muted[label] !== quiet) await this.quiet(label, this.muted[label]);
        else if (quiet) await this.hush(pub);
      }
    } catch (err) {
      // The call goes on; the next reconnection tries again.
    }
    this.connection('online');
  }

  // publish sends the microphone or the camera (a clone of the page's track); one off or
  // muted is published muted and sends nothing (upstream paused: no packets, not silence).
  async publish(label) {
    const track = this.local[label];
    if (!track || this.closed) return;
    const S = this.LK.Track.Source;
    this.sending[label] = track;
    await this.room.localParticipant.publishTrack(track.clone(), {
      source: label === 'audio' ? S.Microphone : S.Camera, name: label, simulcast: false,
    });
    if (this.muted[label]) await this.quiet(label, true);
  }

  // hush empties the sender of a paused track: livekit-client's replaceTrack and a full
  // reconnect's republish put the track back on a sender while it still counts as paused (its
  // pauseUpstream then does nothing).
  async hush(pub) {
    const sender = pub && pub.track && pub.track.sender;
    if (sender && sender.track) await sender.replaceTrack(null);
  }

  async quiet(label, off) {
    const pub = this.pub(label);
    if (!pub || !pub.track) return;
    if (off) {
      await pub.track.mute();
      await pub.track.pauseUpstream();
    } else {
      await pub.track.resumeUpstream();
      await pub.track.unmute();
    }
  }

  // setMuted stops sending the microphone (no packets at all, not silence); the others see it.
  async setMuted(muted) {
    this.muted.audio = muted;
    await this.quiet('audio', muted);
  }

  async setCameraOff(off) {
    this.muted.camera = off;
    await this.quiet('camera', off);
  }

  // replaceTrack switches a device during the call.
  async replaceTrack(kind, track) {
    const label = kind === 'audio' ? 'audio' : 'camera';
    this.local[label] = track;
    // While LiveKit reconnects in full its tracks are being republished: reconnected() sends
    // from this one once it is back.
    if (this.room && this.room.state === this.LK.ConnectionState.Reconnecting) return;
    const pub = this.pub(label);
    if (!pub || !pub.track) return this.publish(label);
    this.sending[label] = track;
    const old = pub.track.mediaStreamTrack;
    await pub.track.replaceTrack(track.clone(), true);
    old.stop();
    // LiveKit sends again after a replacement: a muted device stays quiet.
    if (this.muted[label]) await this.hush(pub);
  }

  async startScreenShare(stream) {
    const track = stream.getVideoTracks()[0];
    this.local.screen = track;
    if (!this.room || this.closed) return;
    const pub = await this.room.localParticipant.publishTrack(track.clone(), {
      source: this.LK.Track.Source.ScreenShare, name: 'screen', simulcast: false,
    });
    if (this.local.screen !== track || this.closed) {
      // Stopped (or shared anew) while LiveKit was publishing it: the others may already
      // see it, so it goes now.
      if (pub.track && !this.closed) await this.room.localParticipant.unpublishTrack(pub.track, true);
    }
  }

  async stopScreenShare() {
    this.local.screen = null;
    const pub = this.pub('screen');
    if (pub && pub.track && this.room) await this.room.localParticipant.unpublishTrack(pub.track, true);
  }

  disconnected(reason) {
    const R = this.LK.DisconnectReason;
    // Taken out or the session over: final, as the SFU's 4000; opened elsewhere: 4001.
    const codes = {
      [R.PARTICIPANT_REMOVED]: [4000, 'removed'], [R.ROOM_DELETED]: [4000, 'ended'], [R.ROOM_CLOSED]: [4000, 'ended'],
      [R.DUPLICATE_IDENTITY]: [4001, 'elsewhere'], [R.CLIENT_INITIATED]: [1000, 'left'],
    };
    const [code, text] = codes[reason] || [1006, 'disconnected'];
    this.finish(text, code);
  }

  finish(reason, code = 1000) {
    if (this.closed) return;
    this.closed = true;
    if (this.room) this.room.disconnect();
    this.h.onClosed(reason, code, !!this.leaving);
  }

  close() {
    this.leaving = true;
    this.finish('left');
  }

  // dropSignalling cuts the signalling as a network would (tests): LiveKit resumes by itself.
  dropSignalling() {
    if (this.room) this.room.simulateScenario('signal-reconnect');
  }

  // reconnectInFull makes livekit-client reconnect in full, as the server asks when it gives up
  // on a connection (tests): it keeps the Room and republishes the tracks.
  reconnectInFull() {
    if (this.room) this.room.simulateScenario('full-reconnect');
  }

  // stats sums up the connection for the page's tests, as callmedia.js's does: decoded frames,
  // audio received and sent, video sent, shared screens.
  async stats() {
    const out = { framesDecoded: 0, inboundVideo: 0, audioPacketsReceived: 0, audioPacketsSent: 0, audioBytesSent: 0, videoPacketsSent: 0, screenTracks: 0 };
    if (this.closed || !this.room) return out;
    const tracks = [];
    for (const p of this.room.remoteParticipants.values()) {
      for (const pub of p.trackPublications.values()) {
        if (pub.track) tracks.push(pub.track);
        if (pub.track && this.label(pub) === 'screen') out.screenTracks++;
      }
    }
    for (const pub of this.room.localParticipant.trackPublications.values()) if (pub.track) tracks.push(pub.track);
    const reports = await Promise.all(tracks.map((tr) => tr.getRTCStatsReport().catch(() => null)));
    for (const report of reports) {
      if (!report) continue;
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') { out.framesDecoded += s.framesDecoded || 0; out.inboundVideo++; }
        if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPacketsReceived += s.packetsReceived || 0;
        if (s.type === 'outbound-rtp' && s.kind === 'audio') { out.audioPacketsSent += s.packetsSent || 0; out.audioBytesSent += s.bytesSent || 0; }
        if (s.type === 'outbound-rtp' && s.kind === 'video') out.videoPacketsSent += s.packetsSent || 0;
      });
    }
    return out;
  }
}
