// The console: log in with a token (kept in session storage only), then
// the queue, a case, or the reports, by the address's #fragment.

import * as api from './api.js';
import { el, clear, stateView } from './dom.js';
import { ROLES } from './labels.js';
import { setZone, zoneName } from './time.js';
import { follow } from './stream.js';
import { showQueue } from './queue.js';
import { showCase } from './case.js';
import { showReports } from './reports.js';

const main = document.getElementById('main');
const ctx = { me: null, rules: {}, listeners: new Set(), stopStream: null };

// Everything a page needs: who is logged in, the rules' titles, and the
// live changes (a page subscribes while it is shown).
ctx.onChange = (fn) => { ctx.listeners.add(fn); return () => ctx.listeners.delete(fn); };
ctx.ruleTitle = (id) => (ctx.rules[id] && ctx.rules[id].title) || id;
ctx.canExempt = () => ctx.me && (ctx.me.role === 'admin' || ctx.me.role === 'reviewer');

function loginPage(message) {
  document.getElementById('bar').hidden = true;
  if (ctx.stopStream) { ctx.stopStream(); ctx.stopStream = null; }
  const input = el('input', { id: 'token', type: 'password', autocomplete: 'off', required: true });
  const form = el('form', { class: 'card login', onsubmit: async (ev) => {
    ev.preventDefault();
    api.setToken(input.value.trim());
    await start();
  } },
  el('h1', {}, 'casewarden 执法监督'),
  el('p', { class: 'hint' }, '请输入管理员分配的访问令牌。令牌只保存在本浏览器标签页的会话中, 关闭即失效。'),
  message ? stateView('error', message) : null,
  el('label', { for: 'token' }, '访问令牌'), input, el('p', {}, el('button', { type: 'submit' }, '登录')));
  clear(main, form);
  input.focus();
}

async function start() {
  if (!api.token()) return loginPage();
  clear(main, stateView('loading', '加载中…'));
  try {
    ctx.me = await api.get('/v1/whoami');
    if (!['inspector', 'reviewer', 'admin'].includes(ctx.me.role)) {
      api.setToken(null);
      return loginPage(`该令牌的角色 (${ROLES[ctx.me.role] || ctx.me.role}) 不能使用督察台`);
    }
    setZone(ctx.me.tz);
    const rules = await api.get('/v1/rules');
    // a 401 of another request meanwhile has shown the login already
    if (!ctx.me) return;
    ctx.rules = Object.fromEntries(rules.rules.map((r) => [r.id, r]));
  } catch (e) {
    if (e.status === 401) { api.setToken(null); return loginPage('令牌无效或已过期, 请重新输入 (401)'); }
    return clear(main, stateView('error', api.explain(e)), el('button', { type: 'button', onclick: start }, '重试'));
  }
  const bar = document.getElementById('bar');
  bar.hidden = false;
  document.getElementById('who').textContent =
    `${ROLES[ctx.me.role] || ctx.me.role} ${ctx.me.name} · 范围: ${ctx.me.unit ? ctx.me.unit + '*' : '全部单位'} · ${zoneName()}`;
  if (!ctx.stopStream) {
    const live = document.getElementById('live');
    ctx.stopStream = follow((change) => ctx.listeners.forEach((fn) => fn(change)), (status) => {
      live.textContent = status === 'live' ? '● 实时更新中' : '○ 实时更新已断开, 重连中';
      live.dataset.status = status;
    });
  }
  route();
}

function route() {
  if (!ctx.me) return;
  ctx.listeners.clear();
  const hash = location.hash || '#/queue';
  const [path, qs] = hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean);
  const params = new URLSearchParams(qs || '');
  document.querySelectorAll('[data-nav]').forEach((a) => {
    if (a.dataset.nav === parts[0] || (parts[0] === 'case' && a.dataset.nav === 'queue')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  if (parts[0] === 'case' && parts[1]) return showCase(main, ctx, decodeURIComponent(parts[1]), params);
  if (parts[0] === 'reports') return showReports(main, ctx, params);
  return showQueue(main, ctx, params);
}

api.whenUnauthorized(() => { api.setToken(null); ctx.me = null; loginPage('登录已失效, 请重新登录 (401)'); });
document.getElementById('logout').addEventListener('click', () => {
  api.setToken(null);
  ctx.me = null;
  loginPage();
});
window.addEventListener('hashchange', route);
start();
