// The demo page: registers Valor's service worker, then talks to its plugins with plain fetch().

const statusLine = document.getElementById('status');

async function controlledByValor() {
  if (!('serviceWorker' in navigator)) throw new Error('this browser has no service workers');
  await navigator.serviceWorker.register('sw.js');
  if (navigator.serviceWorker.controller) return;
  // First visit: sw.js calls clients.claim(), which makes it this page's controller.
  await new Promise((resolve) =>
    navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }),
  );
}

async function showHello() {
  const response = await fetch('/api/hello');
  const text = await response.text();
  document.getElementById('hello').textContent =
    `${response.status} ${text} (x-valor-plugin: ${response.headers.get('x-valor-plugin')})`;
}

async function sendEcho(event) {
  event?.preventDefault();
  const form = new FormData(document.getElementById('echo-form'));
  const method = form.get('method');
  const init = { method, headers: { 'x-demo': 'valor' } };
  if (method !== 'GET') init.body = form.get('body');
  const response = await fetch(form.get('path'), init);
  const body = await response.text();
  let shown = body;
  try { shown = JSON.stringify(JSON.parse(body), null, 2); } catch { /* not JSON: show as is */ }
  document.getElementById('echo').textContent = `${response.status}\n${shown}`;
}

async function main() {
  try {
    await controlledByValor();
    statusLine.textContent = 'Service worker active: answers below come from plugins.';
    document.getElementById('echo-form').addEventListener('submit', sendEcho);
    await Promise.all([showHello(), sendEcho()]);
  } catch (error) {
    statusLine.textContent = `Valor could not start: ${error}`;
    statusLine.classList.add('error');
  }
}

main();
