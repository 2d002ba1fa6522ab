// llhttp side of the differential fuzz target: runs swift-nio's vendored llhttp over an input and
// records its callbacks with input offsets. Compiled by scripts/fuzz-differential.sh only.
#include "llhttp_trace.h"

#include <stdlib.h>
#include <string.h>

#include "c_nio_llhttp.h"

static llt_event *events;
static size_t count;
static size_t capacity;
static const uint8_t *input;
static uint32_t feeding;

static void push(uint32_t kind, const char *at, size_t length) {
    if (count == capacity) {
        capacity = capacity ? capacity * 2 : 1024;
        events = realloc(events, capacity * sizeof *events);
        if (!events) abort();
    }
    llt_event event = {0};
    event.kind = kind;
    event.at = feeding;
    if (at) {
        event.start = (uint32_t)((const uint8_t *)at - input);
        event.length = (uint32_t)length;
    }
    events[count++] = event;
}

static int span(llhttp_t *parser, uint32_t kind, const char *at, size_t length) {
    (void)parser;
    if (length > 0) push(kind, at, length);
    return 0;
}

static int on_method(llhttp_t *p, const char *at, size_t n) { return span(p, LLT_METHOD, at, n); }
static int on_url(llhttp_t *p, const char *at, size_t n) { return span(p, LLT_URL, at, n); }
static int on_protocol(llhttp_t *p, const char *at, size_t n) { return span(p, LLT_PROTOCOL, at, n); }
static int on_field(llhttp_t *p, const char *at, size_t n) { return span(p, LLT_FIELD, at, n); }
static int on_value(llhttp_t *p, const char *at, size_t n) { return span(p, LLT_VALUE, at, n); }
static int on_body(llhttp_t *p, const char *at, size_t n) { return span(p, LLT_BODY, at, n); }

// A field or value may arrive in several spans (one per byte here) and an empty value in none,
// so the *_complete callbacks are what delimit them.
static int on_field_done(llhttp_t *p) { (void)p; push(LLT_FIELD_DONE, NULL, 0); return 0; }
static int on_value_done(llhttp_t *p) { (void)p; push(LLT_VALUE_DONE, NULL, 0); return 0; }
static int on_chunk_done(llhttp_t *p) { (void)p; push(LLT_CHUNK_DONE, NULL, 0); return 0; }
static int on_message_done(llhttp_t *p) { (void)p; push(LLT_MESSAGE_DONE, NULL, 0); return 0; }

static int on_chunk_header(llhttp_t *p) {
    push(LLT_CHUNK_HEADER, NULL, 0);
    events[count - 1].value = p->content_length;
    return 0;
}

static int on_headers_done(llhttp_t *p) {
    push(LLT_HEADERS_DONE, NULL, 0);
    llt_event *event = &events[count - 1];
    event->value = p->content_length;
    event->flags = p->flags;
    event->major = p->http_major;
    event->minor = p->http_minor;
    event->keep_alive = (uint8_t)c_nio_llhttp_should_keep_alive(p);
    event->upgrade = p->upgrade;
    return 0;
}

llt_trace llt_run(const uint8_t *data, size_t size) {
    static llhttp_settings_t settings;
    static int ready;
    if (!ready) {
        c_nio_llhttp_settings_init(&settings);
        settings.on_method = on_method;
        settings.on_url = on_url;
        settings.on_protocol = on_protocol;
        settings.on_header_field = on_field;
        settings.on_header_field_complete = on_field_done;
        settings.on_header_value = on_value;
        settings.on_header_value_complete = on_value_done;
        settings.on_headers_complete = on_headers_done;
        settings.on_body = on_body;
        settings.on_chunk_header = on_chunk_header;
        settings.on_chunk_complete = on_chunk_done;
        settings.on_message_complete = on_message_done;
        ready = 1;
    }
    llhttp_t parser;
    // Strict mode is llhttp's default: every lenient flag starts off and none is set here. (NIO's
    // LLHTTP_STRICT_MODE define is passed too, though llhttp 9 no longer reads it.)
    c_nio_llhttp_init(&parser, HTTP_REQUEST, &settings);
    count = 0;
    input = data;
    llt_trace trace = {0};
    for (size_t index = 0; index < size; index++) {
        feeding = (uint32_t)index;
        llhttp_errno_t error = c_nio_llhttp_execute(&parser, (const char *)data + index, 1);
        if (error == HPE_PAUSED_UPGRADE) {
            trace.upgraded = 1;
            trace.upgraded_at = (uint32_t)index;
            break;
        }
        if (error != HPE_OK) {
            trace.error = (int32_t)error;
            trace.error_at = (uint32_t)index;
            trace.error_name = c_nio_llhttp_errno_name(error);
            trace.error_reason = c_nio_llhttp_get_error_reason(&parser);
            break;
        }
    }
    trace.events = events;
    trace.count = count;
    return trace;
}
