// fms.js — Settings > Integrations > FMS Configuration (#/settings/integrations/fms):
// the help article's four steps as one guided page over /api/v1/fms
// (docs/api.md), then the confirmation and the connection's status panel.
//
// The page is built once from one builder per step (js/fms-steps.js) and the
// status panel (js/fms-status.js); FmsPage holds the behaviour, one method
// per action, and its refresh(status) hands the API's status to each step's
// refresher, so the state machine (none, tenant_set,
// awaiting_app_access, connected, needs_attention, v1_migration_required)
// is read in one place. While the state is awaiting_app_access the status is
// polled so Step 2 follows what happens elsewhere.
//
// Errors go to the step they name (#step-N-error). A Client ID of another
// tenant (wrong_tenant) is a Step 1 matter: Step 1 says "Needs attention"
// and offers "Use tenant N", which connects again with tenantId N and the
// Client ID and Secret still in their fields. The Client Secret stays in its
// field after a failed connect (ServiceTitan shows it only once) and is
// cleared after a successful one; no JS variable keeps it.

import { h, heading, showError } from './dom.js';
import { connectForm, makeUi, phase, refreshStep1, refreshStep2, refreshSteps34, step1, step2 } from './fms-steps.js';
import { refreshStatus, statusPanel } from './fms-status.js';

const POLL_MS = 4000;

const STATE_WORDS = {
  none: 'Not connected',
  tenant_set: 'Tenant ID saved — not connected yet',
  awaiting_app_access: 'Waiting for you to connect the app in ServiceTitan',
  connected: 'Connected',
  needs_attention: 'Needs attention',
  v1_migration_required: 'Confirm your Tenant ID to move to the V2 API',
};

const FIELD_STEP = { tenantId: 1, clientId: 3, clientSecret: 4 };
const STEP_INPUT = { 1: 'tenant-id', 3: 'client-id', 4: 'client-secret' };
const BUTTONS = ['add-to-servicetitan', 'connect', 'use-tenant', 'rotate', 'check', 'disconnect', 'disconnect-confirm'];

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

// The page: crumbs, title, the environment, confirmations, the status panel, the steps.
function page(ui, act) {
  ui.el('fms-confirmation', 'div', { class: 'banner ok', role: 'status', tabindex: '-1', hidden: true },
    h('strong', {}, 'You are now connected to ServiceTitan. Your work is now complete!'));
  return h('section', { id: 'fms', class: 'stack', 'aria-labelledby': 'fms-title' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/settings' }, 'Settings'), ' › ', h('a', { href: '#/settings/integrations' }, 'Integrations'), ' › FMS Configuration'),
    heading('FMS Configuration', 'fms-title'),
    h('p', { class: 'lead' }, 'Connect appointd to ServiceTitan’s V2 API in four steps; it takes about 5 minutes. ',
      'You need permission to manage API Application Access in ServiceTitan (the Admin role has it).'),
    ui.el('fms-environment', 'p', { class: 'muted', hidden: true }),
    ui.el('fms-error', 'p', { class: 'error', role: 'alert', hidden: true }),
    ui.$['fms-confirmation'],
    ui.el('fms-notice', 'p', { class: 'banner', role: 'status', tabindex: '-1', hidden: true }),
    statusPanel(ui, act),
    ui.el('fms-steps', 'div', { class: 'stack' }, step1(ui, act), step2(ui), connectForm(ui, act)));
}

function build(root, ctx, first) {
  document.title = 'FMS Configuration · Integrations · appointd';
  const p = new FmsPage(ctx, first);
  root.append(page(p.ui, p.act));
  ctx.signal.addEventListener('abort', () => p.poll(false));
  p.refresh(first, true);
  return () => p.poll(false);
}

// The page's state and behaviour: the last status, the busy flag, the poll
// timer and the view state the API does not hold (view.mismatch: a Client ID
// of another tenant, {tenant} it belongs to when ServiceTitan said).
class FmsPage {
  constructor(ctx, first) {
    this.ctx = ctx;
    this.ui = makeUi();
    this.$ = this.ui.$;
    this.status = first;
    this.busy = false;
    this.pollTimer = 0;
    this.view = { mismatch: null };
    // what the step builders wire to their buttons and forms
    this.act = {};
    for (const name of ['addToServiceTitan', 'connect', 'useTenant', 'rotate', 'check', 'askDisconnect', 'cancelDisconnect', 'disconnect'])
      this.act[name] = (...args) => this[name](...args);
  }

  // ---- errors, busy state ----
  clearErrors() {
    const { $ } = this;
    for (const id of ['fms-error', 'step-1-error', 'step-2-error', 'step-3-error', 'step-4-error', 'rotate-error'])
      showError($[id], '');
    for (const id of ['tenant-id', 'client-id', 'client-secret', 'rotate-secret']) $[id].removeAttribute('aria-invalid');
    this.view.mismatch = null;
    $['fms-confirmation'].hidden = true;
    $['fms-notice'].hidden = true;
  }

  // A Client ID of tenant N while Step 1 says another: Step 1 needs attention,
  // with the one-click fix to focus; the Client ID is right and stays unmarked.
  showWrongTenant(e) {
    const n = Number(e.detail && e.detail.tokenTenantId);
    this.view.mismatch = { tenant: Number.isSafeInteger(n) && n > 0 ? n : null };
    showError(this.$['step-1-error'], e.message);
    this.$['tenant-id'].setAttribute('aria-invalid', 'true');
    return this.view.mismatch.tenant ? this.$['use-tenant'] : this.$['tenant-id'];
  }

  // Shows e at its step; returns the element to focus (its step's input).
  showApiError(e, fallbackStep) {
    if (e.code === 'wrong_tenant') return this.showWrongTenant(e);
    const step = e.step >= 1 && e.step <= 4 ? e.step : FIELD_STEP[e.field] || fallbackStep;
    const target = this.$[step ? `step-${step}-error` : 'fms-error'];
    showError(target, e.message);
    const input = this.$[STEP_INPUT[step]];
    if (input) { input.setAttribute('aria-invalid', 'true'); return input; }
    target.scrollIntoView({ block: 'center' });
    return null;
  }

  setBusy(on, btn, label) {
    this.busy = on;
    for (const id of BUTTONS) this.$[id].disabled = on;
    if (btn) btn.textContent = label;
  }

  // Runs one request-making action: errors cleared first, buttons disabled
  // meanwhile, the page refreshed from the last status afterwards. onError(e)
  // shows the error and returns what to focus (once the buttons are enabled).
  async action(btn, busyLabel, fn, onError) {
    if (this.busy) return;
    this.clearErrors();
    const label = btn.textContent;
    let focus = null;
    this.setBusy(true, btn, busyLabel);
    try {
      await fn();
    } catch (e) {
      focus = onError(e);
    } finally {
      this.setBusy(false, btn, label);
      this.refresh(this.status);
    }
    if (focus) focus.focus();
  }

  // ---- the actions ----
  addToServiceTitan() {
    const { $, ctx } = this;
    return this.action($['add-to-servicetitan'], 'Adding…', async () => {
      this.refresh(await ctx.api.put('/fms/tenant', { tenantId: $['tenant-id'].value.trim() }), true);
      const r = await ctx.api.post('/fms/add-to-servicetitan', {});
      if (r.appAccessUrl) window.open(r.appAccessUrl, '_blank', 'noopener');
      this.refresh(await ctx.api.get('/fms'), true);
      $['step-2-title'].focus();
    }, (e) => this.showApiError(e, 1));
  }

  connect() { return this.connectWith(this.$['connect'], null); }

  useTenant(n) { return this.connectWith(this.$['use-tenant'], n); }

  // Steps 3–4 (and, with tenantId, Step 1's correction in the same call). The
  // fields keep what was typed unless the connect succeeded.
  connectWith(btn, tenantId) {
    const { $, ctx } = this;
    return this.action(btn, 'Connecting…', async () => {
      const body = { clientId: $['client-id'].value.trim(), clientSecret: $['client-secret'].value.trim() };
      if (tenantId) body.tenantId = tenantId;
      const s = await ctx.api.post('/fms/connect', body);
      $['client-id'].value = $['client-secret'].value = '';
      $['client-secret'].type = 'password';
      $['client-secret-show'].setAttribute('aria-pressed', 'false');
      this.refresh(s, true);
      $['fms-confirmation'].hidden = false;
      $['fms-confirmation'].focus();
    }, (e) => this.showApiError(e, 4));
  }

  rotate() {
    const { $, ctx } = this;
    return this.action($['rotate'], 'Verifying…', async () => {
      this.refresh(await ctx.api.post('/fms/rotate-secret', { clientSecret: $['rotate-secret'].value.trim() }), true);
      $['rotate-secret'].value = '';
      this.notice('The new Client Secret works and replaced the old one.');
    }, (e) => {
      showError($['rotate-error'], e.message);
      $['rotate-secret'].setAttribute('aria-invalid', 'true');
      return $['rotate-secret'];
    });
  }

  check() {
    return this.action(this.$['check'], 'Checking…', async () => {
      const s = await this.ctx.api.post('/fms/check', {});
      this.refresh(s, true);
      this.notice(s.state === 'connected' ? 'The connection works.' : 'The connection needs attention: see Health below.');
    }, (e) => this.showApiError(e, 0));
  }

  askDisconnect() {
    this.$['disconnect-confirm-box'].hidden = false;
    this.$['disconnect'].setAttribute('aria-expanded', 'true');
    this.$['disconnect-question'].focus();
  }

  cancelDisconnect() {
    this.$['disconnect-confirm-box'].hidden = true;
    this.$['disconnect'].setAttribute('aria-expanded', 'false');
    this.$['disconnect'].focus();
  }

  disconnect() {
    const { $ } = this;
    return this.action($['disconnect-confirm'], 'Disconnecting…', async () => {
      this.refresh(await this.ctx.api.post('/fms/disconnect', {}), true);
      $['disconnect-confirm-box'].hidden = true;
      $['disconnect'].setAttribute('aria-expanded', 'false');
      this.notice('Disconnected from ServiceTitan. Your Tenant ID is kept; connect again with Steps 3 and 4.');
    }, (e) => this.showApiError(e, 0));
  }

  notice(text) {
    this.$['fms-notice'].textContent = text;
    this.$['fms-notice'].hidden = false;
    this.$['fms-notice'].focus();
  }

  // ---- the whole page from a status ----
  refresh(s, withInputs) {
    const { $, ui } = this;
    this.status = s;
    const { st, linked } = phase(s);
    const env = s.environmentLabel || '';
    $['fms-environment'].textContent = env ? `ServiceTitan environment: ${env}.` : '';
    $['fms-environment'].hidden = !env;
    refreshStep1(ui, s, this.view, withInputs);
    refreshStep2(ui, s, STATE_WORDS);
    refreshSteps34(ui, s);
    $['fms-status'].hidden = !linked;
    $['fms-steps'].classList.toggle('linked', linked); // done steps: headings and the Tenant ID only
    if (linked) refreshStatus(ui, s, STATE_WORDS);
    this.poll(st === 'awaiting_app_access');
  }

  poll(on) {
    if (on && !this.pollTimer && !this.ctx.signal.aborted) this.pollTimer = setInterval(() => this.pollOnce(), POLL_MS);
    else if (!on && this.pollTimer) { clearInterval(this.pollTimer); this.pollTimer = 0; }
  }

  async pollOnce() {
    if (this.busy || document.hidden) return;
    try {
      const s = await this.ctx.api.get('/fms');
      if (!this.ctx.signal.aborted && !this.busy) this.refresh(s);
    } catch { /* a failed poll changes nothing; the next one retries */ }
  }
}
