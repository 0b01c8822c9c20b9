// lobby.js: the Attendees Access Panel, the clinician's view of the lobby. The same panel
// serves the call page and the web panel; act(action, participant, text) does the work.

import { h } from './dom.js';
import { t } from './i18n.js';
import './paymentwords.js';

export class AttendeesPanel {
  constructor(act) {
    this.act = act;
    this.el = h('section', { class: 'attendees', 'aria-label': t('attendees') });
    this.status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  }

  // render shows the participants and the message to those waiting.
  render(participants, lobbyMessage = '') {
    const waiting = participants.filter((p) => p.state === 'waiting');
    const inside = participants.filter((p) => p.state === 'in_session' || p.state === 'admitted');
    this.names = new Map(participants.map((p) => [String(p.number), p.name]));
    // A participant who owes a payment shows whether they paid (never the amount's service).
    const paid = (p) => {
      if (!p.payment) return null;
      const ok = ['paid', 'waived', 'refunded'].includes(p.payment.status);
      return h('span', { class: ok ? 'badge paid' : 'badge unpaid', 'data-payment': p.payment.status }, ok ? t('paidBadge') : t('notPaid'));
    };
    const unpaid = (p) => p.payment && (p.payment.status === 'due' || p.payment.status === 'pending');
    const row = (p, ...buttons) => h('li', { class: 'attendee', 'data-number': p.number, 'data-state': p.state },
      h('span', { class: 'name' }, bookedAndJoined(p)), paid(p), h('span', { class: 'buttons' }, ...buttons.filter(Boolean)));
    const button = (label, action, p, cls = '') => h('button', {
      type: 'button', class: cls, 'data-action': action,
      'aria-label': `${label} ${p ? p.name : ''}`.trim(),
      onclick: () => this.run(action, p ? String(p.number) : ''),
    }, label);

    const msgInput = h('input', { id: 'lobby-message', type: 'text', maxlength: 500, value: lobbyMessage || '' });
    const msgForm = h('form', {
      class: 'message-form',
      onsubmit: (e) => { e.preventDefault(); this.run('message', '', msgInput.value); },
    }, h('label', { for: 'lobby-message' }, t('messageToWaiting')), msgInput, h('button', { type: 'submit' }, t('send')));

    this.el.replaceChildren(...[
      h('h2', {}, t('attendees')),
      h('h3', {}, `${t('waitingList')} (${waiting.length})`),
      waiting.length
        ? h('ul', { class: 'waiting-list' }, waiting.map((p) => row(p, button(t('admit'), 'admit', p, 'primary'), button(t('deny'), 'deny', p),
          unpaid(p) ? button(t('waivePayment'), 'waive', p) : null)))
        : h('p', { class: 'empty' }, t('nobodyWaiting')),
      waiting.length > 1 ? button(t('admitAll'), 'admit-all', null) : null,
      msgForm,
      h('h3', {}, `${t('inSession')} (${inside.length})`),
      h('ul', { class: 'inside-list' }, inside.map((p) => row(p, button(t('sendBack'), 'send-back', p), button(t('remove'), 'remove', p, 'danger')))),
      this.status,
    ].filter(Boolean));
  }

  // askUnpaid asks "Admit without payment?" about the participant last admitted, when the call
  // page hears the refusal from the call (the panel's own requests hear it in run).
  async askUnpaid(participant = this.lastAdmit) {
    const name = this.names.get(participant) || '';
    if (await confirmDialog(t('admitUnpaidQuestion', { name }), t('admitAnyway'))) await this.run('admit-anyway', participant);
  }

  async run(action, participant, text = '') {
    this.status.textContent = '';
    if (action === 'admit') this.lastAdmit = participant;
    try {
      await this.act(action, participant, text);
    } catch (e) {
      if (e.code === 'payment_due' && action === 'admit') return this.askUnpaid(participant); // the clinician confirms
      this.status.textContent = e.message || t('error');
    }
  }
}

// bookedAndJoined is the name the clinician booked, with the one the participant typed when it
// differs ("Jane Doe — joined as Jane").
export function bookedAndJoined(p) {
  const booked = p.booked_name || p.name;
  return p.joined_name ? `${booked} — ${t('joinedAs', { name: p.joined_name })}` : booked;
}

// confirmDialog asks a yes/no question in a modal dialog and resolves to the answer. Both
// buttons say what they do (yes: "Cancel session", no: "Keep session").
export function confirmDialog(question, yes, no = t('cancel')) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'aria-label': question },
      h('p', {}, question),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => { dialog.close(); dialog.remove(); resolve(false); }, 'data-action': 'dismiss' }, no),
        h('button', { type: 'button', class: 'danger', 'data-action': 'confirm', onclick: () => { dialog.close(); dialog.remove(); resolve(true); } }, yes)));
    document.body.append(dialog);
    dialog.showModal();
  });
}
