// Sign in with an account id and a password.

import { h, replace } from '../core/dom.js';
import { locale, setLocale, t } from '../core/i18n.js';
import { signIn } from '../core/api.js';
import { go } from '../core/router.js';
import { loadMe } from '../core/state.js';
import { startLive } from '../core/live.js';

export function render(main, route) {
  document.title = `${t('login.title')} · ${t('app.name')}`;
  const account = h('input', { id: 'login-account', name: 'username', autocomplete: 'username',
    required: true, placeholder: 'u-zhangsan' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password',
    autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-block' },
    t('login.submit'));
  const language = h('select', { class: 'lang', 'aria-label': t('nav.language'),
    onchange: () => { setLocale(language.value); location.reload(); } },
  h('option', { value: 'zh-CN', selected: locale() === 'zh-CN' }, '中文'),
  h('option', { value: 'en', selected: locale() === 'en' }, 'English'));

  const form = h('form', { class: 'login-form', onsubmit: async (event) => {
    event.preventDefault();
    error.hidden = true;
    button.disabled = true;
    try {
      await signIn(account.value.trim(), password.value);
      await loadMe();
      startLive();
      go(route.query.next || '#/inbox/pending');
    } catch (problem) {
      const key = problem.code === 'rate_limited' ? 'login.rateLimited'
        : problem.status === 401 ? 'login.wrong' : null;
      replace(error, key ? t(key) : problem.message);
      error.hidden = false;
      password.select();
    } finally {
      button.disabled = false;
    }
  } },
  h('div', { class: 'row' }, h('label', { for: account.id }, t('login.account')), account),
  h('div', { class: 'row' }, h('label', { for: password.id }, t('login.password')), password),
  error, button);

  replace(main, h('div', { class: 'login' },
    h('section', { class: 'login-card card', 'aria-labelledby': 'login-title' },
      h('div', { class: 'login-brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '✓'),
        h('span', {}, t('app.name'))),
      h('h1', { id: 'login-title' }, t('login.title')),
      h('p', { class: 'muted' }, t('login.subtitle')),
      form,
      h('div', { class: 'login-foot' }, language))));
  account.focus();
}
