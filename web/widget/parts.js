// parts.js — pieces the steps share: a radio choice card, the contractor's
// phone as a call link, a waiting line, and the API's field messages as a
// person reads them.
import { h } from './dom.js';
import { phoneText } from './format.js';

// A radio card: <label class="choice"><input type=radio> main, then each line of sub (text or list).
export function choice({ name, value, checked = false, disabled = false, main, sub = '', onchange, id }) {
  const input = h('input', { type: 'radio', name, value, id, checked, disabled, onchange });
  const lines = (Array.isArray(sub) ? sub : [sub]).filter(Boolean).map((t) => h('span', { class: 'sub' }, t));
  return h('label', { class: 'choice' }, input, h('span', {}, h('span', { class: 'main' }, main), lines));
}

// "Call us at (214) 555-0100" with a tel: link; null when the scheduler has no phone.
export function callUs(cfg, lead = 'Call us at') {
  if (!cfg || !cfg.phone) return null;
  return h('span', { class: 'call' }, `${lead} `, h('a', { href: `tel:${cfg.phone}` }, phoneText(cfg.phone)), '.');
}

// A spinner with a live text ("Finding open times…").
export function waiting(text) {
  return h('div', { class: 'status', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, text));
}

// "contact.phone: that area code does not exist…" → "That area code does not exist…"
export function fieldMessage(msg) {
  const m = String(msg || '').replace(/^[a-zA-Z_.[\]0-9]+: /, '');
  return m.charAt(0).toUpperCase() + m.slice(1);
}

// The visitor's words for a failure that is not about one field.
export function failureText(e, cfg) {
  const phone = cfg && cfg.phone ? ` or call us at ${phoneText(cfg.phone)}` : '';
  if (e.code === 'network') return `We couldn't reach the booking service. Check your connection and try again${phone}. Nothing you entered is lost.`;
  if (e.status === 429 || e.status === 503) {
    const wait = e.retryAfter ? ` in ${e.retryAfter} second${e.retryAfter === 1 ? '' : 's'}` : ' in a moment';
    return `We're busy right now. Please try again${wait}${phone}.`;
  }
  if (e.code === 'origin_not_allowed') return `This website isn't set up to take bookings yet${phone}.`;
  if (e.code === 'scheduler_not_found') return `Online booking isn't available right now${phone}.`;
  return `Something went wrong (${e.message})${phone}.`;
}
