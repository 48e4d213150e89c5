// Chinese labels of what the API names in English: the rules' judgements,
// the review lifecycle, severities, roles, and the shipped event types
// (rules/catalogue.yaml; a type a deployment adds shows as it is named).

export const STATES = {
  warning: '预警', overdue: '超期', late: '逾期完成', violation: '违规',
  anomaly: '异常', cleared: '按期完成', withdrawn: '已撤回',
};
export const REVIEWS = {
  open: '待处理', acknowledged: '已确认', assigned: '整改中', resolved: '已销号',
  dismissed: '已排除', reopened: '重新打开',
};
export const ACTIONS = {
  acknowledge: '确认', assign: '指派整改', resolve: '销号', dismiss: '排除',
  reopen: '重新打开', exempt: '豁免', unexempt: '撤销豁免',
};
export const SEVERITIES = { low: '低', medium: '中', high: '高', critical: '严重' };
export const ROLES = { ingest: '数据接入', inspector: '督察', reviewer: '法制审核', admin: '管理员' };
export const ASSIGNEE_KINDS = { unit: '单位', officer: '民警' };
export const EVENT_TYPES = {
  'alarm.received': '接警',
  'case.accepted': '受案',
  'case.filed': '立案',
  'case.not_filed': '不予立案',
  'case.extended': '延长期限',
  'person.added': '增加涉案人员',
  'summons.started': '传唤到案',
  'summons.ended': '传唤结束',
  'interrogation.started': '询问/讯问开始',
  'interrogation.ended': '询问/讯问结束',
  'case.fasttrack': '快速办理',
  'penalty.decided': '处罚决定',
  'detention.executed': '行政拘留执行',
  'hearing.notified': '告知听证权利',
  'criminal_detention.started': '刑事拘留',
  'arrest.requested': '提请批准逮捕',
  'arrest.approved': '批准逮捕',
  'arrest.rejected': '不批准逮捕',
  'bail.started': '取保候审',
  'bail.ended': '解除取保候审',
  'rsl.started': '监视居住',
  'rsl.ended': '解除监视居住',
  'case.transferred': '移送审查起诉',
  'case.returned': '退回补充侦查',
  'case.resubmitted': '补充侦查后重新移送',
  'evidence.seized': '扣押涉案财物',
  'evidence.stored': '移交涉案财物管理中心',
  'scene.attended': '现场执法',
  'bodycam.uploaded': '执法记录仪视音频上传',
  'case.decided': '作出处理决定',
  'case.closed': '结案',
  'custody.admitted': '送看守所羁押',
  'family.notified': '通知家属',
  'arrest.executed': '逮捕执行',
  'evidence.disposed': '扣押物品处理',
};

export function label(map, key) {
  return (key && map[key]) || key || '';
}
