#ifndef ALLOCATION_SITES_H
#define ALLOCATION_SITES_H

#include <stddef.h>

/// Where each counted allocation came from, for `--sites`: a stack of return addresses per
/// allocation, kept in memory reserved before counting starts so that recording never allocates.

/// Reserves room for `capacity` stacks of at most `depth` frames and warms up `backtrace`, whose
/// first call loads the unwinder (and allocates). Call with counting off. Returns 0 on failure.
int allocation_sites_prepare(size_t capacity, int depth);

/// The malloc-interposer hook: records the calling stack. Allocations made while recording
/// (there should be none) are not recorded; stacks past the capacity are counted as dropped.
void allocation_sites_record(size_t size);

/// Stacks recorded since `allocation_sites_prepare` (at most its capacity).
size_t allocation_sites_recorded(void);

/// Allocations that found the buffer full.
size_t allocation_sites_dropped(void);

/// The `index`th stack: sets `*frames` and returns its depth.
int allocation_sites_stack(size_t index, void *const **frames, size_t *size);

/// The object file (executable or shared library) that holds `address`, and where it was
/// loaded; 0 when none does. Here because Glibc's Swift module does not export `dladdr`.
int allocation_sites_object(const void *address, const char **path, const void **base);

#endif
