// dom.js — tiny DOM helpers shared by the views (no framework, no innerHTML
// with data: text goes in through textContent so API strings cannot inject
// markup, and the CSP forbids inline script/style anyway).

// h('button', {id: 'x', type: 'button', onclick: fn}, 'Label', childNode, ...)
// Attributes: on* → event listener; class/for/aria-*/data-* → setAttribute;
// hidden/disabled/checked/value → property; false/null values are skipped.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'hidden' || k === 'disabled' || k === 'checked' || k === 'value') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// The view's h1: focus target after navigation (tabindex=-1, per the DOM contract).
export function heading(text, id) {
  return h('h1', { id, tabindex: '-1', class: 'view-title' }, text);
}

// Shows msg in el (an element with role=alert), or hides it when msg is empty.
export function showError(el, msg) {
  if (!el) return;
  el.textContent = msg || '';
  el.hidden = !msg;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

// API times are RFC 3339 UTC; people read them in their own zone, named:
// "Dec 3, 2026, 9:14 AM CST" (the browser's locale and time zone).
const TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
});

// A <time datetime="ISO"> showing iso in the viewer's zone; '—' when absent,
// the text as sent when it is not a date.
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  return h('time', { datetime: iso }, TIME_FORMAT.format(d));
}
