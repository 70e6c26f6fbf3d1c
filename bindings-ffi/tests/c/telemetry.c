/* Tests of the telemetry calls: Prometheus text with exact counter values, usage queries,
 * record callbacks (fields, user_data, threads, removal, flush), and the cache controls
 * carried by the context JSON. */
#define _POSIX_C_SOURCE 200809L
#include "telemetry.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "switchpoint.h"

static const mock_provider *mock;

/* One provider, two priced models (2 and 3 USD per 1M tokens in and out), exact cache on. */
static sp_gateway *priced_gateway(void) {
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"providers\":{\"oai\":{\"kind\":\"openai\",\"base_url\":\"%s/v1\","
             "\"api_key\":\"sk-test\"}},"
             "\"models\":{\"house\":{\"provider\":\"oai\",\"model\":\"house-model\"}},"
             "\"pricing\":{\"oai\":{\"house-model\":{\"input\":\"2\",\"output\":\"3\"}}},"
             "\"cache\":{\"enabled\":true,\"ttl\":\"1h\"}}",
             mock->url);
    sp_gateway *gw = NULL;
    if (sp_gateway_new_from_json(cfg, &gw) != SP_OK) {
        printf("cannot create the priced gateway: %s\n", sp_last_error()->message);
        exit(2);
    }
    return gw;
}

static const char *REQ4 =
    "{\"model\":\"house\",\"messages\":[{\"role\":\"user\",\"content\":\"alpha beta gamma delta\"}]}";
static const char *STREAM2 =
    "{\"model\":\"house\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
    "\"messages\":[{\"role\":\"user\",\"content\":\"alpha beta\"}]}";
static const char *U1 = "{\"user\":\"u1\",\"team\":\"a\",\"tags\":[\"faq\"]}";

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The facts' "cache" of a chat answer (copied into `buf`), or "" on failure. */
static const char *chat_cache(const sp_gateway *gw, const char *req, const char *ctx, char *buf,
                              size_t n) {
    char *out = NULL;
    buf[0] = '\0';
    if (sp_chat(gw, req, ctx, &out) == SP_OK) {
        cJSON *r = cJSON_Parse(out);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(r, "switchpoint"), "cache");
        snprintf(buf, n, "%s", cJSON_IsString(c) ? c->valuestring : "(none)");
        cJSON_Delete(r);
    }
    sp_string_free(out);
    return buf;
}

static int count_chunk(void *user_data, const char *chunk_json) {
    (void)chunk_json;
    (*(int *)user_data)++;
    return 0;
}

/* The four calls the metrics, usage and observer tests count: u1 asks (a miss, 4 + 4
 * tokens, 0.00002 USD), asks again (a hit that saves 0.00002), u2 is refused by the provider
 * (400), u1 streams (2 + 2 tokens, 0.00001 USD). Returns the first answer's id (malloc'd). */
static char *four_calls(const sp_gateway *gw) {
    char buf[32], *id = NULL, *out = NULL;
    mock_reset(mock);
    CHECK(sp_chat(gw, REQ4, U1, &out) == SP_OK, "first call");
    cJSON *r = cJSON_Parse(out);
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "id");
    id = strdup(cJSON_IsString(rid) ? rid->valuestring : "");
    cJSON_Delete(r);
    sp_string_free(out);
    CHECK(strcmp(chat_cache(gw, REQ4, U1, buf, sizeof buf), "hit") == 0, "second call: %s", buf);
    mock_reset(mock);
    mock_push_script(mock, "[{\"status\":400}]");
    out = NULL;
    CHECK(sp_chat(gw, "{\"model\":\"house\",\"messages\":[{\"role\":\"user\",\"content\":\"no\"}]}",
                  "{\"user\":\"u2\"}", &out) == SP_BAD_REQUEST,
          "refused call");
    mock_reset(mock);
    int chunks = 0;
    CHECK(sp_chat_stream(gw, STREAM2, U1, count_chunk, &chunks, NULL) == SP_OK && chunks >= 3,
          "streamed call: %d chunks", chunks);
    return id;
}

/* ---------- Prometheus text ---------- */

/* The value of the one sample of `metric` whose line holds every label in `labels`
 * (NULL-terminated), copied into `val`; 0 when there is not exactly one such line. */
static int sample(const char *text, const char *metric, const char *const *labels, char *val,
                  size_t n) {
    int found = 0;
    size_t mlen = strlen(metric);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > mlen && strncmp(line, metric, mlen) == 0 && (line[mlen] == '{' || line[mlen] == ' ')) {
            int all = 1;
            for (const char *const *l = labels; *l && all; l++) {
                const char *hit = strstr(line, *l);
                all = hit != NULL && hit < line + len;
            }
            if (all) {
                const char *sp = line + len;
                while (sp > line && sp[-1] != ' ') sp--;
                snprintf(val, n, "%.*s", (int)(line + len - sp), sp);
                found++;
            }
        }
        line = end ? end + 1 : NULL;
    }
    return found == 1;
}

#define EXPECT_SAMPLE(text, metric, want, ...)                                            \
    do {                                                                                  \
        const char *const labels_[] = {__VA_ARGS__, NULL};                                \
        char v_[64] = "";                                                                 \
        int one_ = sample(text, metric, labels_, v_, sizeof v_);                          \
        CHECK(one_ && strcmp(v_, want) == 0, "%s{%s...} = '%s' (%s), want %s", metric,   \
              labels_[0], v_, one_ ? "one line" : "not exactly one line", want);          \
    } while (0)

static void test_metrics_text(void) {
    sp_gateway *gw = priced_gateway();
    char *text = NULL;
    CHECK(sp_gateway_metrics_text(gw, &text) == SP_OK && text, "metrics of a new gateway");
    CHECK(text && strstr(text, "switchpoint_requests_total{") == NULL,
          "no request series before any request");
    sp_string_free(text);

    free(four_calls(gw));
    /* No flush: metrics_text itself waits for the records of calls that returned. */
    text = NULL;
    CHECK(sp_gateway_metrics_text(gw, &text) == SP_OK && text, "metrics text");
    if (!text) {
        sp_gateway_free(gw);
        return;
    }
    CHECK(strstr(text, "# TYPE switchpoint_requests_total counter\n") != NULL, "TYPE line");
    CHECK(strstr(text, "# TYPE switchpoint_request_duration_seconds histogram\n") != NULL,
          "histogram TYPE line");
    const char *u1 = "user=\"u1\"";
    EXPECT_SAMPLE(text, "switchpoint_requests_total", "1",
                  "route=\"house\",provider=\"oai\",model=\"house\",user=\"u1\",team=\"a\","
                  "tag=\"faq\",status=\"ok\",cache=\"hit\"");
    EXPECT_SAMPLE(text, "switchpoint_requests_total", "2",
                  "route=\"house\",provider=\"oai\",model=\"house\",user=\"u1\",team=\"a\","
                  "tag=\"faq\",status=\"ok\",cache=\"miss\"");
    EXPECT_SAMPLE(text, "switchpoint_requests_total", "1", "user=\"u2\"",
                  "status=\"bad_request\"", "cache=\"miss\"");
    EXPECT_SAMPLE(text, "switchpoint_errors_total", "1", "user=\"u2\"", "kind=\"bad_request\"");
    EXPECT_SAMPLE(text, "switchpoint_tokens_total", "6", u1, "type=\"prompt\"");
    EXPECT_SAMPLE(text, "switchpoint_tokens_total", "6", u1, "type=\"completion\"");
    EXPECT_SAMPLE(text, "switchpoint_cost_usd_total", "0.00003", u1, "tag=\"faq\"");
    EXPECT_SAMPLE(text, "switchpoint_cache_saved_usd_total", "0.00002", u1);
    EXPECT_SAMPLE(text, "switchpoint_request_duration_seconds_count", "3", "status=\"ok\"");
    EXPECT_SAMPLE(text, "switchpoint_request_duration_seconds_count", "1",
                  "status=\"bad_request\"");
    EXPECT_SAMPLE(text, "switchpoint_request_duration_seconds_bucket", "3", "status=\"ok\"",
                  "le=\"+Inf\"");
    EXPECT_SAMPLE(text, "switchpoint_time_to_first_token_seconds_count", "1",
                  "route=\"house\"");
    EXPECT_SAMPLE(text, "switchpoint_telemetry_dropped_total", "0", " ");
    EXPECT_SAMPLE(text, "switchpoint_telemetry_observer_panics_total", "0", " ");
    sp_string_free(text);

    char *out = (char *)"sentinel";
    CHECK(sp_gateway_metrics_text(NULL, &out) == SP_INVALID_ARGUMENT && out == NULL,
          "NULL gateway");
    CHECK(strstr(sp_last_error()->message, "`gw` is NULL") != NULL, "%s",
          sp_last_error()->message);
    CHECK(sp_gateway_metrics_text(gw, NULL) == SP_INVALID_ARGUMENT, "NULL out");
    CHECK(strstr(sp_last_error()->message, "`out` (out-parameter) is NULL") != NULL, "%s",
          sp_last_error()->message);

    /* ---------- usage on the same four calls ---------- */
    char *rows = NULL;
    CHECK(sp_gateway_usage(gw, 0, NULL, &rows) == SP_OK, "usage total");
    cJSON *j = cJSON_Parse(rows);
    cJSON *want = cJSON_Parse(
        "[{\"group\":null,\"requests\":4,\"errors\":1,\"cache_hits\":1,\"prompt_tokens\":6,"
        "\"completion_tokens\":6,\"cached_tokens\":0,\"reasoning_tokens\":0,"
        "\"cost_usd\":\"0.00003\",\"saved_usd\":\"0.00002\"}]");
    CHECK(cJSON_Compare(j, want, 1), "usage total row: %s", rows);
    cJSON_Delete(want);
    cJSON_Delete(j);
    sp_string_free(rows);

    rows = NULL;
    CHECK(sp_gateway_usage(gw, 0, "user", &rows) == SP_OK, "usage by user");
    j = cJSON_Parse(rows);
    CHECK(cJSON_GetArraySize(j) == 2, "two users: %s", rows);
    const cJSON *first = cJSON_GetArrayItem(j, 0), *second = cJSON_GetArrayItem(j, 1);
    const cJSON *g0 = cJSON_GetObjectItemCaseSensitive(first, "group");
    const cJSON *g1 = cJSON_GetObjectItemCaseSensitive(second, "group");
    CHECK(cJSON_IsString(g0) && strcmp(g0->valuestring, "u1") == 0 && cJSON_IsString(g1) &&
              strcmp(g1->valuestring, "u2") == 0,
          "most expensive first: %s", rows);
    CHECK(cJSON_GetObjectItemCaseSensitive(second, "errors")->valuedouble == 1 &&
              strcmp(cJSON_GetObjectItemCaseSensitive(second, "cost_usd")->valuestring, "0") == 0,
          "u2's row: %s", rows);
    cJSON_Delete(j);
    sp_string_free(rows);

    rows = NULL;
    CHECK(sp_gateway_usage(gw, 4102444800.0, "team", &rows) == SP_OK && rows &&
              strcmp(rows, "[]") == 0,
          "since the year 2100: %s", rows ? rows : "(null)");
    sp_string_free(rows);
    rows = NULL;
    CHECK(sp_gateway_usage(gw, (double)time(NULL) - 3600, "total", &rows) == SP_OK && rows &&
              strstr(rows, "\"requests\":4") != NULL,
          "since an hour ago: %s", rows ? rows : "(null)");
    sp_string_free(rows);

    /* A bad group_by is the core's bad_request, naming the parameter and the choices. */
    rows = (char *)"sentinel";
    sp_status st = sp_gateway_usage(gw, 0, "users", &rows);
    const sp_error *e = sp_last_error();
    CHECK(st == SP_BAD_REQUEST && rows == NULL, "bad group_by: %s", sp_status_name(st));
    CHECK(e && strcmp(e->kind, "bad_request") == 0 && e->param &&
              strcmp(e->param, "group_by") == 0,
          "bad group_by param: %s", e && e->param ? e->param : "(null)");
    CHECK(e && strcmp(e->message,
                      "group_by: unknown grouping `users`; allowed: total, user, team, model, "
                      "route, provider, tag, key") == 0,
          "bad group_by message: %s", e ? e->message : "");
    CHECK(e && strstr(e->json, "\"param\":\"group_by\"") != NULL, "error json: %s",
          e ? e->json : "");
    CHECK(sp_gateway_usage(gw, NAN, NULL, &rows) == SP_INVALID_ARGUMENT,
          "NaN since: %s", sp_last_error()->message);
    CHECK(sp_gateway_usage(NULL, 0, NULL, &rows) == SP_INVALID_ARGUMENT, "usage NULL gateway");
    CHECK(sp_gateway_usage(gw, 0, NULL, NULL) == SP_INVALID_ARGUMENT, "usage NULL out");
    CHECK(strstr(sp_last_error()->message, "`out_json`") != NULL, "%s",
          sp_last_error()->message);
    const char bad_utf8[] = "us\xff";
    CHECK(sp_gateway_usage(gw, 0, bad_utf8, &rows) == SP_INVALID_ARGUMENT,
          "group_by not UTF-8");
    sp_gateway_free(gw);
}

/* ---------- record callbacks ---------- */

enum { MAX_RECORDS = 16 };

/* What a record callback saw; its user_data. */
typedef struct {
    pthread_mutex_t mu;
    const sp_gateway *gw;
    pthread_t caller;
    int count;
    int on_caller_thread;
    cJSON *records[MAX_RECORDS];
    sp_status nested_usage, nested_metrics, nested_flush, nested_health;
} seen_records;

static void seen_init(seen_records *s, const sp_gateway *gw) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->gw = gw;
    s->caller = pthread_self();
    s->nested_usage = s->nested_metrics = s->nested_flush = s->nested_health = SP_OK;
}

static int seen_count(seen_records *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->count;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void seen_free(seen_records *s) {
    for (int i = 0; i < MAX_RECORDS; i++) cJSON_Delete(s->records[i]);
    pthread_mutex_destroy(&s->mu);
}

static void on_record(void *user_data, const char *record_json) {
    seen_records *s = user_data;
    char *out = NULL;
    int first = seen_count(s) == 0;
    if (first) {
        /* Calls that wait for the telemetry thread are refused on it; plain data is fine. */
        s->nested_usage = sp_gateway_usage(s->gw, 0, NULL, &out);
        s->nested_metrics = sp_gateway_metrics_text(s->gw, &out);
        s->nested_flush = sp_gateway_flush_telemetry(s->gw, 1);
        s->nested_health = sp_gateway_health(s->gw, &out);
        sp_string_free(out);
    }
    pthread_mutex_lock(&s->mu);
    if (s->count < MAX_RECORDS) s->records[s->count] = cJSON_Parse(record_json);
    s->count++;
    if (pthread_equal(pthread_self(), s->caller)) s->on_caller_thread = 1;
    pthread_mutex_unlock(&s->mu);
}

static const char *field(const cJSON *rec, const char *a, const char *b) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(rec, a);
    if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsString(x) ? x->valuestring : "(absent)";
}

static double number(const cJSON *rec, const char *a, const char *b) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(rec, a);
    if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsNumber(x) ? x->valuedouble : -1;
}

#define EXPECT_FIELD(rec, a, b, want)                                                       \
    CHECK(strcmp(field(rec, a, b), want) == 0, "record %s.%s = %s, want %s", a, b ? b : "", \
          field(rec, a, b), want)

static void test_record_callback(void) {
    sp_gateway *gw = priced_gateway();
    seen_records s;
    seen_init(&s, gw);
    uint64_t id = 0;
    CHECK(sp_gateway_add_observer(gw, on_record, &s, &id) == SP_OK && id != 0, "add observer");
    char *first_id = four_calls(gw);
    CHECK(sp_gateway_flush_telemetry(gw, 5) == SP_OK, "flush: %s",
          sp_last_error() ? sp_last_error()->message : "");
    CHECK(seen_count(&s) == 4, "%d records for 4 calls", seen_count(&s));
    CHECK(!s.on_caller_thread, "record callback ran on the caller's thread");
    CHECK(s.nested_usage == SP_INVALID_ARGUMENT, "usage inside a record callback: %s",
          sp_status_name(s.nested_usage));
    CHECK(s.nested_metrics == SP_INVALID_ARGUMENT, "metrics inside: %s",
          sp_status_name(s.nested_metrics));
    CHECK(s.nested_flush == SP_INVALID_ARGUMENT, "flush inside: %s",
          sp_status_name(s.nested_flush));
    CHECK(s.nested_health == SP_OK, "health inside: %s", sp_status_name(s.nested_health));

    const cJSON *miss = s.records[0], *hit = s.records[1], *err = s.records[2],
                *stream = s.records[3];
    EXPECT_FIELD(miss, "id", NULL, first_id);
    EXPECT_FIELD(miss, "call", NULL, "chat");
    EXPECT_FIELD(miss, "model", NULL, "house");
    EXPECT_FIELD(miss, "route", NULL, "house");
    EXPECT_FIELD(miss, "provider", NULL, "oai");
    EXPECT_FIELD(miss, "provider_model", NULL, "house-model");
    EXPECT_FIELD(miss, "status", NULL, "ok");
    EXPECT_FIELD(miss, "caller", "user", "u1");
    EXPECT_FIELD(miss, "caller", "team", "a");
    EXPECT_FIELD(miss, "cache", "status", "miss");
    EXPECT_FIELD(miss, "cost", "total", "0.00002");
    EXPECT_FIELD(miss, "cost", "input", "0.000008");
    EXPECT_FIELD(miss, "cost", "output", "0.000012");
    CHECK(number(miss, "tokens", "prompt") == 4 && number(miss, "tokens", "completion") == 4,
          "miss tokens");
    CHECK(number(miss, "latency_ms", NULL) > 0, "latency_ms");
    CHECK(number(miss, "ended_at_ms", NULL) >= number(miss, "started_at_ms", NULL) &&
              number(miss, "started_at_ms", NULL) > 1.7e12,
          "timestamps");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(miss, "tags");
    CHECK(cJSON_GetArraySize(tags) == 1 &&
              strcmp(cJSON_GetArrayItem(tags, 0)->valuestring, "faq") == 0,
          "tags");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(miss, "attempts")) == 1,
          "one attempt");

    EXPECT_FIELD(hit, "cache", "status", "hit");
    EXPECT_FIELD(hit, "cache", "saved_usd", "0.00002");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(hit, "attempts")) == 0,
          "a hit makes no attempt");

    EXPECT_FIELD(err, "status", NULL, "error");
    EXPECT_FIELD(err, "error_kind", NULL, "bad_request");
    EXPECT_FIELD(err, "caller", "user", "u2");
    CHECK(cJSON_GetObjectItemCaseSensitive(err, "cost") == NULL, "an error has no cost");

    EXPECT_FIELD(stream, "call", NULL, "chat_stream");
    EXPECT_FIELD(stream, "cost", "total", "0.00001");
    CHECK(number(stream, "tokens", "prompt") == 2 && number(stream, "tokens", "completion") == 2,
          "stream tokens");
    CHECK(number(stream, "ttft_ms", NULL) >= 0, "stream ttft_ms");
    free(first_id);

    /* The callback's string is the full JSON: nothing secret in it. */
    for (int i = 0; i < 4; i++) {
        char *txt = cJSON_PrintUnformatted(s.records[i]);
        CHECK(txt && strstr(txt, "sk-test") == NULL, "record %d holds the api key", i);
        free(txt);
    }

    /* After removal nothing more arrives; a second removal is not_found. */
    CHECK(sp_gateway_remove_observer(gw, id) == SP_OK, "remove");
    char *out = NULL;
    mock_reset(mock);
    CHECK(sp_chat(gw, REQ4, "{\"user\":\"after\"}", &out) == SP_OK, "call after removal");
    sp_string_free(out);
    CHECK(sp_gateway_flush_telemetry(gw, 5) == SP_OK, "flush after removal");
    CHECK(seen_count(&s) == 4, "%d records after removal", seen_count(&s));
    sp_status st = sp_gateway_remove_observer(gw, id);
    CHECK(st == SP_NOT_FOUND && sp_last_error()->param &&
              strcmp(sp_last_error()->param, "id") == 0,
          "second removal: %s", sp_status_name(st));
    CHECK(sp_gateway_remove_observer(gw, 0) == SP_NOT_FOUND, "id 0");

    /* Ids belong to the handle that made them. */
    sp_gateway *other = priced_gateway();
    uint64_t other_id = 0;
    CHECK(sp_gateway_add_observer(other, on_record, &s, &other_id) == SP_OK && other_id != id,
          "ids are unique across gateways");
    CHECK(sp_gateway_remove_observer(gw, other_id) == SP_NOT_FOUND, "another handle's id");
    sp_gateway_free(other); /* removes its observer; nothing was delivered */
    CHECK(seen_count(&s) == 4, "nothing delivered by the other gateway");

    /* NULL arguments. */
    uint64_t x = 7;
    CHECK(sp_gateway_add_observer(NULL, on_record, &s, &x) == SP_INVALID_ARGUMENT && x == 0,
          "NULL gateway");
    CHECK(sp_gateway_add_observer(gw, NULL, &s, &x) == SP_INVALID_ARGUMENT &&
              strstr(sp_last_error()->message, "`on_record` is NULL") != NULL,
          "NULL function: %s", sp_last_error()->message);
    CHECK(sp_gateway_add_observer(gw, on_record, &s, NULL) == SP_INVALID_ARGUMENT &&
              strstr(sp_last_error()->message, "`out_id`") != NULL,
          "NULL out_id");
    CHECK(sp_gateway_remove_observer(NULL, id) == SP_INVALID_ARGUMENT, "remove on NULL");
    CHECK(sp_gateway_flush_telemetry(NULL, 1) == SP_INVALID_ARGUMENT, "flush NULL");
    CHECK(sp_gateway_flush_telemetry(gw, -1) == SP_INVALID_ARGUMENT, "negative timeout");
    CHECK(sp_gateway_flush_telemetry(gw, NAN) == SP_INVALID_ARGUMENT, "NaN timeout");
    sp_gateway_free(gw);
    seen_free(&s);
}

/* A callback that removes itself: called exactly once, the removal inside succeeds. */
typedef struct {
    const sp_gateway *gw;
    uint64_t id;
    int calls;
    sp_status removed;
} self_remover;

static void remove_me(void *user_data, const char *record_json) {
    (void)record_json;
    self_remover *r = user_data;
    r->calls++;
    r->removed = sp_gateway_remove_observer(r->gw, r->id);
}

/* A slow callback: signals that it started, sleeps, marks that it finished. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered;
    int finished;
    long sleep_ms;
} slow_cb;

static void slow_record(void *user_data, const char *record_json) {
    (void)record_json;
    slow_cb *c = user_data;
    pthread_mutex_lock(&c->mu);
    c->entered++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    sleep_ms(c->sleep_ms);
    pthread_mutex_lock(&c->mu);
    c->finished++;
    pthread_mutex_unlock(&c->mu);
}

static void test_removal_guarantees(void) {
    sp_gateway *gw = priced_gateway();
    char *out = NULL;

    self_remover r = {gw, 0, 0, SP_INTERNAL};
    CHECK(sp_gateway_add_observer(gw, remove_me, &r, &r.id) == SP_OK, "add self-remover");
    mock_reset(mock);
    for (int i = 0; i < 3; i++) {
        CHECK(sp_chat(gw, REQ4, NULL, &out) == SP_OK, "call %d", i);
        sp_string_free(out);
        out = NULL;
    }
    CHECK(sp_gateway_flush_telemetry(gw, 5) == SP_OK, "flush");
    CHECK(r.calls == 1 && r.removed == SP_OK, "self-removal: %d calls, removal %s", r.calls,
          sp_status_name(r.removed));

    /* Removal waits for a call in progress: once it returns, the callback has finished. */
    slow_cb c = {.sleep_ms = 300};
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    uint64_t id = 0;
    CHECK(sp_gateway_add_observer(gw, slow_record, &c, &id) == SP_OK, "add slow");
    CHECK(sp_chat(gw, REQ4, NULL, &out) == SP_OK, "call for the slow callback");
    sp_string_free(out);
    out = NULL;
    pthread_mutex_lock(&c.mu);
    while (!c.entered) pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    CHECK(sp_gateway_remove_observer(gw, id) == SP_OK, "remove while running");
    pthread_mutex_lock(&c.mu);
    CHECK(c.finished == 1, "removal returned while the callback still ran");
    pthread_mutex_unlock(&c.mu);

    /* flush_telemetry times out behind a slow callback, then succeeds. */
    c.entered = c.finished = 0;
    c.sleep_ms = 600;
    CHECK(sp_gateway_add_observer(gw, slow_record, &c, &id) == SP_OK, "add slow again");
    CHECK(sp_chat(gw, REQ4, NULL, &out) == SP_OK, "call");
    sp_string_free(out);
    out = NULL;
    sp_status st = sp_gateway_flush_telemetry(gw, 0.05);
    CHECK(st == SP_TIMEOUT && strcmp(sp_last_error()->kind, "timeout") == 0,
          "flush behind a slow callback: %s", sp_status_name(st));
    CHECK(sp_gateway_flush_telemetry(gw, 10) == SP_OK, "flush with time enough");
    pthread_mutex_lock(&c.mu);
    CHECK(c.finished == 1, "slow callback finished before the flush returned");
    pthread_mutex_unlock(&c.mu);

    /* Freeing the gateway removes its callbacks: a call still running when it was freed
     * is not delivered to `c` afterwards (c lives on the stack and is destroyed below). */
    c.entered = c.finished = 0;
    c.sleep_ms = 0;
    mock_reset(mock);
    mock_push_script(mock, "[{\"delay_ms\":200}]");
    char *async_out = NULL;
    sp_stream *s = NULL;
    CHECK(sp_stream_open(gw, STREAM2, NULL, &s) == SP_OK, "open a stream");
    sp_gateway_free(gw);
    while (sp_stream_next(s, &async_out) == SP_OK && async_out) sp_string_free(async_out);
    sp_stream_close(s);
    sleep_ms(100);
    pthread_mutex_lock(&c.mu);
    CHECK(c.entered == 0, "a freed gateway's callback was called %d times", c.entered);
    pthread_mutex_unlock(&c.mu);
    pthread_mutex_destroy(&c.mu);
    pthread_cond_destroy(&c.cv);
}

/* ---------- flush inside a completion callback ---------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    const sp_gateway *gw;
    sp_status nested_flush;
    sp_status nested_usage;
} flush_probe;

static void flush_inside(void *ud, sp_status st, const char *resp, const sp_error *err) {
    (void)st, (void)resp, (void)err;
    flush_probe *p = ud;
    char *rows = NULL;
    sp_status f = sp_gateway_flush_telemetry(p->gw, 1);
    sp_status u = sp_gateway_usage(p->gw, 0, NULL, &rows);
    sp_string_free(rows);
    pthread_mutex_lock(&p->mu);
    p->nested_flush = f;
    p->nested_usage = u;
    p->done = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void test_flush_in_completion_callback(void) {
    sp_gateway *gw = priced_gateway();
    flush_probe p = {.gw = gw, .nested_flush = SP_OK, .nested_usage = SP_INTERNAL};
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    mock_reset(mock);
    CHECK(sp_chat_async(gw, REQ4, NULL, flush_inside, &p) == SP_OK, "async start");
    pthread_mutex_lock(&p.mu);
    while (!p.done) pthread_cond_wait(&p.cv, &p.mu);
    pthread_mutex_unlock(&p.mu);
    CHECK(p.nested_flush == SP_INVALID_ARGUMENT, "flush in a completion callback: %s",
          sp_status_name(p.nested_flush));
    CHECK(p.nested_usage == SP_OK, "usage in a completion callback: %s",
          sp_status_name(p.nested_usage));
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    sp_gateway_free(gw);
}

/* ---------- cache controls in the context JSON ---------- */

static int upstream_calls(void) {
    char *text = mock_log(mock);
    cJSON *log = text ? cJSON_Parse(text) : NULL;
    free(text);
    int n = cJSON_GetArraySize(log);
    cJSON_Delete(log);
    return n;
}

static void test_cache_controls(void) {
    sp_gateway *gw = priced_gateway();
    const char *req =
        "{\"model\":\"house\",\"messages\":[{\"role\":\"user\",\"content\":\"cache me\"}]}";
    char buf[32];
    mock_reset(mock);
    const char *no_store = "{\"cache\":{\"no_store\":true}}";
    CHECK(strcmp(chat_cache(gw, req, no_store, buf, sizeof buf), "miss") == 0, "no_store 1: %s",
          buf);
    CHECK(strcmp(chat_cache(gw, req, no_store, buf, sizeof buf), "miss") == 0,
          "no_store kept nothing: %s", buf);
    CHECK(upstream_calls() == 2, "two upstream calls");
    CHECK(strcmp(chat_cache(gw, req, "{}", buf, sizeof buf), "miss") == 0, "stored: %s", buf);
    CHECK(strcmp(chat_cache(gw, req, NULL, buf, sizeof buf), "hit") == 0, "hit: %s", buf);
    CHECK(upstream_calls() == 3, "the hit made no upstream call");
    CHECK(strcmp(chat_cache(gw, req, "{\"cache\":{\"no_read\":true}}", buf, sizeof buf),
                 "bypass") == 0,
          "no_read: %s", buf);
    CHECK(strcmp(chat_cache(gw, req, "{\"cache\":{\"refresh\":true,\"ttl\":60}}", buf,
                            sizeof buf),
                 "bypass") == 0,
          "refresh: %s", buf);
    CHECK(upstream_calls() == 5, "no_read and refresh went upstream");
    const char *ns = "{\"cache\":{\"namespace\":\"n2\"}}";
    CHECK(strcmp(chat_cache(gw, req, ns, buf, sizeof buf), "miss") == 0, "namespace: %s", buf);
    CHECK(strcmp(chat_cache(gw, req, ns, buf, sizeof buf), "hit") == 0, "namespace hit: %s",
          buf);
    CHECK(strcmp(chat_cache(gw, req, "{\"team\":\"other\"}", buf, sizeof buf), "miss") == 0,
          "another tenant: %s", buf);

    char *out = NULL;
    sp_status st = sp_chat(gw, req, "{\"cache\":{\"no_stor\":true}}", &out);
    CHECK(st == SP_BAD_REQUEST && sp_last_error()->param &&
              strcmp(sp_last_error()->param, "cache.no_stor") == 0 &&
              strstr(sp_last_error()->message, "no_store") != NULL,
          "cache typo: %s %s", sp_status_name(st), sp_last_error()->message);
    st = sp_chat(gw, req, "{\"cache\":{\"ttl\":\"soon\"}}", &out);
    CHECK(st == SP_BAD_REQUEST && sp_last_error()->param &&
              strcmp(sp_last_error()->param, "cache.ttl") == 0,
          "cache ttl type: %s %s", sp_status_name(st), sp_last_error()->message);
    sp_gateway_free(gw);
}

void test_telemetry(const mock_provider *m) {
    mock = m;
    test_metrics_text();
    test_record_callback();
    test_removal_guarantees();
    test_flush_in_completion_callback();
    test_cache_controls();
}
