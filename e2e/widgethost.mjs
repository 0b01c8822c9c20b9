// widgethost.mjs runs in the browser (served by internal/e2e's Element Call scenario), not in
// Node: a minimal stand-in for Element Web hosting Element Call as a widget. It answers the
// widget API's postMessage requests (matrix-widget-api's fromWidget actions) with the Matrix
// client-server API of the user's homeserver (Dendrite in the tests), with the user's access
// token, as Element Web's widget driver does; it approves every capability Element Call asks
// for, as Element Web does for its own Element Call; and it pushes the room's new events and the
// user's to-device messages to the widget (toWidget send_event / send_to_device) from a /sync
// loop. Where Element Web would call the homeserver, so does this page, and every answer that
// is not a success is kept in window.homeserverErrors for the test's log: that is how the test
// shows exactly what Dendrite lacks.
//
// The LiveKit focus comes from the domain's .well-known/matrix/client (org.matrix.msc4143.rtc_foci),
// which Dendrite cannot publish any other way.
//
// Its parameters are in the fragment: user (a key of the control server's /ec/account), room,
// ec (Element Call's origin), name.

const params = new URLSearchParams(location.hash.slice(1));
const account = await (await fetch('/ec/account?user=' + encodeURIComponent(params.get('user')))).json();
const hs = account.homeserver;
// The domain's .well-known/matrix/client, as Element Web discovers it at sign-in (the control
// server stands for the domain's web server).
const wellKnown = await (await fetch('/.well-known/matrix/client')).json();
const roomId = params.get('room');
const ecOrigin = params.get('ec');
const widgetId = 'element-call-' + account.device_id;

window.homeserverErrors = []; // {method, path, status, errcode, error}
window.widgetLog = []; // the fromWidget actions, in order, and how they were answered
window.capabilities = null;

// cs calls the homeserver as the user; failures are recorded (never the token).
async function cs(method, path, body) {
  const resp = await fetch(hs + path, {
    method,
    headers: { Authorization: 'Bearer ' + account.access_token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  if (!resp.ok) {
    const entry = { method, path: path.replace(/\?.*$/, ''), status: resp.status, errcode: json && json.errcode, error: json ? json.error : text.slice(0, 200) };
    window.homeserverErrors.push(entry);
    const err = new Error(`${method} ${entry.path}: HTTP ${resp.status} ${entry.errcode || ''} ${entry.error || ''}`);
    err.entry = entry;
    throw err;
  }
  return json;
}

const room = encodeURIComponent(roomId);
let txn = 0;
const txnId = () => `host${Date.now()}.${++txn}`;

// The widget's address, with the parameters Element Web gives Element Call: joining the room's
// existing call at once, no end-to-end encryption (the room is not encrypted, and the web guests
// could not decrypt), no header.
const widgetParams = new URLSearchParams({
  widgetId, parentUrl: location.origin + location.pathname, roomId, userId: account.user_id,
  deviceId: account.device_id, baseUrl: hs, displayName: params.get('name') || '', lang: 'en', theme: 'light',
  intent: 'join_existing', skipLobby: 'true', preload: 'false', confineToRoom: 'true', header: 'none',
  perParticipantE2EE: 'false', enableE2EE: 'false', appPrompt: 'false',
});
const frame = document.getElementById('widget');
const toFrame = (msg) => frame.contentWindow.postMessage(msg, ecOrigin);

// toWidget requests and their answers.
let hostRequests = 0;
const pending = new Map();
function toWidget(action, data) {
  const requestId = 'host-' + (++hostRequests);
  return new Promise((resolve) => {
    pending.set(requestId, resolve);
    toFrame({ api: 'toWidget', widgetId, requestId, action, data });
    // A widget that never answers must not stop the host (Element Web times out too).
    setTimeout(() => { if (pending.delete(requestId)) resolve({ error: { message: 'no answer' } }); }, 10000);
  });
}

// The host's versions: the widget reads state with read_events (no update_state), is told of
// approved capabilities, and may ask for the homeserver's RTC transports (MSC4515).
const versions = ['0.0.1', '0.0.2', 'org.matrix.msc2762', 'org.matrix.msc2871', 'org.matrix.msc2876',
  'org.matrix.msc3819', 'org.matrix.msc4039', 'org.matrix.msc4515'];

let negotiated = null;
function negotiate() {
  if (!negotiated) {
    negotiated = (async () => {
      const { capabilities } = await toWidget('capabilities', {});
      window.capabilities = capabilities;
      await toWidget('notify_capabilities', { requested: capabilities, approved: capabilities });
      startSync();
    })();
  }
  return negotiated;
}

async function handle(action, data) {
  switch (action) {
    case 'supported_api_versions':
      return { supported_versions: versions };
    case 'content_loaded':
      negotiate();
      return {};
    case 'get_openid': {
      const token = await cs('POST', `/_matrix/client/v3/user/${encodeURIComponent(account.user_id)}/openid/request_token`, {});
      return { state: 'allowed', ...token };
    }
    case 'org.matrix.msc2876.read_events': {
      if (data.state_key === undefined) return { events: [] }; // no timeline reading needed
      const state = await cs('GET', `/_matrix/client/v3/rooms/${room}/state`);
      return {
        events: state.filter((e) => e.type === data.type && (data.state_key === true || e.state_key === data.state_key))
          .map((e) => ({ ...e, room_id: roomId })),
      };
    }
    case 'send_event': {
      if (data.delay !== undefined || data.parent_delay_id !== undefined) {
        // Element Web sends delayed events only where the homeserver has MSC4140.
        throw new Error('The homeserver does not support delayed events (MSC4140).');
      }
      const target = encodeURIComponent(data.room_id || roomId);
      if (data.state_key !== undefined) {
        const r = await cs('PUT', `/_matrix/client/v3/rooms/${target}/state/${encodeURIComponent(data.type)}/${encodeURIComponent(data.state_key)}`, data.content);
        return { room_id: data.room_id || roomId, event_id: r.event_id };
      }
      const r = await cs('PUT', `/_matrix/client/v3/rooms/${target}/send/${encodeURIComponent(data.type)}/${txnId()}`, data.content);
      return { room_id: data.room_id || roomId, event_id: r.event_id };
    }
    case 'send_to_device':
      if (data.encrypted) throw new Error('This host sends no encrypted to-device messages.');
      await cs('PUT', `/_matrix/client/v3/sendToDevice/${encodeURIComponent(data.type)}/${txnId()}`, { messages: data.messages });
      return {};
    case 'org.matrix.msc4515.get_rtc_transports': {
      // As Element Web's call store: the homeserver's transports (MSC4143), then the rtc_foci
      // of the client well-known it discovered at sign-in.
      let fromHomeserver = [];
      try {
        fromHomeserver = (await cs('GET', '/_matrix/client/unstable/org.matrix.msc4143/rtc/transports')).rtc_transports || [];
      } catch (e) { /* recorded in homeserverErrors */ }
      return { rtc_transports: [...fromHomeserver, ...(wellKnown['org.matrix.msc4143.rtc_foci'] || [])] };
    }
    case 'org.matrix.msc4039.get_media_config':
      return cs('GET', '/_matrix/client/v1/media/config');
    case 'org.matrix.msc2974.request_capabilities':
      window.capabilities = [...new Set([...(window.capabilities || []), ...data.capabilities])];
      setTimeout(() => toWidget('notify_capabilities', { requested: data.capabilities, approved: data.capabilities }), 0);
      return {};
    case 'set_always_on_screen':
      return { success: true };
    case 'io.element.join':
    case 'im.vector.hangup':
    case 'io.element.close':
    case 'io.element.device_mute':
      return {};
    default:
      throw new Error('Unsupported action: ' + action);
  }
}

window.addEventListener('message', async (ev) => {
  if (ev.origin !== ecOrigin || ev.source !== frame.contentWindow) return;
  const m = ev.data || {};
  if (m.widgetId !== widgetId) return;
  if (m.api === 'toWidget' && m.response) {
    const resolve = pending.get(m.requestId);
    pending.delete(m.requestId);
    if (resolve) resolve(m.response);
    return;
  }
  if (m.api !== 'fromWidget' || m.response) return;
  let response;
  try {
    response = await handle(m.action, m.data || {});
    window.widgetLog.push({ action: m.action, ok: true });
  } catch (e) {
    response = { error: { message: String(e.message || e) } };
    window.widgetLog.push({ action: m.action, ok: false, error: response.error.message });
  }
  toFrame({ ...m, response });
});

// The room's events and the user's to-device messages, as Element Web forwards them, from the
// sync position before the widget read the room's state (so that nothing falls between).
const filter = encodeURIComponent(JSON.stringify({
  room: { rooms: [roomId], timeline: { limit: 50 }, ephemeral: { types: [] }, account_data: { types: [] } },
  presence: { types: [] }, account_data: { types: [] },
}));
let since = (await cs('GET', `/_matrix/client/v3/sync?timeout=0&filter=${filter}`)).next_batch;
async function startSync() {
  for (;;) {
    let r;
    try {
      r = await cs('GET', `/_matrix/client/v3/sync?timeout=10000&filter=${filter}&since=${encodeURIComponent(since)}`);
    } catch (e) {
      await new Promise((ok) => setTimeout(ok, 1000));
      continue;
    }
    since = r.next_batch;
    const joined = (r.rooms && r.rooms.join && r.rooms.join[roomId]) || {};
    const events = [...((joined.state && joined.state.events) || []), ...((joined.timeline && joined.timeline.events) || [])];
    for (const e of events) await toWidget('send_event', { ...e, room_id: roomId });
    for (const e of (r.to_device && r.to_device.events) || []) await toWidget('send_to_device', e);
  }
}

frame.src = `${ecOrigin}/room#?${widgetParams}`;
window.hostReady = true;
