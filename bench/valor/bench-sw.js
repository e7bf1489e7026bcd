// Valor's own sw.js, unchanged, plus the in-worker measurements. (Classic scripts share one
// global scope, so `booting` from sw.js is visible here.)
importScripts('sw.js', 'worker-bench.js');
installBenchMessages(async (request) => (await booting).handle(request));
