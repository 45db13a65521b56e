/* SPDX-License-Identifier: MIT */
// A C++17 program including m2m.h: the value macros and the API as C++
// sees them. Built by run.sh with -std=c++17 -pedantic -Werror.
#include <m2m.h>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: consumer_cpp PATH.db\n");
        return 2;
    }
    const m2m_value vals[] = {M2M_INT(7), M2M_TEXT("x"), M2M_REAL(1.5), M2M_NULL};
    if (vals[0].type != M2M_TINT || vals[0].i != 7 || vals[1].type != M2M_TTEXT ||
        std::string(vals[1].s) != "x" || vals[2].type != M2M_TREAL || vals[2].d != 1.5 ||
        vals[3].type != M2M_TNULL) {
        std::fprintf(stderr, "consumer_cpp: the value macros are wrong\n");
        return 1;
    }
    m2m_db *db = nullptr;
    std::string url = std::string("sqlite:") + argv[1];
    m2m_relation *rel = nullptr;
    m2m_relation_def def{};
    def.parent_table = "rooms";
    def.related_table = "users";
    def.pivot_table = "room_members";
    def.foreign_pivot_key = "room_id";
    def.related_pivot_key = "user_id";
    std::vector<m2m_item> items{{M2M_INT(7), nullptr, 0}, {M2M_INT(8), nullptr, 0}};
    m2m_changes *ch = nullptr;
    int rc = m2m_open(url.c_str(), &db);
    if (rc == M2M_OK)
        rc = m2m_exec(db, "CREATE TABLE rooms(id INTEGER PRIMARY KEY);"
                          "CREATE TABLE users(id INTEGER PRIMARY KEY);"
                          "INSERT INTO rooms VALUES (1); INSERT INTO users VALUES (7), (8);");
    if (rc == M2M_OK)
        rc = m2m_relation_open(db, &def, &rel);
    if (rc == M2M_OK)
        rc = m2m_relation_create_pivot(rel);
    if (rc == M2M_OK)
        rc = m2m_sync(rel, M2M_INT(1), items.data(), items.size(), nullptr, &ch);
    bool ok = rc == M2M_OK && ch->nattached == 2;
    if (!ok)
        std::fprintf(stderr, "consumer_cpp: %s: %s\n", m2m_errname(rc), m2m_errmsg(db));
    m2m_changes_free(ch);
    m2m_relation_close(rel);
    m2m_close(db);
    if (ok)
        std::printf("consumer_cpp ok %s\n", m2m_libversion());
    return ok ? 0 : 1;
}
