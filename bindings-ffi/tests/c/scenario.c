/* Playing the tests/scenarios files through the C API, with the Rust runner's matching rules. */
#define _POSIX_C_SOURCE 200809L
#include "scenario.h"

#include <math.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchpoint.h"

/* ---------- matching ---------- */

int json_matches(const cJSON *e, const cJSON *a, const char *path, char *err, size_t errlen) {
    char sub[512];
    if (cJSON_IsString(e) && strcmp(e->valuestring, "<any>") == 0 && a && !cJSON_IsNull(a))
        return 1;
    if (cJSON_IsNull(e) && (a == NULL || cJSON_IsNull(a))) return 1;
    if (cJSON_IsObject(e) && cJSON_IsObject(a)) {
        const cJSON *child;
        cJSON_ArrayForEach(child, e) {
            snprintf(sub, sizeof sub, "%s.%s", path, child->string);
            if (!json_matches(child, cJSON_GetObjectItemCaseSensitive(a, child->string), sub,
                              err, errlen))
                return 0;
        }
        return 1;
    }
    if (cJSON_IsArray(e) && cJSON_IsArray(a) && cJSON_GetArraySize(e) == cJSON_GetArraySize(a)) {
        for (int i = 0; i < cJSON_GetArraySize(e); i++) {
            snprintf(sub, sizeof sub, "%s[%d]", path, i);
            if (!json_matches(cJSON_GetArrayItem(e, i), cJSON_GetArrayItem(a, i), sub, err,
                              errlen))
                return 0;
        }
        return 1;
    }
    if (cJSON_IsNumber(e) && cJSON_IsNumber(a)) {
        if (fabs(e->valuedouble - a->valuedouble) <= 0.001) return 1;
        snprintf(err, errlen, "%s: expected %g, got %g", path, e->valuedouble, a->valuedouble);
        return 0;
    }
    if (a && cJSON_Compare(e, a, 1)) return 1;
    char *es = cJSON_PrintUnformatted(e);
    char *as = a ? cJSON_PrintUnformatted(a) : NULL;
    snprintf(err, errlen, "%s: expected %s, got %.300s", path, es ? es : "?",
             as ? as : "nothing");
    free(es);
    free(as);
    return 0;
}

/* ---------- stream assembly ---------- */

struct stream_acc {
    cJSON *resp;    /* id, object, created, model, choices[], usage */
    int count;
};

stream_acc *acc_new(void) {
    stream_acc *acc = calloc(1, sizeof *acc);
    acc->resp = cJSON_CreateObject();
    cJSON_AddItemToObject(acc->resp, "choices", cJSON_CreateArray());
    return acc;
}

int acc_count(const stream_acc *acc) { return acc->count; }

/* The item `key` of `obj`, created as `make()` when missing or null. */
static cJSON *ensure(cJSON *obj, const char *key, cJSON *(*make)(void)) {
    cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (it == NULL || cJSON_IsNull(it)) {
        it = make();
        if (cJSON_HasObjectItem(obj, key))
            cJSON_ReplaceItemInObjectCaseSensitive(obj, key, it);
        else
            cJSON_AddItemToObject(obj, key, it);
    }
    return it;
}

static cJSON *empty_string(void) { return cJSON_CreateString(""); }

/* Appends `piece` to the string `obj[key]`, creating it. */
static void append(cJSON *obj, const char *key, const char *piece) {
    cJSON *cur = ensure(obj, key, empty_string);
    size_t n = strlen(cur->valuestring) + strlen(piece) + 1;
    char *joined = malloc(n);
    snprintf(joined, n, "%s%s", cur->valuestring, piece);
    cJSON_ReplaceItemInObjectCaseSensitive(obj, key, cJSON_CreateString(joined));
    free(joined);
}

/* The element with `"index": idx` of `arr`, made by `make(idx)` when missing. */
static cJSON *by_index(cJSON *arr, int idx, cJSON *(*make)(int)) {
    cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        cJSON *i = cJSON_GetObjectItemCaseSensitive(it, "index");
        if (cJSON_IsNumber(i) && i->valueint == idx) return it;
    }
    it = make(idx);
    cJSON_AddItemToArray(arr, it);
    return it;
}

static cJSON *new_choice(int idx) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "index", idx);
    cJSON *msg = cJSON_AddObjectToObject(c, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    cJSON_AddNullToObject(msg, "content");
    cJSON_AddNullToObject(c, "finish_reason");
    return c;
}

static cJSON *new_call(int idx) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "index", idx);
    cJSON_AddStringToObject(t, "type", "function");
    cJSON *f = cJSON_AddObjectToObject(t, "function");
    cJSON_AddStringToObject(f, "name", "");
    cJSON_AddStringToObject(f, "arguments", "");
    return t;
}

static void copy_if_absent(cJSON *dst, const cJSON *src, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
    if (v && !cJSON_HasObjectItem(dst, key))
        cJSON_AddItemToObject(dst, key, cJSON_Duplicate(v, 1));
}

void acc_push(stream_acc *acc, const char *chunk_json) {
    cJSON *chunk = cJSON_Parse(chunk_json);
    acc->count++;
    if (chunk == NULL) return;
    copy_if_absent(acc->resp, chunk, "id");
    copy_if_absent(acc->resp, chunk, "created");
    copy_if_absent(acc->resp, chunk, "model");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(chunk, "usage");
    if (usage && !cJSON_IsNull(usage)) {
        cJSON_DeleteItemFromObjectCaseSensitive(acc->resp, "usage");
        cJSON_AddItemToObject(acc->resp, "usage", cJSON_Duplicate(usage, 1));
    }
    cJSON *choices = cJSON_GetObjectItemCaseSensitive(acc->resp, "choices");
    const cJSON *cc;
    cJSON_ArrayForEach(cc, cJSON_GetObjectItemCaseSensitive(chunk, "choices")) {
        int idx = cJSON_GetObjectItemCaseSensitive(cc, "index")->valueint;
        cJSON *choice = by_index(choices, idx, new_choice);
        cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(cc, "delta");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(delta, "content");
        if (cJSON_IsString(content)) append(msg, "content", content->valuestring);
        const cJSON *refusal = cJSON_GetObjectItemCaseSensitive(delta, "refusal");
        if (cJSON_IsString(refusal)) append(msg, "refusal", refusal->valuestring);
        const cJSON *tc;
        cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(delta, "tool_calls")) {
            cJSON *calls = ensure(msg, "tool_calls", cJSON_CreateArray);
            int ti = cJSON_GetObjectItemCaseSensitive(tc, "index")->valueint;
            cJSON *call = by_index(calls, ti, new_call);
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(tc, "id");
            if (cJSON_IsString(id)) {
                cJSON_DeleteItemFromObjectCaseSensitive(call, "id");
                cJSON_AddStringToObject(call, "id", id->valuestring);
            }
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
            cJSON *dst = cJSON_GetObjectItemCaseSensitive(call, "function");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
            if (cJSON_IsString(name)) append(dst, "name", name->valuestring);
            const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
            if (cJSON_IsString(args)) append(dst, "arguments", args->valuestring);
        }
        const cJSON *finish = cJSON_GetObjectItemCaseSensitive(cc, "finish_reason");
        if (cJSON_IsString(finish))
            cJSON_ReplaceItemInObjectCaseSensitive(choice, "finish_reason",
                                                   cJSON_CreateString(finish->valuestring));
    }
    cJSON_Delete(chunk);
}

cJSON *acc_finish(stream_acc *acc) {
    cJSON *resp = acc->resp;
    cJSON_AddStringToObject(resp, "object", "chat.completion");
    /* Tool-call pieces carry their index; a finished message's tool calls do not. */
    cJSON *choice;
    cJSON_ArrayForEach(choice, cJSON_GetObjectItemCaseSensitive(resp, "choices")) {
        cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
        cJSON *call;
        cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(msg, "tool_calls")) {
            cJSON_DeleteItemFromObjectCaseSensitive(call, "index");
        }
    }
    free(acc);
    return resp;
}

/* ---------- playing ---------- */

typedef struct {
    cJSON *response; /* on success */
    cJSON *error;    /* on failure: the error JSON */
    int chunks;
    cJSON *events;   /* Responses streams: the event types in order (else NULL) */
} outcome;

/* What a step calls: chat completions, embeddings or the Responses API. */
typedef enum { KIND_CHAT, KIND_EMBED, KIND_RESPONSES } call_kind;

static cJSON *last_error_json(void) {
    const sp_error *e = sp_last_error();
    return e ? cJSON_Parse(e->json) : cJSON_CreateObject();
}

static int on_chunk(void *user_data, const char *chunk_json) {
    acc_push((stream_acc *)user_data, chunk_json);
    return 0;
}

/* A one-shot latch the async completion callback releases. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    sp_status status;
    char *response;
    char *error_json;
} latch;

static void on_done(void *user_data, sp_status status, const char *response_json,
                    const sp_error *error) {
    latch *l = user_data;
    pthread_mutex_lock(&l->mu);
    l->status = status;
    l->response = response_json ? strdup(response_json) : NULL;
    l->error_json = error ? strdup(error->json) : NULL;
    l->done = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static outcome run_async(const sp_gateway *gw, call_kind kind, const char *req, const char *ctx) {
    outcome o = {0};
    latch l = {.done = 0};
    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.cv, NULL);
    sp_status st = kind == KIND_EMBED       ? sp_embed_async(gw, req, ctx, on_done, &l)
                   : kind == KIND_RESPONSES ? sp_responses_async(gw, req, ctx, on_done, &l)
                                            : sp_chat_async(gw, req, ctx, on_done, &l);
    if (st != SP_OK) {
        o.error = last_error_json();
    } else {
        pthread_mutex_lock(&l.mu);
        while (!l.done) pthread_cond_wait(&l.cv, &l.mu);
        pthread_mutex_unlock(&l.mu);
        if (l.status == SP_OK)
            o.response = cJSON_Parse(l.response);
        else
            o.error = cJSON_Parse(l.error_json);
    }
    free(l.response);
    free(l.error_json);
    pthread_mutex_destroy(&l.mu);
    pthread_cond_destroy(&l.cv);
    return o;
}

static outcome run_blocking(const sp_gateway *gw, call_kind kind, const char *req,
                            const char *ctx) {
    outcome o = {0};
    char *out = NULL;
    sp_status st = kind == KIND_EMBED       ? sp_embed(gw, req, ctx, &out)
                   : kind == KIND_RESPONSES ? sp_responses(gw, req, ctx, &out)
                                            : sp_chat(gw, req, ctx, &out);
    if (st == SP_OK)
        o.response = cJSON_Parse(out);
    else
        o.error = last_error_json();
    sp_string_free(out);
    return o;
}

static outcome run_stream(const sp_gateway *gw, stream_mode mode, const char *req,
                          const char *ctx) {
    outcome o = {0};
    stream_acc *acc = acc_new();
    char *facts = NULL;
    sp_status st;
    if (mode == STREAM_CALLBACK) {
        st = sp_chat_stream(gw, req, ctx, on_chunk, acc, &facts);
        if (st != SP_OK) o.error = last_error_json();
    } else {
        sp_stream *s = NULL;
        st = sp_stream_open(gw, req, ctx, &s);
        if (st != SP_OK) {
            o.error = last_error_json();
        } else {
            for (;;) {
                char *chunk = NULL;
                st = sp_stream_next(s, &chunk);
                if (st != SP_OK) {
                    o.error = last_error_json();
                    break;
                }
                if (chunk == NULL) break;
                acc_push(acc, chunk);
                sp_string_free(chunk);
            }
            sp_stream_facts(s, &facts);
            sp_stream_close(s);
        }
    }
    o.chunks = acc_count(acc);
    cJSON *resp = acc_finish(acc);
    if (o.error == NULL) {
        if (facts) cJSON_AddItemToObject(resp, "switchpoint", cJSON_Parse(facts));
        o.response = resp;
    } else {
        cJSON_Delete(resp);
    }
    sp_string_free(facts);
    return o;
}

/* ---------- Responses steps (tests/scenarios/README.md "Responses steps") ---------- */

/* The text of every output_text part of every message item of a Response, joined. */
static char *output_text(const cJSON *response) {
    size_t cap = 1, len = 0;
    char *out = calloc(1, cap);
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(response, "output")) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "message") != 0) continue;
        const cJSON *part;
        cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(item, "content")) {
            const cJSON *ptype = cJSON_GetObjectItemCaseSensitive(part, "type");
            const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
            if (!cJSON_IsString(ptype) || strcmp(ptype->valuestring, "output_text") != 0 ||
                !cJSON_IsString(text))
                continue;
            size_t n = strlen(text->valuestring);
            cap = len + n + 1;
            out = realloc(out, cap);
            memcpy(out + len, text->valuestring, n + 1);
            len += n;
        }
    }
    return out;
}

/* A whole Response step's outcome: the Response with `output_text` added. */
static outcome with_output_text(outcome o) {
    if (o.response) {
        char *text = output_text(o.response);
        cJSON_AddStringToObject(o.response, "output_text", text);
        free(text);
    }
    return o;
}

/* Folds Responses events: their types, the text deltas, and the final Response. */
typedef struct {
    cJSON *types;
    cJSON *final;
    char *text;
    size_t len;
} event_folder;

static void fold_event(event_folder *f, const char *event_json) {
    cJSON *event = cJSON_Parse(event_json);
    if (event == NULL) return;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(event, "type");
    const char *t = cJSON_IsString(type) ? type->valuestring : "";
    cJSON_AddItemToArray(f->types, cJSON_CreateString(t));
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(event, "delta");
    if (strcmp(t, "response.output_text.delta") == 0 && cJSON_IsString(delta)) {
        size_t n = strlen(delta->valuestring);
        f->text = realloc(f->text, f->len + n + 1);
        memcpy(f->text + f->len, delta->valuestring, n + 1);
        f->len += n;
    }
    if (strcmp(t, "response.completed") == 0 || strcmp(t, "response.incomplete") == 0) {
        cJSON_Delete(f->final);
        f->final = cJSON_DetachItemFromObjectCaseSensitive(event, "response");
    }
    cJSON_Delete(event);
}

static int on_event(void *user_data, const char *event_json) {
    fold_event((event_folder *)user_data, event_json);
    return 0;
}

static outcome run_responses_stream(const sp_gateway *gw, stream_mode mode, const char *req,
                                    const char *ctx) {
    outcome o = {0};
    event_folder f = {.types = cJSON_CreateArray(), .final = NULL, .text = calloc(1, 1), .len = 0};
    if (mode == STREAM_CALLBACK) {
        if (sp_responses_stream(gw, req, ctx, on_event, &f, NULL) != SP_OK)
            o.error = last_error_json();
    } else {
        sp_stream *s = NULL;
        if (sp_responses_stream_open(gw, req, ctx, &s) != SP_OK) {
            o.error = last_error_json();
        } else {
            for (;;) {
                char *event = NULL;
                if (sp_stream_next(s, &event) != SP_OK) {
                    o.error = last_error_json();
                    break;
                }
                if (event == NULL) break;
                fold_event(&f, event);
                sp_string_free(event);
            }
            sp_stream_close(s);
        }
    }
    o.chunks = cJSON_GetArraySize(f.types);
    o.events = f.types;
    if (o.error == NULL && f.final == NULL) {
        o.error = cJSON_CreateObject();
        cJSON_AddStringToObject(o.error, "message", "the stream ended without a final Response");
    } else if (o.error == NULL) {
        cJSON_AddStringToObject(f.final, "output_text", f.text);
        o.response = f.final;
        f.final = NULL;
    }
    cJSON_Delete(f.final);
    free(f.text);
    return o;
}

/* The listed event types occur in `got` in this order (others may come between). */
static int events_in_order(const cJSON *want, const cJSON *got, char *err, size_t errlen) {
    int at = 0, n = got ? cJSON_GetArraySize(got) : 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, want) {
        while (at < n && strcmp(cJSON_GetArrayItem(got, at)->valuestring, w->valuestring) != 0)
            at++;
        if (at >= n) {
            char *s = got ? cJSON_PrintUnformatted(got) : NULL;
            snprintf(err, errlen, "expected event %s (in order) among %.1500s", w->valuestring,
                     s ? s : "[]");
            free(s);
            return 0;
        }
        at++;
    }
    return 1;
}

/* A usage query step: `request` is {"group_by", "since"}, both optional (total, 0). */
static outcome run_usage(const sp_gateway *gw, const cJSON *request) {
    outcome o = {0};
    const cJSON *group_by = cJSON_GetObjectItemCaseSensitive(request, "group_by");
    const cJSON *since = cJSON_GetObjectItemCaseSensitive(request, "since");
    char *out = NULL;
    sp_status st = sp_gateway_usage(gw, cJSON_IsNumber(since) ? since->valuedouble : 0.0,
                                    cJSON_IsString(group_by) ? group_by->valuestring : NULL,
                                    &out);
    if (st == SP_OK)
        o.response = cJSON_Parse(out);
    else
        o.error = last_error_json();
    sp_string_free(out);
    return o;
}

/* ---------- policy steps (tests/scenarios/README.md "Policy steps") ---------- */

/* Whether `call` is an admin call (keys, audit, reload). */
static int is_admin(const char *call) {
    const char *admin[] = {"create_key", "update_key", "revoke_key", "get_key",
                           "list_keys",  "audit",      "reload"};
    for (size_t i = 0; i < sizeof admin / sizeof admin[0]; i++)
        if (strcmp(call, admin[i]) == 0) return 1;
    return 0;
}

/* The string member `key` of `obj`, or NULL. */
static const char *member(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An admin step: `request` is the call's argument, `actor` the step's actor. */
static outcome run_admin(const sp_gateway *gw, const char *call, const cJSON *request,
                         const char *actor) {
    outcome o = {0};
    char *out = NULL, *text = NULL;
    sp_status st;
    if (strcmp(call, "create_key") == 0) {
        text = cJSON_PrintUnformatted(request);
        st = sp_keys_create(gw, text, actor, &out);
    } else if (strcmp(call, "update_key") == 0) {
        text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(request, "patch"));
        st = sp_keys_update(gw, member(request, "id"), text, actor, &out);
    } else if (strcmp(call, "revoke_key") == 0) {
        st = sp_keys_revoke(gw, member(request, "id"), actor, &out);
    } else if (strcmp(call, "get_key") == 0) {
        st = sp_keys_get(gw, member(request, "id"), &out);
    } else if (strcmp(call, "list_keys") == 0) {
        st = sp_keys_list(gw, &out);
    } else if (strcmp(call, "audit") == 0) {
        const cJSON *since = cJSON_GetObjectItemCaseSensitive(request, "since");
        st = sp_audit(gw, cJSON_IsNumber(since) ? (int64_t)(since->valuedouble * 1000.0) : 0,
                      &out);
    } else { /* reload */
        text = cJSON_PrintUnformatted(request);
        st = sp_gateway_reload(gw, text, actor);
    }
    if (st != SP_OK)
        o.error = last_error_json();
    else
        o.response = out ? cJSON_Parse(out) : cJSON_CreateNull();
    sp_string_free(out);
    free(text);
    return o;
}

/* ---------- host guardrail hooks (README "Policy steps", the scenario's `hooks`) ---------- */

/* `text` with every `from` replaced by `to` (malloc'd). */
static char *replace_all(const char *text, const char *from, const char *to) {
    size_t flen = strlen(from), tlen = strlen(to), n = 0;
    for (const char *p = strstr(text, from); flen && p; p = strstr(p + flen, from)) n++;
    char *out = malloc(strlen(text) + n * tlen + 1), *w = out;
    for (const char *p = text;;) {
        const char *hit = flen ? strstr(p, from) : NULL;
        if (hit == NULL) {
            strcpy(w, p);
            break;
        }
        memcpy(w, p, (size_t)(hit - p));
        w += hit - p;
        memcpy(w, to, tlen);
        w += tlen;
        p = hit + flen;
    }
    return out;
}

/* A scenario hook's answer to one event (the rules of the README, as the Rust runner's
 * scenario_hook_answer): deny_if_contains, then replace, else allow. */
static cJSON *hook_answer(const cJSON *hook, const cJSON *event) {
    int input = strcmp(member(event, "stage") ? member(event, "stage") : "", "input") == 0;
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(event, "messages");
    const char *needle = member(hook, "deny_if_contains");
    if (needle) {
        char *hay = input ? cJSON_PrintUnformatted(messages) : NULL;
        const char *text = input ? hay : member(event, "content");
        int hit = text && strstr(text, needle) != NULL;
        free(hay);
        if (hit) {
            cJSON *deny = cJSON_CreateObject();
            cJSON_AddStringToObject(deny, "action", "deny");
            const cJSON *reason = cJSON_GetObjectItemCaseSensitive(hook, "reason");
            cJSON_AddItemToObject(deny, "reason",
                                  reason ? cJSON_Duplicate(reason, 1) : cJSON_CreateNull());
            return deny;
        }
    }
    const cJSON *pair = cJSON_GetObjectItemCaseSensitive(hook, "replace");
    if (cJSON_GetArraySize(pair) == 2) {
        const char *from = cJSON_GetArrayItem(pair, 0)->valuestring;
        const char *to = cJSON_GetArrayItem(pair, 1)->valuestring;
        if (input) {
            cJSON *copy = cJSON_Duplicate(messages, 1);
            int changed = 0;
            cJSON *m;
            cJSON_ArrayForEach(m, copy) {
                const char *text = member(m, "content");
                if (text && strstr(text, from)) {
                    char *next = replace_all(text, from, to);
                    cJSON_ReplaceItemInObjectCaseSensitive(m, "content", cJSON_CreateString(next));
                    free(next);
                    changed = 1;
                }
            }
            if (changed) {
                cJSON *rewrite = cJSON_CreateObject();
                cJSON_AddStringToObject(rewrite, "action", "rewrite");
                cJSON_AddItemToObject(rewrite, "messages", copy);
                return rewrite;
            }
            cJSON_Delete(copy);
        } else {
            const char *text = member(event, "content");
            if (text && strstr(text, from)) {
                char *next = replace_all(text, from, to);
                cJSON *rewrite = cJSON_CreateObject();
                cJSON_AddStringToObject(rewrite, "action", "rewrite");
                cJSON_AddStringToObject(rewrite, "content", next);
                free(next);
                return rewrite;
            }
        }
    }
    cJSON *allow = cJSON_CreateObject();
    cJSON_AddStringToObject(allow, "action", "allow");
    return allow;
}

/* The guardrail callback of one scenario hook (`user_data` is the hook's JSON object). */
static int scenario_hook(void *user_data, const char *event_json, char **verdict_json_out) {
    cJSON *event = cJSON_Parse(event_json);
    if (event == NULL) {
        *verdict_json_out = sp_string_dup("the event is not JSON");
        return 1;
    }
    cJSON *answer = hook_answer((const cJSON *)user_data, event);
    char *text = cJSON_PrintUnformatted(answer);
    *verdict_json_out = sp_string_dup(text);
    free(text);
    cJSON_Delete(answer);
    cJSON_Delete(event);
    return 0;
}

/* Replaces every "${MOCK_URL}" in `text` (malloc'd result). */
static char *substitute(const char *text, const char *url) {
    const char *key = "${MOCK_URL}";
    size_t klen = strlen(key), ulen = strlen(url), n = 0;
    for (const char *p = strstr(text, key); p; p = strstr(p + klen, key)) n++;
    char *out = malloc(strlen(text) + n * ulen + 1), *w = out;
    for (const char *p = text;;) {
        const char *hit = strstr(p, key);
        if (hit == NULL) {
            strcpy(w, p);
            break;
        }
        memcpy(w, p, (size_t)(hit - p));
        w += hit - p;
        memcpy(w, url, ulen);
        w += ulen;
        p = hit + klen;
    }
    return out;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

/* The last mock log entry, polled briefly since the mock records a response's end
 * asynchronously (see tests/mock-provider/README.md). */
static cJSON *last_log_entry(const mock_provider *mock, const cJSON *expect_up) {
    cJSON *last = NULL;
    for (int attempt = 0; attempt < 50; attempt++) {
        char *text = mock_log(mock);
        cJSON *log = text ? cJSON_Parse(text) : NULL;
        free(text);
        int n = log ? cJSON_GetArraySize(log) : 0;
        cJSON_Delete(last);
        last = n > 0 ? cJSON_DetachItemFromArray(log, n - 1) : NULL;
        cJSON_Delete(log);
        char err[16];
        if (last && json_matches(expect_up, last, "", err, sizeof err)) break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return last;
}

static int check_step(const cJSON *step, const outcome *o, const mock_provider *mock,
                      char *err, size_t errlen) {
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(step, "expect");
    const cJSON *want_resp = cJSON_GetObjectItemCaseSensitive(expect, "response");
    const cJSON *want_err = cJSON_GetObjectItemCaseSensitive(expect, "error");
    if (want_resp && !want_err) {
        if (o->error) {
            char *s = cJSON_PrintUnformatted(o->error);
            snprintf(err, errlen, "expected a response, got error %s", s);
            free(s);
            return 0;
        }
        if (!json_matches(want_resp, o->response, "response", err, errlen)) return 0;
    } else if (want_err && !want_resp) {
        if (!o->error) {
            char *s = cJSON_PrintUnformatted(o->response);
            snprintf(err, errlen, "expected an error, got %.300s", s);
            free(s);
            return 0;
        }
        if (!json_matches(want_err, o->error, "error", err, errlen)) {
            char *s = cJSON_PrintUnformatted(o->error);
            size_t used = strlen(err);
            snprintf(err + used, errlen - used, " (error was: %s)", s);
            free(s);
            return 0;
        }
    } else {
        snprintf(err, errlen, "expect needs exactly one of response or error");
        return 0;
    }
    const cJSON *min = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(expect, "chunks"), "min");
    if (cJSON_IsNumber(min) && o->chunks < min->valueint) {
        snprintf(err, errlen, "expected at least %d chunks, got %d", min->valueint, o->chunks);
        return 0;
    }
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(expect, "events");
    if (events && !events_in_order(events, o->events, err, errlen)) return 0;
    const cJSON *up = cJSON_GetObjectItemCaseSensitive(expect, "upstream");
    if (up) {
        cJSON *last = last_log_entry(mock, up);
        int ok = json_matches(up, last, "upstream", err, errlen);
        cJSON_Delete(last);
        if (!ok) return 0;
    }
    return 1;
}

int play_scenario(const char *file, const mock_provider *mock, stream_mode smode,
                  call_mode cmode, int *steps) {
    char *raw = read_file(file);
    if (raw == NULL) {
        printf("FAIL %s: cannot read\n", file);
        return 1;
    }
    char *text = substitute(raw, mock->url);
    free(raw);
    cJSON *sc = cJSON_Parse(text);
    free(text);
    if (sc == NULL) {
        printf("FAIL %s: not JSON\n", file);
        return 1;
    }
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    char *config = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(sc, "config"));
    sp_gateway *gw = NULL;
    if (sp_gateway_new_from_json(config, &gw) != SP_OK) {
        printf("FAIL %s: config: %s\n", base, sp_last_error()->message);
        free(config);
        cJSON_Delete(sc);
        return 1;
    }
    free(config);
    const cJSON *hook;
    cJSON_ArrayForEach(hook, cJSON_GetObjectItemCaseSensitive(sc, "hooks")) {
        uint64_t id = 0;
        if (sp_guardrail_add(gw, scenario_hook, (void *)hook, &id) != SP_OK)
            printf("FAIL %s: cannot add a hook: %s\n", base, sp_last_error()->message);
    }
    int failures = 0, i = 0;
    const cJSON *step;
    cJSON_ArrayForEach(step, cJSON_GetObjectItemCaseSensitive(sc, "steps")) {
        const char *name = cJSON_GetObjectItemCaseSensitive(step, "name")->valuestring;
        const char *call = cJSON_GetObjectItemCaseSensitive(step, "call")->valuestring;
        mock_reset(mock);
        const cJSON *faults = cJSON_GetObjectItemCaseSensitive(step, "faults");
        if (faults) {
            char *f = cJSON_PrintUnformatted(faults);
            if (mock_push_script(mock, f) != 0) printf("  (could not queue faults %s)\n", f);
            free(f);
        }
        char *req = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(step, "request"));
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(step, "context");
        char *ctx = c ? cJSON_PrintUnformatted(c) : NULL;
        outcome o;
        const cJSON *stream_flag = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(step, "request"), "stream");
        int responses = strcmp(call, "responses") == 0;
        int streamed = strcmp(call, "chat_stream") == 0 || (responses && cJSON_IsTrue(stream_flag));
        if (strcmp(call, "chat_stream") == 0) {
            o = run_stream(gw, smode, req, ctx);
        } else if (responses && streamed) {
            o = run_responses_stream(gw, smode, req, ctx);
        } else if (strcmp(call, "usage") == 0) {
            o = run_usage(gw, cJSON_GetObjectItemCaseSensitive(step, "request"));
        } else if (is_admin(call)) {
            const char *actor = member(step, "actor");
            o = run_admin(gw, call, cJSON_GetObjectItemCaseSensitive(step, "request"),
                          actor ? actor : "scenario");
        } else {
            call_kind kind = responses                      ? KIND_RESPONSES
                             : strcmp(call, "embed") == 0 ? KIND_EMBED
                                                          : KIND_CHAT;
            o = cmode == CALL_ASYNC ? run_async(gw, kind, req, ctx)
                                    : run_blocking(gw, kind, req, ctx);
            if (responses) o = with_output_text(o);
        }
        char err[2048] = "";
        if (!check_step(step, &o, mock, err, sizeof err)) {
            printf("FAIL %s step %d (%s) [%s]: %s\n", base, i, name,
                   streamed                      ? (smode == STREAM_PULL ? "pull" : "callback")
                   : strcmp(call, "usage") == 0 ? "usage"
                   : is_admin(call)             ? "admin"
                   : cmode == CALL_ASYNC        ? "async"
                                                : "blocking",
                   err);
            failures++;
        }
        cJSON_Delete(o.response);
        cJSON_Delete(o.error);
        cJSON_Delete(o.events);
        free(req);
        free(ctx);
        i++;
        (*steps)++;
    }
    sp_gateway_free(gw);
    cJSON_Delete(sc);
    return failures;
}
