// A case: its timeline with the findings' due times and lead windows drawn
// on it, the events (the selected finding's evidence highlighted), and
// each finding with its legal basis, review history and the actions its
// review state allows.

import * as api from './api.js';
import { el, clear, badge, stateView, toast } from './dom.js';
import { STATES, REVIEWS, ACTIONS, SEVERITIES, EVENT_TYPES, ASSIGNEE_KINDS, label } from './labels.js';
import { show, epoch, hours } from './time.js';

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...kids) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const k of kids) if (k) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

// The timeline: events on the top lane; one lane per finding with a due
// time, its lead window shaded and its due marked.
function timeline(ctx, events, findings, selected) {
  const W = 960, left = 150, right = 20, top = 34, lane = 30;
  const dated = findings.filter((f) => f.due);
  const H = top + 40 + dated.length * lane + 30;
  const times = [];
  events.forEach((e) => times.push(epoch(e.event.at)));
  findings.forEach((f) => { for (const t of [f.due, f.warning_from, f.raised]) if (t) times.push(epoch(t)); });
  const ok = times.filter((t) => !Number.isNaN(t));
  let t0 = Math.min(...ok), t1 = Math.max(...ok);
  if (!(t1 > t0)) { t0 -= 3600e3; t1 += 3600e3; }
  const pad = (t1 - t0) * 0.04;
  t0 -= pad; t1 += pad;
  const x = (t) => left + ((t - t0) / (t1 - t0)) * (W - left - right);
  const evidence = new Set(selected ? selected.events : []);
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `案件时间轴: ${events.length} 个事件, ${dated.length} 个期限` });
  // axis and ticks
  const axisY = H - 22;
  g.append(svg('line', { x1: left, x2: W - right, y1: axisY, y2: axisY, stroke: '#8a94a6' }));
  for (let i = 0; i <= 5; i++) {
    const t = t0 + ((t1 - t0) * i) / 5;
    const iso = new Date(t + ctx.me.tz * 60000).toISOString();
    g.append(svg('line', { x1: x(t), x2: x(t), y1: top - 10, y2: axisY, stroke: '#e2e6ee' }));
    g.append(svg('text', { x: x(t), y: H - 6, 'text-anchor': i === 0 ? 'start' : i === 5 ? 'end' : 'middle', 'font-size': 11, fill: '#4a5568' },
      `${iso.slice(5, 10)} ${iso.slice(11, 16)}`));
  }
  g.append(svg('text', { x: 8, y: top + 4, 'font-size': 12, fill: '#1d2330' }, '事件'));
  g.append(svg('line', { x1: left, x2: W - right, y1: top, y2: top, stroke: '#c5ccd8' }));
  events.forEach((e) => {
    const hit = evidence.has(e.event.id);
    const c = svg('circle', { cx: x(epoch(e.event.at)), cy: top, r: hit ? 7 : 4.5,
      fill: hit ? '#e0a100' : '#1f4fa3', stroke: hit ? '#6b4a00' : 'none', 'stroke-width': 2, class: hit ? 'ev evidence' : 'ev' },
    svg('title', {}, `${show(e.event.at)} ${label(EVENT_TYPES, e.event.type)} (${e.event.id})`));
    g.append(c);
  });
  dated.forEach((f, i) => {
    const y = top + 40 + i * lane;
    const sel = selected && f.id === selected.id;
    g.append(svg('text', { x: 8, y: y + 4, 'font-size': 12, fill: sel ? '#1f4fa3' : '#1d2330', 'font-weight': sel ? 'bold' : 'normal' },
      `${f.rule}${f.subject ? ' ' + f.subject : ''}`));
    g.append(svg('line', { x1: left, x2: W - right, y1: y, y2: y, stroke: '#eef1f5' }));
    if (f.warning_from) {
      g.append(svg('rect', { x: x(epoch(f.warning_from)), y: y - 9, width: Math.max(2, x(epoch(f.due)) - x(epoch(f.warning_from))),
        height: 18, fill: '#f6d58e', class: 'lead' }, svg('title', {}, `预警期 ${show(f.warning_from)} 至 ${show(f.due)} (提前 ${hours(f.lead)})`)));
    }
    g.append(svg('line', { x1: x(epoch(f.due)), x2: x(epoch(f.due)), y1: y - 12, y2: y + 12, stroke: '#a61b1b', 'stroke-width': 3, class: 'due' },
      svg('title', {}, `到期 ${show(f.due)}`)));
    const late = x(epoch(f.due)) > W - 200;
    g.append(svg('text', { x: x(epoch(f.due)) + (late ? -8 : 6), y: y + 4, 'text-anchor': late ? 'end' : 'start', 'font-size': 11,
      fill: '#a61b1b' }, `到期 ${show(f.due)}`));
    if (sel) {
      for (const id of f.events) {
        const ev = events.find((e) => e.event.id === id);
        if (ev) g.append(svg('line', { x1: x(epoch(ev.event.at)), x2: x(epoch(f.due)), y1: top + 7, y2: y, stroke: '#e0a100', 'stroke-dasharray': '4 3' }));
      }
    }
  });
  return el('div', { class: 'timeline card' }, el('h2', {}, '时间轴'), g,
    el('p', { class: 'hint' }, '● 事件 (黄色: 所选问题依据的证据事件) · 黄色区间: 预警期 · 红线: 法定期限到期'));
}

function eventTable(events, selected) {
  const evidence = new Set(selected ? selected.events : []);
  return el('div', { class: 'card' }, el('h2', {}, '事件'),
    el('table', { class: 'events' },
      el('thead', {}, el('tr', {}, ['时间', '事件', '编号', '单位', '民警', '内容'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, events.map((e) => el('tr', { class: evidence.has(e.event.id) ? 'evidence' : undefined, 'data-event': e.event.id },
        el('td', {}, show(e.event.at)), el('td', {}, label(EVENT_TYPES, e.event.type)), el('td', {}, e.event.id),
        el('td', {}, e.event.unit), el('td', {}, e.event.actor || ''),
        el('td', { class: 'hint' }, e.event.data ? JSON.stringify(e.event.data) : ''))))));
}

function history(f) {
  if (f.reviews.length === 0) return el('p', { class: 'hint' }, '尚无审核记录');
  return el('table', { class: 'history' },
    el('thead', {}, el('tr', {}, ['时间', '操作', '审核状态', '人员', '意见', '整改 / 证据'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, f.reviews.map((r) => el('tr', {},
      el('td', {}, show(r.at)), el('td', {}, label(ACTIONS, r.action)),
      el('td', {}, `${label(REVIEWS, r.from)} → ${label(REVIEWS, r.to)}`), el('td', {}, r.who), el('td', {}, r.comment),
      el('td', {}, r.assignee ? `${label(ASSIGNEE_KINDS, r.assignee.kind)} ${r.assignee.id}, 期限 ${show(r.rect_due)}` : '',
        r.evidence ? r.evidence.join('; ') : '')))));
}

const NOTIFY_STATUS = { grouping: '汇总中', held: '非工作时间暂缓', queued: '待发送', sent: '已送达', dead: '发送失败' };
const LADDER_STATUS = { running: '升级中', done: '已逐级提醒', stopped: '已停止' };

// What was sent about a finding (提醒记录), and its escalation ladders.
function notifications(f) {
  const sent = f.notifications || [], ladders = f.escalations || [];
  if (sent.length === 0 && ladders.length === 0) return el('p', { class: 'hint' }, '尚无提醒');
  return el('div', { class: 'notifications' },
    ladders.map((l) => el('p', { class: 'hint' }, `升级 ${l.ladder}: 已提醒 ${l.levels_done} 级, ${LADDER_STATUS[l.status] || l.status}`,
      l.next_level_at ? `, 下一级 ${show(l.next_level_at)}` : '', l.reason ? ` (${l.reason})` : '')),
    sent.length ? el('table', { class: 'history' },
      el('thead', {}, el('tr', {}, ['时间', '接收方', '级别', '状态', '次数', '说明'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, sent.map((n) => el('tr', {},
        el('td', {}, show(n.sent || n.created)), el('td', {}, n.receiver), el('td', {}, n.level ? `升级第 ${n.level} 级` : '提醒'),
        el('td', {}, NOTIFY_STATUS[n.status] || n.status), el('td', {}, String(n.attempts)),
        el('td', { class: 'hint' }, n.held_until ? `暂缓至 ${show(n.held_until)}` : n.last_error || ''))))) : null);
}

// The form of an action: what it needs, checked here and again by the API.
function actionForm(ctx, f, action, done) {
  const needsComment = ['resolve', 'dismiss', 'reopen'].includes(action);
  const fields = [];
  const err = el('div', { role: 'alert' });
  const id = (n) => `a-${f.id}-${n}`;
  const input = (name, text, attrs, required) => {
    const i = el(attrs.tag || 'input', { id: id(name), name, ...attrs, tag: undefined, required: required || undefined });
    fields.push([name, i, required]);
    return el('label', { for: id(name) }, text, required ? el('span', { class: 'req' }, ' *') : null, i);
  };
  const parts = [];
  if (action === 'assign') {
    const kind = el('select', { id: id('kind'), name: 'kind' }, el('option', { value: 'unit' }, '单位'), el('option', { value: 'officer' }, '民警'));
    fields.push(['kind', kind, true]);
    parts.push(el('div', { class: 'row' }, el('label', { for: id('kind') }, '整改责任', kind),
      input('assignee', '单位代码 / 民警编号', { value: f.unit, size: 14 }, true),
      input('due', '整改期限', { type: 'date' }, true)));
  }
  if (action === 'exempt') {
    parts.push(input('reason', '豁免理由', { tag: 'textarea' }, true));
    parts.push(el('div', { class: 'row' }, input('approver', '批准人 / 批准文号', { size: 20 }, true),
      input('expires', '有效期至', { type: 'date' }, true),
      (() => {
        const s = el('select', { id: id('scope'), name: 'scope' }, el('option', { value: 'finding' }, '仅此问题'), el('option', { value: 'rule' }, '本案该规则全部问题'));
        fields.push(['scope', s, false]);
        return el('label', { for: id('scope') }, '范围', s);
      })()));
  } else {
    parts.push(input('comment', needsComment ? '意见 (必填)' : '意见', { tag: 'textarea' }, needsComment));
  }
  if (action === 'resolve') parts.push(input('evidence', '整改证据 (每行一项: 文书编号、材料编号)', { tag: 'textarea' }, false));
  const submit = el('button', { type: 'submit', disabled: true }, `确认${label(ACTIONS, action)}`);
  const form = el('form', { class: 'form', 'aria-label': `${label(ACTIONS, action)}: 问题 ${f.id}` }, parts, err,
    el('div', { class: 'actions' }, submit, el('button', { type: 'button', class: 'quiet', onclick: () => done(false) }, '取消')));
  const valid = () => fields.every(([, i, req]) => !req || i.value.trim() !== '');
  form.addEventListener('input', () => { submit.disabled = !valid(); });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!valid()) { clear(err, stateView('error', '请填写带 * 的项目')); return; }
    const v = Object.fromEntries(fields.map(([n, i]) => [n, i.value.trim()]));
    submit.disabled = true;
    try {
      if (action === 'exempt') {
        await api.post(`/v1/findings/${f.id}/exemption`, { reason: v.reason, approver: v.approver, expires: v.expires, scope: v.scope });
      } else if (action === 'unexempt') {
        await api.del(`/v1/findings/${f.id}/exemption`, v.comment ? { comment: v.comment } : undefined);
      } else {
        const body = { action };
        if (v.comment) body.comment = v.comment;
        if (action === 'assign') { body.assignee = { kind: v.kind, id: v.assignee }; body.due = v.due; }
        if (action === 'resolve' && v.evidence) body.evidence = v.evidence.split('\n').map((s) => s.trim()).filter(Boolean);
        await api.post(`/v1/findings/${f.id}/review`, body);
      }
      toast(`已${label(ACTIONS, action)}: 问题 ${f.id}`);
      done(true);
    } catch (e) {
      submit.disabled = false;
      clear(err, stateView('error', api.explain(e)));
    }
  });
  setTimeout(() => form.querySelector('input, textarea, select')?.focus(), 0);
  return form;
}

// Why the finding was raised: the steps of GET /v1/findings/{id}/explain
// for its rule and subject, the rule's file:line, its version.
async function explainView(f) {
  const box = el('div', { class: 'explain', 'aria-live': 'polite' }, stateView('loading', '正在说明理由…'));
  try {
    const x = await api.get(`/v1/findings/${f.id}/explain`);
    const r = (x.rules || [])[0];
    const mine = r ? (r.findings || []).find((g) => g.subject === f.subject) : null;
    const steps = [...(r ? r.steps : []), ...(mine ? mine.steps : [])];
    clear(box,
      el('h4', {}, '判断理由'),
      r ? el('p', { class: 'hint' }, `规则 ${r.rule} (${r.file}:${r.line})`,
        r.override ? ` · 按单位 ${r.override.unit} 的覆盖参数 (${r.override.at})` : '',
        f.rule_version ? ` · 规则版本 ${f.rule_version}` : '') : null,
      steps.length ? el('ol', { class: 'steps' }, steps.map((st) => el('li', { 'data-kind': st.kind }, st.text)))
        : stateView('empty', r && r.absent ? r.absent : '没有记录的步骤'));
  } catch (e) {
    clear(box, stateView('error', api.explain(e)));
  }
  return box;
}

function findingCard(ctx, f, selected, reload) {
  const area = el('div');
  const buttons = (f.actions || []).map((a) => a);
  if (ctx.canExempt()) buttons.push(f.exemption ? 'unexempt' : 'exempt');
  const card = el('section', { class: `card finding${selected ? ' sel' : ''}`, id: `finding-${f.id}`, 'aria-label': `问题 ${f.id}` },
    el('h3', {}, `${ctx.ruleTitle(f.rule)} `, el('span', { class: 'hint' }, `${f.rule} · 问题 ${f.id}`)),
    el('p', {}, badge(`st-${f.state}`, label(STATES, f.state)), ' ', badge(`rv rv-${f.review}`, label(REVIEWS, f.review)),
      f.exempt ? el('span', { class: 'exempt-mark' }, ' 已豁免') : null,
      f.rect_overdue ? el('span', { class: 'overdue-mark' }, ' 整改超期') : null),
    el('p', {}, f.message),
    el('dl', {},
      el('dt', {}, '法律依据'), el('dd', {}, f.basis),
      el('dt', {}, '严重程度'), el('dd', {}, label(SEVERITIES, f.severity)),
      f.subject ? [el('dt', {}, '对象'), el('dd', {}, f.subject)] : null,
      el('dt', {}, '期限'), el('dd', {}, f.due ? `${show(f.due)}${f.warning_from ? `, 预警自 ${show(f.warning_from)}` : ''}` : '无'),
      el('dt', {}, '发现'), el('dd', {}, show(f.raised)),
      el('dt', {}, '证据事件'), el('dd', {}, f.events.join(', ') || '无'),
      f.assignee ? [el('dt', {}, '整改'), el('dd', {}, `${label(ASSIGNEE_KINDS, f.assignee.kind)} ${f.assignee.id}, 期限 ${show(f.rect_due)}`)] : null,
      f.exemption ? [el('dt', {}, '豁免'), el('dd', {}, `${f.exemption.reason} (批准: ${f.exemption.approver}, 至 ${show(f.exemption.expires)}, 登记: ${f.exemption.by})`)] : null),
    el('div', { class: 'actions' }, buttons.map((a) => el('button', { type: 'button', class: a === 'dismiss' ? 'danger' : undefined, 'data-action': a,
      onclick: () => clear(area, actionForm(ctx, f, a, (changed) => { clear(area); if (changed) reload(); })) }, label(ACTIONS, a))),
    buttons.length === 0 ? el('span', { class: 'hint' }, '当前状态无可执行的操作') : null,
    el('button', { type: 'button', class: 'quiet', 'data-action': 'explain',
      onclick: async () => clear(area, await explainView(f)) }, '说明理由')),
    area,
    el('h3', {}, '审核记录'), history(f),
    el('h3', {}, '提醒记录'), notifications(f));
  if (!selected) card.addEventListener('click', (ev) => {
    if (ev.target.closest('button, form, a')) return;
    location.hash = `#/case/${encodeURIComponent(f.case)}?finding=${f.id}`;
  });
  return card;
}

export async function showCase(main, ctx, caseId, params) {
  clear(main, el('h1', {}, `案件 ${caseId}`), stateView('loading', '加载中…'));
  let c, details;
  try {
    c = await api.get(`/v1/cases/${encodeURIComponent(caseId)}`);
    while (c.next) {
      const page = await api.get(`/v1/cases/${encodeURIComponent(caseId)}?cursor=${c.next}`);
      c.timeline = c.timeline.concat(page.timeline);
      c.next = page.next;
    }
    details = await Promise.all(c.findings.map((f) => api.get(`/v1/findings/${f.id}`).catch((e) => (e.status === 404 ? null : Promise.reject(e)))));
  } catch (e) {
    return clear(main, el('h1', {}, `案件 ${caseId}`), stateView('error', api.explain(e)),
      el('p', {}, el('a', { href: '#/queue' }, '返回问题队列')));
  }
  const findings = details.filter(Boolean);
  const want = Number(params.get('finding'));
  const selected = findings.find((f) => f.id === want) || findings[0] || null;
  const reload = () => showCase(main, ctx, caseId, params);
  clear(main,
    el('p', {}, el('a', { href: '#/queue' }, '← 问题队列')),
    el('h1', {}, `案件 ${caseId} `, el('span', { class: 'hint' }, `单位 ${c.unit} · ${c.total} 个事件 · ${findings.length} 个问题`)),
    timeline(ctx, c.timeline, findings, selected),
    el('div', { class: 'grid2' },
      el('div', {}, el('h2', {}, '问题'), findings.length ? findings.map((f) => findingCard(ctx, f, f === selected, reload)) : stateView('empty', '此案件没有问题。')),
      eventTable(c.timeline, selected)));
  // a change of this case shows at once, unless a form is being filled in
  ctx.onChange((change) => { if (change.finding.case === caseId && !main.querySelector('form.form')) reload(); });
}
