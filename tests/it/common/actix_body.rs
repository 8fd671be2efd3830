//! A request body that records whether any of it reached an extractor: the
//! proof, on actix, that a refused request's body is never read.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use bytes::Bytes;
use futures_util::Stream;

struct Recording {
    inner: Payload,
    read: &'static AtomicBool,
}

impl Stream for Recording {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(_))) = &polled {
            this.read.store(true, Ordering::SeqCst);
        }
        polled
    }
}

/// `payload`, taken, behind a stream that sets `read` when it yields bytes.
pub fn record_reads(payload: &mut Payload, read: &'static AtomicBool) -> Payload {
    Payload::Stream {
        payload: Box::pin(Recording {
            inner: payload.take(),
            read,
        }),
    }
}
