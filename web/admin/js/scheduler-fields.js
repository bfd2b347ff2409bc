// scheduler-fields.js — the scheduler editor's inputs, one builder per part
// of the scheduler JSON (docs/api.md, "The scheduler JSON"): basics (name,
// time zone, mode, phone, allowed websites), services (rows with the job type
// and business unit picked from the ServiceTitan catalog, priority, summary,
// question), where and when (service area, capacity, rules), attribution
// (default campaign, campaign rules, tags, booking provider tag) and the
// widget's look. schedulerFields(cat, cfg, onChange) builds them filled from
// cfg and returns {el, read}: read() gives the JSON to send. Every control
// carries its API path (js/form-errors.js), so an API refusal lands on it.
// Values are sent as typed (a number box with letters sends the letters): the
// API is the one validator and says what to fix.

import { h } from './dom.js';
import { duration, options, pickable } from './catalog.js';
import { field, group, setPath } from './form-errors.js';

const PRIORITIES = ['Low', 'Normal', 'High', 'Urgent'];
const MATCH_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'gclid', 'fbclid', 'campaign'];
const COMMON_ZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Phoenix', 'America/Los_Angeles',
  'America/Anchorage', 'Pacific/Honolulu', 'America/Halifax', 'America/Toronto', 'America/Winnipeg', 'America/Edmonton',
  'America/Vancouver', 'America/Regina', 'America/St_Johns'];
export const DEFAULT_COLOR = '#0b5fff';
export const DEFAULT_LABEL = 'Book online';

let rowSeq = 0;
const lines = (text) => text.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean);
// A number box's value: a number when it is one, the text as typed otherwise, undefined when empty.
function num(input) {
  const v = input.value.trim();
  if (v === '') return undefined;
  return /^-?\d+$/.test(v) ? Number(v) : v;
}
const idOf = (sel) => (sel.value === '' ? undefined : num(sel));
const slug = (s) => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);

function zoneSelect(current) {
  // places' zones only (UTC is no place a homeowner lives in)
  const all = (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : COMMON_ZONES)
    .filter((z) => z.includes('/') && !z.startsWith('Etc/'));
  const opt = (z) => h('option', { value: z, selected: z === current }, z.replace(/_/g, ' '));
  const common = COMMON_ZONES.filter((z) => all.includes(z));
  const extra = current && !all.includes(current) ? [opt(current)] : [];
  return h('select', { name: 'timeZone' }, extra,
    h('optgroup', { label: 'United States and Canada' }, common.map(opt)),
    h('optgroup', { label: 'Every time zone' }, all.filter((z) => !common.includes(z)).map(opt)));
}

function radios(name, current, choices) {
  return choices.map(([value, label, hint]) => {
    const id = `${name}-${value}`;
    return h('div', { class: 'choice' },
      h('input', { type: 'radio', id, name, value, checked: value === current }),
      h('label', { for: id }, label), hint ? h('p', { class: 'hint' }, hint) : null);
  });
}

// ---- basics ----------------------------------------------------------------------

function basics(cfg, ui) {
  ui.name = h('input', { type: 'text', name: 'name', value: cfg.name || '', maxlength: '100', autocomplete: 'off' });
  ui.timeZone = zoneSelect(cfg.timeZone);
  ui.phone = h('input', { type: 'tel', name: 'phone', value: cfg.phone || '', autocomplete: 'off' });
  ui.origins = h('textarea', { name: 'allowedOrigins', rows: '3', spellcheck: 'false' });
  ui.origins.value = (cfg.allowedOrigins || []).join('\n');
  ui.mode = group('What a booking becomes in ServiceTitan', 'mode', ...radios('sched-mode', cfg.mode || 'job', [
    ['job', 'A job with its appointment', 'Booked straight onto the dispatch board.'],
    ['booking', 'A booking request for your CSRs', 'It waits in ServiceTitan’s Bookings for a CSR to review.']]));
  return h('section', { class: 'card stack', 'aria-labelledby': 'sf-basics' },
    h('h2', { id: 'sf-basics' }, 'Basics'),
    field('Name', ui.name, { path: 'name', hint: 'Homeowners see it, e.g. “Main website”.' }),
    field('Time zone', ui.timeZone, { path: 'timeZone', hint: 'Arrival windows are shown to homeowners in this zone.' }),
    ui.mode,
    field('Your phone number', ui.phone, { path: 'phone', hint: 'Shown when online booking can’t help (e.g. outside your service area).' }),
    field('Websites that may show the widget', ui.origins, { path: 'allowedOrigins', hint: 'One per line, like https://www.example.com (no path).' }));
}

// ---- services --------------------------------------------------------------------------

function buRows(cat, jt, current) {
  const ids = jt && jt.businessUnitIds && jt.businessUnitIds.length ? new Set(jt.businessUnitIds.map(Number)) : null;
  const list = (cat.businessUnits || []).filter((b) => !ids || ids.has(Number(b.id)) || String(b.id) === String(current));
  return options(list, current ?? (ids && ids.size === 1 ? [...ids][0] : null), 'Choose a business unit');
}

function serviceRow(cat, s, isNew) {
  const jobTypes = cat.jobTypes || [];
  const r = {};
  r.label = h('input', { type: 'text', value: s.label || '', maxlength: '100' });
  r.id = h('input', { type: 'text', value: s.id || '', maxlength: '40', spellcheck: 'false', autocapitalize: 'off', class: 'input-id' });
  r.description = h('input', { type: 'text', value: s.description || '', maxlength: '300' });
  r.jobTypeId = h('select', {}, options(jobTypes, s.jobTypeId, 'Choose a job type', (j) => duration(j.duration)));
  const jt = () => jobTypes.find((j) => String(j.id) === r.jobTypeId.value);
  r.businessUnitId = h('select', {}, buRows(cat, jt(), s.businessUnitId));
  r.priority = h('select', {}, PRIORITIES.map((p) => h('option', { value: p, selected: p === (s.priority || 'Normal') }, p)));
  r.summary = h('input', { type: 'text', value: s.summary || '', maxlength: '500' });
  r.question = h('input', { type: 'text', value: s.question || '', maxlength: '200' });
  r.questionRequired = h('input', { type: 'checkbox', checked: !!s.questionRequired });
  let idTouched = !isNew || !!s.id;
  r.id.addEventListener('input', () => { idTouched = true; });
  r.label.addEventListener('input', () => { if (!idTouched) r.id.value = slug(r.label.value); });
  r.jobTypeId.addEventListener('change', () => {
    const before = r.businessUnitId.value;
    r.businessUnitId.replaceChildren(...buRows(cat, jt(), null));
    if ([...r.businessUnitId.options].some((o) => o.value === before)) r.businessUnitId.value = before;
  });
  r.remove = h('button', { type: 'button', class: 'btn btn-danger btn-small' }, 'Remove this service');
  r.legend = h('legend', {});
  r.qrId = `question-required-${++rowSeq}`;
  r.questionRequired.id = r.qrId;
  r.el = h('fieldset', { class: 'group service-row' }, r.legend,
    h('div', { class: 'grid-2' },
      field('Name homeowners see', r.label, {}),
      field('ID', r.id, { hint: 'a–z, 0–9 and dashes; used in links to this service.' }),
      field('Job type in ServiceTitan', r.jobTypeId, { hint: 'With its duration in ServiceTitan.' }),
      field('Business unit', r.businessUnitId, {}),
      field('Priority', r.priority, {}),
      field('Description (optional)', r.description, {})),
    field('Job summary in ServiceTitan (optional)', r.summary, { hint: 'Placeholders: {{service}}, {{name}}, {{notes}}, {{answers}}, {{window}}.' }),
    field('A question to ask (optional)', r.question, {}),
    h('div', { class: 'choice' }, r.questionRequired, h('label', { for: r.qrId }, 'An answer is required')),
    h('div', { class: 'actions' }, r.remove),
    h('p', { class: 'error field-error', hidden: true }));
  r.read = () => {
    const out = { id: r.id.value.trim(), label: r.label.value.trim(), jobTypeId: idOf(r.jobTypeId), businessUnitId: idOf(r.businessUnitId), priority: r.priority.value };
    for (const k of ['description', 'summary', 'question']) if (r[k].value.trim()) out[k] = r[k].value.trim();
    if (out.question) out.questionRequired = r.questionRequired.checked;
    for (const k of Object.keys(out)) if (out[k] === undefined || out[k] === '') delete out[k];
    return out;
  };
  return r;
}

// The rows' legends ("Service 2"), paths (services[1].jobTypeId) and remove buttons follow their order.
function renumber(rows, prefix, word) {
  rows.forEach((r, i) => {
    r.legend.textContent = `${word} ${i + 1}`;
    setPath(r.el, `${prefix}[${i}]`);
    for (const k of Object.keys(r)) if (r[k] instanceof HTMLElement && r[k].closest('.field') && k !== 'el') setPath(r[k], `${prefix}[${i}].${k}`);
    const errLine = r.el.querySelector(':scope > .field-error');
    if (errLine && !errLine.id) errLine.id = `${prefix}-err-${++rowSeq}`;
    if (errLine) r.el.setAttribute('aria-describedby', errLine.id);
    if (r.remove) r.remove.hidden = rows.length === 1 && prefix === 'services';
  });
}

function services(cat, cfg, ui, onChange) {
  const list = h('div', { class: 'stack' });
  ui.services = [];
  const add = (s, isNew) => {
    const r = serviceRow(cat, s, isNew);
    r.remove.addEventListener('click', () => {
      const i = ui.services.indexOf(r);
      ui.services.splice(i, 1);
      r.el.remove();
      renumber(ui.services, 'services', 'Service');
      onChange();
      (ui.services[Math.max(0, i - 1)] || {}).label?.focus();
    });
    ui.services.push(r);
    list.append(r.el);
    renumber(ui.services, 'services', 'Service');
    return r;
  };
  for (const s of cfg.services && cfg.services.length ? cfg.services : [{}]) add(s, !cfg.services || !cfg.services.length);
  const addBtn = h('button', { type: 'button', id: 'service-add', class: 'btn btn-secondary' }, 'Add a service');
  addBtn.addEventListener('click', () => { add({}, true).label.focus(); onChange(); });
  const sec = h('section', { class: 'card stack', 'aria-labelledby': 'sf-services' },
    h('h2', { id: 'sf-services' }, 'Services'),
    h('p', { class: 'muted' }, 'What homeowners can book, each mapped to a job type and business unit of your ServiceTitan catalog.'),
    list, h('div', { class: 'actions' }, addBtn), h('p', { class: 'error field-error', id: 'services-err', hidden: true }));
  sec.dataset.field = 'services';
  sec.setAttribute('aria-describedby', 'services-err');
  return sec;
}

// ---- where and when ------------------------------------------------------------------

function whereWhen(cat, cfg, ui) {
  const area = cfg.serviceArea || { zones: 'servicetitan' };
  const zones = pickable(cat.zones, []);
  ui.zips = h('textarea', { rows: '3', spellcheck: 'false' });
  ui.zips.value = (area.zips || []).join('\n');
  ui.area = group('Where you take bookings', 'serviceArea', ...radios('sched-area', area.zips ? 'zips' : 'zones', [
    ['zones', 'The ZIP codes of your ServiceTitan zones', zones.length ? zones.map((z) => `${z.name} (${(z.zips || []).length} ZIP codes)`).join(', ') : 'ServiceTitan has no zones for this account yet.'],
    ['zips', 'These ZIP codes']]), field('ZIP or postal codes', ui.zips, { path: 'serviceArea.zips', hint: 'One per line or separated by commas.' }));
  const cap = cfg.capacity && typeof cfg.capacity === 'object' ? cfg.capacity : null;
  ui.perWindow = h('input', { type: 'text', inputmode: 'numeric', value: cap ? String(cap.perWindow ?? '') : '2', class: 'input-num' });
  ui.capacity = group('How many bookings a window takes', 'capacity', ...radios('sched-capacity', cap ? 'local' : 'servicetitan', [
    ['servicetitan', 'What ServiceTitan’s dispatch capacity allows', 'Your technicians’ shifts minus the work already booked.'],
    ['local', 'A fixed number per arrival window', 'Counted by appointd, per ServiceTitan arrival window.']]),
  field('Bookings per arrival window', ui.perWindow, { path: 'capacity.perWindow' }));
  const rules = cfg.rules || {};
  const n = (k, v) => h('input', { type: 'text', inputmode: 'numeric', value: String(rules[k] ?? v), class: 'input-num' });
  ui.minNotice = n('minNoticeMinutes', 120);
  ui.horizon = n('horizonDays', 14);
  ui.closeBefore = n('closeBeforeStartMinutes', 0);
  ui.blackout = h('textarea', { rows: '2', spellcheck: 'false' });
  ui.blackout.value = (rules.blackoutDates || []).join('\n');
  return h('section', { class: 'card stack', 'aria-labelledby': 'sf-where' },
    h('h2', { id: 'sf-where' }, 'Where and when'),
    ui.area, ui.capacity,
    h('div', { class: 'grid-2' },
      field('Minimum notice (minutes)', ui.minNotice, { path: 'rules.minNoticeMinutes', hint: 'How soon a window may be booked: 120 = two hours ahead.' }),
      field('Days ahead homeowners can book', ui.horizon, { path: 'rules.horizonDays', hint: '1 to 90.' }),
      field('Close a window before it starts (minutes)', ui.closeBefore, { path: 'rules.closeBeforeStartMinutes' })),
    field('Days without online booking', ui.blackout, { path: 'rules.blackoutDates', hint: 'Dates like 2026-12-25, one per line.' }));
}

// ---- attribution -----------------------------------------------------------------------

function condRow(key, value) {
  const k = h('select', { 'aria-label': 'Page parameter' }, MATCH_KEYS.map((m) => h('option', { value: m, selected: m === key }, m)));
  const v = h('input', { type: 'text', value: value || '', 'aria-label': 'Its value', placeholder: 'value, or * for any', class: 'input-id' });
  const rm = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Remove condition');
  const el = h('div', { class: 'cond-row' }, k, h('span', { 'aria-hidden': 'true' }, ' = '), v, rm);
  return { el, rm, read: () => [k.value, v.value.trim()] };
}

function ruleRow(cat, rule) {
  const r = { conds: [] };
  r.campaignId = h('select', {}, options(cat.campaigns, rule.campaignId, 'Choose a campaign'));
  r.match = h('div', { class: 'stack conds', role: 'group', 'aria-label': 'Conditions, all of which must hold' });
  const addCond = (k, v) => {
    const c = condRow(k, v);
    c.rm.addEventListener('click', () => { r.conds.splice(r.conds.indexOf(c), 1); c.el.remove(); });
    r.conds.push(c);
    r.match.append(c.el);
    return c;
  };
  const m = Object.entries(rule.match || {});
  for (const [k, v] of m.length ? m : [['utm_source', '']]) addCond(k, v);
  const more = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Add a condition');
  more.addEventListener('click', () => addCond('utm_medium', '').el.querySelector('select').focus());
  r.remove = h('button', { type: 'button', class: 'btn btn-danger btn-small' }, 'Remove this rule');
  r.legend = h('legend', {});
  r.el = h('fieldset', { class: 'group rule-row' }, r.legend, h('p', { class: 'hint' }, 'When the page that opened the widget has all of:'),
    r.match, h('div', { class: 'actions' }, more), field('Credit the booking to campaign', r.campaignId, {}),
    h('div', { class: 'actions' }, r.remove), h('p', { class: 'error field-error', hidden: true }));
  // r.match's errors (campaignRules[0].match.gclid) go to the row's own line
  r.read = () => ({ match: Object.fromEntries(r.conds.map((c) => c.read())), campaignId: idOf(r.campaignId) });
  return r;
}

function attribution(cat, cfg, ui) {
  const def = cfg.campaignId ?? ((cat.campaigns || []).find((c) => c.isDefaultCampaign && c.active !== false) || {}).id;
  ui.campaignId = h('select', {}, options(cat.campaigns, def, 'Choose a campaign'));
  const rulesBox = h('div', { class: 'stack' });
  ui.rules = [];
  const addRule = (rule) => {
    const r = ruleRow(cat, rule);
    r.remove.addEventListener('click', () => {
      ui.rules.splice(ui.rules.indexOf(r), 1);
      r.el.remove();
      renumber(ui.rules, 'campaignRules', 'Rule');
      addBtn.focus();
    });
    ui.rules.push(r);
    rulesBox.append(r.el);
    renumber(ui.rules, 'campaignRules', 'Rule');
    return r;
  };
  const addBtn = h('button', { type: 'button', id: 'rule-add', class: 'btn btn-secondary' }, 'Add a campaign rule');
  addBtn.addEventListener('click', () => addRule({}).el.querySelector('select, input').focus());
  for (const rule of cfg.campaignRules || []) addRule(rule);
  const tags = pickable(cat.tagTypes, cfg.tagTypeIds || []);
  const chosen = new Set((cfg.tagTypeIds || []).map(String));
  ui.tags = tags.map((t) => h('input', { type: 'checkbox', id: `tag-${t.id}`, value: String(t.id), checked: chosen.has(String(t.id)) }));
  const tagGroup = group('Tags put on the job', 'tagTypeIds', tags.length
    ? h('div', { class: 'choices' }, tags.map((t, i) => h('div', { class: 'choice' }, ui.tags[i], h('label', { for: `tag-${t.id}` }, t.name))))
    : h('p', { class: 'muted' }, 'Your ServiceTitan catalog has no tag types.'));
  ui.providerTag = h('select', {}, options(cat.bookingProviderTags, cfg.bookingProviderTagId, 'The tag chosen when the connection was allowed'));
  return h('section', { class: 'card stack', 'aria-labelledby': 'sf-attr' },
    h('h2', { id: 'sf-attr' }, 'Marketing attribution'),
    field('Campaign of a booking no rule matches', ui.campaignId, { path: 'campaignId' }),
    h('div', { class: 'stack', 'data-field': 'campaignRules', 'aria-describedby': 'campaign-rules-err' }, h('h3', {}, 'Campaign rules'),
      h('p', { class: 'muted' }, 'The first rule that matches the page’s utm_ parameters, click ids (gclid, fbclid) or campaign wins.'),
      rulesBox, h('div', { class: 'actions' }, addBtn), h('p', { class: 'error field-error', id: 'campaign-rules-err', hidden: true })),
    tagGroup,
    field('Booking provider tag', ui.providerTag, { path: 'bookingProviderTagId', hint: 'Which source ServiceTitan shows for booking requests.' }));
}

// ---- the widget's look ---------------------------------------------------------------

function look(cfg, ui) {
  const b = cfg.branding || {};
  ui.color = h('input', { type: 'color', value: /^#[0-9a-f]{6}$/i.test(b.primaryColor || '') ? b.primaryColor : DEFAULT_COLOR, class: 'input-color' });
  ui.buttonLabel = h('input', { type: 'text', value: b.buttonLabel || DEFAULT_LABEL, maxlength: '40' });
  return h('section', { class: 'card stack', 'aria-labelledby': 'sf-look' },
    h('h2', { id: 'sf-look' }, 'The widget’s look'),
    h('div', { class: 'grid-2' },
      field('Button colour', ui.color, { path: 'branding.primaryColor' }),
      field('Button label', ui.buttonLabel, { path: 'branding.buttonLabel' })));
}

const checked = (name, root) => (root.querySelector(`input[name="${name}"]:checked`) || {}).value;

// The editor's parts for catalog cat, filled from cfg; onChange() after any edit.
export function schedulerFields(cat, cfg, onChange) {
  const ui = {};
  const el = h('div', { class: 'stack' }, basics(cfg, ui), services(cat, cfg, ui, onChange), whereWhen(cat, cfg, ui),
    attribution(cat, cfg, ui), look(cfg, ui));
  el.addEventListener('input', onChange);
  el.addEventListener('change', onChange);
  const read = () => {
    const out = {
      name: ui.name.value.trim(), timeZone: ui.timeZone.value, mode: checked('sched-mode', el) || 'job',
      allowedOrigins: lines(ui.origins.value), services: ui.services.map((r) => r.read()),
      rules: { minNoticeMinutes: num(ui.minNotice), horizonDays: num(ui.horizon), closeBeforeStartMinutes: num(ui.closeBefore), blackoutDates: lines(ui.blackout.value) },
      serviceArea: checked('sched-area', el) === 'zips' ? { zips: lines(ui.zips.value) } : { zones: 'servicetitan' },
      capacity: checked('sched-capacity', el) === 'local' ? { mode: 'local', perWindow: num(ui.perWindow) } : 'servicetitan',
      campaignId: idOf(ui.campaignId), campaignRules: ui.rules.map((r) => r.read()),
      tagTypeIds: ui.tags.filter((t) => t.checked).map((t) => Number(t.value)),
      branding: { primaryColor: ui.color.value, buttonLabel: ui.buttonLabel.value.trim() },
    };
    for (const k of Object.keys(out.rules)) if (out.rules[k] === undefined) delete out.rules[k];
    if (ui.phone.value.trim()) out.phone = ui.phone.value.trim();
    const tag = idOf(ui.providerTag);
    if (tag !== undefined) out.bookingProviderTagId = tag;
    if (out.campaignId === undefined) delete out.campaignId;
    return out;
  };
  return { el, read };
}
