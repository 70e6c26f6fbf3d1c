/* Playing the tests/scenarios files through the C API, with the Rust runner's matching rules
 * (core/tests/scenarios.rs, tests/scenarios/README.md). */
#ifndef SP_TEST_SCENARIO_H
#define SP_TEST_SCENARIO_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "mock.h"

/* How chat_stream steps are read: a callback per chunk, or pull-style sp_stream_next. */
typedef enum { STREAM_CALLBACK, STREAM_PULL } stream_mode;
/* How chat/embed steps are made: blocking, or through the *_async completion callback. */
typedef enum { CALL_BLOCKING, CALL_ASYNC } call_mode;

/* The README's matching rule; on a mismatch writes the path and values to `err`. 1 = match. */
int json_matches(const cJSON *expected, const cJSON *actual, const char *path, char *err,
                 size_t errlen);

/* Folds stream chunks into the response they add up to (README "Assembling a stream"). */
typedef struct stream_acc stream_acc;
stream_acc *acc_new(void);
void acc_push(stream_acc *acc, const char *chunk_json);
/* The assembled response (caller deletes it); frees the accumulator. */
cJSON *acc_finish(stream_acc *acc);
int acc_count(const stream_acc *acc);

/* Plays one scenario file; returns the number of failed steps (0 = all passed) and adds
 * the number of steps played to *steps. */
int play_scenario(const char *file, const mock_provider *mock, stream_mode smode,
                  call_mode cmode, int *steps);

#endif
