// dom.js — the widget's DOM helpers. Text goes in through text nodes only, so
// nothing from the API or the visitor can become markup (and no innerHTML:
// ESLint forbids it in web/).

// h('button', {type: 'button', class: 'btn', onclick: fn}, 'Label', child, ...)
// on* → listener; hidden/disabled/checked/value/required → property;
// everything else → attribute (true → ""); false/null/undefined skipped.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (['hidden', 'disabled', 'checked', 'value', 'required'].includes(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

// A labelled input with its hint and its error line, wired for assistive
// technology: aria-describedby names both, aria-invalid follows the error.
// Returns { wrap, input, error(msg) }.
export function field({ id, label, optional = false, hint = '', input }) {
  const errId = `${id}-err`;
  const hintId = hint ? `${id}-hint` : null;
  input.id = id;
  input.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  const err = h('p', { class: 'err', id: errId, 'aria-live': 'polite' });
  const wrap = h('div', { class: 'field' },
    h('label', { for: id }, label, optional ? h('span', { class: 'opt' }, ' (optional)') : null),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    input, err);
  return {
    wrap,
    input,
    error(msg) {
      err.textContent = msg || '';
      if (msg) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}
