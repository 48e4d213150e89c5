// The API as the console calls it: the token from session storage on every
// request, and errors turned into what a person can act on.

const KEY = 'casewarden.token';

export function token() {
  return sessionStorage.getItem(KEY);
}
export function setToken(t) {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

// What an error means to the person at the screen.
export function explain(e) {
  if (!(e instanceof ApiError)) return `无法连接服务器: ${e.message}`;
  switch (e.status) {
    case 401: return '登录已失效或令牌无效, 请重新登录 (401)';
    case 403: return `当前角色无权执行此操作 (403): ${e.message}`;
    case 404: return `未找到, 或不在本单位范围内 (404)`;
    case 409: return `当前审核状态不允许此操作 (409): ${e.message}`;
    case 422: return `填写有误 (422)${e.field ? ' [' + e.field + ']' : ''}: ${e.message}`;
    case 503: return e.code === 'too_many_streams'
      ? '实时推送连接已满 (503), 稍后自动重试'
      : '数据库暂不可用 (503), 请稍后重试';
    default: return `服务器错误 (${e.status}): ${e.message}`;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

async function request(method, path, body, raw) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    let err = {};
    try { err = (await res.json()).error || {}; } catch (_) { /* not JSON */ }
    const e = new ApiError(res.status, err.code || '', err.message || res.statusText, err.field);
    if (res.status === 401) onUnauthorized(e);
    throw e;
  }
  return raw ? res : res.json();
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);
export const del = (path, body) => request('DELETE', path, body);
export const getRaw = (path) => request('GET', path, undefined, true);

// A query string of the set values; lists become comma-separated.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    q.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
