/* SPDX-License-Identifier: MIT */
/* A fault-injection layer over the driver vtable, in the spirit of SQLite's
 * test VFS and faultsim loops. fd_install() wraps a connection's driver;
 * fd_arm() then makes the k-th fault point fail, once (transient) or from
 * then on (persistent). The failures are real: the statement at that point
 * is replaced by one the backend itself fails (SQLite: a function returning
 * SQLITE_BUSY or SQLITE_IOERR; PostgreSQL: RAISE with SQLSTATE 40001 or
 * 58030, or pg_terminate_backend() for a lost connection), so the
 * transaction state on the server is what such a failure leaves.
 *
 * Fault points, counted in order: each prepare, each statement of a run,
 * each cursor step (FD_BUSY, FD_IOERR); each statement of a run and each
 * cursor step (FD_LOST, PostgreSQL); each commit point (FD_COMMIT_LOST,
 * FD_REPLY_LOST, PostgreSQL): a COMMIT statement, or the last statement of
 * a pipeline that commits by itself. FD_COMMIT_LOST lets the commit happen
 * and then loses the connection before its answer is seen; FD_REPLY_LOST
 * also drops every row the batch returned. Rollbacks always reach the
 * server (BUSY and IOERR do not touch them): m2m cannot recover from a
 * ROLLBACK that silently does not run.
 *
 * One armed connection at a time (tests are single-threaded). */
#ifndef M2M_FAULTDRV_H
#define M2M_FAULTDRV_H

#include "internal.h"

enum { FD_BUSY, FD_IOERR, FD_LOST, FD_COMMIT_LOST, FD_REPLY_LOST, FD_NKINDS };

/* Wrap db's driver (idempotent). */
void fd_install(m2m_db *db);
/* Fail the k-th point (k >= 1) of kind's class. */
void fd_arm(int kind, long k, int persistent);
/* Stop injecting; returns how many faults fired since fd_arm. */
long fd_disarm(void);
/* Does kind apply to the current backend? */
int fd_applies(int kind);
/* The m2m code an injected fault of kind reports on the current backend. */
int fd_code(int kind);
/* Name of kind, for messages. */
const char *fd_name(int kind);
/* Nonzero: connections wrapped from now on take NOT IN over ids in the
 * driver's general form only, as for more ids than its not_in_few. */
extern int fd_many_ids;

#endif
