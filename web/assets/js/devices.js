// devices.js: the pre-join checks. Camera and microphone permission (with help when the
// browser refuses), a preview, a microphone level meter, device pickers.

import { h } from './dom.js';
import { t } from './i18n.js';

// openMedia asks for the camera and microphone (the chosen devices if given).
export async function openMedia({ camera = '', microphone = '', video = true } = {}) {
  return navigator.mediaDevices.getUserMedia({
    audio: microphone ? { deviceId: { exact: microphone } } : true,
    video: video ? (camera ? { deviceId: { exact: camera } } : { width: 640, height: 480 }) : false,
  });
}

// mediaError turns a getUserMedia error into the help to show.
export function mediaError(err) {
  switch (problemOf(err)) {
    case 'denied': return [t('permissionDenied'), t('permissionHelp')];
    case 'missing': return [t('noDevice'), ''];
    case 'busy': return [t('deviceBusy'), ''];
  }
  return [t('error'), ''];
}

// problemOf sorts a getUserMedia error: refused by the person or the browser, no such device,
// device held by another application, or anything else.
function problemOf(err) {
  switch (err && err.name) {
    case 'NotAllowedError': case 'SecurityError': return 'denied';
    case 'NotFoundError': case 'OverconstrainedError': return 'missing';
    case 'NotReadableError': case 'AbortError': return 'busy';
  }
  return 'error';
}

// probeMedia opens what the browser gives of the camera and the microphone. When asking for
// both fails, each is asked for alone, so the page can say exactly which one was refused and
// still let the person in with the other (or to listen only). It answers
// {stream, camera, microphone}, each device 'ok', 'denied', 'missing', 'busy' or 'error'.
export async function probeMedia({ camera = '', microphone = '' } = {}) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return { stream: new MediaStream(), camera: 'error', microphone: 'error' };
  }
  try {
    return { stream: await openMedia({ camera, microphone }), camera: 'ok', microphone: 'ok' };
  } catch (err) { /* ask for each alone below */ }
  const out = { camera: 'ok', microphone: 'ok' };
  const tracks = [];
  try {
    const s = await navigator.mediaDevices.getUserMedia({ audio: microphone ? { deviceId: { exact: microphone } } : true });
    tracks.push(...s.getTracks());
  } catch (err) { out.microphone = problemOf(err); }
  try {
    const s = await navigator.mediaDevices.getUserMedia({ video: camera ? { deviceId: { exact: camera } } : { width: 640, height: 480 } });
    tracks.push(...s.getTracks());
  } catch (err) { out.camera = problemOf(err); }
  out.stream = new MediaStream(tracks);
  return out;
}

// browserName is the browser the help speaks of.
export function browserName() {
  const ua = navigator.userAgent;
  if (/Edg\//.test(ua)) return 'edge';
  if (/Firefox\//.test(ua)) return 'firefox';
  if (/iPhone|iPad/.test(ua)) return 'ios';
  if (/Safari\//.test(ua) && !/Chrom(e|ium)\//.test(ua)) return 'safari';
  if (/Chrom(e|ium)\//.test(ua)) return 'chrome';
  return 'other';
}

// deviceProblem is what to tell about the devices that did not open: which one, why, and how
// to allow it in this browser. Empty when both opened.
export function deviceProblem(probe) {
  const bad = ['camera', 'microphone'].filter((d) => probe[d] !== 'ok');
  if (bad.length === 0) return null;
  // One sentence per cause, naming the devices it hit.
  const lines = [];
  for (const why of ['denied', 'missing', 'busy', 'error']) {
    const hit = bad.filter((d) => probe[d] === why);
    if (hit.length === 0) continue;
    const device = hit.length === 2 ? t('deviceBoth') : t('device_' + hit[0]);
    lines.push(t('device_' + why, { device }));
  }
  const help = bad.some((d) => probe[d] === 'denied')
    ? t('allowHelp_' + browserName(), { device: bad.length === 2 ? t('deviceBoth') : t('device_' + bad[0]) })
    : '';
  return { lines, help, camera: probe.camera === 'ok', microphone: probe.microphone === 'ok' };
}

// LevelMeter shows the microphone's level from an AnalyserNode.
export class LevelMeter {
  constructor(stream) {
    this.el = h('meter', { class: 'level', min: 0, max: 1, value: 0, 'aria-label': t('micLevel') });
    this.peak = 0;
    try {
      this.ctx = new AudioContext();
      const src = this.ctx.createMediaStreamSource(stream);
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = 512;
      src.connect(this.analyser);
      this.data = new Float32Array(this.analyser.fftSize);
      const tick = () => {
        if (!this.analyser) return;
        this.analyser.getFloatTimeDomainData(this.data);
        let sum = 0;
        for (const v of this.data) sum += v * v;
        const level = Math.min(1, Math.sqrt(sum / this.data.length) * 4);
        this.el.value = level;
        this.peak = Math.max(this.peak, level);
        this.raf = requestAnimationFrame(tick);
      };
      if (this.ctx.state === 'suspended') this.ctx.resume();
      tick();
    } catch (e) { /* no Web Audio: the meter stays empty */ }
  }

  stop() {
    cancelAnimationFrame(this.raf);
    this.analyser = null;
    if (this.ctx) this.ctx.close();
  }
}

// devicePicker is a labelled select of the devices of one kind, calling onChange(deviceId).
export async function devicePicker(kind, label, current, onChange) {
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === kind);
  if (devices.length === 0) return null;
  const id = 'pick-' + kind;
  const select = h('select', { id, onchange: () => onChange(select.value) },
    devices.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === current }, d.label || `${label} ${i + 1}`)));
  return h('div', { class: 'field' }, h('label', { for: id }, label), select);
}

// currentDevice is the device ID a track comes from.
export function currentDevice(stream, kind) {
  const track = kind === 'audio' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
  return track ? (track.getSettings().deviceId || '') : '';
}
