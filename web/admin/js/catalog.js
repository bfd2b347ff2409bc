// catalog.js — the account's ServiceTitan catalog for the scheduler screens
// (docs/api.md, "Schedulers and the ServiceTitan catalog"): when it was last
// read from ServiceTitan and what could not be read, the "Refresh from
// ServiceTitan" button (manage_schedulers), and the items a picker offers —
// the active ones, plus the one a scheduler already uses when ServiceTitan
// has since deactivated or deleted it, marked so (the API then refuses it at
// its field, and the admin sees why).
//
// API: GET /catalog, POST /catalog/refresh.

import { h, showError, when } from './dom.js';

export const KIND_WORDS = {
  businessUnits: 'business units', jobTypes: 'job types', campaigns: 'campaigns', arrivalWindows: 'arrival windows',
  zones: 'zones', bookingProviderTags: 'booking provider tags', tagTypes: 'tag types',
};

// The oldest read of any kind (the catalog is as fresh as its stalest part); null: never read.
export function readAt(cat) {
  const times = Object.values((cat && cat.refreshedAt) || {}).filter(Boolean).sort();
  return times.length ? times[0] : null;
}

// "2 h", "1 h 30 min", "45 min" from seconds.
export function duration(s) {
  if (!s) return '';
  const m = Math.round(s / 60);
  const hours = Math.floor(m / 60);
  const min = m % 60;
  return [hours ? `${hours} h` : '', min ? `${min} min` : ''].filter(Boolean).join(' ');
}

function itemState(it) {
  return it.deleted ? 'deleted in ServiceTitan' : it.active === false ? 'inactive in ServiceTitan' : '';
}

// The items of a picker: active ones, plus `current` (an id or ids) whatever its state.
export function pickable(list, current) {
  const keep = new Set([].concat(current ?? []).map(Number));
  return (list || []).filter((it) => (it.active !== false && !it.deleted) || keep.has(Number(it.id)));
}

// An item's label in a picker: "AC Repair (2 h)", "Duct Cleaning — inactive in ServiceTitan".
export function itemLabel(it, extra) {
  const st = itemState(it);
  return `${it.name}${extra ? ` (${extra})` : ''}${st ? ` — ${st}` : ''}`;
}

// <option>s for a <select> of catalog items (first an empty choice when placeholder is given).
export function options(list, current, placeholder, extra) {
  const items = pickable(list, current);
  const cur = current == null ? '' : String(current);
  const out = placeholder != null ? [h('option', { value: '' }, placeholder)] : [];
  for (const it of items) out.push(h('option', { value: String(it.id), selected: String(it.id) === cur }, itemLabel(it, extra ? extra(it) : '')));
  if (cur && !items.some((it) => String(it.id) === cur)) out.push(h('option', { value: cur, selected: true }, `${cur} — not in the catalog`));
  return out;
}

// "Read from ServiceTitan Dec 3, 2026, 11:08 AM CST." plus what could not be read.
export function freshness(cat) {
  const at = readAt(cat);
  const errs = Object.entries((cat && cat.errors) || {});
  return [
    h('p', { id: 'catalog-read-at' }, at ? ['ServiceTitan catalog last read ', when(at), '.']
      : 'The ServiceTitan catalog has not been read yet: connect ServiceTitan, then refresh it.'),
    errs.length ? h('ul', { id: 'catalog-errors', class: 'field-errors' }, errs.map(([k, msg]) => h('li', {}, `Could not read ${KIND_WORDS[k] || k}: ${msg}`))) : null,
  ];
}

// The catalog card: freshness, and for managers the refresh button. onRead(cat)
// gets each new catalog. Returns {el, set(cat)}.
export function catalogCard(ctx, canManage, onRead) {
  const info = h('div', { id: 'catalog-info' });
  const err = h('p', { id: 'catalog-error', class: 'error', role: 'alert', hidden: true });
  const status = h('p', { id: 'catalog-status', class: 'sr-only', role: 'status' });
  const btn = h('button', { id: 'catalog-refresh', type: 'button', class: 'btn btn-secondary' }, 'Refresh from ServiceTitan');
  const set = (cat) => info.replaceChildren(...freshness(cat).filter(Boolean));
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    btn.textContent = 'Reading ServiceTitan…';
    showError(err, '');
    try {
      const cat = await ctx.api.post('/catalog/refresh', {});
      set(cat);
      status.textContent = 'The catalog was read from ServiceTitan.';
      onRead(cat);
    } catch (e) {
      showError(err, e.message);
    } finally {
      btn.disabled = false;
      btn.textContent = 'Refresh from ServiceTitan';
    }
  });
  const el = h('section', { id: 'catalog', class: 'card', 'aria-labelledby': 'catalog-title' },
    h('h2', { id: 'catalog-title' }, 'ServiceTitan catalog'),
    h('p', { class: 'muted' }, 'Business units, job types, campaigns, zones and tags come from ServiceTitan; appointd reads them again by itself from time to time.'),
    info, err, status,
    canManage ? h('div', { class: 'actions' }, btn) : null);
  return { el, set };
}
