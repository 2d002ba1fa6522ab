#ifndef LOOPWORK_CLIBUV_H
#define LOOPWORK_CLIBUV_H

// The only C the project imports. libuv's handle "inheritance" (a uv_tcp_t* used as a
// uv_stream_t* or uv_handle_t*) is plain C casting that Swift cannot express without rebinding
// memory libuv still owns, so each cast is a tiny inline helper here. Nothing else lives here.
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>

static inline uv_handle_t *loopwork_tcp_as_handle(uv_tcp_t *tcp) { return (uv_handle_t *)tcp; }
static inline uv_stream_t *loopwork_tcp_as_stream(uv_tcp_t *tcp) { return (uv_stream_t *)tcp; }
static inline uv_handle_t *loopwork_stream_as_handle(uv_stream_t *stream) { return (uv_handle_t *)stream; }
static inline uv_handle_t *loopwork_async_as_handle(uv_async_t *async) { return (uv_handle_t *)async; }
static inline uv_handle_t *loopwork_timer_as_handle(uv_timer_t *timer) { return (uv_handle_t *)timer; }
static inline uv_handle_t *loopwork_check_as_handle(uv_check_t *check) { return (uv_handle_t *)check; }
static inline uv_handle_t *loopwork_idle_as_handle(uv_idle_t *idle) { return (uv_handle_t *)idle; }
static inline uv_handle_t *loopwork_signal_as_handle(uv_signal_t *signal) { return (uv_handle_t *)signal; }
static inline uv_handle_t *loopwork_poll_as_handle(uv_poll_t *poll) { return (uv_handle_t *)poll; }
static inline uv_req_t *loopwork_work_as_req(uv_work_t *work) { return (uv_req_t *)work; }
static inline uv_req_t *loopwork_fs_as_req(uv_fs_t *fs) { return (uv_req_t *)fs; }

// prctl is variadic, which Swift cannot call; names the calling thread for debuggers and top -H.
static inline void loopwork_set_thread_name(const char *name) {
    prctl(PR_SET_NAME, name, 0, 0, 0);
}

#endif
