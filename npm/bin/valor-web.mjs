#!/usr/bin/env node
// `npx valor-web init [DIR] [--no-sw]`: copies the files a site serves into the app's public
// folder, DIR (default: public): valor/ (the runtime, valor-worker.js and page.js) and, unless
// --no-sw (an app with a worker of its own mounts Valor in it), Valor's sw.js.
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const USAGE = `usage: npx valor-web init [DIR] [--no-sw]
  copies valor/ (the runtime, valor-worker.js, page.js) and sw.js into DIR (default: public);
  --no-sw: valor/ only, for an app whose own service worker mounts Valor`;
// The first line of every version of Valor's sw.js: such a file is Valor's to replace.
const OURS = "// Valor's service worker";

function fail(problem, status = 1) {
  console.error(`valor-web: ${problem}`);
  if (status === 2) console.error(USAGE);
  process.exit(status);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const [command, ...rest] = args;
if (command === undefined) fail('say what to do', 2);
if (command !== 'init') fail(`unknown command '${command}'`, 2);
const withWorker = !rest.includes('--no-sw');
const unknown = rest.filter((arg) => arg.startsWith('-') && arg !== '--no-sw');
const dirs = rest.filter((arg) => !arg.startsWith('-'));
if (unknown.length > 0) fail(`unknown option '${unknown[0]}'`, 2);
if (dirs.length > 1) fail(`one directory, not '${dirs.join(' ')}'`, 2);
const dir = dirs[0] ?? 'public';

// An app's own worker at DIR/sw.js is never overwritten.
const worker = join(dir, 'sw.js');
if (withWorker) {
  const existing = await readFile(worker, 'utf8').catch(() => null);
  if (existing !== null && !existing.startsWith(OURS)) {
    fail(`${worker} exists and is not Valor's: mount Valor in it (npx valor-web init ${dir} --no-sw copies valor/ only), or delete it to take Valor's`);
  }
}

const copied = [];
async function copy(from, to) {
  await copyFile(from, to);
  copied.push(relative(process.cwd(), to) || to);
}
try {
  await mkdir(join(dir, 'valor'), { recursive: true });
  if (withWorker) await copy(join(here, 'sw.js'), worker);
  for (const name of await readdir(join(here, 'valor'))) {
    await copy(join(here, 'valor', name), join(dir, 'valor', name));
  }
  await copy(join(here, 'page.js'), join(dir, 'valor', 'page.js'));
} catch (error) {
  fail(`could not write into ${dir}/: ${error.message}`);
}
console.log(`valor-web: copied ${copied.length} files into ${dir}/:\n  ${copied.join('\n  ')}`);
console.log(withWorker
  ? `Next: write ${join(dir, 'plugins.json')}, then in a page:
  import { registerValor } from '/valor/page.js';
  await registerValor('/sw.js');
  await fetch('/api/...');`
  : `Next: in your worker, before its own routes:
  importScripts('/valor/valor-worker.js');
  const valor = Valor.mount({ manifest: '/plugins.json', paths: ['/api/'] });
  self.addEventListener('fetch', (event) => { valor.handleFetch(event); });`);
