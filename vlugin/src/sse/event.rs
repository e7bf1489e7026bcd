use std::fmt::Write as _;
use std::time::Duration;

/// One server-sent event, built field by field; its fields are sent in the order they are
/// given. (An `EventSource` in a page gets its `data` as a `MessageEvent`, dispatched under
/// its `event` name.)
///
/// ```
/// use std::time::Duration;
/// use vlugin::sse::Event;
///
/// let event = Event::default()
///     .id("7")
///     .event("tick")
///     .data("line one\nline two")
///     .retry(Duration::from_secs(2));
/// assert_eq!(
///     event.to_string(),
///     "id: 7\nevent: tick\ndata: line one\ndata: line two\nretry: 2000\n\n"
/// );
/// ```
///
/// A field is one line: `data` and `comment` with several lines become several fields (the
/// page joins the data lines with `\n`), and a line break in `event` or `id` becomes a space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Event {
    /// The event's lines, each ending with `\n`.
    lines: String,
}

impl Event {
    /// The event's data, `data: ` lines: one per line of `data`. Called again, it adds lines.
    pub fn data(self, data: impl AsRef<str>) -> Self {
        self.lines_of("data", data.as_ref())
    }

    /// The event's name (`event: `): what a page's `EventSource` listens for with
    /// `addEventListener(name, ...)`. Without one, the event is a `message`.
    pub fn event(self, name: impl AsRef<str>) -> Self {
        self.field("event", name.as_ref())
    }

    /// The event's id (`id: `): an `EventSource` that reconnects sends the last one it got in
    /// its `last-event-id` header.
    pub fn id(self, id: impl AsRef<str>) -> Self {
        self.field("id", id.as_ref())
    }

    /// How long an `EventSource` waits before it reconnects (`retry: ` in milliseconds).
    pub fn retry(self, after: Duration) -> Self {
        self.field("retry", &after.as_millis().to_string())
    }

    /// A comment (`: ` lines), which an `EventSource` ignores: for whoever reads the stream
    /// otherwise, or to keep a connection busy.
    pub fn comment(self, comment: impl AsRef<str>) -> Self {
        self.lines_of("", comment.as_ref())
    }

    /// A field per line of `text`.
    fn lines_of(mut self, name: &str, text: &str) -> Self {
        for line in split_lines(text) {
            let _ = writeln!(self.lines, "{name}: {line}");
        }
        self
    }

    /// A field of one line: line breaks become spaces.
    fn field(mut self, name: &str, value: &str) -> Self {
        let value = value.replace(['\r', '\n'], " ");
        let _ = writeln!(self.lines, "{name}: {value}");
        self
    }
}

impl std::fmt::Display for Event {
    /// The event as it is sent: its lines, then the blank line that ends it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.lines)
    }
}

/// The lines of `text`, split at `\n`, `\r\n` or `\r` (as an `EventSource` splits them).
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'))
}
