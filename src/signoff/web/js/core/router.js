// Hash routes (#/inbox/pending?template=leave): the page's path never changes, so the
// app works under any prefix without the server knowing its routes.

export function parseHash(hash = location.hash) {
  const text = hash.replace(/^#/, '') || '/';
  const [path, queryText = ''] = text.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = Object.fromEntries(new URLSearchParams(queryText));
  return { path, parts, query };
}

/** '#/requests/ID?x=1' from ['requests', id] and {x: 1} (empty values left out). */
export function href(parts, query = {}) {
  const path = parts.map((part) => encodeURIComponent(part)).join('/');
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, value);
  }
  const text = params.toString();
  return `#/${path}${text ? `?${text}` : ''}`;
}

export function go(parts, query) {
  const target = typeof parts === 'string' ? parts : href(parts, query);
  if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = target;
}

/** Change the query of the current route without adding a history entry or re-rendering. */
export function replaceQuery(query) {
  const { parts } = parseHash();
  history.replaceState(null, '', href(parts, query));
}
