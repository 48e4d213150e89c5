// The live feed of finding changes (GET /v1/stream). EventSource cannot
// send a token, so the stream is read with fetch: the token stays in a
// header, never in a URL, and the stream resumes after the last event it
// saw (Last-Event-ID) whenever the server ends it or the network drops.

import { token } from './api.js';

export function follow(onChange, onStatus) {
  let last = null, stopped = false, controller = null, wait = 1000;

  async function once() {
    controller = new AbortController();
    const headers = { Authorization: `Bearer ${token()}` };
    if (last) headers['Last-Event-ID'] = last;
    const res = await fetch('/v1/stream', { headers, signal: controller.signal });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    onStatus('live');
    wait = 1000;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let id = null, data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data += line.slice(6);
          else if (line.startsWith('retry: ')) wait = Number(line.slice(7)) || wait;
        }
        if (id) last = id;
        if (data) {
          try { onChange(JSON.parse(data)); } catch (_) { /* a line we do not read */ }
        }
      }
    }
  }

  (async () => {
    while (!stopped) {
      try {
        await once();
      } catch (e) {
        if (stopped) return;
        onStatus('down');
      }
      if (stopped) return;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 30000);
    }
  })();
  return () => { stopped = true; if (controller) controller.abort(); };
}
