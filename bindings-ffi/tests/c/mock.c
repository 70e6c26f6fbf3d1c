/* The mock provider as a child process, and a tiny HTTP/1.0 client for its control API. */
#define _POSIX_C_SOURCE 200809L
#include "mock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int mock_start(mock_provider *m, const char *binary) {
    int in[2], out[2];
    memset(m, 0, sizeof *m);
    if (pipe(in) != 0 || pipe(out) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execl(binary, binary, "--port", "0", "--exit-on-stdin-eof", (char *)NULL);
        perror("exec mock-provider");
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    m->pid = pid;
    m->stdin_fd = in[1];
    char line[256];
    size_t n = 0;
    while (n + 1 < sizeof line) {
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0) break;
        if (line[n] == '\n') break;
        n++;
    }
    line[n] = '\0';
    close(out[0]);
    const char *at = strstr(line, "http://127.0.0.1:");
    if (at == NULL) {
        fprintf(stderr, "mock-provider printed no URL: '%s'\n", line);
        mock_stop(m);
        return -1;
    }
    m->port = atoi(at + strlen("http://127.0.0.1:"));
    snprintf(m->url, sizeof m->url, "http://127.0.0.1:%d", m->port);
    return 0;
}

void mock_stop(mock_provider *m) {
    if (m->stdin_fd > 0) close(m->stdin_fd);
    m->stdin_fd = -1;
    if (m->pid > 0) {
        int status;
        waitpid(m->pid, &status, 0);
    }
    m->pid = 0;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int mock_http(const mock_provider *m, const char *method, const char *path, const char *body,
              char **body_out) {
    if (body_out) *body_out = NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)m->port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    size_t blen = body ? strlen(body) : 0;
    char head[512];
    int hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      method, path, blen);
    if (write_all(fd, head, (size_t)hn) != 0 || (blen && write_all(fd, body, blen) != 0)) {
        close(fd);
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        close(fd);
        return -1;
    }
    for (;;) {
        if (len + 1024 + 1 > cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                close(fd);
                return -1;
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    int status = -1;
    if (sscanf(buf, "HTTP/%*s %d", &status) != 1) status = -1;
    char *sep = strstr(buf, "\r\n\r\n");
    if (body_out && sep) {
        size_t off = (size_t)(sep + 4 - buf);
        memmove(buf, buf + off, len - off + 1);
        *body_out = buf;
    } else {
        free(buf);
    }
    return status;
}

int mock_reset(const mock_provider *m) {
    int a = mock_http(m, "DELETE", "/_mock/log", NULL, NULL);
    int b = mock_http(m, "DELETE", "/_mock/script", NULL, NULL);
    return (a / 100 == 2 && b / 100 == 2) ? 0 : -1;
}

int mock_push_script(const mock_provider *m, const char *faults_json) {
    return mock_http(m, "POST", "/_mock/script", faults_json, NULL) == 200 ? 0 : -1;
}

char *mock_log(const mock_provider *m) {
    char *body = NULL;
    if (mock_http(m, "GET", "/_mock/log", NULL, &body) != 200) {
        free(body);
        return NULL;
    }
    return body;
}
