// The reviewer-token control in the header. Without a token every page is read-only; with one,
// reviewer actions (marking tensions, re-queuing verification) appear. The token is kept in
// sessionStorage for this tab only.
import {checkToken, setToken, token} from './api.js';
import {h, replace} from './dom.js';

export function renderTokenControl(root) {
  const draw = () => (token() ? signedIn(root) : signedOut(root));
  window.addEventListener('ahub:token', draw);
  draw();
}

function signedIn(root) {
  replace(root,
    h('span', {class: 'reviewer-on'}, h('span', {'aria-hidden': 'true'}, '● '), 'Reviewer mode'),
    h('button', {type: 'button', class: 'link-button', onclick: () => setToken('')}, 'Forget token'));
}

function signedOut(root) {
  const input = h('input', {
    id: 'token-input', type: 'password', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'ahub_…', required: true, 'aria-describedby': 'token-help',
  });
  const message = h('span', {id: 'token-help', class: 'token-help', 'aria-live': 'polite'},
    'Only needed to review; reading needs none.');
  const form = h('form', {class: 'token-form', hidden: true},
    h('label', {for: 'token-input'}, 'Reviewer token'), input,
    h('button', {type: 'submit'}, 'Use token'), message);
  const toggle = h('button', {
    type: 'button', class: 'link-button', 'aria-expanded': 'false', 'aria-controls': 'token-form',
  }, 'Reviewer sign-in');
  form.id = 'token-form';
  toggle.addEventListener('click', () => {
    const open = form.hidden;
    form.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) input.focus();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    message.textContent = 'Checking…';
    let accepted = false;
    try {
      accepted = await checkToken(value);
    } catch {
      message.textContent = 'The hub did not answer; try again.';
      return;
    }
    if (!accepted) {
      message.textContent = 'The hub refused this token (401).';
      input.focus();
      return;
    }
    setToken(value);
    root.querySelector('button')?.focus();  // the form is gone; keep focus in the header
  });
  replace(root, toggle, form);
}

// Opens the sign-in form from elsewhere on a page ("sign in to review").
export function openTokenForm() {
  const toggle = document.querySelector('#reviewer [aria-controls="token-form"]');
  if (toggle && toggle.getAttribute('aria-expanded') !== 'true') toggle.click();
  else document.getElementById('token-input')?.focus();
}
