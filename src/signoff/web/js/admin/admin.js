// Admin: templates (and their designer), the directory, apps and API keys, webhooks, and
// failed deliveries. Administrators only (the server checks too).

import { h, replace } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { href } from '../core/router.js';

const SECTIONS = {
  templates: () => import('./templates.js'),
  directory: () => import('./directory.js'),
  apps: () => import('./apps.js'),
  webhooks: () => import('./webhooks.js'),
  deliveries: () => import('./deliveries.js'),
};

export async function render(main, route) {
  const section = SECTIONS[route.parts[1]] ? route.parts[1] : 'templates';
  if (section === 'templates' && route.parts[2]) {
    const designer = await import('./designer.js');
    return designer.render(main, route);
  }
  document.title = `${t(`admin.${section}`)} · ${t('app.name')}`;
  const content = h('div', { class: 'admin-content' });
  replace(main, h('div', { class: 'page admin' },
    h('div', { class: 'page-head' }, h('h1', {}, t('nav.admin'))),
    h('nav', { class: 'tabs admin-tabs', 'aria-label': t('admin.sections') },
      Object.keys(SECTIONS).map((name) => h('a', { href: href(['admin', name]),
        class: ['tab', name === section ? 'is-current' : null],
        'aria-current': name === section ? 'page' : null }, t(`admin.${name}`)))),
    content));
  const module = await SECTIONS[section]();
  return module.render(content, route);
}
