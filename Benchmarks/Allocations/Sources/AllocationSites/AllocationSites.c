#define _GNU_SOURCE
#include "AllocationSites.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

static void **g_frames;
static int *g_depths;
static size_t *g_sizes;
static size_t g_capacity;
static int g_depth;
static _Atomic size_t g_next;
static _Atomic size_t g_dropped;
// Per thread: backtrace may allocate (rarely), and that allocation calls the hook again.
static __thread int t_recording;

int allocation_sites_prepare(size_t capacity, int depth) {
    g_frames = calloc(capacity * (size_t)depth, sizeof(void *));
    g_depths = calloc(capacity, sizeof(int));
    g_sizes = calloc(capacity, sizeof(size_t));
    if (!g_frames || !g_depths || !g_sizes) return 0;
    g_capacity = capacity;
    g_depth = depth;
    void *warm[4];
    backtrace(warm, 4);
    atomic_store(&g_next, 0);
    atomic_store(&g_dropped, 0);
    return 1;
}

void allocation_sites_record(size_t size) {
    if (t_recording || !g_frames) return;
    t_recording = 1;
    size_t index = atomic_fetch_add_explicit(&g_next, 1, memory_order_relaxed);
    if (index < g_capacity) {
        g_depths[index] = backtrace(g_frames + index * (size_t)g_depth, g_depth);
        g_sizes[index] = size;
    } else {
        atomic_fetch_add_explicit(&g_dropped, 1, memory_order_relaxed);
    }
    t_recording = 0;
}

size_t allocation_sites_recorded(void) {
    size_t next = atomic_load(&g_next);
    return next < g_capacity ? next : g_capacity;
}

size_t allocation_sites_dropped(void) { return atomic_load(&g_dropped); }

int allocation_sites_stack(size_t index, void *const **frames, size_t *size) {
    *frames = g_frames + index * (size_t)g_depth;
    *size = g_sizes[index];
    return g_depths[index];
}

int allocation_sites_object(const void *address, const char **path, const void **base) {
    Dl_info info;
    if (!dladdr(address, &info) || !info.dli_fbase) return 0;
    *path = info.dli_fname;
    *base = info.dli_fbase;
    return 1;
}
