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
