// Reading a template document (docs/templates.md): nodes by id, what a person may see
// and write of a request, which nodes came before.

/** Every node of the flow tree, in order, depth first. */
export function allNodes(flow) {
  const out = [];
  const walk = (nodes) => {
    for (const node of nodes || []) {
      out.push(node);
      for (const branch of node.routes || node.branches || []) walk(branch.nodes);
    }
  };
  walk(flow && flow.nodes);
  return out;
}

export function findNode(template, id) {
  return allNodes(template.flow).find((node) => node.id === id) || null;
}

/** The applicant_choice rule of a node (or null). */
export function choiceRule(node, kind = 'applicant_choice') {
  return node ? (node.assignees || []).find((rule) => rule.type === kind) || null : null;
}

/** Every field path of the form: `id` and `table.column`. */
export function fieldPaths(fields) {
  const out = [];
  for (const f of fields || []) {
    out.push(f.id);
    for (const c of f.columns || []) out.push(`${f.id}.${c.id}`);
  }
  return out;
}

const RANK = { hidden: 0, read: 1, write: 2 };

/**
 * What this person may do with each field of a request, as the server decides
 * (service/access.py): null means everything is readable (applicant, CC'd, template admins,
 * administrators). Otherwise the best access among the nodes they hold a task on.
 */
export function fieldAccess(template, instance, me) {
  const person = me.principal_id;
  const admins = (template.settings && template.settings.admins) || [];
  if (me.is_admin || person === instance.applicant_id || instance.cc.includes(person)
    || admins.includes(person)) return null;
  const nodes = new Set(instance.tasks.filter((task) => task.assignee === person)
    .map((task) => task.node_id));
  const out = {};
  for (const path of fieldPaths(template.form.fields)) {
    let best = nodes.size ? 'hidden' : 'read';
    for (const id of nodes) {
      const node = findNode(template, id);
      const level = (node && node.permissions && node.permissions[path]) || 'read';
      if (RANK[level] > RANK[best]) best = level;
    }
    out[path] = best;
  }
  return out;
}

/** The access of the node(s) of my pending tasks: what I may edit when I approve. */
export function approvalAccess(template, instance, me) {
  const seen = fieldAccess(template, instance, me) || {};
  const mine = instance.pending.filter((task) => task.assignee === me.principal_id);
  const out = { ...seen };
  for (const path of fieldPaths(template.form.fields)) {
    if (out[path] === 'write') out[path] = 'read';
  }
  for (const task of mine) {
    const node = findNode(template, task.node_id);
    for (const [path, level] of Object.entries((node && node.permissions) || {})) {
      if (level === 'write') out[path] = 'write';
    }
  }
  return out;
}
