// Plots of a package's measured outputs. The outputs are the JSON documents its experiments
// wrote (GET /runs/{run} returns small ones parsed); an adapter recognises a document by its
// shape and turns it into plots: hit rate per policy for cache-sim documents, speedup and time
// per query against array size for search benchmarks. Chart.js (/assets/chart.umd.js, from npm,
// embedded into the hub) is loaded only when there is something to draw. Every plot also has
// its numbers as a table, for screen readers and for copying.
import {enc, get} from './api.js';
import {empty, failure, h, num, replace} from './dom.js';

// Colour-blind-safe (Okabe-Ito, darkened to keep 4.5:1 against white).
const PALETTE = ['#0a5fa8', '#b35900', '#007a5a', '#a3367e', '#5b6b00', '#6e4fb3'];

let library = null;
function loadChartJs() {
  library ??= import('/assets/chart.umd.js').then(() => {
    if (!window.Chart) throw new Error('the charting library did not load');
    window.Chart.defaults.color = '#1f2933';
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    return window.Chart;
  }).catch((e) => {
    library = null;
    throw e;
  });
  return library;
}

// ---- adapters: output document -> plot specifications -----------------------------------

function cacheHitRates(doc) {
  if (!doc || !Array.isArray(doc.runs)) return [];
  const runs = doc.runs.filter((r) => r && r.hit_rate_pct && typeof r.hit_rate_pct === 'object');
  if (!runs.length) return [];
  const policies = Array.isArray(doc.policies) && doc.policies.length ? doc.policies
    : [...new Set(runs.flatMap((r) => Object.keys(r.hit_rate_pct)))];
  const label = (r) => [r.capacity !== undefined ? `capacity ${num(r.capacity)}` : 'run',
    r.warmup ? `warm-up ${num(r.warmup)}` : null].filter(Boolean).join(', ');
  const datasets = runs.map((r) => ({label: label(r),
    data: policies.map((p) => (typeof r.hit_rate_pct[p] === 'number' ? r.hit_rate_pct[p] : null))}));
  return [{
    kind: 'hit-rate',
    title: 'Hit rate per policy',
    description: `${runs.length > 1 ? 'Each cache size' : 'The cache'} replayed one request stream; `
      + 'a taller bar is a policy that kept more of the popular objects.',
    type: 'bar',
    labels: policies.map((p) => String(p).toUpperCase()),
    datasets,
    x: {title: 'eviction policy'},
    y: {title: 'hit rate (%)', zero: true},
    table: {columns: ['policy', ...datasets.map((d) => `${d.label} (%)`)],
      rows: policies.map((p, i) => [String(p), ...datasets.map((d) => d.data[i])])},
  }];
}

function searchSpeedup(doc) {
  if (!doc || !Array.isArray(doc.sizes)) return [];
  const rows = doc.sizes.filter((s) => s && Number.isFinite(s.n) && Number.isFinite(s.speedup));
  if (rows.length < 2) return [];
  const first = rows[0].n;
  const last = rows[rows.length - 1].n;
  const crossover = Number.isFinite(doc.crossover_n) ? ` Binary search wins from n = ${num(doc.crossover_n)}.` : '';
  const plots = [{
    kind: 'speedup',
    title: 'Speedup of binary search against array size',
    description: `Linear-scan time divided by binary-search time; above the dashed line binary search is faster.${crossover}`,
    type: 'line',
    datasets: [
      {label: 'speedup (linear ÷ binary)', data: rows.map((s) => ({x: s.n, y: s.speedup}))},
      {label: 'break-even (1×)', data: [{x: first, y: 1}, {x: last, y: 1}], borderDash: [6, 4],
        pointRadius: 0, borderWidth: 1.5},
    ],
    x: {title: 'array size n (elements)', log: true},
    y: {title: 'speedup (×)', log: true},
    table: {columns: ['n', 'speedup (×)'], rows: rows.map((s) => [s.n, s.speedup])},
  }];
  if (rows.every((s) => Number.isFinite(s.linear_ns) && Number.isFinite(s.binary_ns))) {
    plots.push({
      kind: 'time-per-query',
      title: 'Time per membership query against array size',
      description: 'A linear scan grows with n; binary search with log n.',
      type: 'line',
      datasets: [
        {label: 'linear scan', data: rows.map((s) => ({x: s.n, y: s.linear_ns}))},
        {label: 'binary search', data: rows.map((s) => ({x: s.n, y: s.binary_ns}))},
      ],
      x: {title: 'array size n (elements)', log: true},
      y: {title: 'time per query (ns)', log: true},
      table: {columns: ['n', 'linear (ns)', 'binary (ns)'],
        rows: rows.map((s) => [s.n, s.linear_ns, s.binary_ns])},
    });
  }
  return plots;
}

const ADAPTERS = [cacheHitRates, searchSpeedup];

// ---- drawing ----------------------------------------------------------------------------

function chartConfig(plot) {
  const scale = (axis, isX) => ({
    type: axis.log ? 'logarithmic' : (isX && plot.type === 'bar' ? 'category' : 'linear'),
    beginAtZero: Boolean(axis.zero),
    title: {display: true, text: axis.title},
  });
  return {
    type: plot.type,
    data: {
      labels: plot.labels,
      datasets: plot.datasets.map((d, i) => ({
        backgroundColor: PALETTE[i % PALETTE.length], borderColor: PALETTE[i % PALETTE.length],
        borderWidth: 2, pointRadius: 3, ...d,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {x: scale(plot.x, true), y: scale(plot.y, false)},
      plugins: {legend: {position: 'bottom'}},
    },
  };
}

function dataTable(plot) {
  return h('details', {class: 'plot-data'}, h('summary', {}, 'The numbers'),
    h('div', {class: 'table-wrap'}, h('table', {},
      h('thead', {}, h('tr', {}, plot.table.columns.map((c) => h('th', {scope: 'col'}, c)))),
      h('tbody', {}, plot.table.rows.map((r) => h('tr', {}, r.map((v) => h('td', {class: 'num'}, num(v)))))))));
}

function figure(plot, source) {
  const canvas = h('canvas', {role: 'img', 'aria-label': `${plot.title}. ${plot.description}`});
  return h('figure', {class: 'plot', dataset: {plot: plot.kind}},
    h('figcaption', {}, h('strong', {}, plot.title), h('span', {}, plot.description),
      h('span', {class: 'muted'}, source)),
    h('div', {class: 'plot-canvas'}, canvas),
    dataTable(plot));
}

// Plots of the newest job's runs of this version into `root`.
export async function renderPlots(root, pkg, runs, signal) {
  const newestJob = Math.max(0, ...runs.map((r) => r.job));
  const withJson = runs.filter((r) => r.job === newestJob
    && (r.outputs || []).some((o) => o.name.endsWith('.json')));
  if (!withJson.length) {
    replace(root, empty(runs.length ? 'The runs wrote no JSON output to plot.'
      : 'Nothing measured yet: plots appear once the hub has run the experiments.'));
    return;
  }
  const plots = [];
  try {
    const details = await Promise.all(withJson.map((r) =>
      get(`/packages/${enc(pkg.id)}/runs/${r.id}`, {signal})));
    for (const run of details) {
      for (const output of run.outputs || []) {
        if (output.json === undefined) continue;
        const source = `From run ${run.id} (${run.experiment}), ${output.name}.`;
        for (const adapt of ADAPTERS) plots.push(...adapt(output.json).map((p) => ({p, source})));
      }
    }
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    replace(root, failure('the measured outputs', e, () => renderPlots(root, pkg, runs, signal)));
    return;
  }
  if (!plots.length) {
    replace(root, empty('No plot for these outputs.',
      h('p', {}, 'Their raw files are linked under each run below.')));
    return;
  }
  let Chart;
  try {
    Chart = await loadChartJs();
  } catch (e) {
    replace(root, failure('the charting library', e, () => renderPlots(root, pkg, runs, signal)));
    return;
  }
  if (signal.aborted) return;
  const figures = plots.map(({p, source}) => figure(p, source));
  replace(root, h('div', {class: 'plots'}, figures));
  const charts = figures.map((f, i) => new Chart(f.querySelector('canvas'), chartConfig(plots[i].p)));
  signal.addEventListener('abort', () => charts.forEach((c) => c.destroy()), {once: true});
}
