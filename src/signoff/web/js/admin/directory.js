// The directory: departments and people, and importing a CSV (or JSON) file. A file with
// any rejected row imports nothing; every rejected row is listed with its reason.

import { h, replace } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { ApiError, get, request } from '../core/api.js';
import { departmentNames, loadPeople } from '../core/state.js';
import { card, toast } from '../components/ui.js';

export async function render(content) {
  const result = h('div', { class: 'import-result', 'aria-live': 'polite' });
  const file = h('input', { id: 'import-file', type: 'file', accept: '.csv,.json,text/csv,application/json' });
  const text = h('textarea', { id: 'import-text', rows: 6, class: 'mono',
    placeholder: 'id,name,department_id,roles,position,email,identities,active' });
  const kind = h('select', { id: 'import-kind' }, h('option', { value: 'text/csv' }, 'CSV'),
    h('option', { value: 'application/json' }, 'JSON'));
  file.addEventListener('change', async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    text.value = await chosen.text();
    kind.value = chosen.name.toLowerCase().endsWith('.json') ? 'application/json' : 'text/csv';
  });
  const button = h('button', { type: 'button', class: 'btn btn-primary', onclick: async () => {
    button.disabled = true;
    replace(result);
    try {
      const answer = await request('directory/import', { method: 'POST', body: text.value,
        contentType: kind.value });
      replace(result, h('p', { class: 'badge tone-ok' }, t('dir.imported', {
        departments: answer.departments, people: answer.principals })));
      toast(t('dir.importedShort'), 'success');
      await showPeople();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(result, h('div', { class: 'error-box', role: 'alert' }, h('p', {}, error.code ===
        'import_rejected' ? t('dir.rejected', { n: error.errors.length }) : error.message),
      error.errors.length ? h('table', { class: 'data rejected-rows' },
        h('thead', {}, h('tr', {}, h('th', {}, t('dir.row')), h('th', {}, t('dir.problem')))),
        h('tbody', {}, error.errors.map((e) => h('tr', {}, h('td', {}, h('code', {}, e.path)),
          h('td', {}, e.message))))) : null));
    } finally {
      button.disabled = false;
    }
  } }, t('dir.import'));

  const people = h('div', { class: 'table-wrap' });
  let loads = 0;
  async function showPeople() {
    // the first list may answer after the one asked after an import: the newest one wins
    const mine = ++loads;
    const [list, names] = await Promise.all([get('directory/principals', { limit: 500 }),
      departmentNames()]);
    if (mine !== loads) return;
    replace(people, h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, [t('dir.id'), t('dir.name'), t('dir.department'),
        t('dir.position'), t('dir.email')].map((x) => h('th', {}, x)))),
      h('tbody', {}, list.map((p) => h('tr', {}, h('td', {}, h('code', {}, p.id)),
        h('td', {}, p.name), h('td', {}, names.get(p.department_id) || p.department_id || ''),
        h('td', {}, p.position || ''), h('td', {}, p.email || ''))))));
  }

  replace(content,
    card(t('dir.importTitle'),
      h('p', { class: 'hint' }, t('dir.importHint')),
      h('div', { class: 'grid-2' },
        h('div', { class: 'row' }, h('label', { for: file.id }, t('dir.file')), file),
        h('div', { class: 'row' }, h('label', { for: kind.id }, t('dir.format')), kind)),
      h('div', { class: 'row' }, h('label', { for: text.id }, t('dir.content')), text),
      h('div', { class: 'toolbar' }, button), result),
    card(t('dir.people'), people));
  await loadPeople();
  await showPeople();
}
