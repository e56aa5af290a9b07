// People and department pickers: a combobox that searches as you type, chips for what is
// chosen. Keyboard: arrows move in the list, Enter picks, Backspace on an empty box
// removes the last chip, Escape closes the list.

import { debounce, h, icon, replace, uid } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { departmentTree, ensureNames, nameOf, person, searchPeople } from '../core/state.js';

/**
 * combobox({label, multiple, value, search(q) -> [{id, label, sub}], labelOf(id), onChange})
 * `value` is an id (single) or a list of ids (multiple). Answers {element, input, get, set}.
 */
export function combobox({ label, multiple = false, value, search, labelOf, onChange,
  placeholder, disabled = false }) {
  let chosen = multiple ? [...(value || [])] : (value ? [value] : []);
  let options = [];
  let active = -1;
  const listId = uid('list');
  const chips = h('span', { class: 'chips' });
  const input = h('input', {
    type: 'text', class: 'combo-input', role: 'combobox', 'aria-autocomplete': 'list',
    'aria-expanded': 'false', 'aria-controls': listId, autocomplete: 'off', disabled,
    placeholder: placeholder || t('picker.search'), 'aria-label': label,
  });
  const list = h('ul', { id: listId, class: 'combo-list', role: 'listbox', hidden: true,
    'aria-label': t('picker.options', { label }) });
  const element = h('div', { class: ['combo', disabled ? 'is-disabled' : null] }, chips, input,
    list);

  function renderChips() {
    replace(chips, chosen.map((id) => h('span', { class: 'chip' }, labelOf(id),
      disabled ? null : h('button', {
        type: 'button', class: 'chip-x', 'aria-label': t('picker.remove', { name: labelOf(id) }),
        onclick: () => { remove(id); input.focus(); },
      }, icon('x')))));
  }

  function changed() {
    renderChips();
    if (onChange) onChange(get());
  }

  function pick(id) {
    if (multiple) {
      if (!chosen.includes(id)) chosen.push(id);
    } else {
      chosen = [id];
    }
    input.value = '';
    close();
    changed();
  }

  function remove(id) {
    chosen = chosen.filter((x) => x !== id);
    changed();
  }

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  }

  function highlight(index) {
    active = index;
    [...list.children].forEach((li, i) => li.classList.toggle('is-active', i === index));
    const li = list.children[index];
    if (li && li.id) input.setAttribute('aria-activedescendant', li.id);
  }

  let searches = 0;
  const run = debounce(async () => {
    const query = input.value.trim();
    const mine = ++searches;
    let found = [];
    try {
      found = await search(query);
    } catch {
      found = [];
    }
    // an older search answering late must not replace the options of what is typed now
    if (mine !== searches || document.activeElement !== input) return;
    options = found.filter((o) => multiple ? !chosen.includes(o.id) : true);
    replace(list, options.length ? options.map((o, i) => h('li', {
      id: `${listId}-${i}`, role: 'option', class: 'combo-option', 'aria-selected': 'false',
      onmousedown: (event) => { event.preventDefault(); pick(o.id); },
    }, h('span', {}, o.label), o.sub ? h('span', { class: 'combo-sub' }, o.sub) : null))
      : h('li', { class: 'combo-none' }, t('picker.none')));
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    highlight(options.length ? 0 : -1);
  }, 150);

  input.addEventListener('input', run);
  input.addEventListener('focus', run);
  input.addEventListener('blur', () => setTimeout(close, 120));
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' && options.length) {
      event.preventDefault();
      highlight((active + 1) % options.length);
    } else if (event.key === 'ArrowUp' && options.length) {
      event.preventDefault();
      highlight((active - 1 + options.length) % options.length);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (!list.hidden && options[active]) pick(options[active].id);
    } else if (event.key === 'Escape') {
      close();
    } else if (event.key === 'Backspace' && !input.value && chosen.length) {
      remove(chosen[chosen.length - 1]);
    }
  });
  element.addEventListener('click', (event) => {
    if (event.target === element || event.target === chips) input.focus();
  });

  function get() {
    return multiple ? [...chosen] : (chosen[0] || null);
  }
  function set(next) {
    chosen = multiple ? [...(next || [])] : (next ? [next] : []);
    renderChips();
  }
  renderChips();
  return { element, input, get, set };
}

/** Pick people from the directory (optionally only among `candidates`). */
export function personPicker({ label, multiple = false, value, candidates, onChange, disabled }) {
  const ids = multiple ? (value || []) : (value ? [value] : []);
  const picker = combobox({
    label, multiple, value, onChange, disabled,
    labelOf: (id) => nameOf(id),
    search: async (query) => {
      if (candidates && candidates.length) {
        await ensureNames(candidates);
        const q = query.toLowerCase();
        return candidates.filter((id) => !q || id.toLowerCase().includes(q)
          || nameOf(id).toLowerCase().includes(q)).map((id) => describe(person(id) || { id }));
      }
      return (await searchPeople(query)).map(describe);
    },
  });
  if (ids.length) ensureNames(ids).then(() => picker.set(picker.get()));
  return picker;
}

function describe(found) {
  return { id: found.id, label: found.name || found.id,
    sub: [found.id, found.position].filter(Boolean).join(' · ') };
}

/** Pick departments from the tree. */
export function departmentPicker({ label, multiple = false, value, onChange, disabled }) {
  const names = new Map();
  const picker = combobox({
    label, multiple, value, onChange, disabled,
    labelOf: (id) => names.get(id) || id,
    search: async (query) => {
      const q = query.toLowerCase();
      const tree = await departmentTree();
      return tree.filter((d) => !q || d.name.toLowerCase().includes(q) || d.id.includes(q))
        .slice(0, 50).map((d) => ({ id: d.id, label: `${'　'.repeat(q ? 0 : d.depth)}${d.name}`,
          sub: d.id }));
    },
  });
  departmentTree().then((tree) => {
    for (const d of tree) names.set(d.id, d.name);
    picker.set(picker.get());
  }).catch(() => {});
  return picker;
}
