/* SPDX-License-Identifier: MIT */
/* Change callbacks: one before-call per operation with the whole batch; a
 * veto rolls back and returns M2M_VETOED; after-calls only once committed. */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cb_log {
    int before_calls, after_calls;
    int veto;
    int op;
    size_t nattached, ndetached, nupdated;
    char attached[4096], detached[4096];
    int64_t rows_seen_by_after; /* pivot rows of parent seen from another connection */
    int64_t rows_seen_by_before;
} cb_log;

static int on_before(void *arg, const m2m_changes *ch) {
    cb_log *l = arg;
    l->before_calls++;
    l->op = ch->op;
    l->nattached = ch->nattached;
    l->ndetached = ch->ndetached;
    l->nupdated = ch->nupdated;
    snprintf(l->attached, sizeof l->attached, "%s", fx_ids(ch->attached, ch->nattached));
    snprintf(l->detached, sizeof l->detached, "%s", fx_ids(ch->detached, ch->ndetached));
    return l->veto;
}

static void on_after(void *arg, const m2m_changes *ch) {
    cb_log *l = arg;
    l->after_calls++;
    l->op = ch->op;
    /* Committed: another connection sees the change. */
    m2m_db *other = NULL;
    if (m2m_open(t_url(), &other) == M2M_OK) {
        m2m_rows *rows = NULL;
        if (m2m_sql(other, "SELECT COUNT(*) FROM room_members WHERE room_id = 1", NULL, 0,
                    &rows) == M2M_OK &&
            m2m_rows_next(rows) == M2M_ROW)
            l->rows_seen_by_after = m2m_rows_value(rows, 0).i;
        m2m_rows_free(rows);
        m2m_close(other);
    }
}

static m2m_relation *seeded(void) {
    fx_rooms();
    fx_fill("users", 7, 1100);
    t_exec("INSERT INTO room_members(room_id, user_id) VALUES (1, 1), (1, 2)");
    return fx_rel_members(NULL, 0);
}

TEST(callbacks_whole_batch_once) {
    m2m_relation *rel = seeded();
    cb_log log = {.rows_seen_by_after = -1};
    T_OK(m2m_relation_on_change(rel, on_before, on_after, &log));
    m2m_item *items = fx_range_items(7, 1000);
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), items, 1000, NULL, &ch));
    free(items);
    assert_int_equal(log.before_calls, 1);
    assert_int_equal(log.after_calls, 1);
    assert_int_equal(log.op, M2M_OP_ATTACH);
    assert_int_equal(log.nattached, 1000);
    assert_string_equal(log.attached, FX_ATT(ch));
    m2m_changes_free(ch);
    assert_int_equal(log.rows_seen_by_after, 1002);
    /* A sync: one call with both lists. */
    log = (cb_log){.rows_seen_by_after = -1};
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(3)), NULL, NULL));
    assert_int_equal(log.before_calls, 1);
    assert_int_equal(log.after_calls, 1);
    assert_int_equal(log.op, M2M_OP_SYNC);
    assert_string_equal(log.attached, "3");
    assert_int_equal(log.ndetached, 1001);
    assert_int_equal(log.rows_seen_by_after, 2);
    /* Detach, toggle, update: one call each with their op. */
    log = (cb_log){0};
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(3), IT(4)), NULL, NULL));
    assert_int_equal(log.op, M2M_OP_TOGGLE);
    assert_string_equal(log.attached, "4");
    assert_string_equal(log.detached, "3");
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(4)),
                          FX_COLS(COLT("role", "x")), NULL));
    assert_int_equal(log.op, M2M_OP_UPDATE);
    assert_int_equal(log.nupdated, 1);
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, NULL));
    assert_int_equal(log.op, M2M_OP_DETACH);
    assert_string_equal(log.detached, "1,4");
    /* toggle, update, detach since the reset. */
    assert_int_equal(log.before_calls, 3);
    assert_int_equal(log.after_calls, 3);
    m2m_relation_close(rel);
}

TEST(callbacks_veto_changes_nothing) {
    m2m_relation *rel = seeded();
    cb_log log = {.veto = 1};
    T_OK(m2m_relation_on_change(rel, on_before, on_after, &log));
    char *snap = fx_snap("room_members");
    m2m_changes *ch = NULL;
    assert_int_equal(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3), IT(4)), NULL, &ch),
                     M2M_VETOED);
    assert_null(ch);
    assert_int_equal(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(5)), NULL, NULL), M2M_VETOED);
    assert_int_equal(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, NULL), M2M_VETOED);
    assert_int_equal(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL),
                     M2M_VETOED);
    assert_int_equal(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(1)),
                                      FX_COLS(COLT("role", "x")), NULL),
                     M2M_VETOED);
    assert_int_equal(m2m_errcode(t_db()), M2M_VETOED);
    assert_int_equal(log.before_calls, 5);
    assert_int_equal(log.after_calls, 0);
    /* The veto saw what would have happened. */
    assert_int_equal(log.op, M2M_OP_UPDATE);
    fx_assert_snap("room_members", snap);
    /* Unregistering restores normal operation. */
    T_OK(m2m_relation_on_change(rel, NULL, NULL, NULL));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3)), NULL, NULL));
    assert_int_equal(log.before_calls, 5);
    assert_string_equal(fx_pivot_rows("room_members", "room_id", "user_id", "", 1),
                        "1,2,3");
    m2m_relation_close(rel);
}

TEST(callbacks_veto_inside_caller_txn_keeps_earlier_ops) {
    m2m_relation *rel = seeded();
    cb_log log = {0};
    T_OK(m2m_relation_on_change(rel, on_before, NULL, &log));
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3)), NULL, NULL));
    log.veto = 1;
    assert_int_equal(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(4)), NULL, NULL),
                     M2M_VETOED);
    T_OK(m2m_commit(t_db()));
    assert_string_equal(fx_pivot_rows("room_members", "room_id", "user_id", "", 1),
                        "1,2,3");
    m2m_relation_close(rel);
}

TEST(callbacks_after_waits_for_caller_commit) {
    m2m_relation *rel = seeded();
    cb_log log = {.rows_seen_by_after = -1};
    T_OK(m2m_relation_on_change(rel, NULL, on_after, &log));
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3)), NULL, NULL));
    T_OK(m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(1)), NULL, NULL));
    assert_int_equal(log.after_calls, 0);
    T_OK(m2m_commit(t_db()));
    /* One call per operation, after the commit: the other connection sees
     * the committed set (2 rows) already in the first call. */
    assert_int_equal(log.after_calls, 2);
    assert_int_equal(log.rows_seen_by_after, 2);
    /* Rolled back: never called. */
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(5)), NULL, NULL));
    T_OK(m2m_rollback(t_db()));
    assert_int_equal(log.after_calls, 2);
    /* A failed operation inside a committed transaction: not called for it. */
    T_OK(m2m_begin(t_db()));
    assert_int_equal(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(99999)), NULL, NULL),
                     M2M_CONSTRAINT);
    T_OK(m2m_commit(t_db()));
    assert_int_equal(log.after_calls, 2);
    assert_string_equal(fx_pivot_rows("room_members", "room_id", "user_id", "", 1),
                        "2,3");
    m2m_relation_close(rel);
}

TEST(callbacks_not_called_for_noop_failures) {
    m2m_relation *rel = seeded();
    cb_log log = {0};
    T_OK(m2m_relation_on_change(rel, on_before, on_after, &log));
    /* Constraint failure: after is never called. */
    assert_int_equal(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(99999)), NULL, NULL),
                     M2M_CONSTRAINT);
    assert_int_equal(log.after_calls, 0);
    /* Invalid input is rejected before any callback. */
    log = (cb_log){0};
    assert_int_equal(
        m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(3, COLT("nope", "x"))), NULL, NULL),
        M2M_INVALID);
    assert_int_equal(log.before_calls, 0);
    assert_int_equal(log.after_calls, 0);
    m2m_relation_close(rel);
}
