#!/usr/bin/env node
// scripts/banned.mjs — the banned-function check, run by `make check`
// (scripts/check) as one test. Like the short list curl keeps: C library
// calls that are unbounded, hide shared state, cannot report an error or run
// a shell, each with the reason and what to write instead; and a direct
// `#include <jansson.h>` outside src/json (the json adapter owns parsing,
// serialising and the limits; json_t reaches everyone through json/json.h).
//
// Calls are looked for in src/ and sim/ (the code we ship; tests may use
// system() or strcpy() on their own temporary paths); the include rule
// holds in tests/ and bench/ too. Comments, string and character literals
// are blanked first, so a comment that names a function is not a call.
// Existing uses that are known to be safe are listed, with their reason, in
// build-aux/check/banned-allow.txt (file, function, how many).
//
// Prints every finding as "file:line: name() is banned: reason. Use: ...";
// exits 1 when there is one.
//
// usage: scripts/banned.mjs [--root DIR]
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// --root DIR checks another tree (the tests of this script use it)
const rootArg = process.argv.indexOf('--root');
const ROOT = rootArg > 0 ? process.argv[rootArg + 1] : fileURLToPath(new URL('..', import.meta.url));
const ALLOW_FILE = 'build-aux/check/banned-allow.txt';

const unbounded = 'writes with no bound: a longer input overruns the destination';
const noError = 'cannot report an error: "12x", "" and an overflow (undefined behaviour) all give a number';
const staticTime = 'returns a pointer to storage shared by every thread';
const tempName = 'the name can be taken between choosing it and creating the file (a race)';

// name → [reason, replacement]
const BANNED = {
  gets: ['reads a line with no bound at all (removed in C11)', 'fgets(buf, sizeof(buf), fp) or getline()'],
  strcpy: [unbounded, 'snprintf(dst, size, "%s", src), or memcpy() of a length checked against the destination'],
  strcat: [unbounded, 'struct ap_buf with ap_buf_append()/ap_buf_printf() (core/buf.h), or snprintf() at an offset'],
  strncpy: ['does not NUL-terminate a long source, and pads a short one', 'snprintf(dst, size, "%s", src), or memcpy() and an explicit NUL'],
  strncat: ['its bound is the room left, not the size of the buffer: easily wrong', 'struct ap_buf (core/buf.h), or snprintf() at an offset'],
  sprintf: [unbounded, 'snprintf() (and check for truncation), or ap_buf_printf() (core/buf.h)'],
  vsprintf: [unbounded, 'vsnprintf() (and check for truncation)'],
  strtok: ['keeps hidden static state (neither thread-safe nor re-entrant)', 'strtok_r(), or strcspn()/memchr() over the text'],
  atoi: [noError, 'strtol() with an end pointer, errno == ERANGE and a range check'],
  atol: [noError, 'strtol() with an end pointer, errno == ERANGE and a range check'],
  atoll: [noError, 'strtoll() with an end pointer, errno == ERANGE and a range check'],
  rand: ['predictable, small range, state shared by every thread', 'ap_crypto_random() (crypto/crypto.h); for reproducible data, a local generator with an explicit seed'],
  srand: ['seeds rand(), which is banned', 'ap_crypto_random() (crypto/crypto.h)'],
  system: ['runs a shell: a value holding a quote or a ";" becomes a command; signals and the exit status are muddled', 'fork() + execve() with an argument vector, values passed in argv or the environment (see src/app/fms_hook.c)'],
  popen: ['runs a shell, as system() does', 'fork() + execve() with pipes (see src/app/fms_hook.c)'],
  tmpnam: [tempName, 'mkstemp() or mkdtemp()'],
  tempnam: [tempName, 'mkstemp() or mkdtemp()'],
  mktemp: [tempName, 'mkstemp() or mkdtemp()'],
  gmtime: [staticTime, 'gmtime_r(), or core/datetime.h (ap_civil_from_days, ap_time_format)'],
  localtime: [staticTime + ", and reads the process's TZ", 'tz/tz.h (ap_tz_utc_to_local) for a named zone, or localtime_r()'],
  ctime: [staticTime, 'core/datetime.h (ap_time_format)'],
  asctime: [staticTime, 'core/datetime.h (ap_time_format)'],
  alloca: ['a large size overflows the stack with no error', 'an array of fixed size with a checked bound, or ap_xmalloc() (core/mem.h)'],
};
const JANSSON = [
  'the json adapter owns parsing, serialising and their limits',
  '#include "json/json.h" (it hands json_t on) and parse or dump with ap_json_*',
];

/** C source with comments and string/char literals blanked (newlines kept). */
function blankNonCode(src) {
  let out = '';
  let i = 0;
  const n = src.length;
  const keepNl = (s) => s.replace(/[^\n]/g, ' ');
  while (i < n) {
    const c = src[i];
    const d = src[i + 1];
    let end;
    if (c === '/' && d === '*') {
      end = src.indexOf('*/', i + 2);
      end = end < 0 ? n : end + 2;
    } else if (c === '/' && d === '/') {
      end = src.indexOf('\n', i);
      if (end < 0) end = n;
    } else if (c === '"' || c === "'") {
      end = i + 1;
      while (end < n && src[end] !== c && src[end] !== '\n') end += src[end] === '\\' ? 2 : 1;
      end = Math.min(end + 1, n);
      out += c + keepNl(src.slice(i + 1, end - 1)) + (end - 1 > i ? src[end - 1] : '');
      i = end;
      continue;
    } else {
      out += c;
      i++;
      continue;
    }
    out += keepNl(src.slice(i, end));
    i = end;
  }
  return out;
}

function* cFiles(dir) {
  if (!existsSync(join(ROOT, dir))) return;
  const entries = readdirSync(join(ROOT, dir), { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'corpus' && e.name !== 'node_modules') yield* cFiles(p);
    } else if (/\.[ch]$/.test(e.name)) {
      yield p;
    }
  }
}

/** "file function count reason..." lines → Map "file\0function" → count. */
function readAllow() {
  const allow = new Map();
  const text = existsSync(join(ROOT, ALLOW_FILE)) ? readFileSync(join(ROOT, ALLOW_FILE), 'utf8') : '';
  text.split('\n').forEach((line, i) => {
    if (!line.trim() || line.startsWith('#')) return;
    const [file, fn, count] = line.trim().split(/\s+/);
    if (!BANNED[fn] || !/^[1-9][0-9]*$/.test(count || '')) {
      throw new Error(`${ALLOW_FILE}:${i + 1}: expected "FILE FUNCTION COUNT REASON" with a banned FUNCTION`);
    }
    allow.set(`${file}\0${fn}`, Number(count));
  });
  return allow;
}

const callRe = new RegExp(`(?<![\\w.>])(${Object.keys(BANNED).join('|')})\\s*\\(`, 'g');
const janssonRe = /^\s*#\s*include\s*[<"]jansson\.h[>"]/;

const allow = readAllow();
const findings = [];
const uses = new Map(); // "file\0fn" → [line numbers]
let nfiles = 0;

for (const top of ['src', 'sim', 'tests', 'bench']) {
  for (const file of cFiles(top)) {
    const rel = relative(ROOT, join(ROOT, file));
    const lines = blankNonCode(readFileSync(join(ROOT, file), 'utf8')).split('\n');
    const shipped = top === 'src' || top === 'sim';
    nfiles++;
    lines.forEach((line, i) => {
      if (janssonRe.test(line) && !rel.startsWith('src/json/')) {
        findings.push(`${rel}:${i + 1}: #include <jansson.h> outside src/json: ${JANSSON[0]}. Use: ${JANSSON[1]}`);
      }
      if (!shipped) return;
      for (const m of line.matchAll(callRe)) {
        const key = `${rel}\0${m[1]}`;
        if (!uses.has(key)) uses.set(key, []);
        uses.get(key).push(i + 1);
      }
    });
  }
}

for (const [key, lineNos] of uses) {
  const [file, fn] = key.split('\0');
  const allowed = allow.get(key) || 0;
  if (lineNos.length <= allowed) continue;
  const [why, instead] = BANNED[fn];
  const extra = allowed ? ` (${ALLOW_FILE} allows ${allowed} in this file)` : '';
  for (const no of lineNos) findings.push(`${file}:${no}: ${fn}() is banned: ${why}${extra}. Use: ${instead}`);
}
for (const [key, count] of allow) {
  const [file, fn] = key.split('\0');
  const have = (uses.get(key) || []).length;
  if (have < count) {
    console.log(`note: ${ALLOW_FILE} allows ${count} ${fn}() in ${file}, which now has ${have}: lower or remove the line`);
  }
}

if (nfiles === 0) {
  console.log(`no C file found under ${ROOT} (src/ sim/ tests/ bench/): nothing was checked`);
  process.exit(1);
}
if (findings.length) {
  for (const f of findings) console.log(f);
  console.log(`${findings.length} banned use(s). Rewrite them as each line says; a use that is safe and`);
  console.log(`cannot be written otherwise goes into ${ALLOW_FILE} with its reason.`);
  process.exit(1);
}
const allowed = [...allow.keys()].reduce((sum, k) => sum + Math.min(allow.get(k), (uses.get(k) || []).length), 0);
console.log(
  `banned functions: ${nfiles} files checked for ${Object.keys(BANNED).length} functions and <jansson.h>; ` +
    `no finding${allowed ? ` (${allowed} known uses allowed by ${ALLOW_FILE})` : ''}`,
);
