// health.js — what every page of the dashboard shows besides its view: the
// ServiceTitan connection banner (#connection-banner, when the connection
// needs attention or bookings are parked behind it, linking to FMS
// Configuration) and the Bookings counts in the navigation (#nav-count-
// attention, #nav-count-parked), so a booking that needs someone is noticed
// from any page. Both come from GET /api/v1/fms/health, which every role may
// read; the shell (app.js) refreshes them after each view and every
// REFRESH_MS while the tab is visible.
//
// lastHealth() is the last answer ({state, attentionReason, environmentLabel,
// webUrl, webLinks, parkedBookings, needsAttentionBookings}) or null; views read webLinks
// from it to link ServiceTitan records.

import { api } from './api.js';

export const REFRESH_MS = 20000;

let last = null;

export function lastHealth() { return last; }

const $ = (id) => document.getElementById(id);

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function plural(n, one, many) { return `${n} ${n === 1 ? one : many}`; }

function showCounts(h) {
  const attention = (h && h.needsAttentionBookings) || 0;
  const parked = (h && h.parkedBookings) || 0;
  const a = $('nav-count-attention');
  const p = $('nav-count-parked');
  setText(a, attention ? `${plural(attention, 'needs', 'need')} attention` : '');
  a.hidden = !attention;
  setText(p, parked ? `${parked} parked` : '');
  p.hidden = !parked;
}

// The banner: shown while the connection needs attention, and while bookings
// are still parked behind it (they drain by themselves once it works).
function showBanner(h, me) {
  const banner = $('connection-banner');
  const attention = !!h && h.state === 'needs_attention';
  const parked = (h && h.parkedBookings) || 0;
  banner.hidden = !(attention || parked > 0);
  if (banner.hidden) return;
  const waiting = parked
    ? `${plural(parked, 'booking is', 'bookings are')} parked: they wait here and go to ServiceTitan by themselves once the connection works again.`
    : 'New bookings will wait here until the connection works again.';
  setText($('connection-banner-title').lastChild, attention
    ? 'ServiceTitan connection needs attention'
    : 'Parked bookings are waiting for ServiceTitan');
  setText($('connection-banner-text'), attention
    ? `${h.attentionReason || 'ServiceTitan refused the connection.'} ${waiting}`
    : `The connection works again. ${waiting}`);
  const canFix = !!me && (me.permissions || []).includes('manage_integrations');
  setText($('connection-banner-who'), canFix ? '' : 'An owner or admin (someone who may manage integrations) can fix it there.');
}

// Fetches the health and updates the banner and the counts; resolves it (null
// when it could not be read: the page then shows no banner rather than a stale one).
export async function refreshHealth(me) {
  if (!me) { last = null; showBanner(null, null); showCounts(null); return null; }
  try {
    last = await api.get('/fms/health');
  } catch {
    last = null;
  }
  showBanner(last, me);
  showCounts(last);
  return last;
}
