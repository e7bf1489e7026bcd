// What a client of a streamed answer or upload does (PROTOCOL.md, sections 17 and 18), as
// functions run unchanged in node against the server host and in a page against the browser host (Playwright's
// page.evaluate, WebDriver's executeAsyncScript). Each is self-contained — it names nothing
// outside itself, since a page gets only its text — takes one object whose `base` is the
// host's origin ('' in a page) and resolves to plain data: what it saw, with the times it saw
// it, for the caller to check.

/**
 * Reads the server-sent events of `path` as they arrive: each event's fields and arrival time
 * (`Date.now()`, the clock the plugin's `now` reads on the same machine), the comments, and how
 * the body ended ('complete', or 'error: ...').
 */
export async function readEvents({ base, path }) {
  const out = { started: Date.now(), events: [], comments: [], ended: 'complete', rest: '' };
  const response = await fetch(base + path);
  out.status = response.status;
  out.contentType = response.headers.get('content-type');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const take = (block, arrived) => {
    const event = { arrived };
    let fields = 0;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        out.comments.push(line);
        continue;
      }
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      event[name] = name === 'data' && name in event ? `${event.data}\n${value}` : value;
      fields += 1;
    }
    if (fields) out.events.push(event);
  };
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const arrived = Date.now();
      text += decoder.decode(value, { stream: !done }).replaceAll('\r', '');
      for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
        take(text.slice(0, end), arrived);
        text = text.slice(end + 2);
      }
      if (done) break;
    }
  } catch (error) {
    out.ended = `error: ${error?.message ?? error}`;
  }
  out.finished = Date.now();
  out.rest = text;
  return out;
}

/**
 * Reads `path` whole as text, and how it ended ('complete', or 'error: ...' with what had
 * arrived before).
 */
export async function readText({ base, path }) {
  const response = await fetch(base + path);
  const out = { status: response.status, contentType: response.headers.get('content-type'), text: '', ended: 'complete' };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out.text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    out.ended = `error: ${error?.message ?? error}`;
  }
  return out;
}

/**
 * Reads the bytes of `path` as they arrive, checking each against the plugin's pattern (byte k
 * is k % 251): how many came, in how many chunks, the first wrong offset (null if none), the
 * milliseconds to the first chunk and to the end, and how it ended.
 */
export async function readBytes({ base, path }) {
  const started = performance.now();
  const response = await fetch(base + path);
  const out = {
    status: response.status, contentType: response.headers.get('content-type'), bytes: 0, chunks: 0, wrongAt: null, ended: 'complete',
  };
  const reader = response.body.getReader();
  let expected = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (out.chunks === 0) out.firstMs = performance.now() - started;
      out.chunks += 1;
      if (out.wrongAt === null) {
        for (let i = 0; i < value.length; i++) {
          if (value[i] !== expected) {
            out.wrongAt = out.bytes + i;
            break;
          }
          expected = expected === 250 ? 0 : expected + 1;
        }
      }
      out.bytes += value.length;
    }
  } catch (error) {
    out.ended = `error: ${error?.message ?? error}`;
  }
  out.totalMs = performance.now() - started;
  return out;
}

/**
 * Reads `path` until `lines` whole lines came, then gives the body up: `how` is 'cancel' (the
 * reader's `cancel()`) or 'abort' (the request's AbortSignal: the connection closes). What
 * was read, and whether the body ended by itself first.
 */
export async function readLinesThenStop({ base, path, lines, how }) {
  const controller = new AbortController();
  const response = await fetch(base + path, { signal: controller.signal });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const out = { status: response.status, text: '', endedFirst: false };
  while (out.text.split('\n').length - 1 < lines) {
    const { done, value } = await reader.read();
    if (done) {
      out.endedFirst = true;
      return out;
    }
    out.text += decoder.decode(value, { stream: true });
  }
  if (how === 'abort') controller.abort();
  else await reader.cancel();
  return out;
}

/**
 * Reads the number `path` answers every `apartMs` until two readings in a row agree (it has
 * stopped changing) or `withinMs` passed: every reading, and whether it settled.
 */
export async function settledNumber({ base, path, apartMs, withinMs }) {
  const read = async () => {
    const response = await fetch(base + path);
    const text = await response.text();
    return response.status === 200 ? Number(text) : `${response.status} ${text}`;
  };
  const started = performance.now();
  const out = { readings: [await read()], settled: false };
  while (performance.now() - started < withinMs) {
    await new Promise((resolve) => setTimeout(resolve, apartMs));
    out.readings.push(await read());
    const [before, last] = out.readings.slice(-2);
    if (typeof last === 'number' && last === before) {
      out.settled = true;
      break;
    }
  }
  return out;
}

/**
 * Asks `path` (a route that answers, then works on), then at once and every 25 ms `statusPath`
 * (what the work leaves) until it answers 200 or `withinMs` passed: the answer and its time,
 * what the status said at once, and when it first answered 200 and what.
 */
export async function answerThenWork({ base, path, statusPath, withinMs }) {
  const started = performance.now();
  const response = await fetch(base + path);
  const out = { answer: { status: response.status, text: await response.text() } };
  out.answerMs = performance.now() - started;
  const status = async () => {
    const got = await fetch(base + statusPath);
    return { status: got.status, text: await got.text(), ms: performance.now() - started };
  };
  out.atOnce = await status();
  out.last = out.atOnce;
  while (out.last.status !== 200 && performance.now() - started < withinMs) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    out.last = await status();
  }
  return out;
}

/**
 * Sends `bytes` bytes of the pattern (byte k is k % 251) to `path` with `method` (POST) and
 * `contentType`, as bytes or, with `as: 'blob'`, as a Blob (a page's file); then reads the
 * answer: `read: 'text'` its text, `read: 'bytes'` its bytes as they arrive, checked against the
 * pattern (how many, in how many chunks, the first wrong offset or null, how it ended).
 */
export async function postPattern({ base, path, bytes, contentType, method = 'POST', as = 'bytes', read = 'text' }) {
  const pattern = new Uint8Array(bytes);
  for (let k = 0, value = 0; k < bytes; k++, value = value === 250 ? 0 : value + 1) pattern[k] = value;
  const body = as === 'blob' ? new Blob([pattern]) : pattern;
  const headers = contentType ? { 'content-type': contentType } : {};
  const response = await fetch(base + path, { method, headers, body });
  const out = { status: response.status, contentType: response.headers.get('content-type') };
  if (read === 'text') {
    out.text = await response.text();
    return out;
  }
  Object.assign(out, { bytes: 0, chunks: 0, wrongAt: null, ended: 'complete' });
  const reader = response.body.getReader();
  let expected = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out.chunks += 1;
      for (let i = 0; out.wrongAt === null && i < value.length; i++) {
        if (value[i] !== expected) out.wrongAt = out.bytes + i;
        expected = expected === 250 ? 0 : expected + 1;
      }
      out.bytes += value.length;
    }
  } catch (error) {
    out.ended = `error: ${error?.message ?? error}`;
  }
  return out;
}

/**
 * Reads `path` until at least `bytes` bytes came, then gives the body up (`how`: 'cancel' the
 * reader, or 'abort' the request). What was read, and whether the body ended by itself first.
 */
export async function readThenStop({ base, path, bytes, how }) {
  const controller = new AbortController();
  const response = await fetch(base + path, { signal: controller.signal });
  const reader = response.body.getReader();
  const out = { status: response.status, read: 0, endedFirst: false };
  while (out.read < bytes) {
    const { done, value } = await reader.read();
    if (done) {
      out.endedFirst = true;
      return out;
    }
    out.read += value.length;
  }
  if (how === 'abort') controller.abort();
  else await reader.cancel();
  return out;
}

/**
 * Asks `url` (the upstream's report of one response) every `apartMs` until its response ended
 * (`ended` is no longer 'open') or `withinMs` passed: every reading's `sent` and the last report.
 */
export async function upstreamEnded({ url, apartMs, withinMs }) {
  const started = performance.now();
  const out = { sent: [] };
  for (;;) {
    out.last = await (await fetch(url, { cache: 'no-store' })).json();
    out.sent.push(out.last?.sent);
    if (out.last?.ended !== 'open' || performance.now() - started > withinMs) return out;
    await new Promise((resolve) => setTimeout(resolve, apartMs));
  }
}

/**
 * Chromium's streamed upload: sends `chunks` chunks of `chunkBytes` bytes of the pattern to
 * `path` as a ReadableStream (`duplex: 'half'`), one every `gapMs`, and reads the answer's text;
 * or what the engine threw (some refuse such a body), and how many chunks the stream gave by then.
 */
export async function postStream({ base, path, chunks, chunkBytes, gapMs }) {
  let given = 0;
  let offset = 0;
  const body = new ReadableStream({
    async pull(controller) {
      if (given === chunks) {
        controller.close();
        return;
      }
      if (given > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      const chunk = new Uint8Array(chunkBytes);
      for (let i = 0; i < chunkBytes; i++) chunk[i] = (offset + i) % 251;
      offset += chunkBytes;
      given += 1;
      controller.enqueue(chunk);
    },
  });
  try {
    const response = await fetch(base + path, { method: 'POST', body, duplex: 'half' });
    return { status: response.status, text: await response.text(), given };
  } catch (error) {
    return { threw: `${error?.name}: ${error?.message ?? error}`, given };
  }
}

/**
 * Reads the first chunk of `path`, then holds the body unread while it asks `reportUrl` (the
 * upstream's report of the response the plugin reads) every `apartMs` until `sent` stops changing
 * between two readings, or the response ended, or `withinMs` passed; then cancels the reader.
 * The first chunk's size, and every `sent` read while holding.
 */
export async function readFirstThenHold({ base, path, reportUrl, apartMs, withinMs }) {
  const response = await fetch(base + path);
  const reader = response.body.getReader();
  const first = await reader.read();
  const out = { status: response.status, firstChunk: first.value?.length ?? 0, held: [] };
  const started = performance.now();
  for (;;) {
    const report = await (await fetch(reportUrl, { cache: 'no-store' })).json();
    out.held.push(report.sent);
    out.ended = report.ended;
    const settled = out.held.length > 1 && out.held.at(-1) === out.held.at(-2);
    if (settled || report.ended !== 'open' || performance.now() - started > withinMs) break;
    await new Promise((resolve) => setTimeout(resolve, apartMs));
  }
  await reader.cancel();
  return out;
}
