// Replies without naming the request: the reply is dropped (and logged), the request times out.
self.onmessage = () => postMessage({ status: 200, body: 'for whom?' });
