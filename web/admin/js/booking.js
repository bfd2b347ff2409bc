// booking.js — one booking (#/bookings/:ref) and its ServiceTitan story: its
// state in words and what it means; when ServiceTitan refused it, what
// ServiceTitan said (title, field errors, trace id) and what to do; the
// actions that fit the state — Retry, Mark handled, Cancel — each asked
// first; the appointment window in the scheduler's time zone (named); the
// homeowner's details; the ServiceTitan records it made, linked to
// ServiceTitan's web app; and every call made to ServiceTitan for it. While
// it is on its way (accepted, pushing) the page re-reads it every POLL_MS.
//
// API: GET /bookings/:ref/detail, POST /bookings/:ref/retry|resolve|cancel,
// GET /schedulers/:key/config (the scheduler's name and service labels).

import { h, heading, showError, when } from './dom.js';
import { phoneText, stRecords, stateBadge, stateHelp, stateLabel, windowEl } from './format.js';

const POLL_MS = 1000;

const ACTIONS = {
  retry: {
    states: ['needs_attention', 'parked'], label: 'Retry', busy: 'Sending…', cls: 'btn',
    question: 'Send this booking to ServiceTitan again now?',
    detail: 'appointd first looks for what an earlier attempt may have made, so nothing is created twice.',
    yes: 'Yes, retry', done: 'Sent to ServiceTitan again.',
  },
  resolve: {
    states: ['needs_attention', 'parked'], label: 'Mark handled', busy: 'Saving…', cls: 'btn btn-secondary', note: true,
    question: 'Mark this booking handled?',
    detail: 'Do this when you booked it in ServiceTitan yourself: appointd stops trying and shows it as booked.',
    yes: 'Yes, mark handled', done: 'Marked handled.',
  },
  cancel: {
    states: ['accepted', 'needs_attention', 'parked'], label: 'Cancel booking', busy: 'Canceling…', cls: 'btn btn-danger', note: true,
    question: 'Cancel this booking?',
    detail: 'appointd stops sending it to ServiceTitan. Let the homeowner know.',
    yes: 'Yes, cancel it', done: 'Canceled.',
  },
};

function facts(rows) {
  return h('dl', { class: 'facts' }, rows.filter(Boolean).flatMap(([k, v, id]) => [h('dt', {}, k), h('dd', { id }, v)]));
}

// ServiceTitan's field errors as they come ({"field": ["msg"]}, a list or text) → list items.
function fieldErrors(fields) {
  if (!fields) return null;
  const items = typeof fields === 'string' ? [fields]
    : Array.isArray(fields) ? fields.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
      : Object.entries(fields).map(([k, v]) => `${k}: ${[].concat(v).join(' ')}`);
  return items.length ? h('ul', { class: 'field-errors' }, items.map((t) => h('li', {}, t))) : null;
}

function lastErrorBox(d) {
  const e = d.lastError;
  if (!e || (d.state !== 'needs_attention' && d.state !== 'parked')) return null;
  return h('section', { id: 'booking-last-error', class: 'card attention-box', 'aria-labelledby': 'booking-last-error-title' },
    h('h2', { id: 'booking-last-error-title' }, d.state === 'parked' ? 'Why it is waiting' : 'What ServiceTitan said'),
    h('p', { id: 'booking-st-message', class: 'st-message' }, e.title || 'ServiceTitan refused the booking.',
      e.status ? h('span', { class: 'muted' }, ` (HTTP ${e.status})`) : null),
    fieldErrors(e.fields),
    e.traceId ? h('p', {}, 'Trace id ', h('code', { id: 'booking-trace-id' }, e.traceId),
      h('span', { class: 'muted' }, ' — give it to ServiceTitan support if you ask them about this error.')) : null,
    h('p', { class: 'muted' }, d.state === 'parked'
      ? 'It goes to ServiceTitan by itself once the connection works again (see FMS Configuration).'
      : 'Fix the cause in ServiceTitan (or in the scheduler), then Retry. If you booked it in ServiceTitan yourself, Mark handled.'));
}

function callRow(c) {
  return h('tr', { 'data-status': String(c.status || 0), 'data-outcome': c.outcome },
    h('td', { 'data-label': 'Time' }, when(c.at)),
    h('th', { scope: 'row', 'data-label': 'Call' }, h('code', {}, `${c.method} ${c.path}`)),
    h('td', { 'data-label': 'Status' }, c.status ? String(c.status) : 'no answer', h('span', { class: 'muted' }, ` ${(c.outcome || '').replace(/_/g, ' ')}`)),
    h('td', { 'data-label': 'ServiceTitan said' }, c.title || (c.createdIds ? `Created ${c.createdIds}` : '—'), fieldErrors(c.fields)),
    h('td', { 'data-label': 'Trace id' }, c.traceId ? h('code', {}, c.traceId) : '—'),
    h('td', { 'data-label': 'Took' }, c.durationMs != null ? `${c.durationMs} ms` : '—'));
}

function callLog(calls) {
  if (!calls || !calls.length) return h('p', { id: 'booking-calls-none', class: 'muted' }, 'No calls to ServiceTitan yet.');
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Calls to ServiceTitan' },
    h('table', { id: 'booking-calls', class: 'stacked calls-table' },
      h('caption', { class: 'sr-only' }, 'Every call made to ServiceTitan for this booking, oldest first'),
      h('thead', {}, h('tr', {}, ['Time', 'Call', 'Status', 'ServiceTitan said', 'Trace id', 'Took'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, calls.map(callRow))));
}

function homeowner(d) {
  const c = d.contact || {};
  const a = d.address || {};
  const street = [a.street, a.unit].filter(Boolean).join(', ');
  const answers = Object.entries(d.answers || {});
  const attribution = Object.entries(d.attribution || {});
  return facts([
    ['Name', c.name || d.name || '—', 'booking-name'],
    ['Phone', c.phone ? h('a', { href: `tel:${c.phone}` }, phoneText(c.phone)) : '—', 'booking-phone'],
    ['Email', c.email ? h('a', { href: `mailto:${c.email}` }, c.email) : '—', 'booking-email'],
    ['Address', [street, [a.city, a.state].filter(Boolean).join(', '), a.zip].filter(Boolean).join(' · ') || '—', 'booking-address'],
    ['Notes', d.notes || '—', 'booking-notes'],
    answers.length ? ['Answers', h('ul', { class: 'plain' }, answers.map(([q, v]) => h('li', {}, `${q} — ${v}`))), 'booking-answers'] : null,
    attribution.length ? ['Came from', attribution.map(([k, v]) => `${k}=${v}`).join(', '), 'booking-attribution'] : null,
  ]);
}

export async function render(root, ctx) {
  const ref = ctx.params.ref;
  document.title = 'Booking · appointd';
  const section = h('section', { id: 'booking', class: 'stack', 'aria-labelledby': 'booking-title' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/bookings' }, 'Bookings'), ' › ', ref));
  root.append(section);
  let d;
  try {
    d = await ctx.api.get(`/bookings/${encodeURIComponent(ref)}/detail`);
  } catch (e) {
    section.append(heading(e.status === 404 ? 'Booking not found' : 'Booking', 'booking-title'),
      h('p', { id: 'booking-error', class: 'error', role: 'alert' },
        e.status === 404 ? `There is no booking ${ref} in your account.` : e.message),
      h('p', {}, h('a', { href: '#/bookings' }, 'Back to bookings')));
    return;
  }
  const page = new BookingPage(ctx, section, d);
  await page.loadScheduler();
  page.build();
  ctx.signal.addEventListener('abort', () => page.stop());
  return () => page.stop();
}

class BookingPage {
  constructor(ctx, section, d) {
    this.ctx = ctx;
    this.section = section;
    this.d = d;
    this.sched = null;
    this.timer = 0;
    this.polls = 0;
    this.pending = null; // the action waiting for its confirmation
    this.body = h('div', { class: 'stack' });
    this.notice = h('p', { id: 'booking-notice', class: 'banner ok', role: 'status', tabindex: '-1', hidden: true });
    this.error = h('p', { id: 'booking-action-error', class: 'error', role: 'alert', hidden: true });
  }

  async loadScheduler() {
    try {
      this.sched = await this.ctx.api.get(`/schedulers/${encodeURIComponent(this.d.scheduler)}/config`);
    } catch { /* the booking still shows, with the key instead of the name */ }
  }

  build() {
    this.title = heading('', 'booking-title');
    this.section.append(this.title, this.notice, this.error, this.body);
    this.show();
  }

  stop() { clearTimeout(this.timer); this.timer = 0; }

  show() {
    const { d } = this;
    const cfg = this.sched ? this.sched.config : null;
    const service = cfg ? (cfg.services || []).find((s) => s.id === d.service) : null;
    const tz = d.timeZone || (cfg && cfg.timeZone);
    this.title.textContent = `Booking for ${d.name || (d.contact && d.contact.name) || d.reference}`;
    document.title = `${this.title.textContent} · Bookings · appointd`;
    const links = this.ctx.health && this.ctx.health.webLinks;
    const records = stRecords(d.servicetitan, links);
    this.body.replaceChildren(
      h('div', { class: 'card' },
        h('p', { class: 'state-row' }, 'State: ', stateBadge(d.state, 'booking-state'), ' ', h('span', { class: 'muted', id: 'booking-state-help' }, stateHelp(d.state))),
        this.actions()),
      lastErrorBox(d) || '',
      h('section', { class: 'card', 'aria-labelledby': 'booking-appt-title' },
        h('h2', { id: 'booking-appt-title' }, 'Appointment'),
        facts([
          ['Service', service ? service.label : d.service, 'booking-service'],
          ['Arrival window', h('span', {}, windowEl(d.window, tz), tz ? h('span', { class: 'muted' }, ` (${tz}, the scheduler’s time zone)`) : null), 'booking-window'],
          ['Scheduler', cfg ? h('a', { href: `#/schedulers/${encodeURIComponent(d.scheduler)}` }, cfg.name) : d.scheduler, 'booking-scheduler'],
          ['Reference', h('code', {}, d.reference), 'booking-reference'],
          ['Received', when(d.createdAt), 'booking-created'],
          ['Last change', when(d.updatedAt), 'booking-updated'],
          ['Attempts', String(d.attempts || 0), 'booking-attempts'],
        ])),
      h('section', { class: 'card', 'aria-labelledby': 'booking-home-title' },
        h('h2', { id: 'booking-home-title' }, 'Homeowner'), homeowner(d)),
      h('section', { class: 'card', 'aria-labelledby': 'booking-st-title' },
        h('h2', { id: 'booking-st-title' }, 'In ServiceTitan'),
        records.length
          ? h('ul', { id: 'booking-st-records', class: 'plain st-records' }, records.map((r) => h('li', {}, r)))
          : h('p', { id: 'booking-st-records', class: 'muted' }, 'Nothing in ServiceTitan yet.'),
        records.length && !links ? h('p', { class: 'muted' }, 'Links to ServiceTitan appear once its web address is known (the operator’s st-web-url setting).') : null,
        h('h3', { id: 'booking-calls-title' }, 'Calls to ServiceTitan'),
        callLog(d.calls)));
    this.poll();
  }

  // The actions the state allows, and the one confirmation box they share.
  actions() {
    const { d } = this;
    const allowed = Object.entries(ACTIONS).filter(([, a]) => a.states.includes(d.state));
    if (!allowed.length) return null;
    this.buttons = {};
    const box = h('div', { class: 'actions' }, allowed.map(([name, a]) => {
      const b = h('button', { id: `booking-${name}`, type: 'button', class: a.cls, 'aria-expanded': 'false', 'aria-controls': 'booking-confirm' }, a.label);
      b.addEventListener('click', () => this.ask(name));
      this.buttons[name] = b;
      return b;
    }));
    this.note = h('textarea', { id: 'booking-confirm-note', rows: '2', maxlength: '500' });
    this.question = h('p', { id: 'booking-confirm-question', tabindex: '-1' });
    this.yes = h('button', { id: 'booking-confirm-yes', type: 'button', class: 'btn' });
    this.yes.addEventListener('click', () => this.run());
    const no = h('button', { id: 'booking-confirm-no', type: 'button', class: 'btn btn-secondary' }, 'Keep it as it is');
    no.addEventListener('click', () => this.unask());
    this.noteField = h('div', { class: 'field' }, h('label', { for: 'booking-confirm-note' }, 'Note (optional)'), this.note);
    this.confirmBox = h('div', { id: 'booking-confirm', class: 'confirm stack', hidden: true }, this.question, this.noteField, h('div', { class: 'actions' }, this.yes, no));
    return h('div', { class: 'stack' }, box, this.confirmBox);
  }

  ask(name) {
    const a = ACTIONS[name];
    this.pending = name;
    for (const [n, b] of Object.entries(this.buttons)) b.setAttribute('aria-expanded', String(n === name));
    this.question.replaceChildren(h('strong', {}, a.question + ' '), a.detail);
    this.noteField.hidden = !a.note;
    this.note.value = '';
    this.yes.textContent = a.yes;
    this.yes.className = name === 'cancel' ? 'btn btn-danger' : 'btn';
    this.confirmBox.hidden = false;
    this.question.focus();
  }

  unask() {
    const name = this.pending;
    this.pending = null;
    this.confirmBox.hidden = true;
    for (const b of Object.values(this.buttons)) b.setAttribute('aria-expanded', 'false');
    if (name && this.buttons[name]) this.buttons[name].focus();
  }

  async run() {
    const name = this.pending;
    if (!name) return;
    const a = ACTIONS[name];
    const body = a.note && this.note.value.trim() ? { note: this.note.value.trim() } : {};
    this.yes.disabled = true;
    this.yes.textContent = a.busy;
    showError(this.error, '');
    try {
      this.d = await this.ctx.api.post(`/bookings/${encodeURIComponent(this.d.reference)}/${name}`, body);
    } catch (e) {
      this.yes.disabled = false;
      this.yes.textContent = a.yes;
      showError(this.error, e.message);
      this.error.scrollIntoView({ block: 'center' });
      return;
    }
    this.pending = null;
    this.polls = 0;
    this.show();
    this.notice.textContent = a.done;
    this.notice.hidden = false;
    this.notice.focus();
    this.ctx.refreshHealth();
  }

  // Re-reads the booking while it is on its way; quick at first, then slower.
  poll() {
    this.stop();
    const moving = this.d.state === 'accepted' || this.d.state === 'pushing';
    if (!moving || this.ctx.signal.aborted) return;
    const wait = this.polls++ < 60 ? POLL_MS : POLL_MS * 10;
    this.timer = setTimeout(async () => {
      try {
        const d = await this.ctx.api.get(`/bookings/${encodeURIComponent(this.d.reference)}/detail`);
        if (this.ctx.signal.aborted) return;
        const changed = d.state !== this.d.state || d.updatedAt !== this.d.updatedAt;
        this.d = d;
        if (changed && !this.pending) {
          const focusedId = document.activeElement && document.activeElement.id;
          this.show();
          const again = focusedId && document.getElementById(focusedId);
          if (again) again.focus();
          if (d.state !== 'accepted' && d.state !== 'pushing') {
            this.notice.textContent = `Now: ${stateLabel(d.state)}.`;
            this.notice.hidden = false;
            this.ctx.refreshHealth();
          }
        } else this.poll();
      } catch { this.poll(); }
    }, wait);
  }
}
