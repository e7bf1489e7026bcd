// The demo app as the tests see it: `scripts/demo.sh` serving it, and a browser session using the
// page as a person would (typing, clicking, reading what it shows): over WebDriver in any engine,
// or over Chromium's DevTools protocol for what WebDriver cannot do.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { By, Key, until } from 'selenium-webdriver';
import { freePort } from './browsers.mjs';

export const root = fileURLToPath(new URL('..', import.meta.url));

// Runs `scripts/demo.sh --port N` (the README's demo command); resolves once it answers.
export async function startDemo() {
  const port = await freePort();
  const server = spawn('scripts/demo.sh', ['--port', String(port)], {
    cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The build's messages are worth seeing; the server's access log is not.
  createInterface({ input: server.stderr }).on('line', (line) => {
    if (!/^127\.0\.0\.1 - - \[/.test(line)) process.stderr.write(`${line}\n`);
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/Valor demo: (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    server.once('exit', (code) => reject(new Error(`demo command exited with ${code}:\n${out}`)));
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(url)).ok) {
        return { url, stop: () => { try { process.kill(-server.pid); } catch { /* gone */ } } };
      }
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within 10 s`);
}

// The demo page in a WebDriver session (any engine), used as a person would.
export class DemoPage {
  constructor(driver, url) {
    this.driver = driver;
    this.url = url;
  }

  // Opens the demo and waits until the hello answer shows that the service worker is serving.
  async open() {
    await this.goto(this.url);
    await this.served();
  }

  async reload() {
    await this.refresh();
    await this.served();
  }

  // Waits until the page's first render is over: the page lists the plugins last, after every
  // other section showed its answer. Until then sections still grow (the JavaScript plugins'
  // engine starts last, slowest in WebKit), moving what lies below them: a click aimed a moment
  // earlier would land beside its button.
  async served() {
    await this.until(() => this.text('hello').then((shown) => shown !== '…'), 'the hello answer', 30_000);
    assert.match(await this.text('status'), /^Service worker active/, 'the page started Valor');
    await this.until(
      () => this.run(() => document.getElementById('plugin-list').childElementCount > 0
        || document.getElementById('status').classList.contains('error')),
      'the page to list its plugins', 30_000,
    );
  }

  goto(url) {
    return this.driver.get(url);
  }

  refresh() {
    return this.driver.navigate().refresh();
  }

  close() {
    return this.driver.quit();
  }

  // Runs `fn(...args)` in the page and resolves with its (awaited) result.
  async run(fn, ...args) {
    const outcome = await this.driver.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       Promise.resolve((${fn}).apply(null, Array.from(arguments).slice(0, -1)))
         .then((value) => done({ value }), (error) => done({ error: String(error) }));`,
      ...args,
    );
    if ('error' in outcome) throw new Error(`in the page: ${outcome.error}`);
    return outcome.value;
  }

  text(id) {
    return this.run((id) => document.getElementById(id).textContent, id);
  }

  async until(condition, what, ms = 10_000) {
    const deadline = Date.now() + ms;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // Waits until the element `id` shows `expected` (a string it must equal, or a RegExp), and
  // says what it showed instead if it never does.
  async shows(id, expected) {
    const matches = (shown) => (expected instanceof RegExp ? expected.test(shown) : shown === expected);
    try {
      await this.until(async () => matches(await this.text(id)), `#${id}`);
    } catch {
      assert.fail(`#${id} shows ${JSON.stringify(await this.text(id))}, expected ${expected}`);
    }
  }

  // An answer shown as "status\nbody" (the page's format for JSON answers): [status, parsed body].
  async shownAnswer(id) {
    const [status, ...body] = (await this.text(id)).split('\n');
    const text = body.join('\n');
    try { return [Number(status), JSON.parse(text)]; } catch { return [Number(status), text]; }
  }

  find(selector) {
    return this.driver.findElement(By.css(selector));
  }

  async fill(selector, text) {
    const input = this.find(selector);
    await input.clear();
    await input.sendKeys(text);
  }

  // Presses a key (as playwright names it: 'Enter') in the element.
  async press(selector, key) {
    await this.find(selector).sendKeys(Key[key.toUpperCase()]);
  }

  async click(selector) {
    await this.find(selector).click();
  }

  async choose(selectName, optionText) {
    await this.driver
      .findElement(By.xpath(`//select[@name='${selectName}']/option[text()='${optionText}']`))
      .click();
  }

  // Clicks `selector` within the todo titled `title`. The page rebuilds the list after every
  // change, so an element found a moment before may be gone: then it is found again.
  async clickTodo(title, selector) {
    const item = By.xpath(`//ul[@id='todo-list']/li[.//span[@class='title'][text()='${title}']]`);
    for (let attempt = 1; ; attempt++) {
      try {
        const found = await this.driver.wait(until.elementLocated(item), 10_000, `the todo ${title}`);
        return await found.findElement(By.css(selector)).click();
      } catch (error) {
        if (error.name !== 'StaleElementReferenceError' || attempt === 5) throw error;
      }
    }
  }

  // What the page shows of the todo titled `title`: { done (styled as done), checked }.
  todoState(title) {
    return this.run((title) => {
      const item = [...document.querySelectorAll('#todo-list li')]
        .find((li) => li.querySelector('.title').textContent === title);
      return item && { done: item.classList.contains('done'), checked: item.querySelector('input').checked };
    }, title);
  }

  titles() {
    return this.run(() => [...document.querySelectorAll('#todo-list li .title')].map((t) => t.textContent));
  }

  async screenshot(file) {
    await writeFile(file, await this.driver.takeScreenshot(), 'base64');
  }
}

// The demo page in Chromium driven by playwright-core over the DevTools protocol, which can do
// what WebDriver cannot: stop the service worker.
export class DevToolsDemoPage extends DemoPage {
  constructor(page, url) {
    super(null, url);
    this.page = page;
  }

  goto(url) {
    return this.page.goto(url);
  }

  refresh() {
    return this.page.reload();
  }

  close() {
    return this.page.close();
  }

  run(fn, ...args) {
    return this.page.evaluate(({ source, args }) => (0, eval)(`(${source})`)(...args), { source: String(fn), args });
  }

  fill(selector, text) {
    return this.page.fill(selector, text);
  }

  press(selector, key) {
    return this.page.press(selector, key);
  }

  click(selector) {
    return this.page.click(selector);
  }

  // Reloads as Shift+Reload does: bypassing the cache and the service worker.
  async hardReload() {
    const devtools = await this.page.context().newCDPSession(this.page);
    await Promise.all([this.page.waitForEvent('load'), devtools.send('Page.reload', { ignoreCache: true })]);
  }

  // Runs `fn` inside the page's service worker (its global scope, sw.js's bindings included).
  async inWorker(fn) {
    const [worker] = this.page.context().serviceWorkers();
    return worker.evaluate(fn);
  }

  // Stops the service workers as the browser stops idle ones (wiping their globals, plugin
  // instances included), and waits until DevTools reports one stopped.
  async stopServiceWorkers() {
    const devtools = await this.page.context().newCDPSession(this.page);
    const stopped = new Promise((resolve) => devtools.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
      if (versions.some((version) => version.runningStatus === 'stopped')) resolve();
    }));
    await devtools.send('ServiceWorker.enable');
    await devtools.send('ServiceWorker.stopAllWorkers');
    await stopped;
  }
}
