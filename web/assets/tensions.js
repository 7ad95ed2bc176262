// Tensions: pairs of claims from different packages that cannot both hold as stated. Open ones
// come first (GET /api/v1/tensions orders them); each shows both claims side by side with their
// values and accepted intervals, the condition diff highlighted, and, for a reviewer with a
// token, a form that marks it explained or resolved with a note (PATCH /api/v1/tensions/{id}).
import {enc, get, patch, token} from './api.js';
import {
  date, empty, expectation, failure, h, loading, num, replace, svg, withUnit,
} from './dom.js';
import {openTokenForm} from './token.js';

const STATUSES = ['open', 'explained', 'resolved', 'closed'];
const KIND_TEXT = {
  scope: 'Scope: the conditions differ',
  contradiction: 'Contradiction: same conditions',
};

export async function renderTensions(main, ctx) {
  document.title = 'Tensions · AttentionHub';
  const filter = STATUSES.includes(ctx.params.get('status')) ? ctx.params.get('status') : 'all';
  const area = h('div', {id: 'tension-area'}, loading('the tensions'));
  replace(main,
    h('h1', {}, 'Tensions'),
    h('p', {class: 'lead'}, 'Two claims about the same metric whose accepted values cannot ',
      'overlap. A scope tension usually means the conditions matter; a contradiction means one ',
      'of the claims is wrong. Reviewers mark each explained or resolved.'),
    area);
  let list;
  try {
    list = (await get('/tensions?status=all', {signal: ctx.signal})).tensions;
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    replace(area, failure('the tensions', e, () => renderTensions(main, ctx)));
    return;
  }
  const shown = filter === 'all' ? list : list.filter((t) => t.status === filter);
  let chips = statusFilter(list, filter);
  // A review changes the counts of the status chips; the card itself redraws in place.
  const onReviewed = (updated) => {
    list = list.map((t) => (t.id === updated.id ? updated : t));
    const next = statusFilter(list, filter);
    chips.replaceWith(next);
    chips = next;
  };
  replace(area, chips,
    shown.length ? h('ol', {class: 'tensions'}, shown.map((t) => h('li', {}, tensionCard(t, onReviewed))))
      : empty(list.length ? `No ${filter} tension.` : 'No tension: no two packages disagree yet.',
        list.length ? h('a', {href: '/tensions'}, 'Show every tension') : null));
  if (location.hash) {
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) {
      target.scrollIntoView();
      target.focus({preventScroll: true});
    }
  }
}

function statusFilter(list, active) {
  const count = (s) => (s === 'all' ? list.length : list.filter((t) => t.status === s).length);
  return h('nav', {class: 'facet-group', 'aria-label': 'Filter by status'},
    h('ul', {class: 'chips'}, ['all', ...STATUSES].map((s) => h('li', {},
      h('a', {
        class: s === active ? 'chip chip-on' : 'chip', href: s === 'all' ? '/tensions' : `/tensions?status=${s}`,
        'aria-current': s === active ? 'true' : null, dataset: {status: s},
      }, s === 'all' ? 'all (open first)' : s, ' ', h('span', {class: 'count'}, String(count(s))))))));
}

function statusBadge(status) {
  return h('span', {class: `status status-${status}`}, status);
}

// One line about a tension, for a package page.
export function tensionSummary(t) {
  return h('p', {class: 'tension-summary'}, statusBadge(t.status), ' ',
    h('code', {}, t.metric), ': ',
    h('a', {href: `/packages/${enc(t.earlier.package)}`}, t.earlier.package), ' vs ',
    h('a', {href: `/packages/${enc(t.later.package)}`}, t.later.package),
    `, gap ${withUnit(t.divergence, t.unit)} (${t.kind}) · `,
    h('a', {href: `/tensions#tension-${t.id}`}, 'review'));
}

function interval(iv, unit) {
  if (!iv) return '—';
  const lo = iv.lo === null || iv.lo === undefined ? '−∞' : num(iv.lo);
  const hi = iv.hi === null || iv.hi === undefined ? '+∞' : num(iv.hi);
  return `[${lo}, ${hi}]${unit ? ` ${unit}` : ''}`;
}

function side(label, s, iv, unit) {
  return h('div', {class: 'side', dataset: {side: label.toLowerCase()}},
    h('h3', {}, label, ': ', h('a', {href: `/packages/${enc(s.package)}`}, s.package),
      h('span', {class: 'muted'}, ` v${s.version}`)),
    h('dl', {class: 'facts'},
      h('div', {}, h('dt', {}, 'Claim'), h('dd', {}, h('code', {}, s.claim))),
      h('div', {}, h('dt', {}, 'Published'), h('dd', {}, s.published || '—')),
      h('div', {}, h('dt', {}, 'Stated value'), h('dd', {class: 'value'}, withUnit(s.value, unit))),
      h('div', {}, h('dt', {}, 'Expectation'), h('dd', {}, expectation(s.expect, unit))),
      h('div', {}, h('dt', {}, 'Measured'), h('dd', {class: 'measured'},
        withUnit(s.measured, unit), s.reproduced ? ' ✓ reproduced' : '')),
      h('div', {}, h('dt', {}, 'Accepted interval'), h('dd', {class: 'interval'}, interval(iv, unit)))));
}

// Both accepted intervals on one number line (finite bounds only), so the gap is visible.
function intervalPlot(t) {
  const ivs = [['earlier', t.earlier_interval], ['later', t.later_interval]];
  const ends = ivs.flatMap(([, iv]) => [iv?.lo, iv?.hi]).filter((v) => Number.isFinite(v));
  if (ends.length < 2) return null;
  const lo = Math.min(...ends);
  const hi = Math.max(...ends);
  const pad = (hi - lo) * 0.08 || 1;
  const x = (v) => 10 + ((v - (lo - pad)) / (hi - lo + 2 * pad)) * 580;
  const bars = ivs.map(([name, iv], i) => {
    const a = Number.isFinite(iv?.lo) ? x(iv.lo) : 10;
    const b = Number.isFinite(iv?.hi) ? x(iv.hi) : 590;
    const y = 16 + i * 24;
    // The label sits inside the plot: after the bar in the left half, before it in the right.
    const left = (a + b) / 2 < 300;
    return svg('g', {class: `iv iv-${name}`},
      svg('rect', {x: a, y, width: Math.max(3, b - a), height: 12, rx: 2}),
      svg('text', {x: left ? b + 6 : a - 6, y: y + 10, 'text-anchor': left ? 'start' : 'end'},
        `${name} ${interval(iv, '')}`));
  });
  const tick = (v) => svg('text', {x: x(v), y: 82, 'text-anchor': 'middle', class: 'tick'}, num(v));
  return h('figure', {class: 'interval-plot'},
    svg('svg', {viewBox: '0 0 600 88', role: 'img',
      'aria-label': `Accepted intervals: earlier ${interval(t.earlier_interval, t.unit)}, later ${interval(t.later_interval, t.unit)}`},
    svg('line', {x1: 10, x2: 590, y1: 66, y2: 66, class: 'axis'}), bars, tick(lo), tick(hi)));
}

function conditionTable(t) {
  const a = t.earlier.conditions || {};
  const b = t.later.conditions || {};
  const differing = new Set((t.condition_diff || []).map((d) => d.key));
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .sort((k1, k2) => (differing.has(k2) - differing.has(k1)) || k1.localeCompare(k2));
  if (!keys.length) return h('p', {class: 'muted'}, 'Neither claim states conditions.');
  const cell = (v) => (v === undefined ? h('span', {class: 'muted'}, 'not stated') : String(v));
  return h('div', {class: 'table-wrap'}, h('table', {class: 'conditions-table'},
    h('caption', {}, differing.size
      ? `Conditions: ${differing.size} differ (highlighted)` : 'Conditions: the same on both sides'),
    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Condition'), h('th', {scope: 'col'}, 'Earlier'),
      h('th', {scope: 'col'}, 'Later'))),
    h('tbody', {}, keys.map((k) => h('tr', {class: differing.has(k) ? 'differs' : '', dataset: {key: k}},
      h('th', {scope: 'row'}, k, differing.has(k) ? h('span', {class: 'diff-mark'}, ' ≠ differs') : null),
      h('td', {}, cell(a[k])), h('td', {}, cell(b[k])))))));
}

function tensionCard(t, onReviewed) {
  const article = h('article', {class: `tension tension-${t.status}`, id: `tension-${t.id}`,
    tabindex: '-1', 'aria-labelledby': `tension-${t.id}-h`, dataset: {id: t.id, status: t.status}});
  fillCard(article, t, onReviewed);
  return article;
}

function fillCard(article, t, onReviewed) {
  article.className = `tension tension-${t.status}`;
  article.dataset.status = t.status;
  replace(article,
    h('header', {class: 'tension-head'},
      h('h2', {id: `tension-${t.id}-h`}, h('code', {}, t.metric)),
      statusBadge(t.status),
      h('span', {class: `kind kind-${t.kind}`}, KIND_TEXT[t.kind] || t.kind)),
    h('p', {class: 'gap'}, 'Gap between the accepted intervals: ',
      h('strong', {}, withUnit(t.divergence, t.unit)),
      `. Raised by ${t.raised_by} (the later package) against ${t.other}.`),
    h('div', {class: 'sides'}, side('Earlier', t.earlier, t.earlier_interval, t.unit),
      side('Later', t.later, t.later_interval, t.unit)),
    intervalPlot(t),
    conditionTable(t),
    t.note ? h('blockquote', {class: 'note'}, h('p', {class: 'muted'}, 'Reviewer note'),
      h('p', {}, t.note)) : null,
    h('p', {class: 'muted'}, `Tension ${t.id} · updated ${date(t.updated_at)}`),
    reviewForm(article, t, onReviewed));
}

function reviewForm(article, t, onReviewed) {
  if (!token()) {
    return h('p', {class: 'review-locked'}, 'Reviewers can mark this tension explained or resolved. ',
      h('button', {type: 'button', class: 'link-button', onclick: openTokenForm},
        'Sign in with a reviewer token'));
  }
  const name = `status-${t.id}`;
  const options = ['open', 'explained', 'resolved'].map((s) => h('label', {class: 'radio'},
    h('input', {type: 'radio', name, value: s, checked: (t.status === s) || null}), ` ${s}`));
  const note = h('textarea', {id: `note-${t.id}`, maxlength: '4000', rows: '3'});
  note.value = t.note || '';
  const message = h('p', {class: 'form-message', role: 'status'});
  const button = h('button', {type: 'submit'}, 'Save review');
  const form = h('form', {class: 'review'},
    h('fieldset', {}, h('legend', {}, 'Review'), ...options),
    h('div', {class: 'field'}, h('label', {for: `note-${t.id}`}, 'Note: what explains it, or how it was resolved'), note),
    button, message);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const chosen = form.querySelector(`input[name="${name}"]:checked`);
    const body = {note: note.value};
    if (chosen) body.status = chosen.value;
    button.disabled = true;
    message.className = 'form-message';
    message.textContent = 'Saving…';
    try {
      const updated = await patch(`/tensions/${t.id}`, body);
      fillCard(article, updated, onReviewed);
      onReviewed(updated);
      const saved = article.querySelector('.form-message');
      saved.textContent = `Saved: this tension is ${updated.status}.`;
      saved.classList.add('ok');
    } catch (err) {
      button.disabled = false;
      message.className = 'form-message error';
      message.setAttribute('role', 'alert');
      message.textContent = err.status === 403
        ? `Refused: this token may not review tensions (${err.message})`
        : `Not saved: ${err.message}`;
    }
  });
  return form;
}
