//! The azure stream decoder on arbitrary SSE text (seed it with recorded streams).
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchpoint_core::providers::ProviderKind;

fuzz_target!(|data: &[u8]| switchpoint_fuzz::decode_sse_text(ProviderKind::AzureOpenAi, data));
