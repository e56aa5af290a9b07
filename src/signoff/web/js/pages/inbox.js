// The inbox: pending / done / CC'd / my requests, with counts, filters (template, status,
// dates), paging, batch approval of pending tasks, and live updates.

import { debounce, h, icon, replace } from '../core/dom.js';
import { formatWhen, t } from '../core/i18n.js';
import { command, request } from '../core/api.js';
import { go, href } from '../core/router.js';
import { ensureNames, nameOf, on, setCounts, state, templateName, templates }
  from '../core/state.js';
import { avatar, empty, errorBox, loading, openDialog, statusBadge, taskBadge, toast }
  from '../components/ui.js';

const BOXES = ['pending', 'done', 'cc', 'mine'];
const STATUSES = ['pending', 'approved', 'rejected', 'returned', 'withdrawn', 'terminated', 'draft'];
const SIZES = [10, 20, 50];

function nextDay(date) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

export async function render(main, route) {
  const box = BOXES.includes(route.parts[1]) ? route.parts[1] : 'pending';
  const query = route.query;
  const asked = Number.parseInt(query.limit, 10);
  const size = asked >= 1 && asked <= 200 ? asked : 20;
  document.title = `${t(`box.${box}`)} · ${t('app.name')}`;
  const tpls = await templates().catch(() => []);
  const cursors = [null];
  let page = 0;
  const selected = new Set();

  // the tabs are made once; pushed counts change only their numbers (a tab being clicked
  // is never replaced under the pointer)
  const tabCounts = new Map(BOXES.map((name) => [name, h('span', { class: 'tab-count',
    dataset: { count: name } })]));
  const tabs = h('nav', { class: 'tabs', 'aria-label': t('inbox.boxes') },
    BOXES.map((name) => h('a', {
      href: href(['inbox', name]), class: ['tab', name === box ? 'is-current' : null],
      'aria-current': name === box ? 'page' : null, dataset: { box: name },
    }, t(`box.${name}`), tabCounts.get(name))));
  function showCounts() {
    for (const [name, el] of tabCounts) replace(el, String(state.counts[name] ?? 0));
  }
  showCounts();

  const setFilter = (changes) => go(['inbox', box], { ...query, ...changes });
  const templateSelect = h('select', { id: 'filter-template', onchange: () =>
    setFilter({ template: templateSelect.value }) },
  h('option', { value: '' }, t('inbox.allTemplates')),
  tpls.map((tpl) => h('option', { value: tpl.key, selected: query.template === tpl.key },
    tpl.name)));
  const statusSelect = h('select', { id: 'filter-status', onchange: () =>
    setFilter({ status: statusSelect.value }) },
  h('option', { value: '' }, t('inbox.allStatuses')),
  STATUSES.map((s) => h('option', { value: s, selected: query.status === s }, t(`status.${s}`))));
  const since = h('input', { id: 'filter-since', type: 'date', value: query.since || '',
    onchange: () => setFilter({ since: since.value }) });
  const until = h('input', { id: 'filter-until', type: 'date', value: query.until || '',
    onchange: () => setFilter({ until: until.value }) });
  const perPage = h('select', { id: 'filter-size', onchange: () => setFilter({ limit: perPage.value }) },
    [...new Set([...SIZES, size])].sort((a, b) => a - b).map((n) => h('option', { value: n,
      selected: n === size }, String(n))));
  const filtered = query.template || query.status || query.since || query.until;
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': t('inbox.filters'),
    onsubmit: (e) => e.preventDefault() },
  h('label', { class: 'filter' }, h('span', {}, t('inbox.template')), templateSelect),
  h('label', { class: 'filter' }, h('span', {}, t('inbox.status')), statusSelect),
  h('label', { class: 'filter' }, h('span', {}, t('inbox.since')), since),
  h('label', { class: 'filter' }, h('span', {}, t('inbox.until')), until),
  h('label', { class: 'filter filter-narrow' }, h('span', {}, t('inbox.perPage')), perPage),
  filtered ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: () =>
    go(['inbox', box], { limit: query.limit }) }, t('inbox.clear')) : null);

  const list = h('ul', { class: 'items', 'aria-label': t(`box.${box}`) });
  const pager = h('nav', { class: 'pager', 'aria-label': t('inbox.paging') });
  const batchCount = h('span', {});
  const batchBar = h('div', { class: 'batch', hidden: true }, batchCount,
    h('button', { type: 'button', class: 'btn btn-primary', onclick: () => batch('approve') },
      t('action.approve')),
    h('button', { type: 'button', class: 'btn btn-danger', onclick: () => batch('reject') },
      t('action.reject')));
  const body = h('div', { class: 'inbox-body' }, loading());
  // on a phone the filters fold away unless some are set
  const phone = window.matchMedia('(max-width: 720px)').matches;
  const filterBox = h('details', { class: 'filter-box', open: !phone || !!filtered },
    h('summary', {}, t('inbox.filters')), filters);
  replace(main, h('div', { class: 'page inbox' },
    h('div', { class: 'page-head' }, h('h1', {}, t(`box.${box}`)),
      h('a', { class: 'btn btn-primary', href: '#/new' }, icon('plus'), h('span', {},
        t('nav.new')))),
    tabs, filterBox, batchBar, body));

  // loads overlap (a live update while paging, say): only the newest one is shown, or an
  // older answer arriving late would put back a page already left
  let loads = 0;
  async function load() {
    const mine = ++loads;
    try {
      const data = await request(`inbox/${box}`, { query: {
        template: query.template, status: query.status,
        since: query.since, until: query.until ? nextDay(query.until) : undefined,
        limit: size, cursor: cursors[page] || undefined,
      } });
      if (mine !== loads) return;
      setCounts(data.counts);
      await ensureNames(data.items.map((item) => item.applicant_id));
      if (mine === loads) showItems(data);
    } catch (error) {
      if (mine === loads) replace(body, errorBox(error));
    }
  }

  function showItems(data) {
    // what is ticked stays ticked when the list is drawn again (a live update): only the
    // tasks no longer listed are let go
    const listed = new Set(data.items.map((entry) => entry.task_id));
    for (const id of [...selected]) if (!listed.has(id)) selected.delete(id);
    updateBatch();
    if (!data.items.length) {
      replace(body, empty(filtered ? t('inbox.noMatch') : t(`inbox.empty.${box}`)));
      return;
    }
    replace(list, data.items.map(item));
    replace(pager,
      h('button', { type: 'button', class: 'btn', disabled: page === 0,
        onclick: () => { page -= 1; load(); } }, t('inbox.previous')),
      h('span', { class: 'page-no', 'aria-live': 'polite' }, t('inbox.page', { n: page + 1 })),
      h('button', { type: 'button', class: 'btn', disabled: !data.next_cursor,
        onclick: () => { cursors[page + 1] = data.next_cursor; page += 1; load(); } },
      t('inbox.next')));
    replace(body, list, page > 0 || data.next_cursor ? pager : null);
  }

  function item(entry) {
    const link = href(['requests', entry.instance_id]);
    const check = box === 'pending' && entry.task_status === 'pending'
      ? h('input', { type: 'checkbox', class: 'pick', checked: selected.has(entry.task_id),
        'aria-label': t('inbox.select', { title: entry.title }),
        onchange: (event) => {
          if (event.target.checked) selected.add(entry.task_id);
          else selected.delete(entry.task_id);
          updateBatch();
        } }) : null;
    const applicant = nameOf(entry.applicant_id);
    const tplName = templateName(entry.template_key);
    let hue = 0;
    for (const ch of entry.template_key) hue = (hue * 31 + ch.codePointAt(0)) % 6;
    return h('li', { class: 'item card', dataset: { instance: entry.instance_id } }, check,
      h('span', { class: ['tpl-icon', `hue-${hue}`], 'aria-hidden': 'true' }, tplName.slice(0, 1)),
      h('div', { class: 'item-main' },
        h('a', { class: 'item-title', href: link }, entry.title || templateName(entry.template_key)),
        h('div', { class: 'item-meta' },
          h('span', { class: 'person' }, avatar(applicant, 'sm'), applicant),
          h('span', { class: 'tpl' }, tplName),
          entry.serial ? h('span', { class: 'serial' }, entry.serial) : null)),
      h('div', { class: 'item-side' },
        box === 'done' && entry.task_status ? taskBadge(entry.task_status)
          : statusBadge(entry.status),
        h('time', { datetime: entry.at, class: 'when' }, formatWhen(entry.at))));
  }

  function updateBatch() {
    batchBar.hidden = box !== 'pending' || selected.size === 0;
    replace(batchCount, t('inbox.selected', { n: selected.size }));
  }

  async function batch(action) {
    const comment = h('textarea', { id: 'batch-comment', rows: 3 });
    const label = t(`action.${action}`);
    await openDialog({
      title: t('inbox.batchTitle', { action: label, n: selected.size }),
      body: h('div', { class: 'row' }, h('label', { for: comment.id }, t('action.comment')),
        comment),
      actions: [{ label, kind: action === 'reject' ? 'danger' : 'primary', run: async () => {
        const result = await command('inbox/batch', { action, task_ids: [...selected],
          comment: comment.value.trim() || null });
        toast(t('inbox.batchDone', { ok: result.succeeded, failed: result.failed }),
          result.failed ? 'error' : 'success');
        return true;
      } }],
    });
    await load();
  }

  const reload = debounce(load, 300);
  const offs = [
    on('counts', showCounts),
    on('live', () => { if (page === 0) reload(); }),
  ];
  await load();
  return () => { offs.forEach((off) => off()); reload.cancel(); };
}
