#ifndef LOOPWORK_CLIBPQ_H
#define LOOPWORK_CLIBPQ_H

// libpq, Debian's libpq-dev. Imported only by LoopworkPostgres, so an app that does not use
// PostgreSQL neither links nor loads it.
#include <libpq-fe.h>

#endif
