// fms.js — Settings > Integrations > FMS Configuration (#/settings/integrations/fms):
// the help article's four steps as one guided page over /api/v1/fms
// (docs/api.md), then the confirmation and the connection's status panel.
//
// The page is built once; refresh(status) sets every text, hidden and
// disabled flag from the API's status object, so the state machine
// (none, tenant_set, awaiting_app_access, connected, needs_attention,
// v1_migration_required) lives in one function. While the state is
// awaiting_app_access the status is polled so Step 2 follows what happens
// elsewhere. The Client Secret is write-only: the inputs are cleared as
// soon as a request is sent, and no JS variable keeps it.

import { h, heading, showError } from './dom.js';

const POLL_MS = 4000;

const STATE_WORDS = {
  none: 'Not connected',
  tenant_set: 'Tenant ID saved — not connected yet',
  awaiting_app_access: 'Waiting for you to connect the app in ServiceTitan',
  connected: 'Connected',
  needs_attention: 'Needs attention',
  v1_migration_required: 'Confirm your Tenant ID to move to the V2 API',
};

const STEP2_WORDS = {
  none: 'Not started: save your Tenant ID in Step 1 and click “Add to ServiceTitan” first.',
  v1_migration_required: 'Not started: confirm your Tenant ID in Step 1 and click “Add to ServiceTitan” first.',
  tenant_set: 'Tenant ID saved. Click “Add to ServiceTitan” in Step 1 to open ServiceTitan’s API Application Access page.',
  awaiting_app_access: 'Waiting for ServiceTitan: connect the app there and allow access, then copy the Client ID and Client Secret into Steps 3 and 4.',
  connected: 'Done: the app is connected and appointd has access to your ServiceTitan tenant.',
};

const FIELD_STEP = { tenantId: 1, clientId: 3, clientSecret: 4 };

function fmtTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

function stepSection(n, title, ...body) {
  return h('section', { id: `step-${n}`, class: 'card step', 'aria-labelledby': `step-${n}-title` },
    h('h2', { id: `step-${n}-title`, tabindex: '-1' },
      h('span', { class: 'step-num', 'aria-hidden': 'true' }, String(n)), title,
      h('span', { id: `step-${n}-badge`, class: 'step-badge', hidden: true })),
    ...body,
    h('p', { id: `step-${n}-error`, class: 'error', role: 'alert', hidden: true }));
}

function forbidden(root, ctx, message) {
  document.title = 'FMS Configuration · appointd';
  const role = ctx.me ? ctx.me.role : 'your role';
  root.append(h('section', { id: 'fms', class: 'stack', 'aria-labelledby': 'fms-title' },
    heading('FMS Configuration', 'fms-title'),
    h('div', { id: 'fms-forbidden', class: 'card note', role: 'note' },
      h('h2', {}, 'You can’t change the FMS Configuration'),
      h('p', {}, `This page needs the “manage integrations” permission, and your role (${role}) doesn’t have it. ` +
        'Ask an owner or admin of your account to grant it under ', h('a', { href: '#/settings/users' }, 'Users & permissions'), '.'),
      message ? h('p', { class: 'muted' }, message) : null)));
}

export async function render(root, ctx) {
  const perms = (ctx.me && ctx.me.permissions) || [];
  if (!perms.includes('manage_integrations')) { forbidden(root, ctx); return; }
  let status;
  try {
    status = await ctx.api.get('/fms');
  } catch (e) {
    if (e.code === 'forbidden') { forbidden(root, ctx, e.message); return; }
    document.title = 'FMS Configuration · appointd';
    root.append(h('section', { id: 'fms', class: 'stack', 'aria-labelledby': 'fms-title' },
      heading('FMS Configuration', 'fms-title'),
      h('p', { id: 'fms-error', class: 'error card', role: 'alert' }, e.message)));
    return;
  }
  return build(root, ctx, status);
}

function build(root, ctx, first) {
  document.title = 'FMS Configuration · Integrations · appointd';
  const $ = {};
  const el = (id, tag, attrs, ...kids) => ($[id] = h(tag, { id, ...attrs }, ...kids));
  let status = first;
  let busy = false;
  let pollTimer = 0;

  // Step 1 -----------------------------------------------------------------
  const tenantForm = h('form', { id: 'tenant-form', class: 'stack', novalidate: true },
    el('v1-banner', 'div', { class: 'banner', role: 'note', hidden: true },
      h('strong', {}, 'We found your Tenant ID from your V1 connection — confirm it in ServiceTitan. '),
      'Check that it matches the number ServiceTitan shows, then click “Add to ServiceTitan”.'),
    h('div', { class: 'field' },
      h('label', { for: 'tenant-id' }, 'ServiceTitan Tenant ID'),
      el('tenant-id', 'input', { name: 'tenantId', type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'tenant-hint step-1-error', class: 'input-id' }),
      el('tenant-hint', 'p', { class: 'hint detail' },
        'In ServiceTitan, open Settings (gear icon, upper right) > Integrations > API Application Access. ' +
        'Your Tenant ID is the number in the upper right-hand corner of that screen.')),
    el('tenant-locked', 'p', { class: 'muted', hidden: true }, 'To change the Tenant ID, disconnect first (under Connection status).'),
    h('div', { class: 'actions detail' },
      el('add-to-servicetitan', 'button', { type: 'submit', class: 'btn' }, 'Add to ServiceTitan'),
      h('span', { class: 'hint' }, 'Opens ServiceTitan in a new tab.')));
  tenantForm.addEventListener('submit', (ev) => { ev.preventDefault(); addToServiceTitan(); });

  // Step 2 -----------------------------------------------------------------
  const step2 = [
    h('ol', { class: 'instructions detail' },
      h('li', {}, 'In ServiceTitan’s API Application Access screen, click ', h('strong', {}, 'Connect New App'), '.'),
      h('li', {}, 'Select ', h('strong', {}, 'appointd'), ' and click ', h('strong', {}, 'Connect'), '.'),
      h('li', {}, 'Review what appointd will read and write, choose the booking provider tag, and click ', h('strong', {}, 'Allow Access'), '.')),
    el('step-2-state', 'p', { class: 'state-line', 'aria-live': 'polite', 'aria-atomic': 'true' }),
    el('app-access-link', 'p', { hidden: true },
      el('app-access-a', 'a', { target: '_blank', rel: 'noopener noreferrer' }, 'Open API Application Access in ServiceTitan'),
      h('span', { class: 'sr-only' }, ' (opens in a new tab)')),
  ];

  // Steps 3 and 4 (one form: Enter in either field connects) ---------------
  const connectForm = h('form', { id: 'connect-form', class: 'stack', novalidate: true },
    stepSection(3, 'Step 3: Client ID',
      h('p', { class: 'detail' }, 'After you allow access, ServiceTitan shows the ', h('strong', {}, 'Application Details'), '. Copy the Client ID and paste it here.'),
      h('div', { class: 'field detail' },
        h('label', { for: 'client-id' }, 'Client ID'),
        el('client-id', 'input', { name: 'clientId', type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', 'aria-describedby': 'step-3-error', class: 'input-id' }))),
    stepSection(4, 'Step 4: Client Secret',
      el('secret-warning', 'div', { class: 'banner warn detail', role: 'note' },
        h('strong', {}, 'ServiceTitan shows a Client Secret only once. '),
        'Have this page open before you click “Generate” and “Yes, Continue” in ServiceTitan, then paste the secret here right away.'),
      h('div', { class: 'field detail' },
        h('label', { for: 'client-secret' }, 'Client Secret'),
        el('client-secret', 'input', { name: 'clientSecret', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'secret-warning step-4-error', class: 'input-id' })),
      h('div', { class: 'actions detail' },
        el('connect', 'button', { type: 'submit', class: 'btn' }, 'Connect to ServiceTitan'))));
  connectForm.addEventListener('submit', (ev) => { ev.preventDefault(); connect(); });

  // Confirmation and status panel ------------------------------------------
  el('fms-confirmation', 'div', { class: 'banner ok', role: 'status', tabindex: '-1', hidden: true },
    h('strong', {}, 'You are now connected to ServiceTitan. Your work is now complete!'));
  el('fms-notice', 'p', { class: 'banner', role: 'status', tabindex: '-1', hidden: true });

  const rotateForm = h('form', { id: 'rotate-form', class: 'stack', novalidate: true },
    h('h3', {}, 'Rotate the Client Secret'),
    h('p', { class: 'muted' }, 'Generate a new secret in ServiceTitan’s Application Details, paste it here; the old one keeps working until the new one is verified.'),
    h('div', { class: 'field' },
      h('label', { for: 'rotate-secret' }, 'New Client Secret'),
      el('rotate-secret', 'input', { type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'rotate-error', class: 'input-id' })),
    el('rotate-error', 'p', { class: 'error', role: 'alert', hidden: true }),
    h('div', { class: 'actions' }, el('rotate', 'button', { type: 'submit', class: 'btn btn-secondary' }, 'Rotate secret')));
  rotateForm.addEventListener('submit', (ev) => { ev.preventDefault(); rotate(); });

  const disconnectBox = h('div', { class: 'stack' },
    h('h3', {}, 'Check or disconnect'),
    h('div', { class: 'actions' },
      el('check', 'button', { type: 'button', class: 'btn btn-secondary', onclick: check }, 'Check connection now'),
      el('disconnect', 'button', { type: 'button', class: 'btn btn-danger', 'aria-expanded': 'false', 'aria-controls': 'disconnect-confirm-box', onclick: askDisconnect }, 'Disconnect')),
    el('disconnect-confirm-box', 'div', { class: 'confirm', hidden: true },
      el('disconnect-question', 'p', { tabindex: '-1' }, h('strong', {}, 'Disconnect from ServiceTitan? '),
        'appointd deletes the Client ID and secret and stops booking into ServiceTitan. Your Tenant ID stays. You can connect again with Steps 3 and 4.'),
      h('div', { class: 'actions' },
        el('disconnect-confirm', 'button', { type: 'button', class: 'btn btn-danger', onclick: disconnect }, 'Yes, disconnect'),
        el('disconnect-cancel', 'button', { type: 'button', class: 'btn btn-secondary', onclick: cancelDisconnect }, 'Cancel'))));

  const row = (label, id) => [h('dt', {}, label), el(id, 'dd', {})];
  el('fms-status', 'section', { class: 'card', 'aria-labelledby': 'fms-status-title', hidden: true },
    h('h2', { id: 'fms-status-title' }, 'Connection status'),
    h('dl', { class: 'facts' },
      row('State', 'status-state'), row('Tenant ID', 'status-tenant'), row('Environment', 'status-environment'),
      row('Client ID', 'status-client-id'), row('Client Secret', 'status-secret'),
      row('Connected since', 'status-connected-since'), row('Health', 'status-health'),
      row('Schedulers using it', 'status-schedulers')),
    h('h3', {}, 'Missing permissions'),
    el('status-missing-none', 'p', { class: 'muted' }, 'None: ServiceTitan granted every permission appointd asks for.'),
    el('status-missing', 'ul', { class: 'scopes missing' }),
    h('details', {}, h('summary', {}, 'Granted permissions (', el('status-granted-count', 'span', {}, '0'), ')'),
      el('status-granted', 'ul', { class: 'scopes' })),
    rotateForm, disconnectBox);

  root.append(h('section', { id: 'fms', class: 'stack', 'aria-labelledby': 'fms-title' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/settings' }, 'Settings'), ' › ', h('a', { href: '#/settings/integrations' }, 'Integrations'), ' › FMS Configuration'),
    heading('FMS Configuration', 'fms-title'),
    h('p', { class: 'lead' }, 'Connect appointd to ServiceTitan’s V2 API in four steps; it takes about 5 minutes. ',
      'You need permission to manage API Application Access in ServiceTitan (the Admin role has it).'),
    el('fms-error', 'p', { class: 'error', role: 'alert', hidden: true }),
    $['fms-confirmation'], $['fms-notice'],
    $['fms-status'],
    el('fms-steps', 'div', { class: 'stack' },
      stepSection(1, 'Step 1: Add your ServiceTitan Tenant ID', tenantForm),
      stepSection(2, 'Step 2: Connect the app in ServiceTitan', ...step2),
      connectForm)));

  // Behaviour ---------------------------------------------------------------
  function clearErrors() {
    for (const id of ['fms-error', 'step-1-error', 'step-2-error', 'step-3-error', 'step-4-error', 'rotate-error'])
      showError(document.getElementById(id), '');
    for (const id of ['tenant-id', 'client-id', 'client-secret', 'rotate-secret']) $[id].removeAttribute('aria-invalid');
    $['fms-confirmation'].hidden = true;
    $['fms-notice'].hidden = true;
  }

  function showApiError(e, fallbackStep) {
    let step = e.step >= 1 && e.step <= 4 ? e.step : FIELD_STEP[e.field] || fallbackStep;
    const target = document.getElementById(step ? `step-${step}-error` : 'fms-error');
    showError(target, e.message);
    const input = { 1: 'tenant-id', 3: 'client-id', 4: 'client-secret' }[step];
    if (input) { $[input].setAttribute('aria-invalid', 'true'); $[input].focus(); }
    else target.scrollIntoView({ block: 'center' });
  }

  function setBusy(on, btn, label) {
    busy = on;
    for (const id of ['add-to-servicetitan', 'connect', 'rotate', 'check', 'disconnect', 'disconnect-confirm']) $[id].disabled = on;
    if (btn) btn.textContent = label;
  }

  async function addToServiceTitan() {
    if (busy) return;
    clearErrors();
    const btn = $['add-to-servicetitan'];
    setBusy(true, btn, 'Adding…');
    try {
      refresh(await ctx.api.put('/fms/tenant', { tenantId: $['tenant-id'].value.trim() }), true);
      const r = await ctx.api.post('/fms/add-to-servicetitan', {});
      if (r.appAccessUrl) window.open(r.appAccessUrl, '_blank', 'noopener');
      refresh(await ctx.api.get('/fms'), true);
      document.getElementById('step-2-title').focus();
    } catch (e) {
      showApiError(e, 1);
    } finally {
      setBusy(false, btn, 'Add to ServiceTitan');
      refresh(status);
    }
  }

  async function connect() {
    if (busy) return;
    clearErrors();
    const body = { clientId: $['client-id'].value.trim(), clientSecret: $['client-secret'].value.trim() };
    $['client-secret'].value = ''; // write-only: gone from the page as soon as it is sent
    const btn = $['connect'];
    setBusy(true, btn, 'Connecting…');
    try {
      const s = await ctx.api.post('/fms/connect', body);
      body.clientSecret = '';
      $['client-id'].value = '';
      refresh(s, true);
      $['fms-confirmation'].hidden = false;
      $['fms-confirmation'].focus();
    } catch (e) {
      body.clientSecret = '';
      showApiError(e, 4);
    } finally {
      setBusy(false, btn, 'Connect to ServiceTitan');
      refresh(status);
    }
  }

  async function rotate() {
    if (busy) return;
    clearErrors();
    const secret = $['rotate-secret'].value.trim();
    $['rotate-secret'].value = '';
    setBusy(true, $['rotate'], 'Verifying…');
    try {
      refresh(await ctx.api.post('/fms/rotate-secret', { clientSecret: secret }), true);
      notice('The new Client Secret works and replaced the old one.');
    } catch (e) {
      showError($['rotate-error'], e.message);
      $['rotate-secret'].setAttribute('aria-invalid', 'true');
      $['rotate-secret'].focus();
    } finally {
      setBusy(false, $['rotate'], 'Rotate secret');
      refresh(status);
    }
  }

  async function check() {
    if (busy) return;
    clearErrors();
    setBusy(true, $['check'], 'Checking…');
    try {
      const s = await ctx.api.post('/fms/check', {});
      refresh(s, true);
      notice(s.state === 'connected' ? 'The connection works.' : 'The connection needs attention: see Health below.');
    } catch (e) {
      showApiError(e, 0);
    } finally {
      setBusy(false, $['check'], 'Check connection now');
      refresh(status);
    }
  }

  function askDisconnect() {
    $['disconnect-confirm-box'].hidden = false;
    $['disconnect'].setAttribute('aria-expanded', 'true');
    $['disconnect-question'].focus();
  }

  function cancelDisconnect() {
    $['disconnect-confirm-box'].hidden = true;
    $['disconnect'].setAttribute('aria-expanded', 'false');
    $['disconnect'].focus();
  }

  async function disconnect() {
    if (busy) return;
    clearErrors();
    setBusy(true, $['disconnect-confirm'], 'Disconnecting…');
    try {
      refresh(await ctx.api.post('/fms/disconnect', {}), true);
      $['disconnect-confirm-box'].hidden = true;
      $['disconnect'].setAttribute('aria-expanded', 'false');
      notice('Disconnected from ServiceTitan. Your Tenant ID is kept; connect again with Steps 3 and 4.');
    } catch (e) {
      showApiError(e, 0);
    } finally {
      setBusy(false, $['disconnect-confirm'], 'Yes, disconnect');
      refresh(status);
    }
  }

  function notice(text) {
    $['fms-notice'].textContent = text;
    $['fms-notice'].hidden = false;
    $['fms-notice'].focus();
  }

  function badge(n, text, cls) {
    const b = document.getElementById(`step-${n}-badge`);
    b.textContent = text || '';
    b.hidden = !text;
    b.className = 'step-badge ' + (cls || '');
    document.getElementById(`step-${n}`).classList.toggle('current', cls === 'current');
  }

  // Sets the whole page from a status object. withInputs: also (re)fill the
  // Tenant ID input (not while polling, so typing is never overwritten).
  function refresh(s, withInputs) {
    status = s;
    const st = s.state || 'none';
    const linked = st === 'connected' || st === 'needs_attention';
    if (withInputs || $['tenant-id'].value === '') {
      if (document.activeElement !== $['tenant-id'] || withInputs)
        $['tenant-id'].value = s.tenantId != null ? String(s.tenantId) : '';
    }
    $['v1-banner'].hidden = s.tenantConfirmed !== false || s.tenantId == null;
    $['tenant-id'].readOnly = linked;
    $['tenant-locked'].hidden = !linked;
    $['add-to-servicetitan'].hidden = linked;
    const added = st === 'awaiting_app_access' || linked;
    badge(1, added ? 'Done' : 'To do', added ? 'done' : 'current');
    badge(2, linked ? 'Done' : added ? 'In progress' : '', linked ? 'done' : added ? 'current' : '');
    badge(3, linked ? 'Done' : '', linked ? 'done' : added ? 'current' : '');
    badge(4, linked ? 'Done' : '', linked ? 'done' : added ? 'current' : '');
    $['step-2-state'].textContent = st === 'needs_attention'
      ? 'Needs attention: ' + (s.attentionReason || 'ServiceTitan refused the connection.')
      : STEP2_WORDS[st] || STATE_WORDS[st] || st;
    $['step-2-state'].className = 'state-line state-' + st;
    if (s.appAccessUrl && added) { $['app-access-a'].href = s.appAccessUrl; $['app-access-link'].hidden = false; }
    else $['app-access-link'].hidden = true;
    $['client-id'].disabled = $['client-secret'].disabled = linked;
    $['connect'].hidden = linked;
    $['fms-status'].hidden = !linked;
    $['fms-steps'].classList.toggle('linked', linked); // done steps: headings and the Tenant ID only
    if (linked) statusPanel(s);
    poll(st === 'awaiting_app_access');
  }

  function statusPanel(s) {
    $['status-state'].replaceChildren(h('span', { class: 'badge badge-' + s.state }, STATE_WORDS[s.state] || s.state));
    $['status-tenant'].textContent = s.tenantId != null ? String(s.tenantId) : '—';
    $['status-environment'].textContent = s.environment || '—';
    $['status-client-id'].textContent = s.clientId || '—';
    $['status-secret'].textContent = s.clientSecret || '—';
    $['status-connected-since'].textContent = fmtTime(s.connectedAt);
    $['status-health'].textContent = s.state === 'needs_attention'
      ? 'Needs attention: ' + (s.attentionReason || 'ServiceTitan refused the connection.') + ' Rotate the secret below or check again.'
      : `Healthy. Last successful call ${fmtTime(s.lastSuccessAt)}; last checked ${fmtTime(s.lastCheckedAt)}.`;
    const sch = s.schedulers || [];
    $['status-schedulers'].textContent = sch.length
      ? sch.map((x) => (typeof x === 'string' ? x : x.name || x.id)).join(', ')
      : 'None yet: every scheduler you add will use this connection.';
    const missing = s.missingScopes || [];
    $['status-missing'].replaceChildren(...missing.map((m) => h('li', { 'data-scope': m.scope },
      h('code', {}, m.scope), ' — ', m.disables || 'not granted', m.required ? h('span', { class: 'badge badge-needs_attention' }, 'required') : null)));
    $['status-missing-none'].hidden = missing.length > 0;
    const granted = s.grantedScopes || [];
    $['status-granted'].replaceChildren(...granted.map((g) => h('li', {}, h('code', {}, g))));
    $['status-granted-count'].textContent = String(granted.length);
  }

  function poll(on) {
    if (on && !pollTimer && !ctx.signal.aborted) pollTimer = setInterval(pollOnce, POLL_MS);
    else if (!on && pollTimer) { clearInterval(pollTimer); pollTimer = 0; }
  }

  async function pollOnce() {
    if (busy || document.hidden) return;
    try {
      const s = await ctx.api.get('/fms');
      if (!ctx.signal.aborted && !busy) refresh(s);
    } catch { /* a failed poll changes nothing; the next one retries */ }
  }

  ctx.signal.addEventListener('abort', () => poll(false));
  refresh(first, true);
  return () => poll(false);
}
