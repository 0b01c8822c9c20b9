#!/usr/bin/python3
"""Reads iCalendar text on standard input (one or more VCALENDARs) and prints what Debian's
python3-icalendar reads in it, as JSON, in the form of ical-parse.mjs. Run it with Debian's
/usr/bin/python3, the interpreter the package is installed for."""
import json
import re
import sys

from icalendar import Calendar

_PROBE = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nORGANIZER;CN=^'x^':mailto:a@b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
# icalendar 4.0.3 (Debian 12's) leaves RFC 6868's ^' ^n ^^ as they are; a
# calendar built on it shows them so. Decode them here when the library does not, so the
# comparison is about the rest (RFC 6868 is what RFC 5545 parameters use for these).
_DECODES_RFC6868 = Calendar.from_ical(_PROBE).walk("VEVENT")[0]["ORGANIZER"].params["CN"] == '"x"'


def rfc6868(v):
    if v is None or _DECODES_RFC6868:
        return v
    return re.sub(r"\^([n'^])", lambda m: {"n": "\n", "'": '"', "^": "^"}[m.group(1)], v)


def when(ev, name):
    if name not in ev:
        return None
    return ev.decoded(name).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def text(ev, name):
    v = ev.get(name)
    return None if v is None else str(v)


def event(ev):
    org = ev.get("ORGANIZER")
    attendees = ev.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    return {
        "props": [p.upper() for p in ev.keys()],
        "uid": text(ev, "UID"),
        "sequence": ev.get("SEQUENCE"),
        "summary": text(ev, "SUMMARY"),
        "status": text(ev, "STATUS"),
        "dtstart": when(ev, "DTSTART"),
        "dtend": when(ev, "DTEND"),
        "organizer": None if org is None else str(org),
        "organizer_cn": None if org is None else rfc6868(org.params.get("CN")),
        "attendees": [str(a) for a in attendees],
    }


calendars = Calendar.from_ical(sys.stdin.buffer.read(), multiple=True)
print(json.dumps([{
    "method": text(cal, "METHOD"),
    "props": [p.upper() for p in cal.keys()],
    "events": [event(ev) for ev in cal.walk("VEVENT")],
} for cal in calendars]))
