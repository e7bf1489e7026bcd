//! The subcommands of `valor`, one module each, and what they share: the embedded runtime
//! (`assets`) and templates (`template`), the project they work in (`project`), and the
//! plugins' build (`plugins`).

pub mod assets;
pub mod build;
pub mod dev;
pub mod new;
pub mod plugins;
pub mod project;
pub mod serve;
pub mod template;

/// Messages to the person at the terminal, on stderr (stdout is for what scripts read).
pub fn say(message: impl std::fmt::Display) {
    eprintln!("valor: {message}");
}

/// `--listen`: an IP address and port (`127.0.0.1:8080`, `[::1]:8080`), or a host name and port
/// (`localhost:8080`: its first IPv4 address, else its first).
pub fn listen_address(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(address) = text.parse() {
        return Ok(address);
    }
    let hint = "give an address and a port, like 127.0.0.1:8080 or localhost:8080";
    let addresses: Vec<_> = text
        .to_socket_addrs()
        .map_err(|e| format!("{text}: {e}: {hint}"))?
        .collect();
    addresses
        .iter()
        .find(|address| address.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| format!("{text} names no address: {hint}"))
}

/// A tokio runtime for a subcommand that serves.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(valor_server::serve::THREAD_STACK_BYTES)
        .build()
        .map_err(|error| format!("starting the runtime failed: {error}"))
}

#[cfg(test)]
mod tests {
    use super::listen_address;

    #[test]
    fn listen_addresses_are_ip_addresses_or_host_names_with_a_port() {
        assert_eq!(
            listen_address("[::1]:8080").unwrap().to_string(),
            "[::1]:8080"
        );
        assert_eq!(
            listen_address("localhost:8080").unwrap().to_string(),
            "127.0.0.1:8080"
        );
        for wrong in ["localhost", "8080", "127.0.0.1:port"] {
            let error = listen_address(wrong).unwrap_err();
            assert!(
                error.contains("like 127.0.0.1:8080 or localhost:8080"),
                "{wrong}: {error}"
            );
        }
    }
}
