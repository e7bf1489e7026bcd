// `valor dev` in a real browser, as scripts/test-cli.sh runs it on a project made by `valor new`
// outside the checkout (not a `node --test` file: the shell script starts the dev server):
//
//   node e2e/cli-dev.mjs --engine chromium --url http://127.0.0.1:PORT/ --source FILE \
//     --first "Hello from app" --edit "Hello from=>Edited:" [--broken "TEXT"] [--since MS] \
//     [--page web/index.html]
//
// Opens the page and waits for the plugin's first answer (timed from --since, e.g. the moment
// `valor new` started, else from now), then saves an edit of the plugin's source and waits
// until the page shows the new answer, without reloading the page or its worker (timed from
// the save). With --broken, first saves TEXT appended to the source (a syntax error) and
// expects the build error over the page, then the edit clears it. With --page, last saves a
// change to that page and expects the page to reload by itself. Prints the times as JSON.
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { By } from 'selenium-webdriver';
import { startEngine } from './browsers.mjs';

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string', default: 'chromium' },
    url: { type: 'string' },
    source: { type: 'string' },
    first: { type: 'string' },
    edit: { type: 'string' },
    broken: { type: 'string' },
    since: { type: 'string' },
    page: { type: 'string' },
  },
});
for (const name of ['url', 'source', 'first', 'edit']) {
  if (!args[name]) throw new Error(`--${name} is required`);
}
const [from, to] = args.edit.split('=>');
const since = Number(args.since ?? Date.now());

async function until(what, check, ms) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
}

const engine = await startEngine(args.engine);
const driver = await engine.session();
try {
  const answer = () => driver.findElement(By.id('answer')).getText();
  const overlay = () => driver.executeScript(
    "return document.getElementById('valor-dev-overlay')?.textContent ?? null");

  await driver.get(args.url);
  await until(`the first answer "${args.first}"`, async () => (await answer()) === args.first, 180_000)
    .catch(async (error) => {
      // What the page showed instead, and whether a worker controls it: for the log.
      const seen = await driver.executeScript(
        "return { url: location.href, worker: navigator.serviceWorker.controller?.scriptURL ?? null, text: document.body?.innerText.slice(0, 400) ?? null }",
      ).catch((why) => `(the page could not be read: ${why})`);
      throw new Error(`${error.message}; the page: ${JSON.stringify(seen)}`);
    });
  const firstAnswer = Date.now() - since;
  console.error(`[cli-dev] ${args.engine}: first answer after ${firstAnswer} ms: ${args.first}`);
  // The page and its worker must live through what follows: no reload, by hand or otherwise.
  await driver.executeScript('window.__valorKept = true');
  const worker = await driver.executeScript('return navigator.serviceWorker.controller?.scriptURL');
  if (!worker) throw new Error('no service worker controls the page');

  const original = await readFile(args.source, 'utf8');
  if (!original.includes(from)) throw new Error(`${args.source} has no "${from}" to edit`);
  let errorShown = null;
  if (args.broken) {
    await writeFile(args.source, `${original}\n${args.broken}\n`);
    errorShown = await until('the build error over the page', overlay, 120_000);
    console.error(`[cli-dev] ${args.engine}: the page shows the error: ${errorShown.slice(0, 160)}...`);
  }
  const edited = original.replace(from, to);
  const expected = args.first.replace(from, to);
  const saved = Date.now();
  await writeFile(args.source, edited);
  await until(`the new answer "${expected}"`, async () => (await answer()) === expected, 120_000);
  const editToAnswer = Date.now() - saved;
  console.error(`[cli-dev] ${args.engine}: new answer ${editToAnswer} ms after the save: ${expected}`);
  if (!(await driver.executeScript('return window.__valorKept === true'))) {
    throw new Error('the page was reloaded');
  }
  if (await overlay()) throw new Error('the error overlay is still shown after the fix');
  const still = await driver.executeScript('return navigator.serviceWorker.controller?.scriptURL');
  if (still !== worker) throw new Error(`the page's worker changed: ${worker} -> ${still}`);
  // The worker's registry holds the new module (a hot swap, not a new worker).
  const listed = await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    fetch('/_plugins').then((r) => r.json()).then(done, (e) => done(String(e)));`);
  if (!Array.isArray(listed) || !listed.some((p) => /\?v=/.test(p.url ?? ''))) {
    throw new Error(`the registry does not list the swapped plugin: ${JSON.stringify(listed)}`);
  }
  if (args.page) {
    await writeFile(args.page, `${await readFile(args.page, 'utf8')}\n<!-- changed -->\n`);
    await until('the page to reload after its file changed',
      () => driver.executeScript('return window.__valorKept === undefined'), 30_000);
    await until(`the answer "${expected}" after the reload`, async () => (await answer()) === expected, 30_000);
    console.error(`[cli-dev] ${args.engine}: a change to the page reloaded it`);
  }
  console.log(JSON.stringify({ engine: args.engine, firstAnswerMs: firstAnswer, editToAnswerMs: editToAnswer, errorShown: Boolean(errorShown) }));
} finally {
  await driver.quit().catch(() => {});
  engine.stop();
}
