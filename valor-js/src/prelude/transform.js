// TransformStream: a writable side whose chunks a transformer's transform (the identity by
// default) enqueues on a readable side, and its flush at the close. As the standard has it, a
// write reaches transform only while the readable side wants a chunk (highWaterMarks 1 on the
// writable side, 0 on the readable, by default): so the writer's `ready` and writes wait for the
// reader. The readable side cancelled (the answer's reader went away) errors the writable side.

class TransformStream {
  constructor(transformer = {}, writableStrategy = {}, readableStrategy = { highWaterMark: 0 }) {
    transformer ??= {};
    if (transformer.readableType !== undefined || transformer.writableType !== undefined) throw new RangeError('leave out "readableType" and "writableType"');
    let readable; // the readable side's controller
    let writable; // the writable side's controller
    let stopped = null; // { reason } once the writable side errored
    // While the readable side wants no chunk, what resolves when it wants one.
    let backpressure = null;
    const setBackpressure = (on) => {
      if (on && backpressure === null) backpressure = deferred(true);
      if (!on && backpressure !== null) {
        backpressure.resolve();
        backpressure = null;
      }
    };
    const stopWritable = (reason) => {
      stopped ??= { reason };
      writable.error(reason);
      setBackpressure(false); // a write waiting for the reader fails now
    };
    const error = (reason) => {
      readable.error(reason);
      stopWritable(reason);
    };
    const controller = {
      get desiredSize() {
        return readable.desiredSize;
      },
      enqueue(chunk) {
        try {
          readable.enqueue(chunk);
        } catch (reason) {
          stopWritable(reason);
          throw reason;
        }
        if (readable.desiredSize <= 0) setBackpressure(true);
      },
      error,
      terminate() {
        try {
          readable.close();
        } catch {}
        stopWritable(new TypeError('the transform stream was terminated'));
      },
    };
    const failing = (promise) => promise.catch((reason) => {
      error(reason);
      throw reason;
    });
    const started = deferred(true);
    this.readable = new ReadableStream({
      start(c) {
        readable = c;
        return started.promise;
      },
      pull: () => setBackpressure(false),
      cancel: stopWritable,
    }, readableStrategy);
    this.writable = new WritableStream({
      start(c) {
        writable = c;
        return started.promise;
      },
      async write(chunk) {
        if (backpressure !== null) await backpressure.promise;
        if (stopped !== null) throw stopped.reason;
        if (typeof transformer.transform !== 'function') return controller.enqueue(chunk);
        return failing(promiseCall(transformer.transform, transformer, chunk, controller));
      },
      close: () => failing(promiseCall(transformer.flush, transformer, controller)).then(() => readable.close()),
      abort: (reason) => readable.error(reason),
    }, writableStrategy);
    setBackpressure(true);
    started.resolve(typeof transformer.start === 'function' ? transformer.start.call(transformer, controller) : undefined);
  }
}
