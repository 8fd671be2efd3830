//! Nothing to see: the comparison lives in `benches/peer.rs` (`cargo bench`).
