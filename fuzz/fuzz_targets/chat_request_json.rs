//! `ChatRequest::from_json` on arbitrary text; a request that parses must survive a JSON
//! round trip unchanged, and every adapter must turn it into a request or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchpoint_core::providers::ProviderKind;
use switchpoint_core::ChatRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(req) = ChatRequest::from_json(text) else {
        return;
    };
    let json = serde_json::to_string(&req).expect("a parsed request serializes");
    let back = ChatRequest::from_json(&json).expect("a serialized request parses back");
    assert_eq!(back, req, "request JSON round trip changed it: {json}");
    let _ = switchpoint_core::api::validate_chat(&req);
    for kind in ProviderKind::ALL {
        let adapter = switchpoint_fuzz::adapter(kind);
        for stream in [false, true] {
            let _ = adapter.chat_request(&req, switchpoint_fuzz::model(kind), stream);
        }
    }
});
