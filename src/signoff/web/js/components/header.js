// The header: the product, the main places (inbox with the live count of pending tasks,
// new request, admin), the person's name, language and sign-out. On a phone the places
// move to a tab bar at the bottom.

import { h, icon, replace } from '../core/dom.js';
import { locale, setLocale, t } from '../core/i18n.js';
import { signOut } from '../core/api.js';
import { on, state } from '../core/state.js';
import { status as liveStatus } from '../core/live.js';
import { avatar } from './ui.js';

export function createHeader(current) {
  const counter = h('span', { class: 'count', dataset: { count: 'pending' } });
  const liveDot = h('span', { class: 'live-dot', role: 'img' });
  const links = [
    { id: 'inbox', href: '#/inbox/pending', label: t('nav.inbox'), extra: counter },
    { id: 'new', href: '#/new', label: t('nav.new') },
    { id: 'mine', href: '#/inbox/mine', label: t('nav.mine') },
  ];
  if (state.me && state.me.is_admin) links.push({ id: 'admin', href: '#/admin/templates',
    label: t('nav.admin') });
  const nav = h('nav', { class: 'nav', 'aria-label': t('nav.label') }, links.map((link) => h('a', {
    href: link.href, class: ['nav-link', current === link.id ? 'is-current' : null],
    'aria-current': current === link.id ? 'page' : null,
  }, h('span', { class: 'nav-text' }, link.label), link.extra || null)));

  const language = h('select', { class: 'lang', 'aria-label': t('nav.language'),
    onchange: () => { setLocale(language.value); location.reload(); } },
  h('option', { value: 'zh-CN', selected: locale() === 'zh-CN' }, '中文'),
  h('option', { value: 'en', selected: locale() === 'en' }, 'English'));

  const me = state.me || { name: '' };
  const header = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '#/inbox/pending' }, h('span', { class: 'logo',
      'aria-hidden': 'true' }, '✓'), h('span', { class: 'brand-name' }, t('app.name'))),
    nav,
    h('div', { class: 'who' }, liveDot, language,
      h('span', { class: 'me' }, avatar(me.name, 'sm'), h('span', { class: 'me-name' }, me.name)),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('nav.signOut'),
        title: t('nav.signOut'), onclick: () => signOut() }, icon('logout'))));

  function showCounts(counts) {
    const n = counts.pending || 0;
    replace(counter, n > 99 ? '99+' : String(n));
    counter.hidden = n === 0;
    counter.setAttribute('aria-label', t('nav.pendingCount', { n }));
    counter.dataset.value = String(n);
  }
  function showLive(connected) {
    liveDot.classList.toggle('is-on', connected);
    liveDot.setAttribute('aria-label', connected ? t('live.on') : t('live.off'));
    liveDot.title = connected ? t('live.on') : t('live.off');
  }
  showCounts(state.counts);
  showLive(liveStatus.connected);
  const offs = [on('counts', showCounts), on('live-status', showLive)];
  return { element: header, destroy: () => offs.forEach((off) => off()) };
}
