// scheduler-form.js — a scheduler's page: #/schedulers/new creates one,
// #/schedulers/:key shows and edits it. The editor (js/scheduler-fields.js)
// holds every setting of the scheduler JSON, its pickers filled from the
// ServiceTitan catalog (js/catalog.js, with "Refresh from ServiceTitan" and
// when it was last read); beside it the live preview, then the embed snippet
// once saved (js/scheduler-preview.js). Saving sends the whole JSON; a
// refusal is shown at the field the API names (js/form-errors.js), focused,
// and summed up in #scheduler-form-error, and nothing is lost from the form.
// Pause / resume for a saved one. Without the "manage schedulers" permission
// the page is read-only (every control disabled, the reason said) but the
// snippet and the preview are there.
//
// API: GET /catalog, GET /schedulers/:key/config, POST /schedulers,
// PUT /schedulers/:key, POST /schedulers/:key/pause|resume, POST /catalog/refresh.

import { h, heading, showError } from './dom.js';
import { catalogCard } from './catalog.js';
import { clearFieldErrors, showFieldError } from './form-errors.js';
import { schedulerFields } from './scheduler-fields.js';
import { preview } from './scheduler-preview.js';
import { MODE_WORDS, canManageSchedulers, pausedBadge } from './schedulers.js';

// A new scheduler starts in the viewer's zone — unless that is UTC (a server, a
// kiosk): homeowners book in a place's zone, so then the middle of the US.
function browserZone() {
  let z = '';
  try { z = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch { /* no Intl zone */ }
  return !z || /^(UTC|GMT|Etc\/)/.test(z) ? 'America/Chicago' : z;
}

export async function render(root, ctx) {
  const key = ctx.params.key || null;
  document.title = `${key ? 'Scheduler' : 'New scheduler'} · appointd`;
  const section = h('section', { id: 'scheduler', class: 'stack', 'aria-labelledby': 'scheduler-title' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/schedulers' }, 'Schedulers'), ' › ', h('span', { id: 'scheduler-crumb' }, key ? 'Scheduler' : 'New scheduler')));
  root.append(section);
  let cat, sched;
  try {
    [cat, sched] = await Promise.all([ctx.api.get('/catalog'), key ? ctx.api.get(`/schedulers/${encodeURIComponent(key)}/config`) : null]);
  } catch (e) {
    section.append(heading(e.status === 404 ? 'Scheduler not found' : 'Scheduler', 'scheduler-title'),
      h('p', { id: 'scheduler-load-error', class: 'error', role: 'alert' }, e.status === 404 ? 'There is no such scheduler in your account.' : e.message),
      h('p', {}, h('a', { href: '#/schedulers' }, 'Back to schedulers')));
    return;
  }
  new SchedulerPage(ctx, section, cat, sched).build();
}

class SchedulerPage {
  constructor(ctx, section, cat, sched) {
    this.ctx = ctx;
    this.section = section;
    this.cat = cat;
    this.sched = sched; // {key, paused, config, …} once saved
    this.canManage = canManageSchedulers(ctx.me);
    this.title = heading('', 'scheduler-title');
    this.formError = h('div', { id: 'scheduler-form-error', class: 'error', role: 'alert', hidden: true });
    this.notice = h('p', { id: 'scheduler-notice', class: 'banner ok', role: 'status', tabindex: '-1', hidden: true });
    this.stateLine = h('p', { id: 'scheduler-state', class: 'state-row' });
  }

  config() {
    return this.sched ? this.sched.config : { timeZone: browserZone(), mode: 'job', serviceArea: { zones: 'servicetitan' } };
  }

  build() {
    const { ctx, canManage } = this;
    this.preview = preview(this.config());
    this.fieldset = h('fieldset', { class: 'plain-fieldset', disabled: !canManage });
    this.fields = this.makeFields(this.config());
    this.save = h('button', { id: 'scheduler-save', type: 'submit', class: 'btn' }, this.sched ? 'Save changes' : 'Create scheduler');
    this.form = h('form', { id: 'scheduler-form', class: 'stack', novalidate: true, 'aria-labelledby': 'scheduler-title' },
      this.fieldset, canManage ? h('div', { class: 'actions' }, this.save, h('a', { href: '#/schedulers' }, 'Back to schedulers')) : null);
    this.form.addEventListener('submit', (ev) => { ev.preventDefault(); this.submit(); });
    const cat = catalogCard(ctx, canManage, (c) => this.catalogRead(c));
    cat.set(this.cat);
    this.toggleBtn = h('button', { id: 'scheduler-toggle', type: 'button', class: 'btn btn-secondary', hidden: true });
    this.toggleBtn.addEventListener('click', () => this.toggle());
    this.section.append(this.title, this.stateLine,
      canManage ? h('div', { class: 'actions' }, this.toggleBtn) : h('p', { id: 'scheduler-readonly', class: 'banner', role: 'note' },
        'You can see this scheduler; changing it needs the “manage schedulers” permission. An owner or admin can grant it under ',
        h('a', { href: '#/settings/users' }, 'Users & permissions'), '.'),
      this.notice, this.formError,
      this.editor = h('div', { class: 'editor' }, h('div', { class: 'editor-main stack' }, cat.el, this.form), h('div', { class: 'editor-side' }, this.preview.el)));
    this.showSaved();
  }

  makeFields(cfg) {
    const f = schedulerFields(this.cat, cfg, () => this.preview.update(f.read()));
    this.fieldset.replaceChildren(f.el);
    return f;
  }

  // A new catalog read while editing: the pickers are rebuilt around what was typed.
  catalogRead(cat) {
    this.cat = cat;
    const now = this.fields.read();
    this.fields = this.makeFields(now);
    this.preview.update(now);
  }

  showSaved() {
    const s = this.sched;
    this.title.textContent = s ? s.config.name : 'New scheduler';
    const crumb = document.getElementById('scheduler-crumb');
    if (crumb) crumb.textContent = this.title.textContent;
    document.title = `${this.title.textContent} · Schedulers · appointd`;
    this.stateLine.replaceChildren(...(s ? [pausedBadge(s.paused, 'scheduler-paused'), ' ',
      h('span', { class: 'muted' }, `${MODE_WORDS[s.config.mode] || s.config.mode} · ${s.bookingsThisWeek || 0} bookings this week · key `),
      h('code', { id: 'scheduler-key' }, s.key)] : [h('span', { class: 'muted' }, 'Set it up, then create it to get the snippet for your website.')]));
    this.toggleBtn.hidden = !s;
    if (this.editor) this.editor.classList.toggle('saved', !!s);
    if (s) {
      this.toggleBtn.textContent = s.paused ? 'Resume taking bookings' : 'Pause online booking';
      this.preview.saved(s.key);
    }
  }

  async submit() {
    const { ctx } = this;
    clearFieldErrors(this.form);
    showError(this.formError, '');
    this.notice.hidden = true;
    const body = this.fields.read();
    this.save.disabled = true;
    const label = this.save.textContent;
    this.save.textContent = 'Saving…';
    try {
      const created = !this.sched;
      this.sched = created ? await ctx.api.post('/schedulers', body)
        : await ctx.api.put(`/schedulers/${encodeURIComponent(this.sched.key)}`, body);
      if (created) history.replaceState(null, '', `#/schedulers/${encodeURIComponent(this.sched.key)}`);
      this.fields = this.makeFields(this.sched.config); // the defaults the API filled in
      this.preview.update(this.sched.config);
      this.save.textContent = 'Save changes';
      this.showSaved();
      this.say(created ? 'Scheduler created. Copy its snippet (under “Put it on your website”) onto your website.' : 'Saved. The widget shows the changes from now on.');
    } catch (e) {
      this.save.textContent = label;
      this.showError(e);
    } finally {
      this.save.disabled = false;
    }
  }

  showError(e) {
    const target = e.field ? showFieldError(this.form, e.field, e.message) : null;
    const where = target ? fieldName(target) : '';
    this.formError.replaceChildren(h('strong', {}, 'Not saved. '), where ? `${where}: ` : '',
      target && e.message.startsWith(e.field + ': ') ? e.message.slice(e.field.length + 2) : e.message);
    this.formError.hidden = false;
    if (target) target.focus();
    else this.formError.scrollIntoView({ block: 'center' });
  }

  async toggle() {
    const s = this.sched;
    const action = s.paused ? 'resume' : 'pause';
    this.toggleBtn.disabled = true;
    try {
      this.sched = await this.ctx.api.post(`/schedulers/${encodeURIComponent(s.key)}/${action}`, {});
      this.showSaved();
      this.say(this.sched.paused ? 'Paused: the widget now tells homeowners that online booking is unavailable.' : 'Resumed: homeowners can book again.', this.toggleBtn);
    } catch (e) {
      this.showError(e);
    } finally {
      this.toggleBtn.disabled = false;
    }
  }

  say(text, keepFocus) {
    this.notice.textContent = text;
    this.notice.hidden = false;
    if (keepFocus) keepFocus.focus();
    else this.notice.focus();
  }
}

// The words a person knows a control by: its label, or its group's legend.
function fieldName(el) {
  const label = el.id ? document.querySelector(`label[for="${CSS.escape(el.id)}"]`) : null;
  const fs = el.closest('fieldset.group');
  const legend = fs ? fs.querySelector(':scope > legend') : null;
  const parts = [legend && legend.textContent, label && label.textContent].filter(Boolean);
  return parts.join(' › ');
}
