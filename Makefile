# The two commands of README's quick start.
.PHONY: demo demo-rust test

# Builds the mock providers and the Python package, then routes real HTTP requests through
# the gateway from Python: two wire formats, a fallback, a stream, a typed error.
demo:
	scripts/demo.sh

# The same story from Rust.
demo-rust:
	cargo build -q -p mock-provider -p switchpoint-core --example demo
	scripts/with-mock.sh target/debug/examples/demo

# Builds everything and runs every test (formatting, lints, Rust, Python, Node, C).
test:
	scripts/test.sh
