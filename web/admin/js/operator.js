// operator.js — the operator page (#/operator): every account by ServiceTitan
// connection state, so appointd's operator sees the V1 → V2 migration's
// progress at a glance. Only users with the operator flag (granted by
// `appointd user grant-operator`) may read it; anyone else gets the API's 403
// message in #operator-error.
//
// API: GET /operator/accounts → {counts: {state: n}, accounts: [{account,
// accountId, state, tenantId, tenantConfirmed, connectedAt, v1KeyStored}]}.

import { h, heading, showError, when } from './dom.js';

// In the order of the migration's funnel, with words an operator reads at a glance.
const STATES = [
  ['none', 'Not started'],
  ['v1_migration_required', 'V1 migration required'],
  ['tenant_set', 'Tenant ID saved'],
  ['awaiting_app_access', 'Awaiting app access'],
  ['needs_attention', 'Needs attention'],
  ['connected', 'Connected'],
];
const LABEL = Object.fromEntries(STATES);
const label = (s) => LABEL[s] || s;

function confirmed(a) {
  if (a.tenantId === null || a.tenantId === undefined) return '—';
  return a.tenantConfirmed ? 'Yes' : 'No — the account must confirm it';
}

function accountRow(a) {
  return h('tr', { 'data-state': a.state },
    h('th', { scope: 'row', 'data-label': 'Account' }, a.account),
    h('td', { 'data-label': 'State' }, h('span', { class: `badge badge-${a.state}` }, label(a.state))),
    h('td', { 'data-label': 'Tenant ID' },
      a.tenantId === null || a.tenantId === undefined ? '—' : String(a.tenantId)),
    h('td', { 'data-label': 'Tenant confirmed' }, confirmed(a)),
    h('td', { 'data-label': 'Connected since' }, when(a.connectedAt)));
}

// One tile per state. A state's colour (red for attention, green for
// connected) is only for a count above zero; the label always says it.
function countItems(counts) {
  return STATES.map(([s, text]) => {
    const n = counts[s] || 0;
    return h('li', { 'data-state': s, class: `tile count count-${s}${n ? '' : ' count-zero'}` },
      h('span', { class: 'count-n' }, String(n)), ' ',
      h('span', { class: 'count-label' }, text));
  });
}

export async function render(root, ctx) {
  document.title = 'Operator · appointd';
  const errorEl = h('p', { id: 'operator-error', class: 'error', role: 'alert', hidden: true });
  const counts = h('ul', { id: 'operator-counts', class: 'tiles counts', 'aria-label': 'Accounts per connection state' });
  const filter = h('select', { id: 'operator-filter' },
    h('option', { value: '' }, 'All states'),
    STATES.map(([s, text]) => h('option', { value: s }, text)));
  const caption = h('caption', {}, 'Accounts');
  const tbody = h('tbody');
  const table = h('table', { id: 'operator-accounts', class: 'stacked' }, caption,
    h('thead', {}, h('tr', {},
      ['Account', 'State', 'Tenant ID', 'Tenant confirmed', 'Connected since'].map((t) =>
        h('th', { scope: 'col' }, t)))),
    tbody);
  const refresh = h('button', { id: 'operator-refresh', type: 'button', class: 'btn btn-secondary' }, 'Refresh');
  const toolbar = h('div', { class: 'actions toolbar' },
    h('div', { class: 'field' }, h('label', { for: 'operator-filter' }, 'Show'), filter),
    refresh);
  const wrap = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Accounts' },
    table);
  const live = h('p', { id: 'operator-live', class: 'sr-only', 'aria-live': 'polite' });
  root.append(h('section', { id: 'operator', class: 'card', 'aria-labelledby': 'operator-title' },
    heading('Accounts by connection state', 'operator-title'),
    h('p', { class: 'muted' },
      'Every account\'s ServiceTitan connection: follow the move from V1 to the V2 API.'),
    errorEl, counts, toolbar,
    live, wrap));

  let accounts = [];
  const show = () => {
    const s = filter.value;
    const rows = accounts.filter((a) => !s || a.state === s);
    caption.textContent = s ? `Accounts: ${label(s)} (${rows.length})` : `Accounts (${rows.length})`;
    tbody.replaceChildren(...(rows.length ? rows.map(accountRow)
      : [h('tr', {}, h('td', { colspan: '5', class: 'muted' }, 'No accounts in this state.'))]));
    live.textContent = caption.textContent;
  };
  const load = async () => {
    refresh.disabled = true;
    try {
      const r = await ctx.api.get('/operator/accounts');
      showError(errorEl, '');
      wrap.hidden = toolbar.hidden = false;
      accounts = r.accounts || [];
      counts.replaceChildren(...countItems(r.counts || {}));
      show();
    } catch (e) {
      showError(errorEl, e.message);
      wrap.hidden = toolbar.hidden = !accounts.length; // a 403 shows the reason, not an empty table
    } finally {
      refresh.disabled = false;
    }
  };
  filter.addEventListener('change', show);
  refresh.addEventListener('click', load);
  await load();
}
