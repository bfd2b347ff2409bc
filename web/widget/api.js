// api.js — the widget's calls to appointd's public booking API
// (docs/api.md, "Public booking API"), cross-origin from the contractor's
// page: no cookies, JSON in and out. A failure is an ApiError with the API's
// code, message and field; a network failure (offline, blocked) has code
// "network" and status 0.

export class ApiError extends Error {
  constructor(status, body, retryAfter = 0) {
    const e = (body && body.error) || {};
    super(e.message || `Request failed (HTTP ${status}).`);
    this.status = status;
    this.code = e.code || (status ? `http_${status}` : 'network');
    this.field = e.field || '';
    this.body = body || {};
    this.retryAfter = retryAfter;
  }
}

export function api(base, key) {
  const sched = `${base}/api/v1/schedulers/${encodeURIComponent(key)}`;

  async function call(url, init = {}) {
    let res;
    try {
      res = await fetch(url, { credentials: 'omit', cache: 'no-store', ...init });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError(0, { error: { code: 'network', message: 'network' } });
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, body, Number(res.headers.get('Retry-After')) || 0);
    return body || {};
  }

  return {
    availability({ service, zip, days }, signal) {
      const q = new URLSearchParams({ service, zip, days: String(days) });
      return call(`${sched}/availability?${q}`, { signal });
    },
    // The Idempotency-Key makes a retry of the same booking answer the first one's result.
    book(body, idempotencyKey) {
      return call(`${sched}/bookings`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
        body: JSON.stringify(body),
      });
    },
    status(reference) {
      return call(`${base}/api/v1/bookings/${encodeURIComponent(reference)}`);
    },
    calendarUrl: (reference) => `${base}/api/v1/bookings/${encodeURIComponent(reference)}/calendar.ics`,
    pageUrl: (reference) => `${base}/b/${encodeURIComponent(reference)}`,
  };
}
