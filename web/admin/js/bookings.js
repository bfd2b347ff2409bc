// bookings.js — Bookings (#/bookings): what the office manager opens every
// morning. The counts by state (each a link that filters), filters (state,
// scheduler, the days a booking came in, a search by reference, name or
// phone), then the bookings newest first, PAGE at a time, each with its state
// in words, the appointment in its scheduler's zone and its ServiceTitan job.
// The filters and the page live in the hash's query (#/bookings?state=parked&
// page=2), replaced as they change, so a reload or a shared link shows the
// same list. While a booking on the page is on its way to ServiceTitan the
// list is re-read every POLL_MS.
//
// API: GET /bookings?state&scheduler&since&until&q&limit&offset, GET /schedulers.

import { h, heading, showError, when } from './dom.js';
import { BOOKING_STATES, stRecord, stateBadge, windowEl } from './format.js';

const PAGE = 25;
const POLL_MS = 2000;
const FILTERS = ['state', 'scheduler', 'from', 'to', 'q'];

// A local date "YYYY-MM-DD" → the instant its day starts here (RFC 3339, UTC).
function dayStart(date, plusDays = 0) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date || '');
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays).toISOString();
}

function apiQuery(f, page) {
  const q = new URLSearchParams({ limit: String(PAGE), offset: String((page - 1) * PAGE) });
  if (f.state) q.set('state', f.state);
  if (f.scheduler) q.set('scheduler', f.scheduler);
  if (f.from) q.set('since', dayStart(f.from));
  if (f.to) q.set('until', dayStart(f.to, 1));
  if (f.q) q.set('q', f.q);
  return q;
}

function countLinks(counts, current) {
  return h('ul', { id: 'booking-counts', class: 'tiles counts counts-bk', 'aria-label': 'Bookings by state' },
    BOOKING_STATES.map(({ state, label }) => {
      const n = (counts && counts[state]) || 0;
      return h('li', { class: `tile count count-bk-${state}${n ? '' : ' count-zero'}`, 'data-state': state },
        h('a', { href: `#/bookings?state=${state}`, 'aria-current': current === state ? 'true' : null },
          h('span', { class: 'count-n' }, String(n)), ' ', h('span', { class: 'count-label' }, label)));
    }));
}

function row(b, scheds, links) {
  const s = scheds.get(b.scheduler);
  const service = s ? (s.config.services || []).find((x) => x.id === b.service) : null;
  const st = b.servicetitan || {};
  return h('tr', { 'data-reference': b.reference, 'data-state': b.state },
    h('th', { scope: 'row', 'data-label': 'Booking' },
      h('a', { href: `#/bookings/${encodeURIComponent(b.reference)}`, class: 'ref' }, b.name || b.reference),
      h('span', { class: 'muted ref-sub' }, b.reference)),
    h('td', { 'data-label': 'State' }, stateBadge(b.state)),
    h('td', { 'data-label': 'Service' }, service ? service.label : b.service,
      s ? h('span', { class: 'muted ref-sub' }, s.config.name) : null),
    h('td', { 'data-label': 'Appointment' }, windowEl(b.window, s ? s.config.timeZone : b.timeZone)),
    h('td', { 'data-label': 'ServiceTitan', class: 'st-cell' }, st.jobId != null ? stRecord('job', st.jobId, links)
      : st.bookingId != null ? stRecord('booking', st.bookingId, links) : '—'),
    h('td', { 'data-label': 'Received' }, when(b.createdAt)));
}

function filterForm(f, scheds, onApply, onClear) {
  const input = (id, attrs, label, hint) => h('div', { class: 'field' },
    h('label', { for: id }, label), h('input', { id, name: id, ...attrs }), hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
  const state = h('select', { id: 'filter-state', name: 'state' }, h('option', { value: '' }, 'Any state'),
    BOOKING_STATES.map((s) => h('option', { value: s.state, selected: f.state === s.state }, s.label)));
  const sched = h('select', { id: 'filter-scheduler', name: 'scheduler' }, h('option', { value: '' }, 'Every scheduler'),
    [...scheds.values()].map((s) => h('option', { value: s.key, selected: f.scheduler === s.key }, s.config.name)));
  const form = h('form', { id: 'booking-filters', class: 'filters', role: 'search', 'aria-label': 'Filter bookings', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'filter-state' }, 'State'), state),
    h('div', { class: 'field' }, h('label', { for: 'filter-scheduler' }, 'Scheduler'), sched),
    input('filter-from', { type: 'date', value: f.from || '' }, 'Received from'),
    input('filter-to', { type: 'date', value: f.to || '' }, 'Received to'),
    input('filter-q', { type: 'search', value: f.q || '', autocomplete: 'off', 'aria-describedby': 'filter-q-hint' }, 'Search', 'Reference (bk_…), name or phone'),
    h('div', { class: 'actions filter-actions' },
      h('button', { id: 'filter-apply', type: 'submit', class: 'btn' }, 'Show bookings'),
      h('button', { id: 'filter-clear', type: 'button', class: 'btn btn-secondary', onclick: onClear }, 'Clear filters')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = {};
    for (const k of FILTERS) v[k] = form.elements[k === 'from' || k === 'to' || k === 'q' ? `filter-${k}` : k].value.trim();
    onApply(v);
  });
  return form;
}

export async function render(root, ctx) {
  document.title = 'Bookings · appointd';
  const f = {};
  for (const k of FILTERS) f[k] = ctx.query.get(k) || '';
  let page = Math.max(1, parseInt(ctx.query.get('page') || '1', 10) || 1);
  const errorEl = h('p', { id: 'bookings-error', class: 'error', role: 'alert', hidden: true });
  const summary = h('p', { id: 'bookings-summary', class: 'muted', role: 'status', tabindex: '-1' });
  const tbody = h('tbody');
  const caption = h('caption', { class: 'sr-only' }, 'Bookings, newest first');
  const table = h('table', { id: 'bookings-table', class: 'stacked' }, caption,
    h('thead', {}, h('tr', {}, ['Booking', 'State', 'Service', 'Appointment', 'ServiceTitan', 'Received'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody);
  const prev = h('button', { id: 'page-prev', type: 'button', class: 'btn btn-secondary' }, 'Previous page');
  const next = h('button', { id: 'page-next', type: 'button', class: 'btn btn-secondary' }, 'Next page');
  const pageInfo = h('span', { id: 'page-info', class: 'muted' });
  const countsBox = h('div', {});
  const section = h('section', { id: 'bookings', class: 'stack', 'aria-labelledby': 'bookings-title' },
    heading('Bookings', 'bookings-title'),
    h('p', { class: 'lead muted' }, 'Every booking homeowners made, newest first, and where it stands in ServiceTitan.'),
    errorEl, countsBox);
  root.append(section);

  let scheds = new Map();
  try {
    const r = await ctx.api.get('/schedulers');
    scheds = new Map((r.schedulers || []).map((s) => [s.key, s]));
  } catch (e) {
    showError(errorEl, e.message);
  }
  const apply = (v) => { Object.assign(f, v); page = 1; load(); };
  const clearAll = () => {
    for (const k of FILTERS) f[k] = '';
    for (const el of form.querySelectorAll('input, select')) el.value = '';
    page = 1;
    load();
  };
  const form = filterForm(f, scheds, apply, clearAll);
  section.append(h('div', { class: 'card stack' }, form),
    h('div', { class: 'card stack' }, summary,
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Bookings' }, table),
      h('nav', { class: 'actions pager', 'aria-label': 'Pages of bookings' }, prev, pageInfo, next)));

  let timer = 0;
  const stop = () => { clearTimeout(timer); timer = 0; };
  ctx.signal.addEventListener('abort', stop);

  function keepInHash() {
    const q = new URLSearchParams();
    for (const k of FILTERS) if (f[k]) q.set(k, f[k]);
    if (page > 1) q.set('page', String(page));
    const s = q.toString();
    history.replaceState(null, '', `#/bookings${s ? '?' + s : ''}`);
  }

  async function load(quiet) {
    stop();
    if (!quiet) keepInHash();
    let r;
    try {
      r = await ctx.api.get('/bookings?' + apiQuery(f, page));
    } catch (e) {
      if (ctx.signal.aborted) return;
      if (!quiet) showError(errorEl, e.message);
      else timer = setTimeout(() => load(true), POLL_MS * 5);
      return;
    }
    if (ctx.signal.aborted) return;
    showError(errorEl, '');
    countsBox.replaceChildren(countLinks(r.counts, f.state));
    const list = r.bookings || [];
    const pages = Math.max(1, Math.ceil((r.total || 0) / PAGE));
    const links = ctx.health && ctx.health.webLinks;
    tbody.replaceChildren(...(list.length ? list.map((b) => row(b, scheds, links))
      : [h('tr', {}, h('td', { colspan: '6', class: 'muted' }, FILTERS.some((k) => f[k]) ? 'No bookings match these filters.' : 'No bookings yet. They appear here as soon as a homeowner books through one of your schedulers.'))]));
    const first = list.length ? (page - 1) * PAGE + 1 : 0;
    const text = `${r.total || 0} ${r.total === 1 ? 'booking' : 'bookings'}${r.total ? `, showing ${first}–${first + list.length - 1}` : ''}.`;
    if (summary.textContent !== text) summary.textContent = text;
    pageInfo.textContent = `Page ${page} of ${pages}`;
    const had = document.activeElement;
    prev.disabled = page <= 1;
    next.disabled = page >= pages;
    if ((had === prev || had === next) && had.disabled) { // focus never falls to <body>
      const other = had === prev ? next : prev;
      (other.disabled ? summary : other).focus();
    }
    if (list.some((b) => b.state === 'accepted' || b.state === 'pushing')) timer = setTimeout(() => load(true), POLL_MS);
    if (!quiet) ctx.refreshHealth();
  }

  prev.addEventListener('click', () => { if (page > 1) { page--; load(); } });
  next.addEventListener('click', () => { page++; load(); });
  await load();
  return stop;
}
