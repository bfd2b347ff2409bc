// users.js — Settings → Users & permissions (#/settings/users): the account's
// users with their role and whether they may manage integrations, and — for
// an owner or admin — the one role permission an account can change today:
// "Staff may manage integrations" (ServiceTitan's Role Permissions idea).
// Staff see the same table read-only, with the reason.
//
// API: GET /users, GET /roles, PUT /roles/staff/permissions {manageIntegrations}.

import { h, heading, showError } from './dom.js';

const ROLE_LABELS = { owner: 'Owner', admin: 'Admin', staff: 'Staff' };
const READONLY_REASON =
  'Only an owner or admin can change permissions; you can see who may manage integrations.';

function userRow(u, canManage) {
  return h('tr', { 'data-role': u.role },
    h('th', { scope: 'row', 'data-label': 'User' }, u.email),
    h('td', { 'data-label': 'Role' }, ROLE_LABELS[u.role] || u.role),
    h('td', { class: 'perm-cell', 'data-label': 'Can manage integrations' }, canManage ? 'Yes' : 'No'));
}

// roles: {owner: bool, admin: bool, staff: bool} from GET /roles.
function fillRows(tbody, users, roles) {
  tbody.replaceChildren(...users.map((u) =>
    userRow(u, u.role in roles ? roles[u.role] : u.manageIntegrations)));
}

function permForm(ctx, staffGranted, onSaved, errorEl) {
  const box = h('input', { id: 'perm-staff', type: 'checkbox', checked: staffGranted });
  const save = h('button', { id: 'perm-save', type: 'submit', class: 'btn' }, 'Save permissions');
  const status = h('p', { id: 'perm-status', class: 'muted', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { id: 'perm-form', novalidate: true },
    h('fieldset', {},
      h('legend', {}, 'Role permissions'),
      h('div', { class: 'actions check' },
        box,
        h('label', { for: 'perm-staff' }, 'Staff may manage integrations')),
      h('p', { class: 'hint', id: 'perm-staff-hint' },
        'Owners and admins always may. "Manage integrations" lets a user open FMS Configuration and connect, rotate or disconnect ServiceTitan.')),
    save, status);
  box.setAttribute('aria-describedby', 'perm-staff-hint');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    status.textContent = '';
    showError(errorEl, '');
    try {
      const r = await ctx.api.put('/roles/staff/permissions', { manageIntegrations: box.checked });
      onSaved(r.manageIntegrations);
      status.textContent = r.manageIntegrations
        ? 'Saved: staff may now manage integrations.'
        : 'Saved: staff may no longer manage integrations.';
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
      h('th', { scope: 'col' }, 'Can manage integrations'))),
    tbody);
  const section = h('section', { id: 'users', class: 'card', 'aria-labelledby': 'users-title' },
    heading('Users & permissions', 'users-title'),
    h('p', { class: 'muted' },
      'Like Role Permissions in ServiceTitan: a role either may or may not manage integrations.'),
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
  for (const r of roleList) roles[r.role] = r.manageIntegrations;
  fillRows(tbody, users, roles);

  const role = ctx.me && ctx.me.role;
  if (role === 'owner' || role === 'admin') {
    section.append(permForm(ctx, !!roles.staff, (granted) => {
      roles.staff = granted;
      fillRows(tbody, users, roles);
    }, errorEl));
  } else {
    section.append(h('p', { id: 'users-readonly', class: 'banner' }, READONLY_REASON));
  }
}
