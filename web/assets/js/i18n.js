// i18n.js: the pages' words in English and French. The participant's language comes from the
// bridge (their booking); without one, from the browser.

const strings = {
  en: {
    title: 'Telehealth session',
    yourSession: 'Your session',
    sessionAt: '{date}, {start}–{end} ({zone})',
    join: 'Join',
    joinOpensAt: 'Join opens at {time}',
    opensAt: 'Your session opens at {time} ({zone}).',
    mySessions: 'My sessions',
    phoneSession: 'Your telephone session',
    byPhone: 'By telephone: your clinician calls you',
    phoneCallAt: 'Your clinician will call you at {phone} at {time}.',
    phoneCallAtNoNumber: 'Your clinician will call you at {time}.',
    phoneNoApp: 'This is a telephone session: there is nothing to install or open. Keep your phone nearby.',
    noSessions: 'You have no upcoming sessions.',
    back: 'Back',
    messageFromClinician: 'Message from your clinician',
    // pre-join
    prejoinTitle: 'Before you join',
    prejoinIntro: 'Check your camera and microphone, and confirm your name.',
    camera: 'Camera',
    microphone: 'Microphone',
    speaker: 'Speaker',
    micLevel: 'Microphone level',
    yourName: 'Your name',
    nameHint: 'The name your clinician will see (2 characters at least).',
    nameTooShort: 'Please enter at least 2 characters.',
    acceptAndJoin: 'Accept and join',
    enterCall: 'Enter the call',
    allowDevices: 'Allow camera and microphone',
    permissionDenied: 'Your browser did not give access to the camera and microphone.',
    permissionHelp: 'Click the camera icon in the address bar (or your browser\'s site settings), allow the camera and microphone for this site, then try again.',
    noDevice: 'No camera or microphone was found. Plug one in, then try again.',
    deviceBusy: 'Your camera or microphone is used by another application. Close it, then try again.',
    tryAgain: 'Try again',
    continueWithout: 'Continue without camera',
    // waiting room
    waitingTitle: 'Waiting room',
    waiting: 'Waiting for your clinician to let you in.',
    waitingMatrix: 'Ask to join from your Matrix app (request to join the session\'s room), then stay on this page.',
    leaveWaiting: 'Leave the waiting room',
    // call
    connecting: 'Connecting…',
    mute: 'Mute',
    unmute: 'Unmute',
    cameraOff: 'Stop camera',
    cameraOn: 'Start camera',
    hideSelf: 'Hide my video',
    showSelf: 'Show my video',
    shareScreen: 'Share screen',
    stopShare: 'Stop sharing',
    settings: 'Settings',
    close: 'Close',
    leave: 'Leave',
    you: 'You',
    screenOf: 'Screen of {name}',
    participant: 'Participant',
    clinician: 'Clinician',
    joinedAs: 'joined as {name}',
    // host panel
    attendees: 'Attendees',
    waitingList: 'Waiting',
    inSession: 'In the session',
    nobodyWaiting: 'Nobody is waiting.',
    admit: 'Admit',
    deny: 'Deny',
    admitAll: 'Admit all',
    remove: 'Remove',
    sendBack: 'Send back',
    messageToWaiting: 'Message to those waiting',
    send: 'Send',
    endForAll: 'End meeting for all',
    endConfirm: 'End the meeting for everyone? Participants will be taken out of the session.',
    cancel: 'Cancel',
    confirm: 'Confirm',
    // end pages
    denied: 'Your clinician did not let you in to this session. Contact your clinic if you think this is a mistake.',
    removed: 'You were taken out of this session.',
    left: 'You left the session.',
    rejoin: 'Join again',
    ended: 'This session has ended.',
    cancelled: 'This session was cancelled.',
    forged: 'This link is not valid. Please use the link from your invitation.',
    revoked: 'This link was replaced or withdrawn by your clinic. Please use your latest invitation, or contact your clinic.',
    expired: 'This link has expired: the session is over.',
    rateLimited: 'Too many attempts. Please wait a minute and try again.',
    signedOut: 'Your access to this call has expired.',
    error: 'Something went wrong. Please try again.',
    offline: 'The connection to the clinic was lost. Trying again…',
    states: { booked: 'booked', waiting: 'waiting', admitted: 'let in', in_session: 'in the session', denied: 'not admitted', removed: 'removed', left: 'left' },
  },
  fr: {
    title: 'Séance de téléconsultation',
    yourSession: 'Votre séance',
    sessionAt: '{date}, {start}–{end} ({zone})',
    join: 'Rejoindre',
    joinOpensAt: 'Accès à partir de {time}',
    opensAt: 'Votre séance ouvre à {time} ({zone}).',
    mySessions: 'Mes séances',
    phoneSession: 'Votre séance par téléphone',
    byPhone: 'Par téléphone : votre praticien vous appelle',
    phoneCallAt: 'Votre praticien vous appellera au {phone} à {time}.',
    phoneCallAtNoNumber: 'Votre praticien vous appellera à {time}.',
    phoneNoApp: 'Cette séance a lieu par téléphone : rien à installer ni à ouvrir. Gardez votre téléphone à portée de main.',
    noSessions: 'Vous n\'avez pas de séance à venir.',
    back: 'Retour',
    messageFromClinician: 'Message de votre praticien',
    prejoinTitle: 'Avant d\'entrer',
    prejoinIntro: 'Vérifiez votre caméra et votre micro, et confirmez votre nom.',
    camera: 'Caméra',
    microphone: 'Micro',
    speaker: 'Haut-parleur',
    micLevel: 'Niveau du micro',
    yourName: 'Votre nom',
    nameHint: 'Le nom que verra votre praticien (2 caractères au moins).',
    nameTooShort: 'Indiquez au moins 2 caractères.',
    acceptAndJoin: 'Accepter et entrer',
    enterCall: 'Entrer dans l\'appel',
    allowDevices: 'Autoriser la caméra et le micro',
    permissionDenied: 'Votre navigateur n\'a pas donné accès à la caméra et au micro.',
    permissionHelp: 'Cliquez sur l\'icône de caméra dans la barre d\'adresse (ou dans les paramètres du site), autorisez la caméra et le micro pour ce site, puis réessayez.',
    noDevice: 'Aucune caméra ni aucun micro n\'a été trouvé. Branchez-en un, puis réessayez.',
    deviceBusy: 'Votre caméra ou votre micro est utilisé par une autre application. Fermez-la, puis réessayez.',
    tryAgain: 'Réessayer',
    continueWithout: 'Continuer sans caméra',
    waitingTitle: 'Salle d\'attente',
    waiting: 'En attente de votre praticien, qui va vous faire entrer.',
    waitingMatrix: 'Demandez à rejoindre depuis votre application Matrix (demande d\'accès au salon de la séance), puis restez sur cette page.',
    leaveWaiting: 'Quitter la salle d\'attente',
    connecting: 'Connexion…',
    mute: 'Couper le micro',
    unmute: 'Activer le micro',
    cameraOff: 'Arrêter la caméra',
    cameraOn: 'Activer la caméra',
    hideSelf: 'Masquer ma vidéo',
    showSelf: 'Afficher ma vidéo',
    shareScreen: 'Partager l\'écran',
    stopShare: 'Arrêter le partage',
    settings: 'Réglages',
    close: 'Fermer',
    leave: 'Quitter',
    you: 'Vous',
    screenOf: 'Écran de {name}',
    participant: 'Participant',
    clinician: 'Praticien',
    joinedAs: 'a rejoint sous le nom {name}',
    attendees: 'Participants',
    waitingList: 'En attente',
    inSession: 'Dans la séance',
    nobodyWaiting: 'Personne n\'attend.',
    admit: 'Faire entrer',
    deny: 'Refuser',
    admitAll: 'Faire entrer tout le monde',
    remove: 'Retirer',
    sendBack: 'Renvoyer en attente',
    messageToWaiting: 'Message aux personnes en attente',
    send: 'Envoyer',
    endForAll: 'Terminer la séance pour tous',
    endConfirm: 'Terminer la séance pour tout le monde ? Les participants en seront retirés.',
    cancel: 'Annuler',
    confirm: 'Confirmer',
    denied: 'Votre praticien ne vous a pas fait entrer dans cette séance. Contactez votre cabinet si vous pensez qu\'il s\'agit d\'une erreur.',
    removed: 'Vous avez été retiré de cette séance.',
    left: 'Vous avez quitté la séance.',
    rejoin: 'Revenir',
    ended: 'Cette séance est terminée.',
    cancelled: 'Cette séance a été annulée.',
    forged: 'Ce lien n\'est pas valide. Utilisez le lien de votre invitation.',
    revoked: 'Ce lien a été remplacé ou retiré par votre cabinet. Utilisez votre dernière invitation ou contactez votre cabinet.',
    expired: 'Ce lien a expiré : la séance est terminée.',
    rateLimited: 'Trop de tentatives. Patientez une minute puis réessayez.',
    signedOut: 'Votre accès à cet appel a expiré.',
    error: 'Une erreur est survenue. Veuillez réessayer.',
    offline: 'La connexion au cabinet est perdue. Nouvelle tentative…',
    states: { booked: 'réservé', waiting: 'en attente', admitted: 'autorisé', in_session: 'dans la séance', denied: 'refusé', removed: 'retiré', left: 'parti' },
  },
};

let current = (navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en';

// setLocale chooses the language (en or fr); anything else keeps the current one.
export function setLocale(locale) {
  if (strings[locale]) current = locale;
  document.documentElement.lang = current;
}

export function locale() { return current; }

// t returns a string with {name} placeholders filled in.
export function t(key, vars = {}) {
  const s = strings[current][key] ?? strings.en[key] ?? key;
  return typeof s === 'string' ? s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? '')) : s;
}

// stateName is a lobby state for people.
export function stateName(state) {
  return strings[current].states[state] || state;
}

// addStrings adds a module's own words ({en: {...}, fr: {...}}), so that the call page's
// words can live beside it (callwords.js) and other modules add theirs without editing here.
export function addStrings(more) {
  for (const [lang, table] of Object.entries(more)) {
    if (strings[lang]) Object.assign(strings[lang], table);
  }
}
