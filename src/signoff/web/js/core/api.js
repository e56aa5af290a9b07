// Talking to the server. Every URL is relative to the page's base (the <base href> the
// server fills with the path the app is served under), never an absolute path.
// The session (access + refresh token) lives in localStorage; an expired access token is
// refreshed once, shared by every caller (and by other tabs that refreshed first).

const SESSION_KEY = 'signoff.session';

/** The app's base URL, e.g. https://host/approvals/ */
export function appBase() {
  return new URL('.', document.baseURI);
}

export function apiUrl(path) {
  return new URL(`api/v1/${path.replace(/^\/+/, '')}`, appBase()).toString();
}

/** ws(s)://host/<prefix>/ws */
export function socketUrl() {
  const url = new URL('ws', appBase());
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code || (status === 0 ? 'network' : 'http_error');
    this.errors = this.problem.errors || [];
    this.details = this.problem.details || {};
  }
}

// ---- the session ------------------------------------------------------------------------

const listeners = new Set();

export function session() {
  try {
    return JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
  } catch {
    return null;
  }
}

function store(tokens) {
  if (tokens) localStorage.setItem(SESSION_KEY, JSON.stringify(tokens));
  else localStorage.removeItem(SESSION_KEY);
}

/** Called with no argument when the session ends (refresh failed, signed out). */
export function onSignedOut(listener) {
  listeners.add(listener);
}

export function signOut() {
  store(null);
  for (const listener of listeners) listener();
}

export async function signIn(principalId, password) {
  const tokens = await request('auth/login', {
    method: 'POST', body: { principal_id: principalId, password }, auth: false,
  });
  store(tokens);
  return tokens;
}

let refreshing = null;

/** A new access token (one refresh at a time; the refresh token works once). */
export function refresh() {
  if (refreshing) return refreshing;
  const before = session();
  refreshing = (async () => {
    if (!before) throw new ApiError(401, { code: 'not_authenticated' });
    try {
      const tokens = await request('auth/refresh', {
        method: 'POST', body: { refresh_token: before.refresh_token }, auth: false,
      });
      store(tokens);
      return tokens;
    } catch (error) {
      const now = session();
      // another tab refreshed first and spent our refresh token: use its tokens
      if (now && before && now.refresh_token !== before.refresh_token) return now;
      if (error.status === 401) signOut();
      throw error;
    }
  })().finally(() => { refreshing = null; });
  return refreshing;
}

// ---- requests ---------------------------------------------------------------------------

/**
 * request('inbox/pending', {query, method, body, headers, ifMatch, idempotencyKey, raw})
 * Answers the parsed JSON (or, with `raw`, {body, etag, status}); throws ApiError with the
 * server's problem document.
 */
export async function request(path, options = {}) {
  const { method = 'GET', body, query, ifMatch, idempotencyKey, auth = true, raw = false,
    contentType } = options;
  let url = apiUrl(path);
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') params.set(key, value);
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const send = async () => {
    const headers = { Accept: 'application/json', ...(options.headers || {}) };
    const current = session();
    if (auth && current) headers.Authorization = `Bearer ${current.access_token}`;
    if (ifMatch !== undefined && ifMatch !== null) headers['If-Match'] = `"${ifMatch}"`;
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
    let payload;
    if (body !== undefined) {
      headers['Content-Type'] = contentType || 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    try {
      return await fetch(url, { method, headers, body: payload });
    } catch {
      throw new ApiError(0, { code: 'network', detail: 'network' });
    }
  };
  let response = await send();
  if (response.status === 401 && auth && session()) {
    await refresh();
    response = await send();
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  if (raw) {
    const etag = (response.headers.get('ETag') || '').replace(/^W\//, '').replace(/"/g, '');
    return { body: data, etag: etag ? Number(etag) : null, status: response.status };
  }
  return data;
}

export const get = (path, query) => request(path, { query });

/** A command: sent with a fresh Idempotency-Key, retried once with the same key when the
 * network drops (the server answers a retry with the stored outcome). */
export async function command(path, body = {}, options = {}) {
  const idempotencyKey = options.idempotencyKey || newKey();
  const call = () => request(path, { method: 'POST', body, idempotencyKey, ...options });
  try {
    return await call();
  } catch (error) {
    if (error.code === 'network') return call();
    throw error;
  }
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** Save a file the API serves (documents) under `filename`: fetched with the session's
 * token, then handed to the browser as a download. */
export async function download(path, filename) {
  const url = apiUrl(path);
  const fetchIt = () => fetch(url, { headers: { Authorization: `Bearer ${session().access_token}` } });
  let response = await fetchIt();
  if (response.status === 401) {
    await refresh();
    response = await fetchIt();
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    throw new ApiError(response.status, problem);
  }
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}
