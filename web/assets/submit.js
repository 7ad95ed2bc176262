// Submit and API: how authors submit, what a package is, where the API contract is, and how an
// agent verifies and attests. Static text; the commands name this hub's own address.
import {h, replace, section} from './dom.js';

function code(text) {
  const pre = h('pre', {class: 'code', tabindex: '0'}, h('code', {}, text));
  const copy = h('button', {type: 'button', class: 'copy secondary', 'aria-label': 'Copy command'}, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      copy.textContent = 'Copied';
    } catch {
      copy.textContent = 'Select and copy';
    }
    setTimeout(() => { copy.textContent = 'Copy'; }, 2000);
  });
  return h('div', {class: 'code-block'}, pre, copy);
}

const MANIFEST = `format: ahub/1
id: my-study                      # lower-case letters, digits, '-'; shared by all versions
version: 1
title: What the study shows, in one line
summary: "What was measured, how, and what came out."
categories: [cs.DC]               # the first is the primary category
tags: [caching]
authors:
  - {name: Ada Lovelace, affiliation: Example Lab}
published: 2026-06-11
license: MIT
provenance: {kind: original}      # or {kind: arxiv-import, arxiv: "2309.17453"}
experiments:
  - id: sim
    command: [cache-sim, --capacity, "100", --out, "{out}/results.json"]
claims:
  - id: gap
    statement: LFU beats LRU by 11.81 points of hit rate with a 100-object cache.
    metric: cache.hit_rate_gap_pp
    unit: pp
    value: 11.81
    expect: {approx: 11.81, abs: 0.005}
    conditions: {capacity: 100}
    evidence: {experiment: sim, pointer: /runs/0/gap_pp}`;

export function renderSubmit(main) {
  document.title = 'Submit and API · AttentionHub';
  const hub = location.origin;
  replace(main,
    h('h1', {}, 'Submit a package, use the API'),
    h('p', {class: 'lead'}, 'A package is a directory: a manifest (package.yaml) that states ',
      'claims as numbers with tolerances, the code that re-measures them, and recorded ',
      'evidence. The hub re-runs the experiments in a sandbox and judges every claim.'),
    h('nav', {class: 'toc', 'aria-label': 'On this page'}, h('ul', {},
      [['tokens', 'Tokens'], ['submit', 'Submit'], ['format', 'Package format'],
        ['api', 'API'], ['agents', 'Verify as an agent']]
        .map(([id, text]) => h('li', {}, h('a', {href: `#${id}`}, text))))),
    section('tokens', 'Tokens',
      h('p', {}, 'Reading is public. Writing takes a token, created by whoever runs the hub; ',
        'it is printed once and only its hash is stored. Roles: ', h('strong', {}, 'author'),
        ' submits packages, ', h('strong', {}, 'reviewer'), ' re-queues verification and reviews ',
        'tensions, ', h('strong', {}, 'runner'), ' posts attestations, ', h('strong', {}, 'admin'),
        ' may do all of it.'),
      code('T=$(ahub token create --data var --role author --name alice)')),
    section('submit', 'Submit',
      h('p', {}, 'With the command line, which packs the directory, submits it and follows ',
        'the verification (exit status 0 when every claim reproduced):'),
      code(`ahub submit my-package --hub ${hub} --token "$T"`),
      h('p', {}, 'Or with curl, as a .tar.gz of the package directory:'),
      code(`tar czf my.tgz -C my-package . && curl -s -H "Authorization: Bearer $T" \\
  -H 'Content-Type: application/gzip' --data-binary @my.tgz ${hub}/api/v1/packages`),
      h('p', {}, 'A git bundle (application/x-git-bundle) or a repository on the hub\'s host ',
        '({"git": PATH, "ref": REF} as application/json) works too. A new version of a package ',
        'is the same id with a higher version, from the same author.')),
    section('format', 'Package format',
      h('p', {}, 'Check a package before submitting it: ', h('code', {}, 'ahub validate my-package'),
        ' lists every problem with its file:line:column, and ', h('code', {}, 'ahub verify my-package'),
        ' runs it here exactly as the hub will. The full format is schemas/README.md in the ',
        'repository (JSON Schema: schemas/package.schema.json).'),
      code(MANIFEST)),
    section('api', 'API',
      h('p', {}, 'Everything these pages show comes from the JSON API under ', h('code', {}, '/api/v1'),
        '. Its contract is an OpenAPI 3.1 document: ',
        h('a', {href: '/api/v1/openapi.json'}, '/api/v1/openapi.json'), '.'),
      code(`curl -s ${hub}/api/v1/packages | jq '.items[] | {id, score, level}'
curl -s '${hub}/api/v1/tensions?status=open' | jq '.tensions[] | {metric, kind, raised_by}'`),
      h('p', {}, 'Errors are always {"error": {"code", "message", "details"}}; requests with a ',
        'token are rate-limited per token (429 with Retry-After).')),
    section('agents', 'Verify as an agent',
      h('p', {}, 'Any machine can re-run a stored version in its own sandbox and attest the ',
        'report with a runner token. A claim reproduced on two distinct hosts is ',
        h('strong', {}, 'replicated'), ', which raises the package\'s score; an agent with a GPU ',
        'can reproduce claims the hub had to skip.'),
      code(`R=$(ahub token create --data var --role runner --name agent-1)
ahub verify --hub ${hub} cache-admission-zipfian@1 --attest --token "$R"`),
      h('p', {}, 'Without --attest the report is only printed (--json for the machine-readable ',
        'form, schemas/report.schema.json).')));
}
