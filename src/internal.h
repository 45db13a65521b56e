/* SPDX-License-Identifier: MIT */
/* All internal declarations at once, for the tests that reach inside. The
 * library's own files include the module headers they use. */
#ifndef M2M_INTERNAL_H
#define M2M_INTERNAL_H

#include "core/db.h"
#include "core/input.h"
#include "core/relation.h"
#include "core/txn.h"
#include "drivers/driver.h"
#include "query/rows.h"
#include "util/util.h"

#endif /* M2M_INTERNAL_H */
