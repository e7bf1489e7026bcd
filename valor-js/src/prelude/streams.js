// ReadableStream: the WHATWG subset a plugin needs. An underlying source's start, pull and
// cancel with a default controller, a default reader, async iteration, ReadableStream.from.
// The queue is counted in chunks (a strategy's highWaterMark, 1 by default; no size()), so
// pull is called when the queue is below it or a read waits; pipes to writable streams; tee.
// Not here: byte streams and BYOB readers, a pipe's `signal`.

// Whether a stream was ever read or cancelled (a body made of it is then used).
let isDisturbed;

// Calls `method` of `target` (if any) and gives a promise of its result, a throw rejecting it.
function promiseCall(method, target, ...args) {
  return new Promise((resolve) => resolve(typeof method === 'function' ? method.call(target, ...args) : undefined));
}

class ReadableStream {
  #state = 'readable'; // then 'closed' or 'errored'
  #stored; // the error, once errored
  #queue = [];
  #reads = []; // reads waiting for a chunk: { resolve, reject }
  #reader = null;
  #closed = null; // the reader's `closed` promise: { promise, resolve, reject }
  #disturbed = false;
  #highWaterMark;
  #source;
  #controller;
  #started = false;
  #pulling = false;
  #pullAgain = false;
  #closeRequested = false;

  static {
    isDisturbed = (stream) => stream.#disturbed;
  }

  constructor(source = {}, strategy = {}) {
    source ??= {};
    if (source.type !== undefined) throw new RangeError(`streams of type "${source.type}" are not supported: leave out "type"`);
    const highWaterMark = strategy?.highWaterMark ?? 1;
    if (typeof highWaterMark !== 'number' || !(highWaterMark >= 0)) throw new RangeError('highWaterMark is a number of chunks, 0 or more');
    this.#highWaterMark = highWaterMark;
    this.#source = source;
    const stream = this;
    this.#controller = {
      get desiredSize() {
        return stream.#desiredSize();
      },
      enqueue: (chunk) => stream.#enqueue(chunk),
      close: () => stream.#requestClose(),
      error: (error) => stream.#error(error),
    };
    const started = typeof source.start === 'function' ? source.start.call(source, this.#controller) : undefined;
    Promise.resolve(started).then(
      () => {
        this.#started = true;
        this.#pullIfNeeded();
      },
      (error) => this.#error(error),
    );
  }

  static from(iterable) {
    const iterator = typeof iterable?.[Symbol.asyncIterator] === 'function' ? iterable[Symbol.asyncIterator]() : iterable[Symbol.iterator]();
    return new ReadableStream(
      {
        async pull(controller) {
          const { value, done } = await iterator.next();
          if (done) controller.close();
          else controller.enqueue(await value);
        },
        async cancel(reason) {
          if (typeof iterator.return === 'function') await iterator.return(reason);
        },
      },
      { highWaterMark: 0 },
    );
  }

  get locked() {
    return this.#reader !== null;
  }

  cancel(reason) {
    if (this.#reader !== null) return Promise.reject(new TypeError('the stream is locked to a reader'));
    return this.#cancel(reason);
  }

  getReader(options) {
    if (options?.mode !== undefined) throw new RangeError('only default readers: leave out "mode"');
    if (this.#reader !== null) throw new TypeError('the stream is locked to a reader');
    const stream = this;
    const reader = {
      read() {
        if (stream.#reader !== reader) return Promise.reject(new TypeError('the reader was released'));
        return stream.#read();
      },
      cancel(reason) {
        if (stream.#reader !== reader) return Promise.reject(new TypeError('the reader was released'));
        return stream.#cancel(reason);
      },
      releaseLock() {
        if (stream.#reader === reader) stream.#release();
      },
      closed: null,
    };
    let settle;
    const closed = new Promise((resolve, reject) => (settle = { resolve, reject }));
    closed.catch(() => {}); // not an unhandled rejection if nobody looks
    reader.closed = closed;
    this.#closed = settle;
    if (this.#state === 'closed') settle.resolve();
    if (this.#state === 'errored') settle.reject(this.#stored);
    this.#reader = reader;
    return reader;
  }

  // Two streams of this one's chunks, each chunk read once and handed to both (queued in the
  // one not read yet); this stream is locked, and cancelled once both branches are.
  tee() {
    const reader = this.getReader();
    const controllers = [];
    const cancelled = [false, false];
    const reasons = [];
    let reading = false;
    const pull = () => {
      if (reading) return; // the read under way hands its chunk to both
      reading = true;
      return reader.read().then(
        ({ value, done }) => {
          reading = false;
          controllers.forEach((controller, i) => {
            if (cancelled[i]) return;
            if (done) controller.close();
            else controller.enqueue(value);
          });
        },
        (error) => controllers.forEach((controller) => controller.error(error)),
      );
    };
    const branch = (i) =>
      new ReadableStream(
        {
          start(controller) {
            controllers[i] = controller;
          },
          pull,
          cancel(reason) {
            cancelled[i] = true;
            reasons[i] = reason;
            if (cancelled[1 - i]) return reader.cancel(reasons);
          },
        },
        { highWaterMark: 0 },
      );
    return [branch(0), branch(1)];
  }

  values({ preventCancel = false } = {}) {
    return iterate(this.getReader(), preventCancel);
  }

  [Symbol.asyncIterator](options) {
    return this.values(options);
  }

  pipeThrough({ writable, readable }, options) {
    if (this.locked || writable.locked) throw new TypeError('a locked stream cannot be piped');
    this.pipeTo(writable, options).catch(() => {});
    return readable;
  }

  // Writes each chunk to `destination` as it is ready for one, then closes it; an error on one
  // side aborts the other (the destination) or cancels it (this stream), unless prevented.
  async pipeTo(destination, { preventClose = false, preventAbort = false, preventCancel = false } = {}) {
    if (this.locked || destination.locked) throw new TypeError('a locked stream cannot be piped');
    const reader = this.getReader();
    const writer = destination.getWriter();
    // Rejects when the destination errors (or is closed by another), also while a read waits.
    const destinationFailed = writer.closed.then(() => Promise.reject(new TypeError('the destination was closed')));
    destinationFailed.catch(() => {});
    let written = Promise.resolve();
    try {
      for (;;) {
        let read;
        try {
          read = await Promise.race([writer.ready.then(() => reader.read().catch((error) => ({ error }))), destinationFailed]);
        } catch (error) {
          if (!preventCancel) await reader.cancel(error).catch(() => {});
          throw error;
        }
        if (!('done' in read)) {
          await written.catch(() => {});
          if (!preventAbort) await writer.abort(read.error);
          throw read.error;
        }
        if (read.done) break;
        written = writer.write(read.value);
        written.catch(() => {});
      }
      if (preventClose) await written;
      else await writer.close();
    } finally {
      reader.releaseLock();
      writer.releaseLock();
    }
  }

  #desiredSize() {
    if (this.#state === 'errored') return null;
    if (this.#state === 'closed') return 0;
    return this.#highWaterMark - this.#queue.length;
  }

  #enqueue(chunk) {
    if (this.#closeRequested || this.#state !== 'readable') throw new TypeError('the stream is closed: it takes no more chunks');
    if (this.#reads.length) this.#reads.shift().resolve({ value: chunk, done: false });
    else this.#queue.push(chunk);
    this.#pullIfNeeded();
  }

  #requestClose() {
    if (this.#closeRequested || this.#state !== 'readable') throw new TypeError('the stream is closed already');
    this.#closeRequested = true;
    if (!this.#queue.length) this.#close();
  }

  #close() {
    this.#state = 'closed';
    for (const read of this.#reads.splice(0)) read.resolve({ value: undefined, done: true });
    this.#closed?.resolve();
  }

  #error(error) {
    if (this.#state !== 'readable') return;
    this.#state = 'errored';
    this.#stored = error;
    this.#queue = [];
    for (const read of this.#reads.splice(0)) read.reject(error);
    this.#closed?.reject(error);
  }

  #read() {
    this.#disturbed = true;
    if (this.#queue.length) {
      const value = this.#queue.shift();
      if (this.#closeRequested && !this.#queue.length) this.#close();
      else this.#pullIfNeeded();
      return Promise.resolve({ value, done: false });
    }
    if (this.#state === 'closed') return Promise.resolve({ value: undefined, done: true });
    if (this.#state === 'errored') return Promise.reject(this.#stored);
    const read = new Promise((resolve, reject) => this.#reads.push({ resolve, reject }));
    this.#pullIfNeeded();
    return read;
  }

  #cancel(reason) {
    this.#disturbed = true;
    if (this.#state === 'closed') return Promise.resolve();
    if (this.#state === 'errored') return Promise.reject(this.#stored);
    this.#queue = [];
    this.#close();
    return promiseCall(this.#source.cancel, this.#source, reason).then(() => undefined);
  }

  #release() {
    const released = new TypeError('the reader was released');
    for (const read of this.#reads.splice(0)) read.reject(released);
    if (this.#state === 'readable') this.#closed.reject(released);
    this.#reader = null;
    this.#closed = null;
  }

  #pullIfNeeded() {
    if (!this.#started || this.#state !== 'readable' || this.#closeRequested) return;
    if (this.#reads.length === 0 && this.#desiredSize() <= 0) return;
    if (this.#pulling) {
      this.#pullAgain = true;
      return;
    }
    this.#pulling = true;
    promiseCall(this.#source.pull, this.#source, this.#controller).then(
      () => {
        this.#pulling = false;
        if (this.#pullAgain) {
          this.#pullAgain = false;
          this.#pullIfNeeded();
        }
      },
      (error) => this.#error(error),
    );
  }
}

// A stream's async iterator: its reader's chunks; leaving the loop early cancels the stream
// (unless preventCancel), and releases the reader.
async function* iterate(reader, preventCancel) {
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } catch (error) {
    finished = true;
    throw error;
  } finally {
    if (!finished && !preventCancel) await reader.cancel();
    reader.releaseLock();
  }
}
