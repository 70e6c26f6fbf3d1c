//! SSE framing end to end through the public transport (`ChunkStream`): the same body bytes
//! delivered in one read and cut into arbitrary reads must decode to the same items.
//!
//! Input: byte 0 picks the wire format, byte 1 is how many cut bytes follow, then the cut
//! bytes, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchpoint_core::providers::ProviderKind;
use switchpoint_fuzz::{decode_body, split};

fuzz_target!(|data: &[u8]| {
    let [pick, ncuts, rest @ ..] = data else {
        return;
    };
    let kind = ProviderKind::ALL[*pick as usize % ProviderKind::ALL.len()];
    let ncuts = (*ncuts as usize).min(rest.len());
    let (cuts, body) = rest.split_at(ncuts);
    let whole = decode_body(kind, vec![bytes::Bytes::copy_from_slice(body)]);
    let pieces = decode_body(kind, split(body, cuts));
    assert_eq!(
        whole, pieces,
        "cutting the body into reads changed the decoded stream"
    );
});
