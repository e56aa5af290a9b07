// Deliveries of events to webhooks, NATS and mail, newest first; the dead ones (out of
// retries) are shown by default with their last error, and replayed one by one, the ones
// ticked, or every one shown.
//
// API: GET /deliveries?status=&sink=&before=&limit=, POST /deliveries/replay {ids}.

import { h, replace } from '../core/dom.js';
import { formatTime, t } from '../core/i18n.js';
import { get, request } from '../core/api.js';
import { href } from '../core/router.js';
import { card, empty, errorBox, toast } from '../components/ui.js';

const PAGE = 50;

export async function render(content) {
  const list = h('div', { class: 'table-wrap' });
  const pager = h('div', { class: 'pager' });
  const picked = new Set();
  let shown = [];
  const pages = [null]; // the `before` of each page seen
  let page = 0;
  let loading = Promise.resolve(); // the newest show(): what "Replay all" waits for
  let loads = 0;

  const status = h('select', { id: 'dead-status', onchange: () => restart() },
    ['dead', 'pending', 'delivered', ''].map((s) => h('option', { value: s },
      t(`dead.status.${s || 'all'}`))));
  const sink = h('select', { id: 'dead-sink', onchange: () => restart() },
    ['', 'webhook', 'nats', 'mail'].map((s) => h('option', { value: s },
      s ? s : t('dead.allSinks'))));

  async function replay(ids) {
    if (!ids.length) return;
    try {
      const answer = await request('deliveries/replay', { method: 'POST', body: { ids } });
      toast(t('dead.replayed', { n: answer.replayed }), 'success');
    } catch (error) {
      toast(error.message, 'error');
    }
    picked.clear();
    await show();
  }

  function restart() {
    pages.length = 1;
    page = 0;
    show();
  }

  function show() {
    loading = load();
    return loading;
  }

  /** The list as the newest show() leaves it (a filter may change while waiting). */
  async function settled() {
    let current;
    do {
      current = loading;
      await current;
    } while (current !== loading);
  }

  // a filter changed while a page loads: only the newest answer is shown
  async function load() {
    const mine = ++loads;
    let found;
    try {
      found = await get('deliveries', { status: status.value, sink: sink.value,
        before: pages[page] || undefined, limit: PAGE });
    } catch (error) {
      if (mine === loads) replace(list, errorBox(error));
      return;
    }
    if (mine !== loads) return;
    shown = found;
    const dead = (d) => d.status === 'dead';
    replace(list, shown.length ? h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, [h('span', { class: 'sr-only' }, t('dead.pick')), t('dead.event'),
        t('dead.sink'), t('dead.target'), t('dead.attempts'), t('dead.error'), t('dead.when'), '']
        .map((x) => h('th', {}, x)))),
      h('tbody', {}, shown.map((d) => h('tr', { dataset: { delivery: String(d.id) } },
        h('td', {}, dead(d) ? h('input', { type: 'checkbox', 'aria-label': t('dead.pickOf', {
          id: d.event_id }), checked: picked.has(d.id), onchange: (e) => {
          if (e.target.checked) picked.add(d.id);
          else picked.delete(d.id);
        } }) : null),
        h('td', {}, h('code', {}, d.event_id), h('div', {}, h('a', {
          href: href(['requests', d.instance_id]) }, t('dead.request')))),
        h('td', {}, d.sink), h('td', {}, h('code', {}, d.target)),
        h('td', {}, String(d.attempts)),
        h('td', { class: dead(d) ? 'rejected' : null }, d.last_error || ''),
        h('td', {}, formatTime(d.delivered_at || d.created_at)),
        h('td', {}, dead(d) ? h('button', { type: 'button', class: 'btn btn-sm',
          'aria-label': t('dead.replayOf', { id: d.event_id }), onclick: () => replay([d.id]) },
        t('dead.replay')) : h('span', { class: 'badge tone-muted' }, t(`dead.status.${d.status}`)))))))
      : empty(status.value === 'dead' ? t('dead.none') : t('dead.nothing')));
    replace(pager,
      h('button', { type: 'button', class: 'btn', disabled: page === 0,
        onclick: () => { page -= 1; show(); } }, t('inbox.previous')),
      h('button', { type: 'button', class: 'btn', disabled: shown.length < PAGE,
        onclick: () => { pages[page + 1] = shown.at(-1).id; page += 1; show(); } },
      t('inbox.next')));
  }

  replace(content, card(null,
    h('div', { class: 'toolbar' }, h('h2', { class: 'grow' }, t('admin.deliveries')),
      h('label', { class: 'filter' }, h('span', {}, t('inbox.status')), status),
      h('label', { class: 'filter' }, h('span', {}, t('dead.sink')), sink),
      h('button', { type: 'button', class: 'btn', onclick: () => show() }, t('dead.refresh')),
      h('button', { type: 'button', class: 'btn', onclick: () => replay([...picked]) },
        t('dead.replayPicked')),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: async () => {
        await settled(); // a click before the list has come must not replay nothing
        await replay(shown.filter((d) => d.status === 'dead').map((d) => d.id));
      } }, t('dead.replayAll'))),
    h('p', { class: 'hint' }, t('dead.hint')),
    list, pager));
  await show();
}
