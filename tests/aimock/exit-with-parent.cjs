// Preloaded into aimock by core/tests/aimock_smoke.rs: the test holds aimock's stdin open,
// so when the test process ends for any reason (even SIGKILL) stdin reaches EOF and aimock
// exits instead of lingering as an orphan.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
