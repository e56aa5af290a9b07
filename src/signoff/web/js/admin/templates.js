// Templates: the published ones with their versions and drafts; open one in the designer,
// or start a new one (saved as a draft right away).

import { h, icon, replace } from '../core/dom.js';
import { formatTime, t } from '../core/i18n.js';
import { request } from '../core/api.js';
import { go, href } from '../core/router.js';
import { templates } from '../core/state.js';
import { card, empty, openDialog } from '../components/ui.js';

export async function render(content) {
  const list = await templates(true);
  const rows = list.map((tpl) => h('tr', {},
    h('td', {}, h('a', { href: href(['admin', 'templates', tpl.key]) }, tpl.name)),
    h('td', {}, h('code', {}, tpl.key)),
    h('td', {}, `v${tpl.version}`),
    h('td', {}, formatTime(tpl.published_at)),
    h('td', {}, tpl.has_draft ? h('span', { class: 'badge tone-warn' }, t('admin.hasDraft')) : ''),
    h('td', {}, h('a', { class: 'btn btn-sm', href: href(['admin', 'templates', tpl.key]),
      'aria-label': t('admin.design', { name: tpl.name }) }, t('admin.designShort')))));
  replace(content, card(null,
    h('div', { class: 'toolbar' }, h('h2', { class: 'grow' }, t('admin.templates')),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: create }, icon('plus'),
        h('span', {}, t('admin.newTemplate')))),
    list.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, [t('admin.tplName'), t('admin.tplKey'), t('admin.tplVersion'),
        t('admin.tplPublished'), '', ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, rows))) : empty(t('compose.none'))));
}

async function create() {
  const key = h('input', { id: 'new-key', placeholder: 'travel', pattern: '[a-z][a-z0-9_-]{0,63}' });
  const name = h('input', { id: 'new-name', placeholder: t('admin.newNamePlaceholder') });
  await openDialog({
    title: t('admin.newTemplate'),
    body: [h('div', { class: 'row' }, h('label', { for: key.id }, t('admin.tplKey')), key,
      h('p', { class: 'hint' }, t('admin.keyHint'))),
    h('div', { class: 'row' }, h('label', { for: name.id }, t('admin.tplName')), name)],
    actions: [{ label: t('admin.create'), kind: 'primary', submit: true, run: async () => {
      const doc = { key: key.value.trim(), name: name.value.trim() || key.value.trim(),
        settings: {}, form: { fields: [] }, flow: { nodes: [] } };
      if (!/^[a-z][a-z0-9_-]{0,63}$/.test(doc.key)) throw new Error(t('admin.keyHint'));
      await request(`templates/${encodeURIComponent(doc.key)}/draft`, { method: 'PUT', body: doc });
      go(['admin', 'templates', doc.key], { tab: 'form' });
      return true;
    } }],
  });
}
