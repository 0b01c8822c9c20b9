// Reads iCalendar text on standard input (one VCALENDAR or more) and prints what ical.js,
// Thunderbird's parser, reads in it, as JSON: the scheduler's tests compare it with what the
// invite was meant to say.
import { readFileSync } from 'node:fs';
import ICAL from 'ical.js';

const when = (v) => (v ? v.toJSDate().toISOString() : null);

let jcal = ICAL.parse(readFileSync(0, 'utf8'));
if (typeof jcal[0] === 'string') {
  jcal = [jcal]; // one calendar
}
const calendars = jcal.map((j) => {
  const cal = new ICAL.Component(j);
  return {
    method: cal.getFirstPropertyValue('method'),
    props: cal.getAllProperties().map((p) => p.name.toUpperCase()),
    events: cal.getAllSubcomponents('vevent').map((ev) => {
      const org = ev.getFirstProperty('organizer');
      return {
        props: ev.getAllProperties().map((p) => p.name.toUpperCase()),
        uid: ev.getFirstPropertyValue('uid'),
        sequence: ev.getFirstPropertyValue('sequence'),
        summary: ev.getFirstPropertyValue('summary'),
        status: ev.getFirstPropertyValue('status'),
        dtstart: when(ev.getFirstPropertyValue('dtstart')),
        dtend: when(ev.getFirstPropertyValue('dtend')),
        organizer: org ? org.getFirstValue() : null,
        organizer_cn: org ? org.getParameter('cn') ?? null : null,
        attendees: ev.getAllProperties('attendee').map((a) => a.getFirstValue()),
      };
    }),
  };
});
process.stdout.write(JSON.stringify(calendars));
