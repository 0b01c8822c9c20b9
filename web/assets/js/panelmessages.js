// panelmessages.js: a client's Messages thread on the panel, for a clinician who may see the
// record (messagethread.js, /api/panel/clients/{id}/messages). The panel's client record view
// calls mountClientMessages(element, clientID). The bridge cannot write as a clinician's own
// Matrix account: what they write here is posted by the clinic's bot under their name, which
// the thread says; in Element they write as themselves.
import { locale } from './i18n.js';
import { h } from './dom.js';
import { mountThread } from './messagethread.js';

const words = {
  en: {
    title: 'Messages',
    empty: 'No messages yet.',
    placeholder: 'Write to the client',
    label: 'Message to the client',
    send: 'Send',
    you: 'You',
    hint: 'Enter to send, Shift+Enter for a new line. No attachments here.',
    relayed: 'Sent from here, your messages are posted by the clinic’s bot under your name (the bridge cannot write as your Matrix account). Answer in Element to write as yourself.',
    readOnly: '',
    tooLong: 'This message is too long ({n} characters at most).',
    badMessage: 'This message cannot be sent: it is empty or contains invisible characters.',
    tooFast: 'You are sending messages too fast. Please wait a few seconds.',
    failed: 'The message was not sent. Please try again.',
    signedOut: 'Your panel sign-in has ended. Please sign in again.',
    unavailable: 'The messages cannot be shown right now.',
  },
  fr: {
    title: 'Messages',
    empty: 'Aucun message pour l’instant.',
    placeholder: 'Écrire au client',
    label: 'Message au client',
    send: 'Envoyer',
    you: 'Vous',
    hint: 'Entrée pour envoyer, Maj+Entrée pour un retour à la ligne. Pas de pièces jointes ici.',
    relayed: 'Envoyés d’ici, vos messages sont publiés par le robot du cabinet sous votre nom (le pont ne peut pas écrire avec votre compte Matrix). Répondez dans Element pour écrire en votre nom.',
    readOnly: '',
    tooLong: 'Ce message est trop long ({n} caractères au maximum).',
    badMessage: 'Ce message ne peut pas être envoyé : il est vide ou contient des caractères invisibles.',
    tooFast: 'Vous envoyez des messages trop vite. Veuillez patienter quelques secondes.',
    failed: 'Le message n’a pas été envoyé. Veuillez réessayer.',
    signedOut: 'Votre connexion au panneau a pris fin. Veuillez vous reconnecter.',
    unavailable: 'Les messages ne peuvent pas être affichés pour le moment.',
  },
};

function w(key, vars = {}) {
  const s = (words[locale()] || words.en)[key] ?? words.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

// mountClientMessages shows the client's thread in element (under a "Messages" heading) and
// follows it while element is on the page; it returns stop().
export function mountClientMessages(element, clientID) {
  const thread = h('div', { class: 'client-thread' });
  element.replaceChildren(h('h2', {}, w('title')), thread);
  return mountThread(thread, { path: `/api/panel/clients/${encodeURIComponent(clientID)}/messages`, words: w });
}
