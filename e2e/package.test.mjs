// The npm package as a user gets it: the packed file (target/npm/valor-web-*.tgz, made by
// scripts/build.sh) installed in a project outside the checkout. It installs nothing else and
// runs nothing at install; `npx valor-web init` lays out the files a site serves, byte for byte;
// its TypeScript declarations type-check a page and a worker that use them, and catch misuse.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './demo.mjs';

let project;
let installed;

before(async () => {
  const packed = (await readdir(join(root, 'target/npm'))).filter((name) => /^valor-web-.*\.tgz$/.test(name));
  assert.equal(packed.length, 1, 'scripts/build.sh packs exactly one valor-web tarball into target/npm/');
  project = await mkdtemp(join(tmpdir(), 'valor-package-'));
  await writeFile(join(project, 'package.json'), '{ "name": "an-app", "private": true, "type": "module" }\n');
  execFileSync('npm', ['install', '--silent', '--no-audit', '--no-fund', join(root, 'target/npm', packed[0])], { cwd: project });
  installed = join(project, 'node_modules/valor-web');
}, { timeout: 120_000 });
after(async () => { if (project) await rm(project, { recursive: true, force: true }); });

test('the package has no dependencies and no install scripts', async () => {
  const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
  assert.deepEqual(Object.keys(manifest).filter((key) => /dependencies$/i.test(key)), []);
  assert.equal(manifest.scripts, undefined);
  assert.deepEqual(await readdir(join(project, 'node_modules')), ['.bin', '.package-lock.json', 'valor-web']);
});

test('npx valor-web init copies the worker, the runtime and the page module', async () => {
  const out = execFileSync('npx', ['valor-web', 'init', 'public'], { cwd: project, encoding: 'utf8' });
  assert.match(out, /copied 7 files into public\//);
  const same = async (from, to) => assert.ok(
    (await readFile(join(installed, from))).equals(await readFile(join(project, 'public', to))), `${to} is ${from}`,
  );
  await same('sw.js', 'sw.js');
  await same('page.js', 'valor/page.js');
  for (const name of ['valor-worker.js', 'valor_runtime_bg.wasm', 'valor_meter.wasm', 'valor_js.wasm',
    'valor_component_bg.wasm']) {
    await same(`valor/${name}`, `valor/${name}`);
  }
  // The runtime is a real module, not a placeholder.
  assert.ok(WebAssembly.validate(await readFile(join(project, 'public/valor/valor_runtime_bg.wasm'))));
  const unknown = spawnSync('npx', ['valor-web', 'deploy'], { cwd: project, encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'deploy'/);
  const help = spawnSync('npx', ['valor-web', '--help'], { cwd: project, encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--no-sw/);
});

test("npx valor-web init never overwrites an app's own worker; --no-sw copies valor/ only", async () => {
  await mkdir(join(project, 'app'));
  await writeFile(join(project, 'app/sw.js'), "// the app's own worker\n");
  const refused = spawnSync('npx', ['valor-web', 'init', 'app'], { cwd: project, encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /app\/sw.js exists and is not Valor's: .*--no-sw/);
  assert.equal(await readFile(join(project, 'app/sw.js'), 'utf8'), "// the app's own worker\n");
  const out = execFileSync('npx', ['valor-web', 'init', 'app', '--no-sw'], { cwd: project, encoding: 'utf8' });
  assert.match(out, /copied 6 files into app\//);
  assert.equal(await readFile(join(project, 'app/sw.js'), 'utf8'), "// the app's own worker\n");
  assert.ok((await readdir(join(project, 'app/valor'))).includes('valor-worker.js'));
  // Valor's own sw.js, of this version or an older one, is Valor's to replace.
  await writeFile(join(project, 'public/sw.js'), "// Valor's service worker: an older version\n");
  execFileSync('npx', ['valor-web', 'init', 'public'], { cwd: project });
  assert.ok((await readFile(join(project, 'public/sw.js'))).equals(await readFile(join(installed, 'sw.js'))));
  // A directory that cannot be made says so, without a stack trace.
  await writeFile(join(project, 'afile'), '');
  const notDir = spawnSync('npx', ['valor-web', 'init', 'afile'], { cwd: project, encoding: 'utf8' });
  assert.equal(notDir.status, 1);
  assert.match(notDir.stderr, /^valor-web: could not write into afile\/: /);
  assert.doesNotMatch(notDir.stderr, /\n\s+at /);
});

// Type-checks `source` (file `name`) in the project against the package's declarations; the
// compiler's messages, or '' when it passes.
async function typeCheck(name, source, lib) {
  await writeFile(join(project, name), source);
  const tsc = spawnSync(join(root, 'e2e/node_modules/.bin/tsc'), [
    '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--lib', lib, name,
  ], { cwd: project, encoding: 'utf8' });
  return tsc.stdout + tsc.stderr;
}

test('the declarations type a page and a worker, and reject misuse', async () => {
  assert.equal(await typeCheck('page.ts', `
    import { registerValor, plugins, registry, RegistryError, type PluginState } from 'valor-web/page';
    const registration: ServiceWorkerRegistration = await registerValor('/sw.js', { manifest: '/plugins.json', timeoutMs: 5000 });
    const all: PluginState[] = await plugins.list();
    await registry('/admin/plugins').add({ name: 'hello', prefix: '/api/hello', url: '/hello.wasm', fuel: null });
    try { await plugins.remove('hello'); } catch (error) { if (error instanceof RegistryError) console.log(error.status); }
    console.log(registration.scope, all.map((plugin) => plugin.state));
  `, 'es2022,dom'), '');
  // The package's root is the page module too.
  assert.equal(await typeCheck('root.ts', `
    import { registerValor } from 'valor-web';
    await registerValor();
  `, 'es2022,dom'), '');
  assert.equal(await typeCheck('worker.ts', `
    /// <reference types="valor-web/valor-worker" />
    declare const self: ServiceWorkerGlobalScope;
    const valor = Valor.mount({ manifest: '/plugins.json', paths: ['/api/'] });
    self.addEventListener('fetch', (event) => { const mine: boolean = valor.handleFetch(event); console.log(mine); });
    self.addEventListener('message', (event) => { valor.handleMessage(event); });
    self.addEventListener('activate', (event) => { event.waitUntil(valor.removeOldCaches()); });
    export {};
  `, 'es2022,webworker'), '');
  // A misspelt field and a wrong type are caught: the checks above could fail.
  const misuse = await typeCheck('misuse.ts', `
    import { plugins } from 'valor-web/page';
    await plugins.add({ name: 'hello', prefix: '/api/hello', url: '/hello.wasm', timeout: 5 });
    await plugins.remove(42);
  `, 'es2022,dom');
  assert.match(misuse, /'timeout' does not exist/);
  assert.match(misuse, /number' is not assignable to parameter of type 'string'/);
});
