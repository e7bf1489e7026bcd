// The three browser engines Valor is tested in, each driven through its own W3C WebDriver
// server: chromedriver (Chromium), geckodriver (Firefox ESR) and WebKitWebDriver (WebKitGTK's
// MiniBrowser: Safari's engine). scripts/bootstrap.sh installs all of them.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Builder } from 'selenium-webdriver';

// The flags this machine's closed network needs: without them Chromium keeps trying to reach
// Google's services.
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

export const ENGINES = {
  chromium: {
    server: (port) => ['chromedriver', `--port=${port}`],
    capabilities: {
      browserName: 'chrome',
      'goog:chromeOptions': { binary: '/usr/bin/chromium', args: ['--headless', ...CHROMIUM_ARGS] },
    },
  },
  firefox: {
    server: (port) => ['geckodriver', `--port=${port}`],
    capabilities: {
      browserName: 'firefox',
      'moz:firefoxOptions': { binary: '/usr/bin/firefox-esr', args: ['-headless'] },
    },
  },
  // MiniBrowser has no headless mode: it needs an X display, and gets a virtual one (Xvfb)
  // unless the run has one already (scripts/test.sh provides one). A WebKitWebDriver serves one
  // session at a time, which is all a test needs.
  webkit: {
    server: (port) => [
      ...(process.env.DISPLAY ? [] : ['xvfb-run', '--auto-servernum']), 'WebKitWebDriver', `--port=${port}`,
    ],
    capabilities: {
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
    },
  },
};

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function listening(url, process, seconds) {
  for (let attempt = 0; attempt < seconds * 10; attempt++) {
    if (process.exitCode !== null) throw new Error(`${process.spawnargs.join(' ')} exited with ${process.exitCode}`);
    try { if ((await fetch(`${url}/status`)).ok) return; } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${process.spawnargs.join(' ')} did not listen within ${seconds} s`);
}

function merged(capabilities, options) {
  const result = structuredClone(capabilities);
  for (const [key, value] of Object.entries(options)) result[key] = { ...result[key], ...value };
  return result;
}

// Starts the engine's WebDriver server; `session(options)` opens a browser with a fresh profile (its own
// service workers and IndexedDB), `stop()` ends the server.
export async function startEngine(name) {
  const engine = ENGINES[name];
  const port = await freePort();
  const [command, ...args] = engine.server(port);
  // Its own process group, so that stop() also ends what it started (Xvfb, the browser).
  const server = spawn(command, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  // Drivers and browsers chatter on stderr; it is shown only if the server does not come up.
  let said = '';
  server.stderr.on('data', (chunk) => { said = (said + chunk).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  await listening(url, server, 20).catch((error) => {
    throw new Error(`${error.message}\n${said}`);
  });
  return {
    name,
    // `options` adds to the engine's own options object (e.g. Firefox preferences).
    session: (options = {}) => new Builder().usingServer(url).withCapabilities(merged(engine.capabilities, options)).build(),
    stop() {
      try { process.kill(-server.pid); } catch { /* already gone */ }
    },
  };
}
