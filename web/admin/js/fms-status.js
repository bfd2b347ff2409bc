// fms-status.js — FMS Configuration's "Connection status" panel (shown once
// connected or needing attention): the facts of the connection, every
// permission appointd asks ServiceTitan for with the feature that needs it
// and whether it was granted, then "Rotate the Client Secret" and "Check or
// disconnect". Also scopeTable(), which Step 2 uses to list the same
// permissions before connecting. Built once by statusPanel(ui, act), set from
// the API's status by refreshStatus(ui, s, stateWords).

import { h, when } from './dom.js';

// A table of the status's scopes ([{scope, feature, required, granted}], C1's
// order). withGranted adds the "Granted" column (after a connect).
export function scopeTable(id, scopes, withGranted) {
  const cols = ['Permission', 'What appointd uses it for', 'Needed'];
  if (withGranted) cols.push('Granted');
  const row = (x) => h('tr', { 'data-scope': x.scope, 'data-granted': withGranted ? String(x.granted === true) : null },
    h('th', { scope: 'row', 'data-label': cols[0] }, h('code', {}, x.scope)),
    h('td', { 'data-label': cols[1] }, x.feature || ''),
    h('td', { 'data-label': cols[2] }, x.required ? 'Required' : 'Optional'),
    withGranted ? h('td', { 'data-label': cols[3], class: x.granted ? 'granted' : 'not-granted' },
      h('span', { 'aria-hidden': 'true' }, x.granted ? '✓ ' : '✗ '), x.granted ? 'Granted' : 'Not granted') : null);
  const label = withGranted ? 'Permissions and whether ServiceTitan granted them' : 'Permissions appointd asks for';
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label },
    h('table', { id, class: 'stacked scopes-table' },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, scopes.map(row))));
}

// Replaces el's children with make() only when key changed (polling refreshes
// the page every few seconds: a table someone is reading stays as it is).
export function replaceWhenChanged(el, key, make) {
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  el.replaceChildren(...[].concat(make()));
}

function rotateForm(ui, act) {
  const form = h('form', { id: 'rotate-form', class: 'stack', novalidate: true },
    h('h3', {}, 'Rotate the Client Secret'),
    h('p', { class: 'muted' }, 'Generate a new secret in ServiceTitan’s Application Details, paste it here; the old one keeps working until the new one is verified.'),
    h('div', { class: 'field' },
      h('label', { for: 'rotate-secret' }, 'New Client Secret'),
      ui.el('rotate-secret', 'input', { type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'rotate-error', class: 'input-id' })),
    ui.el('rotate-error', 'p', { class: 'error', role: 'alert', hidden: true }),
    h('div', { class: 'actions' }, ui.el('rotate', 'button', { type: 'submit', class: 'btn btn-secondary' }, 'Rotate secret')));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); act.rotate(); });
  return form;
}

function disconnectBox(ui, act) {
  return h('div', { class: 'stack' },
    h('h3', {}, 'Check or disconnect'),
    h('div', { class: 'actions' },
      ui.el('check', 'button', { type: 'button', class: 'btn btn-secondary', onclick: act.check }, 'Check connection now'),
      ui.el('disconnect', 'button', { type: 'button', class: 'btn btn-danger', 'aria-expanded': 'false', 'aria-controls': 'disconnect-confirm-box', onclick: act.askDisconnect }, 'Disconnect')),
    ui.el('disconnect-confirm-box', 'div', { class: 'confirm', hidden: true },
      ui.el('disconnect-question', 'p', { tabindex: '-1' }, h('strong', {}, 'Disconnect from ServiceTitan? '),
        'appointd deletes the Client ID and secret and stops booking into ServiceTitan. Your Tenant ID stays. You can connect again with Steps 3 and 4.'),
      h('div', { class: 'actions' },
        ui.el('disconnect-confirm', 'button', { type: 'button', class: 'btn btn-danger', onclick: act.disconnect }, 'Yes, disconnect'),
        ui.el('disconnect-cancel', 'button', { type: 'button', class: 'btn btn-secondary', onclick: act.cancelDisconnect }, 'Cancel'))));
}

export function statusPanel(ui, act) {
  const row = (label, id) => [h('dt', {}, label), ui.el(id, 'dd', {})];
  return ui.el('fms-status', 'section', { class: 'card', 'aria-labelledby': 'fms-status-title', hidden: true },
    h('h2', { id: 'fms-status-title' }, 'Connection status'),
    h('dl', { class: 'facts' },
      row('State', 'status-state'), row('Tenant ID', 'status-tenant'), row('Environment', 'status-environment'),
      row('Client ID', 'status-client-id'), row('Client Secret', 'status-secret'),
      row('Connected since', 'status-connected-since'), row('Health', 'status-health')),
    ui.el('status-permissions', 'div', { hidden: true },
      h('h3', {}, 'Permissions'),
      ui.el('status-missing-none', 'p', { class: 'muted' }),
      ui.el('status-missing', 'ul', { class: 'scopes missing' }),
      h('details', {}, h('summary', {}, 'Every permission and what it is for (', ui.el('status-scopes-count', 'span', {}, '0'), ')'),
        ui.el('status-scopes', 'div', {}))),
    rotateForm(ui, act), disconnectBox(ui, act));
}

function refreshPermissions(ui, scopes) {
  ui.$['status-permissions'].hidden = scopes.length === 0;
  const missing = scopes.filter((x) => x.granted === false);
  replaceWhenChanged(ui.$['status-missing'], JSON.stringify(missing), () => missing.map((m) => h('li', { 'data-scope': m.scope },
    h('code', {}, m.scope), ' (', m.required ? 'required' : 'optional', '): ', m.feature || '',
    m.required ? ' — booking cannot work without it.' : ' — everything else works without it.')));
  ui.$['status-missing-none'].textContent = missing.length
    ? `ServiceTitan did not grant ${missing.length} of the ${scopes.length} permissions appointd asks for:`
    : `ServiceTitan granted all ${scopes.length} permissions appointd asks for.`;
  ui.$['status-scopes-count'].textContent = String(scopes.length);
  replaceWhenChanged(ui.$['status-scopes'], JSON.stringify(scopes), () => scopeTable('status-scopes-list', scopes, true));
}

export function refreshStatus(ui, s, stateWords) {
  ui.$['status-state'].replaceChildren(h('span', { class: 'badge badge-' + s.state }, stateWords[s.state] || s.state));
  ui.$['status-tenant'].textContent = s.tenantId != null ? String(s.tenantId) : '—';
  ui.$['status-environment'].textContent = s.environmentLabel || s.environment || '—';
  ui.$['status-client-id'].textContent = s.clientId || '—';
  ui.$['status-secret'].textContent = s.clientSecret || '—';
  ui.$['status-connected-since'].replaceChildren(when(s.connectedAt));
  ui.$['status-health'].replaceChildren(...(s.state === 'needs_attention'
    ? ['Needs attention: ' + (s.attentionReason || 'ServiceTitan refused the connection.') + ' Rotate the secret below or check again.']
    : ['Healthy. Last successful call ', when(s.lastSuccessAt), '; last checked ', when(s.lastCheckedAt), '.']));
  refreshPermissions(ui, Array.isArray(s.scopes) ? s.scopes : []);
}
