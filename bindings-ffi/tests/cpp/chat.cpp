// A C++ program using libswitchpoint (linked statically from libswitchpoint.a): RAII
// wrappers over the C API, a chat, a callback stream stopped early, typed errors, a record
// callback (a lambda) and the Prometheus text.
//
// usage: chat MOCK_URL
#include <switchpoint.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace sp {

// The detail of a failed call, copied out of sp_last_error().
struct Error : std::runtime_error {
    sp_status status;
    std::string kind;
    int http_status;
    explicit Error(sp_status st)
        : std::runtime_error(sp_last_error() ? sp_last_error()->message : "unknown"),
          status(st),
          kind(sp_last_error() ? sp_last_error()->kind : ""),
          http_status(sp_last_error() ? sp_last_error()->http_status : 0) {}
};

inline void check(sp_status st) {
    if (st != SP_OK) throw Error(st);
}

// A string the library returned, freed with sp_string_free.
using Owned = std::unique_ptr<char, decltype(&sp_string_free)>;

class Gateway {
  public:
    static Gateway from_json(const std::string& config) {
        sp_gateway* gw = nullptr;
        check(sp_gateway_new_from_json(config.c_str(), &gw));
        return Gateway(gw);
    }
    std::string chat(const std::string& request, const char* context = nullptr) const {
        char* out = nullptr;
        check(sp_chat(gw_.get(), request.c_str(), context, &out));
        return Owned(out, sp_string_free).get();
    }
    // Calls `on_chunk` per chunk until it returns false.
    template <typename F>
    sp_status stream(const std::string& request, F on_chunk) const {
        auto trampoline = [](void* ud, const char* chunk) -> int32_t {
            return (*static_cast<F*>(ud))(chunk) ? 0 : 1;
        };
        return sp_chat_stream(gw_.get(), request.c_str(), nullptr, trampoline, &on_chunk,
                              nullptr);
    }

    // Calls `(*f)(record_json)` for every finished request until remove_observer(id);
    // `*f` runs on the telemetry thread and must outlive the registration.
    template <typename F>
    uint64_t on_record(F* f) const {
        auto trampoline = [](void* ud, const char* record) { (*static_cast<F*>(ud))(record); };
        uint64_t id = 0;
        check(sp_gateway_add_observer(gw_.get(), trampoline, f, &id));
        return id;
    }
    void remove_observer(uint64_t id) const { check(sp_gateway_remove_observer(gw_.get(), id)); }
    void flush_telemetry(double timeout_seconds) const {
        check(sp_gateway_flush_telemetry(gw_.get(), timeout_seconds));
    }
    std::string metrics_text() const {
        char* out = nullptr;
        check(sp_gateway_metrics_text(gw_.get(), &out));
        return Owned(out, sp_string_free).get();
    }

  private:
    explicit Gateway(sp_gateway* gw) : gw_(gw, sp_gateway_free) {}
    std::unique_ptr<sp_gateway, decltype(&sp_gateway_free)> gw_;
};

}  // namespace sp

static int failures = 0, checks = 0;
static void expect(bool ok, const std::string& what) {
    checks++;
    if (!ok) {
        std::printf("FAIL %s\n", what.c_str());
        failures++;
    }
}

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    std::string mock = argv[1];
    auto gw = sp::Gateway::from_json(
        R"({"providers":{"claude":{"kind":"anthropic","base_url":")" + mock +
        R"(","api_key":"k"}},"models":{"sonnet":{"provider":"claude","model":"claude-sonnet-4-5"}}})");

    std::atomic<int> records{0}, errors{0};
    auto count = [&](const char* record) {
        records++;
        if (std::string(record).find(R"("status":"error")") != std::string::npos) errors++;
    };
    uint64_t observer = gw.on_record(&count);

    std::string resp = gw.chat(
        R"({"model":"sonnet","messages":[{"role":"user","content":"hello from c++"}]})",
        R"({"user":"cpp"})");
    expect(resp.find(R"("content":"hello from c++")") != std::string::npos, "chat: " + resp);
    expect(resp.find(R"("provider":"claude")") != std::string::npos, "facts: " + resp);

    int chunks = 0;
    sp_status st = gw.stream(
        R"({"model":"sonnet","stream":true,"messages":[{"role":"user","content":"a b c d e f"}]})",
        [&](const char*) { return ++chunks < 3; });
    expect(st == SP_CANCELLED && chunks == 3, "stream stopped after 3 chunks");

    try {
        gw.chat(R"({"model":"nope","messages":[{"role":"user","content":"x"}]})");
        expect(false, "unknown model did not throw");
    } catch (const sp::Error& e) {
        expect(e.status == SP_NOT_FOUND && e.kind == "not_found", std::string("error ") + e.what());
    }
    try {
        gw.chat("{broken");
        expect(false, "broken JSON did not throw");
    } catch (const sp::Error& e) {
        expect(e.status == SP_BAD_REQUEST, std::string("error ") + e.what());
    }

    // Three records: the chat, the stream stopped early (an error, kind cancelled) and the
    // unknown model the gateway refused. The broken JSON never became a request.
    gw.flush_telemetry(5.0);
    expect(records == 3 && errors == 2,
           "records " + std::to_string(records) + ", errors " + std::to_string(errors));
    gw.remove_observer(observer);
    try {
        gw.remove_observer(observer);
        expect(false, "second removal did not throw");
    } catch (const sp::Error& e) {
        expect(e.status == SP_NOT_FOUND, std::string("second removal ") + e.what());
    }
    std::string metrics = gw.metrics_text();
    expect(metrics.find(R"(switchpoint_requests_total{route="sonnet",provider="claude",)"
                        R"(model="sonnet",user="cpp",team="",tag="",status="ok",cache="off"} 1)") !=
               std::string::npos,
           "metrics: " + metrics);
    std::printf("c++: switchpoint %s\n%d passed, %d failed\n", sp_version(), checks - failures,
                failures);
    return failures ? 1 : 0;
}
