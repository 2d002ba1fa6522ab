#ifndef LOOPWORK_CLIBPQ_H
#define LOOPWORK_CLIBPQ_H

// libpq's declarations, from Debian's libpq-dev (the path it installs them under, so no
// pkg-config is needed: pkg-config would also link libpq). LoopworkPostgres does not link libpq;
// it loads libpq.so.5 the first time a connection opens (see LibPQ.swift), through pointers of
// the types below. They are taken from libpq's own prototypes, so they cannot drift from them.
#include <postgresql/libpq-fe.h>

#define LOOPWORK_PQ_FUNCTION(name) typedef __typeof__(name) *loopwork_##name##_function;
LOOPWORK_PQ_FUNCTION(PQconnectStart)
LOOPWORK_PQ_FUNCTION(PQconnectPoll)
LOOPWORK_PQ_FUNCTION(PQstatus)
LOOPWORK_PQ_FUNCTION(PQsetnonblocking)
LOOPWORK_PQ_FUNCTION(PQsetNoticeProcessor)
LOOPWORK_PQ_FUNCTION(PQsocket)
LOOPWORK_PQ_FUNCTION(PQerrorMessage)
LOOPWORK_PQ_FUNCTION(PQfinish)
LOOPWORK_PQ_FUNCTION(PQsendQuery)
LOOPWORK_PQ_FUNCTION(PQsendQueryParams)
LOOPWORK_PQ_FUNCTION(PQflush)
LOOPWORK_PQ_FUNCTION(PQconsumeInput)
LOOPWORK_PQ_FUNCTION(PQisBusy)
LOOPWORK_PQ_FUNCTION(PQgetResult)
LOOPWORK_PQ_FUNCTION(PQclear)
LOOPWORK_PQ_FUNCTION(PQnotifies)
LOOPWORK_PQ_FUNCTION(PQfreemem)
LOOPWORK_PQ_FUNCTION(PQresultStatus)
LOOPWORK_PQ_FUNCTION(PQresStatus)
LOOPWORK_PQ_FUNCTION(PQresultErrorMessage)
LOOPWORK_PQ_FUNCTION(PQresultErrorField)
LOOPWORK_PQ_FUNCTION(PQnfields)
LOOPWORK_PQ_FUNCTION(PQntuples)
LOOPWORK_PQ_FUNCTION(PQfname)
LOOPWORK_PQ_FUNCTION(PQgetisnull)
LOOPWORK_PQ_FUNCTION(PQgetvalue)
LOOPWORK_PQ_FUNCTION(PQcmdTuples)
#undef LOOPWORK_PQ_FUNCTION

#endif
