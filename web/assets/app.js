// The application shell: routes the address to a page (history API), keeps in-app links from
// reloading, and holds the reviewer-token control in the header. The discoveries page, the
// usual way in, loads with the shell; the other pages' modules load when first shown.
import {renderDiscoveries} from './discoveries.js';
import {renderTokenControl} from './token.js';
import {empty, failure, h, replace} from './dom.js';

const routes = [
  {name: 'discoveries', pattern: /^\/$/, nav: '/', page: async () => renderDiscoveries},
  {name: 'package', pattern: /^\/packages\/([a-z0-9][a-z0-9-]{2,63})$/, nav: '/',
    page: async () => (await import('./package.js')).renderPackage},
  {name: 'tensions', pattern: /^\/tensions$/, nav: '/tensions',
    page: async () => (await import('./tensions.js')).renderTensions},
  {name: 'submit', pattern: /^\/submit$/, nav: '/submit',
    page: async () => (await import('./submit.js')).renderSubmit},
];

const main = document.getElementById('main');
let current = null;  // AbortController of the page being shown

// What a page gets: where it is, a way to change the address, and a signal that aborts its
// requests when the reader moves on.
function context(url, signal) {
  return {
    url,
    params: url.searchParams,
    signal,
    // Changes the address (and re-renders) without a reload; `replace` keeps history short
    // for changes a reader would not step back through (typing in the search box).
    go(href, {replace: replaceEntry = false, state = null} = {}) { navigate(href, replaceEntry, state); },
  };
}

let shownPath = null;

function render() {
  const pageChanged = shownPath !== null && shownPath !== location.pathname;
  shownPath = location.pathname;
  if (current) current.abort();
  current = new AbortController();
  const {signal} = current;
  const url = new URL(location.href);
  const route = routes.find((r) => r.pattern.test(url.pathname));
  for (const link of document.querySelectorAll('header nav a')) {
    if (route && link.getAttribute('href') === route.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  // A page may keep its own elements across renders of the same page (the discoveries search
  // box keeps focus while its results change); any other page starts from an empty <main>.
  if (!route || main.dataset.page !== route.name) delete main.dataset.page;
  main.setAttribute('aria-busy', 'true');
  // After a navigation, focus moves to the new page's heading so keyboard and screen-reader
  // users start at the top of what changed (again once the page has loaded, if the heading
  // it had focused was replaced).
  const focusHeading = () => {
    const heading = main.querySelector('h1');
    if (!heading) return;
    heading.setAttribute('tabindex', '-1');
    heading.focus({preventScroll: true});
  };
  const done = () => {
    if (signal.aborted) return;  // a newer render owns <main> now
    main.removeAttribute('aria-busy');
    if (pageChanged && document.activeElement === document.body) focusHeading();
  };
  const shown = () => {
    if (!pageChanged) return;
    focusHeading();
    window.scrollTo(0, 0);
  };
  if (!route) {
    document.title = 'Not found · AttentionHub';
    replace(main, h('h1', {}, 'Page not found'),
      empty('There is no page at this address.', h('a', {href: '/'}, 'Go to the discoveries')));
    shown();
    done();
    return;
  }
  const match = route.pattern.exec(url.pathname);
  route.page()
    .then((draw) => {
      if (signal.aborted) return undefined;
      // A page draws its <h1> before it waits for data, so focus can move there at once.
      const drawing = draw(main, context(url, signal), ...match.slice(1));
      shown();
      return drawing;
    })
    .catch((e) => {
      if (e.name === 'AbortError') return;
      console.error(e);
      replace(main, h('h1', {}, 'This page could not be shown'), failure('the page', e, render));
    })
    .finally(done);
}

function navigate(href, replaceEntry = false, state = null) {
  const url = new URL(href, location.href);
  if (replaceEntry) history.replaceState(state, '', url);
  else history.pushState(state, '', url);
  render();
}

// In-app links navigate without a reload; everything else (new tab, downloads, the API, other
// sites, in-page anchors) keeps the browser's behaviour.
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  if (!routes.some((r) => r.pattern.test(url.pathname))) return;
  event.preventDefault();
  navigate(url.href);
});

window.addEventListener('popstate', render);
// Signing in or out changes what pages offer (review forms), so the page is drawn again.
window.addEventListener('ahub:token', () => render());

renderTokenControl(document.getElementById('reviewer'));
render();
