//! The native functions behind the prelude's globals: the `host` object, which only the
//! prelude holds. Each is a call of the SDK's host API; operations that wait (timers, fetch,
//! storage) start in the event loop and return its id, settled later.

use crate::event_loop;
use crate::exchange::Outcome;
use crate::exchange::{bytes_of, pairs_of};
use rquickjs::{ArrayBuffer, Ctx, Exception, Function, Object};
use std::time::Duration;
use vlugin::{http, kv, Body};

/// The host object, `host` in the prelude.
pub fn host<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    let add = |name: &str, function: Function<'js>| host.set(name, function);
    add("log", Function::new(ctx.clone(), log)?)?;
    add("random", Function::new(ctx.clone(), random)?)?;
    add("encode", Function::new(ctx.clone(), encode)?)?;
    add("decode", Function::new(ctx.clone(), decode)?)?;
    add("sleep", Function::new(ctx.clone(), sleep)?)?;
    add("fetch", Function::new(ctx.clone(), fetch)?)?;
    add("read", Function::new(ctx.clone(), crate::reading::read)?)?;
    add("close", Function::new(ctx.clone(), crate::reading::close)?)?;
    add("kv", Function::new(ctx.clone(), storage)?)?;
    add("cancel", Function::new(ctx.clone(), event_loop::cancel)?)?;
    add("respond", Function::new(ctx.clone(), respond)?)?;
    add("fail", Function::new(ctx.clone(), event_loop::fail)?)?;
    add("chunk", Function::new(ctx.clone(), chunk)?)?;
    add("extend", Function::new(ctx.clone(), crate::after::extend)?)?;
    host.set("retryAfterSeconds", kv::RETRY_AFTER_SECONDS)?;
    Ok(host)
}

fn log(level: u32, text: String) {
    let level = match level {
        1 => vlugin::log::Level::Error,
        2 => vlugin::log::Level::Warn,
        4 => vlugin::log::Level::Debug,
        5 => vlugin::log::Level::Trace,
        _ => vlugin::log::Level::Info,
    };
    vlugin::log::log!(level, "{text}");
}

fn random<'js>(ctx: Ctx<'js>, len: usize) -> rquickjs::Result<ArrayBuffer<'js>> {
    let mut bytes = vec![0; len.min(65_536)];
    vlugin::fill_random(&mut bytes);
    ArrayBuffer::new(ctx, bytes)
}

fn encode<'js>(ctx: Ctx<'js>, text: String) -> rquickjs::Result<ArrayBuffer<'js>> {
    ArrayBuffer::new(ctx, text.into_bytes())
}

fn decode<'js>(ctx: Ctx<'js>, bytes: ArrayBuffer<'js>, fatal: bool) -> rquickjs::Result<String> {
    let bytes = bytes_of(&bytes);
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(_) if fatal => Err(Exception::throw_type(&ctx, "the bytes are not valid UTF-8")),
        Err(_) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

fn sleep(ms: f64) -> u32 {
    let duration = Duration::from_secs_f64(ms.clamp(0.0, 1e9) / 1000.0);
    event_loop::start(async move {
        vlugin::sleep(duration).await;
        Ok(Outcome::Done)
    })
}

fn fetch<'js>(
    ctx: Ctx<'js>,
    method: String,
    url: String,
    headers: Vec<Vec<String>>,
    body: Option<ArrayBuffer<'js>>,
) -> rquickjs::Result<u32> {
    let mut request = http::Request::builder()
        .method(method.as_str())
        .uri(url.as_str());
    for (name, value) in pairs_of(headers) {
        request = request.header(name, value);
    }
    let body = body.map(|b| bytes_of(&b)).unwrap_or_default();
    let request = request
        .body(Body::from(body))
        .map_err(|error| Exception::throw_type(&ctx, &format!("fetch {method} {url}: {error}")))?;
    // The response's body is read as the script pulls it (`reading`), whatever its size.
    Ok(event_loop::start(async move {
        match vlugin::fetch_stream(request).await {
            Ok(response) => Ok(Outcome::Fetched(response)),
            Err(error) => Err(error.to_string()),
        }
    }))
}

fn storage<'js>(
    ctx: Ctx<'js>,
    command: String,
    key: String,
    value: Option<ArrayBuffer<'js>>,
) -> rquickjs::Result<u32> {
    let value = value.map(|v| bytes_of(&v));
    // A store failure keeps its kind as the host said it (`full: ...`): the prelude makes it a
    // `StorageError` with the status a Rust plugin's `?` would answer.
    let failed = |error: vlugin::Error| match error {
        vlugin::Error::Storage { failure, message } => failure.message(&message),
        other => other.to_string(),
    };
    Ok(match command.as_str() {
        "get" => {
            event_loop::start(
                async move { kv::get(&key).await.map(Outcome::Value).map_err(failed) },
            )
        }
        "set" => event_loop::start(async move {
            kv::set(&key, value.unwrap_or_default())
                .await
                .map(|()| Outcome::Done)
                .map_err(failed)
        }),
        "delete" => event_loop::start(async move {
            kv::delete(&key)
                .await
                .map(|()| Outcome::Done)
                .map_err(failed)
        }),
        "keys" => {
            event_loop::start(
                async move { kv::keys(&key).await.map(Outcome::Keys).map_err(failed) },
            )
        }
        "entries" => {
            event_loop::start(
                async move { kv::scan(&key).await.map(Outcome::Entries).map_err(failed) },
            )
        }
        other => {
            return Err(Exception::throw_type(
                &ctx,
                &format!("no kv command {other}"),
            ))
        }
    })
}

/// The script's reply to request `id`: `body` whole, or (`streamed`) the script's stream,
/// read later (`body`).
fn respond<'js>(
    ctx: Ctx<'js>,
    id: String,
    status: u16,
    headers: Vec<Vec<String>>,
    body: Option<ArrayBuffer<'js>>,
    streamed: bool,
) -> rquickjs::Result<()> {
    let body = match streamed {
        // A request that is over has no one to answer: its reply is dropped below.
        true => crate::body::streamed(&id).unwrap_or_default(),
        false => Body::from(body.map(|b| bytes_of(&b)).unwrap_or_default()),
    };
    let response = crate::exchange::response(status, pairs_of(headers), body)
        .map_err(|message| Exception::throw_type(&ctx, &message))?;
    event_loop::answer(id, Ok(response));
    Ok(())
}

/// What the script's stream gave for request `id`'s body: the next chunk (`bytes`), or the
/// end (none), cut short for `reason` if it has one.
fn chunk(id: String, bytes: Option<ArrayBuffer<'_>>, reason: Option<String>) {
    let item = match (bytes, reason) {
        (Some(bytes), _) => Some(Ok(bytes_of(&bytes))),
        (None, reason) => reason.map(Err),
    };
    crate::body::deliver(id, item);
}
