//! Reading request bodies: the declared length, the content coding, and the
//! bytes themselves under a size limit.

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use weir_otlp::compression::Encoding;

/// `Content-Encoding`: absent is identity; anything but one known coding is an
/// error carrying what was sent.
pub(crate) fn content_encoding(headers: &HeaderMap) -> Result<Encoding, String> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let text = value.to_str().map_err(|_| "(not ASCII)".to_string())?;
    Encoding::from_header(text.trim()).ok_or_else(|| text.to_string())
}

pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Why a body could not be read whole.
pub(crate) enum ReadError {
    /// The body passed the limit.
    TooLarge,
    /// The connection failed while reading.
    Body(hyper::Error),
}

/// Reads the whole body, failing as soon as it passes `limit`, so no more than
/// the limit is ever held. `hint` (the declared length) sizes the buffer once.
pub(crate) async fn read_body(
    mut body: Incoming,
    hint: u64,
    limit: usize,
) -> Result<Bytes, ReadError> {
    let mut buf = BytesMut::with_capacity(usize::try_from(hint).unwrap_or(limit).min(limit));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(ReadError::Body)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ReadError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}
