/* SPDX-License-Identifier: MIT */
/* Plans: the statements a call sends, recorded instead of sent when the
 * call is explained (m2m_explain). */
#ifndef M2M_PLAN_H
#define M2M_PLAN_H

#include "core/db.h"

/* The call now starting is explained when m2m_explain armed db: its plan
 * is db->explain until m2m__explain_end hands it to the caller (M2M_OK) or
 * drops it (an error). Returns whether it is explained. */
bool m2m__explain_begin(m2m_db *db);
int m2m__explain_end(m2m_db *db, int rc);
/* Run expression call (returning a result code) as one explained call. */
#define M2M__EXPLAINED(db, call) (m2m__explain_begin(db), m2m__explain_end((db), (call)))
/* Record a read of statement st (nparams parameters) as a batch of the
 * plan: true when the call is explained and st must not be run. */
bool m2m__plan_read(m2m_db *db, m2m_relation *rel, m2m__stmt *st, size_t nparams,
                    const char *why);
/* Record steps (their SQL as prepared on db) as the next batch of the plan:
 * one round trip on a server backend. */
void m2m__plan_batch(m2m_db *db, m2m_relation *rel, const m2m__step *steps, size_t n);

#endif /* M2M_PLAN_H */
