/* The C test program: plays every shared scenario through the C API, then checks threads,
 * streams stopped early, every error kind, bad inputs, the telemetry calls (metrics,
 * usage, record callbacks; telemetry.c) and the policy calls (keys, audit, reload, limits,
 * budgets, guardrail callbacks; policy.c).
 *
 * usage: test_switchpoint MOCK_PROVIDER_BINARY SCENARIO_DIR
 * Prints one line per failure and ends with "N passed, N failed". */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "mock.h"
#include "scenario.h"
#include "policy.h"
#include "telemetry.h"
#include "switchpoint.h"

int passed, failed;

static mock_provider mock;
static char config_json[2048];

/* A config with one provider of each wire format, all pointing at the mock. */
static void make_config(void) {
    snprintf(config_json, sizeof config_json,
             "{\"providers\":{"
             "\"oai\":{\"kind\":\"openai\",\"base_url\":\"%s/v1\",\"api_key\":\"sk-test\"},"
             "\"claude\":{\"kind\":\"anthropic\",\"base_url\":\"%s\",\"api_key\":\"sk-ant\"},"
             "\"az\":{\"kind\":\"azure_openai\",\"base_url\":\"%s\",\"api_key\":\"az\","
             "\"api_version\":\"2024-10-21\"},"
             "\"bad\":{\"kind\":\"openai\",\"base_url\":\"%s/v1\",\"api_key\":\"bad-key\"}},"
             "\"models\":{"
             "\"gpt\":{\"provider\":\"oai\",\"model\":\"gpt-4o-mini\"},"
             "\"sonnet\":{\"provider\":\"claude\",\"model\":\"claude-sonnet-4-5\"},"
             "\"azure-gpt\":{\"provider\":\"az\",\"model\":\"dep\"},"
             "\"embed\":{\"provider\":\"oai\",\"model\":\"text-embedding-3-small\"},"
             "\"locked\":{\"provider\":\"bad\",\"model\":\"gpt-4o-mini\"}},"
             "\"defaults\":{\"timeouts\":{\"total\":10}}}",
             mock.url, mock.url, mock.url, mock.url);
}

static sp_gateway *new_gateway(void) {
    sp_gateway *gw = NULL;
    sp_status st = sp_gateway_new_from_json(config_json, &gw);
    if (st != SP_OK) {
        printf("cannot create the gateway: %s\n", sp_last_error()->message);
        exit(2);
    }
    return gw;
}

static const char *str_at(const cJSON *root, const char *a, int i, const char *b, const char *c) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, a);
    if (i >= 0) x = cJSON_GetArrayItem(x, i);
    if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
    if (c) x = cJSON_GetObjectItemCaseSensitive(x, c);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---------- every shared scenario ---------- */

static void test_scenarios(const char *dir) {
    DIR *d = opendir(dir);
    CHECK(d != NULL, "cannot open %s", dir);
    if (!d) return;
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    CHECK(n > 0, "no scenarios in %s", dir);
    /* Each file twice: streams by callback with blocking calls, then streams pulled with the
     * async calls, so every way of calling is held to the same expectations. */
    int steps = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            int fails = play_scenario(path, &mock, pass ? STREAM_PULL : STREAM_CALLBACK,
                                      pass ? CALL_ASYNC : CALL_BLOCKING, &steps);
            CHECK(fails == 0, "%s: %d step(s) failed (pass %d)", names[i], fails, pass);
        }
    }
    printf("scenarios: %d files, %d steps played (each file twice)\n", n, steps);
    for (int i = 0; i < n; i++) free(names[i]);
}

/* ---------- 8 threads sharing one gateway ---------- */

typedef struct {
    const sp_gateway *gw;
    int id;
    int ok;
} worker_arg;

enum { THREADS = 8, CALLS_PER_THREAD = 25 };

static int on_chunk_count(void *ud, const char *chunk) {
    (void)chunk;
    (*(int *)ud)++;
    return 0;
}

static void *worker(void *p) {
    worker_arg *w = p;
    for (int i = 0; i < CALLS_PER_THREAD; i++) {
        char text[64], req[256];
        snprintf(text, sizeof text, "thread %d call %d", w->id, i);
        snprintf(req, sizeof req,
                 "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}",
                 i % 2 ? "sonnet" : "gpt", text);
        if (i % 5 == 4) {
            int chunks = 0;
            if (sp_chat_stream(w->gw, req, NULL, on_chunk_count, &chunks, NULL) == SP_OK &&
                chunks >= 4)
                w->ok++;
            continue;
        }
        char *out = NULL;
        if (sp_chat(w->gw, req, "{\"user\":\"u\"}", &out) == SP_OK) {
            cJSON *r = cJSON_Parse(out);
            const char *content = str_at(r, "choices", 0, "message", "content");
            if (content && strcmp(content, text) == 0) w->ok++;
            cJSON_Delete(r);
        }
        sp_string_free(out);
    }
    return NULL;
}

static void test_threads(void) {
    sp_gateway *gw = new_gateway();
    pthread_t t[THREADS];
    worker_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (worker_arg){gw, i, 0};
        pthread_create(&t[i], NULL, worker, &args[i]);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ok += args[i].ok;
    }
    CHECK(ok == THREADS * CALLS_PER_THREAD, "threads: %d of %d calls answered correctly", ok,
          THREADS * CALLS_PER_THREAD);
    sp_gateway_free(gw);
}

/* ---------- streams stopped early close the upstream connection ---------- */

static int upstream_closed_early(void) {
    for (int i = 0; i < 100; i++) {
        char *text = mock_log(&mock);
        cJSON *log = text ? cJSON_Parse(text) : NULL;
        free(text);
        int n = cJSON_GetArraySize(log);
        cJSON *last = n > 0 ? cJSON_GetArrayItem(log, n - 1) : NULL;
        int closed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(last, "client_closed_early"));
        int completed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(last, "completed"));
        cJSON_Delete(log);
        if (closed) return 1;
        if (completed) return 0;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int stop_after_two(void *ud, const char *chunk) {
    (void)chunk;
    return ++(*(int *)ud) >= 2 ? 1 : 0;
}

static const char *LONG_REQ =
    "{\"model\":\"gpt\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":"
    "\"one two three four five six seven eight nine ten eleven twelve\"}]}";

static void test_stream_stopped_by_callback(const sp_gateway *gw) {
    mock_reset(&mock);
    mock_push_script(&mock, "[{\"chunk_delay_ms\":100}]");
    int seen = 0;
    char *facts = NULL;
    sp_status st = sp_chat_stream(gw, LONG_REQ, NULL, stop_after_two, &seen, &facts);
    CHECK(st == SP_CANCELLED, "stopped stream returned %s", sp_status_name(st));
    CHECK(seen == 2, "callback saw %d chunks after asking to stop at 2", seen);
    const sp_error *e = sp_last_error();
    CHECK(e && strcmp(e->kind, "cancelled") == 0, "kind %s", e ? e->kind : "(none)");
    cJSON *f = cJSON_Parse(facts);
    CHECK(str_at(f, "provider", -1, NULL, NULL) &&
              strcmp(str_at(f, "provider", -1, NULL, NULL), "oai") == 0,
          "facts of a stopped stream: %s", facts ? facts : "(null)");
    cJSON_Delete(f);
    sp_string_free(facts);
    CHECK(upstream_closed_early(), "mock log does not show client_closed_early");
}

static void test_pull_stream_closed_early(const sp_gateway *gw) {
    mock_reset(&mock);
    mock_push_script(&mock, "[{\"chunk_delay_ms\":100}]");
    sp_stream *s = NULL;
    CHECK(sp_stream_open(gw, LONG_REQ, NULL, &s) == SP_OK, "open");
    char *chunk = NULL;
    CHECK(sp_stream_next(s, &chunk) == SP_OK && chunk != NULL, "first chunk");
    cJSON *c = cJSON_Parse(chunk);
    CHECK(str_at(c, "object", -1, NULL, NULL) &&
              strcmp(str_at(c, "object", -1, NULL, NULL), "chat.completion.chunk") == 0,
          "chunk object: %s", chunk);
    CHECK(str_at(c, "choices", 0, "delta", "role") &&
              strcmp(str_at(c, "choices", 0, "delta", "role"), "assistant") == 0,
          "first chunk carries the role: %s", chunk);
    cJSON_Delete(c);
    sp_string_free(chunk);
    sp_stream_close(s);
    CHECK(upstream_closed_early(), "closing a pull stream did not close the upstream");
}

static void test_pull_stream_to_the_end(const sp_gateway *gw) {
    mock_reset(&mock);
    sp_stream *s = NULL;
    CHECK(sp_stream_open(gw,
                         "{\"model\":\"sonnet\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                         "\"content\":\"a b c\"}]}",
                         NULL, &s) == SP_OK,
          "open");
    int chunks = 0;
    char *chunk = NULL;
    char text[64] = "";
    while (sp_stream_next(s, &chunk) == SP_OK && chunk) {
        cJSON *c = cJSON_Parse(chunk);
        const char *piece = str_at(c, "choices", 0, "delta", "content");
        if (piece) strncat(text, piece, sizeof text - strlen(text) - 1);
        cJSON_Delete(c);
        sp_string_free(chunk);
        chunks++;
    }
    CHECK(strcmp(text, "a b c") == 0, "assembled text '%s'", text);
    CHECK(chunks >= 4, "%d chunks", chunks);
    /* After the end, next keeps answering "ended". */
    CHECK(sp_stream_next(s, &chunk) == SP_OK && chunk == NULL, "next after the end");
    char *facts = NULL;
    CHECK(sp_stream_facts(s, &facts) == SP_OK, "facts");
    cJSON *f = cJSON_Parse(facts);
    const char *outcome = str_at(f, "attempts", 0, "status", NULL);
    CHECK(outcome && strcmp(outcome, "ok") == 0, "facts after the end: %s", facts);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(f, "ttft_ms")), "ttft: %s", facts);
    cJSON_Delete(f);
    sp_string_free(facts);
    sp_stream_close(s);
}

/* ---------- every error kind, field by field ---------- */

typedef struct {
    const char *faults;  /* queued before the call, or NULL */
    const char *model;
    const char *context; /* or NULL */
    sp_status status;
    const char *kind;
    int http_status;     /* expected, or 0 for "none reported" */
    double retry_after;  /* expected, or -1 */
    const char *provider;
} error_case;

static void test_every_error_kind(const sp_gateway *gw) {
    const error_case cases[] = {
        {NULL, "locked", NULL, SP_AUTH, "auth", 401, -1, "bad"},
        {"[{\"error\":\"permission\"}]", "gpt", NULL, SP_PERMISSION_DENIED,
         "permission_denied", 403, -1, "oai"},
        {"[{\"error\":\"not_found\"}]", "gpt", NULL, SP_NOT_FOUND, "not_found", 404, -1,
         "oai"},
        {"[{\"status\":429,\"retry_after\":2}]", "gpt", NULL, SP_RATE_LIMITED, "rate_limited",
         429, 2.0, "oai"},
        {"[{\"error\":\"rate_limit\",\"retry_after_ms\":1500}]", "sonnet", NULL,
         SP_RATE_LIMITED, "rate_limited", 429, 1.5, "claude"},
        {"[{\"delay_ms\":2000}]", "gpt", "{\"timeout\":0.2}", SP_TIMEOUT, "timeout", 0, -1,
         "oai"},
        {"[{\"reset\":true}]", "gpt", NULL, SP_CONNECTION, "connection", 0, -1, "oai"},
        {"[{\"error\":\"bad_request\"}]", "gpt", NULL, SP_BAD_REQUEST, "bad_request", 400, -1,
         "oai"},
        {"[{\"error\":\"context_window\"}]", "gpt", NULL, SP_CONTEXT_WINDOW_EXCEEDED,
         "context_window_exceeded", 400, -1, "oai"},
        {"[{\"error\":\"content_filter\"}]", "azure-gpt", NULL, SP_CONTENT_FILTERED,
         "content_filtered", 400, -1, "az"},
        {"[{\"status\":503}]", "gpt", NULL, SP_UNAVAILABLE, "unavailable", 503, -1, "oai"},
        {"[{\"error\":\"overloaded\"}]", "sonnet", NULL, SP_UNAVAILABLE, "unavailable", 529, -1,
         "claude"},
        {"[{\"malformed\":true}]", "gpt", NULL, SP_INVALID_RESPONSE, "invalid_response", 0, -1,
         "oai"},
        {NULL, "no-such-model", NULL, SP_NOT_FOUND, "not_found", 0, -1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const error_case *c = &cases[i];
        mock_reset(&mock);
        if (c->faults) mock_push_script(&mock, c->faults);
        char req[256];
        snprintf(req, sizeof req,
                 "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                 c->model);
        char *out = (char *)"sentinel";
        sp_status st = sp_chat(gw, req, c->context, &out);
        const sp_error *e = sp_last_error();
        CHECK(st == c->status, "%s: status %d (%s), want %d", c->kind, st, sp_status_name(st),
              c->status);
        CHECK(out == NULL, "%s: out-parameter not NULL on failure", c->kind);
        if (!e) {
            CHECK(0, "%s: no sp_last_error", c->kind);
            continue;
        }
        CHECK(e->status == c->status, "%s: e->status %d", c->kind, e->status);
        CHECK(strcmp(e->kind, c->kind) == 0, "%s: kind %s", c->kind, e->kind);
        CHECK(strcmp(sp_status_name(st), c->kind) == 0, "%s: name %s", c->kind,
              sp_status_name(st));
        CHECK(e->message && e->message[0], "%s: empty message", c->kind);
        if (c->http_status) CHECK(e->http_status == c->http_status, "%s: http %d", c->kind,
                                  e->http_status);
        if (c->retry_after >= 0)
            CHECK(e->retry_after > c->retry_after - 0.001 && e->retry_after < c->retry_after + 0.001,
                  "%s: retry_after %f", c->kind, e->retry_after);
        else
            CHECK(e->retry_after < 0, "%s: retry_after %f when none was sent", c->kind,
                  e->retry_after);
        if (c->provider)
            CHECK(e->provider && strcmp(e->provider, c->provider) == 0, "%s: provider %s",
                  c->kind, e->provider ? e->provider : "(null)");
        cJSON *j = cJSON_Parse(e->json);
        CHECK(str_at(j, "kind", -1, NULL, NULL) &&
                  strcmp(str_at(j, "kind", -1, NULL, NULL), c->kind) == 0,
              "%s: json %s", c->kind, e->json);
        cJSON_Delete(j);
    }

    /* config: invalid configuration names the field. */
    sp_gateway *bad = NULL;
    sp_status st = sp_gateway_new_from_json(
        "{\"providers\":{\"p\":{\"kind\":\"openai\",\"api_kye\":\"x\"}}}", &bad);
    CHECK(st == SP_CONFIG && bad == NULL, "config typo: %s", sp_status_name(st));
    CHECK(sp_last_error() && strstr(sp_last_error()->message, "api_key") != NULL,
          "config message suggests the right field: %s",
          sp_last_error() ? sp_last_error()->message : "(none)");

    /* A success clears the thread's last error. */
    mock_reset(&mock);
    char *out = NULL;
    CHECK(sp_chat(gw, "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                  NULL, &out) == SP_OK,
          "plain chat");
    CHECK(sp_last_error() == NULL, "last error not cleared by a success");
    sp_string_free(out);

    /* Every status number has its documented, stable name. */
    const char *names[] = {"ok", "auth", "permission_denied", "not_found", "rate_limited",
                           "timeout", "connection", "bad_request", "context_window_exceeded",
                           "content_filtered", "unavailable", "invalid_response",
                           "budget_exceeded", "rate_limit_exceeded", "policy_denied", "config",
                           "cancelled", "internal"};
    for (int i = 0; i <= 17; i++)
        CHECK(strcmp(sp_status_name(i), names[i]) == 0, "status %d is %s", i, sp_status_name(i));
    CHECK(strcmp(sp_status_name(SP_INVALID_ARGUMENT), "invalid_argument") == 0, "100");
    CHECK(strcmp(sp_status_name(SP_PANIC), "panic") == 0, "101");
    CHECK(strcmp(sp_status_name(55), "unknown") == 0, "55");
    CHECK(SP_BUDGET_EXCEEDED == 12 && SP_RATE_LIMIT_EXCEEDED == 13 && SP_POLICY_DENIED == 14 &&
              SP_CONFIG == 15 && SP_CANCELLED == 16 && SP_INTERNAL == 17 &&
              SP_INVALID_ARGUMENT == 100 && SP_PANIC == 101,
          "stable numbers");
}

/* The last error is per thread: another thread's failure is not visible here. */
static void *fail_once(void *p) {
    (void)p;
    char *out = NULL;
    sp_chat(NULL, "{}", NULL, &out);
    static int yes = 1, no = 0;
    return sp_last_error() != NULL ? &yes : &no;
}

static void test_last_error_is_thread_local(void) {
    char *v = NULL;
    CHECK(sp_stream_facts(NULL, &v) == SP_INVALID_ARGUMENT, "facts of NULL");
    const sp_error *mine = sp_last_error();
    pthread_t t;
    void *other_saw = NULL;
    pthread_create(&t, NULL, fail_once, NULL);
    pthread_join(t, &other_saw);
    CHECK(other_saw && *(int *)other_saw == 1, "the other thread saw its own error");
    CHECK(sp_last_error() == mine && strcmp(mine->message, "`stream` is NULL") == 0,
          "this thread's error is untouched: %s", sp_last_error()->message);
}

/* ---------- NULL and malformed inputs ---------- */

static void expect_error(sp_status st, sp_status want, const char *kind, const char *param,
                         const char *msg_part, const char *what) {
    const sp_error *e = sp_last_error();
    CHECK(st == want, "%s: status %s", what, sp_status_name(st));
    CHECK(e && strcmp(e->kind, kind) == 0, "%s: kind %s", what, e ? e->kind : "(none)");
    if (param)
        CHECK(e && e->param && strcmp(e->param, param) == 0, "%s: param %s", what,
              e && e->param ? e->param : "(null)");
    if (msg_part)
        CHECK(e && strstr(e->message, msg_part) != NULL, "%s: message '%s' lacks '%s'", what,
              e ? e->message : "", msg_part);
}

static void test_bad_inputs(const sp_gateway *gw) {
    const char *ok_req = "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
    char *out = NULL;
    sp_gateway *g = NULL;
    sp_stream *s = NULL;

    expect_error(sp_chat(NULL, ok_req, NULL, &out), SP_INVALID_ARGUMENT, "invalid_argument", NULL,
                 "`gw` is NULL", "NULL gateway");
    expect_error(sp_chat(gw, NULL, NULL, &out), SP_INVALID_ARGUMENT, "invalid_argument", NULL,
                 "`request_json` is NULL", "NULL request");
    expect_error(sp_chat(gw, ok_req, NULL, NULL), SP_INVALID_ARGUMENT, "invalid_argument", NULL,
                 "`out_response_json` (out-parameter) is NULL", "NULL out");
    expect_error(sp_embed(gw, NULL, NULL, &out), SP_INVALID_ARGUMENT, "invalid_argument", NULL,
                 "`request_json` is NULL", "embed NULL request");
    expect_error(sp_gateway_new_from_json(NULL, &g), SP_INVALID_ARGUMENT, "invalid_argument",
                 NULL, "`json` is NULL", "NULL config");
    expect_error(sp_gateway_new_from_yaml("providers: {}", NULL), SP_INVALID_ARGUMENT,
                 "invalid_argument", NULL, "`out`", "NULL gateway out");
    expect_error(sp_gateway_new_from_file(NULL, &g), SP_INVALID_ARGUMENT, "invalid_argument",
                 NULL, "`path` is NULL", "NULL path");
    expect_error(sp_chat_stream(gw, ok_req, NULL, NULL, NULL, NULL), SP_INVALID_ARGUMENT,
                 "invalid_argument", NULL, "`on_chunk` is NULL", "NULL callback");
    expect_error(sp_chat_async(gw, ok_req, NULL, NULL, NULL), SP_INVALID_ARGUMENT,
                 "invalid_argument", NULL, "`on_done` is NULL", "NULL completion");
    expect_error(sp_stream_open(gw, ok_req, NULL, NULL), SP_INVALID_ARGUMENT, "invalid_argument",
                 NULL, "`out_stream`", "NULL stream out");
    expect_error(sp_stream_next(NULL, &out), SP_INVALID_ARGUMENT, "invalid_argument", NULL,
                 "`stream` is NULL", "next on NULL");

    /* Invalid UTF-8 anywhere is an argument error naming the argument. */
    const char bad_utf8[] = "{\"model\":\"gpt\xff\xfe\",\"messages\":[]}";
    expect_error(sp_chat(gw, bad_utf8, NULL, &out), SP_INVALID_ARGUMENT, "invalid_argument",
                 NULL, "`request_json` is not valid UTF-8", "bad UTF-8 request");
    expect_error(sp_chat(gw, ok_req, "{\"user\":\"\xc3\x28\"}", &out), SP_INVALID_ARGUMENT,
                 "invalid_argument", NULL, "`context_json` is not valid UTF-8", "bad UTF-8 ctx");
    expect_error(sp_gateway_new_from_yaml("x: \"\xff\"", &g), SP_INVALID_ARGUMENT,
                 "invalid_argument", NULL, "`yaml` is not valid UTF-8", "bad UTF-8 config");

    /* Text that is not JSON, or JSON of the wrong shape, is bad_request naming the field. */
    expect_error(sp_chat(gw, "{not json", NULL, &out), SP_BAD_REQUEST, "bad_request", NULL,
                 "key must be a string", "not JSON");
    expect_error(sp_chat(gw, "", NULL, &out), SP_BAD_REQUEST, "bad_request", NULL, NULL,
                 "empty request");
    expect_error(sp_chat(gw, "[1,2]", NULL, &out), SP_BAD_REQUEST, "bad_request", NULL, NULL,
                 "array request");
    expect_error(sp_chat(gw,
                         "{\"model\":\"gpt\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}",
                         NULL, &out),
                 SP_BAD_REQUEST, "bad_request", "messages[0].role", NULL, "wrong role");
    expect_error(sp_chat(gw, "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":1}]}",
                         NULL, &out),
                 SP_BAD_REQUEST, "bad_request", "messages[0].content", NULL, "number content");
    expect_error(sp_chat(gw, ok_req, "{\"timeout\":\"soon\"}", &out), SP_BAD_REQUEST,
                 "bad_request", "timeout", NULL, "bad context field");
    expect_error(sp_chat(gw, ok_req, "{\"usr\":\"x\"}", &out), SP_BAD_REQUEST, "bad_request",
                 NULL, "usr", "unknown context field");
    expect_error(sp_stream_open(gw, "{\"model\":1}", NULL, &s), SP_BAD_REQUEST, "bad_request",
                 "model", NULL, "pull stream bad request");
    CHECK(s == NULL, "stream out stays NULL on failure");
    expect_error(sp_embed(gw, "{\"model\":\"embed\"}", NULL, &out), SP_BAD_REQUEST,
                 "bad_request", NULL, "input", "embed without input");

    /* Config errors. */
    expect_error(sp_gateway_new_from_json("providers: {}", &g), SP_CONFIG, "config", NULL,
                 "JSON object", "YAML given as JSON");
    expect_error(sp_gateway_new_from_json("{\"providers\": [}", &g), SP_CONFIG, "config", NULL,
                 NULL, "broken JSON config");
    expect_error(sp_gateway_new_from_yaml("providers:\n  - : :\n bad", &g), SP_CONFIG, "config",
                 NULL, NULL, "broken YAML config");
    expect_error(sp_gateway_new_from_file("/nonexistent/switchpoint.yaml", &g), SP_CONFIG,
                 "config", NULL, "/nonexistent/switchpoint.yaml", "missing file");
    CHECK(g == NULL, "gateway out stays NULL on failure");

    /* NULL is fine for every free function. */
    sp_string_free(NULL);
    sp_gateway_free(NULL);
    sp_stream_close(NULL);
    CHECK(1, "free functions accept NULL");

    /* A YAML config and the zero-config gateway work too. */
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "providers:\n  oai:\n    kind: openai\n    base_url: %s/v1\n    api_key: k\n"
             "models:\n  m:\n    provider: oai\n    model: gpt-4o-mini\n",
             mock.url);
    CHECK(sp_gateway_new_from_yaml(yaml, &g) == SP_OK, "YAML config: %s",
          sp_last_error() ? sp_last_error()->message : "");
    CHECK(sp_chat(g, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"yaml\"}]}",
                  NULL, &out) == SP_OK,
          "chat through a YAML gateway");
    sp_string_free(out);
    out = NULL;
    sp_gateway_free(g);
    g = NULL;
    CHECK(sp_gateway_new_from_env(&g) == SP_OK && g != NULL, "zero-config gateway");
    sp_gateway_free(g);
}

/* ---------- callbacks: threads and what may be called inside them ---------- */

typedef struct {
    const sp_gateway *gw;
    sp_status nested;
    pthread_t caller;
    int on_caller_thread;
    int chunks;
} nested_probe;

static int call_blocking_inside(void *ud, const char *chunk) {
    (void)chunk;
    nested_probe *p = ud;
    if (p->chunks++ == 0) {
        char *out = NULL;
        p->nested = sp_chat(p->gw,
                            "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                            NULL, &out);
        p->on_caller_thread = pthread_equal(pthread_self(), p->caller);
        sp_string_free(out);
    }
    return 0;
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int remaining;
    int ok;
    sp_status nested;
    int on_worker_thread;
    pthread_t caller;
} async_batch;

static void batch_done(void *ud, sp_status st, const char *resp, const sp_error *err) {
    async_batch *b = ud;
    char *out = NULL;
    sp_status nested = sp_embed(NULL, "{}", NULL, &out); /* blocking: refused here */
    pthread_mutex_lock(&b->mu);
    if (st == SP_OK && resp && err == NULL && strstr(resp, "\"chat.completion\"")) b->ok++;
    b->nested = nested;
    b->on_worker_thread = !pthread_equal(pthread_self(), b->caller);
    if (--b->remaining == 0) pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void test_callbacks(const sp_gateway *gw) {
    mock_reset(&mock);
    nested_probe p = {gw, SP_OK, pthread_self(), 0, 0};
    sp_status st = sp_chat_stream(gw, LONG_REQ, NULL, call_blocking_inside, &p, NULL);
    CHECK(st == SP_OK, "stream with a nested call: %s", sp_status_name(st));
    CHECK(p.nested == SP_INVALID_ARGUMENT, "blocking sp_chat inside a callback gave %s",
          sp_status_name(p.nested));
    CHECK(p.on_caller_thread, "sp_chat_stream's callback ran on another thread");

    enum { IN_FLIGHT = 16 };
    async_batch b = {.remaining = IN_FLIGHT, .caller = pthread_self()};
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    for (int i = 0; i < IN_FLIGHT; i++) {
        char req[200];
        snprintf(req, sizeof req,
                 "{\"model\":\"sonnet\",\"messages\":[{\"role\":\"user\",\"content\":\"async %d\"}]}",
                 i);
        CHECK(sp_chat_async(gw, req, NULL, batch_done, &b) == SP_OK, "async start %d", i);
    }
    pthread_mutex_lock(&b.mu);
    while (b.remaining > 0) pthread_cond_wait(&b.cv, &b.mu);
    pthread_mutex_unlock(&b.mu);
    CHECK(b.ok == IN_FLIGHT, "%d of %d async calls succeeded", b.ok, IN_FLIGHT);
    CHECK(b.nested == SP_INVALID_ARGUMENT, "blocking call in a completion callback gave %s",
          sp_status_name(b.nested));
    CHECK(b.on_worker_thread, "completion callback ran on the caller's thread");
    pthread_mutex_destroy(&b.mu);
    pthread_cond_destroy(&b.cv);

    /* A rejected async call never calls back and reports synchronously. */
    CHECK(sp_chat_async(gw, "{\"model\":\"gpt\"}", NULL, batch_done, NULL) == SP_BAD_REQUEST,
          "async with a bad request");
}

/* A gateway freed while an async call runs: the call still completes. */
static void test_free_while_running(void) {
    sp_gateway *gw = new_gateway();
    mock_reset(&mock);
    mock_push_script(&mock, "[{\"delay_ms\":200}]");
    async_batch b = {.remaining = 1, .caller = pthread_self()};
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    CHECK(sp_chat_async(gw, "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"late\"}]}",
                        NULL, batch_done, &b) == SP_OK,
          "async start");
    sp_gateway_free(gw);
    pthread_mutex_lock(&b.mu);
    while (b.remaining > 0) pthread_cond_wait(&b.cv, &b.mu);
    pthread_mutex_unlock(&b.mu);
    CHECK(b.ok == 1, "call outlived its gateway handle");
    pthread_mutex_destroy(&b.mu);
    pthread_cond_destroy(&b.cv);
}

static void test_embed(const sp_gateway *gw) {
    mock_reset(&mock);
    char *out = NULL;
    sp_status st = sp_embed(gw, "{\"model\":\"embed\",\"input\":[\"a\",\"b c\"],\"dimensions\":4}",
                            "{\"tags\":[\"t\"]}", &out);
    CHECK(st == SP_OK, "embed: %s", sp_status_name(st));
    cJSON *r = cJSON_Parse(out);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(r, "data");
    CHECK(cJSON_GetArraySize(data) == 2, "two embeddings");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(data, 1),
                                                              "embedding")) == 4,
          "four dimensions");
    CHECK(str_at(r, "switchpoint", -1, "provider", NULL) &&
              strcmp(str_at(r, "switchpoint", -1, "provider", NULL), "oai") == 0,
          "facts on embeddings: %s", out);
    cJSON_Delete(r);
    sp_string_free(out);
}

/* A route whose first target fails: the answer lists both attempts, and sp_gateway_health
 * reports the failing target's failure and the healthy backup. */
static void test_health(void) {
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"providers\":{\"oai\":{\"kind\":\"openai\",\"base_url\":\"%s/v1\",\"api_key\":\"k\"}},"
             "\"routes\":{\"r\":{\"strategy\":\"priority\",\"targets\":["
             "{\"provider\":\"oai\",\"model\":\"primary!status=503\"},"
             "{\"provider\":\"oai\",\"model\":\"backup\"}]}}}",
             mock.url);
    sp_gateway *gw = NULL;
    CHECK(sp_gateway_new_from_json(cfg, &gw) == SP_OK, "route config: %s", sp_last_error()->message);
    if (!gw) return;
    char *out = NULL;
    sp_status st = sp_chat(gw, "{\"model\":\"r\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                           NULL, &out);
    CHECK(st == SP_OK, "failover: %s", sp_status_name(st));
    cJSON *r = cJSON_Parse(out);
    const cJSON *attempts =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "switchpoint"), "attempts");
    CHECK(cJSON_GetArraySize(attempts) == 2, "two attempts: %s", out);
    CHECK(str_at(r, "switchpoint", -1, "provider_model", NULL) &&
              strcmp(str_at(r, "switchpoint", -1, "provider_model", NULL), "backup") == 0,
          "served by the backup: %s", out);
    cJSON_Delete(r);
    sp_string_free(out);

    char *health = NULL;
    CHECK(sp_gateway_health(gw, &health) == SP_OK, "health");
    cJSON *h = cJSON_Parse(health);
    CHECK(cJSON_GetArraySize(h) == 2, "two targets: %s", health);
    const cJSON *t;
    cJSON_ArrayForEach(t, h) {
        const char *model = cJSON_GetObjectItemCaseSensitive(t, "model")->valuestring;
        const cJSON *failures = cJSON_GetObjectItemCaseSensitive(t, "failures");
        const char *state = cJSON_GetObjectItemCaseSensitive(t, "state")->valuestring;
        if (strcmp(model, "backup") == 0) {
            CHECK(failures->valuedouble == 0 && strcmp(state, "healthy") == 0, "backup healthy: %s", health);
        } else {
            CHECK(failures->valuedouble == 1, "primary failed once: %s", health);
        }
    }
    cJSON_Delete(h);
    sp_string_free(health);
    CHECK(sp_gateway_health(NULL, &health) == SP_INVALID_ARGUMENT, "NULL gateway");
    sp_gateway_free(gw);
}

/* The Responses API beyond the scenarios: a stream stopped by its callback and a pull stream
 * closed early both close the upstream; the first pull event is response.created; NULL and
 * malformed arguments are refused. The gateway here is native to OpenAI's /responses. */
static void test_responses(void) {
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"providers\":{\"oai\":{\"kind\":\"openai\",\"base_url\":\"%s/v1\","
             "\"api_key\":\"sk-test\",\"responses\":\"native\"}},"
             "\"models\":{\"gpt\":{\"provider\":\"oai\",\"model\":\"gpt-4o\"}}}",
             mock.url);
    sp_gateway *gw = NULL;
    CHECK(sp_gateway_new_from_json(cfg, &gw) == SP_OK, "responses config");
    if (!gw) return;
    const char *req =
        "{\"model\":\"gpt\",\"input\":\"one two three four five six seven eight nine ten\"}";

    char *out = NULL;
    mock_reset(&mock);
    CHECK(sp_responses(gw, req, "{\"user\":\"u-c\"}", &out) == SP_OK, "sp_responses");
    cJSON *r = cJSON_Parse(out);
    CHECK(str_at(r, "object", -1, NULL, NULL) && strcmp(str_at(r, "object", -1, NULL, NULL), "response") == 0,
          "object: %s", out);
    CHECK(str_at(r, "output", 0, "type", NULL) && strcmp(str_at(r, "output", 0, "type", NULL), "message") == 0,
          "output[0]: %s", out);
    CHECK(str_at(r, "switchpoint", -1, "provider", NULL) &&
              strcmp(str_at(r, "switchpoint", -1, "provider", NULL), "oai") == 0,
          "facts: %s", out);
    cJSON_Delete(r);
    sp_string_free(out);

    mock_reset(&mock);
    mock_push_script(&mock, "[{\"chunk_delay_ms\":100}]");
    int seen = 0;
    char *facts = NULL;
    sp_status st = sp_responses_stream(gw, req, NULL, stop_after_two, &seen, &facts);
    CHECK(st == SP_CANCELLED, "stopped Responses stream returned %s", sp_status_name(st));
    CHECK(seen == 2, "callback saw %d events after asking to stop at 2", seen);
    CHECK(facts != NULL && strstr(facts, "\"provider\":\"oai\"") != NULL, "facts: %s",
          facts ? facts : "(null)");
    sp_string_free(facts);
    CHECK(upstream_closed_early(), "stopping a Responses stream did not close the upstream");

    mock_reset(&mock);
    mock_push_script(&mock, "[{\"chunk_delay_ms\":100}]");
    sp_stream *s = NULL;
    CHECK(sp_responses_stream_open(gw, req, NULL, &s) == SP_OK, "open a Responses stream");
    char *event = NULL;
    CHECK(s && sp_stream_next(s, &event) == SP_OK && event != NULL, "first event");
    cJSON *e = cJSON_Parse(event);
    CHECK(str_at(e, "type", -1, NULL, NULL) && strcmp(str_at(e, "type", -1, NULL, NULL), "response.created") == 0,
          "first event: %s", event ? event : "(null)");
    cJSON_Delete(e);
    sp_string_free(event);
    sp_stream_close(s);
    CHECK(upstream_closed_early(), "closing a Responses pull stream did not close the upstream");

    expect_error(sp_responses(gw, NULL, NULL, &out), SP_INVALID_ARGUMENT, "invalid_argument",
                 NULL, "`request_json` is NULL", "NULL request");
    expect_error(sp_responses(gw, req, NULL, NULL), SP_INVALID_ARGUMENT, "invalid_argument", NULL,
                 "`out_response_json` (out-parameter) is NULL", "NULL out");
    expect_error(sp_responses(gw, "{\"model\":\"gpt\"}", NULL, &out), SP_BAD_REQUEST,
                 "bad_request", "input", NULL, "no input");
    expect_error(sp_responses_stream(gw, req, NULL, NULL, NULL, NULL), SP_INVALID_ARGUMENT,
                 "invalid_argument", NULL, "`on_event` is NULL", "NULL on_event");
    expect_error(sp_responses_stream_open(gw, "{\"model\":1}", NULL, &s), SP_BAD_REQUEST,
                 "bad_request", "model", NULL, "model is not a string");
    sp_gateway_free(gw);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MOCK_PROVIDER_BINARY SCENARIO_DIR [quick]\n", argv[0]);
        return 2;
    }
    if (mock_start(&mock, argv[1]) != 0) {
        fprintf(stderr, "cannot start the mock provider %s\n", argv[1]);
        return 2;
    }
    printf("switchpoint %s, mock at %s\n", sp_version(), mock.url);
    make_config();
    sp_gateway *gw = new_gateway();

    test_scenarios(argv[2]);
    test_threads();
    test_stream_stopped_by_callback(gw);
    test_pull_stream_closed_early(gw);
    test_pull_stream_to_the_end(gw);
    test_responses();
    test_every_error_kind(gw);
    test_last_error_is_thread_local();
    test_bad_inputs(gw);
    test_callbacks(gw);
    test_free_while_running();
    test_embed(gw);
    test_health();
    test_telemetry(&mock);
    test_policy(&mock);

    sp_gateway_free(gw);
    mock_stop(&mock);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
