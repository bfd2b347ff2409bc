// users.js — Settings → Users & permissions (#/settings/users): the account's
// users with their role and whether they may manage integrations and
// schedulers, and — for an owner or admin — the role permissions an account
// can change: "Staff may manage integrations" and "Staff may manage
// schedulers" (ServiceTitan's Role Permissions idea). Owners and admins
// always may. Staff see the same table read-only, with the reason.
//
// API: GET /users, GET /roles, PUT /roles/staff/permissions
// {manageIntegrations, manageSchedulers}.

import { h, heading, showError } from './dom.js';

const ROLE_LABELS = { owner: 'Owner', admin: 'Admin', staff: 'Staff' };
const READONLY_REASON =
  'Only an owner or admin can change permissions; you can see who may manage integrations and schedulers.';
const yesNo = (b) => (b ? 'Yes' : 'No');

function userRow(u, perms) {
  return h('tr', { 'data-role': u.role },
    h('th', { scope: 'row', 'data-label': 'User' }, u.email),
    h('td', { 'data-label': 'Role' }, ROLE_LABELS[u.role] || u.role),
    h('td', { class: 'perm-cell', 'data-label': 'Can manage integrations', 'data-perm': 'integrations' }, yesNo(perms.manageIntegrations)),
    h('td', { class: 'perm-cell', 'data-label': 'Can manage schedulers', 'data-perm': 'schedulers' }, yesNo(perms.manageSchedulers)));
}

// roles: {owner: {manageIntegrations, manageSchedulers}, admin: …, staff: …} from GET /roles.
function fillRows(tbody, users, roles) {
  tbody.replaceChildren(...users.map((u) =>
    userRow(u, roles[u.role] || { manageIntegrations: u.manageIntegrations, manageSchedulers: false })));
}

function checkRow(id, label, hint, checked) {
  const box = h('input', { id, type: 'checkbox', checked, 'aria-describedby': `${id}-hint` });
  return [box, h('div', { class: 'actions check' }, box, h('label', { for: id }, label)),
    h('p', { class: 'hint', id: `${id}-hint` }, hint)];
}

function saidWhat(r) {
  const words = (b, what) => `staff ${b ? 'may' : 'may not'} manage ${what}`;
  return `Saved: ${words(r.manageIntegrations, 'integrations')}, and ${words(r.manageSchedulers, 'schedulers')}.`;
}

function permForm(ctx, staff, onSaved, errorEl) {
  const [box, row1, hint1] = checkRow('perm-staff', 'Staff may manage integrations',
    'Owners and admins always may. "Manage integrations" lets a user open FMS Configuration and connect, rotate or disconnect ServiceTitan.',
    !!staff.manageIntegrations);
  const [sched, row2, hint2] = checkRow('perm-staff-schedulers', 'Staff may manage schedulers',
    'Owners and admins always may. "Manage schedulers" lets a user create, change and pause schedulers and refresh the ServiceTitan catalog. Everyone may see schedulers and bookings.',
    !!staff.manageSchedulers);
  const save = h('button', { id: 'perm-save', type: 'submit', class: 'btn' }, 'Save permissions');
  const status = h('p', { id: 'perm-status', class: 'muted', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { id: 'perm-form', novalidate: true },
    h('fieldset', {}, h('legend', {}, 'Role permissions'), row1, hint1, row2, hint2),
    save, status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    status.textContent = '';
    showError(errorEl, '');
    try {
      const r = await ctx.api.put('/roles/staff/permissions', { manageIntegrations: box.checked, manageSchedulers: sched.checked });
      onSaved(r);
      status.textContent = saidWhat(r);
    } catch (e) {
      showError(errorEl, e.message);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

export async function render(root, ctx) {
  document.title = 'Users & permissions · Settings · appointd';
  const errorEl = h('p', { id: 'users-error', class: 'error', role: 'alert', hidden: true });
  const tbody = h('tbody');
  const table = h('table', { id: 'users-table', class: 'stacked' },
    h('caption', {}, 'Users of ', (ctx.me && ctx.me.accountName) || 'your account'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Email'),
      h('th', { scope: 'col' }, 'Role'),
      h('th', { scope: 'col' }, 'Can manage integrations'),
      h('th', { scope: 'col' }, 'Can manage schedulers'))),
    tbody);
  const section = h('section', { id: 'users', class: 'card', 'aria-labelledby': 'users-title' },
    heading('Users & permissions', 'users-title'),
    h('p', { class: 'muted' },
      'Like Role Permissions in ServiceTitan: a role either may or may not manage integrations, and may or may not manage schedulers.'),
    errorEl,
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Users' }, table));
  root.append(section);

  let users, roleList;
  try {
    [{ users }, { roles: roleList }] = await Promise.all([ctx.api.get('/users'), ctx.api.get('/roles')]);
  } catch (e) {
    showError(errorEl, e.message);
    return;
  }
  const roles = {};
  for (const r of roleList) roles[r.role] = { manageIntegrations: !!r.manageIntegrations, manageSchedulers: !!r.manageSchedulers };
  fillRows(tbody, users, roles);

  const role = ctx.me && ctx.me.role;
  if (role === 'owner' || role === 'admin') {
    section.append(permForm(ctx, roles.staff || {}, (r) => {
      roles.staff = { manageIntegrations: !!r.manageIntegrations, manageSchedulers: !!r.manageSchedulers };
      fillRows(tbody, users, roles);
    }, errorEl));
  } else {
    section.append(h('p', { id: 'users-readonly', class: 'banner' }, READONLY_REASON));
  }
}
