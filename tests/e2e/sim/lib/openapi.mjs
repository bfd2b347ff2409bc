// openapi.mjs — validates stsim's response bodies against ServiceTitan's own
// OpenAPI 3.0 specs, and records which (operation, status) pairs were seen.
//
// The specs live outside the repository, in ../shared/servicetitan-openapi/
// beside the checkout (they are ServiceTitan's documents and are never copied
// into the project). SPEC_DIR can be overridden with STSIM_OPENAPI_DIR.
//
//   const v = validator();            // null when the specs are absent (see specsSkip)
//   v.check('GET', '/crm/v2/tenant/1/customers/5', 200, body, contentType);
//        → { ok, errors, key } ; key = 'crm GET /tenant/{tenant}/customers/{id} 200'
//   coverage()                          → Map key → count, for this process
//
// OpenAPI 3.0 specifics handled here, before ajv sees the schemas:
//   * nullable: true → type: [t, 'null'] (plus null in enum), or
//     anyOf [{type: 'null'}, schema] when the schema has no type (oneOf/$ref);
//   * $ref '#/components/schemas/X' → 'st-<module>.json#/definitions/X', each
//     spec's components.schemas added once as a schema with that $id;
//   * formats: date-time is checked leniently (0-7 fractional digits, Z or an
//     offset or none); the numeric and string formats ServiceTitan uses
//     (int64, int32, decimal, double, guid, ...) are accepted as they are;
//   * vendor keywords (x-enumNames, ...) are ignored (ajv strict: false).
// Error statuses (>= 400) are validated against the spec's ApiErrorResponse
// even where the spec does not list them (401, 429: stsim uses that shape).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';

export const MODULES = ['crm', 'jpm', 'dispatch', 'settings', 'marketing', 'jbce'];

export const SPEC_DIR =
  process.env.STSIM_OPENAPI_DIR ||
  fileURLToPath(new URL('../../../../../shared/servicetitan-openapi/', import.meta.url));

const IN_CI = process.env.CI === 'true';

/** True when every spec file is present. */
export function specsPresent() {
  return MODULES.every((m) => existsSync(`${SPEC_DIR}/${m}-v2.json`));
}

/**
 * For node:test's skip option: false when the specs are there, or under
 * CI=true (where their absence must fail, not skip); else the reason.
 */
export const specsSkip =
  specsPresent() || IN_CI
    ? false
    : `ServiceTitan OpenAPI specs not found in ${SPEC_DIR} (../shared beside the checkout); schema checks skipped`;

// Lenient RFC 3339: stsim sends 7 fractional digits; capacity's local times carry no offset.
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?$/;
const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function nullableRewrite(s) {
  const { nullable, ...rest } = s;
  if (nullable !== true) return rest;
  if (rest.type !== undefined) {
    const types = Array.isArray(rest.type) ? rest.type : [rest.type];
    if (!types.includes('null')) rest.type = [...types, 'null'];
    if (Array.isArray(rest.enum) && !rest.enum.includes(null)) rest.enum = [...rest.enum, null];
    return rest;
  }
  const { description, ...inner } = rest;
  const out = { anyOf: [{ type: 'null' }, inner] };
  if (description !== undefined) out.description = description;
  return out;
}

/** Deep copy of a spec fragment with refs made absolute and nullable rewritten. */
function transform(node, id) {
  if (Array.isArray(node)) return node.map((x) => transform(x, id));
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
      out[k] = `${id}#/definitions/${v.slice('#/components/schemas/'.length)}`;
    } else if (k === 'properties' && v && typeof v === 'object') {
      // property names are data, not keywords: transform each value only
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, transform(s, id)]));
    } else if (k === 'example' || k === 'examples') {
      continue;
    } else {
      out[k] = transform(v, id);
    }
  }
  return 'nullable' in out ? nullableRewrite(out) : out;
}

function splitPath(p) {
  return p.split('/').filter((x) => x !== '');
}

class Validator {
  constructor() {
    this.ajv = new Ajv({
      strict: false,
      allErrors: true,
      logger: false,
      formats: {
        'date-time': DATE_TIME_RE,
        guid: GUID_RE,
        uuid: GUID_RE,
        int64: true,
        int32: true,
        decimal: true,
        double: true,
        float: true,
        multiline: true,
        html: true,
        duration: true,
        email: true,
        phone: true,
        password: true,
        uri: true,
        date: true,
        time: true,
      },
    });
    this.modules = new Map(); // module → { id, ops: [{method, template, segs, literal, op}], error }
    this.compiled = new Map();
    for (const m of MODULES) this.load(m);
  }

  load(m) {
    const spec = JSON.parse(readFileSync(`${SPEC_DIR}/${m}-v2.json`, 'utf8'));
    const id = `st-${m}.json`;
    this.ajv.addSchema({ $id: id, definitions: transform(spec.components.schemas, id) });
    const ops = [];
    for (const [template, item] of Object.entries(spec.paths)) {
      const segs = splitPath(template);
      for (const [method, op] of Object.entries(item)) {
        if (!op || typeof op !== 'object' || !op.responses) continue;
        const literal = segs.map((s) => (s.startsWith('{') ? 0 : 1));
        ops.push({ method: method.toUpperCase(), template, segs, literal, op });
      }
    }
    const server = spec.servers?.[0]?.url || '';
    const prefix = new URL(server).pathname.replace(/\/$/, ''); // "/crm/v2"
    this.modules.set(m, { id, ops, prefix });
  }

  /**
   * The spec operation for METHOD /module/v2/..., or null. Literal segments
   * beat parameters. Matched as ASP.NET Core routes (and stsim): any case, a
   * trailing slash ignored.
   */
  match(method, path) {
    const segs = splitPath(path.split('?')[0].toLowerCase());
    const mod = this.modules.get(segs[0]);
    if (!mod || segs[1] !== 'v2') return { module: segs[0], mod, op: null };
    const rest = segs.slice(2);
    let best = null;
    for (const o of mod.ops) {
      if (o.method !== method.toUpperCase() || o.segs.length !== rest.length) continue;
      let ok = true;
      for (let i = 0; i < rest.length && ok; i++) {
        if (o.literal[i] && o.segs[i] !== rest[i]) ok = false;
      }
      if (!ok) continue;
      if (!best || better(o.literal, best.literal)) best = o;
    }
    return { module: segs[0], mod, op: best };
  }

  schemaFor(mod, op, status) {
    const key = `${mod.id} ${op ? op.method + ' ' + op.template : '*'} ${status}`;
    if (this.compiled.has(key)) return this.compiled.get(key);
    let entry;
    const resp = op && (op.op.responses[String(status)] || op.op.responses.default);
    if (status >= 400) {
      // Every error is an ApiErrorResponse, listed in the spec or not (401, 429).
      entry = { fn: this.ajv.compile({ $ref: `${mod.id}#/definitions/ApiErrorResponse` }), empty: false };
    } else if (!resp) {
      entry = null; // status not documented for this operation
    } else if (!resp.content) {
      entry = { fn: null, empty: true };
    } else {
      const media = resp.content['application/json'] || Object.values(resp.content)[0];
      entry = { fn: this.ajv.compile(transform(media.schema || {}, mod.id)), empty: false };
    }
    this.compiled.set(key, entry);
    return entry;
  }

  /**
   * Validates one response. path is the URL path (/crm/v2/tenant/1/...).
   * Records the pair in coverage() when it validated. Returns
   * { ok, key, errors: [string] }.
   */
  check(method, path, status, text, contentType = '') {
    const { module, mod, op } = this.match(method, path);
    if (!mod) return { ok: false, key: null, errors: [`no spec for module "${module}"`] };
    const key = `${module} ${method.toUpperCase()} ${op ? op.template : '(no operation)'} ${status}`;
    if (!op && status < 400) return { ok: false, key, errors: [`no ${method} ${path} in the ${module} spec`] };
    const entry = this.schemaFor(mod, op, status);
    if (!entry) return { ok: false, key, errors: [`status ${status} is not documented for ${key}`] };
    if (entry.empty) {
      if (text !== '') return { ok: false, key, errors: [`spec documents no body, got ${text.slice(0, 200)}`] };
      record(key);
      return { ok: true, key, errors: [] };
    }
    if (!/application\/(problem\+)?json/.test(contentType)) {
      return { ok: false, key, errors: [`content-type "${contentType}" is not JSON`] };
    }
    let body;
    try {
      body = JSON.parse(text);
    } catch (e) {
      return { ok: false, key, errors: [`body is not JSON: ${e.message}`] };
    }
    if (!entry.fn(body)) {
      const errors = entry.fn.errors.slice(0, 12).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
      return { ok: false, key, errors };
    }
    record(key);
    return { ok: true, key, errors: [] };
  }
}

function better(a, b) {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] > b[i];
  }
  return false;
}

const seen = new Map();
function record(key) {
  seen.set(key, (seen.get(key) || 0) + 1);
}

/** Map 'module METHOD template status' → times validated in this process. */
export function coverage() {
  return seen;
}

let instance;
/**
 * The shared validator, or null when the specs are absent outside CI.
 * Under CI=true missing specs throw (the house rule: absence is a failure).
 */
export function validator() {
  if (instance !== undefined) return instance;
  if (!specsPresent()) {
    if (IN_CI) throw new Error(`ServiceTitan OpenAPI specs missing in ${SPEC_DIR} (required under CI=true)`);
    instance = null;
    return instance;
  }
  instance = new Validator();
  return instance;
}
