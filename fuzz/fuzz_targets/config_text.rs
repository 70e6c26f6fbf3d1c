//! The config loader on arbitrary YAML/JSON text: `parse_text` (with `Source::Text`) and
//! `load_text` (which also resolves secrets and cross-references) return a typed error or a
//! config, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchpoint_core::config::{load_text, parse_text, Source};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = parse_text(text, &Source::Text) {
        assert_eq!(
            e.kind,
            switchpoint_core::ErrorKind::Config,
            "parse error kind"
        );
    }
    if let Err(e) = load_text(text) {
        assert_eq!(
            e.kind,
            switchpoint_core::ErrorKind::Config,
            "load error kind"
        );
    }
});
