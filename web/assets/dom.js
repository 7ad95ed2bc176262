// DOM building without markup: every text goes through textContent, every attribute through
// setAttribute with a known name, so package text (untrusted) can never become HTML.

// h('a', {href: '/x', class: 'chip'}, 'text', child, [more, children])
// Attribute values null/undefined/false are left out; true sets an empty attribute. Keys that
// start with "on" take a function and become event listeners (never attributes).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

// Appends strings (as text nodes), nodes and nested arrays; skips null and false.
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

// Replaces the children of `parent`.
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

// ---- formatting --------------------------------------------------------------------------

const numberFormat = new Intl.NumberFormat('en', {maximumSignificantDigits: 6});
// 11.811000000000007 -> "11.811"; null -> "—".
export function num(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return typeof v === 'number' ? numberFormat.format(v) : String(v);
}

export function withUnit(v, unit) {
  if (v === null || v === undefined) return '—';
  if (!unit) return num(v);
  return unit === '%' ? `${num(v)} %` : `${num(v)} ${unit}`;
}

// "2026-11-22T23:19:12Z" -> "2026-11-22 23:19 UTC"; "2026-06-11" stays.
export function date(s) {
  if (!s) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(s);
  return m ? `${m[1]} ${m[2]} UTC` : s;
}

export function seconds(s) {
  if (s === null || s === undefined) return '—';
  return s < 1 ? `${num(Math.round(s * 1000 * 10) / 10)} ms` : `${num(Math.round(s * 100) / 100)} s`;
}

// An expectation as people read it: {approx: 64.5, abs: 0.005} -> "64.5 ± 0.005".
export function expectation(expect, unit) {
  if (!expect) return 'no expectation';
  const u = unit ? (unit === '%' ? ' %' : ` ${unit}`) : '';
  if ('approx' in expect && 'abs' in expect) return `${num(expect.approx)} ± ${num(expect.abs)}${u}`;
  if ('approx' in expect && 'rel' in expect) {
    return `${num(expect.approx)}${u} ± ${num(expect.rel * 100)} %`;
  }
  if ('at_least' in expect) return `≥ ${num(expect.at_least)}${u}`;
  if ('at_most' in expect) return `≤ ${num(expect.at_most)}${u}`;
  if (Array.isArray(expect.between)) {
    return `${num(expect.between[0])} to ${num(expect.between[1])}${u}`;
  }
  return JSON.stringify(expect);
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

// ---- shared pieces -----------------------------------------------------------------------

// The verification ladder, lowest rung first; refuted and failed sit beside it.
export const LADDER = ['declared', 'well-formed', 'executes', 'reproduces', 'replicated'];
const LEVEL_TEXT = {
  declared: 'Declared', 'well-formed': 'Well-formed', executes: 'Executes',
  reproduces: 'Reproduces', replicated: 'Replicated', refuted: 'Refuted', failed: 'Failed',
};

// A level badge with a five-step meter; the words carry the meaning, the colour only helps.
export function levelBadge(level) {
  const rung = LADDER.indexOf(level);
  const meter = h('span', {class: 'ladder', 'aria-hidden': 'true'},
    LADDER.map((_, i) => h('span', {class: rung >= i ? 'on' : ''})));
  return h('span', {class: `level level-${level}`, title: `Verification ladder: ${level}`},
    meter, h('span', {class: 'visually-hidden'}, 'Level: '), LEVEL_TEXT[level] || level);
}

const VERDICT_TEXT = {
  reproduced: '✓ reproduced', refuted: '✗ refuted', failed: '! failed', skipped: '– skipped',
  pending: '… pending', declared: 'declared',
};
export function verdictBadge(verdict) {
  return h('span', {class: `verdict verdict-${verdict}`}, VERDICT_TEXT[verdict] || verdict);
}

export function tensionMarker(count, href) {
  if (!count) return null;
  const text = `⚡ ${plural(count, 'open tension')}`;
  return href ? h('a', {class: 'tension-marker', href}, text)
              : h('span', {class: 'tension-marker'}, text);
}

// Loading, empty and error states, one look everywhere.
export function loading(what) {
  return h('div', {class: 'state state-loading', role: 'status'},
    h('span', {class: 'spinner', 'aria-hidden': 'true'}), `Loading ${what}…`);
}

export function empty(title, ...body) {
  return h('div', {class: 'state state-empty'}, h('p', {class: 'state-title'}, title), ...body);
}

// `error` is an ApiError or any Error; `retry` (optional) re-runs what failed.
export function failure(what, error, retry) {
  return h('div', {class: 'state state-error', role: 'alert'},
    h('p', {class: 'state-title'}, `Could not load ${what}.`),
    h('p', {}, error && error.message ? error.message : String(error)),
    error && error.code ? h('p', {class: 'muted'}, `Error code: ${error.code}`) : null,
    retry ? h('button', {type: 'button', onclick: retry}, 'Try again') : null);
}

export function section(id, title, ...body) {
  return h('section', {id, 'aria-labelledby': `${id}-h`},
    h('h2', {id: `${id}-h`}, title), ...body);
}
