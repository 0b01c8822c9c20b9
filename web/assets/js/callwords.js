// callwords.js: the words of the guest and call pages that came with voice-only joining, named
// tiles, the clinic's contact line and the refusals a client can see, in English and French.
// Server refusals and the SFU's close codes are mapped to these texts by code, so that a
// French page never shows the server's English sentence.
import { addStrings } from './i18n.js';

addStrings({
  en: {
    device_camera: 'camera',
    device_microphone: 'microphone',
    deviceBoth: 'camera and microphone',
    device_denied: 'Your browser blocked the {device} for this site.',
    device_missing: 'No {device} was found on this device.',
    device_busy: 'The {device} is used by another application. Close it, then try again.',
    device_error: 'Your browser could not open the {device}.',
    allowHelp_chrome: 'To allow it in Chrome: click the icon at the left of the address bar, set the {device} to Allow, then press Try again.',
    allowHelp_edge: 'To allow it in Microsoft Edge: click the padlock at the left of the address bar, set the {device} to Allow, then press Try again.',
    allowHelp_firefox: 'To allow it in Firefox: click the crossed-out icon in the address bar, remove the block on the {device}, then press Try again.',
    allowHelp_safari: 'To allow it in Safari: open Safari > Settings > Websites, choose the {device}, set this site to Allow, then press Try again.',
    allowHelp_ios: 'To allow it on an iPhone or iPad: tap "aA" in the address bar, then Website Settings, set the {device} to Allow, then press Try again.',
    allowHelp_other: 'To allow it: open your browser\'s settings for this site, allow the {device}, then press Try again.',
    continueWithoutCamera: 'Continue without camera',
    continueWithoutMic: 'Continue without microphone',
    joinToListen: 'Join to listen',
    audioOnlyNote: 'You will join without camera: the others hear you and see your initials.',
    noMicNote: 'You will join without microphone: the others see you but cannot hear you.',
    listenOnlyNote: 'You will join without camera or microphone: you can listen and read the chat.',
    noCamera: 'No camera',
    noMic: 'No microphone',
  },
  fr: {
    device_camera: 'la caméra',
    device_microphone: 'le micro',
    deviceBoth: 'la caméra et le micro',
    device_denied: 'Votre navigateur a bloqué {device} pour ce site.',
    device_missing: 'Introuvable sur cet appareil : {device}.',
    device_busy: 'Une autre application utilise {device}. Fermez-la, puis réessayez.',
    device_error: 'Votre navigateur n\'a pas pu ouvrir {device}.',
    allowHelp_chrome: 'Pour y remédier dans Chrome : cliquez sur l\'icône à gauche de la barre d\'adresse, réglez {device} sur Autoriser, puis appuyez sur Réessayer.',
    allowHelp_edge: 'Pour y remédier dans Microsoft Edge : cliquez sur le cadenas à gauche de la barre d\'adresse, réglez {device} sur Autoriser, puis appuyez sur Réessayer.',
    allowHelp_firefox: 'Pour y remédier dans Firefox : cliquez sur l\'icône barrée dans la barre d\'adresse, retirez le blocage ({device}), puis appuyez sur Réessayer.',
    allowHelp_safari: 'Pour y remédier dans Safari : ouvrez Safari > Réglages > Sites web, choisissez {device}, réglez ce site sur Autoriser, puis appuyez sur Réessayer.',
    allowHelp_ios: 'Pour y remédier sur iPhone ou iPad : touchez « aA » dans la barre d\'adresse, puis Réglages du site web, réglez {device} sur Autoriser, puis appuyez sur Réessayer.',
    allowHelp_other: 'Pour y remédier : ouvrez les réglages de votre navigateur pour ce site, autorisez {device}, puis appuyez sur Réessayer.',
    continueWithoutCamera: 'Continuer sans caméra',
    continueWithoutMic: 'Continuer sans micro',
    joinToListen: 'Entrer pour écouter',
    audioOnlyNote: 'Vous entrerez sans caméra : les autres vous entendent et voient vos initiales.',
    noMicNote: 'Vous entrerez sans micro : les autres vous voient mais ne vous entendent pas.',
    listenOnlyNote: 'Vous entrerez sans caméra ni micro : vous pourrez écouter et lire la discussion.',
    noCamera: 'Pas de caméra',
    noMic: 'Pas de micro',
  },
});
