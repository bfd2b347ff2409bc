// page.js — the booking confirmation page, /b/{reference}: one static page
// for every booking (appointd serves it for any path under /b/); it reads the
// reference from its URL and the booking's public status from
// GET /api/v1/bookings/{reference}, shows the service, the arrival window in
// the scheduler's time zone, the address and what happens next, links the
// "add to calendar" file, and follows the status until ServiceTitan has the
// booking. Shareable: the URL is all it needs.
import { windowLong, zoneNote, phoneText } from '/widget/format.js';

const $ = (id) => document.getElementById(id);
const reference = decodeURIComponent(location.pathname.replace(/^\/b\/?/, '').split('/')[0] || '');

const STATUS = {
  received: ['wait', 'Received — being added to the schedule.'],
  confirmed: ['ok', 'Confirmed — it is on the schedule.'],
  needs_attention: ['wait', 'Received — we will call you to confirm this visit.'],
  canceled: ['bad', 'This booking was canceled.'],
};

function li(...parts) {
  const el = document.createElement('li');
  for (const p of parts) el.append(p);
  return el;
}

function callLink(e164) {
  const a = document.createElement('a');
  a.href = `tel:${e164}`;
  a.textContent = phoneText(e164);
  return a;
}

function show(b) {
  const [cls, words] = STATUS[b.status] || STATUS.received;
  document.title = `Your ${b.service.label} booking · ${b.scheduler}`;
  $('heading').textContent = `Your ${b.service.label} booking with ${b.scheduler}`;
  $('status').className = `status ${cls}`;
  $('status').textContent = words;
  $('service').textContent = b.service.label;
  $('window').textContent = windowLong(b.window);
  const a = b.address || {};
  $('address').textContent = `${a.street}${a.unit ? `, ${a.unit}` : ''}, ${a.city}, ${a.state} ${a.zip}`;
  $('reference').textContent = b.reference;
  const zone = zoneNote(b.timeZone, b.window.start);
  $('zone').textContent = zone;
  $('zone').hidden = !zone;
  $('calendar').href = `/api/v1/bookings/${encodeURIComponent(b.reference)}/calendar.ics`;
  $('calendar').hidden = b.status === 'canceled';
  const next = $('next');
  next.replaceChildren(
    li(b.status === 'canceled' ? 'Nothing: this visit will not take place.' : 'The technician arrives during your arrival window.'),
    b.phone ? li('Need to change or cancel? Call ', callLink(b.phone), '.') : li('Need to change or cancel? Contact the business directly.'),
    li(`Keep your reference ${b.reference} handy.`));
  $('loading').hidden = true;
  $('booking').hidden = false;
  $('main').setAttribute('aria-busy', 'false');
}

function fail(msg) {
  $('loading').hidden = true;
  $('error').textContent = msg;
  $('error').hidden = false;
  $('main').setAttribute('aria-busy', 'false');
  document.title = 'Booking not found';
}

async function load() {
  const r = await fetch(`/api/v1/bookings/${encodeURIComponent(reference)}`, { cache: 'no-store' });
  if (r.status === 404) return { missing: true };
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
}

let tries = 0;
async function refresh(first) {
  try {
    const b = await load();
    if (b.missing) {
      fail('We could not find a booking with this reference. Check the link you were sent.');
      return;
    }
    show(b);
    if (first) $('heading').focus();
    if (b.status === 'received' && ++tries < 40) setTimeout(() => refresh(false), Math.min(1000 * tries, 5000));
  } catch {
    if (first) fail('We could not load this booking right now. Check your connection and reload the page.');
  }
}

$('copy').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(location.href);
    $('copied').textContent = 'Link copied.';
  } catch {
    $('copied').textContent = `Copy this link: ${location.href}`;
  }
});

if (/^bk_[A-Za-z0-9_-]{1,64}$/.test(reference)) refresh(true);
else fail('This link does not name a booking. Check the link you were sent.');
