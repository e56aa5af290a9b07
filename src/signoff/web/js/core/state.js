// What every page shares: who is signed in and their inbox counts, the templates, and
// the names of people and departments (ids are what the API speaks; people read names).

import { get } from './api.js';

export const bus = new EventTarget();

export const state = {
  me: null,
  counts: { pending: 0, done: 0, cc: 0, mine: 0 },
};

export function emit(type, detail) {
  bus.dispatchEvent(new CustomEvent(type, { detail }));
}

export function on(type, listener) {
  const wrapped = (event) => listener(event.detail);
  bus.addEventListener(type, wrapped);
  return () => bus.removeEventListener(type, wrapped);
}

export function setCounts(counts) {
  if (!counts) return;
  state.counts = { ...state.counts, ...counts };
  emit('counts', state.counts);
}

export async function loadMe() {
  state.me = await get('me');
  setCounts(state.me.counts);
  if (state.me.principal_id) people.set(state.me.principal_id, { id: state.me.principal_id,
    name: state.me.name, department_id: state.me.department_id });
  return state.me;
}

export function resetState() {
  state.me = null;
  state.counts = { pending: 0, done: 0, cc: 0, mine: 0 };
  templateList = null;
  documents.clear();
}

// ---- templates --------------------------------------------------------------------------

let templateList = null;
const documents = new Map();

export async function templates(force = false) {
  if (!templateList || force) templateList = await get('templates');
  return templateList;
}

export function forgetTemplates() {
  templateList = null;
  documents.clear();
}

/** A published template document (a version is immutable, so it is cached). */
export async function templateDoc(key, version) {
  const cacheKey = `${key}@${version || 'newest'}`;
  if (!documents.has(cacheKey)) {
    documents.set(cacheKey, get(`templates/${encodeURIComponent(key)}`, { version })
      .catch((error) => { documents.delete(cacheKey); throw error; }));
  }
  return documents.get(cacheKey);
}

export function templateName(key) {
  const found = (templateList || []).find((tpl) => tpl.key === key);
  return found ? found.name : key;
}

// ---- people and departments -------------------------------------------------------------

const people = new Map();
let departmentList = null;
let everyone = null;

/** Load the people (once, up to 500) so that names show without a request each. */
export async function loadPeople() {
  if (!everyone) {
    everyone = get('directory/principals', { limit: 500 }).then((list) => {
      for (const person of list) people.set(person.id, person);
      return list;
    }).catch((error) => { everyone = null; throw error; });
  }
  return everyone;
}

/** Make sure these ids have names (people not among the first 500 are asked one by one). */
export async function ensureNames(ids) {
  await loadPeople().catch(() => []);
  const missing = [...new Set(ids)].filter((id) => id && !people.has(id));
  await Promise.all(missing.map((id) => get(`directory/principals/${encodeURIComponent(id)}`)
    .then((person) => people.set(id, person))
    .catch(() => people.set(id, { id, name: id }))));
}

export function person(id) {
  return people.get(id) || null;
}

export function nameOf(id) {
  if (!id) return '';
  const found = people.get(id);
  return found ? found.name : id;
}

export async function searchPeople(query, limit = 20) {
  const list = await get('directory/principals', { q: query || undefined, limit });
  for (const found of list) people.set(found.id, found);
  return list;
}

export async function departments() {
  if (!departmentList) {
    departmentList = get('directory/departments').catch((error) => {
      departmentList = null;
      throw error;
    });
  }
  return departmentList;
}

export async function departmentNames() {
  const list = await departments();
  return new Map(list.map((dept) => [dept.id, dept.name]));
}

/** Departments in tree order with their depth, for pickers. */
export async function departmentTree() {
  const list = await departments();
  const children = new Map();
  for (const dept of list) {
    const parent = dept.parent_id || '';
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(dept);
  }
  const out = [];
  const seen = new Set();
  const walk = (parent, depth) => {
    for (const dept of children.get(parent) || []) {
      if (seen.has(dept.id)) continue;
      seen.add(dept.id);
      out.push({ ...dept, depth });
      walk(dept.id, depth + 1);
    }
  };
  walk('', 0);
  for (const dept of list) if (!seen.has(dept.id)) out.push({ ...dept, depth: 0 });
  return out;
}
