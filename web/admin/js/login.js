// login.js — the sign-in view (#/login): email + password → POST /api/v1/login,
// then ctx.signedIn starts the session. "Forgot password?" says to ask your
// administrator (there is no self-service reset; whoever runs appointd resets
// it — no command line is shown to a contractor).

import { h, showError } from './dom.js';

export async function render(root, ctx) {
  document.title = 'Sign in · appointd';
  const err = h('p', { id: 'login-error', class: 'error', role: 'alert', hidden: true });
  const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true, autocapitalize: 'off', spellcheck: 'false' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { id: 'login-submit', type: 'submit', class: 'btn' }, 'Sign in');
  const help = h('div', { id: 'forgot-help', class: 'note', hidden: true },
    h('p', {}, 'Ask your administrator to reset your password. They will give you a new one to sign in with.'),
    h('p', {}, 'After a reset, sign in again on each of your devices.'));
  const forgot = h('a', { id: 'forgot-link', href: '#/login', 'aria-controls': 'forgot-help', 'aria-expanded': 'false' }, 'Forgot password?');
  forgot.addEventListener('click', (ev) => {
    ev.preventDefault();
    help.hidden = !help.hidden;
    forgot.setAttribute('aria-expanded', String(!help.hidden));
  });

  const form = h('form', { id: 'login-form', class: 'stack', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'email' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), password),
    err,
    h('div', { class: 'actions' }, submit, forgot),
    help);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(err, '');
    if (!email.value.trim() || !password.value) {
      showError(err, 'Enter your email and password.');
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const r = await ctx.api.post('/login', { email: email.value.trim(), password: password.value });
      password.value = '';
      ctx.signedIn(r.user, r.csrfToken);
    } catch (e) {
      password.value = '';
      showError(err, e.code === 'rate_limited'
        ? e.message + ' Wait a few minutes before trying again.'
        : e.message);
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });

  root.append(h('section', { id: 'login', class: 'card narrow', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title', tabindex: '-1' }, 'Sign in to appointd'),
    h('p', { class: 'muted' }, 'Manage your online booking and your ServiceTitan connection.'),
    form));
}
