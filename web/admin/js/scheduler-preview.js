// scheduler-preview.js — the scheduler editor's right-hand side: a live
// picture of the widget that follows every keystroke (the button in the
// scheduler's colour and label, the services as the first step lists them),
// the real widget of a saved scheduler in a frame (/admin/preview.html loads
// /widget.js there, or says the widget is not installed on this server yet),
// and the embed snippet with a Copy button.
//
// preview(cfg) → {el, update(cfg), saved(key)}: update() redraws the
// picture from the editor's current values, saved(key) shows the snippet and
// the frame for that scheduler (and reloads the frame after each save).

import { h } from './dom.js';
import { DEFAULT_COLOR, DEFAULT_LABEL } from './scheduler-fields.js';

// Relative luminance of #rrggbb (WCAG 2.1).
function luminance(hex) {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

// White or near-black text, whichever reads better on hex (always ≥ 4.5:1).
export function textOn(hex) {
  if (!/^#[0-9a-f]{6}$/i.test(hex || '')) return '#ffffff';
  const l = luminance(hex);
  return (1.05 / (l + 0.05)) >= ((l + 0.05) / (luminance('#111111') + 0.05)) ? '#ffffff' : '#111111';
}

// The tag a contractor pastes into their website (issue 12's one tag).
export function snippet(key) {
  return `<script src="${location.origin}/widget.js" data-scheduler="${key}" async></script>`;
}

function copyBox() {
  const text = h('textarea', { id: 'embed-snippet', readonly: true, rows: '3', spellcheck: 'false', class: 'input-id snippet' });
  const status = h('p', { id: 'embed-copy-status', class: 'muted', role: 'status' });
  const btn = h('button', { id: 'embed-copy', type: 'button', class: 'btn' }, 'Copy snippet');
  btn.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text.value);
      status.textContent = 'Copied. Paste it into your website’s HTML where the “Book online” button should appear.';
    } catch {
      text.focus();
      text.select();
      status.textContent = 'Your browser did not let appointd copy it: the snippet is selected, press Ctrl+C (⌘C on a Mac).';
    }
  });
  const el = h('section', { id: 'embed', class: 'card stack', 'aria-labelledby': 'embed-title', hidden: true },
    h('h2', { id: 'embed-title' }, 'Put it on your website'),
    h('p', {}, 'Paste this one tag into your website’s HTML. It adds a “Book online” button; any element with ',
      h('code', {}, 'data-appointd-open'), ' opens the widget too.'),
    h('div', { class: 'field' }, h('label', { for: 'embed-snippet' }, 'Embed snippet'), text),
    h('div', { class: 'actions' }, btn), status,
    h('p', { class: 'hint' }, 'The website’s address must be listed under “Websites that may show the widget”.'));
  return { el, set: (key) => { text.value = snippet(key); status.textContent = ''; } };
}

function frameBox() {
  const frame = h('iframe', { id: 'widget-frame', title: 'The booking widget, live, as on your website', class: 'widget-frame', loading: 'lazy' });
  const reload = h('button', { id: 'widget-frame-reload', type: 'button', class: 'btn btn-secondary btn-small' }, 'Reload the live widget');
  let src = '';
  reload.addEventListener('click', () => { frame.src = src; });
  const el = h('div', { id: 'widget-live', class: 'stack', hidden: true },
    h('h3', {}, 'The real widget'),
    h('p', { class: 'hint' }, 'Book a test appointment here as a homeowner would: it goes to ServiceTitan like any other.'),
    frame, h('div', { class: 'actions' }, reload));
  return {
    el,
    set: (key) => {
      src = `/admin/preview.html?key=${encodeURIComponent(key)}&t=${Date.now()}`;
      frame.src = src;
      el.hidden = false;
    },
  };
}

export function preview(cfg) {
  const btn = h('span', { id: 'preview-button', class: 'preview-button' });
  const name = h('p', { id: 'preview-name', class: 'preview-name' });
  const list = h('ul', { id: 'preview-services', class: 'preview-services' });
  const picture = h('figure', { id: 'widget-preview', class: 'preview-site' },
    h('figcaption', { class: 'hint' }, 'As homeowners see it: the button on your website, then the first step.'),
    h('div', { class: 'preview-page' }, btn),
    h('div', { class: 'preview-panel' }, name, h('p', { class: 'preview-q' }, 'What can we help with?'), list));
  const copy = copyBox();
  const live = frameBox();
  const update = (c) => {
    const color = (c.branding && c.branding.primaryColor) || DEFAULT_COLOR;
    btn.textContent = (c.branding && c.branding.buttonLabel) || DEFAULT_LABEL;
    // CSSOM custom properties, not a style attribute: the CSP forbids inline styles
    picture.style.setProperty('--preview-bg', color);
    picture.style.setProperty('--preview-fg', textOn(color));
    name.textContent = c.name || 'Your scheduler';
    const services = (c.services || []).filter((s) => s.label);
    list.replaceChildren(...(services.length ? services.map((s) => h('li', {},
      h('span', { class: 'preview-service' }, s.label), s.description ? h('span', { class: 'hint' }, s.description) : null,
      s.question ? h('span', { class: 'hint' }, `Asks: ${s.question}`) : null))
      : [h('li', { class: 'muted' }, 'Add a service to see it here.')]));
  };
  update(cfg);
  const el = h('div', { class: 'stack' },
    h('section', { id: 'preview', class: 'card stack', 'aria-labelledby': 'preview-title' },
      h('h2', { id: 'preview-title' }, 'Preview'), picture, live.el),
    copy.el);
  return {
    el,
    update,
    saved: (key) => { copy.set(key); copy.el.hidden = false; live.set(key); },
  };
}
