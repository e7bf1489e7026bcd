// WritableStream: the WHATWG subset a plugin needs. An underlying sink's start, write, close
// and abort, with a controller that can error the stream; a default writer whose `ready`
// waits while the queue is full and whose writes settle when the sink took their chunk. The
// queue is counted in chunks (a strategy's highWaterMark, 1 by default; no size()). Not here:
// the controller's `signal`.

// A promise with its resolve and reject; `handled` keeps its rejection from being reported
// when nobody looks (as the standard marks a writer's `ready` and `closed`).
function deferred(handled) {
  let settle;
  const promise = new Promise((resolve, reject) => (settle = { resolve, reject }));
  if (handled) promise.catch(() => {});
  settle.promise = promise;
  return settle;
}

function highWaterMarkOf(strategy, otherwise) {
  const highWaterMark = strategy?.highWaterMark ?? otherwise;
  if (typeof highWaterMark !== 'number' || !(highWaterMark >= 0)) throw new RangeError('highWaterMark is a number of chunks, 0 or more');
  return highWaterMark;
}

class WritableStream {
  #state = 'writable'; // then 'closed' or 'errored'
  #stored; // the error, once errored
  #sink;
  #controller;
  #highWaterMark;
  #queue = []; // writes and the close, waiting for the sink: { chunk, close, resolve, reject }
  #inFlight = null; // the one the sink works on
  #size = 0; // chunks written and not yet taken by the sink
  #started = false;
  #closeRequested = false;
  #writer = null;
  #ready = deferred(true); // the writer's `ready`
  #closed = deferred(true); // the writer's `closed`

  constructor(sink = {}, strategy = {}) {
    sink ??= {};
    if (sink.type !== undefined) throw new RangeError('a writable stream has no type: leave out "type"');
    this.#highWaterMark = highWaterMarkOf(strategy, 1);
    this.#sink = sink;
    this.#controller = { error: (error) => this.#error(error) };
    this.#updateReady();
    const started = typeof sink.start === 'function' ? sink.start.call(sink, this.#controller) : undefined;
    Promise.resolve(started).then(
      () => {
        this.#started = true;
        this.#advance();
      },
      (error) => this.#error(error),
    );
  }

  get locked() {
    return this.#writer !== null;
  }

  abort(reason) {
    if (this.#writer !== null) return Promise.reject(new TypeError('the stream is locked to a writer'));
    return this.#abort(reason);
  }

  close() {
    if (this.#writer !== null) return Promise.reject(new TypeError('the stream is locked to a writer'));
    return this.#close();
  }

  getWriter() {
    if (this.#writer !== null) throw new TypeError('the stream is locked to a writer');
    const stream = this;
    const mine = () => (stream.#writer === writer ? null : Promise.reject(new TypeError('the writer was released')));
    const writer = {
      get ready() {
        return stream.#ready.promise;
      },
      get closed() {
        return stream.#closed.promise;
      },
      get desiredSize() {
        if (stream.#writer !== writer) throw new TypeError('the writer was released');
        return stream.#desiredSize();
      },
      write: (chunk) => mine() ?? stream.#write(chunk),
      close: () => mine() ?? stream.#close(),
      abort: (reason) => mine() ?? stream.#abort(reason),
      releaseLock() {
        if (stream.#writer !== writer) return;
        const released = new TypeError('the writer was released');
        stream.#ready = deferred(true);
        stream.#ready.reject(released);
        if (stream.#state !== 'closed') {
          stream.#closed = deferred(true);
          stream.#closed.reject(released);
        }
        stream.#writer = null;
      },
    };
    this.#ready = deferred(true);
    this.#closed = deferred(true);
    if (this.#state === 'closed') this.#closed.resolve();
    if (this.#state === 'errored') {
      this.#ready.reject(this.#stored);
      this.#closed.reject(this.#stored);
    } else this.#updateReady();
    this.#writer = writer;
    return writer;
  }

  #desiredSize() {
    if (this.#state === 'errored') return null;
    if (this.#state === 'closed') return 0;
    return this.#highWaterMark - this.#size;
  }

  // `ready` waits while the queue is full, and is settled otherwise.
  #updateReady() {
    if (this.#state !== 'writable') return;
    const full = !this.#closeRequested && this.#desiredSize() <= 0;
    if (full && this.#ready.settled) this.#ready = deferred(true);
    if (!full && !this.#ready.settled) {
      this.#ready.settled = true;
      this.#ready.resolve();
    }
  }

  #write(chunk) {
    if (this.#state === 'errored') return Promise.reject(this.#stored);
    if (this.#closeRequested || this.#state === 'closed') return Promise.reject(new TypeError('the stream is closed: it takes no more chunks'));
    const write = deferred(false);
    this.#queue.push({ chunk, close: false, ...write });
    this.#size += 1;
    this.#updateReady();
    this.#advance();
    return write.promise;
  }

  #close() {
    if (this.#state === 'errored') return Promise.reject(this.#stored);
    if (this.#closeRequested || this.#state === 'closed') return Promise.reject(new TypeError('the stream is closed already'));
    this.#closeRequested = true;
    const close = deferred(false);
    this.#queue.push({ close: true, ...close });
    this.#updateReady();
    this.#advance();
    return close.promise;
  }

  // Errors the stream with `reason` and, once the sink finished what it was doing, calls its
  // abort: the promise of that.
  #abort(reason) {
    if (this.#state !== 'writable') return Promise.resolve();
    const inFlight = this.#inFlight?.promise.catch(() => {});
    this.#error(reason);
    const sink = this.#sink;
    return Promise.resolve(inFlight).then(() => promiseCall(sink.abort, sink, reason)).then(() => undefined);
  }

  #error(error) {
    if (this.#state !== 'writable') return;
    this.#state = 'errored';
    this.#stored = error;
    for (const waiting of this.#queue.splice(0)) waiting.reject(error);
    if (this.#ready.settled) this.#ready = deferred(true);
    this.#ready.reject(error);
    this.#closed.reject(error);
  }

  // Hands the sink the next write or the close, once it is started and done with the last.
  #advance() {
    if (!this.#started || this.#inFlight !== null || this.#state !== 'writable' || !this.#queue.length) return;
    const next = (this.#inFlight = this.#queue.shift());
    const sink = this.#sink;
    const done = next.close ? promiseCall(sink.close, sink) : promiseCall(sink.write, sink, next.chunk, this.#controller);
    done.then(
      () => {
        this.#inFlight = null;
        next.resolve();
        if (next.close) {
          if (this.#state !== 'writable') return;
          this.#state = 'closed';
          this.#closed.resolve();
          return;
        }
        this.#size -= 1;
        this.#updateReady();
        this.#advance();
      },
      (error) => {
        this.#inFlight = null;
        next.reject(error);
        this.#error(error);
      },
    );
  }
}
