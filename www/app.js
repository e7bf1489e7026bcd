// The demo page: registers Valor's service worker, then talks to its plugins with plain fetch().
import { registerValor } from './valor/page.js';

const statusLine = document.getElementById('status');

// A response as shown on the page: its status on the first line, then the body (JSON indented).
async function describe(response) {
  const body = await response.text();
  let shown = body;
  try { shown = JSON.stringify(JSON.parse(body), null, 2); } catch { /* not JSON: show as is */ }
  return `${response.status}\n${shown}`;
}

async function showHello() {
  const response = await fetch('/api/hello');
  const text = await response.text();
  document.getElementById('hello').textContent =
    `${response.status} ${text} (x-valor-plugin: ${response.headers.get('x-valor-plugin')})`;
}

// Two JavaScript plugins, run by the JavaScript engine module like any plugin.
async function showScripts() {
  const hello = await fetch('/api/js/hello');
  document.getElementById('hello-js').textContent =
    `${hello.status} ${await hello.text()} (x-valor-plugin: ${hello.headers.get('x-valor-plugin')})`;
  document.getElementById('relay-js').textContent = await describe(await fetch('/api/js/relay'));
}

async function sendEcho(event) {
  event?.preventDefault();
  const form = new FormData(document.getElementById('echo-form'));
  const method = form.get('method');
  const init = { method, headers: { 'x-demo': 'valor' } };
  if (method !== 'GET') init.body = form.get('body');
  const response = await fetch(form.get('path'), init);
  document.getElementById('echo').textContent = await describe(response);
}

// alice and bob: the same plugin with two configs, each counting its own visits.
async function showStates() {
  await Promise.all(['alice', 'bob'].map(async (name) => {
    document.getElementById(name).textContent = await describe(await fetch(`/api/${name}`));
  }));
}

async function showProxy(event) {
  event?.preventDefault();
  const source = new FormData(document.getElementById('proxy-form')).get('source');
  const response = await fetch(`/api/proxy?${new URLSearchParams({ path: source })}`);
  document.getElementById('proxy').textContent = await describe(response);
}

// --- Todos: the page keeps no list of its own; after every change it shows what the API has.

// Calls the todos API; resolves with the JSON answer (null for 204), rejects with its error.
async function todoApi(method, path = '', body = undefined) {
  const init = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const response = await fetch(`/api/todos${path}`, init);
  if (!response.ok) {
    const reason = await response.json().then((json) => json.error, () => response.statusText);
    throw new Error(`${method} /api/todos${path}: ${response.status} ${reason}`);
  }
  return response.status === 204 ? null : response.json();
}

function todoItem(todo) {
  const done = document.createElement('input');
  done.type = 'checkbox';
  done.checked = todo.done;
  done.addEventListener('change', () =>
    changeTodos(() => todoApi('PATCH', `/${todo.id}`, { done: done.checked })));
  const title = document.createElement('span');
  title.className = 'title';
  title.textContent = todo.title;
  const label = document.createElement('label');
  label.append(done, title);

  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'delete';
  remove.textContent = 'Delete';
  remove.setAttribute('aria-label', `Delete "${todo.title}"`);
  remove.addEventListener('click', () => changeTodos(() => todoApi('DELETE', `/${todo.id}`)));

  const item = document.createElement('li');
  item.dataset.id = todo.id;
  item.classList.toggle('done', todo.done);
  item.append(label, remove);
  return item;
}

function showTodos(todos) {
  document.getElementById('todo-list').replaceChildren(...todos.map(todoItem));
  const done = todos.filter((todo) => todo.done).length;
  document.getElementById('todo-count').textContent = todos.length === 0
    ? 'Nothing to do.'
    : `${todos.length} ${todos.length === 1 ? 'todo' : 'todos'}, ${done} done`;
}

let latestRefresh = 0;
async function refreshTodos() {
  const refresh = ++latestRefresh;
  const todos = await todoApi('GET');
  if (refresh === latestRefresh) showTodos(todos); // else a newer list is on its way
}

// Runs one change against the API, then shows the list as it now is, or what went wrong.
async function changeTodos(change) {
  const error = document.getElementById('todo-error');
  try {
    await change();
    error.textContent = '';
    await refreshTodos();
  } catch (failure) {
    error.textContent = failure.message;
    await refreshTodos().catch(() => { /* the error above says enough */ });
  }
}

function addTodo(event) {
  event.preventDefault();
  const form = event.target;
  const title = new FormData(form).get('title');
  return changeTodos(async () => {
    await todoApi('POST', '', { title });
    form.reset();
  });
}

// --- Plugins: the registry's listing, and changes to it.

function pluginItem(plugin) {
  const item = document.createElement('li');
  item.dataset.name = plugin.name ?? '';
  const state = plugin.state === 'failed' ? `failed: ${plugin.reason}` : plugin.state;
  const text = document.createElement('span');
  text.textContent = `${plugin.name ?? '(invalid entry)'} at ${plugin.prefix}, ${plugin.origin}, ${state}`;
  item.append(text);
  if (plugin.name) {
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.dataset.name = plugin.name;
    remove.setAttribute('aria-label', `Remove ${plugin.name}`);
    remove.addEventListener('click', () => changePlugins(async () => {
      const response = await fetch(`/_plugins/${plugin.name}`, { method: 'DELETE' });
      return `${response.status} ${response.ok ? `removed ${plugin.name}` : await response.text()}`;
    }));
    item.append(remove);
  }
  return item;
}

async function showPlugins() {
  const plugins = await (await fetch('/_plugins')).json();
  document.getElementById('plugin-list').replaceChildren(...plugins.map(pluginItem));
}

// Runs one change against the registry, shows its outcome, then the list as it now is.
async function changePlugins(change) {
  const result = document.getElementById('plugin-result');
  try {
    result.textContent = await change();
  } catch (failure) {
    result.textContent = String(failure);
  }
  await showPlugins();
}

function putPlugin(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const name = form.get('name');
  return changePlugins(async () => {
    const response = await fetch(`/_plugins/${encodeURIComponent(name)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, prefix: form.get('prefix'), url: form.get('url') }),
    });
    if (!response.ok) return `${response.status} ${(await response.text()).trim()}`;
    return `${response.status} ${response.status === 201 ? 'registered' : 'replaced'} ${name}`;
  });
}

async function main() {
  try {
    await registerValor('sw.js'); // resolves once the worker controls this page
    statusLine.textContent = 'Service worker active: answers below come from plugins.';
    document.getElementById('echo-form').addEventListener('submit', sendEcho);
    document.getElementById('state-again').addEventListener('click', showStates);
    document.getElementById('js-again').addEventListener('click', showScripts);
    document.getElementById('proxy-form').addEventListener('submit', showProxy);
    document.getElementById('todo-form').addEventListener('submit', addTodo);
    document.getElementById('todo-clear').addEventListener('click', () =>
      changeTodos(() => todoApi('DELETE')));
    document.getElementById('plugin-form').addEventListener('submit', putPlugin);
    await Promise.all([showHello(), showScripts(), sendEcho(), showStates(), showProxy(), refreshTodos()]);
    await showPlugins(); // after the others: their states are then known

  } catch (error) {
    statusLine.textContent = `Valor could not start: ${error}`;
    statusLine.classList.add('error');
  }
}

main();
