// A package: who and where from, its claims with what the hub measured, why it has its score,
// plots of its measured outputs, its runs, versions, relations and tensions. Reads
// GET /packages/{id} (or /versions/{n} for ?version=n), /runs, /runs/{run} and /tensions.
import {enc, get, post, token} from './api.js';
import {renderPlots} from './charts.js';
import {
  date, empty, expectation, failure, h, levelBadge, loading, num, replace, section,
  tensionMarker, verdictBadge, withUnit,
} from './dom.js';
import {renderRuns, renderVersions} from './history.js';
import {tensionSummary} from './tensions.js';

const POLL_MS = 2000;

export async function renderPackage(main, ctx, id) {
  const version = Number(ctx.params.get('version')) || 0;
  document.title = `${id} · AttentionHub`;
  replace(main, breadcrumb(id), h('h1', {}, id), loading('the package'));
  const base = `/packages/${enc(id)}`;
  let pkg;
  let runs;
  let tensions;
  try {
    [pkg, runs, tensions] = await Promise.all([
      get(version ? `${base}/versions/${version}` : base, {signal: ctx.signal}),
      get(`${base}/runs${version ? `?version=${version}` : ''}`, {signal: ctx.signal}),
      get(`${base}/tensions`, {signal: ctx.signal}),
    ]);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    const retry = () => renderPackage(main, ctx, id);
    replace(main, breadcrumb(id), h('h1', {}, e.status === 404 ? 'Package not found' : id),
      e.status === 404
        ? empty(`No package “${id}”${version ? ` at version ${version}` : ''} is stored here.`,
          h('a', {href: '/'}, 'Back to the discoveries'))
        : failure('the package', e, retry));
    return;
  }
  document.title = `${pkg.title} · AttentionHub`;
  const refresh = () => { if (!ctx.signal.aborted) renderPackage(main, ctx, id); };
  replace(main,
    breadcrumb(id),
    header(pkg, () => setTimeout(refresh, POLL_MS)),
    toc(),
    section('claims', 'Claims', claimsTable(pkg)),
    section('score', 'Why this score', scoreBreakdown(pkg.attention)),
    section('plots', 'Plots', h('div', {id: 'plot-area'}, loading('the plots'))),
    section('runs', 'Runs', h('div', {id: 'run-area'})),
    section('versions', 'Versions', h('div', {id: 'version-area'})),
    section('relations', 'Relations', relations(pkg)),
    section('tensions', 'Tensions', tensionList(tensions.tensions)));
  renderRuns(main.querySelector('#run-area'), pkg, runs.runs);
  renderVersions(main.querySelector('#version-area'), pkg, ctx);
  revealHash(main);
  pollWhileVerifying(main, ctx, pkg, refresh);
  await renderPlots(main.querySelector('#plot-area'), pkg, runs.runs, ctx.signal);
}

function breadcrumb(id) {
  return h('nav', {class: 'breadcrumb', 'aria-label': 'Breadcrumb'},
    h('ol', {}, h('li', {}, h('a', {href: '/'}, 'Discoveries')),
      h('li', {}, h('span', {'aria-current': 'page'}, id))));
}

// A link only for http(s) addresses: a package's URL is untrusted and could be javascript:.
function safeLink(href, text) {
  try {
    const url = new URL(href);
    if (url.protocol === 'https:' || url.protocol === 'http:') {
      return h('a', {href: url.href, rel: 'noopener noreferrer external'}, text);
    }
  } catch {
    // not a URL: shown as text below
  }
  return h('span', {}, text);
}

function provenance(p) {
  if (!p) return null;
  const kinds = {original: 'Original work', 'arxiv-import': 'Imported from arXiv',
    'ai-generated': 'AI-generated'};
  return h('li', {class: 'provenance'}, kinds[p.kind] || p.kind,
    p.arxiv ? [' · ', safeLink(`https://arxiv.org/abs/${p.arxiv}`, `arXiv:${p.arxiv}`)] : null,
    p.doi ? [' · ', safeLink(`https://doi.org/${p.doi}`, `doi:${p.doi}`)] : null,
    p.url ? [' · ', safeLink(p.url, p.url)] : null);
}

function authors(list) {
  if (!list || !list.length) return null;
  return h('li', {class: 'authors'}, list.map((a, i) => [i ? ', ' : '', a.name,
    a.affiliation ? h('span', {class: 'muted'}, ` (${a.affiliation})`) : null,
    a.orcid ? [' ', safeLink(`https://orcid.org/${a.orcid}`, 'ORCID')] : null]));
}

function header(pkg, onQueued) {
  const versionNote = pkg.version === pkg.latest_version
    ? `v${pkg.version}` : `v${pkg.version} (latest is v${pkg.latest_version})`;
  return h('header', {class: 'package-head'},
    h('h1', {}, pkg.title),
    h('div', {class: 'badges'}, levelBadge(pkg.version_level || pkg.level),
      h('a', {class: 'score-badge', href: '#score'}, 'attention ',
        h('strong', {class: 'score-value'}, pkg.score.toFixed(1))),
      tensionMarker(pkg.open_tensions, '#tensions'),
      h('span', {class: 'muted'}, versionNote)),
    h('ul', {class: 'byline'}, authors(pkg.authors),
      pkg.published ? h('li', {}, 'Published ', h('time', {datetime: pkg.published}, pkg.published)) : null,
      provenance(pkg.provenance),
      pkg.license ? h('li', {}, `License ${pkg.license}`) : null,
      h('li', {}, (pkg.categories || []).map((c, i) => [i ? ' ' : '',
        h('a', {class: 'chip chip-small', href: `/?category=${enc(c)}`}, c)]),
      (pkg.tags || []).map((t) => [' ', h('a', {class: 'tag', href: `/?tag=${enc(t)}`}, `#${t}`)]))),
    h('p', {class: 'summary'}, pkg.summary),
    verificationLine(pkg),
    h('p', {class: 'actions'},
      pkg.links && pkg.links.archive ? h('a', {href: pkg.links.archive, download: true},
        'Download this version (.tar.gz)') : null,
      ' · ', h('a', {href: `/api/v1${pkgPath(pkg)}`}, 'JSON'),
      requeueButton(pkg, onQueued)));
}

function pkgPath(pkg) {
  return `/packages/${enc(pkg.id)}/versions/${pkg.version}`;
}

function verificationLine(pkg) {
  const job = pkg.verification;
  if (!job) return h('p', {class: 'muted'}, 'No claim has evidence to run: nothing to verify.');
  const when = job.finished_at ? ` on ${date(job.finished_at)}` : '';
  const text = {
    queued: 'Verification is queued…',
    running: `Verification is running${job.progress && job.progress.total
      ? ` (${job.progress.done}/${job.progress.total} experiments)` : ''}…`,
    done: `Verified by the hub${when}: ${job.level || 'done'}.`,
    error: `Verification could not run: ${job.error || 'job error'}.`,
  }[job.state] || job.state;
  return h('p', {class: `verification verification-${job.state}`, role: 'status'}, text);
}

function requeueButton(pkg, onQueued) {
  if (!token()) return null;
  const out = h('span', {class: 'inline-status', role: 'status'});
  const button = h('button', {type: 'button', class: 'secondary', onclick: async () => {
    button.disabled = true;
    out.textContent = 'Queuing…';
    try {
      const job = await post(`/packages/${enc(pkg.id)}/verify?version=${pkg.version}`);
      out.textContent = `Queued as job ${job.id}; this page follows it.`;
      onQueued();
    } catch (e) {
      out.textContent = `Refused: ${e.message}`;
      button.disabled = false;
    }
  }}, 'Re-verify');
  return [' · ', button, ' ', out];
}

// While the hub verifies the version shown, its status line follows the job; once the job ends
// the page is drawn again with the new verdicts.
function pollWhileVerifying(main, ctx, pkg, refresh) {
  const busy = (p) => p.verification && ['queued', 'running'].includes(p.verification.state);
  if (!busy(pkg)) return;
  const path = `/packages/${enc(pkg.id)}/versions/${pkg.version}`;
  const poll = async () => {
    if (ctx.signal.aborted) return;
    try {
      const now = await get(path, {signal: ctx.signal});
      if (!busy(now)) {
        refresh();
        return;
      }
      main.querySelector('.verification')?.replaceWith(verificationLine(now));
    } catch (e) {
      if (e.name === 'AbortError') return;
    }
    setTimeout(poll, POLL_MS);
  };
  setTimeout(poll, POLL_MS);
}

function toc() {
  const items = [['claims', 'Claims'], ['score', 'Why this score'], ['plots', 'Plots'],
    ['runs', 'Runs'], ['versions', 'Versions'], ['relations', 'Relations'],
    ['tensions', 'Tensions']];
  return h('nav', {class: 'toc', 'aria-label': 'On this page'},
    h('ul', {}, items.map(([id, text]) => h('li', {}, h('a', {href: `#${id}`}, text)))));
}

function revealHash(main) {
  if (!location.hash) return;
  const target = main.querySelector(`[id="${CSS.escape(decodeURIComponent(location.hash.slice(1)))}"]`);
  if (target) target.scrollIntoView();
}

// ---- claims -----------------------------------------------------------------------------

function conditions(c) {
  const entries = Object.entries(c.conditions || {});
  if (!entries.length) return null;
  return h('details', {class: 'conditions'}, h('summary', {}, 'Conditions'),
    h('dl', {}, entries.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])));
}

function claimsTable(pkg) {
  if (!pkg.claims || !pkg.claims.length) return empty('This version states no claims.');
  const rows = pkg.claims.map((c) => h('tr', {dataset: {claim: c.id, verdict: c.verdict}},
    h('td', {'data-label': 'Claim'},
      h('p', {class: 'statement'}, c.statement),
      h('p', {class: 'muted'}, h('code', {}, c.id), ' · ', h('code', {}, c.metric)),
      conditions(c)),
    h('td', {'data-label': 'Claimed', class: 'num'},
      h('span', {class: 'claimed'}, withUnit(c.value, c.unit)),
      h('span', {class: 'expect'}, `expect ${expectation(c.expect, c.unit)}`)),
    h('td', {'data-label': 'Measured', class: 'num measured'}, withUnit(c.measured, c.unit)),
    h('td', {'data-label': 'Verdict'}, verdictBadge(c.verdict),
      c.reason ? h('span', {class: 'reason'}, c.reason) : null,
      c.hub_verdict && c.hub_verdict !== c.verdict
        ? h('span', {class: 'reason'}, `hub's own run: ${c.hub_verdict}`) : null),
    h('td', {'data-label': 'Hosts', class: 'num hosts'}, String(c.hosts ?? 0))));
  return h('div', {class: 'table-wrap'}, h('table', {class: 'claims stack'},
    h('caption', {class: 'visually-hidden'}, `Claims of ${pkg.id} v${pkg.version}`),
    h('thead', {}, h('tr', {}, ['Claim', 'Claimed', 'Measured', 'Verdict', 'Hosts']
      .map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, rows)));
}

// ---- score ------------------------------------------------------------------------------

function scoreBreakdown(att) {
  if (!att) return empty('No score breakdown.');
  const rows = (att.breakdown || []).map((b) => h('tr', {class: b.points ? '' : 'zero'},
    h('th', {scope: 'row'}, b.term),
    h('td', {class: 'num'}, num(b.count)),
    h('td', {class: 'num'}, `× ${num(b.weight)}`),
    h('td', {class: 'num'}, `${b.points > 0 ? '+' : ''}${num(b.points)}`)));
  return [
    h('p', {}, 'Attention is earned by evidence: each reproduced claim, each independent host ',
      'that replicates it and each open tension the package raised adds to it; each refuted ',
      'claim takes from it.'),
    h('div', {class: 'table-wrap'}, h('table', {class: 'score-table'},
      h('caption', {class: 'visually-hidden'}, 'Score breakdown'),
      h('thead', {}, h('tr', {}, ['Term', 'Count', 'Weight', 'Points']
        .map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, rows),
      h('tfoot', {}, h('tr', {}, h('th', {scope: 'row'}, 'Score'), h('td'), h('td'),
        h('td', {class: 'num'}, h('strong', {}, num(att.score))))))),
    att.formula ? h('p', {class: 'formula'}, h('code', {}, att.formula)) : null,
  ];
}

// ---- relations and tensions --------------------------------------------------------------

function relations(pkg) {
  const list = pkg.relations || [];
  if (!list.length) return empty('This package declares no relation to another package.');
  const verbs = {remeasures: 'Re-measures', replicates: 'Replicates', extends: 'Extends'};
  return h('ul', {class: 'relations'}, list.map((r) => h('li', {},
    `${verbs[r.kind] || r.kind} `,
    h('a', {href: `/packages/${enc(r.package)}${r.version ? `?version=${r.version}` : ''}`},
      r.package), r.version ? ` v${r.version}` : '')));
}

function tensionList(list) {
  if (!list || !list.length) {
    return empty('No tension: no other package claims an incompatible value of the same metric.');
  }
  return h('ul', {class: 'tension-list'}, list.map((t) => h('li', {}, tensionSummary(t))));
}
