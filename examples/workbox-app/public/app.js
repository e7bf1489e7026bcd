// Registers the app's worker (Workbox and Valor), then shows one answer of each.
import { registerValor } from '/valor/page.js';

const show = (id, text) => { document.getElementById(id).textContent = text; };

try {
  await registerValor('/sw.js');
  const build = await fetch('/app/build');
  const { from, build: id, started } = await build.json();
  show('build', `${build.status} ${id} from ${from}, a worker started at ${new Date(started).toISOString()}`);
  const visits = await fetch('/api/visits');
  show('visits', `${visits.status} ${await visits.text()} (x-valor-plugin: ${visits.headers.get('x-valor-plugin')})`);
  show('status', 'ready');
} catch (error) {
  show('status', `failed: ${error.message}`);
}
