// Webhook endpoints of the apps: where events are POSTed (signed, Standard Webhooks), which
// event types, and the signing secret, shown once when the endpoint is made or rotated.
//
// API: GET /events/types, GET|POST /apps/{app}/webhooks, DELETE /apps/{app}/webhooks/{id},
// POST /apps/{app}/webhooks/{id}/rotate.

import { h, icon, replace } from '../core/dom.js';
import { formatTime, t } from '../core/i18n.js';
import { get, request } from '../core/api.js';
import { card, confirmDialog, empty, errorBox, openDialog, toast } from '../components/ui.js';

const base = (hook) => `apps/${encodeURIComponent(hook.app_id)}/webhooks/${encodeURIComponent(hook.id)}`;

export async function render(content) {
  const list = h('div', { class: 'table-wrap' });
  const fresh = h('div', { 'aria-live': 'polite' });
  let apps = [];
  let loading = Promise.resolve();
  let loads = 0;

  function showSecret(title, secret) {
    replace(fresh, h('div', { class: 'card fresh-key', role: 'alert' }, h('h3', {}, title),
      h('p', { class: 'hint' }, t('hooks.secretHint')),
      h('div', { class: 'secret' }, h('code', { 'aria-label': t('hooks.secret') }, secret))));
  }

  async function show() {
    // shows overlap (one after a change while the first is under way): the newest wins
    const mine = ++loads;
    let hooks = [];
    let found;
    try {
      found = (await get('apps')).filter((app) => !app.revoked_at);
      const lists = await Promise.all(found.map((app) => get(`apps/${encodeURIComponent(app.id)}/webhooks`)));
      hooks = lists.flat();
    } catch (error) {
      if (mine === loads) replace(list, errorBox(error));
      return;
    }
    if (mine !== loads) return;
    apps = found;
    const appName = new Map(apps.map((app) => [app.id, app.name]));
    replace(list, hooks.length ? h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, [t('hooks.url'), t('hooks.app'), t('hooks.events'),
        t('apps.created'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, hooks.map((hook) => h('tr', {},
        h('td', {}, h('code', {}, hook.url), hook.description ? h('div', { class: 'hint' },
          hook.description) : null),
        h('td', {}, appName.get(hook.app_id) || hook.app_id),
        h('td', {}, hook.event_types.map((type) => type === '*' ? t('hooks.all') : type)
          .join(', ')),
        h('td', {}, formatTime(hook.created_at)),
        h('td', { class: 'row-actions' }, hook.disabled_at
          ? h('span', { class: 'badge tone-muted' }, t('hooks.disabled'))
          : [h('button', { type: 'button', class: 'btn btn-sm',
            'aria-label': t('hooks.rotateOf', { url: hook.url }), onclick: async () => {
              if (!await confirmDialog(t('hooks.rotateTitle'), t('hooks.rotateHint'),
                t('hooks.rotate'))) return;
              const answer = await request(`${base(hook)}/rotate`, { method: 'POST',
                body: {} });
              showSecret(t('hooks.secretOnce'), answer.secret);
            } }, t('hooks.rotate')),
          h('button', { type: 'button', class: 'btn btn-sm btn-danger-ghost',
            'aria-label': t('hooks.stopOf', { url: hook.url }), onclick: async () => {
              if (!await confirmDialog(t('hooks.deleteTitle'), hook.url, t('hooks.stop'),
                'danger')) return;
              await request(base(hook), { method: 'DELETE' });
              await show();
            } }, t('hooks.stop'))]))))) : empty(t('hooks.none')));
  }

  async function create() {
    await loading; // a click before the first answer must not see "no apps yet"
    if (!apps.length) {
      toast(t('hooks.needApp'), 'error');
      return;
    }
    const types = await get('events/types').catch(() => ({}));
    const app = h('select', { id: 'hook-app' }, apps.map((a) => h('option', { value: a.id },
      a.name)));
    const url = h('input', { id: 'hook-url', type: 'url', placeholder: 'https://example.com/hooks' });
    const description = h('input', { id: 'hook-desc' });
    const all = h('input', { type: 'checkbox', value: '*', checked: true });
    const boxes = Object.entries(types).map(([type, meaning]) => h('label', { class: 'choice',
      title: meaning }, h('input', { type: 'checkbox', value: type }), h('span', {}, type)));
    await openDialog({
      title: t('hooks.new'),
      wide: true,
      body: [h('div', { class: 'row' }, h('label', { for: app.id }, t('hooks.app')), app),
        h('div', { class: 'row' }, h('label', { for: url.id }, t('hooks.url')), url),
        h('fieldset', { class: 'row' }, h('legend', {}, t('hooks.events')),
          h('div', { class: 'choices choices-many' }, h('label', { class: 'choice' }, all,
            h('span', {}, t('hooks.all'))), boxes)),
        h('div', { class: 'row' }, h('label', { for: description.id }, t('hooks.description')),
          description)],
      actions: [{ label: t('hooks.create'), kind: 'primary', submit: true, run: async () => {
        const chosen = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked)
          .map((i) => i.value);
        const hook = await request(`apps/${encodeURIComponent(app.value)}/webhooks`, {
          method: 'POST', body: { url: url.value.trim(), description: description.value.trim(),
            event_types: all.checked || !chosen.length ? ['*'] : chosen } });
        showSecret(t('hooks.secretOnce'), hook.secret);
        await show();
        return true;
      } }],
    });
  }

  replace(content, fresh, card(null,
    h('div', { class: 'toolbar' }, h('h2', { class: 'grow' }, t('admin.webhooks')),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: create }, icon('plus'),
        h('span', {}, t('hooks.new')))),
    h('p', { class: 'hint' }, t('hooks.hint')),
    list));
  loading = show();
  await loading;
}
