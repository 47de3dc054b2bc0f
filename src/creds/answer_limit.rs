//! A cap on the size of every answer an AWS service gives vault. The SDKs read a whole answer
//! into memory before parsing it, so an endpoint (or a proxy, or anything that answers in their
//! place) could make vault hold hundreds of megabytes; real answers are a few kilobytes.

use aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextMut;
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sts::error::BoxError;
use aws_smithy_types::body::SdkBody;

/// The most bytes of one answer vault reads: 1 MiB, hundreds of times a real one.
pub(crate) const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Refuses an answer that says it is too long, and stops reading one that turns out to be.
#[derive(Debug)]
pub(crate) struct AnswerSizeLimit;

impl Intercept for AnswerSizeLimit {
    fn name(&self) -> &'static str {
        "AnswerSizeLimit"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response_mut();
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|length| length.parse::<u64>().ok());
        if let Some(length) = declared
            && length > MAX_ANSWER_BYTES as u64
        {
            return Err(Box::new(AnswerTooLong));
        }
        // Without a length (or with a false one), the body is cut off where it passes the cap.
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() =
            SdkBody::from_body_1_x(http_body_util::Limited::new(body, MAX_ANSWER_BYTES));
        Ok(())
    }
}

/// An answer that says it is longer than the cap.
#[derive(Debug, thiserror::Error)]
#[error("the answer is longer than the 1 MiB vault reads; check AWS_ENDPOINT_URL and any proxy")]
pub(crate) struct AnswerTooLong;

/// Whether `err`, or any error under it, is an answer over the cap (declared, or cut off while
/// read).
pub(crate) fn is_too_long(err: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(err), |e| e.source())
        .any(|e| e.is::<AnswerTooLong>() || e.is::<http_body_util::LengthLimitError>())
}
