// The hub's JSON API (/api/v1, contract at /api/v1/openapi.json) and the reviewer token.
// Reads are anonymous; only writes send the token, which lives in sessionStorage: it is entered
// once per browser session and forgotten when the tab closes.

const TOKEN_KEY = 'ahub.reviewer-token';

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';  // storage disabled: read-only
  }
}

export function setToken(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token cannot be kept; writes will answer 401
  }
  window.dispatchEvent(new CustomEvent('ahub:token'));
}

async function request(method, path, {body, auth = false, signal} = {}) {
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && token()) headers.Authorization = `Bearer ${token()}`;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'unreachable', 'The hub did not answer (is `ahub serve` running?).');
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = data && data.error;
    throw new ApiError(res.status, err ? err.code : `http_${res.status}`,
      err ? err.message : `The hub answered ${res.status} ${res.statusText}.`,
      err ? err.details : []);
  }
  if (data === null) throw new ApiError(res.status, 'bad_response', 'The hub answered with no JSON.');
  return data;
}

export const get = (path, options) => request('GET', path, options);
export const patch = (path, body) => request('PATCH', path, {body, auth: true});
export const post = (path, body) => request('POST', path, {body, auth: true});

// A token is checked by any authenticated read: a wrong one answers 401.
export const checkToken = (candidate) => fetch('/api/v1/healthz', {
  headers: {Authorization: `Bearer ${candidate}`},
}).then((res) => res.status !== 401);

export const enc = encodeURIComponent;
