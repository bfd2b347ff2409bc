// format.js — dates, arrival windows and phone numbers as homeowners read
// them. Windows come from the API as "2026-03-08T08:00:00-05:00": already
// the scheduler's wall time, so day and clock are read from the text itself
// and never shifted into the visitor's zone; the zone is named when the
// visitor's differs. Shared by the widget and the confirmation page (/b/).

const DAY = new Intl.DateTimeFormat('en-US', { weekday: 'short', month: 'short', day: 'numeric', timeZone: 'UTC' });
const LONG_DAY = new Intl.DateTimeFormat('en-US', { weekday: 'long', month: 'long', day: 'numeric', timeZone: 'UTC' });

// "2026-03-08" → a Date at that day's UTC midnight (for naming the day only).
const dayDate = (ymd) => new Date(Date.UTC(+ymd.slice(0, 4), +ymd.slice(5, 7) - 1, +ymd.slice(8, 10)));

export const dayOf = (iso) => iso.slice(0, 10);
export const shortDay = (ymd) => DAY.format(dayDate(ymd)); // "Sun, Mar 8"
export const longDay = (ymd) => LONG_DAY.format(dayDate(ymd)); // "Sunday, March 8"
const WEEKDAY = new Intl.DateTimeFormat('en-US', { weekday: 'short', timeZone: 'UTC' });
const MONTH_DAY = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
export const weekday = (ymd) => WEEKDAY.format(dayDate(ymd)); // "Sun"
export const monthDay = (ymd) => MONTH_DAY.format(dayDate(ymd)); // "Mar 8"

// "08:00" → "8:00 AM"; withPeriod false drops " AM"/" PM".
function clock(hhmm, withPeriod = true) {
  let h = +hhmm.slice(0, 2);
  const m = hhmm.slice(3, 5);
  const pm = h >= 12;
  h = h % 12 || 12;
  return `${h}:${m}${withPeriod ? (pm ? ' PM' : ' AM') : ''}`;
}

// "8:00 – 10:00 AM", "11:00 AM – 1:00 PM"
export function windowText(w) {
  const a = w.start.slice(11, 16);
  const b = w.end.slice(11, 16);
  const samePeriod = (+a.slice(0, 2) >= 12) === (+b.slice(0, 2) >= 12);
  return `${clock(a, !samePeriod)} – ${clock(b)}`;
}

// "Sunday, March 8, 8:00 – 10:00 AM"
export const windowLong = (w) => `${longDay(dayOf(w.start))}, ${windowText(w)}`;

// The zone's name ("Central Daylight Time") at the window's instant, when the visitor's zone
// differs from the scheduler's; '' when they are the same.
export function zoneNote(timeZone, iso) {
  try {
    const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!timeZone || mine === timeZone) return '';
    const parts = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'long' }).formatToParts(new Date(iso));
    const name = (parts.find((p) => p.type === 'timeZoneName') || {}).value || timeZone;
    return `Times are ${name} (${timeZone.replace(/_/g, ' ')}).`;
  } catch {
    return '';
  }
}

// "+12145550100" → "(214) 555-0100"; other numbers as stored.
export function phoneText(e164) {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164 || '');
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : e164 || '';
}
