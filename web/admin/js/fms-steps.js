// fms-steps.js — the four steps of FMS Configuration (js/fms.js), one builder
// and one refresher per step. A builder makes its step's DOM once and
// registers the elements a refresher or an action needs in ui.$ (by id); a
// refresher sets that step's texts, badges and flags from the API's status
// (docs/api.md, GET /api/v1/fms) and the page's own view state
// ({mismatch}: a Client ID of another tenant was refused, {tenant} it belongs
// to when ServiceTitan said). Actions are the
// page's: act.addToServiceTitan, act.connect, act.useTenant.

import { h } from './dom.js';
import { replaceWhenChanged, scopeTable } from './fms-status.js';

const STEP2_WORDS = {
  none: 'Not started: save your Tenant ID in Step 1 and click “Add to ServiceTitan” first.',
  v1_migration_required: 'Not started: confirm your Tenant ID in Step 1 and click “Add to ServiceTitan” first.',
  tenant_set: 'Tenant ID saved. Click “Add to ServiceTitan” in Step 1 to open ServiceTitan’s API Application Access page.',
  awaiting_app_access: 'Waiting for ServiceTitan: connect the app there and allow access, then copy the Client ID and Client Secret into Steps 3 and 4.',
  connected: 'Done: the app is connected and appointd has access to your ServiceTitan tenant.',
};

// ui: {$, el(id, tag, attrs, ...children)} — el makes an element with that id
// and keeps it in $[id].
export function makeUi() {
  const $ = {};
  return { $, el: (id, tag, attrs, ...kids) => ($[id] = h(tag, { id, ...attrs }, ...kids)) };
}

// A step's card: numbered h2 with its badge, the body, then its error (role=alert).
function stepSection(ui, n, title, ...body) {
  return ui.el(`step-${n}`, 'section', { class: 'card step', 'aria-labelledby': `step-${n}-title` },
    ui.el(`step-${n}-title`, 'h2', { tabindex: '-1' },
      h('span', { class: 'step-num', 'aria-hidden': 'true' }, String(n)), title,
      ui.el(`step-${n}-badge`, 'span', { class: 'step-badge', hidden: true })),
    ...body,
    ui.el(`step-${n}-error`, 'p', { class: 'error', role: 'alert', hidden: true }));
}

// The badge after a step's title ('' hides it) and the card's emphasis.
function badge(ui, n, text, cls) {
  const b = ui.$[`step-${n}-badge`];
  b.textContent = text || '';
  b.hidden = !text;
  b.className = 'step-badge ' + (cls || '');
  ui.$[`step-${n}`].classList.toggle('current', cls === 'current');
  ui.$[`step-${n}`].classList.toggle('attention', cls === 'attention');
}

// The state flags every step reads.
export function phase(s) {
  const st = s.state || 'none';
  const linked = st === 'connected' || st === 'needs_attention';
  return { st, linked, added: st === 'awaiting_app_access' || linked };
}

// ---- Step 1: the Tenant ID and "Add to ServiceTitan" ------------------------

export function step1(ui, act) {
  const form = h('form', { id: 'tenant-form', class: 'stack', novalidate: true },
    ui.el('v1-banner', 'div', { class: 'banner', role: 'note', hidden: true },
      h('strong', {}, 'We found your Tenant ID from your V1 connection — confirm it in ServiceTitan. '),
      'Check that it matches the number ServiceTitan shows, then click “Add to ServiceTitan”.'),
    h('div', { class: 'field' },
      h('label', { for: 'tenant-id' }, 'ServiceTitan Tenant ID'),
      ui.el('tenant-id', 'input', { name: 'tenantId', type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'tenant-hint step-1-error', class: 'input-id' }),
      ui.el('tenant-hint', 'p', { class: 'hint detail' },
        'In ServiceTitan, open Settings (gear icon, upper right) > Integrations > API Application Access. ' +
        'Your Tenant ID is the number in the upper right-hand corner of that screen.')),
    ui.el('tenant-locked', 'p', { class: 'muted', hidden: true }, 'To change the Tenant ID, disconnect first (under Connection status).'),
    h('div', { class: 'actions detail' },
      ui.el('add-to-servicetitan', 'button', { type: 'submit', class: 'btn' }, 'Add to ServiceTitan'),
      h('span', { class: 'hint' }, 'Opens ServiceTitan in a new tab.')));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); act.addToServiceTitan(); });
  // wrong_tenant: the one-click fix, after the step's error
  const fix = ui.el('tenant-fix', 'div', { class: 'actions', hidden: true },
    ui.el('use-tenant', 'button', { type: 'button', class: 'btn', 'aria-describedby': 'use-tenant-hint step-1-error' }),
    ui.el('use-tenant-hint', 'span', { class: 'hint' }));
  ui.$['use-tenant'].addEventListener('click', () => act.useTenant(Number(ui.$['use-tenant'].dataset.tenant)));
  const section = stepSection(ui, 1, 'Step 1: Add your ServiceTitan Tenant ID', form);
  section.append(fix);
  return section;
}

// withInputs: also (re)fill the Tenant ID input (not while polling, so typing
// is never overwritten).
export function refreshStep1(ui, s, view, withInputs) {
  const { linked, added } = phase(s);
  const input = ui.$['tenant-id'];
  if (withInputs || (input.value === '' && document.activeElement !== input))
    input.value = s.tenantId != null ? String(s.tenantId) : '';
  ui.$['v1-banner'].hidden = s.tenantConfirmed !== false || s.tenantId == null;
  input.readOnly = linked;
  ui.$['tenant-locked'].hidden = !linked;
  ui.$['add-to-servicetitan'].hidden = linked;
  const n = view.mismatch && view.mismatch.tenant;
  ui.$['tenant-fix'].hidden = !n || linked;
  if (n) {
    ui.$['use-tenant'].dataset.tenant = String(n);
    ui.$['use-tenant'].textContent = `Use tenant ${n}`;
    ui.$['use-tenant-hint'].textContent =
      `Connects again with the Client ID and Client Secret below, and saves Tenant ID ${n} when it works.`;
  }
  if (view.mismatch && !linked) badge(ui, 1, 'Needs attention', 'attention');
  else badge(ui, 1, added ? 'Done' : 'To do', added ? 'done' : 'current');
}

// ---- Step 2: connect the app in ServiceTitan (Allow Access) -----------------

export function step2(ui) {
  return stepSection(ui, 2, 'Step 2: Connect the app in ServiceTitan',
    h('ol', { class: 'instructions detail' },
      h('li', {}, 'In ServiceTitan’s API Application Access screen, click ', h('strong', {}, 'Connect New App'), '.'),
      h('li', {}, 'Select ', h('strong', {}, 'appointd'), ' and click ', h('strong', {}, 'Connect'), '.'),
      h('li', {}, 'ServiceTitan lists what appointd will read and write (the permissions below say what each is for). ',
        'Choose the booking provider tag and click ', h('strong', {}, 'Allow Access'), '.')),
    ui.el('step-2-state', 'p', { class: 'state-line', 'aria-live': 'polite', 'aria-atomic': 'true' }),
    ui.el('app-access-link', 'p', { hidden: true },
      ui.el('app-access-a', 'a', { target: '_blank', rel: 'noopener noreferrer' }, 'Open API Application Access in ServiceTitan'),
      h('span', { class: 'sr-only' }, ' (opens in a new tab)')),
    ui.el('scopes-asked', 'details', { class: 'detail scopes-box', open: true, hidden: true },
      h('summary', {}, 'The permissions appointd asks for (', ui.el('scopes-asked-count', 'span', {}), '), and why'),
      ui.el('scopes-asked-table', 'div', {})));
}

export function refreshStep2(ui, s, stateWords) {
  const { st, linked, added } = phase(s);
  badge(ui, 2, linked ? 'Done' : added ? 'In progress' : '', linked ? 'done' : added ? 'current' : '');
  ui.$['step-2-state'].textContent = st === 'needs_attention'
    ? 'Needs attention: ' + (s.attentionReason || 'ServiceTitan refused the connection.')
    : STEP2_WORDS[st] || stateWords[st] || st;
  ui.$['step-2-state'].className = 'state-line state-' + st;
  if (s.appAccessUrl && added) { ui.$['app-access-a'].href = s.appAccessUrl; ui.$['app-access-link'].hidden = false; }
  else ui.$['app-access-link'].hidden = true;
  const scopes = Array.isArray(s.scopes) ? s.scopes : [];
  ui.$['scopes-asked'].hidden = scopes.length === 0;
  ui.$['scopes-asked-count'].textContent = String(scopes.length);
  // before connecting: what each permission is for (granted is not known yet)
  replaceWhenChanged(ui.$['scopes-asked-table'], JSON.stringify(scopes.map((x) => [x.scope, x.feature, x.required])),
    () => scopeTable('scopes-asked-list', scopes, false));
}

// ---- Steps 3 and 4: one form, Enter in either field connects ----------------

export function step3(ui) {
  return stepSection(ui, 3, 'Step 3: Client ID',
    h('p', { class: 'detail' }, 'After you allow access, ServiceTitan shows the ', h('strong', {}, 'Application Details'), '. Copy the Client ID and paste it here.'),
    h('div', { class: 'field detail' },
      h('label', { for: 'client-id' }, 'Client ID'),
      ui.el('client-id', 'input', { name: 'clientId', type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', 'aria-describedby': 'step-3-error', class: 'input-id' })));
}

export function step4(ui) {
  const toggle = ui.el('client-secret-show', 'button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-pressed': 'false', 'aria-controls': 'client-secret' }, 'Show secret');
  toggle.addEventListener('click', () => {
    const show = toggle.getAttribute('aria-pressed') !== 'true';
    toggle.setAttribute('aria-pressed', String(show));
    ui.$['client-secret'].type = show ? 'text' : 'password';
  });
  return stepSection(ui, 4, 'Step 4: Client Secret',
    ui.el('secret-warning', 'div', { class: 'banner warn detail', role: 'note' },
      h('strong', {}, 'ServiceTitan shows a Client Secret only once. '),
      'Have this page open before you click “Generate” and “Yes, Continue” in ServiceTitan, then paste the secret here right away.'),
    h('div', { class: 'field detail' },
      h('label', { for: 'client-secret' }, 'Client Secret'),
      h('div', { class: 'input-row' },
        ui.el('client-secret', 'input', { name: 'clientSecret', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'secret-warning step-4-error', class: 'input-id' }),
        toggle)),
    h('div', { class: 'actions detail' },
      ui.el('connect', 'button', { type: 'submit', class: 'btn' }, 'Connect to ServiceTitan')));
}

export function connectForm(ui, act) {
  const form = h('form', { id: 'connect-form', class: 'stack', novalidate: true }, step3(ui), step4(ui));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); act.connect(); });
  return form;
}

export function refreshSteps34(ui, s) {
  const { linked, added } = phase(s);
  for (const n of [3, 4]) badge(ui, n, linked ? 'Done' : '', linked ? 'done' : added ? 'current' : '');
  ui.$['client-id'].disabled = ui.$['client-secret'].disabled = linked;
  ui.$['client-secret-show'].hidden = linked;
  ui.$['connect'].hidden = linked;
}
