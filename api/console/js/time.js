// Times as the deployment shows them: the API writes RFC 3339 in the
// deployment's offset, so the wall time is read off the text itself; times
// made here (now, a date picked) are put in that offset too.

let tzMinutes = 480;
export function setZone(minutes) {
  tzMinutes = minutes;
}
export function zoneName() {
  const sign = tzMinutes < 0 ? '-' : '+';
  const m = Math.abs(tzMinutes);
  return `UTC${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

// "2026-05-11T10:00:00+08:00" -> "2026-05-11 10:00"
export function show(t, seconds = false) {
  if (!t) return '';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d)?/.exec(t);
  return m ? `${m[1]} ${m[2]}${seconds && m[3] ? m[3] : ''}` : t;
}

export function epoch(t) {
  return t ? Date.parse(t) : NaN;
}

// The local date (YYYY-MM-DD) of an epoch in the deployment's zone.
export function localDate(ms) {
  return new Date(ms + tzMinutes * 60000).toISOString().slice(0, 10);
}

// The start of a local date as RFC 3339 in the deployment's offset.
export function dayStart(date) {
  const sign = tzMinutes < 0 ? '-' : '+';
  const m = Math.abs(tzMinutes);
  return `${date}T00:00:00${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}
export function dayEnd(date) {
  return dayStart(date).replace('T00:00:00', 'T23:59:59');
}

export function hours(seconds) {
  if (!seconds) return '';
  if (seconds % 86400 === 0) return `${seconds / 86400} 日`;
  return `${Math.round(seconds / 360) / 10} 小时`;
}
