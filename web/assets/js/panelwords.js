// panelwords.js: the clinician panel's words in English and French. The bridge answers in
// English; what it says about a field, a notification or a refusal is mapped here to the
// panel's language, so a French panel is French throughout.

const en = {
  panel: 'Telehealth', upcoming: 'Upcoming & Ongoing', newSession: 'New Scheduled Session', signOut: 'Sign out',
  signedOut: 'To sign in, send !login to the bot in your control room: it sends you a sign-in link.',
  none: 'No upcoming sessions.', enter: 'Enter Meeting', start: 'Start Session', attendees: 'Attendees', edit: 'Edit',
  cancelSession: 'Cancel session', keepSession: 'Keep session', cancelConfirm: 'Cancel this session? The participants will be told.',
  notSent: { m: '{what} not sent: {why}', f: '{what} not sent: {why}' },
  kinds: { confirmation: 'Confirmation', reminder: 'Reminder', window_open: 'Waiting room link', reschedule: 'New time', cancellation: 'Cancellation', phone_intro: 'Call announcement', message: 'Text message' },
  moveRequested: 'Asked from the portal to move it to: {times}', timesSep: '; ', waitingNow: '{n} waiting', link: 'Link', copy: 'Copy link', copied: 'Copied', newLink: 'New link', revoke: 'Withdraw link',
  kinds: { confirmation: 'Confirmation', reminder: 'Reminder', window_open: 'Waiting room link', reschedule: 'New time', cancellation: 'Cancellation', phone_intro: 'Call announcement', message: 'Text message', form_todo: 'Form to complete' },
  waitingNow: '{n} waiting', link: 'Link', copy: 'Copy link', copied: 'Copied', newLink: 'New link', revoke: 'Withdraw link',
  date: 'Date', time: 'Time', duration: 'Duration', zone: 'Session time zone', name: 'Participant name or initials',
  invite: 'Session invite and reminders', byEmail: 'E-mail invitation', bySMS: 'Text message invitation', noInvite: 'No invitation', email: 'Participant e-mail',
  phone: 'Participant mobile phone', region: 'Country of the number (for a national number)', international: 'International (+…)',
  participantZone: 'Participant time zone', language: 'Participant language', kind: 'Kind', video: 'Video', phoneKind: 'Telephone',
  admission: 'Admission', manual: 'I let each participant in', auto: 'Participants enter by themselves once I am in',
  callNow: 'Call now', callHint: 'Your phone rings first; answer and press 1 to call the participant. Each of you sees only the clinic\'s number.',
  callStates: { ringing_clinician: 'Calling your phone…', clinician_answered: 'Press 1 to call the participant.', ringing_client: 'Calling the participant…', connected: 'On the line with the participant.', ended: 'The call has ended.', failed: 'The call did not go through.' },
  callProblems: {},
  sendText: 'Send a text message', textSend: 'Send', textHint: 'Text messages are not private: write no health details, diagnosis, reason for the visit or full name.', textQueued: 'Text message on its way.',
  save: 'Save', saving: 'Saving…', back: 'Back', minutes: '{n} min', status: { scheduled: 'scheduled', open: 'waiting room open', live: 'in progress' },
  joinedAs: 'joined as {name}', colon: ': ',
  nameHint: '2 characters at least. Shown to you and to the other participants, never in messages.',
  waitingTitle: '({n}) Waiting — {panel}', sound: 'Sound when someone waits',
  zoneSearch: 'Search a city or a zone', zoneClinic: 'Clinic time zone', zoneAll: 'All time zones', zoneNone: 'No time zone matches “{q}”.', zoneID: 'Time zone ID: {id}',
  formProblem: 'The session was not saved: see the field marked below.',
  // Prospects (panelprospects.js): people who signed up on the portal by themselves.
  prOpen: 'Prospects', prTitle: 'Prospects', prIntro: 'People who signed up on your portal by themselves. Link each to their client record, or create one: until then they see only that the clinic will confirm their account.',
  prNone: 'Nobody is waiting to be confirmed.', prSignedUp: 'Signed up {when}', prLanguage: { en: 'English', fr: 'French' },
  prSearch: 'Find their client record (name, email or phone)', prNoMatch: 'No client record matches “{q}”.', prLink: 'Link to {name}',
  prCreate: 'Create a client record', prDismiss: 'Dismiss', prDismissConfirm: 'Dismiss this sign-up? They will be signed out of the portal.',
  prLinked: '{name} is linked: their portal now shows their record.', prCreated: 'Record created for {name}: their portal now shows it.', prDismissed: 'Sign-up dismissed.',
  errors: {
    name: 'Enter the participant\'s name or initials (2 to 64 characters).',
    nameLong: 'The name must have at most 64 characters.',
    emailMissing: 'Enter the participant\'s e-mail address, or choose another invitation.',
    email: 'This is not a valid email address.',
    phoneMissing: 'Enter the participant\'s mobile number, or choose another invitation.',
    phone: 'This is not a valid phone number: write it with its country code (+33 6 12 34 56 78), or choose the country.',
    date: 'Choose a date.',
    past: 'This date and time are already past.',
    time: 'Choose a time.',
    time_zone: 'Choose a time zone from the list.',
    participant_time_zone: 'Choose a time zone from the list.',
    duration_minutes: 'The duration must be between 5 minutes and 12 hours.',
    locale: 'Choose English or French.',
    invite: 'Choose how the participant is invited.',
    kind: 'Choose video or telephone.',
    admission: 'Choose how participants are admitted.',
  },
  refusals: {},
  reasons: [],
  // The Clients pages (panelclients.js).
  clients: {
    open: 'Clients', title: 'Clients', search: 'Search by name, e-mail or phone', none: 'No client matches.', empty: 'No clients yet.',
    newClient: 'New client', create: 'Create client', back: 'Back', save: 'Save', saving: 'Saving…', saved: 'Saved.',
    portalOn: 'portal open', displayName: 'Name (as booked)', preferredName: 'Preferred name', emails: 'E-mail addresses (one per line)',
    phones: 'Mobile phones (one per line)', region: 'Country of national numbers', language: 'Language', zone: 'Time zone',
    professionals: 'Assigned professionals (Matrix IDs, one per line)', reminders: 'Appointment reminders',
    remindAuto: 'By e-mail if there is an address, else none', remindEmail: 'By e-mail', remindSMS: 'By text message', remindNone: 'None',
    sessions: 'Sessions', upcoming: 'Upcoming', past: 'Past', noSessions: 'No sessions.',
    sessionStatus: { scheduled: 'scheduled', open: 'waiting room open', live: 'in progress', ended: 'ended', cancelled: 'cancelled' },
    video: 'Video', phoneKind: 'Telephone',
    portal: 'Client portal', portalIsOff: 'The portal is not open for this client.',
    portalIsClosed: 'The portal was disabled: the client cannot sign in (session links still work) until you enable it again.',
    portalIsOn: 'The portal is open: the client signs in with the access they created from the enrolment message.',
    portalHint: 'The enrolment link goes to the client only, by their first e-mail address (else by text message). You never see it.',
    enable: 'Enable the portal', resend: 'Send the enrolment again', disable: 'Disable the portal',
    disableConfirm: 'Disable the portal? The client is signed out everywhere, and their passkeys and password are removed. Session links keep working.',
    keep: 'Keep it open', working: 'Working…',
    sentEmail: 'The enrolment is on its way by e-mail.', sentSMS: 'The enrolment is on its way by text message.',
    disabled: 'The portal is disabled: the client was signed out everywhere.',
    messages: 'Messages', messagesSoon: 'The message thread with this client will appear here.',
    formProblem: 'Not saved: see the field marked below.',
    errors: {},
    refusals: {},
  },
};

const fr = {
  panel: 'Téléconsultation', upcoming: 'Séances à venir et en cours', newSession: 'Nouvelle séance', signOut: 'Se déconnecter',
  signedOut: 'Pour vous connecter, envoyez !login au bot dans votre salon de contrôle : il vous envoie un lien de connexion.',
  none: 'Aucune séance à venir.', enter: 'Entrer dans la séance', start: 'Démarrer la séance', attendees: 'Participants', edit: 'Modifier',
  cancelSession: 'Annuler la séance', keepSession: 'Garder la séance', cancelConfirm: 'Annuler cette séance ? Les participants en seront informés.',
  // The kind of notice decides the agreement: une confirmation non envoyée, un rappel non envoyé.
  notSent: { m: '{what} non envoyé : {why}', f: '{what} non envoyée : {why}' },
  kinds: { confirmation: 'Confirmation', reminder: 'Rappel', window_open: 'Lien de la salle d\'attente', reschedule: 'Changement d\'horaire', cancellation: 'Annulation', phone_intro: 'Annonce de l\'appel', message: 'SMS' },
  moveRequested: 'Demande de déplacement depuis l\'espace client : {times}', timesSep: ' ; ', waitingNow: '{n} en attente', link: 'Lien', copy: 'Copier le lien', copied: 'Copié', newLink: 'Nouveau lien', revoke: 'Retirer le lien',
  kinds: { confirmation: 'Confirmation', reminder: 'Rappel', window_open: 'Lien de la salle d\'attente', reschedule: 'Changement d\'horaire', cancellation: 'Annulation', phone_intro: 'Annonce de l\'appel', message: 'SMS', form_todo: 'Formulaire à remplir' },
  waitingNow: '{n} en attente', link: 'Lien', copy: 'Copier le lien', copied: 'Copié', newLink: 'Nouveau lien', revoke: 'Retirer le lien',
  date: 'Date', time: 'Heure', duration: 'Durée', zone: 'Fuseau horaire de la séance', name: 'Nom ou initiales du participant',
  invite: 'Invitation et rappels', byEmail: 'Par e-mail', bySMS: 'Par SMS', noInvite: 'Pas d\'invitation', email: 'E-mail du participant',
  phone: 'Téléphone mobile du participant', region: 'Pays du numéro (pour un numéro national)', international: 'International (+…)',
  participantZone: 'Fuseau horaire du participant', language: 'Langue du participant', kind: 'Type', video: 'Vidéo', phoneKind: 'Téléphone',
  admission: 'Admission', manual: 'Je fais entrer chaque participant', auto: 'Entrée automatique une fois que je suis là',
  callNow: 'Appeler maintenant', callHint: 'Votre téléphone sonne d\'abord ; décrochez et tapez 1 pour appeler le participant. Chacun ne voit que le numéro du cabinet.',
  callStates: { ringing_clinician: 'Appel de votre téléphone…', clinician_answered: 'Tapez 1 pour appeler le participant.', ringing_client: 'Appel du participant…', connected: 'En ligne avec le participant.', ended: 'Appel terminé.', failed: 'L\'appel n\'a pas abouti.' },
  callProblems: { clinician_busy: 'Votre téléphone était occupé.', clinician_no_answer: 'Votre téléphone n\'a pas répondu.', clinician_failed: 'Votre numéro n\'a pas pu être appelé.', clinician_completed: 'L\'appel s\'est terminé avant que le participant ne réponde.', client_busy: 'Le téléphone du participant était occupé.', client_no_answer: 'Le participant n\'a pas répondu.', client_failed: 'Le numéro du participant n\'a pas pu être appelé : vérifiez-le.', not_placed: 'L\'appel n\'a pas pu être passé.' },
  sendText: 'Envoyer un SMS', textSend: 'Envoyer', textHint: 'Un SMS n\'est pas confidentiel : n\'y mettez ni détail de santé, ni diagnostic, ni motif de consultation, ni nom complet.', textQueued: 'SMS en cours d\'envoi.',
  save: 'Enregistrer', saving: 'Enregistrement…', back: 'Retour', minutes: '{n} min', status: { scheduled: 'programmée', open: 'salle d\'attente ouverte', live: 'en cours' },
  joinedAs: 'a rejoint sous le nom {name}', colon: ' : ',
  nameHint: '2 caractères au moins. Visible par vous et les autres participants, jamais dans les messages.',
  waitingTitle: '({n}) En attente — {panel}', sound: 'Son quand quelqu\'un attend',
  zoneSearch: 'Chercher une ville ou un fuseau', zoneClinic: 'Fuseau horaire du cabinet', zoneAll: 'Tous les fuseaux horaires', zoneNone: 'Aucun fuseau ne correspond à « {q} ».', zoneID: 'Identifiant du fuseau : {id}',
  formProblem: 'La séance n\'a pas été enregistrée : voyez le champ signalé ci-dessous.',
  prOpen: 'Inscriptions', prTitle: 'Inscriptions en attente', prIntro: 'Les personnes inscrites d\'elles-mêmes sur votre portail. Reliez chacune à sa fiche client, ou créez-en une : d\'ici là, elles voient seulement que le cabinet va confirmer leur compte.',
  prNone: 'Personne n\'attend de confirmation.', prSignedUp: 'Inscrit·e le {when}', prLanguage: { en: 'anglais', fr: 'français' },
  prSearch: 'Trouver sa fiche client (nom, e-mail ou téléphone)', prNoMatch: 'Aucune fiche client ne correspond à « {q} ».', prLink: 'Relier à {name}',
  prCreate: 'Créer une fiche client', prDismiss: 'Écarter', prDismissConfirm: 'Écarter cette inscription ? La personne sera déconnectée du portail.',
  prLinked: '{name} est relié·e : son portail montre désormais sa fiche.', prCreated: 'Fiche créée pour {name} : son portail la montre désormais.', prDismissed: 'Inscription écartée.',
  errors: {
    name: 'Indiquez le nom ou les initiales du participant (2 à 64 caractères).',
    nameLong: 'Le nom ne doit pas dépasser 64 caractères.',
    emailMissing: 'Indiquez l\'adresse e-mail du participant, ou choisissez une autre invitation.',
    email: 'Cette adresse e-mail n\'est pas valide.',
    phoneMissing: 'Indiquez le numéro de mobile du participant, ou choisissez une autre invitation.',
    phone: 'Ce numéro n\'est pas valide : écrivez-le avec l\'indicatif du pays (+33 6 12 34 56 78), ou choisissez le pays.',
    date: 'Choisissez une date.',
    past: 'Cette date et cette heure sont déjà passées.',
    time: 'Choisissez une heure.',
    time_zone: 'Choisissez un fuseau horaire dans la liste.',
    participant_time_zone: 'Choisissez un fuseau horaire dans la liste.',
    duration_minutes: 'La durée doit être comprise entre 5 minutes et 12 heures.',
    locale: 'Choisissez l\'anglais ou le français.',
    invite: 'Choisissez comment inviter le participant.',
    kind: 'Choisissez vidéo ou téléphone.',
    admission: 'Choisissez comment les participants entrent.',
  },
  // The bridge's refusals by code, and the reasons a notification was not sent, by their start.
  refusals: {
    forbidden: 'Cette séance n\'est pas la vôtre.',
    not_found: 'Cette séance n\'existe pas.',
    internal: 'Un problème est survenu de notre côté. Veuillez réessayer.',
    network: 'Le serveur ne répond pas. Vérifiez la connexion puis réessayez.',
    rate_limited: 'Trop de tentatives. Patientez une minute puis réessayez.',
    refused: 'Ce n\'est pas possible maintenant (la séance ou la personne a changé d\'état).',
    session_over: 'Cette séance est terminée.',
  },
  reasons: [
    ['the clinic has not configured email address sending', 'le cabinet n\'a pas configuré l\'envoi d\'e-mails'],
    ['the clinic has not configured phone number sending', 'le cabinet n\'a pas configuré l\'envoi de SMS'],
    ['the participant has no email address any more', 'le participant n\'a plus d\'adresse e-mail'],
    ['the participant has no phone number any more', 'le participant n\'a plus de numéro de téléphone'],
    ['the participant\'s number opted out of SMS (answered STOP)', 'le numéro du participant a refusé les SMS (réponse STOP)'],
    ['quiet hours (no SMS from 21:00 to 08:00) until the session', 'heures de silence (pas de SMS de 21 h à 8 h) jusqu\'à la séance'],
    ['the session or participant no longer exists', 'la séance ou le participant n\'existe plus'],
    ['the session was cancelled', 'la séance a été annulée'],
    ['the session has ended', 'la séance est terminée'],
    ['the session is no longer cancelled', 'la séance n\'est plus annulée'],
    ['not delivered before the session ended', 'non remis avant la fin de la séance'],
    ['not delivered within 24 hours', 'non remis en 24 heures'],
    ['the recipient address is invalid', 'l\'adresse du destinataire n\'est pas valide'],
    ['the carrier reported the SMS ', 'l\'opérateur a signalé le SMS comme '],
    [' (last error: ', ' (dernière erreur : '],
  ],
  clients: {
    open: 'Clients', title: 'Clients', search: 'Chercher par nom, e-mail ou téléphone', none: 'Aucun client ne correspond.', empty: 'Aucun client pour l\'instant.',
    newClient: 'Nouveau client', create: 'Créer le client', back: 'Retour', save: 'Enregistrer', saving: 'Enregistrement…', saved: 'Enregistré.',
    portalOn: 'espace client ouvert', displayName: 'Nom (tel que réservé)', preferredName: 'Nom d\'usage', emails: 'Adresses e-mail (une par ligne)',
    phones: 'Téléphones mobiles (un par ligne)', region: 'Pays des numéros nationaux', language: 'Langue', zone: 'Fuseau horaire',
    professionals: 'Professionnels assignés (identifiants Matrix, un par ligne)', reminders: 'Rappels de rendez-vous',
    remindAuto: 'Par e-mail s\'il y a une adresse, sinon aucun', remindEmail: 'Par e-mail', remindSMS: 'Par SMS', remindNone: 'Aucun',
    sessions: 'Séances', upcoming: 'À venir', past: 'Passées', noSessions: 'Aucune séance.',
    sessionStatus: { scheduled: 'programmée', open: 'salle d\'attente ouverte', live: 'en cours', ended: 'terminée', cancelled: 'annulée' },
    video: 'Vidéo', phoneKind: 'Téléphone',
    portal: 'Espace client', portalIsOff: 'L\'espace client n\'est pas ouvert pour ce client.',
    portalIsClosed: 'L\'espace client a été fermé : le client ne peut pas se connecter (les liens de séance restent valables) tant que vous ne le rouvrez pas.',
    portalIsOn: 'L\'espace client est ouvert : le client se connecte avec l\'accès créé depuis le message d\'inscription.',
    portalHint: 'Le lien d\'inscription est envoyé au client seul, à sa première adresse e-mail (sinon par SMS). Vous ne le voyez jamais.',
    enable: 'Ouvrir l\'espace client', resend: 'Renvoyer l\'inscription', disable: 'Fermer l\'espace client',
    disableConfirm: 'Fermer l\'espace client ? Le client est déconnecté partout, ses clés d\'accès et son mot de passe sont supprimés. Les liens de séance restent valables.',
    keep: 'Le laisser ouvert', working: 'En cours…',
    sentEmail: 'L\'inscription est envoyée par e-mail.', sentSMS: 'L\'inscription est envoyée par SMS.',
    disabled: 'L\'espace client est fermé : le client a été déconnecté partout.',
    messages: 'Messages', messagesSoon: 'Les échanges avec ce client apparaîtront ici.',
    formProblem: 'Non enregistré : voyez le champ signalé ci-dessous.',
    // The bridge's refusals of a record's fields, by field (English pages show the bridge's words).
    errors: {
      display_name: 'Indiquez le nom ou les initiales du client (2 à 64 caractères).',
      preferred_name: 'Le nom d\'usage doit avoir de 2 à 64 caractères.',
      emails: 'Une adresse e-mail n\'est pas valide, ou il y en a plus de 5 ; les rappels par e-mail demandent une adresse.',
      phones: 'Un numéro n\'est pas valide (écrivez-le avec l\'indicatif, +33 6 12 34 56 78, ou choisissez le pays), ou il y en a plus de 5 ; les rappels par SMS demandent un mobile.',
      locale: 'Choisissez l\'anglais ou le français.',
      time_zone: 'Choisissez un fuseau horaire dans la liste.',
      professionals: 'Un professionnel n\'est pas un identifiant Matrix (@nom:serveur).',
      reminders: 'Les rappels demandent l\'adresse e-mail ou le mobile correspondant.',
      matrix_id: 'Ce n\'est pas un identifiant Matrix (@nom:serveur).',
    },
    refusals: {
      not_found: 'Ce client n\'existe pas.',
      no_contact: 'Ce client n\'a ni adresse e-mail ni mobile : ajoutez-en un à la fiche d\'abord.',
      portal_off: 'L\'espace client n\'est pas ouvert pour ce client : ouvrez-le d\'abord.',
      rate_limited: 'L\'inscription a déjà été envoyée 3 fois dans l\'heure. Réessayez plus tard.',
      not_sent: 'Le message d\'inscription n\'a pas pu être envoyé. Vérifiez l\'adresse e-mail ou le mobile du client, et les réglages d\'envoi du cabinet, puis renvoyez-le.',
      internal: 'Un problème est survenu de notre côté. Veuillez réessayer.',
      network: 'Le serveur ne répond pas. Vérifiez la connexion puis réessayez.',
    },
  },
};

// Feminine kinds of notice, for the French agreement.
const feminine = new Set(['confirmation', 'cancellation', 'phone_intro']);

export function panelWords(locale) {
  const words = locale === 'fr' ? fr : en;
  const fill = (s, vars) => String(s).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? '');
  return {
    words,
    w: (key, vars = {}) => fill(words[key], vars),
    // notSent says which notice did not go, by which channel, and why, in the panel's language.
    notSent(kind, channel, reason) {
      const what = `${words.kinds[kind] || kind} (${{ sms: 'SMS', matrix: 'Matrix' }[channel] || 'e-mail'})`;
      let why = reason || '';
      for (const [from, to] of words.reasons) why = why.split(from).join(to);
      return fill(words.notSent[feminine.has(kind) ? 'f' : 'm'], { what, why });
    },
    // fieldError is the sentence for a field the bridge refused, from what it said in English.
    fieldError(field, english) {
      const e = words.errors;
      const said = (english || '').toLowerCase();
      if ((field === 'date' || field === 'time') && said.includes('over already')) return e.past;
      if (locale !== 'fr' && english) return english;
      if (field === 'email') return said.includes('needs') ? e.emailMissing : e.email;
      if (field === 'phone' || field === 'phone_region') return said.includes('needs') ? e.phoneMissing : e.phone;
      if (field === 'name') return said.includes('at most') ? e.nameLong : e.name;
      return e[field] || english;
    },
    // refusal is the sentence for an error the bridge gave that is not about a field.
    refusal(err, fallback) {
      return (err && words.refusals[err.code]) || (err && err.message) || fallback;
    },
  };
}
