// Records what llhttp reports for one input, for the differential fuzz target.
//
// Plain C types only, so that Swift imports this header without seeing llhttp's own: the glue is
// the one file compiled against swift-nio's CNIOLLHTTP headers.
#ifndef LLHTTP_TRACE_H
#define LLHTTP_TRACE_H

#include <stddef.h>
#include <stdint.h>

enum llt_kind {
    LLT_METHOD = 1,        // span of the method
    LLT_URL,               // span of the request-target
    LLT_PROTOCOL,          // span of the protocol name ("HTTP")
    LLT_FIELD,             // span of a field name (head or trailers)
    LLT_FIELD_DONE,
    LLT_VALUE,             // span of a field value
    LLT_VALUE_DONE,
    LLT_HEADERS_DONE,      // major, minor, keep_alive, upgrade, flags, value = content_length
    LLT_BODY,              // span of body bytes
    LLT_CHUNK_HEADER,      // a chunk-size line ended; value = the chunk size
    LLT_CHUNK_DONE,        // a chunk's data and its CRLF ended
    LLT_MESSAGE_DONE,
};

typedef struct {
    uint32_t kind;
    // Input offset of the byte during whose llhttp_execute the callback ran: the input is fed one
    // byte at a time, so callbacks without a span still say where they happened.
    uint32_t at;
    // Span callbacks: offset and length of the span in the input.
    uint32_t start;
    uint32_t length;
    uint64_t value;
    uint16_t flags;
    uint8_t major;
    uint8_t minor;
    uint8_t keep_alive;
    uint8_t upgrade;
} llt_event;

typedef struct {
    const llt_event *events;
    size_t count;
    // llhttp's errno (0 when every byte was taken) and the input offset it stopped at.
    int32_t error;
    uint32_t error_at;
    const char *error_name;
    const char *error_reason;
    // llhttp handed the rest of the stream to another protocol (HPE_PAUSED_UPGRADE) after this offset.
    int32_t upgraded;
    uint32_t upgraded_at;
} llt_trace;

// Parses `data` as a stream of HTTP requests with llhttp in strict mode (every lenient flag off),
// one byte per llhttp_execute call. The trace stays valid until the next call.
llt_trace llt_run(const uint8_t *data, size_t size);

#endif
