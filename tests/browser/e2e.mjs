// The console in Debian's chromium (playwright-core, no browser download):
// log in, filter the queue, open a case, assign with a due date, resolve
// with a comment and see the audit row, reopen, exempt, see a finding
// appear live after an event is posted, the reports page's charts against
// GET /v1/reports/quality, the CSV download, an inspector of 370103 who
// never sees 370102, expired tokens and the database down, and axe-core
// on every page (no serious or critical violation). Screenshots go to
// $CW_SHOTS. Ends with "N passed, N failed".
import { chromium } from 'playwright-core';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const url = process.env.CW_URL;
const shots = process.env.CW_SHOTS;
const here = dirname(fileURLToPath(import.meta.url));
const axeSource = readFileSync(join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');
let passed = 0, failed = 0;

function check(name, cond, detail) {
  if (cond) passed++;
  else { failed++; console.log(`FAIL: ${name}${detail !== undefined ? ': ' + JSON.stringify(detail).slice(0, 400) : ''}`); }
}

async function api(method, path, token, body) {
  const res = await fetch(url + path, {
    method, headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  try { return { status: res.status, body: JSON.parse(text) }; } catch (_) { return { status: res.status, body: text }; }
}

async function axe(page, name) {
  // evaluated through the debugger, so the console's CSP (no inline
  // scripts) stays as it is served
  await page.evaluate(axeSource);
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, target: v.nodes[0]?.target }));
  });
  const serious = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(`axe on the ${name} page: no serious violation`, serious.length === 0, serious);
}

async function login(page, token) {
  await page.goto(`${url}/console/`);
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(`${url}/console/#/queue`);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('#who:not(:empty)');
}

const profile = mkdtempSync(join(tmpdir(), 'cw-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, acceptDownloads: true,
  viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'UTC',
  args: ['--lang=zh-CN', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(10000);
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));

try {
  // --- the login page, then a wrong token ---
  await page.goto(`${url}/console/`);
  await page.waitForSelector('#token');
  await axe(page, 'login');
  await page.screenshot({ path: join(shots, 'login.png') });
  await page.fill('#token', 'not-a-token');
  await page.click('button[type=submit]');
  await page.waitForSelector('.login .error');
  check('a wrong token is refused with 401', (await page.textContent('.login .error')).includes('401'));

  // --- log in as the inspector of 3701: the scope is shown ---
  await login(page, 'insp-3701');
  const who = await page.textContent('#who');
  check('the scope is shown', who.includes('督察') && who.includes('inspector-3701') && who.includes('3701*') && who.includes('UTC+08:00'), who);
  check('the token is kept in session storage only', await page.evaluate(() =>
    sessionStorage.getItem('casewarden.token') === 'insp-3701' && localStorage.length === 0 && document.cookie === ''));
  await page.waitForSelector('table.queue tbody tr.row');
  const all = (await api('GET', '/v1/findings?limit=1', 'insp-3701')).body.total;
  check('the queue counts what the API counts', (await page.textContent('h1')).includes(`共 ${all} 条`), await page.textContent('h1'));
  check('Chinese labels in the queue', (await page.textContent('table.queue')).includes('超期') && (await page.textContent('table.queue thead')).includes('规则判断'));
  check('counts per rule and per unit', await page.locator('table.counts-rule tbody tr').count() > 3 && await page.locator('table.counts-unit tbody tr').count() >= 3);

  // --- filter: overdue of one rule, sorted by due ---
  await page.selectOption('#f-state', ['overdue']);
  await page.selectOption('#f-sort', 'due');
  await page.click('form.filters button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('state=overdue'));
  await page.waitForSelector('table.queue tbody tr.row');
  const states = await page.$$eval('table.queue tbody tr.row td:nth-child(6)', (tds) => tds.map((t) => t.textContent));
  const overdue = (await api('GET', '/v1/findings?state=overdue&limit=1', 'insp-3701')).body.total;
  check('the filter shows overdue findings only', states.length === overdue && states.every((s) => s === '超期'), states);
  const dues = await page.$$eval('table.queue tbody tr.row td:nth-child(7)', (tds) => tds.map((t) => t.textContent));
  check('sorted by due', dues.join() === [...dues].sort().join(), dues);
  await axe(page, 'queue');
  await page.screenshot({ path: join(shots, 'queue.png'), fullPage: true });

  // --- the keyboard: down twice, up once, Enter opens the case of the first row ---
  const firstCase = await page.textContent('table.queue tbody tr.row:first-child td:nth-child(3) a');
  await page.locator('h1').click();
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  check('j/k select a row', await page.getAttribute('table.queue tbody tr.row:first-child', 'aria-selected') === 'true');
  await page.keyboard.press('Enter');
  await page.waitForFunction((c) => location.hash.startsWith(`#/case/${c}`), firstCase);
  check('Enter opens the case', true);

  // --- a case: timeline with due and lead, evidence, legal basis ---
  const caseId = 'A370102202600002';
  const f = (await api('GET', `/v1/findings?case=${caseId}&rule=ADM-HANDLING`, 'insp-3701')).body.findings[0];
  await page.goto(`${url}/console/#/case/${caseId}?finding=${f.id}`);
  await page.waitForSelector('.timeline svg');
  check('the timeline draws the due', await page.locator('.timeline svg line.due').count() >= 1);
  check('... and the lead window', await page.locator('.timeline svg rect.lead').count() >= 1);
  check('the evidence events are highlighted', await page.locator('.timeline svg circle.evidence').count() === f.events.length &&
    await page.locator('table.events tr.evidence').count() === f.events.length);
  const card = page.locator(`#finding-${f.id}`);
  check('the legal basis is shown', (await card.textContent()).includes('治安管理处罚法'));
  check('the rule title in Chinese', (await card.textContent()).includes('行政案件办理超期'));
  // --- why it was raised: the steps of /v1/findings/{id}/explain ---
  await card.locator('button[data-action=explain]').click();
  await page.waitForSelector(`#finding-${f.id} .explain ol.steps li`);
  const steps = await page.locator(`#finding-${f.id} .explain ol.steps li`).allTextContents();
  const x = (await api('GET', `/v1/findings/${f.id}/explain`, 'insp-3701')).body;
  const want = x.rules[0].findings.find((g) => g.subject === f.subject).steps.map((st) => st.text);
  check('the console shows the explanation the API gives', steps.join('|') === want.join('|') &&
    steps.some((t) => t.startsWith('起算: 受案')) && steps.some((t) => t.includes('到期')), steps);
  check('... with the rule\'s file:line and version', (await page.textContent(`#finding-${f.id} .explain`)).includes('deadlines.lua:') &&
    (await page.textContent(`#finding-${f.id} .explain`)).includes(`规则版本 ${f.rule_version}`));
  await axe(page, 'case');

  // --- assign with a due date: the page requires it ---
  await card.locator('button[data-action=assign]').click();
  const submit = card.locator('form.form button[type=submit]');
  await card.locator('input[name=assignee]').fill('370102');
  check('assign waits for a due date', await submit.isDisabled());
  await card.locator('input[name=due]').fill('2026-06-15');
  await card.locator('textarea[name=comment]').fill('限期6月15日前补办延长审批或作出处理决定');
  check('... then may be sent', !(await submit.isDisabled()));
  await submit.click();
  await page.waitForSelector(`#finding-${f.id} .rv-assigned`);
  let got = (await api('GET', `/v1/findings/${f.id}`, 'insp-3701')).body;
  check('assigned with its due', got.review === 'assigned' && got.rect_due === '2026-06-15T23:59:59+08:00' && got.assignee.id === '370102', got.review);
  check('the assignment is in the history', (await page.locator(`#finding-${f.id} table.history`).textContent()).includes('整改中'));

  // --- resolve with a comment and evidence; the comment is required ---
  await page.locator(`#finding-${f.id} button[data-action=resolve]`).click();
  const rsubmit = page.locator(`#finding-${f.id} form.form button[type=submit]`);
  check('resolve waits for a comment', await rsubmit.isDisabled());
  await page.locator(`#finding-${f.id} textarea[name=comment]`).fill('已作出处罚决定, 补录延长审批');
  await page.locator(`#finding-${f.id} textarea[name=evidence]`).fill('济公(历下)行罚决字〔2026〕118号\n审批表 2026-07');
  await rsubmit.click();
  await page.waitForSelector(`#finding-${f.id} .rv-resolved`);
  got = (await api('GET', `/v1/findings/${f.id}`, 'insp-3701')).body;
  const last = got.reviews[got.reviews.length - 1];
  check('the audit row of the 销号', last.action === 'resolve' && last.who === 'inspector-3701' &&
    last.comment === '已作出处罚决定, 补录延长审批' && last.evidence.length === 2, last);
  check('the audit row is on the page', (await page.locator(`#finding-${f.id} table.history`).textContent()).includes('已作出处罚决定, 补录延长审批'));

  // --- reopen, with its comment ---
  await page.locator(`#finding-${f.id} button[data-action=reopen]`).click();
  await page.locator(`#finding-${f.id} textarea[name=comment]`).fill('复查: 审批手续不全');
  await page.locator(`#finding-${f.id} form.form button[type=submit]`).click();
  await page.waitForSelector(`#finding-${f.id} .rv-reopened`);
  check('reopened', (await api('GET', `/v1/findings/${f.id}`, 'insp-3701')).body.review === 'reopened');
  check('an inspector has no exempt button', await page.locator(`#finding-${f.id} button[data-action=exempt]`).count() === 0);
  await page.screenshot({ path: join(shots, 'case.png'), fullPage: true });

  // --- exempt, as the unit's 法制 reviewer ---
  await login(page, 'rev-3701');
  await page.goto(`${url}/console/#/case/${caseId}?finding=${f.id}`);
  await page.waitForSelector(`#finding-${f.id} button[data-action=exempt]`);
  await page.locator(`#finding-${f.id} button[data-action=exempt]`).click();
  await page.locator(`#finding-${f.id} textarea[name=reason]`).fill('经上级批准延长办案期限, 审批已于3月底作出, 系统补录滞后');
  await page.locator(`#finding-${f.id} input[name=approver]`).fill('市局法制支队 济公法〔2026〕12号');
  await page.locator(`#finding-${f.id} input[name=expires]`).fill('2026-12-31');
  await page.locator(`#finding-${f.id} form.form button[type=submit]`).click();
  await page.waitForSelector(`#finding-${f.id} .exempt-mark`);
  got = (await api('GET', `/v1/findings/${f.id}`, 'insp-3701')).body;
  check('exempted and audited', got.exempt && got.exemption.by === 'reviewer-3701' && got.reviews.at(-1).action === 'exempt', got.exemption);
  check('an exempted finding leaves the queue', (await api('GET', `/v1/findings?case=${caseId}&rule=ADM-HANDLING`, 'insp-3701')).body.total === 0);

  // --- live: a finding appears in the queue without a reload ---
  await login(page, 'insp-3701');
  await page.goto(`${url}/console/#/queue?state=overdue&sort=-raised`);
  await page.waitForSelector('table.queue tbody tr.row');
  await page.waitForFunction(() => document.getElementById('live').dataset.status === 'live');
  await page.evaluate(() => { window.cwNoReload = true; });
  const posted = await api('POST', '/v1/events', 'ingest-tok', { id: 'live-1', type: 'evidence.seized', case: 'A370104202605099',
    unit: '370104', at: '2026-05-29T10:00:00+08:00', data: { item: 'K1', description: '手机一部' } });
  check('the event is stored', posted.status === 201, posted);
  await page.waitForSelector('table.queue tbody tr.row >> text=A370104202605099', { timeout: 8000 });
  check('the new overdue appears live, without a reload', await page.evaluate(() => window.cwNoReload === true));
  check('... marked as new', await page.locator('table.queue tbody tr.fresh').count() >= 1);

  // --- reports: the charts are the API's figures ---
  await page.goto(`${url}/console/#/reports?from=2026-05-01&to=2026-05-31&by=unit&level=6`);
  await page.waitForFunction(() => window.cwCharts && window.cwCharts.ranking);
  const rep = (await api('GET', '/v1/reports/quality?from=2026-05-01&to=2026-05-31&by=unit&level=6', 'insp-3701')).body;
  const opt = await page.evaluate(() => {
    const o = (c) => c.getOption();
    return { trend: o(window.cwCharts.trend), rates: o(window.cwCharts.rates), ranking: o(window.cwCharts.ranking) };
  });
  const trendSeries = Object.fromEntries(opt.trend.series.map((s) => [s.id, s.data]));
  check('findings per rule over time: the API\'s series', JSON.stringify(trendSeries) === JSON.stringify(rep.series.rules) &&
    JSON.stringify(opt.trend.xAxis[0].data) === JSON.stringify(rep.series.starts), { trendSeries, api: rep.series.rules });
  const byKey = [...rep.groups].sort((a, b) => (a.key < b.key ? -1 : 1));
  const rate = (x) => (x === null ? null : Math.round(x * 1000) / 10);
  check('overdue and 销号 rates per unit', JSON.stringify(opt.rates.series.find((s) => s.id === 'overdue_rate').data) ===
    JSON.stringify(byKey.map((g) => rate(g.overdue_rate))) && JSON.stringify(opt.rates.series.find((s) => s.id === 'closure_rate').data) ===
    JSON.stringify(byKey.map((g) => rate(g.closure_rate))), opt.rates.series);
  check('the score ranking', JSON.stringify(opt.ranking.series[0].data) === JSON.stringify([...rep.groups].reverse().map((g) => g.score)) &&
    opt.ranking.yAxis[0].data.at(-1).startsWith('1. '), opt.ranking.series[0].data);
  check('the figures table', await page.locator('table.groups tbody tr').count() === rep.groups.length + 1);
  await page.waitForTimeout(300);
  await axe(page, 'reports');
  await page.screenshot({ path: join(shots, 'reports.png'), fullPage: true });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const csv = readFileSync(await download.path());
  check('the CSV download: UTF-8 with BOM and Chinese headers', csv[0] === 0xef && csv[1] === 0xbb && csv[2] === 0xbf &&
    csv.toString('utf8').slice(1).startsWith('排名,单位,得分'), csv.toString('utf8').slice(0, 40));

  // --- an inspector of 370103 sees nothing of 370102 on any page ---
  await login(page, 'insp-370103');
  await page.goto(`${url}/console/#/queue`);
  await page.waitForSelector('table.queue tbody tr.row');
  const units = await page.$$eval('table.queue tbody tr.row td:nth-child(4)', (tds) => tds.map((t) => t.textContent));
  check('370103: its queue', units.length > 0 && units.every((u) => u.startsWith('370103')), units);
  check('370103: no 370102 in the queue page', !(await page.textContent('body')).includes('370102'));
  await page.goto(`${url}/console/#/case/A370102202600002`);
  await page.waitForSelector('main .error');
  check('370103: a 370102 case is not found', (await page.textContent('main .error')).includes('404') && !(await page.textContent('main')).includes('行政案件办理超期'));
  await page.goto(`${url}/console/#/reports?from=2026-01-01&to=2026-05-31`);
  await page.waitForFunction(() => window.cwCharts && window.cwReport && window.cwReport.scope === '370103');
  check('370103: no 370102 in the reports page', !(await page.textContent('body')).includes('370102') &&
    (await page.evaluate(() => window.cwReport.groups.every((g) => g.key.startsWith('370103')))));

  // --- an expired token; the database down ---
  await page.evaluate(() => sessionStorage.setItem('casewarden.token', 'expired-token'));
  await page.reload();
  await page.waitForSelector('.login .error');
  check('an expired token leads to the login with 401', (await page.textContent('.login .error')).includes('401') &&
    await page.isHidden('#bar'));
  await login(page, 'insp-3701');
  execSync(process.env.CW_DB_STOP, { stdio: 'ignore' });
  await page.goto(`${url}/console/#/queue?state=late`);
  await page.waitForSelector('main .error');
  check('the database down: 503 shown as such', (await page.textContent('main .error')).includes('数据库暂不可用 (503)'));
  await page.screenshot({ path: join(shots, 'error-503.png') });
  check('no script error on any page', consoleErrors.length === 0, consoleErrors);
} catch (e) {
  check(`the run went to its end (${e.message.split('\n')[0]})`, false, e.stack.split('\n').find((l) => l.includes('e2e.mjs')));
  await page.screenshot({ path: join(shots, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
