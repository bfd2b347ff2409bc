// choose.js — the first three steps: the service (and its question), the
// ZIP code (availability starts loading the moment it is a valid ZIP; a ZIP
// outside the area gets a friendly word and the contractor's phone), and the
// day and arrival window (loading state, "no openings in the next N days",
// and after a window was taken meanwhile the next free ones first).
//
// Each renderer takes the shell (app.js) and returns { title, body, next,
// back, onNext, focus? }.
import { h, field } from './dom.js';
import { choice, callUs, waiting, failureText } from './parts.js';
import { dayOf, shortDay, weekday, monthDay, windowText, windowLong, zoneNote } from './format.js';

export const zipValid = (z) => /^\d{5}(-?\d{4})?$/.test(z) || /^[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d$/.test(z);
const zipNorm = (z) => z.trim().toUpperCase();

export function service(s) {
  const d = s.d;
  const err = h('p', { class: 'err', id: 'ap-service-err', 'aria-live': 'polite' });
  const qSlot = h('div');
  let answer = null;
  const showQuestion = () => {
    qSlot.replaceChildren();
    answer = null;
    const sv = s.cfg.services.find((x) => x.id === d.service);
    if (!sv || !sv.question) return;
    const input = h('input', { type: 'text', maxlength: 500, value: d.answer || '', required: !!sv.questionRequired,
      oninput: () => { d.answer = input.value; s.save(); } });
    answer = field({ id: 'ap-answer', label: sv.question, optional: !sv.questionRequired, input });
    qSlot.append(answer.wrap);
  };
  const list = s.cfg.services.map((sv, i) => choice({
    name: 'service', value: sv.id, id: `ap-service-${i}`, checked: d.service === sv.id, main: sv.label, sub: sv.description || '',
    onchange: () => {
      d.service = sv.id;
      d.answer = '';
      d.window = null;
      s.save();
      err.textContent = '';
      showQuestion();
    },
  }));
  const set = h('fieldset', { 'aria-describedby': 'ap-service-err' },
    h('legend', { class: 'sr-only' }, 'Service'), h('div', { class: 'choices' }, list), err);
  showQuestion();
  return {
    title: 'What do you need help with?',
    body: [set, qSlot],
    back: false,
    onNext() {
      const sv = s.cfg.services.find((x) => x.id === d.service);
      if (!sv) {
        err.textContent = 'Choose a service to continue.';
        set.querySelector('input').focus();
        return;
      }
      if (answer && sv.questionRequired && !d.answer.trim()) {
        answer.error('Please answer this question.');
        answer.input.focus();
        return;
      }
      s.go('zip');
    },
  };
}

export function zip(s) {
  const d = s.d;
  const input = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'postal-code', maxlength: 10, value: d.zip || '' });
  const f = field({ id: 'ap-zip', label: 'ZIP code', hint: "We'll check that we serve your area.", input });
  const outside = h('div', { class: 'note', id: 'ap-outside', role: 'alert', hidden: true });
  const status = h('div');
  const showOutside = (z) => {
    outside.replaceChildren(h('p', {}, `Sorry — we don't serve ZIP code ${z} yet.`),
      h('p', {}, callUs(s.cfg, 'Call us at') || 'Please contact us directly.', ' We may still be able to help.'));
    outside.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', 'ap-zip-hint ap-zip-err ap-outside');
  };
  // Availability starts loading as soon as the ZIP is valid (Continue then rarely waits).
  const typed = () => {
    const z = zipNorm(input.value);
    d.zip = z;
    s.save();
    f.error('');
    outside.hidden = true;
    input.removeAttribute('aria-invalid');
    if (zipValid(z)) s.availability(z);
  };
  input.addEventListener('input', typed);
  if (zipValid(d.zip || '')) s.availability(d.zip);
  if (s.outside && s.outside === d.zip) showOutside(d.zip);
  return {
    title: 'Where do you need service?',
    body: [f.wrap, outside, status],
    back: true,
    focus: null,
    async onNext() {
      const z = zipNorm(input.value);
      if (!zipValid(z)) {
        f.error('Enter a 5-digit ZIP code, like 75001.');
        input.focus();
        return;
      }
      s.setBusy(true, 'Checking…');
      status.replaceChildren(waiting('Checking your area…'));
      try {
        await s.availability(z);
        s.outside = '';
        s.setBusy(false);
        s.go('when');
      } catch (e) {
        s.setBusy(false, 'Continue');
        status.replaceChildren();
        if (e.code === 'outside_service_area') {
          s.outside = z;
          showOutside(z);
          input.focus();
        } else if (e.field === 'zip') {
          f.error('Enter a 5-digit ZIP code, like 75001.');
          input.focus();
        } else {
          status.replaceChildren(h('p', { class: 'alert', role: 'alert' }, failureText(e, s.cfg)));
        }
      }
    },
  };
}

// The windows of an availability answer grouped by day: [{day, windows: [...], open: n}].
function byDay(r) {
  const days = new Map();
  for (const w of r.windows || []) {
    const k = dayOf(w.start);
    if (!days.has(k)) days.set(k, { day: k, windows: [], open: 0 });
    const g = days.get(k);
    g.windows.push(w);
    if (w.available) g.open++;
  }
  return [...days.values()];
}

const sameWindow = (a, b) => a && b && a.start === b.start && a.end === b.end;

export function when(s) {
  const d = s.d;
  const slot = h('div', { 'aria-live': 'polite', 'aria-busy': 'true' }, waiting('Finding open times…'));
  const err = h('p', { class: 'err', id: 'ap-window-err', 'aria-live': 'polite' });
  const view = { title: 'Choose a day and arrival window', body: [slot], back: true, next: 'Continue' };
  const days = Math.min(Math.max(s.cfg.rules.horizonDays || 14, 1), 31);

  const taken = d.taken ? h('div', { class: 'alert', role: 'alert', id: 'ap-taken' },
    `Sorry — ${windowLong(d.taken)} was just taken by someone else. Please choose another time.`) : null;

  const pick = (w) => {
    d.window = { start: w.start, end: w.end };
    d.day = dayOf(w.start);
    s.save();
    err.textContent = '';
  };

  function windowsOf(g) {
    return h('fieldset', { id: 'ap-windows', 'aria-describedby': 'ap-window-err' },
      h('legend', {}, `Arrival windows on ${shortDay(g.day)}`),
      h('div', { class: 'choices' }, g.windows.map((w, i) => choice({
        name: 'window', value: w.start, id: `ap-window-${i}`, checked: sameWindow(d.window, w), disabled: !w.available,
        main: windowText(w), sub: w.available ? 'Arrival window' : 'Full',
        onchange: () => pick(w),
      }))), err);
  }

  function show(r) {
    if (!slot.isConnected) return; // the visitor has moved on meanwhile
    slot.setAttribute('aria-busy', 'false');
    const groups = byDay(r);
    const openDays = groups.filter((g) => g.open > 0);
    if (!openDays.length) {
      s.setNext(null);
      slot.replaceChildren(h('div', { class: 'note', id: 'ap-no-openings' },
        h('p', {}, `No openings in the next ${days} days.`),
        h('p', {}, callUs(s.cfg, "Call us at") || 'Please contact us directly.', " We'll find a time that works.")));
      return;
    }
    if (!d.day || !openDays.some((g) => g.day === d.day)) d.day = openDays[0].day;
    const winSlot = h('div');
    const showDay = () => winSlot.replaceChildren(windowsOf(groups.find((g) => g.day === d.day)));
    const dayList = h('fieldset', {},
      h('legend', {}, 'Day'),
      h('div', { class: 'choices days' }, groups.map((g, i) => choice({
        name: 'day', value: g.day, id: `ap-day-${i}`, checked: g.day === d.day, disabled: g.open === 0,
        main: weekday(g.day), sub: [monthDay(g.day), g.open === 0 ? 'Full' : `${g.open} open`],
        onchange: () => { d.day = g.day; s.save(); showDay(); },
      }))));
    const nextFree = (d.nextWindows || []).filter((w) => w.available !== false);
    const quick = taken && nextFree.length ? h('fieldset', { id: 'ap-next-windows' },
      h('legend', {}, 'Next open times'),
      h('div', { class: 'choices' }, nextFree.map((w, i) => choice({
        name: 'quick', value: w.start, id: `ap-quick-${i}`, checked: sameWindow(d.window, w), main: windowLong(w),
        onchange: () => { pick(w); showDay(); },
      })))) : null;
    const zone = zoneNote(r.timeZone, (openDays[0].windows[0] || {}).start);
    showDay();
    slot.replaceChildren(...[quick, dayList, winSlot, zone ? h('p', { class: 'hint' }, zone) : null].filter(Boolean));
    // the chosen day in sight in the sideways strip
    const strip = dayList.querySelector('.days');
    const picked = strip.querySelector('input:checked');
    if (picked) strip.scrollLeft = Math.max(0, picked.closest('label').offsetLeft - strip.offsetLeft - 8);
  }

  function failed(e) {
    if (!slot.isConnected) return;
    slot.setAttribute('aria-busy', 'false');
    if (e.code === 'outside_service_area') {
      s.outside = d.zip;
      s.go('zip');
      return;
    }
    slot.replaceChildren(h('p', { class: 'alert', role: 'alert' }, failureText(e, s.cfg)),
      h('button', { type: 'button', class: 'btn secondary', id: 'ap-retry-times',
        onclick: () => { s.forgetAvailability(); s.render(); } }, 'Try again'));
  }

  const fresh = !!d.taken;
  s.availability(d.zip, { fresh }).then(show, failed);
  if (taken) view.body.unshift(taken);

  view.onNext = () => {
    if (!d.window) {
      err.textContent = 'Choose an arrival window to continue.';
      const first = slot.querySelector('input[name=window]:not(:disabled), input[name=quick]');
      if (first) first.focus();
      return;
    }
    d.taken = null;
    d.nextWindows = [];
    s.save();
    s.go('contact');
  };
  return view;
}
