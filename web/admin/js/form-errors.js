// form-errors.js — labelled form controls whose API errors show at the right
// place. The API names the input it refuses with a path
// ({"error":{"field":"services[1].jobTypeId","message":"services[1].jobTypeId:
// job type 123 (Duct Cleaning) is inactive in ServiceTitan"}}); every control
// (or group) carries that path in data-field, and showFieldError() finds the
// control with the longest path the error's path starts with
// ("serviceArea.zips[3]" → the ZIP codes box), marks it aria-invalid, puts
// the message (without its path) in the error line tied to it by
// aria-describedby, and returns it to focus. Dynamic rows renumber their
// controls' paths (setPath) so an error always lands on the row it names.

import { h } from './dom.js';

let seq = 0;
const uid = (p) => `${p}-${++seq}`;

// A labelled control: <div class="field"><label>…</label>control<p hint><p error></div>.
// attrs.path (the API's field) goes to data-field; attrs.hint adds a hint line.
export function field(label, control, { path, hint, cls } = {}) {
  if (!control.id) control.id = uid('f');
  if (path) control.dataset.field = path;
  const hintEl = hint ? h('p', { class: 'hint', id: uid('hint') }, hint) : null;
  const err = h('p', { class: 'error field-error', id: uid('err'), hidden: true });
  control.setAttribute('aria-describedby', [hintEl && hintEl.id, err.id].filter(Boolean).join(' '));
  return h('div', { class: `field${cls ? ' ' + cls : ''}` }, h('label', { for: control.id }, label), control, hintEl, err);
}

// A group of controls (radios, checkboxes, a row): <fieldset data-field><legend>.
export function group(legend, path, ...children) {
  const err = h('p', { class: 'error field-error', id: uid('err'), hidden: true });
  const fs = h('fieldset', { class: 'group', 'aria-describedby': err.id }, h('legend', {}, legend), ...children, err);
  if (path) fs.dataset.field = path;
  return fs;
}

// Sets the API path of a control (dynamic rows, after a row was added or removed).
export function setPath(el, path) { el.dataset.field = path; }

function errorLineOf(el) {
  const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/);
  for (const id of ids) {
    const p = id && document.getElementById(id);
    if (p && p.classList.contains('field-error')) return p;
  }
  return null;
}

export function clearFieldErrors(root) {
  for (const p of root.querySelectorAll('.field-error')) { p.textContent = ''; p.hidden = true; }
  for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

// The control of root whose data-field is the longest prefix of path; null when none.
export function controlFor(root, path) {
  let best = null;
  for (const el of root.querySelectorAll('[data-field]')) {
    const d = el.dataset.field;
    const hit = path === d || path.startsWith(d + '.') || path.startsWith(d + '[');
    if (hit && (!best || d.length > best.dataset.field.length)) best = el;
  }
  return best;
}

// Shows message at the control path names (see the header); returns the element
// to focus (the control, or a group's first control), or null when nothing matched.
export function showFieldError(root, path, message) {
  const el = path ? controlFor(root, path) : null;
  if (!el) return null;
  const text = message.startsWith(path + ': ') ? message.slice(path.length + 2) : message;
  const line = errorLineOf(el);
  if (line) { line.textContent = text; line.hidden = false; }
  if (['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)) {
    el.setAttribute('aria-invalid', 'true');
    return el;
  }
  // a group: its controls are marked, not the group itself; the first one gets focus
  if (el.tagName === 'FIELDSET') for (const c of el.querySelectorAll('input, select, textarea')) if (c.type !== 'checkbox' && c.type !== 'radio') c.setAttribute('aria-invalid', 'true');
  return el.querySelector('input:not([type=hidden]), select, textarea, button');
}
