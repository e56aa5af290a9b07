// Apps (business systems) and their API keys. A new key is shown once, right after it is
// created; only its prefix is kept in the list. Revoking stops the key at once.

import { h, icon, replace } from '../core/dom.js';
import { formatTime, t } from '../core/i18n.js';
import { get, request } from '../core/api.js';
import { templates } from '../core/state.js';
import { card, confirmDialog, empty, openDialog, toast } from '../components/ui.js';

export async function render(content) {
  const list = h('div', { class: 'table-wrap' });
  const fresh = h('div', { 'aria-live': 'polite' });
  let loads = 0;

  async function show() {
    // the first list may answer after the one asked once an app was made: only the newest
    // one is shown
    const mine = ++loads;
    const apps = await get('apps');
    if (mine !== loads) return;
    replace(list, apps.length ? h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, [t('apps.name'), t('apps.id'), t('apps.key'), t('apps.templates'),
        t('apps.created'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, apps.map((app) => h('tr', {},
        h('td', {}, app.name), h('td', {}, h('code', {}, app.id)),
        h('td', {}, h('code', {}, `${app.key_prefix}…`)),
        h('td', {}, app.templates.join(', ')),
        h('td', {}, formatTime(app.created_at)),
        h('td', {}, app.revoked_at ? h('span', { class: 'badge tone-muted' }, t('apps.revoked'))
          : h('button', { type: 'button', class: 'btn btn-sm btn-danger-ghost',
            'aria-label': t('apps.revokeOf', { name: app.name }), onclick: async () => {
              if (!await confirmDialog(t('apps.revokeTitle'), t('apps.revokeHint', {
                name: app.name }), t('apps.revoke'), 'danger')) return;
              await request(`apps/${encodeURIComponent(app.id)}`, { method: 'DELETE' });
              toast(t('apps.revoked'), 'success');
              await show();
            } }, t('apps.revoke'))))))) : empty(t('apps.none')));
  }

  async function create() {
    const name = h('input', { id: 'app-name', required: true });
    const tpls = await templates();
    const boxes = tpls.map((tpl) => h('label', { class: 'choice' },
      h('input', { type: 'checkbox', value: tpl.key }), h('span', {}, tpl.name)));
    await openDialog({
      title: t('apps.new'),
      body: [h('div', { class: 'row' }, h('label', { for: name.id }, t('apps.name')), name),
        h('fieldset', { class: 'row' }, h('legend', {}, t('apps.templates')),
          h('div', { class: 'choices choices-many' }, boxes))],
      actions: [{ label: t('apps.create'), kind: 'primary', submit: true, run: async () => {
        const chosen = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked)
          .map((i) => i.value);
        const app = await request('apps', { method: 'POST', body: { name: name.value.trim(),
          templates: chosen } });
        const copy = h('button', { type: 'button', class: 'btn btn-sm', onclick: async () => {
          await navigator.clipboard.writeText(app.api_key).catch(() => {});
          toast(t('apps.copied'), 'success');
        } }, icon('copy'), h('span', {}, t('apps.copy')));
        replace(fresh, h('div', { class: 'card fresh-key', role: 'alert' },
          h('h3', {}, t('apps.keyOnce', { name: app.name })),
          h('p', { class: 'hint' }, t('apps.keyOnceHint')),
          h('div', { class: 'secret' }, h('code', { 'aria-label': t('apps.key') }, app.api_key),
            copy)));
        await show();
        return true;
      } }],
    });
  }

  replace(content, fresh, card(null,
    h('div', { class: 'toolbar' }, h('h2', { class: 'grow' }, t('admin.apps')),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: create }, icon('plus'),
        h('span', {}, t('apps.new')))),
    list));
  await show();
}
