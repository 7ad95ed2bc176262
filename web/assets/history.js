// A package's history on its page: the experiment runs of the version shown (outcome, timings,
// logs on demand from GET /runs/{run}), the hosts that attested it, and its versions with a
// diff between any two (GET /diff?from=&to=).
import {enc, get} from './api.js';
import {date, empty, failure, h, loading, num, plural, replace, seconds} from './dom.js';

// ---- runs -------------------------------------------------------------------------------

function outcome(run) {
  if (run.skipped) return {cls: 'skipped', text: `skipped${run.skip_reason ? `: ${run.skip_reason}` : ''}`};
  if (run.succeeded) return {cls: 'reproduced', text: 'succeeded'};
  const why = run.failure || (run.killed_by && run.killed_by !== 'none'
    ? `killed (${run.killed_by})` : `exit ${run.exit_code}`);
  return {cls: 'failed', text: `failed: ${why}`};
}

function logs(pkgId, run) {
  const body = h('div', {class: 'logs'});
  const details = h('details', {}, h('summary', {}, 'Logs and outputs'), body);
  let loaded = false;
  const load = async () => {
    loaded = true;
    replace(body, loading('the logs'));
    try {
      const full = await get(`/packages/${enc(pkgId)}/runs/${run.id}`);
      replace(body,
        ['stdout', 'stderr'].map((stream) => h('div', {},
          h('h4', {}, stream, h('span', {class: 'muted'}, ` · ${num(full[stream]?.bytes ?? 0)} bytes`)),
          full[stream] && full[stream].text
            ? h('pre', {class: 'log', tabindex: '0'}, full[stream].text)
            : h('p', {class: 'muted'}, 'empty'))),
        (full.outputs || []).length ? h('div', {}, h('h4', {}, 'Outputs'),
          h('ul', {}, full.outputs.map((o) => h('li', {},
            h('a', {href: o.url, download: o.name}, o.name), ` (${num(o.bytes)} bytes)`)))) : null);
    } catch (e) {
      loaded = false;
      replace(body, failure('the logs', e, load));
    }
  };
  details.addEventListener('toggle', () => { if (details.open && !loaded) load(); });
  return details;
}

function runCard(pkgId, run) {
  const o = outcome(run);
  const facts = [
    ['Exit code', run.exit_code ?? '—'],
    ['Wall time', seconds(run.wall_seconds)],
    ['CPU time', seconds(run.cpu_seconds)],
    ['Peak memory', run.peak_memory_mb !== undefined ? `${num(run.peak_memory_mb)} MB` : '—'],
    ['Output', `${num(run.output_bytes ?? 0)} bytes`],
    ['Limits enforced by', run.enforcement || '—'],
  ];
  return h('li', {class: 'run', dataset: {run: run.id}},
    h('div', {class: 'run-head'},
      h('h3', {}, `Run ${run.id} · `, h('code', {}, run.experiment)),
      h('span', {class: `verdict verdict-${o.cls}`}, o.text)),
    h('p', {class: 'muted'}, `Job ${run.job} · version ${run.version} · ${date(run.created_at)}`),
    h('dl', {class: 'facts'}, facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, String(v))))),
    logs(pkgId, run));
}

function attestations(pkg) {
  const list = pkg.attestations || [];
  if (!list.length) return null;
  return h('div', {},
    h('h3', {}, 'Attested by other hosts'),
    h('ul', {class: 'attestations'}, list.map((a) => h('li', {},
      h('code', {title: a.fingerprint}, (a.fingerprint || '').slice(0, 16)), ` reached ${a.level}`,
      ` · ${date(a.created_at)}`))));
}

export function renderRuns(root, pkg, runs) {
  if (!runs.length) {
    replace(root, empty(pkg.verification ? 'No run recorded yet for this version.'
      : 'Nothing to run: no claim of this version has evidence.'), attestations(pkg));
    return;
  }
  replace(root,
    h('p', {}, `${plural(runs.length, 'run')} on the hub, newest first.`),
    h('ol', {class: 'runs'}, runs.map((r) => runCard(pkg.id, r))),
    attestations(pkg));
}

// ---- versions and diff ------------------------------------------------------------------

function versionSelect(id, label, versions, selected) {
  return h('div', {class: 'field'}, h('label', {for: id}, label),
    h('select', {id}, versions.map((v) => h('option', {
      value: v.version, selected: v.version === selected ? true : null,
    }, `v${v.version}`))));
}

function patchView(patch) {
  // One span per line, classed by its first character; the text is never markup.
  const pre = h('pre', {class: 'patch', tabindex: '0'});
  for (const line of patch.split('\n')) {
    const cls = line.startsWith('+') && !line.startsWith('+++') ? 'add'
      : line.startsWith('-') && !line.startsWith('---') ? 'del'
        : line.startsWith('@@') ? 'hunk' : line.startsWith('diff ') ? 'file' : '';
    pre.append(h('span', {class: cls}, line), '\n');
  }
  return pre;
}

async function showDiff(root, pkg, from, to) {
  if (from === to) {
    replace(root, h('p', {class: 'muted'}, 'Pick two different versions.'));
    return;
  }
  replace(root, loading('the diff'));
  try {
    const diff = await get(`/packages/${enc(pkg.id)}/diff?from=${from}&to=${to}`);
    if (!diff.files.length) {
      replace(root, empty(`v${from} and v${to} have the same files.`));
      return;
    }
    replace(root,
      h('ul', {class: 'diff-files'}, diff.files.map((f) => h('li', {},
        h('code', {}, f.path), ` ${f.status} `,
        h('span', {class: 'add'}, `+${f.additions}`), ' ', h('span', {class: 'del'}, `−${f.deletions}`)))),
      patchView(diff.patch || ''));
  } catch (e) {
    replace(root, failure('the diff', e, () => showDiff(root, pkg, from, to)));
  }
}

export function renderVersions(root, pkg, ctx) {
  const versions = pkg.versions || [];
  const rows = versions.map((v) => h('tr', {class: v.version === pkg.version ? 'current' : ''},
    h('th', {scope: 'row'}, v.version === pkg.version ? `v${v.version} (shown)`
      : h('a', {href: `/packages/${enc(pkg.id)}?version=${v.version}`}, `v${v.version}`)),
    h('td', {}, date(v.submitted_at)),
    h('td', {}, h('code', {title: v.content_sha256}, (v.content_sha256 || '').slice(0, 12))),
    h('td', {}, h('code', {title: v.commit}, (v.commit || '').slice(0, 10)))));
  const table = h('div', {class: 'table-wrap'}, h('table', {},
    h('caption', {class: 'visually-hidden'}, 'Versions'),
    h('thead', {}, h('tr', {}, ['Version', 'Submitted', 'Content', 'Commit']
      .map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, rows)));
  if (versions.length < 2) {
    replace(root, table, h('p', {class: 'muted'}, 'One version so far; a diff needs two.'));
    return;
  }
  const out = h('div', {class: 'diff', 'aria-live': 'polite'});
  const latest = versions[versions.length - 1].version;
  const form = h('form', {class: 'controls diff-form', 'aria-label': 'Compare versions'},
    versionSelect('diff-from', 'From', versions, versions[versions.length - 2].version),
    versionSelect('diff-to', 'To', versions, latest),
    h('button', {type: 'submit'}, 'Show diff'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (ctx.signal.aborted) return;
    showDiff(out, pkg, Number(form.querySelector('#diff-from').value),
      Number(form.querySelector('#diff-to').value));
  });
  replace(root, table, h('h3', {}, 'Compare two versions'), form, out);
}
