// Valor's own sw.js, unchanged, plus the in-worker measurements. (Classic scripts share one
// global scope, so `valor` from sw.js is visible here.)
importScripts('sw.js', 'worker-bench.js');
// Through `answer`, the path sw.js takes for each fetch event.
installBenchMessages(async (request) => (await valor.ready).answer(request, undefined));
