/* Tests of the policy calls: virtual keys, the audit log, reload under load, gateway rate
 * limits and budgets, and host guardrail callbacks. */
#define _POSIX_C_SOURCE 200809L
#include "policy.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "switchpoint.h"

static const mock_provider *mock;

/* A config: one OpenAI-shaped provider on the mock (api key `provider_key`), the model "gpt"
 * served as `model`, priced at $1,000 per million tokens (a token costs $0.001), plus
 * `extra` (more top-level members, without braces, or ""). Returns a malloc'd string. */
static char *config(const char *provider_key, const char *model, const char *extra) {
    size_t n = 1024 + strlen(extra);
    char *cfg = malloc(n);
    snprintf(cfg, n,
             "{\"providers\":{\"oai\":{\"kind\":\"openai\",\"base_url\":\"%s/v1\","
             "\"api_key\":\"%s\"}},"
             "\"models\":{\"gpt\":{\"provider\":\"oai\",\"model\":\"%s\"},"
             "\"other\":{\"provider\":\"oai\",\"model\":\"other-model\"}},"
             "\"pricing\":{\"oai\":{\"%s\":{\"input\":\"1000\",\"output\":\"1000\","
             "\"max_output\":50}}}%s%s}",
             mock->url, provider_key, model, model, extra[0] ? "," : "", extra);
    return cfg;
}

static sp_gateway *gateway(const char *extra) {
    char *cfg = config("sk-provider-1", "model-a", extra);
    sp_gateway *gw = NULL;
    if (sp_gateway_new_from_json(cfg, &gw) != SP_OK) {
        printf("cannot create the policy gateway: %s\n", sp_last_error()->message);
        exit(2);
    }
    free(cfg);
    return gw;
}

static const char *HI =
    "{\"model\":\"gpt\",\"max_tokens\":20,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

/* The string at `key` of `obj`, or "" (never NULL, for printing and strcmp). */
static const char *str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* One chat with `api_key` (NULL: none); returns the status (the last error stays set). */
static sp_status chat_as(const sp_gateway *gw, const char *api_key, const char *req) {
    char ctx[256], *out = NULL;
    if (api_key) snprintf(ctx, sizeof ctx, "{\"api_key\":\"%s\"}", api_key);
    sp_status st = sp_chat(gw, req, api_key ? ctx : NULL, &out);
    sp_string_free(out);
    return st;
}

/* The last error's code, or "". */
static const char *last_code(void) {
    const sp_error *e = sp_last_error();
    return e && e->code ? e->code : "";
}

/* ---------- virtual keys and the audit log ---------- */

static void test_keys(void) {
    sp_gateway *gw = gateway("\"virtual_keys\":{\"required\":true}");
    char *out = NULL;
    const char *own = "sk-my-own-key-0123456789";

    /* Create: a key of our own with settings, and a generated one. */
    sp_status st = sp_keys_create(
        gw, "{\"key\":\"sk-my-own-key-0123456789\",\"name\":\"search\",\"user\":\"alice\","
            "\"team\":\"research\",\"models\":[\"gpt\"],\"metadata\":{\"env\":\"test\"}}",
        "ops-alice", &out);
    CHECK(st == SP_OK, "create: %s", sp_last_error() ? sp_last_error()->message : "");
    cJSON *created = cJSON_Parse(out);
    sp_string_free(out);
    char id[64];
    snprintf(id, sizeof id, "%s", str(created, "id"));
    CHECK(strcmp(str(created, "key"), own) == 0, "created key value: %s", str(created, "key"));
    CHECK(strncmp(id, "key-", 4) == 0 && strlen(id) == 20, "id %s", id);
    CHECK(strcmp(str(created, "source"), "api") == 0, "source %s", str(created, "source"));
    CHECK(strcmp(str(created, "created_by"), "ops-alice") == 0, "created_by");
    CHECK(strcmp(str(created, "user"), "alice") == 0 && strcmp(str(created, "team"), "research") == 0,
          "identity");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(created, "revoked")), "not revoked");
    CHECK(cJSON_GetObjectItemCaseSensitive(created, "revision")->valuedouble == 1, "revision 1");
    CHECK(strcmp(str(cJSON_GetObjectItemCaseSensitive(created, "metadata"), "env"), "test") == 0,
          "metadata");
    cJSON_Delete(created);

    CHECK(sp_keys_create(gw, NULL, NULL, &out) == SP_OK, "create a generated key");
    cJSON *gen = cJSON_Parse(out);
    sp_string_free(out);
    char gen_key[128], gen_id[64];
    snprintf(gen_key, sizeof gen_key, "%s", str(gen, "key"));
    snprintf(gen_id, sizeof gen_id, "%s", str(gen, "id"));
    CHECK(strncmp(gen_key, "sk-sp-", 6) == 0, "generated key %s", gen_key);
    CHECK(strcmp(str(gen, "created_by"), "api") == 0, "default actor: %s", str(gen, "created_by"));
    cJSON_Delete(gen);

    /* The keys work; a request without one, or with an unknown one, is refused. */
    mock_reset(mock);
    CHECK(chat_as(gw, own, HI) == SP_OK, "chat with the own key: %s",
          sp_last_error() ? sp_last_error()->message : "");
    CHECK(chat_as(gw, gen_key, HI) == SP_OK, "chat with the generated key");
    CHECK(chat_as(gw, NULL, HI) == SP_AUTH && strcmp(last_code(), "missing_api_key") == 0,
          "no key: %s", last_code());
    CHECK(chat_as(gw, "sk-not-a-key-of-this-gateway", HI) == SP_AUTH &&
              strcmp(last_code(), "invalid_api_key") == 0,
          "unknown key: %s", last_code());

    /* List: both ids, never a key's value. */
    CHECK(sp_keys_list(gw, &out) == SP_OK, "list");
    cJSON *list = cJSON_Parse(out);
    CHECK(cJSON_GetArraySize(list) == 2, "two keys: %s", out);
    CHECK(strstr(out, own) == NULL && strstr(out, gen_key) == NULL, "list shows a key: %s", out);
    int seen = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, list) {
        if (strcmp(str(k, "id"), id) == 0 || strcmp(str(k, "id"), gen_id) == 0) seen++;
        CHECK(!cJSON_HasObjectItem(k, "key"), "a listed key has `key`");
    }
    CHECK(seen == 2, "both ids listed: %s", out);
    cJSON_Delete(list);
    sp_string_free(out);

    /* Get. */
    CHECK(sp_keys_get(gw, id, &out) == SP_OK, "get");
    cJSON *got = cJSON_Parse(out);
    CHECK(strcmp(str(got, "id"), id) == 0 && strcmp(str(got, "name"), "search") == 0 &&
              !cJSON_HasObjectItem(got, "key"),
          "get: %s", out);
    cJSON_Delete(got);
    sp_string_free(out);
    CHECK(sp_keys_get(gw, "key-0000000000000000", &out) == SP_NOT_FOUND && out == NULL,
          "unknown id");
    CHECK(sp_last_error() && sp_last_error()->param && strcmp(sp_last_error()->param, "id") == 0,
          "not found names the id");

    /* Update: the key may now use only "other"; "gpt" is refused by policy. */
    CHECK(sp_keys_update(gw, id, "{\"models\":[\"other\"],\"name\":null}", "ops-bob", &out) == SP_OK,
          "update: %s", sp_last_error() ? sp_last_error()->message : "");
    cJSON *upd = cJSON_Parse(out);
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(upd, "models");
    CHECK(cJSON_GetArraySize(models) == 1 &&
              strcmp(cJSON_GetArrayItem(models, 0)->valuestring, "other") == 0,
          "models after update: %s", out);
    CHECK(!cJSON_HasObjectItem(upd, "name"), "null removed the name: %s", out);
    CHECK(cJSON_GetObjectItemCaseSensitive(upd, "revision")->valuedouble == 2, "revision 2: %s", out);
    cJSON_Delete(upd);
    sp_string_free(out);
    CHECK(chat_as(gw, own, HI) == SP_POLICY_DENIED && strcmp(last_code(), "model_not_allowed") == 0,
          "model no longer allowed: %s", last_code());
    CHECK(chat_as(gw, own,
                  "{\"model\":\"other\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}") ==
              SP_OK,
          "allowed model");
    CHECK(sp_keys_update(gw, id, "{\"models\":\"gpt\"}", NULL, &out) == SP_BAD_REQUEST,
          "a patch of the wrong type");
    CHECK(sp_keys_update(gw, id, "{not json", NULL, &out) == SP_BAD_REQUEST, "a patch not JSON");

    /* Revoke: the next call is refused as revoked. */
    CHECK(sp_keys_revoke(gw, id, "ops-carol", &out) == SP_OK, "revoke");
    CHECK(out && strstr(out, "\"revoked\":true") != NULL, "revoked: %s", out ? out : "");
    sp_string_free(out);
    sp_status rs = chat_as(gw, own,
                           "{\"model\":\"other\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    CHECK(rs == SP_AUTH && strcmp(last_code(), "key_revoked") == 0, "revoked key: %s %s",
          sp_status_name(rs), last_code());
    CHECK(chat_as(gw, gen_key, HI) == SP_OK, "the other key still works");

    /* Bad specs name the field. */
    CHECK(sp_keys_create(gw, "{\"key\":\"short\"}", NULL, &out) == SP_BAD_REQUEST &&
              sp_last_error()->param && strcmp(sp_last_error()->param, "key") == 0,
          "short key");
    CHECK(sp_keys_create(gw, "{\"modles\":[\"x\"]}", NULL, &out) == SP_BAD_REQUEST &&
              strstr(sp_last_error()->message, "modles") != NULL,
          "unknown field: %s", sp_last_error()->message);
    CHECK(sp_keys_create(gw, "{\"key\":\"sk-my-own-key-0123456789\"}", NULL, &out) ==
              SP_BAD_REQUEST,
          "the same key twice");
    CHECK(sp_keys_create(NULL, NULL, NULL, &out) == SP_INVALID_ARGUMENT, "NULL gateway");
    CHECK(sp_keys_list(gw, NULL) == SP_INVALID_ARGUMENT, "NULL out");
    CHECK(sp_keys_get(gw, NULL, &out) == SP_INVALID_ARGUMENT, "NULL id");

    /* The audit log: every change, oldest first, with its actor; never a key. */
    CHECK(sp_audit(gw, 0, &out) == SP_OK, "audit");
    cJSON *audit = cJSON_Parse(out);
    const char *want[][3] = {{"ops-alice", "key_created", id},
                             {"api", "key_created", gen_id},
                             {"ops-bob", "key_updated", id},
                             {"ops-carol", "key_revoked", id}};
    CHECK(cJSON_GetArraySize(audit) == 4, "four audit records: %s", out);
    for (int i = 0; i < 4 && i < cJSON_GetArraySize(audit); i++) {
        const cJSON *r = cJSON_GetArrayItem(audit, i);
        CHECK(strcmp(str(r, "actor"), want[i][0]) == 0 && strcmp(str(r, "action"), want[i][1]) == 0 &&
                  strcmp(str(r, "target"), want[i][2]) == 0,
              "audit[%d]: %s", i, out);
    }
    CHECK(strstr(out, own) == NULL && strstr(out, gen_key) == NULL, "audit shows a key");
    double last_at = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(audit, 3), "at_ms")->valuedouble;
    cJSON_Delete(audit);
    sp_string_free(out);
    CHECK(sp_audit(gw, (int64_t)last_at + 1, &out) == SP_OK && strcmp(out, "[]") == 0,
          "audit since after the last change: %s", out ? out : "");
    sp_string_free(out);
    sp_gateway_free(gw);
}

/* ---------- reload while calls run ---------- */

typedef struct {
    const sp_gateway *gw;
    volatile int stop;
    int ok, failed, on_a, on_b;
    pthread_mutex_t mu;
} load;

static void *caller(void *p) {
    load *l = p;
    while (!l->stop) {
        char *out = NULL;
        sp_status st = sp_chat(l->gw, HI, NULL, &out);
        pthread_mutex_lock(&l->mu);
        if (st == SP_OK) {
            l->ok++;
            cJSON *r = cJSON_Parse(out);
            const char *m = str(cJSON_GetObjectItemCaseSensitive(r, "switchpoint"), "provider_model");
            if (strcmp(m, "model-a") == 0) l->on_a++;
            if (strcmp(m, "model-b") == 0) l->on_b++;
            cJSON_Delete(r);
        } else {
            l->failed++;
            printf("  call failed during reload: %s\n", sp_last_error()->message);
        }
        pthread_mutex_unlock(&l->mu);
        sp_string_free(out);
    }
    return NULL;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_reload(void) {
    sp_gateway *gw = gateway("");
    load l = {.gw = gw};
    pthread_mutex_init(&l.mu, NULL);
    enum { CALLERS = 4 };
    pthread_t t[CALLERS];
    for (int i = 0; i < CALLERS; i++) pthread_create(&t[i], NULL, caller, &l);
    sleep_ms(150);
    char *next = config("sk-rotated-2", "model-b", "");
    CHECK(sp_gateway_reload(gw, next, "deployer") == SP_OK, "reload: %s",
          sp_last_error() ? sp_last_error()->message : "");
    free(next);
    sleep_ms(150);
    l.stop = 1;
    for (int i = 0; i < CALLERS; i++) pthread_join(t[i], NULL);
    CHECK(l.failed == 0, "%d calls failed during the reload (%d ok)", l.failed, l.ok);
    CHECK(l.on_a > 0 && l.on_b > 0 && l.on_a + l.on_b == l.ok,
          "served by model-a %d, model-b %d of %d", l.on_a, l.on_b, l.ok);
    pthread_mutex_destroy(&l.mu);

    /* After the reload, the provider sees the new model and the rotated key. */
    mock_reset(mock);
    CHECK(chat_as(gw, NULL, HI) == SP_OK, "call after the reload");
    char *text = mock_log(mock);
    cJSON *log = cJSON_Parse(text);
    const cJSON *last = cJSON_GetArrayItem(log, cJSON_GetArraySize(log) - 1);
    CHECK(strcmp(str(last, "model"), "model-b") == 0, "upstream model %s", str(last, "model"));
    CHECK(strcmp(str(cJSON_GetObjectItemCaseSensitive(last, "headers"), "authorization"),
                 "Bearer sk-rotated-2") == 0,
          "rotated key not used: %s", text);
    cJSON_Delete(log);
    free(text);

    /* A bad config is refused and the old one stays. */
    CHECK(sp_gateway_reload(gw, "{\"providers\":{\"p\":{\"kind\":\"nope\"}}}", NULL) == SP_CONFIG,
          "bad config");
    CHECK(sp_gateway_reload(gw, NULL, NULL) == SP_INVALID_ARGUMENT, "NULL config");
    CHECK(chat_as(gw, NULL, HI) == SP_OK, "still serving after a refused reload");

    /* A YAML reload works too, and every reload is audited with its actor. */
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "providers:\n  oai: {kind: openai, base_url: \"%s/v1\", api_key: k}\n"
             "models:\n  gpt: {provider: oai, model: model-c}\n",
             mock->url);
    CHECK(sp_gateway_reload(gw, yaml, NULL) == SP_OK, "YAML reload");
    char *out = NULL;
    CHECK(sp_chat(gw, HI, NULL, &out) == SP_OK && strstr(out, "\"provider_model\":\"model-c\""),
          "served by the YAML config: %s", out ? out : "");
    sp_string_free(out);
    /* The audit record is written in the background: poll briefly. */
    int audited = 0;
    for (int i = 0; i < 50 && audited < 2; i++) {
        CHECK(sp_audit(gw, 0, &out) == SP_OK, "audit");
        cJSON *a = cJSON_Parse(out);
        audited = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, a) {
            if (strcmp(str(r, "action"), "config_reloaded") != 0) continue;
            if (audited == 0 && strcmp(str(r, "actor"), "deployer") == 0) audited = 1;
            else if (audited == 1 && strcmp(str(r, "actor"), "api") == 0) audited = 2;
        }
        cJSON_Delete(a);
        sp_string_free(out);
        if (audited < 2) sleep_ms(20);
    }
    CHECK(audited == 2, "config_reloaded by deployer, then by api");
    sp_gateway_free(gw);
}

/* ---------- gateway rate limits and budgets ---------- */

static void test_rate_limit(void) {
    sp_gateway *gw = gateway("\"limits\":[{\"scope\":\"user\",\"rpm\":2}]");
    char *out = NULL;
    const char *alice = "{\"user\":\"alice\"}";
    mock_reset(mock);
    CHECK(sp_chat(gw, HI, alice, &out) == SP_OK, "first");
    sp_string_free(out);
    CHECK(sp_chat(gw, HI, alice, &out) == SP_OK, "second");
    sp_string_free(out);
    sp_status st = sp_chat(gw, HI, alice, &out);
    const sp_error *e = sp_last_error();
    CHECK(st == SP_RATE_LIMIT_EXCEEDED, "third: %s", sp_status_name(st));
    CHECK(e && strcmp(e->kind, "rate_limit_exceeded") == 0 && e->code &&
              strcmp(e->code, "rpm") == 0,
          "kind/code %s/%s", e ? e->kind : "", e && e->code ? e->code : "");
    CHECK(e && e->http_status == 429, "status %d", e ? e->http_status : 0);
    CHECK(e && e->retry_after > 0 && e->retry_after <= 60, "retry_after %f",
          e ? e->retry_after : -1);
    CHECK(e && strstr(e->message, "alice") != NULL, "message %s", e ? e->message : "");
    /* The refused call never reached the provider; another user is not limited. */
    char *text = mock_log(mock);
    cJSON *log = cJSON_Parse(text);
    CHECK(cJSON_GetArraySize(log) == 2, "upstream calls %d", cJSON_GetArraySize(log));
    cJSON_Delete(log);
    free(text);
    CHECK(sp_chat(gw, HI, "{\"user\":\"bob\"}", &out) == SP_OK, "bob");
    sp_string_free(out);
    sp_gateway_free(gw);
}

/* Seconds from now to the next midnight UTC (the end of a `day` budget period). */
static double to_utc_midnight(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double t = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    return 86400.0 - (t - 86400.0 * (double)(long long)(t / 86400.0));
}

static void test_budget(void) {
    /* A token costs $0.001: a "hi" call costs about $0.002. */
    sp_gateway *gw = gateway(
        "\"budgets\":[{\"scope\":\"team\",\"id\":\"research\",\"period\":\"day\",\"limit_usd\":0.05}]");
    const char *ctx = "{\"team\":\"research\"}";
    int ok = 0;
    double spent = 0;
    sp_status st = SP_OK;
    for (int i = 0; i < 100 && st == SP_OK; i++) {
        char *out = NULL;
        st = sp_chat(gw, HI, ctx, &out);
        if (st == SP_OK) {
            ok++;
            cJSON *r = cJSON_Parse(out);
            const cJSON *cost = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(r, "switchpoint"), "cost");
            spent += strtod(str(cost, "usd"), NULL);
            cJSON_Delete(r);
        }
        sp_string_free(out);
    }
    const sp_error *e = sp_last_error();
    /* A call reserves its worst case (prompt + max_tokens 20, about $0.025): the refusal
     * comes once what is spent plus that no longer fits. */
    CHECK(ok >= 2 && spent > 0.02 && spent <= 0.05, "%d calls spent $%f of $0.05", ok, spent);
    CHECK(st == SP_BUDGET_EXCEEDED, "refusal %s", sp_status_name(st));
    CHECK(e && strcmp(e->kind, "budget_exceeded") == 0 && e->code &&
              strcmp(e->code, "budget_day") == 0,
          "code %s", e && e->code ? e->code : "");
    CHECK(e && strstr(e->message, "research") != NULL, "message %s", e ? e->message : "");
    /* retry_after is the period's end (midnight UTC). */
    double want = to_utc_midnight(), got = e ? e->retry_after : -1;
    CHECK(got > want - 5 && got < want + 5, "retry_after %f, the day ends in %f", got, want);
    char *out = NULL;
    CHECK(sp_chat(gw, HI, "{\"team\":\"ops\"}", &out) == SP_OK, "another team");
    sp_string_free(out);
    sp_gateway_free(gw);
}

/* ---------- host guardrail callbacks ---------- */

/* What the test guardrail does, and what it saw. */
typedef struct {
    pthread_mutex_t mu;
    int calls, inputs, outputs;
    char last_event[2048];
    sp_status nested;  /* a blocking call made inside the callback */
    const sp_gateway *gw;
} guard_state;

/* Allows everything, recording each event. */
static int guard_allow(void *ud, const char *event_json, char **verdict) {
    guard_state *g = ud;
    cJSON *e = cJSON_Parse(event_json);
    pthread_mutex_lock(&g->mu);
    g->calls++;
    if (strcmp(str(e, "stage"), "input") == 0) g->inputs++;
    if (strcmp(str(e, "stage"), "output") == 0) g->outputs++;
    snprintf(g->last_event, sizeof g->last_event, "%s", event_json);
    pthread_mutex_unlock(&g->mu);
    cJSON_Delete(e);
    (void)verdict; /* left NULL: allow */
    return 0;
}

/* Denies requests that mention "launch codes"; rewrites "Falcon" on input and "Falcon" in
 * answers to "[codename]"; otherwise allows (answers `true`). */
static int guard_policy(void *ud, const char *event_json, char **verdict) {
    guard_state *g = ud;
    pthread_mutex_lock(&g->mu);
    g->calls++;
    pthread_mutex_unlock(&g->mu);
    cJSON *e = cJSON_Parse(event_json);
    const char *content = str(e, "content");
    char *messages = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(e, "messages"));
    int input = strcmp(str(e, "stage"), "input") == 0;
    if (input && strstr(messages, "launch codes")) {
        *verdict = sp_string_dup("{\"action\":\"deny\",\"reason\":\"no launch codes\"}");
    } else if (input && strstr(messages, "Falcon")) {
        *verdict = sp_string_dup(
            "{\"action\":\"rewrite\",\"messages\":[{\"role\":\"user\",\"content\":\"tell me about the project\"}]}");
    } else if (!input && strstr(content, "secret")) {
        *verdict = sp_string_dup("{\"action\":\"rewrite\",\"content\":\"[withheld]\"}");
    } else {
        *verdict = sp_string_dup("true");
    }
    free(messages);
    cJSON_Delete(e);
    return 0;
}

/* Fails (as a host exception would) on requests that mention "crash". */
static int guard_failing(void *ud, const char *event_json, char **verdict) {
    (void)ud;
    if (strstr(event_json, "crash") == NULL) return 0;
    *verdict = sp_string_dup("moderation service unreachable");
    return 7;
}

/* Tries a blocking call (refused there), then allows. */
static int guard_nested(void *ud, const char *event_json, char **verdict) {
    (void)event_json;
    (void)verdict;
    guard_state *g = ud;
    char *out = NULL;
    sp_status st = sp_chat(g->gw, HI, NULL, &out);
    sp_string_free(out);
    pthread_mutex_lock(&g->mu);
    g->nested = st;
    g->calls++;
    pthread_mutex_unlock(&g->mu);
    return 0;
}

/* The content of the first choice of a chat answer (malloc'd), or NULL on failure. */
static char *ask(const sp_gateway *gw, const char *text, const char *ctx) {
    char req[512], *out = NULL, *content = NULL;
    snprintf(req, sizeof req,
             "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}", text);
    if (sp_chat(gw, req, ctx, &out) == SP_OK) {
        cJSON *r = cJSON_Parse(out);
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "choices"), 0), "message");
        content = strdup(str(msg, "content"));
        cJSON_Delete(r);
    }
    sp_string_free(out);
    return content;
}

/* The user message the provider received last, from the mock's log (malloc'd). */
static char *upstream_prompt(void) {
    char *text = mock_log(mock);
    cJSON *log = cJSON_Parse(text);
    const cJSON *last = cJSON_GetArrayItem(log, cJSON_GetArraySize(log) - 1);
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(last, "body"), "messages");
    char *prompt = strdup(str(cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1), "content"));
    cJSON_Delete(log);
    free(text);
    return prompt;
}

typedef struct {
    const sp_gateway *gw;
    int ok;
} guard_worker;

static void *guarded_calls(void *p) {
    guard_worker *w = p;
    for (int i = 0; i < 10; i++) {
        char *c = ask(w->gw, "Falcon status", NULL);
        if (c && strcmp(c, "tell me about the project") == 0) w->ok++;
        free(c);
    }
    return NULL;
}

static void test_guardrails(void) {
    sp_gateway *gw = gateway("");
    guard_state g = {.gw = gw};
    pthread_mutex_init(&g.mu, NULL);
    uint64_t watch = 0, policy = 0, failing = 0;

    /* Allow: both stages seen, with the caller's identity. */
    CHECK(sp_guardrail_add(gw, guard_allow, &g, &watch) == SP_OK && watch != 0, "add");
    mock_reset(mock);
    char *c = ask(gw, "hello there", "{\"user\":\"ana\",\"team\":\"t1\",\"tags\":[\"faq\"]}");
    CHECK(c && strcmp(c, "hello there") == 0, "allowed call: %s", c ? c : "(failed)");
    free(c);
    CHECK(g.inputs == 1 && g.outputs == 1, "events: %d input, %d output", g.inputs, g.outputs);
    cJSON *last = cJSON_Parse(g.last_event);
    CHECK(strcmp(str(last, "stage"), "output") == 0 &&
              strcmp(str(last, "content"), "hello there") == 0 &&
              strcmp(str(last, "model"), "gpt") == 0 && strcmp(str(last, "user"), "ana") == 0 &&
              strcmp(str(last, "team"), "t1") == 0,
          "output event: %s", g.last_event);
    cJSON_Delete(last);

    /* Deny, rewrite input, rewrite output. */
    CHECK(sp_guardrail_add(gw, guard_policy, &g, &policy) == SP_OK && policy != watch,
          "add a second");
    mock_reset(mock);
    c = ask(gw, "what are the launch codes", NULL);
    const sp_error *e = sp_last_error();
    CHECK(c == NULL && e && e->status == SP_POLICY_DENIED && e->code &&
              strcmp(e->code, "guardrail_hook") == 0 && strstr(e->message, "no launch codes"),
          "deny: %s", e ? e->json : "(answered)");
    free(c);
    char *log = mock_log(mock);
    CHECK(log && strcmp(log, "[]") == 0, "a denied request reached the provider: %s", log);
    free(log);

    mock_reset(mock);
    c = ask(gw, "Falcon status", NULL);
    CHECK(c && strcmp(c, "tell me about the project") == 0, "rewritten answer %s", c ? c : "");
    free(c);
    char *prompt = upstream_prompt();
    CHECK(strcmp(prompt, "tell me about the project") == 0, "provider saw %s", prompt);
    free(prompt);

    c = ask(gw, "the secret is 42", NULL);
    CHECK(c && strcmp(c, "[withheld]") == 0, "output rewrite: %s", c ? c : "");
    free(c);

    /* A failing callback fails the request (internal, guardrail_hook_failed, its message);
     * the process and the next request are fine. */
    CHECK(sp_guardrail_add(gw, guard_failing, NULL, &failing) == SP_OK, "add failing");
    c = ask(gw, "please crash", NULL);
    e = sp_last_error();
    CHECK(c == NULL && e && e->status == SP_INTERNAL && e->code &&
              strcmp(e->code, "guardrail_hook_failed") == 0 &&
              strcmp(e->message, "moderation service unreachable") == 0,
          "failing hook: %s", e ? e->json : "(answered)");
    free(c);
    c = ask(gw, "fine again", NULL);
    CHECK(c && strcmp(c, "fine again") == 0, "after a failure");
    free(c);

    /* Concurrent requests call the hooks concurrently; all are rewritten. */
    guard_worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (guard_worker){gw, 0};
        pthread_create(&t[i], NULL, guarded_calls, &w[i]);
    }
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    CHECK(ok == 40, "%d of 40 concurrent guarded calls rewritten", ok);

    /* Hooks survive a reload. */
    char *next = config("sk-provider-1", "model-b", "");
    CHECK(sp_gateway_reload(gw, next, NULL) == SP_OK, "reload");
    free(next);
    c = ask(gw, "the secret after reload", NULL);
    CHECK(c && strcmp(c, "[withheld]") == 0, "hook after reload: %s", c ? c : "");
    free(c);

    /* Removal: the removed hooks are not called again; unknown ids are not found. */
    CHECK(sp_guardrail_remove(gw, policy) == SP_OK, "remove");
    CHECK(sp_guardrail_remove(gw, failing) == SP_OK, "remove failing");
    int before = g.calls;
    c = ask(gw, "launch codes please crash", NULL);
    CHECK(c && strcmp(c, "launch codes please crash") == 0, "nothing denies any more");
    free(c);
    CHECK(g.calls == before + 2, "only the watching hook ran: %d calls", g.calls - before);
    CHECK(sp_guardrail_remove(gw, policy) == SP_NOT_FOUND && sp_last_error()->param &&
              strcmp(sp_last_error()->param, "id") == 0,
          "removed twice");
    CHECK(sp_guardrail_remove(gw, 0) == SP_NOT_FOUND, "id 0");
    uint64_t id = 99;
    CHECK(sp_guardrail_add(gw, NULL, NULL, &id) == SP_INVALID_ARGUMENT && id == 0, "NULL hook");
    CHECK(sp_guardrail_add(gw, guard_allow, NULL, NULL) == SP_INVALID_ARGUMENT, "NULL out_id");
    CHECK(sp_guardrail_remove(gw, watch) == SP_OK, "remove the watcher");

    /* Blocking calls are refused inside a guardrail callback. */
    uint64_t nested = 0;
    CHECK(sp_guardrail_add(gw, guard_nested, &g, &nested) == SP_OK, "add nested");
    c = ask(gw, "x", NULL);
    CHECK(c != NULL, "call with the nested hook");
    free(c);
    CHECK(g.nested == SP_INVALID_ARGUMENT, "sp_chat inside a guardrail gave %s",
          sp_status_name(g.nested));
    /* Freeing the gateway removes its hooks. */
    sp_gateway_free(gw);
    pthread_mutex_destroy(&g.mu);
    CHECK(sp_string_dup(NULL) == NULL, "sp_string_dup(NULL)");
    char *dup = sp_string_dup("copy me");
    CHECK(dup && strcmp(dup, "copy me") == 0, "sp_string_dup");
    sp_string_free(dup);
}

void test_policy(const mock_provider *m) {
    mock = m;
    test_keys();
    test_reload();
    test_rate_limit();
    test_budget();
    test_guardrails();
}
