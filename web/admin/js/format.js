// format.js — how the booking screens (js/bookings.js, js/booking.js) show
// what the API says: a booking's state as a badge with words and a sign
// (never colour alone), an appointment window in the scheduler's time zone
// with the zone named, a phone number as people write it, and links to
// ServiceTitan's records in its web app (GET /fms/health's webLinks: the
// pages of ServiceTitan production or integration, or of the custom hosts,
// e.g. stsim's in the demo).

import { h } from './dom.js';

// In the order an office manager cares about: what needs someone first.
export const BOOKING_STATES = [
  { state: 'needs_attention', label: 'Needs attention', sign: '!', help: 'ServiceTitan refused it: fix it there, then retry or mark it handled.' },
  { state: 'parked', label: 'Parked', sign: '‖', help: 'Waiting for the ServiceTitan connection; it goes on by itself once the connection works again.' },
  { state: 'accepted', label: 'Received', sign: '…', help: 'Accepted from the homeowner; about to be sent to ServiceTitan.' },
  { state: 'pushing', label: 'Sending', sign: '…', help: 'Being sent to ServiceTitan now.' },
  { state: 'booked', label: 'Booked', sign: '✓', help: 'In ServiceTitan.' },
  { state: 'canceled', label: 'Canceled', sign: '✗', help: 'Canceled; nothing more is sent.' },
];
const BY_STATE = Object.fromEntries(BOOKING_STATES.map((s) => [s.state, s]));

export function stateLabel(state) { return (BY_STATE[state] || { label: state }).label; }
export function stateHelp(state) { return (BY_STATE[state] || { help: '' }).help; }

// <span class="badge badge-bk-STATE" data-state="STATE">! Needs attention</span>
export function stateBadge(state, id) {
  const s = BY_STATE[state] || { label: state, sign: '' };
  return h('span', { id, class: `badge badge-bk badge-bk-${state}`, 'data-state': state },
    s.sign ? h('span', { 'aria-hidden': 'true', class: 'badge-sign' }, s.sign + ' ') : null, s.label);
}

function fmt(tz, opts) {
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: tz || undefined, ...opts });
  } catch {
    return new Intl.DateTimeFormat(undefined, opts); // an unknown zone: the viewer's
  }
}

// The zone's short name at that instant ("CST", "CDT", "GMT-6").
function zoneName(tz, d) {
  const part = fmt(tz, { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part ? part.value : tz;
}

// "Thu, Dec 3, 2026, 2:00 – 4:00 PM CST" in the scheduler's zone tz.
export function windowText(win, tz) {
  if (!win || !win.start) return '—';
  const s = new Date(win.start);
  const e = new Date(win.end);
  if (isNaN(s)) return String(win.start);
  const day = fmt(tz, { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric' }).format(s);
  const t = fmt(tz, { hour: 'numeric', minute: '2-digit' });
  return `${day}, ${t.format(s)}${isNaN(e) ? '' : ' – ' + t.format(e)} ${zoneName(tz, s)}`;
}

// A <time> with the window in the scheduler's zone; the zone's IANA name as its title.
export function windowEl(win, tz) {
  if (!win || !win.start) return '—';
  return h('time', { datetime: win.start, title: tz || '' }, windowText(win, tz));
}

// +12145550100 → "(214) 555-0100"; anything else as stored.
export function phoneText(p) {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(p || '');
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : p || '—';
}

const ST_WORDS = { job: 'Job', customer: 'Customer', location: 'Location', appointment: 'Appointment', booking: 'Booking' };

// The link of a record: links (GET /fms/health's webLinks: {"job": "https://…/#/Job/Index/{id}"})
// filled in, when it is a plain http(s) URL; null otherwise.
function recordUrl(links, kind, id) {
  const t = links && typeof links[kind] === 'string' ? links[kind] : '';
  return /^https?:\/\/[^\s]+$/i.test(t) && t.includes('{id}') ? t.replace('{id}', encodeURIComponent(String(id))) : null;
}

// "Job 7001" — a link into ServiceTitan (new tab) when its web app has a page
// for that kind of record, else the words alone.
export function stRecord(kind, id, links) {
  if (id === null || id === undefined) return null;
  const text = `${ST_WORDS[kind] || kind} ${id}`;
  const href = recordUrl(links, kind, id);
  if (!href) return h('span', { 'data-st': kind }, text);
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer', 'data-st': kind },
    text, h('span', { class: 'sr-only' }, ' (opens ServiceTitan in a new tab)'));
}

// The ServiceTitan records of a booking ({customerId, …}) as links, in the order they were made.
export function stRecords(ids, links) {
  const out = [];
  const add = (kind, id) => {
    const el = stRecord(kind, id, links);
    if (el) out.push(el);
  };
  if (ids) {
    add('job', ids.jobId);
    add('appointment', ids.appointmentId);
    add('customer', ids.customerId);
    add('location', ids.locationId);
    add('booking', ids.bookingId);
  }
  return out;
}
