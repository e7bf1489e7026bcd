// What every benchmark app (Valor's plugins, the floor, MSW's handlers) must answer, checked
// before and while they are measured: a fast wrong answer must fail the run, not count.
import { createHash } from 'node:crypto';

export const HELLO = 'OK response from a plugin';
const TEXT = 'text/plain; charset=utf-8';

/// Throws unless `answer` ({ status, contentType, body }, the body as text) is hello's.
export function checkHello(answer, where) {
  const { status, contentType, body } = answer;
  if (status !== 200 || contentType !== TEXT || body !== HELLO) {
    throw new Error(`${where} answered ${status} (${contentType}) ${JSON.stringify(body.slice(0, 200))}, not hello's 200 (${TEXT}) ${JSON.stringify(HELLO)}`);
  }
}

/// Asks `page`'s worker for hello and for an echo of a POST, and checks both answers.
export async function checkAnswers(page, scope) {
  const echoed = 'checked by bench/answers.mjs';
  const [hello, echo] = await page.evaluate(async (body) => {
    const read = async (response) => ({
      status: response.status, contentType: response.headers.get('content-type'), body: await response.text(),
    });
    return [await read(await fetch('api/hello')), await read(await fetch('api/echo/some/path?x=1', { method: 'POST', body }))];
  }, echoed);
  checkHello(hello, `${scope}: GET api/hello`);
  const expected = {
    method: 'POST', path: '/some/path', query: 'x=1',
    body_size: echoed.length, body_sha256: createHash('sha256').update(echoed).digest('hex'),
  };
  let json;
  try { json = JSON.parse(echo.body); } catch { json = {}; }
  const wrong = Object.entries(expected).filter(([field, value]) => json[field] !== value).map(([field]) => field);
  if (echo.status !== 200 || echo.contentType !== 'application/json' || wrong.length || !Array.isArray(json.headers)) {
    throw new Error(`${scope}: POST api/echo/some/path?x=1 answered ${echo.status} (${echo.contentType}) ${echo.body.slice(0, 300)}; wrong: ${wrong.join(', ') || 'status, type or headers'}`);
  }
}
