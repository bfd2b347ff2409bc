// draft.js — what the visitor has chosen and typed, kept in the host page's
// sessionStorage (this tab only, gone when it closes) so that a mistake, a
// reload or a lost connection loses nothing. One draft per scheduler; it is
// dropped when the visitor closes the confirmation. It also keeps the
// booking attempt's Idempotency-Key with the exact body it was made for: a
// retry of the same booking reuses the key, a changed booking gets a new one.

const VERSION = 1;

export function loadDraft(key) {
  const name = `appointd:draft:${key}`;
  let d = null;
  try { d = JSON.parse(sessionStorage.getItem(name) || 'null'); } catch { d = null; }
  if (!d || d.v !== VERSION) d = fresh();
  return {
    d,
    save() {
      try { sessionStorage.setItem(name, JSON.stringify(d)); } catch { /* not kept */ }
    },
    reset() {
      this.d = d = fresh();
      try { sessionStorage.removeItem(name); } catch { /* nothing kept */ }
    },
  };
}

function fresh() {
  return {
    v: VERSION, open: false, step: 'service', service: '', answer: '', zip: '', day: '', window: null,
    contact: { name: '', phone: '', email: '' },
    address: { street: '', unit: '', city: '', state: '' },
    notes: '', smsConsent: false, attribution: {}, attempt: null, reference: '', taken: null, nextWindows: [],
  };
}

// 128 random bits, hex: an Idempotency-Key (crypto.getRandomValues works on http:// pages too).
export function newKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return `w1-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}
