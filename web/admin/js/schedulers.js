// schedulers.js — Schedulers (#/schedulers): every scheduler of the account
// (what homeowners can book on one website) with its mode, services, whether
// it is paused and its bookings of the last 7 days; pause / resume; "New
// scheduler"; and the ServiceTitan catalog they are set up from, with when it
// was last read and "Refresh from ServiceTitan". Editing needs the "manage
// schedulers" permission: without it the page says so and only links to
// each scheduler's read-only view.
//
// API: GET /schedulers, POST /schedulers/:key/pause|resume, GET /catalog,
// POST /catalog/refresh.

import { h, heading, showError } from './dom.js';
import { catalogCard } from './catalog.js';

export const MODE_WORDS = { job: 'Job with appointment', booking: 'Booking request for a CSR' };

export function canManageSchedulers(me) {
  return !!me && (me.permissions || []).includes('manage_schedulers');
}

export function pausedBadge(paused, id) {
  return h('span', { id, class: `badge ${paused ? 'badge-paused' : 'badge-live'}`, 'data-paused': String(!!paused) },
    h('span', { 'aria-hidden': 'true' }, paused ? '‖ ' : '● '), paused ? 'Paused' : 'Taking bookings');
}

function row(s, canManage, onToggle) {
  const c = s.config || {};
  const toggle = canManage ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'data-action': s.paused ? 'resume' : 'pause' },
    s.paused ? 'Resume' : 'Pause', h('span', { class: 'sr-only' }, ` ${c.name}`)) : null;
  if (toggle) toggle.addEventListener('click', () => onToggle(s, toggle));
  return h('tr', { 'data-key': s.key, 'data-paused': String(!!s.paused) },
    h('th', { scope: 'row', 'data-label': 'Scheduler' }, h('a', { href: `#/schedulers/${encodeURIComponent(s.key)}` }, c.name || s.key)),
    h('td', { 'data-label': 'Mode' }, MODE_WORDS[c.mode] || c.mode || '—'),
    h('td', { 'data-label': 'Services' }, (c.services || []).map((x) => x.label).join(', ') || '—'),
    h('td', { 'data-label': 'Status' }, pausedBadge(s.paused)),
    h('td', { 'data-label': 'Bookings this week' },
      h('a', { href: `#/bookings?scheduler=${encodeURIComponent(s.key)}` }, String(s.bookingsThisWeek || 0),
        h('span', { class: 'sr-only' }, ` bookings of ${c.name} this week`))),
    canManage ? h('td', { 'data-label': 'Actions' }, toggle) : null);
}

export async function render(root, ctx) {
  document.title = 'Schedulers · appointd';
  const canManage = canManageSchedulers(ctx.me);
  const errorEl = h('p', { id: 'schedulers-error', class: 'error', role: 'alert', hidden: true });
  const status = h('p', { id: 'schedulers-status', class: 'sr-only', role: 'status' });
  const tbody = h('tbody');
  const cols = ['Scheduler', 'Mode', 'Services', 'Status', 'Bookings this week'];
  if (canManage) cols.push('Actions');
  const table = h('table', { id: 'schedulers-table', class: 'stacked' },
    h('caption', { class: 'sr-only' }, 'Your schedulers'),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const cat = catalogCard(ctx, canManage, () => {});
  root.append(h('section', { id: 'schedulers', class: 'stack', 'aria-labelledby': 'schedulers-title' },
    heading('Schedulers', 'schedulers-title'),
    h('p', { class: 'lead muted' }, 'A scheduler is what homeowners can book on one website: its services, rules and service area. All of them book into your one ServiceTitan connection.'),
    canManage
      ? h('p', {}, h('a', { id: 'scheduler-new', class: 'btn', href: '#/schedulers/new' }, 'New scheduler'))
      : h('p', { id: 'schedulers-readonly', class: 'banner', role: 'note' },
        'You can see the schedulers; creating, changing or pausing them needs the “manage schedulers” permission. An owner or admin can grant it under ',
        h('a', { href: '#/settings/users' }, 'Users & permissions'), '.'),
    errorEl, status,
    h('div', { class: 'card' }, h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Schedulers' }, table)),
    cat.el));

  let list = [];
  const show = () => tbody.replaceChildren(...(list.length ? list.map((s) => row(s, canManage, toggle))
    : [h('tr', {}, h('td', { colspan: String(cols.length), class: 'muted' },
      canManage ? 'No schedulers yet. Click “New scheduler” to set up what homeowners can book.' : 'No schedulers yet.'))]));

  async function toggle(s, btn) {
    const action = s.paused ? 'resume' : 'pause';
    btn.disabled = true;
    showError(errorEl, '');
    try {
      const upd = await ctx.api.post(`/schedulers/${encodeURIComponent(s.key)}/${action}`, {});
      list = list.map((x) => (x.key === upd.key ? upd : x));
      show();
      status.textContent = upd.paused ? `${upd.config.name} is paused: its widget says online booking is unavailable.` : `${upd.config.name} takes bookings again.`;
      const again = tbody.querySelector(`tr[data-key="${CSS.escape(upd.key)}"] button`);
      if (again) again.focus();
    } catch (e) {
      btn.disabled = false;
      showError(errorEl, e.message);
    }
  }

  try {
    const [r, c] = await Promise.all([ctx.api.get('/schedulers'), ctx.api.get('/catalog').catch(() => null)]);
    list = r.schedulers || [];
    if (c) cat.set(c);
  } catch (e) {
    showError(errorEl, e.message);
  }
  show();
}
