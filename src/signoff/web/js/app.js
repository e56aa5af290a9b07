// The app: sign-in, then one page per route under a shared header. Pages are modules with
// `render(main, route)`, which may answer a function that tidies up when the page goes.

import { h, replace } from './core/dom.js';
import { t } from './core/i18n.js';
import { onSignedOut, session } from './core/api.js';
import { go, parseHash } from './core/router.js';
import { emit, loadMe, on, resetState, setCounts, state } from './core/state.js';
import { startLive, stopLive } from './core/live.js';
import { createHeader } from './components/header.js';
import { errorBox, loading, toast } from './components/ui.js';

const PAGES = {
  login: () => import('./pages/login.js'),
  inbox: () => import('./pages/inbox.js'),
  new: () => import('./pages/compose.js'),
  requests: () => import('./pages/request.js'),
  admin: () => import('./admin/admin.js'),
};

const NAV_OF = { inbox: 'inbox', new: 'new', requests: 'inbox', admin: 'admin' };

const root = document.getElementById('app');
let cleanup = null;
let header = null;
let rendering = 0;

async function render() {
  const mine = ++rendering;
  const route = parseHash();
  let name = route.parts[0] || 'inbox';
  if (!PAGES[name]) name = 'inbox';
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  if (header) {
    header.destroy();
    header = null;
  }
  if (!session()) {
    if (name !== 'login') {
      const next = location.hash && !location.hash.startsWith('#/login') ? location.hash : '';
      go(['login'], { next });
      return;
    }
  } else if (name === 'login') {
    go(route.query.next || '#/inbox/pending');
    return;
  }
  if (session() && !state.me) {
    replace(root, loading());
    try {
      await loadMe();
      startLive();
    } catch (error) {
      if (!session()) return; // the refresh failed: signed out, the login page follows
      replace(root, errorBox(error));
      return;
    }
  }
  const module = await PAGES[name]();
  if (mine !== rendering) return;
  const main = h('main', { id: 'main', class: ['main', `page-${name}`], tabindex: '-1' });
  if (name === 'login') {
    replace(root, main);
  } else {
    if (route.parts[0] === 'admin' && !state.me.is_admin) {
      replace(root, errorBox(t('admin.only')));
      return;
    }
    header = createHeader(NAV_OF[name] && route.parts[1] === 'mine' ? 'mine' : NAV_OF[name]);
    replace(root, h('a', { class: 'skip', href: '#main', onclick: (event) => {
      event.preventDefault();
      main.focus();
    } }, t('nav.skip')), header.element, main);
  }
  try {
    const result = await module.render(main, route);
    if (mine !== rendering) {
      if (typeof result === 'function') result();
      return;
    }
    cleanup = typeof result === 'function' ? result : null;
  } catch (error) {
    if (mine === rendering) replace(main, errorBox(error));
  }
}

onSignedOut(() => {
  stopLive();
  resetState();
  go(['login']);
});

// counts pushed over the socket refresh the header without a request
on('counts-pushed', (counts) => setCounts(counts));
on('live', (message) => {
  if (message.type === 'task.assigned') toast(t('live.newTask', { title: message.title }), 'info');
  else if (message.type === 'instance.urged') {
    toast(t('live.urged', { title: message.title }), 'info');
  }
});

window.addEventListener('hashchange', render);
window.addEventListener('storage', (event) => {
  // signed out in another tab
  if (event.key === 'signoff.session' && !event.newValue && state.me) {
    stopLive();
    resetState();
    go(['login']);
  }
});
emit('boot');
render();
