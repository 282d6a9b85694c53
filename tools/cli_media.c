/*
 * cli_media.c — what `maif add` stores about an image or a sound when
 * asked: the analysis of maif_media_metadata (--analyze), and a caption
 * given by the agent (--caption) or by an external captioner command
 * (--captioner). maif has no captioning model and never invents a caption.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs `sh -c cmd` with the payload on its stdin; its stdout (at most
 * CLI_CAPTION_MAX bytes, trimmed) becomes the caption. Returns 0 or an
 * exit code (the error printed). */
static int run_captioner(const char *cmd, const uint8_t *data, size_t n, char *out, size_t cap)
{
    int in[2], outp[2];
    if (pipe(in)) return cli_err(cmd, "--captioner: pipe: %s", strerror(errno)), CLI_EXIT_USAGE;
    if (pipe(outp)) {
        close(in[0]), close(in[1]);
        return cli_err(cmd, "--captioner: pipe: %s", strerror(errno)), CLI_EXIT_USAGE;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]), close(in[1]), close(outp[0]), close(outp[1]);
        return cli_err(cmd, "--captioner: fork: %s", strerror(errno)), CLI_EXIT_USAGE;
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(outp[1], 1);
        close(in[0]), close(in[1]), close(outp[0]), close(outp[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    (void)fcntl(in[1], F_SETFL, O_NONBLOCK);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN); /* a captioner that stops reading is not our death */
    size_t sent = 0, got = 0;
    int wfd = in[1], rfd = outp[0], over = 0, timed_out = 0;
    uint64_t deadline = now_ms() + CLI_CAPTION_TIMEOUT_MS;
    while (rfd >= 0) {
        struct pollfd p[2] = {{rfd, POLLIN, 0}, {wfd, POLLOUT, 0}};
        uint64_t t = now_ms();
        if (t >= deadline) {
            timed_out = 1;
            break;
        }
        int k = poll(p, wfd >= 0 ? 2 : 1, (int)(deadline - t));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) break;
        if (wfd >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = sent < n ? write(wfd, data + sent, n - sent > 65536 ? 65536 : n - sent) : 0;
            if (w > 0) sent += (size_t)w;
            if (sent == n || (w < 0 && errno != EAGAIN)) {
                close(wfd);
                wfd = -1;
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char tmp[1024];
            ssize_t r = read(rfd, tmp, sizeof tmp);
            if (r <= 0) {
                close(rfd);
                rfd = -1;
            } else if (got + (size_t)r >= cap) {
                over = 1;
                break;
            } else {
                memcpy(out + got, tmp, (size_t)r);
                got += (size_t)r;
            }
        }
    }
    if (wfd >= 0) close(wfd);
    if (rfd >= 0) close(rfd);
    if (timed_out || over) kill(pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    signal(SIGPIPE, old);
    if (timed_out) return cli_err(cmd, "--captioner: no caption within %d s", CLI_CAPTION_TIMEOUT_MS / 1000), CLI_EXIT_USAGE;
    if (over) return cli_err(cmd, "--captioner: caption longer than %d bytes", CLI_CAPTION_MAX), CLI_EXIT_USAGE;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return cli_err(cmd, "--captioner: the command failed (%s %d)", WIFEXITED(st) ? "exit status" : "signal",
                       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st)), CLI_EXIT_USAGE;
    while (got && (out[got - 1] == '\n' || out[got - 1] == '\r' || out[got - 1] == ' ' || out[got - 1] == '\t')) got--;
    size_t s = 0;
    while (s < got && (out[s] == ' ' || out[s] == '\t' || out[s] == '\n')) s++;
    memmove(out, out + s, got - s);
    out[got - s] = 0;
    if (!out[0]) return cli_err(cmd, "--captioner: the command printed no caption"), CLI_EXIT_USAGE;
    return 0;
}

int cli_media_meta(const char *subject, uint32_t type, int analyze, const char *caption, const char *captioner,
                   const uint8_t *data, size_t n, const char *user_meta, char **merged)
{
    *merged = NULL;
    json_error_t je;
    json_t *obj = user_meta ? json_loads(user_meta, JSON_REJECT_DUPLICATES, &je) : json_object();
    if (!obj || !json_is_object(obj)) {
        json_decref(obj);
        cli_err(subject, "--meta: not a JSON object");
        return CLI_EXIT_USAGE;
    }
    int ex = 0;
    if (analyze) {
        size_t len = 0;
        int rc = maif_media_metadata(type, data, n, NULL, 0, &len);
        char *buf = rc == MAIF_ELIMIT && len ? malloc(len + 1) : NULL;
        if (buf) rc = maif_media_metadata(type, data, n, buf, len + 1, &len);
        if (rc) {
            cli_err(subject, "--analyze: %s (nothing added)", buf || !len ? maif_last_errmsg() : "out of memory");
            ex = CLI_EXIT_USAGE;
        } else {
            json_t *a = json_loadb(buf, len, 0, &je);
            const char *k;
            json_t *v;
            json_object_foreach(a, k, v) {
                if (!json_object_get(obj, k)) json_object_set(obj, k, v); /* the agent's own keys win */
            }
            json_decref(a);
        }
        free(buf);
    }
    char cap[CLI_CAPTION_MAX];
    if (!ex && captioner && (ex = run_captioner(captioner, data, n, cap, sizeof cap)) == 0) caption = cap;
    if (!ex && caption) {
        json_t *c = json_string(caption);
        if (!c) {
            cli_err(subject, "--caption: not UTF-8 text");
            ex = CLI_EXIT_USAGE;
        } else {
            json_object_set_new(obj, "caption", c);
            json_object_set_new(obj, "caption_source", json_string(captioner ? "captioner" : "agent"));
        }
    }
    if (!ex && !(*merged = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS))) {
        cli_err(subject, "out of memory");
        ex = CLI_EXIT_USAGE;
    }
    json_decref(obj);
    return ex;
}
