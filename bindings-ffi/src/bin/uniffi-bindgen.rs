//! The uniffi binding generator, built from this crate so its version always matches the
//! library's: `cargo run -p switchpoint-ffi --bin uniffi-bindgen -- generate ...`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
