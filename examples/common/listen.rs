//! The listener of every example server: `PORT` (default 3000; 0 picks a
//! free port) on loopback. Its own file so that servers which do not share
//! the rest of `common` (`mcp_server`) include it alone.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use tokio::net::TcpListener;

/// Listens on `127.0.0.1:$PORT`, and says on which address. On failure the
/// error is printed and the exit code returned: 2 for a `PORT` that is not
/// a port number, 1 when it cannot be bound.
pub async fn listen() -> Result<(TcpListener, SocketAddr), ExitCode> {
    let port = match std::env::var("PORT").ok().filter(|s| !s.is_empty()) {
        None => 3000,
        Some(p) => match p.parse::<u16>() {
            Ok(p) => p,
            Err(_) => {
                eprintln!("error: PORT must be a port number, got {p:?}");
                return Err(ExitCode::from(2));
            }
        },
    };
    let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{port}: {e}");
            return Err(ExitCode::from(1));
        }
    };
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    Ok((listener, addr))
}
