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
  switch (err && err.name) {
    case 'NotAllowedError': case 'SecurityError':
      return [t('permissionDenied'), t('permissionHelp')];
    case 'NotFoundError': case 'OverconstrainedError':
      return [t('noDevice'), ''];
    case 'NotReadableError': case 'AbortError':
      return [t('deviceBusy'), ''];
  }
  return [t('error'), ''];
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
