// Discoveries: packages ranked by earned attention (or by recency), with category and tag chips
// that filter, free-text search and paging. Every choice lives in the address (?category=,
// ?tag=, ?q=, ?sort=, ?cursor=) so a view can be shared. Reads GET /api/v1/packages.
import {get} from './api.js';
import {
  date, empty, failure, h, levelBadge, loading, num, plural, replace, tensionMarker,
} from './dom.js';

const PAGE_SIZE = 20;
const TAGS_SHOWN = 16;
let searchTimer = 0;

export function renderDiscoveries(main, ctx) {
  if (main.dataset.page !== 'discoveries') buildShell(main, ctx);
  const parts = shellParts(main);
  const params = ctx.params;
  syncForm(parts, params);
  document.title = titleFor(params);
  return loadResults(parts, ctx);
}

function titleFor(params) {
  const filters = ['category', 'tag', 'q'].map((k) => params.get(k)).filter(Boolean);
  return `${filters.length ? `${filters.join(' · ')} · ` : ''}Discoveries · AttentionHub`;
}

function buildShell(main, ctx) {
  main.dataset.page = 'discoveries';
  const search = h('input', {
    id: 'q', name: 'q', type: 'search', autocomplete: 'off',
    placeholder: 'Title, summary, tag or id', 'aria-describedby': 'q-help',
  });
  const sort = h('select', {id: 'sort', name: 'sort'},
    h('option', {value: 'attention'}, 'Earned attention'),
    h('option', {value: 'recent'}, 'Most recent'));
  const form = h('form', {class: 'controls', role: 'search', 'aria-label': 'Packages'},
    h('div', {class: 'field grow'}, h('label', {for: 'q'}, 'Search'), search,
      h('span', {id: 'q-help', class: 'visually-hidden'}, 'Results update as you type.')),
    h('div', {class: 'field'}, h('label', {for: 'sort'}, 'Sort by'), sort),
    h('button', {type: 'submit'}, 'Search'));
  const apply = (replaceEntry) => {
    if (location.pathname !== '/') return;  // a late keystroke after the reader moved on
    const next = new URL(location.href);
    setParam(next, 'q', search.value.trim());
    setParam(next, 'sort', sort.value === 'attention' ? '' : sort.value);
    next.searchParams.delete('cursor');
    if (next.search !== location.search) ctx.go(next.href, {replace: replaceEntry});
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(searchTimer); apply(false); });
  sort.addEventListener('change', () => apply(false));
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => apply(true), 250);
  });
  replace(main,
    h('h1', {}, 'Discoveries'),
    h('p', {class: 'lead'}, 'Machine-actionable research packages, ranked by earned attention: ',
      'claims re-measured in a sandbox earn it, refuted ones lose it. ',
      h('a', {href: '/submit'}, 'How scores and submissions work')),
    form,
    h('div', {class: 'facets', id: 'facets'}),
    h('p', {class: 'result-count', id: 'result-count', role: 'status'}),
    h('div', {id: 'results'}),
    h('nav', {class: 'pager', id: 'pager', 'aria-label': 'Pages'}));
}

function shellParts(main) {
  const $ = (id) => main.querySelector(`#${id}`);
  return {
    search: $('q'), sort: $('sort'), facets: $('facets'), count: $('result-count'),
    results: $('results'), pager: $('pager'),
  };
}

function syncForm(parts, params) {
  const q = params.get('q') || '';
  // Never rewrite the box while the reader types in it (the address follows the box).
  if (document.activeElement !== parts.search && parts.search.value !== q) parts.search.value = q;
  parts.sort.value = params.get('sort') === 'recent' ? 'recent' : 'attention';
}

function setParam(url, key, value) {
  if (value) url.searchParams.set(key, value);
  else url.searchParams.delete(key);
}

async function loadResults(parts, ctx) {
  const params = ctx.params;
  const query = new URLSearchParams({limit: String(PAGE_SIZE)});
  for (const key of ['sort', 'category', 'tag', 'q', 'cursor']) {
    if (params.get(key)) query.set(key, params.get(key));
  }
  if (parts.results.childElementCount === 0 || parts.results.querySelector('.state')) {
    replace(parts.results, loading('packages'));
  } else {
    parts.results.classList.add('stale');
  }
  let list;
  try {
    list = await get(`/packages?${query}`, {signal: ctx.signal});
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    parts.results.classList.remove('stale');
    replace(parts.facets);
    replace(parts.pager);
    parts.count.textContent = '';
    replace(parts.results, failure('the packages', e, () => renderDiscoveries(
      document.getElementById('main'), ctx)));
    return;
  }
  parts.results.classList.remove('stale');
  renderFacets(parts.facets, list.facets || {}, params);
  renderCount(parts.count, list, params, ctx);
  renderCards(parts.results, list.items, params);
  renderPager(parts.pager, list, ctx);
  performance.mark('ahub:discoveries-rendered');
}

// ---- chips ------------------------------------------------------------------------------

function chipHref(params, key, value) {
  const url = new URL(location.origin + location.pathname);
  for (const [k, v] of params) if (k !== 'cursor') url.searchParams.set(k, v);
  if (params.get(key) === value) url.searchParams.delete(key);  // an active chip removes itself
  else url.searchParams.set(key, value);
  return url.pathname + url.search;
}

function chipGroup(label, key, facets, params, prefix) {
  const active = params.get(key);
  const items = [...facets];
  if (active && !items.some((f) => f.name === active)) items.unshift({name: active, count: 0});
  if (!items.length) return null;
  const id = `facet-${key}`;
  const chips = items.map((f, i) => {
    const on = f.name === active;
    return h('li', {hidden: i >= TAGS_SHOWN && !on ? true : null},
      h('a', {
        class: on ? 'chip chip-on' : 'chip', href: chipHref(params, key, f.name),
        'aria-current': on ? 'true' : null, dataset: {facet: key, name: f.name},
        title: on ? `Remove the ${key} filter` : `Only packages with ${key} ${f.name}`,
      }, `${prefix}${f.name}`, ' ', h('span', {class: 'count'}, num(f.count)),
      on ? h('span', {class: 'visually-hidden'}, ' (filter on; select to remove)') : null));
  });
  const list = h('ul', {class: 'chips', 'aria-labelledby': `${id}-label`}, chips);
  const hidden = items.length - TAGS_SHOWN;
  const more = hidden > 0 ? h('button', {
    type: 'button', class: 'link-button',
    onclick: (e) => {
      for (const li of list.querySelectorAll('li[hidden]')) li.hidden = false;
      e.currentTarget.remove();
    },
  }, `Show ${hidden} more`) : null;
  return h('div', {class: 'facet-group', id},
    h('span', {class: 'facet-label', id: `${id}-label`}, label), list, more);
}

function renderFacets(root, facets, params) {
  replace(root,
    chipGroup('Categories', 'category', facets.categories || [], params, ''),
    chipGroup('Tags', 'tag', facets.tags || [], params, '#'));
}

// ---- results ----------------------------------------------------------------------------

function filtersOf(params) {
  return [['category', 'category'], ['tag', 'tag'], ['q', 'search']]
    .filter(([key]) => params.get(key))
    .map(([key, label]) => ({key, label, value: params.get(key)}));
}

function renderCount(root, list, params, ctx) {
  const filters = filtersOf(params);
  const pageIndex = (history.state && history.state.cursors ? history.state.cursors.length : 0);
  const first = pageIndex * PAGE_SIZE + 1;
  const last = pageIndex * PAGE_SIZE + list.items.length;
  replace(root,
    list.total > list.items.length && list.items.length
      ? `Packages ${first}–${last} of ${list.total}`
      : plural(list.total, 'package'),
    filters.length ? ' · ' : '',
    filters.map((f, i) => [i ? ', ' : '', `${f.label} “${f.value}”`]),
    filters.length ? [' · ', h('a', {href: '/', onclick: (e) => {
      e.preventDefault();
      const url = new URL(location.href);
      for (const key of ['category', 'tag', 'q', 'cursor']) url.searchParams.delete(key);
      ctx.go(url.href);
    }}, 'Clear filters')] : '');
}

function renderCards(root, items, params) {
  if (!items.length) {
    replace(root, filtersOf(params).length
      ? empty('No package matches these filters.', h('p', {}, 'Try fewer words, or ',
        h('a', {href: '/'}, 'show every package'), '.'))
      : empty('No packages yet.', h('p', {}, 'Packages appear here once submitted: ',
        h('a', {href: '/submit'}, 'how to submit one'), '.')));
    return;
  }
  replace(root, h('ol', {class: 'cards', id: 'cards'}, items.map(card)));
}

function card(p) {
  const href = `/packages/${p.id}`;
  return h('li', {class: 'card', dataset: {id: p.id, level: p.level}},
    h('article', {'aria-labelledby': `card-${p.id}`},
      h('div', {class: 'card-head'},
        h('h2', {id: `card-${p.id}`}, h('a', {href}, p.title || p.id)),
        h('p', {class: 'score', title: 'Earned attention; the package page explains it'},
          h('span', {class: 'score-label'}, 'attention'), ' ',
          h('span', {class: 'score-value'}, p.score.toFixed(1)))),
      h('div', {class: 'badges'}, levelBadge(p.level),
        tensionMarker(p.open_tensions, `/packages/${p.id}#tensions`)),
      h('p', {class: 'summary'}, p.summary),
      h('ul', {class: 'meta'},
        p.primary_category ? h('li', {}, h('a', {
          class: 'chip chip-small', href: `/?category=${encodeURIComponent(p.primary_category)}`,
          title: 'Primary category',
        }, p.primary_category)) : null,
        h('li', {class: 'claims-count'}, plural(p.claims ?? 0, 'claim')),
        h('li', {}, `v${p.version}`),
        h('li', {}, h('time', {datetime: p.published || p.updated_at},
          p.published || date(p.updated_at))),
        (p.tags || []).map((t) => h('li', {class: 'tag'}, `#${t}`)))));
}

function renderPager(root, list, ctx) {
  const stack = (history.state && history.state.cursors) || [];
  const links = [];
  if (stack.length) {
    const prev = stack[stack.length - 1];
    const url = new URL(location.href);
    setParam(url, 'cursor', prev);
    links.push(h('a', {href: url.pathname + url.search, rel: 'prev', onclick: (e) => {
      e.preventDefault();
      ctx.go(url.href, {state: {cursors: stack.slice(0, -1)}});
    }}, '← Previous page'));
  } else if (ctx.params.get('cursor')) {
    const url = new URL(location.href);
    url.searchParams.delete('cursor');
    links.push(h('a', {href: url.pathname + url.search}, '← First page'));
  }
  if (list.next_cursor) {
    const url = new URL(location.href);
    url.searchParams.set('cursor', list.next_cursor);
    links.push(h('a', {href: url.pathname + url.search, rel: 'next', onclick: (e) => {
      e.preventDefault();
      ctx.go(url.href, {state: {cursors: [...stack, ctx.params.get('cursor') || '']}});
    }}, 'Next page →'));
  }
  replace(root, links);
}
