/* SPDX-License-Identifier: MIT */
/* Help texts of the m2m tool: the overview and one page per command. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
    cli_cmd cmd;
    const char *name, *usage, *text;
} pages[] = {
    {CMD_ATTACH, "attach", "attach PARENT ID[:col=value,...]... [--data col=value]...",
     "Attach ids to PARENT's set; ids already attached are skipped.\n"
     "Per-id pivot data follows the id (7:role=admin); --data gives data shared\n"
     "by all ids (an id's own data wins). Reports the ids newly attached.\n"
     "  m2m attach 1 7:role=admin 8:role=member\n"
     "  m2m attach 1 7 8 9 --data role=member\n"},
    {CMD_DETACH, "detach", "detach PARENT ID... | detach PARENT --all",
     "Detach the given ids, or every id with --all. Reports the ids detached.\n"
     "  m2m detach 1 8\n  m2m detach 1 --all\n"},
    {CMD_SYNC, "sync",
     "sync PARENT ID[:col=value,...]... [--keep] [--update-existing] [--if-version V]\n"
     "       [--allow-empty]",
     "Make PARENT's set exactly the given ids: attach the missing, detach the\n"
     "others (not with --keep). Pivot data goes to new rows, and to kept rows\n"
     "too with --update-existing. --if-version fails with exit 5, changing\n"
     "nothing, unless the set still has version V (from `m2m version`).\n"
     "Use - to read the ids from stdin, one per line. An empty stdin is refused\n"
     "(it would detach every id) unless --allow-empty says the set may become\n"
     "empty. Reports attached, detached and updated ids and the version.\n"
     "  m2m sync 1 7 8 9\n  seq 1 100000 | m2m sync 1 -\n"},
    {CMD_TOGGLE, "toggle", "toggle PARENT ID[:col=value,...]... [--data col=value]...",
     "Attach the ids not attached and detach the ones that are (like/follow\n"
     "buttons). Pivot data applies to the newly attached.\n"
     "  m2m toggle 1 7\n"},
    {CMD_UPDATE, "update-pivot", "update-pivot PARENT ID... col=value...",
     "Set pivot columns on the existing pivot rows of the ids; ids that are not\n"
     "attached are left alone. Reports the ids updated.\n"
     "  m2m update-pivot 1 8 role=admin\n"},
    {CMD_LIST, "list",
     "list PARENT [--with-pivot C]... [--select C]... [--where 'col op value']...\n"
     "       [--where-pivot 'col op value']... [--or] [--order col[:desc]]...\n"
     "       [--order-pivot col[:desc]]... [--limit N] [--offset N]\n"
     "       [--strategy join|two-query]",
     "List PARENT's related rows with their pivot columns (the relation's\n"
     "pivot_columns, or those named by --with-pivot); --select names the related\n"
     "columns shown (default all). --where filters related columns,\n"
     "--where-pivot pivot columns (both also 'col is null', 'col in a,b',\n"
     "'col not in a,b', 'col [not] between a and b'; '= NULL' is refused: use\n"
     "'col is null'); conditions are joined by AND,\n"
     "or by OR after --or. Values: 'quoted' is text, NULL is null, numbers are\n"
     "numbers, anything else text.\n"
     "  m2m list 1 --where-pivot 'role = admin' --order name\n"},
    {CMD_COUNT, "count", "count PARENT [--where ...] [--where-pivot ...] [--or]",
     "Count PARENT's related rows matching the filters (as for list).\n"
     "  m2m count 1 --where-pivot 'role = member'\n"},
    {CMD_COUNTS, "counts", "counts PARENT... [--where ...] [--where-pivot ...] [--or]",
     "Count the related rows of each parent in one query, 0 for a parent\n"
     "without rows (filters as for list). - reads parents from stdin.\n"
     "  m2m counts 1 2 3 --where-pivot 'role = admin'\n"},
    {CMD_EXISTS, "exists", "exists PARENT... [--where ...] [--where-pivot ...] [--or]",
     "Say for each parent whether it has related rows (filters as for list),\n"
     "in one query. - reads parents from stdin.\n"
     "  m2m exists 1 2 3\n"},
    {CMD_HAS, "has", "has PARENT ID... [--where ...] [--where-pivot ...] [--or]",
     "Say which of the ids are attached to PARENT (and match the filters), in\n"
     "one query, duplicates allowed. - reads the ids from stdin.\n"
     "  m2m has 1 7 8 9\n"},
    {CMD_LOAD, "load", "load PARENT... [list options]",
     "Eager-load the related rows of many parents in a constant number of\n"
     "queries; each row shows its parent. - reads parents from stdin.\n"
     "  m2m load 1 2 3 --with-pivot role\n"},
    {CMD_VERSION, "version", "version PARENT",
     "Print the version of PARENT's set: a digest of its ids and pivot values,\n"
     "for sync --if-version.\n"
     "  m2m version 1\n"},
    {CMD_CREATE_PIVOT, "create-pivot", "create-pivot",
     "Create the pivot table if it does not exist (keys, foreign keys with\n"
     "ON DELETE CASCADE, an index, pivot columns, timestamps, pivot id).\n"
     "The parent and related tables must exist.\n"
     "  m2m create-pivot\n"},
    {CMD_RLS, "rls", "rls install --role ROLE",
     "PostgreSQL: install row-level security on the pivot table of a relation\n"
     "with an owner column, so that a user manages only rows whose owner equals\n"
     "the token's sub. Idempotent.\n"
     "  m2m --rel members rls install --role authenticated\n"},
};

#define NPAGES (sizeof pages / sizeof pages[0])

cli_cmd help_command(const char *name) {
    for (size_t i = 0; i < NPAGES; i++)
        if (!strcmp(pages[i].name, name))
            return pages[i].cmd;
    return CMD_NONE;
}

const char *help_name(cli_cmd cmd) {
    for (size_t i = 0; i < NPAGES; i++)
        if (pages[i].cmd == cmd)
            return pages[i].name;
    return "m2m";
}

static const char relation_help[] =
    "Relation (from --config FILE, ./m2m.conf by default, section --rel NAME;\n"
    "options given here override the section's keys):\n"
    "  --pivot TABLE            pivot table\n"
    "  --parent TABLE[:KEY]     parent table and its key (id)\n"
    "  --related TABLE[:KEY]    related table and its key (id)\n"
    "  --fk COL                 pivot column that refers to the parent\n"
    "  --rk COL                 pivot column that refers to the related\n"
    "  --pivot-col COL          extra pivot column (repeatable)\n"
    "  --timestamps             maintain created_at/updated_at\n"
    "  --pivot-id COL           own id column, filled parent_related\n"
    "  --owner COL              owner column (JWT-bound, PostgreSQL)\n"
    "  --scope COL=VALUE        fixed pivot value (repeatable)\n"
    "  --text-ids               keys are text, not integers\n"
    "  --inverse                work from the related side\n";

static const char common_help[] =
    "Options:\n"
    "  --db URL                 sqlite:PATH or a PostgreSQL URL/conninfo\n"
    "                           (default: $M2M_DB, then the config's db =)\n"
    "  --json                   print one JSON document\n"
    "  -h, --help               help (m2m COMMAND --help for a command)\n"
    "  --version                print the version\n"
    "Reports show at most 20 ids per list on a terminal, all of them otherwise.\n"
    "Exit codes: 0 ok, 1 usage error, 2 not found, 3 denied, 4 constraint,\n"
    "5 version conflict, 6 other failure, 7 in doubt (the connection was lost\n"
    "after COMMIT was sent: the change may or may not be committed).\n";

void help_print(cli_cmd cmd) {
    for (size_t i = 0; i < NPAGES; i++) {
        if (pages[i].cmd != cmd)
            continue;
        printf("Usage: m2m [options] %s\n\n%s\n%s\n%s", pages[i].usage, pages[i].text,
               relation_help, common_help);
        return;
    }
    printf("Usage: m2m [options] COMMAND [arguments]\n\n"
           "Manage a many-to-many relation stored in a pivot table.\n\n"
           "Commands:\n");
    for (size_t i = 0; i < NPAGES; i++)
        printf("  %s\n", pages[i].usage);
    printf("\n%s\n%s\nSee docs/cli.md or m2m(1) for the config file format.\n",
           relation_help, common_help);
}
