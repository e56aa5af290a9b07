// The flow designer: the DingTalk-style vertical tree. A + between any two nodes adds an
// approver, CC, condition, inclusive or parallel node there; a gateway shows its routes
// side by side, each with its own sequence of nodes. Selecting a node or route opens its
// configuration beside the tree. Problems found by the server are shown on the node or
// route their JSON path names.

import { h, icon, replace } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { allNodes } from '../core/template.js';
import { departmentNames, loadPeople, nameOf } from '../core/state.js';
import { freshId } from './controls.js';
import { conditionSummary } from './conditions.js';
import { rulesSummary } from './assignees.js';
import { renderNodeConfig } from './node-config.js';

const GATEWAYS = ['condition', 'inclusive', 'parallel'];

function takenIds(doc) {
  const ids = new Set();
  for (const node of allNodes(doc.flow)) {
    ids.add(node.id);
    for (const branch of node.routes || node.branches || []) ids.add(branch.id);
  }
  return ids;
}

export function newNode(type, doc) {
  const taken = takenIds(doc);
  const id = (prefix) => {
    const value = freshId(prefix, taken);
    taken.add(value);
    return value;
  };
  if (type === 'approver') {
    return { id: id('approver'), type, name: t('node.approver'), mode: 'sequential', assignees: [] };
  }
  if (type === 'cc') return { id: id('cc'), type, name: t('node.cc'), recipients: [], when: 'reached' };
  if (type === 'parallel') {
    return { id: id('parallel'), type, branches: [
      { id: id('branch'), name: t('fl.branchName', { n: 1 }), nodes: [] },
      { id: id('branch'), name: t('fl.branchName', { n: 2 }), nodes: [] }] };
  }
  return { id: id(type), type, routes: [
    { id: id('route'), name: t('fl.routeName', { n: 1 }), priority: 1, when: { all: [] }, nodes: [] },
    { id: id('route'), name: t('fl.otherRoute'), default: true, nodes: [] }] };
}

let departmentsById = new Map();

function initiators(doc) {
  const who = (doc.settings && doc.settings.initiators) || {};
  const parts = [...(who.users || []).map(nameOf),
    ...(who.departments || []).map((id) => departmentsById.get(id) || id),
    ...(who.roles || []).map((role) => t('assignee.roleOf', { role }))];
  return parts.length ? parts.join(t('common.sep')) : t('fl.everyone');
}

export function createFlowDesigner(ctx) {
  const { doc } = ctx;
  if (!doc.flow) doc.flow = { nodes: [] };
  if (!doc.flow.nodes) doc.flow.nodes = [];
  let selected = null; // {kind: 'node' | 'route', item, gateway}
  let openMenu = null; // {nodes, index} of the + whose menu is open: it stays open when the tree
  // is drawn again (the people's names arriving, say)
  const tree = h('div', { class: 'fl-tree' });
  const panel = h('aside', { class: 'fl-panel card', 'aria-label': t('fl.config') });
  const canvas = h('div', { class: 'fl-canvas', tabindex: '-1' }, tree);
  const root = h('div', { class: 'flow-designer' }, canvas, panel);

  function changed(structural = false) {
    ctx.changed();
    renderTree();
    if (structural) renderPanel();
  }

  function select(next) {
    selected = next;
    renderTree();
    renderPanel();
  }

  function addButton(nodes, index, where) {
    const isOpen = !!openMenu && openMenu.nodes === nodes && openMenu.index === index;
    const menu = h('div', { class: 'fl-menu', role: 'menu', hidden: !isOpen });
    const button = h('button', {
      type: 'button', class: 'fl-add', 'aria-haspopup': 'menu', 'aria-expanded': String(isOpen),
      'aria-label': t('fl.addHere', { where }),
      onclick: (event) => {
        event.stopPropagation();
        const open = menu.hidden;
        closeMenus();
        menu.hidden = !open;
        button.setAttribute('aria-expanded', String(open));
        openMenu = open ? { nodes, index } : null;
        if (open) menu.querySelector('button').focus();
      },
    }, icon('plus'));
    replace(menu, ['approver', 'cc', 'condition', 'inclusive', 'parallel'].map((type) => h('button', {
      type: 'button', role: 'menuitem', class: ['fl-menu-item', `is-${type}`],
      onclick: (event) => {
        event.stopPropagation();
        const node = newNode(type, doc);
        openMenu = null;
        nodes.splice(index, 0, node);
        selected = { kind: 'node', item: node };
        changed(true);
      },
    }, h('span', { class: 'fl-menu-dot', 'aria-hidden': 'true' }), t(`node.${type}`))));
    menu.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { closeMenus(); button.focus(); }
    });
    return h('div', { class: 'fl-add-wrap' }, button, menu);
  }

  function sequence(nodes, path, where) {
    const items = [];
    nodes.forEach((node, i) => {
      items.push(addButton(nodes, i, i === 0 ? where : nodeLabel(nodes[i - 1])));
      items.push(block(node, nodes, i, `${path}[${i}]`));
    });
    items.push(addButton(nodes, nodes.length, nodes.length ? nodeLabel(nodes.at(-1)) : where));
    return h('div', { class: 'fl-seq' }, items);
  }

  function nodeLabel(node) {
    return node.name || t(`node.${node.type}`);
  }

  function remover(label, run) {
    return h('button', { type: 'button', class: 'icon-btn fl-remove',
      'aria-label': t('common.remove', { name: label }),
      onclick: (event) => { event.stopPropagation(); run(); } }, icon('close'));
  }

  function block(node, nodes, index, path) {
    const slot = h('div', { class: 'problem-slot' });
    const remove = () => {
      nodes.splice(index, 1);
      if (selected && selected.item === node) selected = null;
      changed(true);
    };
    if (GATEWAYS.includes(node.type)) return gateway(node, path, slot, remove);
    const isSelected = selected && selected.item === node;
    const summary = node.type === 'cc'
      ? rulesSummary(node.recipients) : rulesSummary(node.assignees);
    const element = h('div', { class: ['fl-node', `is-${node.type}`, isSelected ? 'is-selected'
      : null], dataset: { node: node.id } },
    h('button', { type: 'button', class: 'fl-node-main', 'aria-pressed': String(!!isSelected),
      'aria-label': t('fl.nodeCard', { type: t(`node.${node.type}`), name: nodeLabel(node) }),
      onclick: () => select({ kind: 'node', item: node }) },
    h('span', { class: 'fl-node-head' }, h('span', {}, nodeLabel(node))),
    h('span', { class: ['fl-node-body', summary ? null : 'is-empty'] },
      summary || t(node.type === 'cc' ? 'fl.setRecipients' : 'fl.setAssignees'),
      node.type === 'approver' && node.mode ? h('span', { class: 'mode' },
        t(`mode.${node.mode}`)) : null)),
    remover(nodeLabel(node), remove), slot);
    ctx.anchor(path, element, slot);
    return element;
  }

  function gateway(node, path, slot, remove) {
    const isParallel = node.type === 'parallel';
    const key = isParallel ? 'branches' : 'routes';
    const list = node[key] || [];
    const addRoute = () => {
      const [fresh] = newNode(node.type, doc)[key];
      if (!isParallel) {
        fresh.priority = Math.max(0, ...list.filter((r) => !r.default).map((r) => r.priority
          || 0)) + 1;
        fresh.name = t('fl.routeName', { n: list.length });
        const at = list.findIndex((r) => r.default);
        list.splice(at < 0 ? list.length : at, 0, fresh);
      } else {
        fresh.name = t('fl.branchName', { n: list.length + 1 });
        list.push(fresh);
      }
      selected = { kind: 'route', item: fresh, gateway: node };
      changed(true);
    };
    const element = h('div', { class: ['fl-gateway', `is-${node.type}`], dataset: { node: node.id } },
      h('div', { class: 'fl-gateway-head' },
        h('button', { type: 'button', class: ['fl-pill', selected && selected.item === node
          ? 'is-selected' : null], onclick: () => select({ kind: 'node', item: node }),
        'aria-label': t('fl.nodeCard', { type: t(`node.${node.type}`), name: nodeLabel(node) }) },
        nodeLabel(node)),
        h('button', { type: 'button', class: 'btn btn-sm fl-add-route', onclick: addRoute },
          icon('plus'), t(isParallel ? 'fl.addBranch' : 'fl.addRoute')),
        remover(nodeLabel(node), remove)),
      slot,
      h('div', { class: 'fl-branches' }, list.map((route, k) => branch(node, route, k,
        `${path}.${key}[${k}]`, remove))));
    ctx.anchor(path, element, slot);
    return element;
  }

  function branch(node, route, k, path, removeGateway) {
    const key = node.type === 'parallel' ? 'branches' : 'routes';
    const list = node[key];
    const slot = h('div', { class: 'problem-slot' });
    const isSelected = selected && selected.item === route;
    const label = route.name || route.id;
    const remove = () => {
      if (list.length <= 2) removeGateway();
      else {
        list.splice(k, 1);
        if (selected && selected.item === route) selected = null;
        changed(true);
      }
    };
    const move = (to) => {
      if (to < 0 || to >= list.length || list[to].default) return;
      [list[k], list[to]] = [list[to], list[k]];
      if (!route.default && 'priority' in list[k] && 'priority' in list[to]) {
        [list[k].priority, list[to].priority] = [list[to].priority, list[k].priority];
      }
      changed(true);
    };
    const summary = node.type === 'parallel' ? t('fl.parallelBranch')
      : route.default ? t('fl.defaultRoute') : conditionSummary(route.when, doc);
    const card = h('div', { class: ['fl-route', isSelected ? 'is-selected' : null],
      dataset: { route: route.id } },
    h('button', { type: 'button', class: 'fl-node-main', 'aria-pressed': String(!!isSelected),
      'aria-label': t('fl.routeCard', { name: label }),
      onclick: () => select({ kind: 'route', item: route, gateway: node }) },
    h('span', { class: 'fl-node-head' }, h('span', {}, label),
      node.type !== 'parallel' && !route.default ? h('span', { class: 'fl-priority' },
        t('fl.priority', { n: route.priority ?? '?' })) : null),
    h('span', { class: ['fl-node-body', summary ? null : 'is-empty'] },
      summary || t('fl.setCondition'))),
    node.type !== 'parallel' && !route.default ? h('span', { class: 'fl-route-tools' },
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('fl.moveLeft', {
        name: label }), onclick: () => move(k - 1) }, icon('back')),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('fl.moveRight', {
        name: label }), onclick: () => move(k + 1) }, icon('forward'))) : null,
    route.default ? null : remover(label, remove), slot);
    ctx.anchor(path, card, slot);
    return h('div', { class: 'fl-branch' }, card,
      sequence(route.nodes || (route.nodes = []), `${path}.nodes`, label));
  }

  function renderTree() {
    const menuFocused = tree.contains(document.activeElement)
      && !!document.activeElement.closest('.fl-menu');
    replace(tree,
      h('div', { class: 'fl-node is-start' }, h('div', { class: 'fl-node-main' },
        h('span', { class: 'fl-node-head' }, t('fl.start')),
        h('span', { class: 'fl-node-body' }, initiators(doc)))),
      sequence(doc.flow.nodes, 'flow.nodes', t('fl.start')),
      h('div', { class: 'fl-end' }, h('span', { class: 'fl-end-dot', 'aria-hidden': 'true' }),
        t('fl.end')));
    ctx.anchor('flow', tree);
    ctx.reanchor();
    const open = tree.querySelector('.fl-menu:not([hidden]) button');
    if (open && menuFocused) open.focus();
  }

  function renderPanel() {
    root.classList.toggle('has-panel', !!selected);
    panel.hidden = !selected;
    if (!selected) {
      replace(panel);
      return;
    }
    replace(panel, renderNodeConfig(selected, doc, {
      onChange: () => changed(false),
      onStructure: () => changed(true),
      close: () => select(null),
    }));
  }

  function closeMenus() {
    openMenu = null;
    for (const m of tree.querySelectorAll('.fl-menu')) m.hidden = true;
    for (const b of tree.querySelectorAll('.fl-add')) b.setAttribute('aria-expanded', 'false');
  }
  document.addEventListener('click', closeMenus);
  renderTree();
  // names instead of ids, once the directory is loaded
  Promise.all([loadPeople(), departmentNames()]).then(([, names]) => {
    departmentsById = names;
    if (root.isConnected) renderTree();
  }).catch(() => {});
  renderPanel();
  // a tree wider than its canvas (on a phone) opens at its middle, where the start node is
  let frames = 0;
  const centre = () => {
    if (!canvas.isConnected) {
      if (++frames < 30) requestAnimationFrame(centre);
      return;
    }
    canvas.scrollLeft = (canvas.scrollWidth - canvas.clientWidth) / 2;
  };
  requestAnimationFrame(centre);
  return {
    element: h('div', {}, h('p', { class: 'muted fl-hint' }, t('fl.nothingSelected')), root),
    destroy: () => document.removeEventListener('click', closeMenus),
  };
}
