/* A cache hit through the C ABI (sp_chat: request JSON in, response JSON out), beside
 * baselines in the same process: a request refused at routing (the boundary, the request's
 * JSON decode and an error, no cache) and the same hit with a record callback registered.
 *
 * usage: cache_hit MOCK_PROVIDER_BINARY [CALLS]     (see bindings-ffi/BENCHMARKS.md)
 * Prints p50 / p90 / p99 / mean per call in microseconds. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock.h"
#include "switchpoint.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times `calls` calls of sp_chat(req, ctx) and prints the distribution; `want` is the status
 * every call must return. */
static void measure(const char *label, const sp_gateway *gw, const char *req, const char *ctx,
                    sp_status want, int calls) {
    double *t = malloc(sizeof(double) * (size_t)calls);
    double sum = 0;
    for (int i = 0; i < calls; i++) {
        char *out = NULL;
        double start = now_us();
        sp_status st = sp_chat(gw, req, ctx, &out);
        t[i] = now_us() - start;
        sp_string_free(out);
        if (st != want) {
            printf("%s: call %d returned %s\n", label, i, sp_status_name(st));
            exit(1);
        }
        sum += t[i];
    }
    qsort(t, (size_t)calls, sizeof t[0], cmp_double);
    printf("%-44s p50 %7.2f  p90 %7.2f  p99 %7.2f  mean %7.2f us  (%d calls)\n", label,
           t[calls / 2], t[calls * 9 / 10], t[calls * 99 / 100], sum / calls, calls);
    free(t);
}

static void count_record(void *user_data, const char *record_json) {
    (void)record_json;
    (*(volatile uint64_t *)user_data)++;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MOCK_PROVIDER_BINARY [CALLS]\n", argv[0]);
        return 2;
    }
    int calls = argc > 2 ? atoi(argv[2]) : 20000;
    mock_provider mock;
    if (mock_start(&mock, argv[1]) != 0) return 2;
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"providers\":{\"oai\":{\"kind\":\"openai\",\"base_url\":\"%s/v1\","
             "\"api_key\":\"k\"}},"
             "\"models\":{\"gpt\":{\"provider\":\"oai\",\"model\":\"gpt-4o-mini\"}},"
             "\"cache\":{\"enabled\":true,\"ttl\":\"1h\"}}",
             mock.url);
    sp_gateway *gw = NULL;
    if (sp_gateway_new_from_json(cfg, &gw) != SP_OK) {
        printf("config: %s\n", sp_last_error()->message);
        return 1;
    }
    const char *req =
        "{\"model\":\"gpt\",\"messages\":[{\"role\":\"system\",\"content\":\"Answer in one "
        "word.\"},{\"role\":\"user\",\"content\":\"What is the capital of France?\"}],"
        "\"temperature\":0}";
    const char *unknown =
        "{\"model\":\"nope\",\"messages\":[{\"role\":\"system\",\"content\":\"Answer in one "
        "word.\"},{\"role\":\"user\",\"content\":\"What is the capital of France?\"}],"
        "\"temperature\":0}";
    const char *ctx = "{\"user\":\"bench\",\"team\":\"a\"}";
    char *out = NULL;
    if (sp_chat(gw, req, ctx, &out) != SP_OK) return 1; /* fills the cache */
    sp_string_free(out);
    printf("libswitchpoint %s\n", sp_version());

    measure("baseline: refused at routing (not_found)", gw, unknown, ctx, SP_NOT_FOUND, calls);
    measure("cache hit (sp_chat)", gw, req, ctx, SP_OK, calls);
    volatile uint64_t records = 0;
    uint64_t id = 0;
    sp_gateway_add_observer(gw, count_record, (void *)&records, &id);
    measure("cache hit + a C record callback", gw, req, ctx, SP_OK, calls);
    sp_gateway_flush_telemetry(gw, 10);
    printf("records delivered to the callback: %llu\n", (unsigned long long)records);
    sp_gateway_remove_observer(gw, id);
    double t0 = now_us();
    char *text = NULL;
    sp_gateway_metrics_text(gw, &text);
    double t1 = now_us();
    char *rows = NULL;
    sp_gateway_usage(gw, 0, "user", &rows);
    double t2 = now_us();
    printf("sp_gateway_metrics_text %.0f us (%zu bytes), sp_gateway_usage %.0f us\n", t1 - t0,
           text ? strlen(text) : 0, t2 - t1);
    sp_string_free(text);
    sp_string_free(rows);
    sp_gateway_free(gw);
    mock_stop(&mock);
    return 0;
}
