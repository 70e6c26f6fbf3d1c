/* The mock provider as a child process, and a tiny HTTP/1.0 client for its control API. */
#ifndef SP_TEST_MOCK_H
#define SP_TEST_MOCK_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int stdin_fd;   /* closing it stops the mock (--exit-on-stdin-eof) */
    int port;
    char url[64];   /* "http://127.0.0.1:PORT" */
} mock_provider;

/* Starts `binary --port 0 --exit-on-stdin-eof` and reads its URL line. 0 on success. */
int mock_start(mock_provider *m, const char *binary);
/* Closes its stdin and waits for it to exit. */
void mock_stop(mock_provider *m);

/* One HTTP request to the mock; returns the status (or -1) and, when `body_out` is not NULL,
 * the response body as a malloc'd string the caller frees. */
int mock_http(const mock_provider *m, const char *method, const char *path, const char *body,
              char **body_out);

/* Clears the request log and the fault queue. 0 on success. */
int mock_reset(const mock_provider *m);
/* Queues faults (JSON text of an array). 0 on success. */
int mock_push_script(const mock_provider *m, const char *faults_json);
/* The request log as JSON text (malloc'd), or NULL. */
char *mock_log(const mock_provider *m);

#endif
