# The two commands of README's quick start.
.PHONY: demo test

# Builds the mock provider and the demo, then routes real HTTP requests through the gateway.
demo:
	cargo build -q -p mock-provider -p switchpoint-core --example demo
	scripts/with-mock.sh target/debug/examples/demo

# Builds everything and runs every test (formatting, lints, Rust, third-party mock check).
test:
	scripts/test.sh
