// The queue: the findings of the caller's scope, filtered and sorted, with
// counts per rule and per unit, kept current by the live stream, and
// walked with the keyboard (j/k or the arrows, Enter to open, / to filter).

import * as api from './api.js';
import { el, clear, badge, stateView } from './dom.js';
import { STATES, REVIEWS, SEVERITIES, label } from './labels.js';
import { show, dayStart, dayEnd } from './time.js';

const LIST = ['rule', 'state', 'review', 'severity'];
const TEXT = ['unit', 'assignee', 'case'];
const SORTS = { '': '按编号', due: '按到期时间 (先到期)', '-due': '按到期时间 (后到期)', raised: '按发现时间 (先发现)',
  '-raised': '按发现时间 (最新)', rect_due: '按整改期限' };

function select(name, text, options, chosen, multiple) {
  const id = `f-${name}`;
  return el('label', { for: id }, text,
    el('select', { id, name, multiple: multiple || undefined },
      multiple ? null : el('option', { value: '' }, '全部'),
      Object.entries(options).map(([v, t]) => el('option', { value: v, selected: chosen.includes(v) || undefined }, t))));
}

function filterForm(ctx, p) {
  const rules = Object.fromEntries(Object.values(ctx.rules).map((r) => [r.id, `${r.title} (${r.id})`]));
  const list = (k) => (p.get(k) || '').split(',').filter(Boolean);
  const form = el('form', { class: 'filters card', 'aria-label': '筛选条件' },
    select('rule', '规则', rules, list('rule'), true),
    select('state', '规则判断', STATES, list('state'), true),
    select('review', '审核状态', REVIEWS, list('review'), true),
    select('severity', '严重程度', SEVERITIES, list('severity'), true),
    el('label', { for: 'f-unit' }, '单位 (代码前缀)', el('input', { id: 'f-unit', name: 'unit', value: p.get('unit') || '', size: 10, inputmode: 'numeric' })),
    el('label', { for: 'f-assignee' }, '整改责任单位/民警', el('input', { id: 'f-assignee', name: 'assignee', value: p.get('assignee') || '', size: 10 })),
    el('label', { for: 'f-case' }, '案件编号', el('input', { id: 'f-case', name: 'case', value: p.get('case') || '', size: 18 })),
    el('label', { for: 'f-from' }, '发现时间 自', el('input', { id: 'f-from', name: 'from', type: 'date', value: p.get('from') || '' })),
    el('label', { for: 'f-to' }, '至', el('input', { id: 'f-to', name: 'to', type: 'date', value: p.get('to') || '' })),
    el('label', { class: 'check', for: 'f-rect' }, el('input', { id: 'f-rect', name: 'rect_overdue', type: 'checkbox', checked: p.get('rect_overdue') === 'true' || undefined }), ' 整改超期'),
    select('exempt', '豁免', { false: '不含已豁免', true: '仅已豁免', any: '全部' }, [p.get('exempt') || 'false'], false),
    select('sort', '排序', SORTS, [p.get('sort') || ''], false),
    el('button', { type: 'submit' }, '筛选'),
    el('button', { type: 'button', class: 'quiet', onclick: () => { location.hash = '#/queue'; } }, '清除'));
  form.querySelector('#f-exempt option[value=""]')?.remove();
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const k of LIST) {
      const v = [...form.elements[k].selectedOptions].map((o) => o.value).filter(Boolean);
      if (v.length) q.set(k, v.join(','));
    }
    for (const k of [...TEXT, 'from', 'to', 'sort']) if (form.elements[k].value.trim()) q.set(k, form.elements[k].value.trim());
    if (form.elements.rect_overdue.checked) q.set('rect_overdue', 'true');
    if (form.elements.exempt.value !== 'false') q.set('exempt', form.elements.exempt.value);
    location.hash = `#/queue?${q}`;
  });
  return form;
}

// The API's query for the page's filters.
function apiQuery(p, cursor) {
  const q = { limit: 50, counts: 'rule,unit', cursor };
  for (const k of [...LIST, ...TEXT, 'sort', 'rect_overdue', 'exempt']) if (p.get(k)) q[k] = p.get(k);
  if (p.get('from')) q.raised_from = dayStart(p.get('from'));
  if (p.get('to')) q.raised_to = dayEnd(p.get('to'));
  return api.query(q);
}

function countsTable(title, counts, name, labelOf, p) {
  const rows = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]);
  return el('div', {}, el('h2', {}, title),
    rows.length === 0 ? el('p', { class: 'state' }, '无') :
      el('table', { class: `counts-${name}` },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, title.replace('按', '')), el('th', { scope: 'col', class: 'num' }, '数量'))),
        el('tbody', {}, rows.map(([k, n]) => el('tr', {},
          el('td', {}, el('button', { type: 'button', class: 'chip', onclick: () => {
            const q = new URLSearchParams(p);
            q.set(name, k);
            location.hash = `#/queue?${q}`;
          } }, labelOf(k))),
          el('td', { class: 'num' }, String(n)))))));
}

function row(ctx, f, fresh) {
  const open = () => { location.hash = `#/case/${encodeURIComponent(f.case)}?finding=${f.id}`; };
  return el('tr', { class: `row${fresh ? ' fresh' : ''}`, 'data-id': f.id, 'aria-selected': 'false', onclick: open },
    el('td', { class: 'num' }, String(f.id)),
    el('td', {}, ctx.ruleTitle(f.rule), el('br'), el('span', { class: 'hint' }, f.rule)),
    el('td', {}, el('a', { href: `#/case/${encodeURIComponent(f.case)}?finding=${f.id}` }, f.case), f.subject ? el('span', { class: 'hint' }, ` ${f.subject}`) : null),
    el('td', {}, f.unit),
    el('td', { class: `sev-${f.severity}` }, label(SEVERITIES, f.severity)),
    el('td', {}, badge(`st-${f.state}`, label(STATES, f.state))),
    el('td', {}, show(f.due)),
    el('td', {}, show(f.raised)),
    el('td', {}, badge(`rv rv-${f.review}`, label(REVIEWS, f.review)), f.exempt ? el('span', { class: 'exempt-mark' }, ' 已豁免') : null),
    el('td', {}, f.assignee ? `${f.assignee.id}` : '', f.rect_due ? el('br') : null, f.rect_due ? show(f.rect_due) : '',
      f.rect_overdue ? el('span', { class: 'overdue-mark' }, ' 整改超期') : null));
}

export function showQueue(main, ctx, p) {
  const table = el('tbody');
  const total = el('span', { class: 'hint', role: 'status', 'aria-live': 'polite' });
  const overdue = el('a', { class: 'overdue-mark rect-count', href: '#/queue?rect_overdue=true', hidden: true });
  const counts = el('div', { class: 'counts' });
  const body = el('div', {}, stateView('loading', '加载中…'));
  const more = el('button', { type: 'button', class: 'quiet', hidden: true }, '加载更多');
  let next = null, selected = -1, loaded = [];
  const fresh = new Set();

  clear(main, el('h1', {}, '问题队列 ', total, ' ', overdue), filterForm(ctx, p), counts, body,
    el('p', { class: 'hint' }, '键盘: j/↓ 下一条, k/↑ 上一条, Enter 打开案件, / 筛选'));

  function pick(i) {
    const rows = table.querySelectorAll('tr.row');
    if (rows.length === 0) return;
    selected = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, k) => r.setAttribute('aria-selected', String(k === selected)));
    rows[selected].scrollIntoView({ block: 'nearest' });
  }

  async function load(append) {
    try {
      const [res, late] = await Promise.all([api.get(`/v1/findings${apiQuery(p, append ? next : undefined)}`),
        api.get('/v1/findings?rect_overdue=true&limit=1')]);
      // rectifications past their due, whatever the filters: the count an inspector chases
      overdue.textContent = `整改超期 ${late.total} 条`;
      overdue.hidden = late.total === 0;
      loaded = append ? loaded.concat(res.findings) : res.findings;
      next = res.next;
      total.textContent = `共 ${res.total} 条`;
      clear(counts, countsTable('按规则', res.counts.rule, 'rule', (k) => ctx.ruleTitle(k), p),
        countsTable('按单位', res.counts.unit, 'unit', (k) => k, p));
      if (loaded.length === 0) {
        clear(body, stateView('empty', '没有符合条件的问题。'));
        return;
      }
      clear(table, loaded.map((f) => row(ctx, f, fresh.has(f.id))));
      fresh.clear();
      more.hidden = !next;
      clear(body, el('table', { class: 'queue', 'aria-label': '问题列表' },
        el('thead', {}, el('tr', {}, ['编号', '规则', '案件', '单位', '严重程度', '规则判断', '到期', '发现', '审核状态', '整改'].map((h) => el('th', { scope: 'col' }, h)))),
        table), el('div', { class: 'pager' }, more));
      if (selected >= 0) pick(selected);
    } catch (e) {
      clear(body, stateView('error', api.explain(e)), el('button', { type: 'button', onclick: () => load(false) }, '重试'));
    }
  }
  more.addEventListener('click', () => load(true));

  // a change anywhere in scope: the page is read again, the changed row marked
  let timer = null;
  ctx.onChange((c) => {
    fresh.add(c.finding.id);
    clearTimeout(timer);
    timer = setTimeout(() => load(false), 300);
  });

  function onKey(ev) {
    if (!main.contains(table) || ev.target.closest('input, select, textarea')) return;
    if (ev.key === 'j' || ev.key === 'ArrowDown') { pick(selected + 1); ev.preventDefault(); }
    else if (ev.key === 'k' || ev.key === 'ArrowUp') { pick(selected - 1); ev.preventDefault(); }
    else if (ev.key === 'Enter' && selected >= 0) { table.querySelectorAll('tr.row')[selected]?.click(); ev.preventDefault(); }
    else if (ev.key === '/') { document.getElementById('f-rule')?.focus(); ev.preventDefault(); }
  }
  document.removeEventListener('keydown', window.cwQueueKeys || (() => {}));
  window.cwQueueKeys = onKey;
  document.addEventListener('keydown', onKey);
  load(false);
}
