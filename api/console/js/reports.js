// The reports: findings per rule over the period, overdue and 销号 rates
// per unit, the units' score ranking, the figures' table with a CSV
// download, and the backlog (积案). The charts are Apache ECharts, served
// with the console (vendor/echarts.min.js), never fetched from elsewhere.

import * as api from './api.js';
import { el, clear, stateView } from './dom.js';
import { localDate } from './time.js';

let loading = null;
function echartsLib() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = 'vendor/echarts.min.js';
      s.onload = () => resolve(window.echarts);
      s.onerror = () => reject(new Error('图表库 (vendor/echarts.min.js) 未随服务安装'));
      document.head.append(s);
    });
  }
  return loading;
}

const TITLE = { left: 'center', top: 4, textStyle: { fontSize: 14 } };
const BY = { unit: '单位', officer: '整改责任民警', rule: '规则' };
const pct = (x) => (x === null || x === undefined ? '' : `${(x * 100).toFixed(1)}%`);
const pctNum = (x) => (x === null || x === undefined ? null : Math.round(x * 1000) / 10);

function keyLabel(ctx, by, key) {
  if (by === 'rule') return ctx.ruleTitle(key);
  if (key === '') return by === 'officer' ? '(未指派民警)' : '(无)';
  return key;
}

function groupsTable(ctx, rep) {
  const head = ['排名', BY[rep.by], '得分', '扣分', '问题数', '超期', '逾期完成', '违规', '超期率', '逾期完成率',
    '已指派整改', '按期整改', '整改超期未销号', '按期整改率', '已销号', '销号率', '销号用时中位数(小时)'];
  const row = (g, total) => el('tr', {},
    el('td', { class: 'num' }, total ? '' : String(g.rank)), el('td', {}, total ? '合计' : keyLabel(ctx, rep.by, g.key)),
    el('td', { class: 'num' }, g.score.toFixed(1)), el('td', { class: 'num' }, g.deduction.toFixed(1)),
    ...[g.findings, g.states.overdue, g.states.late, g.states.violation].map((n) => el('td', { class: 'num' }, String(n))),
    el('td', { class: 'num' }, pct(g.overdue_rate)), el('td', { class: 'num' }, pct(g.late_rate)),
    ...[g.assigned, g.rect_on_time, g.rect_overdue].map((n) => el('td', { class: 'num' }, String(n))),
    el('td', { class: 'num' }, pct(g.on_time_rate)), el('td', { class: 'num' }, String(g.resolved)),
    el('td', { class: 'num' }, pct(g.closure_rate)),
    el('td', { class: 'num' }, g.median_hours_to_resolve === null ? '' : g.median_hours_to_resolve.toFixed(1)));
  return el('table', { class: 'groups' },
    el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rep.groups.map((g) => row(g, false)), row(rep.total, true)));
}

function backlogView(bl) {
  if (bl.cases.length === 0) return stateView('empty', `没有受案满 ${bl.age_days} 天仍未办结的案件。`);
  return el('div', {},
    el('table', { class: 'backlog-groups' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, '单位'), bl.bands.map((b) => el('th', { scope: 'col', class: 'num' }, b.name)),
        el('th', { scope: 'col', class: 'num' }, '合计'))),
      el('tbody', {}, bl.groups.map((g) => el('tr', {}, el('td', {}, g.key), g.bands.map((n) => el('td', { class: 'num' }, String(n))),
        el('td', { class: 'num' }, String(g.total)))))),
    el('h3', {}, '积案明细'),
    el('table', { class: 'backlog-cases' },
      el('thead', {}, el('tr', {}, ['案件编号', '单位', '类别', '受案时间', '积压天数', '未销号问题'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, bl.cases.map((c) => el('tr', {},
        el('td', {}, el('a', { href: `#/case/${encodeURIComponent(c.case)}` }, c.case)), el('td', {}, c.unit),
        el('td', {}, c.kind === 'criminal' ? '刑事' : c.kind === 'administrative' ? '行政' : c.kind),
        el('td', {}, c.accepted.replace('T', ' ').slice(0, 16)), el('td', { class: 'num' }, String(c.age_days)),
        el('td', {}, c.findings.map((f) => `${f.rule}`).join(', ') || '无'))))));
}

function charts(echarts, ctx, rep, nodes) {
  const base = { textStyle: { fontFamily: 'WenQuanYi Micro Hei, Microsoft YaHei, sans-serif' }, animation: false,
    color: ['#1f4fa3', '#a61b1b', '#8a5300', '#1e6b34', '#5b3fa0', '#0b6e79', '#8a2a6b', '#555f6d'] };
  const trend = echarts.init(nodes.trend, null, { renderer: 'canvas' });
  trend.setOption({ ...base,
    title: { text: `各规则问题数 (按${rep.series.bucket === 'week' ? '周' : '日'})`, ...TITLE },
    tooltip: { trigger: 'axis' }, legend: { type: 'scroll', top: 30 }, grid: { top: 70, left: 40, right: 16, bottom: 30 },
    xAxis: { type: 'category', data: rep.series.starts },
    yAxis: { type: 'value', minInterval: 1 },
    series: Object.entries(rep.series.rules).map(([rule, data]) => ({ id: rule, name: ctx.ruleTitle(rule), type: 'bar', stack: 'n', data })),
  });
  const units = rep.by === 'unit' ? rep.groups.slice().sort((a, b) => (a.key < b.key ? -1 : 1)) : rep.groups;
  const rates = echarts.init(nodes.rates);
  rates.setOption({ ...base,
    title: { text: `各${BY[rep.by]}超期率与销号率 (%)`, ...TITLE },
    tooltip: { trigger: 'axis' }, legend: { top: 30 }, grid: { top: 70, left: 40, right: 16, bottom: 30 },
    xAxis: { type: 'category', data: units.map((g) => keyLabel(ctx, rep.by, g.key)) },
    yAxis: { type: 'value', max: 100 },
    series: [
      { id: 'overdue_rate', name: '超期率', type: 'bar', data: units.map((g) => pctNum(g.overdue_rate)) },
      { id: 'closure_rate', name: '销号率', type: 'bar', data: units.map((g) => pctNum(g.closure_rate)) },
    ],
  });
  const ranked = rep.groups.slice().reverse();
  const ranking = echarts.init(nodes.ranking);
  ranking.setOption({ ...base,
    title: { text: `${BY[rep.by]}考评得分排名 (满分 ${rep.scoring.base})`, ...TITLE },
    tooltip: { trigger: 'axis' }, grid: { top: 40, left: 120, right: 40, bottom: 30 },
    xAxis: { type: 'value', min: Math.min(rep.scoring.floor, ...rep.groups.map((g) => Math.floor(g.score / 10) * 10)), max: rep.scoring.base },
    yAxis: { type: 'category', data: ranked.map((g) => `${g.rank}. ${keyLabel(ctx, rep.by, g.key)}`) },
    series: [{ id: 'score', name: '得分', type: 'bar', data: ranked.map((g) => g.score), label: { show: true, position: 'right' } }],
  });
  window.cwCharts = { trend, rates, ranking };
  window.addEventListener('resize', () => { trend.resize(); rates.resize(); ranking.resize(); });
}

export function showReports(main, ctx, p) {
  const today = localDate(Date.parse(ctx.me.now));
  const from = p.get('from') || localDate(Date.parse(ctx.me.now) - 29 * 86400e3);
  const to = p.get('to') || today;
  const by = p.get('by') || 'unit';
  const level = p.get('level') || '6';
  const form = el('form', { class: 'filters card', 'aria-label': '报表条件' },
    el('label', { for: 'r-from' }, '自', el('input', { id: 'r-from', name: 'from', type: 'date', value: from, required: true })),
    el('label', { for: 'r-to' }, '至', el('input', { id: 'r-to', name: 'to', type: 'date', value: to, required: true })),
    el('label', { for: 'r-by' }, '统计对象', el('select', { id: 'r-by', name: 'by' },
      Object.entries(BY).map(([k, t]) => el('option', { value: k, selected: k === by || undefined }, t)))),
    el('label', { for: 'r-level' }, '单位层级', el('select', { id: 'r-level', name: 'level' },
      [['4', '市局 (4 位)'], ['6', '分局 (6 位)'], ['8', '派出所 (8 位)'], ['12', '完整代码']].map(([k, t]) =>
        el('option', { value: k, selected: k === level || undefined }, t)))),
    el('button', { type: 'submit' }, '查询'),
    el('button', { type: 'button', class: 'quiet', id: 'csv' }, '下载 CSV'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams(new FormData(form));
    location.hash = `#/reports?${q}`;
  });
  const q = api.query({ from, to, by, level });
  form.querySelector('#csv').addEventListener('click', async () => {
    try {
      const res = await api.getRaw(`/v1/reports/quality${q}&format=csv`);
      const blob = await res.blob();
      const a = el('a', { href: URL.createObjectURL(blob), download: `执法质量考评-${from}-${to}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (e) {
      clear(body, stateView('error', api.explain(e)));
    }
  });
  const body = el('div', {}, stateView('loading', '加载中…'));
  clear(main, el('h1', {}, '统计通报 · 执法质量考评'), form, body);
  (async () => {
    let rep, bl, echarts;
    try {
      [rep, bl] = await Promise.all([api.get(`/v1/reports/quality${q}`), api.get(`/v1/reports/backlog${api.query({ level })}`)]);
    } catch (e) {
      return clear(body, stateView('error', api.explain(e)));
    }
    window.cwReport = rep;
    const nodes = {
      trend: el('div', { class: 'chart wide card', role: 'img', 'aria-label': '各规则问题数随时间的变化' }),
      rates: el('div', { class: 'chart card', role: 'img', 'aria-label': '各单位超期率与销号率' }),
      ranking: el('div', { class: 'chart card', role: 'img', 'aria-label': '考评得分排名' }),
    };
    clear(body,
      el('p', { class: 'hint' }, `${from} 至 ${to} · 范围 ${rep.scope ? rep.scope + '*' : '全部单位'} · 满分 ${rep.scoring.base}, 扣分标准见 rules/scoring.yaml`),
      rep.groups.length === 0 ? stateView('empty', '该期间没有发现问题。') :
        [el('div', { class: 'charts' }, nodes.trend, nodes.rates, nodes.ranking),
          el('h2', {}, `${BY[rep.by]}考评`), groupsTable(ctx, rep)],
      el('h2', {}, `积案 (受案满 ${bl.age_days} 天未办结)`), backlogView(bl));
    if (rep.groups.length === 0) return;
    try {
      echarts = await echartsLib();
    } catch (e) {
      return body.prepend(stateView('error', e.message));
    }
    charts(echarts, ctx, rep, nodes);
  })();
}
