//! Tests of the host, driven as an instance would drive it: functions resolved by interface and
//! name, called with component values, resources dropped by handle; the outside world a fake
//! with a clock that moves only when slept on, recorded fetches answered from a map, and
//! counting random bytes.

mod blocking;
mod fake;
mod fields;
mod http;
mod names;
mod outgoing;
mod resources;
