// details.js — the last steps: contact details (each mistake said at its
// field, the API's own field messages too), the review with the booking
// sent under one Idempotency-Key per attempt (a lost answer is retried with
// the same key; a window taken meanwhile goes back to the day picker), the
// confirmation (reference, add to calendar, the shareable page, what happens
// next, the status as ServiceTitan confirms it), and the screen shown when
// the scheduler cannot be read at all.
import { h, field } from './dom.js';
import { callUs, fieldMessage, failureText } from './parts.js';
import { windowLong, zoneNote } from './format.js';

const EMAIL = /^[^\s@,;<>()[\]\\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;

// Where a field the API names is shown: [step, input id].
const FIELDS = {
  'contact.name': ['contact', 'ap-name'], 'contact.phone': ['contact', 'ap-phone'], 'contact.email': ['contact', 'ap-email'],
  'address.street': ['contact', 'ap-street'], 'address.unit': ['contact', 'ap-unit'], 'address.city': ['contact', 'ap-city'],
  'address.state': ['contact', 'ap-state'], notes: ['contact', 'ap-notes'], 'address.zip': ['zip', 'ap-zip'],
  service: ['service', ''],
};

// What the visitor's phone field holds is a phone number the API can read (the API checks more).
export function phoneProblem(v) {
  const t = v.trim();
  if (!t) return 'Enter your phone number.';
  const digits = t.replace(/\D/g, '');
  if (t.startsWith('+') && !t.startsWith('+1')) return digits.length >= 8 && digits.length <= 15 ? '' : 'Enter the number with its country code, like +44 20 7946 0000.';
  const national = digits.length === 11 && digits[0] === '1' ? digits.slice(1) : digits;
  return national.length === 10 ? '' : 'Enter a 10-digit phone number, like 214-555-0100.';
}

export function contact(s) {
  const d = s.d;
  const fields = [];
  const input = (id, label, path, attrs = {}, opts = {}) => {
    const [obj, key] = path;
    const el = h(opts.textarea ? 'textarea' : 'input', {
      type: opts.textarea ? null : attrs.type || 'text', value: obj[key] || '', ...attrs,
      oninput: () => { obj[key] = el.value; s.save(); f.error(''); },
    });
    const f = field({ id, label, optional: !!opts.optional, hint: opts.hint || '', input: el });
    f.check = opts.check || (() => '');
    fields.push(f);
    return f.wrap;
  };
  const sms = h('input', { type: 'checkbox', id: 'ap-sms', checked: !!d.smsConsent,
    onchange: () => { d.smsConsent = sms.checked; s.save(); } });
  const summary = h('p', { class: 'alert', role: 'alert', id: 'ap-contact-alert', hidden: true });
  const body = [
    summary,
    input('ap-name', 'Full name', [d.contact, 'name'], { autocomplete: 'name', maxlength: 100 },
      { check: (v) => (v.trim() ? '' : 'Enter your name.') }),
    input('ap-phone', 'Phone', [d.contact, 'phone'], { type: 'tel', autocomplete: 'tel', inputmode: 'tel', maxlength: 25 },
      { hint: 'We use it only about this appointment.', check: phoneProblem }),
    input('ap-email', 'Email', [d.contact, 'email'], { type: 'email', autocomplete: 'email', maxlength: 254 },
      { optional: true, check: (v) => (!v.trim() || EMAIL.test(v.trim()) ? '' : 'Enter an email address like name@example.com.') }),
    input('ap-street', 'Street address', [d.address, 'street'], { autocomplete: 'address-line1', maxlength: 200 },
      { check: (v) => (v.trim() ? '' : 'Enter the street address.') }),
    h('div', { class: 'row three' },
      input('ap-unit', 'Apt, suite, unit', [d.address, 'unit'], { autocomplete: 'address-line2', maxlength: 50 }, { optional: true }),
      input('ap-city', 'City', [d.address, 'city'], { autocomplete: 'address-level2', maxlength: 100 },
        { check: (v) => (v.trim() ? '' : 'Enter the city.') }),
      input('ap-state', 'State', [d.address, 'state'], { autocomplete: 'address-level1', maxlength: 20 },
        { check: (v) => (/^[A-Za-z]{2}$/.test(v.trim()) ? '' : 'Enter the 2-letter state, like TX.') })),
    h('p', {}, `ZIP code: ${d.zip} `,
      h('button', { type: 'button', class: 'link', id: 'ap-change-zip', onclick: () => s.go('zip') }, 'Change ZIP code')),
    input('ap-notes', 'Anything we should know?', [d, 'notes'], { maxlength: 2000 },
      { textarea: true, optional: true, hint: "What's going on, a gate code, pets." }),
    h('label', { class: 'check' }, sms,
      h('span', {}, 'Text me about this appointment.', h('span', { class: 'hint' }, ' Message and data rates may apply. Reply STOP to opt out.'))),
  ];
  // Messages the API gave for these fields (after a booking attempt).
  const shown = d.errors || {};
  for (const f of fields) if (shown[f.input.id]) f.error(shown[f.input.id]);
  const firstServerError = fields.find((f) => shown[f.input.id]);
  d.errors = null;
  return {
    title: 'Your contact details',
    body,
    back: true,
    focus: firstServerError ? firstServerError.input : null,
    onNext() {
      const bad = fields.filter((f) => {
        const msg = f.check(f.input.value);
        f.error(msg);
        return !!msg;
      });
      if (bad.length) {
        summary.textContent = bad.length === 1 ? 'Please correct the highlighted field.' : `Please correct the ${bad.length} highlighted fields.`;
        summary.hidden = false;
        bad[0].input.focus();
        return;
      }
      s.go('review');
    },
  };
}

// The booking as the API takes it (empty optional values left out).
export function bookingBody(s) {
  const d = s.d;
  const t = (v) => String(v || '').trim();
  const sv = s.cfg.services.find((x) => x.id === d.service) || {};
  const body = {
    service: d.service,
    window: d.window,
    contact: { name: t(d.contact.name), phone: t(d.contact.phone) },
    address: { street: t(d.address.street), city: t(d.address.city), state: t(d.address.state).toUpperCase(), zip: d.zip },
    smsConsent: !!d.smsConsent,
  };
  if (t(d.contact.email)) body.contact.email = t(d.contact.email);
  if (t(d.address.unit)) body.address.unit = t(d.address.unit);
  if (t(d.notes)) body.notes = t(d.notes);
  if (sv.question && t(d.answer)) body.answers = { [sv.question]: t(d.answer) };
  if (Object.keys(d.attribution || {}).length) body.attribution = d.attribution;
  return body;
}

function summaryItem(label, value, step, s) {
  return h('div', { class: 'item' }, h('dt', {}, label), h('dd', {}, h('span', { class: 'value' }, value),
    step ? h('button', { type: 'button', class: 'link', 'aria-label': `Change ${label.toLowerCase()}`, onclick: () => s.go(step) }, 'Change') : null));
}

function addressText(d) {
  const a = d.address;
  return `${a.street.trim()}${a.unit.trim() ? `, ${a.unit.trim()}` : ''}, ${a.city.trim()}, ${a.state.trim().toUpperCase()} ${d.zip}`;
}

export function review(s) {
  const d = s.d;
  const sv = s.cfg.services.find((x) => x.id === d.service) || { label: d.service };
  const alert = h('div', { class: 'alert', role: 'alert', id: 'ap-book-alert', hidden: true });
  const label = s.cfg.mode === 'booking' ? 'Request appointment' : 'Book appointment';
  const zone = d.window ? zoneNote(s.cfg.timeZone, d.window.start) : '';
  const contactText = [d.contact.name.trim(), d.contact.phone.trim(), d.contact.email.trim()].filter(Boolean).join(' · ');
  const list = h('dl', { class: 'summary' },
    summaryItem('Service', sv.question && d.answer.trim() ? `${sv.label} — ${d.answer.trim()}` : sv.label, 'service', s),
    summaryItem('Arrival window', d.window ? `${windowLong(d.window)}${zone ? ` (${zone.replace(/^Times are | \(.*$/g, '')})` : ''}` : '—', 'when', s),
    summaryItem('Address', addressText(d), 'contact', s),
    summaryItem('Contact', contactText, 'contact', s),
    d.notes.trim() ? summaryItem('Notes', d.notes.trim(), 'contact', s) : null,
    summaryItem('Text updates', d.smsConsent ? 'Yes' : 'No', 'contact', s));
  const view = {
    title: 'Review and book',
    body: [alert, list, h('p', { class: 'hint' }, 'The technician arrives during your arrival window.')],
    back: true,
    next: d.attempt ? 'Try again' : label,
    onNext: () => submit(s, alert, label),
  };
  return view;
}

async function submit(s, alert, label) {
  const d = s.d;
  if (!d.window) return s.go('when');
  const body = bookingBody(s);
  const text = JSON.stringify(body);
  // One key per booking attempt: kept for retries of the same booking (across reloads), new for a changed one.
  if (!d.attempt || d.attempt.body !== text) d.attempt = { key: s.newAttemptKey(), body: text };
  s.save();
  alert.hidden = true;
  s.setBusy(true, s.cfg.mode === 'booking' ? 'Sending…' : 'Booking…');
  let r;
  try {
    r = await s.api.book(body, d.attempt.key);
  } catch (e) {
    s.setBusy(false, 'Try again');
    failed(s, e, alert, label);
    return;
  }
  s.setBusy(false);
  d.reference = r.reference;
  d.status = r.status;
  d.attempt = null;
  s.go('done');
}

function failed(s, e, alert, label) {
  const d = s.d;
  if (e.code === 'window_unavailable' || e.code === 'window_not_offered') {
    d.taken = d.window;
    d.window = null;
    d.nextWindows = (e.body && e.body.nextWindows) || [];
    d.attempt = null;
    s.forgetAvailability();
    s.go('when');
    return;
  }
  if (e.code === 'outside_service_area') {
    s.outside = d.zip;
    s.go('zip');
    return;
  }
  const at = FIELDS[e.field];
  if (e.status === 400 && at) {
    d.attempt = null;
    d.errors = { [at[1]]: fieldMessage(e.message) };
    s.go(at[0]);
    return;
  }
  if (e.code === 'idempotency_key_reused') d.attempt = null;
  if (e.status >= 400 && e.status < 500 && e.status !== 429) s.setNext(label);
  s.save();
  alert.textContent = failureText(e, s.cfg);
  alert.hidden = false;
}

const STATUS_WORDS = {
  received: 'Being added to our schedule…',
  confirmed: 'Confirmed: it is on our schedule.',
  needs_attention: "We'll call you to confirm this visit.",
  canceled: 'This booking was canceled.',
};

export function done(s) {
  const d = s.d;
  const booking = s.cfg.mode === 'booking';
  const status = h('p', { id: 'ap-status', 'aria-live': 'polite' },
    booking ? 'Our team will review your request.' : STATUS_WORDS[d.status] || STATUS_WORDS.received);
  const sv = s.cfg.services.find((x) => x.id === d.service) || { label: d.service };
  const when = d.window ? windowLong(d.window) : '';
  const zone = d.window ? zoneNote(s.cfg.timeZone, d.window.start) : '';
  const phone = d.contact.phone.trim();
  const body = [
    h('p', { class: 'ok-box' }, booking
      ? `We received your request for ${sv.label} on ${when}.`
      : `Your ${sv.label} appointment is booked for ${when}.`),
    zone ? h('p', { class: 'hint' }, zone) : null,
    h('p', {}, 'Your reference: ', h('strong', { class: 'ref', id: 'ap-ref' }, d.reference)),
    status,
    h('div', { class: 'actions' },
      h('a', { class: 'btn secondary', id: 'ap-calendar', href: s.api.calendarUrl(d.reference) }, 'Add to calendar'),
      h('a', { class: 'btn secondary', id: 'ap-page', href: s.api.pageUrl(d.reference), target: '_blank', rel: 'noopener' },
        'View or share this booking', h('span', { class: 'sr-only' }, ' (opens in a new tab)'))),
    h('h3', {}, 'What happens next'),
    h('ul', {},
      booking
        ? h('li', {}, `We'll call you at ${phone} to confirm the time.`)
        : h('li', {}, 'Your technician arrives during your arrival window.'),
      h('li', {}, `If anything changes, we'll contact you at ${phone}.`),
      s.cfg.phone ? h('li', {}, 'Need to change or cancel? ', callUs(s.cfg, 'Call us at')) : null,
      h('li', {}, `Keep your reference ${d.reference} handy.`)),
  ];
  if (!booking) pollStatus(s, status);
  return { title: booking ? 'Request received' : "You're booked", body, back: false, next: 'Done', onNext: () => s.close() };
}

// Follows the booking until ServiceTitan has it (or a person must look), while the step is shown.
function pollStatus(s, el) {
  const d = s.d;
  let tries = 0;
  let timer = 0;
  const tick = async () => {
    if (d.step !== 'done' || !el.isConnected) return;
    try {
      const r = await s.api.status(d.reference);
      if (r.status !== d.status) {
        d.status = r.status;
        s.save();
        el.textContent = STATUS_WORDS[r.status] || el.textContent;
      }
      if (r.status !== 'received') return;
    } catch { /* try again below */ }
    if (++tries < 40) timer = setTimeout(tick, Math.min(500 * tries, 3000));
  };
  s.onClose = () => clearTimeout(timer);
  if (d.status === 'received' || !d.status) timer = setTimeout(tick, 300);
}

export function unavailable(s) {
  const e = s.cfgError || {};
  const msg = e.status === 404
    ? "This booking page is paused or no longer exists."
    : "We couldn't load online booking. Check your connection and try again later.";
  return {
    title: "Online booking isn't available right now",
    body: [h('p', {}, msg), h('p', {}, 'Please contact the business directly.')],
    back: false,
    next: 'Close',
    onNext: () => s.close(),
  };
}
